/*-------------------------------------------------------------------------
 *
 * series.c
 *	  From rows (a time and a value) to a series of periods: the calendar
 *	  of periods, the training aggregate's rows, the period a series is in
 *	  when the caller does not say.
 *
 * Times are read as local dates in the session's time zone, as ts::date
 * reads them; a period's value is the sum of its rows' values.  Weeks
 * start on Monday (date_trunc's weeks), quarters in January, April, July
 * and October.
 *
 *-------------------------------------------------------------------------
 */
#include "forecast.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(uba_forecast_transfn);

const char *const fc_period_names[] = {"day", "week", "month", "quarter", "year", NULL};

static int
MonthsPer(int period)
{
	return period == FC_YEAR ? 12 : period == FC_QUARTER ? 3 : 1;
}

/*
 * The calendar by arithmetic, not the server's date functions, so the
 * model reader also runs outside the server (the fuzzer): a date (days
 * from 2000-01-01) to its year, month and day and back, in the
 * proleptic Gregorian calendar, counted in 400-year eras of 146097 days
 * from a year that starts in March (the leap day then ends the year).
 */
void
fc_civil(DateADT date, int *year, int *month, int *day)
{
	int64		z = (int64) date + 730425;	/* days from 0000-03-01 */
	int64		era = (z >= 0 ? z : z - 146096) / 146097;
	int64		doe = z - era * 146097;
	int64		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64		mp = (5 * doy + 2) / 153;
	int64		m = mp < 10 ? mp + 3 : mp - 9;

	*day = (int) (doy - (153 * mp + 2) / 5 + 1);
	*month = (int) m;
	*year = (int) (yoe + era * 400 + (m <= 2));
}

static DateADT
FromCivil(int64 y, int m, int d)
{
	int64		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (DateADT) (era * 146097 + doe - 730425);
}

/* Months since year 0 of a date, and back */
static int64
MonthIndex(DateADT date)
{
	int			y,
				m,
				d;

	fc_civil(date, &y, &m, &d);
	return (int64) y * 12 + (m - 1);
}

/* Floor division for negative numbers */
static int64
FloorDiv(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((b - 1 - a) / b);
}

static DateADT
MonthStart(int64 index)
{
	int64		y = FloorDiv(index, 12);

	return FromCivil(y, (int) (index - y * 12) + 1, 1);
}

DateADT
fc_period_start(DateADT date, int period)
{
	switch (period)
	{
		case FC_DAY:
			return date;
		case FC_WEEK:
			/* 2000-01-03, day 2, was a Monday */
			return (DateADT) ((int64) date - ((int64) date - 2 - FloorDiv((int64) date - 2, 7) * 7));
		default:
			{
				int64		k = MonthIndex(date);
				int			per = MonthsPer(period);

				return MonthStart(FloorDiv(k, per) * per);
			}
	}
}

/* The start of the period steps after the one starting at start (no overflow checks: callers bound steps) */
DateADT
fc_period_step(DateADT start, int period, int64 steps)
{
	switch (period)
	{
		case FC_DAY:
			return (DateADT) Max(Min((int64) start + steps, PG_INT32_MAX), PG_INT32_MIN);
		case FC_WEEK:
			return (DateADT) Max(Min((int64) start + 7 * steps, PG_INT32_MAX), PG_INT32_MIN);
		default:
			{
				int64		k = MonthIndex(start) + steps * MonthsPer(period);

				/* beyond the last date PostgreSQL knows: an invalid date for the caller to see */
				if (k > (int64) 5874897 * 12 || k < -(int64) 4713 * 12)
					return PG_INT32_MAX;
				return MonthStart(k);
			}
	}
}

/* Whole periods from the period starting at from to the one starting at to */
int64
fc_periods_between(DateADT from, DateADT to, int period)
{
	switch (period)
	{
		case FC_DAY:
			return (int64) to - from;
		case FC_WEEK:
			return ((int64) to - from) / 7;
		default:
			return (MonthIndex(to) - MonthIndex(from)) / MonthsPer(period);
	}
}

/* The season of each period unless the caller says: a week in days, a year in weeks, months, quarters */
int
fc_default_season(int period)
{
	switch (period)
	{
		case FC_DAY:
			return 7;
		case FC_WEEK:
			return 52;
		case FC_MONTH:
			return 12;
		case FC_QUARTER:
			return 4;
		default:
			return 1;
	}
}

/*
 * uba_forecast_train(ts, value [, options]) transition: each row's local
 * date and value.  Rows with a NULL time or value are left out, as sum()
 * leaves them; a non-finite value is an error.
 */
Datum
uba_forecast_transfn(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	double		v[2];

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	v[0] = (double) uba_arg_local_date(fcinfo, 1, "uba_forecast_train");
	v[1] = PG_GETARG_FLOAT8(2);
	if (!isfinite(v[1]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("values given to uba_forecast_train must be finite"),
				 errdetail("Got %g.", v[1])));
	if (rs == NULL)
	{
		MemoryContext cxt = uba_agg_context(fcinfo);
		UbaOptions	o;

		/* checked here to fail early; the final function reads them */
		fc_parse_options(opts, &o);
		rs = uba_rowset_start_dim(fcinfo, 2, false, false);
		rs->options = uba_options_copy(cxt, opts);
	}
	else
		uba_check_same_options(rs->options, opts);
	uba_rowset_add_values(rs, v, 0);
	PG_RETURN_POINTER(rs);
}
