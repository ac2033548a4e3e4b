/*-------------------------------------------------------------------------
 *
 * pca.c
 *	  Principal component analysis: uba_pca(features [, options]) learns
 *	  the directions of largest variance of the rows (float8[] or a typed
 *	  row, categories one-hot as k-means takes them), uba_pca_transform
 *	  projects rows on them, uba_pca_components lists them.
 *
 * The components are the eigenvectors of the covariance matrix of the
 * centred rows (X^T X / (n - 1), by BLAS; LAPACK's dsyev), as scikit-learn's
 * PCA finds them by an SVD of the centred rows: the same directions up to
 * sign, the same explained variances.  With "solver": "svd" they come from
 * that SVD (LAPACK's dgesvd), slower but exact for components of small
 * variance.  A sign is chosen so that each
 * component's largest loading (in absolute value) is positive, which does
 * not depend on the solver.  With "standardize", columns are z-scored
 * first (PCA of the correlation matrix); with "whiten", projections are
 * divided by the square root of their variance.
 *
 * uba_pca_moments(features float8[]) finds the same components from the
 * rows' mergeable moments (the core's moments.c) instead of the rows: O(d^2)
 * memory for any row count, and partial states that parallel workers and
 * Citus shards combine.
 *
 * Payload: flags (u32: 1 whiten, 2 standardize), components kept (u32),
 * total variance (f64), the column means (f64 x d), scales (f64 x d, 1
 * without standardize), the kept components' variances (f64 each,
 * descending) and loadings (f64 x d each).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_pca_transfn);
PG_FUNCTION_INFO_V1(uba_pca_final);
PG_FUNCTION_INFO_V1(uba_pca_components);
PG_FUNCTION_INFO_V1(uba_pca_moments_transfn);
PG_FUNCTION_INFO_V1(uba_pca_moments_combine);
PG_FUNCTION_INFO_V1(uba_pca_moments_final);

#define FLAG_WHITEN 1
#define FLAG_STANDARDIZE 2
/* the covariance matrix and its eigenvectors are d x d */
#define PCA_MAX_FEATURES 10000

static const char *const solver_choices[] = {"covariance", "svd", NULL};

static const UbaOptionSpec pca_options[] = {
	{"n_components", UBA_OPT_FLOAT, 0, 0, PCA_MAX_FEATURES, NULL},
	{"solver", UBA_OPT_CHOICE, 0, 0, 0, solver_choices},
	{"whiten", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

typedef struct PcaModel
{
	int			d;
	int			ncomp;
	bool		whiten;
	bool		standardize;
	double		total_var;
	double	   *mean;			/* d */
	double	   *scale;			/* d */
	double	   *var;			/* ncomp */
	double	   *comp;			/* ncomp x d */
	UbaEncoding *enc;
	double	   *x;				/* scratch: d */
	double	   *out;			/* scratch: ncomp */
} PcaModel;

/* ---------- training ---------- */

/* uba_pca(features [, options]) transition: collect the row */
Datum
uba_pca_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL;

	PG_RETURN_POINTER(uba_rowset_collect(fcinfo, rs, 1, opts, pca_options, lengthof(pca_options),
										 UBA_ENC_ONEHOT, 0, "uba_pca"));
}

/* A column's scale: its population standard deviation (sum of squares ss about the mean of n rows) with standardize, else 1 */
static double
PopulationScale(bool standardize, double ss, int64 n)
{
	double		scale = standardize ? sqrt(ss / (double) n) : 1;

	return scale > 1e-300 ? scale : 1;	/* a constant column stays 0 */
}

/* How many components to keep: a count, or (below 1) the least that explain that share of the variance */
static int
ComponentsToKeep(const UbaOptions *o, const double *eig, int d, int64 n, double total)
{
	double		want = uba_option(o, "n_components");
	int			most = (int) Min((int64) d, n);

	if (!uba_option_given(o, "n_components") || want == 0)
		return most;
	if (want < 1)
	{
		double		cum = 0;

		for (int k = 0; k < most; k++)
		{
			cum += eig[k];
			if (total <= 0 || cum / total >= want - 1e-12)
				return k + 1;
		}
		return most;
	}
	if (want != floor(want))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components must be a whole number of components, or a share of the variance below 1"),
				 errdetail("Got %g.", want)));
	if (want > most)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components (%g) is more than the %d the rows allow", want, most),
				 errdetail("At most min(rows, features) = min(" INT64_FORMAT ", %d).", n, d)));
	return (int) want;
}

