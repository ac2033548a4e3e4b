/*-------------------------------------------------------------------------
 *
 * ets.c
 *	  Exponential smoothing state-space models (Hyndman, Koehler, Snyder
 *	  and Grose 2002; Hyndman, Koehler, Ord and Snyder 2008): fitting by
 *	  maximum likelihood, the choice among them by AICc, forecasts and
 *	  their prediction intervals.
 *
 * A model ETS(error, trend, season) has a level l, a trend b (none,
 * additive, additive damped by phi) and m seasonal indices s (none,
 * additive, multiplicative).  With q = l + phi b the level forecast and
 * mu the one-step forecast (q + s, q s or q), a period's value y updates
 *
 *	 l' = q + alpha d,  b' = phi b + beta d,
 *	 s' = s + gamma (y - mu)  (additive)  or  s + gamma (y / q - s)  (multiplicative)
 *
 * with d = y / s - q for a multiplicative season and y - mu otherwise.
 * Written this way in y the updates are the same for additive and
 * multiplicative errors; the error type changes the likelihood (the
 * error is y - mu or (y - mu) / mu) and the spread of forecasts.  Minus
 * twice the log-likelihood, up to a constant, is
 *
 *	 n log(sum e^2) + 2 sum log|mu|   (the second term for multiplicative errors)
 *
 * as R's forecast::ets computes it, so the criteria are comparable with
 * its.  The parameters (smoothing parameters and initial states) are
 * found by quasi-Newton in a box (optim.c) on the series scaled to mean
 * absolute value 1, in forecast::ets's region: the usual bounds
 * (1e-4 <= beta <= alpha <= 0.9999, gamma <= 1 - alpha, 0.8 <= phi <=
 * 0.98) and admissible seasonal parameters.  Missing periods (gaps, with "gaps": "missing") update no
 * state: the forecast is carried over and they add nothing to the
 * likelihood.
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

#define A_LO 1e-4
#define A_HI 0.9999
#define PHI_LO 0.8
#define PHI_HI 0.98

/* Smoothing parameters of a form: alpha, and beta, gamma, phi when it has them */
static int
SmoothingCount(const EtsForm *f)
{
	return 1 + (f->trend != FC_NONE) + (f->season != FC_NONE) + (f->trend == FC_DAMPED);
}

/* Free parameters of a form: smoothing, initial level, trend and m - 1 seasonal indices */
int
fc_ets_nparams(const EtsForm *f)
{
	return SmoothingCount(f) + 1 + (f->trend != FC_NONE) + (f->season != FC_NONE ? f->m - 1 : 0);
}

/*
 * c_k of Hyndman et al. (2008, chapter 6): how much an error k steps back
 * still moves the forecast, alpha + beta (phi + .. + phi^k) + gamma [k mod
 * m = 0]; phisum is phi + .. + phi^k.
 */
static double
StepCoefficient(const EtsForm *f, const EtsParams *p, int k, double phisum)
{
	return p->alpha + (f->trend != FC_NONE ? p->beta * phisum : 0) +
		(f->season != FC_NONE && k % f->m == 0 ? p->gamma : 0);
}

/*
 * Run the model over y: one-step forecasts into fitted (may be NULL), the
 * states after the last period into last (may be NULL), the sum of squared
 * errors, of log|mu| (multiplicative errors) and the number of observed
 * periods.  Returns minus twice the log-likelihood (up to a constant), or
 * NaN where the model leaves its domain (a multiplicative model's
 * forecast or level not positive, a non-finite state).
 */
double
fc_ets_run(const EtsForm *f, const EtsParams *p, const double *y, int64 n,
		   double *fitted, EtsParams *last, double *sse_out, double *sumlog_out, int64 *nobs_out)
{
	double		l = p->state[0],
				b = f->trend != FC_NONE ? p->state[1] : 0,
				s[FC_MAX_SEASON];
	double		phi = f->trend == FC_DAMPED ? p->phi : 1;
	double		sse = 0,
				sumlog = 0;
	int64		nobs = 0;
	int			m = f->season != FC_NONE ? f->m : 1;
	bool		mult = f->error == FC_MUL || f->season == FC_MUL;

	for (int j = 0; j < m; j++)
		s[j] = f->season != FC_NONE ? p->state[2 + j] : 0;
	for (int64 t = 0, j = 0; t < n; t++, j = j + 1 == m ? 0 : j + 1)
	{
		double		q = l + (f->trend != FC_NONE ? phi * b : 0);
		double		mu = f->season == FC_ADD ? q + s[j] : f->season == FC_MUL ? q * s[j] : q;
		double		yt = y[t];
		double		d;

		if (fitted)
			fitted[t] = mu;
		if (mult && !(q > 0 && mu > 0))
			return get_float8_nan();
		if (isnan(yt))
		{
			/* missing: the states move on as forecast */
			l = q;
			b = phi * b;
			continue;
		}
		nobs++;
		if (f->error == FC_MUL)
		{
			double		e = (yt - mu) / mu;

			sse += e * e;
			sumlog += log(mu);
		}
		else
			sse += (yt - mu) * (yt - mu);
		d = f->season == FC_MUL ? yt / s[j] - q : yt - mu;
		if (f->season == FC_ADD)
			s[j] += p->gamma * (yt - mu);
		else if (f->season == FC_MUL)
			s[j] += p->gamma * (yt / q - s[j]);
		l = q + p->alpha * d;
		b = phi * b + p->beta * d;
	}
	/* a state that overflowed stays non-finite, and so does the sum */
	if (!isfinite(l) || !isfinite(b) || !isfinite(sse))
		return get_float8_nan();
	if (last)
	{
		*last = *p;
		last->state[0] = l;
		last->state[1] = f->trend != FC_NONE ? b : 0;
		/* rotated so that s[0] is the index of the next period */
		for (int j = 0; j < m; j++)
			last->state[2 + j] = f->season != FC_NONE ? s[(n + j) % m] : 0;
	}
	if (sse_out)
		*sse_out = sse;
	if (sumlog_out)
		*sumlog_out = sumlog;
	if (nobs_out)
		*nobs_out = nobs;
	if (nobs == 0)
		return get_float8_nan();
	/* a perfect fit: as good as any, but finite */
	return (double) nobs * log(Max(sse, 1e-300)) + 2 * sumlog;
}

