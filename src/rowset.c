/*-------------------------------------------------------------------------
 *
 * rowset.c
 *	  Aggregate state that collects feature rows for training, with the
 *	  combine, serialize and deserialize functions that let PostgreSQL
 *	  run the collection in parallel workers.
 *
 *	  Rows are kept in chunks, so growing never copies what was collected
 *	  and combining partial states only links their chunks.  Parallel plans
 *	  (and synchronized scans) deliver rows in an order that changes from
 *	  run to run; so that a seed reproduces a model exactly, every row is
 *	  hashed as it arrives (in the workers) and training first gathers the
 *	  chunks into one matrix in a canonical order (by hash, then content).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "miscadmin.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_rowset_combine);
PG_FUNCTION_INFO_V1(uba_rowset_serialize);
PG_FUNCTION_INFO_V1(uba_rowset_deserialize);

#define UBA_ROWSET_FIRST_CHUNK_ROWS 1024
#define UBA_ROWSET_MAX_CHUNK_BYTES (64 * 1024 * 1024)

struct UbaRowChunk
{
	UbaRowChunk *next;
	int64		n;
	int64		cap;
	double	   *x;				/* cap x dim */
	double	   *y;				/* cap, or NULL */
	uint64	   *h;				/* cap */
};

typedef UbaSortKey KeyIdx;

/* The memory context an aggregate's state lives in */
MemoryContext
uba_agg_context(FunctionCallInfo fcinfo)
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
	return (Size) rs->dim * sizeof(double) + (rs->has_y ? sizeof(double) : 0) +
		(rs->hashed ? sizeof(uint64) : 0);
}

/*
 * Memory one collected row may need: itself, its copy in canonical order,
 * and two sort keys while ordering.  Checking this while collecting makes
 * a too large training set fail early, not after every row was read.
 */
static Size
RowPeakBytes(const UbaRowSet *rs)
{
	return 2 * RowBytes(rs) + 2 * sizeof(KeyIdx);
}

/* Refuse to hold more rows than uba.max_memory allows */
static void
CheckRows(const UbaRowSet *rs, int64 rows)
{
	Size		limit = (Size) uba_max_memory_kb * 1024;

	if ((Size) rows > limit / RowPeakBytes(rs))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the training rows need more than uba.max_memory (%d MB)",
						uba_max_memory_kb / 1024),
				 errdetail("Collected " INT64_FORMAT " rows of %d features so far; training holds each row twice while ordering the rows.",
						   rs->n, rs->dim),
				 errhint("Raise uba.max_memory for this session, or train on a sample of the rows (TABLESAMPLE).")));
}

/* A new chunk for cap rows, appended to the set */
static UbaRowChunk *
AddChunk(UbaRowSet *rs, int64 cap)
{
	UbaRowChunk *c;

	CheckRows(rs, rs->allocated + cap);
	c = MemoryContextAllocZero(rs->cxt, sizeof(UbaRowChunk));
	c->cap = cap;
	c->x = MemoryContextAllocHuge(rs->cxt, mul_size((Size) cap, (Size) rs->dim * sizeof(double)));
	if (rs->hashed)
		c->h = MemoryContextAllocHuge(rs->cxt, mul_size((Size) cap, sizeof(uint64)));
	if (rs->has_y)
		c->y = MemoryContextAllocHuge(rs->cxt, mul_size((Size) cap, sizeof(double)));
	if (rs->tail)
		rs->tail->next = c;
	else
		rs->head = c;
	rs->tail = c;
	rs->allocated += cap;
	return c;
}

/* An empty row set in cxt */
static UbaRowSet *
NewRowSet(MemoryContext cxt, int32 dim, bool has_y, bool hashed, int32 iparam, Jsonb *options)
{
	UbaRowSet  *rs = MemoryContextAllocZero(cxt, sizeof(UbaRowSet));

	rs->cxt = cxt;
	rs->dim = dim;
	rs->has_y = has_y;
	rs->hashed = hashed;
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
	return NewRowSet(uba_agg_context(fcinfo), uba_feature_count(first), has_y, true,
					 iparam, options);
}

