/*-------------------------------------------------------------------------
 *
 * profile.c
 *	  Customer profiles from raw transactions: uba_rfm(ts, amount [,
 *	  options]), an aggregate used with GROUP BY customer, and
 *	  uba_rfm_segment(r, f [, segments]), the named segment of an RFM score.
 *
 * uba_rfm follows the definitions of the "lifetimes" library's
 * summary_data_from_transaction_data (Davidson-Pilon), which the BG/NBD
 * and Gamma-Gamma models read:
 *   - each transaction falls in a period (a day, a week starting Monday,
 *	   or a calendar month) of its local date; transactions in a period
 *	   after the observation end's period are left out;
 *   - frequency: the periods with a transaction, less one (the repeat
 *	   purchases);
 *   - recency: from the first period to the last, in periods;
 *   - T: from the first period to the observation end's period;
 *   - monetary_value: the mean over the repeat periods of the amounts
 *	   summed per period (0 without a repeat period).
 * Periods are counted in days, days / 7 or, for months, seconds over
 * numpy's average month (2,629,746 s), as lifetimes divides by
 * np.timedelta64(1, freq).
 *
 * The state keeps the distinct periods (sorted and deduplicated whenever
 * the array fills, so a customer costs a few bytes per active period), the
 * earliest period with the sum of its amounts, the latest, the count and
 * the total: enough for every figure, and cheap to combine across parallel
 * workers.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(uba_rfm_transfn);
PG_FUNCTION_INFO_V1(uba_rfm_final);
PG_FUNCTION_INFO_V1(uba_rfm_combine);
PG_FUNCTION_INFO_V1(uba_rfm_serialize);
PG_FUNCTION_INFO_V1(uba_rfm_deserialize);
PG_FUNCTION_INFO_V1(uba_rfm_segment);
PG_FUNCTION_INFO_V1(uba_rfm_holdout_transfn);
PG_FUNCTION_INFO_V1(uba_rfm_holdout_final);

#define PERIOD_DAY UBA_PERIOD_DAY
#define PERIOD_WEEK UBA_PERIOD_WEEK
#define PERIOD_MONTH UBA_PERIOD_MONTH
#define period_choices uba_period_choices
#define PeriodStart uba_period_start

static const UbaOptionSpec rfm_options[] = {
	{"period", UBA_OPT_CHOICE, PERIOD_DAY, 0, 0, period_choices},
	{"end", UBA_OPT_DATE, NAN, 0, 0, NULL},
};

/* uba_rfm_holdout: the same, and where the calibration ends */
static const UbaOptionSpec rfm_holdout_options[] = {
	{"period", UBA_OPT_CHOICE, PERIOD_DAY, 0, 0, period_choices},
	{"end", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"calibration_end", UBA_OPT_DATE, NAN, 0, 0, NULL},
};

/* numpy's np.timedelta64(1, 'M'): the mean Gregorian month, in seconds */
#define SECONDS_PER_MEAN_MONTH 2629746.0

/* the most distinct periods one customer may have: a century of days */
#define RFM_MAX_PERIODS 36600

typedef struct RfmState
{
	int32		period;			/* PERIOD_ */
	DateADT		end;			/* the observation end's period */
	int64		rows;			/* transactions counted (in a period up to end) */
	double		total;			/* the sum of their amounts */
	DateADT		first;			/* the earliest period, and the sum of its amounts */
	double		first_sum;
	DateADT		last;			/* the latest period */
	int32		n;				/* periods[] in use, and room */
	int32		cap;
	DateADT    *periods;		/* the periods seen (duplicates until compacted) */
	Jsonb	   *options;		/* the first row's, which every row must repeat */
	/* uba_rfm_holdout: periods after cal_end (up to end) count apart, in periods[] and these */
	bool		holdout;
	DateADT		cal_end;		/* the calibration end's period */
	int64		hold_rows;
	double		hold_total;
} RfmState;

/* Days between two period starts, in periods */
static double
InPeriods(int32 days, int period)
{
	switch (period)
	{
		case PERIOD_WEEK:
			return days / 7.0;
		case PERIOD_MONTH:
			return days * (double) SECS_PER_DAY / SECONDS_PER_MEAN_MONTH;
		default:
			return days;
	}
}

/* Sort and deduplicate the periods (a customer has at most RFM_MAX_PERIODS) */
static void
Compact(RfmState *st)
{
	st->n = uba_dates_distinct(st->periods, st->n);
	if (st->n > RFM_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("one customer has transactions in more than %d periods", RFM_MAX_PERIODS),
				 errhint("Group by the customer, or count in weeks or months: {\"period\": \"week\"}.")));
}

/* Room for more periods: a full array is compacted first, and grows when that frees too little */
static void
MakeRoom(RfmState *st, MemoryContext cxt, int32 more)
{
	if (st->n + more <= st->cap)
		return;
	if (st->n > 0)
		Compact(st);
	if (st->n + more <= st->cap && st->n <= st->cap / 2)
		return;
	st->cap = Max(16, Max(st->cap * 2, st->n + more));
	st->periods = st->periods == NULL ?
		MemoryContextAlloc(cxt, sizeof(DateADT) * st->cap) :
		repalloc(st->periods, sizeof(DateADT) * st->cap);
}

