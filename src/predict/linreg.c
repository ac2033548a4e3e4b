/*-------------------------------------------------------------------------
 *
 * linreg.c
 *	  Ridge regression for numeric targets (order value, days to next
 *	  purchase): training aggregate, model payload and scoring.
 *
 * Objective: sum_i (y_i - b - w.x_i)^2 + l2 ||w||^2, intercept b not
 * penalized: scikit-learn's Ridge(alpha = l2).  It needs only the means and
 * co-moments of (x, y), so the aggregate state is the core's mergeable
 * moments (moments.c), O(d^2) and not the rows: partial states from
 * parallel workers and Citus shards combine, and the final function solves
 * one d x d system by Cholesky.  Standardizing (z-scores, population
 * standard deviation) is done on the co-moments, as StandardScaler + Ridge
 * does on the data.
 *
 * Payload: d (u32), flags (u32: 1 intercept, 2 standardize, 4 statistics),
 * l2 (f64), [mean (d f64), scale (d f64)] when standardized, coefficients
 * (d f64, fitting space), intercept (f64); with statistics (ordinary least
 * squares, l2 = 0): residual degrees of freedom (u64), the coefficients'
 * standard errors (d f64, fitting space) and the intercept's (f64, input
 * units; 0 without an intercept), as R's summary.lm reports them.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_linreg_transfn);
PG_FUNCTION_INFO_V1(uba_linreg_combine);
PG_FUNCTION_INFO_V1(uba_linreg_serialize);
PG_FUNCTION_INFO_V1(uba_linreg_deserialize);
PG_FUNCTION_INFO_V1(uba_linreg_final);
PG_FUNCTION_INFO_V1(uba_linreg_transfn_row);
PG_FUNCTION_INFO_V1(uba_linreg_final_row);
PG_FUNCTION_INFO_V1(uba_linreg_predict);
PG_FUNCTION_INFO_V1(uba_linreg_coefficients);

#define LINREG_FLAG_INTERCEPT 1
#define LINREG_FLAG_STANDARDIZE 2
#define LINREG_FLAG_STATS 4

/* The solve is O(d^3) in one LAPACK call, which cannot be interrupted: keep it to seconds */
#define LINREG_MAX_FEATURES 4096

