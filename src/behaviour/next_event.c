/*-------------------------------------------------------------------------
 *
 * next_event.c
 *	  uba_next_event(direction, base, ts, event, base_condition, VARIADIC
 *	  conditions): what a user did right after (or before) a chain of
 *	  events, as ClickHouse's sequenceNextNode answers it.
 *
 * The events are ordered by time (ties by the event's bytes, then its
 * conditions, so the answer does not depend on the order rows arrive in).
 * A base event is chosen: the first event (base 'head') or the last
 * ('tail'), when base_condition holds for it; or the first ('first_match')
 * or last ('last_match') event for which both base_condition and
 * condition 1 hold.  Forward, the events from the base on must match
 * conditions 1, 2, ..., N one after another, and the answer is the event
 * after them; backward, the events from the base back must, and the answer
 * is the one before them.  With no conditions the answer is the base
 * event itself.  NULL when there is no base, the chain breaks or no event
 * is left.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_next_event_transfn);
PG_FUNCTION_INFO_V1(uba_next_event_final);
PG_FUNCTION_INFO_V1(uba_next_event_combine);
PG_FUNCTION_INFO_V1(uba_next_event_serialize);
PG_FUNCTION_INFO_V1(uba_next_event_deserialize);

#define NEXT_MAX_CONDITIONS 64

typedef enum NextBase
{
	BASE_HEAD,
	BASE_TAIL,
	BASE_FIRST_MATCH,
	BASE_LAST_MATCH
} NextBase;

typedef struct NextEvent
{
	TimestampTz ts;
	uint64		conds;			/* bit k: condition k + 1 holds */
	uint32		off;			/* the event's bytes in the state */
	uint32		len;
	bool		base;			/* base_condition holds */
} NextEvent;

typedef struct NextState
{
	bool		forward;
	NextBase	base;
	text	   *direction_arg;	/* the first row's direction and base, as given: later rows */
	text	   *base_arg;		/* are compared with them, not parsed again */
	int32		nconds;
	int64		n;
	int64		cap;
	NextEvent  *events;
	char	   *bytes;
	Size		nbytes;
	Size		bytes_cap;
} NextState;

static const char *const base_names[] = {"head", "tail", "first_match", "last_match"};

static NextState *
NewState(MemoryContext cxt, bool forward, NextBase base, int nconds)
{
	NextState  *st = MemoryContextAllocZero(cxt, sizeof(NextState));

	st->forward = forward;
	st->base = base;
	st->nconds = nconds;
	return st;
}

static bool
SameText(const text *a, const text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* The direction and base arguments, checked */
static void
ParseModes(FunctionCallInfo fcinfo, bool *forward, NextBase *base)
{
	char	   *d,
			   *b;
	int			k;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("uba_next_event needs a direction and a base"),
				 errhint("For example uba_next_event('forward', 'first_match', ts, event, true, event = 'cart').")));
	d = text_to_cstring(PG_GETARG_TEXT_PP(1));
	b = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(d, "forward") != 0 && strcmp(d, "backward") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("direction of uba_next_event must be forward or backward"),
				 errdetail("Got \"%s\".", d)));
	*forward = strcmp(d, "forward") == 0;
	for (k = 0; k < (int) lengthof(base_names); k++)
		if (strcmp(b, base_names[k]) == 0)
			break;
	if (k == (int) lengthof(base_names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base of uba_next_event must be head, tail, first_match or last_match"),
				 errdetail("Got \"%s\".", b)));
	*base = (NextBase) k;
	if ((*base == BASE_HEAD && !*forward) || (*base == BASE_TAIL && *forward))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base %s goes with direction %s", b, *forward ? "backward" : "forward"),
				 errhint("Nothing comes before the first event or after the last: use head forward, tail backward.")));
}

static void
AddEvent(NextState *st, MemoryContext cxt, const NextEvent *e, const char *p)
{
	if (st->n == st->cap || st->nbytes + e->len > st->bytes_cap)
	{
		int64		cap = st->n == st->cap ? Max(16, st->cap * 2) : st->cap;
		Size		bytes_cap = st->nbytes + e->len > st->bytes_cap ?
			Max(256, Max(st->bytes_cap * 2, st->nbytes + e->len)) : st->bytes_cap;

		uba_check_memory_for((Size) cap * sizeof(NextEvent) + bytes_cap, "one group of uba_next_event",
							 "group by the user, or leave old events out");
		if (bytes_cap > PG_UINT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("one group of uba_next_event has more than 4 GB of events")));
		if (cap != st->cap)
			st->events = st->events == NULL ? MemoryContextAlloc(cxt, sizeof(NextEvent) * cap) :
				repalloc(st->events, sizeof(NextEvent) * cap);
		if (bytes_cap != st->bytes_cap)
			st->bytes = st->bytes == NULL ? MemoryContextAlloc(cxt, bytes_cap) : repalloc(st->bytes, bytes_cap);
		st->cap = cap;
		st->bytes_cap = bytes_cap;
	}
	st->events[st->n] = *e;
	st->events[st->n].off = (uint32) st->nbytes;
	memcpy(st->bytes + st->nbytes, p, e->len);
	st->nbytes += e->len;
	st->n++;
}

