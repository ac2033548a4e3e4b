/*-------------------------------------------------------------------------
 *
 * kmeans.c
 *	  k-means customer segmentation: training aggregate, model payload and
 *	  scoring functions.
 *
 * Training follows scikit-learn's KMeans so results compare directly:
 * greedy k-means++ (2 + ln k candidates per step) or random init, Lloyd
 * iterations with distances from matrix products (BLAS), relative
 * tolerance tol * mean feature variance on the squared centre shift,
 * empty clusters re-seeded with the points farthest from their centres,
 * and the best of n_init runs by inertia.  Clusters are renumbered 1..k
 * by size, largest first, so segment numbers stay meaningful across
 * retrains.
 *
 * Payload: k (u32), d (u32), flags (u32, bit 0 = standardize), iterations
 * (u32), inertia (f64), [mean (d f64), scale (d f64)] when standardized,
 * centroids (k x d f64, in the fitting space), sizes (k i64).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/float.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_kmeans_transfn);
PG_FUNCTION_INFO_V1(uba_kmeans_final);
PG_FUNCTION_INFO_V1(uba_kmeans_assign);
PG_FUNCTION_INFO_V1(uba_kmeans_distance);
PG_FUNCTION_INFO_V1(uba_kmeans_centroids);
PG_FUNCTION_INFO_V1(uba_kmeans_inertia);

#define KMEANS_FLAG_STANDARDIZE 1
#define KMEANS_MAX_K 100000

static const char *const init_choices[] = {"k-means++", "random", NULL};

static const UbaOptionSpec kmeans_options[] = {
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"n_init", UBA_OPT_INT, 1, 1, 1000, NULL},
	{"max_iter", UBA_OPT_INT, 300, 1, 1000000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-4, 0, 1e6, NULL},
	{"init", UBA_OPT_CHOICE, 0, 0, 0, init_choices},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
};

/* A parsed model */
typedef struct KMeansModel
{
	int			k;
	int			d;
	bool		standardize;
	int			n_iter;
	double		inertia;
	double	   *mean;			/* d, when standardized */
	double	   *scale;			/* d, when standardized */
	double	   *centroids;		/* k x d, fitting space */
	int64	   *sizes;			/* k */
	double	   *scratch;		/* d, for scoring one row */
} KMeansModel;

/* Working state of one training call */
typedef struct KMeansWork
{
	int64		n;
	int			d;
	int			k;
	const double *X;			/* n x d */
	double	   *xnorm;			/* n: squared row norms */
	int32	   *labels;			/* n */
	double	   *mind;			/* n: squared distance to assigned centre */
	double	   *block;			/* UBA_BLOCK_ROWS x max(k, trials) */
	double	   *sums;			/* k x d */
	int64	   *counts;			/* k */
	double	   *cnorm;			/* max(k, trials) */
	UbaRandom	rng;
} KMeansWork;

/* ---------- training ---------- */

/* uba_kmeans(features, k [, options]) transition: collect the row */
Datum
uba_kmeans_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	int32		k;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(rs);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("k must not be NULL")));
	k = PG_GETARG_INT32(2);

	if (rs == NULL)
	{
		Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
		UbaOptions	o;

		if (k < 1 || k > KMEANS_MAX_K)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k must be between 1 and %d", KMEANS_MAX_K),
					 errdetail("Got %d.", k)));
		/* reject bad options before reading millions of rows */
		uba_parse_options(opts, kmeans_options, lengthof(kmeans_options), "uba_kmeans", &o);
		rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(1), false, k, opts);
	}
	else
		uba_rowset_check_param(rs, k, "k");

	uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(1), 0);
	PG_RETURN_POINTER(rs);
}

/* Squared Euclidean distance */
static inline double
SqDist(const double *a, const double *b, int d)
{
	double		s = 0;

	for (int j = 0; j < d; j++)
	{
		double		t = a[j] - b[j];

		s += t * t;
	}
	return s;
}

/* Squared norms of m rows of length d */
static void
RowNorms(const double *A, int64 m, int d, double *out)
{
	for (int64 i = 0; i < m; i++)
	{
		const double *a = A + (Size) i * d;
		double		s = 0;

		for (int j = 0; j < d; j++)
			s += a[j] * a[j];
		out[i] = s;
	}
}

