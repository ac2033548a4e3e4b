/*-------------------------------------------------------------------------
 *
 * gmm_em.c
 *	  Gaussian mixture model by expectation-maximization: the numerical
 *	  core behind the GMM aggregate, in plain C with no PostgreSQL calls.
 *
 * It follows scikit-learn 1.2's GaussianMixture operation for operation
 * where that costs nothing, so fits compare directly: the same formulas
 * for the log densities (x * P - mu * P with P the precision's Cholesky
 * factor), the same order of summation where numpy's is known (pairwise
 * along rows, sequential down columns), nk = sum of responsibilities +
 * 10 * eps, reg_covar added to the diagonal, precision factors from
 * dpotrf + dtrsm as scipy's cholesky + solve_triangular, and the same
 * stopping rule.  Departures, all within rounding of sklearn on ordinary
 * data: diag, spherical and tied covariances are computed about each
 * component's mean instead of as E[x^2] - mean^2, which cancels badly on
 * uncentred data; the M-step's responsibilities are exp(w - max) / sum
 * rather than exp(log_resp) (one exp fewer per entry); and a row whose
 * density underflows for every component gets log p(x) = -inf and uniform
 * responsibilities, where sklearn makes NaN.
 *
 * Rows go through in blocks, so the workspace is a few megabytes plus
 * the n x k responsibilities, and matrix products go to BLAS.  Nothing
 * here allocates, keeps state or checks for interrupts: the caller owns
 * the memory and gets a callback between iterations.
 *
 *-------------------------------------------------------------------------
 */
#include "gmm_em.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);

/* Rows per block at most, and the largest block product (doubles) */
#ifndef GMM_MAX_ROWS
#define GMM_MAX_ROWS 4096
#endif
#ifndef GMM_BLOCK_DOUBLES
#define GMM_BLOCK_DOUBLES (1 << 17)
#endif

/* Rows per BLAS call when a product runs over all n rows (BLAS takes int) */
#define GMM_GEMM_ROWS ((int64_t) 1 << 30)

/* log(2 pi) */
#define GMM_LOG_2PI 1.8378770664093454836

/*
 * Where each scratch array sits in the workspace, in doubles from its
 * start.  One function computes it, so gmm_workspace_bytes() and the
 * steps never disagree.
 */
typedef struct GmmLayout
{
	int			rows;			/* rows per block */
	int			group;			/* components per pass over a block (full: per product) */
	size_t		ucat;			/* full: d x (group d), the group's factors side by side */
	size_t		kd;				/* k x d: mean * prec_chol, or squared factors */
	size_t		logdet;			/* k */
	size_t		logw;			/* k */
	size_t		tmp;			/* max(d, k) */
	size_t		rowsum;			/* rows: log p(x) of a block */
	size_t		wlp;			/* rows x k: weighted log densities of a block */
	size_t		y;				/* rows x (group d): the block product */
	size_t		chol;			/* d x d */
	size_t		acc;			/* 2 k d: diag and spherical sums */
	size_t		total;
} GmmLayout;

static void
gmm_layout(int d, int k, int cov, GmmLayout *l)
{
	int64_t		width = (cov == GMM_FULL) ? (int64_t) k * d : d;
	size_t		ycols;
	size_t		off = 0;

	/* fewer rows for wide products, then components in groups */
	l->rows = GMM_MAX_ROWS;
	while (l->rows > 256 && l->rows * width > GMM_BLOCK_DOUBLES)
		l->rows /= 2;
	while (l->rows > 64 && (int64_t) l->rows * d > GMM_BLOCK_DOUBLES)
		l->rows /= 2;
	l->group = k;
	if (cov == GMM_FULL)
	{
		int64_t		g = GMM_BLOCK_DOUBLES / ((int64_t) l->rows * d);

		l->group = (int) (g < 1 ? 1 : (g > k ? k : g));
	}
	ycols = (cov == GMM_FULL) ? (size_t) l->group * d : (size_t) d;

	/* each array starts on a 64-byte boundary relative to the workspace */
#define GMM_TAKE(field, count) \
	do { l->field = off; off += (((size_t) (count)) + 7) & ~(size_t) 7; } while (0)
	GMM_TAKE(ucat, cov == GMM_FULL ? (size_t) d * ycols : 0);
	GMM_TAKE(kd, (size_t) k * d);
	GMM_TAKE(logdet, k);
	GMM_TAKE(logw, k);
	GMM_TAKE(tmp, d > k ? d : k);
	GMM_TAKE(rowsum, l->rows);
	GMM_TAKE(wlp, (size_t) l->rows * k);
	GMM_TAKE(y, (size_t) l->rows * ycols);
	GMM_TAKE(chol, (size_t) d * d);
	GMM_TAKE(acc, 2 * (size_t) k * d);
#undef GMM_TAKE
	l->total = off;
}

