/*-------------------------------------------------------------------------
 *
 * funnel.c
 *	  uba_funnel(ts, window, steps [, options]): the deepest step of a
 *	  conversion funnel that a user's events reach in order, and
 *	  uba_funnel_times: when that chain reached each step.
 *
 * A chain starts at an event where step 1 holds, at time t0.  Step k + 1
 * is reached by an event where it holds, at the time of step k's event or
 * later (the same event may serve several steps), and no later than
 * t0 + window.  The result is the longest chain over all starts, 0 when
 * step 1 never holds.  This is ClickHouse's windowFunnel, whose modes are
 * options with its semantics (strict_deduplication, strict_order,
 * allow_reentry, strict_increase, strict_once), plus PostHog's unordered
 * funnel.
 *
 * Rows may come in any order: the aggregate keeps each event that holds
 * some step (its time and a bit mask of its steps; with strict_order also
 * the events that hold none, which break a chain), sorts them by time in
 * the final function and makes one pass.  The pass keeps, for every step
 * k, the latest start of a chain that has reached step k: a later start
 * leaves more of the window for the steps after k, so it is the only one
 * worth extending.  Events at the same time are taken together, steps in
 * increasing order, so a chain can climb several steps at one time.
 *
 * strict_once (an event serves at most one step of a chain) needs the
 * events a chain used, but only those at the current time: later events
 * cannot be the same rows.  So within one time every chain is followed,
 * and between times each step keeps only its latest start again.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_funnel_transfn);
PG_FUNCTION_INFO_V1(uba_funnel_combine);
PG_FUNCTION_INFO_V1(uba_funnel_serialize);
PG_FUNCTION_INFO_V1(uba_funnel_deserialize);
PG_FUNCTION_INFO_V1(uba_funnel_final);
PG_FUNCTION_INFO_V1(uba_funnel_times_final);

/* Steps fit one bit mask */
#define FUNNEL_MAX_STEPS 64

#define BIT(k) (UINT64CONST(1) << (k))

/* Modes, from the options */
#define MODE_DEDUP		0x01		/* strict_deduplication */
#define MODE_ORDER		0x02		/* strict_order */
#define MODE_INCREASE	0x04		/* strict_increase */
#define MODE_ONCE		0x08		/* strict_once */
#define MODE_REENTRY	0x10		/* allow_reentry */
#define MODE_UNORDERED	0x20		/* unordered */

static const UbaOptionSpec funnel_options[] = {
	{"strict_deduplication", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"strict_order", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"strict_increase", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"strict_once", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"allow_reentry", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"unordered", UBA_OPT_BOOL, 0, 0, 1, NULL},
};

typedef struct FunnelEvent
{
	TimestampTz ts;
	uint64		steps;			/* bit k - 1: step k holds */
} FunnelEvent;

typedef struct FunnelState
{
	int32		nsteps;
	uint32		modes;
	bool		sorted;			/* events arrived in time order */
	Oid			tstype;			/* timestamptz or timestamp, for the times' array */
	Interval	window;			/* as given, to compare with later rows' */
	int64		window_us;
	Jsonb	   *options;		/* the first row's, which every row must repeat */
	int64		n;
	int64		cap;
	FunnelEvent *ev;
} FunnelState;

/* By time, then by steps: strict_once with strict_deduplication depends on the order of ties */
static int
CompareEvents(const void *a, const void *b)
{
	const FunnelEvent *x = (const FunnelEvent *) a;
	const FunnelEvent *y = (const FunnelEvent *) b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->steps > y->steps) - (x->steps < y->steps);
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
			mask |= BIT(k);
	*nsteps = n;
	return mask;
}

