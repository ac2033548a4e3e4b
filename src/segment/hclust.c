/*-------------------------------------------------------------------------
 *
 * hclust.c
 *	  Agglomerative (hierarchical) clustering: uba_hclust(features
 *	  [, options]) merges the rows pairwise into a tree, uba_hclust_merges
 *	  lists the merges as scipy's linkage matrix does (a dendrogram),
 *	  uba_hclust_cut cuts the tree into k clusters or at a height, and
 *	  uba_hclust_assign labels rows by their nearest training row.
 *
 * Rows are the tree's leaves in the aggregate's input order, so that
 * uba_hclust(features ORDER BY id) numbers them 0..n-1 by id (the
 * aggregate is not split across parallel workers, which would reorder
 * them).  The merges are scipy's: the nearest-neighbour chain for Ward,
 * complete and average linkage, a minimum spanning tree (Prim) for single
 * linkage, then the merges sorted by height (stably) and their clusters
 * numbered as scipy's linkage numbers them (leaves 0..n-1, the cluster of
 * merge i n + i, the smaller id first).  Complete and average linkage keep
 * the n (n - 1) / 2 pairwise distances (Lance-Williams updates); Ward
 * keeps cluster centroids instead (its distance is sqrt(2 na nb / (na +
 * nb)) |ca - cb|, what scipy's updates compute) and single linkage none:
 * both take memory linear in n, and time n^2 (d) for all.
 *
 * Payload: flags (u32: 1 standardize), linkage (u32), metric (u32), the
 * merges (left and right ids i64 x (n - 1) each, heights f64 x (n - 1),
 * sizes i64 x (n - 1)), the scaling (with standardize), the rows in the
 * fitting space (f64 x d each, in leaf order).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_hclust_transfn);
PG_FUNCTION_INFO_V1(uba_hclust_final);
PG_FUNCTION_INFO_V1(uba_hclust_merges);
PG_FUNCTION_INFO_V1(uba_hclust_cut);

#define FLAG_STANDARDIZE 1
#define LINK_WARD 0
#define LINK_COMPLETE 1
#define LINK_AVERAGE 2
#define LINK_SINGLE 3
#define METRIC_EUCLIDEAN 0
#define METRIC_MANHATTAN 1
#define METRIC_COSINE 2
/* n^2 time: beyond this a call would run for hours */
#define HCLUST_MAX_ROWS 200000

static const char *const linkage_choices[] = {"ward", "complete", "average", "single", NULL};
static const char *const metric_choices[] = {"euclidean", "manhattan", "cosine", NULL};

static const UbaOptionSpec hclust_options[] = {
	{"linkage", UBA_OPT_CHOICE, 0, 0, 0, linkage_choices},
	{"metric", UBA_OPT_CHOICE, 0, 0, 0, metric_choices},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

typedef struct HclustModel
{
	int			d;
	int64		n;
	int			linkage;
	int			metric;
	bool		standardize;
	int64	   *left;			/* n - 1 */
	int64	   *right;
	double	   *height;
	int64	   *size;
	double	   *mean;			/* d, when standardized */
	double	   *scale;
	double	   *X;				/* n x d, fitting space */
	UbaEncoding *enc;
	double	   *x;				/* scratch: d */
	/* the last cut asked for by uba_hclust_assign */
	int32		cut_k;
	int32	   *cut_label;		/* n, or NULL */
} HclustModel;

/* ---------- training ---------- */

/* uba_hclust(features [, options]) transition: collect the row */
Datum
uba_hclust_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL;

	PG_RETURN_POINTER(uba_rowset_collect(fcinfo, rs, 1, opts, hclust_options, lengthof(hclust_options),
										 UBA_ENC_ONEHOT, 0, "uba_hclust"));
}

