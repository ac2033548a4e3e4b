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

static double
SumSquares(const double *v, int n)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += v[i] * v[i];
	return s;
}

/*
 * The gradient of fn at x by central differences, inside the box [lo, hi]:
 * one-sided at a bound or where one side is outside the domain (a
 * non-finite f), 0 where both are.  Steps are relative to the parameter
 * and at least 1e-7: callers give parameters of order 1.
 */
static void
NumericGradient(int n, const double *x, double f, const double *lo, const double *hi,
				UbaObjective fn, void *arg, double *g, int *evals)
{
	double		xp[UBA_MINIMIZE_MAX_PARAMS];

	memcpy(xp, x, sizeof(double) * n);
	for (int i = 0; i < n; i++)
	{
		double		h = 1e-7 * Max(1.0, fabs(x[i]));
		double		fp = get_float8_nan(),
					fm = get_float8_nan();

		if (x[i] + h <= hi[i])
		{
			xp[i] = x[i] + h;
			fp = fn(arg, xp, NULL);
			(*evals)++;
		}
		if (x[i] - h >= lo[i])
		{
			xp[i] = x[i] - h;
			fm = fn(arg, xp, NULL);
			(*evals)++;
		}
		xp[i] = x[i];
		if (isfinite(fp) && isfinite(fm))
			g[i] = (fp - fm) / (2 * h);
		else if (isfinite(fp))
			g[i] = (fp - f) / h;
		else if (isfinite(fm))
			g[i] = (f - fm) / h;
		else
			g[i] = 0;
	}
}

/* fn's own gradient, when it has one, else central differences */
static void
Gradient(int n, const double *x, double f, const double *lo, const double *hi, UbaObjective fn,
		 void *arg, bool analytic, double *g, int *evals)
{
	if (analytic)
	{
		fn(arg, x, g);
		(*evals)++;
	}
	else
		NumericGradient(n, x, f, lo, hi, fn, arg, g, evals);
}

/* Is coordinate i held at a bound: there, with the gradient pushing outwards */
static bool
AtBound(double x, double g, double lo, double hi)
{
	return (x <= lo && g > 0) || (x >= hi && g < 0);
}

/*
 * Minimize fn of up to UBA_MINIMIZE_MAX_PARAMS parameters inside the box
 * [lo, hi] (either may be NULL: unbounded): BFGS on fn's gradient (when
 * gradient is true; fn is otherwise called with grad NULL) or on central
 * differences, projected onto the box.  Coordinates at a bound
 * whose gradient points out are held there and leave the quasi-Newton
 * step; the others take it, and a step that crosses a bound is cut back
 * onto it, so an optimum on the boundary -- common for smoothing
 * parameters -- is reached exactly rather than approached forever.  The
 * line search backtracks from outside fn's domain (non-finite f) and
 * doubles a first step that succeeds while f keeps falling.  Converged
 * when two successive steps lower f by less than ftol relative to f, or
 * when the projected gradient vanishes.
 */
