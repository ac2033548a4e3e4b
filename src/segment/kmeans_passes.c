/*-------------------------------------------------------------------------
 *
 * kmeans_passes.c
 *	  k-means trained by passes of statistics: uba_kmeans_train(query, k)
 *	  for tables larger than memory and for Citus, where each pass is the
 *	  aggregate uba_kmeans_pass and only O(k x d) numbers come back.
 *
 * A pass takes the current centres as a k-means model (a constant of the
 * query) and returns a bytea state: the row count, the inertia, per
 * cluster the row count and the sum of its rows (a Lloyd step), the 2k - 1
 * rows farthest from their centres (to re-seed empty clusters as the
 * in-memory trainer does), and on request a weighted sample of rows.
 * Without centres it returns the feature moments and a uniform sample.
 *
 * Initialisation is k-means|| (Bahmani et al., "Scalable k-means++",
 * 2012): a first centre drawn uniformly, then a few rounds that each add
 * l = oversampling x k rows drawn with probability proportional to their
 * squared distance to the centres so far; the candidates, weighted by
 * the rows nearest to each, are reduced to k by weighted k-means++ and
 * Lloyd in memory.  Each round draws exactly l rows without replacement
 * (Efraimidis and Spirakis's A-Res keys, u^(1/w), kept as log(u) / w),
 * so the sample merges across workers as a top-l by key, and u comes
 * from a hash of the row and the seed: the same rows give the same
 * sample in any order, on any plan, on any number of shards.  Rounds
 * default to 2 with l = 2k, as Spark MLlib.
 *
 * Lloyd's steps then run as in kmeans.c from the same centres: the same
 * assignment rule (nearest, lowest index on ties), the same re-seeding of
 * empty clusters, the same tolerance on the squared centre shift, so
 * with init_centers the result equals uba_kmeans's up to the order of
 * additions.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kmeans.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_kmeans_pass_transfn);
PG_FUNCTION_INFO_V1(uba_kmeans_pass_combine);
PG_FUNCTION_INFO_V1(uba_kmeans_train);

#define PASS_MAGIC 0x75626B70	/* "ubkp" */
#define PASS_WHAT "uba_kmeans_pass"

/* dims of a state */
#define DIM_M 0					/* centres (0: none, a first pass) */
#define DIM_D 1					/* features */
#define DIM_S 2					/* sample size */
#define DIM_F 3					/* farthest rows kept */

/* The parts of a state's values */
typedef struct PassView
{
	int			m,
				d,
				s,
				f;
	double	   *n;				/* rows */
	double	   *phi;			/* sum of squared distances to the nearest centre */
	double	   *s_fill;			/* sample entries used, and where the smallest key is */
	double	   *s_min;
	double	   *f_fill;			/* farthest entries used, and the nearest of them */
	double	   *f_min;
	double	   *mean;			/* d, without centres */
	double	   *m2;				/* d, without centres */
	double	   *keys;			/* s */
	double	   *sample;			/* s x d, in the model's fitting space */
	double	   *counts;			/* m, for a Lloyd step (sample 0) */
	double	   *sums;			/* m x d */
	double	   *fdist;			/* f */
	double	   *flabel;			/* f */
	double	   *fpoint;			/* f x d */
} PassView;

static Size
ValuesFor(int m, int d, int s, int f)
{
	Size		n = 6;

	if (m == 0)
		n += 2 * (Size) d;
	n += (Size) s * (d + 1);
	if (m > 0 && s == 0)
		n += (Size) m * (d + 1) + (Size) f * (d + 2);
	return n;
}

