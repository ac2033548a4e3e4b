/*-------------------------------------------------------------------------
 *
 * sequence.c
 *	  uba_sequence_match(pattern, ts, VARIADIC conditions) and
 *	  uba_sequence_count(...): ClickHouse's sequenceMatch and sequenceCount
 *	  as aggregates (GROUP BY user).
 *
 * The pattern language and its meaning are ClickHouse's:
 *   (?N)		 an event for which condition N (1 to 32) holds
 *   .			 any one event
 *   .*			 any number of events
 *   (?t OP S)	 OP one of <=, <, >=, >, ==; S whole seconds between the
 *				 last event matched (or where a .* began) and the event the
 *				 rest of the pattern continues with.  <= and < let the rest
 *				 start at any later event within the time; >=, > and == skip
 *				 events until the time is reached.
 * Only events for which some condition holds take part (the others are
 * left out, as in ClickHouse), in time order; events at the same time are
 * ordered by their conditions' bits (ClickHouse leaves that order open).
 * A match may start at any event.  uba_sequence_count counts matches that
 * do not overlap, each search starting after the previous match.
 *
 * Matching is a backtracking search over (pattern step, event, base
 * event), each .* and time condition a choice point that is retried one
 * event later, as ClickHouse searches; it gives up with an error after
 * SEQUENCE_MAX_STEPS steps of one search.  uba_sequence_match on a
 * pattern without time conditions runs an automaton instead, linear in the
 * events.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(uba_sequence_transfn);
PG_FUNCTION_INFO_V1(uba_sequence_match_final);
PG_FUNCTION_INFO_V1(uba_sequence_count_final);
PG_FUNCTION_INFO_V1(uba_sequence_combine);
PG_FUNCTION_INFO_V1(uba_sequence_serialize);
PG_FUNCTION_INFO_V1(uba_sequence_deserialize);

#define SEQUENCE_MAX_CONDITIONS 32
#define SEQUENCE_MAX_STEPS 1000000
#define SEQUENCE_MAX_PATTERN 1000

typedef enum StepKind
{
	STEP_EVENT,					/* (?N) */
	STEP_ANY,					/* . */
	STEP_STAR,					/* .* */
	STEP_TIME_LE,
	STEP_TIME_LT,
	STEP_TIME_GE,
	STEP_TIME_GT,
	STEP_TIME_EQ
} StepKind;

typedef struct Step
{
	StepKind	kind;
	int64		arg;			/* the condition's bit (EVENT), microseconds (TIME_*) */
} Step;

typedef struct SeqEvent
{
	TimestampTz ts;
	uint32		mask;			/* the conditions that hold */
} SeqEvent;

typedef struct SeqState
{
	text	   *pattern;		/* the first row's, which every row must repeat */
	int			nconds;			/* conditions per row */
	int			nsteps;
	Step	   *steps;			/* steps[0] is the implicit leading .* */
	bool		has_time;
	uint32		pattern_conds;	/* conditions the pattern names */
	uint32		seen_conds;		/* conditions that held on some event */
	int64		n;
	int64		cap;
	SeqEvent   *events;
} SeqState;

pg_attribute_noreturn()
static void
BadPattern(const char *pattern, int at, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid sequence pattern \"%s\"", pattern),
			 errdetail("%s at position %d.", why, at + 1),
			 errhint("A pattern is made of (?N) for condition N, . for any event, .* for any events and (?t<=S), (?t<S), (?t>=S), (?t>S), (?t==S) for seconds between events.")));
}

/* Read a whole number of at most 18 digits at p; its length, 0 when there is none */
static int
ReadNumber(const char *p, int64 *out)
{
	int			len = 0;
	int64		v = 0;

	while (isdigit((unsigned char) p[len]) && len < 18)
		v = v * 10 + (p[len++] - '0');
	if (isdigit((unsigned char) p[len]))
		return 0;
	*out = v;
	return len;
}