/* Distance between two rows, as scipy's pdist computes it */
static double
RowDist(const double *a, const double *b, int d, int metric)
{
	switch (metric)
	{
		case METRIC_MANHATTAN:
			{
				double		s = 0;

				for (int j = 0; j < d; j++)
					s += fabs(a[j] - b[j]);
				return s;
			}
		case METRIC_COSINE:
			{
				double		ab = 0,
							aa = 0,
							bb = 0;

				for (int j = 0; j < d; j++)
				{
					ab += a[j] * b[j];
					aa += a[j] * a[j];
					bb += b[j] * b[j];
				}
				return Max(0.0, 1.0 - ab / (sqrt(aa) * sqrt(bb)));
			}
		default:
			return sqrt(uba_sqdist(a, b, d));
	}
}

/* Cosine distance needs a row that is not all zeros */
static void
CheckCosineRow(const double *x, int d)
{
	for (int j = 0; j < d; j++)
		if (x[j] != 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cosine distance is undefined for a row of zeros"),
			 errhint("Leave such rows out, or use the euclidean or manhattan metric.")));
}

/* Index of pair (i, j), i != j, in the condensed distance matrix of n rows */
static inline Size
Condensed(int64 n, int64 i, int64 j)
{
	if (i > j)
	{
		int64		t = i;

		i = j;
		j = t;
	}
	return (Size) (n * i - (i * (i + 1)) / 2 + (j - i - 1));
}

typedef struct Merge
{
	int64		a;
	int64		b;
	double		h;
	int64		pos;			/* the order it was found in */
} Merge;

typedef struct Chain
{
	int64		n;
	int			d;
	int			linkage;
	double	   *D;				/* condensed distances (complete, average) */
	double	   *cent;			/* n x d centroids (ward) */
	int64	   *size;			/* n: 0 once merged away */
} Chain;

/* Ward's distance between clusters i and j from their centroids and sizes */
static inline double
WardDist(const Chain *c, int64 i, int64 j)
{
	double		ni = (double) c->size[i],
				nj = (double) c->size[j];

	return sqrt(2.0 * ni * nj / (ni + nj) * uba_sqdist(c->cent + (Size) i * c->d, c->cent + (Size) j * c->d, c->d));
}

static inline double
ChainDist(const Chain *c, int64 i, int64 j)
{
	return c->linkage == LINK_WARD ? WardDist(c, i, j) : c->D[Condensed(c->n, i, j)];
}

/*
 * The nearest-neighbour chain (Muellner's formulation, as scipy runs it):
 * follow nearest neighbours until two clusters are each other's nearest,
 * merge them into the slot of the larger index; repeat n - 1 times.
 */
static void
NNChain(Chain *c, Merge *out)
{
	int64		n = c->n;
	int64	   *chain = palloc(sizeof(int64) * n);
	int64		len = 0;

	for (int64 k = 0; k < n - 1; k++)
	{
		int64		x = -1,
					y = -1;
		double		best;

		if (len == 0)
		{
			for (int64 i = 0; i < n; i++)
				if (c->size[i] > 0)
				{
					chain[len++] = i;
					break;
				}
		}
		for (;;)
		{
			x = chain[len - 1];
			if (len > 1)
			{
				y = chain[len - 2];
				best = ChainDist(c, x, y);
			}
			else
				best = get_float8_infinity();
			for (int64 i = 0; i < n; i++)
			{
				double		v;

				if (c->size[i] == 0 || i == x)
					continue;
				v = ChainDist(c, x, i);
				if (v < best)
				{
					best = v;
					y = i;
				}
			}
			CHECK_FOR_INTERRUPTS();
			if (len > 1 && y == chain[len - 2])
				break;
			chain[len++] = y;
		}
		len -= 2;
		if (x > y)
		{
			int64		t = x;

			x = y;
			y = t;
		}
		out[k].a = x;
		out[k].b = y;
		out[k].h = best;
		{
			int64		nx = c->size[x],
						ny = c->size[y];

			if (c->linkage == LINK_WARD)
			{
				double	   *cx = c->cent + (Size) x * c->d;
				double	   *cy = c->cent + (Size) y * c->d;

				for (int j = 0; j < c->d; j++)
					cy[j] = ((double) nx * cx[j] + (double) ny * cy[j]) / (double) (nx + ny);
			}
			else
			{
				/* Lance-Williams: the merged cluster's distances, in y's slot */
				for (int64 i = 0; i < n; i++)
				{
					double		dx,
								dy;

					if (c->size[i] == 0 || i == x || i == y)
						continue;
					dx = c->D[Condensed(n, i, x)];
					dy = c->D[Condensed(n, i, y)];
					c->D[Condensed(n, i, y)] = c->linkage == LINK_COMPLETE ? Max(dx, dy) :
						((double) nx * dx + (double) ny * dy) / (double) (nx + ny);
				}
			}
			c->size[x] = 0;
			c->size[y] = nx + ny;
		}
	}
	pfree(chain);
}

