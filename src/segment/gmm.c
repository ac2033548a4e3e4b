/*-------------------------------------------------------------------------
 *
 * gmm.c
 *	  Gaussian mixtures: uba_gmm_train(features, k [, options]) fits a
 *	  mixture of k Gaussians by EM; uba_gmm_predict gives a row's most
 *	  likely component, uba_gmm_proba its memberships, uba_gmm_score its
 *	  log-likelihood (an outlier score); uba_gmm_components lists them.
 *
 * EM is gmm_em.c's, scikit-learn's GaussianMixture step for step
 * (covariance types full, diag, spherical, tied; reg_covar on the
 * diagonal; the mean log-likelihood's change below tol stops it).  Starts,
 * as scikit-learn's init_params: "kmeans" (the default: k-means,
 * k-means++ seeded, as uba_kmeans fits it; each row all in its cluster),
 * "random" (random memberships), or "init_means" (each row all in its
 * nearest given mean).  Of n_init starts (seeds seed, seed + 1, ...) the
 * highest lower bound wins.  BIC and AIC are scikit-learn's, from the
 * final parameters' mean log-likelihood.
 *
 * Payload: flags (u32: 1 standardize, 2 converged), covariance type
 * (u32), k (u32), iterations (u32), lower bound, mean log-likelihood,
 * BIC, AIC (f64), the scaling (with standardize), weights (f64 x k),
 * means (f64 x k x d), covariances and their precisions' Cholesky factors
 * (f64 each, by type: k d d, d d, k d or k).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "kmeans.h"
#include "gmm_em.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_gmm_transfn);
PG_FUNCTION_INFO_V1(uba_gmm_final);
PG_FUNCTION_INFO_V1(uba_gmm_components);

#define FLAG_STANDARDIZE 1
#define FLAG_CONVERGED 2
#define GMM_MAX_K 1000
#define GMM_MAX_FEATURES 1000
#define INIT_KMEANS 0
#define INIT_RANDOM 1

static const char *const cov_choices[] = {"full", "diag", "spherical", "tied", NULL};
static const char *const init_choices[] = {"kmeans", "random", NULL};

static const UbaOptionSpec gmm_options[] = {
	{"covariance_type", UBA_OPT_CHOICE, 0, 0, 0, cov_choices},
	{"init", UBA_OPT_CHOICE, 0, 0, 0, init_choices},
	{"init_means", UBA_OPT_MATRIX, 0, 0, 0, NULL},
	{"n_init", UBA_OPT_INT, 1, 1, 1000, NULL},
	{"max_iter", UBA_OPT_INT, 100, 1, 1000000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-3, 0, 1e6, NULL},
	{"reg_covar", UBA_OPT_FLOAT, 1e-6, 0, 1e6, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

typedef struct GmmModel
{
	GmmParams	p;
	bool		standardize;
	bool		converged;
	int			n_iter;
	double		lower_bound;
	double		log_likelihood;
	double		bic;
	double		aic;
	double	   *mean;			/* d, when standardized */
	double	   *scale;
	double	   *cst;			/* 2 k: gmm_row_constants */
	UbaEncoding *enc;
	double	   *x;				/* scratch: d */
	double	   *resp;			/* scratch: k */
	double	   *scratch;		/* 2 (d + k) */
} GmmModel;

/* ---------- training ---------- */

/* uba_gmm_train(features, k [, options]) transition: collect the row */
Datum
uba_gmm_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);

	PG_RETURN_POINTER(uba_rowset_collect_k(fcinfo, rs, gmm_options, lengthof(gmm_options), GMM_MAX_K, "uba_gmm_train"));
}

typedef struct TickArg
{
	const UbaOptions *o;
	int			run;
	int			n_init;
} TickArg;

/* Between EM rounds, on the backend thread: interrupts and progress */
static void
Tick(void *arg, int it, double lb)
{
	TickArg    *t = (TickArg *) arg;

	CHECK_FOR_INTERRUPTS();
	uba_progress(t->o, "uba_gmm_train: start %d of %d, iteration %d: mean log-likelihood %.10g",
				 t->run, t->n_init, it, lb);
}

