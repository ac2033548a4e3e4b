/*-------------------------------------------------------------------------
 *
 * release.c
 *	  What every differentially private aggregate does the same way: its
 *	  arguments and options, and the release of its value (the charge to
 *	  the privacy budget, partition selection under GROUP BY, and one
 *	  value per group however often the executor finalizes it).
 *
 * Grouped releases.  A unit may add rows to up to max_groups groups (the
 * option is the caller's promise; doc/privacy.md shows how to keep it),
 * so the noise of each group's value is scaled by max_groups, and a group
 * is released only if a noisy count of its units passes a threshold: a
 * group whose only unit is one customer then appears with probability at
 * most delta / max_groups, and a unit's presence changes which groups
 * appear with probability at most delta (Korolova et al. 2009; Google's
 * differential-privacy library calls it partition selection).  Without
 * GROUP BY there is one group whatever the data, and nothing to select.
 *
 * Charges.  A release with the dataset option is charged to the privacy
 * budget (budget.c) before its value is computed: once per aggregate per
 * scan of its Agg node, covering every group of the scan (they are
 * disjoint up to max_groups, which the noise already pays for).  A rescan
 * (a subquery run again with new parameters) is a new release and is
 * charged again: the Agg node's expression context is rescanned with it,
 * which runs the callback that forgets the charge.  A state finalized
 * twice (a hash table read again on rescan) gives the value it gave the
 * first time: new noise on the same rows would be a new release.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include <math.h>

#include "miscadmin.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

static const UbaOptionSpec dp_options[] = {
	{"max_contributions", UBA_OPT_INT, 1, 1, UBA_DP_MAX_CONTRIBUTIONS, NULL},
	{"max_groups", UBA_OPT_INT, 1, 1, UBA_DP_MAX_CONTRIBUTIONS, NULL},
	{"delta", UBA_OPT_FLOAT, 0, 0, 0.5, NULL},
	{"dataset", UBA_OPT_TEXT, 0, 0, 0, NULL},
};

/* epsilon: positive, finite, at most UBA_DP_MAX_EPSILON */
double
uba_dp_check_epsilon(double epsilon)
{
	if (!(epsilon > 0) || !(epsilon <= UBA_DP_MAX_EPSILON))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("epsilon must be greater than 0 and at most %g", UBA_DP_MAX_EPSILON),
				 errdetail("Got %g.", epsilon),
				 errhint("Epsilon is the privacy loss of one release: 0.1 to 1 is usual.")));
	return epsilon;
}

/* An argument that must be the same on every row of an aggregate */
void
uba_dp_same_on_every_row(double got, double first, const char *what)
{
	if (got != first)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be the same on every row", what),
				 errdetail("Got %g after %g.", got, first)));
}

/*
 * The first row of a DP aggregate: epsilon (argument epsilon_arg), the
 * options (options_arg, or -1 when the aggregate takes none) and the kind
 * of the units (argument 1), kept in the aggregate's memory context.
 */
void
uba_dp_init(UbaDp *dp, FunctionCallInfo fcinfo, int epsilon_arg, int options_arg, const char *fname)
{
	Jsonb	   *opts = NULL;
	UbaOptions	o;
	const char *dataset;
	MemoryContext old;

	if (PG_ARGISNULL(epsilon_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("epsilon must not be NULL")));
	if (options_arg >= 0 && PG_NARGS() > options_arg && !PG_ARGISNULL(options_arg))
		opts = PG_GETARG_JSONB_P(options_arg);
	memset(dp, 0, sizeof(UbaDp));
	old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	dp->epsilon = uba_dp_check_epsilon(PG_GETARG_FLOAT8(epsilon_arg));
	uba_parse_options(opts, dp_options, lengthof(dp_options), fname, &o);
	dp->max_contributions = (int) uba_option(&o, "max_contributions");
	dp->max_groups = (int) uba_option(&o, "max_groups");
	dp->delta = uba_option(&o, "delta");
	dataset = uba_option_text(&o, "dataset");
	dp->dataset = dataset ? pstrdup(dataset) : NULL;
	dp->options = opts ? (Jsonb *) PG_DETOAST_DATUM_COPY(PointerGetDatum(opts)) : NULL;
	dp->kind = uba_id_kind(get_fn_expr_argtype(fcinfo->flinfo, 1), "privacy unit ids");
	MemoryContextSwitchTo(old);
}

/* Every later row: the same epsilon and options */
void
uba_dp_check_row(UbaDp *dp, FunctionCallInfo fcinfo, int epsilon_arg, int options_arg)
{
	if (PG_ARGISNULL(epsilon_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("epsilon must not be NULL")));
	uba_dp_same_on_every_row(PG_GETARG_FLOAT8(epsilon_arg), dp->epsilon, "epsilon");
	uba_check_same_options(dp->options,
						   (options_arg >= 0 && PG_NARGS() > options_arg && !PG_ARGISNULL(options_arg))
						   ? PG_GETARG_JSONB_P(options_arg) : NULL);
}