static void
CheckSame(const NextState *st, bool forward, NextBase base, int nconds)
{
	if (st->forward != forward || st->base != base)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("direction and base of uba_next_event must be the same in every row")));
	if (st->nconds != nconds)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("uba_next_event needs the same number of conditions in every row"),
				 errdetail("Got %d conditions after %d.", nconds, st->nconds)));
}

/* uba_next_event(direction, base, ts, event, base_condition, VARIADIC conditions) transition */
Datum
uba_next_event_transfn(PG_FUNCTION_ARGS)
{
	NextState  *st = PG_ARGISNULL(0) ? NULL : (NextState *) PG_GETARG_POINTER(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	bool		forward;
	NextBase	base;
	int			nconds = 0;
	bool		v[NEXT_MAX_CONDITIONS];
	NextEvent	e;
	text	   *event;

	/* a row repeating the first row's direction and base needs no parsing */
	if (st != NULL && st->direction_arg != NULL && !PG_ARGISNULL(1) && !PG_ARGISNULL(2) &&
		SameText(st->direction_arg, PG_GETARG_TEXT_PP(1)) && SameText(st->base_arg, PG_GETARG_TEXT_PP(2)))
	{
		forward = st->forward;
		base = st->base;
	}
	else
		ParseModes(fcinfo, &forward, &base);
	if (!PG_ARGISNULL(6))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(6);

		nconds = ARR_NDIM(a) == 0 ? 0 :
			uba_bool_array_length(a, "uba_next_event conditions",
								  "Pass one boolean per event of the chain, for example event = 'view', event = 'cart'.");
		if (nconds > NEXT_MAX_CONDITIONS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("uba_next_event takes at most %d conditions", NEXT_MAX_CONDITIONS),
					 errdetail("Got %d conditions.", nconds)));
		if (nconds > 0)
			uba_bool_array_values(a, v, nconds);
	}
	if (st == NULL)
	{
		st = NewState(cxt, forward, base, nconds);
		st->direction_arg = (text *) MemoryContextAlloc(cxt, VARSIZE_ANY(PG_GETARG_TEXT_PP(1)));
		memcpy(st->direction_arg, PG_GETARG_TEXT_PP(1), VARSIZE_ANY(PG_GETARG_TEXT_PP(1)));
		st->base_arg = (text *) MemoryContextAlloc(cxt, VARSIZE_ANY(PG_GETARG_TEXT_PP(2)));
		memcpy(st->base_arg, PG_GETARG_TEXT_PP(2), VARSIZE_ANY(PG_GETARG_TEXT_PP(2)));
	}
	else
		CheckSame(st, forward, base, PG_ARGISNULL(6) ? st->nconds : nconds);
	/* a row without a time, an event or conditions takes no part */
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4) || PG_ARGISNULL(6))
		PG_RETURN_POINTER(st);
	event = PG_GETARG_TEXT_PP(4);
	memset(&e, 0, sizeof(e));
	e.ts = PG_GETARG_TIMESTAMPTZ(3);
	e.len = VARSIZE_ANY_EXHDR(event);
	e.base = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	for (int k = 0; k < nconds; k++)
		if (v[k])
			e.conds |= UINT64CONST(1) << k;
	AddEvent(st, cxt, &e, VARDATA_ANY(event));
	PG_RETURN_POINTER(st);
}

/* Time, then the event's bytes, then its conditions: an order that does not depend on arrival */
static int
CompareEvents(const void *a, const void *b, void *arg)
{
	const NextEvent *x = a;
	const NextEvent *y = b;
	const char *bytes = arg;
	int			c;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	c = memcmp(bytes + x->off, bytes + y->off, Min(x->len, y->len));
	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->base != y->base)
		return x->base ? 1 : -1;
	return (x->conds > y->conds) - (x->conds < y->conds);
}

