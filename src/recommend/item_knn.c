/*-------------------------------------------------------------------------
 *
 * item_knn.c
 *	  Method item_knn: each item's most similar items by cosine on the
 *	  binary user x item matrix, from exact integer co-occurrence counts on
 *	  up to uba.threads threads.
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"

#include <math.h>
#include "miscadmin.h"
#include "utils/memutils.h"

/* What KnnBlock needs (everything allocated before the threads start) */
typedef struct KnnArg
{
	const CfSparse *byuser;
	const CfSparse *byitem;
	int64		nitems;
	int			k;
	uint32	   *lane_counts;	/* UBA_LANES x nitems, zero between items */
	uint32	   *lane_touched;	/* UBA_LANES x nitems */
	Scored	   *lane_heap;		/* UBA_LANES x k */
	uint32	   *nbr;			/* nitems x k */
	float	   *sim;			/* nitems x k */
	int32	   *found;			/* neighbours kept per item */
} KnnArg;

/*
 * Neighbours of one block of items (runs on any thread): co-occurrence
 * counts with every other item through the item's users, cosine
 * C_ij / sqrt(n_i n_j) on the binary matrix, the k largest kept (ties:
 * smaller index).  Counts are integers, so nothing depends on order.
 */
static void
KnnBlock(void *arg, int64 block, int lane)
{
	KnnArg	   *a = (KnnArg *) arg;
	uint32	   *counts = a->lane_counts + (Size) lane * a->nitems;
	uint32	   *touched = a->lane_touched + (Size) lane * a->nitems;
	Scored	   *heap = a->lane_heap + (Size) lane * a->k;
	const CfSparse *bi = a->byitem;
	const CfSparse *bu = a->byuser;
	int64		i1 = Min(a->nitems, (block + 1) * CF_BLOCK_ROWS);

	for (int64 i = block * CF_BLOCK_ROWS; i < i1; i++)
	{
		int64		ntouched = 0;
		double		ni = (double) (bi->off[i + 1] - bi->off[i]);
		int			size = 0;

		for (int64 t = bi->off[i]; t < bi->off[i + 1]; t++)
		{
			uint32		u = bi->col[t];

			for (int64 q = bu->off[u]; q < bu->off[u + 1]; q++)
			{
				uint32		j = bu->col[q];

				if (j != i && counts[j]++ == 0)
					touched[ntouched++] = j;
			}
		}
		for (int64 t = 0; t < ntouched; t++)
		{
			uint32		j = touched[t];
			double		nj = (double) (bi->off[j + 1] - bi->off[j]);

			uba_cf_heap_offer(heap, &size, a->k, (Scored) {(float) (counts[j] / sqrt(ni * nj)), j});
			counts[j] = 0;
		}
		qsort(heap, size, sizeof(Scored), uba_cf_compare_scored);
		for (int t = 0; t < size; t++)
		{
			a->nbr[(Size) i * a->k + t] = heap[t].item;
			a->sim[(Size) i * a->k + t] = heap[t].score;
		}
		a->found[i] = size;
	}
}

/* Item neighbours for method item_knn: at most k per item, most similar first */
void
uba_cf_train_item_knn(const CfSparse *byuser, const CfSparse *byitem, int64 nitems, int k,
			 int64 **off, uint32 **nbr, float **sim)
{
	KnnArg		a;
	int64		at = 0;

	a.byuser = byuser;
	a.byitem = byitem;
	a.nitems = nitems;
	a.k = k;
	a.lane_counts = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * UBA_LANES * nitems);
	memset(a.lane_counts, 0, sizeof(uint32) * UBA_LANES * nitems);
	a.lane_touched = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * UBA_LANES * nitems);
	a.lane_heap = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Scored) * UBA_LANES * k);
	a.nbr = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) nitems * k, sizeof(uint32)));
	a.sim = MemoryContextAllocHuge(CurrentMemoryContext, mul_size((Size) nitems * k, sizeof(float)));
	a.found = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * nitems);
	uba_run_lanes((nitems + CF_BLOCK_ROWS - 1) / CF_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
				  KnnBlock, &a);

	/* compact the lists */
	*off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (nitems + 1));
	for (int64 i = 0; i < nitems; i++)
	{
		(*off)[i] = at;
		memmove(a.nbr + at, a.nbr + (Size) i * k, sizeof(uint32) * a.found[i]);
		memmove(a.sim + at, a.sim + (Size) i * k, sizeof(float) * a.found[i]);
		at += a.found[i];
	}
	(*off)[nitems] = at;
	*nbr = a.nbr;
	*sim = a.sim;
}

/* What GramRowsBlock needs: the binary Gram matrix B'B, rows owned by blocks */
