/*-------------------------------------------------------------------------
 *
 * uba.c
 *	  Module initialization and settings
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

int			uba_max_memory_kb = 1024 * 1024;
int			uba_work_mem_kb = -1;
int			uba_threads = 0;
int			uba_model_cache_mb = 256;
bool		uba_progress_setting = false;
/* read from SQL only (current_setting): storage for the settings */
static char *uba_recommender = NULL;
int			uba_keep_versions = 0;
int			uba_debug_solve_block = 0;
bool		uba_debug_spurious_interrupts = false;
bool		uba_debug_cancel_read_back = false;

void		_PG_init(void);

/* Define the settings and stop BLAS helper threads until they are needed */
void
_PG_init(void)
{
	/*
	 * A ceiling only a superuser (or a role granted SET on it) changes, as
	 * temp_file_limit: one session must not take the server's memory.  A
	 * session lowers its own limit with uba.work_mem.
	 */
	DefineCustomIntVariable("uba.max_memory",
							"Largest amount of memory one uba call may use, in any session.",
							"Training refuses to start, with an error, when it would need more.  Only superusers change it; uba.work_mem lowers it for a session.",
							&uba_max_memory_kb,
							1024 * 1024,
							1024,
							MAX_KILOBYTES,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("uba.work_mem",
							"Memory one uba call may use in this session, at most uba.max_memory.",
							"-1, the default, means uba.max_memory.",
							&uba_work_mem_kb,
							-1,
							-1,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("uba.threads",
							"Number of threads one uba training call may use.",
							"0 means one per online CPU; 1 keeps training on the backend's own thread.  Never more than the online CPUs.",
							&uba_threads,
							0,
							0,
							64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("uba.model_cache_size",
							"Memory a backend may keep parsed models in across queries.",
							"Models read from tables are kept parsed, least recently used first out; 0 keeps none.",
							&uba_model_cache_mb,
							256,
							0,
							1024 * 1024,
							PGC_USERSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);

	/* not uba.verbose: VERBOSE is an SQL keyword, so SET uba.verbose would need quotes */
	DefineCustomBoolVariable("uba.progress",
							 "Training functions report their progress as INFO lines.",
							 "A training call's option \"verbose\" takes precedence.",
							 &uba_progress_setting,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("uba.recommender",
							   "Name of the catalog model that uba_recommend() uses.",
							   "uba_recommend(user_id, n) recommends with the active version of this model.",
							   &uba_recommender,
							   "recommender",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("uba.keep_versions",
							"How many versions of each catalog model to keep when a new one is saved.",
							"Older versions are dropped, except the active one; 0 keeps every version.",
							&uba_keep_versions,
							0,
							0,
							1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("uba.debug_solve_block",
							"Forces the blocked, interruptible matrix inversion with this block size (tests).",
							"0, the default, chooses by size.",
							&uba_debug_solve_block,
							0,
							0,
							4096,
							PGC_SUSET,
							GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("uba.debug_spurious_interrupts",
							 "Raises InterruptPending with no interrupt behind it before every block of multi-threaded work (tests).",
							 "Parallel queries' leaders get such interrupts (a worker's message) at any time.",
							 &uba_debug_spurious_interrupts,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("uba.debug_cancel_read_back",
							 "Cancels the statement while a trained model is read back (tests).",
							 "A cancel must stay a cancel there, not become an unreadable model.",
							 &uba_debug_cancel_read_back,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							 NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("uba");
#else
	EmitWarningsOnPlaceholders("uba");
#endif
	uba_blas_init();
}

/* The memory limit in force: uba.work_mem when it is set and lower, else uba.max_memory */
Size
uba_memory_limit(void)
{
	int			kb = uba_max_memory_kb;

	if (uba_work_mem_kb >= 0 && uba_work_mem_kb < kb)
		kb = uba_work_mem_kb;
	return (Size) kb * 1024;
}

/* The setting that sets that limit, for messages */
const char *
uba_memory_setting(void)
{
	return (uba_work_mem_kb >= 0 && uba_work_mem_kb < uba_max_memory_kb) ? "uba.work_mem" : "uba.max_memory";
}

/* The hint of every memory-limit error: what the user may change depends on who they are */
int
uba_memory_hint(const char *otherwise)
{
	if (uba_work_mem_kb >= 0 && uba_work_mem_kb < uba_max_memory_kb)
		return errhint("Raise uba.work_mem (up to uba.max_memory, %d MB) for this session, or %s.",
					   uba_max_memory_kb / 1024, otherwise);
	if (superuser())
		return errhint("Raise uba.max_memory, or %s.", otherwise);
	return errhint("Ask a superuser to raise uba.max_memory, or %s.", otherwise);
}

/* Refuse an allocation plan larger than the memory limit; otherwise ends the hint */
void
uba_check_memory_for(Size bytes, const char *what, const char *otherwise)
{
	Size		limit = uba_memory_limit();

	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs %zu MB of memory, more than %s (%zu MB)",
						what, (bytes + (1024 * 1024 - 1)) / (1024 * 1024),
						uba_memory_setting(), limit / (1024 * 1024)),
				 uba_memory_hint(otherwise)));
}

/* The same for training */
void
uba_check_memory(Size bytes, const char *what)
{
	uba_check_memory_for(bytes, what, "train on a sample of the rows (TABLESAMPLE)");
}

/* Whether a training call reports progress: its "verbose" option, else uba.progress */
bool
uba_progress_on(const UbaOptions *o)
{
	for (int i = 0; o != NULL && i < o->nspecs; i++)
		if (o->specs[i].type == UBA_OPT_PROGRESS && o->given[i])
			return o->value[i] != 0;
	return uba_progress_setting;
}

/* One progress line (see uba.h) */
void
uba_progress(const UbaOptions *o, const char *fmt,...)
{
	StringInfoData buf;

	if (!uba_progress_on(o))
		return;
	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	ereport(INFO, (errmsg_internal("%s", buf.data)));
	pfree(buf.data);
}
