/*-------------------------------------------------------------------------
 *
 * btyd.c
 *	  "Buy till you die" repeat-purchase models: who will buy again, how
 *	  often, and whether a customer is still alive.
 *
 * BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy
 * way"): while alive a customer buys at a Poisson rate lambda ~
 * Gamma(r, alpha); after each purchase she drops out with probability
 * p ~ Beta(a, b).  The data of a customer are lifetimes' summary:
 * x = frequency (repeat purchases), t_x = recency (first to last
 * purchase), T (first purchase to the end of observation).  Her
 * likelihood (the paper's equation 6):
 *
 *	 L = B(a, b+x)/B(a, b) G(r+x) a^r / (G(r) (alpha+T)^(r+x))
 *	   + [x > 0] B(a+1, b+x-1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
 *
 * summed in logs (log-sum-exp) over customers.  The fit maximizes it by
 * Newton's method on the log-parameters (optim.c) with the analytic
 * gradient (digamma).  Customers with the same (x, t_x, T) are counted
 * once with a weight, and the terms that depend on x alone are computed
 * once per distinct x: an evaluation costs a few logarithms per distinct
 * customer.
 *
 * Payload: family (u32: 1 BG/NBD), parameter count (u32), iterations
 * (u32), flags (u32, bit 0 converged), parameters (f64 each), log-
 * likelihood, largest gradient element at the optimum (f64).
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

PG_FUNCTION_INFO_V1(uba_btyd_transfn);
PG_FUNCTION_INFO_V1(uba_bgnbd_final);
PG_FUNCTION_INFO_V1(uba_paretonbd_final);
PG_FUNCTION_INFO_V1(uba_expected_purchases);
PG_FUNCTION_INFO_V1(uba_expected_purchases_population);
PG_FUNCTION_INFO_V1(uba_p_alive);

#define BTYD_FLAG_CONVERGED 1
/* parameters beyond this (or below its inverse) mean the likelihood has no finite optimum */
#define BTYD_PARAM_LIMIT 1e7
/* terms of the hypergeometric series before giving up: when scoring, and while fitting */
#define HYP2F1_TERMS 1000000
#define HYP2F1_FIT_TERMS 20000
/* the fits' domain: log-parameters beyond this are outside (the fit then ends beyond BTYD_PARAM_LIMIT) */
#define BTYD_LOG_DOMAIN 18.5

static const UbaOptionSpec btyd_options[] = {
	{"max_iter", UBA_OPT_INT, 100, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-10, 0, 1, NULL},
	UBA_PROGRESS_OPTION,
};

static const char *const param_names[][4] = {
	{NULL},
	{"r", "alpha", "a", "b"},
	{"r", "alpha", "s", "beta"},
};

static const char *const family_names[] = {"", "bgnbd", "paretonbd"};
static const char *const train_names[] = {"", "uba_bgnbd_train", "uba_paretonbd_train"};

/* ---------- training ---------- */

/*
 * uba_bgnbd_train(frequency, recency, t [, options]) transition: check the
 * customer's summary as lifetimes does and collect it.
 */
Datum
uba_btyd_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;
	double		v[3];

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	v[0] = PG_GETARG_FLOAT8(1);
	v[1] = PG_GETARG_FLOAT8(2);
	v[2] = PG_GETARG_FLOAT8(3);
	uba_btyd_check_summary(v[0], v[1], v[2]);
	if (rs == NULL)
	{
		UbaOptions	o;
		MemoryContext cxt = uba_agg_context(fcinfo);

		uba_parse_options(opts, btyd_options, lengthof(btyd_options), "the repeat-purchase model", &o);
		rs = uba_rowset_start_dim(fcinfo, 3, false, false);
		rs->options = uba_options_copy(cxt, opts);
	}
	else
		uba_check_same_options(rs->options, opts);
	uba_rowset_add_values(rs, v, 0);
	PG_RETURN_POINTER(rs);
}

