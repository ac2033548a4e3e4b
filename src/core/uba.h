/*-------------------------------------------------------------------------
 *
 * uba.h
 *	  Shared core of the uba extension: settings, model blobs, options,
 *	  input checks, row collection for training aggregates, linear algebra
 *	  and random numbers.  Every algorithm uses these the same way.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_H
#define UBA_H

#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* the extension version, from uba.control through the Makefile */
#ifndef UBA_VERSION_STRING
#error "UBA_VERSION_STRING must be defined (the Makefile passes it from uba.control)"
#endif

/* ---------- settings (uba.c) ---------- */

extern int	uba_max_memory_kb;
extern int	uba_work_mem_kb;
extern int	uba_threads;
extern int	uba_model_cache_mb;
extern int	uba_debug_solve_block;
extern bool uba_debug_spurious_interrupts;
extern bool uba_debug_cancel_read_back;
extern int	uba_keep_versions;

extern Size uba_memory_limit(void);
extern const char *uba_memory_setting(void);
extern int	uba_memory_hint(const char *otherwise);
extern void uba_check_memory(Size bytes, const char *what);
extern void uba_check_memory_for(Size bytes, const char *what, const char *otherwise);

/* ---------- random numbers (prng.c) ---------- */

/* xoshiro256** seeded by splitmix64: reproducible on every platform */
typedef struct UbaRandom
{
	uint64		s[4];
} UbaRandom;

extern void uba_random_seed(UbaRandom *r, uint64 seed);
extern uint64 uba_random_next(UbaRandom *r);
extern double uba_random_double(UbaRandom *r);	/* [0, 1) */
extern double uba_random_normal(UbaRandom *r);	/* standard normal: Box-Muller, one of the pair */
extern double uba_random_gamma(UbaRandom *r, double shape);	/* Gamma(shape, 1) */
extern uint64 uba_random_below(UbaRandom *r, uint64 n); /* [0, n) */

/* ---------- model blobs (model.c) ---------- */

typedef enum UbaModelKind
{
	UBA_KIND_ANY = 0,
	UBA_KIND_KMEANS = 1,
	UBA_KIND_LOGREG = 2,
	UBA_KIND_LINREG = 3,
	UBA_KIND_CF = 4,
	UBA_KIND_ASSOC = 5,
	UBA_KIND_BOOST = 6,
	UBA_KIND_SEQPATTERN = 7,
	UBA_KIND_BTYD = 8,
	UBA_KIND_GAMMAGAMMA = 9,
	UBA_KIND_FORECAST = 10,
	UBA_KIND_FORECAST_GLOBAL = 11,
	UBA_KIND_PCA = 12,
	UBA_KIND_DBSCAN = 13,
	UBA_KIND_HCLUST = 14,
	UBA_KIND_KMEANS_SWEEP = 15,
	UBA_KIND_GMM = 16,
	UBA_KIND_SESSION = 17,
	UBA_KIND_MLP = 18,
	UBA_KIND_BANDIT = 19
} UbaModelKind;

#define UBA_MODEL_FORMAT_VERSION 1
#define UBA_MODEL_HEADER_SIZE 32

/* Metadata section common to every model kind */
typedef struct UbaModelMeta
{
	UbaModelKind kind;
	int			format_version;
	int32		n_features;
	int64		n_rows;
	double		train_ms;
	TimestampTz created_at;
	char		ext_version[16];
	char	   *options_json;	/* canonical JSON object text */
	char	  **feature_names;	/* n_features names, or NULL */
	struct UbaEncoding *encoding;	/* trained on typed rows: their encoding (encode.c), or NULL */
} UbaModelMeta;

/* Payload writer: fixed little-endian byte order */
typedef struct UbaWriter
{
	StringInfoData buf;
} UbaWriter;

/* Bounds-checked payload reader; every read raises DATA_CORRUPTED on overrun */
typedef struct UbaReader
{
	const char *p;
	const char *end;
} UbaReader;

extern const char *uba_kind_name(UbaModelKind kind);

extern void uba_writer_init(UbaWriter *w);
extern void uba_put_u32(UbaWriter *w, uint32 v);
extern void uba_put_u64(UbaWriter *w, uint64 v);
extern void uba_put_f64(UbaWriter *w, double v);
extern void uba_put_f64_array(UbaWriter *w, const double *v, Size n);
extern void uba_put_i64_array(UbaWriter *w, const int64 *v, Size n);
extern void uba_put_f32_array(UbaWriter *w, const float *v, Size n);
extern void uba_put_u32_array(UbaWriter *w, const uint32 *v, Size n);
extern bytea *uba_model_build(UbaModelKind kind, const UbaModelMeta *meta,
							  UbaWriter *payload);

extern uint32 uba_get_u32(UbaReader *r);
extern uint64 uba_get_u64(UbaReader *r);
extern double uba_get_f64(UbaReader *r);
extern double uba_get_finite_f64(UbaReader *r);
extern void uba_get_f64_array(UbaReader *r, double *dst, Size n, bool finite);
extern void uba_get_i64_array(UbaReader *r, int64 *dst, Size n);
extern void uba_get_f32_array(UbaReader *r, float *dst, Size n, bool finite);
extern void uba_get_u32_array(UbaReader *r, uint32 *dst, Size n);
extern void uba_reader_check_space(UbaReader *r, Size count, Size elemsize);
extern void uba_reader_finish(UbaReader *r);
pg_attribute_noreturn() extern void uba_model_corrupted(const char *detail,...) pg_attribute_printf(1, 2);

extern void uba_model_open(bytea *blob, UbaModelKind expected,
						   UbaModelMeta *meta, UbaReader *payload);
extern void uba_model_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_model_validate(bytea *blob, UbaModelMeta *meta);
extern uint32 uba_model_crc(const char *data, Size len);
extern bool uba_is_json_object_text(char *text, int len);
struct UbaOptions;
extern void uba_model_meta_init(UbaModelMeta *meta, int32 n_features, int64 n_rows,
								TimestampTz started, const struct UbaOptions *o);
extern void uba_get_scaling(UbaReader *r, int d, double **mean, double **scale);

/*
 * Parsed-model cache for scoring functions: the model is parsed and
 * validated once per query (per FmgrInfo) and reused while the same blob
 * keeps coming.  parse() must allocate in CurrentMemoryContext.
 */
