/*-------------------------------------------------------------------------
 *
 * ids.c
 *	  User, item and basket ids as they are in the user's tables: bigint,
 *	  integer, smallint, text (also varchar and char) or uuid.
 *
 * Integer ids are kept as their values.  Text and uuid ids are interned
 * while events are collected (each distinct key gets a handle, in the
 * order keys arrive) and put in a canonical order before training: bytes
 * compared as unsigned, a prefix first.  So the same events give the same
 * model in any order and under any plan, and models keep their ids
 * sorted, to be found by binary search.  Byte order rather than a
 * collation: a model must not change meaning with the server's locale.
 * Ids are never renumbered: a model answers in the ids it was trained on.
 *
 * In a model, ids are a section written by uba_put_ids(): integers as
 * i64 (the format bigint models always had), uuids as 16 bytes each,
 * texts as their total length (u64), each length (u32), then the bytes.
 * The reader checks the section in full (strictly increasing, valid in
 * the database encoding, no zero byte) before anything uses it.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

static const char *const id_kind_names[] = {"bigint", "integer", "smallint", "text", "uuid"};

const char *
uba_id_kind_name(int kind)
{
	return (kind >= 0 && kind < lengthof(id_kind_names)) ? id_kind_names[kind] : "unknown";
}

/*
 * The type under a domain.  The id types themselves answer without a
 * catalog lookup: this runs for every event and every scored id.
 */
static inline Oid
BaseType(Oid typid)
{
	switch (typid)
	{
		case INT8OID:
		case INT4OID:
		case INT2OID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case UUIDOID:
			return typid;
		default:
			return getBaseType(typid);
	}
}

/* The kind of ids of a SQL type, or -1 */
static int
KindOfType(Oid typid)
{
	switch (BaseType(typid))
	{
		case INT8OID:
			return UBA_ID_INT8;
		case INT4OID:
			return UBA_ID_INT4;
		case INT2OID:
			return UBA_ID_INT2;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return UBA_ID_TEXT;
		case UUIDOID:
			return UBA_ID_UUID;
		default:
			return -1;
	}
}

/* The kind of ids of a SQL type; other types are an error naming what they were for */
int
uba_id_kind(Oid typid, const char *what)
{
	int			kind = KindOfType(typid);

	if (kind < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s of type %s are not supported", what, format_type_be(typid)),
				 errhint("Ids can be bigint, integer, smallint, text, varchar, char or uuid; "
						 "cast others, such as numeric ids with ::bigint.")));
	return kind;
}

static inline bool
IsIntegerKind(int kind)
{
	return kind == UBA_ID_INT8 || kind == UBA_ID_INT4 || kind == UBA_ID_INT2;
}

/* Integer value of an integer-kind datum */
static int64
IntOf(Datum d, int kind)
{
	return kind == UBA_ID_INT8 ? DatumGetInt64(d)
		: kind == UBA_ID_INT4 ? (int64) DatumGetInt32(d) : (int64) DatumGetInt16(d);
}

/* Bytes of a text or uuid datum; char(n) without its padding, as char compares */
static void
BytesOf(Datum d, Oid typid, int kind, const char **p, int *len)
{
	if (kind == UBA_ID_UUID)
	{
		*p = (const char *) DatumGetUUIDP(d)->data;
		*len = UUID_LEN;
		return;
	}
	else
	{
		text	   *t = DatumGetTextPP(d);

		*p = VARDATA_ANY(t);
		*len = (int) VARSIZE_ANY_EXHDR(t);
		if (BaseType(typid) == BPCHAROID)
			while (*len > 0 && (*p)[*len - 1] == ' ')
				(*len)--;
	}
}

