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
/* Models the backend keeps across queries */
#define UBA_KEPT_MODELS 4
/* Longest key of a kept model: TOAST pointer and header */
#define UBA_KEPT_KEY (TOAST_POINTER_SIZE + UBA_MODEL_HEADER_SIZE)

typedef struct UbaKeptModel
{
	Size		keylen;			/* 0: empty */
	char		key[UBA_KEPT_KEY];
	UbaModelKind kind;
	void	   *parsed;
	MemoryContext cxt;			/* under CacheMemoryContext */
	int			pins;			/* call sites using it in running queries */
	uint64		used;
} UbaKeptModel;

static UbaKeptModel kept_models[UBA_KEPT_MODELS];
static uint64 kept_clock;

typedef struct UbaCachedModel
{
	Size		keylen;			/* 0: empty */
	char	   *key;			/* what identifies the blob, see ModelKey() */
	UbaModelKind kind;
	void	   *parsed;
	MemoryContext cxt;			/* holds key, and parsed unless kept */
	UbaKeptModel *kept;			/* the backend's model this entry pins, or NULL */
	uint64		used;			/* when last hit, for evicting the least recent */
} UbaCachedModel;

typedef struct UbaModelCache
{
	UbaCachedModel entries[UBA_MODEL_CACHE_ENTRIES];
	uint64		clock;
	MemoryContextCallback unpin;	/* releases the kept models when the query ends */
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
ParseInto(FunctionCallInfo fcinfo, int argno, UbaModelKind kind, UbaModelParser parse,
		  MemoryContext parent, MemoryContext *cxt)
{
	bytea	   *blob = PG_GETARG_BYTEA_PP(argno);
	UbaModelMeta meta;
	UbaReader	payload;
	MemoryContext old;
	void	   *parsed;

	*cxt = AllocSetContextCreate(parent, "uba model cache", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(*cxt);
	uba_model_open(blob, kind, &meta, &payload);
	parsed = parse(&meta, &payload);
	MemoryContextSwitchTo(old);
	return parsed;
}

/*
 * Return the parsed model in argument argno.  Each call site keeps the
 * last few models it parsed, so a blob is validated and parsed once per
 * query, not once per row, also when rows alternate between models; the
 * backend keeps out-of-line models across queries.
 */
void *
uba_model_cached(FunctionCallInfo fcinfo, int argno, UbaModelKind kind,
				 UbaModelParser parse)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	UbaModelCache *cache = (UbaModelCache *) flinfo->fn_extra;
	Datum		d = PG_GETARG_DATUM(argno);
	Size		keylen;
	const char *key = ModelKey(d, &keylen);
	UbaCachedModel *e = NULL;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(UbaModelCache));
		cache->unpin.func = UnpinAll;
		cache->unpin.arg = cache;
		MemoryContextRegisterResetCallback(flinfo->fn_mcxt, &cache->unpin);
		flinfo->fn_extra = cache;
	}
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

		for (int i = 0; i < UBA_KEPT_MODELS; i++)
		{
			UbaKeptModel *c = &kept_models[i];

			if (c->keylen == klen && c->kind == kind && memcmp(c->key, kkey, klen) == 0)
			{
				k = c;
				break;
			}
		}
		if (k == NULL)
		{
			MemoryContext cxt;
			void	   *parsed = ParseInto(fcinfo, argno, kind, parse, CurrentMemoryContext, &cxt);

			/* keep it in a free slot, or in place of the least recent one no query uses */
			for (int i = 0; i < UBA_KEPT_MODELS; i++)
			{
				UbaKeptModel *c = &kept_models[i];

				if (c->pins == 0 && (k == NULL || c->keylen == 0 || (k->keylen != 0 && c->used < k->used)))
					k = c;
			}
			if (k == NULL)
			{
				/* every kept model is in use: this one stays the call site's own */
				MemoryContextSetParent(cxt, flinfo->fn_mcxt);
				e->cxt = cxt;
				e->parsed = parsed;
			}
			else
			{
				if (k->cxt)
					MemoryContextDelete(k->cxt);
				MemoryContextSetParent(cxt, CacheMemoryContext);
				k->cxt = cxt;
				k->parsed = parsed;
				k->kind = kind;
				memcpy(k->key, kkey, klen);
				k->keylen = klen;
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
		e->parsed = ParseInto(fcinfo, argno, kind, parse, flinfo->fn_mcxt, &e->cxt);

	e->key = MemoryContextAlloc(e->cxt, keylen);
	memcpy(e->key, key, keylen);
	e->kind = kind;
	e->keylen = keylen;
	e->used = ++cache->clock;
	return e->parsed;
}