/*
 * Assign every row to its nearest centre; when sums is given, also
 * accumulate per-cluster sums and counts.  Returns the number of labels
 * that changed.  Distances come from ||x||^2 - 2 x.c + ||c||^2 with the
 * products done by BLAS one block of rows at a time.
 */
static int64
AssignRows(KMeansWork *w, const double *centers, double *sums, int64 *counts)
{
	int64		changed = 0;
	int			k = w->k;
	int			d = w->d;

	RowNorms(centers, k, d, w->cnorm);
	if (sums)
	{
		memset(sums, 0, sizeof(double) * k * d);
		memset(counts, 0, sizeof(int64) * k);
	}

	for (int64 i0 = 0; i0 < w->n; i0 += UBA_BLOCK_ROWS)
	{
		int			b = (int) Min((int64) UBA_BLOCK_ROWS, w->n - i0);

		CHECK_FOR_INTERRUPTS();
		uba_gemm_abt(b, k, d, -2.0, w->X + (Size) i0 * d, centers, 0.0, w->block);
		for (int r = 0; r < b; r++)
		{
			const double *dr = w->block + (Size) r * k;
			int64		i = i0 + r;
			int			best = 0;
			double		bestd = dr[0] + w->cnorm[0];

			for (int c = 1; c < k; c++)
			{
				double		v = dr[c] + w->cnorm[c];

				if (v < bestd)
				{
					bestd = v;
					best = c;
				}
			}
			w->mind[i] = Max(bestd + w->xnorm[i], 0.0);
			if (w->labels[i] != best)
			{
				changed++;
				w->labels[i] = best;
			}
			if (sums)
			{
				const double *x = w->X + (Size) i * d;
				double	   *s = sums + (Size) best * d;

				for (int j = 0; j < d; j++)
					s[j] += x[j];
				counts[best]++;
			}
		}
	}
	return changed;
}

/*
 * Give each empty cluster the point farthest from its centre, taken from
 * a cluster that keeps at least one point (as scikit-learn does).
 */
