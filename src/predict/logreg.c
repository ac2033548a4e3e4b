/*-------------------------------------------------------------------------
 *
 * logreg.c
 *	  Logistic regression for churn and conversion: training aggregate,
 *	  model payload and scoring.
 *
 * Objective, with s_i the class weight of row i and S = sum of s_i:
 *	  F(w, b) = (1/S) [ sum_i s_i logloss_i + (l2 / 2) ||w||^2 + l1 ||w||_1 ]
 * (intercept b unpenalized), the same minimizer as scikit-learn's
 * LogisticRegression(C = 1 / l2), or with both penalties its elastic net
 * (C = 1 / (l1 + l2), l1_ratio = l1 / (l1 + l2)).  F is convex, so the
 * solver is Newton's method with a backtracking line search: each
 * iteration computes the loss, gradient and Hessian X^T D X in one pass
 * over the rows on up to uba.threads threads (per-lane sums reduced in a
 * fixed order, interrupts checked between blocks).  Without l1 the step
 * is a Cholesky solve (LAPACK); with l1 it is a proximal Newton step, the
 * local quadratic model plus the l1 term minimized by coordinate descent.
 * Either converges fast, to the optimum, in a handful of iterations:
 * converged when the minimum-norm subgradient is below tol, or when F
 * cannot decrease any more in floating point and it is below 1e-7.
 * Without regularization and on separable data the optimum is at
 * infinity: the Hessian is damped so the run ends with a NOTICE that it
 * did not converge.
 *
 * Payload: d (u32), flags (u32: 1 intercept, 2 standardized fit,
 * 4 converged, 8 no standard errors), iterations (u32), class weighting
 * (u32: 0 none, 1 balanced, 2 explicit), l2, l1, weights of the true and
 * false class, loss, optimality measure (f64), training
 * means and population standard deviations of the features (d f64 each,
 * for standardizing and for explanations), coefficients (d f64, fitting
 * space), intercept (f64), standard errors of coefficients and intercept
 * (d + 1 f64, fitting space; from the inverse Hessian at the optimum).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "logreg.h"

#include <float.h>
#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_logreg_transfn);
PG_FUNCTION_INFO_V1(uba_logreg_final);
PG_FUNCTION_INFO_V1(uba_logreg_predict);
PG_FUNCTION_INFO_V1(uba_logreg_classify);


static const char *const class_weight_choices[] = {"none", "balanced", NULL};
static const char *const class_weight_keys[] = {"true", "false", NULL};

#define CLASS_WEIGHT_NONE 0
#define CLASS_WEIGHT_BALANCED 1
#define CLASS_WEIGHT_EXPLICIT 2

static const UbaOptionSpec logreg_options[] = {
	{"l2", UBA_OPT_FLOAT, 1.0, 0, 1e12, NULL},
	{"l1", UBA_OPT_FLOAT, 0, 0, 1e12, NULL},
	{"fit_intercept", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"standardize", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"class_weight", UBA_OPT_WEIGHTS, CLASS_WEIGHT_NONE, 0, 1e6, class_weight_choices, class_weight_keys},
	{"max_iter", UBA_OPT_INT, 100, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-10, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};


/* ---------- training ---------- */

/* uba_logreg_train(label, features [, options]) transition: collect the row */
Datum
uba_logreg_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	bool		typed;

	/* the form of the features is the first row's (a row set of typed rows has an encoding) */
	typed = rs != NULL ? rs->enc != NULL : uba_arg_is_row(fcinfo, 2);

	/* rows with no label or no features are skipped, as built-in aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	if (rs == NULL)
	{
		UbaOptions	o;

		uba_parse_row_options(opts, logreg_options, lengthof(logreg_options),
							  "uba_logreg_train", typed, UBA_ENC_ONEHOT, &o);
		if (typed)
			rs = uba_rowset_start_row(fcinfo, 2, true, 0, opts, UBA_ENC_ONEHOT, "uba_logreg_train");
		else
		{
			uba_options_check_names(&o, uba_feature_count(PG_GETARG_ARRAYTYPE_P(2)));
			rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(2), true, 0, opts);
		}
	}
	else
		uba_check_same_options(rs->options, opts);
	if (typed)
		uba_rowset_add_row(rs, fcinfo, 2, PG_GETARG_BOOL(1) ? 1.0 : 0.0);
	else
		uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(2), PG_GETARG_BOOL(1) ? 1.0 : 0.0);
	PG_RETURN_POINTER(rs);
}


/* Training data and scratch for one call */
typedef struct LogRegWork
{
	const UbaOptions *o;		/* for progress lines */
	const char *phase;			/* "all rows", or the warm start's sample */
	int64		n;
	int			d;
	int			p;				/* d + 1 with an intercept, else d */
	const double *X;			/* n x d */
	const double *y;			/* n, 0 or 1 */
	double		w_pos;			/* class weights */
	double		w_neg;
	double		S;				/* sum of weights */
	double		l2;
	double		l1;
	int64		nblocks;		/* blocks of UBA_BLOCK_ROWS rows */
	int			nthreads;
	const double *beta;			/* parameters of the current pass */
	bool		want_gradient;
	bool		want_hessian;
	/* per lane: scores of a block, loss, gradient, Hessian (upper), scaled row */
	double	   *lane_z;			/* UBA_LANES x 4 x UBA_BLOCK_ROWS: z, loss, resid, root */
	double	   *lane_loss;		/* UBA_LANES x 8 (own cache line) */
	double	   *lane_g;			/* UBA_LANES x pstride */
	double	   *lane_H;			/* UBA_LANES x pstride x pstride */
	double	   *lane_v;			/* UBA_LANES x HESS_ROWS x pstride: scaled rows */
	int			pstride;		/* p rounded up to a cache line of doubles */
	/* training by passes: each pass is a query (logreg_passes.c), not a scan of X */
	UbaLogRegRemote remote;
	void	   *remote_arg;
	bool		standardize;	/* the rows a remote pass reads are standardized on the way */
	const double *mean;
	const double *scale;
} LogRegWork;

/* Linear scores of rows i .. i+3, as four independent chains of additions */
static inline void
Score4(const LogRegWork *w, const double *beta, int64 i, double *z)
{
	const double *x = w->X + (Size) i * w->d;
	int			d = w->d;
	double		b = (w->p > d) ? beta[d] : 0;
	double		z0 = b,
				z1 = b,
				z2 = b,
				z3 = b;

	for (int j = 0; j < d; j++)
	{
		z0 += x[j] * beta[j];
		z1 += x[d + j] * beta[j];
		z2 += x[2 * d + j] * beta[j];
		z3 += x[3 * d + j] * beta[j];
	}
	z[0] = z0;
	z[1] = z1;
	z[2] = z2;
	z[3] = z3;
}

/* Linear score of row i for parameters beta (coef..., [intercept]) */
static inline double
Score(const LogRegWork *w, const double *beta, int64 i)
{
	const double *x = w->X + (Size) i * w->d;
	double		z = (w->p > w->d) ? beta[w->d] : 0;

	for (int j = 0; j < w->d; j++)
		z += x[j] * beta[j];
	return z;
}

