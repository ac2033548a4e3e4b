/*-------------------------------------------------------------------------
 *
 * encode.c
 *	  Typed rows: a table's columns, as they are, as a model's features.
 *
 * A trainer given a row (a table's row, a subquery's, any composite)
 * instead of a float8[] takes each column by its type: numbers as they
 * are, boolean as 0 or 1, text, varchar, char, name and enum as
 * categories, date as days and timestamps as seconds since 1970-01-01
 * (UTC for timestamptz).  NULL is missing.  Other types are an error that
 * names the column.
 *
 * While rows arrive, a category is interned (its handle depends on the
 * order rows arrive), so before the rows are put in their canonical order
 * uba_encoding_ranks() gives each handle its rank in byte order, which the
 * rows take as they are hashed: the model does not depend on row order.  Then
 * uba_encoding_expand() decides the levels each category keeps (the
 * max_levels most frequent seen at least min_level_count times; the rest
 * become one "other" level) and, for models that need numbers only
 * (UBA_ENC_ONEHOT: linear models, k-means), one-hot encodes the categories,
 * with a level for NULL, and replaces a NULL number with the training
 * mean; the row set's moments of an indicator are then 0 and 1, so that
 * standardization (which z-scores with them) leaves indicators as they are.  Trees (UBA_ENC_CODES) keep one feature per column: a category is
 * its level's number (the other level last) and NULL stays missing.
 *
 * The model keeps the encoding (a metadata section, see model.c), so
 * scoring takes a row too: uba_encoding_row() finds the model's columns by
 * name in whatever row type it is given (once per row type), ignores the
 * others, and refuses a missing column or one whose type changed class.
 * A category not seen in training counts as the other level when the
 * column has one; otherwise it is missing (trees: the default way; one-hot:
 * every indicator of the column 0).
 *
 * Section: mode (u32), columns (u32), then per column: name (u32 length,
 * bytes), class (u32), type name (u32 length, bytes), first feature (u32),
 * width (u32), fill (f64), training NULLs (u64), flags (u32: 1 other
 * level, 2 missing level), levels (u32) and the levels as a text id
 * section (ids.c: strictly increasing bytes).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* the most levels a categorical column may keep */
#define UBA_MAX_LEVELS 100000
/* the longest type name a model stores */
#define UBA_MAX_TYPE_NAME 128
/* days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 */
#define UNIX_TO_PG_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

#define COL_FLAG_OTHER 1
#define COL_FLAG_MISSING 2

static const char *const class_names[] = {"number", "boolean", "category", "date", "timestamp"};

/* The options typed rows add to a trainer's: trees keep more levels, as they cost no width */
static const UbaOptionSpec onehot_options[] = {
	{"max_levels", UBA_OPT_INT, 100, 1, UBA_MAX_LEVELS, NULL},
	{"min_level_count", UBA_OPT_INT, 1, 1, 1e15, NULL},
};
static const UbaOptionSpec codes_options[] = {
	{"max_levels", UBA_OPT_INT, 1000, 1, UBA_MAX_LEVELS, NULL},
	{"min_level_count", UBA_OPT_INT, 1, 1, 1e15, NULL},
};

/* Is argument argno of the call a row (a composite) rather than an array? */
bool
uba_arg_is_row(FunctionCallInfo fcinfo, int argno)
{
	Oid			t = get_fn_expr_argtype(fcinfo->flinfo, argno);

	return OidIsValid(t) && type_is_rowtype(t);
}

/*
 * A trainer's options, and for typed rows the encoding's too; names come
 * from the columns, so "feature_names" is for float8[] features only.
 */
void
uba_parse_row_options(Jsonb *opts, const UbaOptionSpec *specs, int nspecs, const char *funcname,
					  bool typed, int mode, UbaOptions *out)
{
	UbaOptionSpec *all;
	const UbaOptionSpec *extra = mode == UBA_ENC_ONEHOT ? onehot_options : codes_options;

	if (!typed)
	{
		uba_parse_options(opts, specs, nspecs, funcname, out);
		return;
	}
	all = palloc(sizeof(UbaOptionSpec) * (nspecs + 2));
	memcpy(all, specs, sizeof(UbaOptionSpec) * nspecs);
	memcpy(all + nspecs, extra, sizeof(UbaOptionSpec) * 2);
	uba_parse_options(opts, all, nspecs + 2, funcname, out);
	if (out->names != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"feature_names\" of %s is for float8[] features", funcname),
				 errdetail("A row's features are named by its columns."),
				 errhint("Rename the columns in the query instead, for example SELECT tenure AS months.")));
}

/* ---------- column types ---------- */

/* The class of a (base) type, or -1 */
static int
ClassOf(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return UBA_COL_NUMBER;
		case BOOLOID:
			return UBA_COL_BOOL;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			return UBA_COL_CATEGORY;
		case DATEOID:
			return UBA_COL_DATE;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return UBA_COL_TIMESTAMP;
		default:
			return type_is_enum(typid) ? UBA_COL_CATEGORY : -1;
	}
}

/* The type a column's values are read as: the type under a domain; ANYENUMOID for enums */
static Oid
ValueType(Oid typid)
{
	Oid			base = getBaseType(typid);

	return ClassOf(base) == UBA_COL_CATEGORY && type_is_enum(base) ? ANYENUMOID : base;
}

