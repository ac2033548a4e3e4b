/*-------------------------------------------------------------------------
 *
 * iforest.c
 *	  Isolation forest (Liu, Ting and Zhou 2008), as scikit-learn's
 *	  IsolationForest: anomaly scores of rows, for fraud and odd behaviour.
 *
 * Each tree is grown on max_samples rows drawn without replacement: a node
 * splits on a feature drawn at random among those not constant in it, at
 * a threshold drawn uniformly between the feature's smallest and largest
 * value there, until a row is alone or the depth reaches
 * ceil(log2(max_samples)).  A leaf holds the path length to it plus c(size)
 * (the average depth a search of that many more rows would take), so the
 * trees add up, through the shared evaluator (boost.c), to a row's total
 * path length; its score is 2^(-mean path length / c(max_samples)): near 1
 * for anomalies, below 0.5 for ordinary rows.
 *
 * Typed rows (encode.c, codes as for trees): a category column splits by a
 * random subset of the levels present in the node; a missing value (NULL)
 * goes to the side that took more of the node's rows.  Rows are in the row
 * set's canonical order and one seeded generator draws everything, so the
 * model does not depend on row order or plan.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "trees.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_isolation_forest_transfn);
PG_FUNCTION_INFO_V1(uba_isolation_forest_final);

static const UbaOptionSpec iforest_options[] = {
	{"n_estimators", UBA_OPT_INT, 100, 1, 10000, NULL},
	{"max_samples", UBA_OPT_FLOAT, 256, 1e-6, 1e9, NULL},	/* below 1: a share of the rows */
	{"contamination", UBA_OPT_FLOAT, 0, 0, 0.5, NULL},	/* 0: "auto", threshold 0.5 */
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

/* uba_isolation_forest(features [, options]) transition: collect the row */
Datum
uba_isolation_forest_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL;

	PG_RETURN_POINTER(uba_rowset_collect(fcinfo, rs, 1, opts, iforest_options, lengthof(iforest_options),
										 UBA_ENC_CODES, 0, "uba_isolation_forest"));
}

/* One tree's growth: the rows, their sample, and the nodes written so far */
typedef struct Grow
{
	const float *x;				/* n x d, float32 as the evaluator compares */
	int			d;
	const bool *categorical;	/* d */
	int			limit;			/* depth limit */
	UbaRandom  *rng;
	int64	   *rows;			/* the sample, partitioned in place */
	int		   *order;			/* d: features in the order they are tried */
	uint32	   *cats;			/* scratch: categories of a node */
	uint32		ncats_cap;
	StringInfoData nodes;		/* this tree's nodes */
	uint32		nnodes;
} Grow;

/* Reserve a node's place: its index (its fields are written once its children are known) */
typedef struct PendingNode
{
	uint32		feature;
	bool		default_left;
	uint32		left;
	uint32		right;
	float		value;
	float		cover;
	uint32	   *cats;
	uint32		ncats;
} PendingNode;

static int
CompareU32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

/*
 * Grow the subtree of rows[lo, hi) at depth; nodes go to out in preorder
 * (children after their parent).  Returns the subtree root's index.
 */