/* ---------- the fit ---------- */

typedef struct EtsFitArg
{
	const EtsForm *form;
	const double *y;
	int64		n;
} EtsFitArg;

/*
 * The search runs in a box: alpha in [1e-4, 0.9999], beta and gamma as
 * shares of the room the usual bounds leave them (beta in [1e-4, alpha],
 * gamma in [1e-4, 1 - alpha]), phi in [0.8, 0.98]; initial states free.
 */
static void
SmoothingFromBox(const EtsForm *f, const double *th, EtsParams *p)
{
	int			k = 0;

	p->alpha = th[k++];
	if (f->trend != FC_NONE)
		p->beta = A_LO + (p->alpha - A_LO) * th[k++];
	if (f->season != FC_NONE)
		p->gamma = A_LO + Max(0, 1 - p->alpha - A_LO) * th[k++];
	p->phi = 1;
	if (f->trend == FC_DAMPED)
		p->phi = th[k++];
}

/* The box of a search over the first nsearch parameters (smoothing, then free states) */
static void
SearchBox(const EtsForm *f, int nsearch, double *lo, double *hi)
{
	int			k = 0;

	lo[k] = A_LO;
	hi[k++] = A_HI;
	if (f->trend != FC_NONE)
	{
		lo[k] = 0;
		hi[k++] = 1;
	}
	if (f->season != FC_NONE)
	{
		lo[k] = 0;
		hi[k++] = 1;
	}
	if (f->trend == FC_DAMPED)
	{
		lo[k] = PHI_LO;
		hi[k++] = PHI_HI;
	}
	for (; k < nsearch; k++)
	{
		lo[k] = -get_float8_infinity();
		hi[k] = get_float8_infinity();
	}
}

/*
 * Are all roots of sum a[k] z^k (degree d, a[d] != 0) of modulus below
 * 1 + 1e-10?  The Schur-Cohn test: p has all roots inside the unit circle
 * when |a_d| > |a_0| and the polynomial (a_d p(z) - a_0 p*(z)) / z, one
 * degree lower, has too (p* the reversed polynomial).  The coefficients
 * are first scaled by (1 + 1e-10)^k, R's tolerance in forecast::ets.
 */
static bool
RootsInside(const double *coef, int d)
{
	double		a[FC_MAX_SEASON + 2],
				b[FC_MAX_SEASON + 2];
	double		r = 1;

	for (int k = 0; k <= d; k++)
	{
		a[k] = coef[k] * r;
		r *= 1 + 1e-10;
	}
	for (; d > 0; d--)
	{
		if (!(fabs(a[d]) > fabs(a[0])))
			return false;
		for (int k = 1; k <= d; k++)
			b[k - 1] = a[d] * a[k] - a[0] * a[d - k];
		/* rescale: the test does not depend on a common factor, and this keeps the numbers finite */
		{
			double		mx = 0;

			for (int k = 0; k < d; k++)
				mx = Max(mx, fabs(b[k]));
			if (!(mx > 0) || !isfinite(mx))
				return false;
			for (int k = 0; k < d; k++)
				a[k] = b[k] / mx;
		}
	}
	return true;
}

/*
 * Is a seasonal model's parameter set in the admissible region (its
 * forecasts forget the distant past), forecast::ets's "bounds = both":
 * with the usual bounds only the roots of its characteristic polynomial
 * can fall outside (Hyndman, Akram and Archibald 2008).
 */
static bool
Admissible(const EtsForm *f, const EtsParams *p)
{
	double		P[FC_MAX_SEASON + 2];
	double		phi = f->trend == FC_DAMPED ? p->phi : 1;
	double		alpha = p->alpha,
				beta = f->trend != FC_NONE ? p->beta : 0,
				gamma = p->gamma;
	int			m = f->m;

	if (f->season == FC_NONE || m < 2)
		return true;
	P[0] = phi * (1 - alpha - gamma);
	P[1] = alpha + beta - alpha * phi + gamma - 1;
	for (int k = 2; k < m; k++)
		P[k] = alpha + beta - alpha * phi;
	P[m] = alpha + beta - phi;
	P[m + 1] = 1;
	return RootsInside(P, m + 1);
}

/* The parameters a point of the search stands for (false: outside the domain) */
static bool
Decode(const EtsForm *f, const double *th, EtsParams *p)
{
	int			k = 0,
				m = f->m;

	memset(p, 0, sizeof(*p));
	SmoothingFromBox(f, th, p);
	k = SmoothingCount(f);
	p->state[0] = th[k++];
	if (f->trend != FC_NONE)
		p->state[1] = th[k++];
	if (f->season != FC_NONE)
	{
		double		sum = 0;

		for (int j = 0; j < m - 1; j++)
		{
			p->state[2 + j] = th[k++];
			sum += p->state[2 + j];
		}
		/* the last index makes them sum to 0 (additive) or m (multiplicative) */
		p->state[2 + m - 1] = (f->season == FC_ADD ? 0 : m) - sum;
		if (f->season == FC_MUL)
			for (int j = 0; j < m; j++)
				if (!(p->state[2 + j] > 0))
					return false;
	}
	return Admissible(f, p);
}

static void
Encode(const EtsForm *f, const EtsParams *p, double *th)
{
	int			k = 0;

	th[k++] = p->alpha;
	if (f->trend != FC_NONE)
		th[k++] = Min(1, (p->beta - A_LO) / Max(p->alpha - A_LO, 1e-12));
	if (f->season != FC_NONE)
		th[k++] = Min(1, (p->gamma - A_LO) / Max(1 - p->alpha - A_LO, 1e-12));
	if (f->trend == FC_DAMPED)
		th[k++] = p->phi;
	th[k++] = p->state[0];
	if (f->trend != FC_NONE)
		th[k++] = p->state[1];
	if (f->season != FC_NONE)
		for (int j = 0; j < f->m - 1; j++)
			th[k++] = p->state[2 + j];
}

