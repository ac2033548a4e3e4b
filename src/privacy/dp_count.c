/*-------------------------------------------------------------------------
 *
 * dp_count.c
 *	  uba_dp_count(unit_id, epsilon [, options]): a differentially private
 *	  count of rows with each privacy unit's contribution bounded.
 *
 * Each privacy unit (a customer) adds at most max_contributions rows, so
 * adding or removing one unit moves the true count by at most that much;
 * the released value is that bounded count plus discrete Laplace noise of
 * scale max_contributions / epsilon (noise.c), which is epsilon-DP.  The
 * rows' units are collected (integers as they are, text and uuid as
 * 64-bit hashes: two units that collide only lower the count's
 * sensitivity), sorted, and counted per unit.  Negative noisy counts are
 * released as 0 (post-processing costs no privacy).
 *
 * What is not protected here: whether the input has any row at all (over
 * no rows the result is NULL, as for SQL's other aggregates but count).
 * The options, grouped releases and the budget's charge are release.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(uba_dp_count_transfn);
PG_FUNCTION_INFO_V1(uba_dp_count_final);
PG_FUNCTION_INFO_V1(uba_dp_count_distinct_final);

typedef struct DpCountState
{
	UbaDp		dp;
	uint64	   *units;
	int64		n;
	int64		cap;
} DpCountState;

/* A privacy unit as 64 bits: an integer itself, text or uuid hashed (every DP aggregate's units) */
uint64
uba_dp_unit_key(Datum d, int kind)
{
	switch (kind)
	{
		case UBA_ID_INT8:
			return (uint64) DatumGetInt64(d);
		case UBA_ID_INT4:
			return (uint64) (int64) DatumGetInt32(d);
		case UBA_ID_INT2:
			return (uint64) (int64) DatumGetInt16(d);
		case UBA_ID_UUID:
			return hash_bytes_extended(DatumGetUUIDP(d)->data, UUID_LEN, 0);
		default:
			{
				text	   *t = DatumGetTextPP(d);

				return hash_bytes_extended((const unsigned char *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), 0);
			}
	}
}

/* An aggregate's array of cap elements of elem bytes, doubled within uba.max_memory */
void *
uba_dp_grow(void *array, int64 *cap, Size elem, const char *what)
{
	Size		bytes = mul_size(elem, (Size) *cap * 2);

	uba_check_memory(bytes, what);
	*cap *= 2;
	return repalloc_huge(array, bytes);
}

/* uba_dp_count(unit_id, epsilon [, options]) transition: keep the row's unit */
Datum
uba_dp_count_transfn(PG_FUNCTION_ARGS)
{
	DpCountState *st = PG_ARGISNULL(0) ? NULL : (DpCountState *) PG_GETARG_POINTER(0);

	if (st == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(uba_agg_context(fcinfo));

		st = palloc0(sizeof(DpCountState));
		uba_dp_init(&st->dp, fcinfo, 2, 3, "uba_dp_count");
		st->cap = 1024;
		st->units = palloc(sizeof(uint64) * st->cap);
		MemoryContextSwitchTo(old);
	}
	else
		uba_dp_check_row(&st->dp, fcinfo, 2, 3);
	/* a row without a unit belongs to no one: it is not counted */
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	if (st->n == st->cap)
		st->units = uba_dp_grow(st->units, &st->cap, sizeof(uint64), "the differentially private count");
	st->units[st->n++] = uba_dp_unit_key(PG_GETARG_DATUM(1), st->dp.kind);
	PG_RETURN_POINTER(st);
}

static int
CompareKeys(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a,
				y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * A count released at privacy loss epsilon when one unit moves it by at
 * most sensitivity: plus discrete Laplace noise of scale sensitivity /
 * epsilon from secure bits; a negative result is released as 0.
 */
int64
uba_dp_noisy_count(int64 count, double sensitivity, double epsilon)
{
	UbaNoiseSource src;
	int64		noisy;

	uba_noise_secure(&src);
	noisy = count + uba_discrete_laplace(&src, UBA_NOISE_DENOM,
										 uba_noise_rational(sensitivity / epsilon, UBA_NOISE_MAX_SCALE, "scale"));
	return Max(noisy, 0);
}

/*
 * Sorted units (sorted here): the number of distinct ones, and in
 * *bounded the rows counted when each unit counts at most cap of them
 */
int64
uba_dp_distinct_sorted(uint64 *units, int64 n, int cap, int64 *bounded)
{
	int64		count = 0,
				distinct = 0;

	qsort(units, n, sizeof(uint64), CompareKeys);
	for (int64 i = 0; i < n;)
	{
		int64		j = i;

		while (j < n && units[j] == units[i])
			j++;
		count += Min(j - i, (int64) cap);
		distinct++;
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (bounded)
		*bounded = count;
	return distinct;
}

/*
 * A count to which one unit adds at most per_unit (in each of at most
 * max_groups groups), released with partition selection when grouped
 */
static Datum
ReleaseCount(FunctionCallInfo fcinfo, DpCountState *st, int64 count, int per_unit)
{
	double		sensitivity = uba_dp_sensitivity(&st->dp, per_unit);
	int64		noisy = uba_dp_noisy_count(count, sensitivity, st->dp.epsilon);

	if (!uba_dp_selected(&st->dp, noisy, per_unit, sensitivity / st->dp.epsilon))
		return uba_dp_end(fcinfo, &st->dp, (Datum) 0, true);
	return uba_dp_end(fcinfo, &st->dp, Int64GetDatum(noisy), false);
}

/* uba_dp_count final: the bounded count, one unit moving it by max_contributions at most */
Datum
uba_dp_count_final(PG_FUNCTION_ARGS)
{
	DpCountState *st = PG_ARGISNULL(0) ? NULL : (DpCountState *) PG_GETARG_POINTER(0);
	int64		count;

	if (st == NULL)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	(void) uba_dp_distinct_sorted(st->units, st->n, st->dp.max_contributions, &count);
	return ReleaseCount(fcinfo, st, count, st->dp.max_contributions);
}

/* uba_dp_count_distinct final: the distinct units, one unit moving them by one */
Datum
uba_dp_count_distinct_final(PG_FUNCTION_ARGS)
{
	DpCountState *st = PG_ARGISNULL(0) ? NULL : (DpCountState *) PG_GETARG_POINTER(0);

	if (st == NULL)
		PG_RETURN_NULL();
	if (uba_dp_begin(fcinfo, &st->dp))
		return uba_dp_end(fcinfo, &st->dp, 0, true);
	return ReleaseCount(fcinfo, st, uba_dp_distinct_sorted(st->units, st->n, 1, NULL), 1);
}
