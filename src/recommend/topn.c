/*-------------------------------------------------------------------------
 *
 * topn.c
 *	  The best n candidates by score, ties broken by item index, so results
 *	  do not depend on the order candidates come in (training and serving).
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"

/* Keep the best n in a min-heap (worst at the root) */
void
uba_cf_heap_offer(Scored *heap, int *size, int n, Scored c)
{
	int			i;

	if (*size < n)
	{
		i = (*size)++;
		while (i > 0 && Better(heap[(i - 1) / 2], c))
		{
			heap[i] = heap[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		heap[i] = c;
		return;
	}
	if (!Better(c, heap[0]))
		return;
	i = 0;
	for (;;)
	{
		int			l = 2 * i + 1,
					w = i;
		Scored		worst = c;

		if (l < n && Better(worst, heap[l]))
		{
			w = l;
			worst = heap[l];
		}
		if (l + 1 < n && Better(worst, heap[l + 1]))
		{
			w = l + 1;
			worst = heap[l + 1];
		}
		if (w == i)
			break;
		heap[i] = heap[w];
		i = w;
	}
	heap[i] = c;
}

int
uba_cf_compare_scored(const void *a, const void *b)
{
	Scored		x = *(const Scored *) a;
	Scored		y = *(const Scored *) b;

	return Better(x, y) ? -1 : Better(y, x) ? 1 : 0;
}

