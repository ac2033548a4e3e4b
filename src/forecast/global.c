/*-------------------------------------------------------------------------
 *
 * global.c
 *	  One gradient-boosted model over many series at once ("method":
 *	  "boost"), as the winners of the M5 competition (Walmart, 2020) built
 *	  their forecasters: every period of every series becomes a row of its
 *	  recent past (lagged values, rolling means), its calendar (month, week
 *	  of the year, weekday, day, holidays before and after), its age, and
 *	  the caller's regressors (price, promotion); boosted regression trees
 *	  (uba_boost_train's, through kinds.h) learn the period's value from
 *	  that row.  Series share what they learn, which is what a long-tail
 *	  catalogue of short, sparse series needs and what per-series smoothing
 *	  cannot do.
 *
 * Forecasts are recursive: step k's prediction is a lag of step k + 1.
 * The regressors of future periods come from a table; a period without
 * one has them missing, as the trees were trained to handle.  When every
 * training value is at least 0 (demand), forecasts are too.
 *
 * Payload: period (u32), flags (u32: 1 non-negative), the last period's
 * date (u64, a DateADT), lags (u32 count, u32 each), rolling windows (u32
 * count, u32 each), holidays (u32 count, u64 dates, strictly increasing),
 * regressors (u32, the metadata's features: their encoding), series (u64
 * count), their id kind (u32) and ids section, the tail length L (u32),
 * per series its span in periods up to the end (u64 each), the period of
 * its first row in that span (u64 each) and its scale (f64 each, the mean
 * absolute value over its span), its last L values (f64, NaN before its
 * span), then the trees (u64 length, a boost model), then the backtest's
 * steps (u32, 0 without intervals) and per step its errors over the scale
 * (u64 count, f64 each, ascending).
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"
#include "kinds.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_forecast_global_transfn);
PG_FUNCTION_INFO_V1(uba_forecast_global_final);
PG_FUNCTION_INFO_V1(uba_forecast_global);
PG_FUNCTION_INFO_V1(uba_forecast_trees);

#define FLAG_NONNEGATIVE 1
#define MAX_LAGS 64
#define MAX_LAG 1000
#define MAX_HOLIDAYS 100000
#define FUNC "uba_forecast_train"

/* the options parsed by uba_parse_options; lags, windows, holidays and trees are taken out first */
static const char *const method_choices[] = {"auto", "boost", NULL};
static const char *const period_choices[] = {"auto", "day", "week", "month", "quarter", "year", NULL};

static const UbaOptionSpec global_options[] = {
	{"method", UBA_OPT_CHOICE, 0, 0, 0, method_choices},
	{"period", UBA_OPT_CHOICE, 0, 0, 0, period_choices},
	{"start", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"end", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"nonnegative", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"intervals", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"interval_periods", UBA_OPT_INT, 0, 1, MAX_LAG, NULL},
	UBA_PROGRESS_OPTION,
};

/* what the options say */
typedef struct GlobalSpec
{
	UbaOptions	o;
	int			nlags;
	int			lags[MAX_LAGS];
	int			nwindows;
	int			windows[MAX_LAGS];
	bool		lags_given;
	bool		windows_given;
	int			nholidays;
	DateADT    *holidays;		/* sorted, distinct */
	Jsonb	   *trees;			/* uba_boost_train's options, or NULL */
} GlobalSpec;

/* the aggregate's state */
typedef struct GlobalState
{
	UbaRowSet  *rs;				/* per row: local date, value, each regressor's raw value */
	int64	   *ids;			/* per row: the series' id (integer kinds) or handle */
	Size		ids_bytes;
	UbaIdDict	series;
	Oid			id_type;
	UbaEncoding *enc;			/* the regressors' columns, or NULL */
} GlobalState;

/* a trained or parsed model */
typedef struct GlobalModel
{
	int			period;
	bool		nonnegative;
	DateADT		end;			/* the last period's first day */
	int			nlags;
	int			lags[MAX_LAGS];
	int			nwindows;
	int			windows[MAX_LAGS];
	int			nholidays;
	DateADT    *holidays;
	int			nreg;
	UbaEncoding *enc;
	int64		nseries;
	UbaIds		ids;			/* parsed models */
	int			tail;			/* L */
	int64	   *span;			/* per series: its periods up to the end */
	int64	   *born;			/* and the first with a row (its age 0) */
	double	   *scale;			/* and its mean absolute value: the trees learn values over it */
	double	   *last;			/* nseries x L, as observed */
	int			d;				/* features */
	void	   *trees;			/* parsed models */
	bytea	   *trees_blob;		/* and as stored */
	Size		trees_bytes;
	double	   *x;				/* scratch: d */
	double	   *missing;		/* nreg NaN: the regressors of a period without them */
	/* the backtest's errors over the scale, sorted, for step k = 1..nsteps (none: no intervals) */
	int			nsteps;
	int64	   *nerr;
	double	  **err;
} GlobalModel;

/* ---------- options ---------- */

pg_attribute_noreturn()
static void
BadList(const char *key, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" of %s must be %s", key, FUNC, what)));
}

/* "lags" or "windows": distinct integers from 1 to MAX_LAG, kept sorted */
static int
TakeInts(JsonbValue *v, const char *key, int *out)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		BadList(key, "an array of periods");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		double		k;

		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvNumeric)
			BadList(key, "an array of periods");
		k = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(e.val.numeric)));
		if (!(k >= 1 && k <= MAX_LAG && k == floor(k)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s must hold whole numbers of periods from 1 to %d", key, FUNC, MAX_LAG),
					 errdetail("Got %g.", k)));
		if (n == MAX_LAGS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s takes at most %d periods", key, FUNC, MAX_LAGS)));
		out[n++] = (int) k;
	}
	qsort(out, n, sizeof(int), uba_cmp_uint32);	/* positive: the same order */
	for (int i = 1; i < n; i++)
		if (out[i] == out[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s lists %d twice", key, FUNC, out[i])));
	return n;
}

/* "holidays": dates (as jsonb_agg writes a date column), kept sorted and distinct */
static void
TakeHolidays(JsonbValue *v, GlobalSpec *spec)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		BadList("holidays", "an array of dates");
	if (JsonContainerSize(v->val.binary.data) > MAX_HOLIDAYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"holidays\" of %s takes at most %d dates", FUNC, MAX_HOLIDAYS)));
	spec->holidays = palloc(sizeof(DateADT) * Max(1, JsonContainerSize(v->val.binary.data)));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		DateADT		d;

		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvString)
			BadList("holidays", "an array of dates");
		d = DatumGetDateADT(DirectFunctionCall1(date_in,
												CStringGetDatum(pnstrdup(e.val.string.val, e.val.string.len))));
		if (DATE_NOT_FINITE(d))
			BadList("holidays", "an array of finite dates");
		spec->holidays[n++] = d;
	}
	spec->nholidays = n > 0 ? uba_dates_distinct(spec->holidays, n) : 0;
}