pg_attribute_noreturn()
static void
NotFinite(const UbaColumn *c, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" has the value %s", c->name, what),
			 errdetail("Features must be finite; NULL is taken as missing."),
			 errhint("Replace such values with NULL in the query, for example NULLIF(%s, '%s').",
					 quote_identifier(c->name), what)));
}

/* The number a non-NULL value of a number, boolean, date or timestamp column stands for */
static double
NumberOf(const UbaColumn *c, Datum v)
{
	double		x;

	switch (c->typid)
	{
		case INT2OID:
			return DatumGetInt16(v);
		case INT4OID:
			return DatumGetInt32(v);
		case INT8OID:
			return (double) DatumGetInt64(v);
		case FLOAT4OID:
			x = DatumGetFloat4(v);
			break;
		case FLOAT8OID:
			x = DatumGetFloat8(v);
			break;
		case NUMERICOID:
			if (numeric_is_nan(DatumGetNumeric(v)))
				NotFinite(c, "NaN");
			x = DatumGetFloat8(DirectFunctionCall1(numeric_float8, v));
			break;
		case BOOLOID:
			return DatumGetBool(v) ? 1.0 : 0.0;
		case DATEOID:
			if (DATE_NOT_FINITE(DatumGetDateADT(v)))
				NotFinite(c, "infinity");
			return (double) DatumGetDateADT(v) + UNIX_TO_PG_DAYS;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(v)))
				NotFinite(c, "infinity");
			return (double) DatumGetTimestamp(v) / USECS_PER_SEC +
				(double) UNIX_TO_PG_DAYS * SECS_PER_DAY;
		default:
			elog(ERROR, "uba: column \"%s\" is not a number", c->name);
	}
	if (isnan(x))
		NotFinite(c, "NaN");
	if (isinf(x))
		NotFinite(c, x > 0 ? "Infinity" : "-Infinity");
	return x;
}

/*
 * The bytes of a category (char without its padding, as char compares;
 * an enum as its label).  buf holds an enum's label.
 */
static void
CategoryOf(const UbaColumn *c, Datum v, char *buf, const char **p, int *len)
{
	switch (c->typid)
	{
		case NAMEOID:
			*p = NameStr(*DatumGetName(v));
			*len = (int) strlen(*p);
			return;
		case ANYENUMOID:
			{
				HeapTuple	tup = SearchSysCache1(ENUMOID, v);

				if (!HeapTupleIsValid(tup))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							 errmsg("invalid internal value for enum: %u", DatumGetObjectId(v))));
				strlcpy(buf, NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), NAMEDATALEN);
				ReleaseSysCache(tup);
				*p = buf;
				*len = (int) strlen(buf);
				return;
			}
		default:
			{
				text	   *t = DatumGetTextPP(v);

				*p = VARDATA_ANY(t);
				*len = (int) VARSIZE_ANY_EXHDR(t);
				if (c->typid == BPCHAROID)
					while (*len > 0 && (*p)[*len - 1] == ' ')
						(*len)--;
			}
	}
}

/* Point e at the row type (typid, typmod): its descriptor and room to take rows apart */
static void
UseRowType(UbaEncoding *e, Oid typid, int32 typmod)
{
	TupleDesc	td = lookup_rowtype_tupdesc(typid, typmod);
	MemoryContext old = MemoryContextSwitchTo(e->cxt);

	if (e->tupdesc != NULL)
	{
		FreeTupleDesc(e->tupdesc);
		pfree(e->values);
		pfree(e->isnull);
	}
	e->tupdesc = CreateTupleDescCopy(td);
	ReleaseTupleDesc(td);
	e->values = palloc(sizeof(Datum) * Max(e->tupdesc->natts, 1));
	e->isnull = palloc(sizeof(bool) * Max(e->tupdesc->natts, 1));
	e->row_typid = typid;
	e->row_typmod = typmod;
	e->all_float8 = false;		/* columns are mapped to this type after */
	MemoryContextSwitchTo(old);
}

/* Take a row apart into e->values and e->isnull */
static void
Deform(UbaEncoding *e, HeapTupleHeader row)
{
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	heap_deform_tuple(&tuple, e->tupdesc, e->values, e->isnull);
}

/* ---------- training ---------- */

