/*-------------------------------------------------------------------------
 *
 * logreg.c
 *	  Logistic regression for churn and conversion: training aggregate,
 *	  model payload and scoring.
 *
 * Objective, with s_i the class weight of row i and S = sum of s_i:
 *	  f(w, b) = (1/S) [ sum_i s_i logloss_i + (l2 / 2) ||w||^2 ]
 * (intercept b unpenalized), the same minimizer as scikit-learn's
 * LogisticRegression(C = 1 / l2).  f is convex and smooth, so the solver
 * is Newton's method with a backtracking line search: each iteration
 * builds the Hessian X^T D X with BLAS (one block of rows at a time, with
 * interrupt checks) and solves by Cholesky; it converges quadratically, to
 * the optimum, in a handful of iterations.  Without regularization and on
 * separable data the optimum is at infinity: the Hessian is damped so the
 * run ends with a NOTICE that it did not converge.
 *
 * Payload: d (u32), flags (u32: 1 intercept, 2 standardize, 4 converged),
 * iterations (u32), class weighting (u32: 0 none, 1 balanced), l2, loss,
 * gradient norm (f64), [mean (d f64), scale (d f64)] when standardized,
 * coefficients (d f64, fitting space), intercept (f64, fitting space).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_logreg_transfn);
PG_FUNCTION_INFO_V1(uba_logreg_final);
PG_FUNCTION_INFO_V1(uba_logreg_predict);
PG_FUNCTION_INFO_V1(uba_logreg_classify);

#define LOGREG_FLAG_INTERCEPT 1
#define LOGREG_FLAG_STANDARDIZE 2
#define LOGREG_FLAG_CONVERGED 4
#define LOGREG_FLAGS_ALL 7

static const char *const class_weight_choices[] = {"none", "balanced", NULL};

static const UbaOptionSpec logreg_options[] = {
	{"l2", UBA_OPT_FLOAT, 1.0, 0, 1e12, NULL},
	{"fit_intercept", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"standardize", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"class_weight", UBA_OPT_CHOICE, 0, 0, 0, class_weight_choices},
	{"max_iter", UBA_OPT_INT, 100, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-10, 0, 1, NULL},
};

/* A parsed model */
typedef struct LogRegModel
{
	int			d;
	uint32		flags;
	int			n_iter;
	int			class_weight;
	double		l2;
	double		loss;
	double		grad_norm;
	double	   *mean;			/* d, when standardized */
	double	   *scale;
	double	   *coef;			/* d, fitting space */
	double		intercept;
} LogRegModel;

/* ---------- training ---------- */

/* uba_logreg_train(label, features [, options]) transition: collect the row */
Datum
uba_logreg_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;

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

		uba_parse_options(opts, logreg_options, lengthof(logreg_options),
						  "uba_logreg_train", &o);
		rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(2), true, 0, opts);
	}
	else
		uba_rowset_check_options(rs, opts);
	uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(2), PG_GETARG_BOOL(1) ? 1.0 : 0.0);
	PG_RETURN_POINTER(rs);
}

/* log(1 + exp(z)) without overflow */
static inline double
Softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* 1 / (1 + exp(-z)) without overflow */
static inline double
Sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	else
	{
		double		e = exp(z);

		return e / (1.0 + e);
	}
}

/* Training data and scratch for one call */
typedef struct LogRegWork
{
	int64		n;
	int			d;
	int			p;				/* d + 1 with an intercept, else d */
	const double *X;			/* n x d */
	const double *y;			/* n, 0 or 1 */
	double		w_pos;			/* class weights */
	double		w_neg;
	double		S;				/* sum of weights */
	double		l2;
	double	   *block;			/* UBA_BLOCK_ROWS x p: sqrt(weight) scaled rows */
} LogRegWork;

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

/* Objective f at beta */
static double
Objective(const LogRegWork *w, const double *beta)
{
	double		sum = 0,
				reg = 0;

	for (int64 i = 0; i < w->n; i++)
	{
		double		z = Score(w, beta, i);

		sum += w->y[i] > 0 ? w->w_pos * Softplus(-z) : w->w_neg * Softplus(z);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int j = 0; j < w->d; j++)
		reg += beta[j] * beta[j];
	return (sum + 0.5 * w->l2 * reg) / w->S;
}