/* Scores of rows i0 .. i1-1 into z */
static void
Scores(const LogRegWork *w, const double *beta, int64 i0, int64 i1, double *z)
{
	int64		i = i0;

	for (; i + 4 <= i1; i += 4)
		Score4(w, beta, i, z + (i - i0));
	for (; i < i1; i++)
		z[i - i0] = Score(w, beta, i);
}

/*
 * exp(-a) for a >= 0, branch-free so that a loop of it vectorizes; within
 * an ulp or two of libm.  Arguments above 700 give exp(-700), which is
 * negligible against 1 everywhere it is used.  a = k ln 2 + r with
 * |r| <= ln 2 / 2, exp(r) by its Taylor series to degree 13, 2^-k from
 * the exponent bits.
 */
static inline double
ExpNeg(double a)
{
	const double shift = 0x1.8p52;	/* adding it rounds to an integer */
	double		x = -(a < 700 ? a : 700);
	double		t = x * 1.4426950408889634 + shift;
	double		k = t - shift;
	double		r = (x - k * 0x1.62e42fefa3800p-1) - k * 0x1.ef35793c76730p-45;
	double		p = 1.0 / 6227020800;
	double		scale;
	int64		bits;

	p = p * r + 1.0 / 479001600;
	p = p * r + 1.0 / 39916800;
	p = p * r + 1.0 / 3628800;
	p = p * r + 1.0 / 362880;
	p = p * r + 1.0 / 40320;
	p = p * r + 1.0 / 5040;
	p = p * r + 1.0 / 720;
	p = p * r + 1.0 / 120;
	p = p * r + 1.0 / 24;
	p = p * r + 1.0 / 6;
	p = p * r + 0.5;
	p = p * r + 1.0;
	p = p * r + 1.0;
	memcpy(&bits, &t, sizeof(bits));
	bits = (bits - 0x4338000000000000LL + 1023) << 52;	/* k's bits, as 2^k */
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

/*
 * log(1 + e) for 0 <= e <= 1, branch-free: 2 atanh(s) with s = e / (2 + e)
 * <= 1/3, whose odd series converges by a factor 1/9 a term.
 */
static inline double
Log1pUnit(double e)
{
	double		s = e / (2.0 + e);
	double		s2 = s * s;
	double		p = 1.0 / 33;

	for (int k = 31; k >= 1; k -= 2)
		p = p * s2 + 1.0 / k;
	return 2.0 * s * p;
}

/*
 * Per-row terms of n rows with scores z and labels y (1 or 0), weights
 * w_pos and w_neg: the weighted loss s softplus(-z) or s softplus(z), the
 * gradient factor s (p - y) and the Hessian root sqrt(s p (1 - p)), with
 * p = sigmoid(z).  One exp each; p (1 - p) is e / (1 + e)^2 with e =
 * exp(-|z|), so it keeps full precision far from zero too.  Written
 * without branches, so the loop runs on vectors.
 */
UBA_TARGET_CLONES
static void
RowTerms(const double *restrict z, const double *restrict y, int n, double w_pos, double w_neg,
		 double *restrict loss, double *restrict resid, double *restrict root)
{
	for (int i = 0; i < n; i++)
	{
		double		zi = z[i];
		bool		pos = y[i] > 0;
		double		s = pos ? w_pos : w_neg;
		double		e = ExpNeg(fabs(zi));
		double		q = 1.0 / (1.0 + e);
		double		eq = e * q;
		double		sp = s * (zi >= 0 ? q : eq);	/* s p */
		double		sc = s * (zi >= 0 ? eq : q);	/* s (1 - p) */
		double		m = pos ? -zi : zi;
		double		l = Log1pUnit(e) + (m > 0 ? m : 0);

		/* every product is formed before choosing, so the choices are selects */
		loss[i] = s * l;
		resid[i] = pos ? -sc : sp;
		root[i] = sqrt(s * e) * q;
	}
}

/* Rows scaled into a lane's buffer before their Hessian terms are added */
#define HESS_ROWS 128

typedef double HessVec __attribute__((vector_size(32), aligned(8)));

/*
 * Add V^T V to the upper triangle of H for rows V (nrow x ps, row-major,
 * ps a multiple of 8, padding columns zero; H is ps x ps).  H is done in
 * tiles of 4 x 8 held in eight vector registers over all the rows, the
 * way a matrix-multiply kernel works, so each row costs two vector loads
 * and four broadcasts per tile.  Every element is summed over the rows in
 * row order with separate multiplies and adds, so the result does not
 * depend on the vector width the CPU offers.
 */
UBA_TARGET_CLONES
static void
RankUpdateUpper(double *restrict H, const double *restrict V, int nrow, int ps)
{
	for (int j0 = 0; j0 < ps; j0 += 4)
	{
		for (int k0 = j0 & ~7; k0 < ps; k0 += 8)
		{
			HessVec		a0 = {0},
						b0 = {0},
						a1 = {0},
						b1 = {0},
						a2 = {0},
						b2 = {0},
						a3 = {0},
						b3 = {0};

			for (int t = 0; t < nrow; t++)
			{
				const double *v = V + (Size) t * ps;
				HessVec		lo = *(const HessVec *) (v + k0);
				HessVec		hi = *(const HessVec *) (v + k0 + 4);

				a0 += v[j0] * lo;
				b0 += v[j0] * hi;
				a1 += v[j0 + 1] * lo;
				b1 += v[j0 + 1] * hi;
				a2 += v[j0 + 2] * lo;
				b2 += v[j0 + 2] * hi;
				a3 += v[j0 + 3] * lo;
				b3 += v[j0 + 3] * hi;
			}
			*(HessVec *) (H + (Size) j0 * ps + k0) += a0;
			*(HessVec *) (H + (Size) j0 * ps + k0 + 4) += b0;
			*(HessVec *) (H + (Size) (j0 + 1) * ps + k0) += a1;
			*(HessVec *) (H + (Size) (j0 + 1) * ps + k0 + 4) += b1;
			*(HessVec *) (H + (Size) (j0 + 2) * ps + k0) += a2;
			*(HessVec *) (H + (Size) (j0 + 2) * ps + k0 + 4) += b2;
			*(HessVec *) (H + (Size) (j0 + 3) * ps + k0) += a3;
			*(HessVec *) (H + (Size) (j0 + 3) * ps + k0 + 4) += b3;
		}
	}
}

/*
 * One block of rows (runs on any thread): adds the block's weighted loss,
 * and when asked its gradient and Hessian terms, to its lane's sums.
 */
static void
LossBlock(void *arg, int64 block, int lane)
{
	LogRegWork *w = (LogRegWork *) arg;
	int			ps = w->pstride;
	int			d = w->d;
	int64		i0 = block * UBA_BLOCK_ROWS;
	int64		i1 = Min(w->n, i0 + UBA_BLOCK_ROWS);
	double	   *z = w->lane_z + (Size) lane * 4 * UBA_BLOCK_ROWS;
	double	   *loss = z + UBA_BLOCK_ROWS;
	double	   *resid = z + 2 * UBA_BLOCK_ROWS;
	double	   *root = z + 3 * UBA_BLOCK_ROWS;
	double	   *g = w->lane_g + (Size) lane * ps;
	double	   *H = w->lane_H + (Size) lane * ps * ps;
	double	   *V = w->lane_v + (Size) lane * HESS_ROWS * ps;
	int			nv = 0;
	double		sum = 0;

	Scores(w, w->beta, i0, i1, z);
	RowTerms(z, w->y + i0, (int) (i1 - i0), w->w_pos, w->w_neg, loss, resid, root);
	for (int i = 0; i < i1 - i0; i++)
		sum += loss[i];
	if (w->want_hessian)
	{
		for (int64 i = i0; i < i1; i++)
		{
			const double *x = w->X + (Size) i * d;
			double		r = resid[i - i0];
			double		q = root[i - i0];
			double	   *v = V + (Size) nv * ps;

			for (int j = 0; j < d; j++)
			{
				g[j] += r * x[j];
				v[j] = q * x[j];
			}
			if (w->p > d)
			{
				g[d] += r;
				v[d] = q;
			}
			if (++nv == HESS_ROWS)
			{
				RankUpdateUpper(H, V, nv, ps);
				nv = 0;
			}
		}
		if (nv > 0)
			RankUpdateUpper(H, V, nv, ps);
	}
	else if (w->want_gradient)
	{
		for (int64 i = i0; i < i1; i++)
		{
			const double *x = w->X + (Size) i * d;
			double		r = resid[i - i0];

			for (int j = 0; j < d; j++)
				g[j] += r * x[j];
			if (w->p > d)
				g[d] += r;
		}
	}
	w->lane_loss[(Size) lane * 8] += sum;
}

/*
 * One pass over all rows on up to uba.threads threads: f at beta, when g
 * is given the gradient (p), and when H is given too the Hessian (p x p,
 * upper triangle).  Lanes are reduced in lane order, so the result does
 * not depend on the thread count.
 */
static double LanesPass(LogRegWork *w, const double *beta, double *g, double *H);
static double RemotePass(LogRegWork *w, const double *beta, double *g, double *H);

static double
Pass(LogRegWork *w, const double *beta, double *g, double *H)
{
	int			p = w->p;
	double		sum = 0,
				reg = 0;

	if (w->remote)
		sum = RemotePass(w, beta, g, H);
	else
		sum = LanesPass(w, beta, g, H);
	for (int j = 0; j < w->d; j++)
		reg += beta[j] * beta[j];
	if (g)
	{
		for (int j = 0; j < w->d; j++)
			g[j] += w->l2 * beta[j];
		for (int j = 0; j < p; j++)
			g[j] /= w->S;
	}
	if (H)
	{
		for (int j = 0; j < w->d; j++)
			H[(Size) j * p + j] += w->l2;
		for (int j = 0; j < p; j++)
			for (int k = j; k < p; k++)
				H[(Size) j * p + k] /= w->S;
	}
	return (sum + 0.5 * w->l2 * reg) / w->S;
}

/* The sums of a pass over the rows in memory, on lanes; returns the loss */
static double
LanesPass(LogRegWork *w, const double *beta, double *g, double *H)
{
	int			p = w->p;
	double		sum = 0;

	w->beta = beta;
	w->want_gradient = (g != NULL);
	w->want_hessian = (H != NULL);
	memset(w->lane_loss, 0, sizeof(double) * UBA_LANES * 8);
	if (g)
		memset(w->lane_g, 0, sizeof(double) * UBA_LANES * w->pstride);
	if (H)
		memset(w->lane_H, 0, sizeof(double) * UBA_LANES * w->pstride * w->pstride);
	uba_run_lanes(w->nblocks, UBA_LANES, w->nthreads, LossBlock, w);

	for (int l = 0; l < UBA_LANES; l++)
		sum += w->lane_loss[(Size) l * 8];
	if (g)
	{
		memset(g, 0, sizeof(double) * p);
		for (int l = 0; l < UBA_LANES; l++)
			for (int j = 0; j < p; j++)
				g[j] += w->lane_g[(Size) l * w->pstride + j];
	}
	if (H)
	{
		memset(H, 0, sizeof(double) * p * p);
		for (int l = 0; l < UBA_LANES; l++)
		{
			const double *lH = w->lane_H + (Size) l * w->pstride * w->pstride;

			for (int j = 0; j < p; j++)
				for (int k = j; k < p; k++)
					H[(Size) j * p + k] += lH[(Size) j * w->pstride + k];
		}
	}
	return sum;
}

/*
 * The sums of a pass run as a query: beta goes out as a model (the
 * training scaling, class weights and coefficients in the fitting space),
 * the raw sums come back.
 */
static double
RemotePass(LogRegWork *w, const double *beta, double *g, double *H)
{
	UbaWriter	pw;
	UbaModelMeta meta;
	UbaOptions	none;
	bytea	   *model;
	double		sum;
	double	   *zero = palloc0(sizeof(double) * (w->d + 1));

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) w->d);
	uba_put_u32(&pw, (w->p > w->d ? LOGREG_FLAG_INTERCEPT : 0) |
				(w->standardize ? LOGREG_FLAG_STANDARDIZE : 0) | LOGREG_FLAG_NO_SE);
	uba_put_u32(&pw, 0);
	uba_put_u32(&pw, CLASS_WEIGHT_NONE);
	uba_put_f64(&pw, w->l2);
	uba_put_f64(&pw, w->l1);
	uba_put_f64(&pw, w->w_pos);
	uba_put_f64(&pw, w->w_neg);
	uba_put_f64(&pw, 0);
	uba_put_f64(&pw, 0);
	uba_put_f64_array(&pw, w->mean, w->d);
	uba_put_f64_array(&pw, w->scale, w->d);
	uba_put_f64_array(&pw, beta, w->d);
	uba_put_f64(&pw, w->p > w->d ? beta[w->d] : 0.0);
	uba_put_f64_array(&pw, zero, w->d + 1);
	uba_parse_options(NULL, logreg_options, lengthof(logreg_options), "uba_logreg_train", &none);
	uba_model_meta_init(&meta, w->d, 0, GetCurrentTimestamp(), &none);
	model = uba_model_build(UBA_KIND_LOGREG, &meta, &pw);
	sum = w->remote(w->remote_arg, model, g, H);
	pfree(model);
	pfree(zero);
	return sum;
}

