/*-------------------------------------------------------------------------
 *
 * bandit.c
 *	  Contextual bandits trained from logged decisions (kind "bandit"):
 *
 *	  uba_bandit_train(action, context, reward, propensity [, options])
 *	    -> bytea, an aggregate over a decision log;
 *	  uba_bandit_update(policy, action, context, reward [, propensity])
 *	    -> bytea, the policy with one more observation;
 *	  uba_bandit_choose(policy, context, actions [, options])
 *	    -> TABLE (action, propensity, score).
 *
 * Methods (option "method"): "linucb" (Li et al. 2010, disjoint: a ridge
 * regression of reward on context per action, chosen by theta . x + alpha
 * sqrt(x' A^-1 x)), "lin_ts" (linear Thompson sampling, Agrawal & Goyal
 * 2013: theta drawn from N(theta, v^2 A^-1)), "epsilon_greedy" (greedy on
 * theta . x, uniform with probability epsilon) and "beta_ts" (Bernoulli
 * Thompson sampling per action, no context: Beta(1 + s, 1 + f)).  The
 * model keeps each action's sufficient statistics, A = lambda I + sum w x
 * x' and b = sum w r x (w = 1, or 1 / propensity with "importance_weighted"),
 * the count and the reward's successes and failures: partial states add
 * up (a parallel aggregate), and one observation updates a policy
 * cheaply.  Scoring factors each A once per query (Cholesky, cached with
 * the parsed model).
 *
 * uba_bandit_choose returns the propensity to log with each choice: 1 for
 * LinUCB's argmax (ties to the smallest action id), epsilon / K + (1 -
 * epsilon) [greedy] for epsilon-greedy, and for the Thompson samplers the
 * share of propensity_draws further draws in which the action wins.  With
 * n slots, a ranking without replacement, each slot's propensity is given
 * the slots before it.  Actions the model has not seen start from the
 * prior (A = lambda I, b = 0; Beta(1, 1)).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "decide/bandit.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(uba_bandit_transfn);
PG_FUNCTION_INFO_V1(uba_bandit_transfn_text);
PG_FUNCTION_INFO_V1(uba_bandit_combine);
PG_FUNCTION_INFO_V1(uba_bandit_serialize);
PG_FUNCTION_INFO_V1(uba_bandit_deserialize);
PG_FUNCTION_INFO_V1(uba_bandit_final);
PG_FUNCTION_INFO_V1(uba_bandit_transfn_row);
PG_FUNCTION_INFO_V1(uba_bandit_final_row);

/* the methods uba_bandit_train takes; a model may also be fqi.c's */
static const char *const bandit_methods[] = {"linucb", "lin_ts", "epsilon_greedy", "beta_ts", NULL};
static const char *const method_names[] = {"linucb", "lin_ts", "epsilon_greedy", "beta_ts", "fqi"};

