/*-------------------------------------------------------------------------
 *
 * fit.c
 *	  What the customer-value fits share after the optimizer: the
 *	  parameters from their logarithms, and the checks that a fit found a
 *	  finite optimum (never a model with infinite or NaN parameters).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "value.h"

#include <math.h>

/* unconverged with a parameter beyond this (or its inverse): climbing a ridge to infinity */
#define RIDGE_LIMIT 1e4

/*
 * p[k] = exp(th[k]); an error naming the parameter when one ran beyond
 * limit (or below its inverse), or when the fit did not converge and one
 * is beyond RIDGE_LIMIT; a NOTICE when it did not converge otherwise.
 */
void
uba_value_fit_result(const char *model, const char *const *names, const double *th, int n,
					 double limit, const UbaMinimizeResult *res, double tol,
					 const char *detail, const char *hint, double *p)
{
	for (int k = 0; k < n; k++)
	{
		p[k] = exp(th[k]);
		if (!(p[k] < limit && p[k] > 1 / limit))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the %s has no finite fit: parameter %s runs to %s",
							model, names[k], p[k] >= 1 ? "infinity" : "zero"),
					 errdetail("%s", detail),
					 errhint("%s", hint)));
	}
	/* still climbing after max_iter with a parameter far out: the optimum is at infinity along a ridge */
	for (int k = 0; k < n && !res->converged; k++)
		if (p[k] > RIDGE_LIMIT || p[k] < 1 / RIDGE_LIMIT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the %s has no finite fit: parameter %s runs to %s",
							model, names[k], p[k] >= 1 ? "infinity" : "zero"),
					 errdetail("After %d iterations it is %g, and the likelihood still rises.", res->iterations, p[k]),
					 errhint("The data may show too little variation in how customers buy or drop out; use more customers or a longer period.")));
	if (!res->converged)
		ereport(NOTICE,
				(errmsg("the %s did not converge in %d iterations", model, res->iterations),
				 errdetail("The largest gradient element is %g, above the tolerance %g.", res->gnorm, tol),
				 errhint("Raise max_iter.")));
}
