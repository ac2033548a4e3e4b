/*-------------------------------------------------------------------------
 *
 * abtest.c
 *	  A/B test readouts: uba_ab_test(variant, value [, covariate]
 *	  [, options]) and uba_ab_test(variant, converted [, options]), one
 *	  row per unit, give one uba_ab_result per variant: its mean, and
 *	  against the control the absolute and relative lift with intervals,
 *	  Welch's test, a Bayesian readout and the sample ratio check.
 *
 * The state is, per variant, the count, means, sums of squared deviations
 * and the co-moment of value and covariate, updated one row at a time
 * (Welford) and merged pairwise (Chan et al.): a parallel aggregate whose
 * partial states are a few numbers per variant, accurate where sums of
 * squares would cancel.  The final function does the statistics:
 *
 * - Welch's t-test on the difference of means, with Welch-Satterthwaite
 *   degrees of freedom; intervals for the absolute lift from Student's t,
 *   for the relative lift (mean_t / mean_c - 1) by the delta method with
 *   the same degrees of freedom.  With several treatments, p-values are
 *   adjusted by Holm's method (or Bonferroni's, or not, by option) and the
 *   intervals use alpha / (variants - 1) (Bonferroni) unless the
 *   correction is "none".
 * - CUPED (Deng et al. 2013) with a covariate: values adjusted to y -
 *   theta (x - mean x), theta = cov(y, x) / var(x) over all units, the
 *   test run on the adjusted values.
 * - Winsorizing by option: values and covariates clamped to
 *   [cap_lower, cap_upper] as they arrive.
 * - Always-valid intervals by option (sequential): Howard et al.'s (2021)
 *   asymptotic confidence sequence, as GrowthBook computes it, tuned to be
 *   narrowest at sequential_tuning units; valid however often one looks.
 *   p-values are then NULL (a fixed-horizon p-value means nothing when
 *   one peeks).
 * - Bayesian: for means a flat prior, the lift's posterior N(lift, SE^2):
 *   the chance to win is Phi(lift / SE) and the expected loss E[max(0,
 *   -lift)]; for conversions Beta(1 + s, 1 + f) posteriors, the chance to
 *   win exact (Evan Miller's sum) and the expected loss exact (Chris
 *   Stucchio's), both in log space.
 * - The sample ratio mismatch check: a chi-square test of the units per
 *   variant against the planned weights (equal by default), reported on
 *   every row with srm_ok = p >= srm_threshold (GrowthBook's 0.001).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(uba_ab_test_transfn);
PG_FUNCTION_INFO_V1(uba_ab_test_cuped_transfn);
PG_FUNCTION_INFO_V1(uba_ab_test_bool_transfn);
PG_FUNCTION_INFO_V1(uba_ab_test_combine);
PG_FUNCTION_INFO_V1(uba_ab_test_serialize);
PG_FUNCTION_INFO_V1(uba_ab_test_deserialize);
PG_FUNCTION_INFO_V1(uba_ab_test_final);

#define AB_MAX_VARIANTS 32
#define AB_MAX_NAME_BYTES 200

typedef enum AbKind
{
	AB_MEANS = 1,
	AB_CUPED,
	AB_PROPORTIONS
} AbKind;

static const char *const ab_corrections[] = {"holm", "bonferroni", "none", NULL};

static const UbaOptionSpec ab_options[] = {
	{"control", UBA_OPT_TEXT, 0, 0, 0, NULL},
	{"alpha", UBA_OPT_FLOAT, 0.05, 1e-12, 0.5, NULL},
	{"correction", UBA_OPT_CHOICE, 0, 0, 0, ab_corrections},
	{"sequential", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"sequential_tuning", UBA_OPT_FLOAT, 5000, 1, 1e12, NULL},
	{"srm_threshold", UBA_OPT_FLOAT, 0.001, 0, 1, NULL},
	{"cap_lower", UBA_OPT_FLOAT, 0, -DBL_MAX, DBL_MAX, NULL},
	{"cap_upper", UBA_OPT_FLOAT, 0, -DBL_MAX, DBL_MAX, NULL},
};

/* Moments of one variant's units */
typedef struct AbMoments
{
	double		n;
	double		mean_y;
	double		m2_y;			/* sum of squared deviations */
	double		mean_x;
	double		m2_x;
	double		c_xy;			/* sum of products of deviations */
} AbMoments;

