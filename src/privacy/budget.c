/*-------------------------------------------------------------------------
 *
 * budget.c
 *	  The privacy budget: a DP release naming a dataset is charged to the
 *	  budget of (dataset, session user) before its value is computed, in a
 *	  transaction of its own that commits first.
 *
 * Why a transaction of its own: a charge made in the caller's transaction
 * would be undone by its rollback, after the caller had seen the value
 * (or by a crash before its commit).  So the backend hands the charge to a
 * dynamic background worker, which locks the budget's row, checks what is
 * left, adds the charge and a ledger line, and commits with
 * synchronous_commit on (the commit is flushed to the WAL before the
 * worker reports).  The backend waits for the report and releases nothing
 * unless the charge committed: every released value was paid for by a
 * durable charge, whatever happens to the caller's transaction afterwards.
 * The converse does not hold: a query cancelled or failed after its
 * charge has paid for nothing (charges are never refunded).  Concurrent
 * charges to one budget queue on its row lock, so together they never
 * exceed it.
 *
 * The role charged is the session user (the login), not the current user:
 * a SECURITY DEFINER function of the data's owner, which is how analysts
 * without SELECT on the raw table reach it, charges its caller.  The
 * worker runs as the budget table's owner with search_path pinned to
 * pg_catalog, and runs nothing but the statements below.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/* The worker's answers */
typedef enum ChargeStatus
{
	CHARGE_PENDING = 0,
	CHARGE_DONE,
	CHARGE_NO_BUDGET,
	CHARGE_EXHAUSTED,
	CHARGE_FAILED
} ChargeStatus;

/* A charge, in a DSM segment the backend and its worker share */
typedef struct ChargeRequest
{
	Oid			database;
	Oid			table_owner;	/* the worker runs as this role */
	Oid			role;			/* the role charged */
	double		epsilon;
	double		delta;
	char		schema[NAMEDATALEN];
	char		dataset[UBA_MAX_NAME_BYTES + 1];
	char		query[1024];	/* the start of the query, for the ledger */
	/* the answer */
	ChargeStatus status;
	double		epsilon_left;	/* before this charge */
	double		delta_left;
	char		message[256];	/* a failure's message */
	int			sqlerrcode;		/* and its SQLSTATE */
} ChargeRequest;

PGDLLEXPORT void uba_dp_budget_worker(Datum arg);

/* The budget table's owner; errors when it is missing, or uncommitted (the worker could not see it) */
static Oid
BudgetTableOwner(Oid nsp)
{
	Oid			owner;
	bool		created_here;

	(void) uba_extension_table(nsp, "uba_dp_budget", "the privacy budget table", &owner, &created_here);
	if (created_here)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the privacy budget cannot be charged in the transaction that created the extension"),
				 errdetail("Charges commit in a transaction of their own, which cannot see the budget table until this one commits. Nothing was released."),
				 errhint("Commit CREATE EXTENSION uba first.")));
	return owner;
}

void
uba_dp_charge(Oid namespace, const char *dataset, double epsilon, double delta)
{
	char	   *schema = get_namespace_name(namespace);
	dsm_segment *seg;
	ChargeRequest *req;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("a differentially private release with a dataset cannot be charged on a standby"),
				 errdetail("The privacy budget is written on the primary."),
				 errhint("Run the query on the primary.")));
	if (strlen(dataset) > UBA_MAX_NAME_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the dataset's name is longer than %d bytes", UBA_MAX_NAME_BYTES)));
	seg = dsm_create(sizeof(ChargeRequest), 0);
	req = dsm_segment_address(seg);
	memset(req, 0, sizeof(ChargeRequest));
	req->database = MyDatabaseId;
	strlcpy(req->schema, schema, NAMEDATALEN);
	req->table_owner = BudgetTableOwner(namespace);
	req->role = GetSessionUserId();
	req->epsilon = epsilon;
	req->delta = delta;
	strlcpy(req->dataset, dataset, sizeof(req->dataset));
	if (debug_query_string)
		strlcpy(req->query, debug_query_string, sizeof(req->query));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "uba");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "uba_dp_budget_worker");
	snprintf(worker.bgw_name, BGW_MAXLEN, "uba privacy budget charge for PID %d", MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "uba privacy budget");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker to charge the privacy budget"),
				 errdetail("Nothing was released."),
				 errhint("Raise max_worker_processes, or retry when fewer background workers run.")));
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while the privacy budget was charged")));

	switch (req->status)
	{
		case CHARGE_DONE:
			break;
		case CHARGE_NO_BUDGET:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("role \"%s\" has no privacy budget for dataset \"%s\"",
							GetUserNameFromId(req->role, false), dataset),
					 errdetail("Nothing was released."),
					 errhint("A role allowed to write uba_dp_budget grants one with uba_dp_grant().")));
			break;
		case CHARGE_EXHAUSTED:
			ereport(ERROR,
					(errcode(UBA_ERRCODE_BUDGET_EXHAUSTED),
					 errmsg("privacy budget of role \"%s\" for dataset \"%s\" is exhausted",
							GetUserNameFromId(req->role, false), dataset),
					 errdetail("The release needs epsilon %g and delta %g; epsilon %g and delta %g are left. Nothing was released.",
							   epsilon, delta, Max(req->epsilon_left, 0), Max(req->delta_left, 0))));
			break;
		default:
			ereport(ERROR,
					(errcode(req->sqlerrcode ? req->sqlerrcode : ERRCODE_INTERNAL_ERROR),
					 errmsg("the privacy budget could not be charged: %s",
							req->message[0] ? req->message : "its background worker stopped before it answered"),
					 errdetail("Nothing was released.")));
	}
	dsm_detach(seg);
}

