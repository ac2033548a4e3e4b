/*-------------------------------------------------------------------------
 *
 * forecast.h
 *	  What the forecasting files share: a series of periods, the methods
 *	  (exponential smoothing and intermittent demand), the model.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_FORECAST_H
#define UBA_FORECAST_H

#include "uba.h"

/* Methods; stored in models, so the numbers never change */
#define FC_ETS 1
#define FC_CROSTON 2
#define FC_SBA 3
#define FC_TSB 4

/* Components of an exponential smoothing model */
#define FC_NONE 0
#define FC_ADD 1
#define FC_MUL 2
#define FC_DAMPED 2				/* the trend's third value: additive damped */

/* Periods; stored in models */
#define FC_DAY 0
#define FC_WEEK 1
#define FC_MONTH 2
#define FC_QUARTER 3
#define FC_YEAR 4

/* The longest season exponential smoothing models (R's forecast::ets does the same) */
#define FC_MAX_SEASON 24
/* The most periods a series may have, and steps a forecast may ask for */
#define FC_MAX_PERIODS 1000000
#define FC_MAX_HORIZON 100000

/* An exponential smoothing model's form: ETS(error, trend, season) */
typedef struct EtsForm
{
	int			error;			/* FC_ADD or FC_MUL */
	int			trend;			/* FC_NONE, FC_ADD or FC_DAMPED */
	int			season;			/* FC_NONE, FC_ADD or FC_MUL */
	int			m;				/* season length (1 without a season) */
} EtsForm;

/* Smoothing parameters and states: level, trend, m seasonal indices */
typedef struct EtsParams
{
	double		alpha;
	double		beta;
	double		gamma;
	double		phi;
	double		state[2 + FC_MAX_SEASON];	/* l, b, s[0..m-1]: s[j] is the index of periods j mod m */
} EtsParams;

/* A fitted model: what the fit found and what the model stores */
typedef struct FcModel
{
	int			method;
	EtsForm		form;			/* ETS; intermittent methods: ANN */
	int			frequency;		/* season length of the data (MASE's seasonal naive) */
	int			period;
	bool		gaps_missing;
	bool		constant;		/* a constant series: a flat forecast, no spread */
	bool		converged;
	int			iterations;
	DateADT		first;			/* start of the first period */
	int64		n;
	double	   *y;				/* n values, NaN where missing */
	EtsParams	init;			/* parameters and initial states (intermittent: alpha, beta; z, p) */
	/* derived by fc_model_replay() from the above, never stored */
	EtsParams	last;			/* states after the last period */
	double	   *fitted;			/* n one-step forecasts (NaN before the first one) */
	double		sigma2;			/* variance of the one-step errors (relative for multiplicative) */
	double		loglik;
	double		aic;
	double		aicc;
	double		bic;
	int			np;				/* parameters counted by the criteria */
	double		mase;			/* in-sample, scaled by the seasonal naive's error */
	double		rmse;
	double		mae;
	/* the candidates the choice looked at, and their criterion */
	int			ncand;
	uint32	   *cand;
	double	   *cand_ic;
	/* intermittent methods: the non-zero sizes seen, sorted (the shape of a period's demand), their mean */
	int64		nsizes;
	double	   *sizes;
	double		size_mean;
	/* forecasts kept for uba_forecast_anomalies (in the parsed model's memory, grown on demand) */
	int			nahead;
	double	   *ahead_mean;
	double	   *ahead_sd;		/* NaN for simulated steps */
	double	   *ahead_paths;	/* simulated forms: FC_PATHS sorted values per step */
} FcModel;

/* futures simulated for the intervals of multiplicative seasons */
#define FC_PATHS 5000
/* the furthest period after the series uba_forecast_anomalies judges */
#define FC_ANOMALY_MAX_STEPS 1000

/* series.c: the calendar of periods */
extern void fc_civil(DateADT date, int *year, int *month, int *day);
extern DateADT fc_period_start(DateADT date, int period);
extern DateADT fc_period_step(DateADT start, int period, int64 steps);
extern int64 fc_periods_between(DateADT from, DateADT to, int period);
extern const char *const fc_period_names[];
extern int	fc_default_season(int period);

/* ets.c */
extern int	fc_ets_nparams(const EtsForm *f);
extern double fc_ets_run(const EtsForm *f, const EtsParams *p, const double *y, int64 n,
						 double *fitted, EtsParams *last, double *sse, double *sumlog, int64 *nobs);
extern bool fc_ets_fit(const EtsForm *f, const double *y, int64 n, int max_iter,
					   const EtsParams *nested, EtsParams *p, double *lik, int *iterations,
					   bool *converged);
extern void fc_ets_choose(FcModel *model, const double *y, int64 n, int season_length,
						  const char *spec, int damped, int ic, int max_iter);
extern void fc_ets_forecast(const FcModel *model, int h, double *mean, double *sd);
extern bool fc_ets_simulated_class(const EtsForm *f);
extern bool fc_ets_cumulative_sd(const FcModel *model, int h, double *csd);
extern void fc_ets_simulate(const FcModel *model, int h, int npaths, uint64 seed, double *paths);
extern char *fc_ets_name(const EtsForm *f);
extern uint32 fc_ets_code(const EtsForm *f);
extern void fc_ets_decode(uint32 code, EtsForm *f);

/* croston.c */
extern const EtsForm fc_simple_form;	/* ETS(A,N,N): the intermittent methods' and a constant series' form */
extern void fc_intermittent_fit(FcModel *model, double alpha, double beta);
extern void fc_intermittent_replay(FcModel *model);
extern void fc_intermittent_forecast(const FcModel *model, int h, double *mean, double *sd);
extern double fc_adi(const double *y, int64 n, double *cv2);
extern bool fc_intermittent_sizes(FcModel *model);
extern double fc_intermittent_quantile(const FcModel *model, double mean, double u);
extern double fc_intermittent_cdf(const FcModel *model, double mean, double x);
extern void fc_intermittent_simulate(const FcModel *model, int h, int npaths, uint64 seed, double *paths);

/* train.c */
extern void fc_parse_options(Jsonb *opts, UbaOptions *o);
extern int	fc_detect_period(const DateADT *dates, int64 n);

/* serve.c: the levels of prediction intervals asked for (percent; fractions when all are below 1) */
#define FC_MAX_LEVELS 100
extern int	fc_levels(ArrayType *a, double *levels);
/* serve.c: sorted samples (simulated futures, demand sizes) */
extern double fc_sorted_quantile(const double *sorted, int64 n, double p);
extern double fc_sorted_cdf(const double *sorted, int64 n, double x);

/* model.c */
extern void fc_json_number(StringInfo s, const char *key, double v, bool *first);
extern void fc_json_smoothing(StringInfo s, const FcModel *model, bool *first);
extern bool fc_valid_span(DateADT first, int period, int64 n);
extern void fc_model_stats(FcModel *model);
extern bytea *fc_model_write(const FcModel *model, const UbaModelMeta *meta);
extern void *uba_forecast_parse(const UbaModelMeta *meta, UbaReader *r);
extern const char *fc_method_name(const FcModel *model);

#endif							/* UBA_FORECAST_H */
