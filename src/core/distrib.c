/*-------------------------------------------------------------------------
 *
 * distrib.c
 *	  Probability distributions for the statistics uba reports: the
 *	  regularized incomplete beta function and, from it, Student's t and
 *	  its quantile; the normal distribution; the chi-square tail from the
 *	  regularized incomplete gamma function.
 *
 * I_x(a, b) is evaluated from its continued fraction (Abramowitz and
 * Stegun 26.5.8) with the modified Lentz method, on the side of x where
 * the fraction converges fast (using I_x(a, b) = 1 - I_{1-x}(b, a)).
 * Checked against scipy.stats in sql/predict_linreg.sql's reference values.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

/* The continued fraction of I_x(a, b) (without its prefactor), modified Lentz */
static double
BetaFraction(double a, double b, double x)
{
	const double tiny = 1e-300;
	double		c = 1,
				d = 1 - (a + b) * x / (a + 1),
				f;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	f = d;
	for (int m = 1; m <= 100000; m++)
	{
		double		num,
					step;

		/* the even term */
		num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		f *= d * c;
		/* the odd term */
		num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + num * d;
		c = 1 + num / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		step = d * c;
		f *= step;
		if (fabs(step - 1) < 1e-16)
			break;
	}
	return f;
}

/* The regularized incomplete beta function I_x(a, b), a, b > 0 */
double
uba_incomplete_beta(double a, double b, double x)
{
	double		front;

	if (!(x > 0))
		return 0;
	if (!(x < 1))
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * BetaFraction(a, b, x) / a;
	return 1 - front * BetaFraction(b, a, 1 - x) / b;
}