typedef void *(*UbaModelParser) (const UbaModelMeta *meta, UbaReader *payload);
extern void *uba_model_cached(FunctionCallInfo fcinfo, int argno,
							  UbaModelKind kind, UbaModelParser parse);
extern void *uba_model_cached_datum(FunctionCallInfo fcinfo, Datum d, UbaModelKind kind,
									 UbaModelParser parse);
extern void **uba_model_cache_extra(FunctionCallInfo fcinfo);
/* The active version of a catalog model as stored (a TOAST pointer), looked up once per call site and query */
extern Datum uba_catalog_active_model(FunctionCallInfo fcinfo, const char *name);

/*
 * Per-kind summary for uba_model_info(); appends ", key: value" pairs.  It
 * reads (and so validates) the whole payload.  The core knows kinds only by
 * number: src/kinds.c, above the capabilities, maps each to its describer.
 */
typedef void (*UbaModelDescriber) (const UbaModelMeta *meta, UbaReader *payload,
								   StringInfo json);
extern UbaModelDescriber uba_kind_describer(UbaModelKind kind);

/* ---------- options (options.c) ---------- */

typedef enum UbaOptionType
{
	UBA_OPT_INT,
	UBA_OPT_FLOAT,
	UBA_OPT_BOOL,
	UBA_OPT_CHOICE,
	UBA_OPT_WEIGHTS,			/* one of choices, or an object of keys -> weight */
	UBA_OPT_NAMES,				/* array of distinct, non-empty strings */
	UBA_OPT_PROGRESS,			/* true or false; not a training parameter: never stored in a model */
	UBA_OPT_DATE,				/* a date as a string, kept as its DateADT (default NaN: not given) */
	UBA_OPT_TEXT,				/* a non-empty string (uba_option_text), NULL when not given */
	UBA_OPT_MATRIX,				/* an array of equally long arrays of finite numbers (uba_option_matrix) */
	UBA_OPT_SIZES,				/* an array of at most UBA_OPT_MAX_SIZES integers in [min, max]; default [def] */
	UBA_OPT_NUMBERS				/* an array of at most UBA_OPT_MAX_NUMBERS numbers in [min, max]; default none */
} UbaOptionType;

/* The "verbose" option every trainer lists (progress lines, see uba_progress) */
#define UBA_PROGRESS_OPTION {"verbose", UBA_OPT_PROGRESS, 0, 0, 1, NULL}

#define UBA_OPT_MAX_KEYS 4
#define UBA_MAX_NAME_BYTES 1000

typedef struct UbaOptionSpec
{
	const char *name;
	UbaOptionType type;
	double		def;			/* default (choice: index into choices) */
	double		min;			/* numeric range, inclusive */
	double		max;
	const char *const *choices; /* NULL-terminated, for CHOICE and WEIGHTS */
	const char *const *keys;	/* NULL-terminated object keys, for WEIGHTS */
} UbaOptionSpec;

/*
 * Parsed options: one value per spec, in spec order (bool as 0/1, choice
 * as its index; WEIGHTS given as an object has the index one past the
 * choices, and its weights in weights[], in key order).  A NAMES option
 * is kept in names (NULL when not given).
 */
/* the most options one function takes */
#define UBA_OPT_MAX_SPECS 32

typedef struct UbaOptions
{
	const UbaOptionSpec *specs;
	int			nspecs;
	double		value[UBA_OPT_MAX_SPECS];
	bool		given[UBA_OPT_MAX_SPECS];
	double		weights[UBA_OPT_MAX_KEYS];
	char	  **names;			/* the last NAMES option given (feature_names) */
	int			nnames;
	char	  **lists[UBA_OPT_MAX_SPECS];	/* each NAMES option's strings, NULL when not given */
	int			nlists[UBA_OPT_MAX_SPECS];
	double	   *matrix;			/* the MATRIX option (one per function), row-major, NULL when not given */
	int			matrix_rows;
	int			matrix_cols;
	double	   *list;			/* the SIZES or NUMBERS option (one per function): its values, NULL when none */
	int			nlist;
} UbaOptions;

extern void uba_parse_options(Jsonb *opts, const UbaOptionSpec *specs, int nspecs,
							  const char *funcname, UbaOptions *out);
extern double uba_option(const UbaOptions *o, const char *name);
extern bool uba_option_given(const UbaOptions *o, const char *name);
extern char **uba_option_names(const UbaOptions *o, const char *name, int *n);
extern const char *uba_option_text(const UbaOptions *o, const char *name);
extern const double *uba_option_matrix(const UbaOptions *o, int *rows, int *cols);
#define UBA_OPT_MAX_SIZES 16
#define UBA_OPT_MAX_NUMBERS 100000
extern const double *uba_option_list(const UbaOptions *o, int *n);
extern void uba_option_set(UbaOptions *o, const char *name, double value);
extern char *uba_options_to_json(const UbaOptions *o);
extern void uba_check_same_options(const Jsonb *first, const Jsonb *options);
extern Jsonb *uba_options_copy(MemoryContext cxt, const Jsonb *options);
extern void uba_message_of(StringInfo buf, bytea *b);
extern void uba_options_send(StringInfo buf, const Jsonb *options);
extern Jsonb *uba_options_receive(StringInfo buf, MemoryContext cxt);
extern const char *uba_duplicate_name(char **names, int n);
extern void uba_options_check_names(const UbaOptions *o, int n_features);

/*
 * Progress of long training (uba.c): with the option "verbose" (or, when
 * it is not given, the setting uba.progress) each call sends an INFO line,
 * which psql shows while the query runs.  Call it from the backend's own
 * thread only, between rounds of work.
 */
extern bool uba_progress_setting;
extern bool uba_progress_on(const UbaOptions *o);
extern void uba_progress(const UbaOptions *o, const char *fmt,...) pg_attribute_printf(2, 3);

/*
 * Squared Euclidean distance, summed in index order.  Every distance in
 * uba is added up in this order (the vectorized kernels too), so training
 * and scoring agree to the last bit.
 */
static inline double
uba_sqdist(const double *a, const double *b, int d)
{
	double		s = 0;

	for (int j = 0; j < d; j++)
	{
		double		t = a[j] - b[j];

		s += t * t;
	}
	return s;
}

