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

#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(uba_binary_transfn);
PG_FUNCTION_INFO_V1(uba_binary_combine);
PG_FUNCTION_INFO_V1(uba_binary_serialize);
PG_FUNCTION_INFO_V1(uba_binary_deserialize);
PG_FUNCTION_INFO_V1(uba_f1_final);
PG_FUNCTION_INFO_V1(uba_precision_final);
PG_FUNCTION_INFO_V1(uba_recall_final);
PG_FUNCTION_INFO_V1(uba_accuracy_final);
PG_FUNCTION_INFO_V1(uba_mcc_final);
PG_FUNCTION_INFO_V1(uba_confusion_final);
PG_FUNCTION_INFO_V1(uba_regression_transfn);
PG_FUNCTION_INFO_V1(uba_regression_combine);
PG_FUNCTION_INFO_V1(uba_regression_serialize);
PG_FUNCTION_INFO_V1(uba_regression_deserialize);
PG_FUNCTION_INFO_V1(uba_rmse_final);
PG_FUNCTION_INFO_V1(uba_mae_final);
PG_FUNCTION_INFO_V1(uba_r2_final);

/* Allocate a zeroed aggregate state of size bytes in the aggregate's context */
static void *
NewState(FunctionCallInfo fcinfo, Size size)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "uba aggregate function called in non-aggregate context");
	return MemoryContextAllocZero(aggcxt, size);
}

/* Serialize a fixed-size state as bytea (same machine: native layout) */
static bytea *
SerializeState(const void *state, Size size)
{
	bytea	   *out = (bytea *) palloc(VARHDRSZ + size);

	SET_VARSIZE(out, VARHDRSZ + size);
	memcpy(VARDATA(out), state, size);
	return out;
}

/* Rebuild a fixed-size state serialized by SerializeState */
static void *
DeserializeState(FunctionCallInfo fcinfo, bytea *in, Size size)
{
	void	   *state;

	if (VARSIZE_ANY_EXHDR(in) != size)
		elog(ERROR, "uba metric state has %zu bytes, expected %zu",
			 (Size) VARSIZE_ANY_EXHDR(in), size);
	state = NewState(fcinfo, size);
	memcpy(state, VARDATA_ANY(in), size);
	return state;
}

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
	BinaryCounts *s = PG_ARGISNULL(0) ? NULL : (BinaryCounts *) PG_GETARG_POINTER(0);
	bool		predicted,
				actual;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}
	if (s == NULL)
		s = NewState(fcinfo, sizeof(BinaryCounts));
	predicted = PG_GETARG_BOOL(1);
	actual = PG_GETARG_BOOL(2);
	if (predicted)
	{
		if (actual)
			s->tp++;
		else
			s->fp++;
	}
	else
	{
		if (actual)
			s->fn++;
		else
			s->tn++;
	}
	PG_RETURN_POINTER(s);
}

/* Combine two partial counts */
Datum
uba_binary_combine(PG_FUNCTION_ARGS)
{
	BinaryCounts *a = PG_ARGISNULL(0) ? NULL : (BinaryCounts *) PG_GETARG_POINTER(0);
	BinaryCounts *b = PG_ARGISNULL(1) ? NULL : (BinaryCounts *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = NewState(fcinfo, sizeof(BinaryCounts));
	a->tp += b->tp;
	a->fp += b->fp;
	a->tn += b->tn;
	a->fn += b->fn;
	PG_RETURN_POINTER(a);
}

/* Serialize counts */
Datum
uba_binary_serialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(SerializeState(PG_GETARG_POINTER(0), sizeof(BinaryCounts)));
}

/* Deserialize counts */
Datum
uba_binary_deserialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(DeserializeState(fcinfo, PG_GETARG_BYTEA_PP(0), sizeof(BinaryCounts)));
}

/* num / den, or 0 when den is 0 (scikit-learn's zero_division default) */
static double
Ratio(double num, double den)
{
	return den == 0 ? 0.0 : num / den;
}

/* The counts of a final function's state, or NULL for no rows */
#define BINARY_STATE() \
	(PG_ARGISNULL(0) ? NULL : (const BinaryCounts *) PG_GETARG_POINTER(0))

/* uba_f1_score: harmonic mean of precision and recall */
Datum
uba_f1_final(PG_FUNCTION_ARGS)
{
	const BinaryCounts *s = BINARY_STATE();
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
	const BinaryCounts *s = BINARY_STATE();

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(Ratio(s->tp, s->tp + s->fp));
}