/* P(|T| >= |t|) for Student's t with df degrees of freedom (df > 0) */
double
uba_student_t_two_sided(double t, double df)
{
	if (isnan(t))
		return t;
	if (isinf(t))
		return 0;
	return uba_incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

/*
 * The digamma function psi(x) = d/dx ln Gamma(x) for x > 0: the recurrence
 * psi(x) = psi(x + 1) - 1/x up to x >= 6, then the asymptotic series
 * (Abramowitz and Stegun 6.3.18), accurate to about 1e-15 there.
 */
double
uba_digamma(double x)
{
	double		r = 0,
				x2;

	if (!(x > 0) || isinf(x))
		return x == get_float8_infinity() ? x : get_float8_nan();
	while (x < 6)
	{
		r -= 1 / x;
		x += 1;
	}
	x2 = 1 / (x * x);
	return r + log(x) - 0.5 / x -
		x2 * (1.0 / 12 - x2 * (1.0 / 120 - x2 * (1.0 / 252 - x2 * (1.0 / 240 - x2 * (1.0 / 132)))));
}

/*
 * The Gauss hypergeometric function 2F1(a, b; c; z) for a, b > 0, c not 0
 * or a negative integer, and 0 <= z < 1, by its series, summed until a
 * term no longer changes the sum (with a, b, c > 0 every term is
 * positive), at most max_terms terms.  NaN when the series has not
 * converged by then (z too close to 1), so that callers report it rather
 * than use a truncated sum.
 */
double
uba_hyp2f1(double a, double b, double c, double z, int max_terms)
{
	double		term = 1,
				sum = 1;

	if (!(a > 0 && b > 0 && z >= 0 && z < 1) || !isfinite(c) || (c <= 0 && c == floor(c)))
		return get_float8_nan();
	for (int n = 0; n < max_terms; n++)
	{
		term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
		if (!isfinite(term))
			return get_float8_nan();
		sum += term;
		if ((n & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		/* terms fall once n exceeds the parameters; stop when they no longer count */
		if (fabs(term) <= fabs(sum) * 1e-17 && (double) n > a + b + fabs(c))
			return sum;
	}
	return get_float8_nan();
}

/*
 * 2F1(a, b; c; z) as uba_hyp2f1, and its partial derivatives by a, b, c
 * and z (in d[0..3]), from the series differentiated term by term: the
 * n-th term t_n = (a)_n (b)_n / ((c)_n n!) z^n has d ln t_n / da =
 * sum_{k<n} 1/(a+k) (likewise b, and minus for c) and d ln t_n / dz = n/z.
 * NaN when the series has not converged in max_terms terms.
 */
double
uba_hyp2f1_grad(double a, double b, double c, double z, int max_terms, double *d)
{
	double		term = 1,
				sum = 1,
				ha = 0,
				hb = 0,
				hc = 0;

	d[0] = d[1] = d[2] = d[3] = 0;
	if (!(a > 0 && b > 0 && z >= 0 && z < 1) || !isfinite(c) || (c <= 0 && c == floor(c)))
		return get_float8_nan();
	for (int n = 0; n < max_terms; n++)
	{
		ha += 1 / (a + n);
		hb += 1 / (b + n);
		hc += 1 / (c + n);
		term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
		if (!isfinite(term))
			return get_float8_nan();
		sum += term;
		d[0] += term * ha;
		d[1] += term * hb;
		d[2] -= term * hc;
		d[3] += term * (n + 1);
		if ((n & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		/* the derivatives' terms carry factors up to n: stop when those no longer count either */
		if (fabs(term) * (n + 2) <= fabs(sum) * 1e-17 && (double) n > a + b + fabs(c))
		{
			d[3] = z > 0 ? d[3] / z : a * b / c;
			return sum;
		}
	}
	return get_float8_nan();
}

/*
 * The standard normal quantile: Acklam's rational approximation (relative
 * error 1.2e-9), then one Halley step on erfc, which brings it to full
 * double precision.  p outside (0, 1) gives -inf, +inf or NaN.
 */
double
uba_norm_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
	1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
	6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
	-2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
	3.754408661907416e+00};
	double		q,
				r,
				x,
				e,
				u;

	if (!(p >= 0 && p <= 1))
		return get_float8_nan();
	if (p == 0)
		return -get_float8_infinity();
	if (p == 1)
		return get_float8_infinity();
	if (p < 0.02425)
	{
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	else if (p > 1 - 0.02425)
	{
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	else
	{
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	/* Halley: e = Phi(x) - p, u = e / phi(x) */
	e = 0.5 * erfc(-x / M_SQRT2) - p;
	u = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/* The standard normal distribution function, from erfc (accurate in both tails) */
double
uba_norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * Student's t quantile: the t with P(T <= t) = p, df > 0.  Bisection on
 * the distribution function (from the incomplete beta) to the last bit:
 * about 100 evaluations, for statistics computed once per comparison.
 */
double
uba_student_t_quantile(double p, double df)
{
	double		lo = 0,
				hi = 1,
				target;

	if (!(p > 0 && p < 1) || !(df > 0))
		return p == 0 ? -get_float8_infinity() : p == 1 ? get_float8_infinity() : get_float8_nan();
	if (p == 0.5)
		return 0;
	/* P(|T| >= t) = 2 (1 - p) for the upper half; the lower half by symmetry */
	target = 2 * (p > 0.5 ? 1 - p : p);
	while (uba_student_t_two_sided(hi, df) > target)
	{
		lo = hi;
		hi *= 2;
		if (hi > 1e300)
			break;
	}
	for (int i = 0; i < 2000; i++)
	{
		double		mid = lo + (hi - lo) / 2;

		if (mid <= lo || mid >= hi)
			break;
		if (uba_student_t_two_sided(mid, df) > target)
			lo = mid;
		else
			hi = mid;
	}
	return p > 0.5 ? lo + (hi - lo) / 2 : -(lo + (hi - lo) / 2);
}

/*
 * The regularized upper incomplete gamma function Q(a, x), a > 0, x >= 0:
 * its series for x < a + 1, else its continued fraction (modified Lentz).
 */
static double
GammaQ(double a, double x)
{
	double		front;

	if (!(x > 0))
		return 1;
	front = exp(-x + a * log(x) - lgamma(a));
	if (x < a + 1)
	{
		double		term = 1 / a,
					sum = term;

		for (int n = 1; n < 100000; n++)
		{
			term *= x / (a + n);
			sum += term;
			if (fabs(term) < fabs(sum) * 1e-17)
				break;
		}
		return 1 - front * sum;
	}
	else
	{
		const double tiny = 1e-300;
		double		b = x + 1 - a,
					c = 1 / tiny,
					d = 1 / b,
					f = d;

		for (int i = 1; i < 100000; i++)
		{
			double		an = -i * (i - a),
						delta;

			b += 2;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1 / d;
			delta = d * c;
			f *= delta;
			if (fabs(delta - 1) < 1e-16)
				break;
		}
		return front * f;
	}
}

/* P(X >= x) for the chi-square distribution with df degrees of freedom */
double
uba_chi2_sf(double x, double df)
{
	if (isnan(x) || !(df > 0))
		return get_float8_nan();
	return GammaQ(df / 2, x / 2);
}
