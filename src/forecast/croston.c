/*-------------------------------------------------------------------------
 *
 * croston.c
 *	  Intermittent demand: many periods sell nothing, so smoothing the
 *	  series itself forecasts a bit of demand every period and reacts to
 *	  every zero.
 *
 * Croston (1972) smooths two series instead, both with the same alpha:
 * the sizes of the non-zero demands z, and the intervals between them p
 * (the first counted from the period before the series starts); each
 * starts at its first value, as forecast::croston does.  The forecast of
 * demand per period is z / p.  It is biased upwards; Syntetos and Boylan
 * (2005) multiply it by 1 - alpha / 2 (SBA).  Teunter, Syntetos and Babai
 * (2011) smooth the probability of demand p every period (with beta)
 * instead of the interval, so a product that stops selling forecasts less
 * each empty period (TSB); its forecast is p z, started at the mean size
 * and the share of periods with demand.  Missing periods ("gaps":
 * "missing") are left out.
 *
 * No method here has a likelihood.  A period's demand is read as the
 * methods see it: demand occurs with probability q (1 / the smoothed
 * interval; TSB's p), and its size is drawn from the sizes seen, scaled
 * so that the mean demand is the forecast.  Intervals are that mixture's
 * quantiles (exact for one period, simulated for a total over periods):
 * with much of the mass at zero they are not symmetric, and the lower
 * bound is 0 while the chance of no demand exceeds the tail.
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

const EtsForm fc_simple_form = {FC_ADD, FC_NONE, FC_NONE, 1};

/* Average demand interval (periods per non-zero demand) and the squared coefficient of variation of the sizes */
double
fc_adi(const double *y, int64 n, double *cv2)
{
	int64		nobs = 0,
				nz = 0;
	double		sum = 0,
				sum2 = 0;

	for (int64 t = 0; t < n; t++)
	{
		if (isnan(y[t]))
			continue;
		nobs++;
		if (y[t] != 0)
		{
			nz++;
			sum += y[t];
			sum2 += y[t] * y[t];
		}
	}
	if (cv2)
	{
		double		mean = nz > 0 ? sum / nz : 0;

		*cv2 = nz > 0 && mean != 0 ? Max(0, sum2 / nz - mean * mean) / (mean * mean) : get_float8_nan();
	}
	return nz > 0 ? (double) nobs / nz : get_float8_infinity();
}

/*
 * Run the method over the series: fitted one-step forecasts (NaN before
 * Croston's first demand), the states after the last period.
 */
void
fc_intermittent_replay(FcModel *model)
{
	double		alpha = model->init.alpha,
				beta = model->init.beta;
	double		z = model->init.state[0],
				p = model->init.state[1];
	bool		started = model->method == FC_TSB;
	int64		since = 0;
	double		factor = model->method == FC_SBA ? 1 - alpha / 2 : 1;

	for (int64 t = 0; t < model->n; t++)
	{
		double		y = model->y[t];

		if (model->method == FC_TSB)
			model->fitted[t] = p * z;
		else
			model->fitted[t] = started ? factor * z / p : get_float8_nan();
		if (isnan(y))
			continue;
		since++;
		if (model->method == FC_TSB)
		{
			if (y > 0)
				z += alpha * (y - z);
			p += beta * ((y > 0 ? 1 : 0) - p);
		}
		else if (y > 0)
		{
			if (!started)
			{
				z = y;
				p = (double) since;
				started = true;
			}
			else
			{
				z += alpha * (y - z);
				p += alpha * ((double) since - p);
			}
			since = 0;
		}
	}
	model->last = model->init;
	model->last.state[0] = z;
	model->last.state[1] = p;
}

/* Fit an intermittent method (its parameters are given, the starts taken from the data) */
void
fc_intermittent_fit(FcModel *model, double alpha, double beta)
{
	int64		nz = 0,
				nobs = 0;
	double		sum = 0;

	for (int64 t = 0; t < model->n; t++)
	{
		if (isnan(model->y[t]))
			continue;
		if (model->y[t] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("intermittent-demand methods need demand of 0 or more"),
					 errdetail("The series has %g.", model->y[t]),
					 errhint("Use \"method\": \"ets\" for series with negative values, or leave returns out.")));
		nobs++;
		if (model->y[t] > 0)
		{
			nz++;
			sum += model->y[t];
		}
	}
	/* one demand is enough, as for forecast::croston: its size over the periods it took */
	if (nz < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("intermittent-demand methods need a period with demand"),
				 errdetail("The series has no demand in its " INT64_FORMAT " observed periods.", nobs),
				 errhint("Leave \"method\" out: a series of zeros then forecasts zero.")));
	memset(&model->init, 0, sizeof(model->init));
	model->init.alpha = alpha;
	model->init.beta = model->method == FC_TSB ? beta : 0;
	model->init.phi = 1;
	if (model->method == FC_TSB)
	{
		model->init.state[0] = sum / nz;
		model->init.state[1] = (double) nz / nobs;
	}
	model->form = fc_simple_form;
	model->converged = true;
}

