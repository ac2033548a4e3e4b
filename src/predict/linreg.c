/*-------------------------------------------------------------------------
 *
 * linreg.c
 *	  Ridge regression for numeric targets (order value, days to next
 *	  purchase): training aggregate, model payload and scoring.
 *
 * Objective: sum_i (y_i - b - w.x_i)^2 + l2 ||w||^2, intercept b not
 * penalized: scikit-learn's Ridge(alpha = l2).  It needs only the means and
 * co-moments of (x, y), so the aggregate state is O(d^2), not the rows:
 * each row updates them with Welford's method, parallel partial states are
 * combined with Chan's formula, and the final function solves one d x d
 * system by Cholesky.  The state is a bytea, not internal, so that Citus
 * splits the aggregate: each worker sends its moments, never its rows.  Standardizing (z-scores, population standard
 * deviation) is done on the co-moments, as StandardScaler + Ridge does on
 * the data.
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
 * Aggregate state: counts, means and co-moments, in one bytea (STYPE bytea,
 * so that Citus splits the aggregate: it ships states as text).  After the
 * varlena header and 4 bytes of padding (so that the doubles are aligned
 * where the state was allocated): LinRegHead, mean_x (d), cxy (d), delta
 * (d, scratch), cxx (d x d), the options as jsonb (compared with each
 * row's) and as JSON text (what the final function parses: a state can
 * come from outside, and the text is checked as it is parsed).
 */
#define LINREG_PAD 4

typedef struct LinRegHead
{
	int32		d;
	int32		optlen;			/* bytes of the options' jsonb, 0 for none */
	int32		textlen;		/* bytes of their text, with its terminating zero */
	int32		pad;
	int64		n;
	TimestampTz started;
	double		mean_y;
	double		cyy;
} LinRegHead;

/* A view of a state's parts */
typedef struct LinRegState
{
	bytea	   *blob;
	LinRegHead *h;
	double	   *mean_x;
	double	   *cxy;			/* sum (x - mean_x)(y - mean_y) */
	double	   *cxx;			/* sum (x - mean_x)(x - mean_x)^T */
	double	   *delta;			/* scratch, d */
	Jsonb	   *options;		/* NULL for none */
	const char *options_text;
} LinRegState;

/* Bytes of a state's arrays: mean_x, cxy, delta, cxx */
static Size
StateArrayBytes(int d)
{
	return mul_size(add_size(mul_size(3, d), mul_size(d, d)), sizeof(double));
}

/* Bytes of a whole state (its options' parts rounded up to 8) */
static Size
StateBytes(int d, int optlen, int textlen)
{
	return add_size(add_size(VARHDRSZ + LINREG_PAD + sizeof(LinRegHead), StateArrayBytes(d)),
					TYPEALIGN(8, optlen) + TYPEALIGN(8, textlen));
}

static void
View(bytea *b, LinRegState *s)
{
	char	   *p = VARDATA(b) + LINREG_PAD;
	int			d;

	s->blob = b;
	s->h = (LinRegHead *) p;
	d = s->h->d;
	p += sizeof(LinRegHead);
	s->mean_x = (double *) p;
	s->cxy = s->mean_x + d;
	s->delta = s->cxy + d;
	s->cxx = s->delta + d;
	p += StateArrayBytes(d);
	s->options = s->h->optlen > 0 ? (Jsonb *) p : NULL;
	p += TYPEALIGN(8, s->h->optlen);
	s->options_text = s->h->textlen > 0 ? p : NULL;
}

/* A zeroed state for d features */
static void
NewState(FunctionCallInfo fcinfo, int d, Jsonb *options, LinRegState *s)
{
	int			optlen = options ? VARSIZE(options) : 0;
	char	   *text = options ? JsonbToCString(NULL, &options->root, VARSIZE(options)) : NULL;
	int			textlen = text ? (int) strlen(text) + 1 : 0;
	Size		bytes;
	bytea	   *b;

	uba_check_memory(StateArrayBytes(d), "linear regression training");
	bytes = StateBytes(d, optlen, textlen);
	if (bytes > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("linear regression state over 1 GB")));
	b = MemoryContextAllocZero(uba_state_context(fcinfo), bytes);
	SET_VARSIZE(b, bytes);
	((LinRegHead *) (VARDATA(b) + LINREG_PAD))->d = d;
	((LinRegHead *) (VARDATA(b) + LINREG_PAD))->optlen = optlen;
	((LinRegHead *) (VARDATA(b) + LINREG_PAD))->textlen = textlen;
	View(b, s);
	s->h->started = GetCurrentTimestamp();
	if (optlen > 0)
	{
		memcpy(s->options, options, optlen);
		memcpy((char *) s->options_text, text, textlen);
	}
}

