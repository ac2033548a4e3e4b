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
PG_FUNCTION_INFO_V1(uba_bandit_combine);
PG_FUNCTION_INFO_V1(uba_bandit_serialize);
PG_FUNCTION_INFO_V1(uba_bandit_deserialize);
PG_FUNCTION_INFO_V1(uba_bandit_final);
PG_FUNCTION_INFO_V1(uba_bandit_update);
PG_FUNCTION_INFO_V1(uba_bandit_choose);

#define BANDIT_MAX_DIM 1000
#define BANDIT_MAX_ACTIONS 100000

typedef enum BanditMethod
{
	BANDIT_LINUCB = 0,
	BANDIT_LIN_TS,
	BANDIT_EPSILON_GREEDY,
	BANDIT_BETA_TS
} BanditMethod;

static const char *const bandit_methods[] = {"linucb", "lin_ts", "epsilon_greedy", "beta_ts", NULL};

static const UbaOptionSpec bandit_options[] = {
	{"method", UBA_OPT_CHOICE, 0, 0, 0, bandit_methods},
	{"alpha", UBA_OPT_FLOAT, 1.0, 0, 1e6, NULL},
	{"lambda", UBA_OPT_FLOAT, 1.0, 1e-9, 1e9, NULL},
	{"epsilon", UBA_OPT_FLOAT, 0.1, 0, 1, NULL},
	{"v", UBA_OPT_FLOAT, 1.0, 0, 1e6, NULL},
	{"importance_weighted", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
};

static const UbaOptionSpec choose_options[] = {
	{"n", UBA_OPT_INT, 1, 1, 1000, NULL},
	{"seed", UBA_OPT_INT, -1, -1, PG_INT32_MAX, NULL},
	{"propensity_draws", UBA_OPT_INT, 1000, 10, 1000000, NULL},
};

/* One action's statistics */
typedef struct BanditArm
{
	int64		action;
	double		n;				/* observations */
	double		successes;		/* sum of rewards (beta_ts: in [0, 1]) */
	double		failures;		/* sum of 1 - reward */
	double	   *A;				/* d x d, without lambda I */
	double	   *b;				/* d */
} BanditArm;

/* What training, updating and scoring share: the method's parameters and the arms */
typedef struct Bandit
{
	int			method;
	int			d;
	double		alpha;
	double		lambda;
	double		epsilon;
	double		v;
	bool		importance_weighted;
	int			narms;
	int			cap;
	BanditArm  *arms;			/* by action id, ascending (after Sort) */
	/* scoring: per arm theta and the Cholesky factor of lambda I + A (row-major upper) */
	double	  **theta;
	double	  **chol;
} Bandit;

/* ---------- arms ---------- */

static Size
ArmBytes(int d)
{
	return sizeof(double) * ((Size) d * d + d);
}

static int
FindArm(const Bandit *m, int64 action)
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
static BanditArm *
ArmOf(Bandit *m, int64 action)
{
	int			i = FindArm(m, action);
	BanditArm  *a;

	if (i >= 0)
		return &m->arms[i];
	i = -i - 1;
	if (m->narms == BANDIT_MAX_ACTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a bandit has at most %d actions", BANDIT_MAX_ACTIONS)));
	uba_check_memory(mul_size(ArmBytes(m->d), m->narms + 1), "the bandit's statistics");
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
		a->A = palloc0(sizeof(double) * m->d * m->d);
		a->b = palloc0(sizeof(double) * m->d);
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

/* Add one observation (x: d values) with weight w */
static void
Observe(Bandit *m, int64 action, const double *x, double r, double w)
{
	BanditArm  *a = ArmOf(m, action);

	CheckReward(m, r);
	a->n += 1;
	a->successes += w * r;
	a->failures += w * (1 - r);
	for (int i = 0; i < m->d; i++)
	{
		double		wx = w * x[i];

		/* one product for both halves: A stays exactly symmetric */
		for (int j = i; j < m->d; j++)
		{
			double		p = wx * x[j];

			a->A[i * m->d + j] += p;
			if (j != i)
				a->A[j * m->d + i] += p;
		}
		a->b[i] += wx * r;
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

/* The context of a row: d finite values (beta_ts: any or none) */
static void
Context(const Bandit *m, FunctionCallInfo fcinfo, int argno, double *x)
{
	if (m->d == 0)
		return;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the context must not be NULL")));
	uba_read_features(PG_GETARG_ARRAYTYPE_P(argno), x, m->d);
}

/* ---------- the model blob ---------- */

static bytea *
Build(const Bandit *m, int64 rows, TimestampTz started, const UbaOptions *o, const char *options_json,
	  char **names)
{
	UbaWriter	w;
	UbaModelMeta meta;

	uba_writer_init(&w);
	uba_put_u32(&w, (uint32) m->method);
	uba_put_u32(&w, (uint32) m->d);
	uba_put_u32(&w, (uint32) m->narms);
	uba_put_u32(&w, m->importance_weighted ? 1 : 0);
	uba_put_f64(&w, m->alpha);
	uba_put_f64(&w, m->lambda);
	uba_put_f64(&w, m->epsilon);
	uba_put_f64(&w, m->v);
	for (int k = 0; k < m->narms; k++)
	{
		const BanditArm *a = &m->arms[k];

		uba_put_u64(&w, (uint64) a->action);
		uba_put_f64(&w, a->n);
		uba_put_f64(&w, a->successes);
		uba_put_f64(&w, a->failures);
		if (m->d > 0)
		{
			uba_put_f64_array(&w, a->A, (Size) m->d * m->d);
			uba_put_f64_array(&w, a->b, m->d);
		}
	}
	if (o != NULL)
		uba_model_meta_init(&meta, m->d, rows, started, o);
	else
	{
		memset(&meta, 0, sizeof(meta));
		meta.n_features = m->d;
		meta.n_rows = rows;
		meta.created_at = GetCurrentTimestamp();
		meta.train_ms = 0;
		meta.options_json = (char *) options_json;
		meta.feature_names = names;
	}
	return uba_model_build(UBA_KIND_BANDIT, &meta, &w);
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
	if (m->method < BANDIT_LINUCB || m->method > BANDIT_BETA_TS)
		uba_model_corrupted("Unknown bandit method %d.", m->method);
	if (m->d < 0 || m->d > BANDIT_MAX_DIM || m->d != meta->n_features ||
		(m->d == 0 && m->method != BANDIT_BETA_TS))
		uba_model_corrupted("Bad context dimension %d.", m->d);
	if (m->narms < 0 || m->narms > BANDIT_MAX_ACTIONS || flags > 1)
		uba_model_corrupted("Bad bandit header.");
	m->importance_weighted = flags == 1;
	m->alpha = uba_get_finite_f64(r);
	m->lambda = uba_get_finite_f64(r);
	m->epsilon = uba_get_finite_f64(r);
	m->v = uba_get_finite_f64(r);
	if (!(m->alpha >= 0) || !(m->lambda > 0) || !(m->epsilon >= 0 && m->epsilon <= 1) || !(m->v >= 0))
		uba_model_corrupted("Bad bandit parameters.");
	uba_reader_check_space(r, (Size) m->narms, 4 * sizeof(double) + ArmBytes(m->d));
	uba_check_memory(mul_size(ArmBytes(m->d), (Size) m->narms * 2 + 1), "the bandit");
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
			a->A = palloc(sizeof(double) * m->d * m->d);
			a->b = palloc(sizeof(double) * m->d);
			uba_get_f64_array(r, a->A, (Size) m->d * m->d, true);
			uba_get_f64_array(r, a->b, m->d, true);
			for (int i = 0; i < m->d; i++)
				for (int j = 0; j < i; j++)
					if (a->A[i * m->d + j] != a->A[j * m->d + i])
						uba_model_corrupted("The statistics of action " INT64_FORMAT " are not symmetric.", a->action);
		}
	}
	uba_reader_finish(r);
	return m;
}

/* Factor lambda I + A of every arm (the scoring cache); a damaged A that is not positive definite is refused */
static void *
ParseForScoring(const UbaModelMeta *meta, UbaReader *r)
{
	Bandit	   *m = Read(meta, r);
	int			d = m->d;

	if (d == 0)
		return m;
	m->theta = palloc(sizeof(double *) * Max(m->narms, 1));
	m->chol = palloc(sizeof(double *) * Max(m->narms, 1));
	for (int k = 0; k < m->narms; k++)
	{
		double	   *A = palloc(sizeof(double) * d * d);

		memcpy(A, m->arms[k].A, sizeof(double) * d * d);
		for (int i = 0; i < d; i++)
			A[i * d + i] += m->lambda;
		m->theta[k] = palloc(sizeof(double) * d);
		memcpy(m->theta[k], m->arms[k].b, sizeof(double) * d);
		if (!uba_cholesky_solve(d, A, m->theta[k]))
			uba_model_corrupted("The statistics of action " INT64_FORMAT " are not positive definite.",
								m->arms[k].action);
		m->chol[k] = A;
	}
	return m;
}

void
uba_bandit_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	Bandit	   *m = Read(meta, payload);
	double		n = 0;

	for (int k = 0; k < m->narms; k++)
		n += m->arms[k].n;
	appendStringInfo(json, ", \"method\": \"%s\", \"actions\": %d, \"observations\": %.0f, \"importance_weighted\": %s",
					 bandit_methods[m->method], m->narms, n, m->importance_weighted ? "true" : "false");
}

/* ---------- training ---------- */

typedef struct BanditState
{
	Bandit		m;
	Jsonb	   *options;
	int64		rows;
	TimestampTz started;
	bool		started_d;		/* the dimension is known */
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
}

/* uba_bandit_train(action bigint, context float8[], reward float8, propensity float8 [, options]) */
Datum
uba_bandit_transfn(PG_FUNCTION_ARGS)
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
			st->m.d = 0;
		else if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the context must not be NULL")));
		else
		{
			st->m.d = uba_feature_count(PG_GETARG_ARRAYTYPE_P(2));
			if (st->m.d > BANDIT_MAX_DIM)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("a bandit's context has at most %d features", BANDIT_MAX_DIM),
						 errdetail("Got %d.", st->m.d)));
		}
	}
	x = palloc(sizeof(double) * Max(st->m.d, 1));
	Context(&st->m, fcinfo, 2, x);
	Observe(&st->m, PG_GETARG_INT64(1), x, PG_GETARG_FLOAT8(3),
			Weight(&st->m, !PG_ARGISNULL(4), PG_ARGISNULL(4) ? 0 : PG_GETARG_FLOAT8(4)));
	pfree(x);
	st->rows++;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* a += b: the arms' statistics add up */
