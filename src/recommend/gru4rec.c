/*-------------------------------------------------------------------------
 *
 * gru4rec.c
 *	  GRU4Rec (Hidasi et al. 2016; Hidasi & Karatzoglou 2018): one GRU layer
 *	  over a session's clicks (one-hot items in), an output embedding per
 *	  item; trained with session-parallel mini-batches, cross-entropy over
 *	  the batch's targets and negatives sampled by popularity^alpha, and
 *	  Adagrad; one step of backpropagation per click (the hidden state is
 *	  carried on, as the original code does); the sampled softmax corrected
 *	  by logQ (Bengio & Senecal 2008), as the official code offers.  doc/sessions.md has the exact
 *	  definition; bench/gru4rec_reference.py is a NumPy version of it.
 *
 * The batch's products are single-precision BLAS calls; the rest are plain
 * loops.  The output layer runs in GRU4REC_PARTS parts (the columns of
 * items by their number modulo the parts) on a team of threads (core
 * threads.c), their row sums added in part order; the recurrent layer's
 * update runs on the backend; BLAS never adds threads of its
 * own while the team runs: training is deterministic for a seed whatever
 * uba.threads is.  Interrupts are checked between steps.
 *
 * Serialized (after the sessions): hidden units (u32), epochs (u32), the
 * last epoch's loss (f64), then E (n x 3h), U (h x 3h), b (3h), W (n x h),
 * c (n), all f32.
 *
 *-------------------------------------------------------------------------
 */
#include "gru4rec.h"

#include <math.h>

#include "miscadmin.h"

/* The output layer's parts (GRU4REC_PARTS, below) at most */
#define GRU4REC_PARTS_MAX 8

/* Work arrays of one step: the batch's rows */
typedef struct Step
{
	int			B;				/* slots */
	int			S;				/* output columns: B targets + negatives */
	int			h;
	uint32	   *x;				/* B: input items */
	uint32	   *cols;			/* S: the targets, then the negatives */
	float	   *hc;				/* B x h: carried state */
	float	   *a;				/* B x 3h: pre-activations, then their gradients */
	float	   *z,
			   *r,
			   *g,
			   *hn,
			   *rh,
			   *hd,
			   *mask;			/* B x h each */
	float	   *wsel;			/* S x h: the output rows of the columns */
	float	   *y;				/* B x S: logits, then their gradients */
	float	   *dwsel;			/* S x h */
	float	   *dh;				/* B x h */
	float	   *du;				/* h x 3h */
	float	   *db;				/* 3h */
	/* rows of E and W touched in a step, each once: stamp and its sums */
	uint32	   *stamp;			/* n */
	uint32		visit;
	int32	   *slot;			/* n: a touched item's place among the step's unique items */
	uint32	   *uniq;			/* B at most: the step's distinct input items */
	float	   *urow;			/* B x 3h: the summed gradient rows of the distinct inputs */
	/* the output columns as distinct items */
	uint32	   *ucols;			/* S */
	float	   *count;			/* S: how many columns each stands for */
	int		   *colu;			/* S: a column's distinct item */
	float	   *csel;			/* S: their output biases */
	/* negatives: Walker's alias tables of popularity^alpha */
	float	   *alias_prob;		/* n */
	uint32	   *alias;			/* n */
	/* logQ correction: logq times the log of each item's expected columns in a step, or NULL */
	float	   *logq;			/* n */
	/* the output layer's columns in GRU4REC_PARTS parts, each part's per-row results */
	int			nu;				/* distinct columns this step */
	int			part_start[GRU4REC_PARTS_MAX + 1];	/* each part's first column, in column order */
	int		   *perm;			/* S: a column's place once sorted by part */
	uint32	   *ucols2;			/* S */
	float	   *count2;			/* S */
	float	   *part_max;		/* PARTS x B: row maxima */
	float	   *part_sum;		/* PARTS x B: row sums of e^(logit - the part's maximum) */
	float	   *part_dh;		/* PARTS x B x h: dY W of the part's columns */
	float	   *yt;				/* B: each row's target logit */
	float	   *rowmax;			/* B */
	float	   *rowsum;			/* B */
	int			phase;			/* what a part does: OUT_LOGITS, OUT_BACK */
	int		   *rowu;			/* B: a row's input among the step's distinct ones */
	int			nuniq;
	/* set once: the network, its parameters' Adagrad sums, the step size */
	Gru4Rec    *net;
	float	   *GE;
	float	   *GU;
	float	   *Gb;
	float	   *GW;
	float	   *Gc;
	float		lr;
} Step;

/*
 * The output layer is split into a fixed number of parts by column, run on
 * a team of threads; each part's row results are combined in part order,
 * so the network does not depend on how many threads ran the parts.
 */