static const UbaOptionSpec linreg_options[] = {
	{"l2", UBA_OPT_FLOAT, 1.0, 0, 1e12, NULL},
	{"fit_intercept", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"standardize", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

/*
 * The aggregate state is the core's mergeable moments (moments.c) of the
 * features and the target, the target last (m = d + 1): a bytea that
 * Citus splits.
 */
#define LINREG_MOMENTS_MAGIC 0x55424c52	/* "UBLR" */
#define LINREG_WHAT "linear regression"

/* What the solve reads of the moments of (x, y) */
typedef struct LinRegState
{
	UbaMoments	mo;
	int			d;
	int64		n;
	const double *mean_x;
	double		mean_y;
	double		cyy;
} LinRegState;

/* cxx[j][k] (k >= j) and cxy[j] of a state */
#define CXX(s, j, k) ((s)->mo.cm[(Size) (j) * (s)->mo.m + (k)])
#define CXY(s, j) CXX(s, j, (s)->d)

/* The state of argument n, checked, or false for NULL */
static bool
StateArg(FunctionCallInfo fcinfo, int n, LinRegState *s)
{
	return uba_moments_arg(fcinfo, n, LINREG_MOMENTS_MAGIC, LINREG_MAX_FEATURES + 1, LINREG_WHAT, &s->mo);
}

/* The state's rows folded and checked, and its parts named for the solve */
static void
Ready(LinRegState *s, char **names)
{
	s->d = s->mo.m - 1;
	uba_moments_finish(&s->mo, names);
	s->n = s->mo.h->n;
	s->mean_x = s->mo.mean;
	s->mean_y = s->mo.mean[s->d];
	s->cyy = CXX(s, s->d, s->d);
}

/*
 * The standard errors of an ordinary least squares fit (l2 = 0), as R's
 * summary.lm: sigma^2 = RSS / (n - p), the coefficients' variances sigma^2
 * diag(A^-1) in the fitting space, the intercept's (input units) sigma^2
 * (1/n + u' A^-1 u) with u the means in the fitting space.  A0 and rhs0 are
 * the normal equations (upper triangle), w their solution.  False when
 * they cannot be had (a numerically singular system).
 */
static bool
LeastSquaresErrors(const LinRegState *s, int d, bool intercept, bool standardize, const double *scale,
				   const double *A0, const double *rhs0, const double *w, int64 *df, double *se)
{
	double		rss = intercept ? s->cyy : s->cyy + (double) s->n * s->mean_y * s->mean_y;
	double		sigma2;
	double	   *A = palloc(sizeof(double) * d * d);
	double	   *diag = palloc(sizeof(double) * d);

	for (int j = 0; j < d; j++)
		rss -= w[j] * rhs0[j];
	*df = s->n - d - (intercept ? 1 : 0);
	sigma2 = Max(rss, 0.0) / (double) *df;
	memcpy(A, A0, sizeof(double) * d * d);
	if (!uba_spd_inverse_diagonal(d, A, diag))
		return false;
	for (int j = 0; j < d; j++)
		se[j] = sqrt(sigma2 * diag[j]);
	se[d] = 0;
	if (intercept)
	{
		double	   *u = palloc(sizeof(double) * d);
		double		uz = 0;

		for (int j = 0; j < d; j++)
			u[j] = standardize ? s->mean_x[j] / scale[j] : s->mean_x[j];
		memcpy(A, A0, sizeof(double) * d * d);
		if (!uba_cholesky_solve(d, A, u))
			return false;
		for (int j = 0; j < d; j++)
			uz += (standardize ? s->mean_x[j] / scale[j] : s->mean_x[j]) * u[j];
		se[d] = sqrt(sigma2 * (1.0 / (double) s->n + uz));
	}
	for (int j = 0; j <= d; j++)
		if (!isfinite(se[j]))
			return false;
	return true;
}

/* uba_linreg_train(target, features [, options]) transition: update the moments */
Datum
uba_linreg_transfn(PG_FUNCTION_ARGS)
{
	LinRegState st;
	LinRegState *s = StateArg(fcinfo, 0, &st) ? &st : NULL;
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	ArrayType  *features;
	double		y;
	double	   *row;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(s->mo.blob);
	}
	y = PG_GETARG_FLOAT8(1);
	uba_check_finite(y, "target values");
	features = PG_GETARG_ARRAYTYPE_P(2);
	if (s == NULL)
	{
		UbaOptions	o;

		int			n_features = uba_feature_count(features);

		uba_parse_options(opts, linreg_options, lengthof(linreg_options), "uba_linreg_train", &o);
		uba_options_check_names(&o, n_features);
		if (n_features > LINREG_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("linear regression supports up to %d features", LINREG_MAX_FEATURES),
					 errdetail("Got %d.", n_features)));
		uba_moments_new(fcinfo, LINREG_MOMENTS_MAGIC, n_features + 1, opts, LINREG_WHAT, &st.mo);
		s = &st;
	}
	else
		uba_check_same_options(s->mo.options, opts);
	row = uba_moments_next_row(&s->mo);
	uba_read_features(features, row, s->mo.m - 1);
	row[s->mo.m - 1] = y;
	uba_moments_row_done(&s->mo);
	PG_RETURN_BYTEA_P(s->mo.blob);
}

/*
 * uba_linreg_train(target, row [, options]) transition: typed rows are
 * collected (their one-hot vocabulary is known only at the end), and
 * their moments made at the end from the encoded rows.
 */
Datum
uba_linreg_transfn_row(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	double		y;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	y = PG_GETARG_FLOAT8(1);
	uba_check_finite(y, "target values");
	if (rs == NULL)
	{
		UbaOptions	o;

		uba_parse_row_options(opts, linreg_options, lengthof(linreg_options), "uba_linreg_train",
							  true, UBA_ENC_ONEHOT, &o);
		rs = uba_rowset_start_row(fcinfo, 2, true, 0, opts, UBA_ENC_ONEHOT, "uba_linreg_train");
	}
	else
		uba_check_same_options(rs->options, opts);
	uba_rowset_add_row(rs, fcinfo, 2, y);
	PG_RETURN_POINTER(rs);
}

static Datum Finish(FunctionCallInfo fcinfo, LinRegState *s, UbaEncoding *enc);