/* The canonical order of keys: unsigned bytes, a prefix first */
static inline int
CompareKeys(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* ---------- collecting: handles for text and uuid keys ---------- */

void
uba_id_dict_init(UbaIdDict *d, MemoryContext cxt, int kind)
{
	memset(d, 0, sizeof(*d));
	d->cxt = cxt;
	d->kind = kind;
}

void
uba_id_dict_free(UbaIdDict *d)
{
	uba_array_free((void **) &d->bytes, &d->bytes_cap);
	uba_array_free((void **) &d->off, &d->off_bytes);
	uba_array_free((void **) &d->slots, &d->slots_bytes);
	d->n = d->nslots = 0;
	d->bytes_used = 0;
}

/* Memory the dictionary holds */
Size
uba_id_dict_bytes(const UbaIdDict *d)
{
	return d->bytes_cap + d->off_bytes + d->slots_bytes;
}

static inline uint64
KeyHash(const char *p, int len)
{
	return hash_bytes_extended((const unsigned char *) p, len, 0);
}

/* Double the slots (load at most one half) and place every handle again */
static void
Rehash(UbaIdDict *d)
{
	uint64		nslots = d->nslots == 0 ? 1024 : d->nslots * 2;

	if (d->slots != NULL)
		uba_array_free((void **) &d->slots, &d->slots_bytes);
	uba_array_grow(d->cxt, (void **) &d->slots, &d->slots_bytes, mul_size(nslots, sizeof(int64)));
	memset(d->slots, 0, nslots * sizeof(int64));
	d->nslots = nslots;
	for (int64 h = 0; h < d->n; h++)
	{
		uint64		s = KeyHash(d->bytes + d->off[h], (int) (d->off[h + 1] - d->off[h])) & (nslots - 1);

		while (d->slots[s] != 0)
			s = (s + 1) & (nslots - 1);
		d->slots[s] = h + 1;
	}
}

/* The handle of a key, new keys getting the next one */
static int64
Intern(UbaIdDict *d, const char *p, int len)
{
	uint64		s;

	if ((uint64) (d->n + 1) * 2 > d->nslots)
		Rehash(d);
	for (s = KeyHash(p, len) & (d->nslots - 1); d->slots[s] != 0; s = (s + 1) & (d->nslots - 1))
	{
		int64		h = d->slots[s] - 1;

		if (d->off[h + 1] - d->off[h] == (uint64) len && memcmp(d->bytes + d->off[h], p, len) == 0)
			return h;
	}
	if (d->n >= (int64) PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("more than 4294967295 distinct ids")));
	if (d->bytes_used + len > d->bytes_cap)
		uba_array_grow(d->cxt, (void **) &d->bytes, &d->bytes_cap,
					   Max(d->bytes_used + len, Max(d->bytes_cap * 2, 4096)));
	if ((Size) (d->n + 2) * sizeof(uint64) > d->off_bytes)
		uba_array_grow(d->cxt, (void **) &d->off, &d->off_bytes,
					   Max((Size) (d->n + 2) * sizeof(uint64), Max(d->off_bytes * 2, 4096)));
	if (d->n == 0)
		d->off[0] = 0;
	memcpy(d->bytes + d->bytes_used, p, len);
	d->bytes_used += len;
	d->off[d->n + 1] = d->bytes_used;
	d->slots[s] = d->n + 1;
	return d->n++;
}

/* The handle of a key given as bytes (text dictionaries: typed rows' categories) */
int64
uba_id_intern(UbaIdDict *d, const char *p, int len)
{
	Assert(!IsIntegerKind(d->kind));
	return Intern(d, p, len);
}

/*
 * The value an event stores for an id: the integer itself, or the handle
 * of a text or uuid key.
 */
int64
uba_id_handle(UbaIdDict *d, Datum value, Oid typid)
{
	const char *p;
	int			len;

	if (IsIntegerKind(d->kind))
		return IntOf(value, d->kind);
	BytesOf(value, typid, d->kind, &p, &len);
	return Intern(d, p, len);
}

/* The id as text, for messages */
char *
uba_id_text(Datum value, Oid typid)
{
	Oid			out;
	bool		varlena;

	getTypeOutputInfo(typid, &out, &varlena);
	return OidOutputFunctionCall(out, value);
}

