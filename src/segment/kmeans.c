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
#include "kinds.h"
#include "kmeans.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/float.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_kmeans_transfn);
PG_FUNCTION_INFO_V1(uba_kmeans_final);
PG_FUNCTION_INFO_V1(uba_kmeans_centroids);
PG_FUNCTION_INFO_V1(uba_kmeans_inertia);


const char *const uba_kmeans_init_choices[] = {"k-means++", "random", NULL};

static const UbaOptionSpec kmeans_options[] = {
	UBA_KMEANS_FIT_OPTIONS,
	{"init_centers", UBA_OPT_MATRIX, 0, 0, 0, NULL},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};


/* From this k * d on, distances come from BLAS matrix products */
#define KMEANS_GEMM_MIN 1024

/* Per-lane regions of 8-byte values (doubles, int64), apart by a cache line */
#define LANE_STRIDE(n) UBA_LANE_STRIDE(n, 8)

/* Working state of one training call */
typedef struct KMeansWork
{
	const UbaOptions *o;		/* for progress lines */
	int			run;			/* which of n_init runs, from 1 */
	int			n_init;
	int64		n;
	int			d;
	int			k;
	int			kmax;			/* max(k, k-means++ candidates) */
	int			distw;			/* columns of the block distance buffers */
	const double *X;			/* n x d */
	int32	   *labels;			/* n */
	double	   *mind;			/* n: squared distance to the assigned centre */

	/*
	 * Hamerly's bounds (own kernel only): per row an upper bound on the
	 * distance to its centre and a lower bound on the distance to any
	 * other; per centre how far it moved and half the distance to the
	 * nearest other centre.
	 */
	bool		bounded;		/* Lloyd iterations use the bounds */
	bool		bounds_valid;	/* ub and lb hold for the current labels */
	double	   *ub;				/* n: the upper bound less cum_move[label] */
	double	   *lb;				/* n: the lower bound plus cum_max */
	double	   *cum_move;		/* k: how far each centre moved since the bounds were set */
	double		cum_max;		/* the sum of each update's largest move */
	double	   *shalf;			/* k */
	int64		nblocks;
	int			block_rows;
	bool		use_gemm;
	int			nthreads;
	UbaRandom	rng;

	/* per lane partial results, reduced in lane order */
	double	   *lane_sums;		/* UBA_LANES x k x d */
	int64	   *lane_counts;	/* UBA_LANES x k */
	double	   *lane_acc;		/* UBA_LANES x kmax: inertia or candidate potentials */
	int64	   *lane_changed;	/* UBA_LANES */
	int32	   *lane_todo;		/* UBA_LANES x block_rows: rows a bounded step recomputes */
	double	   *cum;			/* n: k-means++'s running sums of mind */
	double	   *cand_mind;		/* candidates x n: mind with each k-means++ candidate added */
	double	   *lane_dist;		/* UBA_LANES x block_rows x kmax: a block's distances */
	double	   *gemm_buf;		/* block_rows x k (BLAS path, backend thread only) */

	/* reduced results */
	double	   *sums;			/* k x d */
	int64	   *counts;			/* k */
	double		inertia;

	/* the centres of the current pass */
	const double *centers;		/* m x d */
	double	   *ct;				/* d x kmax: centres transposed for the kernel */
	double	   *cnorm;			/* kmax */
	int			m;				/* number of centres in this pass */
	bool		update;			/* accumulate sums and counts */
} KMeansWork;

/* ---------- training ---------- */

/* uba_kmeans(features, k [, options]) transition: collect the row */
Datum
uba_kmeans_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);

	PG_RETURN_POINTER(uba_rowset_collect_k(fcinfo, rs, kmeans_options, lengthof(kmeans_options), KMEANS_MAX_K, "uba_kmeans"));
}

/* Centres are stored transposed in groups of this many (padded with zeros) */
#define KMEANS_LANE_WIDTH 8

/*
 * Squared distances from x to m centres stored transposed (d x mp, mp = m
 * rounded up to KMEANS_LANE_WIDTH).  The fixed-width inner loop keeps its
 * accumulators in vector registers; it runs across centres, so no sum is
 * reassociated: each distance is added up over j in order, exactly as
 * uba_sqdist() does, and training and scoring agree to the last bit.
 */
#if defined(__GNUC__)
/* Four doubles as one value; the compiler maps it to AVX2, or to SSE2 pairs */
typedef double UbaV4 __attribute__((vector_size(32)));
#endif

UBA_TARGET_CLONES
static void
SqDistances(const double *restrict x, const double *restrict ct, int d, int m,
			double *restrict out)
{
	int			mp = (m + KMEANS_LANE_WIDTH - 1) / KMEANS_LANE_WIDTH * KMEANS_LANE_WIDTH;

	for (int c0 = 0; c0 < m; c0 += KMEANS_LANE_WIDTH)
	{
		double		acc[KMEANS_LANE_WIDTH];
#if defined(__GNUC__)
		UbaV4		a0 = {0, 0, 0, 0},
					a1 = {0, 0, 0, 0};

		for (int j = 0; j < d; j++)
		{
			UbaV4		xj = {x[j], x[j], x[j], x[j]};
			UbaV4		r0,
						r1,
						t0,
						t1;

			memcpy(&r0, ct + (Size) j * mp + c0, sizeof(r0));
			memcpy(&r1, ct + (Size) j * mp + c0 + 4, sizeof(r1));
			t0 = xj - r0;
			t1 = xj - r1;
			a0 += t0 * t0;
			a1 += t1 * t1;
		}
		memcpy(acc, &a0, sizeof(a0));
		memcpy(acc + 4, &a1, sizeof(a1));
#else
		for (int c = 0; c < KMEANS_LANE_WIDTH; c++)
			acc[c] = 0;
		for (int j = 0; j < d; j++)
			for (int c = 0; c < KMEANS_LANE_WIDTH; c++)
			{
				double		t = x[j] - ct[(Size) j * mp + c0 + c];

				acc[c] += t * t;
			}
#endif
		for (int c = 0; c < KMEANS_LANE_WIDTH && c0 + c < m; c++)
			out[c0 + c] = acc[c];
	}
}

