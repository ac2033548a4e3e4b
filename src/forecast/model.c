/*-------------------------------------------------------------------------
 *
 * model.c
 *	  The forecast model's format: what is stored, how it is read back and
 *	  checked, and what is derived from it.
 *
 * Payload: method (u32), form code (u32, fc_ets_code; intermittent
 * methods ETS(A,N,N)), the data's season length (u32), period (u32),
 * flags (u32: 1 converged, 2 gaps are missing, 4 constant series),
 * optimizer iterations (u32), first period's date (u64, a DateADT),
 * periods n (u64), alpha, beta, gamma, phi (f64), initial states
 * (f64 x 2 + m), the series (f64 x n, NaN where missing), candidates
 * (u32 count, then code u32 and criterion f64 each).
 *
 * Only the parameters, starting states and the series are stored: the
 * states after the last period, the fitted values and the criteria are
 * recomputed when the model is read, so a model cannot disagree with
 * itself.
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"
#include "kinds.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "utils/datetime.h"
#include "utils/float.h"

#define FLAG_CONVERGED 1
#define FLAG_GAPS_MISSING 2
#define FLAG_CONSTANT 4

static const char *const method_names[] = {"", "ets", "croston", "sba", "tsb"};

const char *
fc_method_name(const FcModel *model)
{
	return method_names[model->method];
}

/*
 * Everything derived from the stored fields: fitted values, the states
 * after the last period, the error variance and the criteria.  False when
 * the parameters leave the model's domain on its own series.
 */
static bool
Replay(FcModel *model)
{
	int64		nobs = 0,
				ncount = 0;
	double		sse = 0,
				sae = 0,
				scale = 0;
	int64		nscale = 0;
	int			lag;

	model->fitted = palloc(sizeof(double) * model->n);
	if (model->method == FC_ETS)
	{
		double		sumlog;
		int			k = fc_ets_nparams(&model->form);
		double		lik = fc_ets_run(&model->form, &model->init, model->y, model->n, model->fitted,
									 &model->last, &sse, &sumlog, &nobs);

		if (!isfinite(lik))
			return false;
		model->np = k + 1;
		if (model->constant)
		{
			model->sigma2 = 0;
			model->loglik = model->aic = model->aicc = model->bic = get_float8_nan();
		}
		else
		{
			model->sigma2 = nobs > k ? sse / (double) (nobs - k) : get_float8_nan();
			model->loglik = -0.5 * lik;
			model->aic = lik + 2 * model->np;
			model->aicc = nobs > model->np + 1 ?
				model->aic + 2.0 * model->np * (model->np + 1) / (double) (nobs - model->np - 1) :
				get_float8_nan();
			model->bic = lik + model->np * log((double) nobs);
		}
	}
	else
	{
		double		s2 = 0;
		int64		cnt = 0;

		fc_intermittent_replay(model);
		for (int64 t = 0; t < model->n; t++)
			if (!isnan(model->y[t]) && !isnan(model->fitted[t]))
			{
				s2 += (model->y[t] - model->fitted[t]) * (model->y[t] - model->fitted[t]);
				cnt++;
			}
		/* Croston's interval is a period or more; TSB's probability may decay to 0 (with beta 1) */
		if (!isfinite(model->last.state[0]) || !isfinite(model->last.state[1]) ||
			!(model->method == FC_TSB ? model->last.state[1] >= 0 : model->last.state[1] > 0))
			return false;
		model->sigma2 = cnt > 0 ? s2 / cnt : 0;
		model->np = model->method == FC_TSB ? 2 : 1;
		if (!fc_intermittent_sizes(model))
			return false;
		model->loglik = model->aic = model->aicc = model->bic = get_float8_nan();
	}
	/* accuracy in the sample, and MASE's scale: the seasonal naive method's mean absolute error */
	sse = 0;
	for (int64 t = 0; t < model->n; t++)
		if (!isnan(model->y[t]) && !isnan(model->fitted[t]))
		{
			double		e = model->y[t] - model->fitted[t];

			sse += e * e;
			sae += fabs(e);
			ncount++;
		}
	lag = model->frequency < model->n ? model->frequency : 1;
	for (int64 t = lag; t < model->n; t++)
		if (!isnan(model->y[t]) && !isnan(model->y[t - lag]))
		{
			scale += fabs(model->y[t] - model->y[t - lag]);
			nscale++;
		}
	model->rmse = ncount > 0 ? sqrt(sse / ncount) : get_float8_nan();
	model->mae = ncount > 0 ? sae / ncount : get_float8_nan();
	model->mase = nscale > 0 && scale > 0 && ncount > 0 ? model->mae / (scale / nscale) : get_float8_nan();
	return isfinite(model->sigma2) && model->sigma2 >= 0;
}

