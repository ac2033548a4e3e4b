/*-------------------------------------------------------------------------
 *
 * dbscan.c
 *	  Density-based clustering: uba_dbscan(features, eps, min_samples
 *	  [, options]) finds clusters of any shape and the rows in none (noise),
 *	  uba_dbscan_assign labels rows by the model's core points,
 *	  uba_dbscan_clusters lists the clusters.
 *
 * scikit-learn's DBSCAN, by its definitions: a row is a core point when at
 * least min_samples rows (itself included) lie within eps of it; core
 * points within eps of each other share a cluster; any other row within
 * eps of a core point is a border point, the rest noise.  One rule is
 * uba's own: a border point near cores of two clusters joins the cluster
 * of its nearest core point (equally near: the lower cluster number),
 * where scikit-learn gives it to whichever cluster reached it first in the
 * order of the rows, an order SQL does not fix.  The rule makes the
 * training rows' labels exactly what uba_dbscan_assign gives them, so
 * the model needs to keep only its core points.
 *
 * Neighbourhoods come from k-d trees (core kdtree.c): one over all rows
 * counts each row's neighbours (stopping at min_samples, on uba.threads
 * threads), one over the core points joins them into clusters and finds
 * each border point's nearest core.  Time about n log n in few dimensions,
 * memory linear in n.  Cosine distance (1 - cos) is the Euclidean one
 * between rows scaled to unit length: |a - b|^2 = 2 (1 - cos).
 *
 * Clusters are numbered by their core points, most first (then by the
 * canonical order of the rows), so numbers do not depend on the scan.
 *
 * Payload: flags (u32: 1 standardize), metric (u32), min_samples (u32),
 * eps (f64), clusters (u32), core points (u64), noise rows (u64), each
 * cluster's core and border counts (i64 x clusters, twice), the scaling
 * (with standardize), the core points (f64 x d each, by cluster).
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

PG_FUNCTION_INFO_V1(uba_dbscan_transfn);
PG_FUNCTION_INFO_V1(uba_dbscan_final);
PG_FUNCTION_INFO_V1(uba_dbscan_clusters);

#define FLAG_STANDARDIZE 1
#define FLAG_BORDER_FIRST 2
#define METRIC_EUCLIDEAN 0
#define METRIC_MANHATTAN 1
#define METRIC_COSINE 2
#define DBSCAN_MAX_MIN_SAMPLES 1000000000

static const char *const metric_choices[] = {"euclidean", "manhattan", "cosine", NULL};
static const char *const border_choices[] = {"nearest", "first", NULL};

static const UbaOptionSpec dbscan_options[] = {
	{"metric", UBA_OPT_CHOICE, 0, 0, 0, metric_choices},
	{"border", UBA_OPT_CHOICE, 0, 0, 0, border_choices},
	{"standardize", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

typedef struct DbscanModel
{
	int			d;
	int			metric;
	bool		standardize;
	int64		min_samples;
	double		eps;
	int			nclusters;
	int64		ncores;
	int64		noise;
	int64	   *core_counts;	/* nclusters */
	int64	   *border_counts;	/* nclusters */
	double	   *mean;			/* d, when standardized */
	double	   *scale;
	double	   *cores;			/* ncores x d, by cluster */
	int32	   *core_cluster;	/* ncores: cluster number, from 1 */
	bool		border_first;
	int64		nexc;			/* border rows whose cluster is not their nearest core's */
	double	   *exc;			/* nexc x d, sorted by their bytes */
	int32	   *exc_cluster;	/* nexc */
	UbaKdTree  *tree;			/* over the cores: for assignment only */
	UbaEncoding *enc;
	double	   *x;				/* scratch: d */
} DbscanModel;

/* The radius the trees compare: cosine eps as a distance between unit rows */
static double
TreeRadius(int metric, double eps)
{
	return metric == METRIC_COSINE ? sqrt(2.0 * eps) : eps;
}

