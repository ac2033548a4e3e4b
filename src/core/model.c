/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The model blob format, shared by every model kind.
 *
 * A model is a bytea anyone with UPDATE on a table can edit, so it is
 * untrusted input.  Layout, all integers and floats little-endian:
 *
 *	header (32 bytes)
 *	  0  magic "UBAM"             4  format version (u16)
 *	  6  kind (u16)               8  flags (u32: 1 typed rows; no other bits)
 *	 12  metadata length (u32)   16  payload length (u32)
 *	 20  CRC-32C of bytes 0..19 and 24..end
 *	 24  reserved (8 bytes, must be 0)
 *	metadata
 *	  features (u32), feature names (u32: 0, or one per feature),
 *	  training rows (u64), training milliseconds (f64), created at (i64,
 *	  PostgreSQL timestamptz), extension version (16 bytes, NUL padded),
 *	  options length (u32), options (JSON object text), then each feature
 *	  name as length (u32) and bytes (server encoding, no NUL); with flag 1,
 *	  the encoding of typed rows (encode.c)
 *	payload (kind specific, read through a bounds-checked UbaReader)
 *
 * uba_model_open() validates all of the above before any payload byte is
 * read; kind readers then validate their own payload completely.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "access/detoast.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#define UBA_MODEL_MAGIC "UBAM"
#define UBA_META_FIXED_SIZE (4 + 4 + 8 + 8 + 8 + 16 + 4)
/* header flags */
#define UBA_FLAG_TYPED_ROWS 1

PG_FUNCTION_INFO_V1(uba_model_info);
PG_FUNCTION_INFO_V1(uba_model_kind);

static const char *const kind_names[] = {
	"any", "kmeans", "logreg", "linreg", "cf", "assoc", "boost", "prefixspan", "btyd", "gammagamma", "forecast",
	"global_forecast", "pca", "dbscan", "hclust", "kmeans_sweep", "gmm", "session", "mlp", "bandit"
};

#define UBA_KIND_COUNT lengthof(kind_names)

/* Human-readable kind name */
const char *
uba_kind_name(UbaModelKind kind)
{
	if ((int) kind >= 0 && (int) kind < (int) UBA_KIND_COUNT)
		return kind_names[kind];
	return "unknown";
}

/*
 * Raise the error for a malformed model: a bytea that is not what a uba
 * training function writes is an invalid binary representation (22P03),
 * like any malformed input.  Only a checksum that no longer matches what uba
 * wrote, a model damaged after it was written, is data corruption (XX001:
 * see uba_model_open).
 */
void
uba_model_corrupted(const char *detail,...)
{
	char		buf[256];
	va_list		args;

	va_start(args, detail);
	vsnprintf(buf, sizeof(buf), detail, args);
	va_end(args);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid uba model"),
			 errdetail("%s", buf),
			 errhint("Models must come unchanged from a uba training function.")));
}

/* ---------- little-endian encoding ---------- */

/* Store v little-endian at p */
static inline void
PutLE32(char *p, uint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char) ((v >> (8 * i)) & 0xFF);
}

/* Load a little-endian u32 from p */
static inline uint32
GetLE32(const char *p)
{
	uint32		v = 0;

	for (int i = 0; i < 4; i++)
		v |= ((uint32) (unsigned char) p[i]) << (8 * i);
	return v;
}

/* Load a little-endian u64 from p */
static inline uint64
GetLE64(const char *p)
{
	return (uint64) GetLE32(p) | ((uint64) GetLE32(p + 4) << 32);
}

/* Start a payload */
void
uba_writer_init(UbaWriter *w)
{
	initStringInfo(&w->buf);
}

/* Append a u32 */
void
uba_put_u32(UbaWriter *w, uint32 v)
{
	char		b[4];

	PutLE32(b, v);
	appendBinaryStringInfo(&w->buf, b, 4);
}

/* Append a u64 */
void
uba_put_u64(UbaWriter *w, uint64 v)
{
	uba_put_u32(w, (uint32) v);
	uba_put_u32(w, (uint32) (v >> 32));
}

/* Append a double as its IEEE bits */
void
uba_put_f64(UbaWriter *w, double v)
{
	uint64		bits;

	memcpy(&bits, &v, sizeof(bits));
	uba_put_u64(w, bits);
}