/* The nearest of k centres (rows of d) to x, the first of equally near ones; *sqdist its distance squared */
static inline int
uba_nearest_center(const double *x, const double *centers, int k, int d, double *sqdist)
{
	int			best = 0;
	double		bestd = uba_sqdist(x, centers, d);

	for (int c = 1; c < k; c++)
	{
		double		v = uba_sqdist(x, centers + (Size) c * d, d);

		if (v < bestd)
		{
			bestd = v;
			best = c;
		}
	}
	*sqdist = bestd;
	return best;
}

/*
 * Add v to a compensated sum (Neumaier): *sum, and in *comp the rounding
 * error of every addition; the value is *sum + *comp.  Money with refunds
 * cancels to exactly 0 this way where a plain sum leaves 1e-13.
 */
static inline void
uba_neumaier_add(double *sum, double *comp, double v)
{
	double		t = *sum + v;

	if (fabs(*sum) >= fabs(v))
		*comp += (*sum - t) + v;
	else
		*comp += (v - t) + *sum;
	*sum = t;
}

/* ---------- input checks (input.c) ---------- */

extern int	uba_feature_count(ArrayType *a);
/* One feature's part of a prediction (explain.c) */
typedef struct UbaContribution
{
	int			feature;		/* from 1 */
	double		value;
	double		contribution;
} UbaContribution;

extern void uba_emit_contributions(FunctionCallInfo fcinfo, double baseline, UbaContribution *c,
								   int d, int top, char **names);

/* 1 / (1 + exp(-z)) without overflow (logistic models, boosted trees) */
static inline double
uba_sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	else
	{
		double		e = exp(z);

		return e / (1.0 + e);
	}
}

/* The most features a row may have (and a model may claim) */
#define UBA_MAX_FEATURES 100000
extern void uba_read_features(ArrayType *a, double *dst, int expected_dim);
extern ArrayType *uba_make_float8_array(const double *v, int n);
extern void uba_standardize(double *X, int64 n, int d, const double *mean, double *var,
							double *scale);
extern void uba_standardize_row(double *x, int d, const double *mean, const double *scale);
extern void uba_check_finite(double v, const char *what);

/*
 * Whether n values are all finite: a look for an all-ones exponent
 * (Infinity or NaN) in a loop without branches that runs on vectors; the
 * caller names the culprit, on the slow path, only when one is there.
 */
static inline bool
uba_all_finite(const double *x, int n)
{
	uint64		special = 0;

	for (int i = 0; i < n; i++)
	{
		uint64		bits;

		memcpy(&bits, &x[i], sizeof(bits));
		special |= (uint64) ((bits & UINT64CONST(0x7FF0000000000000)) == UINT64CONST(0x7FF0000000000000));
	}
	return special == 0;
}
extern double uba_input_intercept(double b, const double *coef, const double *mean, const double *scale, int d);
extern void uba_check_feature_scale(const double *mean, const double *var, int d, char **names);
extern int64 uba_interval_usecs(const Interval *iv, const char *what);
/* The smallest count c with c / n >= share (frequent itemsets and patterns) */
extern int64 uba_min_count(double share, int64 n);

/* Periods of local dates (the "period" option of the profile and lifecycle functions) */
#define UBA_PERIOD_DAY 0
#define UBA_PERIOD_WEEK 1			/* starting on Monday */
#define UBA_PERIOD_MONTH 2
extern const char *const uba_period_choices[];
extern DateADT uba_period_start(DateADT date, int period);
extern DateADT uba_period_step(DateADT start, int period, int steps);
extern DateADT uba_local_date(Datum ts, bool plain, const char *function);
extern DateADT uba_arg_local_date(FunctionCallInfo fcinfo, int argno, const char *function);
extern int32 uba_dates_distinct(DateADT *dates, int32 n);
extern bool uba_gap_exceeds(TimestampTz from, TimestampTz to, int64 gap_us);
extern int	uba_bool_array_length(ArrayType *a, const char *what, const char *hint);
extern void uba_bool_array_values(ArrayType *a, bool *dst, int n);
extern void uba_read_ids(ArrayType *a, const char *what, Datum **elems, bool **nulls, int *n);
extern int32 uba_count_arg(int32 v, const char *what);

/* ---------- row collection for training aggregates (rowset.c) ---------- */

/*
 * Training aggregates that need every row (k-means, cluster quality) collect
 * the rows in chunks while the aggregate runs (combining parallel workers'
 * rows just links their chunks), then uba_rowset_canonical_order() puts
 * them in one dense row-major matrix x, with an optional per-row value y (a
 * label or target).  The per-call parameters (an integer such as k and the
 * options) are captured from the first row and must match everywhere,
 * including across parallel workers.
 */
/* A 64-bit sort key and the position it belongs to */
typedef struct UbaSortKey
{
	uint64		key;
	int64		idx;
} UbaSortKey;

typedef struct UbaRowSet
{
	MemoryContext cxt;
	int32		dim;
	bool		has_y;
	bool		hashed;			/* rows are hashed, for uba_rowset_canonical_order() */
	bool		ordered;		/* uba_rowset_canonical_order() has run */
	int32		iparam;
	double		dparam;			/* a real parameter, such as DBSCAN's eps (NaN when none) */
	int64		n;
	int64		cap;			/* rows allocated, for uba.max_memory */
	int64		expect;			/* rows the planner expects (0: unknown), see Grow() */
	double	   *x;				/* n x dim: arrival order, canonical once ordered (NULL when single) */
	double	   *y;				/* n, or NULL */
	UbaSortKey *keys;			/* n: hash and arrival position of each row, when hashed */
	double	   *x2;				/* when hashed: room for the ordered copy of x, */
	double	   *y2;				/* of y, */
	UbaSortKey *keys2;			/* and the sort's buffer, grown with the rows */
	Size		x_bytes;		/* allocated bytes of each array above */
	Size		y_bytes;
	Size		keys_bytes;
	Size		x2_bytes;
	Size		y2_bytes;
	Size		keys2_bytes;
	double	   *mean;			/* dim: column means, once ordered */
	double	   *var;			/* dim: column population variances, once ordered */
	Jsonb	   *options;		/* copy of the options argument, or NULL */
	TimestampTz started;		/* when the first row arrived */
	MemoryContextCallback reset;	/* frees the mapped arrays with the context */
	struct UbaEncoding *enc;	/* typed rows: their columns (encode.c), or NULL for float8[] */
	struct UbaIdDict *ylevels;	/* text labels: y is a label's handle (a rank once ordered), or NULL */
	/*
	 * single: the rows are kept in float4 (xs), for a trainer whose library
	 * reads float32 anyway (XGBoost): half the memory, and the room for
	 * its ordered float copy (xs2) is paged in while the rows are read.
	 * Such a row set has canonical keys, never an ordered double copy.
	 */
	bool		single;
	float	   *xs;				/* n x dim when single, arrival order */
	float	   *xs2;			/* when single and hashed: room for the ordered copy */
	Size		xs_bytes;
	Size		xs2_bytes;
	double	   *scratch;		/* dim: a row read as doubles before it is stored (single) */
	bool		keep_arrival;	/* set before ordering: fill arrival */
	int64	   *arrival;		/* n: each ordered row's position in arrival order (from 0), or NULL */
} UbaRowSet;