/* Objective f at beta */
static double
Objective(LogRegWork *w, const double *beta)
{
	return Pass(w, beta, NULL, NULL);
}

/* Gradient g and Hessian H of f at beta; returns f */
static double
GradientHessian(LogRegWork *w, const double *beta, double *g, double *H)
{
	return Pass(w, beta, g, H);
}

/* lambda * ||coefficients||_1 (the intercept, index d, is not penalized) */
static double
L1Term(const LogRegWork *w, const double *beta)
{
	double		s = 0;

	if (w->l1 == 0)
		return 0;
	for (int j = 0; j < w->d; j++)
		s += fabs(beta[j]);
	return w->l1 / w->S * s;
}

/*
 * Largest element of the minimum-norm subgradient of F = f + L1Term: the
 * gradient where the l1 term is smooth (or absent), the part of the
 * gradient beyond +-lambda at coefficients that are zero.  Zero exactly at
 * the optimum, so it is the convergence measure.
 */
static double
OptimalityNorm(const LogRegWork *w, const double *beta, const double *g)
{
	double		lambda = w->l1 / w->S;
	double		m = 0;

	for (int j = 0; j < w->p; j++)
	{
		double		v = g[j];

		if (j < w->d && lambda > 0)
		{
			if (beta[j] > 0)
				v += lambda;
			else if (beta[j] < 0)
				v -= lambda;
			else
				v = Max(0.0, fabs(v) - lambda);
		}
		m = Max(m, fabs(v));
	}
	return m;
}