/* Add count transactions of one period, with the sum of their amounts */
static void
AddPeriod(RfmState *st, MemoryContext cxt, DateADT p, int64 count, double amount)
{
	if (st->holdout && p > st->cal_end)
	{
		st->hold_rows += count;
		st->hold_total += amount;
		if (st->n > 0 && st->periods[st->n - 1] == p)
			return;
		MakeRoom(st, cxt, 1);
		st->periods[st->n++] = p;
		return;
	}
	if (st->rows == 0 || p < st->first)
	{
		st->first = p;
		st->first_sum = amount;
	}
	else if (p == st->first)
		st->first_sum += amount;
	if (st->rows == 0 || p > st->last)
		st->last = p;
	st->rows += count;
	st->total += amount;
	/* rows in time order repeat the period just added: keep it once */
	if (st->n > 0 && st->periods[st->n - 1] == p)
		return;
	MakeRoom(st, cxt, 1);
	st->periods[st->n++] = p;
}

static RfmState *
NewState(MemoryContext cxt, Jsonb *options, bool holdout)
{
	RfmState   *st = MemoryContextAllocZero(cxt, sizeof(RfmState));
	UbaOptions	o;
	double		end;

	if (holdout)
		uba_parse_options(options, rfm_holdout_options, lengthof(rfm_holdout_options), "uba_rfm_holdout", &o);
	else
		uba_parse_options(options, rfm_options, lengthof(rfm_options), "uba_rfm", &o);
	st->period = (int32) uba_option(&o, "period");
	end = uba_option(&o, "end");
	/* the observation ends today (the session's date) unless the options say when */
	st->end = PeriodStart(isnan(end) ? GetSQLCurrentDate() : (DateADT) end, st->period);
	st->holdout = holdout;
	if (holdout)
	{
		if (!uba_option_given(&o, "calibration_end"))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("uba_rfm_holdout needs the option \"calibration_end\""),
					 errhint("For example '{\"calibration_end\": \"2011-06-30\", \"end\": \"2011-12-09\"}'::jsonb.")));
		st->cal_end = PeriodStart((DateADT) uba_option(&o, "calibration_end"), st->period);
		if (st->cal_end >= st->end)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the calibration must end in a period before the observation's end"),
					 errhint("Set \"end\" after \"calibration_end\" (the observation ends today without \"end\").")));
	}
	st->options = uba_options_copy(cxt, options);
	return st;
}

/* uba_rfm(ts, amount [, options]) and uba_rfm_holdout transition */
static Datum
RfmTransition(FunctionCallInfo fcinfo, bool holdout)
{
	RfmState   *st = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	Jsonb	   *options = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	MemoryContext cxt = uba_agg_context(fcinfo);
	double		amount = 0;
	DateADT		p;

	if (st == NULL)
		st = NewState(cxt, options, holdout);
	else
		uba_check_same_options(st->options, options);
	/* a row without a time is no transaction; one without an amount is a purchase of 0 */
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	if (!PG_ARGISNULL(2))
	{
		amount = PG_GETARG_FLOAT8(2);
		uba_check_finite(amount, "amounts");
	}
	p = PeriodStart(uba_local_date(PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1) == TIMESTAMPOID,
								   holdout ? "uba_rfm_holdout" : "uba_rfm"), st->period);
	if (p <= st->end)
		AddPeriod(st, cxt, p, 1, amount);
	PG_RETURN_POINTER(st);
}

Datum
uba_rfm_transfn(PG_FUNCTION_ARGS)
{
	return RfmTransition(fcinfo, false);
}

Datum
uba_rfm_holdout_transfn(PG_FUNCTION_ARGS)
{
	return RfmTransition(fcinfo, true);
}

/* Combine two workers' states */
Datum
uba_rfm_combine(PG_FUNCTION_ARGS)
{
	RfmState   *a = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	RfmState   *b = PG_ARGISNULL(1) ? NULL : (RfmState *) PG_GETARG_POINTER(1);
	MemoryContext cxt = uba_agg_context(fcinfo);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		a = palloc0(sizeof(RfmState));
		*a = *b;
		a->periods = NULL;
		a->n = a->cap = 0;
		a->rows = 0;
		a->total = 0;
		a->hold_rows = 0;
		a->hold_total = 0;
		a->options = uba_options_copy(cxt, b->options);
		MemoryContextSwitchTo(old);
	}
	else
		uba_check_same_options(a->options, b->options);
	if (b->rows == 0 && b->hold_rows == 0)
		PG_RETURN_POINTER(a);
	a->hold_rows += b->hold_rows;
	a->hold_total += b->hold_total;
	/* b's calibration (or only) rows; a state with holdout rows alone has just periods to add */
	if (b->rows > 0)
	{
		if (a->rows == 0 || b->first < a->first)
		{
			a->first = b->first;
			a->first_sum = b->first_sum;
		}
		else if (b->first == a->first)
			a->first_sum += b->first_sum;
		if (a->rows == 0 || b->last > a->last)
			a->last = b->last;
		a->rows += b->rows;
		a->total += b->total;
	}
	MakeRoom(a, cxt, b->n);
	memcpy(a->periods + a->n, b->periods, sizeof(DateADT) * b->n);
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

