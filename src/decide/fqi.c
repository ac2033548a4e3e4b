/*-------------------------------------------------------------------------
 *
 * fqi.c
 *	  Fitted Q iteration (Ernst, Geurts & Wehenkel 2005) for sequences of
 *	  decisions, from logged transitions:
 *
 *	  uba_fqi_train(state, action, reward, next_state [, options]) -> bytea
 *
 * one row per logged step: the state the decision was made in, the action
 * taken, the reward that followed and the next state (NULL when the
 * episode ended there).  The Q function is linear in the state, one ridge
 * regression per action, as the bandits' (bandit.h): the regressions'
 * matrices A = lambda I + sum s s' never change, so they are factored
 * once, and each iteration only moves the targets,
 *
 *	  y = reward + gamma max_a' Q(next_state, a')	(y = reward at the end),
 *
 * and solves b = sum y s again.  The first iteration is the myopic model
 * (the bandit's); each further one looks a step further ahead.  Iterations
 * stop when no coefficient moves by more than tol (relative), or after
 * "iterations".  The result is a policy of kind bandit, method fqi, whose
 * per-action statistics are the last iteration's: uba_bandit_choose picks
 * the largest Q (epsilon-greedy with the option "epsilon").
 *
 * Every Q value depends on every transition, so the rows are kept (within
 * uba.max_memory) and the aggregate does not run in parallel.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "decide/bandit.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(uba_fqi_transfn);
PG_FUNCTION_INFO_V1(uba_fqi_final);
PG_FUNCTION_INFO_V1(uba_fqe_transfn);
PG_FUNCTION_INFO_V1(uba_fqe_final);

static const UbaOptionSpec fqi_options[] = {
	{"gamma", UBA_OPT_FLOAT, 0.9, 0, 1, NULL},
	{"iterations", UBA_OPT_INT, 200, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-9, 0, 1, NULL},
	{"lambda", UBA_OPT_FLOAT, 1.0, 1e-9, 1e9, NULL},
	{"epsilon", UBA_OPT_FLOAT, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
};

static const UbaOptionSpec fqe_options[] = {
	{"gamma", UBA_OPT_FLOAT, 0.9, 0, 1, NULL},
	{"iterations", UBA_OPT_INT, 200, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-9, 0, 1, NULL},
	{"lambda", UBA_OPT_FLOAT, 1.0, 1e-9, 1e9, NULL},
};

/* The logged transitions, in arrival order */
typedef struct FqiState
{
	Jsonb	   *options;
	TimestampTz started;
	int			d;
	int64		n;
	int64		cap;
	double	   *s;				/* n x d */
	double	   *next;			/* n x d (a terminal row's are unused) */
	bool	   *terminal;
	int64	   *action;
	double	   *reward;
	bool	   *start;			/* fqe: the rows that start an episode */
	bytea	   *policy;			/* fqe: the policy evaluated (a copy of the first row's) */
	Datum		policy_datum;	/* fqe: the first row's argument, as given */
} FqiState;

/* A logged row: state, next state, reward, action, end, start; and the final's target, action and choice */
static Size
RowBytes(int d)
{
	return sizeof(double) * (2 * (Size) d + 2) + sizeof(int64) + 2 * sizeof(bool) + 2 * sizeof(int);
}

static void
Grow(FqiState *st)
{
	st->cap = st->cap ? st->cap * 2 : 1024;
	uba_check_memory(mul_size((Size) st->cap, RowBytes(st->d)), "the log of transitions");
	if (st->n == 0)
	{
		st->s = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->d * st->cap);
		st->next = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->d * st->cap);
		st->terminal = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * st->cap);
		st->action = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * st->cap);
		st->reward = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->cap);
		st->start = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * st->cap);
		return;
	}
	st->s = repalloc_huge(st->s, sizeof(double) * st->d * st->cap);
	st->next = repalloc_huge(st->next, sizeof(double) * st->d * st->cap);
	st->terminal = repalloc_huge(st->terminal, sizeof(bool) * st->cap);
	st->action = repalloc_huge(st->action, sizeof(int64) * st->cap);
	st->reward = repalloc_huge(st->reward, sizeof(double) * st->cap);
	st->start = repalloc_huge(st->start, sizeof(bool) * st->cap);
}

/*
 * One logged step into the state: the state in argument a, then the
 * action, the reward and the next state.
 */