/*
 * Newton direction for l1 = 0: solve H step = -g by Cholesky, damping a
 * singular Hessian (no regularization, separable data).
 */
static void
NewtonDirection(const LogRegWork *w, const double *g, const double *H, double *Hc, double *step)
{
	int			p = w->p;
	double		damping = 0;

	for (;;)
	{
		memcpy(Hc, H, sizeof(double) * p * p);
		for (int j = 0; j < p; j++)
		{
			Hc[(Size) j * p + j] += damping;
			step[j] = -g[j];
		}
		if (uba_cholesky_solve(p, Hc, step))
			return;
		damping = damping == 0 ? 1e-10 * Max(1.0, uba_norm_inf(H, p * p)) : damping * 10;
		if (damping > 1e10)
			elog(ERROR, "uba logistic regression: Hessian cannot be factored");
	}
}

/*
 * Proximal Newton direction for l1 > 0 (as glmnet and liblinear's
 * newGLMNET): minimize the local model g'step + step'H step / 2 +
 * lambda ||beta + step||_1 by cyclic coordinate descent on the p x p
 * Hessian, each coordinate solved exactly by soft thresholding.  Sweeps
 * stop when no coordinate moves by more than a small fraction of the
 * current optimality measure.  Hc receives the full symmetric Hessian.
 */
