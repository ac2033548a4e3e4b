/*-------------------------------------------------------------------------
 *
 * cf.c
 *	  Collaborative filtering for recommendations: the uba_cf_train
 *	  aggregate over (user, item, weight) events, implicit-feedback ALS,
 *	  the model payload, and recommending for a user.
 *
 * ALS (Hu, Koren and Volinsky 2008) minimizes, over user factors x_u and
 * item factors y_i,
 *	  sum over all (u, i) of c_ui (p_ui - x_u . y_i)^2
 *		+ regularization (sum ||x_u||^2 + sum ||y_i||^2)
 * with c_ui = 1 + alpha w_ui and p_ui = 1 for observed pairs (w_ui the
 * summed weights), c_ui = 1 and p_ui = 0 for all others.  Each half
 * iteration fixes one side and solves every row of the other exactly for
 * its least squares problem
 *	  (Y'Y + Y_u' (C_u - I) Y_u + regularization I) x_u = Y_u' C_u p_u,
 * where Y'Y, shared by all rows, makes the unobserved pairs cost nothing
 * per row.  With explicit feedback (ratings), the rated pairs alone are
 * fitted, weighted-lambda style: (Y_u'Y_u + regularization n_u I) x_u =
 * Y_u' r_u.  The default solver takes a few conjugate-gradient steps per
 * row from its previous value (Takacs et al. 2011), which touch only the
 * row's observed items; "cholesky" factors the system.  Rows are solved on
 * up to uba.threads threads; each row's arithmetic is fixed, so the model
 * does not depend on the thread count.  Factors are single precision, as
 * the model stores them.
 *
 * Rows are ordered by id before training (and repeated pairs summed with
 * their weights in a fixed order), so the same events give the same model
 * in any order and under any plan.
 *
 * Methods item_knn and ease keep, instead of factors, weights from each
 * item to its most related items: cosine on the binary user-item matrix,
 * or EASE's closed-form regression weights (Steck 2019).
 *
 * Payload: users, items, factors or neighbours (u32 each), method (u32: 0
 * als, 1 item_knn, 2 ease), flags (u32: 1 explicit feedback), iterations
 * (u32), regularization, alpha, loss (f64), user ids and item ids (i64,
 * strictly increasing), item popularity (u32: distinct users), seen-item
 * offsets (u64, users + 1), seen items (u32 item indexes, increasing per
 * user) and their confidences c - 1 = alpha w, or ratings (f32); then for als the user and item factors (f32, row-major), for
 * item_knn and ease the offsets of each item's list (u64, items + 1), the
 * related items (u32) and their weights (f32), largest first.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_cf_transfn);
PG_FUNCTION_INFO_V1(uba_cf_final);
PG_FUNCTION_INFO_V1(uba_cf_recommend);
PG_FUNCTION_INFO_V1(uba_cf_recommend_items);
PG_FUNCTION_INFO_V1(uba_cf_similar_items);
PG_FUNCTION_INFO_V1(uba_cf_explain);

#define CF_METHOD_ALS 0
#define CF_METHOD_ITEM_KNN 1
#define CF_METHOD_EASE 2
/* EASE inverts an items x items matrix: n^3 operations, minutes at this size */
#define CF_EASE_MAX_ITEMS 20000
#define CF_SOLVER_CG 0
#define CF_SOLVER_CHOLESKY 1
#define CF_MAX_FACTORS 1024
#define CF_MAX_NEIGHBORS 10000

static const char *const cf_methods[] = {"als", "item_knn", "ease", NULL};
static const char *const cf_solvers[] = {"cg", "cholesky", NULL};
static const char *const cf_feedback[] = {"implicit", "explicit", NULL};

#define CF_FEEDBACK_EXPLICIT 1
/* payload flags */
#define CF_FLAG_EXPLICIT 1

static const UbaOptionSpec cf_options[] = {
	{"method", UBA_OPT_CHOICE, CF_METHOD_ALS, 0, 0, cf_methods},
	{"factors", UBA_OPT_INT, 64, 1, CF_MAX_FACTORS, NULL},
	{"iterations", UBA_OPT_INT, 15, 1, 1000, NULL},
	{"regularization", UBA_OPT_FLOAT, 0.1, 0, 1e9, NULL},
	{"alpha", UBA_OPT_FLOAT, 1, 0, 1e9, NULL},
	{"solver", UBA_OPT_CHOICE, CF_SOLVER_CG, 0, 0, cf_solvers},
	{"cg_steps", UBA_OPT_INT, 3, 1, 100, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"neighbors", UBA_OPT_INT, 20, 1, CF_MAX_NEIGHBORS, NULL},
	{"feedback", UBA_OPT_CHOICE, 0, 0, 0, cf_feedback},
};

/* ---------- collecting events (events.c) ---------- */

/*
 * Memory one event may need while training: itself (24 bytes), its sort
 * keys (two of 16), its place in the by-user and by-item lists (8 each).
 */
#define CF_EVENT_PEAK_BYTES 88

/* uba_cf_train(user_id, item_id, weight [, options]) transition: collect the event */
Datum
uba_cf_transfn(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;
	double		w;

	/* events with no user, item or weight are skipped, as built-in aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	w = PG_GETARG_FLOAT8(3);
	uba_check_finite(w, "interaction weights");
	if (w < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("interaction weights must not be negative"),
				 errdetail("Got %g for user " INT64_FORMAT " and item " INT64_FORMAT ".",
						   w, PG_GETARG_INT64(1), PG_GETARG_INT64(2)),
				 errhint("Weights count how strongly a user showed interest: views, purchases, quantities.")));
	if (st == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, cf_options, lengthof(cf_options), "uba_cf_train", &o);
		st = uba_events_start(fcinfo, opts, true, CF_EVENT_PEAK_BYTES);
	}
	else
		uba_check_same_options(st->options, opts);
	uba_events_add(st, PG_GETARG_INT64(1), PG_GETARG_INT64(2), w);
	PG_RETURN_POINTER(st);
}

/* ---------- from events to sparse matrices ---------- */

/* Sparse rows: for row r, entries off[r] .. off[r + 1] - 1 of col and val */
typedef struct CfSparse
{
	int64		rows;
	int64	   *off;			/* rows + 1 */
	uint32	   *col;
	float	   *val;			/* alpha * summed weight = c - 1 */
} CfSparse;

/*
 * The user x item matrix of summed weights (times alpha), by user and by
 * item.  Events are sorted by (user, item); a pair's repeated weights are
 * summed in increasing order, so the sums do not depend on event order.
 */
static int64
BuildMatrices(UbaEvents *st, double alpha, int64 nusers, const uint32 *uidx, int64 nitems,
			  const uint32 *iidx, CfSparse *byuser, CfSparse *byitem, uint32 *popularity)
{
	int64		n = st->n;
	UbaSortKey *a = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * n);
	UbaSortKey *b = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * n);
	UbaSortKey *s;
	int64		pairs = 0;
	double	   *ws = NULL;
	int64		wscap = 0;
	int64	   *fill;

	for (int64 i = 0; i < n; i++)
	{
		a[i].key = ((uint64) uidx[i] << 32) | iidx[i];
		a[i].idx = i;
	}
	s = uba_radix_sort(a, b, n);
	for (int64 i = 0; i < n; i++)
		if (i == 0 || s[i].key != s[i - 1].key)
			pairs++;

	byuser->rows = nusers;
	byuser->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (nusers + 1));
	byuser->col = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(pairs, 1));
	byuser->val = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(pairs, 1));
	memset(byuser->off, 0, sizeof(int64) * (nusers + 1));
	memset(popularity, 0, sizeof(uint32) * nitems);
	pairs = 0;
	for (int64 i = 0; i < n;)
	{
		int64		j = i + 1;
		double		sum;

		while (j < n && s[j].key == s[i].key)
			j++;
		if (j - i == 1)
			sum = st->w[s[i].idx];
		else
		{
			if (j - i > wscap)
			{
				wscap = Max(j - i, 2 * wscap);
				ws = ws ? repalloc_huge(ws, sizeof(double) * wscap) :
					MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * wscap);
			}
			for (int64 k = i; k < j; k++)
				ws[k - i] = st->w[s[k].idx];
			qsort(ws, j - i, sizeof(double), uba_cmp_double);
			sum = 0;
			for (int64 k = 0; k < j - i; k++)
				sum += ws[k];
		}
		byuser->off[(s[i].key >> 32) + 1]++;
		byuser->col[pairs] = (uint32) (s[i].key & 0xFFFFFFFF);
		byuser->val[pairs] = (float) (alpha * sum);
		popularity[byuser->col[pairs]]++;
		pairs++;
		i = j;
		if ((pairs & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int64 u = 0; u < nusers; u++)
		byuser->off[u + 1] += byuser->off[u];
	pfree(a);
	pfree(b);
	if (ws)
		pfree(ws);

	/* the transpose, by counting */
	byitem->rows = nitems;
	byitem->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (nitems + 1));
	byitem->col = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(pairs, 1));
	byitem->val = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(pairs, 1));
	byitem->off[0] = 0;
	for (int64 i = 0; i < nitems; i++)
		byitem->off[i + 1] = byitem->off[i] + popularity[i];
	fill = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(nitems, 1));
	memcpy(fill, byitem->off, sizeof(int64) * nitems);
	for (int64 u = 0; u < nusers; u++)
		for (int64 k = byuser->off[u]; k < byuser->off[u + 1]; k++)
		{
			int64		at = fill[byuser->col[k]]++;

			byitem->col[at] = (uint32) u;
			byitem->val[at] = byuser->val[k];
		}
	pfree(fill);
	return pairs;
}