static FqiState *
AddStep(FunctionCallInfo fcinfo, FqiState *st, int a, Jsonb *opts, const UbaOptionSpec *specs, int nspecs,
		const char *funcname)
{
	if (PG_ARGISNULL(a) || PG_ARGISNULL(a + 1) || PG_ARGISNULL(a + 2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the state, the action and the reward must not be NULL"),
				 errhint("A NULL next state ends the episode; leave out the steps whose reward is not known yet.")));
	if (st == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, specs, nspecs, funcname, &o);
		st = palloc0(sizeof(FqiState));
		st->options = opts ? uba_options_copy(CurrentMemoryContext, opts) : NULL;
		st->started = GetCurrentTimestamp();
		st->d = uba_feature_count(PG_GETARG_ARRAYTYPE_P(a));
		if (st->d > BANDIT_MAX_DIM)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a state has at most %d features", BANDIT_MAX_DIM),
					 errdetail("Got %d.", st->d)));
	}
	else
		uba_check_same_options(st->options, opts);
	if (st->n == st->cap)
		Grow(st);
	uba_read_features(PG_GETARG_ARRAYTYPE_P(a), st->s + (Size) st->n * st->d, st->d);
	st->terminal[st->n] = PG_ARGISNULL(a + 3);
	if (!PG_ARGISNULL(a + 3))
		uba_read_features(PG_GETARG_ARRAYTYPE_P(a + 3), st->next + (Size) st->n * st->d, st->d);
	st->action[st->n] = PG_GETARG_INT64(a + 1);
	st->reward[st->n] = PG_GETARG_FLOAT8(a + 2);
	uba_check_finite(st->reward[st->n], "rewards");
	st->start[st->n] = false;
	st->n++;
	return st;
}

/* uba_fqi_train(state float8[], action bigint, reward float8, next_state float8[] [, options]) */
Datum
uba_fqi_transfn(PG_FUNCTION_ARGS)
{
	FqiState   *st = PG_ARGISNULL(0) ? NULL : (FqiState *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ? PG_GETARG_JSONB_P(5) : NULL;
	MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));

	st = AddStep(fcinfo, st, 1, opts, fqi_options, lengthof(fqi_options), "uba_fqi_train");
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* The actions of m's arms, in arm order (the choices a policy is offered) */
static int64 *
ArmIds(const Bandit *m)
{
	int64	   *ids = palloc(sizeof(int64) * m->narms);

	for (int k = 0; k < m->narms; k++)
		ids[k] = m->arms[k].action;
	return ids;
}

/* How often a policy explores instead of taking its pick */
static double
PolicyEpsilon(const Bandit *policy)
{
	return policy->method == BANDIT_LINUCB ? 0 : policy->epsilon;
}

/*
 * The value at state x of the linear Q functions theta (K of them): with
 * pick < 0 the best action's, else a policy's that takes pick and with
 * probability eps any action uniformly, (1 - eps) Q(x, pick) + eps mean Q.
 * A deterministic policy needs its pick's Q alone.
 */
static double
StateValue(double **theta, int K, int d, const double *x, int pick, double eps)
{
	double		v = 0,
				sum = 0;
	int			k0 = 0,
				k1 = K;

	if (pick >= 0 && eps == 0)
	{
		k0 = pick;
		k1 = pick + 1;
	}
	for (int k = k0; k < k1; k++)
	{
		double		q = 0;

		for (int j = 0; j < d; j++)
			q += theta[k][j] * x[j];
		if (pick < 0 ? (k == 0 || q > v) : k == pick)
			v = q;
		sum += q;
	}
	return pick >= 0 && eps > 0 ? (1 - eps) * v + eps * sum / K : v;
}

/*
 * The fit: m gets the actions' regressions (A fixed, b the last
 * iteration's), theta their coefficients.  Without a policy the next
 * state's value is max_a Q (fitted Q iteration); with one it is the
 * policy's choice, (1 - epsilon) Q(next, its pick) + epsilon mean_a Q (fitted
 * Q evaluation), the policy choosing among the logged actions.
 */