/* Doubles of a parameter set: weights, means, covariances, factors */
static Size
ParamDoubles(int k, int d, int cov)
{
	return (Size) k + (Size) k * d + 2 * (Size) gmm_cov_size(k, d, cov);
}

static void
ParamsIn(GmmParams *p, double *buf, int k, int d, int cov)
{
	p->k = k;
	p->d = d;
	p->cov = cov;
	p->weights = buf;
	p->means = buf + k;
	p->covariances = p->means + (Size) k * d;
	p->prec_chol = p->covariances + gmm_cov_size(k, d, cov);
}

/* Each row all in the nearest of the given means (init_means, in the fitting space) */
static void
NearestMeans(const double *X, int64 n, int d, int k, const double *means, double *resp)
{
	for (int64 i = 0; i < n; i++)
	{
		double		dist;
		int			best = uba_nearest_center(X + (Size) i * d, means, k, d, &dist);

		memset(resp + (Size) i * k, 0, sizeof(double) * k);
		resp[(Size) i * k + best] = 1;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

static void
FitFailed(int rc, int cov)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the covariance of component %d is not positive definite", cov == GMM_TIED ? 1 : -rc),
			 errdetail("Some components have too few distinct rows, or rows that lie on a line or a plane."),
			 errhint("Use fewer components, or a larger \"reg_covar\" (now the diagonal gets that much more).")));
}