/* ---------- ALS ---------- */

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

/* What one half iteration needs: solve the rows of X given Y */
typedef struct AlsHalf
{
	const CfSparse *m;			/* rows of X: their observed columns (of Y) */
	float	   *X;				/* rows x fs, updated */
	const float *Y;				/* cols x fs */
	const float *G;				/* fs x fs: Y'Y + regularization I (padding rows zero) */
	int			f;
	int			fs;
	int			solver;
	int			cg_steps;
	bool		explicit;		/* ratings: no Y'Y, regularization times the row's count */
	double		reg;
	float	   *lane_work;		/* UBA_LANES x (4 fs + fs * fs doubles as floats...) */
	Size		lane_floats;
} AlsHalf;

/* out = G v (G symmetric fs x fs) */
CF_INLINE void
GemvG(const float *restrict G, const float *restrict v, float *restrict out, int fs)
{
	for (int j = 0; j < fs; j++)
		out[j] = Dot(G + (Size) j * fs, v, fs);
}

/* Rows ahead whose vectors are fetched early: the columns of a row are random rows of Y */
#define CF_PREFETCH 8

/* Ask for the vector of the row's column k + CF_PREFETCH, while the current ones are used */
CF_INLINE void
PrefetchColumn(const AlsHalf *h, int64 k, int64 k1)
{
	if (k + CF_PREFETCH < k1)
	{
		const char *y = (const char *) (h->Y + (Size) h->m->col[k + CF_PREFETCH] * h->fs);

		for (int off = 0; off < h->fs * (int) sizeof(float); off += 64)
			__builtin_prefetch(y + off);
	}
}

/*
 * One row by conjugate gradient (Takacs et al. 2011): cg_steps steps on
 * A x = b from the row's current x, A = G + sum_i c'_i y_i y_i', b = sum_i
 * (1 + c'_i) y_i over the row's observed columns i (c'_i = c_i - 1).
 */
CF_INLINE void
SolveRowCG(const AlsHalf *h, int64 row, float *work)
{
	int			fs = h->fs;
	float	   *x = h->X + (Size) row * fs;
	float	   *r = work;
	float	   *p = work + fs;
	float	   *Ap = work + 2 * fs;
	int64		k0 = h->m->off[row];
	int64		k1 = h->m->off[row + 1];
	float		lambda_n = (float) (h->reg * (double) (k1 - k0));
	float		rs_old;

	/* r = b - A x */
	if (h->explicit)
		for (int j = 0; j < fs; j++)
			r[j] = -lambda_n * x[j];
	else
	{
		GemvG(h->G, x, r, fs);
		for (int j = 0; j < fs; j++)
			r[j] = -r[j];
	}
	for (int64 k = k0; k < k1; k++)
	{
		const float *y = h->Y + (Size) h->m->col[k] * fs;
		float		v = h->m->val[k];

		PrefetchColumn(h, k, k1);
		if (h->explicit)
			Axpy(v - Dot(y, x, fs), y, r, fs);	/* v is the rating */
		else
			Axpy((1 + v) - v * Dot(y, x, fs), y, r, fs);	/* v is c - 1 */
	}
	memcpy(p, r, sizeof(float) * fs);
	rs_old = Dot(r, r, fs);
	for (int step = 0; step < h->cg_steps && rs_old > 1e-20f; step++)
	{
		float		alpha,
					rs_new,
					pAp;

		if (h->explicit)
			for (int j = 0; j < fs; j++)
				Ap[j] = lambda_n * p[j];
		else
			GemvG(h->G, p, Ap, fs);
		for (int64 k = k0; k < k1; k++)
		{
			const float *y = h->Y + (Size) h->m->col[k] * fs;

			PrefetchColumn(h, k, k1);
			Axpy((h->explicit ? 1.0f : h->m->val[k]) * Dot(y, p, fs), y, Ap, fs);
		}
		pAp = Dot(p, Ap, fs);
		if (!(pAp > 0))
			break;
		alpha = rs_old / pAp;
		Axpy(alpha, p, x, fs);
		Axpy(-alpha, Ap, r, fs);
		rs_new = Dot(r, r, fs);
		for (int j = 0; j < fs; j++)
			p[j] = r[j] + (rs_new / rs_old) * p[j];
		rs_old = rs_new;
	}
}