/*
 * SqDistances() for 4 rows at once: the rows' sums are independent chains
 * the CPU overlaps, where one row's chain of dependent additions would
 * leave it waiting.  Each distance is still added up in the same order.
 */
UBA_TARGET_CLONES
static void
SqDistances4(const double *restrict x, const double *restrict ct, int d, int m,
			 double *restrict out)
{
#if defined(__GNUC__)
	int			mp = (m + KMEANS_LANE_WIDTH - 1) / KMEANS_LANE_WIDTH * KMEANS_LANE_WIDTH;

	for (int c0 = 0; c0 < m; c0 += KMEANS_LANE_WIDTH)
	{
		UbaV4		a[4][2];
		double		acc[KMEANS_LANE_WIDTH];

		memset(a, 0, sizeof(a));
		for (int j = 0; j < d; j++)
		{
			UbaV4		r0,
						r1;

			memcpy(&r0, ct + (Size) j * mp + c0, sizeof(r0));
			memcpy(&r1, ct + (Size) j * mp + c0 + 4, sizeof(r1));
			for (int r = 0; r < 4; r++)
			{
				double		v = x[(Size) r * d + j];
				UbaV4		xj = {v, v, v, v};
				UbaV4		t0 = xj - r0;
				UbaV4		t1 = xj - r1;

				a[r][0] += t0 * t0;
				a[r][1] += t1 * t1;
			}
		}
		for (int r = 0; r < 4; r++)
		{
			memcpy(acc, &a[r][0], sizeof(UbaV4));
			memcpy(acc + 4, &a[r][1], sizeof(UbaV4));
			for (int c = 0; c < KMEANS_LANE_WIDTH && c0 + c < m; c++)
				out[(Size) r * m + c0 + c] = acc[c];
		}
	}
#else
	for (int r = 0; r < 4; r++)
		SqDistances(x + (Size) r * d, ct, d, m, out + (Size) r * m);
#endif
}

/* Squared distances of rows i0 .. i1-1 to the pass's centres, 4 rows at a time */
static inline void
BlockDistances(const KMeansWork *w, int64 i0, int64 i1, double *dist)
{
	int64		i = i0;

	for (; i + 4 <= i1; i += 4)
		SqDistances4(w->X + (Size) i * w->d, w->ct, w->d, w->m, dist + (Size) (i - i0) * w->m);
	for (; i < i1; i++)
		SqDistances(w->X + (Size) i * w->d, w->ct, w->d, w->m, dist + (Size) (i - i0) * w->m);
}

/* Prepare the centres of a pass: transposed copy, or norms for BLAS */
static void
SetCenters(KMeansWork *w, const double *centers, int m)
{
	int			mp = (m + KMEANS_LANE_WIDTH - 1) / KMEANS_LANE_WIDTH * KMEANS_LANE_WIDTH;

	w->centers = centers;
	w->m = m;
	memset(w->ct, 0, sizeof(double) * mp * w->d);
	for (int c = 0; c < m; c++)
	{
		double		s = 0;

		for (int j = 0; j < w->d; j++)
		{
			double		v = centers[(Size) c * w->d + j];

			w->ct[(Size) j * mp + c] = v;
			s += v * v;
		}
		w->cnorm[c] = s;
	}
}

/* Square roots of two arrays, in a loop the compiler vectorizes */
UBA_TARGET_CLONES
static void
SqrtBlock(double *restrict a, double *restrict b, int64 n)
{
	for (int64 i = 0; i < n; i++)
	{
		a[i] = sqrt(a[i]);
		b[i] = sqrt(b[i]);
	}
}

/*
 * The nearest of k squared distances (the first of equal ones), its
 * distance, and the distance of the next nearest (infinity for k = 1)
 */
static inline int
NearestTwo(const double *dr, int k, double *bestd, double *second)
{
	int			best = 0;
	double		b = dr[0],
				s = get_float8_infinity();

	for (int c = 1; c < k; c++)
		if (dr[c] < b)
		{
			s = b;
			b = dr[c];
			best = c;
		}
		else if (dr[c] < s)
			s = dr[c];
	*bestd = b;
	*second = s;
	return best;
}

/* Assign the rows of one block to their nearest centre (runs on any thread) */
static void
AssignBlock(void *arg, int64 block, int lane)
{
	KMeansWork *w = (KMeansWork *) arg;
	int			k = w->k;
	int			d = w->d;
	int64		i0 = block * w->block_rows;
	int64		i1 = Min(w->n, i0 + w->block_rows);
	double	   *dist = w->lane_dist + (Size) lane * LANE_STRIDE((Size) w->block_rows * w->distw);
	double	   *sums = w->lane_sums + (Size) lane * LANE_STRIDE((Size) k * d);
	int64	   *counts = w->lane_counts + (Size) lane * LANE_STRIDE(k);
	double		inertia = 0;
	int64		changed = 0;

	if (w->use_gemm)
		uba_gemm_abt((int) (i1 - i0), k, d, -2.0, w->X + (Size) i0 * d, w->centers,
					 0.0, w->gemm_buf);
	else
		BlockDistances(w, i0, i1, dist);

	for (int64 i = i0; i < i1; i++)
	{
		const double *x = w->X + (Size) i * d;
		int			best = 0;
		double		bestd;

		if (w->use_gemm)
		{
			/* ||x||^2 is the same for every centre, so leave it out of the argmin */
			const double *g = w->gemm_buf + (Size) (i - i0) * k;
			double		bestv = g[0] + w->cnorm[0];

			for (int c = 1; c < k; c++)
				if (g[c] + w->cnorm[c] < bestv)
				{
					bestv = g[c] + w->cnorm[c];
					best = c;
				}
			bestd = uba_sqdist(x, w->centers + (Size) best * d, d);
		}
		else
		{
			double		second;

			best = NearestTwo(dist + (Size) (i - i0) * k, k, &bestd, &second);
			if (w->bounded && w->update)
			{
				/* squared for now: the square roots come below, a block at a time */
				w->ub[i] = bestd;
				w->lb[i] = second;
			}
		}
		w->mind[i] = bestd;
		inertia += bestd;
		if (w->labels[i] != best)
		{
			changed++;
			w->labels[i] = best;
		}
		if (w->update)
		{
			double	   *s = sums + (Size) best * d;

			for (int j = 0; j < d; j++)
				s[j] += x[j];
			counts[best]++;
		}
	}
	if (w->bounded && w->update)
		SqrtBlock(w->ub + i0, w->lb + i0, i1 - i0);
	w->lane_acc[(Size) lane * LANE_STRIDE(w->kmax)] += inertia;
	w->lane_changed[(Size) lane * LANE_STRIDE(1)] += changed;
}

