/*-------------------------------------------------------------------------
 *
 * rowset.c
 *	  Aggregate state that collects feature rows for training, with the
 *	  combine, serialize and deserialize functions that let PostgreSQL
 *	  run the collection in parallel workers.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_rowset_combine);
PG_FUNCTION_INFO_V1(uba_rowset_serialize);
PG_FUNCTION_INFO_V1(uba_rowset_deserialize);

#define UBA_ROWSET_INITIAL_ROWS 1024

/* The memory context aggregate state must live in */
static MemoryContext
AggContext(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "uba aggregate function called in non-aggregate context");
	return aggcxt;
}

/* Bytes one row takes */
static Size
RowBytes(const UbaRowSet *rs)
{
	return (Size) rs->dim * sizeof(double) + (rs->has_y ? sizeof(double) : 0);
}

/* Make room for at least need rows, within uba.max_memory */
static void
Reserve(UbaRowSet *rs, int64 need)
{
	Size		rowbytes = RowBytes(rs);
	int64		maxrows = (int64) (((Size) uba_max_memory_kb * 1024) / rowbytes);
	int64		newcap;

	if (need <= rs->cap)
		return;
	if (need > maxrows)
		uba_check_memory(mul_size((Size) need, rowbytes), "collecting the training rows");
	newcap = Max(need, Min(rs->cap * 2, maxrows));
	newcap = Max(newcap, UBA_ROWSET_INITIAL_ROWS);
	newcap = Min(newcap, Max(need, maxrows));

	if (rs->x == NULL)
	{
		rs->x = MemoryContextAllocHuge(rs->cxt, mul_size(newcap, rs->dim * sizeof(double)));
		if (rs->has_y)
			rs->y = MemoryContextAllocHuge(rs->cxt, mul_size(newcap, sizeof(double)));
	}
	else
	{
		rs->x = repalloc_huge(rs->x, mul_size(newcap, rs->dim * sizeof(double)));
		if (rs->has_y)
			rs->y = repalloc_huge(rs->y, mul_size(newcap, sizeof(double)));
	}
	rs->cap = newcap;
}

/* An empty row set in cxt */
static UbaRowSet *
NewRowSet(MemoryContext cxt, int32 dim, bool has_y, int32 iparam, Jsonb *options)
{
	UbaRowSet  *rs = MemoryContextAllocZero(cxt, sizeof(UbaRowSet));

	rs->cxt = cxt;
	rs->dim = dim;
	rs->has_y = has_y;
	rs->iparam = iparam;
	rs->started = GetCurrentTimestamp();
	if (options != NULL)
	{
		rs->options = MemoryContextAlloc(cxt, VARSIZE(options));
		memcpy(rs->options, options, VARSIZE(options));
	}
	return rs;
}

/*
 * Create the state on an aggregate's first non-NULL row.  The feature
 * count, the integer parameter and the options are fixed from here on.
 */
UbaRowSet *
uba_rowset_start(FunctionCallInfo fcinfo, ArrayType *first, bool has_y,
				 int32 iparam, Jsonb *options)
{
	return NewRowSet(AggContext(fcinfo), uba_feature_count(first), has_y,
					 iparam, options);
}

/* Append one row (checked: length, NULLs, finite values) */
void
uba_rowset_add(UbaRowSet *rs, ArrayType *features, double y)
{
	Reserve(rs, rs->n + 1);
	uba_read_features(features, rs->x + (Size) rs->n * rs->dim, rs->dim);
	if (rs->has_y)
		rs->y[rs->n] = y;
	rs->n++;
}

/* The per-call integer parameter (such as k) must not change between rows */
void
uba_rowset_check_param(UbaRowSet *rs, int32 iparam, const char *what)
{
	if (rs->iparam != iparam)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be the same for every row of one aggregate call", what),
				 errdetail("Got %d and %d.", rs->iparam, iparam)));
}