/* The covariance route: eigenvalues (descending) and eigenvectors (rows of V) of C (overwritten); its trace */
static double
Eigen(int d, double *C, double *eig, double *V)
{
	double		total = 0;

	for (int j = 0; j < d; j++)
		total += C[(Size) j * d + j];
	if (!uba_symmetric_eigen(d, C, eig, V))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the eigen-decomposition of the covariance matrix did not converge"),
				 errhint("Scale the features to similar ranges (\"standardize\": true).")));
	return total;
}

/*
 * The payload of the components found (eig, V: d each, all of them),
 * each signed so that its largest loading is positive, keeping as many
 * as the options ask; n_components in o becomes the count kept.
 */
static void
WritePayload(UbaOptions *o, int d, int64 n, const double *mean, const double *scale, double *eig,
			 double *V, double total, UbaWriter *w)
{
	int			ncomp;
	double		kept = 0;

	for (int k = 0; k < d; k++)
	{
		double	   *v = V + (Size) k * d;
		int			big = 0;

		/* rounding can leave the smallest variances a hair below 0 */
		eig[k] = Max(eig[k], 0.0);
		for (int j = 1; j < d; j++)
			if (fabs(v[j]) > fabs(v[big]))
				big = j;
		if (v[big] < 0)
			for (int j = 0; j < d; j++)
				v[j] = -v[j];
	}
	ncomp = ComponentsToKeep(o, eig, d, n, total);
	for (int k = 0; k < ncomp; k++)
		kept += eig[k];
	uba_progress(o, "uba_pca: %d of %d components kept, explaining %.4g of the variance", ncomp, d,
				 total > 0 ? kept / total : 0.0);

	uba_writer_init(w);
	uba_put_u32(w, (uba_option(o, "whiten") != 0 ? FLAG_WHITEN : 0) |
				(uba_option(o, "standardize") != 0 ? FLAG_STANDARDIZE : 0));
	uba_put_u32(w, (uint32) ncomp);
	uba_put_f64(w, total);
	uba_put_f64_array(w, mean, d);
	uba_put_f64_array(w, scale, d);
	uba_put_f64_array(w, eig, ncomp);
	uba_put_f64_array(w, V, (Size) ncomp * d);
	uba_option_set(o, "n_components", ncomp);
}

static void
CheckRowCount(int64 n)
{
	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_pca needs at least 2 rows"),
				 errdetail("Got " INT64_FORMAT ".", n)));
}