/* The encoding of rows like row: one column per attribute, in cxt */
UbaEncoding *
uba_encoding_start(MemoryContext cxt, HeapTupleHeader row, int mode, const char *funcname)
{
	UbaEncoding *e = MemoryContextAllocZero(cxt, sizeof(UbaEncoding));
	MemoryContext old;
	int			n = 0;

	e->cxt = cxt;
	e->mode = mode;
	UseRowType(e, HeapTupleHeaderGetTypeId(row), HeapTupleHeaderGetTypMod(row));
	old = MemoryContextSwitchTo(cxt);
	e->cols = palloc0(sizeof(UbaColumn) * Max(e->tupdesc->natts, 1));
	for (int a = 0; a < e->tupdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(e->tupdesc, a);
		UbaColumn  *c;

		if (att->attisdropped)
			continue;
		c = &e->cols[n++];
		c->name = pstrdup(NameStr(att->attname));
		/* an anonymous record, as a Citus worker sends a LATERAL row to the coordinator */
		if (c->name[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the rows given to %s have columns without names", funcname),
					 errdetail("Models read a row's columns by name."),
					 errhint("Over a Citus distributed table, pass the row as a named composite type: CREATE TYPE t AS (...), then (a, b, c)::t.")));
		c->attno = a;
		c->typid = ValueType(att->atttypid);
		c->cls = ClassOf(c->typid == ANYENUMOID ? getBaseType(att->atttypid) : c->typid);
		c->type_name = format_type_be(att->atttypid);
		if (strlen(c->type_name) > UBA_MAX_TYPE_NAME)
			c->type_name[pg_mbcliplen(c->type_name, strlen(c->type_name), UBA_MAX_TYPE_NAME)] = '\0';
		if (c->cls < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of type %s cannot be a feature of %s",
							c->name, format_type_be(att->atttypid), funcname),
					 errdetail("Features can be numbers, boolean, text, varchar, char, enum, date or timestamp."),
					 errhint("Cast the column in the query (for example to text or a number), or leave it out.")));
		if (c->cls == UBA_COL_CATEGORY)
			uba_id_dict_init(&c->dict, cxt, UBA_ID_TEXT);
		for (int k = 0; k < n - 1; k++)
			if (strcmp(e->cols[k].name, c->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" appears twice in the rows of %s", c->name, funcname),
						 errhint("Give the columns distinct names in the query.")));
	}
	e->ncols = n;
	e->all_float8 = n == e->tupdesc->natts;
	for (int k = 0; k < n; k++)
		e->all_float8 = e->all_float8 && TupleDescAttr(e->tupdesc, k)->atttypid == FLOAT8OID;
	MemoryContextSwitchTo(old);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the rows given to %s have no columns", funcname)));
	if (n > UBA_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rows of %d columns are more than the %d features a model can have",
						n, UBA_MAX_FEATURES)));
	return e;
}

/* One training row into raw (a value per column; a category as its handle; NULL as NaN) */
void
uba_encoding_read(UbaEncoding *e, HeapTupleHeader row, double *raw)
{
	char		label[NAMEDATALEN];

	if (HeapTupleHeaderGetTypeId(row) != e->row_typid ||
		HeapTupleHeaderGetTypMod(row) != e->row_typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the rows of one training call must all have the same columns")));

	/*
	 * Rows of float8 columns only and no NULL (a row of numbers): the
	 * values lie one after another from the data's start, each aligned to
	 * 8 bytes, so they are copied as they are.  Infinity or NaN takes the
	 * general path below, for its error.
	 */
	if (e->all_float8 && !(row->t_infomask & HEAP_HASNULL) && HeapTupleHeaderGetNatts(row) == e->ncols)
	{
		memcpy(raw, (const char *) row + row->t_hoff, sizeof(double) * e->ncols);
		if (likely(uba_all_finite(raw, e->ncols)))
			return;
	}
	Deform(e, row);
	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];
		Datum		v = e->values[c->attno];

		if (e->isnull[c->attno])
		{
			raw[k] = NAN;
			c->nulls++;
		}
		else if (c->cls == UBA_COL_CATEGORY)
		{
			const char *p;
			int			len;
			int64		h;

			CategoryOf(c, v, label, &p, &len);
			h = uba_id_intern(&c->dict, p, len);
			/* levels are counted here, so that no pass over the rows is needed for it */
			if (h >= c->counts_cap)
			{
				int64		cap = Max(16, 2 * c->counts_cap);

				c->counts = c->counts == NULL ?
					MemoryContextAllocHuge(e->cxt, sizeof(int64) * cap) :
					repalloc_huge(c->counts, sizeof(int64) * cap);
				memset(c->counts + c->counts_cap, 0, sizeof(int64) * (cap - c->counts_cap));
				c->counts_cap = cap;
			}
			c->counts[h]++;
			raw[k] = (double) h;
		}
		else if (c->typid == FLOAT8OID && isfinite(DatumGetFloat8(v)))
			raw[k] = DatumGetFloat8(v); /* the common case without a call */
		else
			raw[k] = NumberOf(c, v);
	}
}

/* Bytes the encoding's dictionaries hold, for uba.max_memory */
Size
uba_encoding_bytes(const UbaEncoding *e)
{
	Size		total = 0;

	for (int k = 0; k < e->ncols; k++)
		if (e->cols[k].cls == UBA_COL_CATEGORY)
			total += uba_id_dict_bytes(&e->cols[k].dict) + sizeof(int64) * e->cols[k].counts_cap;
	return total;
}

/*
 * Each category column's map from handle to rank in byte order (NULL for
 * other columns), to be applied to the rows while they are hashed
 * (rowset.c): one threaded pass over the rows instead of one here per
 * column.
 */