static double **
Fit(FqiState *st, double gamma, int maxit, double tol, const Bandit *policy, Bandit *m)
{
	int			d = st->d,
				K;
	int		   *arm,
			   *pick = NULL;
	double	  **theta,
			  **chol,
			   *prev,
			   *y,
				eps = 0;

	uba_bandit_set_dim(m, d);
	/* the regressions' matrices, fixed for every iteration */
	for (int64 i = 0; i < st->n; i++)
	{
		BanditArm  *a = uba_bandit_arm(m, st->action[i]);

		a->n += 1;
		uba_bandit_add_outer(a->A, a->b, st->s + (Size) i * d, d, 1, 0);
		if ((i & 16383) == 16383)
			CHECK_FOR_INTERRUPTS();
	}
	K = m->narms;
	/* every action's factor and theta beside its statistics */
	uba_check_memory(add_size(mul_size((Size) K, sizeof(double) * ((Size) d * d * 2 + 3 * (Size) d)),
							  mul_size((Size) st->cap, RowBytes(d))),
					 "fitted Q iteration");
	arm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * st->n);
	for (int64 i = 0; i < st->n; i++)
		arm[i] = uba_bandit_find_arm(m, st->action[i]);
	if (policy != NULL)
	{
		/* the policy's choice in every next state never changes: once */
		int64	   *ids = ArmIds(m);
		double	   *work = palloc(sizeof(double) * 2 * d);

		eps = PolicyEpsilon(policy);
		pick = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * st->n);
		for (int64 i = 0; i < st->n; i++)
		{
			pick[i] = st->terminal[i] ? -1 : uba_bandit_greedy(policy, st->next + (Size) i * d, ids, K, work);
			if ((i & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();
		}
	}
	theta = palloc(sizeof(double *) * K);
	chol = palloc(sizeof(double *) * K);
	for (int k = 0; k < K; k++)
	{
		double	   *U = palloc(sizeof(double) * d * d);

		memcpy(U, m->arms[k].A, sizeof(double) * d * d);
		for (int j = 0; j < d; j++)
			U[j * d + j] += m->lambda;
		/* factor once (the right-hand side is zero: theta starts at 0); solved again every iteration */
		theta[k] = palloc0(sizeof(double) * d);
		if (!uba_cholesky_solve(d, U, theta[k]))
			elog(ERROR, "uba: a ridge matrix of fitted Q iteration is not positive definite");
		chol[k] = U;
	}
	prev = palloc(sizeof(double) * K * d);
	y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->n);

	for (m->iterations = 1; m->iterations <= maxit; m->iterations++)
	{
		double		change = 0,
					size = 0;

		/* targets from the previous Q */
		for (int64 i = 0; i < st->n; i++)
		{
			double		next = st->terminal[i] ? 0 :
				StateValue(theta, K, d, st->next + (Size) i * d, policy ? pick[i] : -1, eps);

			y[i] = st->reward[i] + gamma * next;
			if ((i & 16383) == 16383)
				CHECK_FOR_INTERRUPTS();
		}
		for (int k = 0; k < K; k++)
		{
			memcpy(prev + (Size) k * d, theta[k], sizeof(double) * d);
			memset(m->arms[k].b, 0, sizeof(double) * d);
		}
		for (int64 i = 0; i < st->n; i++)
		{
			const double *x = st->s + (Size) i * d;
			double	   *b = m->arms[arm[i]].b;

			for (int j = 0; j < d; j++)
				b[j] += y[i] * x[j];
		}
		for (int k = 0; k < K; k++)
		{
			memcpy(theta[k], m->arms[k].b, sizeof(double) * d);
			uba_cholesky_resolve(d, chol[k], theta[k]);
			for (int j = 0; j < d; j++)
			{
				if (!isfinite(theta[k][j]))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("fitted Q iteration diverged after %d iterations", m->iterations),
							 errhint("Lower \"gamma\" or raise \"lambda\": with a linear Q function on another policy's log, the targets can grow without bound.")));
				change = Max(change, fabs(theta[k][j] - prev[(Size) k * d + j]));
				size = Max(size, fabs(theta[k][j]));
			}
		}
		CHECK_FOR_INTERRUPTS();
		if (change <= tol * Max(1.0, size))
			break;
	}
	m->iterations = Min(m->iterations, maxit);
	return theta;
}

Datum
uba_fqi_final(PG_FUNCTION_ARGS)
{
	FqiState   *st = PG_ARGISNULL(0) ? NULL : (FqiState *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	Bandit		m;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, fqi_options, lengthof(fqi_options), "uba_fqi_train", &o);
	memset(&m, 0, sizeof(m));
	m.method = BANDIT_FQI;
	m.lambda = uba_option(&o, "lambda");
	m.epsilon = uba_option(&o, "epsilon");
	m.gamma = uba_option(&o, "gamma");
	Fit(st, m.gamma, (int) uba_option(&o, "iterations"), uba_option(&o, "tol"), NULL, &m);
	PG_RETURN_BYTEA_P(uba_bandit_build(&m, st->n, st->started, &o, NULL, NULL, NULL));
}

