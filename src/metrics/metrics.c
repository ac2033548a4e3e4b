/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  Evaluation metrics as parallel aggregates: binary classification
 *	  (F1, precision, recall, accuracy, MCC, confusion matrix) from four
 *	  counts, and regression (RMSE, MAE, R^2) from compensated sums.
 *
 *	  Definitions and edge cases follow scikit-learn: arguments are
 *	  (predicted, actual); an undefined ratio (no positive predictions for
 *	  precision, say) is 0, scikit-learn's zero_division default; rows with
 *	  a NULL argument are skipped and no rows gives NULL, as in built-in
 *	  aggregates.  The states are small and fixed in size, so parallel
 *	  workers only ever send a few bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(uba_binary_transfn);
PG_FUNCTION_INFO_V1(uba_binary_combine);
PG_FUNCTION_INFO_V1(uba_f1_final);
PG_FUNCTION_INFO_V1(uba_precision_final);
PG_FUNCTION_INFO_V1(uba_recall_final);
PG_FUNCTION_INFO_V1(uba_accuracy_final);
PG_FUNCTION_INFO_V1(uba_mcc_final);
PG_FUNCTION_INFO_V1(uba_confusion_final);
PG_FUNCTION_INFO_V1(uba_regression_transfn);
PG_FUNCTION_INFO_V1(uba_regression_combine);
PG_FUNCTION_INFO_V1(uba_rmse_final);
PG_FUNCTION_INFO_V1(uba_mae_final);
PG_FUNCTION_INFO_V1(uba_r2_final);

/*
 * Fixed-size states kept in a bytea (STYPE bytea, not internal): Citus
 * splits an aggregate across its workers only when the state is an
 * ordinary type with a combine function (it ships the workers' states as
 * text, bytea's hex form), and PostgreSQL's parallel plans need no
 * serialization for it.  The struct sits 8 bytes into the value (the
 * varlena header and 4 bytes of padding), aligned where uba allocated it;
 * it is read and written with memcpy all the same, since a state that came
 * through text is only as aligned as its palloc.  As an aggregate the
 * transition updates its state in place, as float8_accum does.
 */
#define STATE_PAD 4

/* The serialization functions of the internal states of uba 0.1 and 0.2, whose install scripts
 * create them before the upgrade drops them */
PG_FUNCTION_INFO_V1(uba_binary_serialize);
PG_FUNCTION_INFO_V1(uba_binary_deserialize);
PG_FUNCTION_INFO_V1(uba_regression_serialize);
PG_FUNCTION_INFO_V1(uba_regression_deserialize);
PG_FUNCTION_INFO_V1(uba_probability_serialize);
PG_FUNCTION_INFO_V1(uba_probability_deserialize);

Datum
uba_binary_serialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

Datum
uba_binary_deserialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

Datum
uba_regression_serialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

Datum
uba_regression_deserialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

Datum
uba_probability_serialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

Datum
uba_probability_deserialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

static bytea *
StateCreate(FunctionCallInfo fcinfo, Size size)
{
	MemoryContext cxt;
	bytea	   *b;

	if (!AggCheckCallContext(fcinfo, &cxt))
		cxt = CurrentMemoryContext;
	b = MemoryContextAllocZero(cxt, VARHDRSZ + STATE_PAD + size);
	SET_VARSIZE(b, VARHDRSZ + STATE_PAD + size);
	return b;
}

/* A state argument has the size of its struct: anything else did not come from this aggregate */
static void
StateCheck(const bytea *b, Size size)
{
	if (VARSIZE_ANY_EXHDR(b) != STATE_PAD + size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of this uba metric"),
				 errdetail("Got %zu bytes, expected %zu.", (Size) VARSIZE_ANY_EXHDR(b), STATE_PAD + size)));
}

/* Argument n as a state to update: in place in an aggregate, else a copy; NULL for NULL */
static bytea *
StateArg(FunctionCallInfo fcinfo, int n, Size size)
{
	bytea	   *b;

	uba_check_bytea_state(fcinfo);
	if (PG_ARGISNULL(n))
		return NULL;
	b = PG_GETARG_BYTEA_P(n);
	StateCheck(b, size);
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		bytea	   *copy = StateCreate(fcinfo, size);

		memcpy(VARDATA(copy), VARDATA(b), STATE_PAD + size);
		b = copy;
	}
	return b;
}

static void
StateRead(const bytea *b, void *dst, Size size)
{
	StateCheck(b, size);
	memcpy(dst, VARDATA_ANY(b) + STATE_PAD, size);
}

static void
StateWrite(bytea *b, const void *src, Size size)
{
	memcpy(VARDATA(b) + STATE_PAD, src, size);
}

/* A final function's state: false for no rows (NULL) */
static bool
StateFinal(FunctionCallInfo fcinfo, void *dst, Size size)
{
	uba_check_bytea_state(fcinfo);
	if (PG_ARGISNULL(0))
		return false;
	StateRead(PG_GETARG_BYTEA_PP(0), dst, size);
	return true;
}

/* The transition's answer when the row takes no part: the state as it is */
#define STATE_UNCHANGED(st) \
	do { \
		if ((st) == NULL) \
			PG_RETURN_NULL(); \
		PG_RETURN_BYTEA_P(st); \
	} while (0)

/*
 * Combine two states of a struct type T with merge(T *a, const T *b): b
 * alone is returned as it is (the executor copies it into its context).
 */