/* The modes of the options; refuses combinations that have no meaning */
static uint32
ParseModes(Jsonb *options)
{
	UbaOptions	o;
	uint32		modes = 0;

	uba_parse_options(options, funnel_options, lengthof(funnel_options), "uba_funnel", &o);
	if (uba_option(&o, "strict_deduplication") != 0)
		modes |= MODE_DEDUP;
	if (uba_option(&o, "strict_order") != 0)
		modes |= MODE_ORDER;
	if (uba_option(&o, "strict_increase") != 0)
		modes |= MODE_INCREASE;
	if (uba_option(&o, "strict_once") != 0)
		modes |= MODE_ONCE;
	if (uba_option(&o, "allow_reentry") != 0)
		modes |= MODE_REENTRY;
	if (uba_option(&o, "unordered") != 0)
		modes |= MODE_UNORDERED;
	if ((modes & MODE_REENTRY) && !(modes & MODE_ORDER))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"allow_reentry\" of uba_funnel needs \"strict_order\""),
				 errhint("allow_reentry ignores, instead of stopping at, a step that comes before the step it follows: add \"strict_order\": true.")));
	if ((modes & MODE_UNORDERED) && modes != MODE_UNORDERED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"unordered\" of uba_funnel does not combine with the strict modes"),
				 errhint("An unordered funnel counts the distinct steps done within the window, in any order.")));
	return modes;
}

static FunnelState *
NewState(MemoryContext cxt, int nsteps, const Interval *window, Jsonb *options, Oid tstype)
{
	FunnelState *st = MemoryContextAllocZero(cxt, sizeof(FunnelState));

	st->modes = ParseModes(options);
	st->nsteps = nsteps;
	st->sorted = true;
	st->tstype = tstype;
	st->window = *window;
	st->window_us = uba_interval_usecs(window, "funnel window");
	st->options = uba_options_copy(cxt, options);
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

/* uba_funnel(ts, window, steps [, options]) transition: keep the event if any step holds */
Datum
uba_funnel_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	FunnelState *st = PG_ARGISNULL(0) ? NULL : (FunnelState *) PG_GETARG_POINTER(0);
	Jsonb	   *options = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;
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
		st = NewState(aggcxt, nsteps, window, options,
					  get_fn_expr_argtype(fcinfo->flinfo, 1) == TIMESTAMPOID ? TIMESTAMPOID : TIMESTAMPTZOID);
	else
	{
		CheckSameShape(st, nsteps, window);
		uba_check_same_options(st->options, options);
	}
	/* with strict_order an event that holds no step breaks the chain, so it is kept */
	if (mask == 0 && !(st->modes & MODE_ORDER))
		PG_RETURN_POINTER(st);
	Reserve(st, st->n + 1, aggcxt);
	if (st->n > 0 && (ts < st->ev[st->n - 1].ts || (ts == st->ev[st->n - 1].ts && mask < st->ev[st->n - 1].steps)))
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
	uba_check_same_options(a->options, b->options);
	if (b->n == 0)
		PG_RETURN_POINTER(a);
	Reserve(a, a->n + b->n, aggcxt);
	memcpy(a->ev + a->n, b->ev, sizeof(FunnelEvent) * b->n);
	a->n += b->n;
	a->sorted = false;
	PG_RETURN_POINTER(a);
}

