/*-------------------------------------------------------------------------
 *
 * gammagamma.c
 *	  The Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee
 *	  2005, "RFM and CLV: Using iso-value curves for customer base
 *	  analysis", and Fader and Hardie's note "The Gamma-Gamma model of
 *	  monetary value", 2013), and customer lifetime value.
 *
 * A customer's transactions are worth z ~ Gamma(p, nu) each, her nu ~
 * Gamma(q, v) across customers.  With x repeat transactions of mean
 * value m_x, her log-likelihood is
 *
 *	 lgamma(p x + q) - lgamma(p x) - lgamma(q) + q ln v + (p x - 1) ln m_x
 *	 + p x ln x - (p x + q) ln(x m_x + v)
 *
 * fitted by Newton's method on the log-parameters (optim.c) over the
 * customers with a repeat purchase, equal (x, m_x) counted once with a
 * weight.  Her expected spend per transaction is p (v + x m_x) / (p x + q - 1).
 *
 * Payload: iterations (u32), flags (u32, bit 0 converged), p, q, v, log-
 * likelihood, largest gradient element (f64).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "value.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"

PG_FUNCTION_INFO_V1(uba_gammagamma_transfn);
PG_FUNCTION_INFO_V1(uba_gammagamma_final);
PG_FUNCTION_INFO_V1(uba_expected_spend);
PG_FUNCTION_INFO_V1(uba_clv);

#define GG_FLAG_CONVERGED 1
#define GG_PARAM_LIMIT 1e9
#define GG_LOG_DOMAIN 23

static const UbaOptionSpec gg_options[] = {
	{"max_iter", UBA_OPT_INT, 100, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-10, 0, 1, NULL},
	UBA_PROGRESS_OPTION,
};

/* A customer's (frequency, monetary value), checked */
static void
CheckSpend(double x, double mx)
{
	if (!isfinite(x) || !isfinite(mx))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("frequency and monetary value must be finite"),
				 errdetail("Got %g and %g.", x, mx)));
	if (x < 0 || x != floor(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must be a whole number of repeat purchases, 0 or more"),
				 errdetail("Got %g.", x),
				 errhint("Use the frequency of uba_rfm(), the periods with a purchase less one.")));
	if (x > 0 && !(mx > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("monetary value must be above 0 for a customer with repeat purchases"),
				 errdetail("Got frequency %g and monetary value %g.", x, mx),
				 errhint("The spend model needs positive spend: leave out customers whose returns outweigh their purchases (WHERE monetary_value > 0).")));
}

/* uba_gammagamma_train(frequency, monetary_value [, options]) transition */
Datum
uba_gammagamma_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	double		v[2];

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	v[0] = PG_GETARG_FLOAT8(1);
	v[1] = PG_GETARG_FLOAT8(2);
	CheckSpend(v[0], v[1]);
	if (rs == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, gg_options, lengthof(gg_options), "uba_gammagamma_train", &o);
		rs = uba_rowset_start_dim(fcinfo, 2, false, false);
		rs->options = uba_options_copy(uba_agg_context(fcinfo), opts);
	}
	else
		uba_check_same_options(rs->options, opts);
	/* a customer without a repeat purchase says nothing about spend per repeat */
	if (v[0] > 0)
		uba_rowset_add_values(rs, v, 0);
	PG_RETURN_POINTER(rs);
}

/* Distinct (x, m_x) with counts */
typedef struct Spenders
{
	int64		n;
	double	   *x;
	double	   *m;
	double	   *lnm;
	double	   *w;
	double		total;
} Spenders;