static const UbaOptionSpec bandit_options[] = {
	{"method", UBA_OPT_CHOICE, 0, 0, 0, bandit_methods},
	{"alpha", UBA_OPT_FLOAT, 1.0, 0, 1e6, NULL},
	{"lambda", UBA_OPT_FLOAT, 1.0, 1e-9, 1e9, NULL},
	{"epsilon", UBA_OPT_FLOAT, 0.1, 0, 1, NULL},
	{"v", UBA_OPT_FLOAT, 1.0, 0, 1e6, NULL},
	{"importance_weighted", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"shared_features", UBA_OPT_INT, 0, 0, BANDIT_MAX_DIM, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
};

static const UbaOptionSpec choose_options[] = {
	{"n", UBA_OPT_INT, 1, 1, 1000, NULL},
	{"seed", UBA_OPT_INT, -1, -1, PG_INT32_MAX, NULL},
	{"propensity_draws", UBA_OPT_INT, 1000, 10, 1000000, NULL},
};


static double Quadratic(const double *U, int d, const double *x, double *z);

/* ---------- arms ---------- */

/* The bytes of one arm's statistics: A, B and b */
static Size
ArmBytes(const Bandit *m)
{
	Size		p = m->d - m->shared;

	return sizeof(double) * (p * p + p * m->shared + p);
}

/* The context's dimension is known: room for the shared statistics */
void
uba_bandit_set_dim(Bandit *m, int d)
{
	m->d = d;
	if (m->shared > d)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shared_features (%d) is more than the context's %d features", m->shared, d)));
	if (m->shared > 0)
	{
		m->Z = palloc0(sizeof(double) * m->shared * m->shared);
		m->zr = palloc0(sizeof(double) * m->shared);
	}
}

int
uba_bandit_find_arm(const Bandit *m, int64 action)
{
	int			lo = 0,
				hi = m->narms - 1;

	/* arms are kept sorted by action */
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (m->arms[mid].action == action)
			return mid;
		if (m->arms[mid].action < action)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -(lo + 1);
}

/* The arm of an action, added (zeroed) at its place when new */
BanditArm *
uba_bandit_arm(Bandit *m, int64 action)
{
	int			i = uba_bandit_find_arm(m, action);
	BanditArm  *a;

	if (i >= 0)
		return &m->arms[i];
	i = -i - 1;
	if (m->narms == BANDIT_MAX_ACTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a bandit has at most %d actions", BANDIT_MAX_ACTIONS)));
	uba_check_memory(mul_size(ArmBytes(m), m->narms + 1), "the bandit's statistics");
	if (m->narms == m->cap)
	{
		m->cap = m->cap ? m->cap * 2 : 16;
		m->arms = m->arms ? repalloc(m->arms, sizeof(BanditArm) * m->cap) : palloc(sizeof(BanditArm) * m->cap);
	}
	memmove(&m->arms[i + 1], &m->arms[i], sizeof(BanditArm) * (m->narms - i));
	m->narms++;
	a = &m->arms[i];
	memset(a, 0, sizeof(BanditArm));
	a->action = action;
	if (m->d > 0)
	{
		int			p = m->d - m->shared;

		a->A = palloc0(sizeof(double) * Max(p * p, 1));
		a->B = palloc0(sizeof(double) * Max(p * m->shared, 1));
		a->b = palloc0(sizeof(double) * Max(p, 1));
	}
	return a;
}

static void
CheckReward(const Bandit *m, double r)
{
	uba_check_finite(r, "rewards");
	if (m->method == BANDIT_BETA_TS && !(r >= 0 && r <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("beta_ts needs rewards in [0, 1]"),
				 errdetail("Got %g.", r),
				 errhint("Bernoulli Thompson sampling models a click or a conversion.")));
}

/* S += w v v' (s x s, both halves from one product: S stays exactly symmetric) and t += w r v */
void
uba_bandit_add_outer(double *S, double *t, const double *v, int s, double w, double r)
{
	for (int i = 0; i < s; i++)
	{
		double		wv = w * v[i];

		for (int j = i; j < s; j++)
		{
			double		p = wv * v[j];

			S[i * s + j] += p;
			if (j != i)
				S[j * s + i] += p;
		}
		t[i] += wv * r;
	}
}

/*
 * Add one observation (x: d values, the shared ones first) with weight w:
 * the action's A, b (and B = sum w x z'), and the shared Z, zr.
 */
static void
Observe(Bandit *m, int64 action, const double *x, double r, double w)
{
	BanditArm  *a = uba_bandit_arm(m, action);
	int			k = m->shared,
				p = m->d - k;
	const double *xa = x + k;

	CheckReward(m, r);
	a->n += 1;
	a->successes += w * r;
	a->failures += w * (1 - r);
	if (m->d == 0)
		return;
	uba_bandit_add_outer(a->A, a->b, xa, p, w, r);
	if (k > 0)
	{
		for (int i = 0; i < p; i++)
			for (int j = 0; j < k; j++)
				a->B[i * k + j] += w * xa[i] * x[j];
		uba_bandit_add_outer(m->Z, m->zr, x, k, w, r);
	}
}

/* The weight of a logged observation: 1, or 1 / propensity when importance weighted */
static double
Weight(const Bandit *m, bool has_p, double p)
{
	if (has_p && !(p > 0 && p <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("propensity must be in (0, 1]"),
				 errdetail("Got %g.", p),
				 errhint("It is the probability with which the logging policy chose the logged action.")));
	if (!m->importance_weighted)
		return 1;
	if (!has_p)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an importance-weighted bandit needs every propensity")));
	return 1 / p;
}

/* The context of a row: d finite values (beta_ts: any or none); a typed row encoded as in training */
static void
Context(const Bandit *m, FunctionCallInfo fcinfo, int argno, UbaFeatureForm form, double *x)
{
	if (m->d == 0)
		return;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the context must not be NULL")));
	uba_read_features_arg(fcinfo, argno, form, m->enc, x, m->d);
}

/* ---------- the model blob ---------- */

bytea *
uba_bandit_build(const Bandit *m, int64 rows, TimestampTz started, const UbaOptions *o,
				 const char *options_json, char **names, UbaEncoding *enc)
{
	UbaWriter	w;
	UbaModelMeta meta;

	uba_writer_init(&w);
	uba_put_u32(&w, (uint32) m->method);
	uba_put_u32(&w, (uint32) m->d);
	uba_put_u32(&w, (uint32) m->narms);
	/* flags: 1 importance weighted, 2 hybrid (the number of shared features follows), 4 fqi's discount and iterations follow */
	uba_put_u32(&w, (m->importance_weighted ? 1 : 0) | (m->shared > 0 ? 2 : 0) | (m->method == BANDIT_FQI ? 4 : 0));
	uba_put_f64(&w, m->alpha);
	uba_put_f64(&w, m->lambda);
	uba_put_f64(&w, m->epsilon);
	uba_put_f64(&w, m->v);
	if (m->shared > 0)
		uba_put_u32(&w, (uint32) m->shared);
	if (m->method == BANDIT_FQI)
	{
		uba_put_f64(&w, m->gamma);
		uba_put_u32(&w, (uint32) m->iterations);
	}
	for (int k = 0; k < m->narms; k++)
	{
		const BanditArm *a = &m->arms[k];
		Size		p = m->d - m->shared;

		uba_put_u64(&w, (uint64) a->action);
		uba_put_f64(&w, a->n);
		uba_put_f64(&w, a->successes);
		uba_put_f64(&w, a->failures);
		if (m->d > 0)
		{
			uba_put_f64_array(&w, a->A, p * p);
			uba_put_f64_array(&w, a->B, p * m->shared);
			uba_put_f64_array(&w, a->b, p);
		}
	}
	if (m->shared > 0)
	{
		uba_put_f64_array(&w, m->Z, (Size) m->shared * m->shared);
		uba_put_f64_array(&w, m->zr, m->shared);
	}
	if (o != NULL)
	{
		uba_model_meta_init(&meta, m->d, rows, started, o);
		if (enc != NULL)
			uba_encoding_attach(&meta, enc);
	}
	else
	{
		memset(&meta, 0, sizeof(meta));
		meta.n_features = m->d;
		meta.n_rows = rows;
		meta.created_at = GetCurrentTimestamp();
		meta.train_ms = 0;
		meta.options_json = (char *) options_json;
		meta.feature_names = names;
		meta.encoding = enc;
	}
	return uba_model_build(UBA_KIND_BANDIT, &meta, &w);
}

static bool
Symmetric(const double *S, int s)
{
	for (int i = 0; i < s; i++)
		for (int j = 0; j < i; j++)
			if (S[i * s + j] != S[j * s + i])
				return false;
	return true;
}

/* Read and validate a bandit payload (every number, the order of actions, the statistics' shape) */
static Bandit *
Read(const UbaModelMeta *meta, UbaReader *r)
{
	Bandit	   *m = palloc0(sizeof(Bandit));
	uint32		flags;

	m->method = (int) uba_get_u32(r);
	m->d = (int) uba_get_u32(r);
	m->narms = (int) uba_get_u32(r);
	flags = uba_get_u32(r);
	if (m->method < BANDIT_LINUCB || m->method > BANDIT_FQI)
		uba_model_corrupted("Unknown bandit method %d.", m->method);
	if (m->d < 0 || m->d > BANDIT_MAX_DIM || m->d != meta->n_features ||
		(m->d == 0 && m->method != BANDIT_BETA_TS))
		uba_model_corrupted("Bad context dimension %d.", m->d);
	if (m->narms < 0 || m->narms > BANDIT_MAX_ACTIONS || flags > 7 || ((flags & 4) != 0) != (m->method == BANDIT_FQI))
		uba_model_corrupted("Bad bandit header.");
	m->importance_weighted = (flags & 1) != 0;
	m->alpha = uba_get_finite_f64(r);
	m->lambda = uba_get_finite_f64(r);
	m->epsilon = uba_get_finite_f64(r);
	m->v = uba_get_finite_f64(r);
	if (!(m->alpha >= 0) || !(m->lambda > 0) || !(m->epsilon >= 0 && m->epsilon <= 1) || !(m->v >= 0))
		uba_model_corrupted("Bad bandit parameters.");
	if (flags & 2)
	{
		m->shared = (int) uba_get_u32(r);
		if (m->shared < 1 || m->shared > m->d ||
			(m->method != BANDIT_LINUCB && m->method != BANDIT_EPSILON_GREEDY))
			uba_model_corrupted("Bad number of shared features %d.", m->shared);
	}
	if (flags & 4)
	{
		m->gamma = uba_get_finite_f64(r);
		m->iterations = (int) uba_get_u32(r);
		if (!(m->gamma >= 0 && m->gamma <= 1) || m->iterations < 0 || m->iterations > 100000)
			uba_model_corrupted("Bad fitted Q iteration parameters.");
	}
	uba_reader_check_space(r, (Size) m->narms, 4 * sizeof(double) + ArmBytes(m));
	uba_check_memory(add_size(mul_size(ArmBytes(m), (Size) m->narms * 3 + 1),
							  sizeof(double) * 3 * (Size) m->shared * m->shared), "the bandit");
	m->cap = Max(m->narms, 1);
	m->arms = palloc0(sizeof(BanditArm) * m->cap);
	for (int k = 0; k < m->narms; k++)
	{
		BanditArm  *a = &m->arms[k];

		a->action = (int64) uba_get_u64(r);
		if (k > 0 && a->action <= m->arms[k - 1].action)
			uba_model_corrupted("Actions out of order.");
		a->n = uba_get_finite_f64(r);
		a->successes = uba_get_finite_f64(r);
		a->failures = uba_get_finite_f64(r);
		if (!(a->n >= 0) || !(a->successes >= 0 || m->method != BANDIT_BETA_TS) ||
			!(a->failures >= 0 || m->method != BANDIT_BETA_TS))
			uba_model_corrupted("Bad counts of action " INT64_FORMAT ".", a->action);
		if (m->d > 0)
		{
			int			p = m->d - m->shared;

			a->A = palloc(sizeof(double) * Max(p * p, 1));
			a->B = palloc(sizeof(double) * Max(p * m->shared, 1));
			a->b = palloc(sizeof(double) * Max(p, 1));
			uba_get_f64_array(r, a->A, (Size) p * p, true);
			uba_get_f64_array(r, a->B, (Size) p * m->shared, true);
			uba_get_f64_array(r, a->b, p, true);
			if (!Symmetric(a->A, p))
				uba_model_corrupted("The statistics of action " INT64_FORMAT " are not symmetric.", a->action);
		}
	}
	if (m->shared > 0)
	{
		m->Z = palloc(sizeof(double) * m->shared * m->shared);
		m->zr = palloc(sizeof(double) * m->shared);
		uba_get_f64_array(r, m->Z, (Size) m->shared * m->shared, true);
		uba_get_f64_array(r, m->zr, m->shared, true);
		if (!Symmetric(m->Z, m->shared))
			uba_model_corrupted("The shared statistics are not symmetric.");
	}
	uba_reader_finish(r);
	m->enc = meta->encoding;
	return m;
}

/*
 * The scoring cache: every arm's lambda I + A factored, and theta.  Hybrid
 * LinUCB (Li et al. 2010, algorithm 2) is one ridge regression over the
 * shared coefficients beta and every arm's theta; eliminating the arms'
 * blocks leaves A0 = lambda I + Z - sum_a B_a' A_a^-1 B_a and b0 = zr -
 * sum_a B_a' A_a^-1 b_a for beta = A0^-1 b0, then theta_a = A_a^-1 (b_a -
 * B_a beta).  Statistics that are not positive definite (a damaged model)
 * are refused.
 */
static void *
ParseForScoring(const UbaModelMeta *meta, UbaReader *r)
{
	Bandit	   *m = Read(meta, r);
	int			k = m->shared,
				p = m->d - k;
	double	   *b0 = NULL,
			   *col = NULL;

	if (m->d == 0)
		return m;
	m->theta = palloc(sizeof(double *) * Max(m->narms, 1));
	m->chol = palloc(sizeof(double *) * Max(m->narms, 1));
	if (k > 0)
	{
		m->M = palloc(sizeof(double *) * Max(m->narms, 1));
		m->chol0 = palloc(sizeof(double) * k * k);
		memcpy(m->chol0, m->Z, sizeof(double) * k * k);
		for (int i = 0; i < k; i++)
			m->chol0[i * k + i] += m->lambda;
		b0 = m->beta = palloc(sizeof(double) * k);
		memcpy(b0, m->zr, sizeof(double) * k);
		col = palloc(sizeof(double) * Max(p, 1));
	}
	for (int a = 0; a < m->narms; a++)
	{
		BanditArm  *arm = &m->arms[a];
		double	   *A = palloc(sizeof(double) * Max(p * p, 1));

		memcpy(A, arm->A, sizeof(double) * p * p);
		for (int i = 0; i < p; i++)
			A[i * p + i] += m->lambda;
		m->theta[a] = palloc(sizeof(double) * Max(p, 1));
		memcpy(m->theta[a], arm->b, sizeof(double) * p);
		if (p > 0 && !uba_cholesky_solve(p, A, m->theta[a]))
			uba_model_corrupted("The statistics of action " INT64_FORMAT " are not positive definite.",
								arm->action);
		m->chol[a] = A;
		if (k == 0)
			continue;
		/* M = A^-1 B, a column at a time; A0 -= B' M; b0 -= B' A^-1 b */
		m->M[a] = palloc(sizeof(double) * Max(p * k, 1));
		for (int j = 0; j < k; j++)
		{
			for (int i = 0; i < p; i++)
				col[i] = arm->B[i * k + j];
			uba_cholesky_resolve(p, A, col);
			for (int i = 0; i < p; i++)
				m->M[a][i * k + j] = col[i];
		}
		for (int i = 0; i < k; i++)
		{
			for (int j = 0; j < k; j++)
			{
				double		t = 0;

				for (int l = 0; l < p; l++)
					t += arm->B[l * k + i] * m->M[a][l * k + j];
				m->chol0[i * k + j] -= t;
			}
			for (int l = 0; l < p; l++)
				b0[i] -= arm->B[l * k + i] * m->theta[a][l];
		}
		if ((a & 63) == 63)
			CHECK_FOR_INTERRUPTS();
	}
	if (k == 0)
		return m;
	/* the subtractions leave A0 symmetric up to rounding: make it exactly so for LAPACK's lower half */
	for (int i = 0; i < k; i++)
		for (int j = 0; j < i; j++)
			m->chol0[i * k + j] = m->chol0[j * k + i] = (m->chol0[i * k + j] + m->chol0[j * k + i]) / 2;
	if (!uba_cholesky_solve(k, m->chol0, m->beta))
		uba_model_corrupted("The shared statistics are not positive definite.");
	/* theta_a = A_a^-1 b_a - M_a beta */
	for (int a = 0; a < m->narms; a++)
		for (int i = 0; i < p; i++)
			for (int j = 0; j < k; j++)
				m->theta[a][i] -= m->M[a][i * k + j] * m->beta[j];
	return m;
}

/*
 * An action's mean reward theta . x and the variance term of its UCB, s =
 * x' A^-1 x (hybrid: + u' A0^-1 u, u = z - M' x, Li et al.'s four terms
 * gathered); arm < 0 for an action the model has not seen (A = lambda I,
 * B = 0).  work: 2 d values.
 */
static void
LinearScore(const Bandit *m, int arm, const double *x, double *mean, double *s, double *work)
{
	int			k = m->shared,
				p = m->d - k;
	const double *xa = x + k;
	double		mu = 0,
				q = 0;

	if (arm >= 0)
	{
		for (int i = 0; i < p; i++)
			mu += m->theta[arm][i] * xa[i];
		q = p > 0 ? Quadratic(m->chol[arm], p, xa, work) : 0;
	}
	else
	{
		for (int i = 0; i < p; i++)
			q += xa[i] * xa[i];
		q /= m->lambda;
	}
	if (k > 0)
	{
		double	   *u = work + m->d;

		for (int j = 0; j < k; j++)
		{
			mu += m->beta[j] * x[j];
			u[j] = x[j];
			if (arm >= 0)
				for (int i = 0; i < p; i++)
					u[j] -= m->M[arm][i * k + j] * xa[i];
		}
		q += Quadratic(m->chol0, k, u, work);
	}
	*mean = mu;
	*s = q;
}

/* A policy read for scoring once (fqi.c's evaluation), not through a call site's cache */
Bandit *
uba_bandit_policy(bytea *blob)
{
	UbaModelMeta meta;
	UbaReader	r;

	uba_model_open(blob, UBA_KIND_BANDIT, &meta, &r);
	return (Bandit *) ParseForScoring(&meta, &r);
}

/*
 * The action a deterministic policy picks for context x among actions[0..K)
 * (ascending): LinUCB's largest upper bound, or the largest mean for
 * epsilon-greedy and fqi (whose exploration, epsilon, the caller adds);
 * ties to the smallest action, as uba_bandit_choose.  work: 2 d values.
 */
int
uba_bandit_greedy(const Bandit *m, const double *x, const int64 *actions, int K, double *work)
{
	int			best = -1;
	double		best_score = 0;

	for (int k = 0; k < K; k++)
	{
		double		mean,
					q,
					score;

		int			arm = uba_bandit_find_arm(m, actions[k]);

		LinearScore(m, arm >= 0 ? arm : -1, x, &mean, &q, work);
		score = m->method == BANDIT_LINUCB ? mean + m->alpha * sqrt(q) : mean;
		if (best < 0 || score > best_score)
		{
			best = k;
			best_score = score;
		}
	}
	return best;
}

void
uba_bandit_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	Bandit	   *m = Read(meta, payload);
	double		n = 0;

	for (int k = 0; k < m->narms; k++)
		n += m->arms[k].n;
	appendStringInfo(json, ", \"method\": \"%s\", \"actions\": %d, \"observations\": %.0f, \"importance_weighted\": %s, \"shared_features\": %d",
					 method_names[m->method], m->narms, n, m->importance_weighted ? "true" : "false", m->shared);
	if (m->method == BANDIT_FQI)
		appendStringInfo(json, ", \"gamma\": %.17g, \"iterations\": %d", m->gamma, m->iterations);
}

/* ---------- training ---------- */

typedef struct BanditState
{
	Bandit		m;
	Jsonb	   *options;
	int64		rows;
	TimestampTz started;
} BanditState;

static void
Configure(Bandit *m, const UbaOptions *o)
{
	m->method = (int) uba_option(o, "method");
	m->alpha = uba_option(o, "alpha");
	m->lambda = uba_option(o, "lambda");
	m->epsilon = uba_option(o, "epsilon");
	m->v = uba_option(o, "v");
	m->importance_weighted = uba_option(o, "importance_weighted") != 0;
	m->shared = (int) uba_option(o, "shared_features");
	if (m->shared > 0 && m->method != BANDIT_LINUCB && m->method != BANDIT_EPSILON_GREEDY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shared_features is for linucb (hybrid LinUCB) and epsilon_greedy"),
				 errdetail("The method is %s.", bandit_methods[m->method])));
}