static void
View(bytea *b, PassView *v)
{
	UbaPassHead *h = uba_pass_head(b);
	double	   *p = uba_pass_values(b);

	v->m = (int) h->dims[DIM_M];
	v->d = (int) h->dims[DIM_D];
	v->s = (int) h->dims[DIM_S];
	v->f = (int) h->dims[DIM_F];
	v->n = p++;
	v->phi = p++;
	v->s_fill = p++;
	v->s_min = p++;
	v->f_fill = p++;
	v->f_min = p++;
	v->mean = v->m2 = NULL;
	if (v->m == 0)
	{
		v->mean = p;
		p += v->d;
		v->m2 = p;
		p += v->d;
	}
	v->keys = p;
	p += v->s;
	v->sample = p;
	p += (Size) v->s * v->d;
	v->counts = v->sums = v->fdist = v->flabel = v->fpoint = NULL;
	if (v->m > 0 && v->s == 0)
	{
		v->counts = p;
		p += v->m;
		v->sums = p;
		p += (Size) v->m * v->d;
		v->fdist = p;
		p += v->f;
		v->flabel = p;
		p += v->f;
		v->fpoint = p;
	}
}

/* A well-formed state, checked against its dimensions and viewed */
static bytea *
Check(bytea *b, PassView *v)
{
	UbaPassHead *h = uba_pass_head(b);

	if (h->dims[DIM_M] > KMEANS_MAX_K || h->dims[DIM_D] < 1 || h->dims[DIM_D] > UBA_MAX_FEATURES ||
		h->dims[DIM_S] > KMEANS_MAX_K || h->dims[DIM_F] > 2 * h->dims[DIM_M] ||
		(uint64) h->nvalues != ValuesFor((int) h->dims[DIM_M], (int) h->dims[DIM_D],
										 (int) h->dims[DIM_S], (int) h->dims[DIM_F]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of %s", PASS_WHAT)));
	View(b, v);
	/* the bookkeeping must point inside the arrays before it is trusted */
	if (!(*v->s_fill >= 0 && *v->s_fill <= v->s && *v->s_min >= 0 && *v->s_min < Max(v->s, 1) &&
		  *v->f_fill >= 0 && *v->f_fill <= v->f && *v->f_min >= 0 && *v->f_min < Max(v->f, 1) &&
		  *v->n >= 0 && *v->s_fill == floor(*v->s_fill) && *v->f_fill == floor(*v->f_fill) &&
		  *v->s_min == floor(*v->s_min) && *v->f_min == floor(*v->f_min)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of %s", PASS_WHAT)));
	for (int i = 0; i < (int) *v->f_fill; i++)
		if (!(v->flabel[i] >= 0 && v->flabel[i] < v->m))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("not a state of %s", PASS_WHAT)));
	return b;
}

/* The state in argument argno, checked, or NULL */
static bytea *
StateArg(FunctionCallInfo fcinfo, int argno, PassView *v)
{
	bytea	   *b = uba_pass_state_arg(fcinfo, argno, PASS_MAGIC, PASS_WHAT);

	return b ? Check(b, v) : NULL;
}

/*
 * Keep the entries with the largest keys, at most cap of them: fill, then
 * replace the smallest.  Ties are broken by the point's bytes, so the kept
 * set does not depend on the order rows come in.
 */
static bool
Above(double ka, const double *pa, double kb, const double *pb, int d)
{
	if (ka != kb)
		return ka > kb;
	return memcmp(pa, pb, sizeof(double) * d) > 0;
}

static void
TopInsert(double *keys, double *points, double *labels, int cap, int d, double *fill, double *minpos,
		  double key, const double *x, double label)
{
	int			at;

	if (cap == 0)
		return;
	/*
	 * A sample holds distinct rows: copies of a row draw the same key, and
	 * would otherwise fill it with one point (the weighting pass counts
	 * copies later).
	 */
	if (labels == NULL && (*fill < cap || Above(key, x, keys[(int) *minpos], points + (Size) ((int) *minpos) * d, d)))
		for (int i = 0; i < (int) *fill; i++)
			if (keys[i] == key && memcmp(points + (Size) i * d, x, sizeof(double) * d) == 0)
				return;
	if (*fill < cap)
		at = (int) (*fill)++;
	else
	{
		int			mp = (int) *minpos;

		if (!Above(key, x, keys[mp], points + (Size) mp * d, d))
			return;
		at = mp;
	}
	keys[at] = key;
	memcpy(points + (Size) at * d, x, sizeof(double) * d);
	if (labels)
		labels[at] = label;
	/* the new smallest */
	if (*fill == cap || at == (int) *fill - 1)
	{
		int			mp = 0;

		for (int i = 1; i < (int) *fill; i++)
			if (Above(keys[mp], points + (Size) mp * d, keys[i], points + (Size) i * d, d))
				mp = i;
		*minpos = mp;
	}
}

/* The model argument, or NULL: a k-means model trained on float8[] features */
static KMeansModel *
ModelArg(FunctionCallInfo fcinfo, int argno)
{
	KMeansModel *m;

	if (PG_ARGISNULL(argno))
		return NULL;
	m = uba_model_cached(fcinfo, argno, UBA_KIND_KMEANS, uba_kmeans_parse);
	if (m->enc != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s takes the centres of a model trained on float8[] features", PASS_WHAT),
				 errhint("Train with uba_kmeans_train(), whose query returns a float8[] column.")));
	return m;
}

/*
 * uba_kmeans_pass(features, centers, sample, seed) transition: add a row.
 * centers is a k-means model or NULL; sample is how many rows to draw.
 */
Datum
uba_kmeans_pass_transfn(PG_FUNCTION_ARGS)
{
	PassView	v;
	bytea	   *b = StateArg(fcinfo, 0, &v);
	KMeansModel *model;
	ArrayType  *a;
	double	   *x,
			   *xs;
	double		best = 0;
	int			c = 0,
				d;

	if (PG_ARGISNULL(1))
	{
		if (b == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(b);
	}
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sample size and seed of %s must not be NULL", PASS_WHAT)));
	model = ModelArg(fcinfo, 2);
	a = PG_GETARG_ARRAYTYPE_P(1);
	if (b == NULL)
	{
		int32		s = PG_GETARG_INT32(3);
		uint32		dims[5] = {0, 0, 0, 0, 0};

		if (s < 0 || s > KMEANS_MAX_K)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sample size of %s must be between 0 and %d", PASS_WHAT, KMEANS_MAX_K),
					 errdetail("Got %d.", s)));
		d = model ? model->d : uba_feature_count(a);
		dims[DIM_M] = model ? model->k : 0;
		dims[DIM_D] = d;
		dims[DIM_S] = s;
		dims[DIM_F] = (model && s == 0) ? 2 * model->k - 1 : 0;
		b = uba_pass_state_new(fcinfo, PASS_MAGIC, dims,
							   ValuesFor(dims[DIM_M], d, s, dims[DIM_F]), "k-means pass");
		View(b, &v);
	}
	else if ((model ? model->k : 0) != v.m || (model && model->d != v.d) || PG_GETARG_INT32(3) != v.s)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the centres and sample size of %s must be the same for every row", PASS_WHAT)));
	d = v.d;

	/* the row, then the row in the model's fitting space, after the state's arrays are known */
	x = palloc(sizeof(double) * d * 2);
	xs = x + d;
	uba_read_features(a, x, d);
	memcpy(xs, x, sizeof(double) * d);
	*v.n += 1;
	if (model == NULL)
	{
		/* Welford's update of the moments */
		for (int j = 0; j < d; j++)
		{
			double		delta = x[j] - v.mean[j];

			v.mean[j] += delta / *v.n;
			v.m2[j] += delta * (x[j] - v.mean[j]);
		}
	}
	else
	{
		uba_standardize_row(xs, d, model->mean, model->scale);
		c = uba_nearest_center(xs, model->centroids, model->k, d, &best);
		*v.phi += best;
		if (v.counts)
		{
			v.counts[c] += 1;
			for (int j = 0; j < d; j++)
				v.sums[(Size) c * d + j] += xs[j];
			TopInsert(v.fdist, v.fpoint, v.flabel, v.f, d, v.f_fill, v.f_min, best, xs, c);
		}
	}
	if (v.s > 0)
	{
		/* A-Res: weight 1 without centres, else the squared distance (0: never drawn) */
		double		w = model ? best : 1.0;

		if (w > 0)
			TopInsert(v.keys, v.sample, NULL, v.s, d, v.s_fill, v.s_min,
					  log(uba_row_uniform(x, d, (uint64) PG_GETARG_INT64(4))) / w, xs, 0);
	}
	pfree(x);
	PG_RETURN_BYTEA_P(b);
}

