/*-------------------------------------------------------------------------
 *
 * path.c
 *	  uba_path(ts, event [, options]): a user's path through the product,
 *	  as an aggregate (GROUP BY user) returning the events in time order,
 *	  ready for top paths (GROUP BY path) and the edges of a Sankey diagram.
 *
 * The events go in time order, events at the same time by name (bytes).
 * Options shape the path as product-analytics tools do:
 *   start			the path begins at the user's first such event (users
 *					without one get NULL);
 *   end			the path ends at the first such event (after start);
 *					without start, the path is the steps leading up to it;
 *   max_steps		at most this many steps: the first ones from start, the
 *					last ones before end when only end is given;
 *   collapse_repeats  an event repeated right after itself counts once;
 *   session_gap_minutes  the path stays in one session (a new one after a
 *					pause longer than the gap): the one start begins, or
 *					with end alone the first end's, or the user's first; an
 *					end outside that session is not reached (NULL).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(uba_path_transfn);
PG_FUNCTION_INFO_V1(uba_path_final);
PG_FUNCTION_INFO_V1(uba_path_combine);
PG_FUNCTION_INFO_V1(uba_path_serialize);
PG_FUNCTION_INFO_V1(uba_path_deserialize);

static const UbaOptionSpec path_options[] = {
	{"start", UBA_OPT_TEXT, 0, 0, 0, NULL},
	{"end", UBA_OPT_TEXT, 0, 0, 0, NULL},
	{"max_steps", UBA_OPT_INT, 5, 1, 1000, NULL},
	{"collapse_repeats", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"session_gap_minutes", UBA_OPT_FLOAT, 0, 0, 5256000, NULL},
};

typedef struct PathEvent
{
	TimestampTz ts;
	uint32		off;			/* the name in the state's bytes */
	uint32		len;
} PathEvent;

typedef struct PathState
{
	Jsonb	   *options;		/* the first row's, which every row must repeat */
	char	   *start;			/* anchors, or NULL */
	char	   *end;
	int			max_steps;
	bool		collapse;
	bool		sessions;		/* a session gap was given */
	int64		gap_us;
	int64		n;
	int64		cap;
	PathEvent  *events;
	char	   *bytes;
	Size		nbytes;
	Size		bytes_cap;
} PathState;

static PathState *
NewState(MemoryContext cxt, Jsonb *options)
{
	PathState  *st = MemoryContextAllocZero(cxt, sizeof(PathState));
	UbaOptions	o;
	const char *a;

	uba_parse_options(options, path_options, lengthof(path_options), "uba_path", &o);
	if ((a = uba_option_text(&o, "start")) != NULL)
		st->start = MemoryContextStrdup(cxt, a);
	if ((a = uba_option_text(&o, "end")) != NULL)
		st->end = MemoryContextStrdup(cxt, a);
	st->max_steps = (int) uba_option(&o, "max_steps");
	st->collapse = uba_option(&o, "collapse_repeats") != 0;
	/* whole microseconds: a pause (a whole number of them) is longer than the gap iff longer than its floor */
	st->sessions = uba_option(&o, "session_gap_minutes") > 0;
	st->gap_us = (int64) (uba_option(&o, "session_gap_minutes") * 60.0 * USECS_PER_SEC);
	st->options = uba_options_copy(cxt, options);
	return st;
}

static void
AddEvent(PathState *st, MemoryContext cxt, TimestampTz ts, const char *p, int len)
{
	if (st->n == st->cap || st->nbytes + len > st->bytes_cap)
	{
		int64		cap = st->n == st->cap ? Max(16, st->cap * 2) : st->cap;
		Size		bytes_cap = st->nbytes + len > st->bytes_cap ?
			Max(256, Max(st->bytes_cap * 2, st->nbytes + len)) : st->bytes_cap;

		uba_check_memory_for((Size) cap * sizeof(PathEvent) + bytes_cap, "one group of uba_path",
							 "group by the user, or leave old events out");
		/* names are found by 32-bit offsets */
		if (bytes_cap > PG_UINT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("one group of uba_path has more than 4 GB of event names")));
		if (cap != st->cap)
			st->events = st->events == NULL ? MemoryContextAlloc(cxt, sizeof(PathEvent) * cap) :
				repalloc(st->events, sizeof(PathEvent) * cap);
		if (bytes_cap != st->bytes_cap)
			st->bytes = st->bytes == NULL ? MemoryContextAlloc(cxt, bytes_cap) : repalloc(st->bytes, bytes_cap);
		st->cap = cap;
		st->bytes_cap = bytes_cap;
	}
	st->events[st->n].ts = ts;
	st->events[st->n].off = (uint32) st->nbytes;
	st->events[st->n].len = (uint32) len;
	memcpy(st->bytes + st->nbytes, p, len);
	st->nbytes += len;
	st->n++;
}

/* uba_path(ts, event [, options]) transition */
Datum
uba_path_transfn(PG_FUNCTION_ARGS)
{
	PathState  *st = PG_ARGISNULL(0) ? NULL : (PathState *) PG_GETARG_POINTER(0);
	Jsonb	   *options = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	MemoryContext cxt = uba_agg_context(fcinfo);
	text	   *event;

	if (st == NULL)
		st = NewState(cxt, options);
	else
		uba_check_same_options(st->options, options);
	/* a row without a time or an event takes no part */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	event = PG_GETARG_TEXT_PP(2);
	AddEvent(st, cxt, PG_GETARG_TIMESTAMPTZ(1), VARDATA_ANY(event), VARSIZE_ANY_EXHDR(event));
	PG_RETURN_POINTER(st);
}