/* Single linkage: Prim's minimum spanning tree, distances computed as needed */
static void
SingleLinkage(const double *X, int64 n, int d, int metric, Merge *out)
{
	double	   *D = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n);
	bool	   *merged = palloc0(sizeof(bool) * n);
	int64		x = 0;

	for (int64 i = 0; i < n; i++)
		D[i] = get_float8_infinity();
	for (int64 k = 0; k < n - 1; k++)
	{
		double		best = get_float8_infinity();
		int64		y = -1;

		merged[x] = true;
		for (int64 i = 0; i < n; i++)
		{
			double		v;

			if (merged[i])
				continue;
			v = RowDist(X + (Size) x * d, X + (Size) i * d, d, metric);
			if (D[i] > v)
				D[i] = v;
			if (D[i] < best || y < 0)
			{
				best = D[i];
				y = i;
			}
		}
		out[k].a = x;
		out[k].b = y;
		out[k].h = best;
		x = y;
		if ((k & 255) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(D);
	pfree(merged);
}

/* By height, then in the order found: qsort with this order is a stable sort by height */
static int
CompareMerges(const void *a, const void *b)
{
	const Merge *x = (const Merge *) a;
	const Merge *y = (const Merge *) b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Union-find root, with path halving */
static int64
Root(int64 *parent, int64 i)
{
	while (parent[i] != i)
	{
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

Datum
uba_hclust_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	int			d,
				linkage,
				metric;
	int64		n;
	bool		standardize;
	double	   *X,
			   *scale = NULL;
	Merge	   *merges;
	int64	   *left,
			   *right,
			   *sizes,
			   *parent,
			   *id,
			   *csize;
	double	   *heights;
	Size		need;
	MemoryContext cxt,
				old;
	UbaWriter	pw;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	d = rs->dim;
	n = rs->n;
	/* typed rows are encoded when ordered: the way back to the input order is kept */
	rs->keep_arrival = true;
	uba_rowset_canonical_order(rs);
	d = rs->dim;
	uba_parse_row_options(rs->options, hclust_options, lengthof(hclust_options), "uba_hclust",
						  rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	linkage = (int) uba_option(&o, "linkage");
	metric = (int) uba_option(&o, "metric");
	standardize = uba_option(&o, "standardize") != 0;
	if (linkage == LINK_WARD && metric != METRIC_EUCLIDEAN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Ward linkage needs the euclidean metric"),
				 errdetail("Got \"%s\".", metric_choices[metric]),
				 errhint("Use \"linkage\": \"average\", \"complete\" or \"single\" with other metrics.")));
	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_hclust needs at least 2 rows"),
				 errdetail("Got " INT64_FORMAT ".", n)));
	if (n > HCLUST_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("uba_hclust takes at most %d rows", HCLUST_MAX_ROWS),
				 errdetail("Got " INT64_FORMAT "; its time grows with the square of the rows.", n),
				 errhint("Cluster a sample (TABLESAMPLE), or use uba_kmeans or uba_dbscan.")));
	/* the rows in input order, the merges, and for complete and average linkage every pair's distance */
	need = mul_size((Size) n, (Size) d * 2 * sizeof(double) + sizeof(Merge) + 8 * sizeof(int64));
	if (linkage == LINK_COMPLETE || linkage == LINK_AVERAGE)
		need = add_size(need, mul_size((Size) n * (n - 1) / 2, sizeof(double)));
	uba_check_memory_for(need, "hierarchical clustering",
						 linkage == LINK_COMPLETE || linkage == LINK_AVERAGE ?
						 "cluster a sample (TABLESAMPLE), or use Ward or single linkage: they keep no pairwise distances" :
						 "cluster a sample (TABLESAMPLE)");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba hclust", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	X = MemoryContextAllocHuge(cxt, mul_size((Size) n, (Size) d * sizeof(double)));
	for (int64 i = 0; i < n; i++)
		memcpy(X + (Size) rs->arrival[i] * d, rs->x + (Size) i * d, sizeof(double) * d);
	if (standardize)
	{
		double	   *var = palloc(sizeof(double) * d);

		memcpy(var, rs->var, sizeof(double) * d);
		scale = palloc(sizeof(double) * d);
		uba_standardize(X, n, d, rs->mean, var, scale);
	}
	if (metric == METRIC_COSINE)
		for (int64 i = 0; i < n; i++)
			CheckCosineRow(X + (Size) i * d, d);

	merges = MemoryContextAllocHuge(cxt, sizeof(Merge) * (n - 1));
	if (linkage == LINK_SINGLE)
		SingleLinkage(X, n, d, metric, merges);
	else
	{
		Chain		c;

		memset(&c, 0, sizeof(c));
		c.n = n;
		c.d = d;
		c.linkage = linkage;
		c.size = MemoryContextAllocHuge(cxt, sizeof(int64) * n);
		for (int64 i = 0; i < n; i++)
			c.size[i] = 1;
		if (linkage == LINK_WARD)
		{
			c.cent = MemoryContextAllocHuge(cxt, mul_size((Size) n, (Size) d * sizeof(double)));
			memcpy(c.cent, X, sizeof(double) * n * d);
		}
		else
		{
			c.D = MemoryContextAllocHuge(cxt, mul_size((Size) n * (n - 1) / 2, sizeof(double)));
			for (int64 i = 0; i < n; i++)
			{
				for (int64 j = i + 1; j < n; j++)
					c.D[Condensed(n, i, j)] = RowDist(X + (Size) i * d, X + (Size) j * d, d, metric);
				if ((i & 63) == 0)
					CHECK_FOR_INTERRUPTS();
			}
		}
		NNChain(&c, merges);
	}
	/* by height, stably (mergesort in scipy): equal heights keep the order they were found in */
	for (int64 k = 0; k < n - 1; k++)
		merges[k].pos = k;
	qsort(merges, n - 1, sizeof(Merge), CompareMerges);
	/* the clusters numbered as scipy's linkage numbers them */
	left = MemoryContextAllocHuge(cxt, sizeof(int64) * (n - 1));
	right = MemoryContextAllocHuge(cxt, sizeof(int64) * (n - 1));
	sizes = MemoryContextAllocHuge(cxt, sizeof(int64) * (n - 1));
	heights = MemoryContextAllocHuge(cxt, sizeof(double) * (n - 1));
	parent = MemoryContextAllocHuge(cxt, sizeof(int64) * n);
	id = MemoryContextAllocHuge(cxt, sizeof(int64) * n);
	csize = MemoryContextAllocHuge(cxt, sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
	{
		parent[i] = i;
		id[i] = i;
		csize[i] = 1;
	}
	for (int64 k = 0; k < n - 1; k++)
	{
		int64		ra = Root(parent, merges[k].a),
					rb = Root(parent, merges[k].b);

		left[k] = Min(id[ra], id[rb]);
		right[k] = Max(id[ra], id[rb]);
		heights[k] = merges[k].h;
		parent[ra] = rb;
		csize[rb] += csize[ra];
		id[rb] = n + k;
		sizes[k] = csize[rb];
	}
	uba_progress(&o, "uba_hclust: " INT64_FORMAT " rows merged by %s linkage, the last at height %.6g",
				 n, linkage_choices[linkage], heights[n - 2]);

	MemoryContextSwitchTo(old);
	uba_writer_init(&pw);
	uba_put_u32(&pw, standardize ? FLAG_STANDARDIZE : 0);
	uba_put_u32(&pw, (uint32) linkage);
	uba_put_u32(&pw, (uint32) metric);
	uba_put_i64_array(&pw, left, n - 1);
	uba_put_i64_array(&pw, right, n - 1);
	uba_put_f64_array(&pw, heights, n - 1);
	uba_put_i64_array(&pw, sizes, n - 1);
	if (standardize)
	{
		uba_put_f64_array(&pw, rs->mean, d);
		uba_put_f64_array(&pw, scale, d);
	}
	uba_put_f64_array(&pw, X, (Size) n * d);
	result = uba_rowset_model(UBA_KIND_HCLUST, rs, &o, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading ---------- */

static void *
ParseHclust(const UbaModelMeta *meta, UbaReader *r)
{
	HclustModel *m = palloc0(sizeof(HclustModel));
	uint32		flags = uba_get_u32(r);
	int64		n = meta->n_rows;
	int			d = meta->n_features;
	int64	   *csize;
	bool	   *used;

	m->d = d;
	m->n = n;
	m->linkage = (int) uba_get_u32(r);
	m->metric = (int) uba_get_u32(r);
	if ((flags & ~(uint32) FLAG_STANDARDIZE) != 0 || m->linkage < 0 || m->linkage > LINK_SINGLE ||
		m->metric < 0 || m->metric > METRIC_COSINE || n < 2 || n > HCLUST_MAX_ROWS || d < 1)
		uba_model_corrupted("A hierarchical clustering of " INT64_FORMAT " rows, linkage %d, metric %d.",
							n, m->linkage, m->metric);
	m->standardize = (flags & FLAG_STANDARDIZE) != 0;
	uba_reader_check_space(r, (Size) (n - 1) * 4, sizeof(int64));
	m->left = palloc(sizeof(int64) * (n - 1));
	m->right = palloc(sizeof(int64) * (n - 1));
	m->height = palloc(sizeof(double) * (n - 1));
	m->size = palloc(sizeof(int64) * (n - 1));
	uba_get_i64_array(r, m->left, n - 1);
	uba_get_i64_array(r, m->right, n - 1);
	uba_get_f64_array(r, m->height, n - 1, true);
	uba_get_i64_array(r, m->size, n - 1);
	/* a tree: each id merged once, into a later cluster, sizes that add up */
	csize = palloc(sizeof(int64) * (2 * n - 1));
	used = palloc0(sizeof(bool) * (2 * n - 1));
	for (int64 i = 0; i < n; i++)
		csize[i] = 1;
	for (int64 k = 0; k < n - 1; k++)
	{
		int64		a = m->left[k],
					b = m->right[k];

		if (a < 0 || b <= a || b >= n + k || used[a] || used[b] ||
			m->size[k] != csize[a] + csize[b] || !(m->height[k] >= 0))
			uba_model_corrupted("Merge %lld of a hierarchical clustering is not a merge of two clusters.",
								(long long) k + 1);
		used[a] = used[b] = true;
		csize[n + k] = m->size[k];
	}
	pfree(csize);
	pfree(used);
	if (m->standardize)
		uba_get_scaling(r, d, &m->mean, &m->scale);
	uba_reader_check_space(r, (Size) n * d, sizeof(double));
	m->X = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) n, (Size) d * sizeof(double)));
	uba_get_f64_array(r, m->X, (Size) n * d, true);
	uba_reader_finish(r);
	m->enc = meta->encoding;
	m->x = palloc(sizeof(double) * d);
	return m;
}