static uint32
GrowNode(Grow *g, PendingNode **out, uint32 *cap, int64 lo, int64 hi, int depth)
{
	uint32		me = g->nnodes++;
	int64		size = hi - lo;
	int			tried;

	if (me >= *cap)
	{
		*cap *= 2;
		*out = repalloc_huge(*out, sizeof(PendingNode) * *cap);
	}
	memset(&(*out)[me], 0, sizeof(PendingNode));
	(*out)[me].cover = (float) size;
	if (depth >= g->limit || size <= 1)
	{
		(*out)[me].feature = UBA_TREE_LEAF;
		(*out)[me].value = (float) (depth + uba_average_path_length((double) size));
		return me;
	}
	if ((me & 1023) == 0)
		CHECK_FOR_INTERRUPTS();

	/* features in a random order; the first one not constant here splits */
	for (int j = 0; j < g->d; j++)
		g->order[j] = j;
	for (tried = 0; tried < g->d; tried++)
	{
		int			pick = tried + (int) uba_random_below(g->rng, (uint64) (g->d - tried));
		int			f = g->order[pick];
		float		lo_v = INFINITY,
					hi_v = -INFINITY;
		int64		present = 0;

		g->order[pick] = g->order[tried];
		g->order[tried] = f;
		for (int64 i = lo; i < hi; i++)
		{
			float		v = g->x[(Size) g->rows[i] * g->d + f];

			if (isnan(v))
				continue;
			present++;
			lo_v = Min(lo_v, v);
			hi_v = Max(hi_v, v);
		}
		if (present < 2 || !(lo_v < hi_v))
			continue;

		{
			PendingNode *nd;
			uint32	   *cats = NULL;
			uint32		ncats = 0;
			float		thr = 0;
			int64		a = lo,
						b = hi - 1,
						nleft,
						nright,
						nmissing = 0;
			bool		default_left;

			if (g->categorical[f])
			{
				/* the levels present, each sent right with probability 1/2, until both sides get some */
				uint32		nlev = 0;

				for (int64 i = lo; i < hi; i++)
				{
					float		v = g->x[(Size) g->rows[i] * g->d + f];
					bool		seen = false;

					if (isnan(v))
						continue;
					for (uint32 k = 0; k < nlev && !seen; k++)
						seen = g->cats[k] == (uint32) v;
					if (!seen)
					{
						if (nlev == g->ncats_cap)
						{
							g->ncats_cap *= 2;
							g->cats = repalloc(g->cats, sizeof(uint32) * g->ncats_cap);
						}
						g->cats[nlev++] = (uint32) v;
					}
				}
				cats = palloc(sizeof(uint32) * nlev);
				while (ncats == 0 || ncats == nlev)
				{
					ncats = 0;
					for (uint32 k = 0; k < nlev; k++)
						if (uba_random_below(g->rng, 2) == 1)
							cats[ncats++] = g->cats[k];
				}
				qsort(cats, ncats, sizeof(uint32), CompareU32);
			}
			else
			{
				/* uniform in [lo_v, hi_v), in float32 and above the smallest value, so neither side is empty */
				thr = (float) ((double) lo_v + uba_random_double(g->rng) * ((double) hi_v - (double) lo_v));
				if (!(thr > lo_v))
					thr = nextafterf(lo_v, INFINITY);
				if (thr > hi_v)
					thr = hi_v;
			}

			/* partition: left (x < thr, or a category not in the set) first, then right, then missing */
#define GOES_LEFT(v) (g->categorical[f] ? bsearch(&(uint32){(uint32) (v)}, cats, ncats, sizeof(uint32), CompareU32) == NULL : (v) < thr)
			{
				int64		m = lo;

				/* missing rows to the end */
				for (int64 i = lo; i <= b;)
				{
					float		v = g->x[(Size) g->rows[i] * g->d + f];

					if (isnan(v))
					{
						int64		t = g->rows[i];

						g->rows[i] = g->rows[b];
						g->rows[b] = t;
						b--;
						nmissing++;
					}
					else
						i++;
				}
				for (int64 i = lo; i <= b; i++)
				{
					float		v = g->x[(Size) g->rows[i] * g->d + f];

					if (GOES_LEFT(v))
					{
						int64		t = g->rows[i];

						g->rows[i] = g->rows[m];
						g->rows[m] = t;
						m++;
					}
				}
				a = m;
			}
#undef GOES_LEFT
			nleft = a - lo;
			nright = (b + 1) - a;
			default_left = nleft >= nright;
			/* missing rows join the default side: move them next to it */
			if (default_left && nmissing > 0)
			{
				/* rotate [a, hi) so that the missing rows (at its end) come first */
				for (int64 k = 0; k < nmissing; k++)
				{
					int64		t = g->rows[b + 1 + k];

					g->rows[b + 1 + k] = g->rows[a + k];
					g->rows[a + k] = t;
				}
				nleft += nmissing;
			}
			else
				nright += nmissing;

			nd = &(*out)[me];
			nd->feature = (uint32) f;
			nd->default_left = default_left;
			nd->value = g->categorical[f] ? 0 : thr;
			nd->cats = cats;
			nd->ncats = ncats;
			{
				uint32		l = GrowNode(g, out, cap, lo, lo + nleft, depth + 1);
				uint32		r = GrowNode(g, out, cap, lo + nleft, hi, depth + 1);

				(*out)[me].left = l;
				(*out)[me].right = r;
			}
			return me;
		}
	}
	/* every feature is constant here: a leaf */
	(*out)[me].feature = UBA_TREE_LEAF;
	(*out)[me].value = (float) (depth + uba_average_path_length((double) size));
	return me;
}

