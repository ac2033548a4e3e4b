/*-------------------------------------------------------------------------
 *
 * kmeans_sweep.c
 *	  Choosing k: uba_kmeans_sweep(features, k_min, k_max [, options])
 *	  collects the rows once, fits k-means for every k in the range and
 *	  scores each fit; uba_kmeans_sweep_results lists the scores (a chart's
 *	  rows), uba_kmeans_sweep_model gives the k-means model of one k.
 *
 * Each k is fitted as uba_kmeans fits it, with the same options, so the
 * model of a k equals uba_kmeans(features, k, options).  Scores: inertia,
 * the silhouette coefficient (exact up to sample_size rows, else on one
 * seeded sample of the rows, the same for every k), Davies-Bouldin and
 * Calinski-Harabasz (all rows).  Two marks: the silhouette maximum, and
 * the elbow of the inertia curve by the kneedle rule: with k and inertia
 * scaled to [0, 1] over the range, the k whose inertia lies farthest
 * below the straight line from the first k to the last (none when no k
 * lies below it, or fewer than three k are swept).
 *
 * Payload: flags (u32: 1 standardize), k_min, k_max (u32), the silhouette
 * sample (u64), the scaling (with standardize), then per k: inertia,
 * silhouette, Davies-Bouldin, Calinski-Harabasz (f64; NaN where a measure
 * is undefined: k = 1, or a k that leaves clusters of copies), iterations
 * (u32), centroids (f64 x k x d, as uba_kmeans orders them), sizes (i64 x k).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "kmeans.h"
#include "cluster_quality.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_kmeans_sweep_transfn);
PG_FUNCTION_INFO_V1(uba_kmeans_sweep_final);
PG_FUNCTION_INFO_V1(uba_kmeans_sweep_results);
PG_FUNCTION_INFO_V1(uba_kmeans_sweep_model);

#define SWEEP_MAX_KS 100

/* uba_kmeans's options, and the silhouette's sample */
static const UbaOptionSpec sweep_options[] = {
	UBA_KMEANS_FIT_OPTIONS,
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	{"sample_size", UBA_OPT_INT, 10000, 2, 1000000, NULL},
	UBA_PROGRESS_OPTION,
};

typedef struct SweepK
{
	int			k;
	double		inertia;
	double		silhouette;
	double		davies_bouldin;
	double		calinski_harabasz;
	int			iterations;
	double	   *centers;		/* k x d */
	int64	   *sizes;			/* k */
} SweepK;

typedef struct SweepModel
{
	int			d;
	int			k_min;
	int			k_max;
	int64		sample;
	bool		standardize;
	double	   *mean;
	double	   *scale;
	SweepK	   *ks;				/* k_max - k_min + 1 */
	int			elbow;			/* index into ks, or -1 */
	int			best_silhouette;	/* index into ks, or -1 */
} SweepModel;

/* ---------- training ---------- */

/*
 * uba_kmeans_sweep(features, k_min, k_max [, options]) transition; k_min
 * rides in the row set's integer parameter, k_max in its real one.
 */
Datum
uba_kmeans_sweep_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;
	bool		first = rs == NULL;
	int32		k_min,
				k_max;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(rs);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("k_min and k_max must not be NULL")));
	k_min = PG_GETARG_INT32(2);
	k_max = PG_GETARG_INT32(3);
	if (first)
	{
		if (k_min < 1 || k_max < k_min || k_max > KMEANS_MAX_K)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k_min and k_max must satisfy 1 <= k_min <= k_max <= %d", KMEANS_MAX_K),
					 errdetail("Got %d and %d.", k_min, k_max)));
		if (k_max - k_min + 1 > SWEEP_MAX_KS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("uba_kmeans_sweep fits at most %d values of k", SWEEP_MAX_KS),
					 errdetail("Got %d to %d.", k_min, k_max)));
	}
	else
	{
		uba_rowset_check_param(rs, k_min, "k_min");
		uba_rowset_check_dparam(rs, (double) k_max, "k_max");
	}
	rs = uba_rowset_collect(fcinfo, rs, 1, opts, sweep_options, lengthof(sweep_options),
							UBA_ENC_ONEHOT, k_min, "uba_kmeans_sweep");
	if (first)
		rs->dparam = k_max;
	PG_RETURN_POINTER(rs);
}