/* uba_bandit_train(action bigint, context float8[] or text, reward float8, propensity float8 [, options]) */
static Datum
BanditTransfn(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	BanditState *st = PG_ARGISNULL(0) ? NULL : (BanditState *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ? PG_GETARG_JSONB_P(5) : NULL;
	MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	double	   *x;

	if (st == NULL)
	{
		UbaOptions	o;

		st = palloc0(sizeof(BanditState));
		uba_parse_options(opts, bandit_options, lengthof(bandit_options), "uba_bandit_train", &o);
		Configure(&st->m, &o);
		st->options = opts ? uba_options_copy(CurrentMemoryContext, opts) : NULL;
		st->started = GetCurrentTimestamp();
		st->m.d = -1;
	}
	else
		uba_check_same_options(st->options, opts);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the action must not be NULL")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the reward must not be NULL"),
				 errhint("Leave out the decisions whose reward is not known yet.")));
	if (st->m.d < 0)
	{
		if (st->m.method == BANDIT_BETA_TS)
			uba_bandit_set_dim(&st->m, 0);
		else if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the context must not be NULL")));
		else
		{
			int			d = uba_feature_count(uba_features_array_arg(fcinfo, 2, form));

			if (d > BANDIT_MAX_DIM)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("a bandit's context has at most %d features", BANDIT_MAX_DIM),
						 errdetail("Got %d.", d)));
			uba_bandit_set_dim(&st->m, d);
		}
	}
	x = palloc(sizeof(double) * Max(st->m.d, 1));
	Context(&st->m, fcinfo, 2, form, x);
	Observe(&st->m, PG_GETARG_INT64(1), x, PG_GETARG_FLOAT8(3),
			Weight(&st->m, !PG_ARGISNULL(4), PG_ARGISNULL(4) ? 0 : PG_GETARG_FLOAT8(4)));
	pfree(x);
	st->rows++;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