/* Serialized: the figures, the periods (compacted) and the options */
Datum
uba_rfm_serialize(PG_FUNCTION_ARGS)
{
	RfmState   *st = (RfmState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	if (st->n > 0)
		Compact(st);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->period);
	pq_sendint32(&buf, st->end);
	pq_sendint64(&buf, st->rows);
	pq_sendfloat8(&buf, st->total);
	pq_sendint32(&buf, st->first);
	pq_sendfloat8(&buf, st->first_sum);
	pq_sendint32(&buf, st->last);
	pq_sendint32(&buf, st->n);
	for (int32 i = 0; i < st->n; i++)
		pq_sendint32(&buf, st->periods[i]);
	pq_sendbyte(&buf, st->holdout ? 1 : 0);
	pq_sendint32(&buf, st->cal_end);
	pq_sendint64(&buf, st->hold_rows);
	pq_sendfloat8(&buf, st->hold_total);
	uba_options_send(&buf, st->options);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_rfm_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	RfmState   *st = MemoryContextAllocZero(cxt, sizeof(RfmState));
	StringInfoData buf;

	uba_message_of(&buf, b);
	st->period = pq_getmsgint(&buf, 4);
	st->end = pq_getmsgint(&buf, 4);
	st->rows = pq_getmsgint64(&buf);
	st->total = pq_getmsgfloat8(&buf);
	st->first = pq_getmsgint(&buf, 4);
	st->first_sum = pq_getmsgfloat8(&buf);
	st->last = pq_getmsgint(&buf, 4);
	st->n = pq_getmsgint(&buf, 4);
	if (st->period < PERIOD_DAY || st->period > PERIOD_MONTH || st->rows < 0 ||
		st->n < 0 || st->n > RFM_MAX_PERIODS)
		elog(ERROR, "uba: corrupted uba_rfm state");
	st->cap = Max(st->n, 16);
	st->periods = MemoryContextAlloc(cxt, sizeof(DateADT) * st->cap);
	for (int32 i = 0; i < st->n; i++)
		st->periods[i] = pq_getmsgint(&buf, 4);
	st->holdout = pq_getmsgbyte(&buf) != 0;
	st->cal_end = pq_getmsgint(&buf, 4);
	st->hold_rows = pq_getmsgint64(&buf);
	st->hold_total = pq_getmsgfloat8(&buf);
	if (st->hold_rows < 0 || (st->rows + st->hold_rows == 0) != (st->n == 0) ||
		(!st->holdout && st->hold_rows != 0))
		elog(ERROR, "uba: corrupted uba_rfm state");
	st->options = uba_options_receive(&buf, cxt);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/*
 * Final: (frequency, recency, t, monetary_value, transactions,
 * total_amount, first_period, last_period); NULL without a transaction up
 * to the observation end.
 */
Datum
uba_rfm_final(PG_FUNCTION_ARGS)
{
	RfmState   *st = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	TupleDesc	td;
	Datum		values[8];
	bool		nulls[8] = {false};
	double		frequency;

	if (st == NULL || st->rows == 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "uba: uba_rfm must return a composite type");
	td = BlessTupleDesc(td);
	Compact(st);
	frequency = st->n - 1;
	values[0] = Float8GetDatum(frequency);
	values[1] = Float8GetDatum(InPeriods(st->last - st->first, st->period));
	values[2] = Float8GetDatum(InPeriods(st->end - st->first, st->period));
	values[3] = Float8GetDatum(frequency > 0 ? (st->total - st->first_sum) / frequency : 0);
	values[4] = Int64GetDatum(st->rows);
	values[5] = Float8GetDatum(st->total);
	values[6] = DateADTGetDatum(st->first);
	values[7] = DateADTGetDatum(st->last);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/*
 * uba_rfm_holdout final, lifetimes' calibration_and_holdout_data:
 * (frequency_cal, recency_cal, t_cal, monetary_value_cal,
 * frequency_holdout, monetary_value_holdout, duration_holdout).  The
 * calibration summary is uba_rfm's as of the calibration end; the holdout
 * counts the periods with a purchase after it (up to the observation end)
 * and their mean amount.  NULL for a customer with no purchase by the
 * calibration end (lifetimes leaves her out).
 */
Datum
uba_rfm_holdout_final(PG_FUNCTION_ARGS)
{
	RfmState   *st = PG_ARGISNULL(0) ? NULL : (RfmState *) PG_GETARG_POINTER(0);
	TupleDesc	td;
	Datum		values[7];
	bool		nulls[7] = {false};
	int32		ncal = 0,
				nhold;
	double		frequency;

	if (st == NULL || st->rows == 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "uba: uba_rfm_holdout must return a composite type");
	td = BlessTupleDesc(td);
	Compact(st);
	while (ncal < st->n && st->periods[ncal] <= st->cal_end)
		ncal++;
	nhold = st->n - ncal;
	frequency = ncal - 1;
	values[0] = Float8GetDatum(frequency);
	values[1] = Float8GetDatum(InPeriods(st->last - st->first, st->period));
	values[2] = Float8GetDatum(InPeriods(st->cal_end - st->first, st->period));
	values[3] = Float8GetDatum(frequency > 0 ? (st->total - st->first_sum) / frequency : 0);
	values[4] = Float8GetDatum(nhold);
	values[5] = Float8GetDatum(nhold > 0 ? st->hold_total / nhold : 0);
	values[6] = Float8GetDatum(InPeriods(st->end - st->cal_end, st->period));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/*
 * uba_rfm_segment(r, f [, segments]): the named segment of a recency score
 * and a frequency score (1 to 5 each, 5 the most recent or frequent), by
 * the usual map of the R x F grid, or by the caller's own: a JSON object
 * from "RF" (two digits) to a name; a score pair it does not name is NULL.
 */
static const char *const default_segments[5][5] = {
	/* R = 1: F = 1 .. 5 */
	{"Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"},
	{"Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"},
	{"About to sleep", "About to sleep", "Need attention", "Loyal customers", "Loyal customers"},
	{"Promising", "Potential loyalists", "Potential loyalists", "Loyal customers", "Loyal customers"},
	{"New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"},
};

static void
CheckScore(int32 v, const char *what)
{
	if (v < 1 || v > 5)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s score must be from 1 to 5", what),
				 errdetail("Got %d.", v),
				 errhint("Score customers with ntile(5) OVER (ORDER BY ...), 5 the best.")));
}

Datum
uba_rfm_segment(PG_FUNCTION_ARGS)
{
	int32		r = PG_GETARG_INT32(0);
	int32		f = PG_GETARG_INT32(1);
	Jsonb	   *map = PG_NARGS() > 2 ? PG_GETARG_JSONB_P(2) : NULL;
	char		key[3];
	JsonbValue *v;

	CheckScore(r, "recency");
	CheckScore(f, "frequency");
	if (map == NULL)
		PG_RETURN_TEXT_P(cstring_to_text(default_segments[r - 1][f - 1]));
	if (!JB_ROOT_IS_OBJECT(map) || JB_ROOT_IS_SCALAR(map))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segments of uba_rfm_segment must be a JSON object from \"RF\" to a name"),
				 errhint("For example '{\"55\": \"Champions\", \"11\": \"Lost\"}'::jsonb.")));
	snprintf(key, sizeof(key), "%d%d", r, f);
	v = getKeyJsonValueFromContainer(&map->root, key, 2, NULL);
	if (v == NULL || v->type == jbvNull)
		PG_RETURN_NULL();
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("segment \"%s\" of uba_rfm_segment must be named by a string", key)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
}