/* The k of the elbow (kneedle) and of the best silhouette, as indexes into ks */
static void
Marks(SweepModel *m)
{
	int			nk = m->k_max - m->k_min + 1;
	double		lo = get_float8_infinity(),
				hi = -get_float8_infinity(),
				best = 0;

	m->elbow = m->best_silhouette = -1;
	for (int i = 0; i < nk; i++)
	{
		lo = Min(lo, m->ks[i].inertia);
		hi = Max(hi, m->ks[i].inertia);
		if (!isnan(m->ks[i].silhouette) &&
			(m->best_silhouette < 0 || m->ks[i].silhouette > m->ks[m->best_silhouette].silhouette))
			m->best_silhouette = i;
	}
	if (nk < 3 || !(hi > lo))
		return;
	for (int i = 1; i < nk - 1; i++)
	{
		double		x = (double) i / (nk - 1);
		double		y = (m->ks[i].inertia - lo) / (hi - lo);
		double		below = (1 - x) - y;

		if (below > best)
		{
			best = below;
			m->elbow = i;
		}
	}
}

Datum
uba_kmeans_sweep_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	int			d,
				k_min,
				k_max;
	int64		n,
				m;
	bool		standardize;
	double		tol = 0;
	double	   *mean = NULL,
			   *scale = NULL;
	int64	   *sample = NULL;
	int		   *lab,
			   *slab;
	UbaWriter	pw;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_rowset_canonical_order(rs);
	d = rs->dim;
	n = rs->n;
	k_min = rs->iparam;
	k_max = (int) rs->dparam;
	uba_parse_row_options(rs->options, sweep_options, lengthof(sweep_options), "uba_kmeans_sweep",
						  rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	if (k_max > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_max (%d) is larger than the number of rows (" INT64_FORMAT ")", k_max, n),
				 errhint("Sweep k up to the number of rows being clustered at most.")));
	if (!uba_option_given(&o, "n_init"))
		uba_option_set(&o, "n_init", uba_option(&o, "init") == 0 ? 1 : 10);	/* as uba_kmeans */
	standardize = uba_option(&o, "standardize") != 0;
	uba_check_feature_scale(rs->mean, rs->var, d, rs->enc ? rs->enc->feature_names : o.names);
	if (standardize || uba_option(&o, "tol") > 0)
	{
		double	   *var = palloc(sizeof(double) * d);

		mean = palloc(sizeof(double) * d);
		uba_rowset_moments(rs, mean, var);
		if (standardize)
		{
			scale = palloc(sizeof(double) * d);
			uba_standardize(rs->x, n, d, mean, var, scale);
		}
		for (int j = 0; j < d; j++)
			tol += var[j];
		tol = uba_option(&o, "tol") * tol / d;
	}
	/* one sample for every k's silhouette, so that they compare */
	m = Min(n, (int64) uba_option(&o, "sample_size"));
	if (m < n)
		sample = uba_cluster_sample(n, m, (uint64) uba_option(&o, "seed"));
	lab = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * n);
	slab = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * m);

	uba_writer_init(&pw);
	uba_put_u32(&pw, standardize ? 1 : 0);
	uba_put_u32(&pw, (uint32) k_min);
	uba_put_u32(&pw, (uint32) k_max);
	uba_put_u64(&pw, (uint64) m);
	if (standardize)
	{
		uba_put_f64_array(&pw, mean, d);
		uba_put_f64_array(&pw, scale, d);
	}
	for (int k = k_min; k <= k_max; k++)
	{
		UbaKMeansFit fit;
		UbaWriter	km;
		int		   *dense = palloc(sizeof(int) * k);
		int			L = 0,
					Ls = 0;
		double		sil = get_float8_nan(),
					db = get_float8_nan(),
					ch = get_float8_nan();

		uba_kmeans_fit(&o, rs->x, n, d, k, tol, NULL, &fit);
		/* clusters as 0..L-1 over the rows (empty ones left out), and over the sample */
		for (int c = 0; c < k; c++)
			dense[c] = fit.counts[c] > 0 ? L++ : -1;
		for (int64 i = 0; i < n; i++)
			lab[i] = dense[fit.labels[i]];
		if (L >= 2 && L <= n - 1)
		{
			db = uba_cluster_davies_bouldin(rs->x, n, d, lab, L);
			ch = uba_cluster_calinski_harabasz(rs->x, n, d, lab, L);
		}
		{
			int		   *seen = palloc(sizeof(int) * Max(L, 1));

			for (int c = 0; c < L; c++)
				seen[c] = -1;
			for (int64 i = 0; i < m; i++)
			{
				int			c = lab[sample ? sample[i] : i];

				if (seen[c] < 0)
					seen[c] = Ls++;
				slab[i] = seen[c];
			}
			pfree(seen);
		}
		if (Ls >= 2 && Ls <= m - 1)
			sil = uba_cluster_silhouette(rs->x, d, sample, m, slab, Ls);
		uba_progress(&o, "uba_kmeans_sweep: k = %d: inertia %.6g, silhouette %.4f, Davies-Bouldin %.4f, Calinski-Harabasz %.6g",
					 k, fit.inertia, sil, db, ch);
		uba_put_f64(&pw, fit.inertia);
		uba_put_f64(&pw, sil);
		uba_put_f64(&pw, db);
		uba_put_f64(&pw, ch);
		/* the k-means payload as uba_kmeans writes it: clusters by size */
		uba_kmeans_payload(&km, k, d, standardize, fit.iterations, fit.inertia, mean, scale,
						   fit.centers, fit.counts);
		appendBinaryStringInfo(&pw.buf, km.buf.data, km.buf.len);
		pfree(km.buf.data);
		pfree(fit.centers);
		pfree(fit.counts);
		pfree(fit.labels);
		pfree(dense);
	}
	PG_RETURN_BYTEA_P(uba_rowset_model(UBA_KIND_KMEANS_SWEEP, rs, &o, &pw));
}

