/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  uba_lifecycle(ts [, options]): a user's lifecycle status in each
 *	  period of a range, as PostHog's lifecycle chart counts users, as an
 *	  aggregate (GROUP BY user) returning the periods and their statuses.
 *
 * A user active in a period (an event on a local date in it) is "new" in
 * their first active period ever, "returning" when they were active in
 * the period before too, "resurrecting" when they were not (but were
 * active before); a user active in the period before but not in this one
 * is "dormant" in it.  Other periods have no status and are not listed.
 * Periods are days, weeks (from Monday) or months; the range is the
 * options' start to end.  Counting users per period and status is one
 * GROUP BY over unnest(periods, statuses).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(uba_lifecycle_transfn);
PG_FUNCTION_INFO_V1(uba_lifecycle_final);
PG_FUNCTION_INFO_V1(uba_lifecycle_combine);
PG_FUNCTION_INFO_V1(uba_lifecycle_serialize);
PG_FUNCTION_INFO_V1(uba_lifecycle_deserialize);

/* the most periods one range may have: a century of days */
#define LIFECYCLE_MAX_PERIODS 36600

static const UbaOptionSpec lifecycle_options[] = {
	{"period", UBA_OPT_CHOICE, UBA_PERIOD_WEEK, 0, 0, uba_period_choices},
	{"start", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"end", UBA_OPT_DATE, NAN, 0, 0, NULL},
};

typedef struct LifecycleState
{
	int			period;
	DateADT		start;			/* the range's first and last periods (their first days) */
	DateADT		end;
	Jsonb	   *options;
	int32		n;				/* active periods up to end (distinct once compacted) */
	int32		cap;
	DateADT    *active;
} LifecycleState;

/* Sort and deduplicate the active periods */
static void
Compact(LifecycleState *st)
{
	st->n = uba_dates_distinct(st->active, st->n);
}

static void
AddPeriod(LifecycleState *st, MemoryContext cxt, DateADT p)
{
	/* rows in time order repeat the period just added */
	if (st->n > 0 && st->active[st->n - 1] == p)
		return;
	if (st->n == st->cap)
	{
		if (st->n > 0)
			Compact(st);
		if (st->n > LIFECYCLE_MAX_PERIODS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("one user is active in more than %d periods", LIFECYCLE_MAX_PERIODS),
					 errhint("Group by the user, or count in weeks or months.")));
		if (st->n > st->cap / 2 || st->cap == 0)
		{
			st->cap = Max(16, st->cap * 2);
			st->active = st->active == NULL ? MemoryContextAlloc(cxt, sizeof(DateADT) * st->cap) :
				repalloc(st->active, sizeof(DateADT) * st->cap);
		}
	}
	st->active[st->n++] = p;
}

static LifecycleState *
NewState(MemoryContext cxt, Jsonb *options)
{
	LifecycleState *st = MemoryContextAllocZero(cxt, sizeof(LifecycleState));
	UbaOptions	o;
	double		start,
				end;
	int64		periods;

	uba_parse_options(options, lifecycle_options, lengthof(lifecycle_options), "uba_lifecycle", &o);
	st->period = (int) uba_option(&o, "period");
	start = uba_option(&o, "start");
	end = uba_option(&o, "end");
	if (isnan(start))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_lifecycle needs the option \"start\": the first date of the range to chart"),
				 errhint("For example '{\"start\": \"2024-01-01\", \"end\": \"2024-03-31\", \"period\": \"week\"}'::jsonb.")));
	st->start = uba_period_start((DateADT) start, st->period);
	st->end = uba_period_start(isnan(end) ? GetSQLCurrentDate() : (DateADT) end, st->period);
	if (st->end < st->start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"end\" of uba_lifecycle must not be before \"start\"")));
	periods = st->period == UBA_PERIOD_DAY ? st->end - st->start + 1 :
		st->period == UBA_PERIOD_WEEK ? (st->end - st->start) / 7 + 1 : (st->end - st->start) / 28 + 1;
	if (periods > LIFECYCLE_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("uba_lifecycle charts at most %d periods", LIFECYCLE_MAX_PERIODS),
				 errhint("Chart a shorter range, or count in weeks or months.")));
	st->options = uba_options_copy(cxt, options);
	return st;
}