static void
ProximalDirection(const LogRegWork *w, const double *beta, const double *g, const double *H,
				  double *Hc, double *step, double *Hstep, double opt)
{
	int			p = w->p;
	double		lambda = w->l1 / w->S;
	double		inner_tol = Max(1e-15, 1e-3 * opt);

	for (int j = 0; j < p; j++)
		for (int k = j; k < p; k++)
			Hc[(Size) j * p + k] = Hc[(Size) k * p + j] = H[(Size) j * p + k];
	memset(step, 0, sizeof(double) * p);
	memset(Hstep, 0, sizeof(double) * p);
	for (int sweep = 0; sweep < 1000; sweep++)
	{
		double		moved = 0;

		for (int j = 0; j < p; j++)
		{
			const double *col = Hc + (Size) j * p;
			double		a = Max(col[j], 1e-12);
			double		b = g[j] + Hstep[j] - a * step[j];
			double		c = beta[j] - b / a;	/* unpenalized minimizer */
			double		delta;

			if (j < w->d)
			{
				double		t = lambda / a;

				c = c > t ? c - t : (c < -t ? c + t : 0.0);
			}
			delta = (c - beta[j]) - step[j];
			if (delta != 0)
			{
				step[j] += delta;
				for (int k = 0; k < p; k++)
					Hstep[k] += delta * col[k];
				moved = Max(moved, fabs(delta) * sqrt(a));
			}
		}
		if (moved <= inner_tol)
			break;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Newton's method (proximal Newton with l1 > 0) with backtracking from the
 * given beta, on F = f + lambda ||w||_1.  The full step is tried with the
 * gradient and Hessian computed in the same pass, since it is almost
 * always accepted; only when it is not does the line search fall back to
 * evaluating f alone.  The sufficient decrease test is Armijo's on the
 * predicted decrease g'step + lambda (||beta + step||_1 - ||beta||_1),
 * which is g'step without l1.  H_start, when given, stands in for the
 * Hessian at the starting beta.  Returns whether the optimality measure
 * fell below tol; sets iterations, F and the measure, and when H_out is
 * given the Hessian there (or one iteration before).
 */
static bool
Newton(LogRegWork *w, double *beta, int max_iter, double tol, const double *H_start,
	   int *iters, double *loss, double *gnorm, double *H_out)
{
	int			p = w->p;
	double	   *g = palloc(sizeof(double) * p);
	double	   *H = palloc(sizeof(double) * p * p);
	double	   *g2 = palloc(sizeof(double) * p);
	double	   *H2 = palloc(sizeof(double) * p * p);
	double	   *Hc = palloc(sizeof(double) * p * p);
	double	   *step = palloc(sizeof(double) * p);
	double	   *Hstep = palloc(sizeof(double) * p);
	double	   *trial = palloc(sizeof(double) * p);
	double		f,
				prev_gnorm = 0;
	bool		converged = false,
				stalled = false;
	int			it;

	if (H_start)
	{
		/* a good estimate of the Hessian at beta: the first pass needs none */
		f = Pass(w, beta, g, NULL) + L1Term(w, beta);
		memcpy(H, H_start, sizeof(double) * p * p);
	}
	else
		f = GradientHessian(w, beta, g, H) + L1Term(w, beta);
	for (it = 0; it < max_iter; it++)
	{
		double		decrease,
					t = 1,
					ft;
		double	   *swap;
		bool		last;

		prev_gnorm = it > 0 ? *gnorm : 0;
		*gnorm = OptimalityNorm(w, beta, g);
		uba_progress(w->o, "uba_logreg_train: %s, Newton iteration %d: objective %.6g, optimality %.3g",
					 w->phase, it + 1, f, *gnorm);
		if (*gnorm <= tol)
		{
			converged = true;
			break;
		}
		if (w->l1 > 0)
			ProximalDirection(w, beta, g, H, Hc, step, Hstep, *gnorm);
		else
			NewtonDirection(w, g, H, Hc, step);
		decrease = -L1Term(w, beta);
		for (int j = 0; j < p; j++)
		{
			decrease += g[j] * step[j];
			trial[j] = beta[j] + step[j];
		}
		decrease += L1Term(w, trial);
		if (!(decrease < 0))
		{
			stalled = true;		/* the local model sees no descent: at the optimum */
			break;
		}

		/*
		 * Full step, with everything the next iteration needs.  Near the
		 * optimum the decrease in F falls below its rounding error; then the
		 * step is taken when F did not grow beyond rounding and the
		 * optimality measure fell, so the gradient still converges.
		 *
		 * When the measure falls quadratically, its next value is predicted
		 * to be at most its current value times the last ratio; when that
		 * is well below tol, the step will end the run and the pass skips
		 * the Hessian (the standard errors then use the Hessian one
		 * iteration before the optimum, which differs from it by far less
		 * than their own precision).  A wrong guess costs one more pass.
		 */
		last = it > 0 && *gnorm * (*gnorm / prev_gnorm) <= 0.1 * tol;
		ft = Pass(w, trial, g2, last ? NULL : H2) + L1Term(w, trial);
		if (!(ft <= f + 1e-4 * decrease) &&
			!(ft <= f + 16 * DBL_EPSILON * fabs(f) && OptimalityNorm(w, trial, g2) < *gnorm))
		{
			/* backtracking (Armijo) on F alone, then one pass for g and H */
			for (int ls = 0; ls < 60; ls++)
			{
				t *= 0.5;
				for (int j = 0; j < p; j++)
					trial[j] = beta[j] + t * step[j];
				ft = Objective(w, trial) + L1Term(w, trial);
				if (ft <= f + 1e-4 * t * decrease)
					break;
			}
			if (!(ft < f))
			{
				stalled = true; /* no progress possible in floating point */
				break;
			}
			ft = GradientHessian(w, trial, g2, H2) + L1Term(w, trial);
			last = false;
		}
		else if (last && !(OptimalityNorm(w, trial, g2) <= tol))
		{
			ft = GradientHessian(w, trial, g2, H2) + L1Term(w, trial);
			last = false;		/* not the end after all */
		}
		memcpy(beta, trial, sizeof(double) * p);
		f = ft;
		swap = g;
		g = g2;
		g2 = swap;
		if (!last)
		{
			swap = H;
			H = H2;
			H2 = swap;
		}
	}
	*iters = Min(it + 1, max_iter);
	*gnorm = OptimalityNorm(w, beta, g);
	*loss = f;
	if (H_out)
		memcpy(H_out, H, sizeof(double) * p * p);	/* at the final beta, or one step before */
	/* at the optimum to machine precision: F cannot decrease, the measure is tiny */
	if (*gnorm <= tol || (stalled && *gnorm <= 1e-7))
		converged = true;
	return converged;
}

/* Rows from which training starts from a sample's optimum */
#define WARM_START_MIN_ROWS 200000
/* The sample: this fraction of the rows */
#define WARM_START_FRACTION 16
/* Rows of each class the sample needs */
#define WARM_START_MIN_CLASS 100

/*
 * Warm start for large training sets.  Rows are in canonical order, which
 * is by a hash of their values, so the first n / 16 are a uniform random
 * sample; the optimum of the objective on them (the penalties scaled by
 * the sample's share of the weight, so it estimates the same minimizer)
 * is close to the full optimum, and its Hessian there, an average over
 * rows like the full one, is close to the full Hessian.  Newton's method
 * on all rows then starts from that point with that Hessian: two or three
 * fewer passes over all rows, and the first without a Hessian, for
 * passes over a sixteenth.  Returns whether beta and H were set (only
 * from a converged, finite result).
 */
static bool
WarmStart(const LogRegWork *full, double *beta, double *H, int max_iter)
{
	LogRegWork	s = *full;
	int64		npos = 0;
	double	   *start;
	int			iters;
	double		loss,
				gnorm;
	bool		ok = false;

	if (full->n < WARM_START_MIN_ROWS)
		return false;
	s.n = full->n / WARM_START_FRACTION;
	for (int64 i = 0; i < s.n; i++)
		npos += full->y[i] > 0;
	if (npos < WARM_START_MIN_CLASS || s.n - npos < WARM_START_MIN_CLASS)
		return false;
	s.nblocks = (s.n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS;
	s.S = s.w_pos * (double) npos + s.w_neg * (double) (s.n - npos);
	s.l2 = full->l2 * s.S / full->S;
	s.l1 = full->l1 * s.S / full->S;
	s.phase = "warm start on the first sixteenth of the rows";

	start = palloc0(sizeof(double) * s.p);
	if (s.p > s.d)
		start[s.d] = log(s.w_pos * (double) npos / (s.w_neg * (double) (s.n - npos)));
	/* the sample's optimum is itself only an estimate: no need for more digits */
	if (Newton(&s, start, max_iter, 1e-6, NULL, &iters, &loss, &gnorm, H))
	{
		ok = true;
		for (int j = 0; j < s.p; j++)
			ok = ok && isfinite(start[j]);
		for (int j = 0; j < s.p * s.p; j++)
			ok = ok && isfinite(H[j]);
		if (ok)
			memcpy(beta, start, sizeof(double) * s.p);
	}
	pfree(start);
	return ok;
}

/* Class weights and their sum over n rows, npos of them true */
static void
SetClassWeights(LogRegWork *w, const UbaOptions *o, int class_weight, int64 n, int64 npos)
{
	if (class_weight == CLASS_WEIGHT_BALANCED)
	{
		/* "balanced": n / (2 n_class), as scikit-learn */
		w->w_pos = (double) n / (2.0 * (double) npos);
		w->w_neg = (double) n / (2.0 * (double) (n - npos));
	}
	else if (class_weight == CLASS_WEIGHT_EXPLICIT)
	{
		w->w_pos = o->weights[0];	/* keys in spec order: "true", "false" */
		w->w_neg = o->weights[1];
	}
	else
		w->w_pos = w->w_neg = 1.0;
	w->S = w->w_pos * (double) npos + w->w_neg * (double) (n - npos);
}

/*
 * After the fit: standard errors (or none), notices, and the payload.
 */
static void
FinishFit(LogRegWork *w, const UbaOptions *o, char **names, double *beta, double *H,
		  bool converged, int iters, double loss, double gnorm, const double *mean,
		  const double *scale, bool intercept, bool standardize, int class_weight, UbaWriter *pw)
{
	int			d = w->d;
	double	   *se;
	bool		has_se;

	/*
	 * Standard errors: the covariance is the inverse Hessian of the summed
	 * (not averaged) penalized objective, S H.
	 */
	se = palloc0(sizeof(double) * (d + 1));
	/* with l1 the optimum sits on a kink of F: no Hessian-based errors */
	has_se = false;
	if (w->l1 == 0)
	{
		/*
		 * Without a penalty, a constant feature or one that is a linear
		 * combination of others (aliased, in R's word) makes H singular:
		 * such features get no standard error, the others get theirs from
		 * the Hessian of the rest, and a NOTICE names them, as R's glm does.
		 */
		bool	   *aliased = palloc0(sizeof(bool) * w->p);
		int			naliased = 0,
					q = 0;
		double	   *Hs = palloc(sizeof(double) * w->p * w->p);
		double	   *sdiag = palloc(sizeof(double) * w->p);

		if (w->l2 == 0)
		{
			/* in R's column order: the intercept first, then the features */
			int		   *order = palloc(sizeof(int) * w->p);

			for (int j = 0; j < w->p; j++)
				order[j] = w->p > d ? (j == 0 ? d : j - 1) : j;
			naliased = uba_dependent_columns(w->p, H, order, 1e-7, aliased);
		}
		/*
		 * An aliased column is, in the Hessian's metric, a combination
		 * c of the others: move its coefficient onto them (beta_I +=
		 * beta_k c, beta_k = 0), which leaves every prediction as it is and
		 * identifies the coefficients as R does, by fitting without it.
		 */
		for (int k = 0; naliased > 0 && k < w->p; k++)
		{
			int			n = w->p - naliased;
			double	   *A = palloc(sizeof(double) * n * n);
			double	   *c = palloc(sizeof(double) * n);
			int			ia = 0;

			if (!aliased[k] || beta[k] == 0)
				continue;
			for (int a = 0; a < w->p; a++)
			{
				int			ib = 0;

				if (aliased[a])
					continue;
				c[ia] = a < k ? H[(Size) a * w->p + k] : H[(Size) k * w->p + a];
				for (int b = 0; b < w->p; b++)
					if (!aliased[b])
						A[(Size) ia * n + ib++] = a < b ? H[(Size) a * w->p + b] : H[(Size) b * w->p + a];
				ia++;
			}
			if (uba_cholesky_solve(n, A, c))
			{
				for (int a = 0, i = 0; a < w->p; a++)
					if (!aliased[a])
						beta[a] += beta[k] * c[i++];
				beta[k] = 0;
			}
			pfree(A);
			pfree(c);
		}
		for (int a = 0; a < w->p; a++)
		{
			if (aliased[a])
				continue;
			for (int b = 0, qb = 0; b < w->p; b++)
				if (!aliased[b])
					Hs[(Size) q * (w->p - naliased) + qb++] = H[(Size) a * w->p + b];
			q++;
		}
		has_se = q > 0 && uba_spd_inverse_diagonal(q, Hs, sdiag);
		for (int j = 0, k = 0; has_se && j < w->p; j++)
		{
			if (aliased[j])
				continue;
			se[j] = sqrt(sdiag[k++] / w->S);
			has_se = isfinite(se[j]);
		}
		if (has_se && naliased > 0)
		{
			StringInfoData which;

			initStringInfo(&which);
			for (int j = 0; j < w->p; j++)
				if (aliased[j])
				{
					if (which.len > 0)
						appendStringInfoString(&which, ", ");
					if (j == d)
						appendStringInfoString(&which, "the intercept");
					else if (names)
						appendStringInfo(&which, "\"%s\"", names[j]);
					else
						appendStringInfo(&which, "feature %d", j + 1);
				}
			ereport(NOTICE,
					(errmsg_plural("%d feature is aliased (constant, or a linear combination of the others): %s",
								   "%d features are aliased (constant, or linear combinations of the others): %s",
								   naliased, naliased, which.data),
					 errdetail("Their coefficients are not identified: they have no standard error, z or p-value; the other features' statistics hold without them."),
					 errhint("Leave them out, or set l2 above 0.")));
		}
	}
	if (!has_se)
		memset(se, 0, sizeof(double) * (d + 1));
	if (w->l2 == 0 && w->l1 == 0 && loss < 1e-8)
	{
		/* a vanishing gradient here means the weights ran off to infinity */
		converged = false;
		ereport(NOTICE,
				(errmsg("the classes are separable, so without regularization the coefficients grow without bound"),
				 errhint("Set l2 above 0.")));
	}
	else if (!converged)
		ereport(NOTICE,
				(errmsg_plural("logistic regression did not converge in %d iteration",
							   "logistic regression did not converge in %d iterations",
							   iters, iters),
				 errdetail("The gradient norm is %g, above the tolerance %g.", gnorm, uba_option(o, "tol")),
				 errhint("Raise max_iter, or l2 if the classes are separable.")));

	uba_writer_init(pw);
	uba_put_u32(pw, (uint32) d);
	uba_put_u32(pw, (intercept ? LOGREG_FLAG_INTERCEPT : 0) |
				(standardize ? LOGREG_FLAG_STANDARDIZE : 0) |
				(converged ? LOGREG_FLAG_CONVERGED : 0) |
				(has_se ? 0 : LOGREG_FLAG_NO_SE));
	uba_put_u32(pw, (uint32) iters);
	uba_put_u32(pw, (uint32) class_weight);
	uba_put_f64(pw, w->l2);
	uba_put_f64(pw, w->l1);
	uba_put_f64(pw, w->w_pos);
	uba_put_f64(pw, w->w_neg);
	uba_put_f64(pw, loss);
	uba_put_f64(pw, gnorm);
	uba_put_f64_array(pw, mean, d);
	uba_put_f64_array(pw, scale, d);
	uba_put_f64_array(pw, beta, d);
	uba_put_f64(pw, intercept ? beta[d] : 0.0);
	uba_put_f64_array(pw, se, d + 1);
}

/* uba_logreg_train final function: fit and return the model */
Datum
uba_logreg_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	LogRegWork	w;
	MemoryContext cxt,
				old;
	int64		npos = 0;
	bool		intercept,
				standardize,
				converged;
	int			class_weight,
				iters,
				d;
	double	   *beta,
			   *mean,
			   *scale,
			   *H,
				loss,
				gnorm;
	bool		warm;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_parse_row_options(rs->options, logreg_options, lengthof(logreg_options),
						  "uba_logreg_train", rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	intercept = uba_option(&o, "fit_intercept") != 0;
	standardize = uba_option(&o, "standardize") != 0;
	class_weight = (int) uba_option(&o, "class_weight");
	d = rs->dim;

	/* rows; per lane a Hessian, scaled rows and row terms; the solver's five p x p matrices */
	{
		Size		ps = ((Size) d + 8) & ~(Size) 7;
		Size		rows = mul_size((Size) rs->n, (Size) d * sizeof(double) + 2 * sizeof(double));
		Size		lanes = mul_size(UBA_LANES * sizeof(double),
									 add_size(mul_size(ps, ps + HESS_ROWS + 1), 4 * UBA_BLOCK_ROWS));

		uba_check_memory(add_size(add_size(rows, lanes), mul_size(ps, ps * 5 * sizeof(double))),
						 "logistic regression training");
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba logreg", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);
	d = rs->dim;				/* typed rows: the encoded features */
	uba_check_feature_scale(rs->mean, rs->var, rs->dim, rs->enc ? rs->enc->feature_names : o.names);

	for (int64 i = 0; i < rs->n; i++)
		npos += rs->y[i] > 0;
	if (npos == 0 || npos == rs->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic regression needs rows of both classes"),
				 errdetail("All " INT64_FORMAT " rows have label %s.", rs->n, npos ? "true" : "false")));

	/* means and scales are kept for every model: explanations are relative to the mean */
	mean = palloc(sizeof(double) * d);
	scale = palloc(sizeof(double) * d);
	{
		double	   *var = palloc(sizeof(double) * d);

		uba_rowset_moments(rs, mean, var);
		if (standardize)
			uba_standardize(rs->x, rs->n, d, mean, var, scale);
		else
			for (int j = 0; j < d; j++)
				scale[j] = var[j] > 1e-300 ? sqrt(var[j]) : 1.0;
	}

	memset(&w, 0, sizeof(w));
	w.n = rs->n;
	w.d = d;
	w.p = d + (intercept ? 1 : 0);
	w.X = rs->x;
	w.y = rs->y;
	w.l2 = uba_option(&o, "l2");
	w.l1 = uba_option(&o, "l1");
	SetClassWeights(&w, &o, class_weight, rs->n, npos);
	w.nblocks = (w.n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS;
	w.nthreads = uba_thread_count();
	w.pstride = (w.p + 7) & ~7;
	w.lane_z = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * 4 * UBA_BLOCK_ROWS);
	w.lane_loss = palloc(sizeof(double) * UBA_LANES * 8);
	w.lane_g = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * w.pstride);
	w.lane_H = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * w.pstride * w.pstride);
	/* zero once: the padding columns of the scaled rows stay zero */
	w.lane_v = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * HESS_ROWS * w.pstride);
	memset(w.lane_v, 0, sizeof(double) * UBA_LANES * HESS_ROWS * w.pstride);
	beta = palloc0(sizeof(double) * w.p);
	/* start from the best intercept-only model: one Newton step fewer */
	if (intercept)
		beta[d] = log(w.w_pos * (double) npos / (w.w_neg * (double) (rs->n - npos)));

	H = palloc(sizeof(double) * w.p * w.p);
	w.o = &o;
	w.phase = "all rows";
	warm = WarmStart(&w, beta, H, (int) uba_option(&o, "max_iter"));
	converged = Newton(&w, beta, (int) uba_option(&o, "max_iter"), uba_option(&o, "tol"),
					   warm ? H : NULL, &iters, &loss, &gnorm, H);

	FinishFit(&w, &o, rs->enc ? rs->enc->feature_names : o.names, beta, H, converged, iters,
			  loss, gnorm, mean, scale, intercept, standardize, class_weight, &pw);

	uba_model_meta_init(&meta, rs->dim, rs->n, rs->started, &o);
	uba_encoding_attach(&meta, rs->enc);

	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_LOGREG, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

void
uba_logreg_row_terms(const double *z, const double *y, int n, double w_pos, double w_neg,
					 double *loss, double *resid, double *root)
{
	RowTerms(z, y, n, w_pos, w_neg, loss, resid, root);
}

/* The options of uba_logreg_train, checked */
void
uba_logreg_options(Jsonb *options, UbaOptions *o)
{
	uba_parse_options(options, logreg_options, lengthof(logreg_options), "uba_logreg_train", o);
}

/*
 * Fit by passes (logreg_passes.c): the same objective and Newton's method
 * as the aggregate, from the intercept-only model, each pass a query; n,
 * npos and the feature moments come from a first pass.
 */
bytea *
uba_logreg_fit_by_passes(UbaOptions *o, int d, int64 n, int64 npos, const double *mean,
						 const double *var, UbaLogRegRemote remote, void *arg, TimestampTz started)
{
	LogRegWork	w;
	bool		intercept = uba_option(o, "fit_intercept") != 0;
	bool		standardize = uba_option(o, "standardize") != 0;
	int			class_weight = (int) uba_option(o, "class_weight");
	double	   *scale = palloc(sizeof(double) * d);
	double	   *v = palloc(sizeof(double) * d);
	double	   *beta,
			   *H,
				loss,
				gnorm;
	int			iters;
	bool		converged;
	UbaWriter	pw;
	UbaModelMeta meta;

	uba_check_feature_scale(mean, var, d, o->names);
	if (npos == 0 || npos == n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic regression needs rows of both classes"),
				 errdetail("All " INT64_FORMAT " rows have label %s.", n, npos ? "true" : "false")));
	memcpy(v, var, sizeof(double) * d);
	if (standardize)
		uba_standardize(NULL, 0, d, mean, v, scale);
	else
		for (int j = 0; j < d; j++)
			scale[j] = var[j] > 1e-300 ? sqrt(var[j]) : 1.0;

	memset(&w, 0, sizeof(w));
	w.n = n;
	w.d = d;
	w.p = d + (intercept ? 1 : 0);
	w.l2 = uba_option(o, "l2");
	w.l1 = uba_option(o, "l1");
	SetClassWeights(&w, o, class_weight, n, npos);
	w.remote = remote;
	w.remote_arg = arg;
	w.standardize = standardize;
	w.mean = mean;
	w.scale = scale;
	w.o = o;
	w.phase = "all rows, a pass each";
	beta = palloc0(sizeof(double) * w.p);
	if (intercept)
		beta[d] = log(w.w_pos * (double) npos / (w.w_neg * (double) (n - npos)));
	H = palloc(sizeof(double) * w.p * w.p);
	converged = Newton(&w, beta, (int) uba_option(o, "max_iter"), uba_option(o, "tol"),
					   NULL, &iters, &loss, &gnorm, H);
	FinishFit(&w, o, o->names, beta, H, converged, iters, loss, gnorm, mean, scale,
			  intercept, standardize, class_weight, &pw);
	uba_model_meta_init(&meta, d, n, started, o);
	return uba_model_build(UBA_KIND_LOGREG, &meta, &pw);
}