/* lifetimes' checks of a summary: an integer frequency, 0 <= recency <= T, no recency without a repeat */
void
uba_btyd_check_summary(double x, double tx, double T)
{
	if (!isfinite(x) || !isfinite(tx) || !isfinite(T))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("frequency, recency and T must be finite"),
				 errdetail("Got %g, %g and %g.", x, tx, T)));
	if (x < 0 || x != floor(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must be a whole number of repeat purchases, 0 or more"),
				 errdetail("Got %g.", x),
				 errhint("Use the frequency of uba_rfm(), the periods with a purchase less one.")));
	if (tx < 0 || tx > T)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency must be between 0 and T"),
				 errdetail("Got recency %g and T %g.", tx, T),
				 errhint("Recency is the time from the first to the last purchase, T from the first purchase to the end of observation.")));
	if (x == 0 && tx != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency must be 0 when frequency is 0"),
				 errdetail("Got recency %g.", tx)));
}

/* The distinct values of a column, each row's index among them, and per evaluation ln(alpha + value), 1 / (alpha + value) */
typedef struct Values
{
	int64		n;
	double	   *v;
	int		   *of;				/* per customer */
	double	   *ln;
	double	   *inv;
} Values;

static void
DistinctValues(const double *col, int64 n, Values *vals)
{
	double	   *sorted = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(n, 1));
	int64		m = 0;

	memcpy(sorted, col, sizeof(double) * n);
	qsort(sorted, n, sizeof(double), uba_cmp_double);
	for (int64 i = 0; i < n; i++)
		if (m == 0 || sorted[m - 1] != sorted[i])
			sorted[m++] = sorted[i];
	vals->n = m;
	vals->v = sorted;
	vals->of = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * Max(n, 1));
	for (int64 i = 0; i < n; i++)
	{
		int64		lo = 0,
					hi = m - 1;

		while (lo < hi)
		{
			int64		mid = (lo + hi) / 2;

			if (sorted[mid] < col[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		vals->of[i] = (int) lo;
	}
	vals->ln = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
	vals->inv = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
}

static void
RefreshValues(Values *vals, double alpha)
{
	for (int64 k = 0; k < vals->n; k++)
	{
		vals->ln[k] = log(alpha + vals->v[k]);
		vals->inv[k] = 1 / (alpha + vals->v[k]);
	}
}

/* Distinct customers (x, t_x, T) with their counts, and the distinct x values */
typedef struct Customers
{
	int64		n;				/* distinct (x, t_x, T) */
	double	   *x;
	double	   *tx;
	double	   *T;
	double	   *w;				/* how many customers */
	int		   *xi;				/* index of x among the distinct x values */
	int			nx;
	double	   *xs;				/* the distinct x values, ascending */
	double		total;			/* customers */
	/* per distinct x, refreshed each evaluation */
	double	   *lg;				/* the x-only part of the log-likelihood */
	double	   *dg[4];			/* its derivatives by each parameter */
	double	   *lbx;			/* ln(a) - ln(b + x - 1) */
	/* distinct T and t_x values, each customer's index in them, and their logarithms */
	Values		Tv;
	Values		txv;
} Customers;

/* Group the collected summaries: in sorted order, so the sums never depend on row order */
static void
GroupCustomers(UbaRowSet *rs, Customers *c)
{
	double	   *rows;
	int64		m = uba_rowset_grouped(rs, &rows, &c->w);

	uba_check_memory(mul_size(m, 4 * sizeof(double) + 3 * sizeof(int)), "fitting a repeat-purchase model");
	c->n = m;
	c->x = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
	c->tx = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
	c->T = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
	c->xi = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * Max(m, 1));
	c->xs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
	c->nx = 0;
	for (int64 i = 0; i < m; i++)
	{
		c->x[i] = rows[i * 3];
		c->tx[i] = rows[i * 3 + 1];
		c->T[i] = rows[i * 3 + 2];
		/* sorted by x first: a new x starts a new group */
		if (c->nx == 0 || c->xs[c->nx - 1] != c->x[i])
			c->xs[c->nx++] = c->x[i];
		c->xi[i] = c->nx - 1;
	}
	c->total = (double) rs->n;
	c->lg = palloc(sizeof(double) * c->nx);
	c->lbx = palloc(sizeof(double) * c->nx);
	for (int k = 0; k < 4; k++)
		c->dg[k] = palloc(sizeof(double) * c->nx);
	pfree(rows);
	DistinctValues(c->T, c->n, &c->Tv);
	DistinctValues(c->tx, c->n, &c->txv);
}

/*
 * BG/NBD: minus the mean log-likelihood at log-parameters th, and its
 * gradient by th.
 */
static double
BgNbdObjective(void *arg, const double *th, double *grad)
{
	Customers  *c = (Customers *) arg;
	double		r,
				alpha,
				a,
				b;
	double		ll = 0,
				llc = 0,
				g[4] = {0, 0, 0, 0};
	double		lga,
				dr0,
				dab,
				db0;

	for (int k = 0; k < 4; k++)
		if (!(fabs(th[k]) <= BTYD_LOG_DOMAIN))
			return get_float8_nan();
	r = exp(th[0]);
	alpha = exp(th[1]);
	a = exp(th[2]);
	b = exp(th[3]);
	lga = lgamma(a + b) - lgamma(b) - lgamma(r) + r * log(alpha);
	dr0 = -uba_digamma(r) + log(alpha);
	dab = uba_digamma(a + b);
	db0 = -uba_digamma(b);
	/* the parts that depend on x alone, or on T or t_x alone */
	for (int k = 0; k < c->nx; k++)
	{
		double		x = c->xs[k];

		c->lg[k] = lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x) + lga;
		c->dg[0][k] = uba_digamma(r + x) + dr0;
		c->dg[1][k] = r / alpha;
		c->dg[2][k] = dab - uba_digamma(a + b + x);
		c->dg[3][k] = dab + uba_digamma(b + x) + db0 - uba_digamma(a + b + x);
		c->lbx[k] = x > 0 ? log(a) - log(b + x - 1) : 0;
	}
	RefreshValues(&c->Tv, alpha);
	RefreshValues(&c->txv, alpha);
	for (int64 i = 0; i < c->n; i++)
	{
		double		x = c->x[i],
					w = c->w[i];
		int			k = c->xi[i];
		int			iT = c->Tv.of[i];
		double		laT = c->Tv.ln[iT];
		double		u = -(r + x) * laT;
		double		l2,
					pu = 1,
					pv = 0;

		if (x > 0)
		{
			int			it = c->txv.of[i];
			double		lat = c->txv.ln[it];
			double		v = c->lbx[k] - (r + x) * lat;
			double		e;

			/* log(e^u + e^v) and the two shares, with one exp and one log */
			if (v <= u)
			{
				e = exp(v - u);
				l2 = u + log1p(e);
				pu = 1 / (1 + e);
				pv = e * pu;
			}
			else
			{
				e = exp(u - v);
				l2 = v + log1p(e);
				pv = 1 / (1 + e);
				pu = e * pv;
			}
			if (grad)
			{
				g[0] += w * pv * -lat;
				g[1] += w * pv * -(r + x) * c->txv.inv[it];
				g[2] += w * pv / a;
				g[3] += w * pv * -1 / (b + x - 1);
			}
		}
		else
			l2 = u;
		uba_neumaier_add(&ll, &llc, w * (c->lg[k] + l2));
		if (grad)
		{
			g[0] += w * (c->dg[0][k] - pu * laT);
			g[1] += w * (c->dg[1][k] - pu * (r + x) * c->Tv.inv[iT]);
			g[2] += w * c->dg[2][k];
			g[3] += w * c->dg[3][k];
		}
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (grad)
	{
		/* by the log-parameters: d/dth = p d/dp; minus the mean */
		grad[0] = -g[0] * r / c->total;
		grad[1] = -g[1] * alpha / c->total;
		grad[2] = -g[2] * a / c->total;
		grad[3] = -g[3] * b / c->total;
	}
	return -(ll + llc) / c->total;
}

/* Fit, check the optimum is finite, and write the model */
static bytea *
FitAndWrite(UbaRowSet *rs, int family, UbaObjective fn, int nparams, double *start)
{
	UbaOptions	o;
	Customers	c;
	UbaMinimizeResult res;
	double		th[4],
				p[4];
	UbaWriter	pw;
	UbaModelMeta meta;

	uba_parse_options(rs->options, btyd_options, lengthof(btyd_options), train_names[family], &o);
	GroupCustomers(rs, &c);
	/* sorted by frequency: the last customer has the most repeat purchases */
	if (c.x[c.n - 1] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs customers with repeat purchases", train_names[family]),
				 errdetail("All " INT64_FORMAT " customers have frequency 0: the rate of buying again cannot be told from the rate of dropping out.",
						   (int64) c.total),
				 errhint("Use a longer observation period, or check that frequency counts repeat purchases.")));
	/* the rate parameter (alpha, and beta) is on the scale of time: start it at the mean T */
	{
		double		meanT = 0;

		for (int64 i = 0; i < c.n; i++)
			meanT += c.w[i] * c.T[i];
		meanT /= c.total;
		if (meanT > 0)
		{
			start[1] = meanT;
			if (family == BTYD_PARETONBD)
				start[3] = meanT;
		}
	}
	for (int k = 0; k < nparams; k++)
		th[k] = log(start[k]);
	uba_minimize(nparams, th, fn, &c, (int) uba_option(&o, "max_iter"), uba_option(&o, "tol"), &res);
	uba_progress(&o, "%s: %d Newton iterations, %d evaluations over %lld distinct customers: log-likelihood %.10g, gradient %.3g",
				 train_names[family], res.iterations, res.evaluations, (long long) c.n, -res.f * c.total, res.gnorm);
	uba_value_fit_result("repeat-purchase model", param_names[family], th, nparams, BTYD_PARAM_LIMIT, &res,
						 uba_option(&o, "tol"), psprintf("Fitted on " INT64_FORMAT " customers.", (int64) c.total),
						 "The data may show too little repetition or dropping out (few customers with repeat purchases, or a short observation); use more customers or a longer period.",
						 p);

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) family);
	uba_put_u32(&pw, (uint32) nparams);
	uba_put_u32(&pw, (uint32) res.iterations);
	uba_put_u32(&pw, res.converged ? BTYD_FLAG_CONVERGED : 0);
	uba_put_f64_array(&pw, p, nparams);
	uba_put_f64(&pw, -res.f * c.total);
	uba_put_f64(&pw, res.gnorm);
	uba_model_meta_init(&meta, 3, (int64) c.total, rs->started, &o);
	return uba_model_build(UBA_KIND_BTYD, &meta, &pw);
}