#define GRU4REC_PARTS 2
StaticAssertDecl(GRU4REC_PARTS <= GRU4REC_PARTS_MAX, "too many output parts");
#define OUT_LOGITS 0
#define OUT_BACK 1

/*
 * e^x in single precision, in plain arithmetic that the compiler turns into
 * vector instructions (expf is a library call per element, which took most
 * of a step): x = n ln 2 + f ln 2 with n the nearest integer to x / ln 2
 * (rounded by the 1.5 * 2^23 trick, exact in round-to-nearest), 2^f for
 * |f| <= 1/2 by its Taylor series to degree 6 (relative error about 1e-7,
 * float's own), 2^n built in the exponent bits.
 */
static inline float
Exp(float x)
{
	float		t,
				n,
				f,
				p,
				scale;
	int32		bits;

	x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
	t = x * 1.4426950409f;
	n = (t + 12582912.0f) - 12582912.0f;
	f = (t - n) * 0.6931471806f;
	p = 1.0f + f * (1.0f + f * (0.5f + f * (1.6666667e-1f + f * (4.1666668e-2f + f * (8.3333338e-3f + f * 1.3888889e-3f)))));
	bits = ((int32) n + 127) << 23;
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

static inline float
Sigmoid(float v)
{
	return 1.0f / (1.0f + Exp(-v));
}

static inline float
Tanh(float v)
{
	return 2.0f / (1.0f + Exp(-2.0f * v)) - 1.0f;
}

/* The gates from the pre-activations, and r * hc (rows of h; a has rows of 3h) */
UBA_TARGET_CLONES
static void
Gates(int B, int h, const float *restrict a, const float *restrict hc, float *restrict z, float *restrict r,
	  float *restrict rh)
{
	for (int i = 0; i < B; i++)
		for (int k = 0; k < h; k++)
		{
			Size		o = (Size) i * h + k;

			z[o] = Sigmoid(a[(Size) i * 3 * h + k]);
			r[o] = Sigmoid(a[(Size) i * 3 * h + h + k]);
			rh[o] = r[o] * hc[o];
		}
}

/* The candidate and the new state */
UBA_TARGET_CLONES
static void
Candidate(int B, int h, const float *restrict a, const float *restrict hc, const float *restrict z,
		  float *restrict g, float *restrict hn)
{
	for (int i = 0; i < B; i++)
		for (int k = 0; k < h; k++)
		{
			Size		o = (Size) i * h + k;

			g[o] = Tanh(a[(Size) i * 3 * h + 2 * h + k]);
			hn[o] = (1.0f - z[o]) * hc[o] + z[o] * g[o];
		}
}

/* The largest of n values: eight running maxima, which run on vectors (max is exact in any order) */
UBA_TARGET_CLONES
static float
MaxOf(const float *restrict y, int n)
{
	float		m[8];
	float		mx;
	int			j = 0;

	for (int k = 0; k < 8; k++)
		m[k] = -INFINITY;
	for (; j + 8 <= n; j += 8)
		for (int k = 0; k < 8; k++)
			m[k] = y[j + k] > m[k] ? y[j + k] : m[k];
	mx = m[0];
	for (int k = 1; k < 8; k++)
		mx = m[k] > mx ? m[k] : mx;
	for (; j < n; j++)
		mx = y[j] > mx ? y[j] : mx;
	return mx;
}

/* Rows x of E plus b: each row of a (3h wide) */
UBA_TARGET_CLONES
static void
InputRows(float *restrict a, const float *restrict E, const float *restrict b, const uint32 *x, int B, int h3)
{
	for (int i = 0; i < B; i++)
	{
		const float *restrict e = E + (Size) x[i] * h3;
		float	   *restrict out = a + (Size) i * h3;

		for (int k = 0; k < h3; k++)
			out[k] = e[k] + b[k];
	}
}

/* y += c */
UBA_TARGET_CLONES
static void
AddBias(float *restrict y, const float *restrict c, int n)
{
	for (int j = 0; j < n; j++)
		y[j] += c[j];
}

/* e^(y - mx) weighted by count, in place; their sum */
UBA_TARGET_CLONES
static float
ExpRow(float *restrict y, const float *restrict count, int n, float mx)
{
	float		sum = 0;

	/* two loops: the first runs on vectors, the sum keeps its order */
	for (int j = 0; j < n; j++)
		y[j] = count[j] * Exp(y[j] - mx);
	for (int j = 0; j < n; j++)
		sum += y[j];
	return sum;
}

/* Uniform in [-s, s], s = sqrt(6 / (rows + cols)) */
static void
InitUniform(float *p, Size count, int64 rows, int64 cols, UbaRandom *rng)
{
	double		s = sqrt(6.0 / (double) (rows + cols));

	for (Size i = 0; i < count; i++)
		p[i] = (float) ((2.0 * uba_random_double(rng) - 1.0) * s);
}

Size
uba_gru4rec_training_bytes(int64 n, const Gru4RecSettings *s)
{
	Size		h = (Size) s->hidden;
	Size		S = (Size) s->batch_size + (Size) s->n_sample;

	/* the parameters and their Adagrad sums, twice; the step's arrays; sampling */
	return add_size(mul_size(mul_size((Size) n, 4 * h + 1), 2 * sizeof(float)),
					add_size(mul_size((Size) n, sizeof(double) + 2 * sizeof(uint32)),
							 mul_size(S + (Size) s->batch_size, 8 * h * sizeof(float) + S * sizeof(float))));
}

/* Adagrad on count values: G += g^2, p -= lr g / (sqrt(G) + eps) */
UBA_TARGET_CLONES
static void
Adagrad(float *restrict p, float *restrict G, const float *restrict grad, int count, float lr)
{
	for (int i = 0; i < count; i++)
	{
		G[i] += grad[i] * grad[i];
		p[i] -= lr * grad[i] / (sqrtf(G[i]) + 1e-6f);
	}
}

/* Start a new step's set of touched rows */
static void
NextVisit(Step *st, int64 n)
{
	if (++st->visit == 0)
	{
		memset(st->stamp, 0, sizeof(uint32) * n);
		st->visit = 1;
	}
}

/*
 * The place of item i among the distinct items of the current visit
 * (list[0 .. *n)), appended when new.
 */
static inline int
Distinct(Step *st, uint32 i, uint32 *list, int *n)
{
	if (st->stamp[i] != st->visit)
	{
		st->stamp[i] = st->visit;
		st->slot[i] = *n;
		list[(*n)++] = i;
	}
	return st->slot[i];
}

/*
 * The GRU's step for B rows: pre-activations a from the inputs' rows of E
 * and the carried states, gates z and r, candidate g, new state hn.
 */
static void
Forward(const Gru4Rec *net, int B, const uint32 *x, const float *hc, float *a, float *z, float *r,
		float *g, float *rh, float *hn)
{
	int			h = net->h;
	int			h3 = 3 * h;

	InputRows(a, net->E, net->b, x, B, h3);
	/* gates: a[:, 0:2h] += hc U[:, 0:2h] */
	uba_sgemm(false, false, B, 2 * h, h, 1.0f, hc, h, net->U, h3, 1.0f, a, h3);
	Gates(B, h, a, hc, z, r, rh);
	/* candidate: a[:, 2h:3h] += (r * hc) U[:, 2h:3h] */
	uba_sgemm(false, false, B, h, h, 1.0f, rh, h, net->U + 2 * h, h3, 1.0f, a + 2 * h, h3);
	Candidate(B, h, a, hc, z, g, hn);
}

/*
 * One part of the output layer (a block of the step's distinct columns):
 * OUT_LOGITS: the columns' output rows and biases, the logits, each row's
 * maximum over the part (and the target's logit, in the target's part);
 * and e^(logit - the part's maximum) weighted by the columns' counts, each
 * row's sum over the part; OUT_BACK: the cross-entropy's gradient of the
 * logits, the part's rows of W and entries of c updated (Adagrad; the
 * columns are distinct items, so parts touch different rows), and the
 * part's dY W.  Pure computation: it runs on any of the team's threads.
 */
static void
OutputPart(void *arg, int64 part, int lane)
{
	Step	   *st = (Step *) arg;
	Gru4Rec    *net = st->net;
	int			B = st->B,
				h = st->h,
				nu = st->nu;
	int			u0 = st->part_start[part],
				u1 = st->part_start[part + 1],
				w = u1 - u0;
	float	   *pm = st->part_max + (Size) part * B;
	float	   *ps = st->part_sum + (Size) part * B;

	if (st->phase == OUT_LOGITS)
	{
		for (int u = u0; u < u1; u++)
		{
			memcpy(st->wsel + (Size) u * h, net->W + (Size) st->ucols[u] * h, sizeof(float) * h);
			st->csel[u] = net->c[st->ucols[u]] - (st->logq ? st->logq[st->ucols[u]] : 0.0f);
		}
		if (w > 0)
			uba_sgemm(false, true, B, w, h, 1.0f, st->hd, h, st->wsel + (Size) u0 * h, h, 0.0f, st->y + u0, nu);
		for (int i = 0; i < B; i++)
		{
			float	   *y = st->y + (Size) i * nu + u0;
			int			t = st->colu[i];

			AddBias(y, st->csel + u0, w);
			pm[i] = w > 0 ? MaxOf(y, w) : -INFINITY;
			if (t >= u0 && t < u1)
				st->yt[i] = y[t - u0];
			/* e^(logit - the part's maximum), weighted by the counts; their sum */
			ps[i] = w > 0 ? ExpRow(y, st->count + u0, w, pm[i]) : 0;
		}
	}
	else
	{
		float	   *dh = st->part_dh + (Size) part * B * h;

		for (int i = 0; i < B; i++)
		{
			float	   *y = st->y + (Size) i * nu;
			int			t = st->colu[i];
			/* the part's e^ were relative to its own maximum */
			float		scale = Exp(pm[i] - st->rowmax[i]) / st->rowsum[i] / (float) B;

			for (int u = u0; u < u1; u++)
				y[u] *= scale;
			if (t >= u0 && t < u1)
				y[t] -= 1.0f / (float) B;
		}
		if (w == 0)
		{
			memset(dh, 0, sizeof(float) * B * h);
			return;
		}
		/* dW[cols] = dY^T hd, dh = dY W[cols] (the rows before their update) */
		uba_sgemm(true, false, w, h, B, 1.0f, st->y + u0, nu, st->hd, h, 0.0f, st->dwsel + (Size) u0 * h, h);
		uba_sgemm(false, false, B, h, w, 1.0f, st->y + u0, nu, st->wsel + (Size) u0 * h, h, 0.0f, dh, h);
		for (int u = u0; u < u1; u++)
		{
			uint32		item = st->ucols[u];
			float		dc = 0;

			for (int i = 0; i < B; i++)
				dc += st->y[(Size) i * nu + u];
			Adagrad(net->W + (Size) item * h, st->GW + (Size) item * h, st->dwsel + (Size) u * h, h, st->lr);
			st->Gc[item] += dc * dc;
			net->c[item] -= st->lr * dc / (sqrtf(st->Gc[item]) + 1e-6f);
		}
	}
}

/*
 * The recurrent layer's update: dU (hc^T [dz, dr] for the gates, (r * hc)^T
 * dg for the candidate), db, and the distinct input items' rows of E (rows
 * of a summed per item), each followed by its Adagrad step.  It stays on
 * the backend's thread: the next step's forward pass reads all of U there,
 * and U updated on another core would move between the cores every step.
 */
static void
RecurrentUpdate(Step *st)
{
	Gru4Rec    *net = st->net;
	int			B = st->B,
				h = st->h,
				h3 = 3 * h;

	uba_sgemm(true, false, h, 2 * h, B, 1.0f, st->hc, h, st->a, h3, 0.0f, st->du, h3);
	uba_sgemm(true, false, h, h, B, 1.0f, st->rh, h, st->a + 2 * h, h3, 0.0f, st->du + 2 * h, h3);
	memset(st->db, 0, sizeof(float) * h3);
	for (int i = 0; i < B; i++)
		for (int k = 0; k < h3; k++)
			st->db[k] += st->a[(Size) i * h3 + k];
	Adagrad(net->U, st->GU, st->du, h * h3, st->lr);
	Adagrad(net->b, st->Gb, st->db, h3, st->lr);
	memset(st->urow, 0, sizeof(float) * st->nuniq * h3);
	for (int i = 0; i < B; i++)
	{
		float	   *restrict dst = st->urow + (Size) st->rowu[i] * h3;
		const float *restrict src = st->a + (Size) i * h3;

		for (int k = 0; k < h3; k++)
			dst[k] += src[k];
	}
	for (int u = 0; u < st->nuniq; u++)
		Adagrad(net->E + (Size) st->uniq[u] * h3, st->GE + (Size) st->uniq[u] * h3,
				st->urow + (Size) u * h3, h3, st->lr);
}

/* One mini-batch step over the active slots (B rows): forward, loss, backward, Adagrad; the loss summed over the rows */
static double
TrainStep(Step *st, const Gru4RecSettings *s, UbaRandom *rng, UbaTeam *team)
{
	Gru4Rec    *net = st->net;
	int			B = st->B,
				S = st->S,
				h = st->h,
				h3 = 3 * h;
	float		keep = (float) (1.0 - s->dropout);
	double		loss = 0;
	int			nuniq = 0,
				nu = 0;

	Forward(net, B, st->x, st->hc, st->a, st->z, st->r, st->g, st->rh, st->hn);

	/* dropout on what the output layer sees (inverted: kept units scaled up) */
	for (Size o = 0; o < (Size) B * h; o++)
	{
		st->mask[o] = s->dropout > 0 ? (uba_random_double(rng) < keep ? 1.0f / keep : 0.0f) : 1.0f;
		st->hd[o] = st->hn[o] * st->mask[o];
	}

	/* negatives by popularity^alpha, after the batch's own targets */
	for (int j = B; j < S; j++)
	{
		double		u = uba_random_double(rng) * (double) net->n;
		int64		i = Min((int64) u, net->n - 1);

		st->cols[j] = (u - (double) i) < st->alias_prob[i] ? (uint32) i : st->alias[i];
	}
	/*
	 * The columns as distinct items with counts: a duplicate column has the
	 * same logit, so the softmax weighs each distinct one by its count, which
	 * gives the loss and the summed gradients of the columns as drawn.
	 */
	NextVisit(st, net->n);
	for (int j = 0; j < S; j++)
	{
		int			before = nu;
		int			u = Distinct(st, st->cols[j], st->ucols, &nu);

		st->count[u] = nu > before ? 1 : st->count[u] + 1;
		st->colu[j] = u;
	}
	/*
	 * The distinct columns in parts by item number (item % parts), so that
	 * an item's output row is always updated by the same part, and the same
	 * thread: it stays in that core's cache.  A counting sort, stable.
	 */
	{
		int			at[GRU4REC_PARTS_MAX + 1] = {0};

		for (int u = 0; u < nu; u++)
			at[st->ucols[u] % GRU4REC_PARTS + 1]++;
		for (int p = 0; p < GRU4REC_PARTS; p++)
			at[p + 1] += at[p];
		memcpy(st->part_start, at, sizeof(int) * (GRU4REC_PARTS + 1));
		for (int u = 0; u < nu; u++)
		{
			int			to = at[st->ucols[u] % GRU4REC_PARTS]++;

			st->perm[u] = to;
			st->ucols2[to] = st->ucols[u];
			st->count2[to] = st->count[u];
		}
		memcpy(st->ucols, st->ucols2, sizeof(uint32) * nu);
		memcpy(st->count, st->count2, sizeof(float) * nu);
		for (int j = 0; j < S; j++)
			st->colu[j] = st->perm[st->colu[j]];
	}
	/* the output layer on the team: logits with their row maxima and sums, then gradients and updates */
	st->nu = nu;
	st->phase = OUT_LOGITS;
	uba_team_run(team, GRU4REC_PARTS, OutputPart, st);
	/* the softmax's maximum and sum over the parts (each part's sum rescaled to the maximum) */
	for (int i = 0; i < B; i++)
	{
		float		mx = st->part_max[i],
					sum = 0;

		for (int p = 1; p < GRU4REC_PARTS; p++)
			mx = Max(mx, st->part_max[(Size) p * B + i]);
		for (int p = 0; p < GRU4REC_PARTS; p++)
			if (st->part_sum[(Size) p * B + i] > 0)
				sum += st->part_sum[(Size) p * B + i] * Exp(st->part_max[(Size) p * B + i] - mx);
		st->rowmax[i] = mx;
		st->rowsum[i] = sum;
		loss += -((double) st->yt[i] - mx - log((double) sum));
	}
	st->phase = OUT_BACK;
	uba_team_run(team, GRU4REC_PARTS, OutputPart, st);
	/* dh = the parts' dY W, added in part order */
	memcpy(st->dh, st->part_dh, sizeof(float) * B * h);
	for (int p = 1; p < GRU4REC_PARTS; p++)
	{
		const float *d = st->part_dh + (Size) p * B * h;

		for (Size o = 0; o < (Size) B * h; o++)
			st->dh[o] += d[o];
	}

	/* the GRU, one step back (hc is a constant): the pre-activations' gradients into a */
	for (int i = 0; i < B; i++)
		for (int k = 0; k < h; k++)
		{
			Size		o = (Size) i * h + k;
			float		dhn = st->dh[o] * st->mask[o];
			float		zz = st->z[o],
						gg = st->g[o];

			st->a[(Size) i * h3 + 2 * h + k] = dhn * zz * (1.0f - gg * gg);
			st->a[(Size) i * h3 + k] = dhn * (gg - st->hc[o]) * zz * (1.0f - zz);
		}
	/* d(r * hc) = dg U[:, 2h:3h]^T, into dh (free now) */
	uba_sgemm(false, true, B, h, h, 1.0f, st->a + 2 * h, h3, net->U + 2 * h, h3, 0.0f, st->dh, h);
	for (int i = 0; i < B; i++)
		for (int k = 0; k < h; k++)
		{
			Size		o = (Size) i * h + k;
			float		rr = st->r[o];

			st->a[(Size) i * h3 + h + k] = st->dh[o] * st->hc[o] * rr * (1.0f - rr);
		}
	/* the inputs as distinct items, each row's place among them */
	NextVisit(st, net->n);
	for (int i = 0; i < B; i++)
		st->rowu[i] = Distinct(st, st->x[i], st->uniq, &nuniq);
	st->nuniq = nuniq;
	RecurrentUpdate(st);
	return loss;
}

/*
 * Walker's alias method (Vose's construction) for drawing item i with
 * probability w[i] / sum(w) in constant time: a draw picks a column
 * uniformly, then the column's item or its alias.
 */
static void
BuildAlias(const double *w, int64 n, float **prob_out, uint32 **alias_out)
{
	double		total = 0;
	double	   *q = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n);
	int64	   *small = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n);
	int64	   *large = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n);
	float	   *prob = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * n);
	uint32	   *alias = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * n);
	int64		ns = 0,
				nl = 0;

	for (int64 i = 0; i < n; i++)
		total += w[i];
	for (int64 i = 0; i < n; i++)
	{
		q[i] = total > 0 ? w[i] * (double) n / total : 1.0;
		alias[i] = (uint32) i;
		if (q[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns > 0 && nl > 0)
	{
		int64		l = small[--ns],
					g = large[nl - 1];

		prob[l] = (float) q[l];
		alias[l] = (uint32) g;
		q[g] = (q[g] + q[l]) - 1.0;
		if (q[g] < 1.0)
		{
			nl--;
			small[ns++] = g;
		}
	}
	/* what is left has probability 1 (up to rounding) */
	while (nl > 0)
		prob[large[--nl]] = 1.0f;
	while (ns > 0)
		prob[small[--ns]] = 1.0f;
	pfree(q);
	pfree(small);
	pfree(large);
	*prob_out = prob;
	*alias_out = alias;
}

static bool
AllFinite(const float *p, Size n)
{
	for (Size k = 0; k < n; k++)
		if (!isfinite(p[k]))
			return false;
	return true;
}

void
uba_gru4rec_train(Gru4Rec *net, int64 n, const int64 *off, const uint32 *click, int64 nsessions,
				  const Gru4RecSettings *s, const UbaOptions *progress)
{
	int			h = s->hidden,
				h3 = 3 * h,
				B = s->batch_size,
				S = s->batch_size + s->n_sample;
	UbaRandom	rng;
	float	   *GE,
			   *GU,
			   *Gb,
			   *GW,
			   *Gc;
	double	   *popw;
	Step		st;
	int64	   *sess,
			   *pos;
	float	   *slot_h;			/* B x h: each slot's carried state */
	UbaTeam    *team;
	int		   *row_of;			/* B: a slot's row in the step, -1 when inactive */

	uba_check_memory_for(uba_gru4rec_training_bytes(n, s), "training GRU4Rec",
						 "use a smaller \"hidden\", \"batch_size\" or \"n_sample\", or train on a recent period");
	uba_random_seed(&rng, s->seed);
	net->n = n;
	net->h = h;
	net->E = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * h3);
	net->U = palloc(sizeof(float) * (Size) h * h3);
	net->b = palloc0(sizeof(float) * h3);
	net->W = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * h);
	net->c = MemoryContextAllocZero(CurrentMemoryContext, sizeof(float) * n);
	InitUniform(net->E, (Size) n * h3, n, h3, &rng);
	InitUniform(net->U, (Size) h * h3, h, h3, &rng);
	InitUniform(net->W, (Size) n * h, n, h, &rng);
	GE = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * h3);
	memset(GE, 0, sizeof(float) * (Size) n * h3);
	GU = palloc0(sizeof(float) * (Size) h * h3);
	Gb = palloc0(sizeof(float) * h3);
	GW = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * h);
	memset(GW, 0, sizeof(float) * (Size) n * h);
	Gc = MemoryContextAllocZero(CurrentMemoryContext, sizeof(float) * n);

	/* negatives: cumulative popularity^alpha (clicks) */
	popw = MemoryContextAllocZero(CurrentMemoryContext, sizeof(double) * n);
	for (int64 e = 0; e < off[nsessions]; e++)
		popw[click[e]] += 1;
	for (int64 i = 0; i < n; i++)
		popw[i] = pow(popw[i], s->sample_alpha);

	memset(&st, 0, sizeof(st));
	/*
	 * With logQ correction each column's logit is lowered by the log of the
	 * columns it is expected to have in a step: B targets drawn as the
	 * clicks are, n_sample negatives by popularity^alpha.  The sampled
	 * softmax then estimates the full one without favouring popular items.
	 */
	if (s->logq > 0)
	{
		double		clicks = (double) off[nsessions],
					wsum = 0;

		st.logq = MemoryContextAllocZero(CurrentMemoryContext, sizeof(float) * n);
		for (int64 e = 0; e < off[nsessions]; e++)
			st.logq[click[e]] += 1;		/* clicks per item, first */
		for (int64 i = 0; i < n; i++)
			wsum += popw[i];
		for (int64 i = 0; i < n; i++)
		{
			double		expected = B * (st.logq[i] / clicks) + s->n_sample * (popw[i] / wsum);

			st.logq[i] = expected > 0 ? (float) (s->logq * log(expected)) : 0.0f;
		}
	}
	BuildAlias(popw, n, &st.alias_prob, &st.alias);
	st.B = B;
	st.S = S;
	st.h = h;
	st.x = palloc0(sizeof(uint32) * B);
	st.cols = palloc0(sizeof(uint32) * S);
	st.hc = palloc0(sizeof(float) * B * h);
	st.a = palloc0(sizeof(float) * B * h3);
	st.z = palloc0(sizeof(float) * B * h);
	st.r = palloc0(sizeof(float) * B * h);
	st.g = palloc0(sizeof(float) * B * h);
	st.hn = palloc0(sizeof(float) * B * h);
	st.rh = palloc0(sizeof(float) * B * h);
	st.hd = palloc0(sizeof(float) * B * h);
	st.mask = palloc0(sizeof(float) * B * h);
	st.wsel = palloc0(sizeof(float) * (Size) S * h);
	st.y = palloc0(sizeof(float) * (Size) B * S);
	st.dwsel = palloc0(sizeof(float) * (Size) S * h);
	st.dh = palloc0(sizeof(float) * B * h);
	st.du = palloc0(sizeof(float) * (Size) h * h3);
	st.db = palloc0(sizeof(float) * h3);
	st.stamp = MemoryContextAllocZero(CurrentMemoryContext, sizeof(uint32) * n);
	st.slot = MemoryContextAllocZero(CurrentMemoryContext, sizeof(int32) * n);
	st.uniq = palloc0(sizeof(uint32) * B);
	st.urow = palloc0(sizeof(float) * (Size) B * h3);
	st.ucols = palloc0(sizeof(uint32) * S);
	st.count = palloc0(sizeof(float) * S);
	st.colu = palloc0(sizeof(int) * S);
	st.csel = palloc0(sizeof(float) * S);
	st.part_max = palloc0(sizeof(float) * GRU4REC_PARTS * B);
	st.part_sum = palloc0(sizeof(float) * GRU4REC_PARTS * B);
	st.perm = palloc0(sizeof(int) * S);
	st.ucols2 = palloc0(sizeof(uint32) * S);
	st.count2 = palloc0(sizeof(float) * S);
	st.part_dh = palloc0(sizeof(float) * GRU4REC_PARTS * B * h);
	st.yt = palloc0(sizeof(float) * B);
	st.rowmax = palloc0(sizeof(float) * B);
	st.rowsum = palloc0(sizeof(float) * B);
	st.rowu = palloc0(sizeof(int) * B);
	st.net = net;
	st.GE = GE;
	st.GU = GU;
	st.Gb = Gb;
	st.GW = GW;
	st.Gc = Gc;
	st.lr = (float) s->learning_rate;
	/* the output layer's parts run on uba.threads threads kept for the whole training */
	team = uba_team_start(Min(uba_thread_count(), GRU4REC_PARTS));
	sess = palloc(sizeof(int64) * B);
	pos = palloc(sizeof(int64) * B);
	slot_h = palloc0(sizeof(float) * B * h);
	row_of = palloc(sizeof(int) * B);

	for (int epoch = 0; epoch < s->epochs; epoch++)
	{
		int64		next = 0,
					steps = 0,
					pairs = 0;
		double		loss = 0;

		/* each slot takes the next session with a target (two clicks or more), state 0 */
		for (int i = 0; i < B; i++)
		{
			while (next < nsessions && off[next + 1] - off[next] < 2)
				next++;
			sess[i] = next < nsessions ? next++ : -1;
			pos[i] = 0;
			memset(slot_h + (Size) i * h, 0, sizeof(float) * h);
		}
		for (;;)
		{
			int			nactive = 0;

			/* the active slots are the step's rows, their targets its first columns */
			for (int i = 0; i < B; i++)
			{
				int64		e;

				row_of[i] = -1;
				if (sess[i] < 0)
					continue;
				e = off[sess[i]] + pos[i];
				st.x[nactive] = click[e];
				st.cols[nactive] = click[e + 1];
				memcpy(st.hc + (Size) nactive * h, slot_h + (Size) i * h, sizeof(float) * h);
				row_of[i] = nactive++;
			}
			if (nactive == 0)
				break;
			st.B = nactive;
			st.S = nactive + s->n_sample;
			loss += TrainStep(&st, s, &rng, team);
			pairs += nactive;
			/* carry the state on, or start the slot's next session */
			for (int i = 0; i < B; i++)
			{
				if (row_of[i] < 0)
					continue;
				pos[i]++;
				if (off[sess[i]] + pos[i] + 1 < off[sess[i] + 1])
					memcpy(slot_h + (Size) i * h, st.hn + (Size) row_of[i] * h, sizeof(float) * h);
				else
				{
					while (next < nsessions && off[next + 1] - off[next] < 2)
						next++;
					sess[i] = next < nsessions ? next++ : -1;
					pos[i] = 0;
					memset(slot_h + (Size) i * h, 0, sizeof(float) * h);
				}
			}
			if ((++steps & 63) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		net->loss = pairs > 0 ? loss / (double) pairs : 0;
		net->epochs = epoch + 1;
		uba_progress(progress, "uba_session_train: gru4rec epoch %d of %d: " INT64_FORMAT " clicks, mean cross-entropy %.6f",
					 epoch + 1, s->epochs, pairs, net->loss);
	}
	uba_team_stop(team);
	/*
	 * Adagrad moves a weight by at most learning_rate a step, so the network
	 * stays finite; checked anyway, because a non-finite weight would make a
	 * model that no reader accepts.
	 */
	if (!AllFinite(net->E, (Size) n * h3) || !AllFinite(net->U, (Size) h * h3) || !AllFinite(net->W, (Size) n * h))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("GRU4Rec training diverged"),
				 errhint("Lower \"learning_rate\".")));
}

