/*-------------------------------------------------------------------------
 *
 * ope.c
 *	  Off-policy evaluation: the value a new policy would have had, from a
 *	  log of decisions another policy made.  One row per logged decision:
 *
 *	  uba_ope_ips(reward, logging_propensity, target_probability [, options])
 *	  uba_ope_snips(reward, logging_propensity, target_probability [, options])
 *	  uba_ope_dr(reward, logging_propensity, target_probability,
 *	             predicted_reward, target_expected_reward [, options])
 *
 * logging_propensity is the probability with which the logging policy
 * chose the logged action, target_probability the new policy's probability
 * of that same action; w = target_probability / logging_propensity.
 *
 * - IPS (inverse propensity scoring): the mean of w r.
 * - SNIPS (self-normalized): sum w r / sum w, its variance by the delta
 *   method, sum w^2 (r - V)^2 / (sum w)^2.
 * - DR (doubly robust, Dudik et al. 2011): the mean of
 *   target_expected_reward + w (r - predicted_reward), where the reward
 *   model predicts the logged action's reward and target_expected_reward
 *   is its expectation under the new policy (sum over actions of the new
 *   policy's probability times the prediction).  Unbiased when either the
 *   propensities or the reward model are right.
 *
 * Each returns a uba_ope_result: the estimate with a confidence interval,
 * by the normal approximation (default) or, with {"interval":
 * "bootstrap"}, percentiles of a seeded bootstrap of the rows (kept then,
 * within uba.max_memory, and sorted first so that the result does not
 * depend on the rows' order or the plan); the effective sample size
 * (sum w)^2 / sum w^2 and the largest weight, which tell whether the log
 * supports the new policy at all.  The state of the normal interval is a
 * handful of sums and moments: a parallel aggregate.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"

PG_FUNCTION_INFO_V1(uba_ope_ips_transfn);
PG_FUNCTION_INFO_V1(uba_ope_dr_transfn);
PG_FUNCTION_INFO_V1(uba_ope_combine);
PG_FUNCTION_INFO_V1(uba_ope_serialize);
PG_FUNCTION_INFO_V1(uba_ope_deserialize);
PG_FUNCTION_INFO_V1(uba_ope_ips_final);
PG_FUNCTION_INFO_V1(uba_ope_snips_final);
PG_FUNCTION_INFO_V1(uba_ope_dr_final);

static const char *const ope_intervals[] = {"normal", "bootstrap", NULL};

static const UbaOptionSpec ope_options[] = {
	{"alpha", UBA_OPT_FLOAT, 0.05, 1e-12, 0.5, NULL},
	{"interval", UBA_OPT_CHOICE, 0, 0, 0, ope_intervals},
	{"n_bootstrap", UBA_OPT_INT, 1000, 10, 100000, NULL},
	{"seed", UBA_OPT_INT, 1, 0, 2147483647, NULL},
};

/* A logged decision as the estimators see it */
typedef struct OpeRow
{
	double		w;				/* target_probability / logging_propensity */
	double		r;				/* reward */
	double		dr;				/* DR's term: target_expected_reward + w (r - predicted_reward) */
} OpeRow;

typedef struct OpeState
{
	Jsonb	   *options;
	bool		bootstrap;
	/* the 9 doubles from n to max_w are serialized as one block: keep them together */
	double		n;
	/* the estimator's term (IPS: w r; DR: its term): mean and sum of squared deviations */
	double		mean,
				m2;
	/* SNIPS: plain sums */
	double		sw,
				swr,
				sw2,
				sw2r,
				sw2r2;
	double		max_w;
	/* the rows, for a bootstrap */
	OpeRow	   *rows;
	int64		nrows;
	int64		cap;
} OpeState;