/* uba_bgnbd_train final: fit BG/NBD */
Datum
uba_bgnbd_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	double		start[4] = {1, 1, 1, 1};

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(FitAndWrite(rs, BTYD_BGNBD, BgNbdObjective, 4, start));
}


/*
 * Pareto/NBD (Schmittlein, Morrison and Colombo 1987): while alive a
 * customer buys at rate lambda ~ Gamma(r, alpha) and dies at an
 * exponential time of rate mu ~ Gamma(s, beta).  Her likelihood, from
 * Fader and Hardie's note "A note on deriving the Pareto/NBD model and
 * related expressions" (2005):
 *
 *	 L = G(r+x) alpha^r beta^s / G(r) [ 1 / ((alpha+T)^(r+x) (beta+T)^s) + s / (r+s+x) A0 ]
 *
 * with A0 a difference of two terms in 2F1(r+s+x, b; r+s+x+1; z), b and z
 * depending on whether alpha >= beta.  Computed in logs, with the
 * analytic gradient: 2F1's derivatives by its parameters and argument
 * come from its series differentiated term by term.
 */
/*
 * One term of A0 and its gradient: l = ln 2F1(a, b; a+1; z) - a ln(big + t)
 * and dl by (r, alpha, s, beta).  With alpha >= beta: big = alpha,
 * b = s + 1, z = (alpha - beta)/(alpha + t); else big = beta, b = r + x,
 * z = (beta - alpha)/(beta + t).  a = r + s + x, and c = a + 1 moves with a.
 *
 * With b > 1 the series is summed after Euler's transformation,
 * 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z), whose terms fall
 * at once instead of first rising like n^(b-1) z^n: near the ridges the
 * fit explores (large s and beta together), z is close to 1 and b large.
 * 1 - z is computed as (small + t)/(big + t), without cancellation.
 * NaN when a series does not converge in max_terms terms.
 */
