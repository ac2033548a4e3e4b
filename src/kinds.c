/*-------------------------------------------------------------------------
 *
 * kinds.c
 *	  Model kind number -> the capability's describer (see kinds.h).
 *
 * The one file above the capabilities: adding a model kind means a number
 * in UbaModelKind (uba.h, part of the blob format) and a line here; a kind
 * that predicts from a feature array also gets a scorer (uba_predict) and
 * may get an explainer (uba_explain).
 *
 *-------------------------------------------------------------------------
 */
#include "kinds.h"

#include "funcapi.h"
#include "utils/builtins.h"

/* indexed by UbaModelKind; NULL for UBA_KIND_ANY */
static const UbaModelDescriber describers[] = {
	NULL,
	uba_kmeans_describe,		/* UBA_KIND_KMEANS */
	uba_logreg_describe,		/* UBA_KIND_LOGREG */
	uba_linreg_describe,		/* UBA_KIND_LINREG */
	uba_cf_describe,			/* UBA_KIND_CF */
	uba_assoc_describe,			/* UBA_KIND_ASSOC */
	uba_boost_describe,			/* UBA_KIND_BOOST */
	uba_prefixspan_describe,	/* UBA_KIND_SEQPATTERN */
	uba_btyd_describe,			/* UBA_KIND_BTYD */
	uba_gammagamma_describe,	/* UBA_KIND_GAMMAGAMMA */
	uba_forecast_describe,		/* UBA_KIND_FORECAST */
	uba_forecast_global_describe,	/* UBA_KIND_FORECAST_GLOBAL */
	uba_pca_describe,			/* UBA_KIND_PCA */
	uba_dbscan_describe,		/* UBA_KIND_DBSCAN */
	uba_hclust_describe,		/* UBA_KIND_HCLUST */
	uba_kmeans_sweep_describe,	/* UBA_KIND_KMEANS_SWEEP */
	uba_gmm_describe,			/* UBA_KIND_GMM */
	uba_session_describe,		/* UBA_KIND_SESSION */
	uba_mlp_describe,			/* UBA_KIND_MLP */
	uba_bandit_describe			/* UBA_KIND_BANDIT */
};

/* The describer of a kind, or NULL when this build has none (an unknown kind) */
UbaModelDescriber
uba_kind_describer(UbaModelKind kind)
{
	if ((int) kind < 0 || (int) kind >= (int) lengthof(describers))
		return NULL;
	return describers[kind];
}

/* indexed by UbaModelKind: what uba_predict and uba_explain call, NULL where they do not apply */
static const UbaModelScorer scorers[] = {
	NULL, NULL, uba_logreg_score, uba_linreg_score, NULL, NULL, uba_boost_score, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, uba_mlp_score
};
static const UbaModelExplainer explainers[] = {
	NULL, NULL, uba_logreg_contributions, NULL, NULL, NULL, uba_boost_contributions, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};
static const UbaModelClassifier classifiers[] = {
	NULL, NULL, uba_logreg_classes, NULL, NULL, NULL, uba_boost_classes, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, uba_mlp_classes
};

/* what to use instead, for the kinds that have no scorer */
static const char *const instead[] = {
	"", "uba_kmeans_assign(model, features)", "", "", "uba_cf_recommend(model, user_id, n)",
	"uba_basket_complete(model, items, n)", "", "uba_sequential_patterns(model)",
	"uba_expected_purchases(model, t, frequency, recency, T)", "uba_expected_spend(model, frequency, monetary_value)",
	"uba_forecast(model, horizon)", "uba_forecast_global(model, horizon)", "uba_pca_transform(model, features)",
	"uba_dbscan_assign(model, features)", "uba_hclust_assign(model, features, k)",
	"uba_kmeans_sweep_model(model, k)", "uba_gmm_predict(model, features)",
	"uba_next_items(model, recent_items, n)", ""
};

/*
 * What the generic functions keep per call site and model: its kind, its
 * features, the encoding of typed rows, and scratch for one row and one
 * explanation by column.
 */
typedef struct ScoringInfo
{
	UbaModelKind kind;
	int			d;
	UbaEncoding *enc;
	double	   *x;
	UbaContribution *by_column;
	char	  **column_names;
} ScoringInfo;

static void *
ParseScoringInfo(const UbaModelMeta *meta, UbaReader *payload)
{
	ScoringInfo *info = palloc0(sizeof(ScoringInfo));

	/* only the metadata is read here: the feature count is checked before it sizes anything */
	if (meta->n_features > UBA_MAX_FEATURES)
		uba_model_corrupted("The model claims %d features.", meta->n_features);
	info->kind = meta->kind;
	info->d = meta->n_features;
	info->enc = meta->encoding;
	info->x = palloc(sizeof(double) * Max(meta->n_features, 1));
	if (info->enc != NULL)
	{
		info->by_column = palloc(sizeof(UbaContribution) * info->enc->ncols);
		info->column_names = palloc(sizeof(char *) * info->enc->ncols);
		for (int k = 0; k < info->enc->ncols; k++)
			info->column_names[k] = info->enc->cols[k].name;
	}
	return info;
}