Datum
uba_gmm_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	int			d,
				k,
				cov,
				init,
				n_init,
				best_iter = 0;
	int64		n;
	bool		standardize,
				best_converged = false;
	double		reg,
				tol,
				best_lb = -get_float8_infinity(),
				loglik,
				nparams;
	double	   *scale = NULL,
			   *resp,
			   *buf,
			   *best;
	void	   *work;
	GmmParams	p,
				bp;
	Size		need;
	MemoryContext cxt,
				old;
	UbaWriter	pw;
	TickArg		ta;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_rowset_canonical_order(rs);
	d = rs->dim;
	n = rs->n;
	k = rs->iparam;
	uba_parse_row_options(rs->options, gmm_options, lengthof(gmm_options), "uba_gmm_train",
						  rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	cov = (int) uba_option(&o, "covariance_type");
	init = (int) uba_option(&o, "init");
	n_init = (int) uba_option(&o, "n_init");
	reg = uba_option(&o, "reg_covar");
	tol = uba_option(&o, "tol");
	standardize = uba_option(&o, "standardize") != 0;
	if (k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k (%d) is larger than the number of rows (" INT64_FORMAT ")", k, n),
				 errhint("Choose a k no larger than the number of rows being clustered.")));
	if (d > GMM_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("uba_gmm_train takes at most %d features", GMM_MAX_FEATURES),
				 errdetail("The rows encode as %d.", d)));
	if (o.matrix != NULL && uba_option_given(&o, "n_init") && n_init > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_init must be 1 when init_means are given"),
				 errdetail("Every start would be the same.")));
	/* the rows are held; EM's workspace (responsibilities n x k), a start's and the best parameters */
	need = mul_size((Size) n, (Size) d * sizeof(double));
	need = add_size(need, gmm_workspace_bytes(n, d, k, cov));
	need = add_size(need, mul_size((Size) n, (Size) k * sizeof(double) + sizeof(int32)));
	need = add_size(need, mul_size(ParamDoubles(k, d, cov), 2 * sizeof(double)));
	uba_check_memory(need, "Gaussian mixture training");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba gmm", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_check_feature_scale(rs->mean, rs->var, d, rs->enc ? rs->enc->feature_names : o.names);
	if (standardize)
	{
		double	   *var = palloc(sizeof(double) * d);

		memcpy(var, rs->var, sizeof(double) * d);
		scale = palloc(sizeof(double) * d);
		uba_standardize(rs->x, n, d, rs->mean, var, scale);
	}
	work = MemoryContextAllocHuge(cxt, gmm_workspace_bytes(n, d, k, cov));
	resp = MemoryContextAllocHuge(cxt, mul_size((Size) n, (Size) k * sizeof(double)));
	buf = palloc(sizeof(double) * ParamDoubles(k, d, cov));
	best = palloc(sizeof(double) * ParamDoubles(k, d, cov));
	ParamsIn(&p, buf, k, d, cov);
	ParamsIn(&bp, best, k, d, cov);
	ta.o = &o;
	ta.n_init = n_init;
	for (int run = 0; run < n_init; run++)
	{
		double		lb;
		int			iters,
					rc;
		bool		converged;
		uint64		seed = (uint64) uba_option(&o, "seed") + (uint64) run;

		if (o.matrix != NULL)
		{
			double	   *means = palloc(sizeof(double) * k * d);

			uba_kmeans_given_centers(&o, "init_means", k, d, rs->mean, scale, means);
			NearestMeans(rs->x, n, d, k, means, resp);
		}
		else if (init == INIT_KMEANS)
		{
			UbaKMeansFit fit;

			uba_kmeans_seeded(rs->x, n, d, k, seed, &fit);
			memset(resp, 0, sizeof(double) * n * k);
			for (int64 i = 0; i < n; i++)
				resp[(Size) i * k + fit.labels[i]] = 1;
			pfree(fit.labels);
			pfree(fit.centers);
			pfree(fit.counts);
		}
		else
		{
			/* scikit-learn's "random": uniform draws, each row's normalized */
			UbaRandom	rng;

			uba_random_seed(&rng, seed);
			for (int64 i = 0; i < n; i++)
			{
				double		s = 0;

				for (int c = 0; c < k; c++)
					s += resp[(Size) i * k + c] = uba_random_double(&rng);
				for (int c = 0; c < k; c++)
					resp[(Size) i * k + c] /= s;
			}
		}
		ta.run = run + 1;
		rc = gmm_em(rs->x, n, d, k, cov, reg, tol, (int) uba_option(&o, "max_iter"), resp, &p,
					&lb, &iters, &converged, Tick, &ta, work);
		if (rc != 0)
			FitFailed(rc, cov);
		uba_progress(&o, "uba_gmm_train: start %d of %d: mean log-likelihood %.10g after %d iterations%s",
					 run + 1, n_init, lb, iters, converged ? "" : " (not converged)");
		if (lb > best_lb || run == 0)
		{
			best_lb = lb;
			best_iter = iters;
			best_converged = converged;
			memcpy(best, buf, sizeof(double) * ParamDoubles(k, d, cov));
		}
	}
	if (!best_converged)
		ereport(WARNING,
				(errmsg("uba_gmm_train did not converge in %d iterations", best_iter),
				 errhint("Raise \"max_iter\" or \"tol\", or check the features' scales (\"standardize\": true).")));
	/* the final parameters' mean log-likelihood, for BIC and AIC as scikit-learn's score(X) */
	loglik = gmm_e_step(rs->x, n, d, &bp, NULL, NULL, work);
	nparams = gmm_n_parameters(k, d, cov);

	MemoryContextSwitchTo(old);
	uba_writer_init(&pw);
	uba_put_u32(&pw, (standardize ? FLAG_STANDARDIZE : 0) | (best_converged ? FLAG_CONVERGED : 0));
	uba_put_u32(&pw, (uint32) cov);
	uba_put_u32(&pw, (uint32) k);
	uba_put_u32(&pw, (uint32) best_iter);
	uba_put_f64(&pw, best_lb);
	uba_put_f64(&pw, loglik);
	uba_put_f64(&pw, -2 * loglik * (double) n + nparams * log((double) n));
	uba_put_f64(&pw, -2 * loglik * (double) n + 2 * nparams);
	if (standardize)
	{
		uba_put_f64_array(&pw, rs->mean, d);
		uba_put_f64_array(&pw, scale, d);
	}
	uba_put_f64_array(&pw, best, ParamDoubles(k, d, cov));
	result = uba_rowset_model(UBA_KIND_GMM, rs, &o, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading ---------- */

static void *
ParseGmm(const UbaModelMeta *meta, UbaReader *r)
{
	GmmModel   *m = palloc0(sizeof(GmmModel));
	uint32		flags = uba_get_u32(r);
	int			cov = (int) uba_get_u32(r);
	int			k = (int) uba_get_u32(r);
	int			d = meta->n_features;
	Size		nd;
	double	   *buf;
	double		wsum = 0;

	m->n_iter = (int) uba_get_u32(r);
	if ((flags & ~(uint32) (FLAG_STANDARDIZE | FLAG_CONVERGED)) != 0 || cov < GMM_FULL || cov > GMM_TIED ||
		k < 1 || k > GMM_MAX_K || d < 1 || d > GMM_MAX_FEATURES || k > meta->n_rows || m->n_iter < 0)
		uba_model_corrupted("A Gaussian mixture of %d components of %d features, covariance type %d.", k, d, cov);
	m->standardize = (flags & FLAG_STANDARDIZE) != 0;
	m->converged = (flags & FLAG_CONVERGED) != 0;
	m->lower_bound = uba_get_finite_f64(r);
	m->log_likelihood = uba_get_finite_f64(r);
	m->bic = uba_get_finite_f64(r);
	m->aic = uba_get_finite_f64(r);
	if (m->standardize)
		uba_get_scaling(r, d, &m->mean, &m->scale);
	nd = ParamDoubles(k, d, cov);
	uba_reader_check_space(r, nd, sizeof(double));
	buf = palloc(sizeof(double) * nd);
	uba_get_f64_array(r, buf, nd, true);
	uba_reader_finish(r);
	ParamsIn(&m->p, buf, k, d, cov);
	for (int c = 0; c < k; c++)
	{
		if (!(m->p.weights[c] > 0 && m->p.weights[c] <= 1))
			uba_model_corrupted("A component weight of %g.", m->p.weights[c]);
		wsum += m->p.weights[c];
	}
	if (fabs(wsum - 1) > 1e-6)
		uba_model_corrupted("Component weights that add up to %g.", wsum);
	/* the precisions' factors: upper triangular with a positive diagonal, or positive */
	for (int c = 0; c < (cov == GMM_TIED ? 1 : k); c++)
	{
		if (cov == GMM_FULL || cov == GMM_TIED)
		{
			const double *P = m->p.prec_chol + (Size) c * d * d;

			for (int i = 0; i < d; i++)
				for (int j = 0; j <= i; j++)
					if ((j < i && P[(Size) i * d + j] != 0) || (j == i && !(P[(Size) i * d + i] > 0)))
						uba_model_corrupted("A precision factor that is not upper triangular with a positive diagonal.");
		}
		else
			for (int j = 0; j < (cov == GMM_DIAG ? d : 1); j++)
				if (!(m->p.prec_chol[(Size) c * (cov == GMM_DIAG ? d : 1) + j] > 0))
					uba_model_corrupted("A non-positive precision.");
	}
	m->cst = palloc(sizeof(double) * 2 * k);
	gmm_row_constants(&m->p, m->cst);
	for (int c = 0; c < 2 * k; c++)
		if (!isfinite(m->cst[c]))
			uba_model_corrupted("A precision factor whose determinant is not finite.");
	m->enc = meta->encoding;
	m->x = palloc(sizeof(double) * d);
	m->resp = palloc(sizeof(double) * k);
	m->scratch = palloc(sizeof(double) * 2 * (d + k));
	return m;
}

void
uba_gmm_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	GmmModel   *m = ParseGmm(meta, payload);

	appendStringInfo(json, ", \"k\": %d, \"covariance_type\": \"%s\", \"standardized\": %s, "
					 "\"converged\": %s, \"iterations\": %d, \"lower_bound\": %.17g, "
					 "\"log_likelihood\": %.17g, \"bic\": %.17g, \"aic\": %.17g, \"weights\": [",
					 m->p.k, cov_choices[m->p.cov], m->standardize ? "true" : "false",
					 m->converged ? "true" : "false", m->n_iter, m->lower_bound, m->log_likelihood,
					 m->bic, m->aic);
	for (int c = 0; c < m->p.k; c++)
		appendStringInfo(json, "%s%.17g", c > 0 ? ", " : "", m->p.weights[c]);
	appendStringInfoChar(json, ']');
}