/*
 * Sum of a[0], a[stride], ... (n terms), or of their logs, in numpy's
 * pairwise order (8 accumulators, halves above 128 terms), so that row
 * sums agree with np.sum(..., axis=1) to the last bit.
 */
static inline double
pairwise_sum(const double *a, int64_t n, int64_t stride, bool take_log)
{
#define PW_TERM(i) (take_log ? log(a[(i) * stride]) : a[(i) * stride])
	if (n < 8)
	{
		double		res = 0.;

		for (int64_t i = 0; i < n; i++)
			res += PW_TERM(i);
		return res;
	}
	else if (n <= 128)
	{
		double		r[8],
					res;
		int64_t		i;

		for (int j = 0; j < 8; j++)
			r[j] = PW_TERM(j);
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += PW_TERM(i + j);
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += PW_TERM(i);
		return res;
	}
	else
	{
		int64_t		n2 = n / 2;

		n2 -= n2 % 8;
		return pairwise_sum(a, n2, stride, take_log) +
			pairwise_sum(a + n2 * stride, n - n2, stride, take_log);
	}
#undef PW_TERM
}

int64_t
gmm_cov_size(int k, int d, int cov)
{
	switch (cov)
	{
		case GMM_FULL:
			return (int64_t) k * d * d;
		case GMM_TIED:
			return (int64_t) d * d;
		case GMM_DIAG:
			return (int64_t) k * d;
		default:
			return k;
	}
}

size_t
gmm_workspace_bytes(int64_t n, int d, int k, int cov)
{
	GmmLayout	l;

	gmm_layout(d, k, cov, &l);
	return (l.total + (size_t) n * k) * sizeof(double);
}

/*
 * log p(x) and the k responsibilities of one row from its k weighted log
 * densities wlp (overwritten by exp(wlp - max)), as scipy's logsumexp:
 * the largest term is taken out so nothing overflows.  A row with every
 * density zero would make NaN there; here it gets -inf and 1/k each.
 */
static inline double
row_logsumexp(double *wlp, int k, double *out, bool exp_out, double *tmp)
{
	double		amax = -INFINITY;
	double		sum,
				lpn;

	for (int c = 0; c < k; c++)
		if (wlp[c] > amax)
			amax = wlp[c];
	if (amax == -INFINITY)
	{
		if (out != NULL)
			for (int c = 0; c < k; c++)
				out[c] = exp_out ? 1.0 / k : -log((double) k);
		return -INFINITY;
	}
	if (!isfinite(amax))
		amax = 0;
	for (int c = 0; c < k; c++)
		tmp[c] = exp(wlp[c] - amax);
	sum = pairwise_sum(tmp, k, 1, false);
	lpn = log(sum) + amax;
	if (out != NULL)
	{
		/* exp(wlp - lpn), as sklearn, to within an ulp or two */
		if (exp_out)
			for (int c = 0; c < k; c++)
				out[c] = tmp[c] / sum;
		else
			for (int c = 0; c < k; c++)
				out[c] = wlp[c] - lpn;
	}
	return lpn;
}

/*
 * The E-step over blocks of rows.  For full and tied covariance a block's
 * x * P comes from one matrix product (for full, the factors of a group of
 * components side by side), then mean * P is subtracted and the squares
 * summed per component, as sklearn does; diag and spherical need no
 * product.  out receives log responsibilities, or responsibilities when
 * exp_out (what gmm_em's M-step wants, without another pass).
 */
