/*-------------------------------------------------------------------------
 *
 * logreg_passes.c
 *	  Logistic regression trained by passes of statistics:
 *	  uba_logreg_train(query [, options]) for tables larger than memory and
 *	  for Citus.
 *
 * The fit is logreg.c's: the same objective, Newton's method with the
 * same line search and stopping rule, the same standard errors; only a
 * pass over the rows is a query here, the aggregate uba_logreg_pass with
 * the current coefficients as a model constant.  Its bytea state holds
 * the loss, the gradient (p) and the Hessian (p x p) sums: O(p^2) numbers
 * per pass, whatever the rows.  A first pass without a model returns the
 * row and class counts and the feature moments.  No warm start on a
 * sample (the in-memory trainer's shortcut for large inputs), so the path
 * to the optimum differs, not the optimum: coefficients agree to 1e-8.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "logreg.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(uba_logreg_pass_transfn);
PG_FUNCTION_INFO_V1(uba_logreg_pass_combine);
PG_FUNCTION_INFO_V1(uba_logreg_train_query);

#define PASS_MAGIC 0x75626C70	/* "ublp" */
#define PASS_WHAT "uba_logreg_pass"
#define MAX_PASS_FEATURES 10000

/* dims: features, parameters (0 for a moments pass) */
#define DIM_D 0
#define DIM_P 1

typedef struct PassView
{
	int			d,
				p;
	double	   *n;
	double	   *npos;
	double	   *loss;			/* with a model: the loss and its compensation (Neumaier) */
	double	   *loss_c;
	double	   *g;				/* p */
	double	   *H;				/* p x p, upper triangle */
	double	   *mean;			/* d, without a model */
	double	   *m2;				/* d */
} PassView;

static Size
ValuesFor(int d, int p)
{
	return p > 0 ? 4 + (Size) p + (Size) p * p : 2 + 2 * (Size) d;
}

static void
View(bytea *b, PassView *v)
{
	UbaPassHead *h = uba_pass_head(b);
	double	   *x = uba_pass_values(b);

	v->d = (int) h->dims[DIM_D];
	v->p = (int) h->dims[DIM_P];
	v->n = x++;
	v->npos = x++;
	v->loss = v->loss_c = v->g = v->H = v->mean = v->m2 = NULL;
	if (v->p > 0)
	{
		v->loss = x++;
		v->loss_c = x++;
		v->g = x;
		v->H = x + v->p;
	}
	else
	{
		v->mean = x;
		v->m2 = x + v->d;
	}
}

