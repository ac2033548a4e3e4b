/*-------------------------------------------------------------------------
 *
 * cluster_quality.h
 *	  The quality measures of cluster_quality.c on rows in memory, for the
 *	  k sweep as for the aggregates: rows of X (row-major) and their
 *	  clusters as 0..L-1, each present.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_CLUSTER_QUALITY_H
#define UBA_CLUSTER_QUALITY_H

#include "uba.h"

extern int64 *uba_cluster_sample(int64 n, int64 m, uint64 seed);
extern double uba_cluster_silhouette(const double *X, int d, const int64 *idx, int64 m,
									 const int *lab, int L);
extern double uba_cluster_davies_bouldin(const double *X, int64 n, int d, const int *lab, int L);
extern double uba_cluster_calinski_harabasz(const double *X, int64 n, int d, const int *lab, int L);

#endif