static void
MergeBandit(Bandit *a, const Bandit *b)
{
	if (b->d < 0 || b->narms == 0)
		return;
	if (a->d < 0)
		a->d = b->d;
	if (a->d != b->d)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("contexts must have the same number of features on every row"),
				 errdetail("Got %d and %d.", a->d, b->d)));
	for (int k = 0; k < b->narms; k++)
	{
		const BanditArm *y = &b->arms[k];
		BanditArm  *x = ArmOf(a, y->action);

		x->n += y->n;
		x->successes += y->successes;
		x->failures += y->failures;
		for (int i = 0; i < a->d * a->d; i++)
			x->A[i] += y->A[i];
		for (int i = 0; i < a->d; i++)
			x->b[i] += y->b[i];
	}
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
			pq_sendbytes(&buf, (const char *) a->A, sizeof(double) * st->m.d * st->m.d);
			pq_sendbytes(&buf, (const char *) a->b, sizeof(double) * st->m.d);
		}
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
	int			narms;

	uba_message_of(&buf, b);
	st->options = uba_options_receive(&buf, cxt);
	uba_parse_options(st->options, bandit_options, lengthof(bandit_options), "uba_bandit_train", &o);
	Configure(&st->m, &o);
	st->rows = pq_getmsgint64(&buf);
	st->started = pq_getmsgint64(&buf);
	st->m.d = pq_getmsgint(&buf, 4);
	narms = pq_getmsgint(&buf, 4);
	if (st->m.d < -1 || st->m.d > BANDIT_MAX_DIM || narms < 0 || narms > BANDIT_MAX_ACTIONS)
		elog(ERROR, "invalid uba_bandit_train state");
	for (int k = 0; k < narms; k++)
	{
		BanditArm  *a = ArmOf(&st->m, pq_getmsgint64(&buf));

		a->n = pq_getmsgfloat8(&buf);
		a->successes = pq_getmsgfloat8(&buf);
		a->failures = pq_getmsgfloat8(&buf);
		if (st->m.d > 0)
		{
			memcpy(a->A, pq_getmsgbytes(&buf, sizeof(double) * st->m.d * st->m.d), sizeof(double) * st->m.d * st->m.d);
			memcpy(a->b, pq_getmsgbytes(&buf, sizeof(double) * st->m.d), sizeof(double) * st->m.d);
		}
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
	PG_RETURN_BYTEA_P(Build(&st->m, st->rows, st->started, &o, NULL, NULL));
}