/* ---------- uba_profile: one row per user from their raw events ---------- */

PG_FUNCTION_INFO_V1(uba_profile_transfn);
PG_FUNCTION_INFO_V1(uba_profile_final);

#define EVENT_OTHER 0
#define EVENT_VIEW 1
#define EVENT_CART 2
#define EVENT_PURCHASE 3

static const char *const default_views[] = {"view", "view_item", "page_view", "product_view", NULL};
static const char *const default_carts[] = {"cart", "add_to_cart", "addtocart", NULL};
static const char *const default_purchases[] = {"purchase", "transaction", "order", NULL};

static const UbaOptionSpec profile_options[] = {
	{"end", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"session_gap_minutes", UBA_OPT_FLOAT, 30, 1e-6, 5256000, NULL},
	{"view", UBA_OPT_NAMES, 0, 0, 0, NULL},
	{"cart", UBA_OPT_NAMES, 0, 0, 0, NULL},
	{"purchase", UBA_OPT_NAMES, 0, 0, 0, NULL},
	{"top_categories", UBA_OPT_INT, 3, 0, 100, NULL},
	{"new_days", UBA_OPT_INT, 30, 1, 36600, NULL},
	{"active_days", UBA_OPT_INT, 30, 1, 36600, NULL},
	{"dormant_days", UBA_OPT_INT, 90, 1, 36600, NULL},
	{"period", UBA_OPT_CHOICE, PERIOD_DAY, 0, 0, period_choices},
};

/* A growing array of 64-bit values, deduplicated on demand (dates, item hashes, times) */
typedef struct Values
{
	int64	   *v;
	int64		n;
	int64		cap;
} Values;

/* A category and how many events had it */
typedef struct CategoryCount
{
	uint64		hash;
	int64		count;
	char	   *name;			/* NUL-terminated, in the aggregate's memory */
	int			len;
} CategoryCount;