/* Run one of the worker's statements */
static void
Run(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	(void) uba_spi_exec("privacy budget statement", sql, nargs, types, values, NULL, false, expect);
}

/*
 * The worker: one charge, in its own transaction, committed and flushed
 * before it reports.  An error is logged, copied for the backend, and ends
 * the worker (the transaction aborts: nothing is charged).
 */
void
uba_dp_budget_worker(Datum arg)
{
	dsm_segment *seg;
	ChargeRequest *req;
	char	   *budget,
			   *ledger;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(1);
	req = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(req->database, req->table_owner, 0);

	PG_TRY();
	{
		Oid			types[5] = {TEXTOID, OIDOID, FLOAT8OID, FLOAT8OID, TEXTOID};
		Datum		values[5];
		bool		isnull;
		double		eps_left,
					delta_left;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
		SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
		/* a budget row locked by a transaction that waits for this worker must not hang both */
		SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "charging the privacy budget");

		budget = psprintf("%s.uba_dp_budget", quote_identifier(req->schema));
		ledger = psprintf("%s.uba_dp_ledger", quote_identifier(req->schema));
		values[0] = CStringGetTextDatum(req->dataset);
		values[1] = ObjectIdGetDatum(req->role);
		values[2] = Float8GetDatum(req->epsilon);
		values[3] = Float8GetDatum(req->delta);
		values[4] = CStringGetTextDatum(req->query);

		Run(psprintf("SELECT epsilon OPERATOR(pg_catalog.-) epsilon_spent, delta OPERATOR(pg_catalog.-) delta_spent"
					 "  FROM %s WHERE dataset OPERATOR(pg_catalog.=) $1"
					 "   AND role::pg_catalog.oid OPERATOR(pg_catalog.=) $2 FOR UPDATE", budget),
			2, types, values, SPI_OK_SELECT);
		if (SPI_processed == 0)
			req->status = CHARGE_NO_BUDGET;
		else
		{
			eps_left = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			delta_left = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			req->epsilon_left = eps_left;
			req->delta_left = delta_left;
			/* a relative slack of 1e-9 so that ten charges of 0.1 fit a budget of 1 */
			if (req->epsilon > eps_left + 1e-9 * req->epsilon || req->delta > delta_left + 1e-9 * Max(req->delta, 1e-300))
				req->status = CHARGE_EXHAUSTED;
			else
			{
				Run(psprintf("UPDATE %s SET epsilon_spent = epsilon_spent OPERATOR(pg_catalog.+) $3,"
							 "       delta_spent = delta_spent OPERATOR(pg_catalog.+) $4"
							 " WHERE dataset OPERATOR(pg_catalog.=) $1"
							 "   AND role::pg_catalog.oid OPERATOR(pg_catalog.=) $2", budget),
					4, types, values, SPI_OK_UPDATE);
				Run(psprintf("INSERT INTO %s (dataset, role, epsilon, delta, query)"
							 " VALUES ($1, $2::pg_catalog.regrole, $3, $4, $5)", ledger),
					5, types, values, SPI_OK_INSERT);
			}
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		/* only now, committed and flushed, may the backend release */
		if (req->status == CHARGE_PENDING)
			req->status = CHARGE_DONE;
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(TopMemoryContext);
		e = CopyErrorData();
		strlcpy(req->message, e->message ? e->message : "unknown error", sizeof(req->message));
		req->sqlerrcode = e->sqlerrcode;
		req->status = CHARGE_FAILED;
		PG_RE_THROW();
	}
	PG_END_TRY();
	dsm_detach(seg);
	proc_exit(0);
}
