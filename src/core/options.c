/*-------------------------------------------------------------------------
 *
 * options.c
 *	  One parser for the jsonb options of every training function: unknown
 *	  keys name the valid ones, wrong types and out-of-range values say
 *	  which option and why.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "utils/builtins.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/date.h"
#include "utils/json.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/numeric.h"

/* Position of an option in the spec list, or -1 */
static int
FindSpec(const UbaOptions *o, const char *name, int len)
{
	for (int i = 0; i < o->nspecs; i++)
		if ((int) strlen(o->specs[i].name) == len &&
			strncmp(o->specs[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Comma-separated list of valid option names, for error details */
static char *
SpecNames(const UbaOptions *o)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < o->nspecs; i++)
		appendStringInfo(&s, "%s%s", i > 0 ? ", " : "", o->specs[i].name);
	return s.data;
}

/* Comma-separated list of a choice option's values */
static char *
ChoiceNames(const UbaOptionSpec *spec)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; spec->choices[i] != NULL; i++)
		appendStringInfo(&s, "%s\"%s\"", i > 0 ? ", " : "", spec->choices[i]);
	return s.data;
}

/* A number as a user wrote it: integers without exponent */
static char *
FormatNumber(double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		return psprintf("%.0f", d);
	return psprintf("%g", d);
}

/* The string of a JSON value, or NULL when it is not a string */
static char *
JsonbString(JsonbValue *v)
{
	return v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len) : NULL;
}

/* A number of a JSON value as a finite double, or NaN */
static double
JsonbNumber(JsonbValue *v)
{
	double		d;

	if (v->type != jbvNumeric)
		return get_float8_nan();
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v->val.numeric)));
	return isfinite(d) ? d : get_float8_nan();
}

/* An option given as an object of the spec's keys, each a positive number */
static void
SetWeights(UbaOptions *o, int idx, JsonbValue *v, const char *funcname)
{
	const UbaOptionSpec *spec = &o->specs[idx];
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			nkeys = 0,
				key = -1,
				nchoices = 0;
	bool		seen[UBA_OPT_MAX_KEYS] = {false};
	StringInfoData keys;

	initStringInfo(&keys);
	for (; spec->keys[nkeys] != NULL; nkeys++)
		appendStringInfo(&keys, "%s\"%s\"", nkeys > 0 ? " and " : "", spec->keys[nkeys]);
	while (spec->choices[nchoices] != NULL)
		nchoices++;
	Assert(nkeys <= UBA_OPT_MAX_KEYS);

	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			char	   *name = JsonbString(&e);

			for (key = 0; key < nkeys; key++)
				if (strcmp(spec->keys[key], name) == 0)
					break;
			if (key == nkeys)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s has an unknown key \"%s\"", spec->name, funcname, name),
						 errdetail("Its keys are %s.", keys.data)));
		}
		else if (tok == WJB_VALUE)
		{
			double		w = JsonbNumber(&e);

			if (!(w > 0 && w <= spec->max))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("weights of option \"%s\" of %s must be positive numbers up to %s",
								spec->name, funcname, FormatNumber(spec->max)),
						 isnan(w) ? errdetail("Key \"%s\" is not a finite number.", spec->keys[key]) :
						 errdetail("Key \"%s\" has %s.", spec->keys[key], FormatNumber(w))));
			o->weights[key] = w;
			seen[key] = true;
		}
	}
	for (key = 0; key < nkeys; key++)
		if (!seen[key])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s needs a weight for each of %s",
							spec->name, funcname, keys.data),
					 errdetail("\"%s\" is missing.", spec->keys[key])));
	o->value[idx] = nchoices;
}

/* An option given as an array of distinct, non-empty strings */
static void
SetNames(UbaOptions *o, int idx, JsonbValue *v, const char *funcname)
{
	const UbaOptionSpec *spec = &o->specs[idx];
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;
	const char *dup;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" of %s must be an array of strings", spec->name, funcname)));
	o->names = palloc(sizeof(char *) * Max(1, JsonContainerSize(v->val.binary.data)));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		char	   *name;

		if (tok != WJB_ELEM)
			continue;
		name = JsonbString(&e);
		if (name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s must be an array of strings", spec->name, funcname),
					 errdetail("Element %d is not a string.", n + 1)));
		o->names[n++] = name;
	}
	o->nnames = n;
	o->lists[idx] = o->names;
	o->nlists[idx] = n;
	for (int i = 0; i < n; i++)
		if (o->names[i][0] == '\0' || strlen(o->names[i]) > UBA_MAX_NAME_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be between 1 and %d bytes long", spec->name, UBA_MAX_NAME_BYTES),
					 errdetail("Name %d has %zu bytes.", i + 1, strlen(o->names[i]))));
	dup = uba_duplicate_name(o->names, n);
	if (dup != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be distinct", spec->name),
				 errdetail("\"%s\" appears more than once.", dup)));
}