static double
ParetoTerm(const double *p, double x, double t, int max_terms, double *dl)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		a = r + s + x,
				d[4],
				lnF,
				dlnF_da,
				dlnF_db,
				dlnF_dz;
	bool		alpha_big = alpha >= beta;
	double		big = alpha_big ? alpha : beta,
				small = alpha_big ? beta : alpha,
				b = alpha_big ? s + 1 : r + x,
				z = (big - small) / (big + t),
				lbig = log(big + t),
				log1mz = log(small + t) - lbig;

	if (b > 1)
	{
		double		G = uba_hyp2f1_grad(1, a + 1 - b, a + 1, z, max_terms, d);

		if (!(G > 0))
			return get_float8_nan();
		/* G's parameters: a + 1 - b (d[1]) and a + 1 (d[2]) */
		lnF = (1 - b) * log1mz + log(G);
		dlnF_da = (d[1] + d[2]) / G;
		dlnF_db = -log1mz - d[1] / G;
		dlnF_dz = (b - 1) / exp(log1mz) + d[3] / G;
	}
	else
	{
		double		F = uba_hyp2f1_grad(a, b, a + 1, z, max_terms, d);

		if (!(F > 0))
			return get_float8_nan();
		lnF = log(F);
		dlnF_da = (d[0] + d[2]) / F;	/* c = a + 1 */
		dlnF_db = d[1] / F;
		dlnF_dz = d[3] / F;
	}
	if (dl)
	{
		double		dz_dbig = (t + small) / ((big + t) * (big + t));
		double		dz_dsmall = -1 / (big + t);
		double		dbig = dlnF_dz * dz_dbig - a / (big + t);
		double		dsmall = dlnF_dz * dz_dsmall;

		/* by r and s: through a (and b); then by big and small: through z and ln(big + t) */
		dl[0] = dlnF_da - lbig + (alpha_big ? 0 : dlnF_db);
		dl[2] = dlnF_da - lbig + (alpha_big ? dlnF_db : 0);
		dl[1] = alpha_big ? dbig : dsmall;
		dl[3] = alpha_big ? dsmall : dbig;
	}
	return lnF - a * lbig;
}

