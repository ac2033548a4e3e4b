/*-------------------------------------------------------------------------
 *
 * trees.h
 *	  What the tree ensembles of src/predict share: one tree format and one
 *	  evaluator (boost.c) for boosted trees, forests and isolation forests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_TREES_H
#define UBA_TREES_H

#include "uba.h"

/* a node of a tree as the payload stores it (see boost.c); categories: those that go right */
extern void uba_tree_put_node(UbaWriter *w, uint32 feature, bool default_left, uint32 left,
							  uint32 right, float value, float gain, float cover,
							  const uint32 *cats, uint32 ncats);
#define UBA_TREE_LEAF 0xFFFFFFFFu

/*
 * An isolation forest's model from its trees (ntrees, written with
 * uba_tree_put_node after their node counts): leaves hold path lengths;
 * the anomaly threshold is 0.5, or with contamination > 0 the training
 * rows' score at that upper quantile.
 */
extern bytea *uba_isolation_model(const UbaOptions *o, UbaRowSet *rs, UbaWriter *trees,
								  uint32 ntrees, int max_samples, double contamination);

/* c(n): the average path length of an unsuccessful search in a binary search tree of n keys */
static inline double
uba_average_path_length(double n)
{
	if (n <= 1)
		return 0;
	if (n <= 2)
		return 1;
	return 2.0 * (log(n - 1.0) + 0.5772156649015329) - 2.0 * (n - 1.0) / n;
}

#endif							/* UBA_TREES_H */
