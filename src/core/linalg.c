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

#include <math.h>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <cblas.h>

#include "miscadmin.h"
#include "utils/memutils.h"

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

	/* a helper thread's call, or one beside a team's helpers, stays on its thread: they hold the cores */
	scope->nthreads = flops >= BLAS_THREADED_FLOPS && uba_blas_may_thread() ? uba_thread_count() : 1;
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

/* C += X^T X, upper triangle of row-major C (column-major upper X^T X): a block of rows' co-moments */
void
uba_syrk_add(int n, int d, const double *X, double *C)
{
	BlasScope	scope;

	BlasBegin(&scope, (double) n * d * d);
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, n, 1.0, X, d, 1.0, C, d);
	BlasEnd(&scope);
}

/*
 * C = alpha * op(A) op(B) + beta * C in single precision, all row-major
 * with leading dimensions (so blocks of wider matrices can take part):
 * op(A) is m x k, op(B) k x n.  Threaded as the other calls are.
 */
void
uba_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *A, int lda,
		  const float *B, int ldb, float beta, float *C, int ldc)
{
	BlasScope	scope;

	BlasBegin(&scope, 2.0 * m * n * k);
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
				m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
	BlasEnd(&scope);
}

/* The same in double precision (the multilayer perceptron's layers) */
void
uba_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *A, int lda,
		  const double *B, int ldb, double beta, double *C, int ldc)
{
	BlasScope	scope;

	BlasBegin(&scope, 2.0 * m * n * k);
	cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
				m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
	BlasEnd(&scope);
}

/* C = alpha * A * B^T + beta * C, all row-major */
void
uba_gemm_abt(int m, int n, int k, double alpha, const double *A,
			 const double *B, double beta, double *C)
{
	uba_dgemm(false, true, m, n, k, alpha, A, k, B, k, beta, C, n);
}

/*
 * C = X^T X for X of n rows and d columns (row-major), all of C (d x d)
 * filled: the cross products a covariance is made of.
 */
void
uba_crossprod(int64 n, int d, const double *X, double *C)
{
	BlasScope	scope;

	memset(C, 0, sizeof(double) * d * d);
	BlasBegin(&scope, (double) n * d * d);
	/* in blocks of rows, so that interrupts are checked between them */
	for (int64 i0 = 0; i0 < n; i0 += UBA_BLOCK_ROWS * 16)
	{
		int			m = (int) Min(n - i0, (int64) UBA_BLOCK_ROWS * 16);

		/* row-major X^T X is column-major upper X^T X: the upper triangle of row-major C */
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m, 1.0, X + (Size) i0 * d, d, 1.0, C, d);
		BlasEnd(&scope);
		CHECK_FOR_INTERRUPTS();
		BlasBegin(&scope, (double) n * d * d);
	}
	BlasEnd(&scope);
	for (int i = 0; i < d; i++)
		for (int j = 0; j < i; j++)
			C[(Size) i * d + j] = C[(Size) j * d + i];
}

extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
				   double *w, double *work, const int *lwork, int *info);

/*
 * Eigenvalues (w, descending) and eigenvectors (rows of V, each of unit
 * length) of symmetric A (n x n, row-major, overwritten); false when
 * LAPACK does not converge.
 */
bool
uba_symmetric_eigen(int n, double *A, double *w, double *V)
{
	BlasScope	scope;
	int			info = 0,
				lwork = -1;
	char		jobz = 'V',
				uplo = 'L';
	double		query;
	double	   *work;
	double	   *asc = palloc(sizeof(double) * n);

	dsyev_(&jobz, &uplo, &n, A, &n, asc, &query, &lwork, &info);
	if (info != 0)
		return false;
	lwork = (int) query;
	work = palloc(sizeof(double) * Max(lwork, 1));
	BlasBegin(&scope, 9.0 * n * n * n);
	dsyev_(&jobz, &uplo, &n, A, &n, asc, work, &lwork, &info);
	BlasEnd(&scope);
	pfree(work);
	if (info != 0)
		return false;
	/* LAPACK's column j (column-major) is row j of row-major A: eigenvector j, ascending */
	for (int k = 0; k < n; k++)
	{
		w[k] = asc[n - 1 - k];
		memcpy(V + (Size) k * n, A + (Size) (n - 1 - k) * n, sizeof(double) * n);
	}
	pfree(asc);
	return true;
}