Datum
uba_bandit_transfn(PG_FUNCTION_ARGS)
{
	return BanditTransfn(fcinfo, UBA_FORM_ARRAY);
}

Datum
uba_bandit_transfn_text(PG_FUNCTION_ARGS)
{
	return BanditTransfn(fcinfo, UBA_FORM_TEXT);
}

/* a += b: the arms' statistics add up */
static void
MergeBandit(Bandit *a, const Bandit *b)
{
	int			p;

	if (b->d < 0 || b->narms == 0)
		return;
	if (a->d < 0)
		uba_bandit_set_dim(a, b->d);
	if (a->d != b->d)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("contexts must have the same number of features on every row"),
				 errdetail("Got %d and %d.", a->d, b->d)));
	for (int k = 0; k < b->narms; k++)
	{
		const BanditArm *y = &b->arms[k];
		BanditArm  *x = uba_bandit_arm(a, y->action);

		x->n += y->n;
		x->successes += y->successes;
		x->failures += y->failures;
		if (a->d == 0)
			continue;
		p = a->d - a->shared;
		for (int i = 0; i < p * p; i++)
			x->A[i] += y->A[i];
		for (int i = 0; i < p * a->shared; i++)
			x->B[i] += y->B[i];
		for (int i = 0; i < p; i++)
			x->b[i] += y->b[i];
	}
	for (int i = 0; i < a->shared * a->shared; i++)
		a->Z[i] += b->Z[i];
	for (int i = 0; i < a->shared; i++)
		a->zr[i] += b->zr[i];
}