/* One row exactly: A x = b by Cholesky in double precision */
static void
SolveRowCholesky(const AlsHalf *h, int64 row, float *workf)
{
	int			f = h->f;
	int			fs = h->fs;
	double	   *A = (double *) workf;
	double	   *b = A + (Size) f * f;
	float	   *x = h->X + (Size) row * fs;

	double		lambda_n = h->reg * (double) (h->m->off[row + 1] - h->m->off[row]);

	for (int j = 0; j < f; j++)
	{
		for (int l = 0; l < f; l++)
			A[(Size) j * f + l] = h->explicit ? (j == l ? lambda_n : 0) : h->G[(Size) j * fs + l];
		b[j] = 0;
	}
	for (int64 k = h->m->off[row]; k < h->m->off[row + 1]; k++)
	{
		const float *y = h->Y + (Size) h->m->col[k] * fs;
		double		v = h->m->val[k];
		double		a = h->explicit ? 1 : v;	/* weight of y y' */
		double		bk = h->explicit ? v : 1 + v;	/* weight of y in b */

		for (int j = 0; j < f; j++)
		{
			double		ay = a * y[j];

			for (int l = 0; l <= j; l++)
				A[(Size) j * f + l] += ay * y[l];
			b[j] += bk * y[j];
		}
	}
	/* A = L L' in the lower triangle, then two triangular solves */
	for (int j = 0; j < f; j++)
	{
		double		d = A[(Size) j * f + j];

		for (int l = 0; l < j; l++)
			d -= A[(Size) j * f + l] * A[(Size) j * f + l];
		if (!(d > 0))
			return;				/* keep the old row: cannot happen with regularization > 0 */
		d = sqrt(d);
		A[(Size) j * f + j] = d;
		for (int i = j + 1; i < f; i++)
		{
			double		t = A[(Size) i * f + j];

			for (int l = 0; l < j; l++)
				t -= A[(Size) i * f + l] * A[(Size) j * f + l];
			A[(Size) i * f + j] = t / d;
		}
	}
	for (int j = 0; j < f; j++)
	{
		double		t = b[j];

		for (int l = 0; l < j; l++)
			t -= A[(Size) j * f + l] * b[l];
		b[j] = t / A[(Size) j * f + j];
	}
	for (int j = f - 1; j >= 0; j--)
	{
		double		t = b[j];

		for (int l = j + 1; l < f; l++)
			t -= A[(Size) l * f + j] * b[l];
		b[j] = t / A[(Size) j * f + j];
	}
	for (int j = 0; j < f; j++)
		x[j] = (float) b[j];
}

/*
 * Rows per block when solving: rows cost very different amounts (a popular
 * item has thousands of users), so blocks are small and the threads take
 * lanes of them as they finish.  Each row's arithmetic is the same however
 * rows are grouped.
 */
#define CF_BLOCK_ROWS 32

/* Solve one block of rows (runs on any thread) */
UBA_TARGET_CLONES
static void
SolveBlock(void *arg, int64 block, int lane)
{
	AlsHalf    *h = (AlsHalf *) arg;
	float	   *work = h->lane_work + (Size) lane * h->lane_floats;
	int64		r1 = Min(h->m->rows, (block + 1) * CF_BLOCK_ROWS);

	for (int64 row = block * CF_BLOCK_ROWS; row < r1; row++)
	{
		if (h->solver == CF_SOLVER_CHOLESKY)
			SolveRowCholesky(h, row, work);
		else
			SolveRowCG(h, row, work);
	}
}

/* What GramBlock needs: Y'Y summed per lane in double */
typedef struct GramArg
{
	const float *Y;
	int64		rows;
	int			fs;
	double	   *lane_G;			/* UBA_LANES x fs x fs */
} GramArg;

static void
GramBlock(void *arg, int64 block, int lane)
{
	GramArg    *g = (GramArg *) arg;
	int			fs = g->fs;
	double	   *G = g->lane_G + (Size) lane * fs * fs;
	int64		r1 = Min(g->rows, (block + 1) * UBA_BLOCK_ROWS);

	for (int64 r = block * UBA_BLOCK_ROWS; r < r1; r++)
	{
		const float *y = g->Y + (Size) r * fs;

		for (int j = 0; j < fs; j++)
		{
			double		yj = y[j];

			for (int l = j; l < fs; l++)
				G[(Size) j * fs + l] += yj * y[l];
		}
	}
}

/* G = Y'Y + reg I (full symmetric, float), summed in lane order */
static void
Gram(const float *Y, int64 rows, int f, int fs, double reg, double *lane_G, double *Gd, float *G)
{
	GramArg		g = {Y, rows, fs, lane_G};

	memset(lane_G, 0, sizeof(double) * UBA_LANES * fs * fs);
	uba_run_lanes((rows + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
				  GramBlock, &g);
	memset(Gd, 0, sizeof(double) * fs * fs);
	for (int l = 0; l < UBA_LANES; l++)
		for (int j = 0; j < fs; j++)
			for (int k = j; k < fs; k++)
				Gd[(Size) j * fs + k] += lane_G[(Size) l * fs * fs + (Size) j * fs + k];
	for (int j = 0; j < fs; j++)
		for (int k = j; k < fs; k++)
		{
			double		v = Gd[(Size) j * fs + k] + (j == k && j < f ? reg : 0);

			G[(Size) j * fs + k] = G[(Size) k * fs + j] = (float) v;
		}
}

/* Normal(0, sd) numbers by Box-Muller, from the seeded generator */
static void
FillNormal(UbaRandom *rng, float *v, int64 rows, int f, int fs, double sd)
{
	for (int64 r = 0; r < rows; r++)
	{
		if ((r & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < fs; j++)
		{
			double		u1 = uba_random_double(rng),
						u2 = uba_random_double(rng);

			v[(Size) r * fs + j] = j < f ?
				(float) (sd * sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2)) : 0.0f;
		}
	}
}

/*
 * The explicit-feedback objective: squared errors on the ratings, and the
 * regularization weighted by each row's number of ratings.
 */
static double
AlsExplicitLoss(const CfSparse *byuser, const CfSparse *byitem, const float *X, int64 nusers,
				const float *Y, int64 nitems, int fs, double reg)
{
	double		loss = 0,
				norms = 0;

	for (int64 u = 0; u < nusers; u++)
	{
		for (int64 k = byuser->off[u]; k < byuser->off[u + 1]; k++)
		{
			double		e = byuser->val[k] - Dot(X + (Size) u * fs, Y + (Size) byuser->col[k] * fs, fs);

			loss += e * e;
		}
		norms += (double) (byuser->off[u + 1] - byuser->off[u]) * Dot(X + (Size) u * fs, X + (Size) u * fs, fs);
		CHECK_FOR_INTERRUPTS();
	}
	for (int64 i = 0; i < nitems; i++)
		norms += (double) (byitem->off[i + 1] - byitem->off[i]) * Dot(Y + (Size) i * fs, Y + (Size) i * fs, fs);
	return loss + reg * norms;
}

/*
 * The objective at the end, without visiting every (user, item) pair: the
 * sum of (x_u . y_i)^2 over all pairs is the elementwise product of X'X
 * and Y'Y; observed pairs then add c (1 - s)^2 - s^2.
 */
static double
AlsLoss(const CfSparse *byuser, const float *X, int64 nusers, const float *Y, int64 nitems,
		int fs, double reg, double *lane_G, double *Gd, float *G)
{
	double	   *XX = palloc(sizeof(double) * fs * fs);
	double		loss = 0,
				norms = 0;

	/* X'X and Y'Y (upper triangles; padding columns are zero) on the training threads */
	Gram(X, nusers, fs, fs, 0, lane_G, Gd, G);
	memcpy(XX, Gd, sizeof(double) * fs * fs);
	Gram(Y, nitems, fs, fs, 0, lane_G, Gd, G);
	for (int j = 0; j < fs; j++)
	{
		norms += XX[(Size) j * fs + j] + Gd[(Size) j * fs + j];
		loss += XX[(Size) j * fs + j] * Gd[(Size) j * fs + j];
		for (int l = j + 1; l < fs; l++)
			loss += 2 * XX[(Size) j * fs + l] * Gd[(Size) j * fs + l];
	}
	for (int64 u = 0; u < nusers; u++)
	{
		for (int64 k = byuser->off[u]; k < byuser->off[u + 1]; k++)
		{
			double		s = Dot(X + (Size) u * fs, Y + (Size) byuser->col[k] * fs, fs);
			double		c = 1 + (double) byuser->val[k];

			loss += c * (1 - s) * (1 - s) - s * s;
		}
		CHECK_FOR_INTERRUPTS();
	}
	pfree(XX);
	return loss + reg * norms;
}

/* The ALS factors, per-lane work and Gram sums, on top of the events counted while collecting */
static Size
AlsLaneFloats(int f)
{
	return Max(4 * (Size) CF_PAD(f), 2 * ((Size) f * f + f) + 2);
}

static void
CheckAlsMemory(int64 events, int64 nusers, int64 nitems, int f)
{
	Size		fs = CF_PAD(f);
	Size		need = mul_size((Size) (nusers + nitems), fs * sizeof(float));

	need = add_size(need, mul_size(UBA_LANES, mul_size(AlsLaneFloats(f), sizeof(float))));
	need = add_size(need, mul_size(UBA_LANES + 1, mul_size(fs * fs, sizeof(double))));
	need = add_size(need, mul_size((Size) events, CF_EVENT_PEAK_BYTES));
	uba_check_memory(need, "collaborative filtering training");
}

/* ALS from random vectors; returns the final objective, sets *Xp and *Yp (padded rows) */
static double
TrainAls(CfSparse *byuser, CfSparse *byitem, int64 nusers, int64 nitems, const UbaOptions *o,
		 float **Xp, float **Yp)
{
	int			f = (int) uba_option(o, "factors");
	int			fs = CF_PAD(f);
	int			iterations = (int) uba_option(o, "iterations");
	double		reg = uba_option(o, "regularization");
	float	   *X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * nusers * fs);
	float	   *Y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * nitems * fs);
	float	   *G = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * fs * fs);
	double	   *Gd = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * fs * fs);
	double	   *lane_G = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * UBA_LANES * fs * fs);
	UbaRandom	rng;
	AlsHalf		h;

	uba_random_seed(&rng, (uint64) uba_option(o, "seed"));
	FillNormal(&rng, Y, nitems, f, fs, 0.01);
	FillNormal(&rng, X, nusers, f, fs, 0.01);

	h.f = f;
	h.fs = fs;
	h.solver = (int) uba_option(o, "solver");
	h.cg_steps = (int) uba_option(o, "cg_steps");
	h.explicit = (int) uba_option(o, "feedback") == CF_FEEDBACK_EXPLICIT;
	h.reg = reg;
	h.G = G;
	h.lane_floats = AlsLaneFloats(f);
	h.lane_work = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * UBA_LANES * h.lane_floats);
	for (int it = 0; it < iterations; it++)
	{
		/* users given items, then items given users (ratings need no Y'Y) */
		if (!h.explicit)
			Gram(Y, nitems, f, fs, reg, lane_G, Gd, G);
		h.m = byuser;
		h.X = X;
		h.Y = Y;
		uba_run_lanes((nusers + CF_BLOCK_ROWS - 1) / CF_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
					  SolveBlock, &h);
		if (!h.explicit)
			Gram(X, nusers, f, fs, reg, lane_G, Gd, G);
		h.m = byitem;
		h.X = Y;
		h.Y = X;
		uba_run_lanes((nitems + CF_BLOCK_ROWS - 1) / CF_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
					  SolveBlock, &h);
	}
	*Xp = X;
	*Yp = Y;
	if (h.explicit)
		return AlsExplicitLoss(byuser, byitem, X, nusers, Y, nitems, fs, reg);
	return AlsLoss(byuser, X, nusers, Y, nitems, fs, reg, lane_G, Gd, G);
}

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

