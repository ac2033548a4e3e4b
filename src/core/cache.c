/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Parsed models kept for scoring functions: per call site, and per
 *	  backend across queries for models stored out of line.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "access/detoast.h"
#include "funcapi.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/*
 * Two tiers.  Each call site (one function call in a query) keeps the last
 * few models it parsed, for that query.  Models stored out of line (TOAST,
 * so every model read from a table, such as the catalog's) are also kept
 * by the backend, across queries, so that a client calling
 * uba_recommend() once per request parses the model once per connection.
 * A kept model is known by its TOAST pointer and its header, whose CRC
 * covers the whole blob: a TOAST value never changes, and should its
 * identifier ever be reused for other contents, the CRC tells them apart.
 * Saving or activating another version makes the catalog return another
 * TOAST value, so the next query parses the new model.
 */

/* Models one call site keeps parsed: a join may score with a model per segment */
#define UBA_MODEL_CACHE_ENTRIES 8
/* Most models the backend keeps across queries (their memory is bounded by uba.model_cache_size) */
#define UBA_KEPT_MODELS 16
/* Longest key of a kept model: TOAST pointer and header */
#define UBA_KEPT_KEY (TOAST_POINTER_SIZE + UBA_MODEL_HEADER_SIZE)

typedef struct UbaKeptModel
{
	Size		keylen;			/* 0: empty */
	char		key[UBA_KEPT_KEY];
	UbaModelKind kind;
	UbaModelParser parse;		/* what parsed it: one blob read two ways is two models */
	void	   *parsed;
	MemoryContext cxt;			/* under CacheMemoryContext */
	int			pins;			/* call sites using it in running queries */
	uint64		used;
	Size		bytes;			/* memory of cxt */
	TimestampTz created_at;		/* the model's, to tell versions apart (uba_cached_models) */
} UbaKeptModel;

static UbaKeptModel kept_models[UBA_KEPT_MODELS];
static uint64 kept_clock;
static Size kept_bytes;			/* sum of the kept models' bytes */

typedef struct UbaCachedModel
{
	Size		keylen;			/* 0: empty */
	char	   *key;			/* what identifies the blob, see ModelKey() */
	UbaModelKind kind;
	void	   *parsed;
	MemoryContext cxt;			/* holds key, and parsed unless kept */
	UbaKeptModel *kept;			/* the backend's model this entry pins, or NULL */
	uint64		used;			/* when last hit, for evicting the least recent */
	uint64		filled;			/* when filled: tells a refilled entry apart */
} UbaCachedModel;

typedef struct UbaModelCache
{
	UbaCachedModel entries[UBA_MODEL_CACHE_ENTRIES];
	uint64		clock;
	MemoryContextCallback unpin;	/* releases the kept models when the query ends */
	void	   *extra;			/* the caller's own (uba_model_cache_extra) */
	/* whether each of the first arguments is a constant (0 not known yet, 1 yes, -1 no) */
	signed char arg_const[8];
	/* the last model of a constant argument: found by its pointer alone */
	const void *stable_ptr;
	int			stable_argno;
	UbaModelKind stable_kind;
	int			stable_entry;
	uint64		stable_filled;
} UbaModelCache;

/* The call site's query is over: its kept models may be evicted again */
static void
UnpinAll(void *arg)
{
	UbaModelCache *cache = (UbaModelCache *) arg;

	for (int i = 0; i < UBA_MODEL_CACHE_ENTRIES; i++)
		if (cache->entries[i].kept)
		{
			cache->entries[i].kept->pins--;
			cache->entries[i].kept = NULL;
		}
}

/*
 * The bytes that identify a model argument without detoasting it: for a
 * value stored out of line, its TOAST pointer (TOAST values never change,
 * and one is not reused while a query can still see it), so a large model
 * read from a table is not fetched again for every row; for a value in
 * line, compressed or not, all of its bytes, so a damaged copy that keeps
 * the header of a valid model is not mistaken for it.  Other forms (in
 * memory only) are detoasted.
 */
static const char *
ModelKey(Datum d, Size *len)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTERNAL_ONDISK(v))
	{
		*len = VARSIZE_EXTERNAL(v);
		return (const char *) v;
	}
	if (VARATT_IS_EXTERNAL(v))
		v = pg_detoast_datum_packed(v);
	*len = VARSIZE_ANY(v);
	return (const char *) v;
}

