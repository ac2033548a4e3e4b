/*-------------------------------------------------------------------------
 *
 * rowset.c
 *	  Aggregate state that collects feature rows for training, with the
 *	  combine, serialize and deserialize functions that let PostgreSQL
 *	  run the collection in parallel workers.
 *
 *	  Parallel plans (and synchronized scans) deliver rows in an order that
 *	  changes from run to run; so that a seed reproduces a model exactly,
 *	  every row is hashed as it arrives (in the workers) and training first
 *	  copies the rows into a canonical order (by hash, then content).
 *	  Typed rows and text labels (never combined across workers) are hashed
 *	  only then, on uba.threads threads, once their levels are ranked.
 *
 *	  Rows are kept in one growing matrix; from 1 MB on its arrays are
 *	  mapped memory (bigmem.c), grown by remapping, paged in ahead by a
 *	  background thread while the scan fills them and unmapped by it
 *	  afterwards: first-touch page faults and freeing would otherwise cost
 *	  about as much as the scan itself.  Room for the ordered copy grows
 *	  with the rows, so ordering them needs no fresh memory.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"

#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/plannodes.h"
#include "utils/float.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_rowset_combine);
PG_FUNCTION_INFO_V1(uba_rowset_serialize);
PG_FUNCTION_INFO_V1(uba_rowset_deserialize);

#define UBA_ROWSET_FIRST_ROWS 1024
#define UBA_ROWSET_MAX_STEP_BYTES (64 * 1024 * 1024)

/* The memory context an aggregate's state lives in */
MemoryContext
uba_agg_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "uba aggregate function called in non-aggregate context");
	return aggcxt;
}

/*
 * Aggregates whose state became a bytea (so that Citus splits them) are
 * called by databases still at an older uba, after the new library is
 * installed, with their old internal states until ALTER EXTENSION uba
 * UPDATE: refuse, checking once per call site, rather than read a pointer
 * as a bytea.
 */
void
uba_check_bytea_state(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo == NULL || fcinfo->flinfo->fn_extra != NULL)
		return;
	if (get_fn_expr_argtype(fcinfo->flinfo, 0) == INTERNALOID)
		uba_error_library_newer();
	fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, 1);
}

void
uba_error_library_newer(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the uba library is newer than the extension in this database"),
			 errhint("Run ALTER EXTENSION uba UPDATE.")));
}

/* Bytes a value of the rows takes */
static inline Size
XElemSize(const UbaRowSet *rs)
{
	return rs->single ? sizeof(float) : sizeof(double);
}

/* Collected row i's bytes, whatever the row set keeps its rows in */
static inline const char *
RowAt(const UbaRowSet *rs, int64 i)
{
	return rs->single ? (const char *) (rs->xs + (Size) i * rs->dim) :
		(const char *) (rs->x + (Size) i * rs->dim);
}

/* Bytes one row takes while collected */
static Size
RowBytes(const UbaRowSet *rs)
{
	return (Size) rs->dim * XElemSize(rs) + (rs->has_y ? sizeof(double) : 0) +
		(rs->hashed ? sizeof(UbaSortKey) : 0);
}

/*
 * Memory one collected row may need: itself and room for its ordered copy
 * and sort buffer (hashed rows), or itself and the two sort keys the
 * metrics use.  Checking this while collecting makes a too large training
 * set fail early, not after every row was read.
 */
static Size
RowPeakBytes(const UbaRowSet *rs)
{
	return rs->hashed ? 2 * RowBytes(rs) : RowBytes(rs) + 2 * sizeof(UbaSortKey);
}

/* Refuse to hold more rows than uba.max_memory allows */
static void
CheckRows(const UbaRowSet *rs, int64 rows)
{
	Size		limit = uba_memory_limit();

	if ((Size) rows > limit / RowPeakBytes(rs))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the training rows need more than %s (%zu MB)",
						uba_memory_setting(), limit / (1024 * 1024)),
				 errdetail("Collected " INT64_FORMAT " rows of %d features so far; training holds each row twice while ordering the rows.",
						   rs->n, rs->dim),
				 uba_memory_hint("train on a sample of the rows (TABLESAMPLE)")));
}

/* Free every array of a row set (the struct stays, empty) */
static void
FreeRows(UbaRowSet *rs)
{
	uba_array_free((void **) &rs->x, &rs->x_bytes);
	uba_array_free((void **) &rs->y, &rs->y_bytes);
	uba_array_free((void **) &rs->keys, &rs->keys_bytes);
	uba_array_free((void **) &rs->x2, &rs->x2_bytes);
	uba_array_free((void **) &rs->y2, &rs->y2_bytes);
	uba_array_free((void **) &rs->keys2, &rs->keys2_bytes);
	uba_array_free((void **) &rs->xs, &rs->xs_bytes);
	uba_array_free((void **) &rs->xs2, &rs->xs2_bytes);
	rs->n = rs->cap = 0;
}

/* The row set's context is going away: its mapped arrays must go too */
static void
RowSetReset(void *arg)
{
	FreeRows((UbaRowSet *) arg);
}

/*
 * Room for at least need rows: the capacity doubles, by at most 64 MB a
 * step (little waste), never past what uba.max_memory allows.
 */