static double
EtsObjective(void *arg, const double *th, double *grad)
{
	EtsFitArg  *a = (EtsFitArg *) arg;
	EtsParams	p;
	double		lik;
	int64		nobs;

	if (!Decode(a->form, th, &p))
		return get_float8_nan();
	lik = fc_ets_run(a->form, &p, a->y, a->n, NULL, NULL, NULL, NULL, &nobs);
	/* per observation, so the tolerance does not depend on the length */
	return isfinite(lik) ? lik / (double) nobs : get_float8_nan();
}

/*
 * Initial states as forecast::ets starts them: seasonal indices from a
 * classical decomposition (a centred moving average; with fewer than three
 * seasons, a straight line), level and trend from a straight line through
 * the first max(10, 2m) seasonally adjusted values.  Missing values are
 * skipped.
 */
static void
StartStates(const EtsForm *f, const double *y, int64 n, EtsParams *p)
{
	int			m = f->season != FC_NONE ? f->m : 1;
	double		seas[FC_MAX_SEASON];
	int64		maxn;
	double		sx = 0,
				sy = 0,
				sxx = 0,
				sxy = 0,
				cnt = 0;

	for (int j = 0; j < m; j++)
		seas[j] = f->season == FC_MUL ? 1 : 0;
	if (f->season != FC_NONE)
	{
		double		sum[FC_MAX_SEASON] = {0},
					num[FC_MAX_SEASON] = {0},
					mean = 0;
		int			have = 0;

		if (n >= 3 * m)
		{
			/* centred moving average of order m (2 x m when m is even) */
			int			half = m / 2;

			for (int64 t = half; t + half < n; t++)
			{
				double		ma = 0;
				bool		ok = true;

				for (int k = -half; k <= half && ok; k++)
				{
					double		w = (m % 2 == 0 && (k == -half || k == half)) ? 0.5 : 1;

					ok = !isnan(y[t + k]);
					ma += w * y[t + k];
				}
				if (!ok || isnan(y[t]))
					continue;
				ma /= m;
				if (f->season == FC_MUL && !(ma > 0))
					continue;
				sum[t % m] += f->season == FC_MUL ? y[t] / ma : y[t] - ma;
				num[t % m] += 1;
			}
		}
		else
		{
			/* a straight line through all values, the indices from what it leaves */
			double		a0,
						a1;

			for (int64 t = 0; t < n; t++)
				if (!isnan(y[t]))
				{
					sx += t;
					sy += y[t];
					sxx += (double) t * t;
					sxy += t * y[t];
					cnt += 1;
				}
			a1 = cnt > 1 && cnt * sxx - sx * sx != 0 ? (cnt * sxy - sx * sy) / (cnt * sxx - sx * sx) : 0;
			a0 = cnt > 0 ? (sy - a1 * sx) / cnt : 0;
			for (int64 t = 0; t < n; t++)
			{
				double		line = a0 + a1 * t;

				if (isnan(y[t]) || (f->season == FC_MUL && !(line > 0)))
					continue;
				sum[t % m] += f->season == FC_MUL ? y[t] / line : y[t] - line;
				num[t % m] += 1;
			}
			sx = sy = sxx = sxy = cnt = 0;
		}
		for (int j = 0; j < m; j++)
			if (num[j] > 0)
			{
				seas[j] = sum[j] / num[j];
				mean += seas[j];
				have++;
			}
		if (have == m)
		{
			mean /= m;
			for (int j = 0; j < m; j++)
			{
				if (f->season == FC_MUL)
					seas[j] = mean > 0 ? Max(seas[j] / mean, 0.01) : 1;
				else
					seas[j] -= mean;
			}
		}
		else
			for (int j = 0; j < m; j++)
				seas[j] = f->season == FC_MUL ? 1 : 0;
		if (f->season == FC_MUL)
		{
			double		total = 0;

			for (int j = 0; j < m; j++)
				total += seas[j];
			for (int j = 0; j < m; j++)
				seas[j] *= m / total;
		}
	}
	maxn = Min(Max(10, 2 * m), n);
	for (int64 t = 0; t < maxn; t++)
	{
		double		v;

		if (isnan(y[t]))
			continue;
		v = f->season == FC_MUL ? y[t] / seas[t % m] : y[t] - seas[t % m];
		/* time 1 is the first period: the intercept is the state before it */
		sx += t + 1;
		sy += v;
		sxx += (double) (t + 1) * (t + 1);
		sxy += (t + 1) * v;
		cnt += 1;
	}
	memset(p->state, 0, sizeof(p->state));
	if (f->trend == FC_NONE || cnt < 2 || cnt * sxx - sx * sx == 0)
		p->state[0] = cnt > 0 ? sy / cnt : 1;
	else
	{
		double		slope = (cnt * sxy - sx * sy) / (cnt * sxx - sx * sx);

		p->state[0] = (sy - slope * sx) / cnt;
		p->state[1] = slope;
	}
	for (int j = 0; j < m; j++)
		p->state[2 + j] = seas[j];
}

/*
 * Forms with additive errors and additive or no season are linear in
 * their initial states: a one-step forecast is the forecast from zero
 * states plus a linear function of the states (both running on the same
 * recursion), so for given smoothing parameters the best states solve a
 * least-squares problem.  Their fit searches the smoothing parameters
 * alone, with the states profiled out: fewer dimensions, and the states
 * exact at each point.  The columns of that problem are the forecasts
 * from each unit state (a seasonal unit is +1 at its index and -1 at the
 * last, which keeps the sum at zero) on a series of zeros.
 */