/* Parse a pattern into st->steps (after the implicit leading .*) */
static void
ParsePattern(SeqState *st, MemoryContext cxt, const char *s)
{
	int			len = (int) strlen(s);
	int			i = 0;

	if (len > SEQUENCE_MAX_PATTERN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a sequence pattern has at most %d characters", SEQUENCE_MAX_PATTERN)));
	st->steps = MemoryContextAlloc(cxt, sizeof(Step) * (len + 1));
	st->steps[0].kind = STEP_STAR;
	st->steps[0].arg = 0;
	st->nsteps = 1;
	while (i < len)
	{
		Step	   *step = &st->steps[st->nsteps];
		int64		v;
		int			k;

		if (strncmp(s + i, "(?t", 3) == 0)
		{
			static const struct
			{
				const char *op;
				StepKind	kind;
			}			ops[] = {
				{"<=", STEP_TIME_LE}, {"<", STEP_TIME_LT}, {">=", STEP_TIME_GE},
				{">", STEP_TIME_GT}, {"==", STEP_TIME_EQ}
			};
			int			o;
			StepKind	prev = st->steps[st->nsteps - 1].kind;

			for (o = 0; o < (int) lengthof(ops); o++)
				if (strncmp(s + i + 3, ops[o].op, strlen(ops[o].op)) == 0)
					break;
			if (o == (int) lengthof(ops))
				BadPattern(s, i, "Unknown time comparison (use <=, <, >=, > or ==)");
			k = ReadNumber(s + i + 3 + strlen(ops[o].op), &v);
			if (k == 0)
				BadPattern(s, i, "Expected a number of seconds");
			if (prev != STEP_EVENT && prev != STEP_ANY && prev != STEP_STAR)
				BadPattern(s, i, "A time condition must follow an event, . or .*");
			if (v > PG_INT64_MAX / USECS_PER_SEC)
				BadPattern(s, i, "Too many seconds");
			step->kind = ops[o].kind;
			step->arg = v * USECS_PER_SEC;
			st->has_time = true;
			i += 3 + (int) strlen(ops[o].op) + k;
			if (s[i] != ')')
				BadPattern(s, i, "Expected )");
			i++;
		}
		else if (strncmp(s + i, "(?", 2) == 0)
		{
			k = ReadNumber(s + i + 2, &v);
			if (k == 0)
				BadPattern(s, i, "Expected a condition number");
			if (v < 1 || v > st->nconds)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("sequence pattern \"%s\" names condition %lld, but %d %s given",
								s, (long long) v, st->nconds, st->nconds == 1 ? "condition is" : "conditions are")));
			step->kind = STEP_EVENT;
			step->arg = v - 1;
			st->pattern_conds |= (uint32) 1 << (v - 1);
			i += 2 + k;
			if (s[i] != ')')
				BadPattern(s, i, "Expected )");
			i++;
		}
		else if (strncmp(s + i, ".*", 2) == 0)
		{
			step->kind = STEP_STAR;
			i += 2;
		}
		else if (s[i] == '.')
		{
			step->kind = STEP_ANY;
			i += 1;
		}
		else
			BadPattern(s, i, "Unexpected character");
		st->nsteps++;
	}
}

