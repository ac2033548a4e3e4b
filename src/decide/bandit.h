/*-------------------------------------------------------------------------
 *
 * bandit.h
 *	  What the decision policies share: the bandit model (kind "bandit"),
 *	  its per-action ridge statistics and its blob.  bandit.c trains,
 *	  updates and chooses; fqi.c fits Q functions into the same model.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_BANDIT_H
#define UBA_BANDIT_H

#include "uba.h"

#define BANDIT_MAX_DIM 1000
#define BANDIT_MAX_ACTIONS 100000

typedef enum BanditMethod
{
	BANDIT_LINUCB = 0,
	BANDIT_LIN_TS,
	BANDIT_EPSILON_GREEDY,
	BANDIT_BETA_TS,
	BANDIT_FQI					/* fitted Q iteration (fqi.c): greedy on Q, epsilon to explore */
} BanditMethod;

/* One action's statistics */
typedef struct BanditArm
{
	int64		action;
	double		n;				/* observations */
	double		successes;		/* sum of rewards (beta_ts: in [0, 1]) */
	double		failures;		/* sum of 1 - reward */
	double	   *A;				/* p x p (p = d - shared), without lambda I */
	double	   *B;				/* p x shared: sum w x z' (hybrid) */
	double	   *b;				/* p */
} BanditArm;

/* What training, updating and scoring share: the method's parameters and the arms */
typedef struct Bandit
{
	int			method;
	int			d;
	double		alpha;
	double		lambda;
	double		epsilon;
	double		v;
	bool		importance_weighted;
	int			shared;			/* hybrid LinUCB: the leading features all actions share, else 0 */
	int			narms;
	int			cap;
	BanditArm  *arms;			/* by action id, ascending */
	double	   *Z;				/* hybrid: shared x shared, sum w z z' */
	double	   *zr;				/* hybrid: shared, sum w r z */
	UbaEncoding *enc;			/* trained on typed rows: their encoding, else NULL */
	double		gamma;			/* fqi: the discount */
	int			iterations;		/* fqi: the iterations run */
	/* scoring: per arm theta and the Cholesky factor of lambda I + A (row-major upper) */
	double	  **theta;
	double	  **chol;
	/* hybrid scoring: per arm M = (lambda I + A)^-1 B; beta and the factor of A0 */
	double	  **M;
	double	   *beta;
	double	   *chol0;
} Bandit;

extern void uba_bandit_set_dim(Bandit *m, int d);
extern int	uba_bandit_find_arm(const Bandit *m, int64 action);
extern BanditArm *uba_bandit_arm(Bandit *m, int64 action);
extern void uba_bandit_add_outer(double *S, double *t, const double *v, int s, double w, double r);
extern Bandit *uba_bandit_policy(bytea *blob);
extern int	uba_bandit_greedy(const Bandit *m, const double *x, const int64 *actions, int K, double *work);
extern bytea *uba_bandit_build(const Bandit *m, int64 rows, TimestampTz started, const UbaOptions *o,
							   const char *options_json, char **names, UbaEncoding *enc);

#endif							/* UBA_BANDIT_H */