typedef struct AbState
{
	int32		kind;
	int32		nvariants;
	Jsonb	   *options;
	double		cap_lower;
	double		cap_upper;
	char	   *names[AB_MAX_VARIANTS];
	AbMoments	m[AB_MAX_VARIANTS];
} AbState;

/* ---------- options ---------- */

/* The options without "weights", which the option parser does not know (parsed by Weights) */
static Jsonb *
WithoutWeights(Jsonb *opts)
{
	if (opts == NULL)
		return NULL;
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(opts),
											  CStringGetTextDatum("weights")));
}

static void
ParseOptions(Jsonb *opts, UbaOptions *o)
{
	uba_parse_options(WithoutWeights(opts), ab_options, lengthof(ab_options), "uba_ab_test", o);
}

/*
 * The planned share of each variant from the option "weights" (an object
 * of variant -> positive number, normalized), equal shares without it
 */
static void
Weights(Jsonb *opts, AbState *st, double *w)
{
	JsonbValue *v = opts ? getKeyJsonValueFromContainer(&opts->root, "weights", 7, NULL) : NULL;
	double		total = 0;

	if (v == NULL)
	{
		for (int i = 0; i < st->nvariants; i++)
			w[i] = 1.0 / st->nvariants;
		return;
	}
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_ab_test option \"weights\" must be an object of variant: planned share"),
				 errhint("For example {\"weights\": {\"control\": 0.5, \"b\": 0.5}}.")));
	for (int i = 0; i < st->nvariants; i++)
	{
		JsonbValue *x = getKeyJsonValueFromContainer(v->val.binary.data, st->names[i],
													  strlen(st->names[i]), NULL);
		double		d;

		if (x == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("variant \"%s\" has no planned share in the option \"weights\"", st->names[i])));
		if (x->type != jbvNumeric)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the planned share of variant \"%s\" must be a number", st->names[i])));
		d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(x->val.numeric)));
		if (!(d > 0) || !isfinite(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the planned share of variant \"%s\" must be positive", st->names[i]),
					 errdetail("Got %g.", d)));
		w[i] = d;
		total += d;
	}
	/* a planned variant with no unit at all is a mismatch too: its share counts */
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	k;
		JsonbIteratorToken tok;
		int			keys = 0;

		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
			if (tok == WJB_KEY)
				keys++;
		if (keys > st->nvariants)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the option \"weights\" names %d variants, the data has %d", keys, st->nvariants),
					 errhint("A variant that received no unit at all is a sample ratio mismatch: check the assignment.")));
	}
	for (int i = 0; i < st->nvariants; i++)
		w[i] /= total;
}

/* ---------- the state ---------- */

static AbState *
NewState(FunctionCallInfo fcinfo, AbKind kind, Jsonb *opts)
{
	MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	AbState    *st = palloc0(sizeof(AbState));
	UbaOptions	o;

	st->kind = kind;
	ParseOptions(opts, &o);
	st->cap_lower = uba_option_given(&o, "cap_lower") ? uba_option(&o, "cap_lower") : -get_float8_infinity();
	st->cap_upper = uba_option_given(&o, "cap_upper") ? uba_option(&o, "cap_upper") : get_float8_infinity();
	if (st->cap_lower > st->cap_upper)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_ab_test option \"cap_lower\" must be at most \"cap_upper\""),
				 errdetail("Got %g and %g.", st->cap_lower, st->cap_upper)));
	st->options = opts ? uba_options_copy(CurrentMemoryContext, opts) : NULL;
	MemoryContextSwitchTo(old);
	return st;
}