/* Default lags and rolling windows by period: the last few, a season ago, and a season's mean */
static void
DefaultLags(GlobalSpec *spec, int period)
{
	static const int day[] = {1, 2, 3, 4, 5, 6, 7, 14, 28}, dayw[] = {7, 28};
	static const int week[] = {1, 2, 3, 4, 8, 13, 26, 52}, weekw[] = {4, 13};
	static const int month[] = {1, 2, 3, 6, 12}, monthw[] = {3, 12};
	static const int quarter[] = {1, 2, 3, 4, 8}, quarterw[] = {4};
	static const int year[] = {1, 2, 3}, yearw[] = {3};
	const int  *l,
			   *w;
	int			nl,
				nw;

	switch (period)
	{
		case FC_DAY:
			l = day, nl = lengthof(day), w = dayw, nw = lengthof(dayw);
			break;
		case FC_WEEK:
			l = week, nl = lengthof(week), w = weekw, nw = lengthof(weekw);
			break;
		case FC_MONTH:
			l = month, nl = lengthof(month), w = monthw, nw = lengthof(monthw);
			break;
		case FC_QUARTER:
			l = quarter, nl = lengthof(quarter), w = quarterw, nw = lengthof(quarterw);
			break;
		default:
			l = year, nl = lengthof(year), w = yearw, nw = lengthof(yearw);
	}
	if (!spec->lags_given)
	{
		memcpy(spec->lags, l, sizeof(int) * nl);
		spec->nlags = nl;
	}
	if (!spec->windows_given)
	{
		memcpy(spec->windows, w, sizeof(int) * nw);
		spec->nwindows = nw;
	}
}

/*
 * The options: lags, windows, holidays and trees taken here (the core's
 * options are scalars), the rest by uba_parse_options.
 */
static void
ParseSpec(Jsonb *opts, GlobalSpec *spec)
{
	Jsonb	   *rest = opts;

	memset(spec, 0, sizeof(*spec));
	if (opts != NULL && JB_ROOT_IS_OBJECT(opts) && !JB_ROOT_IS_SCALAR(opts))
	{
		static const char *const keys[] = {"lags", "windows", "holidays", "trees"};

		for (int k = 0; k < lengthof(keys); k++)
		{
			JsonbValue *v = getKeyJsonValueFromContainer(&opts->root, keys[k], strlen(keys[k]), NULL);

			if (v == NULL)
				continue;
			if (k == 0)
			{
				spec->nlags = TakeInts(v, keys[k], spec->lags);
				spec->lags_given = true;
			}
			else if (k == 1)
			{
				spec->nwindows = TakeInts(v, keys[k], spec->windows);
				spec->windows_given = true;
			}
			else if (k == 2)
				TakeHolidays(v, spec);
			else
			{
				if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
					BadList("trees", "an object of uba_boost_train's options");
				spec->trees = JsonbValueToJsonb(v);
			}
			rest = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(rest),
													  CStringGetTextDatum(keys[k])));
		}
	}
	uba_parse_options(rest, global_options, lengthof(global_options), FUNC, &spec->o);
	if (spec->lags_given && spec->nlags == 0)
		BadList("lags", "a non-empty array of periods: the trees need the recent past");
}

/* ---------- the aggregate ---------- */

/*
 * uba_forecast_train(series, ts, value [, regressors], options): each
 * row's series, local date, value and regressors.  Rows with a NULL
 * series, time or value are left out, as sum() leaves them.
 */
Datum
uba_forecast_global_transfn(PG_FUNCTION_ARGS)
{
	GlobalState *st = PG_ARGISNULL(0) ? NULL : (GlobalState *) PG_GETARG_POINTER(0);
	bool		has_reg = PG_NARGS() > 5;
	int			optarg = has_reg ? 5 : 4;
	Jsonb	   *opts = PG_ARGISNULL(optarg) ? NULL : PG_GETARG_JSONB_P(optarg);
	double	   *v;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (has_reg && PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the regressors given to %s must not be NULL", FUNC),
				 errhint("Pass the row of regressor columns, for example ROW(price, promo); a NULL column is missing.")));
	if (st == NULL)
	{
		MemoryContext cxt = uba_agg_context(fcinfo);
		GlobalSpec	spec;
		Oid			id_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
		int			nreg = 0;

		ParseSpec(opts, &spec);	/* checked here to fail early; the final function reads them */
		st = MemoryContextAllocZero(cxt, sizeof(GlobalState));
		st->id_type = id_type;
		uba_id_dict_init(&st->series, cxt, uba_id_kind(id_type, "series"));
		if (has_reg)
		{
			st->enc = uba_encoding_start(cxt, PG_GETARG_HEAPTUPLEHEADER(4), UBA_ENC_CODES, FUNC);
			for (int k = 0; k < st->enc->ncols; k++)
				if (st->enc->cols[k].cls == UBA_COL_CATEGORY)
					ereport(ERROR,
							(errcode(ERRCODE_DATATYPE_MISMATCH),
							 errmsg("regressor \"%s\" of type %s is a category", st->enc->cols[k].name,
									st->enc->cols[k].type_name),
							 errdetail("Regressors of a global forecaster are numbers, booleans, dates or timestamps."),
							 errhint("Give a number instead, for example a flag per value.")));
			nreg = st->enc->ncols;
		}
		st->rs = uba_rowset_start_dim(fcinfo, 2 + nreg, false, false);
		st->rs->options = uba_options_copy(cxt, opts);
	}
	else
		uba_check_same_options(st->rs->options, opts);
	v = palloc(sizeof(double) * st->rs->dim);
	v[0] = (double) uba_arg_local_date(fcinfo, 2, FUNC);
	v[1] = PG_GETARG_FLOAT8(3);
	if (!isfinite(v[1]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("values given to %s must be finite", FUNC),
				 errdetail("Got %g.", v[1])));
	if (has_reg)
		uba_encoding_read(st->enc, PG_GETARG_HEAPTUPLEHEADER(4), v + 2);
	uba_array_grow(st->series.cxt, (void **) &st->ids, &st->ids_bytes,
				   sizeof(int64) * (st->rs->n + 1));
	st->ids[st->rs->n] = uba_id_handle(&st->series, PG_GETARG_DATUM(1), st->id_type);
	uba_rowset_add_values(st->rs, v, 0);
	pfree(v);
	PG_RETURN_POINTER(st);
}

/* ---------- features ---------- */

/*
 * The calendar features, in their order, and the periods that have them
 * (a bit per FC_ period): one list for the count, the names and the values.
 */