/* Final for typed rows: encode them, make the moments, and solve as for arrays */
Datum
uba_linreg_final_row(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	LinRegState st,
			   *s;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	uba_rowset_canonical_order(rs);
	if (rs->dim > LINREG_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("linear regression supports up to %d features", LINREG_MAX_FEATURES),
				 errdetail("The row's columns encode to %d.", rs->dim),
				 errhint("Keep fewer levels per category with the option \"max_levels\".")));
	/* every level of a category is kept: with an intercept they are collinear unless penalized */
	{
		UbaOptions	o;

		uba_parse_row_options(rs->options, linreg_options, lengthof(linreg_options), "uba_linreg_train",
							  true, UBA_ENC_ONEHOT, &o);
		for (int k = 0; k < rs->enc->ncols; k++)
			if (rs->enc->cols[k].cls == UBA_COL_CATEGORY && uba_option(&o, "l2") == 0 &&
				uba_option(&o, "fit_intercept") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("least squares (\"l2\": 0) cannot fit category column \"%s\" beside an intercept",
								rs->enc->cols[k].name),
						 errdetail("Every level of a category is one-hot encoded, and the levels add up to 1 in every row, as the intercept does."),
						 errhint("Keep a small penalty, for example \"l2\": 1e-6, or leave the column out.")));
	}
	uba_moments_new(fcinfo, LINREG_MOMENTS_MAGIC, rs->dim + 1, rs->options, LINREG_WHAT, &st.mo);
	s = &st;
	s->mo.h->started = rs->started;
	for (int64 i = 0; i < rs->n; i++)
	{
		double	   *row = uba_moments_next_row(&s->mo);

		memcpy(row, rs->x + (Size) i * rs->dim, sizeof(double) * rs->dim);
		row[rs->dim] = rs->y[i];
		uba_moments_row_done(&s->mo);
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
	}
	return Finish(fcinfo, s, rs->enc);
}

/* Combine two partial states (Chan's formula, in the core) */
Datum
uba_linreg_combine(PG_FUNCTION_ARGS)
{
	return uba_moments_combine_fn(fcinfo, LINREG_MOMENTS_MAGIC, LINREG_MAX_FEATURES + 1, LINREG_WHAT, 1);
}

/* The serialization of uba 0.2's internal state: its install script creates these functions */
Datum
uba_linreg_serialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

Datum
uba_linreg_deserialize(PG_FUNCTION_ARGS)
{
	uba_error_library_newer();
}

/* uba_linreg_train final function: solve and return the model */
Datum
uba_linreg_final(PG_FUNCTION_ARGS)
{
	LinRegState st;

	if (!StateArg(fcinfo, 0, &st) || st.mo.h->n + st.mo.h->pending == 0)
		PG_RETURN_NULL();
	return Finish(fcinfo, &st, NULL);
}