/* The variant's slot, added when new */
static int
VariantSlot(FunctionCallInfo fcinfo, AbState *st, text *variant)
{
	int			len = VARSIZE_ANY_EXHDR(variant);
	const char *p = VARDATA_ANY(variant);

	for (int i = 0; i < st->nvariants; i++)
		if ((int) strlen(st->names[i]) == len && memcmp(st->names[i], p, len) == 0)
			return i;
	if (st->nvariants == AB_MAX_VARIANTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("an A/B test has at most %d variants", AB_MAX_VARIANTS),
				 errhint("Is the first argument the variant a unit was assigned to?")));
	if (len == 0 || len > AB_MAX_NAME_BYTES || memchr(p, '\0', len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a variant's name must have 1 to %d bytes", AB_MAX_NAME_BYTES)));
	st->names[st->nvariants] = MemoryContextStrdup(uba_agg_context(fcinfo), text_to_cstring(variant));
	return st->nvariants++;
}

static void
Add(AbMoments *m, double y, double x)
{
	double		dy,
				dx;

	m->n += 1;
	dy = y - m->mean_y;
	m->mean_y += dy / m->n;
	m->m2_y += dy * (y - m->mean_y);
	dx = x - m->mean_x;
	m->mean_x += dx / m->n;
	m->m2_x += dx * (x - m->mean_x);
	m->c_xy += dx * (y - m->mean_y);
}

/* a += b (Chan, Golub and LeVeque's pairwise update) */
static void
Merge(AbMoments *a, const AbMoments *b)
{
	double		n = a->n + b->n,
				dy,
				dx;

	if (b->n == 0)
		return;
	if (a->n == 0)
	{
		*a = *b;
		return;
	}
	dy = b->mean_y - a->mean_y;
	dx = b->mean_x - a->mean_x;
	a->m2_y += b->m2_y + dy * dy * a->n * b->n / n;
	a->m2_x += b->m2_x + dx * dx * a->n * b->n / n;
	a->c_xy += b->c_xy + dx * dy * a->n * b->n / n;
	a->mean_y += dy * b->n / n;
	a->mean_x += dx * b->n / n;
	a->n = n;
}

static double
Clamp(const AbState *st, double v)
{
	return Min(Max(v, st->cap_lower), st->cap_upper);
}

static double
CheckValue(double v, const char *what)
{
	uba_check_finite(v, what);
	return v;
}

/*
 * One row: state, variant, value, then a covariate (CUPED) and options.
 * A row without a variant or a value is left out.
 */
static Datum
Transition(FunctionCallInfo fcinfo, AbKind kind)
{
	AbState    *st = PG_ARGISNULL(0) ? NULL : (AbState *) PG_GETARG_POINTER(0);
	int			optarg = kind == AB_CUPED ? 4 : 3;
	Jsonb	   *opts = (PG_NARGS() > optarg && !PG_ARGISNULL(optarg)) ? PG_GETARG_JSONB_P(optarg) : NULL;
	double		y,
				x = 0;
	int			slot;

	if (st == NULL)
		st = NewState(fcinfo, kind, opts);
	else
		uba_check_same_options(st->options, opts);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	if (kind == AB_PROPORTIONS)
		y = PG_GETARG_BOOL(2) ? 1 : 0;
	else
		y = Clamp(st, CheckValue(PG_GETARG_FLOAT8(2), "values"));
	if (kind == AB_CUPED)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the covariate must not be NULL"),
					 errhint("A unit without pre-period data has a pre-period value of 0: coalesce(pre_value, 0).")));
		x = Clamp(st, CheckValue(PG_GETARG_FLOAT8(3), "covariates"));
	}
	slot = VariantSlot(fcinfo, st, PG_GETARG_TEXT_PP(1));
	Add(&st->m[slot], y, x);
	PG_RETURN_POINTER(st);
}

Datum
uba_ab_test_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, AB_MEANS);
}

Datum
uba_ab_test_cuped_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, AB_CUPED);
}

Datum
uba_ab_test_bool_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, AB_PROPORTIONS);
}