#define CAL_MONTH 0
#define CAL_QUARTER 1
#define CAL_WEEK 2
#define CAL_WEEKDAY 3
#define CAL_DAY 4
static const struct
{
	const char *name;
	int			periods;
}			calendar[] = {
	[CAL_MONTH] = {"month", 1 << FC_DAY | 1 << FC_WEEK | 1 << FC_MONTH},
	[CAL_QUARTER] = {"quarter", 1 << FC_QUARTER},
	[CAL_WEEK] = {"week_of_year", 1 << FC_DAY | 1 << FC_WEEK},
	[CAL_WEEKDAY] = {"weekday", 1 << FC_DAY},
	[CAL_DAY] = {"day_of_month", 1 << FC_DAY},
};

/* The scratch a model's features are built in */
static void
Scratch(GlobalModel *g)
{
	g->x = palloc(sizeof(double) * g->d);
	g->missing = palloc(sizeof(double) * Max(g->nreg, 1));
	for (int k = 0; k < g->nreg; k++)
		g->missing[k] = get_float8_nan();
}

static bool
HasCalendar(const GlobalModel *g, int c)
{
	return (calendar[c].periods & (1 << g->period)) != 0;
}

static int
FeatureCount(const GlobalModel *g)
{
	int			n = g->nlags + g->nwindows + (g->nholidays > 0 ? 3 : 0) + 2 + g->nreg;

	for (int c = 0; c < lengthof(calendar); c++)
		n += HasCalendar(g, c);
	return n;
}

static char **
FeatureNames(const GlobalModel *g)
{
	char	  **names = palloc(sizeof(char *) * g->d);
	int			j = 0;

	for (int i = 0; i < g->nlags; i++)
		names[j++] = psprintf("lag_%d", g->lags[i]);
	for (int i = 0; i < g->nwindows; i++)
		names[j++] = psprintf("mean_%d", g->windows[i]);
	for (int c = 0; c < lengthof(calendar); c++)
		if (HasCalendar(g, c))
			names[j++] = pstrdup(calendar[c].name);
	if (g->nholidays > 0)
	{
		names[j++] = pstrdup("holidays");
		names[j++] = pstrdup("periods_to_holiday");
		names[j++] = pstrdup("periods_from_holiday");
	}
	names[j++] = pstrdup("age");
	names[j++] = pstrdup("scale");
	for (int k = 0; k < g->nreg; k++)
		names[j++] = pstrdup(g->enc->cols[k].name);
	Assert(j == g->d);
	return names;
}

/* The first holiday on or after date (nholidays when none) */
static int
HolidayAtOrAfter(const GlobalModel *g, DateADT date)
{
	int			lo = 0,
				hi = g->nholidays;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (g->holidays[mid] < date)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The features of the period starting on date, age periods after its
 * series' first row, after hist[0..L-1] (the series' last L values before
 * it over its scale, NaN before its span; hist[L - k] is lag k), with the
 * regressors reg (nreg values).
 */
static void
Features(const GlobalModel *g, DateADT date, int64 age, double scale, const double *hist, int L,
		 const double *reg, double *x)
{
	int			j = 0;
	int			y,
				m,
				d;

	for (int i = 0; i < g->nlags; i++)
		x[j++] = hist[L - g->lags[i]];
	for (int i = 0; i < g->nwindows; i++)
	{
		double		s = 0;
		int			c = 0;

		for (int k = 1; k <= g->windows[i]; k++)
			if (!isnan(hist[L - k]))
			{
				s += hist[L - k];
				c++;
			}
		x[j++] = c > 0 ? s / c : get_float8_nan();
	}
	fc_civil(date, &y, &m, &d);
	for (int c = 0; c < lengthof(calendar); c++)
	{
		if (!HasCalendar(g, c))
			continue;
		switch (c)
		{
			case CAL_MONTH:
				x[j++] = m;
				break;
			case CAL_QUARTER:
				x[j++] = (m - 1) / 3 + 1;
				break;
			case CAL_WEEK:
				x[j++] = (date - date2j(y, 1, 1) + POSTGRES_EPOCH_JDATE) / 7 + 1;
				break;
			case CAL_WEEKDAY:
				x[j++] = ((date % 7) + 7 + 5) % 7 + 1;	/* ISO: Monday 1; 2000-01-01 was a Saturday */
				break;
			default:
				x[j++] = d;
		}
	}
	if (g->nholidays > 0)
	{
		DateADT		next = fc_period_step(date, g->period, 1);
		int			a = HolidayAtOrAfter(g, date),
					b = HolidayAtOrAfter(g, next);

		x[j++] = b - a;
		x[j++] = a < g->nholidays ?
			(double) fc_periods_between(date, fc_period_start(g->holidays[a], g->period), g->period) :
			get_float8_nan();
		x[j++] = a > 0 ?
			(double) fc_periods_between(fc_period_start(g->holidays[a - 1], g->period), date, g->period) :
			get_float8_nan();
	}
	x[j++] = (double) age;
	x[j++] = scale;
	for (int k = 0; k < g->nreg; k++)
		x[j++] = reg[k];
}

/* hist[0..L-1]: the L values of series ys before its period t, over scale (hist[L - k] is lag k; NaN before ys) */
static void
PastValues(const double *ys, int64 t, int L, double scale, double *hist)
{
	for (int k = 1; k <= L; k++)
		hist[L - k] = t - k >= 0 ? ys[t - k] / scale : get_float8_nan();
}

/*
 * h steps of one series over its scale from its last L values over the
 * scale (hist[0..L-1]) into hist[L..L+h-1], by trees: each step's
 * prediction is a lag of the next.  The first step is the period next,
 * age periods after the series' first row; reg: h rows of the regressors
 * (NULL: all missing).
 */
static void
Recurse(const GlobalModel *g, void *trees, DateADT next, int64 age, double scale, double *hist, int h,
		const double *reg)
{
	for (int k = 0; k < h; k++)
	{
		double		p;

		Features(g, fc_period_step(next, g->period, k), age + k, scale, hist + k, g->tail,
				 reg != NULL ? reg + (Size) k * g->nreg : g->missing, g->x);
		p = uba_boost_value(trees, g->x);
		hist[g->tail + k] = g->nonnegative && p < 0 ? 0 : p;
	}
}

/*
 * The scale of the errors after an origin: the mean absolute value of the
 * last L periods before it (hist, over the series' scale), or the series'
 * scale when those are all 0.  Errors grow with the level a series is at
 * when the forecast starts, not with its long-run mean.
 */
static double
OriginScale(const double *hist, int L, double scale)
{
	double		sum = 0;
	int			c = 0;

	for (int k = 0; k < L; k++)
		if (!isnan(hist[k]))
		{
			sum += fabs(hist[k]);
			c++;
		}
	return c > 0 && sum > 0 ? scale * sum / c : scale;
}

