/*-------------------------------------------------------------------------
 *
 * train.c
 *	  uba_forecast_train's final function: the series of periods from the
 *	  collected rows, the method, the fit, the model.
 *
 * "method": "auto" takes Croston's method with the Syntetos-Boylan
 * correction (SBA) for intermittent demand -- an average demand interval
 * of more than 1.32 periods, the cut-off of Syntetos, Boylan and Croston
 * (2005), on a series with no negative value -- and exponential smoothing
 * otherwise; a series too short for it (under 5 periods) gets Croston's
 * method, which with demand in every period is simple exponential
 * smoothing started at the first value.  A constant series gets a flat
 * forecast with no spread.
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"

PG_FUNCTION_INFO_V1(uba_forecast_final);

/* the average demand interval above which demand is intermittent */
#define ADI_CUTOFF 1.32

static const char *const method_choices[] = {"auto", "ets", "croston", "sba", "tsb", NULL};
static const char *const period_choices[] = {"auto", "day", "week", "month", "quarter", "year", NULL};
static const char *const gaps_choices[] = {"zero", "missing", NULL};
static const char *const ic_choices[] = {"aicc", "aic", "bic", NULL};

static const UbaOptionSpec forecast_options[] = {
	{"method", UBA_OPT_CHOICE, 0, 0, 0, method_choices},
	{"model", UBA_OPT_TEXT, 0, 0, 0, NULL},
	{"damped", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"period", UBA_OPT_CHOICE, 0, 0, 0, period_choices},
	{"season_length", UBA_OPT_INT, 0, 1, 1000, NULL},
	{"gaps", UBA_OPT_CHOICE, 0, 0, 0, gaps_choices},
	{"start", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"end", UBA_OPT_DATE, NAN, 0, 0, NULL},
	{"ic", UBA_OPT_CHOICE, 0, 0, 0, ic_choices},
	{"alpha", UBA_OPT_FLOAT, 0.1, 1e-6, 1, NULL},
	{"beta", UBA_OPT_FLOAT, 0.1, 1e-6, 1, NULL},
	{"max_iter", UBA_OPT_INT, 1000, 1, 1000000, NULL},
	UBA_PROGRESS_OPTION,
};

void
fc_parse_options(Jsonb *opts, UbaOptions *o)
{
	uba_parse_options(opts, forecast_options, lengthof(forecast_options), "uba_forecast_train", o);
}

static int64
Gcd(int64 a, int64 b)
{
	while (b != 0)
	{
		int64		t = a % b;

		a = b;
		b = t;
	}
	return a < 0 ? -a : a;
}

/*
 * The period of a series whose caller did not say, from its distinct
 * dates: years, quarters or months when every date is the first of a
 * month (by the months between them), else weeks when the days between
 * them are whole weeks, else days.
 */
int
fc_detect_period(const DateADT *dates, int64 n)
{
	bool		firsts = true;
	int64		g = 0;

	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot tell the period of a series with one date"),
				 errhint("Give the option \"period\": \"day\", \"week\", \"month\", \"quarter\" or \"year\".")));
	for (int64 i = 0; i < n && firsts; i++)
	{
		int			y,
					m,
					d;

		fc_civil(dates[i], &y, &m, &d);
		firsts = d == 1;
	}
	if (firsts)
	{
		for (int64 i = 1; i < n; i++)
		{
			int			y0,
						m0,
						d0,
						y1,
						m1,
						d1;

			fc_civil(dates[i - 1], &y0, &m0, &d0);
			fc_civil(dates[i], &y1, &m1, &d1);
			g = Gcd(g, (int64) (y1 - y0) * 12 + (m1 - m0));
		}
		return g % 12 == 0 ? FC_YEAR : g % 3 == 0 ? FC_QUARTER : FC_MONTH;
	}
	for (int64 i = 1; i < n; i++)
		g = Gcd(g, (int64) dates[i] - dates[i - 1]);
	return g % 7 == 0 ? FC_WEEK : FC_DAY;
}

static DateADT
OptionDate(const UbaOptions *o, const char *name)
{
	return (DateADT) uba_option(o, name);
}

/*
 * The series: each period's total from the first period (or "start") to
 * the last (or "end"), periods without rows 0 or missing.
 */