/* Combine two pass states (parallel workers, Citus shards) */
Datum
uba_kmeans_pass_combine(PG_FUNCTION_ARGS)
{
	PassView	a,
				o;
	bytea	   *ba = StateArg(fcinfo, 0, &a);
	bytea	   *bo = StateArg(fcinfo, 1, &o);
	bytea	   *trivial;
	double		n;
	int			d;

	if (uba_pass_combine_nulls(fcinfo, ba, bo, &trivial))
	{
		if (trivial == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(trivial);
	}
	if (a.m != o.m || a.d != o.d || a.s != o.s || a.f != o.f)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine states of %s with different centres or sample sizes", PASS_WHAT)));
	d = a.d;
	n = *a.n + *o.n;
	if (a.mean && n > 0)
		for (int j = 0; j < d; j++)
		{
			/* Chan et al.'s pairwise update */
			double		delta = o.mean[j] - a.mean[j];

			a.m2[j] += o.m2[j] + delta * delta * *a.n * *o.n / n;
			a.mean[j] += delta * *o.n / n;
		}
	*a.n = n;
	*a.phi += *o.phi;
	if (a.counts)
	{
		for (int c = 0; c < a.m; c++)
			a.counts[c] += o.counts[c];
		for (Size i = 0; i < (Size) a.m * d; i++)
			a.sums[i] += o.sums[i];
		for (int i = 0; i < (int) *o.f_fill; i++)
			TopInsert(a.fdist, a.fpoint, a.flabel, a.f, d, a.f_fill, a.f_min,
					  o.fdist[i], o.fpoint + (Size) i * d, o.flabel[i]);
	}
	for (int i = 0; i < (int) *o.s_fill; i++)
		TopInsert(a.keys, a.sample, NULL, a.s, d, a.s_fill, a.s_min,
				  o.keys[i], o.sample + (Size) i * d, 0);
	PG_RETURN_BYTEA_P(ba);
}

/* ---------- the driver ---------- */

static const char *const init_choices[] = {"k-means||", "random", NULL};

#define INIT_PARALLEL 0
#define INIT_RANDOM 1

static const UbaOptionSpec train_options[] = {
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"max_iter", UBA_OPT_INT, 300, 1, 1000000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-4, 0, 1e6, NULL},
	{"init", UBA_OPT_CHOICE, INIT_PARALLEL, 0, 0, init_choices},
	{"init_centers", UBA_OPT_MATRIX, 0, 0, 0, NULL},
	{"init_steps", UBA_OPT_INT, 2, 1, 20, NULL},
	{"oversampling", UBA_OPT_FLOAT, 2, 0.1, 100, NULL},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

/* What a pass needs besides the query */
typedef struct Driver
{
	UbaPassQuery pq;
	const UbaOptions *o;
	int			d;
	bool		standardize;
	double	   *mean;
	double	   *scale;
	TimestampTz started;
} Driver;

/* A pass over the rows with these m centres (fitting space), drawing sample rows */
static bytea *
RunPass(Driver *dr, const double *centers, int m, int sample, int64 seed, PassView *v)
{
	Datum		params[3];
	bool		nulls[3] = {false, false, false};
	bytea	   *state;

	if (centers != NULL)
	{
		UbaWriter	pw;
		UbaModelMeta meta;
		int64	   *zero = palloc0(sizeof(int64) * m);

		uba_kmeans_payload(&pw, m, dr->d, dr->standardize, 0, 0, dr->mean, dr->scale, centers, zero);
		uba_model_meta_init(&meta, dr->d, 0, dr->started, dr->o);
		params[0] = PointerGetDatum(uba_model_build(UBA_KIND_KMEANS, &meta, &pw));
		pfree(zero);
	}
	else
		nulls[0] = true;
	params[1] = Int32GetDatum(sample);
	params[2] = Int64GetDatum(seed);
	state = uba_pass_query_run(&dr->pq, params, nulls);
	if (!nulls[0])
		pfree(DatumGetPointer(params[0]));
	if (state == NULL)
		return NULL;
	/* our own aggregate's state, but read as untrusted all the same */
	state = Check(uba_pass_state_own(state, PASS_MAGIC, PASS_WHAT), v);
	if (v->m != m || v->d != dr->d || v->s != sample)
		elog(ERROR, "uba_kmeans_train: a pass returned a state of another shape");
	return state;
}

/*
 * The sample of a pass, largest key first, so that what follows does not
 * depend on the order the rows came in; appended to cand (fitting space,
 * or transformed into it when raw); returns how many.
 */
static int
SortedSample(const PassView *v, const Driver *dr, bool raw, double *cand)
{
	int			ns = (int) *v->s_fill;
	int			d = v->d;
	int		   *order = palloc(sizeof(int) * Max(ns, 1));
	int			taken = 0;

	for (int i = 0; i < ns; i++)
		order[i] = i;
	for (int i = 1; i < ns; i++)
		for (int j = i; j > 0 && Above(v->keys[order[j]], v->sample + (Size) order[j] * d,
									   v->keys[order[j - 1]], v->sample + (Size) order[j - 1] * d, d); j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < ns; i++)
	{
		if (!(v->keys[order[i]] > -get_float8_infinity()))
			continue;
		for (int j = 0; j < d; j++)
		{
			double		x = v->sample[(Size) order[i] * d + j];

			cand[(Size) taken * d + j] = raw && dr->standardize ? (x - dr->mean[j]) / dr->scale[j] : x;
		}
		taken++;
	}
	pfree(order);
	return taken;
}

/* A seed for round r of the sampling, from the user's seed */
static int64
RoundSeed(const UbaOptions *o, int round)
{
	return (int64) ((uint64) uba_option(o, "seed") * UINT64CONST(0x9E3779B97F4A7C15) + (uint64) round);
}

/*
 * Reduce weighted candidates to k centres: greedy k-means++ on the
 * weights (2 + ln k trials per step), then weighted Lloyd steps until no
 * candidate changes cluster.
 */
static void
ReduceCandidates(const double *cand, const double *weight, int nc, int k, int d, uint64 seed,
				 double *centers)
{
	UbaRandom	rng;
	double	   *mind = palloc(sizeof(double) * nc);
	double	   *tmp = palloc(sizeof(double) * nc);
	int		   *label = palloc(sizeof(int) * nc);
	double	   *sums = palloc(sizeof(double) * k * d);
	double	   *cw = palloc(sizeof(double) * k);
	int			trials = 2 + (int) log((double) k);
	double		total = 0,
				pot = 0;
	int			first = 0;

	uba_random_seed(&rng, seed);
	for (int i = 0; i < nc; i++)
		total += weight[i];
	/* the first centre: drawn by weight */
	{
		double		r = uba_random_double(&rng) * total,
					acc = 0;

		for (first = 0; first < nc - 1; first++)
		{
			acc += weight[first];
			if (acc > r)
				break;
		}
	}
	memcpy(centers, cand + (Size) first * d, sizeof(double) * d);
	for (int i = 0; i < nc; i++)
	{
		mind[i] = uba_sqdist(cand + (Size) i * d, centers, d);
		pot += weight[i] * mind[i];
	}
	for (int c = 1; c < k; c++)
	{
		int			bestcand = -1;
		double		bestpot = get_float8_infinity();

		CHECK_FOR_INTERRUPTS();
		for (int t = 0; t < trials; t++)
		{
			double		r = uba_random_double(&rng) * pot,
						acc = 0,
						p = 0;
			int			pick;

			for (pick = 0; pick < nc - 1; pick++)
			{
				acc += weight[pick] * mind[pick];
				if (acc > r)
					break;
			}
			for (int i = 0; i < nc; i++)
				p += weight[i] * Min(mind[i], uba_sqdist(cand + (Size) i * d, cand + (Size) pick * d, d));
			if (p < bestpot)
			{
				bestpot = p;
				bestcand = pick;
			}
		}
		memcpy(centers + (Size) c * d, cand + (Size) bestcand * d, sizeof(double) * d);
		pot = 0;
		for (int i = 0; i < nc; i++)
		{
			tmp[i] = uba_sqdist(cand + (Size) i * d, centers + (Size) c * d, d);
			mind[i] = Min(mind[i], tmp[i]);
			pot += weight[i] * mind[i];
		}
	}
	/* weighted Lloyd */
	for (int i = 0; i < nc; i++)
		label[i] = -1;
	for (int it = 0; it < 300; it++)
	{
		bool		changed = false;

		CHECK_FOR_INTERRUPTS();
		memset(sums, 0, sizeof(double) * k * d);
		memset(cw, 0, sizeof(double) * k);
		for (int i = 0; i < nc; i++)
		{
			double		bd;
			int			best = uba_nearest_center(cand + (Size) i * d, centers, k, d, &bd);

			changed = changed || best != label[i];
			label[i] = best;
			cw[best] += weight[i];
			for (int j = 0; j < d; j++)
				sums[(Size) best * d + j] += weight[i] * cand[(Size) i * d + j];
		}
		if (!changed)
			break;
		for (int c = 0; c < k; c++)
			if (cw[c] > 0)
				for (int j = 0; j < d; j++)
					centers[(Size) c * d + j] = sums[(Size) c * d + j] / cw[c];
	}
	pfree(mind);
	pfree(tmp);
	pfree(label);
	pfree(sums);
	pfree(cw);
}

/*
 * Give each empty cluster the farthest row of a cluster that keeps at least
 * one, as kmeans.c's RelocateEmpty, from the pass's farthest rows.
 */
static int64
RelocateEmpty(PassView *v, double *counts, double *sums)
{
	int			d = v->d;
	int			nf = (int) *v->f_fill;
	bool	   *used = palloc0(sizeof(bool) * Max(nf, 1));
	int64		moved = 0;

	for (int c = 0; c < v->m; c++)
	{
		int			far = -1;

		if (counts[c] > 0)
			continue;
		for (int i = 0; i < nf; i++)
		{
			if (used[i] || counts[(int) v->flabel[i]] <= 1)
				continue;
			if (far < 0 || Above(v->fdist[i], v->fpoint + (Size) i * d,
								 v->fdist[far], v->fpoint + (Size) far * d, d))
				far = i;
		}
		if (far < 0)
			break;
		{
			const double *x = v->fpoint + (Size) far * d;
			int			old = (int) v->flabel[far];

			for (int j = 0; j < d; j++)
			{
				sums[(Size) old * d + j] -= x[j];
				sums[(Size) c * d + j] = x[j];
			}
			counts[old]--;
			counts[c] = 1;
			used[far] = true;
			moved++;
		}
	}
	pfree(used);
	return moved;
}

/* uba_kmeans_train(query, k [, options]): k-means by passes over the query's rows */
Datum
uba_kmeans_train(PG_FUNCTION_ARGS)
{
	static const char *const colnames[] = {"the features"};
	Oid			coltypes[1] = {FLOAT8ARRAYOID};
	Oid			paramtypes[3] = {BYTEAOID, INT4OID, INT8OID};
	UbaOptions	o;
	Driver		dr;
	PassView	v;
	bytea	   *st;
	int			k,
				d,
				init,
				iters = 0,
				max_iter;
	int64		n;
	double		tol = 0,
				inertia,
			   *var,
			   *centers,
			   *newc,
			   *counts,
			   *prev_counts;
	int64	   *sizes;
	UbaWriter	pw;
	UbaModelMeta meta;
	bytea	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the query and k of uba_kmeans_train must not be NULL")));
	k = PG_GETARG_INT32(1);
	if (k < 1 || k > KMEANS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d", KMEANS_MAX_K),
				 errdetail("Got %d.", k)));
	uba_parse_options(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), train_options,
					  lengthof(train_options), "uba_kmeans_train", &o);
	init = (int) uba_option(&o, "init");
	max_iter = (int) uba_option(&o, "max_iter");
	{
		double		cands = 1 + uba_option(&o, "init_steps") * ceil(uba_option(&o, "oversampling") * k);

		if (o.matrix == NULL && init == INIT_PARALLEL && cands > KMEANS_MAX_K)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("k-means|| would draw %.0f candidates, more than %d", cands, KMEANS_MAX_K),
					 errhint("Lower oversampling or init_steps.")));
	}

	memset(&dr, 0, sizeof(dr));
	dr.o = &o;
	dr.started = GetCurrentTimestamp();
	dr.standardize = uba_option(&o, "standardize") != 0;
	uba_pass_query_open(&dr.pq, fcinfo, "uba_kmeans_train", text_to_cstring(PG_GETARG_TEXT_PP(0)),
						1, coltypes, colnames, "uba_kmeans_pass", 3, paramtypes);

	/* pass 1: rows, moments, and the first centre or the random ones */
	dr.d = 0;
	{
		Datum		params[3] = {0, Int32GetDatum(init == INIT_RANDOM && o.matrix == NULL ? k : (o.matrix ? 0 : 1)),
		Int64GetDatum(RoundSeed(&o, 0))};
		bool		nulls[3] = {true, false, false};

		st = uba_pass_query_run(&dr.pq, params, nulls);
		if (st == NULL)
		{
			uba_pass_query_close(&dr.pq);
			PG_RETURN_NULL();
		}
		st = Check(uba_pass_state_own(st, PASS_MAGIC, PASS_WHAT), &v);
	}
	d = dr.d = v.d;
	n = (int64) *v.n;
	if (k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k (%d) is larger than the number of rows (" INT64_FORMAT ")", k, n),
				 errhint("Choose a k no larger than the number of rows being clustered.")));
	uba_options_check_names(&o, d);
	dr.mean = palloc(sizeof(double) * d);
	dr.scale = palloc(sizeof(double) * d);
	var = palloc(sizeof(double) * d);
	for (int j = 0; j < d; j++)
	{
		dr.mean[j] = v.mean[j];
		var[j] = v.m2[j] / (double) n;
	}
	uba_check_feature_scale(dr.mean, var, d, o.names);
	if (dr.standardize)
		uba_standardize(NULL, 0, d, dr.mean, var, dr.scale);
	for (int j = 0; j < d; j++)
		tol += var[j];
	tol = uba_option(&o, "tol") * tol / d;

	centers = palloc(sizeof(double) * k * d);
	newc = palloc(sizeof(double) * k * d);
	if (o.matrix != NULL)
		uba_kmeans_given_centers(&o, "init_centers", k, d, dr.mean, dr.standardize ? dr.scale : NULL, centers);
	else
	{
		/* the drawn rows, largest key first, into the fitting space */
		double	   *cand = palloc(sizeof(double) * Max((int) *v.s_fill, 1) * d);
		int			nc = SortedSample(&v, &dr, true, cand);

		if (init == INIT_RANDOM && nc < k)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k (%d) is larger than the number of distinct rows (%d)", k, nc),
					 errhint("Choose a k no larger than the number of distinct points.")));
		if (init == INIT_RANDOM)
			memcpy(centers, cand, sizeof(double) * k * d);
		else
		{
			int			l = (int) ceil(uba_option(&o, "oversampling") * k);
			int			steps = (int) uba_option(&o, "init_steps");
			double	   *weight;

			cand = repalloc(cand, sizeof(double) * ((Size) steps * l + 1) * d);
			for (int r = 1; r <= steps; r++)
			{
				st = RunPass(&dr, cand, nc, l, RoundSeed(&o, r), &v);
				uba_progress(&o, "uba_kmeans_train: k-means|| round %d of %d: cost %.6g, %d candidates",
							 r, steps, *v.phi, nc + (int) *v.s_fill);
				nc += SortedSample(&v, &dr, false, cand + (Size) nc * d);
				pfree(st);
			}
			/* weights: the rows nearest to each candidate */
			st = RunPass(&dr, cand, nc, 0, 0, &v);
			weight = palloc(sizeof(double) * nc);
			memcpy(weight, v.counts, sizeof(double) * nc);
			if (nc <= k)
			{
				/* as few distinct rows as clusters, or fewer */
				for (int c = 0; c < k; c++)
					memcpy(centers + (Size) c * d, cand + (Size) (c % nc) * d, sizeof(double) * d);
			}
			else
				ReduceCandidates(cand, weight, nc, k, d, (uint64) uba_option(&o, "seed"), centers);
			pfree(st);
		}
	}

	/* Lloyd's steps, one pass each */
	counts = palloc(sizeof(double) * k);
	prev_counts = palloc0(sizeof(double) * k);
	for (iters = 0; iters < max_iter; iters++)
	{
		double		shift = 0,
					size = 0;
		int64		moved;
		bool		same;

		st = RunPass(&dr, centers, k, 0, 0, &v);
		memcpy(counts, v.counts, sizeof(double) * k);
		moved = RelocateEmpty(&v, counts, v.sums);
		uba_progress(&o, "uba_kmeans_train: iteration %d: inertia %.6g", iters + 1, *v.phi);
		same = moved == 0 && memcmp(counts, prev_counts, sizeof(double) * k) == 0;
		memcpy(prev_counts, counts, sizeof(double) * k);
		for (int c = 0; c < k; c++)
			for (int j = 0; j < d; j++)
			{
				double		x = counts[c] > 0 ? v.sums[(Size) c * d + j] / counts[c] : centers[(Size) c * d + j];
				double		t = x - centers[(Size) c * d + j];

				shift += t * t;
				size += x * x;
				newc[(Size) c * d + j] = x;
			}
		memcpy(centers, newc, sizeof(double) * k * d);
		pfree(st);
		/*
		 * The in-memory trainer stops when no row changed cluster; a pass
		 * cannot see rows change, but then the sizes stay and the centres
		 * move by rounding alone.
		 */
		if (shift <= tol || (same && shift <= 1e-24 * size))
		{
			iters++;
			break;
		}
	}
	iters = Min(iters, max_iter);

	/* sizes and inertia of the final centres */
	st = RunPass(&dr, centers, k, 0, 0, &v);
	inertia = *v.phi;
	sizes = palloc(sizeof(int64) * k);
	for (int c = 0; c < k; c++)
		sizes[c] = (int64) v.counts[c];
	uba_progress(&o, "uba_kmeans_train: inertia %.6g after %d iterations, %d passes over the rows",
				 inertia, iters, dr.pq.passes);
	uba_pass_query_close(&dr.pq);

	uba_kmeans_payload(&pw, k, d, dr.standardize, iters, inertia, dr.mean, dr.scale, centers, sizes);
	uba_model_meta_init(&meta, d, n, dr.started, &o);
	result = uba_model_build(UBA_KIND_KMEANS, &meta, &pw);
	PG_RETURN_BYTEA_P(result);
}