/* ln A0 (-infinity when A0 = 0, at t_x = T), NaN when a series does not converge */
static double
ParetoA0Log(const double *p, double x, double tx, double T)
{
	double		l1 = ParetoTerm(p, x, tx, HYP2F1_TERMS, NULL),
				l2 = ParetoTerm(p, x, T, HYP2F1_TERMS, NULL);

	if (isnan(l1) || isnan(l2))
		return get_float8_nan();
	if (!(l2 < l1))
		return -get_float8_infinity();
	return l1 + log1p(-exp(l2 - l1));
}

/*
 * One customer's log-likelihood without the head (the terms without x),
 * and when grad is given its gradient by (r, alpha, s, beta) added there
 * (times w).  ln(e^A + K (e^l1 - e^l2)), K = s/(r+s+x), computed as
 * M + ln S with every part scaled by e^-M, so no difference of nearly
 * equal terms is divided by.
 */
static double
ParetoCustomer(const double *p, double x, double tx, double T, double w, double *grad)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		A = -(r + x) * log(alpha + T) - s * log(beta + T);
	double		lnK = log(s) - log(r + s + x);
	double		d1[4],
				d2[4],
				l1,
				l2,
				M,
				wA,
				w1,
				w2,
				S;

	l1 = ParetoTerm(p, x, tx, HYP2F1_FIT_TERMS, d1);
	l2 = ParetoTerm(p, x, T, HYP2F1_FIT_TERMS, d2);
	if (isnan(l1) || isnan(l2))
		return get_float8_nan();
	if (!(l2 < l1))
		l2 = l1;				/* t_x = T: no dying between them */
	M = Max(A, lnK + l1);
	wA = exp(A - M);
	w1 = exp(lnK + l1 - M);
	w2 = w1 * exp(l2 - l1);
	S = wA + w1 * -expm1(l2 - l1);
	if (grad)
	{
		double		dA[4] = {-log(alpha + T), -(r + x) / (alpha + T), -log(beta + T), -s / (beta + T)};
		double		dK[4] = {-1 / (r + s + x), 0, 1 / s - 1 / (r + s + x), 0};

		for (int k = 0; k < 4; k++)
			grad[k] += w * (wA * dA[k] + w1 * (dK[k] + d1[k]) - w2 * (dK[k] + d2[k])) / S;
		grad[0] += w * uba_digamma(r + x);
	}
	return lgamma(r + x) + M + log(S);
}