/*
 * The state of argument n, checked: its sizes agree, and its copy is taken
 * when it is not the aggregate's own (outside an aggregate, or not aligned
 * as uba allocates it, as after Citus's text form).
 */
static bool
StateArg(FunctionCallInfo fcinfo, int n, LinRegState *s)
{
	bytea	   *b;
	LinRegHead	h;

	uba_check_bytea_state(fcinfo);
	if (PG_ARGISNULL(n))
		return false;
	b = PG_GETARG_BYTEA_P(n);
	if (VARSIZE(b) < VARHDRSZ + LINREG_PAD + sizeof(LinRegHead))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a linear regression training state")));
	memcpy(&h, VARDATA(b) + LINREG_PAD, sizeof(h));
	if (h.d < 1 || h.d > LINREG_MAX_FEATURES || h.optlen < 0 || h.optlen > 1024 * 1024 ||
		h.textlen < 0 || h.textlen > 1024 * 1024 || (h.optlen == 0) != (h.textlen == 0) || h.n < 0 ||
		VARSIZE(b) != StateBytes(h.d, h.optlen, h.textlen) ||
		(h.textlen > 0 && ((char *) VARDATA(b))[VARSIZE(b) - VARHDRSZ - TYPEALIGN(8, h.textlen) + h.textlen - 1] != '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a linear regression training state")));
	if (!AggCheckCallContext(fcinfo, NULL) || ((uintptr_t) (VARDATA(b) + LINREG_PAD)) % 8 != 0)
	{
		bytea	   *copy = MemoryContextAlloc(uba_state_context(fcinfo), VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		b = copy;
	}
	View(b, s);
	return true;
}

/* The options as parsed from their text (never trust a state's jsonb bytes to be well formed) */
static Jsonb *
OptionsOf(const LinRegState *s)
{
	if (s->options_text == NULL)
		return NULL;
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s->options_text)));
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
	double		rss = intercept ? s->h->cyy : s->h->cyy + (double) s->h->n * s->h->mean_y * s->h->mean_y;
	double		sigma2;
	double	   *A = palloc(sizeof(double) * d * d);
	double	   *diag = palloc(sizeof(double) * d);

	for (int j = 0; j < d; j++)
		rss -= w[j] * rhs0[j];
	*df = s->h->n - d - (intercept ? 1 : 0);
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
		se[d] = sqrt(sigma2 * (1.0 / (double) s->h->n + uz));
	}
	for (int j = 0; j <= d; j++)
		if (!isfinite(se[j]))
			return false;
	return true;
}

static void AddRow(LinRegState *s, double y);

/* uba_linreg_train(target, features [, options]) transition: update the moments */
Datum
uba_linreg_transfn(PG_FUNCTION_ARGS)
{
	LinRegState st;
	LinRegState *s = StateArg(fcinfo, 0, &st) ? &st : NULL;
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	ArrayType  *features;
	double		y;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(s->blob);
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
		NewState(fcinfo, n_features, opts, &st);
		s = &st;
	}
	else
		uba_check_same_options(s->options, opts);
	uba_read_features(features, s->delta, s->h->d);
	AddRow(s, y);
	PG_RETURN_BYTEA_P(s->blob);
}

/*
 * Add a row (its features already in s->delta) to the moments.  Welford:
 * delta = x - old mean; C += delta (x - new mean)^T, upper triangle.
 */
static void
AddRow(LinRegState *s, double y)
{
	int			d = s->h->d;
	double		dy;

	s->h->n++;
	for (int j = 0; j < d; j++)
	{
		double		x = s->delta[j];

		s->delta[j] = x - s->mean_x[j];
		s->mean_x[j] += s->delta[j] / (double) s->h->n;
	}
	dy = y - s->h->mean_y;
	s->h->mean_y += dy / (double) s->h->n;
	s->h->cyy += dy * (y - s->h->mean_y);
	{
		double		f = (double) (s->h->n - 1) / (double) s->h->n;

		/* delta (x - new mean) = delta delta (n - 1) / n */
		for (int j = 0; j < d; j++)
		{
			double		dj = s->delta[j] * f;
			double	   *row = s->cxx + (Size) j * d;

			s->cxy[j] += dj * dy;
			for (int k = j; k < d; k++)
				row[k] += dj * s->delta[k];
		}
	}
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
	NewState(fcinfo, rs->dim, rs->options, &st);
	s = &st;
	s->h->started = rs->started;
	for (int64 i = 0; i < rs->n; i++)
	{
		memcpy(s->delta, rs->x + (Size) i * rs->dim, sizeof(double) * rs->dim);
		AddRow(s, rs->y[i]);
		if ((i & 65535) == 65535)
			CHECK_FOR_INTERRUPTS();
	}
	return Finish(fcinfo, s, rs->enc);
}