typedef struct EtsProfile
{
	const EtsForm *form;
	const double *y;
	const double *zeros;		/* 0 where y is observed, NaN where missing */
	int64		n;
	int64		nobs;
	int			k;				/* initial states to solve for */
	double	   *mu;				/* n: one run's forecasts */
	double	   *e0;				/* nobs: errors from zero states */
	double	   *X;				/* nobs x k: forecasts from each unit state */
	double		x0[2 + FC_MAX_SEASON];	/* the states at the last evaluation, in free form */
	int			smoothing;		/* smoothing parameters searched */
} EtsProfile;

static bool
Linear(const EtsForm *f)
{
	return f->error == FC_ADD && f->season != FC_MUL;
}

/* Smoothing parameters of a search point (no states) */
static bool
DecodeSmoothing(const EtsForm *f, const double *th, EtsParams *p)
{
	memset(p, 0, sizeof(*p));
	SmoothingFromBox(f, th, p);
	return Admissible(f, p);
}

/* Free initial states (level, trend, m - 1 indices) into a parameter set's states */
static void
SetStates(const EtsForm *f, const double *x0, EtsParams *p)
{
	int			k = 0;

	memset(p->state, 0, sizeof(p->state));
	p->state[0] = x0[k++];
	if (f->trend != FC_NONE)
		p->state[1] = x0[k++];
	if (f->season != FC_NONE)
	{
		double		sum = 0;

		for (int j = 0; j < f->m - 1; j++)
		{
			p->state[2 + j] = x0[k++];
			sum += p->state[2 + j];
		}
		p->state[2 + f->m - 1] = -sum;
	}
}

/*
 * The sum of squared errors of a linear form from its states in p, and its
 * derivatives by alpha, beta, gamma and phi (forward differentiation of the
 * recursion: each state carries its derivatives by the four).
 */
static double
LinearSse(const EtsForm *f, const EtsParams *p, const double *y, int64 n, double dsse[4])
{
	int			m = f->season != FC_NONE ? f->m : 1;
	double		phi = f->trend == FC_DAMPED ? p->phi : 1;
	double		l = p->state[0],
				b = f->trend != FC_NONE ? p->state[1] : 0;
	double		s[FC_MAX_SEASON],
				ds[FC_MAX_SEASON][4];
	double		dl[4] = {0},
				db[4] = {0};
	double		sse = 0;

	memset(ds, 0, sizeof(ds));
	for (int j = 0; j < m; j++)
		s[j] = f->season != FC_NONE ? p->state[2 + j] : 0;
	for (int k = 0; k < 4; k++)
		dsse[k] = 0;
	for (int64 t = 0, j = 0; t < n; t++, j = j + 1 == m ? 0 : j + 1)
	{
		double		q = l + (f->trend != FC_NONE ? phi * b : 0);
		double		dq[4],
					e;

		for (int k = 0; k < 4; k++)
			dq[k] = dl[k] + (f->trend != FC_NONE ? phi * db[k] : 0);
		if (f->trend == FC_DAMPED)
			dq[3] += b;
		if (isnan(y[t]))
		{
			for (int k = 0; k < 4; k++)
			{
				dl[k] = dq[k];
				db[k] = phi * db[k];
			}
			if (f->trend == FC_DAMPED)
				db[3] += b;
			l = q;
			b = phi * b;
			continue;
		}
		e = y[t] - q - s[j];
		sse += e * e;
		for (int k = 0; k < 4; k++)
		{
			double		de = -(dq[k] + ds[j][k]);

			dsse[k] += 2 * e * de;
			dl[k] = dq[k] + p->alpha * de;
			db[k] = phi * db[k] + p->beta * de;
			ds[j][k] += p->gamma * de;
		}
		dl[0] += e;
		db[1] += e;
		ds[j][2] += e;
		if (f->trend == FC_DAMPED)
			db[3] += b;
		l = q + p->alpha * e;
		b = phi * b + p->beta * e;
		s[j] += p->gamma * e;
	}
	return sse;
}

/*
 * Solve A x = b in place for a small symmetric positive definite A (a few
 * initial states): a library call costs more than the arithmetic here.
 */
static bool
SmallCholeskySolve(int k, double *A, double *b)
{
	for (int j = 0; j < k; j++)
	{
		double		dsum = A[j * k + j];

		for (int c = 0; c < j; c++)
			dsum -= A[j * k + c] * A[j * k + c];
		if (!(dsum > 0))
			return false;
		A[j * k + j] = sqrt(dsum);
		for (int r = j + 1; r < k; r++)
		{
			double		v = A[r * k + j];

			for (int c = 0; c < j; c++)
				v -= A[r * k + c] * A[j * k + c];
			A[r * k + j] = v / A[j * k + j];
		}
	}
	for (int r = 0; r < k; r++)
	{
		for (int c = 0; c < r; c++)
			b[r] -= A[r * k + c] * b[c];
		b[r] /= A[r * k + r];
	}
	for (int r = k - 1; r >= 0; r--)
	{
		for (int c = r + 1; c < k; c++)
			b[r] -= A[c * k + r] * b[c];
		b[r] /= A[r * k + r];
	}
	return true;
}