/*
 * Run fn over every block on nthreads threads, and reduce the m sums each
 * lane accumulates (inertia, candidates' potentials) in lane order into
 * out, so the result does not depend on the threads.  Rows that changed
 * cluster are counted per lane too (LaneChanged).
 */
static void
LanePass(KMeansWork *w, UbaBlockFn fn, int nthreads, int m, double *out)
{
	memset(w->lane_acc, 0, sizeof(double) * UBA_LANES * LANE_STRIDE(w->kmax));
	memset(w->lane_changed, 0, sizeof(int64) * UBA_LANES * LANE_STRIDE(1));
	uba_run_lanes(w->nblocks, UBA_LANES, nthreads, fn, w);
	for (int t = 0; t < m; t++)
	{
		out[t] = 0;
		for (int l = 0; l < UBA_LANES; l++)
			out[t] += w->lane_acc[(Size) l * LANE_STRIDE(w->kmax) + t];
	}
}

/* Rows that changed cluster in the last LanePass */
static int64
LaneChanged(const KMeansWork *w)
{
	int64		changed = 0;

	for (int l = 0; l < UBA_LANES; l++)
		changed += w->lane_changed[(Size) l * LANE_STRIDE(1)];
	return changed;
}

/* Zero the lanes' cluster sums and counts before a pass adds to them */
static void
ClearLaneSums(KMeansWork *w)
{
	memset(w->lane_sums, 0, sizeof(double) * UBA_LANES * LANE_STRIDE((Size) w->k * w->d));
	memset(w->lane_counts, 0, sizeof(int64) * UBA_LANES * LANE_STRIDE(w->k));
}

/* Add the lanes' cluster sums and counts to the run's, in lane order */
static void
AddLaneSums(KMeansWork *w)
{
	for (int l = 0; l < UBA_LANES; l++)
	{
		const double *ls = w->lane_sums + (Size) l * LANE_STRIDE((Size) w->k * w->d);
		const int64 *lc = w->lane_counts + (Size) l * LANE_STRIDE(w->k);

		for (Size i = 0; i < (Size) w->k * w->d; i++)
			w->sums[i] += ls[i];
		for (int c = 0; c < w->k; c++)
			w->counts[c] += lc[c];
	}
}

/*
 * Relative slack on Hamerly's bounds: a row keeps its centre unchanged
 * only when the bounds show it nearer than every other centre by more
 * than the rounding of the computed distances could blur (about 1e-15),
 * so its label is what computing every distance would give.
 */
#define BOUND_SLACK 1e-9

/*
 * Whether row i keeps its centre a for certain: its upper bound u (set or
 * tightened by the caller) is below the lower bound on its distance to any
 * other centre, by more than the bounds' rounding.  The stored bounds are
 * offset by the moves since they were set, so they need no writing as the
 * centres move.  Comparisons with NaN are false: a broken bound is
 * recomputed.
 */
static inline bool
BoundKeeps(const KMeansWork *w, int64 i, int a, double u)
{
	double		bound = Max(w->shalf[a], w->lb[i] - w->cum_max);

	return u + BOUND_SLACK * (u + fabs(bound) + w->cum_move[a] + w->cum_max) < bound;
}

/*
 * Hamerly's Lloyd step for one block ("Making k-means even faster", SIAM
 * SDM 2010): a row whose upper bound on the distance to its centre is
 * below half the distance from that centre to any other, or below its
 * lower bound on the distance to any other centre, cannot change
 * cluster, and costs neither a distance nor a read of the row.  The other
 * rows get every distance computed exactly as AssignBlock() does, so the
 * labels equal Lloyd's.  A row that moves adds itself to the lane's
 * changes of the cluster sums; the sums are kept, not recomputed.
 */