Datum
uba_bandit_combine(PG_FUNCTION_ARGS)
{
	BanditState *a,
			   *b;
	MemoryContext old;

	UBA_COMBINE_NULL_STATES();
	a = (BanditState *) PG_GETARG_POINTER(0);
	b = (BanditState *) PG_GETARG_POINTER(1);
	uba_check_same_options(a->options, b->options);
	old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	MergeBandit(&a->m, &b->m);
	a->rows += b->rows;
	a->started = Min(a->started, b->started);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

Datum
uba_bandit_serialize(PG_FUNCTION_ARGS)
{
	BanditState *st = (BanditState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	uba_options_send(&buf, st->options);
	pq_sendint64(&buf, st->rows);
	pq_sendint64(&buf, st->started);
	pq_sendint32(&buf, st->m.d);
	pq_sendint32(&buf, st->m.narms);
	for (int k = 0; k < st->m.narms; k++)
	{
		BanditArm  *a = &st->m.arms[k];

		pq_sendint64(&buf, a->action);
		pq_sendfloat8(&buf, a->n);
		pq_sendfloat8(&buf, a->successes);
		pq_sendfloat8(&buf, a->failures);
		if (st->m.d > 0)
		{
			Size		p = st->m.d - st->m.shared;

			pq_sendbytes(&buf, (const char *) a->A, sizeof(double) * p * p);
			pq_sendbytes(&buf, (const char *) a->B, sizeof(double) * p * st->m.shared);
			pq_sendbytes(&buf, (const char *) a->b, sizeof(double) * p);
		}
	}
	if (st->m.d > 0 && st->m.shared > 0)
	{
		pq_sendbytes(&buf, (const char *) st->m.Z, sizeof(double) * st->m.shared * st->m.shared);
		pq_sendbytes(&buf, (const char *) st->m.zr, sizeof(double) * st->m.shared);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_bandit_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	BanditState *st = palloc0(sizeof(BanditState));
	StringInfoData buf;
	UbaOptions	o;
	int			narms,
				d;

	uba_message_of(&buf, b);
	st->options = uba_options_receive(&buf, cxt);
	uba_parse_options(st->options, bandit_options, lengthof(bandit_options), "uba_bandit_train", &o);
	Configure(&st->m, &o);
	st->rows = pq_getmsgint64(&buf);
	st->started = pq_getmsgint64(&buf);
	d = pq_getmsgint(&buf, 4);
	narms = pq_getmsgint(&buf, 4);
	if (d < -1 || d > BANDIT_MAX_DIM || narms < 0 || narms > BANDIT_MAX_ACTIONS)
		elog(ERROR, "invalid uba_bandit_train state");
	if (d >= 0)
		uba_bandit_set_dim(&st->m, d);
	else
		st->m.d = -1;
	for (int k = 0; k < narms; k++)
	{
		BanditArm  *a = uba_bandit_arm(&st->m, pq_getmsgint64(&buf));

		a->n = pq_getmsgfloat8(&buf);
		a->successes = pq_getmsgfloat8(&buf);
		a->failures = pq_getmsgfloat8(&buf);
		if (d > 0)
		{
			Size		p = d - st->m.shared;

			memcpy(a->A, pq_getmsgbytes(&buf, sizeof(double) * p * p), sizeof(double) * p * p);
			memcpy(a->B, pq_getmsgbytes(&buf, sizeof(double) * p * st->m.shared), sizeof(double) * p * st->m.shared);
			memcpy(a->b, pq_getmsgbytes(&buf, sizeof(double) * p), sizeof(double) * p);
		}
	}
	if (d > 0 && st->m.shared > 0)
	{
		memcpy(st->m.Z, pq_getmsgbytes(&buf, sizeof(double) * st->m.shared * st->m.shared),
			   sizeof(double) * st->m.shared * st->m.shared);
		memcpy(st->m.zr, pq_getmsgbytes(&buf, sizeof(double) * st->m.shared), sizeof(double) * st->m.shared);
	}
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

Datum
uba_bandit_final(PG_FUNCTION_ARGS)
{
	BanditState *st = PG_ARGISNULL(0) ? NULL : (BanditState *) PG_GETARG_POINTER(0);
	UbaOptions	o;

	if (st == NULL || st->rows == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, bandit_options, lengthof(bandit_options), "uba_bandit_train", &o);
	PG_RETURN_BYTEA_P(uba_bandit_build(&st->m, st->rows, st->started, &o, NULL, NULL, NULL));
}

/* ---------- training on typed rows ---------- */

/*
 * A typed row's columns become features only once every row has been
 * seen (a category keeps the levels of the whole log: encode.c), so the
 * decisions are kept, the contexts in a row set and each one's action,
 * reward and weight in arrival order, and added up in the final function.
 */
typedef struct BanditRows
{
	Bandit		m;				/* the method's parameters; no arms */
	UbaRowSet  *rs;
	int64	   *action;
	double	   *reward;
	double	   *weight;
	int64		cap;
} BanditRows;

/* uba_bandit_train(action bigint, context record, reward float8, propensity float8 [, options]) */
Datum
uba_bandit_transfn_row(PG_FUNCTION_ARGS)
{
	BanditRows *st = PG_ARGISNULL(0) ? NULL : (BanditRows *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ? PG_GETARG_JSONB_P(5) : NULL;
	MemoryContext old;
	int64		n;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the action and the reward must not be NULL"),
				 errhint("Leave out the decisions whose reward is not known yet.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the context must not be NULL")));
	old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	if (st == NULL)
	{
		UbaOptions	o;

		st = palloc0(sizeof(BanditRows));
		uba_parse_row_options(opts, bandit_options, lengthof(bandit_options), "uba_bandit_train", true,
							  UBA_ENC_ONEHOT, &o);
		Configure(&st->m, &o);
		if (st->m.method == BANDIT_BETA_TS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("beta_ts takes no context"),
					 errhint("Pass NULL as the context.")));
		st->rs = uba_rowset_start_row(fcinfo, 2, false, 0, opts, UBA_ENC_ONEHOT, "uba_bandit_train");
		st->rs->keep_arrival = true;
	}
	else
		uba_check_same_options(st->rs->options, opts);
	n = st->rs->n;
	if (n == st->cap)
	{
		Size		bytes;

		st->cap = st->cap ? st->cap * 2 : 1024;
		bytes = mul_size((Size) st->cap, sizeof(int64) + 2 * sizeof(double));
		uba_check_memory(bytes, "the decision log");
		st->action = n ? repalloc_huge(st->action, sizeof(int64) * st->cap) :
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * st->cap);
		st->reward = n ? repalloc_huge(st->reward, sizeof(double) * st->cap) :
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->cap);
		st->weight = n ? repalloc_huge(st->weight, sizeof(double) * st->cap) :
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->cap);
	}
	st->action[n] = PG_GETARG_INT64(1);
	st->reward[n] = PG_GETARG_FLOAT8(3);
	CheckReward(&st->m, st->reward[n]);
	st->weight[n] = Weight(&st->m, !PG_ARGISNULL(4), PG_ARGISNULL(4) ? 0 : PG_GETARG_FLOAT8(4));
	uba_rowset_add_row(st->rs, fcinfo, 2, 0);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* Encode the contexts, then add the decisions up in the row set's canonical order */