/* Solve the normal equations of the moments in s; enc: typed rows' encoding, or NULL */
static Datum
Finish(FunctionCallInfo fcinfo, LinRegState *s, UbaEncoding *enc)
{
	UbaOptions	o;
	int			d;
	bool		intercept,
				standardize;
	double		l2,
				b = 0;
	double	   *A,
			   *rhs,
			   *scale = NULL,
			   *A0 = NULL,
			   *rhs0 = NULL,
			   *se;
	bool		stats;
	int64		df = 0;
	UbaModelMeta meta;
	UbaWriter	pw;

	uba_parse_row_options(uba_moments_options(&s->mo), linreg_options, lengthof(linreg_options),
						  "uba_linreg_train", enc != NULL, UBA_ENC_ONEHOT, &o);
	Ready(s, enc ? enc->feature_names : o.names);
	intercept = uba_option(&o, "fit_intercept") != 0;
	standardize = uba_option(&o, "standardize") != 0;
	l2 = uba_option(&o, "l2");
	d = s->d;

	A = palloc(sizeof(double) * d * d);
	rhs = palloc(sizeof(double) * d);
	se = palloc0(sizeof(double) * (d + 1));
	if (standardize)
	{
		scale = palloc(sizeof(double) * d);
		for (int j = 0; j < d; j++)
		{
			scale[j] = sqrt(CXX(s, j, j) / (double) s->n);
			if (!(scale[j] > 1e-300))
				scale[j] = 1.0;
		}
		/* typed rows: standardization is for numbers; one-hot indicators keep their scale */
		for (int k = 0; enc && k < enc->ncols; k++)
			if (enc->cols[k].cls == UBA_COL_CATEGORY)
				for (int j = enc->cols[k].first; j < enc->cols[k].first + enc->cols[k].width; j++)
					scale[j] = 1.0;
	}
	/*
	 * Normal equations in the fitting space.  Standardized data are
	 * centered, so the co-moments are the cross products; unstandardized
	 * data without an intercept need the raw cross products.
	 */
	for (int j = 0; j < d; j++)
	{
		double		sj = standardize ? scale[j] : 1.0;

		for (int k = j; k < d; k++)
		{
			double		sk = standardize ? scale[k] : 1.0;
			double		v = CXX(s, j, k);

			if (!intercept && !standardize)
				v += (double) s->n * s->mean_x[j] * s->mean_x[k];
			A[(Size) j * d + k] = v / (sj * sk) + (j == k ? l2 : 0);
		}
		rhs[j] = CXY(s, j);
		if (!intercept && !standardize)
			rhs[j] += (double) s->n * s->mean_x[j] * s->mean_y;
		rhs[j] /= sj;
	}
	/* ordinary least squares keeps what its statistics need: the system before it is solved */
	stats = l2 == 0 && (intercept || !standardize) && s->n > d + (intercept ? 1 : 0);
	if (stats)
	{
		A0 = palloc(sizeof(double) * d * d);
		rhs0 = palloc(sizeof(double) * d);
		memcpy(A0, A, sizeof(double) * d * d);
		memcpy(rhs0, rhs, sizeof(double) * d);
	}
	uba_progress(&o, "uba_linreg_train: solving the normal equations of %d features from " INT64_FORMAT " rows",
				 d, s->n);
	if (!uba_cholesky_solve(d, A, rhs))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the features are linearly dependent, so the least-squares problem has no unique solution"),
				 enc ? errdetail("A category's one-hot features add up to 1 in every row, as the intercept does.") : 0,
				 errhint("Set l2 above 0, or drop features that are combinations of others.")));
	if (intercept)
	{
		/* b = mean_y - mean_x . w in the fitting space (0 there when standardized) */
		b = s->mean_y;
		if (!standardize)
			for (int j = 0; j < d; j++)
				b -= s->mean_x[j] * rhs[j];
	}

	if (stats)
		stats = LeastSquaresErrors(s, d, intercept, standardize, scale, A0, rhs0, rhs, &df, se);

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) d);
	uba_put_u32(&pw, (intercept ? LINREG_FLAG_INTERCEPT : 0) | (standardize ? LINREG_FLAG_STANDARDIZE : 0) |
				(stats ? LINREG_FLAG_STATS : 0));
	uba_put_f64(&pw, l2);
	if (standardize)
	{
		uba_put_f64_array(&pw, s->mean_x, d);
		uba_put_f64_array(&pw, scale, d);
	}
	uba_put_f64_array(&pw, rhs, d);
	uba_put_f64(&pw, b);
	if (stats)
	{
		uba_put_u64(&pw, (uint64) df);
		uba_put_f64_array(&pw, se, d + 1);
	}

	uba_model_meta_init(&meta, d, s->n, s->mo.h->started, &o);
	uba_encoding_attach(&meta, enc);
	PG_RETURN_BYTEA_P(uba_model_build(UBA_KIND_LINREG, &meta, &pw));
}

/* ---------- reading and scoring ---------- */

typedef struct LinRegModel
{
	int			d;
	uint32		flags;
	double		l2;
	double	   *mean;
	double	   *scale;
	double	   *coef;
	double		intercept;
	int64		df;				/* residual degrees of freedom, with statistics */
	double	   *se;				/* d + 1 standard errors, with statistics, else NULL */
	double	   *x;				/* scratch for scoring */
	char	  **names;
} LinRegModel;