static double
ProfileObjective(void *arg, const double *th, double *grad)
{
	EtsProfile *a = (EtsProfile *) arg;
	EtsParams	p;
	double		A[(2 + FC_MAX_SEASON) * (2 + FC_MAX_SEASON)],
				b[2 + FC_MAX_SEASON],
				unit[2 + FC_MAX_SEASON];
	int			k = a->k;
	double		sse = 0,
				trace = 0;
	int64		i;

	if (!DecodeSmoothing(a->form, th, &p))
		return get_float8_nan();
	/*
	 * One pass over the series for k + 1 runs of the recursion: channel 0
	 * from zero states on y (its errors), channel c from the unit state c - 1
	 * on zeros (its forecasts, the columns).
	 */
	{
		const EtsForm *f = a->form;
		int			m = f->season != FC_NONE ? f->m : 1;
		int			nc = k + 1;
		double		phi = f->trend == FC_DAMPED ? p.phi : 1;
		double		L[2 + FC_MAX_SEASON],
					B[2 + FC_MAX_SEASON],
					S[FC_MAX_SEASON][2 + FC_MAX_SEASON];

		for (int c = 0; c < nc; c++)
		{
			memset(unit, 0, sizeof(unit));
			if (c > 0)
				unit[c - 1] = 1;
			SetStates(f, unit, &p);
			L[c] = p.state[0];
			B[c] = p.state[1];
			for (int j = 0; j < m; j++)
				S[j][c] = f->season != FC_NONE ? p.state[2 + j] : 0;
		}
		i = 0;
		for (int64 t = 0, j = 0; t < a->n; t++, j = j + 1 == m ? 0 : j + 1)
		{
			double		yt = a->y[t];
			double	   *s = S[j];

			if (isnan(yt))
			{
				for (int c = 0; c < nc; c++)
				{
					L[c] += phi * B[c];
					B[c] *= phi;
				}
				continue;
			}
			for (int c = 0; c < nc; c++)
			{
				double		q = L[c] + phi * B[c];
				double		mu = q + s[c];
				double		e = (c == 0 ? yt : 0) - mu;

				if (c == 0)
					a->e0[i] = e;
				else
					a->X[i * k + c - 1] = mu;
				L[c] = q + p.alpha * e;
				B[c] = phi * B[c] + p.beta * e;
				s[c] += p.gamma * e;
			}
			i++;
		}
		if (!isfinite(L[0]) || !isfinite(B[0]))
			return get_float8_nan();
	}
	/* normal equations, with a whisker of ridge for states the data cannot tell apart */
	for (int r = 0; r < k; r++)
	{
		b[r] = 0;
		for (int c = 0; c <= r; c++)
			A[r * k + c] = 0;
	}
	for (i = 0; i < a->nobs; i++)
	{
		const double *x = a->X + i * k;

		for (int r = 0; r < k; r++)
		{
			b[r] += x[r] * a->e0[i];
			for (int c = 0; c <= r; c++)
				A[r * k + c] += x[r] * x[c];
		}
	}
	for (int r = 0; r < k; r++)
	{
		for (int c = 0; c < r; c++)
			A[c * k + r] = A[r * k + c];
		trace += A[r * k + r];
	}
	for (int r = 0; r < k; r++)
		A[r * k + r] += 1e-12 * trace / k;
	if (!SmallCholeskySolve(k, A, b))
		return get_float8_nan();
	for (i = 0; i < a->nobs; i++)
	{
		double		e = a->e0[i];

		for (int r = 0; r < k; r++)
			e -= a->X[i * k + r] * b[r];
		sse += e * e;
	}
	memcpy(a->x0, b, sizeof(double) * k);
	if (grad)
	{
		/*
		 * The states are optimal for these smoothing parameters, so the
		 * profile's derivative is the likelihood's with the states held
		 * (the envelope theorem); then the chain rule into the box.
		 */
		double		d[4],
					u1 = 0,
					u2 = 0;
		int			i2 = 1;

		SetStates(a->form, b, &p);
		sse = LinearSse(a->form, &p, a->y, a->n, d);
		for (int r = 0; r < 4; r++)
			d[r] /= Max(sse, 1e-300);
		if (a->form->trend != FC_NONE)
			u1 = th[i2++];
		if (a->form->season != FC_NONE)
			u2 = th[i2++];
		i2 = 0;
		grad[i2++] = d[0] + (a->form->trend != FC_NONE ? u1 * d[1] : 0) -
			(a->form->season != FC_NONE && 1 - p.alpha - A_LO > 0 ? u2 * d[2] : 0);
		if (a->form->trend != FC_NONE)
			grad[i2++] = (p.alpha - A_LO) * d[1];
		if (a->form->season != FC_NONE)
			grad[i2++] = Max(0, 1 - p.alpha - A_LO) * d[2];
		if (a->form->trend == FC_DAMPED)
			grad[i2++] = d[3];
	}
	return log(Max(sse, 1e-300));
}

static bool
FitProfiled(const EtsForm *f, const double *y, int64 n, int max_iter, EtsParams *p,
			UbaMinimizeResult *res)
{
	EtsProfile	a;
	double		th[UBA_MINIMIZE_MAX_PARAMS],
				lo[UBA_MINIMIZE_MAX_PARAMS],
				hi[UBA_MINIMIZE_MAX_PARAMS];
	int			ns = SmoothingCount(f);
	double	   *zeros = palloc(sizeof(double) * n);
	bool		ok;

	a.form = f;
	a.y = y;
	a.n = n;
	a.nobs = 0;
	for (int64 t = 0; t < n; t++)
	{
		zeros[t] = isnan(y[t]) ? y[t] : 0;
		a.nobs += !isnan(y[t]);
	}
	a.zeros = zeros;
	a.k = 1 + (f->trend != FC_NONE) + (f->season != FC_NONE ? f->m - 1 : 0);
	uba_check_memory(mul_size(mul_size(a.nobs, a.k + 2), sizeof(double)), "fitting exponential smoothing");
	a.mu = palloc(sizeof(double) * n);
	a.e0 = palloc(sizeof(double) * a.nobs);
	a.X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * a.nobs * a.k);
	Encode(f, p, th);
	SearchBox(f, ns, lo, hi);
	uba_minimize_box(ns, th, lo, hi, ProfileObjective, &a, true, max_iter, 1e-10, res);
	/* the states of the point found */
	ok = isfinite(ProfileObjective(&a, th, NULL)) && DecodeSmoothing(f, th, p);
	if (ok)
		SetStates(f, a.x0, p);
	pfree(zeros);
	pfree(a.mu);
	pfree(a.e0);
	pfree(a.X);
	return ok;
}