/* A well-formed state, checked against its dimensions and viewed */
static bytea *
Check(bytea *b, PassView *v)
{
	UbaPassHead *h = uba_pass_head(b);

	if (h->dims[DIM_D] < 1 || h->dims[DIM_D] > MAX_PASS_FEATURES ||
		(h->dims[DIM_P] != 0 && h->dims[DIM_P] != h->dims[DIM_D] && h->dims[DIM_P] != h->dims[DIM_D] + 1) ||
		(uint64) h->nvalues != ValuesFor((int) h->dims[DIM_D], (int) h->dims[DIM_P]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of %s", PASS_WHAT)));
	View(b, v);
	if (!(*v->n >= 0 && *v->npos >= 0 && *v->npos <= *v->n))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of %s", PASS_WHAT)));
	return b;
}

/* The state in argument argno, checked, or NULL */
static bytea *
StateArg(FunctionCallInfo fcinfo, int argno, PassView *v)
{
	bytea	   *b = uba_pass_state_arg(fcinfo, argno, PASS_MAGIC, PASS_WHAT);

	return b ? Check(b, v) : NULL;
}

/*
 * uba_logreg_pass(label, features, model) transition: add a row's loss,
 * gradient and Hessian terms at the model's coefficients, or without a
 * model its moments.
 */
Datum
uba_logreg_pass_transfn(PG_FUNCTION_ARGS)
{
	PassView	v;
	bytea	   *b = StateArg(fcinfo, 0, &v);
	LogRegModel *m = NULL;
	ArrayType  *a;
	double		y,
			   *x;
	int			d;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (b == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(b);
	}
	if (!PG_ARGISNULL(3))
	{
		m = uba_model_cached(fcinfo, 3, UBA_KIND_LOGREG, uba_logreg_parse);
		if (m->d > MAX_PASS_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s supports up to %d features", PASS_WHAT, MAX_PASS_FEATURES),
					 errdetail("Got %d.", m->d)));
	}
	a = PG_GETARG_ARRAYTYPE_P(2);
	if (b == NULL)
	{
		uint32		dims[5] = {0, 0, 0, 0, 0};

		d = m ? m->d : uba_feature_count(a);
		if (d > MAX_PASS_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s supports up to %d features", PASS_WHAT, MAX_PASS_FEATURES),
					 errdetail("Got %d.", d)));
		dims[DIM_D] = d;
		dims[DIM_P] = m ? d + ((m->flags & LOGREG_FLAG_INTERCEPT) ? 1 : 0) : 0;
		b = uba_pass_state_new(fcinfo, PASS_MAGIC, dims, ValuesFor(d, dims[DIM_P]),
							   "logistic regression pass");
		View(b, &v);
	}
	else if ((m == NULL) != (v.p == 0) || (m && m->d != v.d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model of %s must be the same for every row", PASS_WHAT)));
	d = v.d;
	x = palloc(sizeof(double) * d);
	uba_read_features(a, x, d);
	y = PG_GETARG_BOOL(1) ? 1.0 : 0.0;
	*v.n += 1;
	*v.npos += y;
	if (m == NULL)
	{
		for (int j = 0; j < d; j++)
		{
			double		delta = x[j] - v.mean[j];

			v.mean[j] += delta / *v.n;
			v.m2[j] += delta * (x[j] - v.mean[j]);
		}
	}
	else
	{
		double		z = m->intercept,
					loss,
					resid,
					root;
		int			p = v.p;

		for (int j = 0; j < d; j++)
		{
			if (m->standardized)
				x[j] = (x[j] - m->mean[j]) / m->scale[j];
			z += m->coef[j] * x[j];
		}
		uba_logreg_row_terms(&z, &y, 1, m->w_true, m->w_false, &loss, &resid, &root);
		/*
		 * Compensated: Newton's line search compares losses that differ by
		 * their last digits, so the sum must not add rounding of its own.
		 */
		uba_neumaier_add(v.loss, v.loss_c, loss);
		for (int j = 0; j < d; j++)
			v.g[j] += resid * x[j];
		if (p > d)
			v.g[d] += resid;
		if (PG_NARGS() > 4 && !PG_ARGISNULL(4) && PG_GETARG_BOOL(4))
		{
			double		q2 = root * root;

			for (int j = 0; j < d; j++)
			{
				double		xj = q2 * x[j];
				double	   *row = v.H + (Size) j * p;

				for (int k = j; k < d; k++)
					row[k] += xj * x[k];
				if (p > d)
					row[d] += xj;
			}
			if (p > d)
				v.H[(Size) d * p + d] += q2;
		}
	}
	pfree(x);
	PG_RETURN_BYTEA_P(b);
}

/* Combine two pass states (parallel workers, Citus shards) */
Datum
uba_logreg_pass_combine(PG_FUNCTION_ARGS)
{
	PassView	a,
				o;
	bytea	   *ba = StateArg(fcinfo, 0, &a);
	bytea	   *bo = StateArg(fcinfo, 1, &o);
	bytea	   *trivial;
	double		n;

	if (uba_pass_combine_nulls(fcinfo, ba, bo, &trivial))
	{
		if (trivial == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(trivial);
	}
	if (a.d != o.d || a.p != o.p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine states of %s of different shapes", PASS_WHAT)));
	n = *a.n + *o.n;
	if (a.p == 0)
	{
		if (n > 0)
			for (int j = 0; j < a.d; j++)
			{
				/* Chan et al.'s pairwise update */
				double		delta = o.mean[j] - a.mean[j];

				a.m2[j] += o.m2[j] + delta * delta * *a.n * *o.n / n;
				a.mean[j] += delta * *o.n / n;
			}
	}
	else
	{
		uba_neumaier_add(a.loss, a.loss_c, *o.loss);
		uba_neumaier_add(a.loss, a.loss_c, *o.loss_c);
		for (int j = 0; j < a.p; j++)
			a.g[j] += o.g[j];
		for (Size i = 0; i < (Size) a.p * a.p; i++)
			a.H[i] += o.H[i];
	}
	*a.n = n;
	*a.npos += *o.npos;
	PG_RETURN_BYTEA_P(ba);
}

/* ---------- the driver ---------- */

typedef struct Remote
{
	UbaPassQuery pq;
	int			d;
	int			p;
} Remote;

/* A pass as a query: see UbaLogRegRemote */
static double
RunRemote(void *arg, bytea *model, double *g, double *H)
{
	Remote	   *r = (Remote *) arg;
	Datum		params[2];
	bool		nulls[2] = {false, false};
	bytea	   *st;
	PassView	v;
	double		loss;

	params[0] = PointerGetDatum(model);
	params[1] = BoolGetDatum(H != NULL);
	st = uba_pass_query_run(&r->pq, params, nulls);
	if (st == NULL)
		elog(ERROR, "uba_logreg_train: the rows vanished between passes");
	st = Check(uba_pass_state_own(st, PASS_MAGIC, PASS_WHAT), &v);
	if (v.d != r->d || v.p != r->p)
		elog(ERROR, "uba_logreg_train: a pass returned a state of another shape");
	loss = *v.loss + *v.loss_c;
	if (g)
		memcpy(g, v.g, sizeof(double) * v.p);
	if (H)
		memcpy(H, v.H, sizeof(double) * v.p * v.p);
	pfree(st);
	return loss;
}

/* uba_logreg_train(query [, options]): logistic regression by passes over (label, features) rows */
Datum
uba_logreg_train_query(PG_FUNCTION_ARGS)
{
	static const char *const colnames[] = {"the label", "the features"};
	Oid			coltypes[2] = {BOOLOID, FLOAT8ARRAYOID};
	Oid			paramtypes[2] = {BYTEAOID, BOOLOID};
	TimestampTz started = GetCurrentTimestamp();
	UbaOptions	o;
	Remote		r;
	PassView	v;
	bytea	   *st,
			   *result;
	double	   *var;
	int64		n;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the query of uba_logreg_train must not be NULL")));
	uba_logreg_options(PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), &o);
	uba_pass_query_open(&r.pq, fcinfo, "uba_logreg_train", text_to_cstring(PG_GETARG_TEXT_PP(0)),
						2, coltypes, colnames, "uba_logreg_pass", 2, paramtypes);
	{
		Datum		params[2] = {0, BoolGetDatum(false)};
		bool		nulls[2] = {true, false};

		st = uba_pass_query_run(&r.pq, params, nulls);
	}
	if (st == NULL)
	{
		uba_pass_query_close(&r.pq);
		PG_RETURN_NULL();
	}
	st = Check(uba_pass_state_own(st, PASS_MAGIC, PASS_WHAT), &v);
	r.d = v.d;
	r.p = v.d + (uba_option(&o, "fit_intercept") != 0 ? 1 : 0);
	n = (int64) *v.n;
	uba_options_check_names(&o, r.d);
	var = palloc(sizeof(double) * r.d);
	for (int j = 0; j < r.d; j++)
		var[j] = v.m2[j] / (double) n;
	result = uba_logreg_fit_by_passes(&o, r.d, n, (int64) *v.npos, v.mean, var, RunRemote, &r, started);
	uba_progress(&o, "uba_logreg_train: %d passes over the rows", r.pq.passes);
	uba_pass_query_close(&r.pq);
	PG_RETURN_BYTEA_P(result);
}
