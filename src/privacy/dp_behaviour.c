/*-------------------------------------------------------------------------
 *
 * dp_behaviour.c
 *	  Differentially private funnels and retention, on the per-user rows
 *	  uba_funnel and uba_retention make:
 *
 *	  uba_dp_funnel(unit_id, depth, steps, epsilon [, options]) -> bigint[]:
 *	    the noisy number of units that reached each step;
 *	  uba_dp_retention(unit_id, retained boolean[], epsilon [, options])
 *	    -> bigint[]: the noisy number of units with each element true
 *	    (uba_retention's: the cohort, then who returned in each period).
 *
 * A unit's rows are first merged (its deepest step; its conditions or-ed),
 * so each unit counts once however many rows it has.  The funnel releases
 * the histogram of depths 1 .. steps (a unit is in one bin: sensitivity 1)
 * and sums it from the deepest step up, so the noise of the users at step
 * i is that of steps - i + 1 bins and the counts never grow with the step;
 * retention releases each element's count with noise of scale k / epsilon
 * (a unit can be in all k).  Under GROUP BY (a cohort per row, say) a group
 * is selected as every DP aggregate's are (release.c).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(uba_dp_funnel_transfn);
PG_FUNCTION_INFO_V1(uba_dp_funnel_final);
PG_FUNCTION_INFO_V1(uba_dp_retention_transfn);
PG_FUNCTION_INFO_V1(uba_dp_retention_final);

#define DP_MAX_STEPS 64

typedef struct DpUnitValue
{
	uint64		unit;
	uint64		value;			/* a depth, or a bit per retention element */
} DpUnitValue;

typedef struct DpBehaviourState
{
	UbaDp		dp;
	int			k;				/* steps, or retention elements */
	DpUnitValue *rows;
	int64		n;
	int64		cap;
} DpBehaviourState;

static DpBehaviourState *
NewState(FunctionCallInfo fcinfo, int epsilon_arg, int options_arg, const char *fname)
{
	MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	DpBehaviourState *st = palloc0(sizeof(DpBehaviourState));

	uba_dp_init(&st->dp, fcinfo, epsilon_arg, options_arg, fname);
	if (st->dp.max_contributions != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s takes no option \"max_contributions\"", fname),
				 errdetail("Each unit counts once: its rows are merged first.")));
	st->cap = 1024;
	st->rows = palloc(sizeof(DpUnitValue) * st->cap);
	MemoryContextSwitchTo(old);
	return st;
}

static void
AddRow(FunctionCallInfo fcinfo, DpBehaviourState *st, uint64 value)
{
	if (st->n == st->cap)
		st->rows = uba_dp_grow(st->rows, &st->cap, sizeof(DpUnitValue), "the differentially private counts");
	st->rows[st->n].unit = uba_dp_unit_key(PG_GETARG_DATUM(1), st->dp.kind);
	st->rows[st->n].value = value;
	st->n++;
}

static int
CompareUnits(const void *a, const void *b)
{
	uint64		x = ((const DpUnitValue *) a)->unit,
				y = ((const DpUnitValue *) b)->unit;

	return x < y ? -1 : x > y;
}

/* Merge each unit's rows into its first (deepest depth, or or-ed bits); returns the units */
static int64
MergeUnits(DpBehaviourState *st, bool bits)
{
	int64		out = 0;

	qsort(st->rows, st->n, sizeof(DpUnitValue), CompareUnits);
	for (int64 i = 0; i < st->n;)
	{
		DpUnitValue u = st->rows[i];
		int64		j = i + 1;

		for (; j < st->n && st->rows[j].unit == u.unit; j++)
			u.value = bits ? (u.value | st->rows[j].value) : Max(u.value, st->rows[j].value);
		st->rows[out++] = u;
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	st->n = out;
	return out;
}

static Datum
Int8Array(int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* uba_dp_funnel transition: the row's unit and depth (0 .. steps; NULL: the row is left out) */
Datum
uba_dp_funnel_transfn(PG_FUNCTION_ARGS)
{
	DpBehaviourState *st = PG_ARGISNULL(0) ? NULL : (DpBehaviourState *) PG_GETARG_POINTER(0);
	int32		depth;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("steps must not be NULL")));
	if (st == NULL)
	{
		int32		steps = PG_GETARG_INT32(3);

		if (steps < 1 || steps > DP_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("steps must be between 1 and %d", DP_MAX_STEPS),
					 errdetail("Got %d.", steps)));
		st = NewState(fcinfo, 4, 5, "uba_dp_funnel");
		st->k = steps;
	}
	else
	{
		uba_dp_check_row(&st->dp, fcinfo, 4, 5);
		uba_dp_same_on_every_row(PG_GETARG_INT32(3), st->k, "steps");
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	depth = PG_GETARG_INT32(2);
	if (depth < 0 || depth > st->k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a funnel depth must be between 0 and steps (%d)", st->k),
				 errdetail("Got %d.", depth),
				 errhint("Pass uba_funnel's result per user, and the number of its steps.")));
	AddRow(fcinfo, st, (uint64) depth);
	PG_RETURN_POINTER(st);
}

