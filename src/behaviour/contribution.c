/*-------------------------------------------------------------------------
 *
 * contribution.c
 *	  uba_contribution(is_test, dims, metric [, denominator] [, options]):
 *	  which segments drove a metric's change between a control and a test
 *	  period, as BigQuery ML's CONTRIBUTION_ANALYSIS and Snowflake's
 *	  TOP_INSIGHTS answer it.
 *
 * A segment fixes a value for each dimension of a non-empty subset of the
 * dimensions (at most max_depth of them).  Its metric in each period is a
 * sum, or a ratio of two sums; its difference, its difference from what it
 * would be had it moved like the population (unexpected difference), and
 * its contribution to the population's change (for a ratio: the change of
 * the overall ratio had only this segment's rate moved) are reported for
 * the segments above min_support, the largest contributions first.  A
 * segment is redundant, and dropped, when removing one of its conditions
 * leaves exactly the same rows: that condition adds nothing.
 *
 * The aggregate keeps one set of sums per distinct combination of
 * dimension values (its key: the values' bytes), so the state is as large
 * as the data's distinct combinations, not its rows.  The final function
 * projects the combinations on every subset of dimensions into one hash
 * table of segments, then checks, ranks and returns them.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(uba_contribution_transfn);
PG_FUNCTION_INFO_V1(uba_contribution_ratio_transfn);
PG_FUNCTION_INFO_V1(uba_contribution_final);
PG_FUNCTION_INFO_V1(uba_contribution_combine);
PG_FUNCTION_INFO_V1(uba_contribution_serialize);
PG_FUNCTION_INFO_V1(uba_contribution_deserialize);

#define CONTRIB_MAX_DIMS 32

static const UbaOptionSpec contribution_options[] = {
	{"names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	{"max_depth", UBA_OPT_INT, 3, 1, CONTRIB_MAX_DIMS, NULL},
	{"min_support", UBA_OPT_FLOAT, 0.01, 0, 1, NULL},
	{"top_k", UBA_OPT_INT, 30, 0, 1000000, NULL},
	{"prune_redundant", UBA_OPT_BOOL, 1, 0, 1, NULL},
};

/*
 * The sums of one combination or segment; index 0 is the control period, 1
 * the test.  Each sum carries its rounding error (Neumaier's compensated
 * summation): money with returns cancels to exactly 0, and a plain sum
 * leaves 1e-13 there, which turns a relative difference from NULL into -1
 * and reorders the segments tied at 0.
 */
typedef struct Sums
{
	double		num[2];			/* the metric, or the ratio's numerator */
	double		den[2];			/* the ratio's denominator */
	double		numc[2];		/* their compensations */
	double		denc[2];
	int64		rows[2];
} Sums;

/* a += b, both compensated */
static void
AddSums(Sums *a, const Sums *b)
{
	for (int p = 0; p < 2; p++)
	{
		uba_neumaier_add(&a->num[p], &a->numc[p], b->num[p]);
		uba_neumaier_add(&a->num[p], &a->numc[p], b->numc[p]);
		uba_neumaier_add(&a->den[p], &a->denc[p], b->den[p]);
		uba_neumaier_add(&a->den[p], &a->denc[p], b->denc[p]);
		a->rows[p] += b->rows[p];
	}
}

typedef struct ContribState
{
	MemoryContext cxt;
	Jsonb	   *options;
	bool		ratio;
	int32		ndims;
	UbaIdDict	combos;			/* keys: the dimension values, each a flag byte (0: NULL), length and bytes */
	Sums	   *sums;			/* per combination */
	int64		cap;
	StringInfoData key;			/* the row's key, reused from row to row */
} ContribState;

