/*-------------------------------------------------------------------------
 *
 * serve.c
 *	  Reading a forecast model: the forecast with its prediction intervals,
 *	  and what the model is (uba_forecast_info).
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_forecast);
PG_FUNCTION_INFO_V1(uba_forecast_info);
PG_FUNCTION_INFO_V1(uba_forecast_anomalies);


static Datum
PeriodStart(const FcModel *model, int64 step)
{
	DateADT		d = fc_period_step(model->first, model->period, step);

	return DirectFunctionCall1(date_timestamptz, DateADTGetDatum(d));
}

/* The levels asked for, in percent (all below 1: fractions, as R's forecast reads them) */
int
fc_levels(ArrayType *a, double *levels)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		fractions = true;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("levels must be a one-dimensional array")));
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n < 1 || n > FC_MAX_LEVELS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("give from 1 to %d levels for the prediction intervals", FC_MAX_LEVELS),
				 errdetail("Got %d.", n)));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("levels of prediction intervals must not be NULL")));
		levels[i] = DatumGetFloat8(elems[i]);
		if (!(levels[i] > 0 && levels[i] < 100))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("levels of prediction intervals must be between 0 and 100 percent"),
					 errdetail("Got %g.", levels[i]),
					 errhint("95 asks for the 95%% interval.")));
		fractions = fractions && levels[i] < 1;
	}
	if (fractions)
		for (int i = 0; i < n; i++)
			levels[i] *= 100;
	return n;
}

