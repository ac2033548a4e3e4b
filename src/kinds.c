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

/* indexed by UbaModelKind; NULL for UBA_KIND_ANY */
static const UbaModelDescriber describers[] = {
	NULL,
	uba_kmeans_describe,		/* UBA_KIND_KMEANS */
	uba_logreg_describe,		/* UBA_KIND_LOGREG */
	uba_linreg_describe,		/* UBA_KIND_LINREG */
	uba_cf_describe,			/* UBA_KIND_CF */
	uba_assoc_describe,			/* UBA_KIND_ASSOC */
	uba_boost_describe			/* UBA_KIND_BOOST */
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
	NULL, NULL, uba_logreg_score, uba_linreg_score, NULL, NULL, uba_boost_score
};
static const UbaModelExplainer explainers[] = {
	NULL, NULL, uba_logreg_explain_rows, NULL, NULL, NULL, uba_boost_explain_rows
};
/* what to use instead, for the kinds that have no scorer */
static const char *const instead[] = {
	"", "uba_kmeans_assign(model, features)", "", "", "uba_cf_recommend(model, user_id, n)",
	"uba_basket_complete(model, items, n)", ""
};

/* A model's kind, cached per call site like the model (its header is validated once) */
static void *
KindOnly(const UbaModelMeta *meta, UbaReader *payload)
{
	UbaModelKind *k = palloc(sizeof(UbaModelKind));

	*k = meta->kind;
	return k;
}

static UbaModelKind
KindOf(FunctionCallInfo fcinfo, const char *function, bool explain)
{
	UbaModelKind kind = *(UbaModelKind *) uba_model_cached(fcinfo, 0, UBA_KIND_ANY, KindOnly);
	bool		applies = (int) kind >= 0 && (int) kind < (int) lengthof(scorers) &&
		(explain ? explainers[kind] != NULL : scorers[kind] != NULL);

	if (!applies)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s does not apply to %s models", function, uba_kind_name(kind)),
				 (int) kind < (int) lengthof(instead) && instead[kind][0] != '\0' ?
				 errhint("Use %s with them.", instead[kind]) :
				 errhint("It applies to logreg and boost models%s.", explain ? "" : " and linreg")));
	return kind;
}

/*
 * uba_predict(model, features): the prediction of any model that scores a
 * feature array: a probability (logreg, binary boost and forest), a value
 * (linreg, regression boost and forest).
 */
PG_FUNCTION_INFO_V1(uba_predict);

Datum
uba_predict(PG_FUNCTION_ARGS)
{
	UbaModelKind kind = KindOf(fcinfo, "uba_predict", false);

	PG_RETURN_FLOAT8(scorers[kind] (fcinfo, PG_GETARG_ARRAYTYPE_P(1)));
}

/* uba_explain(model, features [, top]): the model's own explanation rows */
PG_FUNCTION_INFO_V1(uba_explain);

Datum
uba_explain(PG_FUNCTION_ARGS)
{
	UbaModelKind kind;

	InitMaterializedSRF(fcinfo, 0);
	kind = KindOf(fcinfo, "uba_explain", true);
	explainers[kind] (fcinfo, PG_GETARG_ARRAYTYPE_P(1),
					  PG_NARGS() > 2 ? uba_count_arg(PG_GETARG_INT32(2), "top") : -1);
	return (Datum) 0;
}
