/*-------------------------------------------------------------------------
 *
 * funnel.c
 *	  uba_funnel(ts, window, steps): the deepest step of a conversion
 *	  funnel that a user's events reach in order, as an aggregate.
 *
 * A chain starts at an event where step 1 holds, at time t0.  Step k + 1
 * is reached by an event where it holds, at the time of step k's event or
 * later (the same event may serve several steps), and no later than
 * t0 + window.  The result is the longest chain over all starts, 0 when
 * step 1 never holds.
 *
 * Rows may come in any order: the aggregate keeps each event that holds
 * some step (its time and a bit mask of its steps), sorts them by time in
 * the final function and makes one pass.  The pass keeps, for every step
 * k, the latest start of a chain that has reached step k: a later start
 * leaves more of the window for the steps after k, so it is the only one
 * worth extending.  Events at the same time are taken together, steps in
 * increasing order, so a chain can climb several steps at one time.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "common/int.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_funnel_transfn);
PG_FUNCTION_INFO_V1(uba_funnel_combine);
PG_FUNCTION_INFO_V1(uba_funnel_serialize);
PG_FUNCTION_INFO_V1(uba_funnel_deserialize);
PG_FUNCTION_INFO_V1(uba_funnel_final);

/* Steps fit one bit mask */
#define FUNNEL_MAX_STEPS 64

typedef struct FunnelEvent
{
	TimestampTz ts;
	uint64		steps;			/* bit k - 1: step k holds */
} FunnelEvent;

typedef struct FunnelState
{
	int32		nsteps;
	bool		sorted;			/* events arrived in time order */
	Interval	window;			/* as given, to compare with later rows' */
	int64		window_us;
	int64		n;
	int64		cap;
	FunnelEvent *ev;
} FunnelState;

static int
CompareEvents(const void *a, const void *b)
{
	TimestampTz x = ((const FunnelEvent *) a)->ts;
	TimestampTz y = ((const FunnelEvent *) b)->ts;

	return (x > y) - (x < y);
}

/* The steps that hold in a boolean array (NULL elements do not hold); checks its shape */
static uint64
StepMask(ArrayType *a, int *nsteps)
{
	bool		v[FUNNEL_MAX_STEPS];
	uint64		mask = 0;
	int			n = uba_bool_array_length(a, "funnel steps",
										  "Pass one boolean per step, for example ARRAY[event = 'view', event = 'cart', event = 'purchase'].");

	if (n > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a funnel has at most %d steps", FUNNEL_MAX_STEPS),
				 errdetail("Got %d steps.", n)));
	uba_bool_array_values(a, v, n);
	for (int k = 0; k < n; k++)
		if (v[k])
			mask |= UINT64CONST(1) << k;
	*nsteps = n;
	return mask;
}

static FunnelState *
NewState(MemoryContext cxt, int nsteps, const Interval *window, int64 window_us)
{
	FunnelState *st = MemoryContextAllocZero(cxt, sizeof(FunnelState));

	st->nsteps = nsteps;
	st->sorted = true;
	st->window = *window;
	st->window_us = window_us;
	return st;
}

/* Room for need events in the state's context (doubling), within uba.max_memory */
static void
Reserve(FunnelState *st, int64 need, MemoryContext cxt)
{
	int64		cap;

	if (need <= st->cap)
		return;
	cap = Max(need, Max(8, st->cap * 2));
	uba_check_memory(mul_size((Size) cap, sizeof(FunnelEvent)), "one group of funnel events");
	if (st->ev == NULL)
		st->ev = MemoryContextAllocHuge(cxt, sizeof(FunnelEvent) * cap);
	else
		st->ev = repalloc_huge(st->ev, sizeof(FunnelEvent) * cap);
	st->cap = cap;
}

static void
CheckSameShape(const FunnelState *st, int nsteps, const Interval *window)
{
	if (nsteps != st->nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("funnel steps must have the same length in every row"),
				 errdetail("Got %d steps after %d.", nsteps, st->nsteps)));
	if (memcmp(window, &st->window, sizeof(Interval)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window must be the same in every row")));
}

/* uba_funnel(ts, window, steps) transition: keep the event if any step holds */
Datum
uba_funnel_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	FunnelState *st = PG_ARGISNULL(0) ? NULL : (FunnelState *) PG_GETARG_POINTER(0);
	Interval   *window;
	uint64		mask;
	int			nsteps;
	TimestampTz ts;

	/* events without a time or without steps are skipped, as aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(3))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel window must not be NULL"),
				 errhint("Pass how long the whole funnel may take, for example interval '1 day'.")));
	window = PG_GETARG_INTERVAL_P(2);
	mask = StepMask(PG_GETARG_ARRAYTYPE_P(3), &nsteps);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	if (st == NULL)
		st = NewState(aggcxt, nsteps, window, uba_interval_usecs(window, "funnel window"));
	else
		CheckSameShape(st, nsteps, window);
	if (mask == 0)
		PG_RETURN_POINTER(st);
	Reserve(st, st->n + 1, aggcxt);
	if (st->n > 0 && ts < st->ev[st->n - 1].ts)
		st->sorted = false;
	st->ev[st->n].ts = ts;
	st->ev[st->n].steps = mask;
	st->n++;
	PG_RETURN_POINTER(st);
}

/* Combine two partial states (parallel aggregation): append b's events to a */
Datum
uba_funnel_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	FunnelState *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (FunnelState *) PG_GETARG_POINTER(0);
	b = (FunnelState *) PG_GETARG_POINTER(1);
	CheckSameShape(a, b->nsteps, &b->window);
	if (b->n == 0)
		PG_RETURN_POINTER(a);
	Reserve(a, a->n + b->n, aggcxt);
	memcpy(a->ev + a->n, b->ev, sizeof(FunnelEvent) * b->n);
	a->n += b->n;
	a->sorted = false;
	PG_RETURN_POINTER(a);
}