#define STATE_COMBINE(T, merge) \
	do { \
		bytea	   *a_ = StateArg(fcinfo, 0, sizeof(T)); \
		T			x_, \
					y_; \
		if (PG_ARGISNULL(1)) \
			STATE_UNCHANGED(a_); \
		if (a_ == NULL) \
		{ \
			StateCheck(PG_GETARG_BYTEA_PP(1), sizeof(T)); \
			PG_RETURN_DATUM(PG_GETARG_DATUM(1)); \
		} \
		StateRead(a_, &x_, sizeof(T)); \
		StateRead(PG_GETARG_BYTEA_PP(1), &y_, sizeof(T)); \
		merge(&x_, &y_); \
		StateWrite(a_, &x_, sizeof(T)); \
		PG_RETURN_BYTEA_P(a_); \
	} while (0)

/* ---------- binary classification ---------- */

typedef struct BinaryCounts
{
	int64		tp;
	int64		fp;
	int64		tn;
	int64		fn;
} BinaryCounts;

/* Transition: count one (predicted, actual) pair */
Datum
uba_binary_transfn(PG_FUNCTION_ARGS)
{
	bytea	   *st = StateArg(fcinfo, 0, sizeof(BinaryCounts));
	BinaryCounts s;
	bool		predicted,
				actual;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		STATE_UNCHANGED(st);
	if (st == NULL)
		st = StateCreate(fcinfo, sizeof(BinaryCounts));
	StateRead(st, &s, sizeof(s));
	predicted = PG_GETARG_BOOL(1);
	actual = PG_GETARG_BOOL(2);
	if (predicted)
	{
		if (actual)
			s.tp++;
		else
			s.fp++;
	}
	else
	{
		if (actual)
			s.fn++;
		else
			s.tn++;
	}
	StateWrite(st, &s, sizeof(s));
	PG_RETURN_BYTEA_P(st);
}

static void
MergeBinary(BinaryCounts *a, const BinaryCounts *b)
{
	a->tp += b->tp;
	a->fp += b->fp;
	a->tn += b->tn;
	a->fn += b->fn;
}

/* Combine two partial counts */
Datum
uba_binary_combine(PG_FUNCTION_ARGS)
{
	STATE_COMBINE(BinaryCounts, MergeBinary);
}

/* num / den, or 0 when den is 0 (scikit-learn's zero_division default) */
static double
Ratio(double num, double den)
{
	return den == 0 ? 0.0 : num / den;
}

/* The counts of a final function's state, in *s; NULL for no rows */
#define BINARY_STATE() \
	BinaryCounts s_; \
	const BinaryCounts *s = StateFinal(fcinfo, &s_, sizeof(s_)) ? &s_ : NULL

/* uba_f1_score: harmonic mean of precision and recall */
Datum
uba_f1_final(PG_FUNCTION_ARGS)
{
	BINARY_STATE();
	double		p,
				r;

	if (s == NULL)
		PG_RETURN_NULL();
	p = Ratio(s->tp, s->tp + s->fp);
	r = Ratio(s->tp, s->tp + s->fn);
	PG_RETURN_FLOAT8(Ratio(2 * p * r, p + r));
}

/* uba_precision: tp / (tp + fp) */
Datum
uba_precision_final(PG_FUNCTION_ARGS)
{
	BINARY_STATE();

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(Ratio(s->tp, s->tp + s->fp));
}

/* uba_recall: tp / (tp + fn) */
Datum
uba_recall_final(PG_FUNCTION_ARGS)
{
	BINARY_STATE();

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(Ratio(s->tp, s->tp + s->fn));
}

/* uba_accuracy: share of rows where predicted = actual */
Datum
uba_accuracy_final(PG_FUNCTION_ARGS)
{
	BINARY_STATE();

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(Ratio(s->tp + s->tn, s->tp + s->fp + s->tn + s->fn));
}

/*
 * uba_mcc: Matthews correlation coefficient, computed the way
 * scikit-learn's matthews_corrcoef does (covariances of the confusion
 * matrix's margins), 0 when either margin is constant.
 */
Datum
uba_mcc_final(PG_FUNCTION_ARGS)
{
	BINARY_STATE();
	double		n,
				t1,
				t0,
				p1,
				p0,
				cov_tp,
				cov_pp,
				cov_tt;

	if (s == NULL)
		PG_RETURN_NULL();
	n = (double) (s->tp + s->fp + s->tn + s->fn);
	t1 = (double) (s->tp + s->fn);	/* actual true */
	t0 = (double) (s->tn + s->fp);
	p1 = (double) (s->tp + s->fp);	/* predicted true */
	p0 = (double) (s->tn + s->fn);
	cov_tp = (double) (s->tp + s->tn) * n - (t0 * p0 + t1 * p1);
	cov_pp = n * n - (p0 * p0 + p1 * p1);
	cov_tt = n * n - (t0 * t0 + t1 * t1);
	if (cov_pp * cov_tt == 0)
		PG_RETURN_FLOAT8(0.0);
	PG_RETURN_FLOAT8(cov_tp / sqrt(cov_tt * cov_pp));
}