static SeqState *
NewState(FunctionCallInfo fcinfo, MemoryContext cxt, text *pattern, int nconds)
{
	SeqState   *st = MemoryContextAllocZero(cxt, sizeof(SeqState));

	if (nconds < 1 || nconds > SEQUENCE_MAX_CONDITIONS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a sequence takes from 1 to %d conditions, not %d", SEQUENCE_MAX_CONDITIONS, nconds)));
	st->nconds = nconds;
	st->pattern = (text *) MemoryContextAlloc(cxt, VARSIZE_ANY(pattern));
	memcpy(st->pattern, pattern, VARSIZE_ANY(pattern));
	ParsePattern(st, cxt, text_to_cstring(pattern));
	return st;
}

static void
AddEvent(SeqState *st, MemoryContext cxt, TimestampTz ts, uint32 mask)
{
	if (st->n == st->cap)
	{
		int64		cap = Max(16, st->cap * 2);

		uba_check_memory_for((Size) cap * sizeof(SeqEvent), "one group of a sequence",
							 "group by the user, or leave out events no condition names");
		st->events = st->events == NULL ? MemoryContextAlloc(cxt, sizeof(SeqEvent) * cap) :
			repalloc(st->events, sizeof(SeqEvent) * cap);
		st->cap = cap;
	}
	st->events[st->n].ts = ts;
	st->events[st->n].mask = mask;
	st->n++;
	st->seen_conds |= mask;
}

/* uba_sequence_match / _count(pattern, ts, VARIADIC conditions) transition */
Datum
uba_sequence_transfn(PG_FUNCTION_ARGS)
{
	SeqState   *st = PG_ARGISNULL(0) ? NULL : (SeqState *) PG_GETARG_POINTER(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	ArrayType  *conds;
	Datum	   *values;
	bool	   *nulls;
	int			n;
	uint32		mask = 0;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sequence pattern must not be NULL")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sequence conditions must not be NULL"),
				 errhint("Give the conditions as arguments: uba_sequence_match('(?1)(?2)', ts, event = 'view', event = 'purchase').")));
	conds = PG_GETARG_ARRAYTYPE_P(3);
	if (ARR_NDIM(conds) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("sequence conditions must be a one-dimensional array")));
	deconstruct_array(conds, BOOLOID, 1, true, TYPALIGN_CHAR, &values, &nulls, &n);
	if (st == NULL)
		st = NewState(fcinfo, cxt, PG_GETARG_TEXT_PP(1), n);
	else
	{
		text	   *p = PG_GETARG_TEXT_PP(1);

		if (VARSIZE_ANY_EXHDR(p) != VARSIZE_ANY_EXHDR(st->pattern) ||
			memcmp(VARDATA_ANY(p), VARDATA_ANY(st->pattern), VARSIZE_ANY_EXHDR(p)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sequence pattern must be the same in every row")));
		if (n != st->nconds)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("sequence conditions must be as many in every row"),
					 errdetail("Got %d conditions after %d.", n, st->nconds)));
	}
	/* a row without a time, or for which no condition holds, takes no part */
	if (PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	for (int i = 0; i < n; i++)
		if (!nulls[i] && DatumGetBool(values[i]))
			mask |= (uint32) 1 << i;
	if (mask != 0)
		AddEvent(st, cxt, PG_GETARG_TIMESTAMPTZ(2), mask);
	PG_RETURN_POINTER(st);
}

static int
CompareEvents(const void *a, const void *b)
{
	const SeqEvent *x = a;
	const SeqEvent *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->mask > y->mask) - (x->mask < y->mask);
}

typedef struct Choice
{
	int			step;
	int64		event;
	int64		base;
} Choice;

/*
 * One search from event *at: whether the pattern matches there or later;
 * *at moves past the match (at least one event), where a count continues.
 */