/* Room for the ordered copy of the rows (hashed sets): as many rows as the scan's arrays */
static void
GrowCopyRoom(UbaRowSet *rs)
{
	Size		xrow = (Size) rs->dim * sizeof(double);

	if (!rs->hashed || rs->keys2_bytes >= mul_size((Size) rs->cap, sizeof(UbaSortKey)))
		return;
	uba_array_reserve(rs->cxt, (void **) &rs->keys2, &rs->keys2_bytes, mul_size((Size) rs->cap, sizeof(UbaSortKey)));
	if (rs->single)
	{
		/*
		 * The float copy is written for sure (uba_rowset_canonical_keys):
		 * paged in on the background thread while the scan reads rows.
		 */
		uba_array_grow_raw(rs->cxt, (void **) &rs->xs2, &rs->xs2_bytes,
					   mul_size((Size) rs->cap, (Size) rs->dim * sizeof(float)));
		return;
	}
	/* reserved, not paged in: a trainer that copies the rows itself never writes the copy */
	uba_array_reserve(rs->cxt, (void **) &rs->x2, &rs->x2_bytes, mul_size((Size) rs->cap, xrow));
	if (rs->has_y)
		uba_array_reserve(rs->cxt, (void **) &rs->y2, &rs->y2_bytes, mul_size((Size) rs->cap, sizeof(double)));
}

/*
 * Grow the arrays to hold need rows; with copy_room, also the room the
 * ordered copy will need (a parallel worker's rows, about to be appended
 * to another state and freed, need none).
 */
static void
Grow(UbaRowSet *rs, int64 need, bool copy_room)
{
	int64		step = Max(1, (int64) (UBA_ROWSET_MAX_STEP_BYTES / RowBytes(rs)));
	int64		maxrows = (int64) (uba_memory_limit() / RowPeakBytes(rs));
	int64		old = rs->cap;
	int64		cap;
	Size		xrow = (Size) rs->dim * XElemSize(rs);

	CheckRows(rs, need);
	cap = Min(maxrows, Max(need, Max(UBA_ROWSET_FIRST_ROWS, old + Min(old, step))));

	/*
	 * Past the first rows, straight to as many as the planner expects when
	 * they fit in uba.max_memory: arrays cut from kept pages grow by a copy,
	 * and growing step by step copied the rows about twice over.
	 */
	if (old >= UBA_ROWSET_FIRST_ROWS && rs->expect > cap && rs->expect <= maxrows)
		cap = rs->expect;
	/*
	 * In the order the scan writes them (each is paged in ahead), not
	 * zeroed: every row is written before it is read.  The ordered copy is
	 * needed last.
	 */
	if (rs->single)
		uba_array_grow_raw(rs->cxt, (void **) &rs->xs, &rs->xs_bytes, mul_size((Size) cap, xrow));
	else
		uba_array_grow_raw(rs->cxt, (void **) &rs->x, &rs->x_bytes, mul_size((Size) cap, xrow));
	if (rs->hashed)
		uba_array_grow_raw(rs->cxt, (void **) &rs->keys, &rs->keys_bytes, mul_size((Size) cap, sizeof(UbaSortKey)));
	if (rs->has_y)
		uba_array_grow_raw(rs->cxt, (void **) &rs->y, &rs->y_bytes, mul_size((Size) cap, sizeof(double)));
	rs->cap = cap;
	if (copy_room)
		GrowCopyRoom(rs);
}

/*
 * The rows the planner expects a plain (ungrouped) aggregate to read, or 0:
 * with GROUP BY each group has a row set of its own, and the estimate is
 * of them all.
 */
static int64
ExpectedRows(FunctionCallInfo fcinfo)
{
	Plan	   *agg,
			   *outer;

	if (fcinfo == NULL || fcinfo->context == NULL || !IsA(fcinfo->context, AggState))
		return 0;
	agg = ((AggState *) fcinfo->context)->ss.ps.plan;
	if (agg == NULL || !IsA(agg, Agg) || ((Agg *) agg)->aggstrategy != AGG_PLAIN)
		return 0;
	outer = outerPlan(agg);
	if (outer == NULL || !(outer->plan_rows >= 1 && outer->plan_rows < 1e12))
		return 0;
	return (int64) outer->plan_rows;
}