/* ---------- reading ---------- */

static void *
ParseSweep(const UbaModelMeta *meta, UbaReader *r)
{
	SweepModel *m = palloc0(sizeof(SweepModel));
	uint32		flags = uba_get_u32(r);
	int			nk;

	m->d = meta->n_features;
	m->k_min = (int) uba_get_u32(r);
	m->k_max = (int) uba_get_u32(r);
	m->sample = (int64) uba_get_u64(r);
	if ((flags & ~(uint32) 1) != 0 || m->k_min < 1 || m->k_max < m->k_min ||
		m->k_max > KMEANS_MAX_K || m->k_max - m->k_min + 1 > SWEEP_MAX_KS || m->k_max > meta->n_rows ||
		m->sample < 1 || m->sample > meta->n_rows || m->d < 1)
		uba_model_corrupted("A k sweep from %d to %d over " INT64_FORMAT " rows.", m->k_min, m->k_max,
							meta->n_rows);
	m->standardize = flags != 0;
	if (m->standardize)
		uba_get_scaling(r, m->d, &m->mean, &m->scale);
	nk = m->k_max - m->k_min + 1;
	m->ks = palloc0(sizeof(SweepK) * nk);
	for (int i = 0; i < nk; i++)
	{
		SweepK	   *s = &m->ks[i];
		KMeansModel *km;
		double		v[4];

		uba_get_f64_array(r, v, 4, false);
		s->k = m->k_min + i;
		s->silhouette = v[1];
		s->davies_bouldin = v[2];
		s->calinski_harabasz = v[3];
		/* the scores are finite or NaN (undefined); silhouette within [-1, 1] */
		if (!(v[1] >= -1 && v[1] <= 1) && !isnan(v[1]))
			uba_model_corrupted("A silhouette of %g.", v[1]);
		if (!(v[2] >= 0 && !isinf(v[2])) && !isnan(v[2]))
			uba_model_corrupted("A Davies-Bouldin index of %g.", v[2]);
		if (!(v[3] >= 0 && !isinf(v[3])) && !isnan(v[3]))
			uba_model_corrupted("A Calinski-Harabasz index of %g.", v[3]);
		/* each k's model is a k-means payload, read by k-means' own reader */
		km = uba_kmeans_parse_part(meta, r);
		if (km->k != s->k || km->standardize != m->standardize || !(km->inertia == v[0]))
			uba_model_corrupted("The sweep's model for k = %d does not match its scores.", s->k);
		s->inertia = km->inertia;
		s->iterations = km->n_iter;
		s->centers = km->centroids;
		s->sizes = km->sizes;
	}
	uba_reader_finish(r);
	Marks(m);
	return m;
}