/*
 * Gradient g (p) and Hessian H (p x p, upper triangle) of f at beta;
 * returns f.  The Hessian is X^T D X from BLAS, one block of rows at a
 * time with each row scaled by sqrt(D).
 */
static double
GradientHessian(LogRegWork *w, const double *beta, double *g, double *H)
{
	int			p = w->p;
	int			d = w->d;
	double		sum = 0,
				reg = 0;

	memset(g, 0, sizeof(double) * p);
	memset(H, 0, sizeof(double) * p * p);
	for (int64 i0 = 0; i0 < w->n; i0 += UBA_BLOCK_ROWS)
	{
		int			b = (int) Min((int64) UBA_BLOCK_ROWS, w->n - i0);

		CHECK_FOR_INTERRUPTS();
		for (int r = 0; r < b; r++)
		{
			int64		i = i0 + r;
			const double *x = w->X + (Size) i * d;
			double		z = Score(w, beta, i);
			double		pr = Sigmoid(z);
			bool		pos = w->y[i] > 0;
			double		s = pos ? w->w_pos : w->w_neg;
			double		resid = s * (pr - (pos ? 1.0 : 0.0));
			double		root = sqrt(s * pr * (1.0 - pr));
			double	   *row = w->block + (Size) r * p;

			sum += pos ? s * Softplus(-z) : s * Softplus(z);
			for (int j = 0; j < d; j++)
			{
				g[j] += resid * x[j];
				row[j] = root * x[j];
			}
			if (p > d)
			{
				g[d] += resid;
				row[d] = root;
			}
		}
		uba_syrk_ata(b, p, w->block, H);
	}
	for (int j = 0; j < d; j++)
	{
		g[j] += w->l2 * beta[j];
		H[(Size) j * p + j] += w->l2;
		reg += beta[j] * beta[j];
	}
	for (int j = 0; j < p; j++)
	{
		g[j] /= w->S;
		for (int k = j; k < p; k++)
			H[(Size) j * p + k] /= w->S;
	}
	return (sum + 0.5 * w->l2 * reg) / w->S;
}