/* An empty row set in cxt, sized later by the rows the planner expects of fcinfo's aggregate (NULL: none) */
static UbaRowSet *
NewRowSet(FunctionCallInfo fcinfo, MemoryContext cxt, int32 dim, bool has_y, bool hashed, int32 iparam,
		  Jsonb *options)
{
	UbaRowSet  *rs = MemoryContextAllocZero(cxt, sizeof(UbaRowSet));

	rs->cxt = cxt;
	rs->dim = dim;
	rs->has_y = has_y;
	rs->hashed = hashed;
	rs->iparam = iparam;
	rs->dparam = get_float8_nan();
	rs->started = GetCurrentTimestamp();
	rs->reset.func = RowSetReset;
	rs->reset.arg = rs;
	MemoryContextRegisterResetCallback(cxt, &rs->reset);
	rs->options = uba_options_copy(cxt, options);
	rs->expect = ExpectedRows(fcinfo);
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
	return NewRowSet(fcinfo, uba_agg_context(fcinfo), uba_feature_count(first), has_y, true,
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
	return NewRowSet(fcinfo, uba_agg_context(fcinfo), dim, has_y, hashed, 0, NULL);
}

/* Call fn for every collected row, in collection order (before ordering) */
void
uba_rowset_foreach(UbaRowSet *rs, void (*fn) (void *arg, int64 i, const double *x, double y),
				   void *arg)
{
	Assert(!rs->ordered && !rs->single);
	for (int64 i = 0; i < rs->n; i++)
	{
		fn(arg, i, rs->x + (Size) i * rs->dim, rs->has_y ? rs->y[i] : 0);
		if ((i & 65535) == 65535)
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

static inline uint64
DoubleBits(double v)
{
	uint64		w;

	memcpy(&w, &v, sizeof(w));
	return w;
}

static uint64
RowHash(const UbaRowSet *rs, int64 i, const double *y)
{
	int			d = rs->dim;
	uint64		h[4] = {UINT64CONST(0x27D4EB2F165667C5) ^ (uint64) d, UINT64CONST(0x165667B19E3779F9),
	UINT64CONST(0x85EBCA77C2B2AE63), UINT64CONST(0xFF51AFD7ED558CCD)};
	uint64		w;
	int			j = 0;

	/*
	 * Value j goes to chain j & 3 (four independent chains, unrolled so
	 * that they stay in registers); float4 rows hash as the doubles they
	 * read as.
	 */
	if (rs->single)
	{
		const float *x = rs->xs + (Size) i * d;

		for (; j + 4 <= d; j += 4)
			for (int t = 0; t < 4; t++)
				h[t] = MixWord(h[t], DoubleBits(x[j + t]));
		for (; j < d; j++)
			h[j & 3] = MixWord(h[j & 3], DoubleBits(x[j]));
	}
	else
	{
		const double *x = rs->x + (Size) i * d;

		for (; j + 4 <= d; j += 4)
			for (int t = 0; t < 4; t++)
				h[t] = MixWord(h[t], DoubleBits(x[j + t]));
		for (; j < d; j++)
			h[j & 3] = MixWord(h[j & 3], DoubleBits(x[j]));
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

/* Record the row just written at position n */
static inline void
RowDone(UbaRowSet *rs, double y)
{
	int64		i = rs->n;

	if (rs->has_y)
		rs->y[i] = y;
	/* typed rows and text labels are hashed once their levels are ranked (SortCanonical) */
	if (rs->hashed && rs->enc == NULL && rs->ylevels == NULL)
	{
		rs->keys[i].key = RowHash(rs, i, rs->has_y ? &y : NULL);
		rs->keys[i].idx = i;
	}
	rs->n++;
}

/* Text labels' handles' ranks in byte order (applied as the rows are hashed), or NULL */
static int64 *
LabelRanks(UbaRowSet *rs)
{
	UbaIdDict  *d = rs->ylevels;
	int64	   *rank;

	if (d == NULL || d->n == 0)
		return NULL;
	rank = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * d->n);
	for (int64 h = 0; h < d->n; h++)
		rank[h] = h;
	uba_id_dict_canonical(d, rank, d->n);
	return rank;
}

/*
 * Where the next row is read to: its place in the rows, or (float4 rows)
 * the scratch row that StoreRow() narrows into its place
 */
static inline double *
NextRow(UbaRowSet *rs)
{
	if (rs->n == rs->cap)
		Grow(rs, rs->n + 1, true);
	return rs->single ? rs->scratch : rs->x + (Size) rs->n * rs->dim;
}

static inline void
StoreRow(UbaRowSet *rs)
{
	if (rs->single)
	{
		float	   *to = rs->xs + (Size) rs->n * rs->dim;

		for (int j = 0; j < rs->dim; j++)
			to[j] = (float) rs->scratch[j];
	}
}

/* Append one row (checked: length, NULLs, finite values) */
void
uba_rowset_add(UbaRowSet *rs, ArrayType *features, double y)
{
	uba_read_features(features, NextRow(rs), rs->dim);
	StoreRow(rs);
	RowDone(rs, y);
}

/*
 * Keep the rows in float4 from here on (a new row set: before its first
 * row).  For trainers whose library reads float32: the values it gets are
 * the same, in half the memory.
 */
void
uba_rowset_use_float4(UbaRowSet *rs)
{
	Assert(rs->n == 0 && rs->cap == 0 && rs->x == NULL);
	rs->single = true;
	if (rs->scratch == NULL)
		rs->scratch = MemoryContextAllocZero(rs->cxt, sizeof(double) * rs->dim);
}

/*
 * Create the state on an aggregate's first non-NULL row when the features
 * are a row (argument argno): one raw value per column (encode.c), the
 * encoding decided when the rows are ordered.
 */
UbaRowSet *
uba_rowset_start_row(FunctionCallInfo fcinfo, int argno, bool has_y, int32 iparam,
					 Jsonb *options, int mode, const char *funcname)
{
	MemoryContext cxt = uba_agg_context(fcinfo);
	UbaEncoding *e = uba_encoding_start(cxt, PG_GETARG_HEAPTUPLEHEADER(argno), mode, funcname);
	UbaRowSet  *rs = NewRowSet(fcinfo, cxt, e->ncols, has_y, true, iparam, options);

	rs->enc = e;
	return rs;
}

/* Append the row in argument argno (a rowset of typed rows) */
void
uba_rowset_add_row(UbaRowSet *rs, FunctionCallInfo fcinfo, int argno, double y)
{
	double	   *to;

	if (rs->enc == NULL)
		elog(ERROR, "uba: typed row given to a row set of arrays");
	if (rs->n == rs->cap)
	{
		Grow(rs, rs->n + 1, true);
		/* the categories' dictionaries count too */
		if (add_size(uba_encoding_bytes(rs->enc), mul_size((Size) rs->cap, RowPeakBytes(rs))) > uba_memory_limit())
			CheckRows(rs, PG_INT64_MAX / 2);
	}
	to = NextRow(rs);
	uba_encoding_read(rs->enc, PG_GETARG_HEAPTUPLEHEADER(argno), to);
	StoreRow(rs);
	RowDone(rs, y);
}

/*
 * The value a text label is collected as: its handle in the row set's
 * label dictionary (made on the first label), a rank in byte order once
 * the rows are ordered.  Such row sets are not combined across workers.
 */
double
uba_rowset_text_label(UbaRowSet *rs, Datum label)
{
	if (rs->ylevels == NULL)
	{
		rs->ylevels = MemoryContextAllocZero(rs->cxt, sizeof(UbaIdDict));
		uba_id_dict_init(rs->ylevels, rs->cxt, UBA_ID_TEXT);
	}
	return (double) uba_id_handle(rs->ylevels, label, TEXTOID);
}

/* Append one row of dim values the caller has checked */
void
uba_rowset_add_values(UbaRowSet *rs, const double *x, double y)
{
	memcpy(NextRow(rs), x, sizeof(double) * rs->dim);
	StoreRow(rs);
	RowDone(rs, y);
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

/* The per-call real parameter (such as eps) too; NaN is none, equal to itself */
void
uba_rowset_check_dparam(UbaRowSet *rs, double dparam, const char *what)
{
	if (!(rs->dparam == dparam || (isnan(rs->dparam) && isnan(dparam))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be the same for every row of one aggregate call", what),
				 errdetail("Got %g and %g.", rs->dparam, dparam)));
}

/* What CompareRows needs to find rows */
typedef struct CompareArg
{
	const UbaRowSet *rs;
	const double *y;
} CompareArg;

/* Order rows with equal hashes by content (equal rows, or a hash collision) */
static int
CompareRows(const void *a, const void *b, void *arg)
{
	const CompareArg *ca = (const CompareArg *) arg;
	int64		ra = ((const UbaSortKey *) a)->idx;
	int64		rb = ((const UbaSortKey *) b)->idx;
	int			c;

	c = memcmp(RowAt(ca->rs, ra), RowAt(ca->rs, rb), ca->rs->dim * XElemSize(ca->rs));
	if (c == 0 && ca->y)
		c = memcmp(&ca->y[ra], &ca->y[rb], sizeof(double));
	return c;
}

/* qsort and bsearch orders of plain numbers (ascending) */
int
uba_cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

int
uba_cmp_uint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return x < y ? -1 : x > y;
}

int
uba_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y;
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
		UbaSortKey *t;

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

/* Order of two sort keys by key alone */
static int
CompareKeys(const void *a, const void *b)
{
	uint64		ka = ((const UbaSortKey *) a)->key;
	uint64		kb = ((const UbaSortKey *) b)->key;

	return ka < kb ? -1 : ka > kb;
}

#define SORT_MAX_PARTS 8

/* What the parts of SortRowKeys share */
typedef struct BucketSort
{
	const UbaSortKey *a;
	UbaSortKey *b;
	int64		n;
	int			shift;			/* a key's bucket is key >> shift */
	int64		nbuckets;
	int			nparts;			/* contiguous parts of a, counted and scattered apart */
	int64	   *pos;			/* nparts x nbuckets: counts, then where a part writes next */
	int64	   *end;			/* nbuckets: where each bucket ends in b */
	int64		nblocks;		/* bucket ranges, for the sorts */
} BucketSort;

static inline int64
PartStart(const BucketSort *s, int part)
{
	return s->n * part / s->nparts;
}

static void
CountPart(void *arg, int64 part, int lane)
{
	BucketSort *s = (BucketSort *) arg;
	int64	   *pos = s->pos + part * s->nbuckets;

	for (int64 i = PartStart(s, (int) part); i < PartStart(s, (int) part + 1); i++)
		pos[s->a[i].key >> s->shift]++;
}

static void
ScatterPart(void *arg, int64 part, int lane)
{
	BucketSort *s = (BucketSort *) arg;
	int64	   *pos = s->pos + part * s->nbuckets;

	for (int64 i = PartStart(s, (int) part); i < PartStart(s, (int) part + 1); i++)
		s->b[pos[s->a[i].key >> s->shift]++] = s->a[i];
}

/* Finish the buckets of one range in cache */
static void
SortBuckets(void *arg, int64 block, int lane)
{
	BucketSort *s = (BucketSort *) arg;
	int64		v0 = s->nbuckets * block / s->nblocks;
	int64		v1 = s->nbuckets * (block + 1) / s->nblocks;

	for (int64 v = v0; v < v1; v++)
	{
		int64		first = v > 0 ? s->end[v - 1] : 0;
		int64		m = s->end[v] - first;
		UbaSortKey *r = s->b + first;

		if (m > 32)
			qsort(r, m, sizeof(UbaSortKey), CompareKeys);
		else
			for (int64 i = 1; i < m; i++)
			{
				UbaSortKey	t = r[i];
				int64		j = i;

				for (; j > 0 && r[j - 1].key > t.key; j--)
					r[j] = r[j - 1];
				r[j] = t;
			}
	}
}

/*
 * Sort row keys by hash into b (a is left in any order).  Row hashes are
 * uniform, so one counting pass on their top bits spreads the keys over
 * buckets of at most 16 on average, and each bucket is finished in cache:
 * by insertion sort, or when many keys share one (equal rows, or rows
 * made to collide) by qsort, so no input makes it quadratic.  Counting,
 * scattering and finishing run on uba.threads threads: each part of a
 * scatters after the parts before it in every bucket, so b is the same
 * as one thread's, in any order of equal keys too.
 */
static void
SortRowKeys(UbaSortKey *a, UbaSortKey *b, int64 n)
{
	int			bits = 8;
	BucketSort	s;

	while (bits < 20 && (INT64CONST(16) << bits) < n)
		bits++;
	s.a = a;
	s.b = b;
	s.n = n;
	s.shift = 64 - bits;
	s.nbuckets = (int64) 1 << bits;
	/*
	 * A part per thread, each of at least 64k keys, at most 8: the scatter
	 * is bound by memory, and each part counts in an array of its own (8 MB
	 * at 2^20 buckets)
	 */
	s.nparts = (int) Max(1, Min(Min(uba_thread_count(), SORT_MAX_PARTS), n >> 16));
	s.pos = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * s.nparts * s.nbuckets);
	memset(s.pos, 0, sizeof(int64) * s.nparts * s.nbuckets);
	s.end = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * s.nbuckets);
	s.nblocks = Min(s.nbuckets, 64);

	uba_run_lanes(s.nparts, s.nparts, s.nparts, CountPart, &s);
	for (int64 v = 0, at = 0; v < s.nbuckets; v++)
	{
		for (int part = 0; part < s.nparts; part++)
		{
			int64		c = s.pos[part * s.nbuckets + v];

			s.pos[part * s.nbuckets + v] = at;
			at += c;
		}
		s.end[v] = at;
	}
	uba_run_lanes(s.nparts, s.nparts, s.nparts, ScatterPart, &s);
	uba_run_lanes(s.nblocks, Min(s.nblocks, UBA_LANES), uba_thread_count(), SortBuckets, &s);
	pfree(s.pos);
	pfree(s.end);
}

/* What GatherBlock needs */
typedef struct GatherArg
{
	UbaRowSet  *rs;
	const double *shift;		/* dim: subtracted before summing */
	double	   *lane_sums;		/* UBA_LANES x 2 x dim: sums of x - shift, of (x - shift)^2 */
} GatherArg;

/* Add rows' shifted values and their squares to column sums s1, s2 */
UBA_TARGET_CLONES
static void
AddMoments(const double *restrict X, int64 rows, int d, const double *restrict shift,
		   double *restrict s1, double *restrict s2)
{
	for (int64 i = 0; i < rows; i++)
		for (int j = 0; j < d; j++)
		{
			double		t = X[(Size) i * d + j] - shift[j];

			s1[j] += t;
			s2[j] += t * t;
		}
}

/*
 * Copy one block of rows into their canonical places (runs on any thread),
 * then add them to the lane's column sums while they are in cache (a
 * block of 4096 rows of 20 features is 640 kB).  The
 * destination was paged in while the rows were read, so this is a plain
 * copy: random reads, sequential writes.
 */
static void
GatherBlock(void *arg, int64 block, int lane)
{
	GatherArg  *g = (GatherArg *) arg;
	UbaRowSet  *rs = g->rs;
	int			d = rs->dim;
	const UbaSortKey *sorted = rs->keys2;
	int64		i0 = block * UBA_BLOCK_ROWS;
	int64		i1 = Min(rs->n, i0 + UBA_BLOCK_ROWS);
	double	   *s1 = g->lane_sums + (Size) lane * 2 * d;

	for (int64 i = i0; i < i1; i++)
	{
		int64		r = sorted[i].idx;

		memcpy(rs->x2 + (Size) i * d, rs->x + (Size) r * d, sizeof(double) * d);
		if (rs->has_y)
			rs->y2[i] = rs->y[r];
	}
	AddMoments(rs->x2 + (Size) i0 * d, i1 - i0, d, g->shift, s1, s1 + d);
}

/* What HashBlock needs */
typedef struct HashArg
{
	UbaRowSet  *rs;
	int64	  **col_rank;		/* per column: handle -> rank of a category, or NULL */
	const int64 *y_rank;		/* text labels' handle -> rank, or NULL */
} HashArg;

/*
 * Hash a block of rows into their keys, first giving typed rows'
 * categories and text labels their ranks (pure computation: runs on
 * helper threads; each row is in cache for both).
 */
static void
HashBlock(void *arg, int64 block, int lane)
{
	HashArg    *h = (HashArg *) arg;
	UbaRowSet  *rs = h->rs;
	int			d = rs->dim;
	int			ncols = rs->enc != NULL ? rs->enc->ncols : 0;
	int64		i1 = Min(rs->n, (block + 1) * UBA_BLOCK_ROWS);

	for (int64 i = block * UBA_BLOCK_ROWS; i < i1; i++)
	{
		if (h->col_rank != NULL)
		{
			if (rs->single)
				uba_encoding_map_row_float4(rs->xs + (Size) i * d, ncols, h->col_rank);
			else
				uba_encoding_map_row(rs->x + (Size) i * d, ncols, h->col_rank);
		}
		if (h->y_rank != NULL)
			rs->y[i] = (double) h->y_rank[(int64) rs->y[i]];
		rs->keys[i].key = RowHash(rs, i, rs->has_y ? &rs->y[i] : NULL);
		rs->keys[i].idx = i;
	}
}

/*
 * Sort the row keys into the canonical order (keys2; idx is a row's arrival
 * position), the rows staying where they are.  Typed rows and text labels
 * first get their levels' ranks, so the order does not depend on arrival.
 */
static void
SortCanonical(UbaRowSet *rs)
{
	int64		n = rs->n;
	CompareArg	carg;

	/* typed rows and text labels: levels by byte order, not arrival, then the rows hashed */
	if (rs->enc != NULL || rs->ylevels != NULL)
	{
		HashArg		h;

		h.rs = rs;
		h.col_rank = rs->enc != NULL ? uba_encoding_ranks(rs->enc, rs) : NULL;
		h.y_rank = LabelRanks(rs);
		uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
					  HashBlock, &h);
		if (h.col_rank != NULL)
		{
			for (int k = 0; k < rs->enc->ncols; k++)
				if (h.col_rank[k] != NULL)
					pfree(h.col_rank[k]);
			pfree(h.col_rank);
		}
		if (h.y_rank != NULL)
			pfree((void *) h.y_rank);
	}

	GrowCopyRoom(rs);			/* a deserialized state that nothing was appended to */
	uba_array_page_in((void **) &rs->keys2, &rs->keys2_bytes, mul_size((Size) n, sizeof(UbaSortKey)));
	SortRowKeys(rs->keys, rs->keys2, n);
	carg.rs = rs;
	carg.y = rs->has_y ? rs->y : NULL;
	for (int64 i = 0; i < n;)
	{
		int64		j = i + 1;

		while (j < n && rs->keys2[j].key == rs->keys2[i].key)
			j++;
		if (j - i > 1)
			qsort_arg(rs->keys2 + i, j - i, sizeof(UbaSortKey), CompareRows, &carg);
		i = j;
	}
}

/*
 * The canonical order without moving the rows, for a trainer that copies
 * them anyway (boosted trees make a float32 copy): the sorted keys, whose
 * idx is each row's arrival position.  The rows are not gathered into a
 * second copy, which saves their size in memory and a pass; float4 rows
 * keep the room for the trainer's copy (xs2).  Typed rows must be of
 * codes (their levels are decided here, as for the order).
 */
const UbaSortKey *
uba_rowset_canonical_keys(UbaRowSet *rs)
{
	Assert(rs->hashed && !rs->ordered);
	Assert(rs->enc == NULL || rs->enc->mode == UBA_ENC_CODES);
	if (rs->n == 0)
		return NULL;
	SortCanonical(rs);
	CHECK_FOR_INTERRUPTS();
	/* the room kept for an ordered double copy is not needed */
	uba_array_free((void **) &rs->x2, &rs->x2_bytes);
	uba_array_free((void **) &rs->y2, &rs->y2_bytes);
	if (rs->enc != NULL)
		uba_encoding_expand(rs->enc, rs);
	return rs->keys2;
}

/*
 * Put the rows in canonical order, independent of the order they arrived
 * in: by row hash, then by content, and compute the columns' means and
 * variances on the way (uba_rowset_moments).  Consumers of x and y call
 * this first.
 */
void
uba_rowset_canonical_order(UbaRowSet *rs)
{
	int64		n = rs->n;
	int			d = rs->dim;
	int64		m = Min(n, 1024);
	GatherArg	g;
	double	   *shift;

	if (rs->single)
		elog(ERROR, "uba: float4 rows have no ordered double copy");
	if (rs->ordered)
		return;
	Assert(rs->hashed);
	rs->ordered = true;
	if (n == 0)
		return;
	/* the ordered copy is written below: page its room in while the keys are sorted */
	GrowCopyRoom(rs);
	uba_array_page_in((void **) &rs->x2, &rs->x2_bytes, mul_size((Size) n, (Size) d * sizeof(double)));
	if (rs->has_y)
		uba_array_page_in((void **) &rs->y2, &rs->y2_bytes, mul_size((Size) n, sizeof(double)));
	SortCanonical(rs);
	CHECK_FOR_INTERRUPTS();

	/*
	 * Moments in one pass, stable: sums of x - shift with the shift the
	 * mean of the first (random, by the order) 1024 rows, so the mean's
	 * correction is small and the variance keeps its digits.
	 */
	shift = palloc0(sizeof(double) * d);
	for (int64 i = 0; i < m; i++)
		for (int j = 0; j < d; j++)
			shift[j] += rs->x[(Size) rs->keys2[i].idx * d + j];
	for (int j = 0; j < d; j++)
		shift[j] /= (double) m;
	g.rs = rs;
	g.shift = shift;
	g.lane_sums = MemoryContextAllocHuge(CurrentMemoryContext,
										 mul_size(sizeof(double) * 2 * UBA_LANES, (Size) d));
	memset(g.lane_sums, 0, sizeof(double) * 2 * UBA_LANES * d);
	uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
				  GatherBlock, &g);

	rs->mean = MemoryContextAllocZero(rs->cxt, sizeof(double) * d);
	rs->var = MemoryContextAllocZero(rs->cxt, sizeof(double) * d);
	for (int l = 0; l < UBA_LANES; l++)
		for (int j = 0; j < d; j++)
		{
			rs->mean[j] += g.lane_sums[(Size) l * 2 * d + j];
			rs->var[j] += g.lane_sums[(Size) l * 2 * d + d + j];
		}
	for (int j = 0; j < d; j++)
	{
		double		dm = rs->mean[j] / (double) n;

		rs->mean[j] = shift[j] + dm;
		rs->var[j] = Max(0.0, rs->var[j] / (double) n - dm * dm);
	}
	pfree(g.lane_sums);
	pfree(shift);

	/* aggregates whose rows keep their input order (ORDER BY in the call) need the way back */
	if (rs->keep_arrival)
	{
		rs->arrival = MemoryContextAllocHuge(rs->cxt, sizeof(int64) * n);
		for (int64 i = 0; i < n; i++)
			rs->arrival[i] = rs->keys2[i].idx;
	}

	/* the rows in arrival order go (unmapped on the background thread) */
	uba_array_free((void **) &rs->x, &rs->x_bytes);
	uba_array_free((void **) &rs->y, &rs->y_bytes);
	uba_array_free((void **) &rs->keys, &rs->keys_bytes);
	uba_array_free((void **) &rs->keys2, &rs->keys2_bytes);
	rs->x = rs->x2;
	rs->x_bytes = rs->x2_bytes;
	rs->y = rs->y2;
	rs->y_bytes = rs->y2_bytes;
	rs->x2 = rs->y2 = NULL;
	rs->x2_bytes = rs->y2_bytes = 0;

	/* typed rows: the levels kept, and one-hot models' encoded rows */
	if (rs->enc != NULL)
		uba_encoding_expand(rs->enc, rs);
}