/* ---------- reading and scoring ---------- */

/* Parse and fully validate a logistic regression payload */
void *
uba_logreg_parse(const UbaModelMeta *meta, UbaReader *r)
{
	LogRegModel *m = palloc0(sizeof(LogRegModel));

	m->d = (int) uba_get_u32(r);
	m->flags = uba_get_u32(r);
	m->n_iter = (int) uba_get_u32(r);
	m->class_weight = (int) uba_get_u32(r);
	if (m->d < 1 || m->d != meta->n_features)
		uba_model_corrupted("Logistic regression model has %d features, metadata says %d.",
							m->d, meta->n_features);
	if ((m->flags & ~LOGREG_FLAGS_ALL) != 0)
		uba_model_corrupted("Unknown logistic regression flags.");
	if (m->n_iter < 0 || m->class_weight < CLASS_WEIGHT_NONE || m->class_weight > CLASS_WEIGHT_EXPLICIT)
		uba_model_corrupted("Logistic regression settings out of range.");
	m->l2 = uba_get_finite_f64(r);
	m->l1 = uba_get_finite_f64(r);
	m->w_true = uba_get_finite_f64(r);
	m->w_false = uba_get_finite_f64(r);
	m->loss = uba_get_finite_f64(r);
	m->grad_norm = uba_get_finite_f64(r);
	if (m->l2 < 0 || m->l1 < 0 || m->loss < 0 || m->grad_norm < 0)
		uba_model_corrupted("Negative regularization, loss or gradient norm.");
	if (!(m->w_true > 0) || !(m->w_false > 0))
		uba_model_corrupted("Class weights must be positive.");
	m->names = meta->feature_names;
	uba_get_scaling(r, m->d, &m->mean, &m->scale);
	m->standardized = (m->flags & LOGREG_FLAG_STANDARDIZE) != 0;
	uba_reader_check_space(r, (Size) m->d, sizeof(double));
	m->coef = palloc(sizeof(double) * m->d);
	uba_get_f64_array(r, m->coef, m->d, true);
	m->intercept = uba_get_finite_f64(r);
	if (!(m->flags & LOGREG_FLAG_INTERCEPT) && m->intercept != 0)
		uba_model_corrupted("Intercept set in a model fitted without one.");
	uba_reader_check_space(r, (Size) m->d + 1, sizeof(double));
	m->se = palloc(sizeof(double) * (m->d + 1));
	uba_get_f64_array(r, m->se, m->d + 1, true);
	for (int j = 0; j <= m->d; j++)
		if (m->se[j] < 0)
			uba_model_corrupted("Negative standard error.");
	uba_reader_finish(r);
	m->x = palloc(sizeof(double) * Max(m->d, 1));
	m->contrib = palloc(sizeof(UbaContribution) * Max(m->d, 1));
	return m;
}