/* minus the mean log-likelihood at log-parameters th, and its gradient */
static double
GgObjective(void *arg, const double *th, double *grad)
{
	Spenders   *s = (Spenders *) arg;
	double		p,
				q,
				v;
	double		ll = 0,
				llc = 0,
				g[3] = {0, 0, 0};
	double		lq,
				dq0;

	/* the domain: beyond it the fit has run off (and ends beyond GG_PARAM_LIMIT) */
	for (int k = 0; k < 3; k++)
		if (!(fabs(th[k]) <= GG_LOG_DOMAIN))
			return get_float8_nan();
	p = exp(th[0]);
	q = exp(th[1]);
	v = exp(th[2]);
	lq = -lgamma(q) + q * log(v);
	dq0 = -uba_digamma(q) + log(v);
	for (int64 i = 0; i < s->n; i++)
	{
		double		x = s->x[i],
					w = s->w[i],
					px = p * x;
		double		lxm = log(x * s->m[i] + v);
		double		psiq = uba_digamma(px + q);

		uba_neumaier_add(&ll, &llc, w * (lgamma(px + q) - lgamma(px) + lq + (px - 1) * s->lnm[i] + px * log(x) - (px + q) * lxm));
		if (grad)
		{
			g[0] += w * x * (psiq - uba_digamma(px) + s->lnm[i] + log(x) - lxm);
			g[1] += w * (psiq + dq0 - lxm);
			g[2] += w * (q / v - (px + q) / (x * s->m[i] + v));
		}
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (grad)
	{
		grad[0] = -g[0] * p / s->total;
		grad[1] = -g[1] * q / s->total;
		grad[2] = -g[2] * v / s->total;
	}
	return -(ll + llc) / s->total;
}

/* uba_gammagamma_train final: fit p, q, v */
Datum
uba_gammagamma_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	Spenders	s;
	UbaMinimizeResult res;
	double		th[3],
				par[3],
				mean = 0;
	int64		k = 0;
	UbaWriter	pw;
	UbaModelMeta meta;
	static const char *const names[] = {"p", "q", "v"};

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(rs->options, gg_options, lengthof(gg_options), "uba_gammagamma_train", &o);
	{
		double	   *rows;

		k = uba_rowset_grouped(rs, &rows, &s.w);
		uba_check_memory(mul_size(k, 3 * sizeof(double)), "fitting the spend model");
		s.x = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(k, 1));
		s.m = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(k, 1));
		s.lnm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(k, 1));
		for (int64 i = 0; i < k; i++)
		{
			s.x[i] = rows[i * 2];
			s.m[i] = rows[i * 2 + 1];
			s.lnm[i] = log(s.m[i]);
			mean += s.w[i] * s.m[i];
		}
		pfree(rows);
	}
	s.n = k;
	s.total = (double) rs->n;
	mean /= s.total;

	/* spend per transaction ~ p v / (q - 1): start at p = 1, q = 2, v = the mean spend */
	th[0] = 0;
	th[1] = log(2.0);
	th[2] = log(mean);
	uba_minimize(3, th, GgObjective, &s, (int) uba_option(&o, "max_iter"), uba_option(&o, "tol"), &res);
	uba_progress(&o, "uba_gammagamma_train: %d Newton iterations, %d evaluations over %lld distinct customers: log-likelihood %.10g, gradient %.3g",
				 res.iterations, res.evaluations, (long long) s.n, -res.f * s.total, res.gnorm);
	uba_value_fit_result("spend model", names, th, 3, GG_PARAM_LIMIT, &res, uba_option(&o, "tol"),
						 psprintf("Fitted on " INT64_FORMAT " customers with repeat purchases.", rs->n),
						 "Spend per transaction may vary too little between customers, or too few customers have repeat purchases.",
						 par);
	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) res.iterations);
	uba_put_u32(&pw, res.converged ? GG_FLAG_CONVERGED : 0);
	uba_put_f64_array(&pw, par, 3);
	uba_put_f64(&pw, -res.f * s.total);
	uba_put_f64(&pw, res.gnorm);
	uba_model_meta_init(&meta, 2, rs->n, rs->started, &o);
	PG_RETURN_BYTEA_P(uba_model_build(UBA_KIND_GAMMAGAMMA, &meta, &pw));
}

/* ---------- reading and scoring ---------- */

void *
uba_gammagamma_parse(const UbaModelMeta *meta, UbaReader *r)
{
	GammaGammaModel *m = palloc0(sizeof(GammaGammaModel));
	uint32		flags;
	double		par[3];

	m->iterations = (int) uba_get_u32(r);
	flags = uba_get_u32(r);
	if ((flags & ~GG_FLAG_CONVERGED) != 0 || m->iterations < 0)
		uba_model_corrupted("Spend model settings out of range.");
	m->converged = (flags & GG_FLAG_CONVERGED) != 0;
	uba_get_f64_array(r, par, 3, true);
	if (!(par[0] > 0 && par[1] > 0 && par[2] > 0))
		uba_model_corrupted("Non-positive model parameter.");
	m->p = par[0];
	m->q = par[1];
	m->v = par[2];
	m->loglik = uba_get_finite_f64(r);
	m->gnorm = uba_get_finite_f64(r);
	if (m->gnorm < 0)
		uba_model_corrupted("Gradient out of range.");
	if (meta->n_features != 2)
		uba_model_corrupted("Spend model has %d inputs, not 2.", meta->n_features);
	uba_reader_finish(r);
	return m;
}

