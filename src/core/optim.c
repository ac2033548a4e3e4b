/*-------------------------------------------------------------------------
 *
 * optim.c
 *	  Minimizing a smooth function of a few parameters: maximum likelihood
 *	  fits of models with a handful of parameters (customer-value models).
 *
 * Newton's method on the caller's analytic gradient, with the Hessian
 * from central differences of that gradient (2n evaluations: cheap for a
 * few parameters, and the result is as exact as the gradient, whatever
 * the Hessian's error).  Where the Hessian is not positive definite it is
 * shifted (Levenberg: H + mu I, mu raised tenfold until Cholesky
 * succeeds), so each step is a descent direction; a backtracking line
 * search (Armijo) keeps f falling and steps back from outside the domain
 * (a non-finite f); once the decrease is below f's rounding, a step that
 * leaves f level and lowers the gradient is taken.  Converged when the largest gradient element is at
 * most gtol, or when f cannot fall any more in floating point and the
 * gradient is below sqrt(gtol).  Callers work on log-parameters, so that
 * positive parameters need no bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

#define MAX_PARAMS 16

/*
 * Hessian at x by central differences of the gradient, symmetrized: its
 * error (h^2) leaves Newton's convergence quadratic even where the
 * Hessian is ill-conditioned, as with a parameter near 0.
 */
static void
Hessian(int n, const double *x, UbaObjective fn, void *arg, double *H, int *evals)
{
	double		xp[MAX_PARAMS],
				gp[MAX_PARAMS],
				gm[MAX_PARAMS];

	for (int i = 0; i < n; i++)
	{
		double		h = 1e-5 * Max(1.0, fabs(x[i]));

		memcpy(xp, x, sizeof(double) * n);
		xp[i] = x[i] + h;
		fn(arg, xp, gp);
		xp[i] = x[i] - h;
		fn(arg, xp, gm);
		*evals += 2;
		for (int j = 0; j < n; j++)
			H[i * n + j] = (gp[j] - gm[j]) / (2 * h);
	}
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
		{
			double		v = 0.5 * (H[i * n + j] + H[j * n + i]);

			H[i * n + j] = H[j * n + i] = v;
		}
}

/* The Newton direction d = -(H + mu I)^-1 g, mu the least that makes it positive definite */
static void
Direction(int n, const double *H, const double *g, double *d)
{
	double		A[MAX_PARAMS * MAX_PARAMS];
	double		scale = 0,
				mu = 0;

	for (int i = 0; i < n; i++)
		scale = Max(scale, fabs(H[i * n + i]));
	if (!(scale > 0) || !isfinite(scale))
		scale = 1;
	for (int attempt = 0; attempt < 40; attempt++)
	{
		memcpy(A, H, sizeof(double) * n * n);
		for (int i = 0; i < n; i++)
		{
			A[i * n + i] += mu;
			d[i] = -g[i];
		}
		if (uba_cholesky_solve(n, A, d))
		{
			bool		finite = true;

			for (int i = 0; i < n; i++)
				finite = finite && isfinite(d[i]);
			if (finite)
				return;
		}
		mu = mu == 0 ? 1e-8 * scale : mu * 10;
	}
	/* steepest descent, scaled: nothing better is left */
	for (int i = 0; i < n; i++)
		d[i] = -g[i] / scale;
}

void
uba_minimize(int n, double *x, UbaObjective fn, void *arg, int max_iter, double gtol,
			 UbaMinimizeResult *res)
{
	double		g[MAX_PARAMS],
				gt[MAX_PARAMS],
				d[MAX_PARAMS],
				xt[MAX_PARAMS],
				H[MAX_PARAMS * MAX_PARAMS];
	double		f;
	int			it;

	if (n < 1 || n > MAX_PARAMS)
		elog(ERROR, "uba_minimize: %d parameters", n);
	memset(res, 0, sizeof(*res));
	f = fn(arg, x, g);
	res->evaluations = 1;
	if (!isfinite(f))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the likelihood cannot be evaluated at the starting parameters")));
	for (it = 0; it < max_iter; it++)
	{
		double		slope = 0,
					t = 1,
					ft = get_float8_nan();
		bool		accepted = false;

		CHECK_FOR_INTERRUPTS();
		if (uba_norm_inf(g, n) <= gtol)
		{
			res->converged = true;
			break;
		}
		Hessian(n, x, fn, arg, H, &res->evaluations);
		Direction(n, H, g, d);
		for (int i = 0; i < n; i++)
			slope += g[i] * d[i];
		if (!(slope < 0))
		{
			/* no descent direction: at a minimum to machine precision, or lost */
			res->converged = uba_norm_inf(g, n) <= sqrt(gtol);
			break;
		}
		/* no step longer than 10 in log-parameters: a factor of e^10 at once is enough */
		{
			double		len = uba_norm_inf(d, n);

			if (len > 10)
				t = 10 / len;
		}
		for (int ls = 0; ls < 60; ls++)
		{
			for (int i = 0; i < n; i++)
				xt[i] = x[i] + t * d[i];
			ft = fn(arg, xt, gt);
			res->evaluations++;
			if (isfinite(ft) && ft <= f + 1e-4 * t * slope)
			{
				accepted = true;
				break;
			}
			/*
			 * Near the optimum the decrease falls below the rounding of f (a
			 * sum over many rows): there a step is taken when f stays level
			 * within that rounding and the gradient falls.
			 */
			if (isfinite(ft) && ft <= f + 1e-12 * fabs(f) && uba_norm_inf(gt, n) < uba_norm_inf(g, n))
			{
				accepted = true;
				break;
			}
			t *= 0.5;
		}
		if (!accepted)
		{
			res->converged = uba_norm_inf(g, n) <= sqrt(gtol);
			break;
		}
		memcpy(x, xt, sizeof(double) * n);
		memcpy(g, gt, sizeof(double) * n);
		f = ft;
	}
	res->iterations = it;
	res->f = f;
	res->gnorm = uba_norm_inf(g, n);
}
