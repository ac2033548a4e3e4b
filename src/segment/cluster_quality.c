/*-------------------------------------------------------------------------
 *
 * cluster_quality.c
 *	  Cluster quality measures as aggregates over (features, cluster):
 *	  silhouette coefficient and Davies-Bouldin index, with the same
 *	  definitions and edge cases as scikit-learn's silhouette_score and
 *	  davies_bouldin_score.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "cluster_quality.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_silhouette_transfn);
PG_FUNCTION_INFO_V1(uba_silhouette_final);
PG_FUNCTION_INFO_V1(uba_davies_bouldin_transfn);
PG_FUNCTION_INFO_V1(uba_davies_bouldin_final);
PG_FUNCTION_INFO_V1(uba_calinski_harabasz_transfn);
PG_FUNCTION_INFO_V1(uba_calinski_harabasz_final);

/* Silhouette is O(n^2): exact up to sample_size rows, then a seeded sample */
static const UbaOptionSpec silhouette_options[] = {
	{"sample_size", UBA_OPT_INT, 10000, 2, 1000000, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
};

/* Shared transition: collect (features, cluster); skip rows with a NULL */
static Datum
CollectLabelled(FunctionCallInfo fcinfo, const UbaOptionSpec *specs, int nspecs,
				const char *funcname)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(rs);
	if (rs == NULL)
	{
		Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
		UbaOptions	o;

		uba_parse_options(opts, specs, nspecs, funcname, &o);
		rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(1), true, 0, opts);
	}
	else
		uba_check_same_options(rs->options, (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL);
	uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(1), (double) PG_GETARG_INT32(2));
	PG_RETURN_POINTER(rs);
}

/* uba_silhouette(features, cluster [, options]) transition */
Datum
uba_silhouette_transfn(PG_FUNCTION_ARGS)
{
	return CollectLabelled(fcinfo, silhouette_options, lengthof(silhouette_options),
						   "uba_silhouette");
}

/* uba_davies_bouldin(features, cluster) transition */
Datum
uba_davies_bouldin_transfn(PG_FUNCTION_ARGS)
{
	return CollectLabelled(fcinfo, NULL, 0, "uba_davies_bouldin");
}

/* uba_calinski_harabasz(features, cluster) transition */
Datum
uba_calinski_harabasz_transfn(PG_FUNCTION_ARGS)
{
	return CollectLabelled(fcinfo, NULL, 0, "uba_calinski_harabasz");
}

/* Zeroed huge allocation in the current context */
static void *
MemoryContextAllocHugeZero(Size size)
{
	void	   *p = MemoryContextAllocHuge(CurrentMemoryContext, size);

	memset(p, 0, size);
	return p;
}

/* Compare doubles for qsort */
static int
CompareDouble(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * Map the cluster values of rows idx[0..m) to 0..L-1; returns L.  Both
 * measures need 2 <= L <= m - 1, as scikit-learn requires.
 */
static int
DenseLabels(const double *y, const int64 *idx, int64 m, int *lab, const char *funcname)
{
	double	   *u = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * m);
	int64		L = 0;

	for (int64 i = 0; i < m; i++)
		u[i] = y[idx ? idx[i] : i];
	CHECK_FOR_INTERRUPTS();
	qsort(u, m, sizeof(double), CompareDouble);
	CHECK_FOR_INTERRUPTS();
	for (int64 i = 0; i < m; i++)
		if (i == 0 || u[i] != u[L - 1])
			u[L++] = u[i];
	if (L < 2 || L > m - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs at least 2 clusters and fewer clusters than rows", funcname),
				 errdetail("Got %lld distinct clusters in %lld rows.", (long long) L, (long long) m)));
	for (int64 i = 0; i < m; i++)
	{
		double		v = y[idx ? idx[i] : i];

		lab[i] = (int) ((double *) bsearch(&v, u, L, sizeof(double), CompareDouble) - u);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(u);
	return (int) L;
}

/* Euclidean distance */
static inline double
Dist(const double *a, const double *b, int d)
{
	return sqrt(uba_sqdist(a, b, d));
}