/* Pareto/NBD: minus the mean log-likelihood at log-parameters th, and its gradient by th */
static double
ParetoObjective(void *arg, const double *th, double *grad)
{
	Customers  *c = (Customers *) arg;
	double		p[4],
				g[4] = {0, 0, 0, 0},
				ll = 0,
				llc = 0,
				head;

	for (int k = 0; k < 4; k++)
	{
		if (!(fabs(th[k]) <= BTYD_LOG_DOMAIN))
			return get_float8_nan();
		p[k] = exp(th[k]);
	}
	/* the head: -lgamma(r) + r ln alpha + s ln beta per customer */
	head = -lgamma(p[0]) + p[0] * log(p[1]) + p[2] * log(p[3]);
	for (int64 i = 0; i < c->n; i++)
	{
		double		l = ParetoCustomer(p, c->x[i], c->tx[i], c->T[i], c->w[i], grad ? g : NULL);

		if (!isfinite(l))
			return get_float8_nan();
		uba_neumaier_add(&ll, &llc, c->w[i] * (l + head));
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (grad)
	{
		g[0] += c->total * (-uba_digamma(p[0]) + log(p[1]));
		g[1] += c->total * p[0] / p[1];
		g[2] += c->total * log(p[3]);
		g[3] += c->total * p[2] / p[3];
		for (int k = 0; k < 4; k++)
			grad[k] = -g[k] * p[k] / c->total;
	}
	return -(ll + llc) / c->total;
}

/* uba_paretonbd_train final: fit Pareto/NBD */
Datum
uba_paretonbd_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	double		start[4] = {1, 1, 1, 1};

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	/* beta is on the scale of time too */
	PG_RETURN_BYTEA_P(FitAndWrite(rs, BTYD_PARETONBD, ParetoObjective, 4, start));
}

/* ---------- reading and scoring ---------- */

void *
uba_btyd_parse(const UbaModelMeta *meta, UbaReader *r)
{
	BtydModel  *m = palloc0(sizeof(BtydModel));
	uint32		flags;

	m->family = (int) uba_get_u32(r);
	m->nparams = (int) uba_get_u32(r);
	m->iterations = (int) uba_get_u32(r);
	flags = uba_get_u32(r);
	if ((m->family != BTYD_BGNBD && m->family != BTYD_PARETONBD) || m->nparams != 4)
		uba_model_corrupted("Unknown repeat-purchase model family %d with %d parameters.", m->family, m->nparams);
	if ((flags & ~BTYD_FLAG_CONVERGED) != 0 || m->iterations < 0)
		uba_model_corrupted("Repeat-purchase model settings out of range.");
	m->converged = (flags & BTYD_FLAG_CONVERGED) != 0;
	uba_get_f64_array(r, m->p, m->nparams, true);
	for (int k = 0; k < m->nparams; k++)
		if (!(m->p[k] > 0))
			uba_model_corrupted("Non-positive model parameter.");
	m->loglik = uba_get_finite_f64(r);
	m->gnorm = uba_get_finite_f64(r);
	if (m->loglik > 0 || m->gnorm < 0)
		uba_model_corrupted("Log-likelihood or gradient out of range.");
	if (meta->n_features != 3)
		uba_model_corrupted("Repeat-purchase model has %d inputs, not 3.", meta->n_features);
	uba_reader_finish(r);
	return m;
}