/* An array of equally long arrays of finite numbers, kept row-major */
static void
SetMatrix(UbaOptions *o, int idx, JsonbValue *v, const char *funcname)
{
	const UbaOptionSpec *spec = &o->specs[idx];
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			rows = 0,
				cols = -1,
				col = 0,
				depth = 0;
	Size		cap = 16,
				at;
	double	   *m;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerSize(v->val.binary.data) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" of %s must be a non-empty array of arrays of numbers", spec->name, funcname),
				 errhint("For example {\"%s\": [[0, 1], [2, 3]]}.", spec->name)));
	m = palloc(sizeof(double) * cap);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_ARRAY)
		{
			if (++depth > 2)
				break;
			col = 0;
			continue;
		}
		if (tok == WJB_END_ARRAY)
		{
			if (depth-- == 2)
			{
				if (cols >= 0 && col != cols)
					ereport(ERROR,
							(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							 errmsg("the rows of option \"%s\" of %s must all have the same length", spec->name, funcname),
							 errdetail("Row 1 has %d numbers, row %d has %d.", cols, rows + 1, col)));
				if (col == 0)
					break;
				cols = col;
				rows++;
			}
			continue;
		}
		if (depth != 2 || e.type != jbvNumeric)
		{
			depth = 3;			/* not an array of arrays of numbers */
			break;
		}
		at = (Size) rows * Max(cols, 0) + col;
		if (at >= cap)
		{
			if (cap >= 64 * 1024 * 1024)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("option \"%s\" of %s is too large", spec->name, funcname)));
			cap *= 2;
			m = repalloc(m, sizeof(double) * cap);
		}
		m[at] = JsonbNumber(&e);
		if (!isfinite(m[at]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s must hold finite numbers", spec->name, funcname)));
		col++;
	}
	if (depth != 0 || rows == 0 || cols <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" of %s must be a non-empty array of arrays of numbers", spec->name, funcname),
				 errhint("For example {\"%s\": [[0, 1], [2, 3]]}.", spec->name)));
	o->matrix = m;
	o->matrix_rows = rows;
	o->matrix_cols = cols;
}

/* An array of numbers, each within the spec's range: integers (SIZES, layer sizes) or any (NUMBERS) */
static void
SetList(UbaOptions *o, int idx, JsonbValue *v, const char *funcname)
{
	const UbaOptionSpec *spec = &o->specs[idx];
	bool		integers = spec->type == UBA_OPT_SIZES;
	int			most = integers ? UBA_OPT_MAX_SIZES : UBA_OPT_MAX_NUMBERS;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" of %s must be an array of %s", spec->name, funcname,
						integers ? "integers" : "numbers"),
				 integers ? errhint("For example {\"%s\": [64, 32]}.", spec->name) :
				 errhint("For example {\"%s\": [1, 1, 3]}.", spec->name)));
	if (JsonContainerSize(v->val.binary.data) > (uint32) most)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" of %s takes at most %d %s", spec->name, funcname, most,
						integers ? "integers" : "numbers"),
				 errdetail("Got %u.", JsonContainerSize(v->val.binary.data))));
	o->list = palloc(sizeof(double) * Max(1, JsonContainerSize(v->val.binary.data)));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		double		d;

		if (tok != WJB_ELEM)
			continue;
		d = e.type == jbvNumeric ? JsonbNumber(&e) : NAN;
		if (!(d >= spec->min && d <= spec->max) || (integers && d != floor(d)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s must hold %s between %s and %s",
							spec->name, funcname, integers ? "integers" : "numbers",
							FormatNumber(spec->min), FormatNumber(spec->max)),
					 errdetail("Element %d is not.", n + 1)));
		o->list[n++] = d;
	}
	o->nlist = n;
	o->value[idx] = n;
}

/* Order names for finding duplicates */
static int
CompareNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * A feature_names option, when given, must name every feature.  (Its
 * names were checked when it was parsed: non-empty, bounded, distinct.)
 */
void
uba_options_check_names(const UbaOptions *o, int n_features)
{
	if (o->names != NULL && o->nnames != n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature_names has %d names, but the features have %d elements",
						o->nnames, n_features),
				 errhint("Give one name per feature, in feature order.")));
}