/*
 * m rows drawn from n without replacement (a partial Fisher-Yates shuffle
 * from the seed), in the order drawn; silhouette's sample.
 */
int64 *
uba_cluster_sample(int64 n, int64 m, uint64 seed)
{
	UbaRandom	rng;
	int64	   *perm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n);

	uba_random_seed(&rng, seed);
	for (int64 i = 0; i < n; i++)
		perm[i] = i;
	for (int64 i = 0; i < m; i++)
	{
		int64		j = i + (int64) uba_random_below(&rng, (uint64) (n - i));
		int64		t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	return perm;
}

/*
 * Mean silhouette coefficient of m rows of X (rows idx[0..m), or the
 * first m when idx is NULL) with clusters lab[0..m) in 0..L-1, each
 * present: exact, O(m^2 d).  A singleton cluster's row scores 0.
 */
double
uba_cluster_silhouette(const double *X, int d, const int64 *idx, int64 m, const int *lab, int L)
{
	int64	   *cnt = palloc0(sizeof(int64) * L);
	double	   *sums = palloc(sizeof(double) * L);
	double		total = 0;

	for (int64 i = 0; i < m; i++)
		cnt[lab[i]]++;
	for (int64 i = 0; i < m; i++)
	{
		const double *xi = X + (Size) (idx ? idx[i] : i) * d;
		double		a,
					b = get_float8_infinity();
		int			li = lab[i];

		CHECK_FOR_INTERRUPTS();
		memset(sums, 0, sizeof(double) * L);
		for (int64 j = 0; j < m; j++)
			sums[lab[j]] += Dist(xi, X + (Size) (idx ? idx[j] : j) * d, d);
		if (cnt[li] <= 1)
			continue;			/* a singleton cluster scores 0 */
		a = sums[li] / (double) (cnt[li] - 1);
		for (int l = 0; l < L; l++)
			if (l != li && sums[l] / (double) cnt[l] < b)
				b = sums[l] / (double) cnt[l];
		if (Max(a, b) > 0)
			total += (b - a) / Max(a, b);
	}
	pfree(cnt);
	pfree(sums);
	return total / (double) m;
}

/* uba_silhouette final: mean silhouette coefficient */
Datum
uba_silhouette_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	int64		m;
	int64	   *idx = NULL;
	int		   *lab;
	int			L;
	double		score;
	MemoryContext cxt,
				old;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(rs->options, silhouette_options, lengthof(silhouette_options),
					  "uba_silhouette", &o);
	m = Min(rs->n, (int64) uba_option(&o, "sample_size"));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba silhouette", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);
	if (m < rs->n)
		idx = uba_cluster_sample(rs->n, m, (uint64) uba_option(&o, "seed"));
	lab = palloc(sizeof(int) * m);
	L = DenseLabels(rs->y, idx, m, lab, "uba_silhouette");
	score = uba_cluster_silhouette(rs->x, rs->dim, idx, m, lab, L);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	PG_RETURN_FLOAT8(score);
}

/*
 * Each cluster's size (*cnt) and centroid (*cent, L x d) from the rows
 * of X and their clusters lab (0..L-1, each present).
 */
static void
Centroids(const double *X, int64 n, int d, const int *lab, int L, int64 **cnt, double **cent)
{
	/* L centroids take no more than the rows did, which uba.max_memory allowed */
	*cnt = MemoryContextAllocHugeZero(sizeof(int64) * L);
	*cent = MemoryContextAllocHugeZero(mul_size((Size) L, (Size) d * sizeof(double)));
	for (int64 i = 0; i < n; i++)
	{
		(*cnt)[lab[i]]++;
		for (int j = 0; j < d; j++)
			(*cent)[(Size) lab[i] * d + j] += X[(Size) i * d + j];
	}
	for (int l = 0; l < L; l++)
		for (int j = 0; j < d; j++)
			(*cent)[(Size) l * d + j] /= (double) (*cnt)[l];
}

/*
 * The rows of an aggregate in canonical order (sums in a fixed order:
 * exact reproducibility) and their clusters as 0..L-1 (*lab); returns L.
 */