/* ---------- scoring ---------- */

/* The row's log-likelihood, and its memberships in m->resp */
static double
ScoreRow(GmmModel *m, FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	int			d = m->p.d;

	uba_read_features_arg(fcinfo, 1, form, m->enc, m->x, d);
	uba_standardize_row(m->x, d, m->mean, m->scale);
	return gmm_score_row(&m->p, m->cst, m->x, m->resp, m->scratch);
}

/* uba_gmm_predict(model, features): the most likely component, 1..k */
static Datum
Predict(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	GmmModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_GMM, ParseGmm);
	int			best = 0;

	ScoreRow(m, fcinfo, form);
	for (int c = 1; c < m->p.k; c++)
		if (m->resp[c] > m->resp[best])
			best = c;
	PG_RETURN_INT32(best + 1);
}

UBA_FEATURE_FORMS(uba_gmm_predict, Predict)

/* uba_gmm_proba(model, features): the memberships of the k components (they add up to 1) */
static Datum
Proba(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	GmmModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_GMM, ParseGmm);

	ScoreRow(m, fcinfo, form);
	PG_RETURN_ARRAYTYPE_P(uba_make_float8_array(m->resp, m->p.k));
}

UBA_FEATURE_FORMS(uba_gmm_proba, Proba)

/*
 * uba_gmm_score(model, features): log p(x), the density of the mixture at
 * the row (in the fitting space: z-scores with standardize); low is unusual.
 */
