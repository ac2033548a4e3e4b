/*-------------------------------------------------------------------------
 *
 * distrib.c
 *	  Probability distributions for the statistics uba reports: the
 *	  regularized incomplete beta function and, from it, Student's t.
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