/* After training: derive, or fail with the user's error (the fit left the domain) */
void
fc_model_stats(FcModel *model)
{
	if (!Replay(model))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the fitted %s model does not give finite forecasts for its series", fc_method_name(model)),
				 errhint("Use another method or model form (\"model\": \"ANN\" is the simplest).")));
}

bytea *
fc_model_write(const FcModel *model, const UbaModelMeta *meta)
{
	UbaWriter	w;
	int			m = model->form.season != FC_NONE ? model->form.m : 1;
	uint32		flags = (model->converged ? FLAG_CONVERGED : 0) |
		(model->gaps_missing ? FLAG_GAPS_MISSING : 0) | (model->constant ? FLAG_CONSTANT : 0);

	uba_writer_init(&w);
	uba_put_u32(&w, (uint32) model->method);
	uba_put_u32(&w, fc_ets_code(&model->form));
	uba_put_u32(&w, (uint32) model->frequency);
	uba_put_u32(&w, (uint32) model->period);
	uba_put_u32(&w, flags);
	uba_put_u32(&w, (uint32) model->iterations);
	uba_put_u64(&w, (uint64) (int64) model->first);
	uba_put_u64(&w, (uint64) model->n);
	uba_put_f64(&w, model->init.alpha);
	uba_put_f64(&w, model->init.beta);
	uba_put_f64(&w, model->init.gamma);
	uba_put_f64(&w, model->init.phi);
	uba_put_f64_array(&w, model->init.state, 2 + m);
	uba_put_f64_array(&w, model->y, model->n);
	uba_put_u32(&w, (uint32) model->ncand);
	for (int i = 0; i < model->ncand; i++)
	{
		uba_put_u32(&w, model->cand[i]);
		uba_put_f64(&w, model->cand_ic[i]);
	}
	return uba_model_build(UBA_KIND_FORECAST, meta, &w);
}

/*
 * Do the periods from first, n of them and the longest forecast after
 * them, start on days a timestamp can hold (the forecast's times)?
 */
bool
fc_valid_span(DateADT first, int period, int64 n)
{
	int64		lo = (int64) DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE;
	int64		hi = (int64) TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE;
	DateADT		last;

	if (first < lo || first >= hi)
		return false;
	last = fc_period_step(first, period, n + FC_MAX_HORIZON);
	return last >= lo && last < hi;
}

static void
CheckRange(double v, double lo, double hi, const char *what)
{
	if (!(v >= lo && v <= hi))
		uba_model_corrupted("The forecast model's %s %g is outside [%g, %g].", what, v, lo, hi);
}