/* Add b's keys to a; map[h] is the handle in a of b's handle h */
int64 *
uba_id_dict_merge(UbaIdDict *a, const UbaIdDict *b)
{
	int64	   *map;

	if (a->kind != b->kind)
		elog(ERROR, "uba: combining ids of different types");
	if (IsIntegerKind(a->kind) || b->n == 0)
		return NULL;
	map = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * b->n);
	for (int64 h = 0; h < b->n; h++)
		map[h] = Intern(a, b->bytes + b->off[h], (int) (b->off[h + 1] - b->off[h]));
	return map;
}

static int
CompareHandles(const void *x, const void *y, void *arg)
{
	const UbaIdDict *d = (const UbaIdDict *) arg;
	int64		h = *(const int64 *) x;
	int64		g = *(const int64 *) y;

	return CompareKeys(d->bytes + d->off[h], (int) (d->off[h + 1] - d->off[h]),
					   d->bytes + d->off[g], (int) (d->off[g + 1] - d->off[g]));
}

/*
 * Put the keys in canonical order and rewrite the handles in v (n values)
 * to their ranks in it; integer ids stay as they are.  After this the
 * dictionary is sorted and handle k is the k-th smallest key.
 */
void
uba_id_dict_canonical(UbaIdDict *d, int64 *v, int64 n)
{
	int64	   *order,
			   *rank;
	char	   *bytes = NULL;
	uint64	   *off = NULL;
	Size		bytes_cap = 0,
				off_bytes = 0;

	if (IsIntegerKind(d->kind) || d->n == 0)
		return;
	order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * d->n);
	rank = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * d->n);
	for (int64 h = 0; h < d->n; h++)
		order[h] = h;
	qsort_arg(order, d->n, sizeof(int64), CompareHandles, d);
	uba_array_grow(d->cxt, (void **) &bytes, &bytes_cap, Max(d->bytes_used, 1));
	uba_array_grow(d->cxt, (void **) &off, &off_bytes, sizeof(uint64) * (d->n + 1));
	off[0] = 0;
	for (int64 k = 0; k < d->n; k++)
	{
		int64		h = order[k];
		Size		len = d->off[h + 1] - d->off[h];

		memcpy(bytes + off[k], d->bytes + d->off[h], len);
		off[k + 1] = off[k] + len;
		rank[h] = k;
	}
	for (int64 i = 0; i < n; i++)
		v[i] = rank[v[i]];
	uba_array_free((void **) &d->bytes, &d->bytes_cap);
	uba_array_free((void **) &d->off, &d->off_bytes);
	uba_array_free((void **) &d->slots, &d->slots_bytes);
	d->bytes = bytes;
	d->bytes_cap = bytes_cap;
	d->off = off;
	d->off_bytes = off_bytes;
	d->nslots = 0;				/* no more interning: the handles are ranks now */
	pfree(order);
	pfree(rank);
}

/* Serialized: kind, count, byte count, offsets, bytes */
void
uba_id_dict_serialize(const UbaIdDict *d, StringInfo buf)
{
	int32		kind = d->kind;
	int64		n = IsIntegerKind(d->kind) ? 0 : d->n;
	uint64		used = IsIntegerKind(d->kind) ? 0 : d->bytes_used;

	appendBinaryStringInfo(buf, (const char *) &kind, sizeof(kind));
	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	appendBinaryStringInfo(buf, (const char *) &used, sizeof(used));
	if (n > 0)
	{
		appendBinaryStringInfo(buf, (const char *) (d->off + 1), sizeof(uint64) * n);
		appendBinaryStringInfo(buf, d->bytes, used);
	}
}

/* Serialized size */
Size
uba_id_dict_serial_bytes(const UbaIdDict *d)
{
	if (IsIntegerKind(d->kind))
		return sizeof(int32) + 2 * sizeof(int64);
	return add_size(sizeof(int32) + 2 * sizeof(int64),
					add_size(mul_size((Size) d->n, sizeof(uint64)), d->bytes_used));
}