static Datum
Score(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	GmmModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_GMM, ParseGmm);

	PG_RETURN_FLOAT8(ScoreRow(m, fcinfo, form));
}

UBA_FEATURE_FORMS(uba_gmm_score, Score)

/* uba_gmm_components(model): each component's weight, mean and covariance matrix, in input units */
Datum
uba_gmm_components(PG_FUNCTION_ARGS)
{
	GmmModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_GMM, ParseGmm);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			d = m->p.d;
	double	   *mu = palloc(sizeof(double) * d);
	Datum	   *cv = palloc(sizeof(Datum) * d * d);
	int			dims[2] = {d, d};
	int			lbs[2] = {1, 1};

	InitMaterializedSRF(fcinfo, 0);
	for (int c = 0; c < m->p.k; c++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		for (int i = 0; i < d; i++)
		{
			double		si = m->standardize ? m->scale[i] : 1;

			mu[i] = m->p.means[(Size) c * d + i] * si + (m->standardize ? m->mean[i] : 0);
			for (int j = 0; j < d; j++)
			{
				double		sj = m->standardize ? m->scale[j] : 1;
				double		v;

				switch (m->p.cov)
				{
					case GMM_FULL:
						v = m->p.covariances[(Size) c * d * d + (Size) i * d + j];
						break;
					case GMM_TIED:
						v = m->p.covariances[(Size) i * d + j];
						break;
					case GMM_DIAG:
						v = i == j ? m->p.covariances[(Size) c * d + i] : 0;
						break;
					default:
						v = i == j ? m->p.covariances[c] : 0;
						break;
				}
				cv[(Size) i * d + j] = Float8GetDatum(v * si * sj);
			}
		}
		values[0] = Int32GetDatum(c + 1);
		values[1] = Float8GetDatum(m->p.weights[c]);
		values[2] = PointerGetDatum(uba_make_float8_array(mu, d));
		values[3] = PointerGetDatum(construct_md_array(cv, NULL, 2, dims, lbs, FLOAT8OID, 8,
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
