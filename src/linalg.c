/*-------------------------------------------------------------------------
 *
 * linalg.c
 *	  Thin wrapper over OpenBLAS/LAPACK.
 *
 * BLAS threads: a backend is a process among many, so by default BLAS runs
 * in the calling thread (uba.blas_threads = 1).  Callers split long BLAS
 * work into blocks of UBA_BLOCK_ROWS rows and check for interrupts between
 * blocks, so cancel and statement_timeout are honoured within milliseconds
 * whatever the thread setting.
 *
 * OpenBLAS starts its helper threads when the library is loaded, with the
 * backend's signal mask of that moment, so a process-directed signal
 * (SIGINT for cancel, SIGALRM for statement_timeout) could run
 * PostgreSQL's handler on a BLAS thread.  We restart those threads once,
 * and create any later ones, with every signal blocked: handlers then only
 * ever run on the backend's own thread, and BLAS threads never call into
 * PostgreSQL.  The restart entry points are looked up at run time so a
 * serial or OpenMP build of OpenBLAS works too.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <cblas.h>

extern void openblas_set_num_threads(int num_threads);

static bool blas_threads_masked = false;

/* Set the number of threads OpenBLAS may use; its threads block all signals */
void
uba_blas_set_threads(int nthreads)
{
	sigset_t	all,
				old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (!blas_threads_masked)
	{
		int			(*shutdown) (void) = (int (*) (void)) dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
		int			(*init) (void) = (int (*) (void)) dlsym(RTLD_DEFAULT, "blas_thread_init");

		if (shutdown != NULL && init != NULL)
		{
			shutdown();
			init();
		}
		blas_threads_masked = true;
	}
	openblas_set_num_threads(nthreads);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* C = alpha * A * B^T + beta * C, all row-major */
void
uba_gemm_abt(int m, int n, int k, double alpha, const double *A,
			 const double *B, double beta, double *C)
{
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
				alpha, A, k, B, k, beta, C, n);
}
