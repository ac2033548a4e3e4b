/*-------------------------------------------------------------------------
 *
 * passes.c
 *	  Training by passes of statistics: a driver runs one aggregate query
 *	  per pass over the caller's query, with the current model as a
 *	  constant, and keeps only the pass's small state.
 *
 * This is how training scales past memory and out to Citus: the rows stay
 * where they are (on a single node, a parallel aggregate; on Citus, one
 * partial state per shard, computed on the workers and combined on the
 * coordinator), and each pass returns O(model) bytes.  The states are
 * bytea of a fixed layout, so Citus can split the aggregates.
 *
 * A pass's state: varlena header, 4 bytes of padding (so the values are
 * 8-byte aligned in a palloc'd state), a UbaPassHead and nvalues doubles.
 * The algorithm gives the layout meaning and checks that nvalues matches
 * its dimensions; this file checks sizes and alignment.
 *
 * The driver's query runs with the caller's rights (no switch: it is the
 * caller's own query), read-only and on one snapshot for every pass, with
 * custom plans, so the model parameter becomes a constant the workers
 * (parallel or Citus) receive once per query.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#define PASS_PAD 4

static Size
StateBytes(Size nvalues)
{
	return add_size(VARHDRSZ + PASS_PAD + sizeof(UbaPassHead), mul_size(nvalues, sizeof(double)));
}

/* The memory a bytea state lives in: the aggregate's, or the call's outside an aggregate */
MemoryContext
uba_state_context(FunctionCallInfo fcinfo)
{
	MemoryContext cxt;

	if (fcinfo == NULL || !AggCheckCallContext(fcinfo, &cxt))
		cxt = CurrentMemoryContext;
	return cxt;
}

UbaPassHead *
uba_pass_head(bytea *state)
{
	return (UbaPassHead *) (VARDATA(state) + PASS_PAD);
}

double *
uba_pass_values(bytea *state)
{
	return (double *) (VARDATA(state) + PASS_PAD + sizeof(UbaPassHead));
}

/* A zeroed state of nvalues doubles in the aggregate's memory, within uba.max_memory */
bytea *
uba_pass_state_new(FunctionCallInfo fcinfo, uint32 magic, const uint32 *dims, Size nvalues,
				   const char *what)
{
	Size		bytes = StateBytes(nvalues);
	bytea	   *b;
	UbaPassHead *h;

	uba_check_memory(bytes, what);
	if (bytes > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the state of %s would exceed 1 GB", what),
				 errhint("Use fewer clusters, candidates or features.")));
	b = MemoryContextAllocZero(uba_state_context(fcinfo), bytes);
	SET_VARSIZE(b, bytes);
	h = uba_pass_head(b);
	h->magic = magic;
	memcpy(h->dims, dims, sizeof(h->dims));
	h->nvalues = (int64) nvalues;
	return b;
}

/* Whether b is a state of this magic whose size agrees with its header */
static bool
WellFormed(bytea *b, uint32 magic)
{
	UbaPassHead h;

	if (VARSIZE(b) < VARHDRSZ + PASS_PAD + sizeof(UbaPassHead))
		return false;
	memcpy(&h, VARDATA(b) + PASS_PAD, sizeof(h));
	return h.magic == magic && h.nvalues >= 0 && (uint64) h.nvalues <= MaxAllocSize / sizeof(double) &&
		VARSIZE(b) == StateBytes((Size) h.nvalues);
}

/*
 * The state in argument argno, or NULL: its size agrees with its header,
 * and it is copied when it is not the aggregate's own (outside an
 * aggregate, or not aligned as uba allocates it, as after Citus's text
 * form), so the caller may update it in place.
 */