/* The collected rows, copied row by row (rows of up to UBA_GROUPED_MAX_DIM values) */
#define UBA_GROUPED_MAX_DIM 8

typedef struct GroupedCopy
{
	double	   *rows;
	int			dim;
} GroupedCopy;

static void
CopyRow(void *arg, int64 i, const double *x, double y)
{
	GroupedCopy *g = (GroupedCopy *) arg;

	memcpy(g->rows + (Size) i * g->dim, x, sizeof(double) * g->dim);
}

static int
CompareGroupRows(const void *a, const void *b, void *arg)
{
	const double *p = (const double *) a;
	const double *q = (const double *) b;
	int			dim = *(const int *) arg;

	for (int j = 0; j < dim; j++)
		if (p[j] != q[j])
			return p[j] < q[j] ? -1 : 1;
	return 0;
}

/*
 * The distinct rows of a row set, in ascending order (by the first value,
 * then the next...), with how many times each came: for trainers whose
 * rows are few numbers that repeat (customers' summaries).  Sorted, so
 * what is computed from them does not depend on the order rows came in.
 * Returns the number of distinct rows; *rows and *counts are palloc'd.
 */
int64
uba_rowset_grouped(UbaRowSet *rs, double **rows, double **counts)
{
	GroupedCopy g;
	int			dim = rs->dim;
	int64		m = 0;

	if (dim < 1 || dim > UBA_GROUPED_MAX_DIM)
		elog(ERROR, "uba_rowset_grouped: %d values a row", dim);
	uba_check_memory(mul_size((Size) rs->n, (Size) (dim + 1) * sizeof(double)), "grouping the rows");
	g.rows = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * dim * Max(rs->n, 1));
	g.dim = dim;
	uba_rowset_foreach(rs, CopyRow, &g);
	qsort_arg(g.rows, rs->n, sizeof(double) * dim, CompareGroupRows, &dim);
	*counts = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(rs->n, 1));
	for (int64 i = 0; i < rs->n; i++)
	{
		if (m > 0 && CompareGroupRows(g.rows + (Size) i * dim, g.rows + (Size) (m - 1) * dim, &dim) == 0)
		{
			(*counts)[m - 1] += 1;
			continue;
		}
		memmove(g.rows + (Size) m * dim, g.rows + (Size) i * dim, sizeof(double) * dim);
		(*counts)[m++] = 1;
	}
	*rows = g.rows;
	return m;
}