int64 **
uba_encoding_ranks(UbaEncoding *e, UbaRowSet *rs)
{
	int64	  **ranks = palloc0(sizeof(int64 *) * e->ncols);

	/*
	 * A column equal to the label on every row is the label itself, given
	 * as a feature too (a whole table row passed with its label): say so.
	 */
	if (rs->has_y && rs->ylevels == NULL && rs->n > 1)
		for (int k = 0; k < e->ncols; k++)
		{
			int64		i;

			if (e->cols[k].cls == UBA_COL_CATEGORY)
				continue;
			for (i = 0; i < rs->n; i++)
				if (!(uba_rowset_value(rs, i, k) == (rs->single ? (double) (float) rs->y[i] : rs->y[i])))
					break;
			if (i == rs->n)
				ereport(WARNING,
						(errmsg("column \"%s\" equals the label on every row", e->cols[k].name),
						 errdetail("A model that reads the label as a feature learns nothing else."),
						 errhint("Leave the label out of the row, for example FROM t, LATERAL (SELECT tenure, plan) f.")));
		}

	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];
		int64	   *counts;

		if (c->cls != UBA_COL_CATEGORY || c->dict.n == 0)
			continue;
		/* rows kept in float4 hold a level's number exactly below 2^24 */
		if (rs->single && c->dict.n > UBA_FLOAT4_MAX_LEVELS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("column \"%s\" has more than %d distinct values", c->name, UBA_FLOAT4_MAX_LEVELS),
					 errdetail("Trees read a category as its level's number in float32."),
					 errhint("Leave out a column that identifies rows, or group its values first.")));
		ranks[k] = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * c->dict.n);
		for (int64 h = 0; h < c->dict.n; h++)
			ranks[k][h] = h;
		uba_id_dict_canonical(&c->dict, ranks[k], c->dict.n);
		/* the levels' counts follow them to their ranks */
		counts = MemoryContextAllocHuge(e->cxt, sizeof(int64) * c->dict.n);
		for (int64 h = 0; h < c->dict.n; h++)
			counts[ranks[k][h]] = c->counts[h];
		pfree(c->counts);
		c->counts = counts;
		c->counts_cap = c->dict.n;
	}
	return ranks;
}

/* An integer option of the encoding from the stored options (validated when the first row came) */
static int64
StoredOption(const UbaRowSet *rs, const char *key, int64 def)
{
	JsonbValue *v;

	if (rs->options == NULL)
		return def;
	v = getKeyJsonValueFromContainer(&rs->options->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvNumeric)
		return def;
	return (int64) DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

typedef struct LevelCount
{
	int64		level;
	int64		count;
} LevelCount;

/* The most frequent first, then byte order */
static int
CompareLevelCounts(const void *a, const void *b)
{
	const LevelCount *x = a;
	const LevelCount *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->level > y->level) - (x->level < y->level);
}

/* A feature name, clipped to the longest a model keeps */
static char *
FeatureName(const char *s)
{
	int			len = (int) strlen(s);

	if (len > UBA_MAX_NAME_BYTES)
		return pnstrdup(s, pg_mbcliplen(s, len, UBA_MAX_NAME_BYTES));
	return pstrdup(s);
}

/* What RecodeBlock needs */
typedef struct RecodeArg
{
	UbaRowSet  *rs;
	int64	  **newcode;		/* per category column: rank -> code; NULL for numbers */
} RecodeArg;

/* Trees' categories from ranks to codes, a block of rows at a time, every column in one pass (threads) */
static void
RecodeBlock(void *arg, int64 block, int lane)
{
	RecodeArg  *ra = (RecodeArg *) arg;
	UbaRowSet  *rs = ra->rs;
	int			ncols = rs->enc->ncols;
	int64		i1 = Min(rs->n, (block + 1) * UBA_BLOCK_ROWS);

	for (int64 i = block * UBA_BLOCK_ROWS; i < i1; i++)
	{
		if (rs->single)
			uba_encoding_map_row_float4(rs->xs + (Size) i * rs->dim, ncols, ra->newcode);
		else
			uba_encoding_map_row(rs->x + (Size) i * rs->dim, ncols, ra->newcode);
	}
}

/*
 * After the canonical order: the levels each category keeps (newcode[]
 * maps a rank to its kept level, or -1), the fills, the features; for
 * one-hot models the rows become the encoded matrix, with its moments.
 */