bytea *
uba_pass_state_arg(FunctionCallInfo fcinfo, int argno, uint32 magic, const char *what)
{
	bytea	   *b;

	if (PG_ARGISNULL(argno))
		return NULL;
	b = PG_GETARG_BYTEA_P(argno);
	if (!WellFormed(b, magic))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of %s", what)));
	if (!AggCheckCallContext(fcinfo, NULL) || ((uintptr_t) (VARDATA(b) + PASS_PAD)) % 8 != 0)
	{
		bytea	   *copy = MemoryContextAlloc(uba_state_context(fcinfo), VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		b = copy;
	}
	return b;
}

/* A driver's own state (a palloc'd copy from uba_pass_query_run), checked the same way */
bytea *
uba_pass_state_own(bytea *b, uint32 magic, const char *what)
{
	if (!WellFormed(b, magic) || ((uintptr_t) (VARDATA(b) + PASS_PAD)) % 8 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of %s", what)));
	return b;
}

/*
 * The start of a pass aggregate's combine function: when either state is
 * NULL the other is the result (a copy in the aggregate's memory); true
 * then, with *result set (NULL when both are).
 */
bool
uba_pass_combine_nulls(FunctionCallInfo fcinfo, bytea *a, bytea *b, bytea **result)
{
	if (b == NULL)
	{
		*result = a;
		return true;
	}
	if (a == NULL)
	{
		*result = MemoryContextAlloc(uba_state_context(fcinfo), VARSIZE(b));
		memcpy(*result, b, VARSIZE(b));
		return true;
	}
	return false;
}

/* A number in (0, 1) from the bytes of a row and a seed: the same row draws the same number */
double
uba_row_uniform(const double *x, int d, uint64 seed)
{
	uint64		h = hash_bytes_extended((const unsigned char *) x, (int) (d * sizeof(double)), seed);

	return ((double) (h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/*
 * Check the caller's query and prepare the pass query around it:
 *	SELECT nsp.aggregate(q.c1, .., q.cn, $1, .., $m) FROM (query) AS q(c1, .., cn)
 * The query must be one SELECT returning ncols columns of the given types.
 * Connects to SPI; uba_pass_query_close() disconnects.
 */
void
uba_pass_query_open(UbaPassQuery *pq, FunctionCallInfo fcinfo, const char *funcname,
					const char *query, int ncols, const Oid *types, const char *const *colnames,
					const char *aggregate, int nparams, const Oid *paramtypes)
{
	char	   *q = pstrdup(query);
	int			len = strlen(q);
	SPIPlanPtr plan;
	List	   *sources;
	CachedPlanSource *src;
	StringInfoData sql;
	char	   *nsp = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));

	pq->keep = CurrentMemoryContext;
	pq->funcname = funcname;
	while (len > 0 && strchr("; \n\t\r", q[len - 1]) != NULL)
		q[--len] = '\0';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	plan = SPI_prepare(q, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	src = list_length(sources) == 1 ? linitial(sources) : NULL;
	if (src == NULL || src->commandTag != CMDTAG_SELECT || src->resultDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the query of %s must be a single SELECT", funcname),
				 errhint("For example '%s'.", ncols == 1 ? "SELECT features FROM customers" :
						 "SELECT churned, features FROM customers")));
	if (src->resultDesc->natts != ncols)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the query of %s must return %d column%s, not %d", funcname, ncols,
						ncols == 1 ? "" : "s", src->resultDesc->natts),
				 errhint("It returns %s.", ncols == 1 ? colnames[0] :
						 psprintf("%s and %s", colnames[0], colnames[1]))));
	for (int i = 0; i < ncols; i++)
		if (TupleDescAttr(src->resultDesc, i)->atttypid != types[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the query of %s is %s, not %s (%s)", i + 1, funcname,
							format_type_be(TupleDescAttr(src->resultDesc, i)->atttypid),
							format_type_be(types[i]), colnames[i]),
					 errhint("Cast it in the query, for example %s::%s.",
							 NameStr(TupleDescAttr(src->resultDesc, i)->attname), format_type_be(types[i]))));
	SPI_freeplan(plan);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.%s(", quote_identifier(nsp), quote_identifier(aggregate));
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&sql, "%sq.c%d", i > 0 ? ", " : "", i + 1);
	for (int i = 0; i < nparams; i++)
		appendStringInfo(&sql, ", $%d", i + 1);
	/* newlines: a comment at the end of the query cannot swallow the parenthesis */
	appendStringInfo(&sql, ") FROM (\n%s\n) AS q(", q);
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&sql, "%sc%d", i > 0 ? ", " : "", i + 1);
	appendStringInfoChar(&sql, ')');

	/* custom plans: the model is planned as a constant, sent once to each worker */
	pq->plan = SPI_prepare_cursor(sql.data, nparams, (Oid *) paramtypes,
								  CURSOR_OPT_PARALLEL_OK | CURSOR_OPT_CUSTOM_PLAN);
	if (pq->plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/* the query alone was one statement; wrapped it must still be one */
	if (list_length(SPI_plan_get_plan_sources(pq->plan)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the query of %s must be a single SELECT", funcname)));
	pq->nparams = nparams;
	pq->passes = 0;
	MemoryContextSwitchTo(pq->keep);
}

/* Run one pass; its state (a copy in the caller's memory), or NULL when the query had no rows */
bytea *
uba_pass_query_run(UbaPassQuery *pq, Datum *params, const bool *nulls)
{
	char	   *n = palloc(pq->nparams + 1);
	bool		isnull;
	Datum		d;
	bytea	   *state = NULL;

	for (int i = 0; i < pq->nparams; i++)
		n[i] = nulls && nulls[i] ? 'n' : ' ';
	n[pq->nparams] = '\0';
	/* read-only: every pass reads the same snapshot */
	if (SPI_execute_plan(pq->plan, params, n, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "the pass query of %s failed", pq->funcname);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		bytea	   *b = DatumGetByteaP(d);

		state = MemoryContextAlloc(pq->keep, VARSIZE(b));
		memcpy(state, b, VARSIZE(b));
	}
	SPI_freetuptable(SPI_tuptable);
	MemoryContextSwitchTo(pq->keep);
	pq->passes++;
	pfree(n);
	return state;
}

void
uba_pass_query_close(UbaPassQuery *pq)
{
	SPI_freeplan(pq->plan);
	SPI_finish();
	MemoryContextSwitchTo(pq->keep);
}
