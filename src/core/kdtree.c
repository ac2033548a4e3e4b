/*-------------------------------------------------------------------------
 *
 * kdtree.c
 *	  A k-d tree over points for radius and nearest-neighbour queries in
 *	  few dimensions (DBSCAN's neighbourhoods, its assignment of new rows).
 *
 * Built on the backend thread (palloc, interrupts); queried from any
 * thread: the queries read the tree only.  Nodes split a range of points
 * at its median along the widest side of its bounding box, so the tree is
 * balanced (depth about log2(n / leaf)) whatever the data, and its shape
 * depends on the points alone.  Query results do not depend on the shape:
 * a count is a count, and the nearest point breaks distance ties by the
 * caller's index, so trees built from the same points in another order
 * answer alike.
 *
 * Distances are Euclidean (compared squared: a point is within r when its
 * squared distance is <= r * r, as scikit-learn's KDTree compares) or
 * Manhattan.  Memory: the points copied in tree order, their indexes and
 * at most n / 4 nodes with a box each (uba_kdtree_bytes).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

/* Points per leaf: scanning a leaf is cheaper than descending further */
#define KD_LEAF 16
/* A balanced tree of n < 2^63 points is far shallower than this */
#define KD_MAX_DEPTH 128

typedef struct UbaKdNode
{
	int64		start;			/* points [start, end) in tree order */
	int64		end;
	int32		left;			/* children, or -1 for a leaf */
	int32		right;
} UbaKdNode;

/* Nodes a tree of n points needs at most: leaves hold more than KD_LEAF / 2 points */
static int64
MaxNodes(int64 n)
{
	return 4 * (n / KD_LEAF) + 3;
}

Size
uba_kdtree_bytes(int64 n, int d)
{
	Size		nodes = (Size) MaxNodes(n);

	return add_size(mul_size((Size) n, (Size) d * sizeof(double) + sizeof(int64)),
					mul_size(nodes, sizeof(UbaKdNode) + 2 * (Size) d * sizeof(double)));
}

/* Distance of two points: squared Euclidean or Manhattan */
static inline double
PointDist(const double *a, const double *b, int d, bool l1)
{
	if (l1)
	{
		double		s = 0;

		for (int j = 0; j < d; j++)
			s += fabs(a[j] - b[j]);
		return s;
	}
	return uba_sqdist(a, b, d);
}

/* Least distance from q to a box (0 inside it) */
static inline double
BoxMinDist(const double *q, const double *lo, const double *hi, int d, bool l1)
{
	double		s = 0;

	for (int j = 0; j < d; j++)
	{
		double		g = q[j] < lo[j] ? lo[j] - q[j] : (q[j] > hi[j] ? q[j] - hi[j] : 0);

		s += l1 ? g : g * g;
	}
	return s;
}

/* Greatest distance from q to a point of a box */
static inline double
BoxMaxDist(const double *q, const double *lo, const double *hi, int d, bool l1)
{
	double		s = 0;

	for (int j = 0; j < d; j++)
	{
		double		g = Max(fabs(q[j] - lo[j]), fabs(hi[j] - q[j]));

		s += l1 ? g : g * g;
	}
	return s;
}