/* uba_confusion_matrix: {"tp": .., "fp": .., "tn": .., "fn": ..} */
Datum
uba_confusion_final(PG_FUNCTION_ARGS)
{
	BINARY_STATE();
	char	   *json;

	if (s == NULL)
		PG_RETURN_NULL();
	json = psprintf("{\"tp\": " INT64_FORMAT ", \"fp\": " INT64_FORMAT
					", \"tn\": " INT64_FORMAT ", \"fn\": " INT64_FORMAT "}",
					s->tp, s->fp, s->tn, s->fn);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* ---------- regression ---------- */

/*
 * Sums with Neumaier compensation, and the actual values' mean and sum of
 * squared deviations kept with Welford's update (Chan's formula to
 * combine), so R^2 does not suffer the cancellation of sum(y^2) - n mean^2.
 * The actual values are shifted by the first one seen, so the running
 * mean stays small and precise even for values like 1e9 + 0.5.
 */
typedef struct RegressionSums
{
	int64		n;
	double		sse;			/* sum of squared errors, and its compensation */
	double		sse_c;
	double		sae;			/* sum of absolute errors, and its compensation */
	double		sae_c;
	double		shift;			/* the first actual value */
	double		mean;			/* mean of actual - shift */
	double		m2;				/* sum of squared deviations from the mean */
} RegressionSums;

/* Add another compensated sum (bsum + bcomp) to one */
static inline void
NeumaierMerge(double *sum, double *comp, double bsum, double bcomp)
{
	uba_neumaier_add(sum, comp, bsum);
	*comp += bcomp;
}

/* Transition: add one (predicted, actual) pair */
Datum
uba_regression_transfn(PG_FUNCTION_ARGS)
{
	bytea	   *st = StateArg(fcinfo, 0, sizeof(RegressionSums));
	RegressionSums s;
	double		predicted,
				actual,
				err,
				delta;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		STATE_UNCHANGED(st);
	predicted = PG_GETARG_FLOAT8(1);
	actual = PG_GETARG_FLOAT8(2);
	uba_check_finite(predicted, "predicted values");
	uba_check_finite(actual, "actual values");
	if (st == NULL)
		st = StateCreate(fcinfo, sizeof(RegressionSums));
	StateRead(st, &s, sizeof(s));

	err = actual - predicted;
	uba_neumaier_add(&s.sse, &s.sse_c, err * err);
	uba_neumaier_add(&s.sae, &s.sae_c, fabs(err));
	if (s.n == 0)
		s.shift = actual;
	actual -= s.shift;
	s.n++;
	delta = actual - s.mean;
	s.mean += delta / (double) s.n;
	s.m2 += delta * (actual - s.mean);
	StateWrite(st, &s, sizeof(s));
	PG_RETURN_BYTEA_P(st);
}

/* a += b: Chan's formula for the mean and squared deviations, compensated sums */
static void
MergeRegression(RegressionSums *a, const RegressionSums *b)
{
	double		n,
				delta;

	if (b->n == 0)
		return;
	if (a->n == 0)
	{
		*a = *b;
		return;
	}
	n = (double) (a->n + b->n);
	/* b's mean, measured from a's shift */
	delta = (b->mean + (b->shift - a->shift)) - a->mean;
	a->m2 += b->m2 + delta * delta * ((double) a->n * (double) b->n / n);
	a->mean += delta * ((double) b->n / n);
	a->n += b->n;
	NeumaierMerge(&a->sse, &a->sse_c, b->sse, b->sse_c);
	NeumaierMerge(&a->sae, &a->sae_c, b->sae, b->sae_c);
}

/* Combine two partial sums */
Datum
uba_regression_combine(PG_FUNCTION_ARGS)
{
	STATE_COMBINE(RegressionSums, MergeRegression);
}

#define REGRESSION_STATE() \
	RegressionSums s_; \
	const RegressionSums *s = StateFinal(fcinfo, &s_, sizeof(s_)) ? &s_ : NULL

/* uba_rmse: root mean squared error */
Datum
uba_rmse_final(PG_FUNCTION_ARGS)
{
	REGRESSION_STATE();

	if (s == NULL || s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt((s->sse + s->sse_c) / (double) s->n));
}

/* uba_mae: mean absolute error */
Datum
uba_mae_final(PG_FUNCTION_ARGS)
{
	REGRESSION_STATE();

	if (s == NULL || s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((s->sae + s->sae_c) / (double) s->n);
}

/*
 * uba_r2: coefficient of determination, 1 - SSE / SStot.  With fewer than
 * two rows it is undefined (NULL; scikit-learn returns NaN).  When every
 * actual value is the same, scikit-learn's convention: 1 for perfect
 * predictions, 0 otherwise.
 */
Datum
uba_r2_final(PG_FUNCTION_ARGS)
{
	REGRESSION_STATE();
	double		sse;

	if (s == NULL || s->n < 2)
		PG_RETURN_NULL();
	sse = s->sse + s->sse_c;
	if (s->m2 == 0)
		PG_RETURN_FLOAT8(sse == 0 ? 1.0 : 0.0);
	PG_RETURN_FLOAT8(1.0 - sse / s->m2);
}

/* ---------- probability metrics: log loss and Brier score ---------- */

PG_FUNCTION_INFO_V1(uba_probability_transfn);
PG_FUNCTION_INFO_V1(uba_probability_combine);
PG_FUNCTION_INFO_V1(uba_log_loss_final);
PG_FUNCTION_INFO_V1(uba_brier_final);

/* Compensated sums of per-row log loss and squared error */
typedef struct ProbabilitySums
{
	int64		n;
	double		logloss;
	double		logloss_c;
	double		brier;
	double		brier_c;
} ProbabilitySums;

/* scikit-learn's log_loss clips probabilities to [eps, 1 - eps], eps of float64 */
#define LOGLOSS_EPS 2.220446049250313e-16

/* Transition: add one (probability of true, actual) pair */
Datum
uba_probability_transfn(PG_FUNCTION_ARGS)
{
	bytea	   *st = StateArg(fcinfo, 0, sizeof(ProbabilitySums));
	ProbabilitySums s;
	double		p,
				pc,
				y;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		STATE_UNCHANGED(st);
	p = PG_GETARG_FLOAT8(1);
	y = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	if (!(p >= 0.0 && p <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("probabilities must be between 0 and 1"),
				 errdetail("Got %g.", p)));
	if (st == NULL)
		st = StateCreate(fcinfo, sizeof(ProbabilitySums));
	StateRead(st, &s, sizeof(s));
	pc = Min(Max(p, LOGLOSS_EPS), 1.0 - LOGLOSS_EPS);
	uba_neumaier_add(&s.logloss, &s.logloss_c, -(y > 0 ? log(pc) : log(1.0 - pc)));
	uba_neumaier_add(&s.brier, &s.brier_c, (p - y) * (p - y));
	s.n++;
	StateWrite(st, &s, sizeof(s));
	PG_RETURN_BYTEA_P(st);
}

static void
MergeProbability(ProbabilitySums *a, const ProbabilitySums *b)
{
	a->n += b->n;
	NeumaierMerge(&a->logloss, &a->logloss_c, b->logloss, b->logloss_c);
	NeumaierMerge(&a->brier, &a->brier_c, b->brier, b->brier_c);
}

/* Combine two partial sums */
Datum
uba_probability_combine(PG_FUNCTION_ARGS)
{
	STATE_COMBINE(ProbabilitySums, MergeProbability);
}

#define PROBABILITY_STATE() \
	ProbabilitySums s_; \
	const ProbabilitySums *s = StateFinal(fcinfo, &s_, sizeof(s_)) ? &s_ : NULL

/* uba_log_loss: mean negative log-likelihood of the actual outcomes */
Datum
uba_log_loss_final(PG_FUNCTION_ARGS)
{
	PROBABILITY_STATE();

	if (s == NULL || s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((s->logloss + s->logloss_c) / (double) s->n);
}

/* uba_brier_score: mean squared difference between probability and outcome */
Datum
uba_brier_final(PG_FUNCTION_ARGS)
{
	PROBABILITY_STATE();

	if (s == NULL || s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8((s->brier + s->brier_c) / (double) s->n);
}

/* ---------- deterministic train/test split ---------- */

PG_FUNCTION_INFO_V1(uba_split);

/*
 * uba_split(key anyelement, test_fraction float8 [, seed int]) returns
 * whether key belongs to the test side.  The key's own extended hash
 * function (the one hash partitioning uses, stable across PostgreSQL
 * versions and platforms) with the seed picks a point in [0, 1); the same
 * key lands on the same side in every run and every retrain.
 */
Datum
uba_split(PG_FUNCTION_ARGS)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	double		fraction = PG_GETARG_FLOAT8(1);
	int64		seed = PG_NARGS() > 2 ? PG_GETARG_INT32(2) : 0;
	FmgrInfo   *hash = (FmgrInfo *) fcinfo->flinfo->fn_extra;
	uint64		h;

	if (!(fraction >= 0.0 && fraction <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_fraction must be between 0 and 1"),
				 errdetail("Got %g.", fraction)));
	if (hash == NULL)
	{
		TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_HASH_EXTENDED_PROC_FINFO);

		if (!OidIsValid(tc->hash_extended_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("could not identify an extended hash function for type %s",
							format_type_be(type)),
					 errhint("Split on a key of a hashable type such as bigint, text or uuid.")));
		hash = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		fmgr_info_copy(hash, &tc->hash_extended_proc_finfo, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = hash;
	}
	h = DatumGetUInt64(FunctionCall2Coll(hash, PG_GET_COLLATION(), PG_GETARG_DATUM(0),
										 Int64GetDatum(seed)));
	PG_RETURN_BOOL((double) (h >> 11) * (1.0 / 9007199254740992.0) < fraction);
}

/* ---------- ranking metrics: ROC AUC and average precision ---------- */

PG_FUNCTION_INFO_V1(uba_scores_transfn);
PG_FUNCTION_INFO_V1(uba_auc_final);
PG_FUNCTION_INFO_V1(uba_average_precision_final);

/*
 * Collect the (score, actual) pair of arguments 1 and 2 (non-NULL); iparam
 * is a per-call parameter fixed on the first row (0 when there is none).
 */
static UbaRowSet *
AddScore(FunctionCallInfo fcinfo, UbaRowSet *rs, int32 iparam)
{
	double		v[2];
	int			dim = 1;

	v[0] = PG_GETARG_FLOAT8(1);
	uba_check_finite(v[0], "scores");
	if (v[0] == 0)
		v[0] = 0;				/* -0 and 0 are the same score */
	if (iparam == 0 && PG_NARGS() > 3)
	{
		/* a sample weight: a count of equal rows, say */
		v[1] = PG_GETARG_FLOAT8(3);
		if (!(v[1] >= 0) || isinf(v[1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weights must be finite and not negative"),
					 errdetail("Got %g.", v[1])));
		dim = 2;
	}
	if (rs == NULL)
	{
		/* order never matters here: rows need no hash */
		rs = uba_rowset_start_dim(fcinfo, dim, true, false);
		rs->iparam = iparam;
	}
	else
		uba_rowset_check_param(rs, iparam, "points");
	uba_rowset_add_values(rs, v, PG_GETARG_BOOL(2) ? 1.0 : 0.0);
	return rs;
}

/*
 * Transition: collect one (score, actual) pair.  Ranking needs every pair,
 * so this uses the row set of the training aggregates (chunks, parallel
 * combine, uba.max_memory), one value per row and the label as its y.
 */
Datum
uba_scores_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || (PG_NARGS() > 3 && PG_ARGISNULL(3)))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	PG_RETURN_POINTER(AddScore(fcinfo, rs, 0));
}

/* Map a double to a key whose unsigned order is the double's order */
static inline uint64
SortableBits(double v)
{
	uint64		b;

	memcpy(&b, &v, sizeof(b));
	return (b & UINT64CONST(0x8000000000000000)) ? ~b : b | UINT64CONST(0x8000000000000000);
}

/* The double a SortableBits() key came from */
static inline double
KeyScore(uint64 key)
{
	double		v;

	key = (key & UINT64CONST(0x8000000000000000)) ? key & ~UINT64CONST(0x8000000000000000) : ~key;
	memcpy(&v, &key, sizeof(v));
	return v;
}

/* Sort key of one collected (score, label) row; the label rides in idx */
static void
ScoreKey(void *arg, int64 i, const double *x, double y)
{
	UbaSortKey *keys = (UbaSortKey *) arg;

	keys[i].key = SortableBits(x[0]);
	keys[i].idx = y > 0;
}

/* Weighted rows: the row's index rides in idx, its label and weight in arrays */
typedef struct WeightedScores
{
	UbaSortKey *keys;
	bool	   *label;
	double	   *weight;
} WeightedScores;

static void
WeightedScoreKey(void *arg, int64 i, const double *x, double y)
{
	WeightedScores *w = (WeightedScores *) arg;

	w->keys[i].key = SortableBits(x[0]);
	w->keys[i].idx = i;
	w->label[i] = y > 0;
	w->weight[i] = x[1];
}

/*
 * The collected scores sorted ascending, straight from the collected
 * chunks, as (label, weight) pairs in that order; the total weights of
 * actual positives and negatives.  Unweighted rows weigh 1.  keys[i].key
 * stays the sort key of pair i.
 */
typedef struct SortedScores
{
	UbaSortKey *keys;
	bool	   *label;
	double	   *weight;			/* NULL: every row weighs 1 */
} SortedScores;

static void
SortScores(UbaRowSet *rs, SortedScores *ss, double *pos, double *neg)
{
	UbaSortKey *keys,
			   *tmp;

	/* the row set reserved room for two sort keys per row under uba.max_memory */
	keys = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * rs->n);
	tmp = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * rs->n);
	*pos = *neg = 0;
	ss->weight = NULL;
	if (rs->dim == 1)
	{
		int64		npos = 0;

		uba_rowset_foreach(rs, ScoreKey, keys);
		for (int64 i = 0; i < rs->n; i++)
			npos += keys[i].idx;
		*pos = (double) npos;
		*neg = (double) (rs->n - npos);
		ss->keys = uba_radix_sort(keys, tmp, rs->n);
		ss->label = NULL;
		return;
	}
	{
		WeightedScores w;
		bool	   *label;
		double	   *weight;

		/* beyond the sort keys: each row's label and weight, unsorted and sorted */
		uba_check_memory(mul_size(rs->n, 2 * (sizeof(bool) + sizeof(double))), "weighted ranking");
		label = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * rs->n);
		weight = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * rs->n);
		w.keys = keys;
		w.label = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * rs->n);
		w.weight = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * rs->n);
		uba_rowset_foreach(rs, WeightedScoreKey, &w);
		ss->keys = uba_radix_sort(keys, tmp, rs->n);
		for (int64 i = 0; i < rs->n; i++)
		{
			int64		r = ss->keys[i].idx;

			label[i] = w.label[r];
			weight[i] = w.weight[r];
			if (label[i])
				*pos += weight[i];
			else
				*neg += weight[i];
		}
		ss->label = label;
		ss->weight = weight;
	}
}