/* Serialized: steps (int32), window (Interval), events (int64), then the events */
#define FUNNEL_HEADER_BYTES (sizeof(int32) + sizeof(Interval) + sizeof(int64))

Datum
uba_funnel_serialize(PG_FUNCTION_ARGS)
{
	FunnelState *st = (FunnelState *) PG_GETARG_POINTER(0);
	Size		total = add_size(FUNNEL_HEADER_BYTES, mul_size((Size) st->n, sizeof(FunnelEvent)));
	bytea	   *out;
	char	   *p;

	if (total > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a parallel worker collected more than 1 GB of funnel events for one group"),
				 errhint("SET max_parallel_workers_per_gather = 0 for this query.")));
	out = (bytea *) palloc(total + VARHDRSZ);
	SET_VARSIZE(out, total + VARHDRSZ);
	p = VARDATA(out);
	memcpy(p, &st->nsteps, sizeof(int32));
	p += sizeof(int32);
	memcpy(p, &st->window, sizeof(Interval));
	p += sizeof(Interval);
	memcpy(p, &st->n, sizeof(int64));
	p += sizeof(int64);
	if (st->n > 0)
		memcpy(p, st->ev, sizeof(FunnelEvent) * st->n);
	PG_RETURN_BYTEA_P(out);
}

Datum
uba_funnel_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	int32		nsteps;
	Interval	window;
	int64		n;
	FunnelState *st;

	if (len < FUNNEL_HEADER_BYTES)
		elog(ERROR, "uba funnel state serialization is truncated");
	memcpy(&nsteps, p, sizeof(int32));
	p += sizeof(int32);
	memcpy(&window, p, sizeof(Interval));
	p += sizeof(Interval);
	memcpy(&n, p, sizeof(int64));
	p += sizeof(int64);
	if (nsteps < 1 || nsteps > FUNNEL_MAX_STEPS || n < 0 ||
		n > (int64) (MaxAllocHugeSize / sizeof(FunnelEvent)) ||
		len != FUNNEL_HEADER_BYTES + (Size) n * sizeof(FunnelEvent))
		elog(ERROR, "uba funnel state serialization is inconsistent");
	st = NewState(aggcxt, nsteps, &window, uba_interval_usecs(&window, "funnel window"));
	if (n > 0)
	{
		Reserve(st, n, aggcxt);
		memcpy(st->ev, p, sizeof(FunnelEvent) * n);
		st->n = n;
		st->sorted = false;
	}
	PG_RETURN_POINTER(st);
}

/* The deepest step reached in order within the window */
static int
FunnelDepth(FunnelEvent *ev, int64 n, int nsteps, int64 window_us)
{
	TimestampTz start[FUNNEL_MAX_STEPS];	/* latest start of a chain at step k + 1 */
	uint64		reached = 0;	/* bit k: start[k] is set */
	int			depth = 0;
	int64		groups = 0;

	for (int64 i = 0; i < n && depth < nsteps;)
	{
		TimestampTz t = ev[i].ts;
		uint64		steps = 0;

		/* every step that holds at this time */
		for (; i < n && ev[i].ts == t; i++)
			steps |= ev[i].steps;
		if ((++groups & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();

		for (uint64 m = steps; m != 0; m &= m - 1)
		{
			int			k = pg_rightmost_one_pos64(m);

			if (k == 0)
				start[0] = t;	/* a new chain: the latest start there is */
			else if (!(reached & (UINT64CONST(1) << (k - 1))) ||
					 uba_gap_exceeds(start[k - 1], t, window_us))
				continue;
			else if (!(reached & (UINT64CONST(1) << k)) || start[k - 1] > start[k])
				start[k] = start[k - 1];
			reached |= UINT64CONST(1) << k;
			depth = Max(depth, k + 1);
		}
	}
	return depth;
}

/*
 * Final: sort the kept events by time and find the deepest step.  Sorting
 * in place leaves an equivalent state (the same events; later rows clear
 * sorted again), so the final function counts as read-only and the
 * aggregate works as a window function too.
 */
Datum
uba_funnel_final(PG_FUNCTION_ARGS)
{
	FunnelState *st = PG_ARGISNULL(0) ? NULL : (FunnelState *) PG_GETARG_POINTER(0);

	if (st == NULL)
		PG_RETURN_NULL();
	if (!st->sorted)
	{
		qsort(st->ev, st->n, sizeof(FunnelEvent), CompareEvents);
		st->sorted = true;
	}
	PG_RETURN_INT32(FunnelDepth(st->ev, st->n, st->nsteps, st->window_us));
}