/* Append n doubles */
void
uba_put_f64_array(UbaWriter *w, const double *v, Size n)
{
#ifndef WORDS_BIGENDIAN
	appendBinaryStringInfo(&w->buf, (const char *) v, mul_size(n, sizeof(double)));
#else
	for (Size i = 0; i < n; i++)
		uba_put_f64(w, v[i]);
#endif
}

/* Append n float4 (little-endian IEEE single precision) */
void
uba_put_f32_array(UbaWriter *w, const float *v, Size n)
{
#ifndef WORDS_BIGENDIAN
	appendBinaryStringInfo(&w->buf, (const char *) v, mul_size(n, sizeof(float)));
#else
	for (Size i = 0; i < n; i++)
	{
		uint32		bits;

		memcpy(&bits, &v[i], sizeof(bits));
		uba_put_u32(w, bits);
	}
#endif
}

/* Append n uint32 */
void
uba_put_u32_array(UbaWriter *w, const uint32 *v, Size n)
{
#ifndef WORDS_BIGENDIAN
	appendBinaryStringInfo(&w->buf, (const char *) v, mul_size(n, sizeof(uint32)));
#else
	for (Size i = 0; i < n; i++)
		uba_put_u32(w, v[i]);
#endif
}

/* Append n int64 */
void
uba_put_i64_array(UbaWriter *w, const int64 *v, Size n)
{
	for (Size i = 0; i < n; i++)
		uba_put_u64(w, (uint64) v[i]);
}

/* ---------- bounds-checked reading ---------- */

/* Make sure count elements of elemsize bytes remain, without overflow */
void
uba_reader_check_space(UbaReader *r, Size count, Size elemsize)
{
	Size		left = (Size) (r->end - r->p);

	if (elemsize != 0 && count > left / elemsize)
		uba_model_corrupted("The model ends before its data does.");
}

/* Read a u32 */
uint32
uba_get_u32(UbaReader *r)
{
	uint32		v;

	uba_reader_check_space(r, 1, 4);
	v = GetLE32(r->p);
	r->p += 4;
	return v;
}

/* Read a u64 */
uint64
uba_get_u64(UbaReader *r)
{
	uint64		v;

	uba_reader_check_space(r, 1, 8);
	v = GetLE64(r->p);
	r->p += 8;
	return v;
}

/* Read a double */
double
uba_get_f64(UbaReader *r)
{
	uint64		bits = uba_get_u64(r);
	double		v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Read a double that must be finite */
double
uba_get_finite_f64(UbaReader *r)
{
	double		v = uba_get_f64(r);

	if (!isfinite(v))
		uba_model_corrupted("The model holds a value that is not finite.");
	return v;
}

/* Read n doubles, optionally requiring each to be finite */
void
uba_get_f64_array(UbaReader *r, double *dst, Size n, bool finite)
{
	uba_reader_check_space(r, n, sizeof(double));
#ifndef WORDS_BIGENDIAN
	memcpy(dst, r->p, n * sizeof(double));
	r->p += n * sizeof(double);
#else
	for (Size i = 0; i < n; i++)
		dst[i] = uba_get_f64(r);
#endif
	if (finite)
		for (Size i = 0; i < n; i++)
			if (!isfinite(dst[i]))
				uba_model_corrupted("The model holds a value that is not finite.");
}

/* Read n int64 */
void
uba_get_i64_array(UbaReader *r, int64 *dst, Size n)
{
	uba_reader_check_space(r, n, 8);
	for (Size i = 0; i < n; i++)
		dst[i] = (int64) uba_get_u64(r);
}

/* Read n float4; with finite, every value must be finite */
void
uba_get_f32_array(UbaReader *r, float *dst, Size n, bool finite)
{
	uba_reader_check_space(r, n, sizeof(float));
#ifndef WORDS_BIGENDIAN
	memcpy(dst, r->p, n * sizeof(float));
	r->p += n * sizeof(float);
#else
	for (Size i = 0; i < n; i++)
	{
		uint32		bits = uba_get_u32(r);

		memcpy(&dst[i], &bits, sizeof(bits));
	}
#endif
	if (finite)
		for (Size i = 0; i < n; i++)
			if (!isfinite(dst[i]))
				uba_model_corrupted("The model holds a value that is not finite.");
}

/* Read n uint32 */
void
uba_get_u32_array(UbaReader *r, uint32 *dst, Size n)
{
	uba_reader_check_space(r, n, sizeof(uint32));
#ifndef WORDS_BIGENDIAN
	memcpy(dst, r->p, n * sizeof(uint32));
	r->p += n * sizeof(uint32);
#else
	for (Size i = 0; i < n; i++)
		dst[i] = uba_get_u32(r);
#endif
}

/* A payload must be consumed exactly */
void
uba_reader_finish(UbaReader *r)
{
	if (r->p != r->end)
		uba_model_corrupted("The model has %zu unexpected bytes at its end.",
							(Size) (r->end - r->p));
}

/* ---------- whole blobs ---------- */

/* CRC-32C over the blob, skipping the CRC field itself */
uint32
uba_model_crc(const char *data, Size len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, 20);
	COMP_CRC32C(crc, data + 24, len - 24);
	FIN_CRC32C(crc);
	return crc;
}