/* Parse and fully validate a ridge regression payload */
static void *
ParseLinReg(const UbaModelMeta *meta, UbaReader *r)
{
	LinRegModel *m = palloc0(sizeof(LinRegModel));

	m->d = (int) uba_get_u32(r);
	m->flags = uba_get_u32(r);
	if (m->d < 1 || m->d != meta->n_features)
		uba_model_corrupted("Linear regression model has %d features, metadata says %d.",
							m->d, meta->n_features);
	if ((m->flags & ~(LINREG_FLAG_INTERCEPT | LINREG_FLAG_STANDARDIZE | LINREG_FLAG_STATS)) != 0)
		uba_model_corrupted("Unknown linear regression flags.");
	m->l2 = uba_get_finite_f64(r);
	if (m->l2 < 0)
		uba_model_corrupted("Negative regularization.");
	if (m->flags & LINREG_FLAG_STANDARDIZE)
		uba_get_scaling(r, m->d, &m->mean, &m->scale);
	uba_reader_check_space(r, (Size) m->d, sizeof(double));
	m->coef = palloc(sizeof(double) * m->d);
	uba_get_f64_array(r, m->coef, m->d, true);
	m->intercept = uba_get_finite_f64(r);
	if (!(m->flags & LINREG_FLAG_INTERCEPT) && m->intercept != 0)
		uba_model_corrupted("Intercept set in a model fitted without one.");
	if (m->flags & LINREG_FLAG_STATS)
	{
		uint64		df = uba_get_u64(r);

		if (m->l2 != 0 || df < 1 || df > (uint64) meta->n_rows)
			uba_model_corrupted("Invalid residual degrees of freedom.");
		m->df = (int64) df;
		uba_reader_check_space(r, (Size) m->d + 1, sizeof(double));
		m->se = palloc(sizeof(double) * (m->d + 1));
		uba_get_f64_array(r, m->se, m->d + 1, true);
		for (int j = 0; j <= m->d; j++)
			if (m->se[j] < 0)
				uba_model_corrupted("Negative standard error.");
	}
	uba_reader_finish(r);
	m->names = meta->feature_names;
	m->x = palloc(sizeof(double) * m->d);
	return m;
}

/* Summary for uba_model_info() */
void
uba_linreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	LinRegModel *m = ParseLinReg(meta, payload);

	appendStringInfo(json, ", \"fit_intercept\": %s, \"standardized\": %s",
					 (m->flags & LINREG_FLAG_INTERCEPT) ? "true" : "false",
					 (m->flags & LINREG_FLAG_STANDARDIZE) ? "true" : "false");
}

/* uba_linreg_predict(model, features): predicted target */
Datum
uba_linreg_predict(PG_FUNCTION_ARGS)
{
	LinRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LINREG, ParseLinReg);

	uba_read_features(PG_GETARG_ARRAYTYPE_P(1), m->x, m->d);
	PG_RETURN_FLOAT8(uba_linreg_score(fcinfo, m->x));
}

/* The prediction for the model in argument 0 of a row of its features (uba_predict) */
double
uba_linreg_score(FunctionCallInfo fcinfo, const double *x)
{
	LinRegModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_LINREG, ParseLinReg);
	double		y = m->intercept;

	for (int j = 0; j < m->d; j++)
		y += m->coef[j] * (m->scale ? (x[j] - m->mean[j]) / m->scale[j] : x[j]);
	return y;
}

/*
 * uba_linreg_coefficients(model): one row per coefficient, the intercept
 * first (feature 0), in input units and per standard deviation; for an
 * ordinary least squares fit (l2 = 0) also R's summary.lm statistics:
 * standard error, t and the two-sided p-value of Student's t.
 */
Datum
uba_linreg_coefficients(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LinRegModel *m;

	InitMaterializedSRF(fcinfo, 0);
	m = uba_model_cached(fcinfo, 0, UBA_KIND_LINREG, ParseLinReg);
	for (int j = -1; j < m->d; j++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, true, false, true, true, true, true};
		double		c,
					se = 0;

		if (j < 0)
		{
			if (!(m->flags & LINREG_FLAG_INTERCEPT))
				continue;
			c = m->scale ? uba_input_intercept(m->intercept, m->coef, m->mean, m->scale, m->d) : m->intercept;
			values[1] = CStringGetTextDatum("(intercept)");
			nulls[1] = false;
			if (m->se)
				se = m->se[m->d];
		}
		else
		{
			c = m->scale ? m->coef[j] / m->scale[j] : m->coef[j];
			if (m->names)
			{
				values[1] = CStringGetTextDatum(m->names[j]);
				nulls[1] = false;
			}
			/* per standard deviation of the feature: needs the scale */
			if (m->scale)
			{
				values[3] = Float8GetDatum(m->coef[j]);
				nulls[3] = false;
			}
			if (m->se)
				se = m->scale ? m->se[j] / m->scale[j] : m->se[j];
		}
		values[0] = Int32GetDatum(j + 1);
		values[2] = Float8GetDatum(c);
		if (m->se && se > 0)
		{
			double		t = c / se;

			values[4] = Float8GetDatum(se);
			values[5] = Float8GetDatum(t);
			values[6] = Float8GetDatum(uba_student_t_two_sided(t, (double) m->df));
			nulls[4] = nulls[5] = nulls[6] = false;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