/* The last V periods of each series by default, by period: four weeks of days, two months of weeks, ... */
static int
DefaultIntervalPeriods(int period)
{
	static const int v[] = {28, 8, 6, 4, 2};

	return v[period];
}

/* ---------- training ---------- */

typedef struct RowOrder
{
	int64		series;
	double		date;
	double		value;
	int64		row;
} RowOrder;

static int
CompareRows(const void *pa, const void *pb)
{
	const RowOrder *a = pa,
			   *b = pb;

	if (a->series != b->series)
		return a->series < b->series ? -1 : 1;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/*
 * The backtest: trees trained on the rows before each series' last V
 * periods (back) forecast those periods from there, recursively, with
 * their known regressors; each step's errors over the scale, sorted, go
 * to g->err.  Series with no period before the cut but their first are
 * left out.
 */
static void
Backtest(GlobalModel *g, UbaRowSet *back, int V, const double *y, const double *reg, const int64 *offset,
		 DateADT first, const int64 *start)
{
	bytea	   *blob = uba_boost_fit_rows(back);
	int			d;
	void	   *trees = uba_boost_open(blob, &d);
	int			L = g->tail;
	double	   *hist = palloc(sizeof(double) * (L + V));

	Assert(d == g->d);
	g->nsteps = V;
	g->nerr = palloc0(sizeof(int64) * V);
	g->err = palloc(sizeof(double *) * V);
	for (int k = 0; k < V; k++)
		g->err[k] = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(g->nseries, 1));
	for (int64 s = 0; s < g->nseries; s++)
	{
		const double *ys = y + offset[s];
		int64		cut = g->span[s] - V;
		double		origin;

		if (cut <= g->born[s] + 1)
			continue;

		PastValues(ys, cut, L, g->scale[s], hist);
		origin = OriginScale(hist, L, g->scale[s]);
		Recurse(g, trees, fc_period_step(first, g->period, start[s] + cut), cut - g->born[s], g->scale[s],
				hist, V, g->nreg > 0 ? reg + (Size) (offset[s] + cut) * g->nreg : NULL);
		for (int k = 0; k < V; k++)
			g->err[k][g->nerr[k]++] = (ys[cut + k] - hist[L + k] * g->scale[s]) / origin;
		CHECK_FOR_INTERRUPTS();
	}
	for (int k = 0; k < V; k++)
		qsort(g->err[k], g->nerr[k], sizeof(double), uba_cmp_double);
	if (g->nerr[0] == 0)
		g->nsteps = 0;
	pfree(blob);
}

/* uba_boost_train's options for the trees: the caller's, and the features' names */
static Jsonb *
TreeOptions(const GlobalModel *g, Jsonb *trees)
{
	char	  **names = FeatureNames(g);
	StringInfoData json;
	Jsonb	   *named;

	initStringInfo(&json);
	appendStringInfoString(&json, "{\"feature_names\": [");
	for (int j = 0; j < g->d; j++)
	{
		if (j > 0)
			appendStringInfoString(&json, ", ");
		escape_json(&json, names[j]);
	}
	appendStringInfoString(&json, "]}");
	named = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
	if (trees == NULL)
		return named;
	if (getKeyJsonValueFromContainer(&trees->root, "feature_names", strlen("feature_names"), NULL) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the trees of a global forecaster name their own features"),
				 errhint("Leave \"feature_names\" out of \"trees\".")));
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(trees), JsonbPGetDatum(named)));
}

static void PutModel(UbaWriter *w, const GlobalModel *g, const UbaIdDict *series, const int64 *distinct,
					 bytea *trees);