/* The memory context an aggregate's state lives in (error outside an aggregate) */
extern MemoryContext uba_agg_context(FunctionCallInfo fcinfo);
/* Errors when a bytea-state aggregate is called with an internal state (a database not yet updated) */
extern void uba_check_bytea_state(FunctionCallInfo fcinfo);
/* The error of a function an older uba's install script declared, which this library no longer serves */
extern void uba_error_library_newer(void) pg_attribute_noreturn();

/*
 * The start of every combine function: when either partial state is NULL,
 * the other one is the result.  Partial states are deserialized into the
 * aggregate's context, so the second one can be taken over as it is.
 */
#define UBA_COMBINE_NULL_STATES() \
	do { \
		if (PG_ARGISNULL(1)) \
		{ \
			if (PG_ARGISNULL(0)) \
				PG_RETURN_NULL(); \
			PG_RETURN_DATUM(PG_GETARG_DATUM(0)); \
		} \
		if (PG_ARGISNULL(0)) \
			PG_RETURN_DATUM(PG_GETARG_DATUM(1)); \
	} while (0)

extern UbaSortKey *uba_radix_sort(UbaSortKey *a, UbaSortKey *tmp, int64 n);
/* qsort and bsearch orders of plain numbers, ascending */
extern int	uba_cmp_int64(const void *a, const void *b);
extern int	uba_cmp_uint32(const void *a, const void *b);
extern int	uba_cmp_double(const void *a, const void *b);

extern UbaRowSet *uba_rowset_start_dim(FunctionCallInfo fcinfo, int32 dim, bool has_y,
									   bool hashed);
extern void uba_rowset_add_values(UbaRowSet *rs, const double *x, double y);
/* Keep this (new, empty) row set's rows in float4, see UbaRowSet.single */
extern void uba_rowset_use_float4(UbaRowSet *rs);
/* Value j of collected row i, whatever the row set keeps its rows in */
static inline double
uba_rowset_value(const UbaRowSet *rs, int64 i, int j)
{
	return rs->single ? (double) rs->xs[(Size) i * rs->dim + j] : rs->x[(Size) i * rs->dim + j];
}
extern void uba_rowset_foreach(UbaRowSet *rs,
							   void (*fn) (void *arg, int64 i, const double *x, double y),
							   void *arg);
extern UbaRowSet *uba_rowset_start(FunctionCallInfo fcinfo, ArrayType *first,
								   bool has_y, int32 iparam, Jsonb *options);
extern void uba_rowset_add(UbaRowSet *rs, ArrayType *features, double y);
extern void uba_rowset_check_param(UbaRowSet *rs, int32 iparam, const char *what);
extern void uba_rowset_check_dparam(UbaRowSet *rs, double dparam, const char *what);
extern void uba_rowset_canonical_order(UbaRowSet *rs);
extern const UbaSortKey *uba_rowset_canonical_keys(UbaRowSet *rs);
extern void uba_rowset_moments(const UbaRowSet *rs, double *mean, double *var);
extern int64 uba_rowset_grouped(UbaRowSet *rs, double **rows, double **counts);
extern double uba_rowset_text_label(UbaRowSet *rs, Datum label);

/* ---------- ids as they are: integer, text or uuid (ids.c) ---------- */

/* Kinds of ids; stored in models, so the numbers never change */
#define UBA_ID_INT8 0
#define UBA_ID_INT4 1
#define UBA_ID_INT2 2
#define UBA_ID_TEXT 3
#define UBA_ID_UUID 4

/*
 * Ids being collected: integers are their own values; text and uuid keys
 * get handles (0, 1, ... as they arrive) until uba_id_dict_canonical()
 * sorts them, after which handle k is the k-th smallest key.
 */
typedef struct UbaIdDict
{
	MemoryContext cxt;
	int			kind;
	int64		n;				/* distinct keys */
	char	   *bytes;			/* the keys back to back */
	uint64	   *off;			/* n + 1: key h is bytes[off[h] .. off[h + 1]) */
	int64	   *slots;			/* open addressing: handle + 1, 0 when empty */
	uint64		nslots;
	Size		bytes_used;
	Size		bytes_cap;
	Size		off_bytes;
	Size		slots_bytes;
} UbaIdDict;

/* A model's ids, sorted: integers, or keys (uuid: 16 bytes each; text: off) */
typedef struct UbaIds
{
	int			kind;
	int64		n;
	int64	   *ints;
	uint64	   *off;
	char	   *bytes;
} UbaIds;