/* Unweighted scores sorted (the curves): keys, idx the label; counts of each class */
static UbaSortKey *
SortScoreCounts(UbaRowSet *rs, int64 *pos, int64 *neg)
{
	SortedScores ss;
	double		p,
				q;

	SortScores(rs, &ss, &p, &q);
	*pos = (int64) p;
	*neg = (int64) q;
	return ss.keys;
}

/* Label and weight of sorted pair i */
static inline bool
PairLabel(const SortedScores *ss, int64 i)
{
	return ss->label ? ss->label[i] : ss->keys[i].idx != 0;
}

static inline double
PairWeight(const SortedScores *ss, int64 i)
{
	return ss->weight ? ss->weight[i] : 1.0;
}

/*
 * uba_auc: area under the ROC curve, ties counted as scikit-learn's
 * roc_auc_score does (a tied positive-negative pair counts one half).  NULL
 * when only one class is present (scikit-learn raises an error).
 */
Datum
uba_auc_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	SortedScores ss;
	double		pos,
				neg,
				neg_below = 0;
	double		area = 0;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	SortScores(rs, &ss, &pos, &neg);
	if (pos == 0 || neg == 0)
		PG_RETURN_NULL();
	for (int64 i = 0; i < rs->n;)
	{
		double		p = 0,
					q = 0;
		int64		j = i;

		for (; j < rs->n && ss.keys[j].key == ss.keys[i].key; j++)
		{
			if (PairLabel(&ss, j))
				p += PairWeight(&ss, j);
			else
				q += PairWeight(&ss, j);
		}
		/* unweighted, exact: counts below 2^53 */
		area += p * neg_below + 0.5 * p * q;
		neg_below += q;
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_FLOAT8(area / (pos * neg));
}

