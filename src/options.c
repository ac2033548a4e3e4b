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

/* Validate one option value and store it */
static void
SetOption(UbaOptions *o, int idx, JsonbValue *v, const char *funcname)
{
	const UbaOptionSpec *spec = &o->specs[idx];
	double		d;

	switch (spec->type)
	{
		case UBA_OPT_BOOL:
			if (v->type != jbvBool)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" of %s must be true or false", spec->name, funcname)));
			o->value[idx] = v->val.boolean ? 1.0 : 0.0;
			break;

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
			d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
												   NumericGetDatum(v->val.numeric)));
			if (!isfinite(d))
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

	Assert(nspecs <= (int) lengthof(out->value));
	out->specs = specs;
	out->nspecs = nspecs;
	for (int i = 0; i < nspecs; i++)
	{
		out->value[i] = specs[i].def;
		out->given[i] = false;
	}
	if (opts == NULL)
		return;

	if (!JB_ROOT_IS_OBJECT(opts) || JB_ROOT_IS_SCALAR(opts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options of %s must be a JSON object", funcname),
				 errhint("For example '{\"%s\": ...}'.", specs[0].name)));

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
	for (int i = 0; i < o->nspecs; i++)
	{
		const UbaOptionSpec *spec = &o->specs[i];

		appendStringInfo(&s, "%s\"%s\": ", i > 0 ? ", " : "", spec->name);
		switch (spec->type)
		{
			case UBA_OPT_BOOL:
				appendStringInfoString(&s, o->value[i] != 0 ? "true" : "false");
				break;
			case UBA_OPT_CHOICE:
				appendStringInfo(&s, "\"%s\"", spec->choices[(int) o->value[i]]);
				break;
			case UBA_OPT_INT:
				appendStringInfo(&s, "%.0f", o->value[i]);
				break;
			case UBA_OPT_FLOAT:
				appendStringInfo(&s, "%.17g", o->value[i]);
				break;
		}
	}
	appendStringInfoChar(&s, '}');
	return s.data;
}

/* Whether two optional options values are byte-for-byte equal (they must match on every row) */
bool
uba_options_equal(Jsonb *a, Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}