static OpeState *
NewState(FunctionCallInfo fcinfo, Jsonb *opts)
{
	MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	OpeState   *st = palloc0(sizeof(OpeState));
	UbaOptions	o;

	uba_parse_options(opts, ope_options, lengthof(ope_options), "off-policy evaluation", &o);
	st->bootstrap = uba_option(&o, "interval") == 1;
	st->options = opts ? uba_options_copy(CurrentMemoryContext, opts) : NULL;
	MemoryContextSwitchTo(old);
	return st;
}

static double
Arg(FunctionCallInfo fcinfo, int i, const char *what)
{
	double		v;

	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 errhint("Leave out the decisions whose reward is not known yet.")));
	v = PG_GETARG_FLOAT8(i);
	uba_check_finite(v, what);
	return v;
}

static void
Welford(double *mean, double *m2, double n, double x)
{
	double		d = x - *mean;

	*mean += d / n;
	*m2 += d * (x - *mean);
}

static Datum
Transition(FunctionCallInfo fcinfo, bool dr)
{
	OpeState   *st = PG_ARGISNULL(0) ? NULL : (OpeState *) PG_GETARG_POINTER(0);
	int			optarg = dr ? 6 : 4;
	Jsonb	   *opts = (PG_NARGS() > optarg && !PG_ARGISNULL(optarg)) ? PG_GETARG_JSONB_P(optarg) : NULL;
	double		r,
				p,
				t,
				w,
				term;

	if (st == NULL)
		st = NewState(fcinfo, opts);
	else
		uba_check_same_options(st->options, opts);
	r = Arg(fcinfo, 1, "reward");
	p = Arg(fcinfo, 2, "logging_propensity");
	t = Arg(fcinfo, 3, "target_probability");
	if (!(p > 0 && p <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logging_propensity must be in (0, 1]"),
				 errdetail("Got %g.", p),
				 errhint("It is the probability with which the logging policy chose the logged action; 0 means the action could not have been logged.")));
	if (!(t >= 0 && t <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target_probability must be in [0, 1]"),
				 errdetail("Got %g.", t)));
	w = t / p;
	term = dr ? Arg(fcinfo, 5, "target_expected_reward") + w * (r - Arg(fcinfo, 4, "predicted_reward")) : w * r;
	st->n += 1;
	Welford(&st->mean, &st->m2, st->n, term);
	st->sw += w;
	st->swr += w * r;
	st->sw2 += w * w;
	st->sw2r += w * w * r;
	st->sw2r2 += w * w * r * r;
	st->max_w = Max(st->max_w, w);
	if (st->bootstrap)
	{
		if (st->nrows == st->cap)
		{
			MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
			int64		cap = st->cap ? st->cap * 2 : 1024;

			uba_check_memory(mul_size(sizeof(OpeRow), cap), "the off-policy evaluation's bootstrap");
			st->rows = st->rows ? repalloc_huge(st->rows, sizeof(OpeRow) * cap) : palloc(sizeof(OpeRow) * cap);
			st->cap = cap;
			MemoryContextSwitchTo(old);
		}
		st->rows[st->nrows].w = w;
		st->rows[st->nrows].r = r;
		st->rows[st->nrows].dr = term;
		st->nrows++;
	}
	PG_RETURN_POINTER(st);
}

Datum
uba_ope_ips_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, false);
}

Datum
uba_ope_dr_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, true);
}

/* a += b for a mean and its sum of squared deviations */
static void
MergeMoments(double *mean, double *m2, double n, double mean_b, double m2_b, double n_b)
{
	double		d = mean_b - *mean,
				total = n + n_b;

	*m2 += m2_b + d * d * n * n_b / total;
	*mean += d * n_b / total;
}