typedef struct ProfileState
{
	/* options, decided on the first row */
	DateADT		end;			/* the last local date counted */
	int64		gap_us;			/* session gap */
	int			ntypes[4];		/* event type names per kind (view, cart, purchase in 1..3) */
	char	  **types[4];
	int			top;
	int			new_days;
	int			active_days;
	int			dormant_days;
	bool		plain;			/* timestamp (not timestamptz) input */
	Jsonb	   *options;
	/* figures that add up */
	int64		events;
	int64		kinds[4];		/* events per kind */
	TimestampTz first_seen;
	TimestampTz last_seen;
	int64		weekday[8];		/* ISO weekday 1..7 */
	int64		hour[24];
	double		amount_sum;		/* events with an amount */
	int64		amount_n;
	double		revenue;		/* purchases' amounts (NULL as 0) */
	/* sets and sequences, in the aggregate's memory */
	Values		times;			/* every event's time, for sessions */
	Values		purchase_times;
	Values		dates;			/* local dates (distinct when compacted) */
	Values		items;			/* item hashes */
	Values		purchase_items;
	CategoryCount *cats;		/* open addressing on hash, ncat_slots a power of two */
	int			ncat_slots;
	int			ncats;
	int64		cat_events;		/* events with a category */
	RfmState	rfm;			/* the purchases' RFM */
	MemoryContext cxt;
	/* the last result, for the next call of the final function on the same rows ((p).* calls it per field) */
	HeapTupleHeader result;
	int64		result_events;
} ProfileState;

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Sort and deduplicate */
static void
ValuesDistinct(Values *vs)
{
	int64		m = 0;

	if (vs->n == 0)
		return;
	qsort(vs->v, vs->n, sizeof(int64), CompareInt64);
	for (int64 i = 0; i < vs->n; i++)
		if (m == 0 || vs->v[m - 1] != vs->v[i])
			vs->v[m++] = vs->v[i];
	vs->n = m;
}

/*
 * Append x; a set (distinct) skips a repeat of the last value and, when
 * full, deduplicates before it grows.  The limit is uba.max_memory for one
 * user's arrays.
 */
static void
ValuesAdd(ProfileState *st, Values *vs, int64 x, bool distinct)
{
	if (distinct && vs->n > 0 && vs->v[vs->n - 1] == x)
		return;
	if (vs->n == vs->cap)
	{
		if (distinct && vs->n > 0)
		{
			ValuesDistinct(vs);
			if (vs->n <= vs->cap / 2)
			{
				vs->v[vs->n++] = x;
				return;
			}
		}
		vs->cap = Max(8, vs->cap * 2);
		uba_check_memory_for((Size) vs->cap * sizeof(int64), "one group of uba_profile",
							 "group by the user, or leave old events out");
		vs->v = vs->v == NULL ? MemoryContextAlloc(st->cxt, sizeof(int64) * vs->cap) :
			repalloc(vs->v, sizeof(int64) * vs->cap);
	}
	vs->v[vs->n++] = x;
}

/* Count one event's category */
static void
CountCategory(ProfileState *st, const char *p, int len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) p, len, 0);
	int			s;

	if ((st->ncats + 1) * 2 > st->ncat_slots)
	{
		int			nslots = Max(8, st->ncat_slots * 2);
		CategoryCount *slots = MemoryContextAllocZero(st->cxt, sizeof(CategoryCount) * nslots);

		for (int i = 0; i < st->ncat_slots; i++)
			if (st->cats[i].name != NULL)
			{
				for (s = st->cats[i].hash & (nslots - 1); slots[s].name != NULL; s = (s + 1) & (nslots - 1))
					;
				slots[s] = st->cats[i];
			}
		if (st->cats != NULL)
			pfree(st->cats);
		st->cats = slots;
		st->ncat_slots = nslots;
	}
	for (s = h & (st->ncat_slots - 1); st->cats[s].name != NULL; s = (s + 1) & (st->ncat_slots - 1))
		if (st->cats[s].hash == h && st->cats[s].len == len && memcmp(st->cats[s].name, p, len) == 0)
		{
			st->cats[s].count++;
			st->cat_events++;
			return;
		}
	st->cats[s].hash = h;
	st->cats[s].count = 1;
	st->cats[s].len = len;
	st->cats[s].name = MemoryContextAlloc(st->cxt, len + 1);
	memcpy(st->cats[s].name, p, len);
	st->cats[s].name[len] = '\0';
	st->ncats++;
	st->cat_events++;
}

/* An item id as 64 bits: integers as they are, text and other ids by a 64-bit hash of their bytes */
static int64
ItemKey(Datum v, Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(v);
		case INT4OID:
			return DatumGetInt32(v);
		case INT8OID:
			return DatumGetInt64(v);
		case UUIDOID:
			return (int64) hash_bytes_extended((const unsigned char *) DatumGetPointer(v), 16, 0);
		default:
			{
				text	   *t = DatumGetTextPP(v);

				return (int64) hash_bytes_extended((const unsigned char *) VARDATA_ANY(t),
												   VARSIZE_ANY_EXHDR(t), 0);
			}
	}
}