/* A name that appears more than once among n names, or NULL */
const char *
uba_duplicate_name(char **names, int n)
{
	char	  **sorted = palloc(sizeof(char *) * Max(1, n));
	const char *dup = NULL;

	memcpy(sorted, names, sizeof(char *) * n);
	qsort(sorted, n, sizeof(char *), CompareNames);
	for (int i = 1; i < n && dup == NULL; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			dup = sorted[i];
	pfree(sorted);
	return dup;
}

/* Validate one option value and store it */
static void
SetOption(UbaOptions *o, int idx, JsonbValue *v, const char *funcname)
{
	const UbaOptionSpec *spec = &o->specs[idx];
	double		d;

	switch (spec->type)
	{
		case UBA_OPT_BOOL:
		case UBA_OPT_PROGRESS:
			if (v->type != jbvBool)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be true or false", spec->name, funcname)));
			o->value[idx] = v->val.boolean ? 1.0 : 0.0;
			break;

		case UBA_OPT_NAMES:
			SetNames(o, idx, v, funcname);
			break;

		case UBA_OPT_MATRIX:
			SetMatrix(o, idx, v, funcname);
			break;

		case UBA_OPT_SIZES:
		case UBA_OPT_NUMBERS:
			SetList(o, idx, v, funcname);
			break;

		case UBA_OPT_TEXT:
			{
				char	   *text = JsonbString(v);

				if (text == NULL || text[0] == '\0' || strlen(text) > UBA_MAX_NAME_BYTES)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("option \"%s\" of %s must be a string of 1 to %d bytes",
									spec->name, funcname, UBA_MAX_NAME_BYTES)));
				o->lists[idx] = palloc(sizeof(char *));
				o->lists[idx][0] = text;
				o->nlists[idx] = 1;
			}
			break;

		case UBA_OPT_DATE:
			{
				DateADT		date;

				if (v->type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("option \"%s\" of %s must be a date as a string", spec->name, funcname),
							 errhint("For example {\"%s\": \"2011-12-09\"}, or jsonb_build_object('%s', some_date).",
									 spec->name, spec->name)));
				/* date_in takes the date part of a timestamp's text too (as jsonb writes one) */
				date = DatumGetDateADT(DirectFunctionCall1(date_in,
														   CStringGetDatum(pnstrdup(v->val.string.val, v->val.string.len))));
				if (DATE_NOT_FINITE(date))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("option \"%s\" of %s must be a finite date", spec->name, funcname)));
				o->value[idx] = (double) date;
			}
			break;

		case UBA_OPT_WEIGHTS:
			if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data))
			{
				SetWeights(o, idx, v, funcname);
				break;
			}
			/* FALLTHROUGH */
		case UBA_OPT_CHOICE:
			if (v->type == jbvString)
			{
				for (int i = 0; spec->choices[i] != NULL; i++)
					if ((int) strlen(spec->choices[i]) == v->val.string.len &&
						strncmp(spec->choices[i], v->val.string.val, v->val.string.len) == 0)
					{
						o->value[idx] = i;
						o->given[idx] = true;
						return;
					}
			}
			if (spec->type == UBA_OPT_WEIGHTS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be one of %s, or an object of weights",
								spec->name, funcname, ChoiceNames(spec)),
						 errhint("For example {\"%s\": 2, \"%s\": 1}.", spec->keys[0], spec->keys[1])));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" of %s must be one of %s",
							spec->name, funcname, ChoiceNames(spec))));
			break;

		case UBA_OPT_INT:
		case UBA_OPT_FLOAT:
			if (v->type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be a number", spec->name, funcname)));
			d = JsonbNumber(v);
			if (isnan(d))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be a finite number", spec->name, funcname)));
			if (spec->type == UBA_OPT_INT && d != floor(d))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be an integer", spec->name, funcname),
						 errdetail("Got %s.", FormatNumber(d))));
			if (d < spec->min || d > spec->max)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be between %s and %s",
								spec->name, funcname, FormatNumber(spec->min), FormatNumber(spec->max)),
						 errdetail("Got %s.", FormatNumber(d))));
			o->value[idx] = d;
			break;
	}
	o->given[idx] = true;
}

/*
 * Parse options (NULL means all defaults) against specs.  funcname is the
 * SQL function the user called, for messages.
 */