static ContribState *
NewState(MemoryContext cxt, Jsonb *options, bool ratio, int ndims)
{
	ContribState *st = MemoryContextAllocZero(cxt, sizeof(ContribState));
	UbaOptions	o;
	int			nnames;

	uba_parse_options(options, contribution_options, lengthof(contribution_options), "uba_contribution", &o);
	(void) uba_option_names(&o, "names", &nnames);
	if (nnames > 0 && nnames != ndims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"names\" of uba_contribution names %d dimensions, the rows have %d", nnames, ndims),
				 errhint("Give one name per element of the dimensions array, in its order.")));
	st->cxt = cxt;
	st->options = uba_options_copy(cxt, options);
	st->ratio = ratio;
	st->ndims = ndims;
	uba_id_dict_init(&st->combos, cxt, UBA_ID_TEXT);
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		initStringInfo(&st->key);
		MemoryContextSwitchTo(old);
	}
	return st;
}

/* The sums of combination h, growing the array within uba.max_memory */
static Sums *
SumsOf(ContribState *st, int64 h)
{
	if (h >= st->cap)
	{
		int64		cap = Max(h + 1, Max(64, st->cap * 2));

		uba_check_memory_for(add_size(mul_size((Size) cap, sizeof(Sums)), uba_id_dict_bytes(&st->combos)),
							 "keeping the combinations of dimension values of uba_contribution",
							 "use fewer dimensions, or coarser values");
		st->sums = st->sums == NULL ? MemoryContextAllocZero(st->cxt, sizeof(Sums) * cap) :
			repalloc(st->sums, sizeof(Sums) * cap);
		if (cap > st->cap)
			memset(st->sums + st->cap, 0, sizeof(Sums) * (cap - st->cap));
		st->cap = cap;
	}
	return &st->sums[h];
}

/* Shared transition: the row's combination gets its metric (and denominator) */
static Datum
Transition(FunctionCallInfo fcinfo, bool ratio)
{
	ContribState *st = PG_ARGISNULL(0) ? NULL : (ContribState *) PG_GETARG_POINTER(0);
	int			optarg = ratio ? 5 : 4;
	Jsonb	   *options = (PG_NARGS() > optarg && !PG_ARGISNULL(optarg)) ? PG_GETARG_JSONB_P(optarg) : NULL;
	ArrayType  *dims;
	Datum	   *values;
	bool	   *nulls;
	int			n;
	int			period;
	double		num,
				den = 0;
	Sums	   *s;

	/* a row without a period, dimensions or metric takes no part */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || (ratio && PG_ARGISNULL(4)))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	dims = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_NDIM(dims) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("dimensions of uba_contribution must be a one-dimensional array"),
				 errdetail("Got %d dimensions.", ARR_NDIM(dims))));
	deconstruct_array(dims, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &n);
	if (n == 0 || n > CONTRIB_MAX_DIMS)
		ereport(ERROR,
				(errcode(n == 0 ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("uba_contribution takes 1 to %d dimensions", CONTRIB_MAX_DIMS),
				 errdetail("Got %d.", n),
				 errhint("Pass the dimension values of the row, for example ARRAY[country, device, channel].")));
	if (st == NULL)
		st = NewState(uba_agg_context(fcinfo), options, ratio, n);
	else
	{
		uba_check_same_options(st->options, options);
		if (n != st->ndims)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("dimensions of uba_contribution must have the same length in every row"),
					 errdetail("Got %d dimensions after %d.", n, st->ndims)));
	}
	num = PG_GETARG_FLOAT8(3);
	if (ratio)
		den = PG_GETARG_FLOAT8(4);
	if (isnan(num) || isinf(num) || isnan(den) || isinf(den))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the metric of uba_contribution must be finite"),
				 ratio ? errdetail("Got %g over %g.", num, den) : errdetail("Got %g.", num),
				 errhint("Leave the row out, or pass NULL for it.")));
	period = PG_GETARG_BOOL(1) ? 1 : 0;

	resetStringInfo(&st->key);
	for (int d = 0; d < n; d++)
	{
		if (nulls[d])
			appendStringInfoChar(&st->key, 0);
		else
		{
			text	   *t = DatumGetTextPP(values[d]);
			int32		len = VARSIZE_ANY_EXHDR(t);

			appendStringInfoChar(&st->key, 1);
			appendBinaryStringInfo(&st->key, (const char *) &len, sizeof(int32));
			appendBinaryStringInfo(&st->key, VARDATA_ANY(t), len);
		}
	}
	s = SumsOf(st, uba_id_intern(&st->combos, st->key.data, st->key.len));
	uba_neumaier_add(&s->num[period], &s->numc[period], num);
	uba_neumaier_add(&s->den[period], &s->denc[period], den);
	s->rows[period]++;
	PG_RETURN_POINTER(st);
}