/* Summary for uba_model_info() */
void
uba_logreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	LogRegModel *m = uba_logreg_parse(meta, payload);

	int			nonzero = 0;

	for (int j = 0; j < m->d; j++)
		nonzero += m->coef[j] != 0;
	appendStringInfo(json, ", \"iterations\": %d, \"converged\": %s, \"loss\": %.17g, "
					 "\"gradient_norm\": %.17g, \"fit_intercept\": %s, \"standardized\": %s, "
					 "\"class_weights\": {\"true\": %.17g, \"false\": %.17g}, "
					 "\"nonzero_coefficients\": %d",
					 m->n_iter, (m->flags & LOGREG_FLAG_CONVERGED) ? "true" : "false",
					 m->loss, m->grad_norm,
					 (m->flags & LOGREG_FLAG_INTERCEPT) ? "true" : "false",
					 (m->flags & LOGREG_FLAG_STANDARDIZE) ? "true" : "false",
					 m->w_true, m->w_false, nonzero);
	/* aliased features: no standard error while the others have one */
	if (!(m->flags & LOGREG_FLAG_NO_SE) && m->flags & LOGREG_FLAG_CONVERGED)
	{
		bool		any = false;

		for (int j = 0; j < m->d; j++)
			if (m->se[j] == 0)
			{
				appendStringInfoString(json, any ? ", " : ", \"aliased\": [");
				if (m->names)
					escape_json(json, m->names[j]);
				else
					appendStringInfo(json, "%d", j + 1);
				any = true;
			}
		if (any)
			appendStringInfoChar(json, ']');
	}
}