/* Keep the best n in a min-heap (worst at the root) */
static void
HeapOffer(Scored *heap, int *size, int n, Scored c)
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

static int
CompareScored(const void *a, const void *b)
{
	Scored		x = *(const Scored *) a;
	Scored		y = *(const Scored *) b;

	return Better(x, y) ? -1 : Better(y, x) ? 1 : 0;
}

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

			HeapOffer(heap, &size, a->k, (Scored) {(float) (counts[j] / sqrt(ni * nj)), j});
			counts[j] = 0;
		}
		qsort(heap, size, sizeof(Scored), CompareScored);
		for (int t = 0; t < size; t++)
		{
			a->nbr[(Size) i * a->k + t] = heap[t].item;
			a->sim[(Size) i * a->k + t] = heap[t].score;
		}
		a->found[i] = size;
	}
}

/* Item neighbours for method item_knn: at most k per item, most similar first */
static void
TrainItemKnn(const CfSparse *byuser, const CfSparse *byitem, int64 nitems, int k,
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
				HeapOffer(heap, &size, a->k, (Scored) {fabsf(row[j] / a->P[(Size) j * n + j]), (uint32) j});
		qsort(heap, size, sizeof(Scored), CompareScored);
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
static void
TrainEase(const CfSparse *byuser, const CfSparse *byitem, int64 nusers, int64 nitems, double lambda,
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

/* uba_cf_train final function: train and return the model */
Datum
uba_cf_final(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MemoryContext cxt,
				old;
	int64		nusers,
				nitems,
				pairs;
	int64	   *user_ids,
			   *item_ids;
	uint32	   *uidx,
			   *iidx,
			   *popularity;
	CfSparse	byuser,
				byitem;
	int			f,
				fs,
				method,
				iterations;
	bool		explicit;
	double		reg,
				alpha,
				loss;
	float	   *X = NULL,
			   *Y = NULL,
			   *nbr_sim = NULL;
	int64	   *nbr_off = NULL;
	uint32	   *nbr = NULL;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, cf_options, lengthof(cf_options), "uba_cf_train", &o);
	method = (int) uba_option(&o, "method");
	/* EASE's own defaults: its lambda is on counts of users, and it keeps more weights */
	if (method == CF_METHOD_EASE && !uba_option_given(&o, "regularization"))
		uba_option_set(&o, "regularization", 500);
	if (method == CF_METHOD_EASE && !uba_option_given(&o, "neighbors"))
		uba_option_set(&o, "neighbors", 200);
	/* the model's width: factors for ALS, weights kept per item for the item-item methods */
	f = (int) uba_option(&o, method == CF_METHOD_ALS ? "factors" : "neighbors");
	fs = CF_PAD(f);
	iterations = (int) uba_option(&o, "iterations");
	reg = uba_option(&o, "regularization");
	alpha = uba_option(&o, "alpha");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba cf", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	uidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	iidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	nusers = uba_map_ids(st->a, st->n, &user_ids, uidx);
	nitems = uba_map_ids(st->b, st->n, &item_ids, iidx);

	popularity = MemoryContextAllocHuge(cxt, sizeof(uint32) * nitems);
	if (method == CF_METHOD_ALS)
		CheckAlsMemory(st->n, nusers, nitems, f);
	else if (method == CF_METHOD_EASE)
	{
		/* the method's limits first: raising uba.max_memory would not help past them */
		if (nitems > CF_EASE_MAX_ITEMS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("EASE supports at most %d items, the events have " INT64_FORMAT,
							CF_EASE_MAX_ITEMS, nitems),
					 errhint("Use method \"als\" or \"item_knn\" for larger catalogs.")));
		if (nusers >= (INT64CONST(1) << 24))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("EASE supports fewer than 16777216 users")));
		/* events, the items x items matrix, the inversion's work space, the kept lists */
		uba_check_memory(add_size(add_size(mul_size((Size) st->n, CF_EVENT_PEAK_BYTES),
										   mul_size((Size) nitems, (Size) (nitems + 256) * sizeof(float))),
								  mul_size((Size) nitems, mul_size((Size) f, sizeof(uint32) + sizeof(float)))),
						 "EASE training");
	}
	else
		uba_check_memory(add_size(mul_size((Size) st->n, CF_EVENT_PEAK_BYTES),
								  add_size(mul_size(UBA_LANES, mul_size((Size) nitems, 2 * sizeof(uint32))),
										   mul_size((Size) nitems, mul_size((Size) f, sizeof(uint32) + sizeof(float))))),
						 "collaborative filtering training");
	/* explicit feedback keeps the ratings themselves (alpha is for confidences) */
	explicit = method == CF_METHOD_ALS && (int) uba_option(&o, "feedback") == CF_FEEDBACK_EXPLICIT;
	pairs = BuildMatrices(st, explicit ? 1.0 : alpha, nusers, uidx, nitems, iidx, &byuser, &byitem,
						  popularity);
	pfree(uidx);
	pfree(iidx);
	if (method == CF_METHOD_ALS)
		loss = TrainAls(&byuser, &byitem, nusers, nitems, &o, &X, &Y);
	else
	{
		iterations = 0;
		loss = 0;
		if (method == CF_METHOD_EASE)
			TrainEase(&byuser, &byitem, nusers, nitems, reg, f, &nbr_off, &nbr, &nbr_sim);
		else
			TrainItemKnn(&byuser, &byitem, nitems, f, &nbr_off, &nbr, &nbr_sim);
	}

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) nusers);
	uba_put_u32(&pw, (uint32) nitems);
	uba_put_u32(&pw, (uint32) f);
	uba_put_u32(&pw, (uint32) method);
	uba_put_u32(&pw, explicit ? CF_FLAG_EXPLICIT : 0);
	uba_put_u32(&pw, (uint32) iterations);
	uba_put_f64(&pw, reg);
	uba_put_f64(&pw, alpha);
	uba_put_f64(&pw, loss);
	uba_put_i64_array(&pw, user_ids, nusers);
	uba_put_i64_array(&pw, item_ids, nitems);
	uba_put_u32_array(&pw, popularity, nitems);
	for (int64 u = 0; u <= nusers; u++)
		uba_put_u64(&pw, (uint64) byuser.off[u]);
	uba_put_u32_array(&pw, byuser.col, pairs);
	uba_put_f32_array(&pw, byuser.val, pairs);
	if (method == CF_METHOD_ALS)
	{
		/* factors without their padding */
		for (int64 u = 0; u < nusers; u++)
			uba_put_f32_array(&pw, X + (Size) u * fs, f);
		for (int64 i = 0; i < nitems; i++)
			uba_put_f32_array(&pw, Y + (Size) i * fs, f);
	}
	else
	{
		for (int64 i = 0; i <= nitems; i++)
			uba_put_u64(&pw, (uint64) nbr_off[i]);
		uba_put_u32_array(&pw, nbr, nbr_off[nitems]);
		uba_put_f32_array(&pw, nbr_sim, nbr_off[nitems]);
	}

	uba_model_meta_init(&meta, f, st->n, st->started, &o);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_CF, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading and serving ---------- */

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
	int64	   *user_ids;
	int64	   *item_ids;
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

