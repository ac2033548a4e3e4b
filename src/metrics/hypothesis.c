/*-------------------------------------------------------------------------
 *
 * hypothesis.c
 *	  Tests of significance on counts: uba_fisher_exact(a, b, c, d), the
 *	  odds ratio of a 2x2 table and Fisher's exact p-value, as
 *	  scipy.stats.fisher_exact gives them.  Funnel correlation analysis asks
 *	  it whether an event is over- or under-represented among the users who
 *	  converted.
 *
 * With the margins fixed, the top-left count follows a hypergeometric
 * law.  The two-sided p-value sums the probabilities of every table no
 * more likely than the one observed (within a relative 1e-7, as R's
 * fisher.test allows, so that equally likely tables are not lost to
 * rounding); 'less' and 'greater' sum one tail.  The probabilities are
 * weights relative to the most likely table, summed and normalized: the
 * work is linear in the smaller margin.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"

PG_FUNCTION_INFO_V1(uba_fisher_exact);

/*
 * The hypergeometric weights of top-left counts lo .. hi relative to the
 * mode's (1 there), by the ratio of neighbours, P(x + 1) / P(x) = (c1 - x)
 * (r1 - x) / ((x + 1) (n - r1 - c1 + x + 1)): no log-gamma, whose rounding
 * at a million rows would cost nine digits.  Calls fn(x, weight, arg) for
 * each x from the mode outwards, up then down, until the weights vanish.
 */
typedef void (*WeightFn) (int64 x, double w, void *arg);

static void
ForEachWeight(int64 lo, int64 hi, int64 r1, int64 c1, int64 n, WeightFn fn, void *arg)
{
	int64		mode = (int64) floor(((double) r1 + 1) * ((double) c1 + 1) / ((double) n + 2));
	double		w = 1;

	mode = Min(Max(mode, lo), hi);
	for (int64 x = mode; x <= hi && w > 0; x++)
	{
		if (((x - mode) & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		fn(x, w, arg);
		w *= ((double) (c1 - x) * (double) (r1 - x)) / (((double) x + 1) * ((double) (n - r1 - c1 + x) + 1));
	}
	w = 1;
	for (int64 x = mode - 1; x >= lo; x--)
	{
		if (((mode - x) & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		w /= ((double) (c1 - x) * (double) (r1 - x)) / (((double) x + 1) * ((double) (n - r1 - c1 + x) + 1));
		if (w == 0)
			break;
		fn(x, w, arg);
	}
}

typedef struct Tally
{
	int64		a;				/* the observed count */
	int			alt;			/* 0 two-sided, 1 less, 2 greater */
	double		w_obs;			/* its weight */
	double		total;
	double		selected;
} Tally;

static void
CountTotal(int64 x, double w, void *arg)
{
	Tally	   *t = arg;

	t->total += w;
	if (x == t->a)
		t->w_obs = w;
}

/* the tables as extreme as the observed one: no more likely (two-sided, R's tolerance), or a tail */
static void
CountSelected(int64 x, double w, void *arg)
{
	Tally	   *t = arg;

	if (t->alt == 0 ? w <= t->w_obs * (1 + 1e-7) : t->alt == 1 ? x <= t->a : x >= t->a)
		t->selected += w;
}

/* uba_fisher_exact(a, b, c, d [, alternative]): the table [[a, b], [c, d]] */
Datum
uba_fisher_exact(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_INT64(0),
				b = PG_GETARG_INT64(1),
				c = PG_GETARG_INT64(2),
				d = PG_GETARG_INT64(3);
	char	   *alt = PG_NARGS() > 4 ? text_to_cstring(PG_GETARG_TEXT_PP(4)) : "two-sided";
	int64		r1,
				c1,
				n,
				lo,
				hi;
	double		odds,
				p;
	Tally		t;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (a < 0 || b < 0 || c < 0 || d < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_fisher_exact needs counts of 0 or more"),
				 errdetail("Got the table [[" INT64_FORMAT ", " INT64_FORMAT "], [" INT64_FORMAT ", " INT64_FORMAT "]].",
						   a, b, c, d)));
	if (strcmp(alt, "two-sided") != 0 && strcmp(alt, "less") != 0 && strcmp(alt, "greater") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alternative of uba_fisher_exact must be two-sided, less or greater"),
				 errdetail("Got \"%s\".", alt)));
	if (a > PG_INT64_MAX / 4 || b > PG_INT64_MAX / 4 || c > PG_INT64_MAX / 4 || d > PG_INT64_MAX / 4)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("uba_fisher_exact counts are too large")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "uba_fisher_exact: the result must be a record");
	desc = BlessTupleDesc(desc);

	r1 = a + b;
	c1 = a + c;
	n = a + b + c + d;
	/* scipy's conventions: an empty row or column says nothing */
	if (r1 == 0 || c1 == 0 || r1 == n || c1 == n)
	{
		values[0] = Float8GetDatum(get_float8_nan());
		values[1] = Float8GetDatum(1.0);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}
	odds = (b > 0 && c > 0) ? ((double) a * (double) d) / ((double) b * (double) c) : get_float8_infinity();

	lo = Max(0, r1 + c1 - n);
	hi = Min(r1, c1);
	memset(&t, 0, sizeof(t));
	t.a = a;
	t.alt = strcmp(alt, "two-sided") == 0 ? 0 : strcmp(alt, "less") == 0 ? 1 : 2;
	ForEachWeight(lo, hi, r1, c1, n, CountTotal, &t);
	ForEachWeight(lo, hi, r1, c1, n, CountSelected, &t);
	p = t.selected / t.total;
	values[0] = Float8GetDatum(odds);
	values[1] = Float8GetDatum(Min(p, 1.0));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