extern void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
					const int *lda, double *s, double *u, const int *ldu, double *vt, const int *ldvt,
					double *work, const int *lwork, int *info);

/*
 * Singular values (s, descending, min(n, d) of them) and right singular
 * vectors (rows of V, min(n, d) x d) of X, n rows of d (row-major,
 * destroyed): X's rows are the columns of the d x n column-major matrix
 * LAPACK sees, whose left vectors are X's right ones, so nothing is
 * copied.  False when LAPACK does not converge.
 */
bool
uba_right_singular(int64 n, int d, double *X, double *s, double *V)
{
	BlasScope	scope;
	int			info = 0,
				lwork = -1,
				m = d,
				cols = (int) n,
				one = 1;
	char		jobu = 'S',
				jobvt = 'N';
	double		query,
				dummy;
	double	   *work;

	Assert(n <= PG_INT32_MAX);
	dgesvd_(&jobu, &jobvt, &m, &cols, X, &m, s, V, &m, &dummy, &one, &query, &lwork, &info);
	if (info != 0)
		return false;
	lwork = (int) query;
	work = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(lwork, 1));
	BlasBegin(&scope, 4.0 * (double) n * d * d);
	dgesvd_(&jobu, &jobvt, &m, &cols, X, &m, s, V, &m, &dummy, &one, work, &lwork, &info);
	BlasEnd(&scope);
	pfree(work);
	/* U's columns (column-major, d each) are V's rows already */
	return info == 0;
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
 * The columns of symmetric positive semidefinite A (n x n, row-major, its
 * upper triangle used) that are linear combinations of columns before them, in the order given (a
 * permutation of 0 .. n-1; NULL: 0 .. n-1): a Cholesky factorization that
 * skips a column whose pivot is at most tol times its own diagonal, as R's
 * lm and glm find aliased coefficients (the later of two collinear
 * columns).  Marks them in dependent; returns how many.  A is not changed.
 */
int
uba_dependent_columns(int n, const double *A, const int *order, double tol, bool *dependent)
{
	double	   *L = palloc0(sizeof(double) * n * n);	/* rows of the factor, in order positions */
	int			ndep = 0;

	memset(dependent, 0, sizeof(bool) * n);
	for (int pj = 0; pj < n; pj++)
	{
		int			j = order ? order[pj] : pj;
		double		d = A[(Size) j * n + j];

		CHECK_FOR_INTERRUPTS();
		for (int pk = 0; pk < pj; pk++)
			d -= L[(Size) pj * n + pk] * L[(Size) pj * n + pk];
		if (!(d > tol * A[(Size) j * n + j]))
		{
			dependent[j] = true;
			ndep++;
			continue;
		}
		L[(Size) pj * n + pj] = sqrt(d);
		for (int pi = pj + 1; pi < n; pi++)
		{
			int			i = order ? order[pi] : pi;
			double		v = i < j ? A[(Size) i * n + j] : A[(Size) j * n + i];

			for (int pk = 0; pk < pj; pk++)
				v -= L[(Size) pi * n + pk] * L[(Size) pj * n + pk];
			L[(Size) pi * n + pj] = v / L[(Size) pj * n + pj];
		}
	}
	pfree(L);
	return ndep;
}

/* Inversions up to this many flops run as two LAPACK calls (under half a second here) */
#define UBA_DIRECT_INVERSE_FLOPS 6.9e10

/*
 * The inverse of symmetric positive definite A (n x n, single precision,
 * row-major; the upper triangle is used), in place and full.  Returns
 * false when A is not positive definite.
 *
 * Small matrices take LAPACK's spotrf and spotri.  Those calls cannot be
 * interrupted, so larger ones (and any with uba.debug_solve_block set, for
 * the tests) go in blocks with an interrupt check after each: a blocked
 * Cholesky factorization (spotrf on the diagonal block, strsm below it,
 * ssyrk and sgemm on the trailing columns, one block of them at a time),
 * then the inverse a block of columns at a time from P[j:, j:] =
 * L22^-T L22^-1, with L22 the factor's trailing part, two triangular
 * solves each, kept in the upper triangle (where the factor is not).  The
 * same n^3 operations as LAPACK's, in calls of at most a few tenths of a
 * second for 20,000 x 20,000; about a quarter slower.
 */