/* Column means and population variances of the ordered rows (n > 0) */
void
uba_rowset_moments(const UbaRowSet *rs, double *mean, double *var)
{
	Assert(rs->ordered && rs->n > 0);
	memcpy(mean, rs->mean, sizeof(double) * rs->dim);
	memcpy(var, rs->var, sizeof(double) * rs->dim);
}

/*
 * Append the rows of src (a partial state, or a deserialized one) to rs;
 * src's arrays are freed.
 */
static void
AppendRows(UbaRowSet *rs, UbaRowSet *src)
{
	int64		n0 = rs->n;
	int			d = rs->dim;

	if (src->n == 0)
		return;
	if (rs->cap < n0 + src->n)
		Grow(rs, n0 + src->n, true);
	Assert(rs->single == src->single);
	memcpy((char *) RowAt(rs, n0), RowAt(src, 0), (Size) src->n * d * XElemSize(rs));
	if (rs->has_y)
		memcpy(rs->y + n0, src->y, (Size) src->n * sizeof(double));
	for (int64 i = 0; rs->hashed && i < src->n; i++)
	{
		rs->keys[n0 + i].key = src->keys[i].key;
		rs->keys[n0 + i].idx = n0 + i;
	}
	rs->n += src->n;
	FreeRows(src);
}