/* A row scaled to unit length for cosine distance; false for a row of zeros */
static bool
UnitLength(double *x, int d)
{
	double		s = 0;

	for (int j = 0; j < d; j++)
		s += x[j] * x[j];
	if (!(s > 0))
		return false;
	s = sqrt(s);
	for (int j = 0; j < d; j++)
		x[j] /= s;
	return true;
}

static void
ZeroRowError(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cosine distance is undefined for a row of zeros"),
			 errhint("Leave such rows out, or use the euclidean or manhattan metric.")));
}

/* ---------- training ---------- */

/* uba_dbscan(features, eps, min_samples [, options]) transition: collect the row */
Datum
uba_dbscan_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;
	bool		first = rs == NULL;
	double		eps;
	int32		min_samples;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(rs);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("eps and min_samples must not be NULL")));
	eps = PG_GETARG_FLOAT8(2);
	min_samples = PG_GETARG_INT32(3);
	if (first)
	{
		if (!(eps > 0) || isinf(eps))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("eps must be a positive finite distance"),
					 errdetail("Got %g.", eps)));
		if (min_samples < 1 || min_samples > DBSCAN_MAX_MIN_SAMPLES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("min_samples must be between 1 and %d", DBSCAN_MAX_MIN_SAMPLES),
					 errdetail("Got %d.", min_samples)));
	}
	else
	{
		uba_rowset_check_param(rs, min_samples, "min_samples");
		uba_rowset_check_dparam(rs, eps, "eps");
	}
	rs = uba_rowset_collect(fcinfo, rs, 1, opts, dbscan_options, lengthof(dbscan_options),
							UBA_ENC_ONEHOT, min_samples, "uba_dbscan");
	if (first)
		rs->dparam = eps;
	PG_RETURN_POINTER(rs);
}

typedef struct DbscanWork
{
	const double *X;			/* n x d, fitting space */
	int64		n;
	int			d;
	double		r;				/* the trees' radius */
	int64		min_samples;
	const UbaKdTree *all;
	const UbaKdTree *cores;
	bool	   *core;			/* n */
	int32	   *label;			/* n: cluster number, 0 noise (border pass) */
	const int32 *core_cluster;	/* by core position */
	const int64 *first;			/* by cluster number - 1: the first arrival of its core points */
	bool		border_first;
	bool	   *exception;		/* n: a border row not in its nearest core's cluster */
	/* the BFS's queue while clustering */
	int32	   *cl;
	int64	   *queue;
	int64		tail;
	int32		current;
} DbscanWork;

/* Which rows are core points: a block of rows (any thread) */
static void
CountBlock(void *arg, int64 block, int lane)
{
	DbscanWork *w = (DbscanWork *) arg;
	int64		end = Min(w->n, (block + 1) * UBA_BLOCK_ROWS);

	for (int64 i = block * UBA_BLOCK_ROWS; i < end; i++)
		w->core[i] = uba_kdtree_count(w->all, w->X + (Size) i * w->d, w->r, w->min_samples) >= w->min_samples;
}

/* The cluster whose core points came first, of those within reach of a border row */
typedef struct FirstVisit
{
	const DbscanWork *w;
	int32		best;
} FirstVisit;

static bool
VisitFirst(void *arg, int64 j)
{
	FirstVisit *v = (FirstVisit *) arg;
	int32		c = v->w->core_cluster[j];

	if (v->best == 0 || v->w->first[c - 1] < v->w->first[v->best - 1])
		v->best = c;
	return true;
}

/*
 * Each non-core row's cluster: its nearest core point's, or 0; by the
 * "first" rule, the cluster reached first in the rows' input order (any
 * thread)
 */