void
uba_kmeans_sweep_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	SweepModel *m = ParseSweep(meta, payload);

	appendStringInfo(json, ", \"k_min\": %d, \"k_max\": %d, \"silhouette_sample\": " INT64_FORMAT
					 ", \"standardized\": %s",
					 m->k_min, m->k_max, m->sample, m->standardize ? "true" : "false");
	if (m->elbow >= 0)
		appendStringInfo(json, ", \"elbow_k\": %d", m->ks[m->elbow].k);
	if (m->best_silhouette >= 0)
		appendStringInfo(json, ", \"best_silhouette_k\": %d", m->ks[m->best_silhouette].k);
}

/* ---------- reading out ---------- */

static Datum
Float8OrNull(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(v);
}

/* uba_kmeans_sweep_results(sweep): a row per k, with the elbow and the best silhouette marked */
Datum
uba_kmeans_sweep_results(PG_FUNCTION_ARGS)
{
	SweepModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS_SWEEP, ParseSweep);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i <= m->k_max - m->k_min; i++)
	{
		SweepK	   *s = &m->ks[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = Int32GetDatum(s->k);
		values[1] = Float8GetDatum(s->inertia);
		values[2] = Float8OrNull(s->silhouette, &nulls[2]);
		values[3] = Float8OrNull(s->davies_bouldin, &nulls[3]);
		values[4] = Float8OrNull(s->calinski_harabasz, &nulls[4]);
		values[5] = BoolGetDatum(i == m->elbow);
		values[6] = BoolGetDatum(i == m->best_silhouette);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * uba_kmeans_sweep_model(sweep [, k]): the k-means model the sweep fitted
 * for k (by default the best silhouette's), as uba_kmeans would train it.
 */
Datum
uba_kmeans_sweep_model(PG_FUNCTION_ARGS)
{
	bytea	   *blob;
	UbaModelMeta meta;
	UbaReader	payload;
	SweepModel *m;
	SweepK	   *s;
	int			k;
	UbaWriter	w;
	Jsonb	   *opts;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	blob = PG_GETARG_BYTEA_PP(0);
	uba_model_open(blob, UBA_KIND_KMEANS_SWEEP, &meta, &payload);
	m = ParseSweep(&meta, &payload);
	if (PG_ARGISNULL(1))
	{
		if (m->best_silhouette < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the sweep has no silhouette to choose k by"),
					 errhint("Give k: uba_kmeans_sweep_model(sweep, k).")));
		k = m->ks[m->best_silhouette].k;
	}
	else
		k = PG_GETARG_INT32(1);
	if (k < m->k_min || k > m->k_max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between the sweep's k_min %d and k_max %d", m->k_min, m->k_max),
				 errdetail("Got %d.", k)));
	s = &m->ks[k - m->k_min];
	/* uba_kmeans's options: the sweep's, without the silhouette's sample */
	opts = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(meta.options_json)));
	opts = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(opts),
											  CStringGetTextDatum("sample_size")));
	meta.options_json = JsonbToCString(NULL, &opts->root, VARSIZE(opts));
	/* the centroids are stored by size already: written again in the same order */
	uba_kmeans_payload(&w, k, m->d, m->standardize, s->iterations, s->inertia, m->mean, m->scale,
					   s->centers, s->sizes);
	PG_RETURN_BYTEA_P(uba_model_build(UBA_KIND_KMEANS, &meta, &w));
}