Datum
uba_pca_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	int			d;
	int64		n;
	double	   *mean,
			   *var,
			   *scale,
			   *eig,
			   *V,
				total = 0;
	bool		standardize;
	UbaWriter	w;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	/* typed rows are encoded when they are ordered; the order fixes the sums besides */
	uba_rowset_canonical_order(rs);
	d = rs->dim;
	n = rs->n;
	uba_parse_row_options(rs->options, pca_options, lengthof(pca_options), "uba_pca",
						  rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	if (d > PCA_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("uba_pca takes at most %d features", PCA_MAX_FEATURES),
				 errdetail("The rows encode as %d.", d)));
	CheckRowCount(n);
	/* the covariance and eigenvectors; LAPACK's SVD workspace can take a row's worth more per column */
	uba_check_memory(add_size(mul_size((Size) d, (Size) d * 3 * sizeof(double)),
							  uba_option(&o, "solver") == 1 ? mul_size((Size) n + 5 * (Size) d, sizeof(double)) : 0),
					 "principal component analysis");
	standardize = uba_option(&o, "standardize") != 0;
	mean = palloc(sizeof(double) * d);
	var = palloc(sizeof(double) * d);
	scale = palloc(sizeof(double) * d);
	/*
	 * Two passes for the moments (the row set's one-pass ones are for
	 * checks): the mean, then the rows centred in place (they are this
	 * call's) and their squares summed; scaled by the population standard
	 * deviation with "standardize", as StandardScaler does.
	 */
	memset(mean, 0, sizeof(double) * d);
	memset(var, 0, sizeof(double) * d);
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			mean[j] += rs->x[(Size) i * d + j];
	for (int j = 0; j < d; j++)
		mean[j] /= (double) n;
	for (int64 i = 0; i < n; i++)
	{
		double	   *x = rs->x + (Size) i * d;

		for (int j = 0; j < d; j++)
		{
			x[j] -= mean[j];
			var[j] += x[j] * x[j];
		}
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
	}
	for (int j = 0; j < d; j++)
		scale[j] = PopulationScale(standardize, var[j], n);
	if (standardize)
		for (int64 i = 0; i < n; i++)
			for (int j = 0; j < d; j++)
				rs->x[(Size) i * d + j] /= scale[j];
	eig = palloc0(sizeof(double) * d);
	V = palloc0(sizeof(double) * d * d);
	if (uba_option(&o, "solver") == 1)
	{
		/*
		 * An SVD of the centred rows themselves, as scikit-learn's "full"
		 * solver: the condition number is not squared, so the components of
		 * small variance keep their accuracy; slower, and the rows are
		 * overwritten.
		 */
		int			m = (int) Min((int64) d, n);
		double	   *sv = palloc(sizeof(double) * m);

		if (n > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the svd solver takes at most %d rows", PG_INT32_MAX),
					 errhint("Use \"solver\": \"covariance\".")));
		for (Size i = 0; i < (Size) n * d; i++)
			total += rs->x[i] * rs->x[i];
		total /= (double) (n - 1);
		if (!uba_right_singular(n, d, rs->x, sv, V))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the singular value decomposition of the rows did not converge"),
					 errhint("Scale the features to similar ranges (\"standardize\": true).")));
		for (int k = 0; k < m; k++)
			eig[k] = sv[k] * sv[k] / (double) (n - 1);
	}
	else
	{
		double	   *C = palloc(sizeof(double) * d * d);

		uba_crossprod(n, d, rs->x, C);
		for (Size i = 0; i < (Size) d * d; i++)
			C[i] /= (double) (n - 1);
		total = Eigen(d, C, eig, V);
	}
	WritePayload(&o, d, n, mean, scale, eig, V, total, &w);
	PG_RETURN_BYTEA_P(uba_rowset_model(UBA_KIND_PCA, rs, &o, &w));
}

/* ---------- training from moments: uba_pca_moments ---------- */

/*
 * uba_pca_moments(features float8[] [, options]) keeps the core's
 * mergeable moments (moments.c) instead of the rows: O(d^2) memory for
 * any number of rows, partial states combined across parallel workers and
 * Citus shards.  The covariance it ends with is the one the covariance
 * route forms from the rows; only the last bits differ (they depend on
 * how the rows fell into blocks and partial states, that is on the plan).
 */
#define PCA_MOMENTS_MAGIC 0x55425043	/* "UBPC" */
#define PCA_MOMENTS_WHAT "principal component analysis"
/* the state is d x d doubles, shipped between processes (and as text by Citus) */
#define PCA_MOMENTS_MAX_FEATURES 4096

/* the model says how it was found: its only solver */
static const char *const moments_solver_choices[] = {"moments", NULL};