/* Largest absolute element */
static double
NormInf(const double *v, int n)
{
	double		m = 0;

	for (int i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
}

/*
 * Newton's method with backtracking; beta starts at 0.  Returns whether
 * the gradient fell below tol; sets iterations, loss and gradient norm.
 */
static bool
Newton(LogRegWork *w, double *beta, int max_iter, double tol,
	   int *iters, double *loss, double *gnorm)
{
	int			p = w->p;
	double	   *g = palloc(sizeof(double) * p);
	double	   *H = palloc(sizeof(double) * p * p);
	double	   *Hc = palloc(sizeof(double) * p * p);
	double	   *step = palloc(sizeof(double) * p);
	double	   *trial = palloc(sizeof(double) * p);
	double		f = 0;
	bool		converged = false;
	int			it;

	for (it = 0; it < max_iter; it++)
	{
		double		damping = 0,
					slope = 0,
					t = 1;
		bool		solved;

		f = GradientHessian(w, beta, g, H);
		*gnorm = NormInf(g, p);
		if (*gnorm <= tol)
		{
			converged = true;
			break;
		}
		/* solve H step = -g; damp a singular Hessian (no regularization, separable data) */
		for (;;)
		{
			memcpy(Hc, H, sizeof(double) * p * p);
			for (int j = 0; j < p; j++)
			{
				Hc[(Size) j * p + j] += damping;
				step[j] = -g[j];
			}
			solved = uba_cholesky_solve(p, Hc, step);
			if (solved)
				break;
			damping = damping == 0 ? 1e-10 * Max(1.0, NormInf(H, p * p)) : damping * 10;
			if (damping > 1e10)
				elog(ERROR, "uba logistic regression: Hessian cannot be factored");
		}
		for (int j = 0; j < p; j++)
			slope += g[j] * step[j];
		/* backtracking line search (Armijo) */
		for (int ls = 0; ls < 60; ls++)
		{
			double		ft;

			for (int j = 0; j < p; j++)
				trial[j] = beta[j] + t * step[j];
			ft = Objective(w, trial);
			if (ft <= f + 1e-4 * t * slope || ls == 59)
			{
				if (ft > f)
					t = 0;		/* no progress possible in floating point */
				break;
			}
			t *= 0.5;
		}
		if (t == 0)
		{
			converged = *gnorm <= Max(tol, 1e-12);
			break;
		}
		memcpy(beta, trial, sizeof(double) * p);
	}
	*iters = Min(it + 1, max_iter);
	f = GradientHessian(w, beta, g, H);
	*gnorm = NormInf(g, p);
	*loss = f;
	if (*gnorm <= tol)
		converged = true;
	return converged;
}

/* Column means and population standard deviations (constant columns: scale 1) */
static void
Standardize(double *X, int64 n, int d, double *mean, double *scale)
{
	memset(mean, 0, sizeof(double) * d);
	memset(scale, 0, sizeof(double) * d);
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			mean[j] += X[(Size) i * d + j];
	for (int j = 0; j < d; j++)
		mean[j] /= (double) n;
	for (int64 i = 0; i < n; i++)
	{
		for (int j = 0; j < d; j++)
		{
			double		t = X[(Size) i * d + j] - mean[j];

			scale[j] += t * t;
		}
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int j = 0; j < d; j++)
	{
		scale[j] = sqrt(scale[j] / (double) n);
		if (!(scale[j] > 1e-300))
			scale[j] = 1.0;
	}
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			X[(Size) i * d + j] = (X[(Size) i * d + j] - mean[j]) / scale[j];
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
			   *mean = NULL,
			   *scale = NULL,
				loss,
				gnorm;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(rs->options, logreg_options, lengthof(logreg_options),
					  "uba_logreg_train", &o);
	intercept = uba_option(&o, "fit_intercept") != 0;
	standardize = uba_option(&o, "standardize") != 0;
	class_weight = (int) uba_option(&o, "class_weight");
	d = rs->dim;

	/* Hessian and its factor, beside the rows; checked before allocating */
	uba_check_memory(add_size(mul_size((Size) rs->n, (Size) d * sizeof(double) + 2 * sizeof(double)),
							  mul_size((Size) (d + 1), (Size) (d + 1) * 2 * sizeof(double) +
									   UBA_BLOCK_ROWS * sizeof(double))),
					 "logistic regression training");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba logreg", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);

	for (int64 i = 0; i < rs->n; i++)
		npos += rs->y[i] > 0;
	if (npos == 0 || npos == rs->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic regression needs rows of both classes"),
				 errdetail("All " INT64_FORMAT " rows have label %s.", rs->n, npos ? "true" : "false")));

	if (standardize)
	{
		mean = palloc(sizeof(double) * d);
		scale = palloc(sizeof(double) * d);
		Standardize(rs->x, rs->n, d, mean, scale);
	}

	memset(&w, 0, sizeof(w));
	w.n = rs->n;
	w.d = d;
	w.p = d + (intercept ? 1 : 0);
	w.X = rs->x;
	w.y = rs->y;
	w.l2 = uba_option(&o, "l2");
	if (class_weight == 1)
	{
		/* "balanced": n / (2 n_class), as scikit-learn */
		w.w_pos = (double) rs->n / (2.0 * (double) npos);
		w.w_neg = (double) rs->n / (2.0 * (double) (rs->n - npos));
	}
	else
		w.w_pos = w.w_neg = 1.0;
	w.S = w.w_pos * (double) npos + w.w_neg * (double) (rs->n - npos);
	w.block = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_BLOCK_ROWS * w.p);
	beta = palloc0(sizeof(double) * w.p);

	converged = Newton(&w, beta, (int) uba_option(&o, "max_iter"), uba_option(&o, "tol"),
					   &iters, &loss, &gnorm);
	if (w.l2 == 0 && loss < 1e-8)
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
				 errdetail("The gradient norm is %g, above the tolerance %g.", gnorm, uba_option(&o, "tol")),
				 errhint("Raise max_iter, or l2 if the classes are separable.")));

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) d);
	uba_put_u32(&pw, (intercept ? LOGREG_FLAG_INTERCEPT : 0) |
				(standardize ? LOGREG_FLAG_STANDARDIZE : 0) |
				(converged ? LOGREG_FLAG_CONVERGED : 0));
	uba_put_u32(&pw, (uint32) iters);
	uba_put_u32(&pw, (uint32) class_weight);
	uba_put_f64(&pw, w.l2);
	uba_put_f64(&pw, loss);
	uba_put_f64(&pw, gnorm);
	if (standardize)
	{
		uba_put_f64_array(&pw, mean, d);
		uba_put_f64_array(&pw, scale, d);
	}
	uba_put_f64_array(&pw, beta, d);
	uba_put_f64(&pw, intercept ? beta[d] : 0.0);

	meta.n_features = d;
	meta.n_rows = rs->n;
	meta.created_at = GetCurrentTimestamp();
	meta.train_ms = (double) (meta.created_at - rs->started) / 1000.0;
	meta.options_json = uba_options_to_json(&o);

	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_LOGREG, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading and scoring ---------- */