static void
BorderBlock(void *arg, int64 block, int lane)
{
	DbscanWork *w = (DbscanWork *) arg;
	int64		end = Min(w->n, (block + 1) * UBA_BLOCK_ROWS);
	double		dist;

	for (int64 i = block * UBA_BLOCK_ROWS; i < end; i++)
	{
		int64		c;

		if (w->core[i])
			continue;
		c = uba_kdtree_nearest(w->cores, w->X + (Size) i * w->d, w->r, &dist);
		w->label[i] = c < 0 ? 0 : w->core_cluster[c];
		if (c >= 0 && w->border_first)
		{
			FirstVisit	v = {w, 0};

			uba_kdtree_within(w->cores, w->X + (Size) i * w->d, w->r, VisitFirst, &v);
			w->exception[i] = v.best != w->label[i];
			w->label[i] = v.best;
		}
	}
}

/* A core point within reach of the one being expanded joins its cluster */
static bool
VisitCore(void *arg, int64 j)
{
	DbscanWork *w = (DbscanWork *) arg;

	if (w->cl[j] < 0)
	{
		w->cl[j] = w->current;
		w->queue[w->tail++] = j;
	}
	return true;
}

/* Row indexes by their rows' bytes: kept rows are found by an exact binary search */
static int
CompareRowBytes(const void *a, const void *b, void *arg)
{
	const DbscanWork *w = (const DbscanWork *) arg;

	return memcmp(w->X + (Size) *(const int64 *) a * w->d, w->X + (Size) *(const int64 *) b * w->d,
				  sizeof(double) * w->d);
}

typedef struct ClusterOrder
{
	int32		id;
	int64		cores;
} ClusterOrder;