/* uba_dp_funnel final: units at each step, from a noisy histogram of depths summed from the deepest */
Datum
uba_dp_funnel_final(PG_FUNCTION_ARGS)
{
	DpBehaviourState *st = PG_ARGISNULL(0) ? NULL : (DpBehaviourState *) PG_GETARG_POINTER(0);
	int64		hist[DP_MAX_STEPS + 1] = {0},
				at_step[DP_MAX_STEPS];
	int64		units,
				reached = 0;
	double		epsilon;

	if (st == NULL)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	units = MergeUnits(st, false);
	epsilon = uba_dp_select_units(&st->dp, units);
	if (epsilon == 0)
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	for (int64 i = 0; i < st->n; i++)
		hist[st->rows[i].value]++;
	/* from the deepest step up: the units at step i are those whose depth is i or more */
	for (int i = st->k; i >= 1; i--)
	{
		reached += uba_dp_noisy_count(hist[i], uba_dp_sensitivity(&st->dp, 1), epsilon);
		at_step[i - 1] = reached;
	}
	return uba_dp_end(fcinfo, &st->dp, Int8Array(at_step, st->k), false);
}

/* uba_dp_retention transition: the row's unit and its conditions as bits (NULL elements: false) */
Datum
uba_dp_retention_transfn(PG_FUNCTION_ARGS)
{
	DpBehaviourState *st = PG_ARGISNULL(0) ? NULL : (DpBehaviourState *) PG_GETARG_POINTER(0);
	ArrayType  *a;
	bool		held[DP_MAX_STEPS];
	uint64		bits = 0;
	int			n;

	if (st == NULL)
		st = NewState(fcinfo, 3, 4, "uba_dp_retention");
	else
		uba_dp_check_row(&st->dp, fcinfo, 3, 4);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	a = PG_GETARG_ARRAYTYPE_P(2);
	n = uba_bool_array_length(a, "retention conditions",
							  "Pass uba_retention's result per user: the cohort first, then one element per period.");
	if (n > DP_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention arrays must have at most %d elements", DP_MAX_STEPS),
				 errdetail("Got %d.", n)));
	if (st->k == 0)
		st->k = n;
	else if (n != st->k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention arrays must have the same length on every row"),
				 errdetail("Got %d after %d.", n, st->k)));
	uba_bool_array_values(a, held, n);
	for (int i = 0; i < n; i++)
		if (held[i])
			bits |= (uint64) 1 << i;
	AddRow(fcinfo, st, bits);
	PG_RETURN_POINTER(st);
}

/* uba_dp_retention final: each element's units, noise of scale k / epsilon each */
Datum
uba_dp_retention_final(PG_FUNCTION_ARGS)
{
	DpBehaviourState *st = PG_ARGISNULL(0) ? NULL : (DpBehaviourState *) PG_GETARG_POINTER(0);
	int64		counts[DP_MAX_STEPS] = {0};
	int64		units;
	double		epsilon;

	if (st == NULL || st->k == 0)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	units = MergeUnits(st, true);
	epsilon = uba_dp_select_units(&st->dp, units);
	if (epsilon == 0)
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	for (int64 i = 0; i < st->n; i++)
		for (int j = 0; j < st->k; j++)
			counts[j] += (st->rows[i].value >> j) & 1;
	for (int j = 0; j < st->k; j++)
		counts[j] = uba_dp_noisy_count(counts[j], uba_dp_sensitivity(&st->dp, st->k), epsilon);
	return uba_dp_end(fcinfo, &st->dp, Int8Array(counts, st->k), false);
}