/* xorshift64: pivots drawn at random make every input cost O(n) on average */
static inline uint64
NextRandom(uint64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Put the point of rank mid (by coordinate j) at idx[mid], smaller ones
 * before it and larger ones after (Hoare's selection; equal keys end up on
 * both sides, which keeps ranges of duplicates balanced).
 */
static void
SelectMedian(int64 *idx, int64 lo, int64 hi, int64 mid, const double *X, int d, int j,
			 uint64 *rng)
{
	while (hi - lo > 1)
	{
		int64		p = lo + (int64) (NextRandom(rng) % (uint64) (hi - lo));
		double		pivot = X[(Size) idx[p] * d + j];
		int64		a = lo,
					b = hi - 1;

		while (a <= b)
		{
			while (X[(Size) idx[a] * d + j] < pivot)
				a++;
			while (X[(Size) idx[b] * d + j] > pivot)
				b--;
			if (a <= b)
			{
				int64		t = idx[a];

				idx[a] = idx[b];
				idx[b] = t;
				a++;
				b--;
			}
		}
		/* [lo, b] <= pivot <= [a, hi); between them, equal to it */
		if (mid <= b)
			hi = b + 1;
		else if (mid >= a)
			lo = a;
		else
			return;
	}
}

typedef struct KdBuild
{
	UbaKdTree  *t;
	const double *X;
	uint64		rng;
} KdBuild;

/* Make the node for points [start, end) of t->idx; returns its number */
static int32
BuildNode(KdBuild *b, int64 start, int64 end, int depth)
{
	UbaKdTree  *t = b->t;
	int			d = t->d;
	int32		id = t->nnodes++;
	UbaKdNode  *node = &t->nodes[id];
	double	   *lo = t->boxes + (Size) id * 2 * d;
	double	   *hi = lo + d;
	int			wide = 0;

	if (id >= MaxNodes(t->n) || depth >= KD_MAX_DEPTH)
		elog(ERROR, "uba: k-d tree node count exceeded its bound");
	if (end - start > 65536)
		CHECK_FOR_INTERRUPTS();
	node->start = start;
	node->end = end;
	node->left = node->right = -1;
	for (int j = 0; j < d; j++)
	{
		lo[j] = get_float8_infinity();
		hi[j] = -get_float8_infinity();
	}
	for (int64 i = start; i < end; i++)
	{
		const double *x = b->X + (Size) t->idx[i] * d;

		for (int j = 0; j < d; j++)
		{
			lo[j] = Min(lo[j], x[j]);
			hi[j] = Max(hi[j], x[j]);
		}
	}
	if (end - start <= KD_LEAF)
		return id;
	for (int j = 1; j < d; j++)
		if (hi[j] - lo[j] > hi[wide] - lo[wide])
			wide = j;
	if (!(hi[wide] > lo[wide]))
		return id;				/* every point the same: one leaf, however many */
	{
		int64		mid = start + (end - start) / 2;
		int32		left,
					right;

		SelectMedian(t->idx, start, end, mid, b->X, d, wide, &b->rng);
		left = BuildNode(b, start, mid, depth + 1);
		right = BuildNode(b, mid, end, depth + 1);
		/* t->nodes is not moved by the recursion: allocated at its bound */
		t->nodes[id].left = left;
		t->nodes[id].right = right;
	}
	return id;
}

/*
 * A tree over the n points of X (n x d, row-major; copied), queried with
 * Manhattan distances when l1, else Euclidean.  A point's index is its row
 * in X.
 */
UbaKdTree *
uba_kdtree_build(const double *X, int64 n, int d, bool l1)
{
	UbaKdTree  *t = palloc0(sizeof(UbaKdTree));
	KdBuild		b;

	t->d = d;
	t->n = n;
	t->l1 = l1;
	t->idx = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n, 1));
	t->nodes = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaKdNode) * MaxNodes(n));
	t->boxes = MemoryContextAllocHuge(CurrentMemoryContext,
									  mul_size((Size) MaxNodes(n), 2 * (Size) d * sizeof(double)));
	for (int64 i = 0; i < n; i++)
		t->idx[i] = i;
	b.t = t;
	b.X = X;
	b.rng = UINT64CONST(0x9E3779B97F4A7C15);
	if (n > 0)
		BuildNode(&b, 0, n, 0);
	/* the points in tree order: a leaf's points are adjacent in memory */
	t->pts = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) Max(n, 1), (Size) d * sizeof(double)));
	for (int64 i = 0; i < n; i++)
	{
		memcpy(t->pts + (Size) i * d, X + (Size) t->idx[i] * d, sizeof(double) * d);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return t;
}

/* r as the tree compares it: squared for Euclidean distances */
static inline double
Reach(const UbaKdTree *t, double r)
{
	return t->l1 ? r : r * r;
}