/* ---------- fitted Q evaluation ---------- */

/*
 * uba_fqe(policy bytea, state float8[], action bigint, reward float8,
 *         next_state float8[], start boolean [, options]) -> float8
 *
 * The value of a policy on a log another policy collected, by fitted Q
 * evaluation (Le, Voloshin & Yue 2019): the same iteration with the
 * policy's own choice in the next state instead of the best action, then
 * the mean over the episodes' first steps of the policy's value there.
 * Where importance weights over whole episodes degenerate (a deterministic
 * policy, long episodes), this model-based estimate still has the data
 * it needs: it is biased by the linear Q function instead.
 */
Datum
uba_fqe_transfn(PG_FUNCTION_ARGS)
{
	FqiState   *st = PG_ARGISNULL(0) ? NULL : (FqiState *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 7 && !PG_ARGISNULL(7)) ? PG_GETARG_JSONB_P(7) : NULL;
	MemoryContext old;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(6))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the policy and the start flag must not be NULL")));
	old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	if (st == NULL)
	{
		st = AddStep(fcinfo, NULL, 2, opts, fqe_options, lengthof(fqe_options), "uba_fqe");
		/* the policy of the first row: a copy, validated in the final function */
		st->policy = (bytea *) PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(1));
		st->policy_datum = PG_GETARG_DATUM(1);
	}
	else
	{
		/*
		 * A constant or a scalar subquery passes the same datum on every
		 * row; any other is compared whole (its header holds the payload's
		 * CRC, but a blob differing only there is still another policy).
		 */
		if (PG_GETARG_DATUM(1) != st->policy_datum)
		{
			bytea	   *p = PG_GETARG_BYTEA_PP(1);

			if (VARSIZE_ANY_EXHDR(p) != VARSIZE_ANY_EXHDR(st->policy) ||
				memcmp(VARDATA_ANY(p), VARDATA_ANY(st->policy), VARSIZE_ANY_EXHDR(p)) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("uba_fqe needs the same policy on every row"),
						 errhint("Pass the policy as a constant or a scalar subquery: (SELECT uba_model('name')).")));
		}
		st = AddStep(fcinfo, st, 2, opts, fqe_options, lengthof(fqe_options), "uba_fqe");
	}
	st->start[st->n - 1] = PG_GETARG_BOOL(6);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

Datum
uba_fqe_final(PG_FUNCTION_ARGS)
{
	FqiState   *st = PG_ARGISNULL(0) ? NULL : (FqiState *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	Bandit		m,
			   *policy;
	double	  **theta,
			   *work,
				eps,
				total = 0;
	int64	   *ids,
				starts = 0;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, fqe_options, lengthof(fqe_options), "uba_fqe", &o);
	policy = uba_bandit_policy(st->policy);
	if (policy->method != BANDIT_LINUCB && policy->method != BANDIT_EPSILON_GREEDY && policy->method != BANDIT_FQI)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("fitted Q evaluation needs a policy whose choice is known: linucb, epsilon_greedy or fqi"),
				 errdetail("A Thompson sampler's probabilities are known only by sampling.")));
	if (policy->d != st->d)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the policy takes %d features, the states have %d", policy->d, st->d)));
	memset(&m, 0, sizeof(m));
	m.method = BANDIT_FQI;
	m.lambda = uba_option(&o, "lambda");
	theta = Fit(st, uba_option(&o, "gamma"), (int) uba_option(&o, "iterations"), uba_option(&o, "tol"), policy, &m);

	/* the policy's value at the episodes' first states */
	eps = PolicyEpsilon(policy);
	ids = ArmIds(&m);
	work = palloc(sizeof(double) * 2 * st->d);
	for (int64 i = 0; i < st->n; i++)
	{
		const double *x = st->s + (Size) i * st->d;

		if (!st->start[i])
			continue;
		total += StateValue(theta, m.narms, st->d, x, uba_bandit_greedy(policy, x, ids, m.narms, work), eps);
		starts++;
	}
	if (starts == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no step starts an episode"),
				 errhint("Pass start = true on each episode's first step: the value is the mean over them.")));
	PG_RETURN_FLOAT8(total / starts);
}