/* Probability that the label is true for one row of d features */
static double
ProbabilityX(const LogRegModel *m, const double *x)
{
	double		z = m->intercept;

	for (int j = 0; j < m->d; j++)
	{
		double		v = m->standardized ? (x[j] - m->mean[j]) / m->scale[j] : x[j];

		z += m->coef[j] * v;
	}
	return uba_sigmoid(z);
}

/* The same for a feature array (checked against the model) */
static double
Probability(const LogRegModel *m, ArrayType *features)
{
	uba_read_features(features, m->x, m->d);
	return ProbabilityX(m, m->x);
}

/* uba_logreg_predict(model, features): probability of true */
Datum
uba_logreg_predict(PG_FUNCTION_ARGS)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);

	PG_RETURN_FLOAT8(Probability(m, PG_GETARG_ARRAYTYPE_P(1)));
}

/* The probability for the model in argument 0 of a row of its features (uba_predict) */
double
uba_logreg_score(FunctionCallInfo fcinfo, const double *x)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);

	return ProbabilityX(m, x);
}

/* The class probabilities [false, true] for a row of the model's features (uba_predict_proba) */
static const char *const logreg_labels[] = {"false", "true"};

int
uba_logreg_classes(FunctionCallInfo fcinfo, const double *x, const double **p, const char *const **labels)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);

	m->proba[1] = ProbabilityX(m, x);
	m->proba[0] = 1 - m->proba[1];
	*p = m->proba;
	*labels = logreg_labels;
	return 2;
}

/* uba_logreg_classify(model, features [, threshold]): probability >= threshold */
Datum
uba_logreg_classify(PG_FUNCTION_ARGS)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);
	double		threshold = PG_NARGS() > 2 ? PG_GETARG_FLOAT8(2) : 0.5;

	if (!(threshold >= 0 && threshold <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be between 0 and 1"),
				 errdetail("Got %g.", threshold)));
	PG_RETURN_BOOL(Probability(m, PG_GETARG_ARRAYTYPE_P(1)) >= threshold);
}

PG_FUNCTION_INFO_V1(uba_logreg_coefficients);
PG_FUNCTION_INFO_V1(uba_logreg_explain);

/* A coefficient in the input's units, from the fitting space */
static inline double
InputCoef(const LogRegModel *m, int j)
{
	return m->standardized ? m->coef[j] / m->scale[j] : m->coef[j];
}

/*
 * uba_logreg_coefficients(model) returns one row per coefficient:
 * feature (0 for the intercept), name, coefficient in input units,
 * std_coefficient (per standard deviation of the feature), odds ratio,
 * standard error (input units), z and two-sided p-value.  The standard
 * errors come from the inverse Hessian of the penalized objective at the
 * optimum: with l2 > 0 they describe the shrunken estimate and are smaller
 * than classical ones; with l2 = 0 they are the usual Wald statistics.
 * NULL where they are not available (an intercept of a standardized fit,
 * whose input-units error needs covariances, or a singular Hessian).
 */
Datum
uba_logreg_coefficients(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LogRegModel *m;
	bool		has_se;

	InitMaterializedSRF(fcinfo, 0);
	m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);
	has_se = !(m->flags & LOGREG_FLAG_NO_SE);

	for (int j = -1; j < m->d; j++)
	{
		Datum		values[8];
		bool		nulls[8] = {false, true, false, false, false, false, false, false};
		double		c,
					cs,
					se;

		if (j < 0)
		{
			if (!(m->flags & LOGREG_FLAG_INTERCEPT))
				continue;
			/* intercept at x = 0 in input units */
			c = m->standardized ? uba_input_intercept(m->intercept, m->coef, m->mean, m->scale, m->d) : m->intercept;
			cs = m->intercept;
			se = m->se[m->d];
			values[1] = CStringGetTextDatum("(intercept)");
			nulls[1] = false;
			nulls[5] = nulls[6] = nulls[7] = !has_se || m->standardized;
		}
		else
		{
			c = InputCoef(m, j);
			cs = m->standardized ? m->coef[j] : m->coef[j] * m->scale[j];
			if (m->names)
			{
				values[1] = CStringGetTextDatum(m->names[j]);
				nulls[1] = false;
			}
			se = m->standardized ? m->se[j] / m->scale[j] : m->se[j];
			nulls[5] = nulls[6] = nulls[7] = !has_se || se == 0;
		}
		values[0] = Int32GetDatum(j + 1);
		values[2] = Float8GetDatum(c);
		values[3] = Float8GetDatum(cs);
		values[4] = Float8GetDatum(exp(c));
		if (!nulls[5])
		{
			values[5] = Float8GetDatum(se);
			values[6] = Float8GetDatum(c / se);
			values[7] = Float8GetDatum(erfc(fabs(c / se) / M_SQRT2));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Order feature contributions by size, largest first, then by feature */
/*
 * uba_logreg_explain(model, features [, top]) returns each feature's
 * additive contribution to the log-odds relative to the training mean,
 * coefficient x (value - mean), largest first, after a first row
 * (feature 0, 'baseline') holding the log-odds at the training mean.  All
 * rows' contributions add up to the row's log-odds, logit(predict), so
 * top limits only the feature rows.
 */
Datum
uba_logreg_explain(PG_FUNCTION_ARGS)
{
	LogRegModel *m;
	UbaContribution *c;
	char	  **names;
	double		baseline;
	int			top = PG_NARGS() > 2 ? uba_count_arg(PG_GETARG_INT32(2), "top") : -1;

	InitMaterializedSRF(fcinfo, 0);
	m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);
	uba_read_features(PG_GETARG_ARRAYTYPE_P(1), m->x, m->d);
	baseline = uba_logreg_contributions(fcinfo, m->x, &c, &names);
	uba_emit_contributions(fcinfo, baseline, c, m->d, top < 0 ? m->d : top, names);
	return (Datum) 0;
}

/*
 * Each feature's contribution for the model in argument 0 and a row of its
 * features, into the model's scratch (*c, d entries, *names); returns the
 * baseline.
 */
double
uba_logreg_contributions(FunctionCallInfo fcinfo, const double *x, UbaContribution **c, char ***names)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, uba_logreg_parse);
	double		baseline = m->intercept;

	if (!m->standardized)
		for (int j = 0; j < m->d; j++)
			baseline += m->coef[j] * m->mean[j];
	for (int j = 0; j < m->d; j++)
	{
		m->contrib[j].feature = j + 1;
		m->contrib[j].value = x[j];
		m->contrib[j].contribution = m->standardized ?
			m->coef[j] * ((x[j] - m->mean[j]) / m->scale[j]) :
			m->coef[j] * (x[j] - m->mean[j]);
	}
	*c = m->contrib;
	*names = m->names;
	return baseline;
}