static void
BoundedBlock(void *arg, int64 block, int lane)
{
	KMeansWork *w = (KMeansWork *) arg;
	int			k = w->k;
	int			d = w->d;
	int64		i0 = block * w->block_rows;
	int64		i1 = Min(w->n, i0 + w->block_rows);
	double	   *dr = w->lane_dist + (Size) lane * LANE_STRIDE((Size) w->block_rows * w->distw);
	double	   *sums = w->lane_sums + (Size) lane * LANE_STRIDE((Size) k * d);
	int64	   *counts = w->lane_counts + (Size) lane * LANE_STRIDE(k);
	int64		changed = 0;
	int32	   *todo = w->lane_todo + (Size) lane * UBA_LANE_STRIDE(w->block_rows, sizeof(int32));
	int			ntodo = 0;

	/*
	 * First the bounds alone, which reads three small arrays in order; then
	 * the rows they cannot keep, with their data fetched a few rows ahead
	 * (one miss at a time would leave the core waiting for each).
	 */
	for (int64 i = i0; i < i1; i++)
	{
		int			a = w->labels[i];

		todo[ntodo] = (int32) (i - i0);
		ntodo += !BoundKeeps(w, i, a, w->ub[i] + w->cum_move[a]);
	}

	for (int t = 0; t < ntodo; t++)
	{
		int64		i = i0 + todo[t];
		int			a = w->labels[i];
		const double *x = w->X + (Size) i * d;
		int			best;
		double		bestd,
					second;

		if (t + 8 < ntodo)
		{
			const char *ahead = (const char *) (w->X + (Size) (i0 + todo[t + 8]) * d);

			/* the first lines of the row: the hardware fetches the rest */
			for (Size off = 0; off < Min(sizeof(double) * d, 256); off += 64)
				__builtin_prefetch(ahead + off);
		}
		if (k > KMEANS_LANE_WIDTH)
		{
			/* tighten the upper bound first: one distance instead of k */
			double		u = sqrt(uba_sqdist(x, w->centers + (Size) a * d, d));

			if (BoundKeeps(w, i, a, u))
			{
				w->ub[i] = u - w->cum_move[a];
				continue;
			}
		}
		SqDistances(x, w->ct, d, k, dr);
		best = NearestTwo(dr, k, &bestd, &second);
		w->ub[i] = sqrt(bestd) - w->cum_move[best];
		w->lb[i] = sqrt(second) + w->cum_max;
		if (best != a)
		{
			double	   *from = sums + (Size) a * d;
			double	   *to = sums + (Size) best * d;

			for (int j = 0; j < d; j++)
			{
				from[j] -= x[j];
				to[j] += x[j];
			}
			counts[a]--;
			counts[best]++;
			w->labels[i] = best;
			changed++;
		}
	}
	w->lane_changed[(Size) lane * LANE_STRIDE(1)] += changed;
}

/* Squared distance of each row to its assigned centre, and their sum (after a bounded step) */
static void
MindBlock(void *arg, int64 block, int lane)
{
	KMeansWork *w = (KMeansWork *) arg;
	int64		i0 = block * w->block_rows;
	int64		i1 = Min(w->n, i0 + w->block_rows);
	double		inertia = 0;

	for (int64 i = i0; i < i1; i++)
	{
		double		v = uba_sqdist(w->X + (Size) i * w->d,
								   w->centers + (Size) w->labels[i] * w->d, w->d);

		w->mind[i] = v;
		inertia += v;
	}
	w->lane_acc[(Size) lane * LANE_STRIDE(w->kmax)] += inertia;
}

/*
 * A Lloyd step with Hamerly's bounds: labels as AssignRows() gives them,
 * the cluster sums and counts updated by the rows that moved.  Returns
 * how many moved.  Distances and inertia are not known after it
 * (ExactInertia() computes them when needed).
 */
static int64
BoundedAssign(KMeansWork *w, const double *centers)
{
	double		unused;

	SetCenters(w, centers, w->k);
	ClearLaneSums(w);
	LanePass(w, BoundedBlock, w->nthreads, 0, &unused);
	AddLaneSums(w);
	return LaneChanged(w);
}

/* mind and inertia for the current labels and centres (SetCenters done) */
static void
ExactInertia(KMeansWork *w)
{
	LanePass(w, MindBlock, w->nthreads, 1, &w->inertia);
}

/*
 * After the centres moved from old to new: add each one's move and the
 * largest to the moves so far, and take half the distance from each
 * centre to the nearest other.
 */
static void
UpdateBoundTerms(KMeansWork *w, const double *old, const double *new)
{
	int			k = w->k;
	int			d = w->d;
	double		maxmove = 0;

	for (int c = 0; c < k; c++)
	{
		double		m = sqrt(uba_sqdist(old + (Size) c * d, new + (Size) c * d, d));

		w->cum_move[c] += m;
		if (!(m <= maxmove))	/* NaN counts as largest */
			maxmove = m;
	}
	w->cum_max += maxmove;
	for (int c = 0; c < k; c++)
	{
		double		nearest = get_float8_infinity();

		for (int o = 0; o < k; o++)
			if (o != c)
			{
				double		v = uba_sqdist(new + (Size) c * d, new + (Size) o * d, d);

				if (v < nearest)
					nearest = v;
			}
		w->shalf[c] = sqrt(nearest) / 2;
	}
}

/*
 * Assign every row to its nearest centre; with update, also sum the rows
 * of each cluster into w->sums and w->counts.  Sets w->inertia and
 * returns how many labels changed.  Per-lane results are reduced in lane
 * order, so the outcome does not depend on the number of threads.
 */
static int64
AssignRows(KMeansWork *w, const double *centers, bool update)
{
	int			k = w->k;
	int			d = w->d;

	SetCenters(w, centers, k);
	w->update = update;
	if (update && w->bounded)
	{
		/* the bounds set by this pass are exact: nothing has moved since */
		memset(w->cum_move, 0, sizeof(double) * k);
		w->cum_max = 0;
	}
	if (update)
		ClearLaneSums(w);
	/* BLAS is not called from our helper threads; it has threads of its own */
	LanePass(w, AssignBlock, w->use_gemm ? 1 : w->nthreads, 1, &w->inertia);
	if (update)
	{
		memset(w->sums, 0, sizeof(double) * k * d);
		memset(w->counts, 0, sizeof(int64) * k);
		AddLaneSums(w);
	}
	return LaneChanged(w);
}

/*
 * Give each empty cluster the point farthest from its centre, taken from
 * a cluster that keeps at least one point (scikit-learn takes it from any
 * cluster, which can empty another one).
 */
static int64
RelocateEmpty(KMeansWork *w, double *sums, int64 *counts)
{
	int			d = w->d;
	int64		moved = 0;

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
			moved++;
		}
	}
	return moved;
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

