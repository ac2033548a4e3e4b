/*-------------------------------------------------------------------------
 *
 * events.c
 *	  Collecting (id, id [, weight] [, time]) events for the training
 *	  aggregates that learn from event streams: recommendations (user, item,
 *	  weight), association rules (basket, item) and sequential patterns
 *	  (user, time, item).
 *
 * The events go into up to four growing arrays (mapped from 1 MB on, see
 * bigmem.c); ids are integers or handles of text and uuid keys (ids.c).
 * Combining parallel workers' states appends (and maps the other state's
 * handles), and the serialized form is the arrays and the keys.  The combine, serialize and
 * deserialize functions are shared by every such aggregate.  The memory
 * limit is per event: the bytes one event may need at the peak of the
 * algorithm's training, so the limit is hit while collecting, before any
 * work is wasted.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "miscadmin.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_events_combine);
PG_FUNCTION_INFO_V1(uba_events_serialize);
PG_FUNCTION_INFO_V1(uba_events_deserialize);

static void
FreeArrays(UbaEvents *ev)
{
	uba_array_free((void **) &ev->a, &ev->a_bytes);
	uba_array_free((void **) &ev->b, &ev->b_bytes);
	uba_array_free((void **) &ev->w, &ev->w_bytes);
	uba_array_free((void **) &ev->t, &ev->t_bytes);
	uba_id_dict_free(&ev->ida);
	uba_id_dict_free(&ev->idb);
	ev->n = ev->cap = 0;
}

static void
ResetCallback(void *arg)
{
	FreeArrays((UbaEvents *) arg);
}

static UbaEvents *
NewEvents(MemoryContext cxt, Jsonb *options, bool weighted, int32 peak_bytes, Oid atype, Oid btype,
		  const int16 *args)
{
	UbaEvents  *ev = MemoryContextAllocZero(cxt, sizeof(UbaEvents));

	ev->cxt = cxt;
	ev->aarg = args[0];
	ev->barg = args[1];
	ev->targ = args[2];
	ev->atype = atype;
	ev->btype = btype;
	uba_id_dict_init(&ev->ida, cxt, uba_id_kind(atype, "ids"));
	uba_id_dict_init(&ev->idb, cxt, uba_id_kind(btype, "ids"));
	ev->weighted = weighted;
	ev->peak_bytes = peak_bytes;
	ev->started = GetCurrentTimestamp();
	ev->reset.func = ResetCallback;
	ev->reset.arg = ev;
	MemoryContextRegisterResetCallback(cxt, &ev->reset);
	ev->options = uba_options_copy(cxt, options);
	return ev;
}

/* A new, empty collection in the aggregate's memory context: a and b are arguments 1 and 2 */
UbaEvents *
uba_events_start(FunctionCallInfo fcinfo, Jsonb *options, bool weighted, int32 peak_bytes,
				 const char *aname, const char *bname)
{
	return uba_events_start_timed(fcinfo, options, weighted, peak_bytes, aname, 1, bname, 2, 0);
}

/* The same, with a and b at the given arguments and a time at argument targ (0: none) */
UbaEvents *
uba_events_start_timed(FunctionCallInfo fcinfo, Jsonb *options, bool weighted, int32 peak_bytes,
					   const char *aname, int aarg, const char *bname, int barg, int targ)
{
	Oid			atype = get_fn_expr_argtype(fcinfo->flinfo, aarg);
	Oid			btype = get_fn_expr_argtype(fcinfo->flinfo, barg);
	int16		args[3] = {aarg, barg, targ};

	/* the types are checked here so that the error names the argument */
	(void) uba_id_kind(atype, aname);
	(void) uba_id_kind(btype, bname);
	return NewEvents(uba_agg_context(fcinfo), options, weighted, peak_bytes, atype, btype, args);
}

/* Memory of the collection beyond its events */
static Size
DictBytes(const UbaEvents *ev)
{
	return uba_id_dict_bytes(&ev->ida) + uba_id_dict_bytes(&ev->idb);
}