extern int	uba_id_kind(Oid typid, const char *what);
extern const char *uba_id_kind_name(int kind);
extern char *uba_id_text(Datum value, Oid typid);
extern void uba_id_dict_init(UbaIdDict *d, MemoryContext cxt, int kind);
extern void uba_id_dict_free(UbaIdDict *d);
extern Size uba_id_dict_bytes(const UbaIdDict *d);
extern int64 uba_id_handle(UbaIdDict *d, Datum value, Oid typid);
extern int64 uba_id_intern(UbaIdDict *d, const char *p, int len);
extern int64 *uba_id_dict_merge(UbaIdDict *a, const UbaIdDict *b);
extern void uba_id_dict_canonical(UbaIdDict *d, int64 *v, int64 n);
extern void uba_id_dict_serialize(const UbaIdDict *d, StringInfo buf);
extern Size uba_id_dict_serial_bytes(const UbaIdDict *d);
extern void uba_id_dict_deserialize(UbaIdDict *d, MemoryContext cxt, const char **p, const char *end);
extern void uba_put_ids(UbaWriter *w, const UbaIdDict *d, const int64 *distinct, int64 m);
extern void uba_get_ids(UbaReader *r, int kind, int64 n, UbaIds *ids, const char *what);
extern int64 uba_ids_find(const UbaIds *ids, Datum value, Oid typid, const char *what);
extern int64 uba_ids_find_bytes(const UbaIds *ids, const char *p, int len);
extern int64 uba_ids_find_cstring(const UbaIds *ids, const char *s, const char *what);
extern Oid	uba_ids_type(const UbaIds *ids);
extern void uba_ids_check_type(const UbaIds *ids, Oid typid, const char *what);
extern Datum uba_ids_datum(const UbaIds *ids, int64 i, Oid typid, const char *what);
extern char *uba_ids_cstring(const UbaIds *ids, int64 i);

/* ---------- the classes of a multi-class model (classes.c) ---------- */

#define UBA_MAX_CLASSES 1000
#define UBA_CLASSES_NUMBERS 0	/* stored in models: never renumbered */
#define UBA_CLASSES_TEXT 1

typedef struct UbaClasses
{
	int			k;				/* 2 to UBA_MAX_CLASSES */
	int			kind;			/* UBA_CLASSES_NUMBERS or UBA_CLASSES_TEXT */
	double	   *values;			/* k numbers, increasing (numbers) */
	UbaIds		texts;			/* k texts in byte order (text) */
	char	  **labels;			/* k labels as text, for answers */
} UbaClasses;

extern int	uba_rowset_classes(UbaRowSet *rs, UbaWriter *w);
extern void uba_get_classes(UbaReader *r, UbaClasses *c);
extern void uba_classes_json(StringInfo json, const UbaClasses *c);

/* ---------- typed rows: a table's columns as features (encode.c) ---------- */

/* How a column's type is encoded; stored in models, so the numbers never change */
#define UBA_COL_NUMBER 0		/* integer, float, numeric */
#define UBA_COL_BOOL 1			/* 0 or 1 */
#define UBA_COL_CATEGORY 2		/* text, varchar, char, name, enum */
#define UBA_COL_DATE 3			/* days since 1970-01-01 */
#define UBA_COL_TIMESTAMP 4		/* seconds since 1970-01-01 00:00 (UTC for timestamptz) */

/* How a model takes its columns; stored too */
#define UBA_ENC_CODES 0			/* trees: one feature per column, a category as its level's number, NULL missing */
#define UBA_ENC_ONEHOT 1		/* linear models, k-means: categories one-hot, NULL imputed */

typedef struct UbaColumn
{
	char	   *name;
	int			cls;			/* UBA_COL_* */
	char	   *type_name;		/* the SQL type trained on, for messages */
	int			first;			/* its first feature */
	int			width;			/* its features */
	double		fill;			/* ONEHOT: what a NULL number becomes (the training mean) */
	int64		nulls;			/* training rows where it was NULL */
	bool		has_other;		/* categories: a level for the ones not kept */
	bool		has_missing;	/* ONEHOT categories: a level for NULL */
	UbaIds		levels;			/* categories kept, in byte order */
	/* while training */
	UbaIdDict	dict;
	int64	   *counts;			/* rows per category handle (per rank once ranked) */
	int64		counts_cap;
	int			attno;			/* position in the row type (scoring: the last row type seen) */
	Oid			typid;			/* base type */
} UbaColumn;

typedef struct UbaEncoding
{
	int			mode;			/* UBA_ENC_* */
	int			ncols;
	UbaColumn  *cols;
	int			nfeatures;
	char	  **feature_names;	/* nfeatures */
	int			max_levels;		/* categories kept per column (the most frequent) */
	int64		min_level_count;	/* and only those seen this often */
	/* the row type the columns were last mapped to, and scratch to take rows apart */
	MemoryContext cxt;
	Oid			row_typid;
	int32		row_typmod;
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *isnull;
	bool		all_float8;		/* training rows whose every column is float8: read without deforming */
} UbaEncoding;

extern bool uba_arg_is_row(FunctionCallInfo fcinfo, int argno);
extern void uba_parse_row_options(Jsonb *opts, const UbaOptionSpec *specs, int nspecs,
								  const char *funcname, bool typed, int mode,
								  UbaOptions *out);
extern UbaEncoding *uba_encoding_start(MemoryContext cxt, HeapTupleHeader row, int mode,
										const char *funcname);
extern void uba_encoding_read(UbaEncoding *e, HeapTupleHeader row, double *raw);
extern Size uba_encoding_bytes(const UbaEncoding *e);
extern UbaRowSet *uba_rowset_start_row(FunctionCallInfo fcinfo, int argno, bool has_y,
									   int32 iparam, Jsonb *options, int mode, const char *funcname);
extern void uba_rowset_add_row(UbaRowSet *rs, FunctionCallInfo fcinfo, int argno, double y);
/* An unlabelled feature argument (float8[] or typed row) into a row set: the whole transition step */
extern UbaRowSet *uba_rowset_collect(FunctionCallInfo fcinfo, UbaRowSet *rs, int argno, Jsonb *opts,
									 const UbaOptionSpec *specs, int nspecs, int mode, int32 iparam,
									 const char *funcname);
extern UbaRowSet *uba_rowset_collect_k(FunctionCallInfo fcinfo, UbaRowSet *rs, const UbaOptionSpec *specs,
									   int nspecs, int32 kmax, const char *funcname);
extern bytea *uba_rowset_model(UbaModelKind kind, const UbaRowSet *rs, const struct UbaOptions *o,
							   UbaWriter *payload);
extern int64 **uba_encoding_ranks(UbaEncoding *e, UbaRowSet *rs);

/* A typed row's categories through per-column maps (NULL: not mapped); NULL (NaN) stays */
static inline void
uba_encoding_map_row(double *x, int ncols, int64 *const *map)
{
	for (int k = 0; k < ncols; k++)
		if (map[k] != NULL && !isnan(x[k]))
			x[k] = (double) map[k][(int64) x[k]];
}

