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

static const UbaOptionSpec fqi_options[] = {
	{"gamma", UBA_OPT_FLOAT, 0.9, 0, 1, NULL},
	{"iterations", UBA_OPT_INT, 200, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-9, 0, 1, NULL},
	{"lambda", UBA_OPT_FLOAT, 1.0, 1e-9, 1e9, NULL},
	{"epsilon", UBA_OPT_FLOAT, 0, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
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
} FqiState;

static void
Grow(FqiState *st)
{
	/* a row: state, next state, reward, action, end; and the final's target and action index */
	Size		row = sizeof(double) * (2 * (Size) st->d + 2) + sizeof(int64) + sizeof(bool) + sizeof(int);

	st->cap = st->cap ? st->cap * 2 : 1024;
	uba_check_memory(mul_size((Size) st->cap, row), "the log of transitions");
	if (st->n == 0)
	{
		st->s = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->d * st->cap);
		st->next = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->d * st->cap);
		st->terminal = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * st->cap);
		st->action = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * st->cap);
		st->reward = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->cap);
		return;
	}
	st->s = repalloc_huge(st->s, sizeof(double) * st->d * st->cap);
	st->next = repalloc_huge(st->next, sizeof(double) * st->d * st->cap);
	st->terminal = repalloc_huge(st->terminal, sizeof(bool) * st->cap);
	st->action = repalloc_huge(st->action, sizeof(int64) * st->cap);
	st->reward = repalloc_huge(st->reward, sizeof(double) * st->cap);
}

/* uba_fqi_train(state float8[], action bigint, reward float8, next_state float8[] [, options]) */
Datum
uba_fqi_transfn(PG_FUNCTION_ARGS)
{
	FqiState   *st = PG_ARGISNULL(0) ? NULL : (FqiState *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ? PG_GETARG_JSONB_P(5) : NULL;
	MemoryContext old;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the state, the action and the reward must not be NULL"),
				 errhint("A NULL next state ends the episode; leave out the steps whose reward is not known yet.")));
	old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	if (st == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, fqi_options, lengthof(fqi_options), "uba_fqi_train", &o);
		st = palloc0(sizeof(FqiState));
		st->options = opts ? uba_options_copy(CurrentMemoryContext, opts) : NULL;
		st->started = GetCurrentTimestamp();
		st->d = uba_feature_count(PG_GETARG_ARRAYTYPE_P(1));
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
	uba_read_features(PG_GETARG_ARRAYTYPE_P(1), st->s + (Size) st->n * st->d, st->d);
	st->terminal[st->n] = PG_ARGISNULL(4);
	if (!PG_ARGISNULL(4))
		uba_read_features(PG_GETARG_ARRAYTYPE_P(4), st->next + (Size) st->n * st->d, st->d);
	st->action[st->n] = PG_GETARG_INT64(2);
	st->reward[st->n] = PG_GETARG_FLOAT8(3);
	uba_check_finite(st->reward[st->n], "rewards");
	st->n++;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