/* The p-quantile of sorted values (R's type 7, as quantile() in forecast's simulations) */
double
fc_sorted_quantile(const double *sorted, int64 n, double p)
{
	double		h = (n - 1) * p;
	int64		lo = (int64) floor(h);

	if (lo >= n - 1)
		return sorted[n - 1];
	return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

/* The share of sorted values below x, ties counted half */
double
fc_sorted_cdf(const double *sorted, int64 n, double x)
{
	int64		lo = 0,
				hi = n,
				below;

	while (lo < hi)
	{
		int64		mid = (lo + hi) / 2;

		if (sorted[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	below = lo;
	hi = n;
	while (lo < hi)
	{
		int64		mid = (lo + hi) / 2;

		if (sorted[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (below + 0.5 * (lo - below)) / n;
}

/* The simulation's seed: the model's, so its intervals never change */
static uint64
SimulationSeed(const FcModel *model)
{
	return (uint64) model->n * 0x9E3779B97F4A7C15ULL ^ (uint64) (int64) model->first;
}

/* Sorted copies of each step's simulated values (paths: npaths x h, row-major) into cols (h x npaths) */
static void
SortSteps(const double *paths, int npaths, int h, double *cols)
{
	for (int k = 0; k < h; k++)
	{
		double	   *col = cols + (Size) k * npaths;

		for (int i = 0; i < npaths; i++)
			col[i] = paths[(Size) i * h + k];
		qsort(col, npaths, sizeof(double), uba_cmp_double);
		if ((k & 0xF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * What the model says about steps 1..h after the series (cumulative: about
 * the totals of steps 1..k): the means, and the spread the intervals come
 * from.  sd holds normal standard deviations where those intervals are
 * exact (0 without spread), NaN for the intermittent methods (their
 * mixture's quantiles).  The other intervals are simulated: then the
 * result is each step's simulated values, sorted (h x FC_PATHS, in cxt),
 * else NULL.
 */
static double *
StepDistributions(FcModel *model, int h, bool cumulative, MemoryContext cxt, double *mean, double *sd)
{
	bool		intermittent = model->method != FC_ETS;
	bool		simulate;
	double	   *paths,
			   *sorted;

	if (intermittent)
		fc_intermittent_forecast(model, h, mean, sd);
	else
		fc_ets_forecast(model, h, mean, sd);
	if (cumulative)
	{
		for (int k = 1; k < h; k++)
			mean[k] += mean[k - 1];
		simulate = intermittent || !fc_ets_cumulative_sd(model, h, sd);
	}
	else
		simulate = !intermittent && fc_ets_simulated_class(&model->form);
	/* nothing to simulate without spread (a demand mixture always has some) */
	if (!intermittent && (model->sigma2 == 0 || model->constant))
	{
		for (int k = 0; k < h; k++)
			sd[k] = 0;
		simulate = false;
	}
	if (!simulate)
		return NULL;
	uba_check_memory(mul_size(mul_size(2 * FC_PATHS, h), sizeof(double)), "simulating forecasts");
	paths = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * FC_PATHS * (Size) h);
	if (intermittent)
		fc_intermittent_simulate(model, h, FC_PATHS, SimulationSeed(model), paths);
	else
		fc_ets_simulate(model, h, FC_PATHS, SimulationSeed(model), paths);
	if (cumulative)
		for (int i = 0; i < FC_PATHS; i++)
			for (int k = 1; k < h; k++)
				paths[(Size) i * h + k] += paths[(Size) i * h + k - 1];
	sorted = MemoryContextAllocHuge(cxt, sizeof(double) * FC_PATHS * (Size) h);
	SortSteps(paths, FC_PATHS, h, sorted);
	pfree(paths);
	return sorted;
}

/*
 * A step's interval leaving tail on each side, and (when prob is given) the
 * anomaly probability |2F(x) - 1| of x: from the simulated values (sorted,
 * FC_PATHS of them), the demand mixture, or the normal.
 */
static void
StepInterval(const FcModel *model, double mean, double sd, const double *sorted, double tail,
			 double x, double *lo, double *hi, double *prob)
{
	if (sorted)
	{
		*lo = fc_sorted_quantile(sorted, FC_PATHS, tail);
		*hi = fc_sorted_quantile(sorted, FC_PATHS, 1 - tail);
		if (prob)
			*prob = fabs(2 * fc_sorted_cdf(sorted, FC_PATHS, x) - 1);
	}
	else if (model->method != FC_ETS)
	{
		*lo = fc_intermittent_quantile(model, mean, tail);
		*hi = fc_intermittent_quantile(model, mean, 1 - tail);
		if (prob)
			*prob = fabs(2 * fc_intermittent_cdf(model, mean, x) - 1);
	}
	else
	{
		double		z = uba_norm_quantile(1 - tail);

		*lo = mean - z * sd;
		*hi = mean + z * sd;
		if (prob)
			*prob = sd > 0 ? fabs(erf((x - mean) / (sd * M_SQRT2))) : (x == mean ? 0 : 1);
	}
}

/*
 * uba_forecast(model, horizon [, levels [, cumulative]]): one row per step
 * and level: the period's start, the step, the forecast, the level and
 * the interval.  Cumulative: the forecast and interval of the total of
 * steps 1..k, what a reorder quantity needs over a lead time.
 *
 * Intervals: additive exponential smoothing is normal with exact
 * variances (step or total); multiplicative errors with additive
 * components are normal for a step; the intermittent methods' step is
 * their mixture's exact quantiles; everything else (a multiplicative
 * season; totals other than class 1's) is simulated, FC_PATHS futures
 * seeded by the model.
 */
Datum
uba_forecast(PG_FUNCTION_ARGS)
{
	FcModel    *model = uba_model_cached(fcinfo, 0, UBA_KIND_FORECAST, uba_forecast_parse);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		h = PG_GETARG_INT32(1);
	bool		cumulative = PG_NARGS() > 3 && PG_GETARG_BOOL(3);
	double		levels[FC_MAX_LEVELS];
	int			nlev;
	double	   *mean,
			   *sd,
			   *sorted;

	if (h < 1 || h > FC_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the horizon must be from 1 to %d periods", FC_MAX_HORIZON),
				 errdetail("Got %d.", h)));
	nlev = fc_levels(PG_GETARG_ARRAYTYPE_P(2), levels);
	InitMaterializedSRF(fcinfo, 0);
	mean = palloc(sizeof(double) * h);
	sd = palloc(sizeof(double) * h);
	sorted = StepDistributions(model, h, cumulative, CurrentMemoryContext, mean, sd);
	for (int k = 0; k < h; k++)
	{
		for (int j = 0; j < nlev; j++)
		{
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};
			double		tail = (1 - levels[j] / 100) / 2;
			double		lo,
						hi;

			StepInterval(model, mean[k], sd[k], sorted ? sorted + (Size) k * FC_PATHS : NULL, tail, 0,
						 &lo, &hi, NULL);
			values[0] = PeriodStart(model, model->n + k);
			values[1] = Int32GetDatum(k + 1);
			values[2] = Float8GetDatum(mean[k]);
			values[3] = Float8GetDatum(levels[j]);
			values[4] = Float8GetDatum(lo);
			values[5] = Float8GetDatum(hi);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		if ((k & 0xFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return (Datum) 0;
}

static Datum
NumberOrNull(double v, bool *null)
{
	*null = !isfinite(v);
	return Float8GetDatum(*null ? 0 : v);
}

/* uba_forecast_info(model): the method, the form, the parameters, the criteria and the fit's accuracy */
Datum
uba_forecast_info(PG_FUNCTION_ARGS)
{
	FcModel    *model = uba_model_cached(fcinfo, 0, UBA_KIND_FORECAST, uba_forecast_parse);
	TupleDesc	td;
	Datum		values[17];
	bool		nulls[17] = {false};
	StringInfoData params,
				cands;
	bool		first = true;
	double		cv2,
				adi = fc_adi(model->y, model->n, &cv2);

	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE || td->natts != 17)
		elog(ERROR, "uba_forecast_info: wrong result type");
	td = BlessTupleDesc(td);
	initStringInfo(&params);
	appendStringInfoChar(&params, '{');
	fc_json_smoothing(&params, model, &first);
	if (model->method == FC_ETS)
	{
		int			m = model->form.season != FC_NONE ? model->form.m : 0;

		fc_json_number(&params, "l0", model->init.state[0], &first);
		if (model->form.trend != FC_NONE)
			fc_json_number(&params, "b0", model->init.state[1], &first);
		if (m > 0)
		{
			appendStringInfoString(&params, ", \"s0\": [");
			for (int j = 0; j < m; j++)
				appendStringInfo(&params, "%s%.17g", j > 0 ? ", " : "", model->init.state[2 + j]);
			appendStringInfoChar(&params, ']');
		}
	}
	else
	{
		if (model->method == FC_TSB)
		{
			fc_json_number(&params, "z0", model->init.state[0], &first);
			fc_json_number(&params, "p0", model->init.state[1], &first);
		}
		/* where the smoothing ended: the size of a demand, and the interval between demands (TSB: their probability) */
		fc_json_number(&params, "size", model->last.state[0], &first);
		fc_json_number(&params, model->method == FC_TSB ? "probability" : "interval", model->last.state[1], &first);
	}
	appendStringInfoChar(&params, '}');
	initStringInfo(&cands);
	appendStringInfoChar(&cands, '{');
	for (int i = 0; i < model->ncand; i++)
	{
		EtsForm		f;

		fc_ets_decode(model->cand[i], &f);
		appendStringInfo(&cands, "%s\"%s\": %.17g", i > 0 ? ", " : "", fc_ets_name(&f), model->cand_ic[i]);
	}
	appendStringInfoChar(&cands, '}');

	values[0] = CStringGetTextDatum(fc_method_name(model));
	values[1] = CStringGetTextDatum(model->method == FC_ETS ? fc_ets_name(&model->form) :
									model->method == FC_CROSTON ? "Croston" :
									model->method == FC_SBA ? "SBA" : "TSB");
	values[2] = CStringGetTextDatum(fc_period_names[model->period]);
	values[3] = Int32GetDatum(model->frequency);
	values[4] = Int64GetDatum(model->n);
	values[5] = PeriodStart(model, 0);
	values[6] = PeriodStart(model, model->n - 1);
	values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params.data));
	values[8] = NumberOrNull(model->sigma2, &nulls[8]);
	values[9] = NumberOrNull(model->loglik, &nulls[9]);
	values[10] = NumberOrNull(model->aicc, &nulls[10]);
	values[11] = NumberOrNull(model->mase, &nulls[11]);
	values[12] = NumberOrNull(model->rmse, &nulls[12]);
	values[13] = NumberOrNull(adi, &nulls[13]);
	values[14] = NumberOrNull(cv2, &nulls[14]);
	values[15] = BoolGetDatum(model->converged);
	values[16] = DirectFunctionCall1(jsonb_in, CStringGetDatum(cands.data));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}

/*
 * The forecasts of the first h steps after the series, kept in the parsed
 * model (which the cache keeps across rows and queries): grown to twice
 * what was asked before, so a column of dates costs a few computations.
 */
static void
Ahead(FcModel *model, int h)
{
	MemoryContext cxt = GetMemoryChunkContext(model);
	int			want;

	if (h <= model->nahead)
		return;
	want = Min(Max(h, 2 * model->nahead), FC_ANOMALY_MAX_STEPS);
	if (model->ahead_mean)
	{
		pfree(model->ahead_mean);
		pfree(model->ahead_sd);
		if (model->ahead_paths)
			pfree(model->ahead_paths);
		model->ahead_paths = NULL;
		model->nahead = 0;
	}
	model->ahead_mean = MemoryContextAlloc(cxt, sizeof(double) * want);
	model->ahead_sd = MemoryContextAlloc(cxt, sizeof(double) * want);
	model->ahead_paths = StepDistributions(model, want, false, cxt, model->ahead_mean, model->ahead_sd);
	model->nahead = want;
}

/*
 * uba_forecast_anomalies(model, ts, actual [, level]): is a period's
 * actual value outside the model's prediction interval at level?  For a
 * period of the series, the interval of its one-step forecast (what the
 * model expected before seeing it); for a period after the series, the
 * forecast's interval that many steps ahead (up to FC_ANOMALY_MAX_STEPS).
 * Returns (step, expected, lower, upper, deviation, anomaly_probability,
 * is_anomaly); step is the period's place after the series' end (0 and
 * below: in the series).  anomaly_probability is |2F(actual) - 1|, F the
 * forecast distribution's CDF, as BigQuery's ML.DETECT_ANOMALIES reports
 * it.  NULLs where the model has no forecast (Croston before the first
 * demand).
 */
Datum
uba_forecast_anomalies(PG_FUNCTION_ARGS)
{
	FcModel    *model;
	TupleDesc	td;
	Datum		values[7];
	bool		nulls[7] = {false};
	DateADT		date,
				period;
	int64		t;
	double		actual,
				level = PG_GETARG_FLOAT8(3);
	double		mean,
				sd,
				lo,
				hi,
				prob,
				tail;
	const double *sorted = NULL;

	model = uba_model_cached(fcinfo, 0, UBA_KIND_FORECAST, uba_forecast_parse);
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE || td->natts != 7)
		elog(ERROR, "uba_forecast_anomalies: wrong result type");
	td = BlessTupleDesc(td);
	actual = PG_GETARG_FLOAT8(2);
	if (!isfinite(actual))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("actual values given to uba_forecast_anomalies must be finite"),
				 errdetail("Got %g.", actual)));
	if (level < 1 && level > 0)
		level *= 100;
	if (!(level > 0 && level < 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the level of the prediction interval must be between 0 and 100 percent"),
				 errdetail("Got %g.", level)));
	date = uba_local_date(PG_GETARG_DATUM(1), false, "uba_forecast_anomalies");
	period = fc_period_start(date, model->period);
	if (period < model->first)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is before the model's series", DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(date)))),
				 errdetail("The series starts on %s.", DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(model->first))))));
	t = fc_periods_between(model->first, period, model->period);
	if (t - model->n + 1 > FC_ANOMALY_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is more than %d %ss after the model's series",
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(date))), FC_ANOMALY_MAX_STEPS,
						fc_period_names[model->period]),
				 errhint("Train the model on more recent data.")));
	tail = (1 - level / 100) / 2;
	values[0] = Int32GetDatum((int32) (t - model->n + 1));
	if (t < model->n)
	{
		/* in the series: the one-step forecast, before the period was seen */
		mean = model->fitted[t];
		if (isnan(mean))
		{
			for (int i = 1; i < 7; i++)
				nulls[i] = true;
			PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
		}
		sd = sqrt(model->sigma2);
		if (model->method == FC_ETS && model->form.error == FC_MUL)
			sd *= fabs(mean);
	}
	else
	{
		int			h = (int) (t - model->n + 1);

		Ahead(model, h);
		mean = model->ahead_mean[h - 1];
		sd = model->ahead_sd[h - 1];
		if (model->ahead_paths)
			sorted = model->ahead_paths + (Size) (h - 1) * FC_PATHS;
	}
	/* a period's demand, intermittent: the mixture with this period's mean (in the series: its one-step forecast) */
	StepInterval(model, mean, sd, sorted, tail, actual, &lo, &hi, &prob);
	values[1] = Float8GetDatum(mean);
	values[2] = Float8GetDatum(lo);
	values[3] = Float8GetDatum(hi);
	values[4] = Float8GetDatum(actual - mean);
	values[5] = Float8GetDatum(prob);
	values[6] = BoolGetDatum(actual < lo || actual > hi);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(td, values, nulls)));
}