/* Combine two partial states (parallel aggregation): append b's rows to a */
Datum
uba_rowset_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt PG_USED_FOR_ASSERTS_ONLY = uba_agg_context(fcinfo);
	UbaRowSet  *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (UbaRowSet *) PG_GETARG_POINTER(0);
	b = (UbaRowSet *) PG_GETARG_POINTER(1);
	if (a->enc != NULL || b->enc != NULL || a->ylevels != NULL || b->ylevels != NULL)
		elog(ERROR, "uba: typed rows and text labels are not combined across parallel workers");
	Assert(b->cxt == aggcxt);

	Assert(a->hashed == b->hashed && a->single == b->single);
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array has %d elements, expected %d", b->dim, a->dim),
				 errhint("Every row, and every call scoring a model, must pass the same number of features the model was trained on.")));
	uba_rowset_check_param(a, b->iparam, "k");
	uba_rowset_check_dparam(a, b->dparam, "eps");
	uba_check_same_options(a->options, b->options);
	AppendRows(a, b);
	a->started = Min(a->started, b->started);
	PG_RETURN_POINTER(a);
}

/*
 * Serialized layout (same machine, so native byte order): header, options
 * bytes, then x, the row hashes and y of every row.
 */
typedef struct RowSetWireHeader
{
	int32		dim;
	int32		has_y;
	int32		iparam;
	double		dparam;
	int32		optlen;
	int32		hashed;
	int32		single;			/* rows of float4 */
	int64		n;
	TimestampTz started;
} RowSetWireHeader;

