/*-------------------------------------------------------------------------
 *
 * gmm_em.h
 *	  Gaussian mixture model fitted by expectation-maximization: the
 *	  numerical core, in plain C with no PostgreSQL calls, following
 *	  scikit-learn 1.2's GaussianMixture step for step.
 *
 * All matrices are row-major doubles.  The caller allocates the parameter
 * arrays and the workspace (gmm_workspace_bytes), so nothing here
 * allocates, keeps state or prints: a callback that longjmps out of
 * gmm_em() leaks nothing, and separate fits may run in separate threads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_GMM_EM_H
#define UBA_GMM_EM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* covariance types, as sklearn's covariance_type */
enum
{
	GMM_FULL = 0,
	GMM_DIAG = 1,
	GMM_SPHERICAL = 2,
	GMM_TIED = 3
};

/*
 * A fitted (or initial) mixture.  Array sizes:
 *	weights		k
 *	means		k x d
 *	covariances	full: k x d x d; tied: d x d; diag: k x d; spherical: k
 *	prec_chol	same shapes as covariances: sklearn's precisions_cholesky_,
 *				i.e. for full and tied the upper triangular L^-T where
 *				covariance = L L^T (lower triangle stored as zeros), and
 *				1 / sqrt(variance) for diag and spherical.
 */
typedef struct GmmParams
{
	int			k;
	int			d;
	int			cov;			/* GMM_* */
	double	   *weights;
	double	   *means;
	double	   *covariances;
	double	   *prec_chol;
} GmmParams;

/* doubles in covariances (and prec_chol) for this covariance type */
extern int64_t gmm_cov_size(int k, int d, int cov);

/*
 * Bytes of workspace gmm_em() needs for n rows.  gmm_e_step() and
 * gmm_m_step() need only gmm_workspace_bytes(0, d, k, cov): the n x k
 * responsibilities are the part that grows with n.
 */
extern size_t gmm_workspace_bytes(int64_t n, int d, int k, int cov);

/*
 * M-step: weights, means, covariances (reg_covar added to the diagonal) and
 * prec_chol from responsibilities resp (n x k).  Returns 0, or -1 - c when
 * the covariance of component c (0 for tied) is not positive definite.
 */
extern int	gmm_m_step(const double *X, int64_t n, int d, const double *resp,
					   double reg_covar, GmmParams *p, void *work);

/*
 * E-step: log p(x) per row (logprob, n) and log responsibilities
 * (log_resp, n x k), either may be NULL.  Returns the mean of log p(x).
 */
extern double gmm_e_step(const double *X, int64_t n, int d, const GmmParams *p,
						 double *logprob, double *log_resp, void *work);

/*
 * EM as sklearn's fit: parameters from the M-step on resp_init (or, when
 * resp_init is NULL, the weights, means and prec_chol already in p), then
 * up to max_iter rounds of E-step and M-step, stopping once the mean
 * log-likelihood moves by less than tol.  tick(arg, iteration, lower bound)
 * runs after each round, on the calling thread, and may longjmp.  Returns
 * as gmm_m_step(); lower_bound, n_iter and converged are as sklearn's
 * lower_bound_, n_iter_ and converged_.
 */
extern int	gmm_em(const double *X, int64_t n, int d, int k, int cov,
				   double reg_covar, double tol, int max_iter,
				   const double *resp_init, GmmParams *p,
				   double *lower_bound, int *n_iter, bool *converged,
				   void (*tick) (void *arg, int it, double lb), void *arg,
				   void *work);

/* free parameters, as sklearn's _n_parameters(), for BIC and AIC */
extern double gmm_n_parameters(int k, int d, int cov);

/*
 * Scoring one row at a time: gmm_row_constants() fills cst (2 x k doubles)
 * once per model, then gmm_score_row() returns log p(x) and, when resp is
 * not NULL, the k responsibilities; scratch holds 2 (d + k) doubles.
 */
extern void gmm_row_constants(const GmmParams *p, double *cst);
extern double gmm_score_row(const GmmParams *p, const double *cst,
							const double *x, double *resp, double *scratch);

#endif							/* UBA_GMM_EM_H */