static int
CompareEvents(const void *a, const void *b, void *arg)
{
	const PathEvent *x = a;
	const PathEvent *y = b;
	const char *bytes = arg;
	int			c;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	c = memcmp(bytes + x->off, bytes + y->off, Min(x->len, y->len));
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static bool
Is(const PathState *st, const PathEvent *e, const char *name)
{
	return name != NULL && strlen(name) == e->len && memcmp(st->bytes + e->off, name, e->len) == 0;
}

/* Final: the path as text[]; NULL without events, or without the start or end asked for */
Datum
uba_path_final(PG_FUNCTION_ARGS)
{
	PathState  *st = PG_ARGISNULL(0) ? NULL : (PathState *) PG_GETARG_POINTER(0);
	int64		from = 0,
				to,
				limit;
	Datum	   *steps;
	int			nsteps = 0;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	qsort_arg(st->events, st->n, sizeof(PathEvent), CompareEvents, st->bytes);
	/*
	 * The first start; with sessions, the session it begins (or, with end
	 * alone, the session of the first end, from its beginning; else the
	 * first session); then the first end within that, else the path ends
	 * with it.  A path that cannot reach its end is NULL.
	 */
	limit = st->n;
	if (st->start != NULL)
	{
		while (from < st->n && !Is(st, &st->events[from], st->start))
			from++;
		if (from == st->n)
			PG_RETURN_NULL();
	}
	else if (st->end != NULL && st->sessions)
	{
		while (from < st->n && !Is(st, &st->events[from], st->end))
			from++;
		if (from == st->n)
			PG_RETURN_NULL();
		while (from > 0 && !uba_gap_exceeds(st->events[from - 1].ts, st->events[from].ts, st->gap_us))
			from--;
	}
	if (st->sessions)
	{
		limit = from + 1;
		while (limit < st->n && !uba_gap_exceeds(st->events[limit - 1].ts, st->events[limit].ts, st->gap_us))
			limit++;
	}
	to = limit;					/* exclusive */
	if (st->end != NULL)
	{
		int64		e = from;

		while (e < limit && !Is(st, &st->events[e], st->end))
			e++;
		if (e == limit)
			PG_RETURN_NULL();
		to = e + 1;
	}

	/* the steps, repeats collapsed; from the start forward, or back from the end */
	steps = palloc(sizeof(Datum) * st->max_steps);
	if (st->start != NULL || st->end == NULL)
	{
		for (int64 i = from; i < to && nsteps < st->max_steps; i++)
		{
			const PathEvent *e = &st->events[i];

			if (st->collapse && i > from && st->events[i - 1].len == e->len &&
				memcmp(st->bytes + st->events[i - 1].off, st->bytes + e->off, e->len) == 0)
				continue;
			steps[nsteps++] = PointerGetDatum(cstring_to_text_with_len(st->bytes + e->off, e->len));
		}
	}
	else
	{
		for (int64 i = to - 1; i >= from && nsteps < st->max_steps; i--)
		{
			const PathEvent *e = &st->events[i];

			if (st->collapse && i > from && st->events[i - 1].len == e->len &&
				memcmp(st->bytes + st->events[i - 1].off, st->bytes + e->off, e->len) == 0)
				continue;
			steps[nsteps++] = PointerGetDatum(cstring_to_text_with_len(st->bytes + e->off, e->len));
		}
		/* gathered backwards */
		for (int i = 0; i < nsteps / 2; i++)
		{
			Datum		t = steps[i];

			steps[i] = steps[nsteps - 1 - i];
			steps[nsteps - 1 - i] = t;
		}
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(steps, nsteps, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Combine two workers' states: their events together */
Datum
uba_path_combine(PG_FUNCTION_ARGS)
{
	PathState  *a = PG_ARGISNULL(0) ? NULL : (PathState *) PG_GETARG_POINTER(0);
	PathState  *b = PG_ARGISNULL(1) ? NULL : (PathState *) PG_GETARG_POINTER(1);
	MemoryContext cxt = uba_agg_context(fcinfo);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = NewState(cxt, b->options);
	else
		uba_check_same_options(a->options, b->options);
	for (int64 i = 0; i < b->n; i++)
		AddEvent(a, cxt, b->events[i].ts, b->bytes + b->events[i].off, b->events[i].len);
	PG_RETURN_POINTER(a);
}

/* Serialized: the options, then each event's time and name */
Datum
uba_path_serialize(PG_FUNCTION_ARGS)
{
	PathState  *st = (PathState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	uba_options_send(&buf, st->options);
	pq_sendint64(&buf, st->n);
	for (int64 i = 0; i < st->n; i++)
	{
		pq_sendint64(&buf, st->events[i].ts);
		pq_sendint32(&buf, st->events[i].len);
		pq_sendbytes(&buf, st->bytes + st->events[i].off, st->events[i].len);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_path_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	StringInfoData buf;
	PathState  *st;
	int64		n;

	uba_message_of(&buf, b);
	st = NewState(cxt, uba_options_receive(&buf, CurrentMemoryContext));
	n = pq_getmsgint64(&buf);
	if (n < 0 || n > (buf.len - buf.cursor) / 12)
		elog(ERROR, "uba: corrupted path state");
	for (int64 i = 0; i < n; i++)
	{
		TimestampTz ts = pq_getmsgint64(&buf);
		int32		l = pq_getmsgint(&buf, 4);

		if (l < 0)
			elog(ERROR, "uba: corrupted path state");
		AddEvent(st, cxt, ts, pq_getmsgbytes(&buf, l), l);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}