/*
 * What training writes must read back: a model the readers would reject
 * (a value that overflowed to infinity, say) is an error of the training
 * call, with the reader's reason, not of every later read.  Validated in a
 * context of its own, freed at once.  Only the readers' rejections (data
 * corrupted, class 22) are told as such: a cancel, a memory limit or
 * anything else that happens while the model is read goes on as it is.
 */
static void
CheckReadsBack(bytea *blob)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(caller, "uba model check", ALLOCSET_DEFAULT_SIZES);

	PG_TRY();
	{
		UbaModelMeta meta;

		MemoryContextSwitchTo(cxt);
		if (uba_debug_cancel_read_back)
		{
			QueryCancelPending = true;
			InterruptPending = true;
		}
		uba_model_validate(blob, &meta);
		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(caller);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(caller);
		e = CopyErrorData();
		if (e->sqlerrcode != ERRCODE_DATA_CORRUPTED &&
			ERRCODE_TO_CATEGORY(e->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
		{
			FreeErrorData(e);
			PG_RE_THROW();
		}
		FlushErrorState();
		e->sqlerrcode = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		e->message = psprintf("training produced a model that could not be read back: %s",
							  e->detail ? e->detail : e->message);
		e->detail = NULL;
		e->hint = pstrdup("The training values are probably too large: squares of features near 1e154 overflow double precision, and a recommender's weights beyond 3e38 its single precision. Rescale them, for example by a power of ten, before training.");
		ReThrowError(e);
	}
	PG_END_TRY();
	MemoryContextDelete(cxt);
}

/* Assemble header, metadata and payload into a model blob */
bytea *
uba_model_build(UbaModelKind kind, const UbaModelMeta *meta, UbaWriter *payload)
{
	UbaWriter	m;
	Size		optlen = strlen(meta->options_json);
	Size		total;
	bytea	   *result;
	char	   *p;
	char		version[16];

	uba_writer_init(&m);
	uba_put_u32(&m, (uint32) meta->n_features);
	uba_put_u32(&m, meta->feature_names ? (uint32) meta->n_features : 0);
	uba_put_u64(&m, (uint64) meta->n_rows);
	uba_put_f64(&m, meta->train_ms);
	uba_put_u64(&m, (uint64) meta->created_at);
	memset(version, 0, sizeof(version));
	strlcpy(version, UBA_VERSION_STRING, sizeof(version));
	appendBinaryStringInfo(&m.buf, version, sizeof(version));
	uba_put_u32(&m, (uint32) optlen);
	appendBinaryStringInfo(&m.buf, meta->options_json, optlen);
	for (int j = 0; meta->feature_names && j < meta->n_features; j++)
	{
		uba_put_u32(&m, (uint32) strlen(meta->feature_names[j]));
		appendBinaryStringInfoNT(&m.buf, meta->feature_names[j], strlen(meta->feature_names[j]));
	}
	if (meta->encoding != NULL)
		uba_put_encoding(&m, meta->encoding);

	total = add_size(add_size(UBA_MODEL_HEADER_SIZE, m.buf.len), payload->buf.len);
	if (total > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model would be %zu MB, larger than the 1 GB a bytea value can hold",
						total / (1024 * 1024)),
				 errhint("Train with fewer features, clusters or factors.")));

	result = (bytea *) palloc0(total + VARHDRSZ);
	SET_VARSIZE(result, total + VARHDRSZ);
	p = VARDATA(result);
	memcpy(p, UBA_MODEL_MAGIC, 4);
	p[4] = (char) (UBA_MODEL_FORMAT_VERSION & 0xFF);
	p[5] = (char) (UBA_MODEL_FORMAT_VERSION >> 8);
	p[6] = (char) ((int) kind & 0xFF);
	p[7] = (char) ((int) kind >> 8);
	PutLE32(p + 8, meta->encoding != NULL ? UBA_FLAG_TYPED_ROWS : 0);
	PutLE32(p + 12, (uint32) m.buf.len);
	PutLE32(p + 16, (uint32) payload->buf.len);
	memcpy(p + UBA_MODEL_HEADER_SIZE, m.buf.data, m.buf.len);
	memcpy(p + UBA_MODEL_HEADER_SIZE + m.buf.len, payload->buf.data, payload->buf.len);
	PutLE32(p + 20, uba_model_crc(p, total));

	pfree(m.buf.data);
	CheckReadsBack(result);
	return result;
}