/* Read what uba_id_dict_serialize() wrote (our own worker's bytes); advances *p */
void
uba_id_dict_deserialize(UbaIdDict *d, MemoryContext cxt, const char **p, const char *end)
{
	int32		kind;
	int64		n;
	uint64		used;

	if (end - *p < (ptrdiff_t) (sizeof(int32) + 2 * sizeof(int64)))
		elog(ERROR, "uba id serialization is truncated");
	memcpy(&kind, *p, sizeof(kind));
	memcpy(&n, *p + sizeof(int32), sizeof(n));
	memcpy(&used, *p + sizeof(int32) + sizeof(int64), sizeof(used));
	*p += sizeof(int32) + 2 * sizeof(int64);
	if (kind < 0 || kind > UBA_ID_UUID || n < 0 || n > (int64) PG_UINT32_MAX ||
		(uint64) (end - *p) < (uint64) n * sizeof(uint64) ||
		(uint64) (end - *p) - (uint64) n * sizeof(uint64) < used)
		elog(ERROR, "uba id serialization is inconsistent");
	uba_id_dict_init(d, cxt, kind);
	for (int64 h = 0; h < n; h++)
	{
		uint64		from = 0,
					to;

		if (h > 0)
			memcpy(&from, *p + (h - 1) * sizeof(uint64), sizeof(from));
		memcpy(&to, *p + h * sizeof(uint64), sizeof(to));
		if (to < from || to > used || to - from > (uint64) MaxAllocSize)
			elog(ERROR, "uba id serialization is inconsistent");
		(void) Intern(d, *p + n * sizeof(uint64) + from, (int) (to - from));
	}
	if (d->n != n)
		elog(ERROR, "uba id serialization repeats a key");
	*p += n * sizeof(uint64) + used;
}

/* ---------- models: the id section ---------- */

/*
 * Write the ids of distinct[0 .. m-1] (integer ids, or ranks into d's
 * sorted keys) as a model section.
 */
void
uba_put_ids(UbaWriter *w, const UbaIdDict *d, const int64 *distinct, int64 m)
{
	if (IsIntegerKind(d->kind))
	{
		uba_put_i64_array(w, distinct, m);
		return;
	}
	if (d->kind == UBA_ID_UUID)
	{
		for (int64 k = 0; k < m; k++)
			appendBinaryStringInfo(&w->buf, d->bytes + d->off[distinct[k]], UUID_LEN);
		return;
	}
	{
		uint64		total = 0;

		for (int64 k = 0; k < m; k++)
			total += d->off[distinct[k] + 1] - d->off[distinct[k]];
		uba_put_u64(w, total);
		for (int64 k = 0; k < m; k++)
			uba_put_u32(w, (uint32) (d->off[distinct[k] + 1] - d->off[distinct[k]]));
		for (int64 k = 0; k < m; k++)
			appendBinaryStringInfo(&w->buf, d->bytes + d->off[distinct[k]],
								   d->off[distinct[k] + 1] - d->off[distinct[k]]);
	}
}

static inline const char *
KeyAt(const UbaIds *ids, int64 i, int *len)
{
	if (ids->kind == UBA_ID_UUID)
	{
		*len = UUID_LEN;
		return ids->bytes + (Size) i * UUID_LEN;
	}
	*len = (int) (ids->off[i + 1] - ids->off[i]);
	return ids->bytes + ids->off[i];
}