/* Serialized: steps, the time type, the window, the options, then the events */
Datum
uba_funnel_serialize(PG_FUNCTION_ARGS)
{
	FunnelState *st = (FunnelState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	if ((Size) st->n * sizeof(FunnelEvent) > MaxAllocSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a parallel worker collected more than 512 MB of funnel events for one group"),
				 errhint("SET max_parallel_workers_per_gather = 0 for this query.")));
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->nsteps);
	pq_sendint32(&buf, st->tstype);
	pq_sendint64(&buf, st->window.time);
	pq_sendint32(&buf, st->window.day);
	pq_sendint32(&buf, st->window.month);
	uba_options_send(&buf, st->options);
	pq_sendint64(&buf, st->n);
	pq_sendbytes(&buf, (const char *) st->ev, (int) (sizeof(FunnelEvent) * st->n));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_funnel_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	int32		nsteps;
	Oid			tstype;
	Interval	window;
	Jsonb	   *options;
	int64		n;
	FunnelState *st;

	uba_message_of(&buf, in);
	nsteps = pq_getmsgint(&buf, 4);
	tstype = pq_getmsgint(&buf, 4);
	window.time = pq_getmsgint64(&buf);
	window.day = pq_getmsgint(&buf, 4);
	window.month = pq_getmsgint(&buf, 4);
	options = uba_options_receive(&buf, CurrentMemoryContext);
	n = pq_getmsgint64(&buf);
	if (nsteps < 1 || nsteps > FUNNEL_MAX_STEPS || (tstype != TIMESTAMPOID && tstype != TIMESTAMPTZOID) ||
		n < 0 || n != (int64) ((buf.len - buf.cursor) / sizeof(FunnelEvent)))
		elog(ERROR, "uba funnel state serialization is inconsistent");
	st = NewState(aggcxt, nsteps, &window, options, tstype);
	if (n > 0)
	{
		Reserve(st, n, aggcxt);
		memcpy(st->ev, pq_getmsgbytes(&buf, (int) (sizeof(FunnelEvent) * n)), sizeof(FunnelEvent) * n);
		st->n = n;
		st->sorted = false;
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/* ---------- the pass over the sorted events ---------- */

/* What a pass finds: the depth and, when asked, the times of the chain that first reached it */
typedef struct Scan
{
	const FunnelState *st;
	bool		want_times;
	int			depth;
	TimestampTz times[FUNNEL_MAX_STEPS];
} Scan;

/*
 * Every mode but strict_once and unordered.  Per step: the latest start of
 * a chain that reached it, when that chain reached it (strict_increase
 * needs it) and, for the times, the chain's path.  The path a step holds
 * is the latest one: the latest start, then the latest time of each step,
 * so the first chain to reach a new depth is the one that converts fastest.
 */
static void
ScanOrdered(Scan *sc, const FunnelEvent *ev, int64 n)
{
	const FunnelState *st = sc->st;
	uint32		modes = st->modes;
	TimestampTz first[FUNNEL_MAX_STEPS],
				last[FUNNEL_MAX_STEPS];
	TimestampTz (*path)[FUNNEL_MAX_STEPS] = NULL;
	uint64		set = 0;		/* bit k: step k + 1 was reached */
	bool		started = false;
	int64		groups = 0;

	if (sc->want_times)
		path = palloc(sizeof(TimestampTz) * FUNNEL_MAX_STEPS * FUNNEL_MAX_STEPS);
	for (int64 i = 0; i < n;)
	{
		TimestampTz t = ev[i].ts;
		uint64		steps = 0,
					dup = 0;	/* steps held by two events at this time */
		bool		none = false;

		for (; i < n && ev[i].ts == t; i++)
		{
			dup |= steps & ev[i].steps;
			steps |= ev[i].steps;
			none |= ev[i].steps == 0;
		}
		if ((++groups & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();

		/* strict_order: an event of no step, after a start, ends the search (it sorts first) */
		if (none && started)
			break;
		for (uint64 m = steps; m != 0; m &= m - 1)
		{
			int			k = pg_rightmost_one_pos64(m);

			if (k == 0)
			{
				first[0] = last[0] = t;		/* a new chain: the latest start there is */
				set |= 1;
				started = true;
				if (path)
					path[0][0] = t;
			}
			else if ((modes & MODE_DEDUP) && (set & BIT(k)))
				goto done;		/* a step repeated */
			else if ((modes & MODE_ORDER) && started && !(set & BIT(k - 1)))
			{
				if (modes & MODE_REENTRY)
					continue;
				goto done;		/* a step before the one it follows */
			}
			else if (!(set & BIT(k - 1)) ||
					 uba_gap_exceeds(first[k - 1], t, st->window_us) ||
					 ((modes & MODE_INCREASE) && last[k - 1] >= t))
				continue;
			else
			{
				first[k] = first[k - 1];
				last[k] = t;
				set |= BIT(k);
				if (path)
				{
					memcpy(path[k], path[k - 1], sizeof(TimestampTz) * k);
					path[k][k] = t;
				}
			}
			if (k + 1 > sc->depth)
			{
				sc->depth = k + 1;
				if (path)
					memcpy(sc->times, path[k], sizeof(TimestampTz) * (k + 1));
				if (sc->depth == st->nsteps)
					goto done;
			}
			/* strict_deduplication: the step's second event at this time repeats it */
			if (k > 0 && (modes & MODE_DEDUP) && (dup & BIT(k)))
				goto done;
		}
	}
done:
	if (path)
		pfree(path);
}

/* strict_once: a chain within the events of one time, with the events it used there */
typedef struct OnceChain
{
	TimestampTz first;
	TimestampTz last;
	uint64		used;			/* events of this time (holding several steps) used */
} OnceChain;

typedef struct OnceLevel
{
	OnceChain  *c;
	int			n;
	int			cap;
} OnceLevel;

/*
 * Add a chain unless one already there can do all it can: a start as late,
 * a last step as early and no event it lacks.  This keeps many events of
 * one step at one time from multiplying the chains.
 */
static void
OnceAdd(OnceLevel *lv, TimestampTz first, TimestampTz last, uint64 used)
{
	for (int c = 0; c < lv->n; c++)
		if (lv->c[c].first >= first && lv->c[c].last <= last && (lv->c[c].used & ~used) == 0)
			return;
	if (lv->n == lv->cap)
	{
		lv->cap = Max(4, lv->cap * 2);
		uba_check_memory_for((Size) lv->cap * sizeof(OnceChain) * FUNNEL_MAX_STEPS,
							 "the chains of a strict_once funnel at one time",
							 "many events at the same time hold several steps; leave strict_once out");
		lv->c = lv->c ? repalloc(lv->c, sizeof(OnceChain) * lv->cap) : palloc(sizeof(OnceChain) * lv->cap);
	}
	lv->c[lv->n].first = first;
	lv->c[lv->n].last = last;
	lv->c[lv->n].used = used;
	lv->n++;
}

/*
 * strict_once.  Within the events of one time (at most 64 of them holding
 * several steps: more would need a wider mask of used events), every chain is extended, each
 * step's events in turn; between times a step keeps one chain, the latest
 * start, since later events are other rows and come later than any chain's
 * last step.
 */
static void
ScanOnce(Scan *sc, const FunnelEvent *ev, int64 n)
{
	const FunnelState *st = sc->st;
	uint32		modes = st->modes;
	OnceLevel	lv[FUNNEL_MAX_STEPS];
	bool		started = false;

	memset(lv, 0, sizeof(lv));
	for (int64 i = 0; i < n;)
	{
		TimestampTz t = ev[i].ts;
		int64		g0 = i;
		uint64		steps = 0;
		bool		none = false;
		int			multi = 0;	/* events of this time holding several steps */

		for (; i < n && ev[i].ts == t; i++)
		{
			steps |= ev[i].steps;
			none |= ev[i].steps == 0;
			multi += (ev[i].steps & (ev[i].steps - 1)) != 0;
		}
		CHECK_FOR_INTERRUPTS();
		if (multi > 64)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("strict_once funnels take at most 64 events holding several steps at the same time"),
					 errdetail("Got %d such events at one time.", multi),
					 errhint("Leave strict_once out, or add a tie-breaking fraction of a second to the times.")));
		if (none && started)
			break;
		for (uint64 m = steps; m != 0; m &= m - 1)
		{
			int			k = pg_rightmost_one_pos64(m);

			int			nth = 0;	/* events holding several steps seen so far */

			for (int64 r = g0; r < i; r++)
			{
				/* an event of one step can serve no other: only the others need telling apart */
				bool		several = (ev[r].steps & (ev[r].steps - 1)) != 0;
				uint64		me = several ? BIT(nth) : 0;

				nth += several;
				if (!(ev[r].steps & BIT(k)))
					continue;
				if (k == 0)
				{
					OnceAdd(&lv[0], t, t, me);
					started = true;
				}
				else if ((modes & MODE_DEDUP) && lv[k].n > 0)
					goto done;
				else if ((modes & MODE_ORDER) && started && lv[k - 1].n == 0)
				{
					if (modes & MODE_REENTRY)
						continue;
					goto done;
				}
				else
				{
					int			np = lv[k - 1].n;	/* k - 1 < k: not grown by this loop */

					for (int c = 0; c < np; c++)
					{
						OnceChain	ch = lv[k - 1].c[c];

						if (uba_gap_exceeds(ch.first, t, st->window_us) || (ch.used & me) ||
							((modes & MODE_INCREASE) && ch.last >= t))
							continue;
						OnceAdd(&lv[k], ch.first, t, ch.used | me);
					}
				}
				if (lv[k].n > 0 && k + 1 > sc->depth)
				{
					sc->depth = k + 1;
					if (sc->depth == st->nsteps)
						goto done;
				}
			}
		}
		/* between times: the latest start per step, its events forgotten */
		for (int k = 0; k < st->nsteps; k++)
		{
			int			best = 0;

			if (lv[k].n == 0)
				continue;
			for (int c = 1; c < lv[k].n; c++)
				if (lv[k].c[c].first > lv[k].c[best].first)
					best = c;
			lv[k].c[0] = lv[k].c[best];
			lv[k].c[0].used = 0;
			lv[k].n = 1;
		}
	}
done:
	for (int k = 0; k < FUNNEL_MAX_STEPS; k++)
		if (lv[k].c)
			pfree(lv[k].c);
}

/*
 * unordered: the most distinct steps held by events within window of an
 * event's time (a window sliding over the starts); the times are when the
 * first such window's events completed 1, 2, ... distinct steps.
 */
static void
ScanUnordered(Scan *sc, const FunnelEvent *ev, int64 n)
{
	const FunnelState *st = sc->st;
	int64		count[FUNNEL_MAX_STEPS];
	int			distinct = 0;
	int64		best_start = -1;

	memset(count, 0, sizeof(count));
	for (int64 i = 0, j = 0; i < n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		/* the window [ev[i].ts, ev[i].ts + window] holds events i .. j - 1 */
		for (; j < n && !uba_gap_exceeds(ev[i].ts, ev[j].ts, st->window_us); j++)
			for (uint64 m = ev[j].steps; m != 0; m &= m - 1)
				if (count[pg_rightmost_one_pos64(m)]++ == 0)
					distinct++;
		if ((i == 0 || ev[i].ts != ev[i - 1].ts) && distinct > sc->depth)
		{
			sc->depth = distinct;
			best_start = i;
		}
		for (uint64 m = ev[i].steps; m != 0; m &= m - 1)
			if (--count[pg_rightmost_one_pos64(m)] == 0)
				distinct--;
	}
	if (sc->want_times && best_start >= 0)
	{
		uint64		done = 0;
		int			d = 0;

		for (int64 j = best_start; j < n && d < sc->depth &&
			 !uba_gap_exceeds(ev[best_start].ts, ev[j].ts, st->window_us); j++)
		{
			uint64		fresh = ev[j].steps & ~done;

			done |= fresh;
			for (int c = pg_popcount64(fresh); c > 0; c--)
				sc->times[d++] = ev[j].ts;
		}
	}
}

/*
 * Sort the kept events by time and make the pass.  Sorting in place leaves
 * an equivalent state (the same events; later rows clear sorted again), so
 * the final functions count as read-only and the aggregates work as window
 * functions too.
 */
static void
RunScan(FunnelState *st, Scan *sc, bool want_times)
{
	memset(sc, 0, sizeof(Scan));
	sc->st = st;
	sc->want_times = want_times;
	if (!st->sorted)
	{
		qsort(st->ev, st->n, sizeof(FunnelEvent), CompareEvents);
		st->sorted = true;
	}
	if (st->modes & MODE_UNORDERED)
		ScanUnordered(sc, st->ev, st->n);
	else if (st->modes & MODE_ONCE)
		ScanOnce(sc, st->ev, st->n);
	else
		ScanOrdered(sc, st->ev, st->n);
}

/* uba_funnel final: the deepest step reached */
Datum
uba_funnel_final(PG_FUNCTION_ARGS)
{
	FunnelState *st = PG_ARGISNULL(0) ? NULL : (FunnelState *) PG_GETARG_POINTER(0);
	Scan		sc;

	if (st == NULL)
		PG_RETURN_NULL();
	RunScan(st, &sc, false);
	PG_RETURN_INT32(sc.depth);
}

/* uba_funnel_times final: when the chain reached each step; NULL when step 1 never held */
Datum
uba_funnel_times_final(PG_FUNCTION_ARGS)
{
	FunnelState *st = PG_ARGISNULL(0) ? NULL : (FunnelState *) PG_GETARG_POINTER(0);
	Scan		sc;
	Datum		d[FUNNEL_MAX_STEPS];

	if (st == NULL)
		PG_RETURN_NULL();
	if (st->modes & MODE_ONCE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("uba_funnel_times does not support strict_once"),
				 errdetail("A strict_once funnel follows every chain at one time, and no single chain is its answer."),
				 errhint("Use uba_funnel with strict_once for the depth, and uba_funnel_times without it.")));
	RunScan(st, &sc, true);
	if (sc.depth == 0)
		PG_RETURN_NULL();
	for (int k = 0; k < sc.depth; k++)
		d[k] = TimestampTzGetDatum(sc.times[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, sc.depth, st->tstype, sizeof(TimestampTz),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