void
uba_btyd_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	BtydModel  *m = uba_btyd_parse(meta, payload);

	appendStringInfo(json, ", \"family\": \"%s\", \"parameters\": {", family_names[m->family]);
	for (int k = 0; k < m->nparams; k++)
		appendStringInfo(json, "%s\"%s\": %.17g", k > 0 ? ", " : "", param_names[m->family][k], m->p[k]);
	appendStringInfo(json, "}, \"log_likelihood\": %.17g, \"iterations\": %d, \"converged\": %s, \"gradient\": %.3g",
					 m->loglik, m->iterations, m->converged ? "true" : "false", m->gnorm);
}

/* A customer's summary from arguments first .. first + 2, checked */
static void
SummaryArgs(FunctionCallInfo fcinfo, int first, double *x, double *tx, double *T)
{
	*x = PG_GETARG_FLOAT8(first);
	*tx = PG_GETARG_FLOAT8(first + 1);
	*T = PG_GETARG_FLOAT8(first + 2);
	uba_btyd_check_summary(*x, *tx, *T);
}

static double
HorizonArg(FunctionCallInfo fcinfo, int argno)
{
	double		t = PG_GETARG_FLOAT8(argno);

	if (!(t >= 0) || isinf(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon t must be a finite time, 0 or more"),
				 errdetail("Got %g.", t)));
	return t;
}

/* 2F1 of a scoring formula, or an error naming what could not be computed */
static double
Hyp2f1(double a, double b, double c, double z)
{
	double		v = uba_hyp2f1(a, b, c, z, HYP2F1_TERMS);

	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the expected purchases cannot be computed this far ahead"),
				 errdetail("The hypergeometric series 2F1(%g, %g; %g; %g) does not converge in %d terms.",
						   a, b, c, z, HYP2F1_TERMS),
				 errhint("Use a shorter horizon t.")));
	return v;
}

/*
 * Pareto/NBD's expected purchases in (T, T + t] of a customer alive with
 * probability p_alive, (r + x)(beta + T) / ((alpha + T)(s - 1))
 * [1 - ((beta + T)/(beta + T + t))^(s - 1)]; the limit ln(1 + t/(beta+T))
 * stands in for the bracket over (s - 1) at s = 1.  T = 0, x = 0 is a new
 * customer.
 */
static double
ParetoExpected(const BtydModel *m, double t, double x, double T, double p_alive)
{
	double		r = m->p[0],
				alpha = m->p[1],
				s = m->p[2],
				beta = m->p[3];
	double		ratio = log(beta + T) - log(beta + T + t);
	double		part;

	if (fabs(s - 1) < 1e-9)
		part = -ratio;
	else
		part = -expm1((s - 1) * ratio) / (s - 1);
	return (r + x) * (beta + T) / (alpha + T) * part * p_alive;
}

/* Pareto/NBD's P(alive): 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0) */
static double
ParetoPAlive(const BtydModel *m, double x, double tx, double T)
{
	double		r = m->p[0],
				alpha = m->p[1],
				s = m->p[2],
				beta = m->p[3];
	double		la0 = ParetoA0Log(m->p, x, tx, T);

	if (isnan(la0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("P(alive) cannot be computed for this customer"),
				 errdetail("A hypergeometric series does not converge in %d terms.", HYP2F1_TERMS)));
	return 1 / (1 + exp(log(s / (r + s + x)) + (r + x) * log(alpha + T) + s * log(beta + T) + la0));
}