/*
 * A number in stored options as uba writes them: a double (at most 64
 * characters, an exponent within a double's range).  JSON's grammar allows
 * more, which the jsonb that uba_model_info returns cannot hold (a number
 * past numeric's range): a damaged model is refused here instead.
 */
#if PG_VERSION_NUM >= 160000
static JsonParseErrorType
#else
static void
#endif
CheckNumber(void *state, char *token, JsonTokenType type)
{
	if (type == JSON_TOKEN_NUMBER)
	{
		const char *e = strpbrk(token, "eE");

		if (strlen(token) > 64 || (e != NULL && labs(strtol(e + 1, NULL, 10)) > 400))
			*(bool *) state = false;
	}
#if PG_VERSION_NUM >= 160000
	return JSON_SUCCESS;
#endif
}

/* Check that text is a valid JSON object without raising a syntax error */
bool
uba_is_json_object_text(char *text, int len)
{
	JsonLexContext *lex;
	JsonSemAction sem;
	bool		numbers_ok = true;

	if (len < 2 || text[0] != '{')
		return false;
	if (pg_verify_mbstr(PG_UTF8, text, len, true) != true)
		return false;
#if PG_VERSION_NUM >= 170000
	lex = makeJsonLexContextCstringLen(NULL, text, len, PG_UTF8, true);
#else
	lex = makeJsonLexContextCstringLen(text, len, PG_UTF8, true);
#endif
	memset(&sem, 0, sizeof(sem));
	sem.semstate = &numbers_ok;
	sem.scalar = CheckNumber;
	return pg_parse_json(lex, &sem) == JSON_SUCCESS && numbers_ok;
}

/* n feature names: each non-empty, bounded, valid text, and all distinct */
static char **
ReadFeatureNames(UbaReader *r, int n)
{
	char	  **names;

	uba_reader_check_space(r, (Size) n, sizeof(uint32) + 1);
	names = palloc(sizeof(char *) * n);
	for (int j = 0; j < n; j++)
	{
		uint32		len = uba_get_u32(r);

		if (len == 0 || len > UBA_MAX_NAME_BYTES)
			uba_model_corrupted("Feature name %d has %u bytes.", j + 1, len);
		uba_reader_check_space(r, len, 1);
		if (memchr(r->p, '\0', len) != NULL ||
			!pg_verify_mbstr(GetDatabaseEncoding(), r->p, (int) len, true))
			uba_model_corrupted("Feature name %d is not valid text.", j + 1);
		names[j] = pnstrdup(r->p, len);
		r->p += len;
	}
	if (uba_duplicate_name(names, n) != NULL)
		uba_model_corrupted("Feature names repeat.");
	return names;
}

/* "a" or "an" before a kind name, for messages */
static const char *
Article(const char *name)
{
	return name[0] != '\0' && strchr("aeiou", name[0]) != NULL ? "an" : "a";
}

/*
 * Validate a blob completely (header, CRC, metadata) and position a reader
 * on its payload.  expected = UBA_KIND_ANY accepts every known kind.
 */