static void
BuildSeries(UbaRowSet *rs, const UbaOptions *o, FcModel *model)
{
	double	   *rows,
			   *counts;
	int64		m = uba_rowset_grouped(rs, &rows, &counts);
	DateADT    *dates = palloc(sizeof(DateADT) * m);
	int64		nd = 0;
	DateADT		first,
				last;
	int			pi = (int) uba_option(o, "period");

	/* grouped rows are sorted by date */
	for (int64 i = 0; i < m; i++)
		if (nd == 0 || dates[nd - 1] != (DateADT) rows[2 * i])
			dates[nd++] = (DateADT) rows[2 * i];
	model->period = pi == 0 ? fc_detect_period(dates, nd) : pi - 1;
	first = fc_period_start(dates[0], model->period);
	last = fc_period_start(dates[nd - 1], model->period);
	if (uba_option_given(o, "start"))
	{
		DateADT		s = fc_period_start(OptionDate(o, "start"), model->period);

		if (s > first)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series has rows before its \"start\""),
					 errdetail("The first row is on %s.", DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(dates[0])))),
					 errhint("Leave the earlier rows out with WHERE, or move \"start\".")));
		first = s;
	}
	if (uba_option_given(o, "end"))
	{
		DateADT		e = fc_period_start(OptionDate(o, "end"), model->period);

		if (e < last)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the series has rows after its \"end\""),
					 errdetail("The last row is on %s.", DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(dates[nd - 1])))),
					 errhint("Leave the later rows out with WHERE, or move \"end\".")));
		last = e;
	}
	model->first = first;
	model->n = fc_periods_between(first, last, model->period) + 1;
	if (model->n > FC_MAX_PERIODS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the series has " INT64_FORMAT " periods, more than the %d a forecast model takes",
						model->n, FC_MAX_PERIODS),
				 errhint("Use a longer period, or a shorter span of time.")));
	if (!fc_valid_span(first, model->period, model->n))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the series' periods, and %d more to forecast, must be dates a timestamp can hold", FC_MAX_HORIZON),
				 errdetail("The series runs from %s for " INT64_FORMAT " %ss.",
						   DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(first))), model->n,
						   fc_period_names[model->period])));
	uba_check_memory(mul_size(model->n, 3 * sizeof(double)), "a forecast series");
	model->gaps_missing = uba_option(o, "gaps") == 1;
	model->y = palloc(sizeof(double) * model->n);
	for (int64 t = 0; t < model->n; t++)
		model->y[t] = model->gaps_missing ? get_float8_nan() : 0;
	for (int64 i = 0; i < m; i++)
	{
		int64		t = fc_periods_between(first, fc_period_start((DateADT) rows[2 * i], model->period),
										   model->period);

		if (isnan(model->y[t]))
			model->y[t] = 0;
		model->y[t] += rows[2 * i + 1] * counts[i];
	}
	pfree(rows);
	pfree(counts);
	pfree(dates);
}

static bool
Constant(const double *y, int64 n, double *value)
{
	bool		seen = false;

	for (int64 t = 0; t < n; t++)
	{
		if (isnan(y[t]))
			continue;
		if (seen && y[t] != *value)
			return false;
		*value = y[t];
		seen = true;
	}
	return seen;
}

Datum
uba_forecast_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	FcModel    *model;
	int			method;
	double		cv2,
				adi,
				value = 0,
				ymin = 0;
	bool		constant;
	int64		nobs = 0;
	const char *spec;
	UbaModelMeta meta;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	fc_parse_options(rs->options, &o);
	model = palloc0(sizeof(FcModel));
	BuildSeries(rs, &o, model);
	model->frequency = uba_option_given(&o, "season_length") ? (int) uba_option(&o, "season_length") :
		fc_default_season(model->period);
	spec = uba_option_given(&o, "model") ? uba_option_text(&o, "model") : "ZZZ";
	if (strlen(spec) != 3 || strchr("AMZ", spec[0]) == NULL || strchr("NAZ", spec[1]) == NULL ||
		strchr("NAMZ", spec[2]) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid exponential smoothing model \"%s\"", spec),
				 errdetail("A model is three letters: the error (A, M), the trend (N, A) and the season (N, A, M); Z lets uba choose."),
				 errhint("For a damped trend, use trend A with \"damped\": true.")));
	for (int64 t = 0; t < model->n; t++)
		if (!isnan(model->y[t]))
		{
			ymin = nobs == 0 ? model->y[t] : Min(ymin, model->y[t]);
			nobs++;
		}
	adi = fc_adi(model->y, model->n, &cv2);
	constant = Constant(model->y, model->n, &value);
	method = (int) uba_option(&o, "method");
	if (method == 0)
	{
		if (ymin >= 0 && adi > ADI_CUTOFF)
			method = FC_SBA;
		else if (nobs < 5 && ymin >= 0 && !constant)
			method = FC_CROSTON;	/* too short to fit: with demand every period, simple smoothing */
		else
			method = FC_ETS;
	}
	if (method != FC_ETS && (uba_option_given(&o, "model") || uba_option_given(&o, "damped") ||
							 uba_option_given(&o, "ic")))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"model\", \"damped\" and \"ic\" apply to exponential smoothing only"),
				 errhint("Give \"method\": \"ets\", or leave those options out.")));
	if (method == FC_ETS && (uba_option_given(&o, "alpha") || uba_option_given(&o, "beta")))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"alpha\" and \"beta\" apply to the intermittent-demand methods only"),
				 errdetail("Exponential smoothing estimates its parameters."),
				 errhint("Give \"method\": \"croston\", \"sba\" or \"tsb\", or leave those options out.")));
	model->method = method;
	if (method == FC_ETS && constant)
	{
		/* nothing to fit: the last value forever, with no spread */
		model->constant = true;
		model->form = fc_simple_form;
		model->init.alpha = 0.9999;
		model->init.phi = 1;
		model->init.state[0] = value;
		model->converged = true;
	}
	else if (method == FC_ETS)
	{
		if (nobs < 5)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("exponential smoothing needs at least 5 observed periods"),
					 errdetail("The series has " INT64_FORMAT ".", nobs),
					 errhint("Use a longer span of time or a shorter period.")));
		fc_ets_choose(model, model->y, model->n, model->frequency, spec,
					  uba_option_given(&o, "damped") ? (int) uba_option(&o, "damped") : -1,
					  (int) uba_option(&o, "ic"), (int) uba_option(&o, "max_iter"));
	}
	else
		fc_intermittent_fit(model, uba_option(&o, "alpha"), uba_option(&o, "beta"));
	fc_model_stats(model);
	uba_progress(&o, "uba_forecast_train: %s %s over " INT64_FORMAT " %ss, %d forms tried",
				 fc_method_name(model), model->method == FC_ETS ? fc_ets_name(&model->form) : "",
				 model->n, fc_period_names[model->period], model->ncand);
	uba_model_meta_init(&meta, 1, rs->n, rs->started, &o);
	PG_RETURN_BYTEA_P(fc_model_write(model, &meta));
}