/* Serialize a state to pass it from a parallel worker */
Datum
uba_rowset_serialize(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = (UbaRowSet *) PG_GETARG_POINTER(0);
	RowSetWireHeader h;
	Size		xbytes = mul_size((Size) rs->n, (Size) rs->dim * XElemSize(rs));
	Size		hbytes = rs->hashed ? mul_size((Size) rs->n, sizeof(uint64)) : 0;
	Size		ybytes = rs->has_y ? mul_size((Size) rs->n, sizeof(double)) : 0;
	Size		total;
	bytea	   *out;
	char	   *p;

	if (rs->enc != NULL || rs->ylevels != NULL)
		elog(ERROR, "uba: typed rows and text labels are not sent across parallel workers");

	h.dim = rs->dim;
	h.has_y = rs->has_y;
	h.iparam = rs->iparam;
	h.dparam = rs->dparam;
	h.optlen = rs->options ? VARSIZE(rs->options) : 0;
	h.hashed = rs->hashed;
	h.single = rs->single;
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
	p += h.optlen;
	if (xbytes > 0)
		memcpy(p, RowAt(rs, 0), xbytes);
	p += xbytes;
	for (int64 i = 0; rs->hashed && i < rs->n; i++, p += sizeof(uint64))
		memcpy(p, &rs->keys[i].key, sizeof(uint64));
	if (ybytes > 0)
		memcpy(p, rs->y, ybytes);
	PG_RETURN_BYTEA_P(out);
}