void
uba_minimize_box(int n, double *x, const double *lo_in, const double *hi_in, UbaObjective fn,
				 void *arg, bool gradient, int max_iter, double ftol, UbaMinimizeResult *res)
{
	double		g[UBA_MINIMIZE_MAX_PARAMS],
				gt[UBA_MINIMIZE_MAX_PARAMS],
				d[UBA_MINIMIZE_MAX_PARAMS],
				xt[UBA_MINIMIZE_MAX_PARAMS],
				x2[UBA_MINIMIZE_MAX_PARAMS],
				s[UBA_MINIMIZE_MAX_PARAMS],
				y[UBA_MINIMIZE_MAX_PARAMS],
				Hy[UBA_MINIMIZE_MAX_PARAMS],
				lo[UBA_MINIMIZE_MAX_PARAMS],
				hi[UBA_MINIMIZE_MAX_PARAMS];
	bool		held[UBA_MINIMIZE_MAX_PARAMS];
	bool		fresh = true;	/* H is the identity */
	double	   *H;
	double		f;
	int			it,
				small = 0;

	if (n < 1 || n > UBA_MINIMIZE_MAX_PARAMS)
		elog(ERROR, "uba_minimize_box: %d parameters", n);
	for (int i = 0; i < n; i++)
	{
		lo[i] = lo_in ? lo_in[i] : -get_float8_infinity();
		hi[i] = hi_in ? hi_in[i] : get_float8_infinity();
		x[i] = Min(Max(x[i], lo[i]), hi[i]);
	}
	memset(res, 0, sizeof(*res));
	H = palloc(sizeof(double) * n * n);
	f = fn(arg, x, NULL);
	res->evaluations = 1;
	if (!isfinite(f))
	{
		res->f = f;
		pfree(H);
		return;
	}
	Gradient(n, x, f, lo, hi, fn, arg, gradient, g, &res->evaluations);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			H[i * n + j] = i == j;
	for (it = 0; it < max_iter; it++)
	{
		double		slope = 0,
					t = 1,
					ft = 0,
					sy = 0,
					yHy = 0,
					len,
					pg = 0;
		bool		accepted = false;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
		{
			held[i] = AtBound(x[i], g[i], lo[i], hi[i]);
			if (!held[i])
				pg = Max(pg, fabs(g[i]));
		}
		if (pg <= 1e-12)
		{
			res->converged = true;
			break;
		}
		/* the quasi-Newton step over the free coordinates */
		for (int i = 0; i < n; i++)
		{
			d[i] = 0;
			if (held[i])
				continue;
			for (int j = 0; j < n; j++)
				if (!held[j])
					d[i] -= H[i * n + j] * g[j];
			slope += g[i] * d[i];
		}
		if (!(slope < 0))
		{
			/* not a descent direction: restart from steepest descent */
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					H[i * n + j] = i == j;
			fresh = true;
			slope = 0;
			for (int i = 0; i < n; i++)
			{
				d[i] = held[i] ? 0 : -g[i];
				slope -= held[i] ? 0 : g[i] * g[i];
			}
		}
		/*
		 * No step longer than 1 in any parameter (they are of order 1), nor
		 * than 0.1 while H knows no curvature yet: a first steepest step
		 * would otherwise jump to a corner of the box.
		 */
		len = uba_norm_inf(d, n);
		if (len > (fresh ? 0.1 : 1))
			t = (fresh ? 0.1 : 1) / len;
		for (int ls = 0; ls < 50; ls++)
		{
			double		dec = 0;

			for (int i = 0; i < n; i++)
			{
				xt[i] = Min(Max(x[i] + t * d[i], lo[i]), hi[i]);
				dec += g[i] * (xt[i] - x[i]);
			}
			ft = fn(arg, xt, NULL);
			res->evaluations++;
			if (isfinite(ft) && ft <= f + 1e-4 * Min(dec, 0))
			{
				accepted = ft < f || dec == 0;
				break;
			}
			t *= 0.5;
		}
		/* a full first step that was taken: try longer ones while f keeps falling */
		if (accepted && t * len <= 0.5)
			while (t * len <= 0.5)
			{
				double		f2;

				for (int i = 0; i < n; i++)
					x2[i] = Min(Max(x[i] + 2 * t * d[i], lo[i]), hi[i]);
				f2 = fn(arg, x2, NULL);
				res->evaluations++;
				if (!(isfinite(f2) && f2 < ft))
					break;
				t *= 2;
				ft = f2;
				memcpy(xt, x2, sizeof(double) * n);
			}
		if (!accepted)
		{
			/* no decrease along a direction of the identity either: done */
			bool		identity = true;

			for (int i = 0; i < n && identity; i++)
				for (int j = 0; j < n; j++)
					if (H[i * n + j] != (i == j))
					{
						identity = false;
						break;
					}
			if (identity)
			{
				res->converged = pg <= 1e-4;
				break;
			}
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					H[i * n + j] = i == j;
			fresh = true;
			continue;
		}
		Gradient(n, xt, ft, lo, hi, fn, arg, gradient, gt, &res->evaluations);
		for (int i = 0; i < n; i++)
		{
			s[i] = xt[i] - x[i];
			y[i] = gt[i] - g[i];
			sy += s[i] * y[i];
		}
		/* H += (1 + y'Hy/sy) ss'/sy - (Hy s' + s y'H)/sy, where the step shows curvature */
		if (sy > 1e-12 * sqrt(SumSquares(s, n) * SumSquares(y, n)) && sy > 0)
		{
			for (int i = 0; i < n; i++)
			{
				Hy[i] = 0;
				for (int j = 0; j < n; j++)
					Hy[i] += H[i * n + j] * y[j];
				yHy += y[i] * Hy[i];
			}
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					H[i * n + j] += (1 + yHy / sy) * s[i] * s[j] / sy - (Hy[i] * s[j] + s[i] * Hy[j]) / sy;
			fresh = false;
		}
		small = (f - ft < ftol * (fabs(f) + ftol)) ? small + 1 : 0;
		memcpy(x, xt, sizeof(double) * n);
		memcpy(g, gt, sizeof(double) * n);
		f = ft;
		if (small >= 2)
		{
			res->converged = true;
			it++;
			break;
		}
	}
	res->iterations = it;
	res->f = f;
	res->gnorm = 0;
	for (int i = 0; i < n; i++)
		if (!AtBound(x[i], g[i], lo[i], hi[i]))
			res->gnorm = Max(res->gnorm, fabs(g[i]));
	pfree(H);
}
