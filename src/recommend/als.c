/*-------------------------------------------------------------------------
 *
 * als.c
 *	  Alternating least squares, the default recommender method.
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
 * Y_u' r_u; it shares the solver (a flag of the half iteration) and has a
 * loss of its own.  The default solver takes a few conjugate-gradient
 * steps per row from its previous value (Takacs et al. 2011), which touch
 * only the row's observed items; "cholesky" factors the system.  Rows are
 * solved on up to uba.threads threads; each row's arithmetic is fixed, so
 * the model does not depend on the thread count.  Factors are single
 * precision, as the model stores them.
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"

#include <math.h>
#include "miscadmin.h"
#include "utils/memutils.h"

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

void
uba_cf_check_als_memory(int64 events, int64 nusers, int64 nitems, int f)
{
	Size		fs = CF_PAD(f);
	Size		need = mul_size((Size) (nusers + nitems), fs * sizeof(float));

	need = add_size(need, mul_size(UBA_LANES, mul_size(AlsLaneFloats(f), sizeof(float))));
	need = add_size(need, mul_size(UBA_LANES + 1, mul_size(fs * fs, sizeof(double))));
	need = add_size(need, mul_size((Size) events, CF_EVENT_PEAK_BYTES));
	uba_check_memory(need, "collaborative filtering training");
}

/* ALS from random vectors; returns the final objective, sets *Xp and *Yp (padded rows) */
double
uba_cf_train_als(CfSparse *byuser, CfSparse *byitem, int64 nusers, int64 nitems, const UbaOptions *o,
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
		uba_progress(o, "uba_cf_train: ALS iteration %d of %d", it + 1, iterations);
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