/* Which kind an event type is (EVENT_*), by the options' lists */
static int
EventKind(const ProfileState *st, text *t)
{
	const char *p = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	for (int k = EVENT_VIEW; k <= EVENT_PURCHASE; k++)
		for (int i = 0; i < st->ntypes[k]; i++)
			if ((int) strlen(st->types[k][i]) == len && memcmp(st->types[k][i], p, len) == 0)
				return k;
	return EVENT_OTHER;
}

/* The options' list of event types of one kind, or the default */
static void
TakeTypes(ProfileState *st, const UbaOptions *o, int kind, const char *name, const char *const *def)
{
	int			n;
	char	  **given = uba_option_names(o, name, &n);
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

	if (given == NULL)
	{
		for (n = 0; def[n] != NULL; n++)
			;
		given = (char **) def;
	}
	st->types[kind] = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		st->types[kind][i] = pstrdup(given[i]);
	st->ntypes[kind] = n;
	MemoryContextSwitchTo(old);
	/* a type in two lists would count twice */
	for (int k = EVENT_VIEW; k < kind; k++)
		for (int i = 0; i < st->ntypes[k]; i++)
			for (int j = 0; j < n; j++)
				if (strcmp(st->types[k][i], st->types[kind][j]) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("event type \"%s\" is in two of the options \"view\", \"cart\" and \"purchase\" of uba_profile",
									st->types[kind][j])));
}

static ProfileState *
NewProfile(FunctionCallInfo fcinfo, MemoryContext cxt, Jsonb *options)
{
	ProfileState *st = MemoryContextAllocZero(cxt, sizeof(ProfileState));
	UbaOptions	o;
	double		end;

	uba_parse_options(options, profile_options, lengthof(profile_options), "uba_profile", &o);
	st->cxt = cxt;
	end = uba_option(&o, "end");
	st->end = isnan(end) ? GetSQLCurrentDate() : (DateADT) end;
	st->gap_us = (int64) (uba_option(&o, "session_gap_minutes") * 60.0 * USECS_PER_SEC);
	TakeTypes(st, &o, EVENT_VIEW, "view", default_views);
	TakeTypes(st, &o, EVENT_CART, "cart", default_carts);
	TakeTypes(st, &o, EVENT_PURCHASE, "purchase", default_purchases);
	st->top = (int) uba_option(&o, "top_categories");
	st->new_days = (int) uba_option(&o, "new_days");
	st->active_days = (int) uba_option(&o, "active_days");
	st->dormant_days = (int) uba_option(&o, "dormant_days");
	st->plain = get_fn_expr_argtype(fcinfo->flinfo, 1) == TIMESTAMPOID;
	switch (get_fn_expr_argtype(fcinfo->flinfo, 3))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case UUIDOID:
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("item ids given to uba_profile must be integers, text or uuid, not %s",
							format_type_be(get_fn_expr_argtype(fcinfo->flinfo, 3))),
					 errhint("Cast the item column, for example item_id::text.")));
	}
	st->rfm.period = (int32) uba_option(&o, "period");
	st->rfm.end = PeriodStart(st->end, st->rfm.period);
	st->options = uba_options_copy(cxt, options);
	return st;
}

/* uba_profile(ts, event_type, item_id, category, amount [, options]) transition */
Datum
uba_profile_transfn(PG_FUNCTION_ARGS)
{
	ProfileState *st = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);
	Jsonb	   *options = (PG_NARGS() > 6 && !PG_ARGISNULL(6)) ? PG_GETARG_JSONB_P(6) : NULL;
	MemoryContext cxt = uba_agg_context(fcinfo);
	TimestampTz ts;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	DateADT		date;
	int			kind = EVENT_OTHER;
	double		amount = NAN;

	if (st == NULL)
		st = NewProfile(fcinfo, cxt, options);
	else
		uba_check_same_options(st->options, options);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, st->plain ? NULL : &tz, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event times given to uba_profile must be finite"),
				 errhint("Leave rows with infinite times out, for example WHERE isfinite(ts).")));
	date = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
	if (date > st->end)
		PG_RETURN_POINTER(st);
	if (!PG_ARGISNULL(5))
	{
		amount = PG_GETARG_FLOAT8(5);
		uba_check_finite(amount, "amounts");
	}
	if (!PG_ARGISNULL(2))
		kind = EventKind(st, PG_GETARG_TEXT_PP(2));

	if (st->events == 0 || ts < st->first_seen)
		st->first_seen = ts;
	if (st->events == 0 || ts > st->last_seen)
		st->last_seen = ts;
	st->events++;
	st->kinds[kind]++;
	st->weekday[j2day(date + POSTGRES_EPOCH_JDATE) == 0 ? 7 : j2day(date + POSTGRES_EPOCH_JDATE)]++;
	st->hour[tm.tm_hour]++;
	ValuesAdd(st, &st->times, ts, false);
	ValuesAdd(st, &st->dates, date, true);
	if (!isnan(amount))
	{
		st->amount_sum += amount;
		st->amount_n++;
	}
	if (!PG_ARGISNULL(3))
	{
		int64		item = ItemKey(PG_GETARG_DATUM(3), get_fn_expr_argtype(fcinfo->flinfo, 3));

		ValuesAdd(st, &st->items, item, true);
		if (kind == EVENT_PURCHASE)
			ValuesAdd(st, &st->purchase_items, item, true);
	}
	if (!PG_ARGISNULL(4))
	{
		text	   *c = PG_GETARG_TEXT_PP(4);

		CountCategory(st, VARDATA_ANY(c), VARSIZE_ANY_EXHDR(c));
	}
	if (kind == EVENT_PURCHASE)
	{
		double		a = isnan(amount) ? 0 : amount;

		st->revenue += a;
		ValuesAdd(st, &st->purchase_times, ts, false);
		AddPeriod(&st->rfm, cxt, PeriodStart(date, st->rfm.period), 1, a);
	}
	PG_RETURN_POINTER(st);
}