/* Most core points first, then in the order they were found */
static int
CompareClusters(const void *a, const void *b)
{
	const ClusterOrder *x = (const ClusterOrder *) a;
	const ClusterOrder *y = (const ClusterOrder *) b;

	if (x->cores != y->cores)
		return x->cores > y->cores ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

Datum
uba_dbscan_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	DbscanWork	w;
	MemoryContext cxt,
				old;
	int			d,
				metric,
				nclusters = 0;
	int64		n,
				ncores = 0,
				noise = 0;
	double	   *scale = NULL,
			   *coreX,
			   *sorted;
	int64	   *map,
			   *corerow,
			   *first,
			   *core_counts,
			   *border_counts,
			   *offset,
				nexc = 0;
	double	   *exc = NULL;
	uint32	   *exc_cluster = NULL;
	bool		border_first;
	int32	   *core_cluster;
	ClusterOrder *order;
	int32	   *number;
	bool		standardize;
	UbaWriter	pw;
	bytea	   *result;
	Size		need;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	/*
	 * typed rows are encoded when they are ordered; the order fixes the
	 * cluster numbers besides.  The input order is kept for the "first"
	 * border rule.
	 */
	rs->keep_arrival = true;
	uba_rowset_canonical_order(rs);
	d = rs->dim;
	n = rs->n;
	uba_parse_row_options(rs->options, dbscan_options, lengthof(dbscan_options), "uba_dbscan",
						  rs->enc != NULL, UBA_ENC_ONEHOT, &o);
	metric = (int) uba_option(&o, "metric");
	border_first = uba_option(&o, "border") == 1;
	standardize = uba_option(&o, "standardize") != 0;
	/* two trees (the cores' at most as large), the cores' copy, flags, labels and the queue */
	need = mul_size(uba_kdtree_bytes(n, d), 2);
	need = add_size(need, mul_size((Size) n, (Size) d * 2 * sizeof(double) + sizeof(bool) + 2 * sizeof(int32) + 3 * sizeof(int64)));
	uba_check_memory(need, "DBSCAN");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba dbscan", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	if (standardize)
	{
		double	   *var = palloc(sizeof(double) * d);

		memcpy(var, rs->var, sizeof(double) * d);
		scale = palloc(sizeof(double) * d);
		uba_standardize(rs->x, n, d, rs->mean, var, scale);
	}
	if (metric == METRIC_COSINE)
		for (int64 i = 0; i < n; i++)
			if (!UnitLength(rs->x + (Size) i * d, d))
				ZeroRowError();

	memset(&w, 0, sizeof(w));
	w.X = rs->x;
	w.n = n;
	w.d = d;
	w.r = TreeRadius(metric, rs->dparam);
	w.min_samples = rs->iparam;
	w.core = MemoryContextAllocHuge(cxt, sizeof(bool) * n);
	w.all = uba_kdtree_build(rs->x, n, d, metric == METRIC_MANHATTAN);
	uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(), CountBlock, &w);
	pfree(w.all->pts);
	pfree(w.all->boxes);
	pfree(w.all->nodes);
	pfree(w.all->idx);
	w.all = NULL;

	/* the core points, in the rows' canonical order */
	for (int64 i = 0; i < n; i++)
		ncores += w.core[i];
	uba_progress(&o, "uba_dbscan: " INT64_FORMAT " of " INT64_FORMAT " rows are core points", ncores, n);
	if ((double) ncores * d * sizeof(double) + 64.0 * sizeof(double) * (double) Max(ncores, 1) > (double) MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a DBSCAN model of " INT64_FORMAT " core points of %d features would exceed the 1 GB a model can hold", ncores, d),
				 errhint("Use a smaller eps or a larger min_samples, or train on a sample of the rows (TABLESAMPLE).")));
	coreX = MemoryContextAllocHuge(cxt, mul_size((Size) Max(ncores, 1), (Size) d * sizeof(double)));
	corerow = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(ncores, 1));
	{
		int64		c = 0;

		for (int64 i = 0; i < n; i++)
			if (w.core[i])
			{
				memcpy(coreX + (Size) c * d, rs->x + (Size) i * d, sizeof(double) * d);
				corerow[c++] = i;
			}
	}

	/* clusters: core points joined through their neighbourhoods (breadth first) */
	w.cores = uba_kdtree_build(coreX, ncores, d, metric == METRIC_MANHATTAN);
	w.cl = MemoryContextAllocHuge(cxt, sizeof(int32) * Max(ncores, 1));
	w.queue = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(ncores, 1));
	for (int64 c = 0; c < ncores; c++)
		w.cl[c] = -1;
	for (int64 s = 0; s < ncores; s++)
	{
		int64		head = 0;

		if (w.cl[s] >= 0)
			continue;
		if (nclusters == PG_INT32_MAX)
			elog(ERROR, "uba: too many DBSCAN clusters");
		w.current = nclusters++;
		w.cl[s] = w.current;
		w.tail = 0;
		w.queue[w.tail++] = s;
		while (head < w.tail)
		{
			int64		p = w.queue[head++];

			uba_kdtree_within(w.cores, coreX + (Size) p * d, w.r, VisitCore, &w);
			if ((head & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}

	/* numbered by core points, most first; the cores stored cluster by cluster */
	order = palloc(sizeof(ClusterOrder) * Max(nclusters, 1));
	for (int c = 0; c < nclusters; c++)
	{
		order[c].id = c;
		order[c].cores = 0;
	}
	for (int64 c = 0; c < ncores; c++)
		order[w.cl[c]].cores++;
	qsort(order, nclusters, sizeof(ClusterOrder), CompareClusters);
	number = palloc(sizeof(int32) * Max(nclusters, 1));
	core_counts = palloc0(sizeof(int64) * Max(nclusters, 1));
	border_counts = palloc0(sizeof(int64) * Max(nclusters, 1));
	offset = palloc0(sizeof(int64) * (nclusters + 1));
	first = palloc(sizeof(int64) * Max(nclusters, 1));
	for (int c = 0; c < nclusters; c++)
	{
		number[order[c].id] = c;
		first[c] = PG_INT64_MAX;
		core_counts[c] = order[c].cores;
		offset[c + 1] = offset[c] + order[c].cores;
	}
	map = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(ncores, 1));
	core_cluster = MemoryContextAllocHuge(cxt, sizeof(int32) * Max(ncores, 1));
	sorted = MemoryContextAllocHuge(cxt, mul_size((Size) Max(ncores, 1), (Size) d * sizeof(double)));
	for (int64 c = 0; c < ncores; c++)
	{
		int32		k = number[w.cl[c]];
		int64		pos = offset[k]++;

		map[c] = pos;
		core_cluster[pos] = k + 1;
		first[k] = Min(first[k], rs->arrival[corerow[c]]);
		memcpy(sorted + (Size) pos * d, coreX + (Size) c * d, sizeof(double) * d);
	}
	/* the tree answers for the new positions: nearest ties now go to the lower cluster */
	uba_kdtree_renumber((UbaKdTree *) w.cores, map);

	/* border points and noise */
	w.label = MemoryContextAllocHuge(cxt, sizeof(int32) * n);
	w.core_cluster = core_cluster;
	w.first = first;
	w.border_first = border_first;
	if (border_first)
	{
		w.exception = MemoryContextAllocHuge(cxt, sizeof(bool) * n);
		memset(w.exception, 0, sizeof(bool) * n);
	}
	uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(), BorderBlock, &w);
	for (int64 i = 0; i < n; i++)
	{
		if (w.core[i])
			continue;
		if (w.label[i] == 0)
			noise++;
		else
			border_counts[w.label[i] - 1]++;
	}
	uba_progress(&o, "uba_dbscan: %d clusters, " INT64_FORMAT " noise rows", nclusters, noise);
	/* by the "first" rule, the border rows not in their nearest core's cluster: kept, by their bytes */
	for (int64 i = 0; border_first && i < n; i++)
		nexc += w.exception[i];
	if (nexc > 0)
	{
		int64	   *idx = MemoryContextAllocHuge(cxt, sizeof(int64) * nexc);
		int64		e = 0;

		for (int64 i = 0; i < n; i++)
			if (w.exception[i])
				idx[e++] = i;
		qsort_arg(idx, nexc, sizeof(int64), CompareRowBytes, &w);
		exc = MemoryContextAllocHuge(cxt, mul_size((Size) nexc, (Size) d * sizeof(double)));
		exc_cluster = MemoryContextAllocHuge(cxt, sizeof(uint32) * nexc);
		for (e = 0; e < nexc; e++)
		{
			memcpy(exc + (Size) e * d, rs->x + (Size) idx[e] * d, sizeof(double) * d);
			exc_cluster[e] = (uint32) w.label[idx[e]];
		}
	}

	MemoryContextSwitchTo(old);
	uba_writer_init(&pw);
	uba_put_u32(&pw, (standardize ? FLAG_STANDARDIZE : 0) | (border_first ? FLAG_BORDER_FIRST : 0));
	uba_put_u32(&pw, (uint32) metric);
	uba_put_u32(&pw, (uint32) rs->iparam);
	uba_put_f64(&pw, rs->dparam);
	uba_put_u32(&pw, (uint32) nclusters);
	uba_put_u64(&pw, (uint64) ncores);
	uba_put_u64(&pw, (uint64) noise);
	uba_put_i64_array(&pw, core_counts, nclusters);
	uba_put_i64_array(&pw, border_counts, nclusters);
	if (standardize)
	{
		uba_put_f64_array(&pw, rs->mean, d);
		uba_put_f64_array(&pw, scale, d);
	}
	uba_put_f64_array(&pw, sorted, (Size) ncores * d);
	uba_put_u64(&pw, (uint64) nexc);
	uba_put_f64_array(&pw, exc, (Size) nexc * d);
	uba_put_u32_array(&pw, exc_cluster, nexc);
	result = uba_rowset_model(UBA_KIND_DBSCAN, rs, &o, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading ---------- */

static void *
ParseDbscan(const UbaModelMeta *meta, UbaReader *r)
{
	DbscanModel *m = palloc0(sizeof(DbscanModel));
	uint32		flags = uba_get_u32(r);
	int64		rows = 0;
	int			d = meta->n_features;

	m->d = d;
	m->metric = (int) uba_get_u32(r);
	m->min_samples = uba_get_u32(r);
	m->eps = uba_get_finite_f64(r);
	m->nclusters = (int) uba_get_u32(r);
	m->ncores = (int64) uba_get_u64(r);
	m->noise = (int64) uba_get_u64(r);
	if ((flags & ~(uint32) (FLAG_STANDARDIZE | FLAG_BORDER_FIRST)) != 0 || m->metric < 0 || m->metric > METRIC_COSINE ||
		m->min_samples < 1 || m->min_samples > DBSCAN_MAX_MIN_SAMPLES || !(m->eps > 0) ||
		d < 1 || m->nclusters < 0 || m->ncores < 0 || m->noise < 0 ||
		m->ncores > meta->n_rows || m->noise > meta->n_rows || m->nclusters > m->ncores)
		uba_model_corrupted("A DBSCAN model of %d clusters, " INT64_FORMAT " core points and " INT64_FORMAT " noise rows of " INT64_FORMAT ".",
							m->nclusters, m->ncores, m->noise, meta->n_rows);
	m->standardize = (flags & FLAG_STANDARDIZE) != 0;
	uba_reader_check_space(r, (Size) m->nclusters * 2, sizeof(int64));
	m->core_counts = palloc(sizeof(int64) * Max(m->nclusters, 1));
	m->border_counts = palloc(sizeof(int64) * Max(m->nclusters, 1));
	uba_get_i64_array(r, m->core_counts, m->nclusters);
	uba_get_i64_array(r, m->border_counts, m->nclusters);
	{
		int64		cores = 0;

		rows = m->noise;
		for (int c = 0; c < m->nclusters; c++)
		{
			/* each count and running total stays within the rows: no overflow */
			if (m->core_counts[c] < 1 || m->core_counts[c] > m->ncores - cores ||
				m->border_counts[c] < 0 || m->border_counts[c] > meta->n_rows - rows ||
				m->core_counts[c] > meta->n_rows - rows - m->border_counts[c])
				uba_model_corrupted("A DBSCAN cluster's counts are out of range.");
			cores += m->core_counts[c];
			rows += m->core_counts[c] + m->border_counts[c];
		}
		if (cores != m->ncores || rows != meta->n_rows)
			uba_model_corrupted("A DBSCAN model's counts do not add up to its rows.");
	}
	if (m->standardize)
		uba_get_scaling(r, d, &m->mean, &m->scale);
	uba_reader_check_space(r, (Size) m->ncores * d, sizeof(double));
	m->cores = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) Max(m->ncores, 1), (Size) d * sizeof(double)));
	uba_get_f64_array(r, m->cores, (Size) m->ncores * d, true);
	m->border_first = (flags & FLAG_BORDER_FIRST) != 0;
	m->nexc = (int64) uba_get_u64(r);
	if (m->nexc < 0 || m->nexc > meta->n_rows - m->ncores - m->noise || (m->nexc > 0 && !m->border_first))
		uba_model_corrupted("A DBSCAN model with " INT64_FORMAT " kept border rows.", m->nexc);
	uba_reader_check_space(r, (Size) m->nexc * d, sizeof(double));
	m->exc = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) Max(m->nexc, 1), (Size) d * sizeof(double)));
	uba_get_f64_array(r, m->exc, (Size) m->nexc * d, true);
	uba_reader_check_space(r, (Size) m->nexc, sizeof(uint32));
	m->exc_cluster = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(m->nexc, 1));
	uba_get_u32_array(r, (uint32 *) m->exc_cluster, m->nexc);
	uba_reader_finish(r);
	for (int64 e = 0; e < m->nexc; e++)
	{
		/* in order, for the binary search; each in a cluster */
		if (m->exc_cluster[e] < 1 || m->exc_cluster[e] > m->nclusters ||
			(e > 0 && memcmp(m->exc + (Size) (e - 1) * d, m->exc + (Size) e * d, sizeof(double) * d) > 0))
			uba_model_corrupted("A DBSCAN model's kept border rows are out of order or of no cluster.");
	}
	m->core_cluster = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(m->ncores, 1));
	{
		int64		p = 0;

		for (int c = 0; c < m->nclusters; c++)
			for (int64 i = 0; i < m->core_counts[c]; i++)
				m->core_cluster[p++] = c + 1;
	}
	m->enc = meta->encoding;
	m->x = palloc(sizeof(double) * d);
	return m;
}