/*
 * uba_average_precision: sum over score thresholds, highest first, of
 * (recall gained) x (precision there), as scikit-learn's
 * average_precision_score.  NULL when there are no actual positives.
 */
Datum
uba_average_precision_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	SortedScores ss;
	double		pos,
				neg,
				tp = 0,
				fp = 0;
	double		ap = 0,
				prev_recall = 0;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	SortScores(rs, &ss, &pos, &neg);
	if (pos == 0)
		PG_RETURN_NULL();
	for (int64 i = rs->n - 1; i >= 0;)
	{
		int64		j = i;
		double		recall;

		for (; j >= 0 && ss.keys[j].key == ss.keys[i].key; j--)
		{
			if (PairLabel(&ss, j))
				tp += PairWeight(&ss, j);
			else
				fp += PairWeight(&ss, j);
		}
		recall = tp / pos;
		/* a threshold whose rows all weigh 0 adds nothing */
		if (tp + fp > 0)
			ap += (recall - prev_recall) * (tp / (tp + fp));
		prev_recall = recall;
		i = j;
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_FLOAT8(ap);
}

/* ---------- curves: ROC points and threshold tables ---------- */

PG_FUNCTION_INFO_V1(uba_scores_points_transfn);
PG_FUNCTION_INFO_V1(uba_roc_curve_final);
PG_FUNCTION_INFO_V1(uba_threshold_table_final);

