/*-------------------------------------------------------------------------
 *
 * uba.c
 *	  Module initialization and settings
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <limits.h>

#include "utils/guc.h"

PG_MODULE_MAGIC;

int			uba_max_memory_kb = 1024 * 1024;
int			uba_threads = 0;
/* read from SQL only (current_setting): storage for the settings */
static char *uba_recommender = NULL;
static int	uba_keep_versions = 0;
int			uba_debug_solve_block = 0;

void		_PG_init(void);

/* Define the settings and stop BLAS helper threads until they are needed */
void
_PG_init(void)
{
	DefineCustomIntVariable("uba.max_memory",
							"Largest amount of memory one uba training call may use.",
							"Training refuses to start, with an error, when it would need more.",
							&uba_max_memory_kb,
							1024 * 1024,
							1024,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("uba.threads",
							"Number of threads one uba training call may use.",
							"0 means one per online CPU; 1 keeps training on the backend's own thread.",
							&uba_threads,
							0,
							0,
							64,
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

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("uba");
#else
	EmitWarningsOnPlaceholders("uba");
#endif
	uba_blas_init();
}

/* Refuse an allocation plan larger than uba.max_memory */
void
uba_check_memory(Size bytes, const char *what)
{
	Size		limit = (Size) uba_max_memory_kb * 1024;

	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs %zu MB of memory, more than uba.max_memory (%d MB)",
						what, (bytes + (1024 * 1024 - 1)) / (1024 * 1024),
						uba_max_memory_kb / 1024),
				 errhint("Raise uba.max_memory for this session, or train on a sample of the rows (TABLESAMPLE).")));
}