/* uba_contribution(is_test, dims, metric [, options]) transition */
Datum
uba_contribution_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, false);
}

/* uba_contribution(is_test, dims, numerator, denominator [, options]) transition */
Datum
uba_contribution_ratio_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, true);
}

/* Combine two workers' states: b's combinations added to a's */
Datum
uba_contribution_combine(PG_FUNCTION_ARGS)
{
	ContribState *a,
			   *b;
	int64	   *map;

	UBA_COMBINE_NULL_STATES();
	a = (ContribState *) PG_GETARG_POINTER(0);
	b = (ContribState *) PG_GETARG_POINTER(1);
	uba_check_same_options(a->options, b->options);
	if (a->ratio != b->ratio || a->ndims != b->ndims)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("dimensions of uba_contribution must have the same length in every row"),
				 errdetail("Got %d dimensions after %d.", b->ndims, a->ndims)));
	map = uba_id_dict_merge(&a->combos, &b->combos);
	for (int64 h = 0; h < b->combos.n; h++)
		AddSums(SumsOf(a, map[h]), &b->sums[h]);
	PG_RETURN_POINTER(a);
}

/* Serialized: kind, dimensions, options, the combinations' keys, then their sums */
Datum
uba_contribution_serialize(PG_FUNCTION_ARGS)
{
	ContribState *st = (ContribState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	StringInfoData keys;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, st->ratio ? 1 : 0);
	pq_sendint32(&buf, st->ndims);
	uba_options_send(&buf, st->options);
	initStringInfo(&keys);
	uba_id_dict_serialize(&st->combos, &keys);
	pq_sendint32(&buf, keys.len);
	pq_sendbytes(&buf, keys.data, keys.len);
	pq_sendint64(&buf, st->combos.n);
	if (st->combos.n > 0)
		pq_sendbytes(&buf, (const char *) st->sums, (int) (sizeof(Sums) * st->combos.n));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
uba_contribution_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	MemoryContext cxt = uba_agg_context(fcinfo);
	StringInfoData buf;
	ContribState *st;
	int			ratio,
				ndims;
	int32		keylen;
	int64		n;
	const char *p;

	uba_message_of(&buf, in);
	ratio = pq_getmsgbyte(&buf);
	ndims = pq_getmsgint(&buf, 4);
	if (ratio > 1 || ndims < 1 || ndims > CONTRIB_MAX_DIMS)
		elog(ERROR, "uba: corrupted contribution state");
	st = NewState(cxt, uba_options_receive(&buf, CurrentMemoryContext), ratio == 1, ndims);
	keylen = pq_getmsgint(&buf, 4);
	if (keylen < 0 || keylen > buf.len - buf.cursor)
		elog(ERROR, "uba: corrupted contribution state");
	p = pq_getmsgbytes(&buf, keylen);
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		uba_id_dict_deserialize(&st->combos, cxt, &p, p + keylen);
		MemoryContextSwitchTo(old);
	}
	n = pq_getmsgint64(&buf);
	if (n != st->combos.n || n < 0 || (Size) n * sizeof(Sums) != (Size) (buf.len - buf.cursor))
		elog(ERROR, "uba: corrupted contribution state");
	if (n > 0)
	{
		(void) SumsOf(st, n - 1);
		memcpy(st->sums, pq_getmsgbytes(&buf, (int) (sizeof(Sums) * n)), sizeof(Sums) * n);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/* ---------- segments ---------- */

/* A segment: a subset of dimensions (mask) and a value for each, with its sums */
typedef struct Segment
{
	uint64		mask;
	int64		vals;			/* its values in the pool: one per dimension of the mask, in order */
	Sums		s;
	bool		pruned;
	char	   *json;			/* the segment as jsonb text, for kept ones */
	double		contribution;	/* NaN: NULL */
	int			depth;
} Segment;

typedef struct SegTable
{
	Segment    *seg;
	int64		n;
	int64		cap;
	uint32	   *pool;
	int64		npool;
	int64		poolcap;
	int64	   *slot;			/* segment index + 1, 0 when empty */
	uint64		nslots;
	Size		base_bytes;		/* the combinations', for the memory limit */
} SegTable;

static uint64
SegHash(uint64 mask, const uint32 *vals, int k)
{
	uint64		h = hash_bytes_uint32_extended((uint32) mask, mask >> 32);

	for (int i = 0; i < k; i++)
		h = hash_combine64(h, hash_bytes_uint32_extended(vals[i], 0));
	return h;
}

static void
SegMemory(SegTable *t, int64 segcap, int64 poolcap, uint64 nslots)
{
	uba_check_memory_for(add_size(t->base_bytes,
								  add_size(add_size(mul_size((Size) segcap, sizeof(Segment)),
													mul_size((Size) poolcap, sizeof(uint32))),
										   mul_size((Size) nslots, sizeof(int64)))),
						 "projecting uba_contribution's rows on its segments",
						 "lower max_depth, use fewer dimensions, or coarser values");
}

static void
SegRehash(SegTable *t)
{
	uint64		nslots = t->nslots == 0 ? 1024 : t->nslots * 2;

	SegMemory(t, t->cap, t->poolcap, nslots);
	if (t->slot)
		pfree(t->slot);
	t->slot = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * nslots);
	memset(t->slot, 0, sizeof(int64) * nslots);
	t->nslots = nslots;
	for (int64 i = 0; i < t->n; i++)
	{
		const Segment *g = &t->seg[i];
		uint64		s = SegHash(g->mask, t->pool + g->vals, g->depth) & (nslots - 1);

		while (t->slot[s] != 0)
			s = (s + 1) & (nslots - 1);
		t->slot[s] = i + 1;
	}
}