void *
uba_forecast_parse(const UbaModelMeta *meta, UbaReader *r)
{
	FcModel    *model = palloc0(sizeof(FcModel));
	uint32		flags;
	int64		first,
				n;
	int			m;
	int64		nobs = 0;

	model->method = (int) uba_get_u32(r);
	if (model->method < FC_ETS || model->method > FC_TSB)
		uba_model_corrupted("Unknown forecasting method %d.", model->method);
	fc_ets_decode(uba_get_u32(r), &model->form);
	if (model->method != FC_ETS && fc_ets_code(&model->form) != fc_ets_code(&fc_simple_form))
		uba_model_corrupted("An intermittent-demand model with a smoothing form.");
	model->frequency = (int) uba_get_u32(r);
	model->period = (int) uba_get_u32(r);
	flags = uba_get_u32(r);
	model->iterations = (int) uba_get_u32(r);
	if (model->frequency < 1 || model->frequency > 1000 || model->period < FC_DAY ||
		model->period > FC_YEAR || (flags & ~(uint32) 7) != 0 || model->iterations < 0)
		uba_model_corrupted("Forecast model settings out of range.");
	model->converged = (flags & FLAG_CONVERGED) != 0;
	model->gaps_missing = (flags & FLAG_GAPS_MISSING) != 0;
	model->constant = (flags & FLAG_CONSTANT) != 0;
	first = (int64) uba_get_u64(r);
	n = (int64) uba_get_u64(r);
	if (n < 1 || n > FC_MAX_PERIODS || !fc_valid_span((DateADT) Max(Min(first, PG_INT32_MAX), PG_INT32_MIN),
													   model->period, n) ||
		fc_period_start((DateADT) first, model->period) != first)
		uba_model_corrupted("The forecast model's periods are out of range.");
	model->first = (DateADT) first;
	model->n = n;
	model->init.alpha = uba_get_finite_f64(r);
	model->init.beta = uba_get_finite_f64(r);
	model->init.gamma = uba_get_finite_f64(r);
	model->init.phi = uba_get_finite_f64(r);
	if (model->method == FC_ETS)
	{
		CheckRange(model->init.alpha, 1e-4, 0.9999, "alpha");
		CheckRange(model->init.beta, model->form.trend != FC_NONE ? 1e-4 : 0,
				   model->form.trend != FC_NONE ? model->init.alpha : 0, "beta");
		CheckRange(model->init.gamma, model->form.season != FC_NONE ? 1e-4 : 0,
				   model->form.season != FC_NONE ? Max(1e-4, 1 - model->init.alpha) : 0, "gamma");
		if (model->form.trend == FC_DAMPED)
			CheckRange(model->init.phi, 0.8, 0.98, "phi");
		else
			CheckRange(model->init.phi, 1, 1, "phi");
	}
	else
	{
		CheckRange(model->init.alpha, 1e-6, 1, "alpha");
		CheckRange(model->init.beta, model->method == FC_TSB ? 1e-6 : 0, model->method == FC_TSB ? 1 : 0, "beta");
		CheckRange(model->init.gamma, 0, 0, "gamma");
		CheckRange(model->init.phi, 1, 1, "phi");
	}
	m = model->form.m;
	uba_get_f64_array(r, model->init.state, 2 + m, true);
	if (model->method == FC_TSB)
	{
		if (!(model->init.state[0] > 0) || !(model->init.state[1] > 0 && model->init.state[1] <= 1))
			uba_model_corrupted("TSB's starting size or probability is out of range.");
	}
	else if (model->method != FC_ETS && (model->init.state[0] != 0 || model->init.state[1] != 0))
		uba_model_corrupted("Croston's method has no stored starting states.");
	if (model->method == FC_ETS && model->form.trend == FC_NONE && model->init.state[1] != 0)
		uba_model_corrupted("A trend state in a model without a trend.");
	uba_reader_check_space(r, (Size) n, sizeof(double));
	model->y = palloc(sizeof(double) * n);
	uba_get_f64_array(r, model->y, n, false);
	for (int64 t = 0; t < n; t++)
	{
		if (isinf(model->y[t]))
			uba_model_corrupted("An infinite value in the forecast model's series.");
		if (!isnan(model->y[t]))
			nobs++;
		else if (!model->gaps_missing)
			uba_model_corrupted("A missing period in a series whose gaps are zero.");
	}
	if (nobs == 0)
		uba_model_corrupted("The forecast model's series has no observed period.");
	model->ncand = (int) uba_get_u32(r);
	if (model->ncand < 0 || model->ncand > 18)
		uba_model_corrupted("The forecast model lists %d candidate forms.", model->ncand);
	model->cand = palloc(sizeof(uint32) * Max(model->ncand, 1));
	model->cand_ic = palloc(sizeof(double) * Max(model->ncand, 1));
	for (int i = 0; i < model->ncand; i++)
	{
		EtsForm		f;

		model->cand[i] = uba_get_u32(r);
		fc_ets_decode(model->cand[i], &f);
		model->cand_ic[i] = uba_get_finite_f64(r);
	}
	if (meta->n_features != 1)
		uba_model_corrupted("A forecast model has %d inputs, not 1.", meta->n_features);
	uba_reader_finish(r);
	if (!Replay(model))
		uba_model_corrupted("The forecast model's parameters do not give finite forecasts for its series.");
	return model;
}

/* "key": v into a JSON object (null when not finite), after a comma unless first */
void
fc_json_number(StringInfo s, const char *key, double v, bool *first)
{
	appendStringInfo(s, "%s\"%s\": ", *first ? "" : ", ", key);
	if (isfinite(v))
		appendStringInfo(s, "%.17g", v);
	else
		appendStringInfoString(s, "null");
	*first = false;
}

/* The smoothing parameters the model's method and form have */
void
fc_json_smoothing(StringInfo s, const FcModel *model, bool *first)
{
	fc_json_number(s, "alpha", model->init.alpha, first);
	if (model->method == FC_TSB || model->form.trend != FC_NONE)
		fc_json_number(s, "beta", model->init.beta, first);
	if (model->form.season != FC_NONE)
		fc_json_number(s, "gamma", model->init.gamma, first);
	if (model->form.trend == FC_DAMPED)
		fc_json_number(s, "phi", model->init.phi, first);
}

void
uba_forecast_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	FcModel    *model = uba_forecast_parse(meta, payload);
	bool		first = false;	/* the core wrote the object's first members */

	appendStringInfo(json, ", \"method\": \"%s\"", fc_method_name(model));
	if (model->method == FC_ETS)
		appendStringInfo(json, ", \"form\": \"%s\"", fc_ets_name(&model->form));
	appendStringInfo(json, ", \"period\": \"%s\", \"season_length\": %d, \"periods\": " INT64_FORMAT,
					 fc_period_names[model->period], model->frequency, model->n);
	fc_json_smoothing(json, model, &first);
	fc_json_number(json, "sigma2", model->sigma2, &first);
	fc_json_number(json, "aicc", model->aicc, &first);
	fc_json_number(json, "mase", model->mase, &first);
	appendStringInfo(json, ", \"converged\": %s", model->converged ? "true" : "false");
}
