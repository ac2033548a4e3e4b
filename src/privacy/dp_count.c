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
 * no rows the result is NULL, as for SQL's other aggregates but count),
 * and the privacy budget across queries (not yet charged).
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

static const UbaOptionSpec dp_count_options[] = {
	{"max_contributions", UBA_OPT_INT, 1, 1, UBA_DP_MAX_CONTRIBUTIONS, NULL},
};

typedef struct DpCountState
{
	MemoryContext cxt;
	double		epsilon;
	Jsonb	   *options;
	int			max_contributions;
	int			kind;			/* the unit's id kind (ids.c) */
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

/* epsilon: positive, finite, at most UBA_DP_MAX_EPSILON */
double
uba_dp_check_epsilon(double epsilon)
{
	if (!(epsilon > 0) || !(epsilon <= UBA_DP_MAX_EPSILON))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("epsilon must be greater than 0 and at most %g", UBA_DP_MAX_EPSILON),
				 errdetail("Got %g.", epsilon),
				 errhint("Epsilon is the privacy loss of one release: 0.1 to 1 is usual.")));
	return epsilon;
}

/* An argument that must be the same on every row of an aggregate */
void
uba_dp_same_on_every_row(double got, double first, const char *what)
{
	if (got != first)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be the same on every row", what),
				 errdetail("Got %g after %g.", got, first)));
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
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("epsilon must not be NULL")));
	if (st == NULL)
	{
		MemoryContext cxt = uba_agg_context(fcinfo);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		UbaOptions	o;

		st = palloc0(sizeof(DpCountState));
		st->cxt = cxt;
		st->epsilon = uba_dp_check_epsilon(PG_GETARG_FLOAT8(2));
		uba_parse_options(opts, dp_count_options, lengthof(dp_count_options), "uba_dp_count", &o);
		st->max_contributions = (int) uba_option(&o, "max_contributions");
		st->options = opts ? (Jsonb *) PG_DETOAST_DATUM_COPY(PointerGetDatum(opts)) : NULL;
		st->kind = uba_id_kind(get_fn_expr_argtype(fcinfo->flinfo, 1), "privacy unit ids");
		st->cap = 1024;
		st->units = palloc(sizeof(uint64) * st->cap);
		MemoryContextSwitchTo(old);
	}
	else
	{
		uba_dp_same_on_every_row(PG_GETARG_FLOAT8(2), st->epsilon, "epsilon");
		uba_check_same_options(st->options, opts);
	}
	/* a row without a unit belongs to no one: it is not counted */
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	if (st->n == st->cap)
		st->units = uba_dp_grow(st->units, &st->cap, sizeof(uint64), "the differentially private count");
	st->units[st->n++] = uba_dp_unit_key(PG_GETARG_DATUM(1), st->kind);
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

/* The rows, each unit counting at most cap of them (cap 1: the distinct units) */
static int64
BoundedCount(DpCountState *st, int cap)
{
	int64		count = 0;

	qsort(st->units, st->n, sizeof(uint64), CompareKeys);
	for (int64 i = 0; i < st->n;)
	{
		int64		j = i;

		while (j < st->n && st->units[j] == st->units[i])
			j++;
		count += Min(j - i, (int64) cap);
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return count;
}

/* uba_dp_count final: the bounded count, one unit moving it by max_contributions at most */
Datum
uba_dp_count_final(PG_FUNCTION_ARGS)
{
	DpCountState *st = PG_ARGISNULL(0) ? NULL : (DpCountState *) PG_GETARG_POINTER(0);

	if (st == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(uba_dp_noisy_count(BoundedCount(st, st->max_contributions), st->max_contributions, st->epsilon));
}

/* uba_dp_count_distinct final: the distinct units, one unit moving them by one */
Datum
uba_dp_count_distinct_final(PG_FUNCTION_ARGS)
{
	DpCountState *st = PG_ARGISNULL(0) ? NULL : (DpCountState *) PG_GETARG_POINTER(0);

	if (st == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64(uba_dp_noisy_count(BoundedCount(st, 1), 1, st->epsilon));
}