static const UbaOptionSpec pca_moments_options[] = {
	{"n_components", UBA_OPT_FLOAT, 0, 0, PCA_MOMENTS_MAX_FEATURES, NULL},
	{"solver", UBA_OPT_CHOICE, 0, 0, 0, moments_solver_choices},
	{"whiten", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

static bool
MomentsArg(FunctionCallInfo fcinfo, int argno, UbaMoments *s)
{
	return uba_moments_arg(fcinfo, argno, PCA_MOMENTS_MAGIC, PCA_MOMENTS_MAX_FEATURES, PCA_MOMENTS_WHAT, s);
}

/* Transition: the row joins the moments */
Datum
uba_pca_moments_transfn(PG_FUNCTION_ARGS)
{
	UbaMoments	st;
	UbaMoments *s = MomentsArg(fcinfo, 0, &st) ? &st : NULL;
	Jsonb	   *opts = (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL;
	ArrayType  *features;

	if (PG_ARGISNULL(1))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(s->blob);
	}
	features = PG_GETARG_ARRAYTYPE_P(1);
	if (s == NULL)
	{
		UbaOptions	o;
		int			d = uba_feature_count(features);

		uba_parse_options(opts, pca_moments_options, lengthof(pca_moments_options), "uba_pca_moments", &o);
		uba_options_check_names(&o, d);
		if (d > PCA_MOMENTS_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("uba_pca_moments takes at most %d features", PCA_MOMENTS_MAX_FEATURES),
					 errdetail("Got %d.", d),
					 errhint("uba_pca takes up to %d.", PCA_MAX_FEATURES)));
		uba_moments_new(fcinfo, PCA_MOMENTS_MAGIC, d, opts, PCA_MOMENTS_WHAT, &st);
		s = &st;
	}
	else
		uba_check_same_options(s->options, opts);
	uba_read_features(features, uba_moments_next_row(s), s->m);
	uba_moments_row_done(s);
	PG_RETURN_BYTEA_P(s->blob);
}

/* Combine two partial states */
Datum
uba_pca_moments_combine(PG_FUNCTION_ARGS)
{
	return uba_moments_combine_fn(fcinfo, PCA_MOMENTS_MAGIC, PCA_MOMENTS_MAX_FEATURES, PCA_MOMENTS_WHAT, 0);
}

/* Final: the covariance from the moments, then as the covariance route */
Datum
uba_pca_moments_final(PG_FUNCTION_ARGS)
{
	UbaMoments	st;
	UbaOptions	o;
	UbaModelMeta meta;
	UbaWriter	w;
	int			d;
	int64		n;
	bool		standardize;
	double	   *scale,
			   *C,
			   *eig,
			   *V,
				total;

	if (!MomentsArg(fcinfo, 0, &st) || st.h->n + st.h->pending == 0)
		PG_RETURN_NULL();
	uba_parse_options(uba_moments_options(&st), pca_moments_options, lengthof(pca_moments_options),
					  "uba_pca_moments", &o);
	d = st.m;
	uba_options_check_names(&o, d);
	uba_moments_finish(&st, o.names);
	n = st.h->n;
	CheckRowCount(n);
	uba_check_memory(mul_size((Size) d, (Size) d * 3 * sizeof(double)), "principal component analysis");
	standardize = uba_option(&o, "standardize") != 0;
	scale = palloc(sizeof(double) * d);
	for (int j = 0; j < d; j++)
		scale[j] = PopulationScale(standardize, st.cm[(Size) j * d + j], n);
	C = palloc(sizeof(double) * d * d);
	for (int j = 0; j < d; j++)
		for (int k = j; k < d; k++)
			C[(Size) j * d + k] = C[(Size) k * d + j] =
				st.cm[(Size) j * d + k] / (scale[j] * scale[k]) / (double) (n - 1);
	eig = palloc0(sizeof(double) * d);
	V = palloc0(sizeof(double) * d * d);
	total = Eigen(d, C, eig, V);
	WritePayload(&o, d, n, st.mean, scale, eig, V, total, &w);
	uba_model_meta_init(&meta, d, n, st.h->started, &o);
	PG_RETURN_BYTEA_P(uba_model_build(UBA_KIND_PCA, &meta, &w));
}

/* ---------- reading ---------- */

static void *
ParsePca(const UbaModelMeta *meta, UbaReader *r)
{
	PcaModel   *m = palloc0(sizeof(PcaModel));
	uint32		flags = uba_get_u32(r);
	int			d = meta->n_features;

	m->d = d;
	m->ncomp = (int) uba_get_u32(r);
	if ((flags & ~(uint32) (FLAG_WHITEN | FLAG_STANDARDIZE)) != 0 || d < 1 || d > PCA_MAX_FEATURES ||
		m->ncomp < 1 || m->ncomp > d)
		uba_model_corrupted("A PCA model of %d features with %d components.", d, m->ncomp);
	m->whiten = (flags & FLAG_WHITEN) != 0;
	m->standardize = (flags & FLAG_STANDARDIZE) != 0;
	m->total_var = uba_get_finite_f64(r);
	uba_reader_check_space(r, (Size) d * (2 + m->ncomp) + m->ncomp, sizeof(double));
	m->mean = palloc(sizeof(double) * d);
	m->scale = palloc(sizeof(double) * d);
	m->var = palloc(sizeof(double) * m->ncomp);
	m->comp = palloc(sizeof(double) * m->ncomp * d);
	uba_get_f64_array(r, m->mean, d, true);
	uba_get_f64_array(r, m->scale, d, true);
	uba_get_f64_array(r, m->var, m->ncomp, true);
	uba_get_f64_array(r, m->comp, (Size) m->ncomp * d, true);
	uba_reader_finish(r);
	if (!(m->total_var >= 0))
		uba_model_corrupted("A PCA model with a negative total variance.");
	for (int j = 0; j < d; j++)
		if (!(m->scale[j] > 0))
			uba_model_corrupted("A PCA model with a scale of %g.", m->scale[j]);
	{
		double		kept = 0;

		for (int k = 0; k < m->ncomp; k++)
		{
			if (m->var[k] < 0 || (k > 0 && m->var[k] > m->var[k - 1]))
				uba_model_corrupted("A PCA model's variances are not descending and non-negative.");
			kept += m->var[k];
		}
		/* the kept components' variances are part of the total (the covariance's trace) */
		if (!(kept <= m->total_var * (1 + 1e-9)))
			uba_model_corrupted("A PCA model's components explain more than its total variance.");
	}
	m->enc = meta->encoding;
	m->x = palloc(sizeof(double) * d);
	m->out = palloc(sizeof(double) * m->ncomp);
	return m;
}

void
uba_pca_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	PcaModel   *m = ParsePca(meta, payload);
	double		kept = 0;

	for (int k = 0; k < m->ncomp; k++)
		kept += m->var[k];
	appendStringInfo(json, ", \"components\": %d, \"whiten\": %s, \"standardize\": %s, "
					 "\"total_variance\": %.17g, \"explained_variance_ratio\": %.17g",
					 m->ncomp, m->whiten ? "true" : "false", m->standardize ? "true" : "false",
					 m->total_var, m->total_var > 0 ? kept / m->total_var : 0.0);
}