/* uba_recall: tp / (tp + fn) */
Datum
uba_recall_final(PG_FUNCTION_ARGS)
{
	const BinaryCounts *s = BINARY_STATE();

	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(Ratio(s->tp, s->tp + s->fn));
}

/* uba_accuracy: share of rows where predicted = actual */
Datum
uba_accuracy_final(PG_FUNCTION_ARGS)
{
	const BinaryCounts *s = BINARY_STATE();

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
	const BinaryCounts *s = BINARY_STATE();
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
	const BinaryCounts *s = BINARY_STATE();
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

/* Add v to a compensated sum */
static inline void
NeumaierAdd(double *sum, double *comp, double v)
{
	double		t = *sum + v;

	if (fabs(*sum) >= fabs(v))
		*comp += (*sum - t) + v;
	else
		*comp += (v - t) + *sum;
	*sum = t;
}

/* Transition: add one (predicted, actual) pair */
Datum
uba_regression_transfn(PG_FUNCTION_ARGS)
{
	RegressionSums *s = PG_ARGISNULL(0) ? NULL : (RegressionSums *) PG_GETARG_POINTER(0);
	double		predicted,
				actual,
				err,
				delta;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}
	predicted = PG_GETARG_FLOAT8(1);
	actual = PG_GETARG_FLOAT8(2);
	uba_check_finite(predicted, "predicted values");
	uba_check_finite(actual, "actual values");
	if (s == NULL)
		s = NewState(fcinfo, sizeof(RegressionSums));

	err = actual - predicted;
	NeumaierAdd(&s->sse, &s->sse_c, err * err);
	NeumaierAdd(&s->sae, &s->sae_c, fabs(err));
	if (s->n == 0)
		s->shift = actual;
	actual -= s->shift;
	s->n++;
	delta = actual - s->mean;
	s->mean += delta / (double) s->n;
	s->m2 += delta * (actual - s->mean);
	PG_RETURN_POINTER(s);
}

/* Combine two partial sums */
Datum
uba_regression_combine(PG_FUNCTION_ARGS)
{
	RegressionSums *a = PG_ARGISNULL(0) ? NULL : (RegressionSums *) PG_GETARG_POINTER(0);
	RegressionSums *b = PG_ARGISNULL(1) ? NULL : (RegressionSums *) PG_GETARG_POINTER(1);
	double		n,
				delta;

	if (b == NULL || b->n == 0)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = NewState(fcinfo, sizeof(RegressionSums));
	if (a->n == 0)
	{
		memcpy(a, b, sizeof(RegressionSums));
		PG_RETURN_POINTER(a);
	}
	n = (double) (a->n + b->n);
	/* b's mean, measured from a's shift */
	delta = (b->mean + (b->shift - a->shift)) - a->mean;
	a->m2 += b->m2 + delta * delta * ((double) a->n * (double) b->n / n);
	a->mean += delta * ((double) b->n / n);
	a->n += b->n;
	NeumaierAdd(&a->sse, &a->sse_c, b->sse);
	a->sse_c += b->sse_c;
	NeumaierAdd(&a->sae, &a->sae_c, b->sae);
	a->sae_c += b->sae_c;
	PG_RETURN_POINTER(a);
}

/* Serialize sums */
Datum
uba_regression_serialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(SerializeState(PG_GETARG_POINTER(0), sizeof(RegressionSums)));
}

/* Deserialize sums */
Datum
uba_regression_deserialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(DeserializeState(fcinfo, PG_GETARG_BYTEA_PP(0), sizeof(RegressionSums)));
}

#define REGRESSION_STATE() \
	(PG_ARGISNULL(0) ? NULL : (const RegressionSums *) PG_GETARG_POINTER(0))

/* uba_rmse: root mean squared error */
Datum
uba_rmse_final(PG_FUNCTION_ARGS)
{
	const RegressionSums *s = REGRESSION_STATE();

	if (s == NULL || s->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt((s->sse + s->sse_c) / (double) s->n));
}

/* uba_mae: mean absolute error */
Datum
uba_mae_final(PG_FUNCTION_ARGS)
{
	const RegressionSums *s = REGRESSION_STATE();

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
	const RegressionSums *s = REGRESSION_STATE();
	double		sse;

	if (s == NULL || s->n < 2)
		PG_RETURN_NULL();
	sse = s->sse + s->sse_c;
	if (s->m2 == 0)
		PG_RETURN_FLOAT8(sse == 0 ? 1.0 : 0.0);
	PG_RETURN_FLOAT8(1.0 - sse / s->m2);
}