/* BG/NBD's P(alive): 1 without a repeat purchase (customers drop out only after one) */
static double
BgNbdPAlive(const BtydModel *m, double x, double tx, double T)
{
	double		r = m->p[0],
				alpha = m->p[1],
				a = m->p[2],
				b = m->p[3];

	if (x == 0)
		return 1;
	return 1 / (1 + a / (b + x - 1) * exp((r + x) * (log(alpha + T) - log(alpha + tx))));
}

/*
 * BG/NBD's E[X(t) | x, t_x, T], the paper's equation 10.  As a -> 1 the
 * formula is 0/0: a is nudged off 1, which changes the result by far less
 * than its precision.
 */
static double
BgNbdExpected(const BtydModel *m, double t, double x, double tx, double T)
{
	double		r = m->p[0],
				alpha = m->p[1],
				a = m->p[2],
				b = m->p[3];
	double		num,
				den = 1;

	if (t == 0)
		return 0;
	if (fabs(a - 1) < 1e-9)
		a = 1 + 1e-9;
	num = (a + b + x - 1) / (a - 1) *
		(1 - exp((r + x) * (log(alpha + T) - log(alpha + T + t))) *
		 Hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)));
	if (x > 0)
		den += a / (b + x - 1) * exp((r + x) * (log(alpha + T) - log(alpha + tx)));
	return num / den;
}

/* BG/NBD's E[X(t)] of a new customer, the paper's equation 9 */
static double
BgNbdPopulation(const BtydModel *m, double t)
{
	double		r = m->p[0],
				alpha = m->p[1],
				a = m->p[2],
				b = m->p[3];

	if (t == 0)
		return 0;
	if (fabs(a - 1) < 1e-9)
		a = 1 + 1e-9;
	return (a + b - 1) / (a - 1) *
		(1 - exp(r * (log(alpha) - log(alpha + t))) * Hyp2f1(r, b, a + b - 1, t / (alpha + t)));
}

/* P(alive | x, t_x, T) */
double
uba_btyd_p_alive(const BtydModel *m, double x, double tx, double T)
{
	return m->family == BTYD_PARETONBD ? ParetoPAlive(m, x, tx, T) : BgNbdPAlive(m, x, tx, T);
}

/* E[X(t) | x, t_x, T] */
double
uba_btyd_expected(const BtydModel *m, double t, double x, double tx, double T)
{
	if (m->family == BTYD_PARETONBD)
		return ParetoExpected(m, t, x, T, ParetoPAlive(m, x, tx, T));
	return BgNbdExpected(m, t, x, tx, T);
}

/* E[X(t)] of a customer who has just made her first purchase */
static double
PopulationExpected(const BtydModel *m, double t)
{
	if (m->family == BTYD_PARETONBD)
		return ParetoExpected(m, t, 0, 0, 1);
	return BgNbdPopulation(m, t);
}

/* uba_expected_purchases(model, t, frequency, recency, T) */
Datum
uba_expected_purchases(PG_FUNCTION_ARGS)
{
	BtydModel  *m = uba_model_cached(fcinfo, 0, UBA_KIND_BTYD, uba_btyd_parse);
	double		t = HorizonArg(fcinfo, 1),
				x,
				tx,
				T;

	SummaryArgs(fcinfo, 2, &x, &tx, &T);
	PG_RETURN_FLOAT8(uba_btyd_expected(m, t, x, tx, T));
}

/* uba_expected_purchases(model, t): a new customer's */
Datum
uba_expected_purchases_population(PG_FUNCTION_ARGS)
{
	BtydModel  *m = uba_model_cached(fcinfo, 0, UBA_KIND_BTYD, uba_btyd_parse);

	PG_RETURN_FLOAT8(PopulationExpected(m, HorizonArg(fcinfo, 1)));
}

/* uba_p_alive(model, frequency, recency, T) */
Datum
uba_p_alive(PG_FUNCTION_ARGS)
{
	BtydModel  *m = uba_model_cached(fcinfo, 0, UBA_KIND_BTYD, uba_btyd_parse);
	double		x,
				tx,
				T;

	SummaryArgs(fcinfo, 1, &x, &tx, &T);
	PG_RETURN_FLOAT8(uba_btyd_p_alive(m, x, tx, T));
}