void
uba_hclust_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	HclustModel *m = ParseHclust(meta, payload);

	appendStringInfo(json, ", \"linkage\": \"%s\", \"metric\": \"%s\", \"standardized\": %s, "
					 "\"top_height\": %.17g",
					 linkage_choices[m->linkage], metric_choices[m->metric],
					 m->standardize ? "true" : "false", m->height[m->n - 2]);
}

/* ---------- cutting ---------- */

/*
 * Each leaf's cluster (1..) after the first `merges` merges; clusters are
 * numbered by their first leaf, in input order.  Returns how many.
 */
static int32
Cut(const HclustModel *m, int64 merges, int32 *label)
{
	int64		n = m->n;
	int64	   *parent = palloc(sizeof(int64) * (2 * n - 1));
	int32	   *number = palloc(sizeof(int32) * (2 * n - 1));
	int32		next = 0;

	for (int64 i = 0; i < 2 * n - 1; i++)
	{
		parent[i] = i;
		number[i] = 0;
	}
	for (int64 k = 0; k < merges; k++)
	{
		parent[m->left[k]] = n + k;
		parent[m->right[k]] = n + k;
	}
	for (int64 i = 0; i < n; i++)
	{
		int64		r = Root(parent, i);

		if (number[r] == 0)
			number[r] = ++next;
		label[i] = number[r];
	}
	pfree(parent);
	pfree(number);
	return next;
}