/* Fit from the start in p (smoothing parameters and states); the fit into p, its lik (NaN: none) */
static double
FitFrom(const EtsForm *f, const double *y, int64 n, int max_iter, EtsParams *p, UbaMinimizeResult *res)
{
	EtsFitArg	arg = {f, y, n};
	double		th[UBA_MINIMIZE_MAX_PARAMS],
				lo[UBA_MINIMIZE_MAX_PARAMS],
				hi[UBA_MINIMIZE_MAX_PARAMS];
	int			np = fc_ets_nparams(f);

	if (Linear(f))
	{
		if (!FitProfiled(f, y, n, max_iter, p, res))
			return get_float8_nan();
	}
	else
	{
		Encode(f, p, th);
		if (!isfinite(EtsObjective(&arg, th, NULL)) && f->trend != FC_NONE)
		{
			/* a multiplicative model whose starting trend leaves the domain: start flat */
			p->state[1] = 0;
			Encode(f, p, th);
		}
		if (!isfinite(EtsObjective(&arg, th, NULL)))
			return get_float8_nan();
		SearchBox(f, np, lo, hi);
		uba_minimize_box(np, th, lo, hi, EtsObjective, &arg, false, max_iter, 1e-10, res);
		if (!isfinite(res->f) || !Decode(f, th, p))
			return get_float8_nan();
	}
	return fc_ets_run(f, p, y, n, NULL, NULL, NULL, NULL, NULL);
}

/*
 * Fit the form to y (scaled to order 1 by the caller): the parameters
 * into p, minus twice the log-likelihood into lik.  A form with a nested
 * start (NestedStart, or NULL) starts there first; a damped one keeps
 * that fit when the search moved from it, other forms also try the usual
 * start and keep the better.  False when no start inside the domain is
 * found.
 */
bool
fc_ets_fit(const EtsForm *f, const double *y, int64 n, int max_iter, const EtsParams *nested,
		   EtsParams *p, double *lik, int *iterations, bool *converged)
{
	int			m = f->season != FC_NONE ? f->m : 1;
	UbaMinimizeResult res,
				res2;
	EtsParams	p2,
				p3;
	double		lik2 = get_float8_nan();
	bool		both = f->error == FC_MUL && f->trend != FC_DAMPED;

	StartStates(f, y, n, p);
	/* forecast::ets's starting smoothing parameters */
	p->alpha = A_LO + 0.2 * (A_HI - A_LO) / m;
	p->beta = A_LO + 0.1 * (p->alpha - A_LO);
	p->gamma = A_LO + 0.05 * (1 - p->alpha - A_LO);
	p->phi = 0.978;
	if (nested != NULL)
	{
		/* from the nested fit: then the usual start too, unless that one moved */
		p2 = *nested;
		lik2 = FitFrom(f, y, n, max_iter, &p2, &res2);
		if (isfinite(lik2) && res2.iterations > 0 && !both)
		{
			*p = p2;
			*lik = lik2;
			*iterations = res2.iterations;
			*converged = res2.converged;
			return true;
		}
	}
	p3 = *p;
	*lik = FitFrom(f, y, n, max_iter, p, &res);
	if (nested != NULL && isfinite(lik2) && !(*lik <= lik2))
	{
		*p = p2;
		*lik = lik2;
		res = res2;
	}
	if (both)
	{
		/*
		 * Multiplicative errors' likelihoods often have a second basin
		 * of fast levels and slow seasons: start there too.
		 */
		p3.alpha = 0.9;
		p3.beta = A_LO + 0.1 * (p3.alpha - A_LO);
		p3.gamma = A_LO + 0.01 * (1 - p3.alpha - A_LO);
		lik2 = FitFrom(f, y, n, max_iter, &p3, &res2);
		if (isfinite(lik2) && !(*lik <= lik2))
		{
			*p = p3;
			*lik = lik2;
			res = res2;
		}
	}
	*iterations = res.iterations;
	*converged = res.converged;
	return isfinite(*lik);
}

/* ---------- names and codes ---------- */

static const char *const comp_letters[] = {"N", "A", "M"};

char *
fc_ets_name(const EtsForm *f)
{
	return psprintf("ETS(%s,%s,%s)", comp_letters[f->error],
					f->trend == FC_DAMPED ? "Ad" : comp_letters[f->trend], comp_letters[f->season]);
}

/* A form as a number: error, trend, season digits and the season length */
uint32
fc_ets_code(const EtsForm *f)
{
	return (uint32) (f->error * 100 + f->trend * 10 + f->season) * 1000 + (uint32) f->m;
}

void
fc_ets_decode(uint32 code, EtsForm *f)
{
	uint32		c = code / 1000;

	f->m = (int) (code % 1000);
	f->error = (int) (c / 100);
	f->trend = (int) (c / 10 % 10);
	f->season = (int) (c % 10);
	if (c >= 1000 || f->error < FC_ADD || f->error > FC_MUL || f->trend > FC_DAMPED ||
		f->season > FC_MUL || f->m < 1 || f->m > FC_MAX_SEASON ||
		(f->season == FC_NONE) != (f->m == 1) || (f->error == FC_ADD && f->season == FC_MUL))
		uba_model_corrupted("Unknown exponential smoothing form %u.", code);
}

/* ---------- the choice ---------- */

/* Does the letter of a component allow the value (Z: any) */
static bool
Allowed(char letter, int value, bool trend)
{
	if (letter == 'Z')
		return true;
	if (letter == 'N')
		return value == FC_NONE;
	if (letter == 'A')
		return trend ? value == FC_ADD || value == FC_DAMPED : value == FC_ADD;
	if (letter == 'M')
		return value == FC_MUL;
	return false;
}

/*
 * A second start for a form, from a simpler form fitted before it: a
 * damped trend from the undamped fit (phi at its upper bound), a
 * multiplicative error from the additive error's fit, a multiplicative
 * season from the additive season's (indices 1 + s / level).  The fits
 * then are never much worse than the simpler form's.  NULL when there is
 * none.
 */
