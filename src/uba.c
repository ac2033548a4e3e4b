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
int			uba_blas_threads = 1;

void		_PG_init(void);

/* Apply uba.blas_threads to the BLAS library whenever it changes */
static void
AssignBlasThreads(int newval, void *extra)
{
	uba_blas_set_threads(newval);
}

/* Define the settings and put BLAS into its configured thread mode */
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

	DefineCustomIntVariable("uba.blas_threads",
							"Number of threads BLAS may use inside one backend.",
							"1 keeps every backend single-threaded; raise it on a machine with idle cores.",
							&uba_blas_threads,
							1,
							1,
							64,
							PGC_USERSET,
							0,
							NULL, AssignBlasThreads, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("uba");
#else
	EmitWarningsOnPlaceholders("uba");
#endif
	uba_blas_set_threads(uba_blas_threads);
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