Datum
uba_next_event_final(PG_FUNCTION_ARGS)
{
	NextState  *st = PG_ARGISNULL(0) ? NULL : (NextState *) PG_GETARG_POINTER(0);
	const NextEvent *ev;
	int64		n,
				base = -1,
				k,
				answer;

	if (st == NULL || st->n <= st->nconds)
		PG_RETURN_NULL();
	qsort_arg(st->events, st->n, sizeof(NextEvent), CompareEvents, st->bytes);
	ev = st->events;
	n = st->n;
	switch (st->base)
	{
		case BASE_HEAD:
			base = ev[0].base ? 0 : -1;
			break;
		case BASE_TAIL:
			base = ev[n - 1].base ? n - 1 : -1;
			break;
		case BASE_FIRST_MATCH:
			for (int64 i = 0; i < n && base < 0; i++)
				if (ev[i].base && (ev[i].conds & 1))
					base = i;
			break;
		case BASE_LAST_MATCH:
			for (int64 i = n - 1; i >= 0 && base < 0; i--)
				if (ev[i].base && (ev[i].conds & 1))
					base = i;
			break;
	}
	if (base < 0)
		PG_RETURN_NULL();
	/* conditions 1 .. N on consecutive events from the base; the answer is the one after */
	for (k = 0; k < st->nconds; k++)
	{
		int64		i = st->forward ? base + k : base - k;

		if (i < 0 || i >= n || !(ev[i].conds & (UINT64CONST(1) << k)))
			PG_RETURN_NULL();
	}
	answer = st->forward ? base + st->nconds : base - st->nconds;
	if (answer < 0 || answer >= n)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(st->bytes + ev[answer].off, ev[answer].len));
}

/* Combine two workers' states: their events together */
Datum
uba_next_event_combine(PG_FUNCTION_ARGS)
{
	NextState  *a = PG_ARGISNULL(0) ? NULL : (NextState *) PG_GETARG_POINTER(0);
	NextState  *b = PG_ARGISNULL(1) ? NULL : (NextState *) PG_GETARG_POINTER(1);
	MemoryContext cxt = uba_agg_context(fcinfo);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = NewState(cxt, b->forward, b->base, b->nconds);
	else
		CheckSame(a, b->forward, b->base, b->nconds);
	for (int64 i = 0; i < b->n; i++)
		AddEvent(a, cxt, &b->events[i], b->bytes + b->events[i].off);
	PG_RETURN_POINTER(a);
}

/* Serialized: direction, base, conditions, then each event */
Datum
uba_next_event_serialize(PG_FUNCTION_ARGS)
{
	NextState  *st = (NextState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, st->forward ? 1 : 0);
	pq_sendbyte(&buf, (int) st->base);
	pq_sendint32(&buf, st->nconds);
	pq_sendint64(&buf, st->n);
	for (int64 i = 0; i < st->n; i++)
	{
		const NextEvent *e = &st->events[i];

		pq_sendint64(&buf, e->ts);
		pq_sendint64(&buf, (int64) e->conds);
		pq_sendbyte(&buf, e->base ? 1 : 0);
		pq_sendint32(&buf, e->len);
		pq_sendbytes(&buf, st->bytes + e->off, e->len);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_next_event_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	StringInfoData buf;
	NextState  *st;
	int			forward,
				base,
				nconds;
	int64		n;

	uba_message_of(&buf, b);
	forward = pq_getmsgbyte(&buf);
	base = pq_getmsgbyte(&buf);
	nconds = pq_getmsgint(&buf, 4);
	n = pq_getmsgint64(&buf);
	if (forward > 1 || base > BASE_LAST_MATCH || nconds < 0 || nconds > NEXT_MAX_CONDITIONS ||
		n < 0 || n > (buf.len - buf.cursor) / 21)
		elog(ERROR, "uba: corrupted next-event state");
	st = NewState(cxt, forward == 1, (NextBase) base, nconds);
	for (int64 i = 0; i < n; i++)
	{
		NextEvent	e;

		memset(&e, 0, sizeof(e));
		e.ts = pq_getmsgint64(&buf);
		e.conds = (uint64) pq_getmsgint64(&buf);
		e.base = pq_getmsgbyte(&buf) == 1;
		e.len = pq_getmsgint(&buf, 4);
		if (e.len > (uint32) (buf.len - buf.cursor))
			elog(ERROR, "uba: corrupted next-event state");
		AddEvent(st, cxt, &e, pq_getmsgbytes(&buf, e.len));
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}