void
uba_gru4rec_write(UbaWriter *w, const Gru4Rec *g)
{
	uba_put_u32(w, (uint32) g->h);
	uba_put_u32(w, (uint32) g->epochs);
	uba_put_f64(w, g->loss);
	uba_put_f32_array(w, g->E, (Size) g->n * 3 * g->h);
	uba_put_f32_array(w, g->U, (Size) g->h * 3 * g->h);
	uba_put_f32_array(w, g->b, 3 * g->h);
	uba_put_f32_array(w, g->W, (Size) g->n * g->h);
	uba_put_f32_array(w, g->c, g->n);
}

void
uba_gru4rec_read(UbaReader *r, Gru4Rec *g, int64 n)
{
	uint32		h = uba_get_u32(r);
	Size		h3;

	g->epochs = (int) uba_get_u32(r);
	g->loss = uba_get_finite_f64(r);
	if (h < 1 || h > GRU4REC_MAX_HIDDEN || g->epochs < 1)
		uba_model_corrupted("The network's size is out of range.");
	g->n = n;
	g->h = (int) h;
	h3 = 3 * (Size) h;
	/* all of it must be there before anything is allocated */
	uba_reader_check_space(r, add_size(mul_size((Size) n, 4 * (Size) h + 1), mul_size(h, h3) + h3), sizeof(float));
	g->E = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * h3);
	uba_get_f32_array(r, g->E, (Size) n * h3, true);
	g->U = palloc(sizeof(float) * h * h3);
	uba_get_f32_array(r, g->U, h * h3, true);
	g->b = palloc(sizeof(float) * h3);
	uba_get_f32_array(r, g->b, h3, true);
	g->W = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * h);
	uba_get_f32_array(r, g->W, (Size) n * h, true);
	g->c = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * n);
	uba_get_f32_array(r, g->c, n, true);
}