/* Counts at one threshold: rows with score >= threshold are flagged */
typedef struct CurvePoint
{
	double		threshold;
	int64		tp;
	int64		fp;
} CurvePoint;

/* Build the uba_curve_point[] result from points, given the class totals */
static Datum
CurveArray(FunctionCallInfo fcinfo, const CurvePoint *pts, int npts, int64 pos, int64 neg)
{
	Oid			arraytype = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			elemtype = get_element_type(arraytype);
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(elemtype, -1);
	Datum	   *elems = palloc(sizeof(Datum) * Max(npts, 1));
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int i = 0; i < npts; i++)
	{
		const CurvePoint *p = &pts[i];
		double		flagged = (double) (p->tp + p->fp);
		double		precision = Ratio(p->tp, flagged);
		double		recall = Ratio(p->tp, pos);
		Datum		v[10];
		bool		nulls[10] = {false};

		v[0] = Float8GetDatum(p->threshold);
		v[1] = Int64GetDatum(p->tp);
		v[2] = Int64GetDatum(p->fp);
		v[3] = Int64GetDatum(neg - p->fp);
		v[4] = Int64GetDatum(pos - p->tp);
		v[5] = Float8GetDatum(recall);
		v[6] = Float8GetDatum(Ratio(p->fp, neg));
		v[7] = Float8GetDatum(precision);
		v[8] = Float8GetDatum(Ratio(2 * precision * recall, precision + recall));
		v[9] = Float8GetDatum(flagged / (double) (pos + neg));
		elems[i] = HeapTupleGetDatum(heap_form_tuple(desc, v, nulls));
	}
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, npts, elemtype, typlen, typbyval, typalign));
}

/*
 * uba_roc_curve: one point per distinct score, highest first, after a
 * starting point at +Infinity (nothing flagged).  As scikit-learn's
 * roc_curve(drop_intermediate=True), points on a straight line between
 * their neighbours are dropped.  NULL when a class is missing.
 */
Datum
uba_roc_curve_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaSortKey *k;
	int64		pos,
				neg,
				tp = 0,
				fp = 0;
	CurvePoint *all,
			   *kept;
	int64		n = 0,
				m = 0;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	k = SortScoreCounts(rs, &pos, &neg);
	if (pos == 0 || neg == 0)
		PG_RETURN_NULL();
	all = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(CurvePoint) * (rs->n + 1));
	all[n].threshold = get_float8_infinity();
	all[n].tp = 0;
	all[n].fp = 0;
	n++;
	for (int64 i = rs->n - 1; i >= 0;)
	{
		int64		j = i;
		uint64		key = k[i].key;

		for (; j >= 0 && k[j].key == key; j--)
		{
			if (k[j].idx)
				tp++;
			else
				fp++;
		}
		all[n].threshold = KeyScore(key);
		all[n].tp = tp;
		all[n].fp = fp;
		n++;
		i = j;
		if ((n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	/*
	 * Keep the starting point, then among the real points the ends and
	 * every point where the curve bends (scikit-learn drops before it
	 * prepends its starting point, so the first real point always stays).
	 */
	kept = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(CurvePoint) * n);
	kept[m++] = all[0];
	for (int64 i = 1; i < n; i++)
	{
		if (i == 1 || i == n - 1 ||
			all[i + 1].fp - 2 * all[i].fp + all[i - 1].fp != 0 ||
			all[i + 1].tp - 2 * all[i].tp + all[i - 1].tp != 0)
			kept[m++] = all[i];
	}
	if (m > MaxArraySize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the ROC curve has too many points for an array"),
				 errhint("Use uba_threshold_table for a fixed number of points.")));
	return CurveArray(fcinfo, kept, (int) m, pos, neg);
}