/* The segment of mask and vals (depth values), or -1; with add, made when missing */
static int64
SegFind(SegTable *t, uint64 mask, const uint32 *vals, int depth, bool add)
{
	uint64		s;
	Segment    *g;

	if (t->nslots == 0 || (uint64) (t->n + 1) * 2 > t->nslots)
	{
		if (!add && t->nslots == 0)
			return -1;
		if (add)
			SegRehash(t);
	}
	for (s = SegHash(mask, vals, depth) & (t->nslots - 1); t->slot[s] != 0; s = (s + 1) & (t->nslots - 1))
	{
		g = &t->seg[t->slot[s] - 1];
		if (g->mask == mask && memcmp(t->pool + g->vals, vals, sizeof(uint32) * depth) == 0)
			return t->slot[s] - 1;
	}
	if (!add)
		return -1;
	if (t->n == t->cap || t->npool + depth > t->poolcap)
	{
		int64		cap = t->n == t->cap ? Max(1024, t->cap * 2) : t->cap;
		int64		poolcap = t->npool + depth > t->poolcap ? Max(4096, t->poolcap * 2) : t->poolcap;

		SegMemory(t, cap, poolcap, t->nslots);
		if (cap != t->cap)
			t->seg = t->seg ? repalloc_huge(t->seg, sizeof(Segment) * cap)
				: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Segment) * cap);
		if (poolcap != t->poolcap)
			t->pool = t->pool ? repalloc_huge(t->pool, sizeof(uint32) * poolcap)
				: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * poolcap);
		t->cap = cap;
		t->poolcap = poolcap;
	}
	g = &t->seg[t->n];
	memset(g, 0, sizeof(Segment));
	g->mask = mask;
	g->depth = depth;
	g->vals = t->npool;
	memcpy(t->pool + t->npool, vals, sizeof(uint32) * depth);
	t->npool += depth;
	t->slot[s] = t->n + 1;
	return t->n++;
}