Datum
uba_bandit_final_row(PG_FUNCTION_ARGS)
{
	BanditRows *st = PG_ARGISNULL(0) ? NULL : (BanditRows *) PG_GETARG_POINTER(0);
	UbaRowSet  *rs;
	Bandit		m;
	UbaOptions	o;

	if (st == NULL || st->rs->n == 0)
		PG_RETURN_NULL();
	rs = st->rs;
	uba_rowset_canonical_order(rs);
	if (rs->dim > BANDIT_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a bandit's context has at most %d features", BANDIT_MAX_DIM),
				 errdetail("The row's columns encode to %d.", rs->dim),
				 errhint("Keep fewer levels per category with the option \"max_levels\".")));
	m = st->m;
	uba_bandit_set_dim(&m, rs->dim);
	for (int64 i = 0; i < rs->n; i++)
	{
		int64		j = rs->arrival[i];

		Observe(&m, st->action[j], rs->x + (Size) i * rs->dim, st->reward[j], st->weight[j]);
		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
	}
	uba_parse_row_options(rs->options, bandit_options, lengthof(bandit_options), "uba_bandit_train", true,
						  UBA_ENC_ONEHOT, &o);
	PG_RETURN_BYTEA_P(uba_bandit_build(&m, rs->n, rs->started, &o, NULL, NULL, rs->enc));
}