/* Room for need events: doubles, by at most 8M events at a time, within uba.max_memory */
static void
Grow(UbaEvents *ev, int64 need)
{
	Size		dict = DictBytes(ev);
	int64		limit = dict >= uba_memory_limit() ? 0 : (int64) ((uba_memory_limit() - dict) / ev->peak_bytes);
	int64		cap;

	if (need > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the training events need more than %s (%zu MB)",
						uba_memory_setting(), uba_memory_limit() / (1024 * 1024)),
				 dict == 0 ?
				 errdetail("Collected " INT64_FORMAT " events so far; training needs about %d bytes for each.",
						   ev->n, ev->peak_bytes) :
				 errdetail("Collected " INT64_FORMAT " events so far; training needs about %d bytes for each, and their ids take %zu kB.",
						   ev->n, ev->peak_bytes, dict / 1024),
				 uba_memory_hint("train on a sample of the events")));
	cap = Min(limit, Max(need, Max(4096, ev->cap + Min(ev->cap, 8 * 1024 * 1024))));
	uba_array_grow(ev->cxt, (void **) &ev->a, &ev->a_bytes, mul_size((Size) cap, sizeof(int64)));
	uba_array_grow(ev->cxt, (void **) &ev->b, &ev->b_bytes, mul_size((Size) cap, sizeof(int64)));
	if (ev->weighted)
		uba_array_grow(ev->cxt, (void **) &ev->w, &ev->w_bytes, mul_size((Size) cap, sizeof(double)));
	if (ev->targ > 0)
		uba_array_grow(ev->cxt, (void **) &ev->t, &ev->t_bytes, mul_size((Size) cap, sizeof(int64)));
	ev->cap = cap;
}

/* Append the event of the a, b (and time) arguments (w is ignored unless the collection is weighted) */
void
uba_events_add(UbaEvents *ev, FunctionCallInfo fcinfo, double w)
{
	int64		a,
				b;

	if (ev->n == ev->cap ||
		(ev->ida.n + ev->idb.n > 0 && DictBytes(ev) + (Size) ev->cap * ev->peak_bytes > uba_memory_limit()))
		Grow(ev, ev->n + 1);
	a = uba_id_handle(&ev->ida, PG_GETARG_DATUM(ev->aarg), ev->atype);
	b = uba_id_handle(&ev->idb, PG_GETARG_DATUM(ev->barg), ev->btype);
	ev->a[ev->n] = a;
	ev->b[ev->n] = b;
	if (ev->weighted)
		ev->w[ev->n] = w;
	if (ev->targ > 0)
		ev->t[ev->n] = PG_GETARG_INT64(ev->targ);
	ev->n++;
}

/* Combine two partial states (parallel aggregation): append b's events to a */
Datum
uba_events_combine(PG_FUNCTION_ARGS)
{
	UbaEvents  *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (UbaEvents *) PG_GETARG_POINTER(0);
	b = (UbaEvents *) PG_GETARG_POINTER(1);
	uba_check_same_options(a->options, b->options);
	if (a->weighted != b->weighted || a->peak_bytes != b->peak_bytes ||
		a->atype != b->atype || a->btype != b->btype || a->targ != b->targ)
		elog(ERROR, "uba: combining event collections of different aggregates");
	if (b->n > 0)
	{
		int64	   *amap = uba_id_dict_merge(&a->ida, &b->ida);
		int64	   *bmap = uba_id_dict_merge(&a->idb, &b->idb);

		if (a->cap < a->n + b->n)
			Grow(a, a->n + b->n);
		for (int64 i = 0; i < b->n; i++)
		{
			a->a[a->n + i] = amap ? amap[b->a[i]] : b->a[i];
			a->b[a->n + i] = bmap ? bmap[b->b[i]] : b->b[i];
		}
		if (a->weighted)
			memcpy(a->w + a->n, b->w, sizeof(double) * b->n);
		if (a->targ > 0)
			memcpy(a->t + a->n, b->t, sizeof(int64) * b->n);
		a->n += b->n;
		FreeArrays(b);
	}
	a->started = Min(a->started, b->started);
	PG_RETURN_POINTER(a);
}