static double
e_step(const double *X, int64_t n, int d, const GmmParams *p, double *logprob,
	   double *out, bool exp_out, double *w, const GmmLayout *l)
{
	int			k = p->k;
	int			cov = p->cov;
	int			B = l->rows;
	int			G = l->group;
	double	   *ucat = w + l->ucat;
	double	   *kd = w + l->kd;
	double	   *logdet = w + l->logdet;
	double	   *logw = w + l->logw;
	double	   *tmp = w + l->tmp;
	double	   *rowsum = w + l->rowsum;
	double	   *wlp = w + l->wlp;
	double	   *Y = w + l->y;
	double		dlog2pi = d * GMM_LOG_2PI;
	double		total = 0;

	/* per component: log weight, log det of the precision factor, mean * P */
	for (int c = 0; c < k; c++)
	{
		const double *pc = p->prec_chol;

		logw[c] = log(p->weights[c]);
		switch (cov)
		{
			case GMM_FULL:
				pc += (size_t) c * d * d;
				/* fall through */
			case GMM_TIED:
				logdet[c] = pairwise_sum(pc, d, d + 1, true);
				cblas_dgemv(CblasRowMajor, CblasTrans, d, d, 1.0, pc, d,
							p->means + (size_t) c * d, 1, 0.0, kd + (size_t) c * d, 1);
				break;
			case GMM_DIAG:
				logdet[c] = pairwise_sum(pc + (size_t) c * d, d, 1, true);
				break;
			default:
				logdet[c] = d * log(pc[c]);
				kd[c] = pc[c] * pc[c];
				break;
		}
	}

	for (int64_t i0 = 0; i0 < n; i0 += B)
	{
		int			nb = (n - i0 < B) ? (int) (n - i0) : B;
		const double *Xb = X + (size_t) i0 * d;

		/* squared Mahalanobis distances into wlp */
		if (cov == GMM_FULL || cov == GMM_TIED)
		{
			for (int g0 = 0; g0 < k; g0 += G)
			{
				int			gn = (k - g0 < G) ? k - g0 : G;
				int			ycols = (cov == GMM_FULL) ? gn * d : d;
				const double *P = p->prec_chol;

				if (cov == GMM_FULL)
				{
					/* factors side by side: ucat[r][c d + j] = P_c[r][j] */
					if (gn < k || i0 == 0)
						for (int c = 0; c < gn; c++)
							for (int r = 0; r < d; r++)
								memcpy(ucat + (size_t) r * ycols + (size_t) c * d,
									   p->prec_chol + ((size_t) (g0 + c) * d + r) * d,
									   sizeof(double) * d);
					P = ucat;
				}
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, ycols, d,
							1.0, Xb, d, P, ycols, 0.0, Y, ycols);
				for (int i = 0; i < nb; i++)
					for (int c = g0; c < g0 + gn; c++)
					{
						const double *yr = Y + (size_t) i * ycols +
							(cov == GMM_FULL ? (size_t) (c - g0) * d : 0);
						const double *mu = kd + (size_t) c * d;

						for (int j = 0; j < d; j++)
							tmp[j] = (yr[j] - mu[j]) * (yr[j] - mu[j]);
						wlp[(size_t) i * k + c] = pairwise_sum(tmp, d, 1, false);
					}
			}
		}
		else
		{
			for (int i = 0; i < nb; i++)
				for (int c = 0; c < k; c++)
				{
					const double *x = Xb + (size_t) i * d;
					const double *mu = p->means + (size_t) c * d;
					const double *pc = p->prec_chol + (size_t) (cov == GMM_DIAG ? c * d : 0);

					/* diag: sum ((x - mu) / sigma)^2; spherical: sum (x - mu)^2 / sigma^2 */
					if (cov == GMM_DIAG)
						for (int j = 0; j < d; j++)
							tmp[j] = ((x[j] - mu[j]) * pc[j]) * ((x[j] - mu[j]) * pc[j]);
					else
						for (int j = 0; j < d; j++)
							tmp[j] = (x[j] - mu[j]) * (x[j] - mu[j]);
					wlp[(size_t) i * k + c] = pairwise_sum(tmp, d, 1, false);
					if (cov == GMM_SPHERICAL)
						wlp[(size_t) i * k + c] *= kd[c];
				}
		}

		/* log densities, weighted, then normalized per row */
		for (int i = 0; i < nb; i++)
		{
			double	   *wr = wlp + (size_t) i * k;

			for (int c = 0; c < k; c++)
				wr[c] = (-0.5 * (dlog2pi + wr[c]) + logdet[c]) + logw[c];
			rowsum[i] = row_logsumexp(wr, k, out ? out + (size_t) (i0 + i) * k : NULL,
									  exp_out, tmp);
		}
		if (logprob != NULL)
			memcpy(logprob + i0, rowsum, sizeof(double) * nb);
		total += pairwise_sum(rowsum, nb, 1, false);
	}
	return total / n;
}