/* Category levels a row kept in float4 holds exactly (2^24) */
#define UBA_FLOAT4_MAX_LEVELS 16777216
/* The same for a row kept in float4 (levels, and so ranks and codes, below 2^24: exact) */
static inline void
uba_encoding_map_row_float4(float *x, int ncols, int64 *const *map)
{
	for (int k = 0; k < ncols; k++)
		if (map[k] != NULL && !isnan(x[k]))
			x[k] = (float) map[k][(int64) x[k]];
}

extern void uba_encoding_expand(UbaEncoding *e, UbaRowSet *rs);
extern void uba_encoding_attach(UbaModelMeta *meta, UbaEncoding *e);
extern void uba_encoding_row(UbaEncoding *e, Datum row, double *x);
/* The forms a scoring function's features come in; each form has its own C entry point */
typedef enum UbaFeatureForm
{
	UBA_FORM_ARRAY,				/* float8[] */
	UBA_FORM_TEXT,				/* a float8[]'s text form ('{1,2}', or an untyped NULL) */
	UBA_FORM_ROW				/* a typed row */
} UbaFeatureForm;
extern void uba_read_features_arg(FunctionCallInfo fcinfo, int argno, UbaFeatureForm form,
								  UbaEncoding *enc, double *x, int d);
/* The float8[] in argument argno, given as an array or as its text form */
extern ArrayType *uba_features_array_arg(FunctionCallInfo fcinfo, int argno, UbaFeatureForm form);

/*
 * The three C entry points of a function whose features come as a
 * float8[], its text form or a typed row: name, name_text and name_row,
 * each calling impl(fcinfo, form).
 */