/* Combine two partial states (Chan's formula) */
Datum
uba_linreg_combine(PG_FUNCTION_ARGS)
{
	LinRegState sa,
				sb;
	LinRegState *a = StateArg(fcinfo, 0, &sa) ? &sa : NULL;
	LinRegState *b = StateArg(fcinfo, 1, &sb) ? &sb : NULL;
	int			d;
	double		n,
				f,
				dy;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(a->blob);
	}
	if (a == NULL)
		PG_RETURN_BYTEA_P(b->blob);
	d = a->h->d;
	if (b->h->d != d)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array has %d elements, expected %d", b->h->d, d),
				 errhint("Every row, and every call scoring a model, must pass the same number of features the model was trained on.")));
	uba_check_same_options(a->options, b->options);
	if (b->h->n == 0)
		PG_RETURN_BYTEA_P(a->blob);
	n = (double) (a->h->n + b->h->n);
	f = (double) a->h->n * (double) b->h->n / n;
	for (int j = 0; j < d; j++)
		a->delta[j] = b->mean_x[j] - a->mean_x[j];
	dy = b->h->mean_y - a->h->mean_y;
	for (int j = 0; j < d; j++)
	{
		for (int k = j; k < d; k++)
			a->cxx[(Size) j * d + k] += b->cxx[(Size) j * d + k] + a->delta[j] * a->delta[k] * f;
		a->cxy[j] += b->cxy[j] + a->delta[j] * dy * f;
		a->mean_x[j] += a->delta[j] * ((double) b->h->n / n);
	}
	a->h->cyy += b->h->cyy + dy * dy * f;
	a->h->mean_y += dy * ((double) b->h->n / n);
	a->h->n += b->h->n;
	a->h->started = Min(a->h->started, b->h->started);
	PG_RETURN_BYTEA_P(a->blob);
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

	if (!StateArg(fcinfo, 0, &st) || st.h->n == 0)
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

	uba_parse_row_options(OptionsOf(s), linreg_options, lengthof(linreg_options), "uba_linreg_train",
						  enc != NULL, UBA_ENC_ONEHOT, &o);
	intercept = uba_option(&o, "fit_intercept") != 0;
	standardize = uba_option(&o, "standardize") != 0;
	l2 = uba_option(&o, "l2");
	d = s->h->d;

	A = palloc(sizeof(double) * d * d);
	rhs = palloc(sizeof(double) * d);
	se = palloc0(sizeof(double) * (d + 1));
	for (int j = 0; j < d; j++)
		A[j] = s->cxx[(Size) j * d + j];	/* the co-moments' diagonal, for the check */
	uba_check_feature_scale(s->mean_x, A, d, enc ? enc->feature_names : o.names);
	if (standardize)
	{
		scale = palloc(sizeof(double) * d);
		for (int j = 0; j < d; j++)
		{
			scale[j] = sqrt(s->cxx[(Size) j * d + j] / (double) s->h->n);
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
			double		v = s->cxx[(Size) j * d + k];

			if (!intercept && !standardize)
				v += (double) s->h->n * s->mean_x[j] * s->mean_x[k];
			A[(Size) j * d + k] = v / (sj * sk) + (j == k ? l2 : 0);
		}
		rhs[j] = s->cxy[j];
		if (!intercept && !standardize)
			rhs[j] += (double) s->h->n * s->mean_x[j] * s->h->mean_y;
		rhs[j] /= sj;
	}
	/* ordinary least squares keeps what its statistics need: the system before it is solved */
	stats = l2 == 0 && (intercept || !standardize) && s->h->n > d + (intercept ? 1 : 0);
	if (stats)
	{
		A0 = palloc(sizeof(double) * d * d);
		rhs0 = palloc(sizeof(double) * d);
		memcpy(A0, A, sizeof(double) * d * d);
		memcpy(rhs0, rhs, sizeof(double) * d);
	}
	uba_progress(&o, "uba_linreg_train: solving the normal equations of %d features from " INT64_FORMAT " rows",
				 d, s->h->n);
	if (!uba_cholesky_solve(d, A, rhs))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the features are linearly dependent, so the least-squares problem has no unique solution"),
				 enc ? errdetail("A category's one-hot features add up to 1 in every row, as the intercept does.") : 0,
				 errhint("Set l2 above 0, or drop features that are combinations of others.")));
	if (intercept)
	{
		/* b = mean_y - mean_x . w in the fitting space (0 there when standardized) */
		b = s->h->mean_y;
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

	uba_model_meta_init(&meta, d, s->h->n, s->h->started, &o);
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
