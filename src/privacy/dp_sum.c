/*-------------------------------------------------------------------------
 *
 * dp_sum.c
 *	  uba_dp_sum and uba_dp_avg(unit_id, value, lower, upper, epsilon
 *	  [, options]): differentially private sums and means of values
 *	  clamped to [lower, upper], each privacy unit contributing at most
 *	  max_contributions rows.
 *
 * A unit with more rows keeps a uniformly random subset of them: each row
 * gets a key from secure random bits and a unit's rows with the smallest
 * keys are kept (not the first ones, nor ones chosen by the unit's id).
 * Values are clamped and put on a grid of a power of two g, about the
 * noise's scale / 1024; the sum is an integer number of grid steps plus
 * discrete Laplace noise (noise.c) of scale max_contributions *
 * ceil(max(|lower|, |upper|) / g) / epsilon steps, which bounds what one
 * unit can add or remove: epsilon-DP.  The released value is that integer
 * times g, exact in floating point, so its low bits carry nothing but the
 * noisy integer (no Mironov-style leak).  A mean spends half of epsilon on
 * the sum and half on the count of kept rows (sensitivity
 * max_contributions) and releases their ratio clamped to [lower, upper]
 * (the midpoint when the noisy count is below 1): post-processing.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(uba_dp_sum_transfn);
PG_FUNCTION_INFO_V1(uba_dp_sum_final);
PG_FUNCTION_INFO_V1(uba_dp_avg_final);

typedef struct DpSumState
{
	UbaDp		dp;
	DpValues	vals;
} DpSumState;

/*
 * One row of a sum, mean or quantile: the bounds (arguments lower_arg and
 * the next, checked on the first row, the same on every later one), then
 * the row's unit (argument 1), a secure random key and its value (argument
 * 2) clamped.  A row without a unit belongs to no one, a row without a
 * value adds nothing.
 */
void
uba_dp_values_row(FunctionCallInfo fcinfo, DpValues *vals, const UbaDp *dp, bool first, int lower_arg)
{
	double		v;

	for (int a = lower_arg; a <= lower_arg + 1; a++)
		if (PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", a == lower_arg ? "lower" : "upper")));
	if (first)
	{
		vals->lower = PG_GETARG_FLOAT8(lower_arg);
		vals->upper = PG_GETARG_FLOAT8(lower_arg + 1);
		if (!isfinite(vals->lower) || !isfinite(vals->upper) || vals->lower > vals->upper)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lower and upper must be finite, lower at most upper"),
					 errdetail("Got lower %g, upper %g.", vals->lower, vals->upper)));
		uba_noise_secure(&vals->src);
		vals->cap = 1024;
		vals->rows = MemoryContextAlloc(uba_agg_context(fcinfo), sizeof(DpRow) * vals->cap);
	}
	else
	{
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(lower_arg), vals->lower, "lower");
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(lower_arg + 1), vals->upper, "upper");
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return;
	v = PG_GETARG_FLOAT8(2);
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("values must not be NaN"),
				 errhint("Leave such rows out, or map them to a number first.")));
	if (vals->n == vals->cap)
	{
		MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));

		vals->rows = uba_dp_grow(vals->rows, &vals->cap, sizeof(DpRow), "the differentially private values");
		MemoryContextSwitchTo(old);
	}
	vals->rows[vals->n].unit = uba_dp_unit_key(PG_GETARG_DATUM(1), dp->kind);
	vals->rows[vals->n].key = uba_noise_bits(&vals->src);
	vals->rows[vals->n].value = Min(Max(v, vals->lower), vals->upper);
	vals->n++;
}

/* Transition of uba_dp_sum and uba_dp_avg(unit_id, value, lower, upper, epsilon [, options]) */
Datum
uba_dp_sum_transfn(PG_FUNCTION_ARGS)
{
	DpSumState *st = PG_ARGISNULL(0) ? NULL : (DpSumState *) PG_GETARG_POINTER(0);
	bool		first = st == NULL;

	if (first)
	{
		st = MemoryContextAllocZero(uba_agg_context(fcinfo), sizeof(DpSumState));
		uba_dp_init(&st->dp, fcinfo, 5, 6, "uba_dp_sum");
	}
	else
		uba_dp_check_row(&st->dp, fcinfo, 5, 6);
	uba_dp_values_row(fcinfo, &st->vals, &st->dp, first, 3);
	PG_RETURN_POINTER(st);
}