/* max_samples rows of n, without replacement, into rows (Floyd's method; a shuffle for large samples) */
static void
Sample(UbaRandom *rng, int64 n, int64 k, int64 *rows, int64 *scratch)
{
	if (k == n)
	{
		for (int64 i = 0; i < n; i++)
			rows[i] = i;
		return;
	}
	if (k <= 4096)
	{
		int64		got = 0;

		for (int64 j = n - k; j < n; j++)
		{
			int64		t = (int64) uba_random_below(rng, (uint64) j + 1);
			bool		seen = false;

			for (int64 i = 0; i < got && !seen; i++)
				seen = rows[i] == t;
			rows[got++] = seen ? j : t;
		}
		/* in row order, so the growth does not depend on the draw's order */
		qsort(rows, k, sizeof(int64), uba_cmp_int64);
		return;
	}
	for (int64 i = 0; i < n; i++)
		scratch[i] = i;
	for (int64 i = 0; i < k; i++)
	{
		int64		j = i + (int64) uba_random_below(rng, (uint64) (n - i));
		int64		t = scratch[i];

		scratch[i] = scratch[j];
		scratch[j] = t;
		rows[i] = scratch[i];
	}
	qsort(rows, k, sizeof(int64), uba_cmp_int64);
}

Datum
uba_isolation_forest_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MemoryContext cxt,
				old;
	Grow		g;
	UbaRandom	rng;
	UbaWriter	trees;
	int64		n,
				psi;
	int			d,
				ntrees;
	double		share;
	float	   *xf;
	int64	   *scratch = NULL;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_parse_row_options(rs->options, iforest_options, lengthof(iforest_options), "uba_isolation_forest",
						  rs->enc != NULL, UBA_ENC_CODES, &o);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba isolation forest", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);
	n = rs->n;
	d = rs->dim;
	ntrees = (int) uba_option(&o, "n_estimators");
	share = uba_option(&o, "max_samples");
	psi = share < 1 ? (int64) ceil(share * (double) n) : Min((int64) share, n);
	psi = Max(psi, 1);
	if (psi > PG_INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("max_samples of " INT64_FORMAT " rows is more than a tree can hold", psi),
				 errhint("Trees of 256 rows, the default, are the method's own choice.")));
	uba_check_memory(add_size(mul_size((Size) n, (Size) d * sizeof(float)),
							  mul_size((Size) psi, 2 * sizeof(int64) + 2 * sizeof(PendingNode))),
					 "isolation forest training");

	xf = MemoryContextAllocHuge(cxt, sizeof(float) * n * d);
	for (int64 i = 0; i < (int64) n * d; i++)
		xf[i] = (float) rs->x[i];
	memset(&g, 0, sizeof(g));
	g.x = xf;
	g.d = d;
	g.limit = (int) ceil(log2((double) Max(psi, 2)));
	g.rng = &rng;
	g.rows = MemoryContextAllocHuge(cxt, sizeof(int64) * psi);
	g.order = palloc(sizeof(int) * d);
	g.ncats_cap = 16;
	g.cats = palloc(sizeof(uint32) * g.ncats_cap);
	{
		bool	   *categorical = palloc0(sizeof(bool) * d);

		for (int k = 0; rs->enc && k < rs->enc->ncols; k++)
			categorical[rs->enc->cols[k].first] = rs->enc->cols[k].cls == UBA_COL_CATEGORY;
		g.categorical = categorical;
	}
	if (psi > 4096 && psi < n)
		scratch = MemoryContextAllocHuge(cxt, sizeof(int64) * n);

	uba_random_seed(&rng, (uint64) uba_option(&o, "seed") + 0x5851F42D4C957F2DULL);
	uba_writer_init(&trees);
	uba_put_u32(&trees, (uint32) ntrees);
	for (int t = 0; t < ntrees; t++)
	{
		uint32		cap = 64;
		PendingNode *nodes = palloc(sizeof(PendingNode) * cap);

		CHECK_FOR_INTERRUPTS();
		Sample(&rng, n, psi, g.rows, scratch);
		g.nnodes = 0;
		(void) GrowNode(&g, &nodes, &cap, 0, psi, 0);
		uba_put_u32(&trees, g.nnodes);
		for (uint32 i = 0; i < g.nnodes; i++)
			uba_tree_put_node(&trees, nodes[i].feature, nodes[i].default_left, nodes[i].left, nodes[i].right,
							  nodes[i].value, 0, nodes[i].cover, nodes[i].cats, nodes[i].ncats);
		pfree(nodes);
		if ((t + 1) % 100 == 0 || t + 1 == ntrees)
			uba_progress(&o, "uba_isolation_forest: tree %d of %d", t + 1, ntrees);
	}

	MemoryContextSwitchTo(old);
	result = uba_isolation_model(&o, rs, &trees, (uint32) ntrees, (int) psi, uba_option(&o, "contamination"));
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}
