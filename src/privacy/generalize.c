/*-------------------------------------------------------------------------
 *
 * generalize.c
 *	  uba_generalize_age, uba_generalize_zip and uba_generalize_date:
 *	  coarser quasi-identifiers, for k-anonymity (kanon.c).
 *
 * These are small enough for SQL, but a SQL function cannot raise an error
 * of its own (with its SQLSTATE) without PL/pgSQL, and a PL/pgSQL function
 * is not inlined: in C they check their arguments, cost one call each, and
 * stay IMMUTABLE, STRICT and PARALLEL SAFE.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

PG_FUNCTION_INFO_V1(uba_generalize_age);
PG_FUNCTION_INFO_V1(uba_generalize_zip);
PG_FUNCTION_INFO_V1(uba_generalize_date);

/*
 * uba_generalize_age(age int, band int, top int) returns text: the band of
 * width band from 0 holding age ('30-39'; '30' for a band of 1), cut short
 * below top, or 'top+' from top on ('90+').
 */
Datum
uba_generalize_age(PG_FUNCTION_ARGS)
{
	int32		age = PG_GETARG_INT32(0);
	int32		band = PG_GETARG_INT32(1);
	int32		top = PG_GETARG_INT32(2);
	int64		lo,
				hi;

	if (band < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("band must be at least 1"),
				 errdetail("Got %d.", band)));
	if (top < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top must not be negative"),
				 errdetail("Got %d.", top)));
	if (age < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("age must not be negative"),
				 errdetail("Got %d.", age)));
	if (age >= top)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("%d+", top)));
	lo = age - age % band;
	hi = Min(lo + band - 1, (int64) top - 1);
	if (lo == hi)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf(INT64_FORMAT, lo)));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf(INT64_FORMAT "-" INT64_FORMAT, lo, hi)));
}

/*
 * uba_generalize_zip(zip text, keep int) returns text: the first keep
 * characters, each of the others replaced by '*' (as long as zip, in
 * characters).
 */
Datum
uba_generalize_zip(PG_FUNCTION_ARGS)
{
	text	   *zip = PG_GETARG_TEXT_PP(0);
	int32		keep = PG_GETARG_INT32(1);
	const char *p = VARDATA_ANY(zip);
	int			len = VARSIZE_ANY_EXHDR(zip);
	int			kept_bytes = 0,
				masked = 0;
	text	   *result;

	if (keep < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep must not be negative"),
				 errdetail("Got %d.", keep)));
	/* the bytes of the first keep characters, then the characters after them */
	for (int32 chars = 0; kept_bytes < len && chars < keep; chars++)
		kept_bytes += pg_mblen(p + kept_bytes);
	kept_bytes = Min(kept_bytes, len);
	masked = pg_mbstrlen_with_len(p + kept_bytes, len - kept_bytes);
	result = palloc(VARHDRSZ + kept_bytes + masked);
	SET_VARSIZE(result, VARHDRSZ + kept_bytes + masked);
	memcpy(VARDATA(result), p, kept_bytes);
	memset(VARDATA(result) + kept_bytes, '*', masked);
	PG_RETURN_TEXT_P(result);
}

/*
 * uba_generalize_date(d date, unit text) returns date: the first day of
 * the date's week (a Monday, as ISO 8601 and date_trunc), month, quarter
 * or year.  Infinite dates stay as they are.
 */
Datum
uba_generalize_date(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);
	char	   *unit = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			julian,
				year,
				month,
				day;
	int			start;

	if (pg_strcasecmp(unit, "week") != 0 && pg_strcasecmp(unit, "month") != 0 &&
		pg_strcasecmp(unit, "quarter") != 0 && pg_strcasecmp(unit, "year") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unit must be \"week\", \"month\", \"quarter\" or \"year\""),
				 errdetail("Got \"%s\".", unit)));
	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);
	julian = d + POSTGRES_EPOCH_JDATE;
	if (pg_strcasecmp(unit, "week") == 0)
	{
		/* j2date's day of the week counts from Sunday (0): back to Monday */
		PG_RETURN_DATEADT(d - (j2day(julian) + 6) % 7);
	}
	j2date(julian, &year, &month, &day);
	if (pg_strcasecmp(unit, "quarter") == 0)
		month = (month - 1) / 3 * 3 + 1;
	else if (pg_strcasecmp(unit, "year") == 0)
		month = 1;
	start = date2j(year, month, 1);
	/* the first dates PostgreSQL has are in November 4714 BC: their year's start is not a date */
	if (start < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date out of range")));
	PG_RETURN_DATEADT(start - POSTGRES_EPOCH_JDATE);
}
