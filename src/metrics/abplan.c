/*-------------------------------------------------------------------------
 *
 * abplan.c
 *	  Planning an A/B test: uba_ab_sample_size (units per variant to detect
 *	  a relative lift) and uba_ab_mde (the smallest relative lift a number
 *	  of units detects), as statsmodels' NormalIndPower solves them.
 *
 * A two-sided z-test of two equal groups of n units has power
 * Phi(d sqrt(n / 2) - z) + Phi(-z - d sqrt(n / 2)), z = Phi^-1(1 - a / 2),
 * d the standardized effect: for a mean, baseline * mde / std_dev; for a
 * proportion (no std_dev), Cohen's h = 2 asin sqrt(p2) - 2 asin sqrt(p1)
 * with p2 = baseline (1 + mde).  Power grows with n and with d, so both
 * are found by bisection to the last bit.  With several treatments each
 * is tested at alpha / (variants - 1) (Bonferroni, as uba_ab_test's
 * intervals).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "utils/float.h"

PG_FUNCTION_INFO_V1(uba_ab_sample_size);
PG_FUNCTION_INFO_V1(uba_ab_mde);

typedef struct Plan
{
	double		baseline;
	double		std_dev;		/* NaN: a proportion */
	double		alpha;			/* per comparison */
	double		power;
} Plan;

static double
Power(double d, double n, double alpha)
{
	double		z = uba_norm_quantile(1 - alpha / 2),
				s = d * sqrt(n / 2);

	return uba_norm_cdf(s - z) + uba_norm_cdf(-z - s);
}

/* baseline, std_dev (NULL: a proportion), then alpha, power and variants from argument 3 */
static void
ReadPlan(FunctionCallInfo fcinfo, int baseline_arg, int std_arg, Plan *p)
{
	int32		variants;

	for (int a = 0; a < 6; a++)
		if (a != std_arg && PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only std_dev may be NULL (for a proportion)")));
	p->baseline = PG_GETARG_FLOAT8(baseline_arg);
	p->std_dev = PG_ARGISNULL(std_arg) ? get_float8_nan() : PG_GETARG_FLOAT8(std_arg);
	p->alpha = PG_GETARG_FLOAT8(3);
	p->power = PG_GETARG_FLOAT8(4);
	variants = PG_GETARG_INT32(5);
	if (!(p->alpha > 0 && p->alpha < 1) || !(p->power > 0 && p->power < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha and power must be between 0 and 1"),
				 errdetail("Got alpha %g, power %g.", p->alpha, p->power)));
	if (variants < 2 || variants > 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("variants must be between 2 and 32"),
				 errdetail("Got %d.", variants)));
	if (isnan(p->std_dev) ? !(p->baseline > 0 && p->baseline < 1) : !(p->baseline != 0 && isfinite(p->baseline)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(isnan(p->std_dev) ? "a baseline proportion must be between 0 and 1"
						: "the baseline mean must be finite and not 0"),
				 errdetail("Got %g.", p->baseline)));
	if (!isnan(p->std_dev) && !(p->std_dev > 0 && isfinite(p->std_dev)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("std_dev must be positive"),
				 errdetail("Got %g.", p->std_dev)));
	p->alpha /= variants - 1;
}

/* The standardized effect of a relative lift */
static double
Effect(const Plan *p, double mde)
{
	if (isnan(p->std_dev))
	{
		double		p2 = p->baseline * (1 + mde);

		if (!(p2 > 0 && p2 < 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the proportion after the lift must be between 0 and 1"),
					 errdetail("Got %g.", p2)));
		return fabs(2 * asin(sqrt(p2)) - 2 * asin(sqrt(p->baseline)));
	}
	return fabs(p->baseline * mde / p->std_dev);
}

/* The smallest x in (lo, hi) with f(x) >= target, f increasing: bisection to the last bit */
static double
Bisect(double (*f) (double, void *), void *arg, double target, double lo, double hi)
{
	while (f(hi, arg) < target)
	{
		lo = hi;
		hi *= 2;
		if (hi > 1e300)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("no sample size reaches that power")));
	}
	for (int i = 0; i < 3000; i++)
	{
		double		mid = lo + (hi - lo) / 2;

		if (mid <= lo || mid >= hi)
			break;
		if (f(mid, arg) < target)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

typedef struct PowerArg
{
	double		d;
	double		n;
	double		alpha;
} PowerArg;

static double
PowerOfN(double n, void *arg)
{
	return Power(((PowerArg *) arg)->d, n, ((PowerArg *) arg)->alpha);
}

static double
PowerOfD(double d, void *arg)
{
	return Power(d, ((PowerArg *) arg)->n, ((PowerArg *) arg)->alpha);
}

/* uba_ab_sample_size(baseline, relative_mde, std_dev, alpha, power, variants) -> units per variant */
Datum
uba_ab_sample_size(PG_FUNCTION_ARGS)
{
	Plan		p;
	PowerArg	a;
	double		mde,
				n;

	ReadPlan(fcinfo, 0, 2, &p);
	mde = PG_GETARG_FLOAT8(1);
	if (!(mde != 0) || !isfinite(mde))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relative_mde must be finite and not 0"),
				 errdetail("Got %g.", mde)));
	a.d = Effect(&p, mde);
	a.alpha = p.alpha;
	a.n = 0;
	n = Bisect(PowerOfN, &a, p.power, 0, 1);
	if (n > 1e15)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the sample size is too large to count"),
				 errdetail("%g units per variant.", n)));
	PG_RETURN_INT64((int64) ceil(n));
}

/* uba_ab_mde(units_per_variant, baseline, std_dev, alpha, power, variants) -> the smallest relative lift detected */
Datum
uba_ab_mde(PG_FUNCTION_ARGS)
{
	Plan		p;
	PowerArg	a;
	double		d;

	ReadPlan(fcinfo, 1, 2, &p);
	a.n = PG_GETARG_FLOAT8(0);
	if (!(a.n >= 2) || !isfinite(a.n))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("units_per_variant must be at least 2"),
				 errdetail("Got %g.", a.n)));
	a.alpha = p.alpha;
	a.d = 0;
	d = Bisect(PowerOfD, &a, p.power, 0, 1e-6);
	if (isnan(p.std_dev))
	{
		double		p2 = pow(sin((d + 2 * asin(sqrt(p.baseline))) / 2), 2);

		PG_RETURN_FLOAT8(p2 / p.baseline - 1);
	}
	PG_RETURN_FLOAT8(d * p.std_dev / fabs(p.baseline));
}