/* Read and check an id section of n ids of the given kind */
void
uba_get_ids(UbaReader *r, int kind, int64 n, UbaIds *ids, const char *what)
{
	memset(ids, 0, sizeof(*ids));
	ids->kind = kind;
	ids->n = n;
	if (IsIntegerKind(kind))
	{
		int64		lo = kind == UBA_ID_INT8 ? PG_INT64_MIN : kind == UBA_ID_INT4 ? PG_INT32_MIN : PG_INT16_MIN;
		int64		hi = kind == UBA_ID_INT8 ? PG_INT64_MAX : kind == UBA_ID_INT4 ? PG_INT32_MAX : PG_INT16_MAX;

		uba_reader_check_space(r, (Size) n, 8);
		ids->ints = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(n, 1));
		uba_get_i64_array(r, ids->ints, n);
		for (int64 i = 0; i < n; i++)
		{
			if (i > 0 && ids->ints[i] <= ids->ints[i - 1])
				uba_model_corrupted("The %s ids are not strictly increasing.", what);
			if (ids->ints[i] < lo || ids->ints[i] > hi)
				uba_model_corrupted("A %s id is out of range for type %s.", what, uba_id_kind_name(kind));
		}
		return;
	}
	if (kind == UBA_ID_UUID)
	{
		uba_reader_check_space(r, (Size) n, UUID_LEN);
		ids->bytes = MemoryContextAllocHuge(CurrentMemoryContext, (Size) Max(n, 1) * UUID_LEN);
		memcpy(ids->bytes, r->p, (Size) n * UUID_LEN);
		r->p += (Size) n * UUID_LEN;
	}
	else if (kind == UBA_ID_TEXT)
	{
		uint64		total = uba_get_u64(r);

		uba_reader_check_space(r, (Size) n, sizeof(uint32));
		ids->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * (n + 1));
		ids->off[0] = 0;
		for (int64 i = 0; i < n; i++)
			ids->off[i + 1] = ids->off[i] + uba_get_u32(r);
		if (ids->off[n] != total)
			uba_model_corrupted("The %s id lengths do not add up.", what);
		uba_reader_check_space(r, (Size) Min(total, (uint64) MaxAllocHugeSize), 1);
		ids->bytes = MemoryContextAllocHuge(CurrentMemoryContext, Max(total, 1));
		memcpy(ids->bytes, r->p, total);
		r->p += total;
		for (int64 i = 0; i < n; i++)
		{
			int			len = (int) (ids->off[i + 1] - ids->off[i]);
			const char *s = ids->bytes + ids->off[i];

			if (memchr(s, '\0', len) != NULL || !pg_verify_mbstr(GetDatabaseEncoding(), s, len, true))
				uba_model_corrupted("A %s id is not valid text in the database encoding.", what);
		}
	}
	else
		uba_model_corrupted("Unknown type of %s ids %d.", what, kind);
	for (int64 i = 1; i < n; i++)
	{
		int			alen,
					blen;
		const char *a = KeyAt(ids, i - 1, &alen);
		const char *b = KeyAt(ids, i, &blen);

		if (CompareKeys(a, alen, b, blen) >= 0)
			uba_model_corrupted("The %s ids are not strictly increasing.", what);
	}
}

/* ---------- serving: finding ids and giving them back ---------- */

static int64
FindInt(const UbaIds *ids, int64 v)
{
	int64		lo = 0,
				hi = ids->n - 1;

	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (ids->ints[mid] == v)
			return mid;
		if (ids->ints[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int64
FindBytes(const UbaIds *ids, const char *p, int len)
{
	int64		lo = 0,
				hi = ids->n - 1;

	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int			klen;
		const char *k = KeyAt(ids, mid, &klen);
		int			c = CompareKeys(k, klen, p, len);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* The position of a text key given as bytes, or -1 */
int64
uba_ids_find_bytes(const UbaIds *ids, const char *p, int len)
{
	return FindBytes(ids, p, len);
}

/* An id of the wrong kind for the model: the types of both, and what to do */
pg_attribute_noreturn()
static void
KindMismatch(const UbaIds *ids, Oid typid, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("the model's %s ids are %s, not %s", what, uba_id_kind_name(ids->kind),
					format_type_be(typid)),
			 errhint("Pass %s ids as %s, the type the model was trained on.", what,
					 uba_id_kind_name(ids->kind))));
}

/*
 * Index of an id in the model's ids, or -1.  Text is read as the model's
 * kind (an untyped literal, '{1641,3040}', arrives as text); other kinds
 * that differ from the model's are an error.
 */
int64
uba_ids_find(const UbaIds *ids, Datum value, Oid typid, const char *what)
{
	int			kind = KindOfType(typid);

	if (kind < 0)
		(void) uba_id_kind(typid, what);
	if (IsIntegerKind(kind) && IsIntegerKind(ids->kind))
		return FindInt(ids, IntOf(value, kind));
	if (kind == UBA_ID_TEXT && ids->kind != UBA_ID_TEXT)
	{
		const char *p;
		int			len;

		BytesOf(value, typid, kind, &p, &len);
		return uba_ids_find_cstring(ids, pnstrdup(p, len), what);
	}
	if (kind == ids->kind)
	{
		const char *p;
		int			len;

		BytesOf(value, typid, kind, &p, &len);
		return FindBytes(ids, p, len);
	}
	KindMismatch(ids, typid, what);
}

/* Index of an id given as text (an untyped literal), read as the model's kind, or -1 */
int64
uba_ids_find_cstring(const UbaIds *ids, const char *s, const char *what)
{
	if (IsIntegerKind(ids->kind))
		return FindInt(ids, DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(s))));
	if (ids->kind == UBA_ID_UUID)
		return FindBytes(ids, (const char *) DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(s)))->data,
						 UUID_LEN);
	return FindBytes(ids, s, (int) strlen(s));
}