/* The metric of one period: a sum, or a ratio of sums (NaN for NULL) */
static double
Metric(const Sums *s, bool ratio, int p)
{
	double		num = s->num[p] + s->numc[p],
				den = s->den[p] + s->denc[p];

	if (!ratio)
		return num;
	if (s->rows[p] == 0 || den == 0)
		return NAN;
	return num / den;
}

static int
CompareSegments(const void *pa, const void *pb)
{
	const Segment *a = *(Segment *const *) pa;
	const Segment *b = *(Segment *const *) pb;
	bool		an = isnan(a->contribution),
				bn = isnan(b->contribution);

	if (an != bn)
		return an ? 1 : -1;
	if (!an && fabs(a->contribution) != fabs(b->contribution))
		return fabs(a->contribution) > fabs(b->contribution) ? -1 : 1;
	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	return strcmp(a->json, b->json);
}

/* The value key of dimension d's value v, as JSON */
static void
AppendValue(StringInfo out, const UbaIdDict *vals, uint32 v)
{
	const char *p = vals->bytes + vals->off[v];
	int			len = (int) (vals->off[v + 1] - vals->off[v]);

	if (p[0] == 0)
		appendStringInfoString(out, "null");
	else
	{
		char	   *s = pnstrdup(p + 1, len - 1);

		escape_json(out, s);
		pfree(s);
	}
}

/* A float, NULL for NaN; + 0.0 turns -0 into 0 */
static Datum
Float8OrNull(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(*isnull ? 0 : v + 0.0);
}