/* uba_lifecycle(ts [, options]) transition */
Datum
uba_lifecycle_transfn(PG_FUNCTION_ARGS)
{
	LifecycleState *st = PG_ARGISNULL(0) ? NULL : (LifecycleState *) PG_GETARG_POINTER(0);
	Jsonb	   *options = (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL;
	MemoryContext cxt = uba_agg_context(fcinfo);
	DateADT		p;

	if (st == NULL)
		st = NewState(cxt, options);
	else
		uba_check_same_options(st->options, options);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	p = uba_period_start(uba_local_date(PG_GETARG_DATUM(1),
										get_fn_expr_argtype(fcinfo->flinfo, 1) == TIMESTAMPOID,
										"uba_lifecycle"), st->period);
	/* activity after the range changes no status in it */
	if (p <= st->end)
		AddPeriod(st, cxt, p);
	PG_RETURN_POINTER(st);
}

/*
 * Final: (periods date[], statuses text[]) for the range's periods that
 * have a status; NULL without rows.
 */
Datum
uba_lifecycle_final(PG_FUNCTION_ARGS)
{
	LifecycleState *st = PG_ARGISNULL(0) ? NULL : (LifecycleState *) PG_GETARG_POINTER(0);
	TupleDesc	td;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum	   *periods,
			   *statuses;
	int			k = 0,
				nper,
				j = 0;
	DateADT		first;

	if (st == NULL)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE || td->natts != 2)
		elog(ERROR, "uba: uba_lifecycle must return uba_lifecycle_summary");
	td = BlessTupleDesc(td);
	if (st->n > 0)
		Compact(st);
	first = st->n > 0 ? st->active[0] : 0;
	for (nper = 0; uba_period_step(st->start, st->period, nper) <= st->end; nper++)
		;
	periods = palloc(sizeof(Datum) * Max(nper, 1));
	statuses = palloc(sizeof(Datum) * Max(nper, 1));
	for (int i = 0; i < nper; i++)
	{
		DateADT		p = uba_period_step(st->start, st->period, i);
		DateADT		prev = uba_period_step(p, st->period, -1);
		bool		now,
					before;
		const char *status = NULL;

		/* the active periods are sorted: walk them beside the range */
		while (j < st->n && st->active[j] < prev)
			j++;
		before = j < st->n && st->active[j] == prev;
		now = (j < st->n && st->active[j] == p) || (j + 1 < st->n && st->active[j + 1] == p);
		if (now)
			status = p == first ? "new" : before ? "returning" : "resurrecting";
		else if (before)
			status = "dormant";
		if (status != NULL)
		{
			periods[k] = DateADTGetDatum(p);
			statuses[k++] = PointerGetDatum(cstring_to_text(status));
		}
	}
	values[0] = PointerGetDatum(construct_array(periods, k, DATEOID, 4, true, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(statuses, k, TEXTOID, -1, false, TYPALIGN_INT));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/* Combine two workers' states: their active periods together */
Datum
uba_lifecycle_combine(PG_FUNCTION_ARGS)
{
	LifecycleState *a = PG_ARGISNULL(0) ? NULL : (LifecycleState *) PG_GETARG_POINTER(0);
	LifecycleState *b = PG_ARGISNULL(1) ? NULL : (LifecycleState *) PG_GETARG_POINTER(1);
	MemoryContext cxt = uba_agg_context(fcinfo);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = NewState(cxt, b->options);
	else
		uba_check_same_options(a->options, b->options);
	for (int32 i = 0; i < b->n; i++)
		AddPeriod(a, cxt, b->active[i]);
	PG_RETURN_POINTER(a);
}

/* Serialized: the options, then the active periods */
Datum
uba_lifecycle_serialize(PG_FUNCTION_ARGS)
{
	LifecycleState *st = (LifecycleState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	if (st->n > 0)
		Compact(st);
	pq_begintypsend(&buf);
	uba_options_send(&buf, st->options);
	pq_sendint32(&buf, st->n);
	for (int32 i = 0; i < st->n; i++)
		pq_sendint32(&buf, st->active[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_lifecycle_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = uba_agg_context(fcinfo);
	StringInfoData buf;
	LifecycleState *st;
	int32		n;

	uba_message_of(&buf, PG_GETARG_BYTEA_PP(0));
	st = NewState(cxt, uba_options_receive(&buf, CurrentMemoryContext));
	n = pq_getmsgint(&buf, 4);
	if (n < 0 || n > LIFECYCLE_MAX_PERIODS)
		elog(ERROR, "uba: corrupted lifecycle state");
	for (int32 i = 0; i < n; i++)
		AddPeriod(st, cxt, (DateADT) pq_getmsgint(&buf, 4));
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}
