/*-------------------------------------------------------------------------
 *
 * linalg.c
 *	  Thin wrapper over OpenBLAS/LAPACK.
 *
 * BLAS threads: a backend is a process among many, so by default BLAS runs
 * in the calling thread (uba.blas_threads = 1).  Callers split long BLAS
 * work into blocks of UBA_BLOCK_ROWS rows and check for interrupts between
 * blocks, so cancel and statement_timeout are honoured within milliseconds
 * whatever the thread setting.  OpenBLAS helper threads never call into
 * PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <cblas.h>

extern void openblas_set_num_threads(int num_threads);

/* Set the number of threads OpenBLAS may use */
void
uba_blas_set_threads(int nthreads)
{
	openblas_set_num_threads(nthreads);
}

/* C = alpha * A * B^T + beta * C, all row-major */
void
uba_gemm_abt(int m, int n, int k, double alpha, const double *A,
			 const double *B, double beta, double *C)
{
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
				alpha, A, k, B, k, beta, C, n);
}