void
uba_gru4rec_scores(const Gru4Rec *g, const uint32 *c, int len, double *scores)
{
	int			h = g->h;
	float	   *hc = palloc0(sizeof(float) * h);
	float	   *a = palloc(sizeof(float) * 3 * h);
	float	   *z = palloc(sizeof(float) * h);
	float	   *r = palloc(sizeof(float) * h);
	float	   *gg = palloc(sizeof(float) * h);
	float	   *rh = palloc(sizeof(float) * h);
	float	   *hn = palloc(sizeof(float) * h);
	double		mx = -INFINITY,
				sum = 0;

	for (int t = 0; t < len; t++)
	{
		Forward(g, 1, &c[t], hc, a, z, r, gg, rh, hn);
		memcpy(hc, hn, sizeof(float) * h);
	}
	for (int64 j = 0; j < g->n; j++)
	{
		const float *w = g->W + (Size) j * h;
		double		v = g->c[j];

		for (int k = 0; k < h; k++)
			v += (double) hc[k] * w[k];
		scores[j] = v;
		mx = Max(mx, v);
	}
	for (int64 j = 0; j < g->n; j++)
	{
		scores[j] = exp(scores[j] - mx);
		sum += scores[j];
	}
	for (int64 j = 0; j < g->n; j++)
		scores[j] /= sum;
}