Datum
uba_forecast_global_final(PG_FUNCTION_ARGS)
{
	GlobalState *st = PG_ARGISNULL(0) ? NULL : (GlobalState *) PG_GETARG_POINTER(0);
	UbaRowSet  *rs;
	GlobalSpec	spec;
	GlobalModel g;
	RowOrder   *ord;
	int64		n,
				nseries = 0,
				total = 0,
				nrows = 0;
	int64	   *distinct,
			   *start,			/* per series: its first period's index from the earliest */
			   *born,			/* and its first row's */
			   *offset;			/* per series: where its periods begin in y */
	double	   *y,
			   *reg,
			   *regn,
			   *hist;
	DateADT		first,
				last;
	int			dim,
				L;
	bool		anyneg = false;
	UbaRowSet  *train,
			   *back = NULL;
	int			V;
	int64		nback = 0;
	bytea	   *trees;
	UbaWriter	w;
	UbaModelMeta meta;

	if (st == NULL || st->rs->n == 0)
		PG_RETURN_NULL();
	rs = st->rs;
	n = rs->n;
	dim = rs->dim;
	ParseSpec(rs->options, &spec);
	memset(&g, 0, sizeof(g));
	g.nreg = dim - 2;
	g.enc = st->enc;

	/* series ids in canonical order (text and uuid: ranks in byte order), then the distinct ones */
	uba_id_dict_canonical(&st->series, st->ids, n);
	distinct = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n);
	memcpy(distinct, st->ids, sizeof(int64) * n);
	qsort(distinct, n, sizeof(int64), uba_cmp_int64);
	for (int64 i = 0; i < n; i++)
		if (nseries == 0 || distinct[nseries - 1] != distinct[i])
			distinct[nseries++] = distinct[i];

	/* rows by series, date and value: sums that do not depend on row order */
	uba_check_memory(mul_size(n, sizeof(RowOrder)), "a global forecaster's rows");
	ord = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(RowOrder) * n);
	for (int64 i = 0; i < n; i++)
	{
		const double *r = rs->x + (Size) i * dim;
		int64	   *at = bsearch(&st->ids[i], distinct, nseries, sizeof(int64), uba_cmp_int64);

		ord[i].series = at - distinct;
		ord[i].date = r[0];
		ord[i].value = r[1];
		ord[i].row = i;
		anyneg = anyneg || r[1] < 0;
	}
	qsort(ord, n, sizeof(RowOrder), CompareRows);

	/* the period: given, or from the distinct dates */
	{
		DateADT    *dates = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(DateADT) * n);
		int64		nd;
		int			pi = (int) uba_option(&spec.o, "period");

		for (int64 i = 0; i < n; i++)
			dates[i] = (DateADT) ord[i].date;
		nd = uba_dates_distinct(dates, (int32) Min(n, PG_INT32_MAX));
		g.period = pi == 0 ? fc_detect_period(dates, nd) : pi - 1;
		first = fc_period_start(dates[0], g.period);
		last = fc_period_start(dates[nd - 1], g.period);
		pfree(dates);
	}
	if (uba_option_given(&spec.o, "start"))
	{
		DateADT		b = fc_period_start((DateADT) uba_option(&spec.o, "start"), g.period);

		if (b > first)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series have rows before their \"start\""),
					 errhint("Leave the earlier rows out with WHERE, or move \"start\".")));
		first = b;
	}
	if (uba_option_given(&spec.o, "end"))
	{
		DateADT		e = fc_period_start((DateADT) uba_option(&spec.o, "end"), g.period);

		if (e < last)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series have rows after their \"end\""),
					 errhint("Leave the later rows out with WHERE, or move \"end\".")));
		last = e;
	}
	if (fc_periods_between(first, last, g.period) + 1 > FC_MAX_PERIODS ||
		!fc_valid_span(first, g.period, fc_periods_between(first, last, g.period) + 1))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the series span more than the %d %ss a forecast model takes, or dates a timestamp cannot hold",
						FC_MAX_PERIODS, fc_period_names[g.period]),
				 errhint("Use a longer period, or a shorter span of time.")));
	g.end = last;
	g.nonnegative = uba_option_given(&spec.o, "nonnegative") ? uba_option(&spec.o, "nonnegative") != 0 : !anyneg;
	DefaultLags(&spec, g.period);
	g.nlags = spec.nlags;
	memcpy(g.lags, spec.lags, sizeof(int) * spec.nlags);
	g.nwindows = spec.nwindows;
	memcpy(g.windows, spec.windows, sizeof(int) * spec.nwindows);
	g.nholidays = spec.nholidays;
	g.holidays = spec.holidays;
	g.nseries = nseries;
	g.d = FeatureCount(&g);
	Scratch(&g);
	L = Max(g.lags[g.nlags - 1], g.nwindows > 0 ? g.windows[g.nwindows - 1] : 1);
	g.tail = L;

	/* each series from its first period (or "start") to the last of all: periods without rows sold nothing */
	start = palloc(sizeof(int64) * nseries);
	offset = palloc(sizeof(int64) * (nseries + 1));
	born = palloc(sizeof(int64) * nseries);
	for (int64 i = n - 1; i >= 0; i--)
	{
		born[ord[i].series] = fc_periods_between(first, fc_period_start((DateADT) ord[i].date, g.period),
												 g.period);
		start[ord[i].series] = uba_option_given(&spec.o, "start") ? 0 : born[ord[i].series];
	}
	for (int64 s = 0; s < nseries; s++)
	{
		offset[s] = total;
		total += fc_periods_between(first, last, g.period) + 1 - start[s];
	}
	offset[nseries] = total;
	uba_check_memory(add_size(mul_size(total, sizeof(double) * (2 + 2 * (Size) g.nreg)),
							  mul_size(total, sizeof(double) * (g.d + 2))),
					 "a global forecaster's periods");
	y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * total);
	reg = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(total * g.nreg, 1));
	regn = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(total * g.nreg, 1));
	memset(y, 0, sizeof(double) * total);
	memset(reg, 0, sizeof(double) * Max(total * g.nreg, 1));
	memset(regn, 0, sizeof(double) * Max(total * g.nreg, 1));
	for (int64 i = 0; i < n; i++)
	{
		int64		s = ord[i].series;
		int64		t = offset[s] + fc_periods_between(first, fc_period_start((DateADT) ord[i].date, g.period),
													   g.period) - start[s];
		const double *r = rs->x + (Size) ord[i].row * dim;

		y[t] += ord[i].value;
		/* a period's regressor: the mean of its rows' non-NULL values */
		for (int k = 0; k < g.nreg; k++)
			if (!isnan(r[2 + k]))
			{
				reg[t * g.nreg + k] += r[2 + k];
				regn[t * g.nreg + k] += 1;
			}
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
	}
	for (int64 t = 0; t < total * g.nreg; t++)
		reg[t] = regn[t] > 0 ? reg[t] / regn[t] : get_float8_nan();
	pfree(regn);
	pfree(ord);

	/* the rows the trees learn from: every period after a series' first */
	train = uba_rowset_start_dim(fcinfo, g.d, true, true);
	train->options = TreeOptions(&g, spec.trees);
	train->started = rs->started;
	/*
	 * The intervals come from a backtest: the same trees trained without
	 * each series' last V periods forecast them, and the errors of each
	 * step, over the scale, are kept.
	 */
	V = uba_option(&spec.o, "intervals") == 0 ? 0 :
		uba_option_given(&spec.o, "interval_periods") ? (int) uba_option(&spec.o, "interval_periods") :
		DefaultIntervalPeriods(g.period);
	if (V > 0)
	{
		back = uba_rowset_start_dim(fcinfo, g.d, true, true);
		back->options = train->options;
		back->started = rs->started;
	}
	hist = palloc(sizeof(double) * L);
	g.span = palloc(sizeof(int64) * nseries);
	g.born = palloc(sizeof(int64) * nseries);
	g.scale = palloc(sizeof(double) * nseries);
	g.last = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * nseries * L);
	for (int64 s = 0; s < nseries; s++)
	{
		int64		len = offset[s + 1] - offset[s];
		const double *ys = y + offset[s];
		double		sum = 0;

		g.span[s] = len;
		g.born[s] = born[s] - start[s];
		for (int64 t = 0; t < len; t++)
			sum += fabs(ys[t]);
		g.scale[s] = sum > 0 && isfinite(sum / len) ? sum / len : 1;
		/* every period after the series' first row: the ones before have no past to learn from */
		for (int64 t = g.born[s] + 1; t < len; t++)
		{
			PastValues(ys, t, L, g.scale[s], hist);
			Features(&g, fc_period_step(first, g.period, start[s] + t), t - g.born[s], g.scale[s], hist, L,
					 reg + (offset[s] + t) * g.nreg, g.x);
			uba_rowset_add_values(train, g.x, ys[t] / g.scale[s]);
			nrows++;
			if (V > 0 && t < len - V)
			{
				uba_rowset_add_values(back, g.x, ys[t] / g.scale[s]);
				nback++;
			}
		}
		PastValues(ys, len, L, 1, g.last + s * L);
		CHECK_FOR_INTERRUPTS();
	}
	if (nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no series has a period after its first to learn from"),
				 errdetail(INT64_FORMAT " series, each with rows in its last period only.", nseries),
				 errhint("Train over a longer span of time, or a shorter period.")));
	uba_progress(&spec.o, "%s: " INT64_FORMAT " series, " INT64_FORMAT " rows of %d features for the trees",
				 FUNC, nseries, nrows, g.d);
	trees = uba_boost_fit_rows(train);
	if (V > 0 && nback > 0)
		Backtest(&g, back, V, y, reg, offset, first, start);
	else if (V > 0)
		ereport(NOTICE,
				(errmsg("the model has no prediction intervals: no series has a period to learn from before its last %d", V),
				 errhint("Give \"interval_periods\" fewer periods, or train over a longer span of time.")));
	pfree(y);
	pfree(reg);

	uba_writer_init(&w);
	PutModel(&w, &g, &st->series, distinct, trees);
	/* the options as they took effect */
	uba_option_set(&spec.o, "method", 1);
	uba_option_set(&spec.o, "period", g.period + 1);
	uba_option_set(&spec.o, "end", g.end);
	uba_option_set(&spec.o, "nonnegative", g.nonnegative);
	uba_option_set(&spec.o, "intervals", g.nsteps > 0);
	uba_option_set(&spec.o, "interval_periods", g.nsteps);
	uba_model_meta_init(&meta, g.nreg, n, rs->started, &spec.o);
	if (g.enc != NULL)
	{
		/* one feature per regressor, as they were read */
		g.enc->nfeatures = g.nreg;
		g.enc->feature_names = palloc(sizeof(char *) * g.nreg);
		for (int k = 0; k < g.nreg; k++)
		{
			UbaColumn  *c = &g.enc->cols[k];

			c->first = k;
			c->width = 1;
			c->fill = 0;
			c->nulls = 0;
			g.enc->feature_names[k] = c->name;
		}
		uba_encoding_attach(&meta, g.enc);
	}
	PG_RETURN_BYTEA_P(uba_model_build(UBA_KIND_FORECAST_GLOBAL, &meta, &w));
}