void
uba_encoding_expand(UbaEncoding *e, UbaRowSet *rs)
{
	int64		n = rs->n;
	int			raw_dim = rs->dim;
	int64	  **newcode = palloc0(sizeof(int64 *) * e->ncols);
	int			D = 0;
	bool		any_category = false;
	MemoryContext old;

	Assert(!rs->single || e->mode == UBA_ENC_CODES);
	e->max_levels = (int) StoredOption(rs, "max_levels", e->mode == UBA_ENC_ONEHOT ? 100 : 1000);
	e->min_level_count = StoredOption(rs, "min_level_count", 1);

	/*
	 * NULLs and levels were counted as the rows came; a number's fill (one-hot
	 * models) is its mean, the row set's when it has no NULL, else summed
	 * here over its values in memory (canonical) order.
	 */
	{
		double	   *mean = palloc0(sizeof(double) * e->ncols);
		LevelCount **lc = palloc0(sizeof(LevelCount *) * e->ncols);

		for (int k = 0; k < e->ncols; k++)
		{
			UbaColumn  *c = &e->cols[k];

			if (c->cls == UBA_COL_CATEGORY)
			{
				any_category = true;
				lc[k] = palloc0(sizeof(LevelCount) * Max(c->dict.n, 1));
				for (int64 h = 0; h < c->dict.n; h++)
				{
					lc[k][h].level = h;
					lc[k][h].count = c->counts[h];
				}
			}
			else if (e->mode == UBA_ENC_ONEHOT && c->nulls == 0)
				mean[k] = rs->mean[k];
			else if (e->mode == UBA_ENC_ONEHOT && c->nulls < n)
			{
				for (int64 i = 0; i < n; i++)
				{
					double		v = rs->x[(Size) i * raw_dim + k];

					if (!isnan(v))
						mean[k] += v;
					if ((i & 65535) == 65535)
						CHECK_FOR_INTERRUPTS();
				}
				mean[k] /= (double) (n - c->nulls);
			}
		}

		for (int k = 0; k < e->ncols; k++)
		{
			UbaColumn  *c = &e->cols[k];

			if (c->cls != UBA_COL_CATEGORY)
			{
				c->fill = mean[k];
				c->width = 1;
			}
			else
			{
				int64		L = c->dict.n;
				int64		kept = 0,
							next = 0;
				UbaIds	   *ids = &c->levels;

				/* the most frequent levels seen often enough; newcode: a kept level's number, or -1 */
				qsort(lc[k], L, sizeof(LevelCount), CompareLevelCounts);
				newcode[k] = palloc(sizeof(int64) * Max(L, 1));
				for (int64 h = 0; h < L; h++)
					newcode[k][h] = -1;
				while (kept < L && kept < e->max_levels && lc[k][kept].count >= e->min_level_count)
					newcode[k][lc[k][kept++].level] = 1;
				c->has_other = kept < L;
				/* kept levels numbered in byte order (the dictionary's order) */
				old = MemoryContextSwitchTo(e->cxt);
				ids->kind = UBA_ID_TEXT;
				ids->n = kept;
				ids->off = palloc(sizeof(uint64) * (kept + 1));
				ids->off[0] = 0;
				ids->bytes = palloc(Max(c->dict.bytes_used, 1));
				for (int64 h = 0; h < L; h++)
				{
					Size		len = c->dict.off[h + 1] - c->dict.off[h];

					if (newcode[k][h] < 0)
						continue;
					memcpy(ids->bytes + ids->off[next], c->dict.bytes + c->dict.off[h], len);
					ids->off[next + 1] = ids->off[next] + len;
					newcode[k][h] = next++;
				}
				MemoryContextSwitchTo(old);
				c->has_missing = e->mode == UBA_ENC_ONEHOT && c->nulls > 0;
				c->width = e->mode == UBA_ENC_ONEHOT ?
					(int) (kept + (c->has_other ? 1 : 0) + (c->has_missing ? 1 : 0)) : 1;
				pfree(lc[k]);
			}
		}
		pfree(mean);
		pfree(lc);
	}

	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];

		c->first = D;
		D += c->width;
		if (D > UBA_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the encoded rows would have more than %d features", UBA_MAX_FEATURES),
					 errhint("Keep fewer levels per category with the option \"max_levels\".")));
		CHECK_FOR_INTERRUPTS();
	}
	e->nfeatures = D;

	/* feature names: the columns, and each one-hot level as column=level */
	old = MemoryContextSwitchTo(e->cxt);
	e->feature_names = palloc(sizeof(char *) * Max(D, 1));
	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];

		if (c->cls != UBA_COL_CATEGORY || e->mode == UBA_ENC_CODES)
		{
			e->feature_names[c->first] = FeatureName(c->name);
			continue;
		}
		for (int64 l = 0; l < c->levels.n; l++)
			e->feature_names[c->first + l] =
				FeatureName(psprintf("%s=%s", c->name,
									 pnstrdup(c->levels.bytes + c->levels.off[l],
											  c->levels.off[l + 1] - c->levels.off[l])));
		if (c->has_other)
			e->feature_names[c->first + c->levels.n] = FeatureName(psprintf("%s (other)", c->name));
		if (c->has_missing)
			e->feature_names[c->first + c->width - 1] = FeatureName(psprintf("%s (missing)", c->name));
	}
	MemoryContextSwitchTo(old);
	{
		const char *dup = uba_duplicate_name(e->feature_names, D);

		if (dup != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("two encoded features would both be named \"%s\"", dup),
					 errhint("Rename a column in the query.")));
	}

	if (e->mode == UBA_ENC_CODES)
	{
		/* categories become their kept level's number, the other level last */
		RecodeArg	ra;

		for (int k = 0; k < e->ncols; k++)
			if (newcode[k] != NULL)
				for (int64 h = 0; h < e->cols[k].dict.n; h++)
					if (newcode[k][h] < 0)
						newcode[k][h] = e->cols[k].levels.n;
		ra.rs = rs;
		ra.newcode = newcode;
		uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
					  RecodeBlock, &ra);
		return;
	}

	/*
	 * No category: the rows are their own encoding; a NULL number becomes
	 * its fill in place, and only such columns' moments change.
	 */
	if (!any_category)
	{
		bool		any_null = false;
		double	   *mean = palloc0(sizeof(double) * raw_dim);
		double	   *ss = palloc0(sizeof(double) * raw_dim);

		for (int k = 0; k < e->ncols; k++)
			any_null |= e->cols[k].nulls > 0;
		if (!any_null)
			return;
		for (int pass = 0; pass < 2; pass++)
		{
			for (int64 i = 0; i < n; i++)
			{
				double	   *r = rs->x + (Size) i * raw_dim;

				for (int k = 0; k < e->ncols; k++)
				{
					if (e->cols[k].nulls == 0)
						continue;
					if (pass == 0)
					{
						if (isnan(r[k]))
							r[k] = e->cols[k].fill;
						mean[k] += r[k];
					}
					else
						ss[k] += (r[k] - mean[k]) * (r[k] - mean[k]);
				}
			}
			for (int k = 0; k < e->ncols; k++)
				if (e->cols[k].nulls > 0)
				{
					if (pass == 0)
						rs->mean[k] = mean[k] = mean[k] / (double) n;
					else
						rs->var[k] = ss[k] / (double) n;
				}
		}
		pfree(mean);
		pfree(ss);
		return;
	}

	/* one-hot: the encoded matrix replaces the rows, and its moments theirs */
	{
		double	   *X = NULL;
		Size		X_bytes = 0;
		double	   *mean,
				   *var;

		uba_check_memory(add_size(mul_size(mul_size((Size) n, (Size) D), sizeof(double)), rs->x_bytes),
						 "one-hot encoding the training rows");
		uba_array_grow(rs->cxt, (void **) &X, &X_bytes, Max(mul_size(mul_size((Size) n, (Size) D), sizeof(double)), 8));
		for (int64 i = 0; i < n; i++)
		{
			const double *r = rs->x + (Size) i * raw_dim;
			double	   *o = X + (Size) i * D;

			memset(o, 0, sizeof(double) * D);
			for (int k = 0; k < e->ncols; k++)
			{
				UbaColumn  *c = &e->cols[k];
				double		v = r[k];

				if (c->cls != UBA_COL_CATEGORY)
					o[c->first] = isnan(v) ? c->fill : v;
				else if (isnan(v))
					o[c->first + c->width - 1] = 1;
				else
				{
					int64		nc = newcode[k][(int64) v];

					o[c->first + (nc >= 0 ? nc : c->levels.n)] = 1;
				}
			}
			if ((i & 65535) == 65535)
				CHECK_FOR_INTERRUPTS();
		}
		uba_array_free((void **) &rs->x, &rs->x_bytes);
		rs->x = X;
		rs->x_bytes = X_bytes;
		rs->dim = D;

		/* moments, two passes (the rows are in memory) */
		mean = MemoryContextAllocZero(rs->cxt, sizeof(double) * D);
		var = MemoryContextAllocZero(rs->cxt, sizeof(double) * D);
		for (int64 i = 0; i < n; i++)
			for (int j = 0; j < D; j++)
				mean[j] += X[(Size) i * D + j];
		for (int j = 0; j < D; j++)
			mean[j] /= (double) Max(n, 1);
		for (int64 i = 0; i < n; i++)
			for (int j = 0; j < D; j++)
			{
				double		t = X[(Size) i * D + j] - mean[j];

				var[j] += t * t;
			}
		for (int j = 0; j < D; j++)
			var[j] /= (double) Max(n, 1);
		/* standardization is for numbers: a one-hot indicator stays 0 or 1 (mean 0, variance 1) */
		for (int k = 0; k < e->ncols; k++)
			if (e->cols[k].cls == UBA_COL_CATEGORY)
				for (int j = e->cols[k].first; j < e->cols[k].first + e->cols[k].width; j++)
				{
					mean[j] = 0;
					var[j] = 1;
				}
		if (rs->mean)
			pfree(rs->mean);
		if (rs->var)
			pfree(rs->var);
		rs->mean = mean;
		rs->var = var;
	}
}