/* The most frequent of counts[lo..hi], the first of ties */
static int
Mode(const int64 *counts, int lo, int hi)
{
	int			best = lo;

	for (int i = lo + 1; i <= hi; i++)
		if (counts[i] > counts[best])
			best = i;
	return best;
}

/* Most events first, then the name's bytes */
static int
CompareCategories(const void *a, const void *b)
{
	const CategoryCount *x = *(const CategoryCount *const *) a;
	const CategoryCount *y = *(const CategoryCount *const *) b;
	int			c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(x->name, y->name, Min(x->len, y->len));
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * The lifecycle stage at the end date, from the sorted distinct active
 * dates: new (first seen within new_days), active (seen within
 * active_days), resurrected (active, and the first active date of that
 * window came at least dormant_days after the one before it), at risk
 * (last seen within dormant_days), dormant.
 */
static const char *
Lifecycle(const ProfileState *st, const int64 *dates, int64 n)
{
	int64		first = dates[0];
	int64		last = dates[n - 1];

	if (st->end - first < st->new_days)
		return "new";
	if (st->end - last < st->active_days)
	{
		int64		i = n - 1;

		/* the earliest active date inside the window */
		while (i > 0 && st->end - dates[i - 1] < st->active_days)
			i--;
		if (i > 0 && dates[i] - dates[i - 1] >= st->dormant_days)
			return "resurrected";
		return "active";
	}
	if (st->end - last < st->dormant_days)
		return "at risk";
	return "dormant";
}

#define PROFILE_FIELDS 33

Datum
uba_profile_final(PG_FUNCTION_ARGS)
{
	ProfileState *st = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);
	TupleDesc	td;
	Datum		values[PROFILE_FIELDS];
	bool		nulls[PROFILE_FIELDS] = {false};
	int64		sessions = 0,
				purchase_sessions = 0,
				weeks = 0;
	int			f = 0;
	int			ntop;
	CategoryCount **sorted;
	Datum	   *top_names,
			   *top_shares;

	if (st == NULL || st->events == 0)
		PG_RETURN_NULL();
	if (st->result != NULL && st->result_events == st->events)
		PG_RETURN_DATUM(datumCopy(PointerGetDatum(st->result), false, -1));
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE || td->natts != PROFILE_FIELDS)
		elog(ERROR, "uba: uba_profile must return uba_profile_summary");
	td = BlessTupleDesc(td);

	/* sessions in time order, and those with a purchase (a purchase's time is an event's time) */
	qsort(st->times.v, st->times.n, sizeof(int64), CompareInt64);
	qsort(st->purchase_times.v, st->purchase_times.n, sizeof(int64), CompareInt64);
	{
		int64		j = 0;
		bool		bought = false;

		for (int64 i = 0; i < st->times.n; i++)
		{
			if (i == 0 || st->times.v[i] - st->times.v[i - 1] > st->gap_us)
			{
				sessions++;
				bought = false;
			}
			while (j < st->purchase_times.n && st->purchase_times.v[j] == st->times.v[i])
			{
				if (!bought)
					purchase_sessions++;
				bought = true;
				j++;
			}
		}
	}
	ValuesDistinct(&st->dates);
	for (int64 i = 0; i < st->dates.n; i++)
	{
		int64		d = st->dates.v[i];
		int64		monday = d - (j2day((int) d + POSTGRES_EPOCH_JDATE) + 6) % 7;

		if (i == 0 || monday != st->dates.v[i - 1] - (j2day((int) st->dates.v[i - 1] + POSTGRES_EPOCH_JDATE) + 6) % 7)
			weeks++;
	}
	ValuesDistinct(&st->items);
	ValuesDistinct(&st->purchase_items);

	/* categories: most events first, the top ones with their shares of the events with one */
	sorted = palloc(sizeof(CategoryCount *) * Max(st->ncats, 1));
	for (int i = 0, k = 0; i < st->ncat_slots; i++)
		if (st->cats[i].name != NULL)
			sorted[k++] = &st->cats[i];
	qsort(sorted, st->ncats, sizeof(CategoryCount *), CompareCategories);
	ntop = Min(st->top, st->ncats);
	top_names = palloc(sizeof(Datum) * Max(ntop, 1));
	top_shares = palloc(sizeof(Datum) * Max(ntop, 1));
	for (int i = 0; i < ntop; i++)
	{
		top_names[i] = PointerGetDatum(cstring_to_text_with_len(sorted[i]->name, sorted[i]->len));
		top_shares[i] = Float8GetDatum((double) sorted[i]->count / (double) st->cat_events);
	}