/*
 * The backend's key of an out-of-line model: its TOAST pointer and the
 * first bytes of the blob (header and CRC), fetched alone.
 */
static Size
KeptKey(Datum d, char *key)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	Size		ptrlen = VARSIZE_EXTERNAL(v);
	struct varlena *head = (struct varlena *) PG_DETOAST_DATUM_SLICE(d, 0, UBA_MODEL_HEADER_SIZE);
	Size		headlen = Min(VARSIZE_ANY_EXHDR(head), UBA_MODEL_HEADER_SIZE);

	memcpy(key, v, ptrlen);
	memcpy(key + ptrlen, VARDATA_ANY(head), headlen);
	return ptrlen + headlen;
}

/* Parse and validate the model in argument argno into a new context under parent */
static void *
ParseInto(Datum d, UbaModelKind kind, UbaModelParser parse,
		  MemoryContext parent, MemoryContext *cxt, TimestampTz *created_at)
{
	bytea	   *blob = DatumGetByteaPP(d);
	UbaModelMeta meta;
	UbaReader	payload;
	MemoryContext old;
	void	   *parsed;

	*cxt = AllocSetContextCreate(parent, "uba model cache", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(*cxt);
	uba_model_open(blob, kind, &meta, &payload);
	parsed = parse(&meta, &payload);
	MemoryContextSwitchTo(old);
	if (created_at)
		*created_at = meta.created_at;
	return parsed;
}

/* Forget a kept model */
static void
Evict(UbaKeptModel *k)
{
	if (k->cxt)
		MemoryContextDelete(k->cxt);
	kept_bytes -= k->bytes;
	memset(k, 0, sizeof(UbaKeptModel));
}

/*
 * A free slot for a model of bytes, within uba.model_cache_size: the least
 * recently used models no running query uses are evicted until it fits.
 * NULL when it cannot be kept (larger than the limit, or the models in use
 * leave no room).
 */
static UbaKeptModel *
KeepSlot(Size bytes, bool need_slot)
{
	Size		limit = (Size) uba_model_cache_mb * 1024 * 1024;

	for (;;)
	{
		UbaKeptModel *free_slot = NULL,
				   *oldest = NULL;

		for (int i = 0; i < UBA_KEPT_MODELS; i++)
		{
			UbaKeptModel *c = &kept_models[i];

			if (c->keylen == 0)
				free_slot = c;
			else if (c->pins == 0 && (oldest == NULL || c->used < oldest->used))
				oldest = c;
		}
		if ((free_slot != NULL || !need_slot) && kept_bytes + bytes <= limit)
			return free_slot;
		if (oldest == NULL)
			return NULL;
		Evict(oldest);
	}
}

/* Evict what a lowered uba.model_cache_size no longer holds */
static void
Trim(void)
{
	if (kept_bytes > (Size) uba_model_cache_mb * 1024 * 1024)
		(void) KeepSlot(0, false);
}

/*
 * Return the parsed model in argument argno.  Each call site keeps the
 * last few models it parsed, so a blob is validated and parsed once per
 * query, not once per row, also when rows alternate between models; the
 * backend keeps out-of-line models across queries.
 */
static UbaModelCache *CallSiteCache(FmgrInfo *flinfo);

/* Whether argument argno of the call (of the aggregate, for its support functions) is a constant */
static bool
ArgIsConst(FunctionCallInfo fcinfo, int argno)
{
	Aggref	   *agg = AggGetAggref(fcinfo);
	Node	   *expr = fcinfo->flinfo ? fcinfo->flinfo->fn_expr : NULL;
	List	   *args;

	if (agg != NULL)
	{
		/*
		 * A transition function's argument 0 is the state.  The Aggref must
		 * be this aggregate's, argument for argument: a wrapper calling the
		 * transition function from its own aggregate (Citus's
		 * worker_partial_agg) has other arguments.
		 */
		if (argno < 1 || argno > list_length(agg->args) || list_length(agg->args) != PG_NARGS() - 1)
			return false;
		return IsA(((TargetEntry *) list_nth(agg->args, argno - 1))->expr, Const) &&
			exprType((Node *) ((TargetEntry *) list_nth(agg->args, argno - 1))->expr) ==
			get_fn_expr_argtype(fcinfo->flinfo, argno);
	}
	if (expr == NULL)
		return false;
	if (IsA(expr, FuncExpr))
		args = ((FuncExpr *) expr)->args;
	else if (IsA(expr, OpExpr))
		args = ((OpExpr *) expr)->args;
	else
		return false;
	return argno >= 0 && argno < list_length(args) && IsA(list_nth(args, argno), Const);
}

void *
uba_model_cached(FunctionCallInfo fcinfo, int argno, UbaModelKind kind,
				 UbaModelParser parse)
{
	Datum		d = PG_GETARG_DATUM(argno);
	UbaModelCache *cache;
	void	   *parsed;

	/*
	 * A constant keeps its value, and its pointer, for the whole query:
	 * known by the pointer, a large model (an aggregate's centres, say) is
	 * not compared byte by byte on every row.  Not so a parameter: PL/pgSQL
	 * may give a variable a new value at the old one's address.
	 */
	cache = CallSiteCache(fcinfo->flinfo);
	/* the call's expression does not change: look at it once, not on every row */
	if (argno < 0 || argno >= (int) lengthof(cache->arg_const))
		return uba_model_cached_datum(fcinfo, d, kind, parse);
	if (cache->arg_const[argno] == 0)
		cache->arg_const[argno] = ArgIsConst(fcinfo, argno) ? 1 : -1;
	if (cache->arg_const[argno] < 0)
		return uba_model_cached_datum(fcinfo, d, kind, parse);
	if (cache->stable_ptr == DatumGetPointer(d) && cache->stable_argno == argno &&
		cache->stable_kind == kind &&
		cache->entries[cache->stable_entry].filled == cache->stable_filled &&
		cache->entries[cache->stable_entry].keylen != 0)
		return cache->entries[cache->stable_entry].parsed;
	parsed = uba_model_cached_datum(fcinfo, d, kind, parse);
	for (int i = 0; i < UBA_MODEL_CACHE_ENTRIES; i++)
		if (cache->entries[i].keylen != 0 && cache->entries[i].parsed == parsed &&
			cache->entries[i].kind == kind)
		{
			cache->stable_ptr = DatumGetPointer(d);
			cache->stable_argno = argno;
			cache->stable_kind = kind;
			cache->stable_entry = i;
			cache->stable_filled = cache->entries[i].filled;
			break;
		}
	return parsed;
}

/* The same for a model the function found itself (uba_recommend reads the catalog) */
static UbaModelCache *
CallSiteCache(FmgrInfo *flinfo)
{
	UbaModelCache *cache = (UbaModelCache *) flinfo->fn_extra;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(UbaModelCache));
		cache->unpin.func = UnpinAll;
		cache->unpin.arg = cache;
		MemoryContextRegisterResetCallback(flinfo->fn_mcxt, &cache->unpin);
		flinfo->fn_extra = cache;
	}
	return cache;
}