/* Parse and fully validate a logistic regression payload */
static void *
ParseLogReg(const UbaModelMeta *meta, UbaReader *r)
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
	if (m->n_iter < 0 || m->class_weight < 0 || m->class_weight > 1)
		uba_model_corrupted("Logistic regression settings out of range.");
	m->l2 = uba_get_finite_f64(r);
	m->loss = uba_get_finite_f64(r);
	m->grad_norm = uba_get_finite_f64(r);
	if (m->l2 < 0 || m->loss < 0 || m->grad_norm < 0)
		uba_model_corrupted("Negative regularization, loss or gradient norm.");
	if (m->flags & LOGREG_FLAG_STANDARDIZE)
	{
		uba_reader_check_space(r, (Size) m->d * 2, sizeof(double));
		m->mean = palloc(sizeof(double) * m->d);
		m->scale = palloc(sizeof(double) * m->d);
		uba_get_f64_array(r, m->mean, m->d, true);
		uba_get_f64_array(r, m->scale, m->d, true);
		for (int j = 0; j < m->d; j++)
			if (!(m->scale[j] > 0))
				uba_model_corrupted("Non-positive feature scale.");
	}
	uba_reader_check_space(r, (Size) m->d, sizeof(double));
	m->coef = palloc(sizeof(double) * m->d);
	uba_get_f64_array(r, m->coef, m->d, true);
	m->intercept = uba_get_finite_f64(r);
	if (!(m->flags & LOGREG_FLAG_INTERCEPT) && m->intercept != 0)
		uba_model_corrupted("Intercept set in a model fitted without one.");
	uba_reader_finish(r);
	return m;
}

/* Summary for uba_model_info() */
void
uba_logreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	LogRegModel *m = ParseLogReg(meta, payload);

	appendStringInfo(json, ", \"iterations\": %d, \"converged\": %s, \"loss\": %.17g, "
					 "\"gradient_norm\": %.17g, \"fit_intercept\": %s, \"standardized\": %s",
					 m->n_iter, (m->flags & LOGREG_FLAG_CONVERGED) ? "true" : "false",
					 m->loss, m->grad_norm,
					 (m->flags & LOGREG_FLAG_INTERCEPT) ? "true" : "false",
					 (m->flags & LOGREG_FLAG_STANDARDIZE) ? "true" : "false");
}

/* Probability that the label is true for one feature array */
static double
Probability(const LogRegModel *m, ArrayType *features)
{
	double	   *x = palloc(sizeof(double) * m->d);
	double		z = m->intercept;

	uba_read_features(features, x, m->d);
	for (int j = 0; j < m->d; j++)
	{
		double		v = m->scale ? (x[j] - m->mean[j]) / m->scale[j] : x[j];

		z += m->coef[j] * v;
	}
	pfree(x);
	return Sigmoid(z);
}

/* uba_logreg_predict(model, features): probability of true */
Datum
uba_logreg_predict(PG_FUNCTION_ARGS)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, ParseLogReg);

	PG_RETURN_FLOAT8(Probability(m, PG_GETARG_ARRAYTYPE_P(1)));
}

/* uba_logreg_classify(model, features [, threshold]): probability >= threshold */
Datum
uba_logreg_classify(PG_FUNCTION_ARGS)
{
	LogRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LOGREG, ParseLogReg);
	double		threshold = PG_NARGS() > 2 ? PG_GETARG_FLOAT8(2) : 0.5;

	if (!(threshold >= 0 && threshold <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be between 0 and 1"),
				 errdetail("Got %g.", threshold)));
	PG_RETURN_BOOL(Probability(m, PG_GETARG_ARRAYTYPE_P(1)) >= threshold);
}
