/*-------------------------------------------------------------------------
 *
 * dp_quantile.c
 *	  uba_dp_quantile(unit_id, value, q, lower, upper, epsilon [, options]):
 *	  a differentially private quantile of values clamped to [lower, upper].
 *
 * A tree of noisy counts (as Google's differential-privacy library and
 * Cormode et al.'s hierarchical histograms do): [lower, upper] is cut into
 * 16 equal parts, each of those into 16, four levels deep (65,536 leaves).
 * Every node's count of the kept values below it gets discrete Laplace
 * noise; a unit's max_contributions values are in one node per level, so
 * scale 4 max_contributions / epsilon makes the whole tree epsilon-DP.
 * The quantile walks down from the root into the child where the noisy
 * counts' running sum crosses q of their total, and interpolates in the
 * last leaf.  Only the nodes the walk reads are drawn (the others would
 * not change the answer): a function of integer noisy counts and the
 * public bounds, so its floating-point bits carry nothing else.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include <math.h>

#include "miscadmin.h"

PG_FUNCTION_INFO_V1(uba_dp_quantile_transfn);
PG_FUNCTION_INFO_V1(uba_dp_quantile_final);

#define TREE_BRANCHES 16
#define TREE_LEVELS 4

typedef struct DpQuantileState
{
	UbaDp		dp;
	double		q;
	DpValues	vals;
} DpQuantileState;

/* Transition: q, then the row as for sums (its unit, a secure random key, its clamped value) */
Datum
uba_dp_quantile_transfn(PG_FUNCTION_ARGS)
{
	DpQuantileState *st = PG_ARGISNULL(0) ? NULL : (DpQuantileState *) PG_GETARG_POINTER(0);
	bool		first = st == NULL;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("q must not be NULL")));
	if (first)
	{
		st = MemoryContextAllocZero(uba_agg_context(fcinfo), sizeof(DpQuantileState));
		st->q = PG_GETARG_FLOAT8(3);
		if (!(st->q >= 0 && st->q <= 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("q must be between 0 and 1"),
					 errdetail("Got %g.", st->q)));
		uba_dp_init(&st->dp, fcinfo, 6, 7, "uba_dp_quantile");
	}
	else
	{
		uba_dp_check_row(&st->dp, fcinfo, 6, 7);
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(3), st->q, "q");
	}
	uba_dp_values_row(fcinfo, &st->vals, &st->dp, first, 4);
	PG_RETURN_POINTER(st);
}

/* The leaf (0 .. 16^4 - 1) of a clamped value */
static int64
Leaf(const DpQuantileState *st, double v)
{
	int64		leaves = (int64) 1 << (4 * TREE_LEVELS);
	int64		leaf = (int64) floor((v - st->vals.lower) / (st->vals.upper - st->vals.lower) * (double) leaves);

	return Min(Max(leaf, 0), leaves - 1);
}

/* uba_dp_quantile final: the walk down the tree of noisy counts */
Datum
uba_dp_quantile_final(PG_FUNCTION_ARGS)
{
	DpQuantileState *st = PG_ARGISNULL(0) ? NULL : (DpQuantileState *) PG_GETARG_POINTER(0);
	int64		kept,
				units,
				first = 0,		/* the current node's first leaf */
				width = (int64) 1 << (4 * TREE_LEVELS);
	double		epsilon,
				q,
				result;
	uint64		scale;
	int64	   *leaves;

	if (st == NULL)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	units = uba_dp_keep_rows(st->vals.rows, st->vals.n, st->dp.max_contributions, &kept);
	epsilon = uba_dp_select_units(&st->dp, units);
	if (epsilon == 0)
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	if (st->vals.lower == st->vals.upper)
		return uba_dp_end(fcinfo, &st->dp, Float8GetDatum(st->vals.lower), false);
	scale = uba_noise_rational(uba_dp_sensitivity(&st->dp, (double) st->dp.max_contributions * TREE_LEVELS) / epsilon,
							   UBA_NOISE_MAX_SCALE, "scale");
	uba_check_memory(mul_size(sizeof(int64), Max(kept, 1)), "the differentially private quantile");
	leaves = palloc(sizeof(int64) * Max(kept, 1));
	for (int64 i = 0; i < kept; i++)
		leaves[i] = Leaf(st, st->vals.rows[i].value);

	q = st->q;
	for (int level = 0; level < TREE_LEVELS; level++)
	{
		int64		child = width / TREE_BRANCHES;
		int64		counts[TREE_BRANCHES] = {0};
		double		total = 0,
					target,
					below = 0;
		int			pick;

		for (int64 i = 0; i < kept; i++)
			if (leaves[i] >= first && leaves[i] < first + width)
				counts[(leaves[i] - first) / child]++;
		for (int b = 0; b < TREE_BRANCHES; b++)
		{
			counts[b] += uba_discrete_laplace(&st->vals.src, UBA_NOISE_DENOM, scale);
			counts[b] = Max(counts[b], 0);
			total += (double) counts[b];
		}
		if (total == 0)
		{
			/* nothing left to tell the children apart: the node's middle */
			q = 0.5;
			break;
		}
		target = q * total;
		for (pick = 0; pick < TREE_BRANCHES - 1; pick++)
		{
			if (below + (double) counts[pick] >= target && counts[pick] > 0)
				break;
			below += (double) counts[pick];
		}
		q = counts[pick] > 0 ? Min(Max((target - below) / (double) counts[pick], 0), 1) : 0.5;
		first += pick * child;
		width = child;
		CHECK_FOR_INTERRUPTS();
	}
	result = st->vals.lower + ((double) first + q * (double) width) /
		(double) ((int64) 1 << (4 * TREE_LEVELS)) * (st->vals.upper - st->vals.lower);
	pfree(leaves);
	return uba_dp_end(fcinfo, &st->dp, Float8GetDatum(Min(Max(result, st->vals.lower), st->vals.upper)), false);
}