/*
 * k-means++: potential of every candidate, the sum over rows of
 * min(closest, distance), and each candidate's new closest distances
 * (cand_mind), in the order a pass of the chosen candidate alone would add
 * them
 */
static void
PotentialBlock(void *arg, int64 block, int lane)
{
	KMeansWork *w = (KMeansWork *) arg;
	int64		i0 = block * w->block_rows;
	int64		i1 = Min(w->n, i0 + w->block_rows);
	double	   *dist = w->lane_dist + (Size) lane * LANE_STRIDE((Size) w->block_rows * w->distw);
	double	   *pot = w->lane_acc + (Size) lane * LANE_STRIDE(w->kmax);

	BlockDistances(w, i0, i1, dist);
	for (int64 i = i0; i < i1; i++)
	{
		double		cl = w->mind[i];
		const double *dr = dist + (Size) (i - i0) * w->m;

		for (int t = 0; t < w->m; t++)
		{
			double		v = Min(cl, dr[t]);

			pot[t] += v;
			w->cand_mind[(Size) t * w->n + i] = v;
		}
	}
}


/* Greedy k-means++: each step keeps the best of 2 + ln k sampled candidates */
static void
InitPlusPlus(KMeansWork *w, double *centers)
{
	int64		n = w->n;
	int			d = w->d;
	int			trials = 2 + (int) log((double) w->k);
	double	   *cum = w->cum;
	double	   *cand = palloc(sizeof(double) * trials * d);
	double	   *pot = palloc(sizeof(double) * trials);
	double		current;
	int64		first = (int64) uba_random_below(&w->rng, (uint64) n);

	memcpy(centers, w->X + (Size) first * d, sizeof(double) * d);
	for (int64 i = 0; i < n; i++)
		w->mind[i] = get_float8_infinity();
	/* the first centre's distances: the candidates' pass with one candidate */
	SetCenters(w, centers, 1);
	LanePass(w, PotentialBlock, w->nthreads, 1, &current);
	memcpy(w->mind, w->cand_mind, sizeof(double) * n);

	for (int c = 1; c < w->k; c++)
	{
		double		acc = 0;
		int			best = 0;

		for (int64 i = 0; i < n; i++)
		{
			acc += w->mind[i];
			cum[i] = acc;
		}
		CHECK_FOR_INTERRUPTS();
		for (int t = 0; t < trials; t++)
		{
			int64		id = SearchCumsum(cum, n, uba_random_double(&w->rng) * current);

			memcpy(cand + (Size) t * d, w->X + (Size) id * d, sizeof(double) * d);
		}
		SetCenters(w, cand, trials);
		LanePass(w, PotentialBlock, w->nthreads, trials, pot);
		for (int t = 1; t < trials; t++)
			if (pot[t] < pot[best])
				best = t;

		/*
		 * The candidate's pass already has the rows' new closest distances
		 * and their sum, added in the order a pass of its own would add them
		 */
		memcpy(centers + (Size) c * d, cand + (Size) best * d, sizeof(double) * d);
		memcpy(w->mind, w->cand_mind + (Size) best * n, sizeof(double) * n);
		current = pot[best];
	}
	pfree(cand);
	pfree(pot);
}

/* Random init: k distinct rows (partial Fisher-Yates shuffle) */
static void
InitRandom(KMeansWork *w, double *centers)
{
	int64	   *perm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * w->n);

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

/* One k-means run from init to convergence; returns inertia */
static double
RunLloyd(KMeansWork *w, bool plusplus, const double *given, int max_iter, double tol,
		 double *centers, int *n_iter)
{
	int			k = w->k;
	int			d = w->d;
	double	   *newc = palloc(sizeof(double) * k * d);
	bool		strict = false;
	bool		full_last = true;
	int			it;

	if (given)
		memcpy(centers, given, sizeof(double) * k * d);
	else if (plusplus)
		InitPlusPlus(w, centers);
	else
		InitRandom(w, centers);
	for (int64 i = 0; i < w->n; i++)
		w->labels[i] = -1;
	w->bounds_valid = false;

	for (it = 0; it < max_iter; it++)
	{
		bool		full = !(w->bounded && w->bounds_valid);
		int64		changed;
		double		shift = 0;
		bool		empty = false;

		/* the first step computes every distance and sets the bounds; later ones use them */
		changed = full ? AssignRows(w, centers, true) : BoundedAssign(w, centers);
		full_last = full;
		for (int c = 0; c < k; c++)
			empty |= w->counts[c] == 0;
		/* a bounded step knows neither distances nor inertia: compute them when needed */
		if (!full && (empty || uba_progress_on(w->o)))
			ExactInertia(w);
		uba_progress(w->o, "uba_kmeans: run %d of %d, iteration %d: inertia %.6g, " INT64_FORMAT " rows changed cluster",
					 w->run, w->n_init, it + 1, w->inertia, changed);
		if (empty)
		{
			changed += RelocateEmpty(w, w->sums, w->counts);	/* a moved point is a change */
			w->bounds_valid = false;	/* a moved point's bounds no longer hold */
		}
		else
			w->bounds_valid = w->bounded;
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
		if (w->bounds_valid)
			UpdateBoundTerms(w, centers, newc);
		memcpy(centers, newc, sizeof(double) * k * d);
		if (changed == 0)
		{
			/* same labels, so the new centres equal the ones just used */
			strict = true;
			break;
		}
		if (shift <= tol)
			break;
	}
	*n_iter = Min(it + 1, max_iter);
	/* labels and inertia must match the final centres (a bounded step has no inertia) */
	if (!strict || !full_last)
		AssignRows(w, centers, false);
	pfree(newc);
	return w->inertia;
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

/*
 * Write the payload: clusters renumbered by size, largest first, so
 * segment numbers stay meaningful across retrains.
 */
void
uba_kmeans_payload(UbaWriter *pw, int k, int d, bool standardize, int iterations,
				   double inertia, const double *mean, const double *scale,
				   const double *centers, const int64 *counts)
{
	int		   *order = palloc(sizeof(int) * k);
	int64	   *sizes = palloc(sizeof(int64) * k);

	for (int c = 0; c < k; c++)
		order[c] = c;
	qsort_arg(order, k, sizeof(int), CompareClusters, (void *) counts);

	uba_writer_init(pw);
	uba_put_u32(pw, (uint32) k);
	uba_put_u32(pw, (uint32) d);
	uba_put_u32(pw, standardize ? KMEANS_FLAG_STANDARDIZE : 0);
	uba_put_u32(pw, (uint32) iterations);
	uba_put_f64(pw, inertia);
	if (standardize)
	{
		uba_put_f64_array(pw, mean, d);
		uba_put_f64_array(pw, scale, d);
	}
	for (int c = 0; c < k; c++)
		uba_put_f64_array(pw, centers + (Size) order[c] * d, d);
	for (int c = 0; c < k; c++)
		sizes[c] = counts[order[c]];
	uba_put_i64_array(pw, sizes, k);
	pfree(order);
	pfree(sizes);
}

/*
 * The centres given by a matrix option (what: its name; k rows of d
 * numbers, in the features' units), in the fitting space (scale NULL:
 * not standardized): k-means' init_centers, a mixture's init_means.
 */
void
uba_kmeans_given_centers(const UbaOptions *o, const char *what, int k, int d, const double *mean,
						 const double *scale, double *centers)
{
	int			rows,
				cols;
	const double *given = uba_option_matrix(o, &rows, &cols);

	if (rows != k || cols != d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must have k = %d rows of %d features", what, k, d),
				 errdetail("Got %d rows of %d.", rows, cols)));
	memcpy(centers, given, sizeof(double) * k * d);
	for (int c = 0; c < k; c++)
		uba_standardize_row(centers + (Size) c * d, d, mean, scale);
}