static bool
Search(const SeqState *st, int64 *at, Choice *stack)
{
	const SeqEvent *ev = st->events;
	int64		n = st->n;
	int64		start = *at;
	int64		e = start,
				base = start;
	int			a = 0,
				depth = 0;
	int64		steps = 0;
	bool		failed = false;

	while (a < st->nsteps && e < n && !failed)
	{
		const Step *s = &st->steps[a];
		bool		ok;

		if (++steps > SEQUENCE_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("sequence pattern too costly to match: more than %d steps in one group's search",
							SEQUENCE_MAX_STEPS),
					 errhint("Use fewer .* and time conditions, or fewer events per group.")));
		if ((steps & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		switch (s->kind)
		{
			case STEP_EVENT:
				ok = (ev[e].mask >> s->arg) & 1;
				if (ok)
				{
					base = e++;
					a++;
					continue;
				}
				break;
			case STEP_ANY:
				base = e++;
				a++;
				continue;
			case STEP_STAR:
				stack[depth++] = (Choice) {a, e, base};
				base = e;
				a++;
				continue;
			case STEP_TIME_LE:
			case STEP_TIME_LT:
				ok = s->kind == STEP_TIME_LE ? ev[e].ts - ev[base].ts <= s->arg :
					ev[e].ts - ev[base].ts < s->arg;
				if (ok)
				{
					stack[depth++] = (Choice) {a, e, base};
					base = e;
					a++;
					continue;
				}
				break;
			default:
				ok = s->kind == STEP_TIME_GE ? ev[e].ts - ev[base].ts >= s->arg :
					s->kind == STEP_TIME_GT ? ev[e].ts - ev[base].ts > s->arg :
					ev[e].ts - ev[base].ts == s->arg;
				if (ok)
				{
					stack[depth++] = (Choice) {a, e, base};
					base = e;
					a++;
					continue;
				}
				/* too early: the next event, with the same base */
				if (++e < n)
					continue;
				break;
		}
		/*
		 * No way on: back to the last choice, one event later.  As in
		 * ClickHouse, each choice taken off is adopted before it is
		 * tested, so a search that runs out of choices ends at the first
		 * step with no events left: it matches only if every step may
		 * match nothing, and a count stops there.
		 */
		failed = true;
		while (depth > 0)
		{
			Choice		c = stack[--depth];

			a = c.step;
			e = c.event + 1;
			base = c.base;
			if (e < n)
			{
				failed = false;
				break;
			}
		}
	}
	/* what is left may match nothing: .*, and a time limit with nothing after it */
	while (a < st->nsteps &&
		   (st->steps[a].kind == STEP_STAR || st->steps[a].kind == STEP_TIME_LE ||
			st->steps[a].kind == STEP_TIME_LT ||
			(st->steps[a].kind == STEP_TIME_GE && st->steps[a].arg == 0)))
		a++;
	*at = e == start ? e + 1 : e;
	return a == st->nsteps;
}

/* Without time conditions: the set of pattern positions reachable, event by event */
static bool
Automaton(const SeqState *st)
{
	int			m = st->nsteps;
	bool	   *now = palloc0(sizeof(bool) * (m + 1));
	bool	   *next = palloc0(sizeof(bool) * (m + 1));

	/*
	 * Position p: the steps before p are matched.  A .* at p keeps p alive
	 * on any event and lets p + 1 start at once (epsilon).
	 */
#define CLOSE(set) \
	for (int p_ = 0; p_ < m; p_++) \
		if ((set)[p_] && st->steps[p_].kind == STEP_STAR) \
			(set)[p_ + 1] = true
	now[0] = true;
	CLOSE(now);
	for (int64 e = 0; e < st->n && !now[m]; e++)
	{
		bool		alive = false;

		for (int p = 0; p < m && !alive; p++)
			alive = now[p];
		if (!alive)
			break;
		memset(next, 0, sizeof(bool) * (m + 1));
		for (int p = 0; p < m; p++)
		{
			if (!now[p])
				continue;
			switch (st->steps[p].kind)
			{
				case STEP_STAR:
					next[p] = true;
					break;
				case STEP_ANY:
					next[p + 1] = true;
					break;
				case STEP_EVENT:
					if ((st->events[e].mask >> st->steps[p].arg) & 1)
						next[p + 1] = true;
					break;
				default:
					break;
			}
		}
		CLOSE(next);
		{
			bool	   *t = now;

			now = next;
			next = t;
		}
		if ((e & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
#undef CLOSE
	return now[m];
}

static SeqState *
Ready(FunctionCallInfo fcinfo)
{
	SeqState   *st = PG_ARGISNULL(0) ? NULL : (SeqState *) PG_GETARG_POINTER(0);

	if (st == NULL)
		return NULL;
	qsort(st->events, st->n, sizeof(SeqEvent), CompareEvents);
	return st;
}

/* Final of uba_sequence_match: whether the events match the pattern; NULL without rows */
Datum
uba_sequence_match_final(PG_FUNCTION_ARGS)
{
	SeqState   *st = Ready(fcinfo);
	int64		at = 0;

	if (st == NULL)
		PG_RETURN_NULL();
	if ((st->pattern_conds & st->seen_conds) != st->pattern_conds)
		PG_RETURN_BOOL(false);
	if (!st->has_time)
		PG_RETURN_BOOL(Automaton(st));
	/* a search's choice points are in step order, one per step at most */
	PG_RETURN_BOOL(Search(st, &at, palloc(sizeof(Choice) * st->nsteps)));
}

/* Final of uba_sequence_count: matches that do not overlap; NULL without rows */
Datum
uba_sequence_count_final(PG_FUNCTION_ARGS)
{
	SeqState   *st = Ready(fcinfo);
	int64		at = 0,
				count = 0;
	Choice	   *stack;

	if (st == NULL)
		PG_RETURN_NULL();
	if ((st->pattern_conds & st->seen_conds) != st->pattern_conds)
		PG_RETURN_INT64(0);
	stack = palloc(sizeof(Choice) * st->nsteps);
	while (at < st->n && Search(st, &at, stack))
		count++;
	PG_RETURN_INT64(count);
}

/* Combine two workers' states: their events together */
Datum
uba_sequence_combine(PG_FUNCTION_ARGS)
{
	SeqState   *a = PG_ARGISNULL(0) ? NULL : (SeqState *) PG_GETARG_POINTER(0);
	SeqState   *b = PG_ARGISNULL(1) ? NULL : (SeqState *) PG_GETARG_POINTER(1);
	MemoryContext cxt = uba_agg_context(fcinfo);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = NewState(fcinfo, cxt, b->pattern, b->nconds);
	else if (a->nconds != b->nconds || VARSIZE_ANY(a->pattern) != VARSIZE_ANY(b->pattern) ||
			 memcmp(a->pattern, b->pattern, VARSIZE_ANY(a->pattern)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sequence pattern must be the same in every row")));
	for (int64 i = 0; i < b->n; i++)
		AddEvent(a, cxt, b->events[i].ts, b->events[i].mask);
	PG_RETURN_POINTER(a);
}

/* Serialized: the condition count, the pattern, the events */
Datum
uba_sequence_serialize(PG_FUNCTION_ARGS)
{
	SeqState   *st = (SeqState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->nconds);
	pq_sendint32(&buf, VARSIZE_ANY_EXHDR(st->pattern));
	pq_sendbytes(&buf, VARDATA_ANY(st->pattern), VARSIZE_ANY_EXHDR(st->pattern));
	pq_sendint64(&buf, st->n);
	for (int64 i = 0; i < st->n; i++)
	{
		pq_sendint64(&buf, st->events[i].ts);
		pq_sendint32(&buf, st->events[i].mask);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_sequence_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	StringInfoData buf;
	SeqState   *st;
	int			nconds,
				len;
	int64		n;
	text	   *pattern;

	uba_message_of(&buf, b);
	nconds = pq_getmsgint(&buf, 4);
	len = pq_getmsgint(&buf, 4);
	if (len < 0 || len > SEQUENCE_MAX_PATTERN)
		elog(ERROR, "uba: corrupted sequence state");
	pattern = cstring_to_text_with_len(pq_getmsgbytes(&buf, len), len);
	st = NewState(fcinfo, cxt, pattern, nconds);
	n = pq_getmsgint64(&buf);
	if (n < 0 || n > (buf.len - buf.cursor) / 12)
		elog(ERROR, "uba: corrupted sequence state");
	for (int64 i = 0; i < n; i++)
	{
		TimestampTz ts = pq_getmsgint64(&buf);
		uint32		mask = pq_getmsgint(&buf, 4);

		if (mask == 0 || (nconds < 32 && (mask >> nconds) != 0))
			elog(ERROR, "uba: corrupted sequence state");
		AddEvent(st, cxt, ts, mask);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}
