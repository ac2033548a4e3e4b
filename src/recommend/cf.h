/*-------------------------------------------------------------------------
 *
 * cf.h
 *	  Shared pieces of the recommenders (src/recommend): the method codes
 *	  and limits, the sparse user x item matrices training builds, the
 *	  float kernels training and serving share, top-n candidates, and the
 *	  parsed model.  The payload layout is described in cf_model.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_CF_H
#define UBA_CF_H

#include "uba.h"

#define CF_METHOD_ALS 0
#define CF_METHOD_ITEM_KNN 1
#define CF_METHOD_EASE 2
/* EASE inverts an items x items matrix: n^3 operations, minutes at this size */
#define CF_EASE_MAX_ITEMS 20000
#define CF_SOLVER_CG 0
#define CF_SOLVER_CHOLESKY 1
#define CF_MAX_FACTORS 1024
#define CF_MAX_NEIGHBORS 10000

#define CF_FEEDBACK_EXPLICIT 1
/* payload flags: explicit feedback, and the kinds of user and item ids (ids.c; 0 bigint) */
#define CF_FLAG_EXPLICIT 1
#define CF_USER_KIND_SHIFT 8
#define CF_ITEM_KIND_SHIFT 12
#define CF_KIND_MASK 0xF

extern const char *const uba_cf_methods[];

/*
 * Memory one event may need while training: itself (24 bytes), its sort
 * keys (two of 16), its place in the by-user and by-item lists (8 each).
 */
#define CF_EVENT_PEAK_BYTES 88

/* Sparse rows: for row r, entries off[r] .. off[r + 1] - 1 of col and val */
typedef struct CfSparse
{
	int64		rows;
	int64	   *off;			/* rows + 1 */
	uint32	   *col;
	float	   *val;			/* alpha * summed weight = c - 1 */
} CfSparse;

/* Factors are stored with rows padded to a multiple of 8 floats (zeros) */
#define CF_PAD(f) (((f) + 7) & ~7)

typedef float CfVec __attribute__((vector_size(32), aligned(4)));

/* The kernels are inlined into the solver, which is compiled for AVX2 too */
#define CF_INLINE static inline __attribute__((always_inline))

/*
 * a . b over fs floats (a multiple of 8): two vectors of 8 partial sums
 * (even and odd groups of 8, so the additions overlap), added in a fixed
 * order whatever the vector width.
 */
CF_INLINE float
Dot(const float *restrict a, const float *restrict b, int fs)
{
	CfVec		acc0 = {0},
				acc1 = {0};
	int			j = 0;

	for (; j + 16 <= fs; j += 16)
	{
		acc0 += *(const CfVec *) (a + j) * *(const CfVec *) (b + j);
		acc1 += *(const CfVec *) (a + j + 8) * *(const CfVec *) (b + j + 8);
	}
	if (j < fs)
		acc0 += *(const CfVec *) (a + j) * *(const CfVec *) (b + j);
	acc0 += acc1;
	return ((acc0[0] + acc0[1]) + (acc0[2] + acc0[3])) + ((acc0[4] + acc0[5]) + (acc0[6] + acc0[7]));
}

/* y += t * x */
CF_INLINE void
Axpy(float t, const float *restrict x, float *restrict y, int fs)
{
	for (int j = 0; j < fs; j += 8)
		*(CfVec *) (y + j) += t * *(const CfVec *) (x + j);
}

/*
 * Rows per block when solving: rows cost very different amounts (a popular
 * item has thousands of users), so blocks are small and the threads take
 * lanes of them as they finish.  Each row's arithmetic is the same however
 * rows are grouped.
 */
#define CF_BLOCK_ROWS 32

/* A candidate for the top n */
typedef struct Scored
{
	float		score;
	uint32		item;
} Scored;

/* Does a rank before b: higher score, then smaller item index (smaller id) */
static inline bool
Better(Scored a, Scored b)
{
	return a.score > b.score || (a.score == b.score && a.item < b.item);
}

typedef struct CfModel
{
	int64		nusers;
	int64		nitems;
	int			f;
	int			fs;
	int			iterations;
	double		reg;
	double		alpha;
	double		loss;
	UbaIds		users;			/* sorted: user u is users' u-th id */
	UbaIds		items;
	uint32	   *popularity;
	int64	   *seen_off;		/* nusers + 1 */
	uint32	   *seen;
	float	   *seen_conf;		/* c - 1 of each seen pair */
	int			method;
	bool		explicit;		/* ALS on ratings: seen_conf holds the ratings */
	float	   *X;				/* ALS: nusers x fs, padding zero */
	float	   *Y;				/* ALS: nitems x fs */
	int64	   *nbr_off;		/* item_knn: nitems + 1 */
	uint32	   *nbr;			/* item_knn: each item's neighbours, most similar first */
	float	   *nbr_sim;		/* item_knn: their cosine similarities */
	uint32	   *by_popularity;	/* item indexes, most popular first */
	MemoryContext cxt;			/* where the model lives, for what is computed later */
	double	   *YtY;			/* f x f, computed on first fold-in */
	float	   *item_norms;		/* nitems, computed on first similar-items call */
} CfModel;

/* training (als.c, item_knn.c, ease.c) */
extern void uba_cf_check_als_memory(int64 events, int64 nusers, int64 nitems, int f);
extern double uba_cf_train_als(CfSparse *byuser, CfSparse *byitem, int64 nusers, int64 nitems,
							   const UbaOptions *o, float **Xp, float **Yp);
extern void uba_cf_train_item_knn(const CfSparse *byuser, const CfSparse *byitem, int64 nitems, int k,
								  int64 **off, uint32 **nbr, float **sim);
extern void uba_cf_train_ease(const CfSparse *byuser, const CfSparse *byitem, int64 nusers, int64 nitems,
							  double lambda, int k, int64 **off, uint32 **nbr, float **w);

/* the best n (topn.c) */
extern void uba_cf_heap_offer(Scored *heap, int *size, int n, Scored c);
extern int	uba_cf_compare_scored(const void *a, const void *b);

/* the model (cf_model.c): parse and validate a payload into a CfModel */
extern void *uba_cf_parse(const UbaModelMeta *meta, UbaReader *r);

#endif							/* UBA_CF_H */