/* Order of item indexes by popularity (descending), then id */
static int
ComparePopularity(const void *a, const void *b, void *arg)
{
	const CfModel *m = (const CfModel *) arg;
	uint32		i = *(const uint32 *) a;
	uint32		j = *(const uint32 *) b;

	if (m->popularity[i] != m->popularity[j])
		return m->popularity[i] > m->popularity[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Read the fixed part of the payload, checking counts before anything is allocated */
static void
ReadCfHeader(const UbaModelMeta *meta, UbaReader *r, CfModel *m)
{
	uint32		method,
				flags;

	m->nusers = uba_get_u32(r);
	m->nitems = uba_get_u32(r);
	m->f = (int) uba_get_u32(r);
	method = uba_get_u32(r);
	flags = uba_get_u32(r);
	m->iterations = (int) uba_get_u32(r);
	m->reg = uba_get_finite_f64(r);
	m->alpha = uba_get_finite_f64(r);
	m->loss = uba_get_finite_f64(r);	/* printed by uba_model_info: NaN is not JSON */
	if (m->nusers < 1 || m->nitems < 1)
		uba_model_corrupted("The model has no users or no items.");
	if (method != CF_METHOD_ALS && method != CF_METHOD_ITEM_KNN && method != CF_METHOD_EASE)
		uba_model_corrupted("Unknown method %u.", method);
	m->method = (int) method;
	if ((flags & ~CF_FLAG_EXPLICIT) != 0 || ((flags & CF_FLAG_EXPLICIT) && method != CF_METHOD_ALS))
		uba_model_corrupted("Unknown flags %u.", flags);
	m->explicit = (flags & CF_FLAG_EXPLICIT) != 0;
	if (m->f < 1 || m->f > (method == CF_METHOD_ALS ? CF_MAX_FACTORS : CF_MAX_NEIGHBORS) ||
		m->f != meta->n_features)
		uba_model_corrupted("Invalid number of factors or neighbours %d.", m->f);
	if (m->reg < 0 || m->alpha < 0 || m->loss < 0)
		uba_model_corrupted("Negative regularization, alpha or loss.");
	m->fs = CF_PAD(m->f);
	/* ids, popularity, offsets and factors must fit in what is left */
	uba_reader_check_space(r, (Size) m->nusers + m->nitems, 8);
}

/* Ids must be strictly increasing (they are looked up by binary search) */
static void
CheckIncreasing(const int64 *ids, int64 n, const char *what)
{
	for (int64 i = 1; i < n; i++)
		if (ids[i] <= ids[i - 1])
			uba_model_corrupted("The %s ids are not strictly increasing.", what);
}

/* Parse and fully validate a CF payload */
static void *
ParseCf(const UbaModelMeta *meta, UbaReader *r)
{
	CfModel    *m = palloc0(sizeof(CfModel));
	int64		nseen;

	ReadCfHeader(meta, r, m);
	m->user_ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * m->nusers);
	m->item_ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * m->nitems);
	uba_get_i64_array(r, m->user_ids, m->nusers);
	uba_get_i64_array(r, m->item_ids, m->nitems);
	CheckIncreasing(m->user_ids, m->nusers, "user");
	CheckIncreasing(m->item_ids, m->nitems, "item");
	uba_reader_check_space(r, (Size) m->nitems, 4);
	m->popularity = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	uba_get_u32_array(r, m->popularity, m->nitems);
	uba_reader_check_space(r, (Size) m->nusers + 1, 8);
	m->seen_off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nusers + 1));
	for (int64 u = 0; u <= m->nusers; u++)
	{
		uint64		v = uba_get_u64(r);

		if (v > (uint64) PG_INT64_MAX || (u == 0 && v != 0) || (u > 0 && (int64) v < m->seen_off[u - 1]))
			uba_model_corrupted("The seen-item offsets are not increasing from 0.");
		m->seen_off[u] = (int64) v;
	}
	nseen = m->seen_off[m->nusers];
	uba_reader_check_space(r, (Size) nseen, 4);
	m->seen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(nseen, 1));
	uba_get_u32_array(r, m->seen, nseen);
	for (int64 u = 0; u < m->nusers; u++)
		for (int64 k = m->seen_off[u]; k < m->seen_off[u + 1]; k++)
			if (m->seen[k] >= m->nitems || (k > m->seen_off[u] && m->seen[k] <= m->seen[k - 1]))
				uba_model_corrupted("A user's seen items are out of range or not increasing.");
	for (int64 i = 0; i < m->nitems; i++)
		if (m->popularity[i] > m->nusers)
			uba_model_corrupted("An item's popularity exceeds the number of users.");
	uba_reader_check_space(r, (Size) nseen, 4);
	m->seen_conf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(nseen, 1));
	uba_get_f32_array(r, m->seen_conf, nseen, true);
	for (int64 k = 0; k < nseen; k++)
		if (m->seen_conf[k] < 0)
			uba_model_corrupted("A negative confidence.");

	if (m->method == CF_METHOD_ALS)
	{
		uba_reader_check_space(r, (Size) (m->nusers + m->nitems), (Size) m->f * sizeof(float));
		m->X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * m->nusers * m->fs);
		m->Y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * m->nitems * m->fs);
		memset(m->X, 0, sizeof(float) * m->nusers * m->fs);
		memset(m->Y, 0, sizeof(float) * m->nitems * m->fs);
		for (int64 u = 0; u < m->nusers; u++)
			uba_get_f32_array(r, m->X + (Size) u * m->fs, m->f, true);
		for (int64 i = 0; i < m->nitems; i++)
			uba_get_f32_array(r, m->Y + (Size) i * m->fs, m->f, true);
	}
	else
	{
		int64		nn;

		uba_reader_check_space(r, (Size) m->nitems + 1, 8);
		m->nbr_off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nitems + 1));
		for (int64 i = 0; i <= m->nitems; i++)
		{
			uint64		v = uba_get_u64(r);

			if (v > (uint64) PG_INT64_MAX || (i == 0 && v != 0) ||
				(i > 0 && ((int64) v < m->nbr_off[i - 1] || (int64) v - m->nbr_off[i - 1] > m->f)))
				uba_model_corrupted("The neighbour offsets are not increasing from 0 by at most %d.", m->f);
			m->nbr_off[i] = (int64) v;
		}
		nn = m->nbr_off[m->nitems];
		uba_reader_check_space(r, (Size) nn, 8);
		m->nbr = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(nn, 1));
		m->nbr_sim = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(nn, 1));
		uba_get_u32_array(r, m->nbr, nn);
		uba_get_f32_array(r, m->nbr_sim, nn, true);
		for (int64 i = 0; i < m->nitems; i++)
			for (int64 k = m->nbr_off[i]; k < m->nbr_off[i + 1]; k++)
				if (m->nbr[k] >= m->nitems || m->nbr[k] == i ||
					(m->method == CF_METHOD_ITEM_KNN && !(m->nbr_sim[k] >= 0 && m->nbr_sim[k] <= 1.0001f)))
					uba_model_corrupted("A neighbour is out of range, the item itself, or has a similarity outside [0, 1].");
	}
	uba_reader_finish(r);

	m->cxt = CurrentMemoryContext;
	m->by_popularity = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	for (int64 i = 0; i < m->nitems; i++)
		m->by_popularity[i] = (uint32) i;
	qsort_arg(m->by_popularity, m->nitems, sizeof(uint32), ComparePopularity, m);
	return m;
}