/* The same, with the core points' tree that assignment searches (counted in the model's cache) */
static void *
ParseDbscanTree(const UbaModelMeta *meta, UbaReader *r)
{
	DbscanModel *m = ParseDbscan(meta, r);

	uba_check_memory_for(uba_kdtree_bytes(m->ncores, m->d), "assigning rows by a DBSCAN model",
						 "train the model with a larger min_samples or a smaller eps: fewer core points");
	m->tree = uba_kdtree_build(m->cores, m->ncores, m->d, m->metric == METRIC_MANHATTAN);
	return m;
}

void
uba_dbscan_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	DbscanModel *m = ParseDbscan(meta, payload);

	appendStringInfo(json, ", \"eps\": %.17g, \"min_samples\": " INT64_FORMAT ", \"metric\": \"%s\", "
					 "\"border\": \"%s\", \"standardized\": %s, \"clusters\": %d, \"core_points\": " INT64_FORMAT
					 ", \"noise_points\": " INT64_FORMAT,
					 m->eps, m->min_samples, metric_choices[m->metric], border_choices[m->border_first ? 1 : 0],
					 m->standardize ? "true" : "false", m->nclusters, m->ncores, m->noise);
	if (m->border_first)
		appendStringInfo(json, ", \"kept_border_rows\": " INT64_FORMAT, m->nexc);
}