/* The model's metadata carries the encoding and names its features after it */
void
uba_encoding_attach(UbaModelMeta *meta, UbaEncoding *e)
{
	if (e == NULL)
		return;
	Assert(meta->n_features == e->nfeatures);
	meta->encoding = e;
	meta->feature_names = e->feature_names;
}

/* ---------- the model's section ---------- */

static void
PutString(UbaWriter *w, const char *s)
{
	uba_put_u32(w, (uint32) strlen(s));
	appendBinaryStringInfoNT(&w->buf, s, strlen(s));
}

void
uba_put_encoding(UbaWriter *w, const UbaEncoding *e)
{
	uba_put_u32(w, (uint32) e->mode);
	uba_put_u32(w, (uint32) e->ncols);
	for (int k = 0; k < e->ncols; k++)
	{
		const UbaColumn *c = &e->cols[k];

		PutString(w, c->name);
		uba_put_u32(w, (uint32) c->cls);
		PutString(w, c->type_name);
		uba_put_u32(w, (uint32) c->first);
		uba_put_u32(w, (uint32) c->width);
		uba_put_f64(w, c->fill);
		uba_put_u64(w, (uint64) c->nulls);
		uba_put_u32(w, (c->has_other ? COL_FLAG_OTHER : 0) | (c->has_missing ? COL_FLAG_MISSING : 0));
		uba_put_u32(w, (uint32) (c->cls == UBA_COL_CATEGORY ? c->levels.n : 0));
		if (c->cls == UBA_COL_CATEGORY)
		{
			uba_put_u64(w, c->levels.off[c->levels.n]);
			for (int64 l = 0; l < c->levels.n; l++)
				uba_put_u32(w, (uint32) (c->levels.off[l + 1] - c->levels.off[l]));
			appendBinaryStringInfo(&w->buf, c->levels.bytes, c->levels.off[c->levels.n]);
		}
	}
}