void
uba_parse_options(Jsonb *opts, const UbaOptionSpec *specs, int nspecs,
				  const char *funcname, UbaOptions *out)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			idx = -1;

	/* a programming error, but one that would write past the arrays: checked in every build */
	if (nspecs > (int) lengthof(out->value))
		elog(ERROR, "uba: %s has %d options, more than %d", funcname, nspecs, (int) lengthof(out->value));
	out->specs = specs;
	out->nspecs = nspecs;
	out->names = NULL;
	out->nnames = 0;
	out->matrix = NULL;
	out->matrix_rows = out->matrix_cols = 0;
	out->list = NULL;
	out->nlist = 0;
	for (int i = 0; i < nspecs; i++)
	{
		out->value[i] = specs[i].def;
		out->given[i] = false;
		if (specs[i].type == UBA_OPT_SIZES)
		{
			/* the default is one integer; value[] holds the count */
			out->list = palloc(sizeof(double));
			out->list[0] = specs[i].def;
			out->nlist = 1;
			out->value[i] = 1;
		}
		else if (specs[i].type == UBA_OPT_NUMBERS)
			out->value[i] = 0;
		out->lists[i] = NULL;
		out->nlists[i] = 0;
	}
	if (opts == NULL)
		return;

	if (!JB_ROOT_IS_OBJECT(opts) || JB_ROOT_IS_SCALAR(opts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options of %s must be a JSON object", funcname),
				 errhint("For example '{\"%s\": ...}'::jsonb.", specs[0].name)));

	it = JsonbIteratorInit(&opts->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			idx = FindSpec(out, v.val.string.val, v.val.string.len);
			if (idx < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown option \"%s\" for %s",
								pnstrdup(v.val.string.val, v.val.string.len), funcname),
						 errdetail("Valid options are: %s.", SpecNames(out))));
		}
		else if (tok == WJB_VALUE)
			SetOption(out, idx, &v, funcname);
	}
}

/* Value of a named option (programming error if the name is not a spec) */
double
uba_option(const UbaOptions *o, const char *name)
{
	int			idx = FindSpec(o, name, strlen(name));

	if (idx < 0)
		elog(ERROR, "uba option \"%s\" is not defined", name);
	return o->value[idx];
}

/* Whether the user gave a named option */
bool
uba_option_given(const UbaOptions *o, const char *name)
{
	int			idx = FindSpec(o, name, strlen(name));

	if (idx < 0)
		elog(ERROR, "uba option \"%s\" is not defined", name);
	return o->given[idx];
}

/* The strings of a NAMES option (*n of them), or NULL when it was not given */
char	  **
uba_option_names(const UbaOptions *o, const char *name, int *n)
{
	int			idx = FindSpec(o, name, strlen(name));

	if (idx < 0 || o->specs[idx].type != UBA_OPT_NAMES)
		elog(ERROR, "uba option \"%s\" is not a list of names", name);
	*n = o->nlists[idx];
	return o->lists[idx];
}

/* A TEXT option's string, or NULL when it was not given */
const char *
uba_option_text(const UbaOptions *o, const char *name)
{
	int			idx = FindSpec(o, name, strlen(name));

	if (idx < 0 || o->specs[idx].type != UBA_OPT_TEXT)
		elog(ERROR, "uba option \"%s\" is not a string", name);
	return o->lists[idx] != NULL ? o->lists[idx][0] : NULL;
}

/* The MATRIX option, row-major, or NULL when it was not given */
const double *
uba_option_matrix(const UbaOptions *o, int *rows, int *cols)
{
	*rows = o->matrix_rows;
	*cols = o->matrix_cols;
	return o->matrix;
}

/* The SIZES or NUMBERS option's values (*n of them; SIZES: the default's one when not given) */
const double *
uba_option_list(const UbaOptions *o, int *n)
{
	*n = o->nlist;
	return o->list;
}

/* Set an option's effective value (for defaults that depend on others) */
void
uba_option_set(UbaOptions *o, const char *name, double value)
{
	int			idx = FindSpec(o, name, strlen(name));

	if (idx < 0)
		elog(ERROR, "uba option \"%s\" is not defined", name);
	o->value[idx] = value;
}