/*
 * The same for rows of dim plain values (aggregates over scalars).  Rows
 * that will never need a canonical order need no hash (hashed = false),
 * which saves memory and what parallel workers send.
 */
UbaRowSet *
uba_rowset_start_dim(FunctionCallInfo fcinfo, int32 dim, bool has_y, bool hashed)
{
	return NewRowSet(uba_agg_context(fcinfo), dim, has_y, hashed, 0, NULL);
}

/* Call fn for every collected row, in collection order (before gathering) */
void
uba_rowset_foreach(UbaRowSet *rs, void (*fn) (void *arg, int64 i, const double *x, double y),
				   void *arg)
{
	int64		i = 0;

	Assert(rs->x == NULL);
	for (UbaRowChunk *c = rs->head; c; c = c->next)
	{
		for (int64 r = 0; r < c->n; r++, i++)
			fn(arg, i, c->x + (Size) r * rs->dim, rs->has_y ? c->y[r] : 0);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Hash of a row's bytes: only an ordering key (rows with equal hashes are
 * ordered by content), so a fast multiply-rotate mix over 8-byte words is
 * enough; four independent chains keep the multiplier busy.  It is fixed
 * here so that canonical order is the same everywhere.
 */
static inline uint64
MixWord(uint64 h, uint64 w)
{
	w *= UINT64CONST(0xC2B2AE3D27D4EB4F);
	w = (w << 31) | (w >> 33);
	h ^= w * UINT64CONST(0x9E3779B97F4A7C15);
	return ((h << 27) | (h >> 37)) * 5 + UINT64CONST(0x52DCE729);
}

static uint64
RowHash(const double *x, int d, const double *y)
{
	uint64		h[4] = {UINT64CONST(0x27D4EB2F165667C5) ^ (uint64) d, UINT64CONST(0x165667B19E3779F9),
	UINT64CONST(0x85EBCA77C2B2AE63), UINT64CONST(0xFF51AFD7ED558CCD)};
	uint64		w;
	int			j = 0;

	for (; j + 4 <= d; j += 4)
	{
		for (int t = 0; t < 4; t++)
		{
			memcpy(&w, &x[j + t], sizeof(w));
			h[t] = MixWord(h[t], w);
		}
	}
	for (; j < d; j++)
	{
		memcpy(&w, &x[j], sizeof(w));
		h[j & 3] = MixWord(h[j & 3], w);
	}
	if (y != NULL)
	{
		memcpy(&w, y, sizeof(w));
		h[0] = MixWord(h[0], w);
	}
	h[0] = MixWord(MixWord(MixWord(h[0], h[1]), h[2]), h[3]);
	/* final avalanche (splitmix64) so every input bit reaches the top byte */
	h[0] = (h[0] ^ (h[0] >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	h[0] = (h[0] ^ (h[0] >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return h[0] ^ (h[0] >> 31);
}

/* Room for one more row: the last chunk, or a new one */
static UbaRowChunk *
RowSlot(UbaRowSet *rs)
{
	UbaRowChunk *c = rs->tail;

	if (c == NULL || c->n == c->cap)
	{
		/*
		 * Chunks grow with the set, up to a fixed size (few chunks, little
		 * waste), and never past what uba.max_memory leaves.
		 */
		int64		maxrows = Max(1, (int64) (UBA_ROWSET_MAX_CHUNK_BYTES / RowBytes(rs)));
		int64		left = (int64) (((Size) uba_max_memory_kb * 1024) / RowPeakBytes(rs)) - rs->allocated;

		c = AddChunk(rs, Max(1, Min(left, Min(maxrows, Max(UBA_ROWSET_FIRST_CHUNK_ROWS, rs->n)))));
	}
	return c;
}

/* Record the row just written at the end of chunk c */
static void
RowDone(UbaRowSet *rs, UbaRowChunk *c, double y)
{
	if (rs->has_y)
		c->y[c->n] = y;
	if (rs->hashed)
		c->h[c->n] = RowHash(c->x + (Size) c->n * rs->dim, rs->dim, rs->has_y ? &y : NULL);
	c->n++;
	rs->n++;
}

/* Append one row (checked: length, NULLs, finite values) */
void
uba_rowset_add(UbaRowSet *rs, ArrayType *features, double y)
{
	UbaRowChunk *c = RowSlot(rs);

	uba_read_features(features, c->x + (Size) c->n * rs->dim, rs->dim);
	RowDone(rs, c, y);
}

/* Append one row of dim values the caller has checked */
void
uba_rowset_add_values(UbaRowSet *rs, const double *x, double y)
{
	UbaRowChunk *c = RowSlot(rs);

	memcpy(c->x + (Size) c->n * rs->dim, x, sizeof(double) * rs->dim);
	RowDone(rs, c, y);
}

/* The options must not change between rows, in serial and parallel plans alike */
void
uba_rowset_check_options(UbaRowSet *rs, Jsonb *options)
{
	if (!uba_options_equal(rs->options, options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be the same for every row of one aggregate call")));
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


/* Position of a row: chunk number in the high 16 bits, row in the chunk below */
#define ROWPOS(chunk, row) (((int64) (chunk) << 48) | (int64) (row))
#define ROWPOS_CHUNK(p) ((int) ((p) >> 48))
#define ROWPOS_ROW(p) ((p) & ((INT64CONST(1) << 48) - 1))

/* What CompareRows needs to find rows */
typedef struct CompareArg
{
	UbaRowChunk **chunks;
	int			dim;
	bool		has_y;
} CompareArg;

/* Order rows with equal hashes by content (equal rows, or a hash collision) */
static int
CompareRows(const void *a, const void *b, void *arg)
{
	const CompareArg *ca_ = (const CompareArg *) arg;
	UbaRowChunk **chunks = ca_->chunks;
	int			compare_dim = ca_->dim;
	bool		compare_has_y = ca_->has_y;
	int64		pa = ((const KeyIdx *) a)->idx;
	int64		pb = ((const KeyIdx *) b)->idx;
	UbaRowChunk *ca = chunks[ROWPOS_CHUNK(pa)];
	UbaRowChunk *cb = chunks[ROWPOS_CHUNK(pb)];
	int64		ra = ROWPOS_ROW(pa);
	int64		rb = ROWPOS_ROW(pb);
	int			c;

	c = memcmp(ca->x + (Size) ra * compare_dim, cb->x + (Size) rb * compare_dim,
			   compare_dim * sizeof(double));
	if (c == 0 && compare_has_y)
		c = memcmp(&ca->y[ra], &cb->y[rb], sizeof(double));
	return c;
}

/*
 * LSD radix sort of n keys, 11 bits a pass (six passes; the counts fit in
 * the L1 cache); returns the sorted buffer (a or b).
 */
#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

UbaSortKey *
uba_radix_sort(UbaSortKey *a, UbaSortKey *b, int64 n)
{
	int64	   *count = palloc(sizeof(int64) * RADIX_SIZE);

	for (int shift = 0; shift < 64; shift += RADIX_BITS)
	{
		int64		pos = 0;
		KeyIdx	   *t;

		memset(count, 0, sizeof(int64) * RADIX_SIZE);
		for (int64 i = 0; i < n; i++)
			count[(a[i].key >> shift) & (RADIX_SIZE - 1)]++;
		if (count[(a[0].key >> shift) & (RADIX_SIZE - 1)] == n)
			continue;			/* every key has the same digit here */
		for (int v = 0; v < RADIX_SIZE; v++)
		{
			int64		c = count[v];

			count[v] = pos;
			pos += c;
		}
		for (int64 i = 0; i < n; i++)
			b[count[(a[i].key >> shift) & (RADIX_SIZE - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
		CHECK_FOR_INTERRUPTS();
	}
	pfree(count);
	return a;
}

/* What GatherBlock needs */
typedef struct GatherArg
{
	UbaRowSet  *rs;
	UbaRowChunk **chunks;
	const KeyIdx *sorted;
} GatherArg;

/*
 * Copy one block of rows into their canonical places (runs on any thread).
 * Most of the cost is the kernel's first touch of the fresh destination
 * pages, which runs in parallel when threads fault different pages.
 */
static void
GatherBlock(void *arg, int64 block, int lane)
{
	GatherArg  *g = (GatherArg *) arg;
	UbaRowSet  *rs = g->rs;
	int			d = rs->dim;
	int64		i1 = Min(rs->n, (block + 1) * UBA_BLOCK_ROWS);

	for (int64 i = block * UBA_BLOCK_ROWS; i < i1; i++)
	{
		UbaRowChunk *c = g->chunks[ROWPOS_CHUNK(g->sorted[i].idx)];
		int64		r = ROWPOS_ROW(g->sorted[i].idx);

		memcpy(rs->x + (Size) i * d, c->x + (Size) r * d, sizeof(double) * d);
		rs->h[i] = g->sorted[i].key;
		if (rs->has_y)
			rs->y[i] = c->y[r];
	}
}

/*
 * Gather the collected chunks into one matrix in canonical order,
 * independent of the order rows arrived in: by row hash (radix sort),
 * then by content.  Consumers of x, y and h call this first.
 */
void
uba_rowset_canonical_order(UbaRowSet *rs)
{
	int64		n = rs->n;
	int			d = rs->dim;
	int			nchunks = 0;
	UbaRowChunk **chunks;
	KeyIdx	   *keys,
			   *tmp,
			   *sorted;
	CompareArg	carg;
	int64		at = 0;

	if (rs->head == NULL)
		return;					/* already gathered */
	Assert(rs->hashed);

	for (UbaRowChunk *c = rs->head; c; c = c->next)
		nchunks++;
	if (nchunks > 65535)
		elog(ERROR, "uba row set has too many chunks");
	/* the gathered copy exists beside the chunks for a moment: CheckRows() allowed for it */

	chunks = palloc(sizeof(UbaRowChunk *) * nchunks);
	keys = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(KeyIdx) * Max(n, 1));
	tmp = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(KeyIdx) * Max(n, 1));
	nchunks = 0;
	for (UbaRowChunk *c = rs->head; c; c = c->next)
	{
		for (int64 r = 0; r < c->n; r++)
		{
			keys[at].key = c->h[r];
			keys[at].idx = ROWPOS(nchunks, r);
			at++;
		}
		chunks[nchunks++] = c;
	}
	sorted = n > 1 ? uba_radix_sort(keys, tmp, n) : keys;
	carg.chunks = chunks;
	carg.dim = d;
	carg.has_y = rs->has_y;
	for (int64 i = 0; i < n;)
	{
		int64		j = i + 1;

		while (j < n && sorted[j].key == sorted[i].key)
			j++;
		if (j - i > 1)
			qsort_arg(sorted + i, j - i, sizeof(KeyIdx), CompareRows, &carg);
		i = j;
	}
	CHECK_FOR_INTERRUPTS();

	rs->x = MemoryContextAllocHuge(rs->cxt, mul_size((Size) Max(n, 1), (Size) d * sizeof(double)));
	rs->h = MemoryContextAllocHuge(rs->cxt, mul_size((Size) Max(n, 1), sizeof(uint64)));
	if (rs->has_y)
		rs->y = MemoryContextAllocHuge(rs->cxt, mul_size((Size) Max(n, 1), sizeof(double)));
	{
		GatherArg	g = {rs, chunks, sorted};

		uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES,
					  uba_thread_count(), GatherBlock, &g);
	}

	for (int i = 0; i < nchunks; i++)
	{
		pfree(chunks[i]->x);
		if (chunks[i]->h)
			pfree(chunks[i]->h);
		if (chunks[i]->y)
			pfree(chunks[i]->y);
		pfree(chunks[i]);
	}
	rs->head = rs->tail = NULL;
	rs->allocated = n;
	pfree(chunks);
	pfree(keys);
	pfree(tmp);
}

/* Combine two partial states (parallel aggregation): link b's chunks to a */
Datum
uba_rowset_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt PG_USED_FOR_ASSERTS_ONLY = uba_agg_context(fcinfo);
	UbaRowSet  *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (UbaRowSet *) PG_GETARG_POINTER(0);
	b = (UbaRowSet *) PG_GETARG_POINTER(1);
	/* b's chunks become a's: they must live as long */
	Assert(b->cxt == aggcxt);

	Assert(a->hashed == b->hashed);
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array has %d elements, expected %d", b->dim, a->dim),
				 errhint("Every row, and every call scoring a model, must pass the same number of features the model was trained on.")));
	uba_rowset_check_param(a, b->iparam, "k");
	uba_rowset_check_options(a, b->options);
	CheckRows(a, a->allocated + b->allocated);

	if (b->head != NULL)
	{
		if (a->tail)
			a->tail->next = b->head;
		else
			a->head = b->head;
		a->tail = b->tail;
	}
	a->n += b->n;
	a->allocated += b->allocated;
	a->started = Min(a->started, b->started);
	PG_RETURN_POINTER(a);
}

/*
 * Serialized layout (same machine, so native byte order): header, options
 * bytes, then x, h and y of every row in chunk order.
 */
typedef struct RowSetWireHeader
{
	int32		dim;
	int32		has_y;
	int32		iparam;
	int32		optlen;
	int32		hashed;
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
	Size		hbytes = rs->hashed ? mul_size((Size) rs->n, sizeof(uint64)) : 0;
	Size		ybytes = rs->has_y ? mul_size((Size) rs->n, sizeof(double)) : 0;
	Size		total;
	bytea	   *out;
	char	   *p,
			   *px,
			   *ph,
			   *py;

	h.dim = rs->dim;
	h.has_y = rs->has_y;
	h.iparam = rs->iparam;
	h.optlen = rs->options ? VARSIZE(rs->options) : 0;
	h.hashed = rs->hashed;
	h.n = rs->n;
	h.started = rs->started;
	total = add_size(add_size(add_size(sizeof(h) + h.optlen, xbytes), hbytes), ybytes);
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
	px = p + h.optlen;
	ph = px + xbytes;
	py = ph + hbytes;
	for (UbaRowChunk *c = rs->head; c; c = c->next)
	{
		memcpy(px, c->x, (Size) c->n * rs->dim * sizeof(double));
		px += (Size) c->n * rs->dim * sizeof(double);
		if (rs->hashed)
		{
			memcpy(ph, c->h, (Size) c->n * sizeof(uint64));
			ph += (Size) c->n * sizeof(uint64);
		}
		if (rs->has_y)
		{
			memcpy(py, c->y, (Size) c->n * sizeof(double));
			py += (Size) c->n * sizeof(double);
		}
	}
	PG_RETURN_BYTEA_P(out);
}

/* Rebuild a state serialized by uba_rowset_serialize, as one chunk */
Datum
uba_rowset_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	RowSetWireHeader h;
	UbaRowSet  *rs;
	UbaRowChunk *c;
	Size		xbytes;

	if (len < sizeof(h))
		elog(ERROR, "uba row set serialization is truncated");
	memcpy(&h, p, sizeof(h));
	p += sizeof(h);
	xbytes = mul_size((Size) h.n, (Size) h.dim * sizeof(double));
	if (h.dim <= 0 || h.n < 0 || h.optlen < 0 ||
		len != sizeof(h) + h.optlen + xbytes + (h.hashed ? (Size) h.n * sizeof(uint64) : 0) +
		(h.has_y ? (Size) h.n * sizeof(double) : 0))
		elog(ERROR, "uba row set serialization is inconsistent");

	rs = NewRowSet(aggcxt, h.dim, h.has_y != 0, h.hashed != 0, h.iparam,
				   h.optlen > 0 ? (Jsonb *) p : NULL);
	p += h.optlen;
	rs->started = h.started;
	if (h.n > 0)
	{
		c = AddChunk(rs, h.n);
		memcpy(c->x, p, xbytes);
		p += xbytes;
		if (rs->hashed)
		{
			memcpy(c->h, p, (Size) h.n * sizeof(uint64));
			p += (Size) h.n * sizeof(uint64);
		}
		if (rs->has_y)
			memcpy(c->y, p, (Size) h.n * sizeof(double));
		c->n = h.n;
		rs->n = h.n;
	}
	PG_RETURN_POINTER(rs);
}
