/*-------------------------------------------------------------------------
 *
 * kinds.h
 *	  The model kinds' describers: what each capability gives the core so
 *	  that uba_model_info() and every reader can validate its models.
 *
 * Each capability defines its kind's describer; src/kinds.c maps kind
 * numbers to them.  The core (src/core) never includes this header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_KINDS_H
#define UBA_KINDS_H

#include "uba.h"

extern void uba_kmeans_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_logreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_linreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_cf_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_assoc_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_boost_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_prefixspan_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_session_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_btyd_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_gammagamma_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_forecast_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_forecast_global_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_pca_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_dbscan_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_hclust_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_kmeans_sweep_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_gmm_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_mlp_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_bandit_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);

/* What uba_predict and uba_explain call for a kind (the model is argument 0 of fcinfo) */
/* x: one row of the model's n_features values (typed rows of trees: NaN is missing) */
typedef double (*UbaModelScorer) (FunctionCallInfo fcinfo, const double *x);
/* each feature's part in the model's scratch (*c, n_features entries) and names; returns the baseline */
typedef double (*UbaModelExplainer) (FunctionCallInfo fcinfo, const double *x, UbaContribution **c,
									 char ***names);

/* a classifier's class probabilities for a row (the model's scratch) and labels; returns their count */
typedef int (*UbaModelClassifier) (FunctionCallInfo fcinfo, const double *x, const double **p,
								   const char *const **labels);

extern double uba_logreg_score(FunctionCallInfo fcinfo, const double *x);
extern int	uba_logreg_classes(FunctionCallInfo fcinfo, const double *x, const double **p,
							   const char *const **labels);
extern int	uba_boost_classes(FunctionCallInfo fcinfo, const double *x, const double **p,
							  const char *const **labels);
extern double uba_linreg_score(FunctionCallInfo fcinfo, const double *x);
extern double uba_mlp_score(FunctionCallInfo fcinfo, const double *x);
extern int	uba_mlp_classes(FunctionCallInfo fcinfo, const double *x, const double **p,
							const char *const **labels);
extern double uba_boost_score(FunctionCallInfo fcinfo, const double *x);
extern double uba_logreg_contributions(FunctionCallInfo fcinfo, const double *x, UbaContribution **c,
									   char ***names);
extern double uba_boost_contributions(FunctionCallInfo fcinfo, const double *x, UbaContribution **c,
									  char ***names);

/*
 * Boosted regression trees for another capability's rows (predict's
 * boost.c): a global forecaster builds its lags and calendar as rows
 * (rs: float8 features, NaN missing, and targets; rs->options are
 * uba_boost_train's) and embeds the model they give, which it opens and
 * scores through these, without predict's headers.
 */
extern bytea *uba_boost_fit_rows(UbaRowSet *rs);
extern void *uba_boost_open(bytea *blob, int *d);
extern double uba_boost_value(void *model, const double *x);

#endif							/* UBA_KINDS_H */