/* Final: every segment, checked, ranked, as uba_contribution_row[] */
Datum
uba_contribution_final(PG_FUNCTION_ARGS)
{
	ContribState *st = PG_ARGISNULL(0) ? NULL : (ContribState *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	char	  **names;
	int			nnames,
				D,
				max_depth,
				top_k;
	double		min_support;
	bool		prune;
	MemoryContext cxt,
				old;
	UbaIdDict	vals;
	uint32	   *cv;				/* per combination, each dimension's value */
	Sums		pop;
	int64		total_rows;
	SegTable	t;
	Segment   **kept;
	int64		nkept = 0;
	double		ptest,
				pcontrol,
				pchange;
	Oid			arraytype,
				rowtype;
	TupleDesc	desc;
	Datum	   *out;
	int64		nout = 0;
	ArrayType  *result;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (st == NULL || st->combos.n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, contribution_options, lengthof(contribution_options), "uba_contribution", &o);
	names = uba_option_names(&o, "names", &nnames);
	D = st->ndims;
	max_depth = Min((int) uba_option(&o, "max_depth"), D);
	min_support = uba_option(&o, "min_support");
	top_k = (int) uba_option(&o, "top_k");
	prune = uba_option(&o, "prune_redundant") != 0;

	arraytype = get_fn_expr_rettype(fcinfo->flinfo);
	rowtype = get_element_type(arraytype);
	if (!OidIsValid(rowtype))
		elog(ERROR, "uba_contribution: cannot tell its result type");
	desc = lookup_rowtype_tupdesc_copy(rowtype, -1);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba contribution", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* each combination's values as dense ids (one dictionary for all dimensions) */
	uba_id_dict_init(&vals, cxt, UBA_ID_TEXT);
	cv = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->combos.n * D);
	memset(&pop, 0, sizeof(pop));
	for (int64 h = 0; h < st->combos.n; h++)
	{
		const char *p = st->combos.bytes + st->combos.off[h];

		if ((h & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int d = 0; d < D; d++)
		{
			int32		len = 0;

			if (p[0] == 1)
				memcpy(&len, p + 1, sizeof(int32));
			/* the value's key: its flag byte, then its bytes */
			{
				char	   *k = palloc(len + 1);

				k[0] = p[0];
				if (len > 0)
					memcpy(k + 1, p + 1 + sizeof(int32), len);
				cv[h * D + d] = (uint32) uba_id_intern(&vals, k, len + 1);
				pfree(k);
			}
			p += p[0] == 1 ? 1 + sizeof(int32) + len : 1;
		}
		AddSums(&pop, &st->sums[h]);
	}
	total_rows = pop.rows[0] + pop.rows[1];

	/* every segment: the combinations projected on each subset of at most max_depth dimensions */
	memset(&t, 0, sizeof(t));
	t.base_bytes = uba_id_dict_bytes(&st->combos) + uba_id_dict_bytes(&vals) +
		(Size) st->combos.n * (sizeof(Sums) + sizeof(uint32) * D);
	for (int k = 1; k <= max_depth; k++)
	{
		uint64		full = D == 64 ? ~UINT64CONST(0) : (UINT64CONST(1) << D) - 1;
		uint64		m = (UINT64CONST(1) << k) - 1;

		while (m <= full && m != 0)
		{
			uint32		key[CONTRIB_MAX_DIMS];
			uint64		lowest,
						ripple;

			for (int64 h = 0; h < st->combos.n; h++)
			{
				int			j = 0;
				int64		idx;
				Segment    *g;

				if ((h & 4095) == 0)
					CHECK_FOR_INTERRUPTS();
				for (int d = 0; d < D; d++)
					if (m & (UINT64CONST(1) << d))
						key[j++] = cv[h * D + d];
				idx = SegFind(&t, m, key, k, true);	/* may move t.seg: index after */
				g = &t.seg[idx];
				AddSums(&g->s, &st->sums[h]);
			}
			/* the next mask of k bits (Gosper) */
			lowest = m & -m;
			ripple = m + lowest;
			if (ripple == 0 || ripple > full)
				break;
			m = (((ripple ^ m) >> 2) / lowest) | ripple;
		}
	}

	/* support, redundancy, contribution */
	ptest = Metric(&pop, st->ratio, 1);
	pcontrol = Metric(&pop, st->ratio, 0);
	pchange = ptest - pcontrol;
	kept = MemoryContextAllocHuge(cxt, sizeof(Segment *) * Max(t.n, 1));
	for (int64 i = 0; i < t.n; i++)
	{
		Segment    *g = &t.seg[i];
		int64		rows = g->s.rows[0] + g->s.rows[1];
		double		mt,
					mc;

		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if ((double) rows / (double) total_rows < min_support)
			continue;
		if (prune)
		{
			if (g->depth == 1)
				g->pruned = g->s.rows[0] == pop.rows[0] && g->s.rows[1] == pop.rows[1];
			else
			{
				/* each parent: one condition fewer */
				const uint32 *v = t.pool + g->vals;

				for (int d = 0; d < D && !g->pruned; d++)
				{
					uint32		key[CONTRIB_MAX_DIMS];
					int			j = 0,
								pos = 0;
					int64		parent;

					if (!(g->mask & (UINT64CONST(1) << d)))
						continue;
					for (int e = 0; e < D; e++)
					{
						if (!(g->mask & (UINT64CONST(1) << e)))
							continue;
						if (e != d)
							key[j++] = v[pos];
						pos++;
					}
					parent = SegFind(&t, g->mask & ~(UINT64CONST(1) << d), key, g->depth - 1, false);
					if (parent >= 0 && t.seg[parent].s.rows[0] == g->s.rows[0] &&
						t.seg[parent].s.rows[1] == g->s.rows[1])
						g->pruned = true;
				}
			}
			if (g->pruned)
				continue;
		}
		mt = Metric(&g->s, st->ratio, 1);
		mc = Metric(&g->s, st->ratio, 0);
		if (!st->ratio)
			g->contribution = mt - mc;
		else if (isnan(mt) || isnan(mc) || pop.den[1] + pop.denc[1] == 0)
			g->contribution = NAN;
		else
			g->contribution = (mt - mc) * (g->s.den[1] + g->s.denc[1]) / (pop.den[1] + pop.denc[1]);
		/* the segment as JSON, keys in jsonb's order (it sorts them when it parses) */
		{
			StringInfoData js;
			const uint32 *v = t.pool + g->vals;
			int			pos = 0;
			Jsonb	   *jb;

			initStringInfo(&js);
			appendStringInfoChar(&js, '{');
			for (int d = 0; d < D; d++)
			{
				if (!(g->mask & (UINT64CONST(1) << d)))
					continue;
				if (pos > 0)
					appendStringInfoString(&js, ", ");
				if (nnames > 0)
					escape_json(&js, names[d]);
				else
				{
					char		name[32];

					snprintf(name, sizeof(name), "dim%d", d + 1);
					escape_json(&js, name);
				}
				appendStringInfoString(&js, ": ");
				AppendValue(&js, &vals, v[pos++]);
			}
			appendStringInfoChar(&js, '}');
			jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(js.data)));
			g->json = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
		}
		kept[nkept++] = g;
	}
	if (nkept > 0)
		qsort(kept, nkept, sizeof(Segment *), CompareSegments);
	if (top_k > 0 && nkept > top_k)
		nkept = top_k;

	/* the rows: the population, then the segments */
	MemoryContextSwitchTo(old);
	out = palloc(sizeof(Datum) * (nkept + 1));
	for (int64 i = -1; i < nkept; i++)
	{
		const Sums *s = i < 0 ? &pop : &kept[i]->s;
		Datum		v[14];
		bool		isnull[14];
		double		mt = Metric(s, st->ratio, 1),
					mc = Metric(s, st->ratio, 0),
					expected = NAN,
					contribution = i < 0 ? pchange : kept[i]->contribution;

		if (!isnan(mc) && !isnan(ptest) && !isnan(pcontrol) && pcontrol != 0)
			expected = mc * ptest / pcontrol;
		memset(isnull, 0, sizeof(isnull));
		v[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(i < 0 ? "{}" : kept[i]->json));
		v[1] = Int32GetDatum(i < 0 ? 0 : kept[i]->depth);
		v[2] = Float8OrNull(mt, &isnull[2]);
		v[3] = Float8OrNull(mc, &isnull[3]);
		v[4] = Float8OrNull(mt - mc, &isnull[4]);
		v[5] = Float8OrNull(isnan(mc) || mc == 0 ? NAN : (mt - mc) / mc, &isnull[5]);
		v[6] = Float8OrNull(expected, &isnull[6]);
		v[7] = Float8OrNull(mt - expected, &isnull[7]);
		v[8] = Float8OrNull(isnan(expected) || expected == 0 ? NAN : mt / expected - 1, &isnull[8]);
		v[9] = Float8OrNull(contribution, &isnull[9]);
		v[10] = Float8OrNull(isnan(pchange) || pchange == 0 || isnan(contribution) ? NAN : contribution / pchange,
							 &isnull[10]);
		v[11] = Float8GetDatum((double) (s->rows[0] + s->rows[1]) / (double) total_rows);
		v[12] = Int64GetDatum(s->rows[1]);
		v[13] = Int64GetDatum(s->rows[0]);
		out[nout++] = HeapTupleGetDatum(heap_form_tuple(desc, v, isnull));
	}
	get_typlenbyvalalign(rowtype, &typlen, &typbyval, &typalign);
	result = construct_array(out, (int) nout, rowtype, typlen, typbyval, typalign);
	MemoryContextDelete(cxt);
	PG_RETURN_ARRAYTYPE_P(result);
}
