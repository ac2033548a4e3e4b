/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  uba_retention(conditions boolean[]) → boolean[]: which retention
 *	  conditions a user ever met, as an aggregate.
 *
 * Element 1 of the result says whether condition 1 (typically "was in the
 * cohort") ever held; element i whether condition 1 and condition i both
 * ever held, not necessarily in the same row.  Summing the result per
 * cohort gives a retention table.  NULL elements do not hold.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_retention_transfn);
PG_FUNCTION_INFO_V1(uba_retention_combine);
PG_FUNCTION_INFO_V1(uba_retention_serialize);
PG_FUNCTION_INFO_V1(uba_retention_deserialize);
PG_FUNCTION_INFO_V1(uba_retention_final);

typedef struct RetentionState
{
	int32		n;
	bool	   *row;			/* scratch: the current row's conditions */
	bool		held[FLEXIBLE_ARRAY_MEMBER];	/* condition i ever held */
} RetentionState;

static RetentionState *
NewState(MemoryContext cxt, int n)
{
	RetentionState *st = MemoryContextAllocZero(cxt, offsetof(RetentionState, held) + n);

	st->n = n;
	st->row = MemoryContextAlloc(cxt, n);
	return st;
}

static void
CheckLength(const RetentionState *st, int n)
{
	if (n != st->n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("retention conditions must have the same length in every row"),
				 errdetail("Got %d conditions after %d.", n, st->n)));
}

/* uba_retention(conditions) transition: remember which conditions hold */
Datum
uba_retention_transfn(PG_FUNCTION_ARGS)
{
	RetentionState *st = PG_ARGISNULL(0) ? NULL : (RetentionState *) PG_GETARG_POINTER(0);
	ArrayType  *a;
	int			n;

	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	a = PG_GETARG_ARRAYTYPE_P(1);
	n = uba_bool_array_length(a, "retention conditions",
							  "Pass the cohort condition first, then one condition per period, for example ARRAY[week = 0, week = 1, week = 2].");
	if (st == NULL)
		st = NewState(uba_agg_context(fcinfo), n);
	else
		CheckLength(st, n);
	uba_bool_array_values(a, st->row, n);
	for (int i = 0; i < n; i++)
		st->held[i] |= st->row[i];
	PG_RETURN_POINTER(st);
}

Datum
uba_retention_combine(PG_FUNCTION_ARGS)
{
	RetentionState *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (RetentionState *) PG_GETARG_POINTER(0);
	b = (RetentionState *) PG_GETARG_POINTER(1);
	CheckLength(a, b->n);
	for (int i = 0; i < a->n; i++)
		a->held[i] |= b->held[i];
	PG_RETURN_POINTER(a);
}

/* Serialized: the count, then one byte per condition */
Datum
uba_retention_serialize(PG_FUNCTION_ARGS)
{
	RetentionState *st = (RetentionState *) PG_GETARG_POINTER(0);
	bytea	   *out = (bytea *) palloc(VARHDRSZ + sizeof(int32) + st->n);

	SET_VARSIZE(out, VARHDRSZ + sizeof(int32) + st->n);
	memcpy(VARDATA(out), &st->n, sizeof(int32));
	memcpy(VARDATA(out) + sizeof(int32), st->held, st->n);
	PG_RETURN_BYTEA_P(out);
}

Datum
uba_retention_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(in);
	int32		n;
	RetentionState *st;

	if (len < sizeof(int32))
		elog(ERROR, "uba retention state serialization is truncated");
	memcpy(&n, VARDATA_ANY(in), sizeof(int32));
	if (n < 1 || len != sizeof(int32) + (Size) n)
		elog(ERROR, "uba retention state serialization is inconsistent");
	st = NewState(uba_agg_context(fcinfo), n);
	for (int i = 0; i < n; i++)
		st->held[i] = VARDATA_ANY(in)[sizeof(int32) + i] != 0;
	PG_RETURN_POINTER(st);
}

/* Final: element 1 as it is, every other element only together with element 1 */
Datum
uba_retention_final(PG_FUNCTION_ARGS)
{
	RetentionState *st = PG_ARGISNULL(0) ? NULL : (RetentionState *) PG_GETARG_POINTER(0);
	Datum	   *d;

	if (st == NULL)
		PG_RETURN_NULL();
	d = palloc(sizeof(Datum) * st->n);
	for (int i = 0; i < st->n; i++)
		d[i] = BoolGetDatum(st->held[0] && st->held[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, st->n, BOOLOID, 1, true, TYPALIGN_CHAR));
}