static void
RelocateEmpty(KMeansWork *w, double *sums, int64 *counts)
{
	int			d = w->d;

	for (int c = 0; c < w->k; c++)
	{
		int64		far = -1;
		double		fard = -1;

		if (counts[c] > 0)
			continue;
		for (int64 i = 0; i < w->n; i++)
		{
			if (w->mind[i] > fard && counts[w->labels[i]] > 1)
			{
				fard = w->mind[i];
				far = i;
			}
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		if (far < 0)
			break;				/* fewer distinct points than clusters */
		{
			const double *x = w->X + (Size) far * d;
			int			old = w->labels[far];

			for (int j = 0; j < d; j++)
			{
				sums[(Size) old * d + j] -= x[j];
				sums[(Size) c * d + j] = x[j];
			}
			counts[old]--;
			counts[c] = 1;
			w->labels[far] = c;
			w->mind[far] = 0;
		}
	}
}

/* Index of the first cumulative sum >= v (numpy searchsorted, side left) */
static int64
SearchCumsum(const double *cum, int64 n, double v)
{
	int64		lo = 0,
				hi = n;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (cum[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return Min(lo, n - 1);
}

/* Greedy k-means++: each step keeps the best of 2 + ln k sampled candidates */
static void
InitPlusPlus(KMeansWork *w, double *centers)
{
	int64		n = w->n;
	int			d = w->d;
	int			trials = 2 + (int) log((double) w->k);
	double	   *closest = w->mind;
	double	   *cum = palloc(sizeof(double) * n);
	double	   *cand = palloc(sizeof(double) * trials * d);
	int64	   *cand_id = palloc(sizeof(int64) * trials);
	double	   *pot = palloc(sizeof(double) * trials);
	double		current = 0;
	int64		first = (int64) uba_random_below(&w->rng, (uint64) n);

	memcpy(centers, w->X + (Size) first * d, sizeof(double) * d);
	for (int64 i = 0; i < n; i++)
	{
		closest[i] = SqDist(w->X + (Size) i * d, centers, d);
		current += closest[i];
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	for (int c = 1; c < w->k; c++)
	{
		double		acc = 0;
		int			best = 0;
		double	   *newc = centers + (Size) c * d;

		for (int64 i = 0; i < n; i++)
		{
			acc += closest[i];
			cum[i] = acc;
		}
		for (int t = 0; t < trials; t++)
		{
			cand_id[t] = SearchCumsum(cum, n, uba_random_double(&w->rng) * current);
			memcpy(cand + (Size) t * d, w->X + (Size) cand_id[t] * d, sizeof(double) * d);
			pot[t] = 0;
		}

		/* potential of each candidate: sum over rows of min(closest, dist) */
		RowNorms(cand, trials, d, w->cnorm);
		for (int64 i0 = 0; i0 < n; i0 += UBA_BLOCK_ROWS)
		{
			int			b = (int) Min((int64) UBA_BLOCK_ROWS, n - i0);

			CHECK_FOR_INTERRUPTS();
			uba_gemm_abt(b, trials, d, -2.0, w->X + (Size) i0 * d, cand, 0.0, w->block);
			for (int r = 0; r < b; r++)
			{
				double		cl = closest[i0 + r];
				double		xn = w->xnorm[i0 + r];

				for (int t = 0; t < trials; t++)
				{
					double		v = Max(w->block[(Size) r * trials + t] + w->cnorm[t] + xn, 0.0);

					pot[t] += Min(cl, v);
				}
			}
		}
		for (int t = 1; t < trials; t++)
			if (pot[t] < pot[best])
				best = t;

		memcpy(newc, cand + (Size) best * d, sizeof(double) * d);
		current = 0;
		for (int64 i = 0; i < n; i++)
		{
			double		v = SqDist(w->X + (Size) i * d, newc, d);

			if (v < closest[i])
				closest[i] = v;
			current += closest[i];
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	pfree(cum);
	pfree(cand);
	pfree(cand_id);
	pfree(pot);
}

/* Random init: k distinct rows (partial Fisher-Yates shuffle) */
static void
InitRandom(KMeansWork *w, double *centers)
{
	int64	   *perm = palloc(sizeof(int64) * w->n);

	for (int64 i = 0; i < w->n; i++)
		perm[i] = i;
	for (int c = 0; c < w->k; c++)
	{
		int64		j = c + (int64) uba_random_below(&w->rng, (uint64) (w->n - c));
		int64		t = perm[c];

		perm[c] = perm[j];
		perm[j] = t;
		memcpy(centers + (Size) c * w->d, w->X + (Size) perm[c] * w->d,
			   sizeof(double) * w->d);
	}
	pfree(perm);
}

/* Exact inertia for the current labels, without the norm-expansion rounding */
static double
Inertia(KMeansWork *w, const double *centers)
{
	double		s = 0;

	for (int64 i = 0; i < w->n; i++)
	{
		s += SqDist(w->X + (Size) i * w->d, centers + (Size) w->labels[i] * w->d, w->d);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return s;
}

/* One k-means run from init to convergence; returns inertia */
static double
RunLloyd(KMeansWork *w, bool plusplus, int max_iter, double tol,
		 double *centers, int *n_iter)
{
	int			k = w->k;
	int			d = w->d;
	double	   *newc = palloc(sizeof(double) * k * d);
	bool		strict = false;
	int			it;

	if (plusplus)
		InitPlusPlus(w, centers);
	else
		InitRandom(w, centers);
	for (int64 i = 0; i < w->n; i++)
		w->labels[i] = -1;

	for (it = 0; it < max_iter; it++)
	{
		int64		changed = AssignRows(w, centers, w->sums, w->counts);
		double		shift = 0;

		RelocateEmpty(w, w->sums, w->counts);
		for (int c = 0; c < k; c++)
			for (int j = 0; j < d; j++)
			{
				double		v = w->counts[c] > 0 ?
					w->sums[(Size) c * d + j] / (double) w->counts[c] :
					centers[(Size) c * d + j];
				double		t = v - centers[(Size) c * d + j];

				shift += t * t;
				newc[(Size) c * d + j] = v;
			}
		memcpy(centers, newc, sizeof(double) * k * d);
		if (changed == 0)
		{
			strict = true;
			break;
		}
		if (shift <= tol)
			break;
	}
	*n_iter = Min(it + 1, max_iter);
	/* labels must match the final centres */
	if (!strict)
		AssignRows(w, centers, NULL, NULL);
	pfree(newc);
	return Inertia(w, centers);
}

/* z-score the columns in place (population std; constant columns keep scale 1) */
static void
Standardize(double *X, int64 n, int d, double *mean, double *scale)
{
	for (int j = 0; j < d; j++)
	{
		double		m = 0,
					ss = 0;

		for (int64 i = 0; i < n; i++)
			m += X[(Size) i * d + j];
		m /= (double) n;
		for (int64 i = 0; i < n; i++)
		{
			double		t = X[(Size) i * d + j] - m;

			ss += t * t;
		}
		mean[j] = m;
		scale[j] = sqrt(ss / (double) n);
		if (!(scale[j] > 1e-300))
			scale[j] = 1.0;
		CHECK_FOR_INTERRUPTS();
	}
	for (int64 i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			X[(Size) i * d + j] = (X[(Size) i * d + j] - mean[j]) / scale[j];
}

/* scikit-learn's tolerance: tol times the mean per-feature variance */
static double
AbsoluteTolerance(const double *X, int64 n, int d, double tol)
{
	double		total = 0;

	if (tol == 0)
		return 0;
	for (int j = 0; j < d; j++)
	{
		double		m = 0,
					ss = 0;

		for (int64 i = 0; i < n; i++)
			m += X[(Size) i * d + j];
		m /= (double) n;
		for (int64 i = 0; i < n; i++)
		{
			double		t = X[(Size) i * d + j] - m;

			ss += t * t;
		}
		total += ss / (double) n;
	}
	return tol * total / d;
}

/* Order of clusters: larger first, then lower original index */
static int
CompareClusters(const void *a, const void *b, void *arg)
{
	const int64 *counts = (const int64 *) arg;
	int			ca = *(const int *) a;
	int			cb = *(const int *) b;

	if (counts[ca] != counts[cb])
		return counts[ca] > counts[cb] ? -1 : 1;
	return ca - cb;
}

/* uba_kmeans final function: train and return the model */
Datum
uba_kmeans_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	KMeansWork	w;
	MemoryContext cxt,
				old;
	int			k,
				d,
				n_init,
				max_iter,
				best_iter = 0;
	bool		plusplus,
				standardize;
	double		tol,
				best_inertia = get_float8_infinity();
	double	   *centers,
			   *best_centers,
			   *mean = NULL,
			   *scale = NULL;
	int64	   *best_counts;
	int		   *order;
	int			trials;
	Size		need;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();

	k = rs->iparam;
	d = rs->dim;
	if (k > rs->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k (%d) is larger than the number of rows (" INT64_FORMAT ")", k, rs->n),
				 errhint("Choose a k no larger than the number of rows being clustered.")));

	uba_parse_options(rs->options, kmeans_options, lengthof(kmeans_options), "uba_kmeans", &o);
	plusplus = uba_option(&o, "init") == 0;
	if (!uba_option_given(&o, "n_init"))
		uba_option_set(&o, "n_init", plusplus ? 1 : 10);	/* scikit-learn's "auto" */
	n_init = (int) uba_option(&o, "n_init");
	max_iter = (int) uba_option(&o, "max_iter");
	standardize = uba_option(&o, "standardize") != 0;

	/* workspace beside the collected rows, checked before allocating */
	trials = 2 + (int) log((double) k);
	need = mul_size((Size) rs->n, (Size) d * sizeof(double));	/* the rows */
	need = add_size(need, mul_size((Size) rs->n, 4 * sizeof(double) + sizeof(int32) + sizeof(int64)));
	need = add_size(need, mul_size(UBA_BLOCK_ROWS, (Size) Max(k, trials) * sizeof(double)));
	need = add_size(need, mul_size((Size) k, (Size) d * 5 * sizeof(double)));
	uba_check_memory(need, "k-means training");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba kmeans", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);

	if (standardize)
	{
		mean = palloc(sizeof(double) * d);
		scale = palloc(sizeof(double) * d);
		Standardize(rs->x, rs->n, d, mean, scale);
	}
	tol = AbsoluteTolerance(rs->x, rs->n, d, uba_option(&o, "tol"));

	memset(&w, 0, sizeof(w));
	w.n = rs->n;
	w.d = d;
	w.k = k;
	w.X = rs->x;
	w.xnorm = MemoryContextAllocHuge(cxt, sizeof(double) * w.n);
	w.mind = MemoryContextAllocHuge(cxt, sizeof(double) * w.n);
	w.labels = MemoryContextAllocHuge(cxt, sizeof(int32) * w.n);
	w.block = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_BLOCK_ROWS * Max(k, trials));
	w.sums = palloc(sizeof(double) * k * d);
	w.counts = palloc(sizeof(int64) * k);
	w.cnorm = palloc(sizeof(double) * Max(k, trials));
	uba_random_seed(&w.rng, (uint64) uba_option(&o, "seed"));
	RowNorms(w.X, w.n, d, w.xnorm);

	centers = palloc(sizeof(double) * k * d);
	best_centers = palloc(sizeof(double) * k * d);
	best_counts = palloc0(sizeof(int64) * k);

	for (int run = 0; run < n_init; run++)
	{
		int			iters;
		double		inertia = RunLloyd(&w, plusplus, max_iter, tol, centers, &iters);

		if (inertia < best_inertia)
		{
			best_inertia = inertia;
			best_iter = iters;
			memcpy(best_centers, centers, sizeof(double) * k * d);
			memset(best_counts, 0, sizeof(int64) * k);
			for (int64 i = 0; i < w.n; i++)
				best_counts[w.labels[i]]++;
		}
	}

	/* renumber clusters by size, largest first */
	order = palloc(sizeof(int) * k);
	for (int c = 0; c < k; c++)
		order[c] = c;
	qsort_arg(order, k, sizeof(int), CompareClusters, best_counts);

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) k);
	uba_put_u32(&pw, (uint32) d);
	uba_put_u32(&pw, standardize ? KMEANS_FLAG_STANDARDIZE : 0);
	uba_put_u32(&pw, (uint32) best_iter);
	uba_put_f64(&pw, best_inertia);
	if (standardize)
	{
		uba_put_f64_array(&pw, mean, d);
		uba_put_f64_array(&pw, scale, d);
	}
	for (int c = 0; c < k; c++)
		uba_put_f64_array(&pw, best_centers + (Size) order[c] * d, d);
	for (int c = 0; c < k; c++)
		uba_put_u64(&pw, (uint64) best_counts[order[c]]);

	meta.n_features = d;
	meta.n_rows = rs->n;
	meta.created_at = GetCurrentTimestamp();
	meta.train_ms = (double) (meta.created_at - rs->started) / 1000.0;
	meta.options_json = uba_options_to_json(&o);

	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_KMEANS, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading and scoring ---------- */

/* Parse and fully validate a k-means payload */
static void *
ParseKMeans(const UbaModelMeta *meta, UbaReader *r)
{
	KMeansModel *m = palloc0(sizeof(KMeansModel));
	uint32		flags;
	int64		total = 0;

	m->k = (int) uba_get_u32(r);
	m->d = (int) uba_get_u32(r);
	flags = uba_get_u32(r);
	m->n_iter = (int) uba_get_u32(r);
	if (m->k < 1 || m->k > KMEANS_MAX_K)
		uba_model_corrupted("k-means model has %d clusters.", m->k);
	if (m->d < 1 || m->d != meta->n_features)
		uba_model_corrupted("k-means model has %d features, metadata says %d.",
							m->d, meta->n_features);
	if ((flags & ~KMEANS_FLAG_STANDARDIZE) != 0)
		uba_model_corrupted("Unknown k-means flags.");
	if (m->n_iter < 0)
		uba_model_corrupted("Negative iteration count.");
	m->standardize = (flags & KMEANS_FLAG_STANDARDIZE) != 0;
	m->inertia = uba_get_finite_f64(r);
	if (m->inertia < 0)
		uba_model_corrupted("Negative inertia.");
	if (m->standardize)
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
	/* sizes are checked against what remains before allocating */
	uba_reader_check_space(r, (Size) m->k * m->d, sizeof(double));
	m->centroids = palloc(sizeof(double) * m->k * m->d);
	uba_get_f64_array(r, m->centroids, (Size) m->k * m->d, true);
	uba_reader_check_space(r, (Size) m->k, sizeof(int64));
	m->sizes = palloc(sizeof(int64) * m->k);
	uba_get_i64_array(r, m->sizes, m->k);
	for (int c = 0; c < m->k; c++)
	{
		if (m->sizes[c] < 0 || m->sizes[c] > meta->n_rows)
			uba_model_corrupted("Cluster size out of range.");
		total += m->sizes[c];
	}
	if (total != meta->n_rows)
		uba_model_corrupted("Cluster sizes do not add up to the training rows.");
	uba_reader_finish(r);
	m->scratch = palloc(sizeof(double) * m->d);
	return m;
}

/* Summary for uba_model_info() */
void
uba_kmeans_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	KMeansModel *m = ParseKMeans(meta, payload);

	appendStringInfo(json, ", \"k\": %d, \"inertia\": %.17g, \"iterations\": %d, "
					 "\"standardized\": %s, \"cluster_sizes\": [",
					 m->k, m->inertia, m->n_iter, m->standardize ? "true" : "false");
	for (int c = 0; c < m->k; c++)
		appendStringInfo(json, "%s" INT64_FORMAT, c > 0 ? ", " : "", m->sizes[c]);
	appendStringInfoChar(json, ']');
}

/* Nearest centroid (0-based) of a feature array; sets *sqdist */
static int
Nearest(KMeansModel *m, ArrayType *features, double *sqdist)
{
	double	   *x = m->scratch;
	int			best = 0;
	double		bestd = get_float8_infinity();

	uba_read_features(features, x, m->d);
	if (m->standardize)
		for (int j = 0; j < m->d; j++)
			x[j] = (x[j] - m->mean[j]) / m->scale[j];
	for (int c = 0; c < m->k; c++)
	{
		double		v = SqDist(x, m->centroids + (Size) c * m->d, m->d);

		if (v < bestd)
		{
			bestd = v;
			best = c;
		}
	}
	*sqdist = bestd;
	return best;
}

/* uba_kmeans_assign(model, features) returns the cluster number, 1..k */
Datum
uba_kmeans_assign(PG_FUNCTION_ARGS)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, ParseKMeans);
	double		dist;

	PG_RETURN_INT32(Nearest(m, PG_GETARG_ARRAYTYPE_P(1), &dist) + 1);
}

/* uba_kmeans_distance(model, features): Euclidean distance to the nearest centroid */
Datum
uba_kmeans_distance(PG_FUNCTION_ARGS)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, ParseKMeans);
	double		dist;

	Nearest(m, PG_GETARG_ARRAYTYPE_P(1), &dist);
	PG_RETURN_FLOAT8(sqrt(dist));
}

/* uba_kmeans_inertia(model): within-cluster sum of squares of the training rows */
Datum
uba_kmeans_inertia(PG_FUNCTION_ARGS)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, ParseKMeans);

	PG_RETURN_FLOAT8(m->inertia);
}

/* uba_kmeans_centroids(model): one row per cluster, centroid in input units */
Datum
uba_kmeans_centroids(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KMeansModel *m;
	double	   *c;

	InitMaterializedSRF(fcinfo, 0);
	m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, ParseKMeans);
	c = palloc(sizeof(double) * m->d);
	for (int i = 0; i < m->k; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		for (int j = 0; j < m->d; j++)
		{
			c[j] = m->centroids[(Size) i * m->d + j];
			if (m->standardize)
				c[j] = c[j] * m->scale[j] + m->mean[j];
		}
		values[0] = Int32GetDatum(i + 1);
		values[1] = Int64GetDatum(m->sizes[i]);
		values[2] = PointerGetDatum(uba_make_float8_array(c, m->d));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