/* uba_threshold_table(score, actual, points) transition: points is fixed per call */
Datum
uba_scores_points_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	int32		points;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("points must not be NULL")));
	points = PG_GETARG_INT32(3);
	if (points < 2 || points > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("points must be between 2 and 100000"),
				 errdetail("Got %d.", points)));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	PG_RETURN_POINTER(AddScore(fcinfo, rs, points));
}

/*
 * uba_threshold_table: counts and rates at `points` evenly spaced
 * thresholds, highest first: over [0, 1] when every score is a
 * probability, else from the highest score down to the lowest.  A row
 * is flagged when its score >= the threshold.
 */
Datum
uba_threshold_table_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaSortKey *k;
	int64		pos,
				neg,
				tp = 0,
				fp = 0,
				i;
	int			points;
	double		lo,
				hi;
	CurvePoint *pts;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	points = rs->iparam > 0 ? rs->iparam : 21;
	k = SortScoreCounts(rs, &pos, &neg);
	lo = KeyScore(k[0].key);
	hi = KeyScore(k[rs->n - 1].key);
	if (lo >= 0 && hi <= 1)
	{
		lo = 0;
		hi = 1;
	}
	pts = palloc(sizeof(CurvePoint) * points);
	i = rs->n - 1;
	for (int p = 0; p < points; p++)
	{
		/* highest threshold first, counted up from lo so the steps print cleanly */
		double		t = lo + (hi - lo) * (double) (points - 1 - p) / (double) (points - 1);
		uint64		tkey = SortableBits(t);

		for (; i >= 0 && k[i].key >= tkey; i--)
		{
			if (k[i].idx)
				tp++;
			else
				fp++;
		}
		pts[p].threshold = t;
		pts[p].tp = tp;
		pts[p].fp = fp;
	}
	return CurveArray(fcinfo, pts, points, pos, neg);
}

/* ---------- multiclass F1 ---------- */

PG_FUNCTION_INFO_V1(uba_multiclass_transfn);
PG_FUNCTION_INFO_V1(uba_multiclass_combine);
PG_FUNCTION_INFO_V1(uba_multiclass_serialize);
PG_FUNCTION_INFO_V1(uba_multiclass_deserialize);
PG_FUNCTION_INFO_V1(uba_multiclass_f1_final);

static const char *const average_names[] = {"macro", "micro", "weighted", NULL};

/* Counts of one label: as prediction right (tp), wrong (fp), and missed (fn) */
typedef struct LabelCounts
{
	char	   *label;			/* the label's text output */
	int			len;
	int64		tp;
	int64		fp;
	int64		fn;
} LabelCounts;

/* Labels in an open-addressing hash table (slots hold index + 1, 0 = empty) */
typedef struct MultiClassState
{
	MemoryContext cxt;
	int32		average;		/* index into average_names */
	int32		nlabels;
	int32		cap;			/* of labels */
	int32		nslots;			/* power of two, at least 2 x cap */
	LabelCounts *labels;
	int32	   *slots;
} MultiClassState;

/* FNV-1a hash of a label's bytes */
static uint32
LabelHash(const char *s, int len)
{
	uint32		h = 2166136261u;

	for (int i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

/* Put every label back into a (new) slot table */
static void
RebuildSlots(MultiClassState *st)
{
	memset(st->slots, 0, sizeof(int32) * st->nslots);
	for (int i = 0; i < st->nlabels; i++)
	{
		uint32		s = LabelHash(st->labels[i].label, st->labels[i].len) & (st->nslots - 1);

		while (st->slots[s] != 0)
			s = (s + 1) & (st->nslots - 1);
		st->slots[s] = i + 1;
	}
}

/* The counts of a label, added when new */
static LabelCounts *
LabelEntry(MultiClassState *st, const char *label, int len)
{
	uint32		s = LabelHash(label, len) & (st->nslots - 1);
	LabelCounts *e;

	for (; st->slots[s] != 0; s = (s + 1) & (st->nslots - 1))
	{
		e = &st->labels[st->slots[s] - 1];
		if (e->len == len && memcmp(e->label, label, len) == 0)
			return e;
	}
	if (st->nlabels == st->cap)
	{
		st->cap *= 2;
		st->labels = repalloc(st->labels, sizeof(LabelCounts) * st->cap);
		st->nslots *= 2;
		st->slots = repalloc(st->slots, sizeof(int32) * st->nslots);
		RebuildSlots(st);
		return LabelEntry(st, label, len);
	}
	e = &st->labels[st->nlabels];
	memset(e, 0, sizeof(LabelCounts));
	e->label = MemoryContextAlloc(st->cxt, Max(len, 1));
	memcpy(e->label, label, len);
	e->len = len;
	st->slots[s] = ++st->nlabels;
	return e;
}

/* A new, empty state */
static MultiClassState *
NewMultiClass(FunctionCallInfo fcinfo, int32 average)
{
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	MultiClassState *st = MemoryContextAllocZero(aggcxt, sizeof(MultiClassState));

	st->cxt = aggcxt;
	st->average = average;
	st->cap = 16;
	st->nslots = 32;
	st->labels = MemoryContextAlloc(aggcxt, sizeof(LabelCounts) * st->cap);
	st->slots = MemoryContextAllocZero(aggcxt, sizeof(int32) * st->nslots);
	return st;
}

/* The index of an average name, or an error listing the valid ones */
static int32
AverageIndex(text *t)
{
	char	   *s = text_to_cstring(t);

	for (int i = 0; average_names[i] != NULL; i++)
		if (strcmp(s, average_names[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("average must be one of \"macro\", \"micro\", \"weighted\""),
			 errdetail("Got \"%s\".", s)));
	return -1;
}

/* uba_f1_score(predicted, actual, average) transition: count by label */
Datum
uba_multiclass_transfn(PG_FUNCTION_ARGS)
{
	MultiClassState *st = PG_ARGISNULL(0) ? NULL : (MultiClassState *) PG_GETARG_POINTER(0);
	FmgrInfo   *out = (FmgrInfo *) fcinfo->flinfo->fn_extra;
	int32		average;
	char	   *p,
			   *a;
	int			plen,
				alen;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("average must not be NULL")));
	average = AverageIndex(PG_GETARG_TEXT_PP(3));
	if (st != NULL && st->average != average)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("average must be the same for every row of one aggregate call")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (out == NULL)
	{
		/* labels of any type are compared by their text output */
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 1);
		Oid			func;
		bool		varlena;

		getTypeOutputInfo(type, &func, &varlena);
		out = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		fmgr_info_cxt(func, out, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = out;
	}
	if (st == NULL)
		st = NewMultiClass(fcinfo, average);
	p = OutputFunctionCall(out, PG_GETARG_DATUM(1));
	a = OutputFunctionCall(out, PG_GETARG_DATUM(2));
	plen = strlen(p);
	alen = strlen(a);
	if (plen == alen && memcmp(p, a, plen) == 0)
		LabelEntry(st, a, alen)->tp++;
	else
	{
		LabelEntry(st, p, plen)->fp++;
		LabelEntry(st, a, alen)->fn++;
	}
	pfree(p);
	pfree(a);
	PG_RETURN_POINTER(st);
}

/* Combine two partial states label by label */
Datum
uba_multiclass_combine(PG_FUNCTION_ARGS)
{
	MultiClassState *a,
			   *b;

	UBA_COMBINE_NULL_STATES();
	a = (MultiClassState *) PG_GETARG_POINTER(0);
	b = (MultiClassState *) PG_GETARG_POINTER(1);
	if (a->average != b->average)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("average must be the same for every row of one aggregate call")));
	for (int i = 0; i < b->nlabels; i++)
	{
		LabelCounts *e = LabelEntry(a, b->labels[i].label, b->labels[i].len);

		e->tp += b->labels[i].tp;
		e->fp += b->labels[i].fp;
		e->fn += b->labels[i].fn;
	}
	PG_RETURN_POINTER(a);
}