/* ---------- the payload ---------- */

/* A count and that many increasing periods (lags or windows); ReadPeriods reads them back */
static void
PutPeriods(UbaWriter *w, const int *v, int n)
{
	uba_put_u32(w, (uint32) n);
	for (int i = 0; i < n; i++)
		uba_put_u32(w, (uint32) v[i]);
}

static void
PutModel(UbaWriter *w, const GlobalModel *g, const UbaIdDict *series, const int64 *distinct,
		 bytea *trees)
{
	uba_put_u32(w, (uint32) g->period);
	uba_put_u32(w, g->nonnegative ? FLAG_NONNEGATIVE : 0);
	uba_put_u64(w, (uint64) (int64) g->end);
	PutPeriods(w, g->lags, g->nlags);
	PutPeriods(w, g->windows, g->nwindows);
	uba_put_u32(w, (uint32) g->nholidays);
	for (int i = 0; i < g->nholidays; i++)
		uba_put_u64(w, (uint64) (int64) g->holidays[i]);
	uba_put_u32(w, (uint32) g->nreg);
	uba_put_u64(w, (uint64) g->nseries);
	uba_put_u32(w, (uint32) series->kind);
	uba_put_ids(w, series, distinct, g->nseries);
	uba_put_u32(w, (uint32) g->tail);
	uba_put_i64_array(w, g->span, g->nseries);
	uba_put_i64_array(w, g->born, g->nseries);
	uba_put_f64_array(w, g->scale, g->nseries);
	uba_put_f64_array(w, g->last, (Size) g->nseries * g->tail);
	uba_put_u64(w, VARSIZE_ANY(trees));
	appendBinaryStringInfo(&w->buf, (const char *) trees, VARSIZE_ANY(trees));
	uba_put_u32(w, (uint32) g->nsteps);
	for (int k = 0; k < g->nsteps; k++)
	{
		uba_put_u64(w, (uint64) g->nerr[k]);
		uba_put_f64_array(w, g->err[k], g->nerr[k]);
	}
}

/* What PutPeriods wrote, checked */
static int
ReadPeriods(UbaReader *r, int *out, const char *what)
{
	int			n = (int) uba_get_u32(r);

	if (n < 0 || n > MAX_LAGS)
		uba_model_corrupted("The global forecaster has %d %s.", n, what);
	for (int i = 0; i < n; i++)
	{
		out[i] = (int) uba_get_u32(r);
		if (out[i] < 1 || out[i] > MAX_LAG || (i > 0 && out[i] <= out[i - 1]))
			uba_model_corrupted("The global forecaster's %s are not increasing periods.", what);
	}
	return n;
}

