/*-------------------------------------------------------------------------
 *
 * privacy.h
 *	  What the privacy files share: exact integer noise (noise.c), the
 *	  checks and unit keys of the aggregates (dp_count.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_PRIVACY_H
#define UBA_PRIVACY_H

#include "uba.h"

typedef unsigned __int128 uba_u128;

/* Rational parameters have this denominator (2^10): scales are rounded up to a multiple of 1/1024 */
#define UBA_NOISE_DENOM 1024
/* The largest discrete Laplace scale and Gaussian variance the samplers take */
#define UBA_NOISE_MAX_SCALE ((double) ((uint64) 1 << 30))
#define UBA_NOISE_MAX_VARIANCE ((double) ((uint64) 1 << 40))

/* Uniform random bits: pg_strong_random, or (statistical tests only) a seeded generator */
typedef struct UbaNoiseSource
{
	bool		secure;
	UbaRandom	prng;
	int			pos;
	uint8		buf[256];
} UbaNoiseSource;

extern void uba_noise_secure(UbaNoiseSource *src);
extern uint64 uba_noise_bits(UbaNoiseSource *src);
extern uint64 uba_noise_below(UbaNoiseSource *src, uint64 n);
/* Discrete Laplace of scale t / s; discrete Gaussian of variance sigma2_num / UBA_NOISE_DENOM */
extern int64 uba_discrete_laplace(UbaNoiseSource *src, uint64 s, uint64 t);
extern int64 uba_discrete_gaussian(UbaNoiseSource *src, uint64 sigma2_num);
/* A scale (or variance) as the rational the samplers take, rounded up; errors beyond the limits */
extern uint64 uba_noise_rational(double value, double max, const char *what);

/* What every differentially private aggregate checks and keys its units by (dp_count.c) */
#define UBA_DP_MAX_CONTRIBUTIONS 1000000
#define UBA_DP_MAX_EPSILON 100.0
extern double uba_dp_check_epsilon(double epsilon);
extern uint64 uba_dp_unit_key(Datum d, int kind);
extern void uba_dp_same_on_every_row(double got, double first, const char *what);
extern void *uba_dp_grow(void *array, int64 *cap, Size elem, const char *what);
extern int64 uba_dp_noisy_count(int64 count, double sensitivity, double epsilon);

#endif							/* UBA_PRIVACY_H */