Datum
uba_fqi_final(PG_FUNCTION_ARGS)
{
	FqiState   *st = PG_ARGISNULL(0) ? NULL : (FqiState *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	Bandit		m;
	int			d,
				K,
				maxit;
	double		gamma,
				tol;
	int		   *arm;
	double	  **theta,
			  **chol,
			   *prev,
			   *y;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, fqi_options, lengthof(fqi_options), "uba_fqi_train", &o);
	d = st->d;
	gamma = uba_option(&o, "gamma");
	maxit = (int) uba_option(&o, "iterations");
	tol = uba_option(&o, "tol");
	memset(&m, 0, sizeof(m));
	m.method = BANDIT_FQI;
	m.lambda = uba_option(&o, "lambda");
	m.epsilon = uba_option(&o, "epsilon");
	m.gamma = gamma;
	uba_bandit_set_dim(&m, d);

	/* the regressions' matrices, fixed for every iteration */
	for (int64 i = 0; i < st->n; i++)
	{
		BanditArm  *a = uba_bandit_arm(&m, st->action[i]);

		a->n += 1;
		uba_bandit_add_outer(a->A, a->b, st->s + (Size) i * d, d, 1, 0);
		if ((i & 16383) == 16383)
			CHECK_FOR_INTERRUPTS();
	}
	K = m.narms;
	/* every action's factor and theta beside its statistics */
	uba_check_memory(add_size(mul_size((Size) K, sizeof(double) * ((Size) d * d * 2 + 3 * (Size) d)),
							  mul_size((Size) st->cap, sizeof(double) * (2 * (Size) d + 2) + sizeof(int64) + sizeof(bool) + sizeof(int))),
					 "fitted Q iteration");
	arm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * st->n);
	for (int64 i = 0; i < st->n; i++)
		arm[i] = uba_bandit_find_arm(&m, st->action[i]);
	theta = palloc(sizeof(double *) * K);
	chol = palloc(sizeof(double *) * K);
	for (int k = 0; k < K; k++)
	{
		double	   *U = palloc(sizeof(double) * d * d);

		memcpy(U, m.arms[k].A, sizeof(double) * d * d);
		for (int j = 0; j < d; j++)
			U[j * d + j] += m.lambda;
		/* factor once (the right-hand side is zero: theta starts at 0); solved again every iteration */
		theta[k] = palloc0(sizeof(double) * d);
		if (!uba_cholesky_solve(d, U, theta[k]))
			elog(ERROR, "uba: a ridge matrix of fitted Q iteration is not positive definite");
		chol[k] = U;
	}
	prev = palloc(sizeof(double) * K * d);
	y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * st->n);

	for (m.iterations = 1; m.iterations <= maxit; m.iterations++)
	{
		double		change = 0,
					size = 0;

		/* targets from the previous Q */
		for (int64 i = 0; i < st->n; i++)
		{
			double		best = 0;

			if (!st->terminal[i])
			{
				const double *x = st->next + (Size) i * d;

				for (int k = 0; k < K; k++)
				{
					double		q = 0;

					for (int j = 0; j < d; j++)
						q += theta[k][j] * x[j];
					if (k == 0 || q > best)
						best = q;
				}
			}
			y[i] = st->reward[i] + gamma * best;
			if ((i & 16383) == 16383)
				CHECK_FOR_INTERRUPTS();
		}
		for (int k = 0; k < K; k++)
		{
			memcpy(prev + (Size) k * d, theta[k], sizeof(double) * d);
			memset(m.arms[k].b, 0, sizeof(double) * d);
		}
		for (int64 i = 0; i < st->n; i++)
		{
			const double *x = st->s + (Size) i * d;
			double	   *b = m.arms[arm[i]].b;

			for (int j = 0; j < d; j++)
				b[j] += y[i] * x[j];
		}
		for (int k = 0; k < K; k++)
		{
			memcpy(theta[k], m.arms[k].b, sizeof(double) * d);
			uba_bandit_solve_factor(chol[k], d, theta[k]);
			for (int j = 0; j < d; j++)
			{
				if (!isfinite(theta[k][j]))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("fitted Q iteration diverged after %d iterations", m.iterations),
							 errhint("Lower \"gamma\" or raise \"lambda\": with a linear Q function on another policy's log, the targets can grow without bound.")));
				change = Max(change, fabs(theta[k][j] - prev[(Size) k * d + j]));
				size = Max(size, fabs(theta[k][j]));
			}
		}
		CHECK_FOR_INTERRUPTS();
		if (change <= tol * Max(1.0, size))
			break;
	}
	m.iterations = Min(m.iterations, maxit);
	PG_RETURN_BYTEA_P(uba_bandit_build(&m, st->n, st->started, &o, NULL, NULL, NULL));
}