#define UBA_FEATURE_FORMS(name, impl) \
	PG_FUNCTION_INFO_V1(name); \
	PG_FUNCTION_INFO_V1(name##_text); \
	PG_FUNCTION_INFO_V1(name##_row); \
	Datum name(PG_FUNCTION_ARGS) { return impl(fcinfo, UBA_FORM_ARRAY); } \
	Datum name##_text(PG_FUNCTION_ARGS) { return impl(fcinfo, UBA_FORM_TEXT); } \
	Datum name##_row(PG_FUNCTION_ARGS) { return impl(fcinfo, UBA_FORM_ROW); }
extern void uba_put_encoding(UbaWriter *w, const UbaEncoding *e);
extern UbaEncoding *uba_get_encoding(UbaReader *r, int n_features, char **feature_names);
extern void uba_encoding_describe(const UbaEncoding *e, StringInfo json);
extern int	uba_encoding_column_of(const UbaEncoding *e, int feature);

/* ---------- event collection for event-stream training aggregates (events.c) ---------- */

/*
 * (a, b [, w] [, t]) events: (user, item, weight) for recommendations,
 * (basket, item) for association rules, (user, time, item) for sequential
 * patterns.  The SQL functions uba_events_combine,
 * uba_events_serialize and uba_events_deserialize serve every aggregate
 * with this state.  peak_bytes is what one event may cost at the peak of
 * training; uba.max_memory is applied to it while the events are collected.
 */
typedef struct UbaEvents
{
	MemoryContext cxt;
	int64		n;
	int64		cap;
	int64	   *a;
	int64	   *b;
	double	   *w;				/* NULL unless weighted */
	int64	   *t;				/* times (microseconds), NULL unless timed */
	Size		a_bytes;
	Size		b_bytes;
	Size		w_bytes;
	Size		t_bytes;
	bool		weighted;
	int16		aarg;			/* the aggregate's arguments holding a, b and the time (0: none) */
	int16		barg;
	int16		targ;
	int32		peak_bytes;
	Jsonb	   *options;		/* copy of the options argument, or NULL */
	TimestampTz started;		/* when the first event arrived */
	MemoryContextCallback reset;	/* frees the mapped arrays with the context */
	Oid			atype;			/* SQL types of the a and b ids */
	Oid			btype;
	UbaIdDict	ida;			/* their keys, when text or uuid */
	UbaIdDict	idb;
} UbaEvents;

/* A new collection; the a and b ids are the aggregate's arguments 1 and 2, named for errors */
extern UbaEvents *uba_events_start(FunctionCallInfo fcinfo, Jsonb *options, bool weighted,
								   int32 peak_bytes, const char *aname, const char *bname);
/* The same, with a and b at arguments aarg and barg and a timestamp at targ */
extern UbaEvents *uba_events_start_timed(FunctionCallInfo fcinfo, Jsonb *options, bool weighted,
										 int32 peak_bytes, const char *aname, int aarg,
										 const char *bname, int barg, int targ);
/* Append the event of the a, b (and time) arguments (w is ignored unless the collection is weighted) */
extern void uba_events_add(UbaEvents *ev, FunctionCallInfo fcinfo, double w);
/* Before training: text and uuid ids replaced by their ranks in canonical order */
extern void uba_events_canonical(UbaEvents *ev);
/* Dense indexes of ids: distinct ids increasing in *distinct, each one's index in idx */
extern int64 uba_map_ids(const int64 *ids, int64 n, int64 **distinct, uint32 *idx);

/* The whole transition of an aggregate over (a, b, time [, options]) rows (options: argument 4) */
extern UbaEvents *uba_events_collect_timed(FunctionCallInfo fcinfo, const UbaOptionSpec *specs, int nspecs,
										   const char *funcname, void (*check) (const UbaOptions *o),
										   int32 peak_bytes, const char *aname, int aarg, const char *bname,
										   int barg, int targ);

/* A timed event in its sequence (a user's, a session's): its time and its b id's index */
typedef struct UbaTimedItem
{
	int64		t;
	uint32		item;
	uint32		pad;
} UbaTimedItem;

/*
 * Timed events as sequences: grouped by their a ids (dense indexes, in id
 * order), each group's events sorted by time, then b index (so that the
 * order does not depend on arrival); group g is [off[g], off[g + 1]).
 * The distinct b ids, increasing, in *item_ids (*nitems of them).
 * Allocated in cxt.
 */
extern UbaTimedItem *uba_events_sequences(UbaEvents *ev, MemoryContext cxt, int64 *ngroups, int64 **off,
										  int64 **item_ids, int64 *nitems);

/* ---------- large arrays of rows (bigmem.c) ---------- */

/* Allocate (old NULL) or grow an array; the new part is paged in ahead, in the background */
extern void *uba_big_grow(void *old, Size oldbytes, Size newbytes);
/* Give an array back; it is kept for reuse, or unmapped in the background */
extern void uba_big_free(void *p, Size bytes);
/* Unmap the arrays kept for reuse (before a library allocates memory of its own) */
extern void uba_big_trim(void);
/* A zeroed work array freed with cxt: mapped from 1 MB on, reusing arrays given back */
extern void *uba_big_alloc(MemoryContext cxt, Size bytes);
/* The same, not zeroed, for an array its caller writes in full first */
extern void *uba_big_alloc_raw(MemoryContext cxt, Size bytes);
/* Arrays that start small: palloc'd in cxt below 1 MB, mapped (above) from there on */
extern void uba_array_grow(MemoryContext cxt, void **pp, Size *bytes, Size newbytes);
/* The same, the new part not zeroed (for arrays written before they are read) */
extern void uba_array_grow_raw(MemoryContext cxt, void **pp, Size *bytes, Size newbytes);
extern void uba_array_reserve(MemoryContext cxt, void **pp, Size *bytes, Size newbytes);
extern void uba_array_page_in(void **pp, Size *bytes, Size need);
extern void uba_array_free(void **pp, Size *bytes);

/* ---------- threads (threads.c) ---------- */

/* A block of work: pure computation, no PostgreSQL calls (it may run on a helper thread) */
typedef void (*UbaBlockFn) (void *arg, int64 block, int lane);

/* Lanes per parallel job: fixed, so results do not depend on the thread count */
#define UBA_LANES 16

/*
 * Elements (of elem bytes) per lane of a per-lane array holding n each: n
 * and a cache line nobody writes, so threads on neighbouring lanes never
 * write one line (false sharing), whatever the array's alignment.
 */
#define UBA_LANE_STRIDE(n, elem) ((Size) (n) + (PG_CACHE_LINE_SIZE + (Size) (elem) - 1) / (Size) (elem))

extern int	uba_thread_count(void);
/* Whether a BLAS call here may use threads: not on a helper, nor while a team holds the cores */
extern bool uba_blas_may_thread(void);

/* Helper threads kept for many short parallel sections: parts run once each, any thread */
typedef struct UbaTeam UbaTeam;
extern UbaTeam *uba_team_start(int nthreads);
extern void uba_team_run(UbaTeam *t, int nparts, UbaBlockFn fn, void *arg);
extern void uba_team_stop(UbaTeam *t);

/* ---------- k-d tree (kdtree.c) ---------- */

/* Built on the backend thread; its queries are pure computation (any thread) */
typedef struct UbaKdTree
{
	int			d;
	int64		n;
	bool		l1;				/* Manhattan distances, else Euclidean */
	int32		nnodes;
	struct UbaKdNode *nodes;
	double	   *boxes;			/* per node: d lows, d highs */
	int64	   *idx;			/* tree position -> the point's index */
	double	   *pts;			/* n x d in tree order */
} UbaKdTree;

extern Size uba_kdtree_bytes(int64 n, int d);
extern UbaKdTree *uba_kdtree_build(const double *X, int64 n, int d, bool l1);
extern int64 uba_kdtree_count(const UbaKdTree *t, const double *q, double r, int64 limit);
extern void uba_kdtree_within(const UbaKdTree *t, const double *q, double r,
							  bool (*fn) (void *arg, int64 index), void *arg);
extern int64 uba_kdtree_nearest(const UbaKdTree *t, const double *q, double r, double *dist);
extern void uba_kdtree_renumber(UbaKdTree *t, const int64 *map);

/* ---------- training by passes of statistics (passes.c) ---------- */

/* ---------- mergeable moments of m columns (moments.c) ---------- */

/* Head of a moments state (a bytea: Citus ships it as text) */
typedef struct UbaMomentsHead
{
	uint32		magic;			/* whose state: each aggregate has its own */
	int32		m;
	int32		pending;		/* rows buffered, not yet folded */
	int32		optlen;			/* bytes of the options' jsonb, 0 for none */
	int32		textlen;		/* bytes of their text, with its terminating zero */
	int32		pad;
	int64		n;				/* rows folded */
	TimestampTz started;
} UbaMomentsHead;

/* A view of a moments state's parts */
typedef struct UbaMoments
{
	bytea	   *blob;
	UbaMomentsHead *h;
	int			m;
	double	   *mean;			/* m */
	double	   *scratch;		/* 2 m */
	double	   *cm;				/* m x m, upper triangle: sum (x - mean)(x - mean)^T */
	double	   *buf;			/* rows waiting to be folded */
	Jsonb	   *options;		/* NULL for none */
	const char *options_text;
} UbaMoments;

extern Size uba_moments_bytes(int m);
extern void uba_moments_new(FunctionCallInfo fcinfo, uint32 magic, int m, Jsonb *options,
							const char *what, UbaMoments *s);
extern bool uba_moments_arg(FunctionCallInfo fcinfo, int argno, uint32 magic, int max_m,
							const char *what, UbaMoments *s);
extern double *uba_moments_next_row(UbaMoments *s);
extern void uba_moments_row_done(UbaMoments *s);
extern void uba_moments_fold(UbaMoments *s);
extern void uba_moments_combine(UbaMoments *a, UbaMoments *b);
extern Datum uba_moments_combine_fn(FunctionCallInfo fcinfo, uint32 magic, int max_m, const char *what, int extra);
extern void uba_moments_finish(UbaMoments *s, char **names);
extern Jsonb *uba_moments_options(const UbaMoments *s);

/* Header of a pass's bytea state; the algorithm gives dims their meaning */
typedef struct UbaPassHead
{
	uint32		magic;
	uint32		dims[5];
	int64		nvalues;		/* doubles after the header */
} UbaPassHead;

extern bytea *uba_pass_state_new(FunctionCallInfo fcinfo, uint32 magic, const uint32 *dims,
								 Size nvalues, const char *what);
extern bytea *uba_pass_state_arg(FunctionCallInfo fcinfo, int argno, uint32 magic, const char *what);
extern bytea *uba_pass_state_own(bytea *b, uint32 magic, const char *what);
extern bool uba_pass_combine_nulls(FunctionCallInfo fcinfo, bytea *a, bytea *b, bytea **result);
extern MemoryContext uba_state_context(FunctionCallInfo fcinfo);
extern UbaPassHead *uba_pass_head(bytea *state);
extern double *uba_pass_values(bytea *state);
extern double uba_row_uniform(const double *x, int d, uint64 seed);

/* The driver's query, run once per pass */
typedef struct UbaPassQuery
{
	struct _SPI_plan *plan;
	int			nparams;
	int			passes;			/* run so far */
	const char *funcname;
	MemoryContext keep;			/* the caller's memory: states are copied there */
} UbaPassQuery;

extern void uba_pass_query_open(UbaPassQuery *pq, FunctionCallInfo fcinfo, const char *funcname,
								const char *query, int ncols, const Oid *types,
								const char *const *colnames, const char *aggregate,
								int nparams, const Oid *paramtypes);
extern bytea *uba_pass_query_run(UbaPassQuery *pq, Datum *params, const bool *nulls);
extern void uba_pass_query_close(UbaPassQuery *pq);
extern void uba_run_lanes(int64 nblocks, int nlanes, int nthreads, UbaBlockFn fn, void *arg);

/* ---------- tables of the extension, changed as their owner (catalog.c) ---------- */

typedef struct UbaSwitched
{
	Oid			save_user;
	int			save_sec;
	int			nest;
} UbaSwitched;

extern char *uba_extension_table(Oid nsp, const char *relname, const char *what, Oid *owner, bool *created_here);
/* One of uba's fixed statements through SPI; expect a result code, or 0 for any success */
extern uint64 uba_spi_exec(const char *what, const char *sql, int nargs, Oid *types, Datum *values,
						   const char *nulls, bool read_only, int expect);
extern void uba_switch_to(UbaSwitched *s, Oid role, const char *path);
extern void uba_switch_back(UbaSwitched *s);

/* ---------- distributions (distrib.c) ---------- */

extern double uba_incomplete_beta(double a, double b, double x);
extern double uba_student_t_two_sided(double t, double df);
extern double uba_digamma(double x);
extern double uba_hyp2f1(double a, double b, double c, double z, int max_terms);
extern double uba_hyp2f1_grad(double a, double b, double c, double z, int max_terms, double *d);
extern double uba_norm_quantile(double p);
extern double uba_norm_cdf(double x);
extern double uba_student_t_quantile(double p, double df);
extern double uba_chi2_sf(double x, double df);

/* ---------- minimizing a smooth function of a few parameters (optim.c) ---------- */

/* f at x; when grad is given, its gradient there too.  Non-finite f: outside the domain */
typedef double (*UbaObjective) (void *arg, const double *x, double *grad);

typedef struct UbaMinimizeResult
{
	int			iterations;
	int			evaluations;
	double		f;
	double		gnorm;			/* largest absolute gradient element at the result */
	bool		converged;
} UbaMinimizeResult;

extern void uba_minimize(int n, double *x, UbaObjective fn, void *arg, int max_iter, double gtol,
						 UbaMinimizeResult *res);

/* In a box (lo, hi may be NULL), with fn's gradient or central differences: projected BFGS */
#define UBA_MINIMIZE_MAX_PARAMS 64
extern void uba_minimize_box(int n, double *x, const double *lo, const double *hi, UbaObjective fn,
							 void *arg, bool gradient, int max_iter, double ftol,
							 UbaMinimizeResult *res);

/* ---------- linear algebra (linalg.c) ---------- */

extern void uba_blas_init(void);

/* C = alpha * A * B^T + beta * C; A is m x k, B is n x k, C is m x n, row-major */
extern void uba_gemm_abt(int m, int n, int k, double alpha, const double *A,
						 const double *B, double beta, double *C);
/* C = alpha * op(A) op(B) + beta * C, single precision, row-major with leading dimensions */
extern void uba_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *A, int lda,
					  const float *B, int ldb, float beta, float *C, int ldc);
extern void uba_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *A, int lda,
					  const double *B, int ldb, double beta, double *C, int ldc);