Datum
uba_ab_test_combine(PG_FUNCTION_ARGS)
{
	AbState    *a,
			   *b;
	MemoryContext old;

	UBA_COMBINE_NULL_STATES();
	a = (AbState *) PG_GETARG_POINTER(0);
	b = (AbState *) PG_GETARG_POINTER(1);
	uba_check_same_options(a->options, b->options);
	old = MemoryContextSwitchTo(uba_agg_context(fcinfo));
	for (int i = 0; i < b->nvariants; i++)
	{
		text	   *name = cstring_to_text(b->names[i]);

		Merge(&a->m[VariantSlot(fcinfo, a, name)], &b->m[i]);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

Datum
uba_ab_test_serialize(PG_FUNCTION_ARGS)
{
	AbState    *st = (AbState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->kind);
	pq_sendfloat8(&buf, st->cap_lower);
	pq_sendfloat8(&buf, st->cap_upper);
	uba_options_send(&buf, st->options);
	pq_sendint32(&buf, st->nvariants);
	for (int i = 0; i < st->nvariants; i++)
	{
		pq_sendstring(&buf, st->names[i]);
		pq_sendbytes(&buf, (const char *) &st->m[i], sizeof(AbMoments));
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_ab_test_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	AbState    *st = palloc0(sizeof(AbState));
	StringInfoData buf;

	uba_message_of(&buf, b);
	st->kind = pq_getmsgint(&buf, 4);
	st->cap_lower = pq_getmsgfloat8(&buf);
	st->cap_upper = pq_getmsgfloat8(&buf);
	st->options = uba_options_receive(&buf, cxt);
	st->nvariants = pq_getmsgint(&buf, 4);
	if (st->nvariants < 0 || st->nvariants > AB_MAX_VARIANTS)
		elog(ERROR, "invalid uba_ab_test state");
	for (int i = 0; i < st->nvariants; i++)
	{
		st->names[i] = pstrdup(pq_getmsgstring(&buf));
		memcpy(&st->m[i], pq_getmsgbytes(&buf, sizeof(AbMoments)), sizeof(AbMoments));
	}
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

/* ---------- statistics ---------- */

/* log B(a, b) */
static double
LogBeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/*
 * P(X > Y) for X ~ Beta(a, b), Y ~ Beta(c, d), c a whole number (Evan
 * Miller): 1 - sum_{i < c} B(a + i, b + d) / ((d + i) B(1 + i, d) B(a, b)).
 * The sum runs over the smaller of the two first parameters (by P(X > Y)
 * = 1 - P(Y > X)).
 */
static double
BetaGreater(double a, double b, double c, double d)
{
	double		sum = 0;
	bool		swap = a < c;

	if (swap)
	{
		double		t;

		t = a;
		a = c;
		c = t;
		t = b;
		b = d;
		d = t;
	}
	/* now P(X > Y) with c the smaller: the sum has c terms */
	for (int64 i = 0; i < (int64) c; i++)
	{
		sum += exp(LogBeta(a + i, b + d) - log(d + i) - LogBeta(1 + i, d) - LogBeta(a, b));
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
	}
	return swap ? sum : 1 - sum;
}

typedef struct AbComparison
{
	bool		valid;
	double		lift,
				lift_lo,
				lift_hi,
				rel,
				rel_lo,
				rel_hi,
				p,
				p_adjusted,
				chance,
				loss;
	bool		rel_valid;
} AbComparison;

/* The half-width of Howard et al.'s asymptotic confidence sequence at N units for an estimate of variance v */
static double
SequentialHalfWidth(double v, double N, double alpha, double tuning)
{
	double		rho2 = (-2 * log(alpha) + log(-2 * log(alpha) + 1)) / tuning;
	double		s2 = N * v;

	return sqrt(s2 * 2 * (N * rho2 + 1) / (N * N * rho2) * log(sqrt(N * rho2 + 1) / alpha));
}

Datum
uba_ab_test_final(PG_FUNCTION_ARGS)
{
	AbState    *st = PG_ARGISNULL(0) ? NULL : (AbState *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	const char *control_name;
	int			control = -1,
				order[AB_MAX_VARIANTS],
				ntreat;
	AbMoments	total = {0};
	double		theta = 0,
				mean_adj[AB_MAX_VARIANTS],
				var_adj[AB_MAX_VARIANTS],
				w[AB_MAX_VARIANTS],
				alpha,
				alpha_ci,
				chi2 = 0,
				srm_p,
				N = 0;
	int			correction;
	bool		sequential;
	AbComparison cmp[AB_MAX_VARIANTS];
	Oid			elemtype;
	TupleDesc	desc;
	Datum	   *rows;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (st == NULL || st->nvariants == 0)
		PG_RETURN_NULL();
	ParseOptions(st->options, &o);
	alpha = uba_option(&o, "alpha");
	correction = (int) uba_option(&o, "correction");
	sequential = uba_option(&o, "sequential") != 0;

	/* variants by name; the control first */
	for (int i = 0; i < st->nvariants; i++)
		order[i] = i;
	for (int i = 1; i < st->nvariants; i++)
		for (int j = i; j > 0 && strcmp(st->names[order[j - 1]], st->names[order[j]]) > 0; j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	control_name = uba_option_text(&o, "control");
	for (int i = 0; i < st->nvariants; i++)
		if (strcmp(st->names[i], control_name ? control_name : "control") == 0)
			control = i;
	if (control < 0 && control_name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the control variant \"%s\" has no unit", control_name)));
	if (control < 0)
		control = order[0];		/* no "control": the first name */
	{
		int			sorted[AB_MAX_VARIANTS],
					j = 1;

		memcpy(sorted, order, sizeof(int) * st->nvariants);
		order[0] = control;
		for (int i = 0; i < st->nvariants; i++)
			if (sorted[i] != control)
				order[j++] = sorted[i];
	}

	/* CUPED: theta over all units, then each variant's adjusted mean and variance */
	for (int i = 0; i < st->nvariants; i++)
		Merge(&total, &st->m[i]);
	if (st->kind == AB_CUPED && total.m2_x > 0)
		theta = total.c_xy / total.m2_x;
	for (int i = 0; i < st->nvariants; i++)
	{
		AbMoments  *m = &st->m[i];

		mean_adj[i] = m->mean_y - theta * (m->mean_x - total.mean_x);
		var_adj[i] = m->n > 1 ? Max(m->m2_y - 2 * theta * m->c_xy + theta * theta * m->m2_x, 0) / (m->n - 1)
			: get_float8_nan();
		N += m->n;
	}

	/* the sample ratio check */
	Weights(st->options, st, w);
	for (int i = 0; i < st->nvariants; i++)
		chi2 += (st->m[i].n - N * w[i]) * (st->m[i].n - N * w[i]) / (N * w[i]);
	srm_p = st->nvariants > 1 ? uba_chi2_sf(chi2, st->nvariants - 1) : 1;

	/* each treatment against the control */
	ntreat = st->nvariants - 1;
	alpha_ci = (correction != 2 && ntreat > 1) ? alpha / ntreat : alpha;
	memset(cmp, 0, sizeof(cmp));
	for (int j = 1; j <= ntreat; j++)
	{
		int			t = order[j];
		AbMoments  *mt = &st->m[t],
				   *mc = &st->m[control];
		AbComparison *c = &cmp[t];
		double		vt,
					vc,
					se,
					df,
					q,
					se_rel = 0;	/* set and read only when rel_valid */

		if (mt->n < 2 || mc->n < 2)
			continue;
		vt = var_adj[t] / mt->n;
		vc = var_adj[control] / mc->n;
		se = sqrt(vt + vc);
		c->valid = true;
		c->lift = mean_adj[t] - mean_adj[control];
		df = (vt + vc) * (vt + vc) / (vt * vt / (mt->n - 1) + vc * vc / (mc->n - 1));
		c->rel_valid = mean_adj[control] != 0 && se > 0;
		if (c->rel_valid)
		{
			c->rel = mean_adj[t] / mean_adj[control] - 1;
			se_rel = sqrt(vt / (mean_adj[control] * mean_adj[control]) +
						  mean_adj[t] * mean_adj[t] * vc / pow(mean_adj[control], 4));
		}
		if (!(se > 0))
		{
			/* no spread at all: the difference is exact */
			c->lift_lo = c->lift_hi = c->lift;
			c->p = c->lift == 0 ? 1 : 0;
			c->chance = c->lift > 0 ? 1 : c->lift < 0 ? 0 : 0.5;
			c->loss = Max(-c->lift, 0);
			continue;
		}
		if (sequential)
		{
			double		h = SequentialHalfWidth(se * se, mt->n + mc->n, alpha_ci, uba_option(&o, "sequential_tuning"));

			c->lift_lo = c->lift - h;
			c->lift_hi = c->lift + h;
			if (c->rel_valid)
			{
				h = SequentialHalfWidth(se_rel * se_rel, mt->n + mc->n, alpha_ci, uba_option(&o, "sequential_tuning"));
				c->rel_lo = c->rel - h;
				c->rel_hi = c->rel + h;
			}
			c->p = get_float8_nan();
		}
		else
		{
			q = uba_student_t_quantile(1 - alpha_ci / 2, df);
			c->lift_lo = c->lift - q * se;
			c->lift_hi = c->lift + q * se;
			if (c->rel_valid)
			{
				c->rel_lo = c->rel - q * se_rel;
				c->rel_hi = c->rel + q * se_rel;
			}
			c->p = uba_student_t_two_sided(c->lift / se, df);
		}
		if (st->kind == AB_PROPORTIONS)
		{
			double		sc = round(mc->mean_y * mc->n),
						stt = round(mt->mean_y * mt->n),
						ac = 1 + sc,
						bc = 1 + mc->n - sc,
						at = 1 + stt,
						bt = 1 + mt->n - stt;

			c->chance = BetaGreater(at, bt, ac, bc);
			c->loss = ac / (ac + bc) * BetaGreater(ac + 1, bc, at, bt) - at / (at + bt) * BetaGreater(ac, bc, at + 1, bt);
			c->loss = Max(c->loss, 0);
		}
		else
		{
			double		z = c->lift / se;

			c->chance = uba_norm_cdf(z);
			c->loss = se * exp(-z * z / 2) / sqrt(2 * M_PI) - c->lift * uba_norm_cdf(-z);
		}
	}

	/* Holm: the i-th smallest of m p-values times (m - i + 1), kept monotone; Bonferroni: times m */
	{
		int			idx[AB_MAX_VARIANTS],
					m = 0;
		double		running = 0;

		for (int j = 1; j <= ntreat; j++)
			if (cmp[order[j]].valid && !isnan(cmp[order[j]].p))
				idx[m++] = order[j];
		for (int i = 1; i < m; i++)
			for (int k = i; k > 0 && cmp[idx[k - 1]].p > cmp[idx[k]].p; k--)
			{
				int			t = idx[k];

				idx[k] = idx[k - 1];
				idx[k - 1] = t;
			}
		for (int i = 0; i < m; i++)
		{
			AbComparison *c = &cmp[idx[i]];

			if (correction == 0)
			{
				running = Max(running, Min(1, c->p * (m - i)));
				c->p_adjusted = running;
			}
			else if (correction == 1)
				c->p_adjusted = Min(1, c->p * m);
			else
				c->p_adjusted = c->p;
		}
	}

	/* the rows */
	elemtype = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(elemtype))
		elog(ERROR, "uba_ab_test must return an array of uba_ab_result");
	desc = lookup_rowtype_tupdesc_copy(elemtype, -1);
	rows = palloc(sizeof(Datum) * st->nvariants);
	for (int j = 0; j < st->nvariants; j++)
	{
		int			i = order[j];
		AbMoments  *m = &st->m[i];
		AbComparison *c = &cmp[i];
		Datum		v[18];
		bool		nulls[18] = {0};

		v[0] = CStringGetTextDatum(st->names[i]);
		v[1] = BoolGetDatum(i == control);
		v[2] = Int64GetDatum((int64) m->n);
		v[3] = Float8GetDatum(m->mean_y);
		v[4] = Float8GetDatum(m->n > 1 ? sqrt(m->m2_y / (m->n - 1)) : 0);
		nulls[4] = m->n < 2;
		v[5] = Float8GetDatum(mean_adj[i]);
		v[6] = Float8GetDatum(c->lift);
		v[7] = Float8GetDatum(c->lift_lo);
		v[8] = Float8GetDatum(c->lift_hi);
		v[9] = Float8GetDatum(c->rel);
		v[10] = Float8GetDatum(c->rel_lo);
		v[11] = Float8GetDatum(c->rel_hi);
		v[12] = Float8GetDatum(c->p);
		v[13] = Float8GetDatum(c->p_adjusted);
		v[14] = Float8GetDatum(c->chance);
		v[15] = Float8GetDatum(c->loss);
		for (int k = 6; k <= 15; k++)
			nulls[k] = !c->valid;
		for (int k = 9; k <= 11; k++)
			nulls[k] = nulls[k] || !c->rel_valid;
		nulls[12] = nulls[13] = nulls[12] || isnan(c->p);
		v[16] = Float8GetDatum(srm_p);
		v[17] = BoolGetDatum(srm_p >= uba_option(&o, "srm_threshold"));
		if (desc->natts != 18)
			elog(ERROR, "uba_ab_result has %d columns, expected 18", desc->natts);
		rows[j] = HeapTupleGetDatum(heap_form_tuple(desc, v, nulls));
	}
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(rows, st->nvariants, elemtype, typlen, typbyval, typalign));
}
