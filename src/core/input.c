/*-------------------------------------------------------------------------
 *
 * input.c
 *	  Checks on feature vectors: float8[], one-dimensional, no NULL
 *	  elements, finite, and the same length everywhere.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "utils/datetime.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"

/* Largest feature count we accept; keeps size arithmetic far from overflow */

/* Validate a feature array's shape and return its length */
int
uba_feature_count(ArrayType *a)
{
	int			n;

	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "uba feature array has element type %u", ARR_ELEMTYPE(a));
	if (ARR_NDIM(a) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array must not be empty")));
	if (ARR_NDIM(a) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("feature array must be one-dimensional"),
				 errdetail("Got an array of %d dimensions.", ARR_NDIM(a))));
	if (array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature array must not contain NULL elements")));
	n = ARR_DIMS(a)[0];
	if (n > UBA_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("feature array has %d elements, more than the %d uba supports",
						n, UBA_MAX_FEATURES)));
	return n;
}

/*
 * The intercept of a model fitted on z-scores, in input units: b - sum of
 * coef_j mean_j / scale_j (the coefficients in the fitting space).
 */
double
uba_input_intercept(double b, const double *coef, const double *mean, const double *scale, int d)
{
	for (int j = 0; j < d; j++)
		b -= coef[j] * mean[j] / scale[j];
	return b;
}

/* Raise the error for a NaN or infinite input value */
void
uba_check_finite(double v, const char *what)
{
	if (unlikely(!isfinite(v)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must be finite", what),
				 errdetail("Got %s.", isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")),
				 errhint("Replace NaN and infinite values before training or scoring, for example with NULLIF(x, 'NaN'), or leave such rows out (coalesce() replaces NULL only).")));
}

/*
 * Training over features whose spread overflows double precision (values
 * near 1e154 and beyond: their squares are infinite) would write a model
 * no reader accepts: refuse it, naming the feature, before training.
 * mean and var are the columns' moments (var may be a sum of squares).
 */
void
uba_check_feature_scale(const double *mean, const double *var, int d, char **names)
{
	for (int j = 0; j < d; j++)
		if (unlikely(!isfinite(mean[j]) || !isfinite(var[j])))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 names ? errmsg("feature \"%s\" has values too large to train on", names[j]) :
					 errmsg("feature %d has values too large to train on", j + 1),
					 errdetail("The spread of its values overflows double precision (squares of values near 1e154 are infinite)."),
					 errhint("Rescale the feature, for example divide it by a power of ten, before training.")));
}

/* Copy a validated feature array of expected_dim elements into dst */
void
uba_read_features(ArrayType *a, double *dst, int expected_dim)
{
	int			n = uba_feature_count(a);
	const double *src = (const double *) ARR_DATA_PTR(a);

	if (n != expected_dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array has %d elements, expected %d", n, expected_dim),
				 errhint("Every row, and every call scoring a model, must pass the same number of features the model was trained on.")));
	memcpy(dst, src, sizeof(double) * n);
	if (unlikely(!uba_all_finite(src, n)))
		for (int i = 0; i < n; i++)
			uba_check_finite(src[i], "feature values");
}

/* Build a float8[] from n doubles */
ArrayType *
uba_make_float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * z-score the columns in place (population std; constant columns keep
 * scale 1), given their moments; var becomes the variance after scaling.
 */
void
uba_standardize(double *X, int64 n, int d, const double *mean, double *var, double *scale)
{
	for (int j = 0; j < d; j++)
	{
		scale[j] = sqrt(var[j]);
		if (!(scale[j] > 1e-300))
			scale[j] = 1.0;
		var[j] /= scale[j] * scale[j];
	}
	for (int64 i = 0; i < n; i++)
	{
		uba_standardize_row(X + (Size) i * d, d, mean, scale);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* One row to z-scores with a model's means and scales; left as it is without scales */
void
uba_standardize_row(double *x, int d, const double *mean, const double *scale)
{
	if (scale == NULL)
		return;
	for (int j = 0; j < d; j++)
		x[j] = (x[j] - mean[j]) / scale[j];
}

const char *const uba_period_choices[] = {"day", "week", "month", NULL};

/* The period a local date falls in, as the date it starts on (weeks start on Monday) */
DateADT
uba_period_start(DateADT date, int period)
{
	int			year,
				month,
				day;

	switch (period)
	{
		case UBA_PERIOD_WEEK:
			/* j2day: 0 is Sunday */
			return date - (j2day(date + POSTGRES_EPOCH_JDATE) + 6) % 7;
		case UBA_PERIOD_MONTH:
			j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);
			return date2j(year, month, 1) - POSTGRES_EPOCH_JDATE;
		default:
			return date;
	}
}

/* The start of the period steps periods after (or before) the one starting at start */
DateADT
uba_period_step(DateADT start, int period, int steps)
{
	int			year,
				month,
				day,
				m;

	switch (period)
	{
		case UBA_PERIOD_WEEK:
			return start + 7 * steps;
		case UBA_PERIOD_MONTH:
			j2date(start + POSTGRES_EPOCH_JDATE, &year, &month, &day);
			m = year * 12 + (month - 1) + steps;
			year = m >= 0 ? m / 12 : -((11 - m) / 12);	/* floor, for years before 1 */
			return date2j(year, m - year * 12 + 1, 1) - POSTGRES_EPOCH_JDATE;
		default:
			return start + steps;
	}
}

/*
 * An event time's local date: a timestamp as written, a timestamptz in the
 * session's time zone (as ts::date).  Infinite times are an error naming
 * the function.
 */
DateADT
uba_local_date(Datum ts, bool plain, const char *function)
{
	if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(ts)))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event times given to %s must be finite", function),
				 errhint("Leave rows with infinite times out, for example WHERE isfinite(ts).")));
	return DatumGetDateADT(DirectFunctionCall1(plain ? timestamp_date : timestamptz_date, ts));
}