/* How many points lie within r of q, counting no further than limit (thread safe) */
int64
uba_kdtree_count(const UbaKdTree *t, const double *q, double r, int64 limit)
{
	double		rr = Reach(t, r);
	int32		stack[KD_MAX_DEPTH + 1];
	int			top = 0;
	int64		count = 0;
	int			d = t->d;

	if (t->n == 0)
		return 0;
	stack[top++] = 0;
	while (top > 0 && count < limit)
	{
		const UbaKdNode *node = &t->nodes[stack[--top]];
		const double *lo = t->boxes + (Size) (node - t->nodes) * 2 * d;

		if (BoxMinDist(q, lo, lo + d, d, t->l1) > rr)
			continue;
		if (BoxMaxDist(q, lo, lo + d, d, t->l1) <= rr)
		{
			count += node->end - node->start;	/* the whole box is within reach */
			continue;
		}
		if (node->left < 0)
		{
			for (int64 i = node->start; i < node->end; i++)
				if (PointDist(q, t->pts + (Size) i * d, d, t->l1) <= rr)
					count++;
			continue;
		}
		stack[top++] = node->right;
		stack[top++] = node->left;
	}
	return Min(count, limit);
}

/* Call fn for each point within r of q (its index); fn returns false to stop */
void
uba_kdtree_within(const UbaKdTree *t, const double *q, double r,
				  bool (*fn) (void *arg, int64 index), void *arg)
{
	double		rr = Reach(t, r);
	int32		stack[KD_MAX_DEPTH + 1];
	int			top = 0;
	int			d = t->d;

	if (t->n == 0)
		return;
	stack[top++] = 0;
	while (top > 0)
	{
		const UbaKdNode *node = &t->nodes[stack[--top]];
		const double *lo = t->boxes + (Size) (node - t->nodes) * 2 * d;

		if (BoxMinDist(q, lo, lo + d, d, t->l1) > rr)
			continue;
		if (node->left < 0)
		{
			for (int64 i = node->start; i < node->end; i++)
				if (PointDist(q, t->pts + (Size) i * d, d, t->l1) <= rr && !fn(arg, t->idx[i]))
					return;
			continue;
		}
		stack[top++] = node->right;
		stack[top++] = node->left;
	}
}

/*
 * The nearest point within r of q (its index; -1 when none), equally near
 * ones by the lowest index; *dist its distance as compared (squared when
 * Euclidean).  Thread safe.
 */
int64
uba_kdtree_nearest(const UbaKdTree *t, const double *q, double r, double *dist)
{
	double		best = Reach(t, r);
	int64		found = -1;
	int32		stack[KD_MAX_DEPTH + 1];
	int			top = 0;
	int			d = t->d;

	if (t->n > 0)
		stack[top++] = 0;
	while (top > 0)
	{
		int32		id = stack[--top];
		const UbaKdNode *node = &t->nodes[id];
		const double *lo = t->boxes + (Size) id * 2 * d;

		/* ties must be seen: prune only what is strictly farther */
		if (BoxMinDist(q, lo, lo + d, d, t->l1) > best)
			continue;
		if (node->left < 0)
		{
			for (int64 i = node->start; i < node->end; i++)
			{
				double		v = PointDist(q, t->pts + (Size) i * d, d, t->l1);

				if (v < best || (v == best && (found < 0 || t->idx[i] < found)))
				{
					best = v;
					found = t->idx[i];
				}
			}
			continue;
		}
		else
		{
			const double *llo = t->boxes + (Size) node->left * 2 * d;
			const double *rlo = t->boxes + (Size) node->right * 2 * d;
			double		dl = BoxMinDist(q, llo, llo + d, d, t->l1);
			double		dr = BoxMinDist(q, rlo, rlo + d, d, t->l1);

			/* the nearer child is searched first: it tightens best sooner */
			if (dl <= dr)
			{
				stack[top++] = node->right;
				stack[top++] = node->left;
			}
			else
			{
				stack[top++] = node->left;
				stack[top++] = node->right;
			}
		}
	}
	*dist = best;
	return found;
}

/* Give the points new indexes: index i becomes map[i] (the tree is unchanged) */
void
uba_kdtree_renumber(UbaKdTree *t, const int64 *map)
{
	for (int64 i = 0; i < t->n; i++)
		t->idx[i] = map[t->idx[i]];
}