double
gmm_e_step(const double *X, int64_t n, int d, const GmmParams *p,
		   double *logprob, double *log_resp, void *work)
{
	GmmLayout	l;

	gmm_layout(d, p->k, p->cov, &l);
	return e_step(X, n, d, p, logprob, log_resp, false, (double *) work, &l);
}

/*
 * sklearn's _compute_precision_cholesky for one matrix: L from dpotrf
 * (scipy's cholesky), then L^-1 from dtrsm on the identity (scipy's
 * solve_triangular).  Row-major symmetric cov is its own column-major
 * self, and column-major L^-1 read row-major is L^-T, the factor sklearn
 * keeps.  Returns false when cov is not positive definite.
 */
static bool
precision_cholesky(const double *cov, int d, double *pc, double *chol)
{
	char		lower = 'L';
	int			info = 0;

	memcpy(chol, cov, sizeof(double) * d * d);
	dpotrf_(&lower, &d, chol, &d, &info);
	if (info != 0)
		return false;
	memset(pc, 0, sizeof(double) * d * d);
	for (int j = 0; j < d; j++)
		pc[(size_t) j * d + j] = 1.0;
	cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
				d, d, 1.0, chol, d, pc, d);
	for (int j = 0; j < d; j++)
	{
		if (!(pc[(size_t) j * d + j] > 0) || !isfinite(pc[(size_t) j * d + j]))
			return false;
		for (int r = j + 1; r < d; r++)
			pc[(size_t) r * d + j] = 0;
	}
	return true;
}

/*
 * The M-step, as sklearn's _estimate_gaussian_parameters and
 * _compute_precision_cholesky.  Full and tied scatter matrices are
 * accumulated per block of rows and component with dsyrk on
 * sqrt(resp) * (x - mean); diag and spherical sums are plain loops.
 */
