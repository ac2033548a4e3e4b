/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  The rows every per-prediction explanation returns: a baseline row
 *	  (feature 0, 'baseline'), then each feature's additive contribution,
 *	  largest in absolute value first, the first top of them; a value that
 *	  is no number (a category, a missing value) is NULL.  Logistic
 *	  regression and boosted trees (TreeSHAP) fill the contributions.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "funcapi.h"
#include "utils/builtins.h"

static int
CompareContributions(const void *a, const void *b)
{
	const UbaContribution *x = (const UbaContribution *) a;
	const UbaContribution *y = (const UbaContribution *) b;

	if (fabs(x->contribution) != fabs(y->contribution))
		return fabs(x->contribution) > fabs(y->contribution) ? -1 : 1;
	return x->feature - y->feature;
}

/*
 * Emit (feature, name, value, contribution) rows into the materialized
 * result of fcinfo: the baseline, then the d contributions (sorted here,
 * features numbered from 1), at most top of them; names may be NULL.
 */
void
uba_emit_contributions(FunctionCallInfo fcinfo, double baseline, UbaContribution *c, int d,
					   int top, char **names)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	qsort(c, d, sizeof(UbaContribution), CompareContributions);
	{
		Datum		values[4] = {Int32GetDatum(0), CStringGetTextDatum("baseline"), 0,
		Float8GetDatum(baseline)};
		bool		nulls[4] = {false, false, true, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int i = 0; i < Min(top, d); i++)
	{
		Datum		values[4] = {Int32GetDatum(c[i].feature), 0, Float8GetDatum(c[i].value),
		Float8GetDatum(c[i].contribution)};
		bool		nulls[4] = {false, names == NULL, isnan(c[i].value), false};

		if (names)
			values[1] = CStringGetTextDatum(names[c[i].feature - 1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}