void
uba_model_open(bytea *blob, UbaModelKind expected, UbaModelMeta *meta,
			   UbaReader *payload)
{
	const char *p = VARDATA_ANY(blob);
	Size		len = VARSIZE_ANY_EXHDR(blob);
	uint32		metalen;
	uint32		nnames;
	uint32		paylen;
	int			kind;
	UbaReader	r;
	uint32		optlen;

	if (len < UBA_MODEL_HEADER_SIZE || memcmp(p, UBA_MODEL_MAGIC, 4) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("value is not a uba model"),
				 errhint("Pass a model made by a uba training function, or fetch one with uba_model(name).")));

	meta->format_version = (unsigned char) p[4] | ((unsigned char) p[5] << 8);
	if (meta->format_version != UBA_MODEL_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("uba model format version %d is not supported", meta->format_version),
				 errdetail("This build of uba reads format version %d.", UBA_MODEL_FORMAT_VERSION),
				 errhint("Update the uba extension, or retrain the model.")));

	kind = (unsigned char) p[6] | ((unsigned char) p[7] << 8);
	/* a kind this build cannot read completely is as good as unknown */
	if (kind <= 0 || kind >= (int) UBA_KIND_COUNT || uba_kind_describer((UbaModelKind) kind) == NULL)
		uba_model_corrupted("Unknown model kind %d.", kind);
	if ((GetLE32(p + 8) & ~(uint32) UBA_FLAG_TYPED_ROWS) != 0)
		uba_model_corrupted("Reserved flag bits are set.");
	if (GetLE64(p + 24) != 0)
		uba_model_corrupted("Reserved header bytes are not zero.");

	metalen = GetLE32(p + 12);
	paylen = GetLE32(p + 16);
	if ((uint64) UBA_MODEL_HEADER_SIZE + metalen + paylen != (uint64) len)
		uba_model_corrupted("The model is %zu bytes, but its header says %llu.",
							len, (unsigned long long) UBA_MODEL_HEADER_SIZE + metalen + paylen);
	if (GetLE32(p + 20) != uba_model_crc(p, len))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid uba model"),
				 errdetail("Checksum mismatch."),
				 errhint("Models must come unchanged from a uba training function.")));

	/* metadata */
	r.p = p + UBA_MODEL_HEADER_SIZE;
	r.end = r.p + metalen;
	meta->kind = (UbaModelKind) kind;
	meta->n_features = (int32) uba_get_u32(&r);
	if (meta->n_features < 0)
		uba_model_corrupted("Negative feature count.");
	nnames = uba_get_u32(&r);
	if (nnames != 0 && nnames != (uint32) meta->n_features)
		uba_model_corrupted("The model has %u feature names for %d features.", nnames, meta->n_features);
	meta->n_rows = (int64) uba_get_u64(&r);
	if (meta->n_rows < 0)
		uba_model_corrupted("Negative training row count.");
	meta->train_ms = uba_get_finite_f64(&r);
	meta->created_at = (TimestampTz) uba_get_u64(&r);
	if (!IS_VALID_TIMESTAMP(meta->created_at))
		uba_model_corrupted("Creation time out of range.");
	uba_reader_check_space(&r, 1, sizeof(meta->ext_version));
	memcpy(meta->ext_version, r.p, sizeof(meta->ext_version));
	r.p += sizeof(meta->ext_version);
	if (meta->ext_version[sizeof(meta->ext_version) - 1] != '\0')
		uba_model_corrupted("Extension version is not terminated.");
	for (const char *c = meta->ext_version; *c; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.' || (*c >= 'a' && *c <= 'z') || *c == '-'))
			uba_model_corrupted("Extension version has unexpected characters.");
	optlen = uba_get_u32(&r);
	uba_reader_check_space(&r, optlen, 1);
	meta->options_json = pnstrdup(r.p, optlen);
	if (strlen(meta->options_json) != optlen ||
		!uba_is_json_object_text(meta->options_json, (int) optlen))
		uba_model_corrupted("Stored options are not a JSON object.");
	r.p += optlen;
	meta->feature_names = nnames > 0 ? ReadFeatureNames(&r, (int) nnames) : NULL;
	meta->encoding = (GetLE32(p + 8) & UBA_FLAG_TYPED_ROWS) ?
		uba_get_encoding(&r, meta->n_features, meta->feature_names) : NULL;
	uba_reader_finish(&r);

	if (expected != UBA_KIND_ANY && expected != meta->kind)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model is %s %s model, not %s %s model",
						Article(uba_kind_name(meta->kind)), uba_kind_name(meta->kind),
						Article(uba_kind_name(expected)), uba_kind_name(expected)),
				 errhint("Use the functions for %s models with it.", uba_kind_name(meta->kind))));

	payload->p = p + UBA_MODEL_HEADER_SIZE + metalen;
	payload->end = payload->p + paylen;
}