void
uba_gammagamma_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	GammaGammaModel *m = uba_gammagamma_parse(meta, payload);

	appendStringInfo(json, ", \"parameters\": {\"p\": %.17g, \"q\": %.17g, \"v\": %.17g}, "
					 "\"log_likelihood\": %.17g, \"iterations\": %d, \"converged\": %s, \"gradient\": %.3g",
					 m->p, m->q, m->v, m->loglik, m->iterations, m->converged ? "true" : "false", m->gnorm);
	if (m->q > 1)
		appendStringInfo(json, ", \"mean_spend\": %.17g", m->p * m->v / (m->q - 1));
}

/*
 * E[spend per transaction | x, m_x]; a customer without repeat purchases
 * (x = 0) gets the population mean p v / (q - 1).  Infinite when q <= 1.
 */
double
uba_gammagamma_spend(const GammaGammaModel *m, double x, double mx)
{
	if (!(m->p * x + m->q > 1))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the expected spend is infinite under this spend model"),
				 errdetail("Its q is %g: spend per transaction has no finite mean for customers with few purchases.", m->q)));
	return m->p * (m->v + x * mx) / (m->p * x + m->q - 1);
}

/* uba_expected_spend(model, frequency, monetary_value) */
Datum
uba_expected_spend(PG_FUNCTION_ARGS)
{
	GammaGammaModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_GAMMAGAMMA, uba_gammagamma_parse);
	double		x = PG_GETARG_FLOAT8(1),
				mx = PG_GETARG_FLOAT8(2);

	CheckSpend(x, mx);
	PG_RETURN_FLOAT8(uba_gammagamma_spend(m, x, mx));
}

/*
 * uba_clv(purchases_model, spend_model, frequency, recency, T,
 * monetary_value [, months, discount_rate, period]): lifetimes'
 * customer_lifetime_value: for each month i of the horizon, the purchases
 * expected in it times the expected spend, discounted by
 * (1 + discount_rate)^i.  A month is 30 periods of days, 4.345 of weeks,
 * 1 of months: the unit the models were trained in.
 */
Datum
uba_clv(PG_FUNCTION_ARGS)
{
	BtydModel  *bm;
	GammaGammaModel *gm;
	double		x,
				tx,
				T,
				mx,
				spend,
				clv = 0,
				prev = 0,
				rate,
				factor;
	int32		months;
	const char *period;

	for (int i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	bm = uba_model_cached_datum(fcinfo, PG_GETARG_DATUM(0), UBA_KIND_BTYD, uba_btyd_parse);
	gm = uba_model_cached_datum(fcinfo, PG_GETARG_DATUM(1), UBA_KIND_GAMMAGAMMA, uba_gammagamma_parse);
	x = PG_GETARG_FLOAT8(2);
	tx = PG_GETARG_FLOAT8(3);
	T = PG_GETARG_FLOAT8(4);
	mx = PG_GETARG_FLOAT8(5);
	months = PG_NARGS() > 6 ? PG_GETARG_INT32(6) : 12;
	rate = PG_NARGS() > 7 ? PG_GETARG_FLOAT8(7) : 0.01;
	period = PG_NARGS() > 8 ? text_to_cstring(PG_GETARG_TEXT_PP(8)) : "day";
	uba_btyd_check_summary(x, tx, T);
	if (x > 0)
		CheckSpend(x, mx);
	else
		mx = 0;
	if (months < 1 || months > 1200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("months must be between 1 and 1200"),
				 errdetail("Got %d.", months)));
	if (!(rate > -1) || isinf(rate))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the discount rate must be above -1"),
				 errdetail("Got %g.", rate)));
	if (strcmp(period, "day") == 0)
		factor = 30;
	else if (strcmp(period, "week") == 0)
		factor = 4.345;
	else if (strcmp(period, "month") == 0)
		factor = 1;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period must be \"day\", \"week\" or \"month\""),
				 errdetail("Got \"%s\".", period),
				 errhint("The unit of the times the models were trained on, as uba_rfm's option period.")));
	spend = uba_gammagamma_spend(gm, x, mx);
	for (int i = 1; i <= months; i++)
	{
		double		e = uba_btyd_expected(bm, i * factor, x, tx, T);

		clv += spend * (e - prev) / pow(1 + rate, i);
		prev = e;
	}
	PG_RETURN_FLOAT8(clv);
}
