/*-------------------------------------------------------------------------
 *
 * kmeans.h
 *	  What k-means training in memory (kmeans.c) and by passes
 *	  (kmeans_passes.c) share: the parsed model, its payload.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_KMEANS_H
#define UBA_KMEANS_H

#include "uba.h"

#define KMEANS_FLAG_STANDARDIZE 1
#define KMEANS_MAX_K 100000

/* The options of a fit, shared by uba_kmeans and the k sweep (in this order: it is the models' text) */
extern const char *const uba_kmeans_init_choices[];
#define UBA_KMEANS_FIT_OPTIONS \
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL}, \
	{"n_init", UBA_OPT_INT, 1, 1, 1000, NULL}, \
	{"max_iter", UBA_OPT_INT, 300, 1, 1000000, NULL}, \
	{"tol", UBA_OPT_FLOAT, 1e-4, 0, 1e6, NULL}, \
	{"init", UBA_OPT_CHOICE, 0, 0, 0, uba_kmeans_init_choices}

/* A parsed model */
typedef struct KMeansModel
{
	int			k;
	int			d;
	bool		standardize;
	int			n_iter;
	double		inertia;
	double	   *mean;			/* d, when standardized */
	double	   *scale;			/* d, when standardized */
	double	   *centroids;		/* k x d, fitting space */
	int64	   *sizes;			/* k */
	double	   *scratch;		/* d, for scoring one row */
	UbaEncoding *enc;			/* typed rows' encoding, or NULL */
} KMeansModel;

/* A fit's result: the best run's centres (k x d), sizes, labels (n, from 0) */
typedef struct UbaKMeansFit
{
	double	   *centers;
	int64	   *counts;
	int32	   *labels;
	double		inertia;
	int			iterations;
} UbaKMeansFit;

extern void uba_kmeans_fit(const UbaOptions *o, const double *X, int64 n, int d, int k, double tol,
						   const double *given, UbaKMeansFit *fit);
extern void uba_kmeans_seeded(const double *X, int64 n, int d, int k, uint64 seed, UbaKMeansFit *fit);
extern void *uba_kmeans_parse(const UbaModelMeta *meta, UbaReader *r);
extern KMeansModel *uba_kmeans_parse_part(const UbaModelMeta *meta, UbaReader *r);
extern void uba_kmeans_payload(UbaWriter *pw, int k, int d, bool standardize, int iterations,
							   double inertia, const double *mean, const double *scale,
							   const double *centers, const int64 *counts);
extern void uba_kmeans_given_centers(const UbaOptions *o, const char *what, int k, int d,
									 const double *mean, const double *scale, double *centers);

#endif