/* ---------- updating ---------- */

/* uba_bandit_update(policy, action, context, reward [, propensity]) -> the policy with the observation */
Datum
uba_bandit_update(PG_FUNCTION_ARGS)
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
	x = palloc(sizeof(double) * Max(m->d, 1));
	Context(m, fcinfo, 2, x);
	Observe(m, PG_GETARG_INT64(1), x, PG_GETARG_FLOAT8(3),
			Weight(m, PG_NARGS() > 4 && !PG_ARGISNULL(4), (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_FLOAT8(4) : 0));
	PG_RETURN_BYTEA_P(Build(m, meta.n_rows + 1, 0, NULL, meta.options_json, meta.feature_names));
}

/* ---------- choosing ---------- */

/* A Gamma(shape, 1) draw (Marsaglia and Tsang; shape < 1 by the boost U^(1/shape)) */
static double
Gamma(UbaRandom *rng, double shape)
{
	double		d,
				c;

	if (shape < 1)
		return Gamma(rng, shape + 1) * pow(1 - uba_random_double(rng), 1 / shape);
	d = shape - 1.0 / 3;
	c = 1 / sqrt(9 * d);
	for (;;)
	{
		double		z = uba_random_normal(rng),
					v = 1 + c * z,
					u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = 1 - uba_random_double(rng);
		if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
			return d * v;
	}
}

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
	int			arm;			/* index in the model, -1 for an action it has not seen */
	double		mean;			/* theta . x (beta_ts: the posterior mean) */
	double		score;			/* what the method ranks by */
	bool		taken;
} Candidate;

