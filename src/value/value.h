/*-------------------------------------------------------------------------
 *
 * value.h
 *	  Customer value: the repeat-purchase models (btyd.c) and the spend
 *	  model (gammagamma.c), and what their scoring shares (clv.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_VALUE_H
#define UBA_VALUE_H

#include "uba.h"

/* Families of repeat-purchase models (stored in models) */
#define BTYD_BGNBD 1
#define BTYD_PARETONBD 2

typedef struct BtydModel
{
	int			family;
	int			nparams;
	int			iterations;
	bool		converged;
	double		p[4];			/* BG/NBD: r, alpha, a, b; Pareto/NBD: r, alpha, s, beta */
	double		loglik;
	double		gnorm;
} BtydModel;

typedef struct GammaGammaModel
{
	double		p,
				q,
				v;
	int			iterations;
	bool		converged;
	double		loglik;
	double		gnorm;
} GammaGammaModel;

extern void uba_value_fit_result(const char *model, const char *const *names, const double *th, int n,
								 double limit, const UbaMinimizeResult *res, double tol,
								 const char *detail, const char *hint, double *p);
extern void uba_btyd_check_summary(double x, double tx, double T);
extern void *uba_btyd_parse(const UbaModelMeta *meta, UbaReader *r);
extern double uba_btyd_p_alive(const BtydModel *m, double x, double tx, double T);
extern double uba_btyd_expected(const BtydModel *m, double t, double x, double tx, double T);

extern void *uba_gammagamma_parse(const UbaModelMeta *meta, UbaReader *r);
extern double uba_gammagamma_spend(const GammaGammaModel *m, double x, double mx);

#endif
