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

/* Floating-point operations below which a BLAS call stays on one thread */
#define BLAS_THREADED_FLOPS 4e6

/*
 * Around every BLAS call: when more than one thread is allowed and the call
 * does at least BLAS_THREADED_FLOPS, block all signals (threads BLAS
 * creates inherit the mask) and let BLAS use the threads.
 */
typedef struct BlasScope
{
	int			nthreads;
	sigset_t	old;
} BlasScope;

static void
BlasBegin(BlasScope *scope, double flops)
{
	sigset_t	all;

	scope->nthreads = flops >= BLAS_THREADED_FLOPS ? uba_thread_count() : 1;
	if (scope->nthreads > 1)
	{
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &scope->old);
		openblas_set_num_threads(scope->nthreads);
	}
}

static void
BlasEnd(BlasScope *scope)
{
	if (scope->nthreads > 1)
	{
		openblas_set_num_threads(1);
		pthread_sigmask(SIG_SETMASK, &scope->old, NULL);
	}
}

/* C = alpha * A * B^T + beta * C, all row-major */
void
uba_gemm_abt(int m, int n, int k, double alpha, const double *A,
			 const double *B, double beta, double *C)
{
	BlasScope	scope;

	BlasBegin(&scope, 2.0 * m * n * k);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
				alpha, A, k, B, k, beta, C, n);
	BlasEnd(&scope);
}

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
					const int *lda, double *b, const int *ldb, int *info);

extern void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
extern void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);

/*
 * Diagonal of the inverse of symmetric positive definite A (n x n, upper
 * triangle of a row-major matrix; overwritten).  Returns false when A is
 * not positive definite.
 */
bool
uba_spd_inverse_diagonal(int n, double *A, double *diag)
{
	BlasScope	scope;
	int			info = 0;
	char		lower = 'L';	/* row-major upper = column-major lower */

	BlasBegin(&scope, (double) n * n * n);
	dpotrf_(&lower, &n, A, &n, &info);
	if (info == 0)
		dpotri_(&lower, &n, A, &n, &info);
	BlasEnd(&scope);
	if (info != 0)
		return false;
	for (int i = 0; i < n; i++)
		diag[i] = A[(Size) i * n + i];
	return true;
}

/*
 * The inverse of symmetric positive definite A (n x n, single precision,
 * row-major; the upper triangle is used), in place and full.  Returns
 * false when A is not positive definite.  Two LAPACK calls of n^3 / 3 and
 * 2 n^3 / 3 operations: not interruptible, so callers bound n.
 */
bool
uba_spd_inverse_f32(int n, float *A)
{
	BlasScope	scope;
	int			info = 0;
	char		lower = 'L';	/* row-major upper = column-major lower */

	BlasBegin(&scope, (double) n * n * n);
	spotrf_(&lower, &n, A, &n, &info);
	if (info == 0)
		spotri_(&lower, &n, A, &n, &info);
	BlasEnd(&scope);
	if (info != 0)
		return false;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			A[(Size) i * n + j] = A[(Size) j * n + i];
	return true;
}

/*
 * Solve A x = b for symmetric positive definite A (n x n, upper triangle
 * of a row-major matrix is used; A is overwritten by its Cholesky factor,
 * b by x).  Returns false when A is not positive definite.
 */
bool
uba_cholesky_solve(int n, double *A, double *b)
{
	BlasScope	scope;
	int			info = 0;
	int			one = 1;
	char		lower = 'L';	/* row-major upper = column-major lower */

	BlasBegin(&scope, (double) n * n * n / 3);
	dpotrf_(&lower, &n, A, &n, &info);
	if (info == 0)
		dpotrs_(&lower, &n, &one, A, &n, b, &n, &info);
	BlasEnd(&scope);
	return info == 0;
}