/* Serialize: average, label count, then each label's length, bytes and counts */
Datum
uba_multiclass_serialize(PG_FUNCTION_ARGS)
{
	MultiClassState *st = (MultiClassState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->average);
	pq_sendint32(&buf, st->nlabels);
	for (int i = 0; i < st->nlabels; i++)
	{
		pq_sendint32(&buf, st->labels[i].len);
		pq_sendbytes(&buf, st->labels[i].label, st->labels[i].len);
		pq_sendint64(&buf, st->labels[i].tp);
		pq_sendint64(&buf, st->labels[i].fp);
		pq_sendint64(&buf, st->labels[i].fn);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize a state written by uba_multiclass_serialize */
Datum
uba_multiclass_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	MultiClassState *st;
	int32		n;

	uba_message_of(&buf, in);
	st = NewMultiClass(fcinfo, pq_getmsgint(&buf, 4));
	n = pq_getmsgint(&buf, 4);
	for (int i = 0; i < n; i++)
	{
		int			len = pq_getmsgint(&buf, 4);
		const char *label = pq_getmsgbytes(&buf, len);
		LabelCounts *e = LabelEntry(st, label, len);

		e->tp = pq_getmsgint64(&buf);
		e->fp = pq_getmsgint64(&buf);
		e->fn = pq_getmsgint64(&buf);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/*
 * uba_f1_score(predicted, actual, average): scikit-learn's f1_score for
 * several classes.  Per label, F1 of its precision and recall (0 when
 * undefined); 'macro' averages them over every label seen as prediction
 * or actual, 'weighted' weighs each by its count among actual values,
 * 'micro' pools the counts (for one label per row it equals accuracy).
 */
Datum
uba_multiclass_f1_final(PG_FUNCTION_ARGS)
{
	MultiClassState *st = PG_ARGISNULL(0) ? NULL : (MultiClassState *) PG_GETARG_POINTER(0);
	double		sum = 0,
				weights = 0;
	int64		tp = 0,
				fp = 0,
				fn = 0;

	if (st == NULL || st->nlabels == 0)
		PG_RETURN_NULL();
	for (int i = 0; i < st->nlabels; i++)
	{
		const LabelCounts *e = &st->labels[i];
		double		p = Ratio(e->tp, e->tp + e->fp);
		double		r = Ratio(e->tp, e->tp + e->fn);
		double		f = Ratio(2 * p * r, p + r);
		double		support = (double) (e->tp + e->fn);

		tp += e->tp;
		fp += e->fp;
		fn += e->fn;
		if (st->average == 2)
		{
			sum += support * f;
			weights += support;
		}
		else
			sum += f;
	}
	if (st->average == 1)
	{
		double		p = Ratio(tp, tp + fp);
		double		r = Ratio(tp, tp + fn);

		PG_RETURN_FLOAT8(Ratio(2 * p * r, p + r));
	}
	if (st->average == 2)
		PG_RETURN_FLOAT8(Ratio(sum, weights));
	PG_RETURN_FLOAT8(sum / st->nlabels);
}