static const EtsParams *
NestedStart(const EtsForm *f, EtsParams fits[3][3][3], bool have[3][3][3])
{
	static EtsParams p;

	if (f->trend == FC_DAMPED && have[f->error][FC_ADD][f->season])
	{
		p = fits[f->error][FC_ADD][f->season];
		p.phi = PHI_HI;
		return &p;
	}
	if (f->error == FC_MUL && f->season != FC_MUL && have[FC_ADD][f->trend][f->season])
		return &fits[FC_ADD][f->trend][f->season];
	if (f->season == FC_MUL && have[FC_MUL][f->trend][FC_ADD])
	{
		double		total = 0;

		p = fits[FC_MUL][f->trend][FC_ADD];
		if (!(p.state[0] > 0))
			return NULL;
		for (int j = 0; j < f->m; j++)
		{
			p.state[2 + j] = 1 + p.state[2 + j] / p.state[0];
			if (!(p.state[2 + j] > 0))
				return NULL;
			total += p.state[2 + j];
		}
		for (int j = 0; j < f->m; j++)
			p.state[2 + j] *= f->m / total;
		return &p;
	}
	return NULL;
}

/*
 * Fit every form the spec allows (R's model letters, "ZZZ" by default)
 * and keep the best by the criterion (0 AICc, 1 AIC, 2 BIC), as
 * forecast::ets does: multiplicative components only for positive data,
 * no additive error with a multiplicative season (infinite variance), a
 * season only when 1 < m <= 24 with two full seasons of data, and only
 * forms with fewer parameters than observations less one.  y is in its
 * own units; the fit runs on y scaled to mean absolute value 1.
 */
void
fc_ets_choose(FcModel *model, const double *y, int64 n, int season_length,
			  const char *spec, int damped, int ic, int max_iter)
{
	double	   *ys = palloc(sizeof(double) * n);
	double		scale = 0,
				ymin = get_float8_infinity();
	int64		nobs = 0;
	double		best = get_float8_infinity();
	EtsParams	fits[3][3][3];
	bool		have[3][3][3] = {{{false}}};
	bool		season_ok;
	int			nc = 0;

	for (int64 t = 0; t < n; t++)
		if (!isnan(y[t]))
		{
			scale += fabs(y[t]);
			ymin = Min(ymin, y[t]);
			nobs++;
		}
	scale = nobs > 0 ? scale / nobs : 0;
	if (!(scale > 0))
		scale = 1;
	for (int64 t = 0; t < n; t++)
		ys[t] = y[t] / scale;
	season_ok = season_length > 1 && season_length <= FC_MAX_SEASON && n >= 2 * (int64) season_length;
	if (spec[2] != 'Z' && spec[2] != 'N' && !season_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a seasonal model needs a season length from 2 to %d and two full seasons of data", FC_MAX_SEASON),
				 errdetail("The season length is %d and the series has " INT64_FORMAT " periods.", season_length, n),
				 errhint("Set \"season_length\", or use a model letter N or Z for the season.")));
	if (spec[0] == 'A' && spec[2] == 'M')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("additive errors with a multiplicative season are not supported"),
				 errdetail("Their forecasts have no finite variance (Hyndman et al. 2008, chapter 15)."),
				 errhint("Use \"model\": \"MAM\" or \"AAA\", or Z for the error.")));
	if ((spec[0] == 'M' || spec[2] == 'M') && !(ymin > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("multiplicative components need a series of positive values"),
				 errdetail("The smallest value is %g.", ymin),
				 errhint("Use additive components (letters A or N, or Z to choose).")));
	model->cand = palloc(sizeof(uint32) * 18);
	model->cand_ic = palloc(sizeof(double) * 18);
	for (int error = FC_ADD; error <= FC_MUL; error++)
		for (int trend = FC_NONE; trend <= FC_DAMPED; trend++)
			for (int season = FC_NONE; season <= FC_MUL; season++)
			{
				EtsForm		f = {error, trend, season, season != FC_NONE ? season_length : 1};
				EtsParams	p;
				double		lik,
							crit;
				int			iters,
							k;
				bool		conv;

				if (!Allowed(spec[0], error, false) || !Allowed(spec[1], trend, true) ||
					!Allowed(spec[2], season, false))
					continue;
				if ((damped == 1 && trend == FC_ADD) || (damped == 0 && trend == FC_DAMPED))
					continue;
				if (error == FC_ADD && season == FC_MUL)
					continue;
				if ((error == FC_MUL || season == FC_MUL) && !(ymin > 0))
					continue;
				if (season != FC_NONE && !season_ok)
					continue;
				k = fc_ets_nparams(&f) + 1;
				if (nobs <= k + 1)
					continue;
				CHECK_FOR_INTERRUPTS();
				if (!fc_ets_fit(&f, ys, n, max_iter, NestedStart(&f, fits, have), &p, &lik, &iters, &conv))
					continue;
				fits[error][trend][season] = p;
				have[error][trend][season] = true;
				/* back to the series' units: the criteria shift alike for every form */
				lik += 2 * (double) nobs * log(scale);
				crit = lik + 2 * k;
				if (ic == 0)
					crit += 2.0 * k * (k + 1) / (double) (nobs - k - 1);
				else if (ic == 2)
					crit = lik + k * log((double) nobs);
				model->cand[nc] = fc_ets_code(&f);
				model->cand_ic[nc] = crit;
				nc++;
				if (crit < best)
				{
					best = crit;
					model->form = f;
					model->init = p;
					model->iterations = iters;
					model->converged = conv;
				}
			}
	model->ncand = nc;
	if (nc == 0 || !isfinite(best))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no exponential smoothing form the options allow fits the series"),
				 errdetail("The series has " INT64_FORMAT " observed periods; a form needs two more than its parameters.", nobs),
				 errhint("Use a longer series, or allow more forms (\"model\": \"ZZZ\").")));
	/* the states in the series' units: multiplicative indices have none */
	model->init.state[0] *= scale;
	model->init.state[1] *= scale;
	if (model->form.season == FC_ADD)
		for (int j = 0; j < model->form.m; j++)
			model->init.state[2 + j] *= scale;
	pfree(ys);
}

