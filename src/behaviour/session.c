/*-------------------------------------------------------------------------
 *
 * session.c
 *	  uba_session(ts, gap): a window function numbering each user's
 *	  sessions 1, 2, ... over PARTITION BY user ORDER BY ts.
 *
 * A row starts a new session when the time since the previous row of its
 * partition (in the window's order) exceeds gap, exactly as
 *	  ts - lag(ts) OVER w > gap
 * would say, but in one pass and without a second window to add up the
 * session starts.  Rows whose ts is NULL get NULL and are passed over: the
 * next row is compared with the last row that had a time.  A gap of
 * months counts 30 days a month, as interval comparison does.  Infinite
 * times are more than any gap from every finite one.  Rows must come in
 * ascending time order (ORDER BY ts): a row earlier than the one before it
 * is an error, not a silent single session.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/builtins.h"
#include "windowapi.h"

PG_FUNCTION_INFO_V1(uba_session);

/* Per-partition state, zeroed by the executor at each new partition */
typedef struct SessionState
{
	bool		has_prev;		/* a row with a time has been seen */
	bool		has_gap;		/* gap_us is the converted gap */
	int32		session;		/* the current session number */
	TimestampTz prev;			/* time of the last row with one */
	Interval	gap;			/* the gap as given, to convert again only if it changes */
	int64		gap_us;
} SessionState;

/* A time as its argument's type prints it (timestamp or timestamptz) */
static const char *
TimeText(FunctionCallInfo fcinfo, TimestampTz t)
{
	bool		plain = get_fn_expr_argtype(fcinfo->flinfo, 0) == TIMESTAMPOID;

	return DatumGetCString(DirectFunctionCall1(plain ? timestamp_out : timestamptz_out, TimestampTzGetDatum(t)));
}

/* uba_session(ts timestamptz | timestamp, gap interval) → int */
Datum
uba_session(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	SessionState *st = (SessionState *) WinGetPartitionLocalMemory(winobj, sizeof(SessionState));
	bool		isnull;
	Datum		d;
	TimestampTz ts;
	Interval   *gap;

	/* no row before this one is needed again */
	WinSetMarkPosition(winobj, WinGetCurrentPosition(winobj));

	d = WinGetFuncArgCurrent(winobj, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("session gap must not be NULL"),
				 errhint("Pass the longest pause within one session, for example interval '30 minutes'.")));
	gap = DatumGetIntervalP(d);
	if (!st->has_gap || memcmp(gap, &st->gap, sizeof(Interval)) != 0)
	{
		st->gap_us = uba_interval_usecs(gap, "session gap");
		st->gap = *gap;
		st->has_gap = true;
	}

	d = WinGetFuncArgCurrent(winobj, 0, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	ts = DatumGetTimestampTz(d);
	if (st->has_prev && ts < st->prev)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("uba_session needs the rows of each partition in ascending time order"),
				 errdetail("A row at %s came after one at %s.", TimeText(fcinfo, ts), TimeText(fcinfo, st->prev)),
				 errhint("Write OVER (PARTITION BY user_id ORDER BY ts), ascending.")));
	if (!st->has_prev)
		st->session = 1;
	else if (uba_gap_exceeds(st->prev, ts, st->gap_us))
	{
		if (st->session == PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("more than 2147483647 sessions in one partition")));
		st->session++;
	}
	st->prev = ts;
	st->has_prev = true;
	PG_RETURN_INT32(st->session);
}