static int
m_step(const double *X, int64_t n, int d, const double *resp, double reg_covar,
	   GmmParams *p, double *w, const GmmLayout *l)
{
	int			k = p->k;
	int			cov = p->cov;
	int			B = l->rows;
	double	   *nk = p->weights;
	double	   *Z = w + l->y;
	double		nsum;

	/* nk: numpy sums down columns sequentially (pairwise when k = 1) */
	if (k == 1)
		nk[0] = pairwise_sum(resp, n, 1, false);
	else
	{
		memset(nk, 0, sizeof(double) * k);
		for (int64_t i = 0; i < n; i++)
			for (int c = 0; c < k; c++)
				nk[c] += resp[(size_t) i * k + c];
	}
	for (int c = 0; c < k; c++)
		nk[c] += 10 * DBL_EPSILON;

	/* means = resp^T X / nk */
	for (int64_t i0 = 0; i0 < n; i0 += GMM_GEMM_ROWS)
	{
		int			nb = (n - i0 < GMM_GEMM_ROWS) ? (int) (n - i0) : (int) GMM_GEMM_ROWS;

		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, d, nb, 1.0,
					resp + (size_t) i0 * k, k, X + (size_t) i0 * d, d,
					i0 == 0 ? 0.0 : 1.0, p->means, d);
	}
	for (int c = 0; c < k; c++)
		for (int j = 0; j < d; j++)
			p->means[(size_t) c * d + j] /= nk[c];

	if (cov == GMM_FULL || cov == GMM_TIED)
	{
		size_t		dd = (size_t) d * d;

		memset(p->covariances, 0, sizeof(double) * (cov == GMM_FULL ? k * dd : dd));
		for (int64_t i0 = 0; i0 < n; i0 += B)
		{
			int			nb = (n - i0 < B) ? (int) (n - i0) : B;
			const double *Xb = X + (size_t) i0 * d;
			const double *Rb = resp + (size_t) i0 * k;

			for (int c = 0; c < k; c++)
			{
				const double *mu = p->means + (size_t) c * d;
				int			m = 0;

				/* rows with no responsibility add exact zeros: leave them out */
				for (int i = 0; i < nb; i++)
				{
					double		r = Rb[(size_t) i * k + c];
					double		s;

					if (r == 0)
						continue;
					s = sqrt(r);
					for (int j = 0; j < d; j++)
						Z[(size_t) m * d + j] = s * (Xb[(size_t) i * d + j] - mu[j]);
					m++;
				}
				/* row-major upper triangle of Z^T Z */
				if (m > 0)
					cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m, 1.0, Z, d, 1.0,
								p->covariances + (cov == GMM_FULL ? c * dd : 0), d);
			}
		}
		nsum = pairwise_sum(nk, k, 1, false);
		for (int c = 0; c < (cov == GMM_FULL ? k : 1); c++)
		{
			double	   *C = p->covariances + c * dd;
			double		den = (cov == GMM_FULL) ? nk[c] : nsum;

			for (int r = 0; r < d; r++)
			{
				for (int j = r; j < d; j++)
				{
					C[(size_t) r * d + j] /= den;
					C[(size_t) j * d + r] = C[(size_t) r * d + j];
				}
				C[(size_t) r * d + r] += reg_covar;
			}
			if (!precision_cholesky(C, d, p->prec_chol + c * dd, w + l->chol))
				return -1 - c;
		}
	}
	else
	{
		size_t		kd = (size_t) k * d;
		double	   *part = w + l->acc;
		double	   *var = part + kd;

		/* sum of resp * (x - mean)^2 per block, then over blocks */
		memset(var, 0, sizeof(double) * kd);
		for (int64_t i0 = 0; i0 < n; i0 += B)
		{
			int			nb = (n - i0 < B) ? (int) (n - i0) : B;

			memset(part, 0, sizeof(double) * kd);
			for (int i = 0; i < nb; i++)
			{
				const double *x = X + (size_t) (i0 + i) * d;

				for (int c = 0; c < k; c++)
				{
					double		r = resp[(size_t) (i0 + i) * k + c];
					const double *mu = p->means + (size_t) c * d;
					double	   *a = part + (size_t) c * d;

					if (r == 0)
						continue;
					for (int j = 0; j < d; j++)
					{
						double		t = x[j] - mu[j];

						a[j] += r * (t * t);
					}
				}
			}
			for (size_t j = 0; j < kd; j++)
				var[j] += part[j];
		}
		for (int c = 0; c < k; c++)
			for (int j = 0; j < d; j++)
				var[(size_t) c * d + j] = var[(size_t) c * d + j] / nk[c] + reg_covar;
		for (int c = 0; c < k; c++)
		{
			double		v;

			if (cov == GMM_DIAG)
			{
				for (int j = 0; j < d; j++)
				{
					v = var[(size_t) c * d + j];
					p->covariances[(size_t) c * d + j] = v;
					if (!(v > 0) || !isfinite(v))
						return -1 - c;
					p->prec_chol[(size_t) c * d + j] = 1.0 / sqrt(v);
				}
			}
			else
			{
				v = pairwise_sum(var + (size_t) c * d, d, 1, false) / d;
				p->covariances[c] = v;
				if (!(v > 0) || !isfinite(v))
					return -1 - c;
				p->prec_chol[c] = 1.0 / sqrt(v);
			}
		}
	}

	/* weights = nk / sum(nk) */
	nsum = pairwise_sum(nk, k, 1, false);
	for (int c = 0; c < k; c++)
		nk[c] /= nsum;
	return 0;
}

int
gmm_m_step(const double *X, int64_t n, int d, const double *resp,
		   double reg_covar, GmmParams *p, void *work)
{
	GmmLayout	l;

	gmm_layout(d, p->k, p->cov, &l);
	return m_step(X, n, d, resp, reg_covar, p, (double *) work, &l);
}

/*
 * sklearn's fit loop for one initialization.  The lower bound reported is
 * that of the last E-step, i.e. of the parameters before the last M-step,
 * as in sklearn; the parameters left in p are the last M-step's.
 */
int
gmm_em(const double *X, int64_t n, int d, int k, int cov,
	   double reg_covar, double tol, int max_iter,
	   const double *resp_init, GmmParams *p,
	   double *lower_bound, int *n_iter, bool *converged,
	   void (*tick) (void *arg, int it, double lb), void *arg,
	   void *work)
{
	GmmLayout	l;
	double	   *w = (double *) work;
	double	   *resp;
	int			rc;

	gmm_layout(d, k, cov, &l);
	resp = w + l.total;
	p->k = k;
	p->d = d;
	p->cov = cov;
	*lower_bound = -INFINITY;
	*n_iter = 0;
	*converged = false;

	if (resp_init != NULL)
	{
		rc = m_step(X, n, d, resp_init, reg_covar, p, w, &l);
		if (rc != 0)
			return rc;
	}
	for (int it = 1; it <= max_iter; it++)
	{
		double		prev = *lower_bound;
		double		lb = e_step(X, n, d, p, NULL, resp, true, w, &l);

		rc = m_step(X, n, d, resp, reg_covar, p, w, &l);
		*lower_bound = lb;
		*n_iter = it;
		if (rc != 0)
			return rc;
		if (tick != NULL)
			tick(arg, it, lb);
		if (fabs(lb - prev) < tol)
		{
			*converged = true;
			break;
		}
	}
	return 0;
}