static ScoringInfo *
InfoOf(FunctionCallInfo fcinfo, const char *function, bool explain)
{
	ScoringInfo *info = uba_model_cached(fcinfo, 0, UBA_KIND_ANY, ParseScoringInfo);
	UbaModelKind kind = info->kind;
	bool		applies = (int) kind >= 0 && (int) kind < (int) lengthof(scorers) &&
		(explain ? explainers[kind] != NULL : scorers[kind] != NULL);

	if (!applies)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s does not apply to %s models", function, uba_kind_name(kind)),
				 (int) kind < (int) lengthof(instead) && instead[kind][0] != '\0' ?
				 errhint("Use %s with them.", instead[kind]) :
				 errhint("It applies to %s.", explain ? "logreg and boost models" : "logreg, linreg, boost and mlp models")));
	return info;
}

/*
 * uba_predict(model, features): the prediction of any model that scores a
 * row of features: a probability (logreg, binary boost and forest), a value
 * (linreg, regression boost and forest).  The features are a float8[], its
 * text form, or a typed row (a table's row, any composite) of a model
 * trained on typed rows, its columns found by name.
 */
static Datum
Predict(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	ScoringInfo *info = InfoOf(fcinfo, "uba_predict", false);

	uba_read_features_arg(fcinfo, 1, form, info->enc, info->x, info->d);
	PG_RETURN_FLOAT8(scorers[info->kind] (fcinfo, info->x));
}

UBA_FEATURE_FORMS(uba_predict, Predict)

/*
 * uba_explain(model, features [, top]): the model's own explanation rows.
 * A typed row is explained by column: a categorical column's one-hot
 * features add up to one contribution (exact: contributions are
 * additive), whose value is NULL.
 */
static Datum
Explain(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	ScoringInfo *info;
	UbaContribution *c;
	char	  **names;
	double		baseline;
	int			top = PG_NARGS() > 2 ? uba_count_arg(PG_GETARG_INT32(2), "top") : -1;

	InitMaterializedSRF(fcinfo, 0);
	info = InfoOf(fcinfo, "uba_explain", true);
	uba_read_features_arg(fcinfo, 1, form, info->enc, info->x, info->d);
	baseline = explainers[info->kind] (fcinfo, info->x, &c, &names);
	if (form != UBA_FORM_ROW)
	{
		uba_emit_contributions(fcinfo, baseline, c, info->d, top < 0 ? info->d : top, names);
		return (Datum) 0;
	}
	for (int k = 0; k < info->enc->ncols; k++)
	{
		const UbaColumn *col = &info->enc->cols[k];
		UbaContribution *g = &info->by_column[k];

		g->feature = k + 1;
		g->value = col->cls == UBA_COL_CATEGORY ? NAN : info->x[col->first];
		g->contribution = 0;
	}
	/* the explainer's rows are in feature order */
	for (int j = 0; j < info->d; j++)
		info->by_column[uba_encoding_column_of(info->enc, c[j].feature - 1)].contribution += c[j].contribution;
	uba_emit_contributions(fcinfo, baseline, info->by_column, info->enc->ncols,
						   top < 0 ? info->enc->ncols : top, info->column_names);
	return (Datum) 0;
}

UBA_FEATURE_FORMS(uba_explain, Explain)

/*
 * uba_predict_proba(model, features) → float8[]: a classifier's class
 * probabilities, in the order of its classes (binary models: [false,
 * true]; multi-class models: uba_model_info's "classes").
 * uba_predict_class(model, features) → text: the most probable class (the
 * first of ties; binary models: 'true' from 0.5).
 */
static ScoringInfo *
ClassifierOf(FunctionCallInfo fcinfo, const char *function)
{
	ScoringInfo *info = uba_model_cached(fcinfo, 0, UBA_KIND_ANY, ParseScoringInfo);

	if ((int) info->kind < 0 || (int) info->kind >= (int) lengthof(classifiers) ||
		classifiers[info->kind] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s does not apply to %s models", function, uba_kind_name(info->kind)),
				 errhint("It applies to classifiers: logreg models and boosted or forest models of a boolean or a class label.")));
	return info;
}

static Datum
PredictProba(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	ScoringInfo *info = ClassifierOf(fcinfo, "uba_predict_proba");
	const double *p;
	const char *const *labels;
	int			k;

	uba_read_features_arg(fcinfo, 1, form, info->enc, info->x, info->d);
	k = classifiers[info->kind] (fcinfo, info->x, &p, &labels);
	PG_RETURN_ARRAYTYPE_P(uba_make_float8_array(p, k));
}

UBA_FEATURE_FORMS(uba_predict_proba, PredictProba)

static Datum
PredictClass(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	ScoringInfo *info = ClassifierOf(fcinfo, "uba_predict_class");
	const double *p;
	const char *const *labels;
	int			k,
				best = 0;

	uba_read_features_arg(fcinfo, 1, form, info->enc, info->x, info->d);
	k = classifiers[info->kind] (fcinfo, info->x, &p, &labels);
	for (int c = 1; c < k; c++)
		if (p[c] > p[best])
			best = c;
	PG_RETURN_TEXT_P(cstring_to_text(labels[best]));
}

UBA_FEATURE_FORMS(uba_predict_class, PredictClass)