static int
OrderedLabels(UbaRowSet *rs, const char *funcname, int **lab)
{
	uba_rowset_canonical_order(rs);
	*lab = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * rs->n);
	return DenseLabels(rs->y, NULL, rs->n, *lab, funcname);
}

/* Davies-Bouldin index of rows with clusters 0..L-1 (lower is better), as scikit-learn's */
double
uba_cluster_davies_bouldin(const double *X, int64 n, int d, const int *lab, int L)
{
	int64	   *cnt;
	double	   *cent,
			   *intra;
	double		score = 0;
	bool		intra_zero = true,
				cent_zero = true;

	Centroids(X, n, d, lab, L, &cnt, &cent);
	intra = MemoryContextAllocHugeZero(sizeof(double) * L);
	for (int64 i = 0; i < n; i++)
	{
		intra[lab[i]] += Dist(X + (Size) i * d, cent + (Size) lab[i] * d, d);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int l = 0; l < L; l++)
	{
		intra[l] /= (double) cnt[l];
		if (fabs(intra[l]) > 1e-8)
			intra_zero = false;
	}
	for (int a = 0; a < L && cent_zero; a++)
		for (int b = 0; b < L; b++)
			if (Dist(cent + (Size) a * d, cent + (Size) b * d, d) > 1e-8)
			{
				cent_zero = false;
				break;
			}
	if (intra_zero || cent_zero)
		return 0.0;

	for (int a = 0; a < L; a++)
	{
		double		worst = 0;

		CHECK_FOR_INTERRUPTS();
		for (int b = 0; b < L; b++)
		{
			double		sep = Dist(cent + (Size) a * d, cent + (Size) b * d, d);

			if (sep > 0 && (intra[a] + intra[b]) / sep > worst)
				worst = (intra[a] + intra[b]) / sep;
		}
		score += worst;
	}
	return score / L;
}

/* uba_davies_bouldin final: Davies-Bouldin index (lower is better) */
Datum
uba_davies_bouldin_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	int		   *lab;
	int			L;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	L = OrderedLabels(rs, "uba_davies_bouldin", &lab);
	PG_RETURN_FLOAT8(uba_cluster_davies_bouldin(rs->x, rs->n, rs->dim, lab, L));
}

/*
 * Calinski-Harabasz index (variance ratio criterion), as scikit-learn's
 * calinski_harabasz_score: the spread of the centroids around the mean,
 * weighted by cluster size, over the spread of the rows around their
 * centroids, each per degree of freedom: B (n - L) / (W (L - 1)); 1 when
 * W is 0.  Higher is better.
 */
double
uba_cluster_calinski_harabasz(const double *X, int64 n, int d, const int *lab, int L)
{
	int64	   *cnt;
	double	   *cent,
			   *mean;
	double		between = 0,
				within = 0;

	Centroids(X, n, d, lab, L, &cnt, &cent);
	/* the mean of all rows: the centroids weighted by their sizes */
	mean = MemoryContextAllocHugeZero(sizeof(double) * d);
	for (int l = 0; l < L; l++)
		for (int j = 0; j < d; j++)
			mean[j] += cent[(Size) l * d + j] * (double) cnt[l];
	for (int j = 0; j < d; j++)
		mean[j] /= (double) n;
	for (int l = 0; l < L; l++)
		between += (double) cnt[l] * uba_sqdist(cent + (Size) l * d, mean, d);
	for (int64 i = 0; i < n; i++)
	{
		within += uba_sqdist(X + (Size) i * d, cent + (Size) lab[i] * d, d);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (within == 0)
		return 1.0;
	return between * (double) (n - L) / (within * (double) (L - 1));
}

/* uba_calinski_harabasz final */
Datum
uba_calinski_harabasz_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	int		   *lab;
	int			L;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	L = OrderedLabels(rs, "uba_calinski_harabasz", &lab);
	PG_RETURN_FLOAT8(uba_cluster_calinski_harabasz(rs->x, rs->n, rs->dim, lab, L));
}