/*
 * Fit k centres to the n rows of X (the fitting space): n_init runs of
 * Lloyd's iterations from k-means++ or random starts (or the given
 * centres), options as uba_kmeans takes them; the best run by inertia.
 * The workspace is checked against uba.max_memory (with the rows, which
 * the caller holds) and freed; the results are allocated in the caller's
 * context.
 */
void
uba_kmeans_fit(const UbaOptions *o, const double *X, int64 n, int d, int k, double tol,
			   const double *given, UbaKMeansFit *fit)
{
	KMeansWork	w;
	MemoryContext cxt,
				old;
	bool		plusplus = uba_option(o, "init") == 0;
	int			n_init = (int) uba_option(o, "n_init");
	int			max_iter = (int) uba_option(o, "max_iter");
	int			trials,
				kmax,
				distw,
				block_rows;
	bool		use_gemm;
	Size		need;
	double	   *centers;

	fit->centers = palloc(sizeof(double) * k * d);
	fit->counts = palloc0(sizeof(int64) * k);
	fit->labels = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	fit->inertia = get_float8_infinity();
	fit->iterations = 0;

	/* workspace beside the collected rows, checked before allocating */
	trials = 2 + (int) log((double) k);
	kmax = Max(k, trials);
	use_gemm = (int64) k * d >= KMEANS_GEMM_MIN;
	/* the own kernel's distances for a block fill distw columns: BLAS needs them only for k-means++ */
	distw = use_gemm ? trials : kmax;
	block_rows = use_gemm ? (int) Max(64, Min(UBA_BLOCK_ROWS, (1 << 24) / ((int64) k * d)))
		: (int) Max(64, Min(UBA_BLOCK_ROWS, 65536 / distw));
	block_rows = (int) Min((int64) block_rows, Max(n, 4));
	need = mul_size((Size) n, (Size) d * sizeof(double));	/* the rows */
	/* per row: the distance, the two bounds, the label; k-means++'s running sum and candidates' distances */
	need = add_size(need, mul_size((Size) n, 3 * sizeof(double) + sizeof(int32)));
	if (plusplus && given == NULL)
		need = add_size(need, mul_size((Size) n, (1 + trials) * sizeof(double)));
	need = add_size(need, mul_size(UBA_LANES, add_size(mul_size((Size) k, (Size) d * sizeof(double)),
													   add_size(mul_size((Size) kmax, sizeof(double) + sizeof(int64)),
																mul_size((Size) block_rows, (Size) distw * sizeof(double))))));
	need = add_size(need, mul_size((Size) block_rows, (Size) k * sizeof(double)));
	need = add_size(need, mul_size((Size) kmax, (Size) d * 6 * sizeof(double)));
	uba_check_memory(need, "k-means training");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba kmeans", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	memset(&w, 0, sizeof(w));
	w.n = n;
	w.d = d;
	w.k = k;
	w.kmax = kmax;
	w.X = X;
	w.use_gemm = use_gemm;
	w.block_rows = block_rows;
	w.nblocks = (w.n + block_rows - 1) / block_rows;
	w.nthreads = uba_thread_count();
	w.mind = uba_big_alloc(cxt, sizeof(double) * w.n);
	w.labels = uba_big_alloc(cxt, sizeof(int32) * w.n);
	if (plusplus && given == NULL)
	{
		w.cum = uba_big_alloc(cxt, sizeof(double) * w.n);
		w.cand_mind = uba_big_alloc(cxt, mul_size(sizeof(double) * trials, (Size) w.n));
	}
	/* BLAS computes every distance at once: bounds would save it nothing */
	w.bounded = !use_gemm;
	if (w.bounded)
	{
		w.ub = uba_big_alloc(cxt, sizeof(double) * w.n);
		w.lb = uba_big_alloc(cxt, sizeof(double) * w.n);
		w.cum_move = palloc(sizeof(double) * k);
		w.shalf = palloc(sizeof(double) * k);
	}
	w.lane_sums = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * LANE_STRIDE((Size) k * d));
	w.lane_counts = MemoryContextAllocHuge(cxt, sizeof(int64) * UBA_LANES * LANE_STRIDE(k));
	w.lane_acc = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * LANE_STRIDE(kmax));
	w.distw = distw;
	w.lane_dist = MemoryContextAllocHuge(cxt, sizeof(double) * UBA_LANES * LANE_STRIDE((Size) block_rows * distw));
	w.lane_changed = MemoryContextAllocHuge(cxt, sizeof(int64) * UBA_LANES * LANE_STRIDE(1));
	if (w.bounded)
		w.lane_todo = MemoryContextAllocHuge(cxt, sizeof(int32) * UBA_LANES * UBA_LANE_STRIDE(block_rows, sizeof(int32)));
	if (use_gemm)
		w.gemm_buf = MemoryContextAllocHuge(cxt, sizeof(double) * block_rows * k);
	w.sums = MemoryContextAllocHuge(cxt, sizeof(double) * k * d);
	w.counts = MemoryContextAllocHuge(cxt, sizeof(int64) * k);
	w.ct = MemoryContextAllocHuge(cxt, sizeof(double) * (kmax + KMEANS_LANE_WIDTH) * d);
	w.cnorm = MemoryContextAllocHuge(cxt, sizeof(double) * kmax);
	uba_random_seed(&w.rng, (uint64) uba_option(o, "seed"));

	centers = MemoryContextAllocHuge(cxt, sizeof(double) * k * d);

	w.o = o;
	w.n_init = n_init;
	for (int run = 0; run < n_init; run++)
	{
		int			iters;
		double		inertia;

		w.run = run + 1;
		inertia = RunLloyd(&w, plusplus, given, max_iter, tol, centers, &iters);
		uba_progress(o, "uba_kmeans: run %d of %d: inertia %.6g after %d iterations", run + 1, n_init, inertia, iters);

		if (inertia < fit->inertia)
		{
			fit->inertia = inertia;
			fit->iterations = iters;
			memcpy(fit->centers, centers, sizeof(double) * k * d);
			memset(fit->counts, 0, sizeof(int64) * k);
			for (int64 i = 0; i < w.n; i++)
				fit->counts[w.labels[i]]++;
			memcpy(fit->labels, w.labels, sizeof(int32) * n);
		}
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * k-means as uba_kmeans(rows, k, '{"seed": seed}') fits it: k-means++,
 * one run, the default tolerance (a Gaussian mixture's start).
 */
void
uba_kmeans_seeded(const double *X, int64 n, int d, int k, uint64 seed, UbaKMeansFit *fit)
{
	UbaOptions	o;
	double		tol = 0;

	uba_parse_options(NULL, kmeans_options, lengthof(kmeans_options), "uba_kmeans", &o);
	uba_option_set(&o, "seed", (double) (seed % 2147483648u));
	for (int j = 0; j < d; j++)
	{
		double		s = 0,
					ss = 0;

		for (int64 i = 0; i < n; i++)
		{
			s += X[(Size) i * d + j];
			ss += X[(Size) i * d + j] * X[(Size) i * d + j];
		}
		tol += Max(0.0, ss / (double) n - (s / (double) n) * (s / (double) n));
	}
	tol = uba_option(&o, "tol") * tol / d;
	uba_kmeans_fit(&o, X, n, d, k, tol, NULL, fit);
}

/* uba_kmeans final function: train and return the model */
Datum
uba_kmeans_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MemoryContext cxt,
				old;
	int			k,
				d;
	bool		plusplus,
				standardize;
	double		tol;
	double	   *given = NULL,
			   *mean = NULL,
			   *var,
			   *scale = NULL;
	UbaKMeansFit fit;
	UbaWriter	pw;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();

	k = rs->iparam;
	/* typed rows are encoded when they are ordered: the features are known from then on */
	if (rs->enc != NULL)
		uba_rowset_canonical_order(rs);
	d = rs->dim;
	if (k > rs->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k (%d) is larger than the number of rows (" INT64_FORMAT ")", k, rs->n),
				 errhint("Choose a k no larger than the number of rows being clustered.")));

	uba_parse_row_options(rs->options, kmeans_options, lengthof(kmeans_options), "uba_kmeans",
						  rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	plusplus = uba_option(&o, "init") == 0;
	if (o.matrix != NULL && uba_option_given(&o, "n_init") && uba_option(&o, "n_init") > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_init must be 1 when init_centers are given"),
				 errdetail("Every run would start from the same centres.")));
	if (!uba_option_given(&o, "n_init"))
		uba_option_set(&o, "n_init", plusplus || o.matrix != NULL ? 1 : 10);	/* scikit-learn's "auto" */
	standardize = uba_option(&o, "standardize") != 0;

	/* the model must fit in a bytea: centroids, sizes, scaling and a little metadata */
	if (((double) k * d + k + 2.0 * d) * sizeof(double) + 4096 > (double) MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a k-means model with %d clusters of %d features would exceed the 1 GB a model can hold", k, d),
				 errhint("Use fewer clusters or fewer features.")));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba kmeans", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);
	uba_check_feature_scale(rs->mean, rs->var, d, rs->enc ? rs->enc->feature_names : o.names);

	/*
	 * Fewer distinct points than k leaves clusters that can only repeat a
	 * point, as scikit-learn warns: equal rows are adjacent once ordered.
	 */
	{
		int64		distinct = rs->n > 0 ? 1 : 0;

		for (int64 i = 1; i < rs->n && distinct < k; i++)
			if (memcmp(rs->x + (Size) i * d, rs->x + (Size) (i - 1) * d, sizeof(double) * d) != 0)
				distinct++;
		if (distinct < k)
			ereport(WARNING,
					(errmsg_plural("uba_kmeans found " INT64_FORMAT " distinct point, fewer than k = %d",
								   "uba_kmeans found " INT64_FORMAT " distinct points, fewer than k = %d",
								   distinct, distinct, k),
					 errdetail("Some clusters are copies of the same point."),
					 errhint("Choose a k no larger than the number of distinct points.")));
	}

	/* scikit-learn's tolerance: tol times the mean feature variance (after scaling) */
	tol = 0;
	if (standardize || uba_option(&o, "tol") > 0)
	{
		mean = palloc(sizeof(double) * d);
		var = palloc(sizeof(double) * d);
		uba_rowset_moments(rs, mean, var);
		if (standardize)
		{
			scale = palloc(sizeof(double) * d);
			uba_standardize(rs->x, rs->n, d, mean, var, scale);
		}
		for (int j = 0; j < d; j++)
			tol += var[j];
		tol = uba_option(&o, "tol") * tol / d;
	}

	if (o.matrix != NULL)
	{
		given = palloc(sizeof(double) * k * d);
		uba_kmeans_given_centers(&o, "init_centers", k, d, mean, scale, given);
	}
	uba_kmeans_fit(&o, rs->x, rs->n, d, k, tol, given, &fit);

	uba_kmeans_payload(&pw, k, d, standardize, fit.iterations, fit.inertia, mean, scale,
					   fit.centers, fit.counts);
	MemoryContextSwitchTo(old);
	result = uba_rowset_model(UBA_KIND_KMEANS, rs, &o, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading and scoring ---------- */

/* Parse and fully validate a k-means payload */
void *
uba_kmeans_parse(const UbaModelMeta *meta, UbaReader *r)
{
	KMeansModel *m = uba_kmeans_parse_part(meta, r);

	uba_reader_finish(r);
	return m;
}

/* The same, for a k-means payload inside another (a k sweep's): what follows is not read */
KMeansModel *
uba_kmeans_parse_part(const UbaModelMeta *meta, UbaReader *r)
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
		uba_get_scaling(r, m->d, &m->mean, &m->scale);
	/* sizes are checked against what remains before allocating */
	uba_reader_check_space(r, (Size) m->k * m->d, sizeof(double));
	m->centroids = palloc(sizeof(double) * m->k * m->d);
	uba_get_f64_array(r, m->centroids, (Size) m->k * m->d, true);
	uba_reader_check_space(r, (Size) m->k, sizeof(int64));
	m->sizes = palloc(sizeof(int64) * m->k);
	uba_get_i64_array(r, m->sizes, m->k);
	for (int c = 0; c < m->k; c++)
	{
		/* each size and the running total stay within n_rows: no overflow */
		if (m->sizes[c] < 0 || m->sizes[c] > meta->n_rows - total)
			uba_model_corrupted("Cluster size out of range.");
		total += m->sizes[c];
	}
	if (total != meta->n_rows)
		uba_model_corrupted("Cluster sizes do not add up to the training rows.");
	m->scratch = palloc(sizeof(double) * m->d);
	m->enc = meta->encoding;
	return m;
}