bool
uba_spd_inverse_f32(int n, float *A)
{
	BlasScope	scope;
	int			info = 0;
	char		lower = 'L';	/* row-major upper = column-major lower */
	int			nb = uba_debug_solve_block > 0 ? uba_debug_solve_block : 256;
	int			jbmax;
	float	   *Y;

	if (uba_debug_solve_block == 0 && (double) n * n * n <= UBA_DIRECT_INVERSE_FLOPS)
	{
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

	/* A = L L' (column-major lower), the trailing update a block of columns at a time */
	for (int k = 0; k < n; k += nb)
	{
		int			kb = Min(nb, n - k);
		int			rest = n - k - kb;

		BlasBegin(&scope, (double) rest * kb * kb + (double) kb * kb * kb);
		spotrf_(&lower, &kb, A + k + (Size) k * n, &n, &info);
		if (info == 0 && rest > 0)
			cblas_strsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, rest, kb, 1.0f,
						A + k + (Size) k * n, n, A + (k + kb) + (Size) k * n, n);
		BlasEnd(&scope);
		if (info != 0)
			return false;
		for (int j = k + kb; j < n; j += nb)
		{
			int			jb = Min(nb, n - j);

			BlasBegin(&scope, 2.0 * (n - j) * jb * kb);
			cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, jb, kb, -1.0f, A + j + (Size) k * n, n,
						1.0f, A + j + (Size) j * n, n);
			if (j + jb < n)
				cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, n - j - jb, jb, kb, -1.0f,
							A + (j + jb) + (Size) k * n, n, A + j + (Size) k * n, n, 1.0f,
							A + (j + jb) + (Size) j * n, n);
			BlasEnd(&scope);
			CHECK_FOR_INTERRUPTS();
		}
	}

	/* P[j:, j:j+jb] = L22^-T L22^-1 E, written transposed into the upper triangle */
	jbmax = uba_debug_solve_block > 0 ? uba_debug_solve_block :
		(int) Max(32, Min(256, 1e10 / ((double) n * n)));
	Y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * jbmax);
	for (int j = 0; j < n; j += jbmax)
	{
		int			jb = Min(jbmax, n - j);
		int			m = n - j;

		memset(Y, 0, sizeof(float) * (Size) m * jb);
		for (int t = 0; t < jb; t++)
			Y[t + (Size) t * m] = 1.0f;
		BlasBegin(&scope, 2.0 * m * m * jb);
		cblas_strsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, m, jb, 1.0f,
					A + j + (Size) j * n, n, Y, m);
		cblas_strsm(CblasColMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, m, jb, 1.0f,
					A + j + (Size) j * n, n, Y, m);
		BlasEnd(&scope);
		/* the factor's columns before j + jb are no longer needed: overwrite row j + t */
		for (int t = 0; t < jb; t++)
			for (int i = t; i < m; i++)
				A[(j + t) + (Size) (j + i) * n] = Y[i + (Size) t * m];
		CHECK_FOR_INTERRUPTS();
	}
	pfree(Y);
	for (int c = 0; c < n; c++)
		for (int r = 0; r < c; r++)
			A[c + (Size) r * n] = A[r + (Size) c * n];
	return true;
}

/* The largest absolute element of v */
double
uba_norm_inf(const double *v, int n)
{
	double		m = 0;

	for (int i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
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

/* Solve A x = b again with the factor uba_cholesky_solve left in A (b overwritten by x) */
void
uba_cholesky_resolve(int n, const double *A, double *b)
{
	BlasScope	scope;
	int			info = 0;
	int			one = 1;
	char		lower = 'L';

	BlasBegin(&scope, (double) n * n);
	dpotrs_(&lower, &n, &one, A, &n, b, &n, &info);
	BlasEnd(&scope);
	if (info != 0)
		elog(ERROR, "uba: dpotrs failed (%d)", info);
}