/* Solve A x = b, A symmetric positive definite (overwritten); false if it is not */
extern bool uba_cholesky_solve(int n, double *A, double *b);
/* Solve A x = b again with the factor uba_cholesky_solve left in A */
extern void uba_cholesky_resolve(int n, const double *A, double *b);
extern double uba_norm_inf(const double *v, int n);
/* C = X^T X (d x d, all of it) for X of n rows of d (row-major) */
extern void uba_crossprod(int64 n, int d, const double *X, double *C);
/* C += X^T X on the upper triangle of C (d x d, row-major) for X of n rows of d */
extern void uba_syrk_add(int n, int d, const double *X, double *C);
/* Eigenvalues of symmetric A, descending, and their unit eigenvectors as rows of V (A overwritten) */
extern bool uba_symmetric_eigen(int n, double *A, double *w, double *V);
/* Singular values (descending) and right singular vectors (rows of V) of X, n x d row-major (destroyed) */
extern bool uba_right_singular(int64 n, int d, double *X, double *s, double *V);
/* A^-1 in place (single precision, full), A symmetric positive definite; false if it is not */
extern bool uba_spd_inverse_f32(int n, float *A);
/* Diagonal of A^-1, A symmetric positive definite (overwritten); false if it is not */
extern bool uba_spd_inverse_diagonal(int n, double *A, double *diag);
/* Columns of symmetric positive semidefinite A that depend on earlier ones (R's aliasing); how many */
extern int	uba_dependent_columns(int n, const double *A, const int *order, double tol, bool *dependent);

/* Rows per block for loops that call BLAS: bounds the time between interrupt checks */
#define UBA_BLOCK_ROWS 4096

/*
 * Compile a kernel for AVX-512 and AVX2 as well as the baseline and pick
 * at load time (GCC on x86-64 Linux).  FP contraction is off in the build
 * and floating-point sums are not reassociated, so every version rounds
 * identically and results do not depend on the CPU.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define UBA_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define UBA_TARGET_CLONES
#endif

#endif							/* UBA_H */