void
fc_intermittent_forecast(const FcModel *model, int h, double *mean, double *sd)
{
	double		z = model->last.state[0],
				p = model->last.state[1];
	double		f = model->method == FC_TSB ? p * z :
		(model->method == FC_SBA ? 1 - model->last.alpha / 2 : 1) * z / p;
	for (int k = 0; k < h; k++)
	{
		mean[k] = f;
		/* the intervals are the mixture's quantiles (fc_intermittent_quantile), not mean +- z sd */
		sd[k] = get_float8_nan();
	}
}

/* The sorted non-zero sizes of the series and their mean (false: none, which no intermittent model has) */
bool
fc_intermittent_sizes(FcModel *model)
{
	int64		k = 0;
	double		sum = 0;

	model->sizes = palloc(sizeof(double) * Max(model->n, 1));
	for (int64 t = 0; t < model->n; t++)
		if (!isnan(model->y[t]) && model->y[t] > 0)
		{
			model->sizes[k++] = model->y[t];
			sum += model->y[t];
		}
	model->nsizes = k;
	if (k == 0)
		return false;
	qsort(model->sizes, k, sizeof(double), uba_cmp_double);
	model->size_mean = sum / k;
	return true;
}

/* The probability of demand in a period after the series */
static double
Occurrence(const FcModel *model)
{
	if (model->method == FC_TSB)
		return Min(Max(model->last.state[1], 0), 1);
	return 1 / Max(model->last.state[1], 1);
}

/* The factor on the sizes seen that makes the mixture's mean the forecast mean (0: no demand) */
static double
SizeScale(const FcModel *model, double mean, double q)
{
	return q > 0 && model->size_mean > 0 && mean > 0 ? mean / (q * model->size_mean) : 0;
}

/* The u-quantile of a period's demand whose mean is mean */
double
fc_intermittent_quantile(const FcModel *model, double mean, double u)
{
	double		q = Occurrence(model),
				c = SizeScale(model, mean, q);

	if (c <= 0 || u <= 1 - q)
		return 0;
	return c * fc_sorted_quantile(model->sizes, model->nsizes, Min((u - (1 - q)) / q, 1));
}

/* P(demand < x) + P(demand = x) / 2 for a period's demand whose mean is mean */
double
fc_intermittent_cdf(const FcModel *model, double mean, double x)
{
	double		q = Occurrence(model),
				c = SizeScale(model, mean, q);

	if (c <= 0)
		return x < 0 ? 0 : x == 0 ? 0.5 : 1;
	if (x < 0)
		return 0;
	/* no demand (an atom at 0) or a size; sizes are above 0 */
	return (x > 0 ? 1 - q : 0.5 * (1 - q)) + q * fc_sorted_cdf(model->sizes, model->nsizes, x / c);
}

/*
 * npaths futures of h periods of demand (paths: npaths x h, row-major):
 * each period demand with probability q, of a size drawn from those seen
 * and scaled to the forecast.  Each path from its own seed.
 */
void
fc_intermittent_simulate(const FcModel *model, int h, int npaths, uint64 seed, double *paths)
{
	double		mean[1],
				sd[1];
	double		q = Occurrence(model),
				c;
	UbaRandom	r;

	fc_intermittent_forecast(model, 1, mean, sd);
	c = SizeScale(model, mean[0], q);
	for (int i = 0; i < npaths; i++)
	{
		uba_random_seed(&r, seed + (uint64) i * 0x9E3779B97F4A7C15ULL);
		for (int k = 0; k < h; k++)
		{
			double		u = uba_random_double(&r);
			uint64		j = uba_random_below(&r, (uint64) model->nsizes);

			paths[(Size) i * h + k] = u < q ? c * model->sizes[j] : 0;
		}
		if ((i & 0xFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}