/* sklearn's _n_parameters: covariance, mean and k - 1 weight parameters */
double
gmm_n_parameters(int k, int d, int cov)
{
	double		cov_params;

	switch (cov)
	{
		case GMM_FULL:
			cov_params = (double) k * d * (d + 1) / 2.0;
			break;
		case GMM_DIAG:
			cov_params = (double) k * d;
			break;
		case GMM_TIED:
			cov_params = (double) d * (d + 1) / 2.0;
			break;
		default:
			cov_params = k;
			break;
	}
	return floor(cov_params + (double) d * k + k - 1);
}

/*
 * What scoring a row needs that depends only on the model: the log
 * determinants of the precision factors (cst[0 .. k-1]) and the log
 * weights (cst[k .. 2k-1]), as e_step computes them.
 */
void
gmm_row_constants(const GmmParams *p, double *cst)
{
	int			k = p->k;
	int			d = p->d;

	for (int c = 0; c < k; c++)
	{
		switch (p->cov)
		{
			case GMM_FULL:
				cst[c] = pairwise_sum(p->prec_chol + (size_t) c * d * d, d, d + 1, true);
				break;
			case GMM_TIED:
				cst[c] = pairwise_sum(p->prec_chol, d, d + 1, true);
				break;
			case GMM_DIAG:
				cst[c] = pairwise_sum(p->prec_chol + (size_t) c * d, d, 1, true);
				break;
			default:
				cst[c] = d * log(p->prec_chol[c]);
				break;
		}
		cst[k + c] = log(p->weights[c]);
	}
}

/*
 * One row, for scoring functions that see rows one at a time.  Same
 * densities as the E-step, except that x - mean is taken before the
 * product with the factor (no BLAS for one row, and more accurate), so
 * results agree with gmm_e_step to rounding.  scratch: 2 (d + k) doubles.
 */
double
gmm_score_row(const GmmParams *p, const double *cst, const double *x,
			  double *resp, double *scratch)
{
	int			k = p->k;
	int			d = p->d;
	double	   *z = scratch;
	double	   *y = scratch + d;	/* max(d, k) */
	double	   *wlp = y + (d > k ? d : k);
	double		dlog2pi = d * GMM_LOG_2PI;

	for (int c = 0; c < k; c++)
	{
		const double *mu = p->means + (size_t) c * d;
		double		maha;

		if (p->cov == GMM_FULL || p->cov == GMM_TIED)
		{
			const double *P = p->prec_chol + (p->cov == GMM_FULL ? (size_t) c * d * d : 0);

			/* y = (x - mu) P, P upper triangular */
			for (int j = 0; j < d; j++)
			{
				z[j] = x[j] - mu[j];
				y[j] = 0;
			}
			for (int r = 0; r < d; r++)
				for (int j = r; j < d; j++)
					y[j] += z[r] * P[(size_t) r * d + j];
			for (int j = 0; j < d; j++)
				y[j] = y[j] * y[j];
			maha = pairwise_sum(y, d, 1, false);
		}
		else if (p->cov == GMM_DIAG)
		{
			const double *pc = p->prec_chol + (size_t) c * d;

			for (int j = 0; j < d; j++)
			{
				double		t = (x[j] - mu[j]) * pc[j];

				y[j] = t * t;
			}
			maha = pairwise_sum(y, d, 1, false);
		}
		else
		{
			for (int j = 0; j < d; j++)
			{
				double		t = x[j] - mu[j];

				y[j] = t * t;
			}
			maha = p->prec_chol[c] * p->prec_chol[c] * pairwise_sum(y, d, 1, false);
		}
		wlp[c] = (-0.5 * (dlog2pi + maha) + cst[c]) + cst[k + c];
	}
	return row_logsumexp(wlp, k, resp, true, y);
}
