/*-------------------------------------------------------------------------
 *
 * logreg.h
 *	  What logistic regression in memory (logreg.c) and by passes
 *	  (logreg_passes.c) share: the parsed model, the per-row terms, the fit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_LOGREG_H
#define UBA_LOGREG_H

#include "uba.h"

#define LOGREG_FLAG_INTERCEPT 1
#define LOGREG_FLAG_STANDARDIZE 2
#define LOGREG_FLAG_CONVERGED 4
#define LOGREG_FLAG_NO_SE 8
#define LOGREG_FLAGS_ALL 15

/* A parsed model */
typedef struct LogRegModel
{
	int			d;
	uint32		flags;
	int			n_iter;
	int			class_weight;
	double		l2;
	double		l1;
	double		w_true;			/* class weights */
	double		w_false;
	char	  **names;			/* d feature names, or NULL */
	double		loss;
	double		grad_norm;
	double	   *mean;			/* d: training means */
	double	   *scale;			/* d: training standard deviations */
	bool		standardized;	/* fitted on (x - mean) / scale */
	double	   *coef;			/* d, fitting space */
	double		intercept;
	double	   *se;				/* d + 1: standard errors, fitting space */
	double	   *x;				/* d: scratch for scoring a row */
	UbaContribution *contrib;	/* d: an explanation's rows */
	double		proba[2];		/* a row's class probabilities */
} LogRegModel;

extern void *uba_logreg_parse(const UbaModelMeta *meta, UbaReader *r);

/* Loss, gradient factor and Hessian root of n rows with scores z and labels y (0 or 1) */
extern void uba_logreg_row_terms(const double *z, const double *y, int n, double w_pos, double w_neg,
								 double *loss, double *resid, double *root);

/*
 * One pass over the rows at the coefficients of model (a logistic
 * regression model): returns the weighted loss, and fills g (p) with the
 * gradient sums and, when H is given, H (p x p, upper triangle) with the
 * Hessian sums, unregularized and unscaled.
 */
typedef double (*UbaLogRegRemote) (void *arg, bytea *model, double *g, double *H);

extern void uba_logreg_options(Jsonb *options, UbaOptions *o);
extern bytea *uba_logreg_fit_by_passes(UbaOptions *o, int d, int64 n, int64 npos,
									   const double *mean, const double *var,
									   UbaLogRegRemote remote, void *arg, TimestampTz started);

#endif
