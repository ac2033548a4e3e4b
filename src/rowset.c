/*-------------------------------------------------------------------------
 *
 * rowset.c
 *	  Aggregate state that collects feature rows for training, with the
 *	  combine, serialize and deserialize functions that let PostgreSQL
 *	  run the collection in parallel workers.
 *
 *	  Parallel plans (and synchronized scans) deliver rows in an order that
 *	  changes from run to run.  So that a seed reproduces a model exactly,
 *	  every row is hashed as it arrives (in the workers) and training puts
 *	  the rows in a canonical order (by hash, then by content) first.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "common/hashfn.h"
#include "miscadmin.h"
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
	return (Size) rs->dim * sizeof(double) + (rs->has_y ? sizeof(double) : 0) + sizeof(uint64);
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
		rs->h = MemoryContextAllocHuge(rs->cxt, mul_size(newcap, sizeof(uint64)));
		if (rs->has_y)
			rs->y = MemoryContextAllocHuge(rs->cxt, mul_size(newcap, sizeof(double)));
	}
	else
	{
		rs->x = repalloc_huge(rs->x, mul_size(newcap, rs->dim * sizeof(double)));
		rs->h = repalloc_huge(rs->h, mul_size(newcap, sizeof(uint64)));
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
	double	   *x;
	uint64		h;

	Reserve(rs, rs->n + 1);
	x = rs->x + (Size) rs->n * rs->dim;
	uba_read_features(features, x, rs->dim);
	h = hash_bytes_extended((const unsigned char *) x, rs->dim * sizeof(double), 0);
	if (rs->has_y)
	{
		rs->y[rs->n] = y;
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) &y, sizeof(double), 0));
	}
	rs->h[rs->n] = h;
	rs->n++;
}

/* Order rows by hash, then by content (ties are equal rows or collisions) */
static int
CompareRows(const void *a, const void *b, void *arg)
{
	const UbaRowSet *rs = (const UbaRowSet *) arg;
	int64		i = *(const int64 *) a;
	int64		j = *(const int64 *) b;
	int			c;

	if (rs->h[i] != rs->h[j])
		return rs->h[i] < rs->h[j] ? -1 : 1;
	c = memcmp(rs->x + (Size) i * rs->dim, rs->x + (Size) j * rs->dim,
			   rs->dim * sizeof(double));
	if (c == 0 && rs->has_y)
		c = memcmp(&rs->y[i], &rs->y[j], sizeof(double));
	return c;
}

/*
 * Put the rows in canonical order, independent of the order they arrived
 * in.  The permutation is applied in place by following its cycles, so no
 * second copy of the rows is needed.
 */
void
uba_rowset_canonical_order(UbaRowSet *rs)
{
	int64	   *perm;
	double	   *tmp;
	int			d = rs->dim;

	if (rs->n < 2)
		return;
	perm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * rs->n);
	tmp = palloc(sizeof(double) * (d + 1));
	for (int64 i = 0; i < rs->n; i++)
		perm[i] = i;
	CHECK_FOR_INTERRUPTS();
	qsort_arg(perm, rs->n, sizeof(int64), CompareRows, rs);
	CHECK_FOR_INTERRUPTS();

	/* new row j is old row perm[j]; visited entries are stored as -1 - perm[j] */
	for (int64 i = 0; i < rs->n; i++)
	{
		int64		j = i;
		uint64		htmp;

		if (perm[i] < 0 || perm[i] == i)
			continue;
		memcpy(tmp, rs->x + (Size) i * d, sizeof(double) * d);
		if (rs->has_y)
			tmp[d] = rs->y[i];
		htmp = rs->h[i];
		for (;;)
		{
			int64		k = perm[j];

			perm[j] = -1 - k;
			if (k == i)
			{
				memcpy(rs->x + (Size) j * d, tmp, sizeof(double) * d);
				if (rs->has_y)
					rs->y[j] = tmp[d];
				rs->h[j] = htmp;
				break;
			}
			memcpy(rs->x + (Size) j * d, rs->x + (Size) k * d, sizeof(double) * d);
			if (rs->has_y)
				rs->y[j] = rs->y[k];
			rs->h[j] = rs->h[k];
			j = k;
		}
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(perm);
	pfree(tmp);
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
	memcpy(a->h + a->n, b->h, (Size) b->n * sizeof(uint64));
	if (a->has_y)
		memcpy(a->y + a->n, b->y, (Size) b->n * sizeof(double));
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

/*
 * Serialized layout (same machine, so native byte order): dim, has_y,
 * iparam, options length, n, start time, options bytes, x, h, y.
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
	Size		hbytes = (Size) rs->n * sizeof(uint64);
	Size		total;
	bytea	   *out;
	char	   *p;

	h.dim = rs->dim;
	h.has_y = rs->has_y;
	h.iparam = rs->iparam;
	h.optlen = rs->options ? VARSIZE(rs->options) : 0;
	h.n = rs->n;
	h.started = rs->started;
	total = add_size(add_size(add_size(sizeof(h) + h.optlen, xbytes), ybytes), hbytes);
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
	memcpy(p, rs->h, hbytes);
	p += hbytes;
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
		len != sizeof(h) + h.optlen + xbytes + (Size) h.n * sizeof(uint64) +
		(h.has_y ? (Size) h.n * sizeof(double) : 0))
		elog(ERROR, "uba row set serialization is inconsistent");

	rs = NewRowSet(aggcxt, h.dim, h.has_y != 0, h.iparam,
				   h.optlen > 0 ? (Jsonb *) p : NULL);
	p += h.optlen;
	rs->started = h.started;
	Reserve(rs, Max(h.n, 1));
	memcpy(rs->x, p, xbytes);
	p += xbytes;
	memcpy(rs->h, p, (Size) h.n * sizeof(uint64));
	p += (Size) h.n * sizeof(uint64);
	if (rs->has_y)
		memcpy(rs->y, p, (Size) h.n * sizeof(double));
	rs->n = h.n;
	PG_RETURN_POINTER(rs);
}