/* uba_model_info fields of a CF model (validated in full) */
void
uba_cf_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	CfModel    *m = ParseCf(meta, payload);

	appendStringInfo(json, ", \"method\": \"%s\", \"users\": " INT64_FORMAT ", \"items\": " INT64_FORMAT
					 ", \"interactions\": " INT64_FORMAT,
					 cf_methods[m->method], m->nusers, m->nitems, m->seen_off[m->nusers]);
	if (m->method == CF_METHOD_ALS)
		appendStringInfo(json, ", \"feedback\": \"%s\", \"factors\": %d, \"iterations\": %d"
						 ", \"regularization\": %.17g, \"alpha\": %.17g, \"loss\": %.17g",
						 m->explicit ? "explicit" : "implicit", m->f, m->iterations, m->reg,
						 m->alpha, m->loss);
	else if (m->method == CF_METHOD_ITEM_KNN)
		appendStringInfo(json, ", \"neighbors\": %d, \"similarities\": " INT64_FORMAT,
						 m->f, m->nbr_off[m->nitems]);
	else
		appendStringInfo(json, ", \"neighbors\": %d, \"weights\": " INT64_FORMAT ", \"regularization\": %.17g",
						 m->f, m->nbr_off[m->nitems], m->reg);
}

/* Index of id in the sorted ids, or -1 */
static int64
FindId(const int64 *ids, int64 n, int64 id)
{
	const int64 *at = bsearch(&id, ids, n, sizeof(int64), uba_cmp_int64);

	return at ? at - ids : -1;
}

static const UbaOptionSpec recommend_options[] = {
	{"include_seen", UBA_OPT_BOOL, 0, 0, 1, NULL},
};

/* Is item in the sorted list? */
static bool
InSorted(const uint32 *list, int64 n, uint32 item)
{
	return n > 0 && bsearch(&item, list, n, sizeof(uint32), uba_cmp_uint32) != NULL;
}

/* ALS scores of every item for user vector x */
static void
UserScores(const CfModel *m, const float *x, float *scores)
{
	for (int64 i = 0; i < m->nitems; i++)
		scores[i] = Dot(x, m->Y + (Size) i * m->fs, m->fs);
}

/*
 * item_knn scores of every item for a user who has the given distinct
 * items: the sum of the similarities of the items that have it as a
 * neighbour.
 */
static void
KnnScores(const CfModel *m, const uint32 *items, int64 n, float *scores)
{
	memset(scores, 0, sizeof(float) * m->nitems);
	for (int64 t = 0; t < n; t++)
		for (int64 k = m->nbr_off[items[t]]; k < m->nbr_off[items[t] + 1]; k++)
			scores[m->nbr[k]] += m->nbr_sim[k];
}

/*
 * The n best items into heap (returns how many, at most n), best first:
 * by scores, or by popularity when scores is NULL, leaving out the items
 * of the sorted list skip (nskip of them).  Ties: the smaller item id.
 */
static int
TopItems(const CfModel *m, const float *scores, const uint32 *skip, int64 nskip, int n, Scored *heap)
{
	int			size = 0;

	if (n <= 0)
		return 0;
	if (scores == NULL)
	{
		for (int64 r = 0; r < m->nitems && size < n; r++)
		{
			uint32		i = m->by_popularity[r];

			if (!InSorted(skip, nskip, i))
				heap[size++] = (Scored) {(float) m->popularity[i], i};
		}
		return size;
	}
	for (int64 i = 0, k = 0; i < m->nitems; i++)
	{
		/* skip is increasing, so one pointer walks along */
		while (k < nskip && skip[k] < i)
			k++;
		if (k < nskip && skip[k] == i)
			continue;
		HeapOffer(heap, &size, n, (Scored) {scores[i], (uint32) i});
	}
	qsort(heap, size, sizeof(Scored), CompareScored);
	return size;
}