/*
 * A pointer the calling function may keep for the call site (in its
 * fn_mcxt, as long as the query), beside the models: fn_extra is the cache's.
 */
void	  **
uba_model_cache_extra(FunctionCallInfo fcinfo)
{
	return &CallSiteCache(fcinfo->flinfo)->extra;
}

void *
uba_model_cached_datum(FunctionCallInfo fcinfo, Datum d, UbaModelKind kind,
					   UbaModelParser parse)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	UbaModelCache *cache = CallSiteCache(flinfo);
	Size		keylen;
	const char *key = ModelKey(d, &keylen);
	UbaCachedModel *e = NULL;

	for (int i = 0; i < UBA_MODEL_CACHE_ENTRIES; i++)
	{
		UbaCachedModel *c = &cache->entries[i];

		if (c->keylen == keylen && c->kind == kind && memcmp(c->key, key, keylen) == 0)
		{
			c->used = ++cache->clock;
			return c->parsed;
		}
		/* an empty entry, or else the least recently used */
		if (e == NULL || (e->keylen != 0 && (c->keylen == 0 || c->used < e->used)))
			e = c;
	}

	/* empty the entry: unpin its kept model, or free its own */
	if (e->kept)
		e->kept->pins--;
	e->kept = NULL;
	if (e->cxt)
		MemoryContextDelete(e->cxt);
	e->cxt = NULL;
	e->keylen = 0;
	e->parsed = NULL;

	if (VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(d)))
	{
		char		kkey[UBA_KEPT_KEY];
		Size		klen = KeptKey(d, kkey);
		UbaKeptModel *k = NULL;

		Trim();

		for (int i = 0; i < UBA_KEPT_MODELS; i++)
		{
			UbaKeptModel *c = &kept_models[i];

			if (c->keylen == klen && c->kind == kind && c->parse == parse &&
				memcmp(c->key, kkey, klen) == 0)
			{
				k = c;
				break;
			}
		}
		if (k == NULL)
		{
			MemoryContext cxt;
			TimestampTz created_at;
			void	   *parsed = ParseInto(d, kind, parse, CurrentMemoryContext, &cxt, &created_at);

			Size		bytes = MemoryContextMemAllocated(cxt, true);

			k = bytes <= (Size) uba_model_cache_mb * 1024 * 1024 ? KeepSlot(bytes, true) : NULL;
			if (k == NULL)
			{
				/* too large, or every slot is in use: this one stays the call site's own */
				MemoryContextSetParent(cxt, flinfo->fn_mcxt);
				e->cxt = cxt;
				e->parsed = parsed;
			}
			else
			{
				MemoryContextSetParent(cxt, CacheMemoryContext);
				k->cxt = cxt;
				k->parsed = parsed;
				k->kind = kind;
				k->parse = parse;
				memcpy(k->key, kkey, klen);
				k->keylen = klen;
				k->bytes = MemoryContextMemAllocated(cxt, true);
				k->created_at = created_at;
				kept_bytes += k->bytes;
			}
		}
		if (k != NULL)
		{
			k->pins++;
			k->used = ++kept_clock;
			e->kept = k;
			e->parsed = k->parsed;
			e->cxt = AllocSetContextCreate(flinfo->fn_mcxt, "uba model cache key", ALLOCSET_SMALL_SIZES);
		}
	}
	else
		e->parsed = ParseInto(d, kind, parse, flinfo->fn_mcxt, &e->cxt, NULL);

	e->key = MemoryContextAlloc(e->cxt, keylen);
	memcpy(e->key, key, keylen);
	e->kind = kind;
	e->keylen = keylen;
	e->used = ++cache->clock;
	e->filled = e->used;
	return e->parsed;
}


/* uba_cached_models(): the models this backend keeps across queries, most recent first */
PG_FUNCTION_INFO_V1(uba_cached_models);

Datum
uba_cached_models(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			order[UBA_KEPT_MODELS];
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	Trim();
	for (int i = 0; i < UBA_KEPT_MODELS; i++)
		if (kept_models[i].keylen != 0)
			order[n++] = i;
	/* a handful of slots: insertion sort by last use, newest first */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && kept_models[order[j]].used > kept_models[order[j - 1]].used; j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
	{
		UbaKeptModel *k = &kept_models[order[i]];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(uba_kind_name(k->kind));
		values[1] = TimestampTzGetDatum(k->created_at);
		values[2] = Int64GetDatum((int64) k->bytes);
		values[3] = BoolGetDatum(k->pins > 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
