/*-------------------------------------------------------------------------
 *
 * linalg.c
 *	  Thin wrapper over OpenBLAS/LAPACK.
 *
 * BLAS threads.  OpenBLAS starts helper threads when the library loads,
 * with the backend's signal mask of that moment, and they busy-wait for a
 * while after any work, taking a core from the backend.  A process-directed
 * signal (SIGINT for cancel, SIGALRM for statement_timeout) could also run
 * PostgreSQL's handler on one of them.  So at load we stop those threads
 * and set BLAS to one thread.  Only uba_gemm_abt() raises the count, to
 * uba.threads, and it does so with every signal blocked: any thread BLAS
 * creates then inherits a fully blocked mask, handlers only ever run on the
 * backend's thread, and BLAS threads never call into PostgreSQL.  Signals
 * that arrive meanwhile wait until the call returns; callers keep each call
 * to a block of rows, so cancel stays prompt.  The stop entry point is
 * looked up at run time so a serial or OpenMP build of OpenBLAS works too.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <cblas.h>

extern void openblas_set_num_threads(int num_threads);

/* At load: no BLAS helper threads until a call asks for them */
void
uba_blas_init(void)
{
	int			(*shutdown) (void) = (int (*) (void)) dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
	sigset_t	all,
				old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	openblas_set_num_threads(1);	/* may start the pool, so stop it after */
	if (shutdown != NULL)
		shutdown();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* C = alpha * A * B^T + beta * C, all row-major */
void
uba_gemm_abt(int m, int n, int k, double alpha, const double *A,
			 const double *B, double beta, double *C)
{
	int			nthreads = uba_thread_count();
	sigset_t	all,
				old;

	if (nthreads > 1)
	{
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		openblas_set_num_threads(nthreads);
	}
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
				alpha, A, k, B, k, beta, C, n);
	if (nthreads > 1)
	{
		openblas_set_num_threads(1);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}
