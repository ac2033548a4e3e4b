/*-------------------------------------------------------------------------
 *
 * classes.c
 *	  The classes of a multi-class model: made from a row set's labels,
 *	  written as a model section, read back validated.
 *
 * The classes are the distinct labels in order: text labels in byte order
 * (the rank the row set's dictionary gives them), numbers ascending.  In a
 * model they are a section: count (u32), kind (u32: 0 numbers, 1 text),
 * then the numbers (f64 each) or the texts as an id section.  Every
 * classifier that has more than two classes (boosted trees, forests, the
 * multilayer perceptron) keeps them this way, so uba_predict_class answers
 * alike for all of them.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"

/*
 * The classes of the rows' labels (the row set is in canonical order):
 * each row's y becomes its class's index, and the section goes to w.
 * Returns the number of classes; errors below two or above
 * UBA_MAX_CLASSES.
 */
int
uba_rowset_classes(UbaRowSet *rs, UbaWriter *w)
{
	int64		k = 0;

	uba_writer_init(w);
	if (rs->ylevels != NULL)
	{
		k = rs->ylevels->n;
		if (k >= 2 && k <= UBA_MAX_CLASSES)
		{
			int64	   *all = palloc(sizeof(int64) * k);

			/* ordering made y the label's rank */
			for (int64 c = 0; c < k; c++)
				all[c] = c;
			uba_put_u32(w, (uint32) k);
			uba_put_u32(w, UBA_CLASSES_TEXT);
			uba_put_ids(w, rs->ylevels, all, k);
			pfree(all);
		}
	}
	else
	{
		double	   *v = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(rs->n, 1));

		memcpy(v, rs->y, sizeof(double) * rs->n);
		qsort(v, rs->n, sizeof(double), uba_cmp_double);
		for (int64 i = 0; i < rs->n; i++)
			if (i == 0 || v[i] != v[k - 1])
				v[k++] = v[i];
		if (k >= 2 && k <= UBA_MAX_CLASSES)
		{
			for (int64 i = 0; i < rs->n; i++)
			{
				double	   *at = bsearch(&rs->y[i], v, k, sizeof(double), uba_cmp_double);

				rs->y[i] = (double) (at - v);
			}
			uba_put_u32(w, (uint32) k);
			uba_put_u32(w, UBA_CLASSES_NUMBERS);
			uba_put_f64_array(w, v, k);
		}
		pfree(v);
	}
	if (k < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a multi-class model needs at least two classes"),
				 errdetail("Every one of the " INT64_FORMAT " rows has the same label.", rs->n)));
	if (k > UBA_MAX_CLASSES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the label has " INT64_FORMAT " classes, more than the %d a multi-class model can have",
						k, UBA_MAX_CLASSES),
				 errhint("Group rare classes into one in the query, or predict a numeric target with regression.")));
	return (int) k;
}

/* Read and validate a classes section: two to UBA_MAX_CLASSES, strictly increasing */
void
uba_get_classes(UbaReader *r, UbaClasses *c)
{
	uint32		k = uba_get_u32(r);
	uint32		kind = uba_get_u32(r);

	if (k < 2 || k > UBA_MAX_CLASSES || (kind != UBA_CLASSES_NUMBERS && kind != UBA_CLASSES_TEXT))
		uba_model_corrupted("A multi-class model with %u classes of kind %u.", k, kind);
	memset(c, 0, sizeof(UbaClasses));
	c->k = (int) k;
	c->kind = (int) kind;
	c->labels = palloc(sizeof(char *) * k);
	if (kind == UBA_CLASSES_NUMBERS)
	{
		uba_reader_check_space(r, k, sizeof(double));
		c->values = palloc(sizeof(double) * k);
		uba_get_f64_array(r, c->values, k, true);
		for (uint32 i = 0; i < k; i++)
		{
			if (i > 0 && !(c->values[i] > c->values[i - 1]))
				uba_model_corrupted("The classes are not strictly increasing.");
			c->labels[i] = float8out_internal(c->values[i]);
		}
	}
	else
	{
		/* the id reader checks order, encoding and lengths */
		uba_get_ids(r, UBA_ID_TEXT, k, &c->texts, "class");
		for (uint32 i = 0; i < k; i++)
			c->labels[i] = pnstrdup(c->texts.bytes + c->texts.off[i], c->texts.off[i + 1] - c->texts.off[i]);
	}
}

/* ", \"classes\": [...]" for uba_model_info(): texts as JSON strings, numbers as numbers */
void
uba_classes_json(StringInfo json, const UbaClasses *c)
{
	appendStringInfoString(json, ", \"classes\": [");
	for (int i = 0; i < c->k; i++)
	{
		if (i > 0)
			appendStringInfoString(json, ", ");
		if (c->kind == UBA_CLASSES_TEXT)
			escape_json(json, c->labels[i]);
		else
			appendStringInfoString(json, c->labels[i]);
	}
	appendStringInfoChar(json, ']');
}
