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
extern uint64 uba_dp_unit_key(Datum d, int kind);
extern void *uba_dp_grow(void *array, int64 *cap, Size elem, const char *what);
extern int64 uba_dp_noisy_count(int64 count, double sensitivity, double epsilon);
extern int64 uba_dp_distinct_sorted(uint64 *units, int64 n, int cap, int64 *bounded);

/* A DP aggregate's arguments and options, and its release (release.c) */
typedef struct UbaDp
{
	double		epsilon;
	double		delta;			/* 0: not given */
	int			max_contributions;
	int			max_groups;
	char	   *dataset;		/* the budget charged; NULL: none */
	Jsonb	   *options;
	int			kind;			/* the units' id kind (ids.c) */
	bool		grouped;		/* set by uba_dp_begin */
	bool		released;		/* the value, once released */
	bool		released_null;
	Datum		released_value;
} UbaDp;

extern double uba_dp_check_epsilon(double epsilon);
extern void uba_dp_same_on_every_row(double got, double first, const char *what);
extern void uba_dp_init(UbaDp *dp, FunctionCallInfo fcinfo, int epsilon_arg, int options_arg, const char *fname);
extern void uba_dp_check_row(UbaDp *dp, FunctionCallInfo fcinfo, int epsilon_arg, int options_arg);
extern bool uba_dp_begin(FunctionCallInfo fcinfo, UbaDp *dp);
extern Datum uba_dp_end(FunctionCallInfo fcinfo, UbaDp *dp, Datum value, bool isnull);
extern double uba_dp_sensitivity(const UbaDp *dp, double per_unit);
extern bool uba_dp_selected(const UbaDp *dp, int64 noisy, double per_unit, double scale);
extern double uba_dp_select_units(const UbaDp *dp, int64 units);

/* A row of a DP sum, mean or quantile: its unit, a secure random key, its clamped value (dp_sum.c) */
typedef struct DpRow
{
	uint64		unit;
	uint64		key;			/* which of a unit's rows are kept */
	double		value;
} DpRow;

extern int64 uba_dp_keep_rows(DpRow *rows, int64 n, int cap, int64 *kept);

/* The rows of a DP sum, mean or quantile, values clamped to [lower, upper] (dp_sum.c) */
typedef struct DpValues
{
	double		lower;
	double		upper;
	UbaNoiseSource src;
	DpRow	   *rows;
	int64		n;
	int64		cap;
} DpValues;

extern void uba_dp_values_row(FunctionCallInfo fcinfo, DpValues *vals, const UbaDp *dp, bool first, int lower_arg);

/* The privacy budget (budget.c): a release it cannot pay for raises this SQLSTATE */
#define UBA_ERRCODE_BUDGET_EXHAUSTED MAKE_SQLSTATE('U','B','P','0','1')

/* The privacy budget (budget.c): charge it, or raise an error and release nothing */
extern void uba_dp_charge(Oid namespace, const char *dataset, double epsilon, double delta);

#endif							/* UBA_PRIVACY_H */
