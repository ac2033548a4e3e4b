/*-------------------------------------------------------------------------
 *
 * prng.c
 *	  Seeded random numbers: xoshiro256** with splitmix64 seeding.  Our own
 *	  generator so that a seed gives the same model on every PostgreSQL
 *	  version and platform.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

/* One splitmix64 step, used to expand a seed into the generator state */
static uint64
SplitMix64(uint64 *x)
{
	uint64		z = (*x += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Rotate left */
static inline uint64
Rotl(uint64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Seed the generator */
void
uba_random_seed(UbaRandom *r, uint64 seed)
{
	uint64		x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = SplitMix64(&x);
}

/* Next 64 random bits */
uint64
uba_random_next(UbaRandom *r)
{
	uint64	   *s = r->s;
	uint64		result = Rotl(s[1] * 5, 7) * 9;
	uint64		t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = Rotl(s[3], 45);
	return result;
}

/* Uniform double in [0, 1) with 53 random bits */
double
uba_random_double(UbaRandom *r)
{
	return (uba_random_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n) without modulo bias */
uint64
uba_random_below(UbaRandom *r, uint64 n)
{
	uint64		limit;
	uint64		v;

	Assert(n > 0);
	limit = PG_UINT64_MAX - (PG_UINT64_MAX % n);
	do
		v = uba_random_next(r);
	while (v >= limit);
	return v % n;
}

/* A standard normal draw: Box-Muller, one of the pair (two uniforms per draw) */
double
uba_random_normal(UbaRandom *r)
{
	double		u1 = uba_random_double(r),
				u2 = uba_random_double(r);

	return sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

/* A Gamma(shape, 1) draw (Marsaglia and Tsang; shape < 1 by the boost U^(1/shape)) */
double
uba_random_gamma(UbaRandom *rng, double shape)
{
	double		d,
				c;

	if (shape < 1)
		return uba_random_gamma(rng, shape + 1) * pow(1 - uba_random_double(rng), 1 / shape);
	d = shape - 1.0 / 3;
	c = 1 / sqrt(9 * d);
	for (;;)
	{
		double		z = uba_random_normal(rng),
					v = 1 + c * z,
					u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = 1 - uba_random_double(rng);
		if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
			return d * v;
	}
}