#define PUT(datum) (values[f++] = (datum))
#define PUT_NULL() (nulls[f] = true, values[f++] = (Datum) 0)
#define TS_OUT(t) (st->plain ? DirectFunctionCall1(timestamp_timestamptz, TimestampGetDatum(t)) : TimestampTzGetDatum(t))
	PUT(TS_OUT(st->first_seen));
	PUT(TS_OUT(st->last_seen));
	PUT(Int64GetDatum(st->events));
	PUT(Int32GetDatum((int32) st->dates.n));
	PUT(Int32GetDatum((int32) weeks));
	PUT(Int32GetDatum((int32) Min(sessions, PG_INT32_MAX)));
	PUT(Float8GetDatum((double) st->events / st->dates.n));
	PUT(Float8GetDatum((double) sessions / st->dates.n));
	PUT(Float8GetDatum((double) st->events / sessions));
	PUT(Int64GetDatum(st->kinds[EVENT_VIEW]));
	PUT(Int64GetDatum(st->kinds[EVENT_CART]));
	PUT(Int64GetDatum(st->kinds[EVENT_PURCHASE]));
	PUT(Float8GetDatum((double) st->kinds[EVENT_VIEW] / st->events));
	PUT(Float8GetDatum((double) st->kinds[EVENT_CART] / st->events));
	PUT(Float8GetDatum((double) st->kinds[EVENT_PURCHASE] / st->events));
	if (st->kinds[EVENT_VIEW] > 0)
		PUT(Float8GetDatum((double) st->kinds[EVENT_CART] / st->kinds[EVENT_VIEW]));
	else
		PUT_NULL();
	if (st->kinds[EVENT_CART] > 0)
		PUT(Float8GetDatum((double) st->kinds[EVENT_PURCHASE] / st->kinds[EVENT_CART]));
	else
		PUT_NULL();
	PUT(Int32GetDatum((int32) st->items.n));
	PUT(Int32GetDatum((int32) st->purchase_items.n));
	if (st->rfm.rows > 0)
	{
		double		frequency;

		Compact(&st->rfm);
		frequency = st->rfm.n - 1;
		PUT(Float8GetDatum(frequency));
		PUT(Float8GetDatum(InPeriods(st->rfm.last - st->rfm.first, st->rfm.period)));
		PUT(Float8GetDatum(InPeriods(st->rfm.end - st->rfm.first, st->rfm.period)));
		PUT(Float8GetDatum(frequency > 0 ? (st->rfm.total - st->rfm.first_sum) / frequency : 0));
	}
	else
	{
		PUT_NULL();
		PUT_NULL();
		PUT_NULL();
		PUT_NULL();
	}
	PUT(Float8GetDatum(st->revenue));
	if (purchase_sessions > 0)
		PUT(Float8GetDatum(st->revenue / purchase_sessions));
	else
		PUT_NULL();
	if (st->amount_n > 0)
		PUT(Float8GetDatum(st->amount_sum / st->amount_n));
	else
		PUT_NULL();
	PUT(Int32GetDatum(Mode(st->weekday, 1, 7)));
	PUT(Int32GetDatum(Mode(st->hour, 0, 23)));
	if (ntop > 0)
		PUT(top_names[0]);
	else
		PUT_NULL();
	PUT(PointerGetDatum(construct_array(top_names, ntop, TEXTOID, -1, false, TYPALIGN_INT)));
	PUT(PointerGetDatum(construct_array(top_shares, ntop, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)));
	PUT(Int32GetDatum((int32) (st->end - st->dates.v[st->dates.n - 1])));
	PUT(PointerGetDatum(cstring_to_text(Lifecycle(st, st->dates.v, st->dates.n))));
#undef PUT
#undef PUT_NULL
#undef TS_OUT
	Assert(f == PROFILE_FIELDS);
	{
		Datum		result = HeapTupleGetDatum(heap_form_tuple(td, values, nulls));
		MemoryContext old = MemoryContextSwitchTo(st->cxt);

		if (st->result != NULL)
			pfree(st->result);
		st->result = DatumGetHeapTupleHeader(datumCopy(result, false, -1));
		st->result_events = st->events;
		MemoryContextSwitchTo(old);
		PG_RETURN_DATUM(result);
	}
}