/* Summary for uba_model_info() */
void
uba_kmeans_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	KMeansModel *m = uba_kmeans_parse(meta, payload);

	appendStringInfo(json, ", \"k\": %d, \"inertia\": %.17g, \"iterations\": %d, "
					 "\"standardized\": %s, \"cluster_sizes\": [",
					 m->k, m->inertia, m->n_iter, m->standardize ? "true" : "false");
	for (int c = 0; c < m->k; c++)
		appendStringInfo(json, "%s" INT64_FORMAT, c > 0 ? ", " : "", m->sizes[c]);
	appendStringInfoChar(json, ']');
}

/* A feature array in the model's fitting space (z-scores when it was standardized), in m->scratch */
static double *
ToFittingSpace(KMeansModel *m, FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	double	   *x = m->scratch;

	uba_read_features_arg(fcinfo, 1, form, m->enc, x, m->d);
	uba_standardize_row(x, m->d, m->mean, m->scale);
	return x;
}

/* Nearest centroid (0-based) of a feature array; sets *sqdist */
static int
Nearest(KMeansModel *m, FunctionCallInfo fcinfo, UbaFeatureForm form, double *sqdist)
{
	return uba_nearest_center(ToFittingSpace(m, fcinfo, form), m->centroids, m->k, m->d, sqdist);
}