/* ---------- forecasts ---------- */

/*
 * Point forecasts for steps 1..h from the states after the last period,
 * and their standard deviations: for additive errors and components
 * (class 1 of Hyndman et al. 2008, chapter 6) var = sigma^2 (1 + sum
 * c_j^2) with c_j = alpha + beta (phi + .. + phi^j) + gamma [j mod m = 0];
 * for multiplicative errors with additive components (class 2)
 * var = (1 + sigma^2) theta_h - mu_h^2, theta_h = mu_h^2 + sigma^2 sum
 * c_j^2 theta_(h-j).  A multiplicative season (class 3) has no closed
 * form: sd is NaN and intervals come from simulation.
 */
void
fc_ets_forecast(const FcModel *model, int h, double *mean, double *sd)
{
	const EtsForm *f = &model->form;
	const EtsParams *p = &model->last;
	double		l = p->state[0],
				b = p->state[1];
	double		phi = f->trend == FC_DAMPED ? p->phi : 1,
				phisum = 0,
				phipow = 1;
	int			m = f->season != FC_NONE ? f->m : 1;
	double	   *c2 = palloc(sizeof(double) * (h + 1));
	double	   *theta = palloc(sizeof(double) * (h + 1));
	double		acc = 0;

	for (int k = 1; k <= h; k++)
	{
		double		s = f->season == FC_NONE ? 0 : p->state[2 + (k - 1) % m];
		double		trendpart;

		phipow *= phi;
		phisum += phipow;
		trendpart = f->trend == FC_NONE ? 0 : phisum * b;
		mean[k - 1] = f->season == FC_MUL ? (l + trendpart) * s :
			f->season == FC_ADD ? l + trendpart + s : l + trendpart;
		/* c_k, for the variance of later steps */
		{
			double		c = StepCoefficient(f, p, k, phisum);

			c2[k] = c * c;
		}
	}
	for (int k = 1; k <= h; k++)
	{
		if (f->season == FC_MUL)
			sd[k - 1] = get_float8_nan();
		else if (f->error == FC_ADD)
		{
			sd[k - 1] = sqrt(model->sigma2 * (1 + acc));
			acc += c2[k];
		}
		else
		{
			double		th = mean[k - 1] * mean[k - 1];

			for (int j = 1; j < k; j++)
				th += model->sigma2 * c2[j] * theta[k - j];
			theta[k] = th;
			sd[k - 1] = sqrt(Max(0, (1 + model->sigma2) * th - mean[k - 1] * mean[k - 1]));
		}
		if ((k & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(c2);
	pfree(theta);
}

/*
 * The standard deviations of the totals of steps 1..k, for additive errors
 * and components (class 1): the total is the forecasts' sum plus
 * sum_i (1 + C_(k-i)) e_i with C_m = c_1 + .. + c_m, so its variance
 * grows by sigma^2 (1 + C_(k-1))^2 a step.  False for other classes
 * (their totals are simulated).
 */
bool
fc_ets_cumulative_sd(const FcModel *model, int h, double *csd)
{
	const EtsForm *f = &model->form;
	const EtsParams *p = &model->last;
	double		phi = f->trend == FC_DAMPED ? p->phi : 1,
				phipow = 1,
				phisum = 0,
				C = 0,
				var = 0;

	if (f->error != FC_ADD || f->season == FC_MUL)
		return false;
	for (int k = 1; k <= h; k++)
	{
		var += model->sigma2 * (1 + C) * (1 + C);
		csd[k - 1] = sqrt(var);
		/* c_k, for the next step */
		phipow *= phi;
		phisum += phipow;
		C += StepCoefficient(f, p, k, phisum);
		if ((k & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return true;
}

bool
fc_ets_simulated_class(const EtsForm *f)
{
	return f->season == FC_MUL;
}

/*
 * npaths futures of h steps from the states after the last period, with
 * normal errors of the model's variance (paths: npaths x h, row-major).
 * Seeded, so the same model gives the same intervals; each path from its
 * own seed, so a step's values do not depend on how many steps are drawn.
 */
void
fc_ets_simulate(const FcModel *model, int h, int npaths, uint64 seed, double *paths)
{
	const EtsForm *f = &model->form;
	double		sigma = sqrt(model->sigma2);
	int			m = f->season != FC_NONE ? f->m : 1;
	double		phi = f->trend == FC_DAMPED ? model->last.phi : 1;
	UbaRandom	r;

	for (int i = 0; i < npaths; i++)
	{
		double		l = model->last.state[0],
					b = model->last.state[1],
					s[FC_MAX_SEASON];

		/* each path its own stream: its first steps do not depend on h */
		uba_random_seed(&r, seed + (uint64) i * 0x9E3779B97F4A7C15ULL);
		for (int j = 0; j < m; j++)
			s[j] = f->season != FC_NONE ? model->last.state[2 + j] : 0;
		for (int k = 0; k < h; k++)
		{
			int			j = k % m;
			double		q = l + (f->trend != FC_NONE ? phi * b : 0);
			double		mu = f->season == FC_ADD ? q + s[j] : f->season == FC_MUL ? q * s[j] : q;
			double		e = sigma * uba_random_normal(&r);
			double		yk = f->error == FC_MUL ? mu * (1 + e) : mu + e;
			double		d;

			paths[(Size) i * h + k] = yk;
			if (f->season == FC_MUL && !(s[j] != 0 && q != 0))
				continue;
			d = f->season == FC_MUL ? yk / s[j] - q : yk - mu;
			if (f->season == FC_ADD)
				s[j] += model->last.gamma * (yk - mu);
			else if (f->season == FC_MUL)
				s[j] += model->last.gamma * (yk / q - s[j]);
			l = q + model->last.alpha * d;
			b = phi * b + model->last.beta * d;
		}
		if ((i & 0xFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}