/* The merges a cut keeps: n - k of them, or those no higher than a height */
static int64
MergesFor(const HclustModel *m, bool by_k, int32 k, double height)
{
	int64		merges = 0;

	if (by_k)
	{
		if (k < 1 || k > m->n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k must be between 1 and the model's " INT64_FORMAT " rows", m->n),
					 errdetail("Got %d.", k)));
		return m->n - k;
	}
	if (isnan(height))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("height must be a number")));
	/* heights do not decrease along the merges (every linkage here is monotone) */
	while (merges < m->n - 1 && m->height[merges] <= height)
		merges++;
	return merges;
}

/* uba_hclust_merges(model): scipy's linkage matrix, a row per merge */
Datum
uba_hclust_merges(PG_FUNCTION_ARGS)
{
	HclustModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_HCLUST, ParseHclust);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int64 k = 0; k < m->n - 1; k++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = Int32GetDatum((int32) (k + 1));
		values[1] = Int32GetDatum((int32) m->left[k]);
		values[2] = Int32GetDatum((int32) m->right[k]);
		values[3] = Float8GetDatum(m->height[k]);
		values[4] = Int64GetDatum(m->size[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* uba_hclust_cut(model, k => , height => ): each leaf (0-based input position) and its cluster */
Datum
uba_hclust_cut(PG_FUNCTION_ARGS)
{
	HclustModel *m;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32	   *label;

	/* not strict (k or height is NULL): a NULL model gives no rows */
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	if (PG_ARGISNULL(1) == PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("give uba_hclust_cut either k or height"),
				 errhint("uba_hclust_cut(model, 5) or uba_hclust_cut(model, height => 2.5).")));
	m = uba_model_cached(fcinfo, 0, UBA_KIND_HCLUST, ParseHclust);
	label = palloc(sizeof(int32) * m->n);
	Cut(m, MergesFor(m, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1),
					 PG_ARGISNULL(2) ? 0 : PG_GETARG_FLOAT8(2)), label);
	for (int64 i = 0; i < m->n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int32GetDatum((int32) i);
		values[1] = Int32GetDatum(label[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * uba_hclust_assign(model, features, k): the cluster, at a cut into k, of
 * the training row nearest to the features (a training row: its own).
 */
static Datum
Assign(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	HclustModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_HCLUST, ParseHclust);
	int32		k = PG_GETARG_INT32(2);
	double		best = get_float8_infinity();
	int64		nearest = 0;

	if (m->cut_label == NULL || m->cut_k != k)
	{
		int64		merges = MergesFor(m, true, k, 0);

		/* the model lives in the call site's cache: so does its last cut */
		if (m->cut_label == NULL)
			m->cut_label = MemoryContextAlloc(GetMemoryChunkContext(m), sizeof(int32) * m->n);
		Cut(m, merges, m->cut_label);
		m->cut_k = k;
	}
	uba_read_features_arg(fcinfo, 1, form, m->enc, m->x, m->d);
	uba_standardize_row(m->x, m->d, m->mean, m->scale);
	if (m->metric == METRIC_COSINE)
		CheckCosineRow(m->x, m->d);
	for (int64 i = 0; i < m->n; i++)
	{
		double		v = RowDist(m->x, m->X + (Size) i * m->d, m->d, m->metric);

		if (v < best)
		{
			best = v;
			nearest = i;
		}
	}
	PG_RETURN_INT32(m->cut_label[nearest]);
}

UBA_FEATURE_FORMS(uba_hclust_assign, Assign)
