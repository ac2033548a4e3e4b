/*-------------------------------------------------------------------------
 *
 * noise.c
 *	  Noise for differential privacy, drawn exactly on the integers.
 *
 * Adding a double-precision Laplace draw to a released value leaks: the
 * set of doubles a naive sampler can produce around each true value
 * differs, so the low bits tell values apart (Mironov 2012).  Noise here
 * is an integer drawn exactly from the discrete Laplace or the discrete
 * Gaussian distribution by Canonne, Kamath and Steinke's samplers (2020):
 * only uniform integers, comparisons and rational arithmetic, no floating
 * point.  A caller releasing a real value first rounds it to a grid (its
 * granularity) and adds integer noise in units of the grid.
 *
 * The uniform integers come from pg_strong_random (the operating system's
 * or OpenSSL's cryptographic generator), read in blocks.  A seeded
 * generator (xoshiro256**) exists for the statistical tests of the
 * samplers only: no releasing function can select it.
 *
 * Parameters are rationals: a discrete Laplace of scale t / s, a discrete
 * Gaussian of variance sigma2_num / UBA_NOISE_DENOM.  Callers round a
 * scale up to these, so the noise is never smaller than asked.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(uba_dp_noise_sample);

/* Fill the block of random bytes */
static void
Refill(UbaNoiseSource *src)
{
	if (src->secure)
	{
		if (!pg_strong_random(src->buf, sizeof(src->buf)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate secure random numbers for differential privacy noise")));
	}
	else
		for (Size i = 0; i < sizeof(src->buf); i += 8)
		{
			uint64		v = uba_random_next(&src->prng);

			memcpy(src->buf + i, &v, 8);
		}
	src->pos = 0;
}

/* Secure noise: the only source the releasing functions use */
void
uba_noise_secure(UbaNoiseSource *src)
{
	memset(src, 0, sizeof(UbaNoiseSource));
	src->secure = true;
	src->pos = sizeof(src->buf);
}

/* Seeded noise, for the samplers' statistical tests */
static void
NoiseSeeded(UbaNoiseSource *src, uint64 seed)
{
	memset(src, 0, sizeof(UbaNoiseSource));
	src->secure = false;
	uba_random_seed(&src->prng, seed);
	src->pos = sizeof(src->buf);
}

/* 64 uniform random bits */
uint64
uba_noise_bits(UbaNoiseSource *src)
{
	uint64		v;

	if (src->pos + 8 > (int) sizeof(src->buf))
		Refill(src);
	memcpy(&v, src->buf + src->pos, 8);
	src->pos += 8;
	return v;
}

/* Uniform in [0, n), n >= 1, without bias: draws above the last whole multiple of n are redrawn */
uint64
uba_noise_below(UbaNoiseSource *src, uint64 n)
{
	uint64		limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;	/* the largest v with v + 1 a multiple of n, less one */
	uint64		v;

	do
		v = uba_noise_bits(src);
	while (v > limit);
	return v % n;
}

/* Uniform in [0, n) for a 128-bit n >= 1, without bias */
static uba_u128
Below128(UbaNoiseSource *src, uba_u128 n)
{
	uba_u128	max = ~(uba_u128) 0;
	uba_u128	limit = max - (max % n + 1) % n;
	uba_u128	v;

	if (n <= UINT64_MAX)
		return uba_noise_below(src, (uint64) n);
	do
		v = ((uba_u128) uba_noise_bits(src) << 64) | uba_noise_bits(src);
	while (v > limit);
	return v % n;
}

/* Bernoulli(num / den), 0 <= num <= den, den >= 1 */
static bool
Bernoulli(UbaNoiseSource *src, uba_u128 num, uba_u128 den)
{
	return Below128(src, den) < num;
}

/* Bernoulli(exp(-num / den)) for num / den in [0, 1]: von Neumann's series (CKS 2020, Algorithm 1) */
static bool
BernoulliExpUnit(UbaNoiseSource *src, uba_u128 num, uba_u128 den)
{
	uint64		k = 1;

	for (;;)
	{
		/*
		 * A ~ Bernoulli(gamma / k).  Reaching a k at which den * k would not
		 * fit 128 bits takes probability below 1 / (2^24)!: taken as A = 0.
		 */
		if (den > (~(uba_u128) 0) / k || !Bernoulli(src, num, den * k))
			break;
		k++;
		if ((k & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return (k & 1) == 1;
}

/*
 * Bernoulli(exp(-num / den)) for any num / den >= 0: exp(-1) floor(gamma)
 * times, stopping at the first failure, then the fractional part.
 */
static bool
BernoulliExp(UbaNoiseSource *src, uba_u128 num, uba_u128 den)
{
	uba_u128		whole = num / den;

	for (uba_u128 i = 0; i < whole; i++)
		if (!BernoulliExpUnit(src, 1, 1))
			return false;
	return BernoulliExpUnit(src, num % den, den);
}

/*
 * Discrete Laplace of scale t / s: P(x) proportional to exp(-|x| s / t)
 * (CKS 2020, Algorithm 2).  s, t in [1, 2^40].
 */
int64
uba_discrete_laplace(UbaNoiseSource *src, uint64 s, uint64 t)
{
	for (;;)
	{
		uint64		u = uba_noise_below(src, t);
		uint64		v = 0;
		uba_u128		x;
		uint64		y;
		bool		negative;

		CHECK_FOR_INTERRUPTS();
		if (!BernoulliExpUnit(src, u, t))
			continue;
		while (BernoulliExpUnit(src, 1, 1))
			v++;
		x = (uba_u128) u + (uba_u128) t * v;
		y = (uint64) Min(x / s, (uba_u128) PG_INT64_MAX);
		negative = (uba_noise_bits(src) & 1) == 1;
		if (negative && y == 0)
			continue;
		return negative ? -(int64) y : (int64) y;
	}
}

/*
 * Discrete Gaussian of variance parameter sigma2 = sigma2_num /
 * UBA_NOISE_DENOM: P(x) proportional to exp(-x^2 / (2 sigma2)) (CKS 2020,
 * Algorithm 3): a discrete Laplace draw y of scale t = floor(sigma) + 1,
 * accepted with probability exp(-(|y| - sigma2 / t)^2 / (2 sigma2)).  With
 * sigma2 at most 2^40 and |y| below 2^32 (a discrete Laplace of scale at
 * most 2^21 passes 2^32 with probability below e^-2048, and is redrawn)
 * every quantity fits 128 bits.
 */
int64
uba_discrete_gaussian(UbaNoiseSource *src, uint64 sigma2_num)
{
	uint64		t = (uint64) floor(sqrt((double) sigma2_num / UBA_NOISE_DENOM)) + 1;

	/* t must be floor(sigma) + 1 exactly: fix the square root's rounding */
	while ((uba_u128) (t - 1) * (t - 1) * UBA_NOISE_DENOM > sigma2_num)
		t--;
	while ((uba_u128) t * t * UBA_NOISE_DENOM <= sigma2_num)
		t++;
	for (;;)
	{
		int64		y = uba_discrete_laplace(src, 1, t);
		uint64		ay = (uint64) (y < 0 ? -y : y);
		uba_u128		d,
					num,
					den;

		if (ay >= ((uint64) 1 << 32))
			continue;
		/* (|y| - sigma2 / t)^2 / (2 sigma2) = (|y| t D - a)^2 / (2 a D t^2), a = sigma2_num, D the denominator */
		d = (uba_u128) ay * t * UBA_NOISE_DENOM;
		d = d > sigma2_num ? d - sigma2_num : sigma2_num - d;
		num = d * d;
		den = (uba_u128) 2 * sigma2_num * UBA_NOISE_DENOM * t * t;
		if (BernoulliExp(src, num, den))
			return y;
	}
}

/*
 * A positive scale (or variance) as the numerator of a rational of
 * denominator UBA_NOISE_DENOM, rounded up so the noise is never smaller
 * than asked.
 */
uint64
uba_noise_rational(double value, double max, const char *what)
{
	if (!(value > 0) || !(value <= max))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the noise's %s would be %g, outside (0, %g]", what, value, max),
				 errhint("Use a larger epsilon, or narrower bounds, or a coarser granularity.")));
	return (uint64) ceil(value * UBA_NOISE_DENOM);
}

/*
 * uba_dp_noise_sample(mechanism text, scale float8, n int, seed bigint)
 * returns setof bigint: n draws of a mechanism's integer noise from a
 * seeded generator, for testing the samplers' distributions.  The scale
 * is the Laplace scale b (P(x) ~ exp(-|x| / b)) or the Gaussian's sigma
 * (P(x) ~ exp(-x^2 / (2 sigma^2))), rounded up to a multiple of 1/1024
 * (of sigma^2 for the Gaussian).  Seeded draws are never used to release
 * data.
 */
Datum
uba_dp_noise_sample(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *mechanism = text_to_cstring(PG_GETARG_TEXT_PP(0));
	double		scale = PG_GETARG_FLOAT8(1);
	int32		n = PG_GETARG_INT32(2);
	UbaNoiseSource src;
	bool		gaussian;
	uint64		param;

	if (strcmp(mechanism, "laplace") == 0)
		gaussian = false;
	else if (strcmp(mechanism, "gaussian") == 0)
		gaussian = true;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mechanism must be \"laplace\" or \"gaussian\""),
				 errdetail("Got \"%s\".", mechanism)));
	if (n < 0 || n > 10000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be between 0 and 10000000"),
				 errdetail("Got %d.", n)));
	param = gaussian ? uba_noise_rational(scale * scale, UBA_NOISE_MAX_VARIANCE, "variance") :
		uba_noise_rational(scale, UBA_NOISE_MAX_SCALE, "scale");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	NoiseSeeded(&src, (uint64) PG_GETARG_INT64(3));
	for (int32 i = 0; i < n; i++)
	{
		Datum		v = Int64GetDatum(gaussian ? uba_discrete_gaussian(&src, param) :
									  uba_discrete_laplace(&src, UBA_NOISE_DENOM, param));
		bool		null = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &null);
	}
	return (Datum) 0;
}