/*
 * Serialized header: n, started, weighted, peak bytes, option bytes (length first), id types,
 * argument numbers (int32 each, so that the options after them stay aligned for reading in place)
 */
#define HEADER_BYTES (sizeof(int64) + sizeof(TimestampTz) + 3 * sizeof(int32) + 2 * sizeof(Oid) + 3 * sizeof(int32))

/* Serialized: the header, the a, b (and w, t) arrays, then the keys of a and b */
Datum
uba_events_serialize(PG_FUNCTION_ARGS)
{
	UbaEvents  *ev = (UbaEvents *) PG_GETARG_POINTER(0);
	int32		optlen = ev->options ? VARSIZE(ev->options) : 0;
	int32		weighted = ev->weighted ? 1 : 0;
	int32		timed = ev->targ > 0 ? 1 : 0;
	int32		args[3] = {ev->aarg, ev->barg, ev->targ};
	Size		total = add_size(add_size(HEADER_BYTES + optlen,
										  mul_size((Size) ev->n, (2 + weighted + timed) * sizeof(int64))),
								 add_size(uba_id_dict_serial_bytes(&ev->ida), uba_id_dict_serial_bytes(&ev->idb)));
	bytea	   *out;
	char	   *p;
	StringInfoData keys;

	if (total > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a parallel worker collected more than 1 GB of training events"),
				 errhint("SET max_parallel_workers_per_gather = 0 for this training query.")));
	out = (bytea *) palloc(total + VARHDRSZ);
	SET_VARSIZE(out, total + VARHDRSZ);
	p = VARDATA(out);
	memcpy(p, &ev->n, sizeof(int64));
	p += sizeof(int64);
	memcpy(p, &ev->started, sizeof(TimestampTz));
	p += sizeof(TimestampTz);
	memcpy(p, &weighted, sizeof(int32));
	p += sizeof(int32);
	memcpy(p, &ev->peak_bytes, sizeof(int32));
	p += sizeof(int32);
	memcpy(p, &optlen, sizeof(int32));
	p += sizeof(int32);
	memcpy(p, &ev->atype, sizeof(Oid));
	p += sizeof(Oid);
	memcpy(p, &ev->btype, sizeof(Oid));
	p += sizeof(Oid);
	memcpy(p, args, sizeof(args));
	p += sizeof(args);
	if (optlen > 0)
		memcpy(p, ev->options, optlen);
	p += optlen;
	if (ev->n > 0)
	{
		memcpy(p, ev->a, sizeof(int64) * ev->n);
		p += sizeof(int64) * ev->n;
		memcpy(p, ev->b, sizeof(int64) * ev->n);
		p += sizeof(int64) * ev->n;
		if (ev->weighted)
			memcpy(p, ev->w, sizeof(double) * ev->n);
		p += ev->weighted ? sizeof(double) * ev->n : 0;
		if (timed)
			memcpy(p, ev->t, sizeof(int64) * ev->n);
		p += timed ? sizeof(int64) * ev->n : 0;
	}
	initStringInfo(&keys);
	uba_id_dict_serialize(&ev->ida, &keys);
	uba_id_dict_serialize(&ev->idb, &keys);
	Assert(p + keys.len == VARDATA(out) + total);
	memcpy(p, keys.data, keys.len);
	pfree(keys.data);
	PG_RETURN_BYTEA_P(out);
}