/*
 * The local date of argument argno of a function declared for date,
 * timestamp or timestamptz: a date as it is (no time zone involved, so
 * that a Citus worker's cast in its own zone cannot move it), the others
 * as uba_local_date.
 */
DateADT
uba_arg_local_date(FunctionCallInfo fcinfo, int argno, const char *function)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, argno);

	if (typid == DATEOID)
	{
		DateADT		d = PG_GETARG_DATEADT(argno);

		if (DATE_NOT_FINITE(d))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("event times given to %s must be finite", function),
					 errhint("Leave rows with infinite times out, for example WHERE isfinite(ts).")));
		return d;
	}
	return uba_local_date(PG_GETARG_DATUM(argno), typid == TIMESTAMPOID, function);
}

static int
CompareDates(const void *a, const void *b)
{
	DateADT		x = *(const DateADT *) a;
	DateADT		y = *(const DateADT *) b;

	return (x > y) - (x < y);
}

/* Sort dates and keep each once, in place; the count kept */
int32
uba_dates_distinct(DateADT *dates, int32 n)
{
	int32		m = 0;

	qsort(dates, n, sizeof(DateADT), CompareDates);
	for (int32 i = 0; i < n; i++)
		if (m == 0 || dates[m - 1] != dates[i])
			dates[m++] = dates[i];
	return m;
}

/*
 * A positive interval in microseconds, counting a month as 30 days and a
 * day as 24 hours, as interval comparison does: "ts - prev > gap" in SQL
 * and in uba agree.  Saturates at the largest int64; what names the
 * argument in the error for zero and negative intervals.
 */
int64
uba_interval_usecs(const Interval *iv, const char *what)
{
	double		approx = (double) iv->month * DAYS_PER_MONTH * USECS_PER_DAY +
		(double) iv->day * USECS_PER_DAY + (double) iv->time;
	int64		months_us,
				days_us,
				us;

	if (pg_mul_s64_overflow((int64) iv->month, DAYS_PER_MONTH * USECS_PER_DAY, &months_us) ||
		pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &days_us) ||
		pg_add_s64_overflow(months_us, days_us, &us) ||
		pg_add_s64_overflow(us, iv->time, &us))
		us = approx > 0 ? PG_INT64_MAX : -1;
	if (us <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a positive interval", what),
				 errdetail("Got %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv))))));
	return us;
}

/*
 * Whether to - from > gap_us for to >= from, exactly: no overflow, and an
 * infinite time is later (or earlier) than any finite one by more than any
 * gap (the range's last day is not within a gap of infinity).  Two equal
 * infinities are no time apart.
 */
bool
uba_gap_exceeds(TimestampTz from, TimestampTz to, int64 gap_us)
{
	int64		diff;

	if (from == to)
		return false;
	if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to))
		return true;
	return pg_sub_s64_overflow(to, from, &diff) || diff > gap_us;
}

/*
 * The length of a boolean array argument (funnel steps, retention
 * conditions): it must have one dimension and at least one element.  what
 * names it in errors; hint shows an example.
 */
int
uba_bool_array_length(ArrayType *a, const char *what, const char *hint)
{
	if (ARR_NDIM(a) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be an empty array", what),
				 errhint("%s", hint)));
	if (ARR_NDIM(a) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what),
				 errdetail("Got %d dimensions.", ARR_NDIM(a))));
	return ARR_DIMS(a)[0];
}

/* The n elements of a checked boolean array into dst, NULL elements as false */
void
uba_bool_array_values(ArrayType *a, bool *dst, int n)
{
	const bool *v = (const bool *) ARR_DATA_PTR(a);
	const bits8 *nulls = ARR_NULLBITMAP(a);

	for (int i = 0; i < n; i++)
		dst[i] = (nulls == NULL || (nulls[i / 8] & (1 << (i % 8)))) ? *v++ : false;
}

/* The elements of a bigint[] of ids (one-dimensional); nulls[i] marks NULL elements */
void
uba_read_ids(ArrayType *a, const char *what, Datum **elems, bool **nulls, int *n)
{
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what),
				 errdetail("Got %d dimensions.", ARR_NDIM(a))));
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &typbyval, &typalign);
		deconstruct_array(a, ARR_ELEMTYPE(a), typlen, typbyval, typalign, elems, nulls, n);
	}
}

/* A result-size argument (n, top): not negative */
int32
uba_count_arg(int32 v, const char *what)
{
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what),
				 errdetail("Got %d.", v)));
	return v;
}

/*
 * The smallest count c with c / n >= share (a minimum support), the test
 * being exactly that comparison of doubles, so that a count at the
 * threshold is kept however the share rounds.
 */
int64
uba_min_count(double share, int64 n)
{
	int64		c = (int64) ceil(share * (double) n);

	c = Max(c, 1);
	while (c > 1 && (double) (c - 1) / (double) n >= share)
		c--;
	while ((double) c / (double) n < share)
		c++;
	return c;
}