/* Rebuild a state serialized by uba_rowset_serialize */
Datum
uba_rowset_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
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
	xbytes = mul_size((Size) h.n, (Size) h.dim * (h.single ? sizeof(float) : sizeof(double)));
	if (h.dim <= 0 || h.n < 0 || h.optlen < 0 ||
		len != sizeof(h) + h.optlen + xbytes + (h.hashed ? (Size) h.n * sizeof(uint64) : 0) +
		(h.has_y ? (Size) h.n * sizeof(double) : 0))
		elog(ERROR, "uba row set serialization is inconsistent");

	/* a worker's rows: the leader's plan has no estimate of them */
	rs = NewRowSet(NULL, aggcxt, h.dim, h.has_y != 0, h.hashed != 0, h.iparam,
				   h.optlen > 0 ? (Jsonb *) p : NULL);
	p += h.optlen;
	if (h.single)
		uba_rowset_use_float4(rs);
	rs->dparam = h.dparam;
	rs->started = h.started;
	if (h.n > 0)
	{
		Grow(rs, h.n, false);
		memcpy((char *) RowAt(rs, 0), p, xbytes);
		p += xbytes;
		for (int64 i = 0; rs->hashed && i < h.n; i++, p += sizeof(uint64))
		{
			memcpy(&rs->keys[i].key, p, sizeof(uint64));
			rs->keys[i].idx = i;
		}
		if (rs->has_y)
			memcpy(rs->y, p, (Size) h.n * sizeof(double));
		rs->n = h.n;
	}
	PG_RETURN_POINTER(rs);
}

/*
 * The transition of an aggregate over one feature argument (argno: a
 * float8[] or a typed row, the first row's form for all): the first row
 * parses the options against specs (to fail before millions of rows) and
 * starts the row set, typed rows encoded in mode; every row is added.
 * A NULL row is left out.  iparam rides in the row set (k for k-means).
 */
UbaRowSet *
uba_rowset_collect(FunctionCallInfo fcinfo, UbaRowSet *rs, int argno, Jsonb *opts,
				   const UbaOptionSpec *specs, int nspecs, int mode, int32 iparam, const char *funcname)
{
	bool		typed = rs != NULL ? rs->enc != NULL : uba_arg_is_row(fcinfo, argno);

	if (PG_ARGISNULL(argno))
		return rs;
	if (rs == NULL)
	{
		UbaOptions	o;

		uba_parse_row_options(opts, specs, nspecs, funcname, typed, mode, &o);
		if (typed)
			rs = uba_rowset_start_row(fcinfo, argno, false, iparam, opts, mode, funcname);
		else
		{
			uba_options_check_names(&o, uba_feature_count(PG_GETARG_ARRAYTYPE_P(argno)));
			rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(argno), false, iparam, opts);
		}
	}
	else
		uba_check_same_options(rs->options, opts);
	if (typed)
		uba_rowset_add_row(rs, fcinfo, argno, 0);
	else
		uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(argno), 0);
	return rs;
}

/*
 * The same for aggregates over (features, k [, options]) (k-means,
 * Gaussian mixtures): k is checked against 1..kmax on the first row and
 * must not change; it rides in the row set's integer parameter.  The
 * options are argument 3.
 */
UbaRowSet *
uba_rowset_collect_k(FunctionCallInfo fcinfo, UbaRowSet *rs, const UbaOptionSpec *specs, int nspecs,
					 int32 kmax, const char *funcname)
{
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	int32		k;

	if (PG_ARGISNULL(1))
		return rs;
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("k must not be NULL")));
	k = PG_GETARG_INT32(2);
	if (rs == NULL && (k < 1 || k > kmax))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d", kmax),
				 errdetail("Got %d.", k)));
	if (rs != NULL)
		uba_rowset_check_param(rs, k, "k");
	return uba_rowset_collect(fcinfo, rs, 1, opts, specs, nspecs, UBA_ENC_ONEHOT, k, funcname);
}

/*
 * The model of an aggregate over a row set: its metadata (features, rows,
 * training time, options, and the typed rows' encoding) and the payload.
 */
bytea *
uba_rowset_model(UbaModelKind kind, const UbaRowSet *rs, const UbaOptions *o, UbaWriter *payload)
{
	UbaModelMeta meta;

	uba_model_meta_init(&meta, rs->dim, rs->n, rs->started, o);
	uba_encoding_attach(&meta, rs->enc);
	return uba_model_build(kind, &meta, payload);
}