/* ---------- updating ---------- */

/* uba_bandit_update(policy, action, context, reward [, propensity]) -> the policy with the observation */
static Datum
BanditUpdate(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	bytea	   *blob;
	UbaModelMeta meta;
	UbaReader	r;
	Bandit	   *m;
	double	   *x;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the policy must not be NULL")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the action and the reward must not be NULL")));
	blob = PG_GETARG_BYTEA_PP(0);
	uba_model_open(blob, UBA_KIND_BANDIT, &meta, &r);
	m = Read(&meta, &r);
	if (m->method == BANDIT_FQI)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a fitted Q iteration policy is not updated one observation at a time"),
				 errhint("Train it again on the log with the new transitions: every Q value depends on every transition.")));
	x = palloc(sizeof(double) * Max(m->d, 1));
	Context(m, fcinfo, 2, form, x);
	Observe(m, PG_GETARG_INT64(1), x, PG_GETARG_FLOAT8(3),
			Weight(m, PG_NARGS() > 4 && !PG_ARGISNULL(4), (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_FLOAT8(4) : 0));
	PG_RETURN_BYTEA_P(uba_bandit_build(m, meta.n_rows + 1, 0, NULL, meta.options_json, meta.feature_names, meta.encoding));
}

UBA_FEATURE_FORMS(uba_bandit_update, BanditUpdate)

/* ---------- choosing ---------- */

/* x' A^-1 x from the factor U (A = U'U, row-major upper): |U'^-1 x|^2 */
static double
Quadratic(const double *U, int d, const double *x, double *z)
{
	double		s = 0;

	for (int i = 0; i < d; i++)
	{
		double		t = x[i];

		for (int k = 0; k < i; k++)
			t -= U[k * d + i] * z[k];
		z[i] = t / U[i * d + i];
		s += z[i] * z[i];
	}
	return s;
}

/* theta drawn from N(theta, v^2 A^-1): theta + v U^-1 e */
static double
SampleScore(const Bandit *m, int k, const double *x, UbaRandom *rng, double *e)
{
	int			d = m->d;
	const double *U = m->chol[k];
	double		s = 0;

	for (int i = 0; i < d; i++)
		e[i] = uba_random_normal(rng);
	/* back substitution: U y = e, in place */
	for (int i = d - 1; i >= 0; i--)
	{
		double		t = e[i];

		for (int j = i + 1; j < d; j++)
			t -= U[i * d + j] * e[j];
		e[i] = t / U[i * d + i];
	}
	for (int i = 0; i < d; i++)
		s += (m->theta[k][i] + m->v * e[i]) * x[i];
	return s;
}

typedef struct Candidate
{
	int64		action;
	const double *x;			/* its context: d values */
	int			arm;			/* index in the model, -1 for an action it has not seen */
	double		mean;			/* theta . x (beta_ts: the posterior mean) */
	double		score;			/* what the method ranks by */
	bool		taken;
} Candidate;

static int
CandidateOrder(const void *a, const void *b)
{
	return uba_cmp_int64(&((const Candidate *) a)->action, &((const Candidate *) b)->action);
}

/* The contexts of a choice: one for every action, or one row per action (float8[][]) */
typedef struct BanditContexts
{
	double	   *x;
	bool		per_action;
} BanditContexts;

static BanditContexts
Contexts(const Bandit *m, FunctionCallInfo fcinfo, int argno, UbaFeatureForm form, int nact)
{
	BanditContexts r;
	ArrayType  *a;

	r.x = palloc(sizeof(double) * Max(m->d, 1));
	r.per_action = false;
	if (m->d == 0)
		return r;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the context must not be NULL")));
	if (form == UBA_FORM_ROW)
	{
		uba_read_features_arg(fcinfo, argno, form, m->enc, r.x, m->d);
		return r;
	}
	a = uba_features_array_arg(fcinfo, argno, form);
	if (ARR_NDIM(a) != 2)
	{
		uba_read_features(a, r.x, m->d);
		return r;
	}
	if (ARR_DIMS(a)[0] != nact || ARR_DIMS(a)[1] != m->d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a context per action must be %d x %d (actions x features)", nact, m->d),
				 errdetail("Got %d x %d.", ARR_DIMS(a)[0], ARR_DIMS(a)[1])));
	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "uba context array has element type %u", ARR_ELEMTYPE(a));
	if (array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature array must not contain NULL elements")));
	r.x = palloc(sizeof(double) * nact * m->d);
	memcpy(r.x, ARR_DATA_PTR(a), sizeof(double) * nact * m->d);
	for (int i = 0; i < nact * m->d; i++)
		uba_check_finite(r.x[i], "feature values");
	r.per_action = true;
	return r;
}