/* uba_kmeans_assign(model, features) returns the cluster number, 1..k */
static Datum
Assign(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, uba_kmeans_parse);
	double		dist;

	PG_RETURN_INT32(Nearest(m, fcinfo, form, &dist) + 1);
}

UBA_FEATURE_FORMS(uba_kmeans_assign, Assign)

/* uba_kmeans_distance(model, features): Euclidean distance to the nearest centroid */
static Datum
Distance(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, uba_kmeans_parse);
	double		dist;

	Nearest(m, fcinfo, form, &dist);
	PG_RETURN_FLOAT8(sqrt(dist));
}

UBA_FEATURE_FORMS(uba_kmeans_distance, Distance)

/*
 * uba_kmeans_transform(model, features) returns float8[]: the features as
 * the model clustered them (z-scored with the training rows' means and
 * standard deviations when it was trained with "standardize"), so quality
 * measures and distances can be computed on the model's own scale.
 */
static Datum
Transform(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, uba_kmeans_parse);

	PG_RETURN_ARRAYTYPE_P(uba_make_float8_array(ToFittingSpace(m, fcinfo, form), m->d));
}

UBA_FEATURE_FORMS(uba_kmeans_transform, Transform)

/* uba_kmeans_inertia(model): within-cluster sum of squares of the training rows */
Datum
uba_kmeans_inertia(PG_FUNCTION_ARGS)
{
	KMeansModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, uba_kmeans_parse);

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
	m = uba_model_cached(fcinfo, 0, UBA_KIND_KMEANS, uba_kmeans_parse);
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