static int
CompareRows(const void *a, const void *b)
{
	const DpRow *x = (const DpRow *) a,
			   *y = (const DpRow *) b;

	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * Keep each unit's cap rows of smallest random key: sorts the rows, moves
 * the kept ones to the front and returns the number of distinct units
 * (*kept: the kept rows).  Sums and quantiles bound contributions so.
 */
int64
uba_dp_keep_rows(DpRow *rows, int64 n, int cap, int64 *kept)
{
	int64		units = 0,
				out = 0;

	qsort(rows, n, sizeof(DpRow), CompareRows);
	for (int64 i = 0; i < n;)
	{
		int64		j = i;

		for (; j < n && rows[j].unit == rows[i].unit; j++)
			if (j - i < cap)
				rows[out++] = rows[j];
		units++;
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*kept = out;
	return units;
}

/*
 * The grid of a sum released at privacy loss epsilon: the largest power of
 * two at most the noise's scale / 1024 (1 when every value is 0)
 */
static double
Grid(DpSumState *st, double epsilon)
{
	double		bound = Max(fabs(st->vals.lower), fabs(st->vals.upper));
	int			e;

	if (!(bound > 0))
		return 1;
	(void) frexp(uba_dp_sensitivity(&st->dp, st->dp.max_contributions) * bound / epsilon / UBA_NOISE_DENOM, &e);
	return ldexp(1.0, e - 1);
}

/* A sum of steps of the grid g made noisy at privacy loss epsilon, as a value */
static double
NoisySum(DpSumState *st, __int128 sum, double g, double epsilon)
{
	double		bound = Max(fabs(st->vals.lower), fabs(st->vals.upper));
	uint64		steps = (uint64) ceil(bound / g);

	if (!(bound > 0))
		return 0;				/* every value is 0: nothing to protect */
	sum += uba_discrete_laplace(&st->vals.src, UBA_NOISE_DENOM,
								uba_noise_rational(uba_dp_sensitivity(&st->dp, st->dp.max_contributions) * steps / epsilon,
												   UBA_NOISE_MAX_SCALE, "scale"));
	return (double) sum * g;
}

/*
 * Both finals: the kept rows, the group's selection (grouped: half of
 * epsilon), and the epsilon left for the value (0: not released)
 */
static double
Prepare(FunctionCallInfo fcinfo, DpSumState *st, double share, double *g, __int128 *sum, int64 *kept)
{
	int64		units = uba_dp_keep_rows(st->vals.rows, st->vals.n, st->dp.max_contributions, kept);

	/* the grid depends on the value's epsilon, known once the release is known to be grouped */
	*g = Grid(st, (st->dp.grouped ? st->dp.epsilon / 2 : st->dp.epsilon) * share);
	*sum = 0;
	for (int64 i = 0; i < *kept; i++)
		*sum += (__int128) llround(st->vals.rows[i].value / *g);
	return uba_dp_select_units(&st->dp, units);
}

/* uba_dp_sum final: the noisy sum */
Datum
uba_dp_sum_final(PG_FUNCTION_ARGS)
{
	DpSumState *st = PG_ARGISNULL(0) ? NULL : (DpSumState *) PG_GETARG_POINTER(0);
	double		g,
				epsilon;
	__int128	sum;
	int64		kept;

	if (st == NULL)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	epsilon = Prepare(fcinfo, st, 1, &g, &sum, &kept);
	if (epsilon == 0)
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	return uba_dp_end(fcinfo, &st->dp, Float8GetDatum(NoisySum(st, sum, g, epsilon)), false);
}

/* uba_dp_avg final: a noisy sum over a noisy count, half of epsilon each, clamped to [lower, upper] */
Datum
uba_dp_avg_final(PG_FUNCTION_ARGS)
{
	DpSumState *st = PG_ARGISNULL(0) ? NULL : (DpSumState *) PG_GETARG_POINTER(0);
	double		g,
				epsilon,
				noisy_sum,
				mean;
	__int128	sum;
	int64		kept,
				count;

	if (st == NULL)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	epsilon = Prepare(fcinfo, st, 0.5, &g, &sum, &kept);
	if (epsilon == 0)
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	noisy_sum = NoisySum(st, sum, g, epsilon / 2);
	count = uba_dp_noisy_count(kept, uba_dp_sensitivity(&st->dp, st->dp.max_contributions), epsilon / 2);
	if (count < 1)
		mean = (st->vals.lower + st->vals.upper) / 2;
	else
		mean = Min(Max(noisy_sum / (double) count, st->vals.lower), st->vals.upper);
	return uba_dp_end(fcinfo, &st->dp, Float8GetDatum(mean), false);
}