/* Read and validate a global forecaster; its trees are opened and checked like any model */
static void *
ParseGlobal(const UbaModelMeta *meta, UbaReader *r)
{
	GlobalModel *g = palloc0(sizeof(GlobalModel));
	uint32		flags;
	int64		end;
	int			kind;
	uint64		tlen;
	bytea	   *trees;
	int			d;

	g->period = (int) uba_get_u32(r);
	flags = uba_get_u32(r);
	end = (int64) uba_get_u64(r);
	if (g->period < FC_DAY || g->period > FC_YEAR || (flags & ~(uint32) FLAG_NONNEGATIVE) != 0 ||
		end < PG_INT32_MIN || end > PG_INT32_MAX ||
		!fc_valid_span((DateADT) end, g->period, 1) || fc_period_start((DateADT) end, g->period) != end)
		uba_model_corrupted("The global forecaster's settings are out of range.");
	g->nonnegative = (flags & FLAG_NONNEGATIVE) != 0;
	g->end = (DateADT) end;
	g->nlags = ReadPeriods(r, g->lags, "lags");
	g->nwindows = ReadPeriods(r, g->windows, "windows");
	if (g->nlags < 1)
		uba_model_corrupted("The global forecaster has no lags.");
	g->nholidays = (int) uba_get_u32(r);
	if (g->nholidays < 0 || g->nholidays > MAX_HOLIDAYS)
		uba_model_corrupted("The global forecaster has %d holidays.", g->nholidays);
	uba_reader_check_space(r, (Size) g->nholidays, sizeof(uint64));
	g->holidays = palloc(sizeof(DateADT) * Max(g->nholidays, 1));
	for (int i = 0; i < g->nholidays; i++)
	{
		int64		h = (int64) uba_get_u64(r);

		if (h < PG_INT32_MIN || h > PG_INT32_MAX || DATE_NOT_FINITE((DateADT) h) ||
			(i > 0 && h <= g->holidays[i - 1]))
			uba_model_corrupted("The global forecaster's holidays are not increasing dates.");
		g->holidays[i] = (DateADT) h;
	}
	g->nreg = (int) uba_get_u32(r);
	if (g->nreg != meta->n_features || (g->nreg > 0) != (meta->encoding != NULL))
		uba_model_corrupted("The global forecaster's regressors do not match its inputs.");
	g->enc = meta->encoding;
	for (int k = 0; k < g->nreg; k++)
		if (g->enc->cols[k].cls == UBA_COL_CATEGORY || g->enc->mode != UBA_ENC_CODES)
			uba_model_corrupted("A regressor of the global forecaster is a category.");
	g->nseries = (int64) uba_get_u64(r);
	kind = (int) uba_get_u32(r);
	if (g->nseries < 1 || kind < UBA_ID_INT8 || kind > UBA_ID_UUID)
		uba_model_corrupted("The global forecaster's series are out of range.");
	uba_reader_check_space(r, (Size) g->nseries, sizeof(int64));
	uba_get_ids(r, kind, g->nseries, &g->ids, "series");
	g->tail = (int) uba_get_u32(r);
	if (g->tail != Max(g->lags[g->nlags - 1], g->nwindows > 0 ? g->windows[g->nwindows - 1] : 1))
		uba_model_corrupted("The global forecaster keeps %d past values, not what its lags need.", g->tail);
	uba_reader_check_space(r, (Size) g->nseries, sizeof(int64) * (3 + (Size) g->tail));
	g->span = palloc(sizeof(int64) * g->nseries);
	g->born = palloc(sizeof(int64) * g->nseries);
	g->scale = palloc(sizeof(double) * g->nseries);
	uba_get_i64_array(r, g->span, g->nseries);
	uba_get_i64_array(r, g->born, g->nseries);
	uba_get_f64_array(r, g->scale, g->nseries, true);
	g->last = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * g->nseries * g->tail);
	uba_get_f64_array(r, g->last, (Size) g->nseries * g->tail, false);
	for (int64 s = 0; s < g->nseries; s++)
	{
		const double *h = g->last + s * g->tail;

		if (g->span[s] < 1 || g->span[s] > FC_MAX_PERIODS || g->born[s] < 0 || g->born[s] >= g->span[s] ||
			!(g->scale[s] > 0))
			uba_model_corrupted("Series " INT64_FORMAT " has a span of " INT64_FORMAT " periods, its first row at "
								INT64_FORMAT " and a scale of %g.", s + 1, g->span[s], g->born[s], g->scale[s]);
		/* observed for the last min(span, L) periods, NaN before */
		for (int k = 1; k <= g->tail; k++)
			if (isinf(h[g->tail - k]) || isnan(h[g->tail - k]) != (k > g->span[s]) ||
				(g->nonnegative && h[g->tail - k] < 0))
				uba_model_corrupted("Series " INT64_FORMAT "'s past values do not match its age.", s + 1);
	}
	tlen = uba_get_u64(r);
	if (tlen < VARHDRSZ || tlen > (uint64) (r->end - r->p) || tlen > MaxAllocSize)
		uba_model_corrupted("The global forecaster's trees have %llu bytes.", (unsigned long long) tlen);
	trees = palloc(tlen);
	memcpy(trees, r->p, tlen);
	if (VARATT_IS_EXTENDED(trees) || VARSIZE(trees) != tlen)
		uba_model_corrupted("The global forecaster's trees are not a whole model.");
	r->p += tlen;
	g->nsteps = (int) uba_get_u32(r);
	if (g->nsteps < 0 || g->nsteps > MAX_LAG)
		uba_model_corrupted("The global forecaster has %d steps of backtest errors.", g->nsteps);
	g->nerr = palloc(sizeof(int64) * Max(g->nsteps, 1));
	g->err = palloc(sizeof(double *) * Max(g->nsteps, 1));
	for (int k = 0; k < g->nsteps; k++)
	{
		g->nerr[k] = (int64) uba_get_u64(r);
		if (g->nerr[k] < 1 || g->nerr[k] > g->nseries)
			uba_model_corrupted("Step %d of the backtest has " INT64_FORMAT " errors.", k + 1, g->nerr[k]);
		uba_reader_check_space(r, (Size) g->nerr[k], sizeof(double));
		g->err[k] = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * g->nerr[k]);
		uba_get_f64_array(r, g->err[k], g->nerr[k], true);
		for (int64 i = 1; i < g->nerr[k]; i++)
			if (g->err[k][i] < g->err[k][i - 1])
				uba_model_corrupted("The backtest's errors of step %d are not sorted.", k + 1);
	}
	uba_reader_finish(r);
	g->trees_bytes = tlen;
	g->trees_blob = trees;
	g->trees = uba_boost_open(trees, &d);
	g->d = FeatureCount(g);
	if (d != g->d)
		uba_model_corrupted("The global forecaster's trees take %d features, not %d.", d, g->d);
	Scratch(g);
	return g;
}

void
uba_forecast_global_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	GlobalModel *g = ParseGlobal(meta, payload);
	char	  **names = FeatureNames(g);

	appendStringInfo(json, ", \"method\": \"boost\", \"period\": \"%s\", \"series\": " INT64_FORMAT
					 ", \"holidays\": %d, \"nonnegative\": %s, \"features\": [",
					 fc_period_names[g->period], g->nseries, g->nholidays, g->nonnegative ? "true" : "false");
	for (int j = 0; j < g->d; j++)
	{
		if (j > 0)
			appendStringInfoString(json, ", ");
		escape_json(json, names[j]);
	}
	appendStringInfo(json, "], \"trees_bytes\": %zu, \"interval_periods\": %d", g->trees_bytes, g->nsteps);
	if (g->nsteps > 0)
	{
		/* how far the backtest's forecasts were off, over the scale: the mean absolute error by step */
		appendStringInfoString(json, ", \"backtest_mae\": [");
		for (int k = 0; k < g->nsteps; k++)
		{
			double		sum = 0;

			for (int64 i = 0; i < g->nerr[k]; i++)
				sum += fabs(g->err[k][i]);
			appendStringInfo(json, "%s%.6g", k > 0 ? ", " : "", sum / g->nerr[k]);
		}
		appendStringInfo(json, "], \"backtest_series\": " INT64_FORMAT, g->nerr[0]);
	}
}

/* ---------- forecasting ---------- */

/*
 * The future regressors from a table (series, ts and the regressor columns
 * by name), read as the caller: a period's value is the mean of its rows'
 * non-NULL ones; rows of unknown series or outside the horizon are left out.
 */