/* ---------- scoring ---------- */

/*
 * uba_pca_transform(model, features [, n]): the row's coordinates on the
 * first n components (all when n is 0), whitened if the model is.
 */
static Datum
Transform(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	PcaModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_PCA, ParsePca);
	int			n = PG_NARGS() > 2 ? PG_GETARG_INT32(2) : 0;
	Datum	   *out;

	if (n < 0 || n > m->ncomp)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be from 1 to the model's %d components, or 0 for all", m->ncomp),
				 errdetail("Got %d.", n)));
	if (n == 0)
		n = m->ncomp;
	uba_read_features_arg(fcinfo, 1, form, m->enc, m->x, m->d);
	out = palloc(sizeof(Datum) * n);
	for (int k = 0; k < n; k++)
	{
		const double *v = m->comp + (Size) k * m->d;
		double		s = 0;

		for (int j = 0; j < m->d; j++)
			s += (m->x[j] - m->mean[j]) / m->scale[j] * v[j];
		if (m->whiten)
			s = m->var[k] > 0 ? s / sqrt(m->var[k]) : 0;
		out[k] = Float8GetDatum(s);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

UBA_FEATURE_FORMS(uba_pca_transform, Transform)

/* uba_pca_components(model): each component's variance, its share, the running share, its loadings */
Datum
uba_pca_components(PG_FUNCTION_ARGS)
{
	PcaModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_PCA, ParsePca);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		cum = 0;
	Datum	   *load = palloc(sizeof(Datum) * m->d);

	InitMaterializedSRF(fcinfo, 0);
	for (int k = 0; k < m->ncomp; k++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		double		ratio = m->total_var > 0 ? m->var[k] / m->total_var : 0;

		cum += ratio;
		for (int j = 0; j < m->d; j++)
			load[j] = Float8GetDatum(m->comp[(Size) k * m->d + j]);
		values[0] = Int32GetDatum(k + 1);
		values[1] = Float8GetDatum(m->var[k]);
		values[2] = Float8GetDatum(ratio);
		values[3] = Float8GetDatum(cum);
		values[4] = PointerGetDatum(construct_array(load, m->d, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