Datum
uba_events_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	int64		n;
	TimestampTz started;
	int32		weighted,
				peak_bytes,
				optlen;
	Oid			atype,
				btype;
	int32		args[3];
	int16		args16[3];
	Size		arrays;
	UbaEvents  *ev;

	if (len < HEADER_BYTES)
		elog(ERROR, "uba event state serialization is truncated");
	memcpy(&n, p, sizeof(int64));
	p += sizeof(int64);
	memcpy(&started, p, sizeof(TimestampTz));
	p += sizeof(TimestampTz);
	memcpy(&weighted, p, sizeof(int32));
	p += sizeof(int32);
	memcpy(&peak_bytes, p, sizeof(int32));
	p += sizeof(int32);
	memcpy(&optlen, p, sizeof(int32));
	p += sizeof(int32);
	memcpy(&atype, p, sizeof(Oid));
	p += sizeof(Oid);
	memcpy(&btype, p, sizeof(Oid));
	p += sizeof(Oid);
	memcpy(args, p, sizeof(args));
	p += sizeof(args);
	if (n < 0 || optlen < 0 || (weighted != 0 && weighted != 1) || peak_bytes <= 0 ||
		args[0] < 1 || args[1] < 1 || args[2] < 0 || args[0] > FUNC_MAX_ARGS || args[1] > FUNC_MAX_ARGS ||
		args[2] > FUNC_MAX_ARGS || n > (int64) (MaxAllocHugeSize / 32))
		elog(ERROR, "uba event state serialization is inconsistent");
	arrays = (Size) n * (2 + weighted + (args[2] > 0)) * sizeof(int64);
	if (len < HEADER_BYTES + optlen + arrays)
		elog(ERROR, "uba event state serialization is inconsistent");
	for (int k = 0; k < 3; k++)
		args16[k] = (int16) args[k];
	ev = NewEvents(aggcxt, optlen > 0 ? (Jsonb *) p : NULL, weighted == 1, peak_bytes, atype, btype, args16);
	p += optlen;
	ev->started = started;
	if (n > 0)
	{
		Grow(ev, n);
		memcpy(ev->a, p, sizeof(int64) * n);
		p += sizeof(int64) * n;
		memcpy(ev->b, p, sizeof(int64) * n);
		p += sizeof(int64) * n;
		if (ev->weighted)
			memcpy(ev->w, p, sizeof(double) * n);
		p += ev->weighted ? sizeof(double) * n : 0;
		if (ev->targ > 0)
			memcpy(ev->t, p, sizeof(int64) * n);
		p += ev->targ > 0 ? sizeof(int64) * n : 0;
		ev->n = n;
	}
	{
		const char *end = VARDATA_ANY(in) + len;
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		uba_id_dict_free(&ev->ida);
		uba_id_dict_free(&ev->idb);
		uba_id_dict_deserialize(&ev->ida, aggcxt, &p, end);
		uba_id_dict_deserialize(&ev->idb, aggcxt, &p, end);
		MemoryContextSwitchTo(old);
		if (p != end || ev->ida.kind != uba_id_kind(atype, "ids") || ev->idb.kind != uba_id_kind(btype, "ids"))
			elog(ERROR, "uba event state serialization is inconsistent");
	}
	PG_RETURN_POINTER(ev);
}

/* Before training: text and uuid ids replaced by their ranks in canonical order */
void
uba_events_canonical(UbaEvents *ev)
{
	uba_id_dict_canonical(&ev->ida, ev->a, ev->n);
	uba_id_dict_canonical(&ev->idb, ev->b, ev->n);
}

/*
 * The whole transition of an aggregate over (a, b, time [, options]) rows,
 * the options in argument 4: the collection starts on the first row (the
 * options parsed against specs, then given to check when there is one),
 * every later row must bring the same options, and rows with a NULL id or
 * time are skipped, as built-in aggregates skip NULLs.
 */