/* A bounded, non-empty string of valid text */
static char *
GetString(UbaReader *r, Size maxlen, const char *what)
{
	uint32		len = uba_get_u32(r);
	char	   *s;

	if (len == 0 || len > maxlen)
		uba_model_corrupted("A %s has %u bytes.", what, len);
	uba_reader_check_space(r, len, 1);
	if (memchr(r->p, '\0', len) != NULL || !pg_verify_mbstr(GetDatabaseEncoding(), r->p, (int) len, true))
		uba_model_corrupted("A %s is not valid text.", what);
	s = pnstrdup(r->p, len);
	r->p += len;
	return s;
}

/*
 * Read and validate an encoding section for a model of n_features
 * features: every column's place, width, flags and levels must add up.
 */
UbaEncoding *
uba_get_encoding(UbaReader *r, int n_features, char **feature_names)
{
	UbaEncoding *e = palloc0(sizeof(UbaEncoding));
	char	  **names;
	int			next = 0;

	e->cxt = CurrentMemoryContext;
	e->mode = (int) uba_get_u32(r);
	if (e->mode != UBA_ENC_CODES && e->mode != UBA_ENC_ONEHOT)
		uba_model_corrupted("Unknown encoding %d.", e->mode);
	e->ncols = (int) uba_get_u32(r);
	if (e->ncols < 1 || e->ncols > n_features)
		uba_model_corrupted("The encoding has %d columns for %d features.", e->ncols, n_features);
	if (feature_names == NULL)
		uba_model_corrupted("A model of typed rows has no feature names.");
	uba_reader_check_space(r, (Size) e->ncols, 40);
	e->cols = palloc0(sizeof(UbaColumn) * e->ncols);
	names = palloc(sizeof(char *) * e->ncols);
	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];
		uint32		flags,
					nlevels;

		c->name = names[k] = GetString(r, UBA_MAX_NAME_BYTES, "column name");
		c->cls = (int) uba_get_u32(r);
		if (c->cls < UBA_COL_NUMBER || c->cls > UBA_COL_TIMESTAMP)
			uba_model_corrupted("Column %d has unknown class %d.", k + 1, c->cls);
		c->type_name = GetString(r, UBA_MAX_TYPE_NAME, "column type name");
		c->first = (int) uba_get_u32(r);
		c->width = (int) uba_get_u32(r);
		c->fill = uba_get_finite_f64(r);
		c->nulls = (int64) uba_get_u64(r);
		flags = uba_get_u32(r);
		nlevels = uba_get_u32(r);
		c->has_other = (flags & COL_FLAG_OTHER) != 0;
		c->has_missing = (flags & COL_FLAG_MISSING) != 0;
		c->attno = -1;
		if (c->nulls < 0 || flags > 3 || nlevels > UBA_MAX_LEVELS)
			uba_model_corrupted("Column %d has invalid counts or flags.", k + 1);
		if (c->cls != UBA_COL_CATEGORY && (flags != 0 || nlevels != 0 || c->width != 1))
			uba_model_corrupted("Column %d is not a category but has levels.", k + 1);
		if (e->mode == UBA_ENC_CODES && (c->has_missing || c->width != 1 || c->fill != 0))
			uba_model_corrupted("Column %d does not fit a model of codes.", k + 1);
		if (c->cls == UBA_COL_CATEGORY)
		{
			uba_get_ids(r, UBA_ID_TEXT, nlevels, &c->levels, "category");
			if (e->mode == UBA_ENC_ONEHOT &&
				(int64) c->width != (int64) nlevels + c->has_other + c->has_missing)
				uba_model_corrupted("Column %d's width does not match its levels.", k + 1);
		}
		if (c->first != next || c->width < 0 || c->width > n_features - next)
			uba_model_corrupted("Column %d's features are out of place.", k + 1);
		next += c->width;
	}
	if (next != n_features)
		uba_model_corrupted("The encoding's columns cover %d of %d features.", next, n_features);
	if (uba_duplicate_name(names, e->ncols) != NULL)
		uba_model_corrupted("Column names repeat.");
	pfree(names);
	e->nfeatures = n_features;
	e->feature_names = feature_names;
	return e;
}

