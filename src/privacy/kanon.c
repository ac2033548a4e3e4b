/*-------------------------------------------------------------------------
 *
 * kanon.c
 *	  uba_k_anonymity(quasi_identifiers [, k]): how anonymous a table is
 *	  with respect to a set of quasi-identifiers.
 *
 * Rows with equal quasi-identifiers (a row value such as ROW(age_band,
 * zip3, gender), or any scalar) form a group; the table is k-anonymous
 * for k up to the size of its smallest group.  Values are equal when their
 * text forms (the type's output function) are: a record with NULL fields
 * is a value like any other, and so is a NULL argument (which no text form
 * equals).  Each value is kept as 128 bits, two hashes of its text form
 * under independent seeds, and the hashes are sorted and counted: two
 * distinct values merge only if both hashes collide, about n^2 / 2^129
 * for n distinct values were the hashes ideal (below 2^-60 for a billion
 * distinct values).  The hashes are not cryptographic: values crafted to
 * collide could merge two groups, so the input must not be an adversary's
 * choice.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(uba_k_anonymity_transfn);
PG_FUNCTION_INFO_V1(uba_k_anonymity_final);

/* The two seeds (arbitrary odd constants, fixed so that results do not vary) */
#define KANON_SEED_1 UINT64CONST(0x9E3779B97F4A7C15)
#define KANON_SEED_2 UINT64CONST(0xD6E8FEB86659FD93)

/* A value as 128 bits; a NULL argument is (0, 0) */
typedef struct KanonKey
{
	uint64		h1;
	uint64		h2;
} KanonKey;

typedef struct KanonState
{
	FmgrInfo	out;			/* the quasi-identifiers' output function */
	bool		has_k;
	int32		k;
	KanonKey   *keys;
	int64		n;
	int64		cap;
} KanonState;

/* uba_k_anonymity(quasi_identifiers [, k]) transition: keep the row's value as 128 bits */
Datum
uba_k_anonymity_transfn(PG_FUNCTION_ARGS)
{
	KanonState *st = PG_ARGISNULL(0) ? NULL : (KanonState *) PG_GETARG_POINTER(0);
	bool		has_k = PG_NARGS() > 2;
	int32		k = 0;
	KanonKey	key;

	if (has_k)
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k must not be NULL"),
					 errhint("Leave k out for the smallest group's size alone.")));
		k = PG_GETARG_INT32(2);
		if (k < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k must be at least 1"),
					 errdetail("Got %d.", k)));
	}
	if (st == NULL)
	{
		MemoryContext cxt = uba_agg_context(fcinfo);
		Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 1);
		Oid			out;
		bool		varlena;
		MemoryContext old;

		if (!OidIsValid(argtype))
			elog(ERROR, "uba_k_anonymity: could not determine the type of the quasi-identifiers");
		getTypeOutputInfo(argtype, &out, &varlena);
		old = MemoryContextSwitchTo(cxt);
		st = palloc0(sizeof(KanonState));
		/* in the aggregate's memory: record_out keeps what it learns of the row type across rows */
		fmgr_info_cxt(out, &st->out, cxt);
		st->has_k = has_k;
		st->k = k;
		st->cap = 1024;
		st->keys = palloc(sizeof(KanonKey) * st->cap);
		MemoryContextSwitchTo(old);
	}
	else if (has_k)
		uba_dp_same_on_every_row(k, st->k, "k");

	if (PG_ARGISNULL(1))
		key.h1 = key.h2 = 0;
	else
	{
		char	   *s = OutputFunctionCall(&st->out, PG_GETARG_DATUM(1));
		int			len = strlen(s);

		key.h1 = hash_bytes_extended((const unsigned char *) s, len, KANON_SEED_1);
		key.h2 = hash_bytes_extended((const unsigned char *) s, len, KANON_SEED_2);
		pfree(s);
	}
	if (st->n == st->cap)
		st->keys = uba_dp_grow(st->keys, &st->cap, sizeof(KanonKey), "the k-anonymity check");
	st->keys[st->n++] = key;
	PG_RETURN_POINTER(st);
}

static int
CompareKeys(const void *a, const void *b)
{
	const KanonKey *x = (const KanonKey *) a,
			   *y = (const KanonKey *) b;

	if (x->h1 != y->h1)
		return x->h1 < y->h1 ? -1 : 1;
	return x->h2 < y->h2 ? -1 : x->h2 > y->h2;
}

/*
 * uba_k_anonymity final: (k, groups, rows, rows_below_k, groups_below_k),
 * k the smallest group's size; the last two count the rows and groups of
 * groups smaller than the k given (NULL when none was).  No rows: NULL.
 */
Datum
uba_k_anonymity_final(PG_FUNCTION_ARGS)
{
	KanonState *st = PG_ARGISNULL(0) ? NULL : (KanonState *) PG_GETARG_POINTER(0);
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	int64		smallest = PG_INT64_MAX,
				groups = 0,
				rows_below = 0,
				groups_below = 0;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "uba_k_anonymity: the result type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	qsort(st->keys, st->n, sizeof(KanonKey), CompareKeys);
	for (int64 i = 0; i < st->n;)
	{
		int64		j = i + 1;

		while (j < st->n && st->keys[j].h1 == st->keys[i].h1 && st->keys[j].h2 == st->keys[i].h2)
			j++;
		groups++;
		smallest = Min(smallest, j - i);
		if (st->has_k && j - i < st->k)
		{
			rows_below += j - i;
			groups_below++;
		}
		i = j;
		if ((groups & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	values[0] = Int64GetDatum(smallest);
	values[1] = Int64GetDatum(groups);
	values[2] = Int64GetDatum(st->n);
	values[3] = Int64GetDatum(rows_below);
	values[4] = Int64GetDatum(groups_below);
	nulls[3] = nulls[4] = !st->has_k;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