/* One draw of the Thompson samplers for a candidate */
static double
Draw(const Bandit *m, const Candidate *c, UbaRandom *rng, double *e)
{
	const double *x = c->x;

	if (m->method == BANDIT_BETA_TS)
	{
		double		s = c->arm >= 0 ? m->arms[c->arm].successes : 0,
					f = c->arm >= 0 ? m->arms[c->arm].failures : 0,
					g1 = uba_random_gamma(rng, 1 + s),
					g2 = uba_random_gamma(rng, 1 + f);

		return g1 / (g1 + g2);
	}
	if (c->arm < 0)
	{
		/* the prior: theta ~ N(0, v^2 / lambda I) */
		double		s = 0,
					xx = 0;

		for (int i = 0; i < m->d; i++)
			xx += x[i] * x[i];
		s = uba_random_normal(rng) * m->v * sqrt(xx / m->lambda);
		return s;
	}
	return SampleScore(m, c->arm, x, rng, e);
}

/* The best untaken candidate by score, ties to the smallest action */
static int
Best(const Candidate *c, int n, bool by_mean)
{
	int			best = -1;

	for (int i = 0; i < n; i++)
		if (!c[i].taken &&
			(best < 0 || (by_mean ? c[i].mean : c[i].score) > (by_mean ? c[best].mean : c[best].score) ||
			 ((by_mean ? c[i].mean : c[i].score) == (by_mean ? c[best].mean : c[best].score) &&
			  c[i].action < c[best].action)))
			best = i;
	return best;
}

static Datum
BanditChoose(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Bandit	   *m;
	ArrayType  *actions_arr;
	Datum	   *elems;
	bool	   *nulls;
	int			nact,
				slots,
				draws;
	Candidate  *c;
	BanditContexts x;
	double	   *z;
	UbaOptions	o;
	UbaRandom	rng;
	int64		seed;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the policy and the actions must not be NULL")));
	m = uba_model_cached(fcinfo, 0, UBA_KIND_BANDIT, ParseForScoring);
	uba_parse_options((PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL,
					  choose_options, lengthof(choose_options), "uba_bandit_choose", &o);
	slots = (int) uba_option(&o, "n");
	draws = (int) uba_option(&o, "propensity_draws");
	seed = (int64) uba_option(&o, "seed");
	if (seed < 0)
	{
		uint64		s;

		if (!pg_strong_random(&s, sizeof(s)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random seed")));
		uba_random_seed(&rng, s);
	}
	else
		uba_random_seed(&rng, (uint64) seed);

	actions_arr = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_NDIM(actions_arr) > 1 || ARR_ELEMTYPE(actions_arr) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("actions must be a one-dimensional bigint array")));
	deconstruct_array(actions_arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &nact);
	if (nact == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("there must be at least one action to choose from")));
	z = palloc(sizeof(double) * 2 * Max(m->d, 1));
	x = Contexts(m, fcinfo, 1, form, nact);
	c = palloc0(sizeof(Candidate) * nact);
	for (int i = 0; i < nact; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("actions must not contain NULL")));
		c[i].action = DatumGetInt64(elems[i]);
		c[i].x = x.per_action ? x.x + (Size) i * m->d : x.x;
	}
	qsort(c, nact, sizeof(Candidate), CandidateOrder);
	for (int i = 1; i < nact; i++)
		if (c[i].action == c[i - 1].action)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("action " INT64_FORMAT " is offered twice", c[i].action)));
	slots = Min(slots, nact);

	/* every candidate's mean and score */
	for (int i = 0; i < nact; i++)
	{
		int			k = uba_bandit_find_arm(m, c[i].action);

		c[i].arm = k >= 0 ? k : -1;
		if (m->method == BANDIT_BETA_TS)
		{
			double		s = k >= 0 ? m->arms[k].successes : 0,
						f = k >= 0 ? m->arms[k].failures : 0;

			c[i].mean = (1 + s) / (2 + s + f);
		}
		else
		{
			double		q;

			LinearScore(m, c[i].arm, c[i].x, &c[i].mean, &q, z);
			c[i].score = c[i].mean + m->alpha * sqrt(q);
		}
	}

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (int slot = 0; slot < slots; slot++)
	{
		int			left = nact - slot,
					pick;
		double		propensity;
		Datum		values[3];
		bool		rnulls[3] = {0};

		switch (m->method)
		{
			case BANDIT_LINUCB:
				pick = Best(c, nact, false);
				propensity = 1;
				break;
			case BANDIT_EPSILON_GREEDY:
			case BANDIT_FQI:
				{
					int			greedy = Best(c, nact, true);

					if (uba_random_double(&rng) < m->epsilon)
					{
						int			j = (int) uba_random_below(&rng, (uint64) left);

						for (pick = 0; pick < nact; pick++)
							if (!c[pick].taken && j-- == 0)
								break;
					}
					else
						pick = greedy;
					propensity = m->epsilon / left + (pick == greedy ? 1 - m->epsilon : 0);
					c[pick].score = c[pick].mean;
					break;
				}
			default:
				{
					/* Thompson: one draw decides; further draws estimate its propensity */
					int			wins = 0;

					for (int i = 0; i < nact; i++)
						if (!c[i].taken)
							c[i].score = Draw(m, &c[i], &rng, z);
					pick = Best(c, nact, false);
					for (int t = 0; t < draws; t++)
					{
						int			best = -1;
						double		bs = 0;

						for (int i = 0; i < nact; i++)
							if (!c[i].taken)
							{
								double		s = Draw(m, &c[i], &rng, z);

								if (best < 0 || s > bs)
								{
									best = i;
									bs = s;
								}
							}
						wins += best == pick;
						if ((t & 255) == 255)
							CHECK_FOR_INTERRUPTS();
					}
					propensity = (double) wins / draws;
					break;
				}
		}
		c[pick].taken = true;
		values[0] = Int64GetDatum(c[pick].action);
		values[1] = Float8GetDatum(propensity);
		values[2] = Float8GetDatum(c[pick].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, rnulls);
	}
	return (Datum) 0;
}

UBA_FEATURE_FORMS(uba_bandit_choose, BanditChoose)