UbaEvents *
uba_events_collect_timed(FunctionCallInfo fcinfo, const UbaOptionSpec *specs, int nspecs, const char *funcname,
						 void (*check) (const UbaOptions *o), int32 peak_bytes,
						 const char *aname, int aarg, const char *bname, int barg, int targ)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;

	if (st == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, specs, nspecs, funcname, &o);
		if (check != NULL)
			check(&o);
		st = uba_events_start_timed(fcinfo, opts, false, peak_bytes, aname, aarg, bname, barg, targ);
	}
	else
		uba_check_same_options(st->options, opts);
	if (!PG_ARGISNULL(aarg) && !PG_ARGISNULL(barg) && !PG_ARGISNULL(targ))
		uba_events_add(st, fcinfo, 0);
	return st;
}

static int
CompareTimedItems(const void *pa, const void *pb)
{
	const UbaTimedItem *a = (const UbaTimedItem *) pa;
	const UbaTimedItem *b = (const UbaTimedItem *) pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return (a->item > b->item) - (a->item < b->item);
}

UbaTimedItem *
uba_events_sequences(UbaEvents *ev, MemoryContext cxt, int64 *ngroups, int64 **off_out, int64 **item_ids,
					 int64 *nitems)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	uint32	   *gidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * Max(ev->n, 1));
	uint32	   *iidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * Max(ev->n, 1));
	int64	   *group_ids,
			   *off,
			   *fill;
	int64		ng;
	UbaTimedItem *seq;

	Assert(ev->t != NULL);
	uba_events_canonical(ev);
	ng = uba_map_ids(ev->a, ev->n, &group_ids, gidx);
	*nitems = uba_map_ids(ev->b, ev->n, item_ids, iidx);
	pfree(group_ids);
	off = MemoryContextAllocHuge(cxt, sizeof(int64) * (ng + 1));
	fill = MemoryContextAllocHuge(cxt, sizeof(int64) * (ng + 1));
	memset(off, 0, sizeof(int64) * (ng + 1));
	for (int64 i = 0; i < ev->n; i++)
		off[gidx[i] + 1]++;
	for (int64 g = 0; g < ng; g++)
		off[g + 1] += off[g];
	memcpy(fill, off, sizeof(int64) * (ng + 1));
	seq = MemoryContextAllocHuge(cxt, sizeof(UbaTimedItem) * Max(ev->n, 1));
	for (int64 i = 0; i < ev->n; i++)
	{
		UbaTimedItem *e = &seq[fill[gidx[i]]++];

		e->t = ev->t[i];
		e->item = iidx[i];
		e->pad = 0;
	}
	pfree(gidx);
	pfree(iidx);
	pfree(fill);
	for (int64 g = 0; g < ng; g++)
	{
		if ((g & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		qsort(seq + off[g], off[g + 1] - off[g], sizeof(UbaTimedItem), CompareTimedItems);
	}
	MemoryContextSwitchTo(old);
	*ngroups = ng;
	*off_out = off;
	return seq;
}

/* A bigint as a key that sorts like it */
static inline uint64
IdKey(int64 id)
{
	return (uint64) id ^ (UINT64CONST(1) << 63);
}

/*
 * Dense indexes of ids: sorts the ids, stores the distinct ones in
 * increasing order in *distinct (allocated) and each event's index in idx.
 */
int64
uba_map_ids(const int64 *ids, int64 n, int64 **distinct, uint32 *idx)
{
	UbaSortKey *a = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * Max(n, 1));
	UbaSortKey *b = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * Max(n, 1));
	UbaSortKey *s;
	int64		m = 0;

	for (int64 i = 0; i < n; i++)
	{
		a[i].key = IdKey(ids[i]);
		a[i].idx = i;
	}
	s = uba_radix_sort(a, b, n);
	for (int64 i = 0; i < n; i++)
		if (i == 0 || s[i].key != s[i - 1].key)
			m++;
	if (m > (int64) PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("more than 4294967295 distinct ids")));
	*distinct = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(m, 1));
	m = 0;
	for (int64 i = 0; i < n; i++)
	{
		if (i == 0 || s[i].key != s[i - 1].key)
			(*distinct)[m++] = ids[s[i].idx];
		idx[s[i].idx] = (uint32) (m - 1);
	}
	pfree(a);
	pfree(b);
	return m;
}