Datum
uba_ope_combine(PG_FUNCTION_ARGS)
{
	OpeState   *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (OpeState *) PG_GETARG_POINTER(0);
	b = (OpeState *) PG_GETARG_POINTER(1);
	uba_check_same_options(a->options, b->options);
	if (b->n == 0)
		PG_RETURN_POINTER(a);
	if (a->n == 0)
	{
		a->mean = b->mean;
		a->m2 = b->m2;
	}
	else
		MergeMoments(&a->mean, &a->m2, a->n, b->mean, b->m2, b->n);
	a->n += b->n;
	a->sw += b->sw;
	a->swr += b->swr;
	a->sw2 += b->sw2;
	a->sw2r += b->sw2r;
	a->sw2r2 += b->sw2r2;
	a->max_w = Max(a->max_w, b->max_w);
	if (b->nrows > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
		int64		need = a->nrows + b->nrows;

		uba_check_memory(mul_size(sizeof(OpeRow), need), "the off-policy evaluation's bootstrap");
		a->rows = a->rows ? repalloc_huge(a->rows, sizeof(OpeRow) * need) : palloc(sizeof(OpeRow) * need);
		memcpy(a->rows + a->nrows, b->rows, sizeof(OpeRow) * b->nrows);
		a->nrows = a->cap = need;
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_POINTER(a);
}

Datum
uba_ope_serialize(PG_FUNCTION_ARGS)
{
	OpeState   *st = (OpeState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	uba_options_send(&buf, st->options);
	pq_sendbyte(&buf, st->bootstrap);
	pq_sendbytes(&buf, (const char *) &st->n, sizeof(double) * 9);
	pq_sendint64(&buf, st->nrows);
	if (st->nrows > 0)
		pq_sendbytes(&buf, (const char *) st->rows, sizeof(OpeRow) * st->nrows);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_ope_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	OpeState   *st = palloc0(sizeof(OpeState));
	StringInfoData buf;

	uba_message_of(&buf, b);
	st->options = uba_options_receive(&buf, cxt);
	st->bootstrap = pq_getmsgbyte(&buf) != 0;
	memcpy(&st->n, pq_getmsgbytes(&buf, sizeof(double) * 9), sizeof(double) * 9);
	st->nrows = pq_getmsgint64(&buf);
	if (st->nrows < 0 || st->nrows > (int64) (MaxAllocHugeSize / sizeof(OpeRow)))
		elog(ERROR, "invalid off-policy evaluation state");
	if (st->nrows > 0)
	{
		st->rows = palloc_extended(sizeof(OpeRow) * st->nrows, MCXT_ALLOC_HUGE);
		memcpy(st->rows, pq_getmsgbytes(&buf, sizeof(OpeRow) * st->nrows), sizeof(OpeRow) * st->nrows);
	}
	st->cap = st->nrows;
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

typedef enum OpeEstimator
{
	OPE_IPS,
	OPE_SNIPS,
	OPE_DR
} OpeEstimator;

/* The estimate over rows (bootstrap replicates): weights per row, nrows rows */
static double
Estimate(OpeEstimator e, const OpeRow *rows, const double *count, int64 nrows)
{
	double		a = 0,
				b = 0;

	for (int64 i = 0; i < nrows; i++)
	{
		double		c = count ? count[i] : 1;

		switch (e)
		{
			case OPE_IPS:
				a += c * rows[i].w * rows[i].r;
				b += c;
				break;
			case OPE_SNIPS:
				a += c * rows[i].w * rows[i].r;
				b += c * rows[i].w;
				break;
			case OPE_DR:
				a += c * rows[i].dr;
				b += c;
				break;
		}
	}
	return b > 0 ? a / b : get_float8_nan();
}

static int
CompareRows(const void *x, const void *y)
{
	const OpeRow *a = x,
			   *b = y;

	if (a->w != b->w)
		return a->w < b->w ? -1 : 1;
	if (a->r != b->r)
		return a->r < b->r ? -1 : 1;
	return a->dr < b->dr ? -1 : a->dr > b->dr;
}

/*
 * A percentile bootstrap: n_bootstrap resamples of the rows with
 * replacement (multinomial counts from the seeded generator), over the
 * rows sorted so that the result depends on the rows, not their order
 */
static void
Bootstrap(OpeState *st, OpeEstimator e, const UbaOptions *o, double alpha, double *lo, double *hi)
{
	int			nb = (int) uba_option(o, "n_bootstrap");
	double	   *est = palloc(sizeof(double) * nb);
	double	   *count;
	UbaRandom	rng;
	int			k = 0;

	uba_check_memory(mul_size(sizeof(double), st->nrows), "the off-policy evaluation's bootstrap");
	count = palloc_extended(sizeof(double) * Max(st->nrows, 1), MCXT_ALLOC_HUGE);
	qsort(st->rows, st->nrows, sizeof(OpeRow), CompareRows);
	uba_random_seed(&rng, (uint64) uba_option(o, "seed"));
	for (int b = 0; b < nb; b++)
	{
		memset(count, 0, sizeof(double) * st->nrows);
		for (int64 i = 0; i < st->nrows; i++)
			count[uba_random_below(&rng, (uint64) st->nrows)] += 1;
		est[b] = Estimate(e, st->rows, count, st->nrows);
		if (!isnan(est[b]))
			est[k++] = est[b];
		CHECK_FOR_INTERRUPTS();
	}
	qsort(est, k, sizeof(double), uba_cmp_double);
	if (k == 0)
	{
		*lo = *hi = get_float8_nan();
		return;
	}
	/* percentiles by linear interpolation between order statistics, as numpy's default */
	{
		double		pos[2] = {alpha / 2 * (k - 1), (1 - alpha / 2) * (k - 1)};
		double	   *out[2] = {lo, hi};

		for (int j = 0; j < 2; j++)
		{
			int			i = (int) floor(pos[j]);
			double		f = pos[j] - i;

			*out[j] = i + 1 < k ? est[i] + f * (est[i + 1] - est[i]) : est[i];
		}
	}
}

static Datum
Final(FunctionCallInfo fcinfo, OpeEstimator e)
{
	OpeState   *st = PG_ARGISNULL(0) ? NULL : (OpeState *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	double		alpha,
				estimate,
				se = get_float8_nan(),
				lo,
				hi;
	TupleDesc	desc;
	Datum		v[7];
	bool		nulls[7] = {0};

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, ope_options, lengthof(ope_options), "off-policy evaluation", &o);
	alpha = uba_option(&o, "alpha");
	switch (e)
	{
		case OPE_SNIPS:
			estimate = st->sw > 0 ? st->swr / st->sw : get_float8_nan();
			if (st->sw > 0)
				se = sqrt(Max(st->sw2r2 - 2 * estimate * st->sw2r + estimate * estimate * st->sw2, 0)) / st->sw;
			break;
		default:
			/* IPS and DR: the mean of the estimator's term */
			estimate = st->mean;
			if (st->n > 1)
				se = sqrt(st->m2 / (st->n - 1) / st->n);
			break;
	}
	if (st->bootstrap)
		Bootstrap(st, e, &o, alpha, &lo, &hi);
	else
	{
		double		z = uba_norm_quantile(1 - alpha / 2);

		lo = estimate - z * se;
		hi = estimate + z * se;
	}
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "off-policy evaluation must return a composite type");
	v[0] = Float8GetDatum(estimate);
	v[1] = Float8GetDatum(lo);
	v[2] = Float8GetDatum(hi);
	v[3] = Float8GetDatum(se);
	v[4] = Int64GetDatum((int64) st->n);
	v[5] = Float8GetDatum(st->sw2 > 0 ? st->sw * st->sw / st->sw2 : 0);
	v[6] = Float8GetDatum(st->max_w);
	for (int i = 0; i < 4; i++)
		nulls[i] = isnan(DatumGetFloat8(v[i]));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), v, nulls)));
}

Datum
uba_ope_ips_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, OPE_IPS);
}

Datum
uba_ope_snips_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, OPE_SNIPS);
}

Datum
uba_ope_dr_final(PG_FUNCTION_ARGS)
{
	return Final(fcinfo, OPE_DR);
}