/* Return the ranked items as rows */
static void
EmitItems(FunctionCallInfo fcinfo, const CfModel *m, const Scored *items, int size)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (int i = 0; i < size; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(m->item_ids[items[i].item]);
		values[1] = Float8GetDatum((double) items[i].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* The n argument: not negative, at most the catalog */
static int
ResultCount(const CfModel *m, int32 n)
{
	return (int) Min((int64) uba_count_arg(n, "n"), m->nitems);
}

/*
 * What both forms of uba_cf_recommend start with: the result set, and for
 * non-NULL arguments (they are not STRICT: the options default to NULL)
 * the model, the options and the row count; NULL when there are no rows.
 */
static CfModel *
RecommendStart(FunctionCallInfo fcinfo, UbaOptions *o, int *n)
{
	CfModel    *m;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return NULL;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_CF, ParseCf);
	uba_parse_options(PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_JSONB_P(3) : NULL,
					  recommend_options, lengthof(recommend_options), "uba_cf_recommend", o);
	*n = ResultCount(m, PG_GETARG_INT32(2));
	return m;
}

/*
 * uba_cf_recommend(model, user_id, n [, options]) returns (item_id, score):
 * the user's n best items by x_u . y_i, without the items the user had in
 * training unless include_seen; for a user the model does not know, the n
 * most popular items (score: distinct users in training).
 */
Datum
uba_cf_recommend(PG_FUNCTION_ARGS)
{
	CfModel    *m;
	UbaOptions	o;
	int64		u;
	int			n;
	Scored	   *top;

	m = RecommendStart(fcinfo, &o, &n);
	if (m == NULL)
		return (Datum) 0;
	top = palloc(sizeof(Scored) * Max(n, 1));
	u = FindId(m->user_ids, m->nusers, PG_GETARG_INT64(1));
	if (u < 0)
		n = TopItems(m, NULL, NULL, 0, n, top);
	else
	{
		const uint32 *seen = m->seen + m->seen_off[u];
		int64		nseen = m->seen_off[u + 1] - m->seen_off[u];
		float	   *scores = palloc(sizeof(float) * m->nitems);

		if (m->method == CF_METHOD_ALS)
			UserScores(m, m->X + (Size) u * m->fs, scores);
		else
			KnnScores(m, seen, nseen, scores);
		if (uba_option(&o, "include_seen") != 0)
			nseen = 0;
		n = TopItems(m, scores, seen, nseen, n, top);
	}
	EmitItems(fcinfo, m, top, n);
	return (Datum) 0;
}

/* Y'Y (f x f, double, full), computed once per parsed model */
static const double *
ModelYtY(CfModel *m)
{
	int			f = m->f;

	if (m->YtY == NULL)
	{
		/* summed in the query's memory, copied to the model's when done: a cancel leaks nothing there */
		double	   *G = palloc0(sizeof(double) * f * f);

		for (int64 i = 0; i < m->nitems; i++)
		{
			const float *y = m->Y + (Size) i * m->fs;

			for (int j = 0; j < f; j++)
				for (int l = 0; l <= j; l++)
					G[(Size) j * f + l] += (double) y[j] * y[l];
			if ((i & 1023) == 1023)
				CHECK_FOR_INTERRUPTS();
		}
		for (int j = 0; j < f; j++)
			for (int l = 0; l < j; l++)
				G[(Size) l * f + j] = G[(Size) j * f + l];
		m->YtY = MemoryContextAlloc(m->cxt, sizeof(double) * f * f);
		memcpy(m->YtY, G, sizeof(double) * f * f);
		pfree(G);
	}
	return m->YtY;
}

/*
 * A user's least-squares system with the item vectors fixed, as training
 * builds it: A = Y'Y + regularization I + sum_k conf_k y_k y_k' over the
 * user's items, and (when b is given) b = sum_k (1 + conf_k) y_k, with
 * conf_k = c_k - 1.
 */
static void
UserSystem(CfModel *m, const uint32 *items, const float *conf, int64 n, double *A, double *b)
{
	int			f = m->f;

	memcpy(A, ModelYtY(m), sizeof(double) * f * f);
	for (int j = 0; j < f; j++)
		A[(Size) j * f + j] += m->reg;
	if (b)
		memset(b, 0, sizeof(double) * f);
	for (int64 k = 0; k < n; k++)
	{
		const float *y = m->Y + (Size) items[k] * m->fs;
		double		c1 = conf[k];

		if ((k & 255) == 255)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < f; j++)
		{
			for (int l = 0; l < f; l++)
				A[(Size) j * f + l] += c1 * y[j] * y[l];
			if (b)
				b[j] += (1 + c1) * y[j];
		}
	}
}

/* Solve A z = v in place (A is overwritten); the user's system is positive definite */
static void
SolveUserSystem(int f, double *A, double *v)
{
	if (!uba_cholesky_solve(f, A, v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the user's items give no solvable system"),
				 errhint("Train with a regularization above 0.")));
}

/*
 * A user vector for a list of items (sorted, repeats adjacent), as training
 * would solve it with the item vectors fixed, each occurrence of an item an
 * event of weight 1: exactly, by Cholesky in double precision.
 */
static void
FoldIn(CfModel *m, const uint32 *items, int64 nitems, float *x)
{
	int			f = m->f;
	double	   *A = palloc(sizeof(double) * f * f);
	double	   *b = palloc(sizeof(double) * f);
	uint32	   *distinct = palloc(sizeof(uint32) * nitems);
	float	   *conf = palloc(sizeof(float) * nitems);
	int64		nd = 0;

	for (int64 k = 0; k < nitems;)
	{
		int64		k1 = k + 1;

		while (k1 < nitems && items[k1] == items[k])
			k1++;
		distinct[nd] = items[k];
		conf[nd++] = (float) (m->alpha * (double) (k1 - k));
		k = k1;
	}
	UserSystem(m, distinct, conf, nd, A, b);
	SolveUserSystem(f, A, b);
	memset(x, 0, sizeof(float) * m->fs);
	for (int j = 0; j < f; j++)
		x[j] = (float) b[j];
	pfree(A);
	pfree(b);
	pfree(distinct);
	pfree(conf);
}

/*
 * uba_cf_recommend(model, items bigint[], n [, options]): real-time
 * fold-in for a user the model does not know (a cart, a live session):
 * solve a user vector from the items and recommend, leaving those items
 * out unless include_seen.  Items the model does not know and NULL
 * elements are ignored; with no known item, the most popular items.
 */
Datum
uba_cf_recommend_items(PG_FUNCTION_ARGS)
{
	CfModel    *m;
	UbaOptions	o;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	uint32	   *known;
	int64		nknown = 0;
	int			n;
	Scored	   *top;

	m = RecommendStart(fcinfo, &o, &n);
	if (m == NULL)
		return (Datum) 0;
	arr = PG_GETARG_ARRAYTYPE_P(1);
	uba_read_ids(arr, "item list", &elems, &nulls, &nelems);
	known = palloc(sizeof(uint32) * Max(nelems, 1));
	for (int e = 0; e < nelems; e++)
	{
		int64		i = nulls[e] ? -1 : FindId(m->item_ids, m->nitems, DatumGetInt64(elems[e]));

		if (i >= 0)
			known[nknown++] = (uint32) i;
	}
	qsort(known, nknown, sizeof(uint32), uba_cmp_uint32);
	top = palloc(sizeof(Scored) * Max(n, 1));
	if (nknown == 0)
		n = TopItems(m, NULL, NULL, 0, n, top);
	else
	{
		float	   *scores = palloc(sizeof(float) * m->nitems);

		if (m->method == CF_METHOD_ALS)
		{
			float	   *x = palloc(sizeof(float) * m->fs);

			if (m->explicit)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("recommending for a list of items needs an implicit-feedback model"),
						 errdetail("The model was trained on ratings, and the list has none."),
						 errhint("Train with \"feedback\": \"implicit\" (the default) for fold-in.")));
			FoldIn(m, known, nknown, x);
			UserScores(m, x, scores);
		}
		else
		{
			int64		nd = 0;

			/* each listed item once: the similarities are of the binary matrix */
			for (int64 k = 0; k < nknown; k++)
				if (k == 0 || known[k] != known[k - 1])
					known[nd++] = known[k];
			nknown = nd;
			KnnScores(m, known, nknown, scores);
		}
		n = TopItems(m, scores, uba_option(&o, "include_seen") != 0 ? NULL : known,
					 uba_option(&o, "include_seen") != 0 ? 0 : nknown, n, top);
	}
	EmitItems(fcinfo, m, top, n);
	return (Datum) 0;
}

