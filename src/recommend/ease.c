/*-------------------------------------------------------------------------
 *
 * ease.c
 *	  Method ease (Steck 2019): closed-form item-item regression weights
 *	  from the inverse of X'X + lambda I; each item keeps its largest.
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"

#include <math.h>
#include "miscadmin.h"
#include "utils/memutils.h"

typedef struct EaseArg
{
	const CfSparse *byuser;
	const CfSparse *byitem;
	int64		nitems;
	float	   *G;				/* nitems x nitems */
	float	   *P;				/* the inverse, for the neighbour lists */
	int			k;
	Scored	   *lane_heap;		/* UBA_LANES x k */
	uint32	   *nbr;			/* nitems x k */
	float	   *w;				/* nitems x k */
	int32	   *found;
} EaseArg;

/*
 * Rows of B'B for one block of items (runs on any thread): for item i and
 * each j >= i (the upper triangle, all the inversion reads), the number of
 * users who have both, counted through i's users.  Each block writes only
 * its own rows; counts are exact in float below 2^24.
 */
static void
EaseGramBlock(void *arg, int64 block, int lane)
{
	EaseArg    *a = (EaseArg *) arg;
	int64		i1 = Min(a->nitems, (block + 1) * CF_BLOCK_ROWS);

	for (int64 i = block * CF_BLOCK_ROWS; i < i1; i++)
	{
		float	   *row = a->G + (Size) i * a->nitems;

		for (int64 t = a->byitem->off[i]; t < a->byitem->off[i + 1]; t++)
		{
			uint32		u = a->byitem->col[t];
			const uint32 *items = a->byuser->col + a->byuser->off[u];
			int64		nu = a->byuser->off[u + 1] - a->byuser->off[u];
			/* the user's items are sorted: count from i on (the inversion reads the upper triangle) */
			const uint32 *from = bsearch(&(uint32) {(uint32) i}, items, nu, sizeof(uint32), uba_cmp_uint32);

			for (const uint32 *q = from; q < items + nu; q++)
				row[*q] += 1.0f;
		}
	}
}

/*
 * Item i's kept weights (runs on any thread): B_ij = -P_ij / P_jj for
 * j != i, the k largest in magnitude (ties: smaller j), largest first.
 */
static void
EaseKeepBlock(void *arg, int64 block, int lane)
{
	EaseArg    *a = (EaseArg *) arg;
	Scored	   *heap = a->lane_heap + (Size) lane * a->k;
	int64		n = a->nitems;
	int64		i1 = Min(n, (block + 1) * CF_BLOCK_ROWS);

	for (int64 i = block * CF_BLOCK_ROWS; i < i1; i++)
	{
		const float *row = a->P + (Size) i * n;
		int			size = 0;

		/* the largest in magnitude: negative weights hold back items as much as positive ones push */
		for (int64 j = 0; j < n; j++)
			if (j != i)
				uba_cf_heap_offer(heap, &size, a->k, (Scored) {fabsf(row[j] / a->P[(Size) j * n + j]), (uint32) j});
		qsort(heap, size, sizeof(Scored), uba_cf_compare_scored);
		for (int t = 0; t < size; t++)
		{
			uint32		j = heap[t].item;

			a->nbr[(Size) i * a->k + t] = j;
			a->w[(Size) i * a->k + t] = -row[j] / a->P[(Size) j * n + j];
		}
		a->found[i] = size;
	}
}

/*
 * EASE (Steck 2019): the item-item weights B = I - P diag(1 / diag(P)),
 * diagonal zero, with P = (B'B + lambda I)^-1 on the binary matrix, the
 * closed-form solution of the least-squares item-to-item regression with
 * a zero diagonal.  Each item keeps its k largest weights.
 */
void
uba_cf_train_ease(const CfSparse *byuser, const CfSparse *byitem, int64 nusers, int64 nitems, double lambda,
		  int k, int64 **off, uint32 **nbr, float **w)
{
	EaseArg		a;
	int64		at = 0;
	int64		nblocks = (nitems + CF_BLOCK_ROWS - 1) / CF_BLOCK_ROWS;

	a.byuser = byuser;
	a.byitem = byitem;
	a.nitems = nitems;
	a.k = (int) Min((int64) k, Max(nitems - 1, 1));
	a.G = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) nitems * nitems, sizeof(float)));
	memset(a.G, 0, sizeof(float) * nitems * nitems);
	uba_run_lanes(nblocks, UBA_LANES, uba_thread_count(), EaseGramBlock, &a);
	for (int64 i = 0; i < nitems; i++)
		a.G[(Size) i * nitems + i] += (float) lambda;
	CHECK_FOR_INTERRUPTS();
	if (!uba_spd_inverse_f32((int) nitems, a.G))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the EASE system cannot be solved"),
				 errhint("Set regularization above 0.")));
	CHECK_FOR_INTERRUPTS();
	a.P = a.G;
	a.lane_heap = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Scored) * UBA_LANES * a.k);
	a.nbr = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) nitems * a.k, sizeof(uint32)));
	a.w = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) nitems * a.k, sizeof(float)));
	a.found = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * nitems);
	uba_run_lanes(nblocks, UBA_LANES, uba_thread_count(), EaseKeepBlock, &a);

	*off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (nitems + 1));
	for (int64 i = 0; i < nitems; i++)
	{
		(*off)[i] = at;
		memmove(a.nbr + at, a.nbr + (Size) i * a.k, sizeof(uint32) * a.found[i]);
		memmove(a.w + at, a.w + (Size) i * a.k, sizeof(float) * a.found[i]);
		at += a.found[i];
	}
	(*off)[nitems] = at;
	*nbr = a.nbr;
	*w = a.w;
	pfree(a.G);
}