/*
 * Append the kind's summary of a model opened by uba_model_open() to json
 * (", key: value" pairs); it reads the whole payload, which validates it.
 */
void
uba_model_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	uba_kind_describer(meta->kind) (meta, payload, json);
}

/* Metadata of a model trained now on n_rows rows that began arriving at started */
void
uba_model_meta_init(UbaModelMeta *meta, int32 n_features, int64 n_rows,
					TimestampTz started, const UbaOptions *o)
{
	meta->n_features = n_features;
	meta->n_rows = n_rows;
	meta->created_at = GetCurrentTimestamp();
	meta->train_ms = (double) (meta->created_at - started) / 1000.0;
	meta->options_json = uba_options_to_json(o);
	uba_options_check_names(o, n_features);
	meta->feature_names = o->names;
	meta->encoding = NULL;
}

/* Read and validate d feature means and scales (all finite, scales positive) */
void
uba_get_scaling(UbaReader *r, int d, double **mean, double **scale)
{
	uba_reader_check_space(r, (Size) d * 2, sizeof(double));
	*mean = palloc(sizeof(double) * d);
	*scale = palloc(sizeof(double) * d);
	uba_get_f64_array(r, *mean, d, true);
	uba_get_f64_array(r, *scale, d, true);
	for (int j = 0; j < d; j++)
		if (!((*scale)[j] > 0))
			uba_model_corrupted("Non-positive feature scale.");
}

/* ---------- SQL functions ---------- */

/* uba_model_info(model bytea) returns jsonb: the model's metadata */
Datum
uba_model_info(PG_FUNCTION_ARGS)
{
	bytea	   *blob = PG_GETARG_BYTEA_PP(0);
	UbaModelMeta meta;
	UbaReader	payload;
	StringInfoData js;

	uba_model_open(blob, UBA_KIND_ANY, &meta, &payload);

	initStringInfo(&js);
	appendStringInfo(&js, "{\"kind\": \"%s\", \"format_version\": %d, "
					 "\"features\": %d, \"training_rows\": " INT64_FORMAT ", "
					 "\"training_ms\": %.3f, \"created_at\": ",
					 uba_kind_name(meta.kind), meta.format_version,
					 meta.n_features, meta.n_rows, meta.train_ms);
	escape_json(&js, timestamptz_to_str(meta.created_at));
	appendStringInfoString(&js, ", \"extension_version\": ");
	escape_json(&js, meta.ext_version);
	appendStringInfo(&js, ", \"size_bytes\": %zu, \"options\": %s",
					 VARSIZE_ANY_EXHDR(blob), meta.options_json);
	if (meta.feature_names != NULL)
	{
		appendStringInfoString(&js, ", \"feature_names\": [");
		for (int j = 0; j < meta.n_features; j++)
		{
			if (j > 0)
				appendStringInfoString(&js, ", ");
			escape_json(&js, meta.feature_names[j]);
		}
		appendStringInfoChar(&js, ']');
	}
	if (meta.encoding != NULL)
		uba_encoding_describe(meta.encoding, &js);
	uba_model_describe(&meta, &payload, &js);
	appendStringInfoChar(&js, '}');

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(js.data)));
}

/* Validate a model of any kind in full (header and payload); its metadata */
void
uba_model_validate(bytea *blob, UbaModelMeta *meta)
{
	UbaReader	payload;
	StringInfoData js;

	uba_model_open(blob, UBA_KIND_ANY, meta, &payload);
	initStringInfo(&js);
	uba_model_describe(meta, &payload, &js);
}

/* uba_model_kind(model bytea) returns text: validates fully, names the kind */
Datum
uba_model_kind(PG_FUNCTION_ARGS)
{
	UbaModelMeta meta;

	uba_model_validate(PG_GETARG_BYTEA_PP(0), &meta);
	PG_RETURN_TEXT_P(cstring_to_text(uba_kind_name(meta.kind)));
}