/*
 * uba_cf_similar_items(model, item_id, n) returns (item_id, score): the n
 * items whose vectors are closest in direction (cosine), "customers who
 * bought this also bought".  An item the model does not know gives no rows.
 */
Datum
uba_cf_similar_items(PG_FUNCTION_ARGS)
{
	CfModel    *m;
	int64		item;
	int			n,
				size = 0;
	Scored	   *top;
	float		norm;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_CF, ParseCf);
	n = ResultCount(m, PG_GETARG_INT32(2));
	item = FindId(m->item_ids, m->nitems, PG_GETARG_INT64(1));
	if (item < 0 || n == 0)
		return (Datum) 0;
	if (m->method != CF_METHOD_ALS)
	{
		/* the item's kept list, already largest first */
		int64		k0 = m->nbr_off[item];
		int64		cnt = Min((int64) n, m->nbr_off[item + 1] - k0);

		top = palloc(sizeof(Scored) * Max(cnt, 1));
		for (int64 k = 0; k < cnt; k++)
			top[k] = (Scored) {m->nbr_sim[k0 + k], m->nbr[k0 + k]};
		EmitItems(fcinfo, m, top, (int) cnt);
		return (Datum) 0;
	}
	if (m->item_norms == NULL)
	{
		float	   *norms = MemoryContextAlloc(m->cxt, sizeof(float) * m->nitems);

		for (int64 i = 0; i < m->nitems; i++)
			norms[i] = sqrtf(Dot(m->Y + (Size) i * m->fs, m->Y + (Size) i * m->fs, m->fs));
		m->item_norms = norms;
	}
	top = palloc(sizeof(Scored) * n);
	norm = m->item_norms[item];
	for (int64 i = 0; i < m->nitems; i++)
	{
		float		d = norm * m->item_norms[i];

		if (i == item)
			continue;
		HeapOffer(top, &size, n, (Scored) {d > 0 ? Dot(m->Y + (Size) item * m->fs, m->Y + (Size) i * m->fs, m->fs) / d : 0.0f,
					  (uint32) i});
	}
	qsort(top, size, sizeof(Scored), CompareScored);
	EmitItems(fcinfo, m, top, size);
	return (Datum) 0;
}

/* A contribution to an explained score */
typedef struct Because
{
	double		contribution;
	uint32		item;
} Because;

static int
CompareBecause(const void *a, const void *b)
{
	const Because *x = (const Because *) a;
	const Because *y = (const Because *) b;

	if (x->contribution != y->contribution)
		return x->contribution > y->contribution ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

static void ExplainAls(CfModel *m, int64 item, int64 k0, int64 nseen, Because *because);

/*
 * uba_cf_explain(model, user_id, item_id [, n]) returns (because_item,
 * contribution): which of the user's own items drove the item's score
 * (Hu, Koren and Volinsky 2008, section 5).  With W = (Y'C_uY +
 * regularization I)^-1, the user's weighting of item similarities, the
 * score is the sum over the user's items j of c_uj (y_i' W y_j): each
 * term is item j's contribution.  The n largest (default 10), largest
 * first.  The sum over all of them equals the score of the exact user
 * vector for the current item vectors, which the trained vector
 * approaches.  An unknown user or item gives no rows.
 */
Datum
uba_cf_explain(PG_FUNCTION_ARGS)
{
	CfModel    *m;
	int64		u,
				item,
				k0,
				nseen;
	int32		n;
	Because    *because;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || (PG_NARGS() > 3 && PG_ARGISNULL(3)))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_CF, ParseCf);
	n = ResultCount(m, PG_NARGS() > 3 ? PG_GETARG_INT32(3) : 10);
	u = FindId(m->user_ids, m->nusers, PG_GETARG_INT64(1));
	item = FindId(m->item_ids, m->nitems, PG_GETARG_INT64(2));
	if (u < 0 || item < 0 || n == 0)
		return (Datum) 0;

	k0 = m->seen_off[u];
	nseen = m->seen_off[u + 1] - k0;
	because = palloc(sizeof(Because) * Max(nseen, 1));
	if (m->method != CF_METHOD_ALS)
	{
		int64		nb = 0;

		/* item-item methods: each of the user's items that has the item in its kept list */
		for (int64 k = 0; k < nseen; k++)
		{
			uint32		i = m->seen[k0 + k];

			for (int64 q = m->nbr_off[i]; q < m->nbr_off[i + 1]; q++)
				if (m->nbr[q] == (uint32) item)
				{
					because[nb].contribution = m->nbr_sim[q];
					because[nb++].item = i;
					break;
				}
		}
		nseen = nb;
	}
	else
		ExplainAls(m, item, k0, nseen, because);

	qsort(because, nseen, sizeof(Because), CompareBecause);
	for (int64 k = 0; k < Min((int64) n, nseen); k++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(m->item_ids[because[k].item]);
		values[1] = Float8GetDatum(because[k].contribution);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ALS contributions of the user's nseen items (from k0) to item's score:
 * c_uj y_i' W y_j, or r_uj y_i' W y_j with ratings.
 */
static void
ExplainAls(CfModel *m, int64 item, int64 k0, int64 nseen, Because *because)
{
	int			f = m->f;
	double	   *A = palloc(sizeof(double) * f * f);
	double	   *z = palloc(sizeof(double) * f);

	if (m->explicit)
	{
		/* ratings: W = (Y_u'Y_u + regularization n_u I)^-1, and item j contributes r_uj y_i' W y_j */
		memset(A, 0, sizeof(double) * f * f);
		for (int j = 0; j < f; j++)
			A[(Size) j * f + j] = m->reg * (double) nseen;
		for (int64 k = 0; k < nseen; k++)
		{
			const float *y = m->Y + (Size) m->seen[k0 + k] * m->fs;

			for (int j = 0; j < f; j++)
				for (int l = 0; l < f; l++)
					A[(Size) j * f + l] += (double) y[j] * y[l];
		}
	}
	else
		UserSystem(m, m->seen + k0, m->seen_conf + k0, nseen, A, NULL);
	for (int j = 0; j < f; j++)
		z[j] = m->Y[(Size) item * m->fs + j];
	SolveUserSystem(f, A, z);	/* z = W y_i */

	for (int64 k = 0; k < nseen; k++)
	{
		const float *y = m->Y + (Size) m->seen[k0 + k] * m->fs;
		double		s = 0;
		double		weight = m->explicit ? (double) m->seen_conf[k0 + k] : 1 + (double) m->seen_conf[k0 + k];

		for (int j = 0; j < f; j++)
			s += z[j] * y[j];
		because[k].contribution = weight * s;
		because[k].item = m->seen[k0 + k];
	}
	pfree(A);
	pfree(z);
}