/* What one aggregate of one Agg node has charged in the current scan */
typedef struct DpScan
{
	bool		charged;
} DpScan;

static void
ForgetCharge(Datum arg)
{
	((DpScan *) DatumGetPointer(arg))->charged = false;
}

/*
 * The start of a final function: true when this state was released before
 * (the caller returns uba_dp_end's memo at once).  Otherwise decides
 * whether the release is grouped, and charges the budget once per scan.
 */
bool
uba_dp_begin(FunctionCallInfo fcinfo, UbaDp *dp)
{
	int			context = AggCheckCallContext(fcinfo, NULL);
	DpScan	   *scan;

	if (dp->released)
		return true;
	if (context == AGG_CONTEXT_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("differentially private aggregates cannot be used as window functions"),
				 errdetail("Every window frame would be a release of its own.")));
	if (context != AGG_CONTEXT_AGGREGATE || !IsA(fcinfo->context, AggState))
		elog(ERROR, "differentially private aggregate final function called outside an aggregate");
	dp->grouped = ((AggState *) fcinfo->context)->aggstrategy != AGG_PLAIN;
	if (dp->grouped && !(dp->delta > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a differentially private aggregate under GROUP BY needs the option \"delta\""),
				 errdetail("Which groups exist depends on the data: a group is released only when a noisy count of its units passes a threshold set by epsilon and delta."),
				 errhint("Add {\"delta\": 1e-6} or smaller: the probability that one customer's presence shows.")));
	if (dp->dataset == NULL)
		return false;
	scan = (DpScan *) fcinfo->flinfo->fn_extra;
	if (scan == NULL)
	{
		scan = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(DpScan));
		fcinfo->flinfo->fn_extra = scan;
	}
	if (!scan->charged)
	{
		uba_dp_charge(get_func_namespace(fcinfo->flinfo->fn_oid), dp->dataset, dp->epsilon, dp->grouped ? dp->delta : 0);
		scan->charged = true;
		RegisterExprContextCallback(((AggState *) fcinfo->context)->ss.ps.ps_ExprContext,
									ForgetCharge, PointerGetDatum(scan));
	}
	return false;
}

/* The end of a final function: remember the value (NULL: suppressed or no rows) and return it */
Datum
uba_dp_end(FunctionCallInfo fcinfo, UbaDp *dp, Datum value, bool isnull)
{
	if (!dp->released)
	{
		dp->released = true;
		dp->released_null = isnull;
		dp->released_value = value;
	}
	fcinfo->isnull = dp->released_null;
	return dp->released_value;
}

/* How much one unit can move a statistic to which it adds at most per_unit in each group */
double
uba_dp_sensitivity(const UbaDp *dp, double per_unit)
{
	return per_unit * (dp->grouped ? dp->max_groups : 1);
}

/*
 * Partition selection: whether a group is released, given a count to
 * which one unit adds at most per_unit, made noisy with discrete Laplace
 * noise of scale t (as sampled: rounded up to a multiple of 1/1024).  A
 * group of one unit has a true count of at most per_unit, and the noise
 * exceeds k with probability p^k / (1 + p) < exp(-k / t): the threshold
 * per_unit + ceil(t ln(max_groups / delta)) passes with probability below
 * delta / max_groups.  Ungrouped releases are always kept.
 */
bool
uba_dp_selected(const UbaDp *dp, int64 noisy, double per_unit, double scale)
{
	double		t,
				threshold;

	if (!dp->grouped)
		return true;
	t = (double) uba_noise_rational(scale, UBA_NOISE_MAX_SCALE, "scale") / UBA_NOISE_DENOM;
	threshold = per_unit + ceil(t * log(dp->max_groups / dp->delta));
	return (double) noisy >= threshold;
}

/*
 * For aggregates whose value is not a count of units (sums, means,
 * quantiles): grouped, half of epsilon selects the group on its noisy
 * number of distinct units; returns the epsilon left for the value, or 0
 * when the group is not released.
 */
double
uba_dp_select_units(const UbaDp *dp, int64 units)
{
	double		scale;

	if (!dp->grouped)
		return dp->epsilon;
	scale = uba_dp_sensitivity(dp, 1) / (dp->epsilon / 2);
	if (!uba_dp_selected(dp, uba_dp_noisy_count(units, uba_dp_sensitivity(dp, 1), dp->epsilon / 2), 1, scale))
		return 0;
	return dp->epsilon / 2;
}