/* Canonical JSON of every option's effective value, stored in models */
char *
uba_options_to_json(const UbaOptions *o)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0, shown = 0; i < o->nspecs; i++)
	{
		const UbaOptionSpec *spec = &o->specs[i];

		if (spec->type == UBA_OPT_NAMES || spec->type == UBA_OPT_PROGRESS)
			continue;			/* names are in the model's metadata; progress is no parameter */
		if (spec->type == UBA_OPT_MATRIX && o->matrix == NULL)
			continue;			/* given centres are shown only when given */
		appendStringInfo(&s, "%s\"%s\": ", shown++ > 0 ? ", " : "", spec->name);
		switch (spec->type)
		{
			case UBA_OPT_NAMES:
			case UBA_OPT_PROGRESS:
				break;
			case UBA_OPT_BOOL:
				appendStringInfoString(&s, o->value[i] != 0 ? "true" : "false");
				break;
			case UBA_OPT_WEIGHTS:
				if (spec->choices[(int) o->value[i]] == NULL)
				{
					appendStringInfoChar(&s, '{');
					for (int k = 0; spec->keys[k] != NULL; k++)
						appendStringInfo(&s, "%s\"%s\": %.17g", k > 0 ? ", " : "",
										 spec->keys[k], o->weights[k]);
					appendStringInfoChar(&s, '}');
					break;
				}
				/* one of the named choices, written as a choice is */
				/* FALLTHROUGH */
			case UBA_OPT_CHOICE:
				appendStringInfo(&s, "\"%s\"", spec->choices[(int) o->value[i]]);
				break;
			case UBA_OPT_INT:
				appendStringInfo(&s, "%.0f", o->value[i]);
				break;
			case UBA_OPT_FLOAT:
				appendStringInfo(&s, "%.17g", o->value[i]);
				break;
			case UBA_OPT_MATRIX:
				if (o->matrix == NULL)
					appendStringInfoString(&s, "null");
				else
				{
					appendStringInfoChar(&s, '[');
					for (int r = 0; r < o->matrix_rows; r++)
					{
						appendStringInfoString(&s, r > 0 ? ", [" : "[");
						for (int c = 0; c < o->matrix_cols; c++)
							appendStringInfo(&s, "%s%.17g", c > 0 ? ", " : "",
											 o->matrix[(Size) r * o->matrix_cols + c]);
						appendStringInfoChar(&s, ']');
					}
					appendStringInfoChar(&s, ']');
				}
				break;
			case UBA_OPT_SIZES:
			case UBA_OPT_NUMBERS:
				appendStringInfoChar(&s, '[');
				for (int k = 0; k < o->nlist; k++)
					appendStringInfo(&s, "%s%.17g", k > 0 ? ", " : "", o->list[k]);
				appendStringInfoChar(&s, ']');
				break;
			case UBA_OPT_TEXT:
				if (o->lists[i] == NULL)
					appendStringInfoString(&s, "null");
				else
					escape_json(&s, o->lists[i][0]);
				break;
			case UBA_OPT_DATE:
				if (isnan(o->value[i]))
					appendStringInfoString(&s, "null");
				else
				{
					char		buf[MAXDATELEN + 1];
					struct pg_tm tm;

					j2date((int) o->value[i] + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
					EncodeDateOnly(&tm, USE_ISO_DATES, buf);
					appendStringInfo(&s, "\"%s\"", buf);
				}
				break;
		}
	}
	appendStringInfoChar(&s, '}');
	return s.data;
}

/* An aggregate's copy of the first row's options (NULL stays NULL), for uba_check_same_options */
Jsonb *
uba_options_copy(MemoryContext cxt, const Jsonb *options)
{
	Jsonb	   *copy;

	if (options == NULL)
		return NULL;
	copy = MemoryContextAlloc(cxt, VARSIZE(options));
	memcpy(copy, options, VARSIZE(options));
	return copy;
}

/* Read a serialized aggregate state with the pq_getmsg functions (they check every length) */
void
uba_message_of(StringInfo buf, bytea *b)
{
	buf->data = VARDATA_ANY(b);
	buf->len = VARSIZE_ANY_EXHDR(b);
	buf->maxlen = buf->len;
	buf->cursor = 0;
}

/* An aggregate state's options in its serialized form: length (-1 for none), then the bytes */
void
uba_options_send(StringInfo buf, const Jsonb *options)
{
	pq_sendint32(buf, options ? (int32) VARSIZE(options) : -1);
	if (options)
		pq_sendbytes(buf, (const char *) options, VARSIZE(options));
}

/* And back, into cxt (NULL for none) */
Jsonb *
uba_options_receive(StringInfo buf, MemoryContext cxt)
{
	int32		len = pq_getmsgint(buf, 4);
	Jsonb	   *options;

	if (len == -1)
		return NULL;
	if (len < (int32) VARHDRSZ)
		elog(ERROR, "uba: corrupted aggregate state");
	options = MemoryContextAlloc(cxt, len);
	pq_copymsgbytes(buf, (char *) options, len);
	if (VARSIZE(options) != (Size) len)
		elog(ERROR, "uba: corrupted aggregate state");
	return options;
}

/*
 * The options of a training aggregate must not change between rows, in
 * serial and parallel plans alike: first is what the first row gave.
 */
void
uba_check_same_options(const Jsonb *first, const Jsonb *options)
{
	if (first == NULL || options == NULL ? first != options :
		VARSIZE(first) != VARSIZE(options) || memcmp(first, options, VARSIZE(first)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be the same for every row of one aggregate call")));
}