/* ---------- scoring ---------- */

/*
 * uba_dbscan_assign(model, features): the cluster of the nearest core
 * point within eps (1..clusters), or 0 for noise.  On the training rows,
 * their clusters.
 */
static Datum
Assign(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	DbscanModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_DBSCAN, ParseDbscanTree);
	double		dist;
	int64		c;

	uba_read_features_arg(fcinfo, 1, form, m->enc, m->x, m->d);
	uba_standardize_row(m->x, m->d, m->mean, m->scale);
	if (m->metric == METRIC_COSINE && !UnitLength(m->x, m->d))
		ZeroRowError();
	/* a training border row that the "first" rule gave another cluster than its nearest core's */
	if (m->nexc > 0)
	{
		int64		lo = 0,
					hi = m->nexc - 1;

		while (lo <= hi)
		{
			int64		mid = lo + (hi - lo) / 2;
			int			cmp = memcmp(m->x, m->exc + (Size) mid * m->d, sizeof(double) * m->d);

			if (cmp == 0)
				PG_RETURN_INT32(m->exc_cluster[mid]);
			if (cmp < 0)
				hi = mid - 1;
			else
				lo = mid + 1;
		}
	}
	c = uba_kdtree_nearest(m->tree, m->x, TreeRadius(m->metric, m->eps), &dist);
	PG_RETURN_INT32(c < 0 ? 0 : m->core_cluster[c]);
}

UBA_FEATURE_FORMS(uba_dbscan_assign, Assign)

/* uba_dbscan_clusters(model): each cluster's rows, core and border; cluster 0 is the noise */
Datum
uba_dbscan_clusters(PG_FUNCTION_ARGS)
{
	DbscanModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_DBSCAN, ParseDbscan);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int c = 0; c <= m->nclusters; c++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int64		cores = c == 0 ? 0 : m->core_counts[c - 1];
		int64		border = c == 0 ? 0 : m->border_counts[c - 1];

		values[0] = Int32GetDatum(c);
		values[1] = Int64GetDatum(c == 0 ? m->noise : cores + border);
		values[2] = Int64GetDatum(cores);
		values[3] = Int64GetDatum(border);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