/* The SQL type to read an untyped id literal as, for the model's kind */
Oid
uba_ids_type(const UbaIds *ids)
{
	return IsIntegerKind(ids->kind) ? INT8OID : ids->kind == UBA_ID_UUID ? UUIDOID : TEXTOID;
}

/*
 * Can the ids be given back as typid?  An integer type for integer ids,
 * uuid for uuids, and any text type for every kind; checked before any
 * row, so that a wrong item_type fails even when there is nothing to return.
 */
void
uba_ids_check_type(const UbaIds *ids, Oid typid, const char *what)
{
	int			kind = KindOfType(typid);

	if (kind == UBA_ID_TEXT || (IsIntegerKind(kind) && IsIntegerKind(ids->kind)) ||
		(kind == UBA_ID_UUID && ids->kind == UBA_ID_UUID))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("the model's %s ids are %s and cannot be returned as %s", what,
					uba_id_kind_name(ids->kind), format_type_be(typid)),
			 errhint("Name a type that holds them with item_type, a typed NULL such as NULL::%s (text holds any id).",
					 uba_id_kind_name(ids->kind))));
}

/* The i-th id as a value of typid (see uba_ids_check_type) */
Datum
uba_ids_datum(const UbaIds *ids, int64 i, Oid typid, const char *what)
{
	int			kind = KindOfType(typid);

	if (kind == UBA_ID_TEXT)
	{
		if (IsIntegerKind(ids->kind))
		{
			char		buf[MAXINT8LEN + 1];

			pg_lltoa(ids->ints[i], buf);
			return PointerGetDatum(cstring_to_text(buf));
		}
		if (ids->kind == UBA_ID_UUID)
			return DirectFunctionCall1(textin, DirectFunctionCall1(uuid_out,
																   PointerGetDatum(ids->bytes + (Size) i * UUID_LEN)));
		return PointerGetDatum(cstring_to_text_with_len(ids->bytes + ids->off[i],
														(int) (ids->off[i + 1] - ids->off[i])));
	}
	if (IsIntegerKind(kind) && IsIntegerKind(ids->kind))
	{
		int64		v = ids->ints[i];

		if (kind == UBA_ID_INT8)
			return Int64GetDatum(v);
		if (kind == UBA_ID_INT4 && v >= PG_INT32_MIN && v <= PG_INT32_MAX)
			return Int32GetDatum((int32) v);
		if (kind == UBA_ID_INT2 && v >= PG_INT16_MIN && v <= PG_INT16_MAX)
			return Int16GetDatum((int16) v);
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s id " INT64_FORMAT " is out of range for type %s", what, v, format_type_be(typid)),
				 errhint("Ask for %s ids of type bigint.", what)));
	}
	if (kind == UBA_ID_UUID && ids->kind == UBA_ID_UUID)
	{
		pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

		memcpy(u->data, ids->bytes + (Size) i * UUID_LEN, UUID_LEN);
		return UUIDPGetDatum(u);
	}
	uba_ids_check_type(ids, typid, what);
	pg_unreachable();
}

/* The i-th id as text, for uba_model_info and messages */
char *
uba_ids_cstring(const UbaIds *ids, int64 i)
{
	return TextDatumGetCString(uba_ids_datum(ids, i, TEXTOID, "model"));
}