static double *
FutureRegressors(GlobalModel *g, Oid relid, int h)
{
	Size		cells = (Size) g->nseries * h * g->nreg;
	double	   *reg,
			   *cnt;
	char	   *rel;
	char	   *sql;
	DateADT		next = fc_period_step(g->end, g->period, 1);
	int			ret;
	uint64		processed = 0;
	Oid			ts_type;

	uba_check_memory(mul_size(cells, 2 * sizeof(double)), "future regressors");
	reg = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(cells, 1));
	cnt = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(cells, 1));
	memset(reg, 0, sizeof(double) * Max(cells, 1));
	memset(cnt, 0, sizeof(double) * Max(cells, 1));
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the table of future regressors (oid %u) does not exist", relid)));
	rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
	for (int k = 0; k < 2; k++)
		if (get_attnum(relid, k == 0 ? "series" : "ts") == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("the table of future regressors %s has no column \"%s\"", rel, k == 0 ? "series" : "ts"),
					 errhint("Give a table or view of series, ts and the regressor columns the model was trained on.")));
	sql = psprintf("SELECT (f.series)::pg_catalog.text, f.ts, f FROM %s f", rel);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "uba: SPI_connect failed");
	ret = SPI_execute(sql, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "uba: reading %s failed", rel);
	processed = SPI_processed;
	/* ts as its own type: a date is not cast (on Citus, workers would cast it in their own zone) */
	ts_type = getBaseType(SPI_gettypeid(SPI_tuptable->tupdesc, 2));
	if (ts_type != DATEOID && ts_type != TIMESTAMPOID && ts_type != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"ts\" of the table of future regressors %s is of type %s", rel,
						format_type_be(SPI_gettypeid(SPI_tuptable->tupdesc, 2))),
				 errhint("Give the periods as date, timestamp or timestamptz.")));
	for (uint64 i = 0; i < processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		sv = SPI_getbinval(tup, td, 1, &isnull),
					tv,
					rv;
		int64		s,
					k;
		DateADT		date;
		double	   *x;

		if (isnull)
			continue;
		tv = SPI_getbinval(tup, td, 2, &isnull);
		if (isnull)
			continue;
		s = uba_ids_find_cstring(&g->ids, TextDatumGetCString(sv), "series");
		if (s < 0)
			continue;
		date = ts_type == DATEOID ? DatumGetDateADT(tv) :
			uba_local_date(tv, ts_type == TIMESTAMPOID, "uba_forecast_global");
		if (DATE_NOT_FINITE(date))
			continue;
		date = fc_period_start(date, g->period);
		if (date < next)
			continue;
		k = fc_periods_between(next, date, g->period);
		if (k >= h)
			continue;
		rv = SPI_getbinval(tup, td, 3, &isnull);
		x = g->x;
		uba_encoding_row(g->enc, rv, x);
		for (int c = 0; c < g->nreg; c++)
			if (!isnan(x[c]))
			{
				Size		at = ((Size) s * h + k) * g->nreg + c;

				reg[at] += x[c];
				cnt[at] += 1;
			}
		if ((i & 1023) == 1023)
			CHECK_FOR_INTERRUPTS();
	}
	SPI_finish();
	for (Size i = 0; i < cells; i++)
		reg[i] = cnt[i] > 0 ? reg[i] / cnt[i] : get_float8_nan();
	pfree(cnt);
	return reg;
}

/*
 * uba_forecast_global(model, horizon [, future]): each series' next
 * horizon periods, recursively.
 */
Datum
uba_forecast_global(PG_FUNCTION_ARGS)
{
	GlobalModel *g;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		h;
	bool		has_future = PG_NARGS() > 2 && !PG_ARGISNULL(2);
	double	   *future = NULL,
			   *hist;
	int			L;
	DateADT		next;
	double		levels[FC_MAX_LEVELS];
	int			nlev = 0;

	/* as a STRICT function would: nothing for a NULL model or horizon (the table may be NULL) */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		InitMaterializedSRF(fcinfo, 0);
		return (Datum) 0;
	}
	g = uba_model_cached(fcinfo, 0, UBA_KIND_FORECAST_GLOBAL, ParseGlobal);
	h = PG_GETARG_INT32(1);
	L = g->tail;
	if (h < 1 || h > FC_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon must be from 1 to %d periods", FC_MAX_HORIZON),
				 errdetail("Got %d.", h)));
	if (has_future && g->nreg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model was trained without regressors, so it takes no table of future ones"),
				 errhint("Leave the table out, or train with the regressors as a row.")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("levels of prediction intervals must not be NULL")));
	nlev = fc_levels(PG_GETARG_ARRAYTYPE_P(3), levels);
	InitMaterializedSRF(fcinfo, 0);
	if (has_future)
		future = FutureRegressors(g, PG_GETARG_OID(2), h);
	if (g->nreg > 0)
	{
		int64		missed = 0;

		for (int64 c = 0; c < g->nseries * h; c++)
			for (int k = 0; k < g->nreg; k++)
				if (future == NULL || isnan(future[c * g->nreg + k]))
				{
					missed++;
					break;
				}
		if (missed > 0)
			ereport(NOTICE,
					(errmsg(INT64_FORMAT " of " INT64_FORMAT " forecast periods have no value for some regressor",
							missed, g->nseries * h),
					 errdetail("The trees take them as missing."),
					 errhint("Give every series and period its regressors in the table of future ones.")));
	}
	hist = palloc(sizeof(double) * (L + h));
	next = fc_period_step(g->end, g->period, 1);
	for (int64 s = 0; s < g->nseries; s++)
	{
		Datum		id = CStringGetTextDatum(uba_ids_cstring(&g->ids, s));

		double		origin;

		for (int k = 0; k < L; k++)
			hist[k] = g->last[s * L + k] / g->scale[s];
		origin = OriginScale(hist, L, g->scale[s]);
		Recurse(g, g->trees, next, g->span[s] - g->born[s], g->scale[s], hist, h,
				future != NULL ? future + (Size) s * h * g->nreg : NULL);
		for (int k = 0; k < h; k++)
		{
			double		yhat = hist[L + k] * g->scale[s];
			Datum		values[7];
			bool		nulls[7] = {false, false, false, false, true, true, true};

			values[0] = id;
			values[1] = DirectFunctionCall1(date_timestamptz, DateADTGetDatum(fc_period_step(next, g->period, k)));
			values[2] = Int32GetDatum(k + 1);
			values[3] = Float8GetDatum(yhat);
			if (g->nsteps == 0)
			{
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				continue;
			}
			for (int j = 0; j < nlev; j++)
			{
				/* steps past the backtest's take its last step's errors */
				int			b = Min(k, g->nsteps - 1);
				double		tail = (1 - levels[j] / 100) / 2;
				double		lo = yhat + origin * fc_sorted_quantile(g->err[b], g->nerr[b], tail),
							hi = yhat + origin * fc_sorted_quantile(g->err[b], g->nerr[b], 1 - tail);

				if (g->nonnegative)
				{
					lo = Max(lo, 0);
					hi = Max(hi, 0);
				}
				values[4] = Float8GetDatum(levels[j]);
				values[5] = Float8GetDatum(lo);
				values[6] = Float8GetDatum(hi);
				nulls[4] = nulls[5] = nulls[6] = false;
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
		if ((s & 255) == 255)
			CHECK_FOR_INTERRUPTS();
	}
	return (Datum) 0;
}

/* uba_forecast_trees(model): a global forecaster's trees, a boost model of its features */
Datum
uba_forecast_trees(PG_FUNCTION_ARGS)
{
	GlobalModel *g = uba_model_cached(fcinfo, 0, UBA_KIND_FORECAST_GLOBAL, ParseGlobal);
	bytea	   *copy = palloc(g->trees_bytes);

	memcpy(copy, g->trees_blob, g->trees_bytes);
	PG_RETURN_BYTEA_P(copy);
}
