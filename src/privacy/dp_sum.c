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

static const UbaOptionSpec dp_sum_options[] = {
	{"max_contributions", UBA_OPT_INT, 1, 1, UBA_DP_MAX_CONTRIBUTIONS, NULL},
};

typedef struct DpRow
{
	uint64		unit;
	uint64		key;			/* secure random: which of a unit's rows are kept */
	double		value;			/* clamped */
} DpRow;

typedef struct DpSumState
{
	double		epsilon;
	double		lower;
	double		upper;
	Jsonb	   *options;
	int			max_contributions;
	int			kind;
	UbaNoiseSource src;
	DpRow	   *rows;
	int64		n;
	int64		cap;
} DpSumState;

/* Transition of uba_dp_sum and uba_dp_avg: keep the row's unit, clamped value and a random key */
Datum
uba_dp_sum_transfn(PG_FUNCTION_ARGS)
{
	DpSumState *st = PG_ARGISNULL(0) ? NULL : (DpSumState *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 6 && !PG_ARGISNULL(6)) ? PG_GETARG_JSONB_P(6) : NULL;
	double		v;

	for (int a = 3; a <= 5; a++)
		if (PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", a == 3 ? "lower" : a == 4 ? "upper" : "epsilon")));
	if (st == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
		UbaOptions	o;

		st = palloc0(sizeof(DpSumState));
		st->epsilon = uba_dp_check_epsilon(PG_GETARG_FLOAT8(5));
		st->lower = PG_GETARG_FLOAT8(3);
		st->upper = PG_GETARG_FLOAT8(4);
		if (!isfinite(st->lower) || !isfinite(st->upper) || st->lower > st->upper)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lower and upper must be finite, lower at most upper"),
					 errdetail("Got lower %g, upper %g.", st->lower, st->upper)));
		uba_parse_options(opts, dp_sum_options, lengthof(dp_sum_options), "uba_dp_sum", &o);
		st->max_contributions = (int) uba_option(&o, "max_contributions");
		st->options = opts ? (Jsonb *) PG_DETOAST_DATUM_COPY(PointerGetDatum(opts)) : NULL;
		st->kind = uba_id_kind(get_fn_expr_argtype(fcinfo->flinfo, 1), "privacy unit ids");
		uba_noise_secure(&st->src);
		st->cap = 1024;
		st->rows = palloc(sizeof(DpRow) * st->cap);
		MemoryContextSwitchTo(old);
	}
	else
	{
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(5), st->epsilon, "epsilon");
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(3), st->lower, "lower");
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(4), st->upper, "upper");
		uba_check_same_options(st->options, opts);
	}
	/* a row without a unit belongs to no one, a row without a value adds nothing */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	v = PG_GETARG_FLOAT8(2);
	if (isnan(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("values must not be NaN"),
				 errhint("Leave such rows out, or map them to a number first.")));
	if (st->n == st->cap)
		st->rows = uba_dp_grow(st->rows, &st->cap, sizeof(DpRow), "the differentially private sum");
	st->rows[st->n].unit = uba_dp_unit_key(PG_GETARG_DATUM(1), st->kind);
	st->rows[st->n].key = uba_noise_bits(&st->src);
	st->rows[st->n].value = Min(Max(v, st->lower), st->upper);
	st->n++;
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
 * The noisy sum of the kept rows at privacy loss epsilon, and (kept !=
 * NULL) the number of kept rows.
 */
static double
NoisySum(DpSumState *st, double epsilon, int64 *kept)
{
	double		bound = Max(fabs(st->lower), fabs(st->upper));
	double		scale,
				g;
	int			e;
	uint64		steps;
	__int128	sum = 0;
	int64		n = 0;

	qsort(st->rows, st->n, sizeof(DpRow), CompareRows);
	/* the grid: the largest power of two at most the noise's scale / 1024 */
	scale = st->max_contributions * bound / epsilon;
	if (!(bound > 0))
		g = 1;
	else
	{
		(void) frexp(scale / UBA_NOISE_DENOM, &e);
		g = ldexp(1.0, e - 1);
	}
	steps = (uint64) ceil(bound / g);
	for (int64 i = 0; i < st->n;)
	{
		int64		j = i,
					taken = 0;

		for (; j < st->n && st->rows[j].unit == st->rows[i].unit; j++)
			if (taken < st->max_contributions)
			{
				sum += (__int128) llround(st->rows[j].value / g);
				taken++;
			}
		n += taken;
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (kept)
		*kept = n;
	if (!(bound > 0))
		return 0;				/* every value is 0: nothing to protect */
	sum += uba_discrete_laplace(&st->src, UBA_NOISE_DENOM,
								uba_noise_rational((double) st->max_contributions * steps / epsilon,
												   UBA_NOISE_MAX_SCALE, "scale"));
	return (double) sum * g;
}

/* uba_dp_sum final: the noisy sum */
Datum
uba_dp_sum_final(PG_FUNCTION_ARGS)
{
	DpSumState *st = PG_ARGISNULL(0) ? NULL : (DpSumState *) PG_GETARG_POINTER(0);

	if (st == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(NoisySum(st, st->epsilon, NULL));
}

/* uba_dp_avg final: a noisy sum over a noisy count, half of epsilon each, clamped to [lower, upper] */
Datum
uba_dp_avg_final(PG_FUNCTION_ARGS)
{
	DpSumState *st = PG_ARGISNULL(0) ? NULL : (DpSumState *) PG_GETARG_POINTER(0);
	double		sum;
	int64		kept,
				count;

	if (st == NULL)
		PG_RETURN_NULL();
	sum = NoisySum(st, st->epsilon / 2, &kept);
	count = uba_dp_noisy_count(kept, st->max_contributions, st->epsilon / 2);
	if (count < 1)
		PG_RETURN_FLOAT8((st->lower + st->upper) / 2);
	PG_RETURN_FLOAT8(Min(Max(sum / (double) count, st->lower), st->upper));
}