/* One draw of the Thompson samplers for a candidate */
static double
Draw(const Bandit *m, const Candidate *c, const double *x, UbaRandom *rng, double *e)
{
	if (m->method == BANDIT_BETA_TS)
	{
		double		s = c->arm >= 0 ? m->arms[c->arm].successes : 0,
					f = c->arm >= 0 ? m->arms[c->arm].failures : 0,
					g1 = Gamma(rng, 1 + s),
					g2 = Gamma(rng, 1 + f);

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

Datum
uba_bandit_choose(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Bandit	   *m;
	ArrayType  *actions_arr;
	Datum	   *elems;
	bool	   *nulls;
	int			nact,
				slots,
				draws;
	int64	   *ids;
	Candidate  *c;
	double	   *x,
			   *z;
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

	x = palloc(sizeof(double) * Max(m->d, 1));
	z = palloc(sizeof(double) * Max(m->d, 1));
	Context(m, fcinfo, 1, x);
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
	ids = palloc(sizeof(int64) * nact);
	for (int i = 0; i < nact; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("actions must not contain NULL")));
		ids[i] = DatumGetInt64(elems[i]);
	}
	qsort(ids, nact, sizeof(int64), uba_cmp_int64);
	for (int i = 1; i < nact; i++)
		if (ids[i] == ids[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("action " INT64_FORMAT " is offered twice", ids[i])));
	slots = Min(slots, nact);

	/* every candidate's mean and score */
	c = palloc0(sizeof(Candidate) * nact);
	for (int i = 0; i < nact; i++)
	{
		int			k = FindArm(m, ids[i]);

		c[i].action = ids[i];
		c[i].arm = k >= 0 ? k : -1;
		if (m->method == BANDIT_BETA_TS)
		{
			double		s = k >= 0 ? m->arms[k].successes : 0,
						f = k >= 0 ? m->arms[k].failures : 0;

			c[i].mean = (1 + s) / (2 + s + f);
		}
		else if (k >= 0)
		{
			double		q = Quadratic(m->chol[k], m->d, x, z);

			for (int j = 0; j < m->d; j++)
				c[i].mean += m->theta[k][j] * x[j];
			c[i].score = c[i].mean + m->alpha * sqrt(q);
		}
		else
		{
			double		xx = 0;

			for (int j = 0; j < m->d; j++)
				xx += x[j] * x[j];
			c[i].score = m->alpha * sqrt(xx / m->lambda);
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
							c[i].score = Draw(m, &c[i], x, &rng, z);
					pick = Best(c, nact, false);
					for (int t = 0; t < draws; t++)
					{
						int			best = -1;
						double		bs = 0;

						for (int i = 0; i < nact; i++)
							if (!c[i].taken)
							{
								double		s = Draw(m, &c[i], x, &rng, z);

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