/* The column a feature (from 0) belongs to */
int
uba_encoding_column_of(const UbaEncoding *e, int feature)
{
	int			lo = 0,
				hi = e->ncols - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (e->cols[mid].first <= feature)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* The encoding for uba_model_info: ", encoding: ..., columns: [...]" */
void
uba_encoding_describe(const UbaEncoding *e, StringInfo json)
{
	appendStringInfo(json, ", \"encoding\": \"%s\", \"columns\": [",
					 e->mode == UBA_ENC_ONEHOT ? "one-hot" : "codes");
	for (int k = 0; k < e->ncols; k++)
	{
		const UbaColumn *c = &e->cols[k];

		appendStringInfoString(json, k > 0 ? ", {\"name\": " : "{\"name\": ");
		escape_json(json, c->name);
		appendStringInfoString(json, ", \"type\": ");
		escape_json(json, c->type_name);
		appendStringInfo(json, ", \"as\": \"%s\", \"training_nulls\": " INT64_FORMAT,
						 class_names[c->cls], c->nulls);
		if (c->cls != UBA_COL_CATEGORY && e->mode == UBA_ENC_ONEHOT && c->nulls > 0)
			appendStringInfo(json, ", \"null_becomes\": %.17g", c->fill);
		if (c->cls == UBA_COL_CATEGORY)
		{
			appendStringInfoString(json, ", \"levels\": [");
			for (int64 l = 0; l < c->levels.n; l++)
			{
				if (l > 0)
					appendStringInfoString(json, ", ");
				escape_json(json, pnstrdup(c->levels.bytes + c->levels.off[l],
										   c->levels.off[l + 1] - c->levels.off[l]));
			}
			appendStringInfo(json, "], \"other_level\": %s", c->has_other ? "true" : "false");
			if (e->mode == UBA_ENC_ONEHOT)
				appendStringInfo(json, ", \"missing_level\": %s", c->has_missing ? "true" : "false");
		}
		appendStringInfoChar(json, '}');
	}
	appendStringInfoChar(json, ']');
}

/* ---------- scoring ---------- */

/* Find the model's columns in a new row type, by name, and check their types */
static void
MapColumns(UbaEncoding *e, Oid typid, int32 typmod)
{
	UseRowType(e, typid, typmod);
	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];
		int			a;

		for (a = 0; a < e->tupdesc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(e->tupdesc, a);

			if (!att->attisdropped && strcmp(NameStr(att->attname), c->name) == 0)
				break;
		}
		if (a == e->tupdesc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("the row has no column \"%s\", which the model was trained on", c->name),
					 errhint("Score rows with the columns the model was trained on; uba_model_info(model) lists them.")));
		{
			Form_pg_attribute att = TupleDescAttr(e->tupdesc, a);
			Oid			vt = ValueType(att->atttypid);
			int			cls = ClassOf(vt == ANYENUMOID ? getBaseType(att->atttypid) : vt);

			if (cls != c->cls)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" is of type %s, but the model was trained on %s (%s)",
								c->name, format_type_be(att->atttypid), c->type_name, class_names[c->cls]),
						 errhint("Cast the column back in the query, or retrain the model.")));
			c->attno = a;
			c->typid = vt;
		}
	}
}

/*
 * The features in argument argno into x (d values): a float8[] as it is,
 * or a row encoded as the model (enc) was trained; a model trained on
 * float8[] has no encoding and takes no row.  Text is a feature array's
 * text form: the functions that take a row also take text, so that a
 * literal such as '{1,2}' (or NULL) is not ambiguous between float8[] and
 * record.  The form is the SQL function's (each has its own C entry
 * point), not looked up per row.
 */
ArrayType *
uba_features_array_arg(FunctionCallInfo fcinfo, int argno, UbaFeatureForm form)
{
	Assert(form != UBA_FORM_ROW);
	if (form == UBA_FORM_TEXT)
		return DatumGetArrayTypeP(OidInputFunctionCall(F_ARRAY_IN, text_to_cstring(PG_GETARG_TEXT_PP(argno)),
													   FLOAT8OID, -1));
	return PG_GETARG_ARRAYTYPE_P(argno);
}

void
uba_read_features_arg(FunctionCallInfo fcinfo, int argno, UbaFeatureForm form, UbaEncoding *enc,
					  double *x, int d)
{
	if (form != UBA_FORM_ROW)
	{
		uba_read_features(uba_features_array_arg(fcinfo, argno, form), x, d);
		return;
	}
	if (enc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the model was trained on float8[] features, not on a row"),
				 errhint("Pass the same feature array it was trained on, or train it on the row's columns.")));
	uba_encoding_row(enc, PG_GETARG_DATUM(argno), x);
}

/*
 * A row, as the model's nfeatures values into x: found by name, encoded
 * as in training (trees: NaN for missing).
 */
void
uba_encoding_row(UbaEncoding *e, Datum rowd, double *x)
{
	HeapTupleHeader row = DatumGetHeapTupleHeader(rowd);
	char		label[NAMEDATALEN];

	if (e->tupdesc == NULL || HeapTupleHeaderGetTypeId(row) != e->row_typid ||
		HeapTupleHeaderGetTypMod(row) != e->row_typmod)
		MapColumns(e, HeapTupleHeaderGetTypeId(row), HeapTupleHeaderGetTypMod(row));
	Deform(e, row);
	for (int k = 0; k < e->ncols; k++)
	{
		UbaColumn  *c = &e->cols[k];
		bool		isnull = e->isnull[c->attno];
		Datum		v = e->values[c->attno];

		if (c->cls != UBA_COL_CATEGORY)
			x[c->first] = isnull ? (e->mode == UBA_ENC_ONEHOT ? c->fill : NAN) : NumberOf(c, v);
		else
		{
			int64		level = -1;

			if (!isnull)
			{
				const char *p;
				int			len;

				CategoryOf(c, v, label, &p, &len);
				level = uba_ids_find_bytes(&c->levels, p, len);
				if (level < 0 && c->has_other)
					level = c->levels.n;
			}
			if (e->mode == UBA_ENC_CODES)
				x[c->first] = level >= 0 ? (double) level : NAN;
			else
			{
				memset(x + c->first, 0, sizeof(double) * c->width);
				if (level >= 0)
					x[c->first + level] = 1;
				else if (isnull && c->has_missing)
					x[c->first + c->width - 1] = 1;
			}
		}
	}
}