/* Whether two optional jsonb values are byte-for-byte equal */
static bool
SameOptions(Jsonb *a, Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

/* Combine two partial states (parallel aggregation) */
Datum
uba_rowset_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = AggContext(fcinfo);
	UbaRowSet  *a = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaRowSet  *b = PG_ARGISNULL(1) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = NewRowSet(aggcxt, b->dim, b->has_y, b->iparam, b->options);

	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array has %d elements, expected %d", b->dim, a->dim),
				 errhint("Every row must have the same number of features.")));
	uba_rowset_check_param(a, b->iparam, "the integer argument");
	if (!SameOptions(a->options, b->options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be the same for every row of one aggregate call")));

	a->started = Min(a->started, b->started);
	Reserve(a, a->n + b->n);
	memcpy(a->x + (Size) a->n * a->dim, b->x, (Size) b->n * b->dim * sizeof(double));
	if (a->has_y)
		memcpy(a->y + a->n, b->y, (Size) b->n * sizeof(double));
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

/*
 * Serialized layout (same machine, so native byte order): dim, has_y,
 * iparam, options length, n, options bytes, x, y.
 */
typedef struct RowSetWireHeader
{
	int32		dim;
	int32		has_y;
	int32		iparam;
	int32		optlen;
	int64		n;
	TimestampTz started;
} RowSetWireHeader;

/* Serialize a state to pass it from a parallel worker */
Datum
uba_rowset_serialize(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = (UbaRowSet *) PG_GETARG_POINTER(0);
	RowSetWireHeader h;
	Size		xbytes = mul_size((Size) rs->n, (Size) rs->dim * sizeof(double));
	Size		ybytes = rs->has_y ? (Size) rs->n * sizeof(double) : 0;
	Size		total;
	bytea	   *out;
	char	   *p;

	h.dim = rs->dim;
	h.has_y = rs->has_y;
	h.iparam = rs->iparam;
	h.optlen = rs->options ? VARSIZE(rs->options) : 0;
	h.n = rs->n;
	h.started = rs->started;
	total = add_size(add_size(sizeof(h) + h.optlen, xbytes), ybytes);
	if (total > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a parallel worker collected more than 1 GB of training rows"),
				 errhint("SET max_parallel_workers_per_gather = 0 for this training query.")));

	out = (bytea *) palloc(total + VARHDRSZ);
	SET_VARSIZE(out, total + VARHDRSZ);
	p = VARDATA(out);
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	if (h.optlen > 0)
		memcpy(p, rs->options, h.optlen);
	p += h.optlen;
	memcpy(p, rs->x, xbytes);
	p += xbytes;
	if (ybytes > 0)
		memcpy(p, rs->y, ybytes);
	PG_RETURN_BYTEA_P(out);
}

/* Rebuild a state serialized by uba_rowset_serialize */
Datum
uba_rowset_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = AggContext(fcinfo);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	RowSetWireHeader h;
	UbaRowSet  *rs;
	Size		xbytes;

	if (len < sizeof(h))
		elog(ERROR, "uba row set serialization is truncated");
	memcpy(&h, p, sizeof(h));
	p += sizeof(h);
	xbytes = mul_size((Size) h.n, (Size) h.dim * sizeof(double));
	if (h.dim <= 0 || h.n < 0 || h.optlen < 0 ||
		len != sizeof(h) + h.optlen + xbytes + (h.has_y ? (Size) h.n * sizeof(double) : 0))
		elog(ERROR, "uba row set serialization is inconsistent");

	rs = NewRowSet(aggcxt, h.dim, h.has_y != 0, h.iparam,
				   h.optlen > 0 ? (Jsonb *) p : NULL);
	p += h.optlen;
	rs->started = h.started;
	Reserve(rs, Max(h.n, 1));
	memcpy(rs->x, p, xbytes);
	p += xbytes;
	if (rs->has_y)
		memcpy(rs->y, p, (Size) h.n * sizeof(double));
	rs->n = h.n;
	PG_RETURN_POINTER(rs);
}
