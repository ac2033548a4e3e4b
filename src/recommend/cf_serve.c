/*-------------------------------------------------------------------------
 *
 * cf_serve.c
 *	  Serving recommendations: the top n for a known user, for a list of
 *	  items (fold-in), items similar to an item, and why an item was
 *	  recommended.
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"

#include <math.h>
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_cf_recommend);
PG_FUNCTION_INFO_V1(uba_recommend);
PG_FUNCTION_INFO_V1(uba_cf_recommend_items);
PG_FUNCTION_INFO_V1(uba_cf_recommend_text);
PG_FUNCTION_INFO_V1(uba_cf_similar_items);
PG_FUNCTION_INFO_V1(uba_cf_explain);

/* Index of argument argno among the model's ids, or -1 */
static int64
FindArg(FunctionCallInfo fcinfo, int argno, const UbaIds *ids, const char *what)
{
	return uba_ids_find(ids, PG_GETARG_DATUM(argno), get_fn_expr_argtype(fcinfo->flinfo, argno), what);
}

/* The type of the first result column: what the caller's ids resolved to */
static Oid
ResultIdType(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	return TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
}

static const UbaOptionSpec recommend_options[] = {
	{"include_seen", UBA_OPT_BOOL, 0, 0, 1, NULL},
};

/* Is item in the sorted list? */
static bool
InSorted(const uint32 *list, int64 n, uint32 item)
{
	return n > 0 && bsearch(&item, list, n, sizeof(uint32), uba_cmp_uint32) != NULL;
}

/* ALS scores of every item for user vector x */
static void
UserScores(const CfModel *m, const float *x, float *scores)
{
	for (int64 i = 0; i < m->nitems; i++)
		scores[i] = Dot(x, m->Y + (Size) i * m->fs, m->fs);
}

/*
 * item_knn scores of every item for a user who has the given distinct
 * items: the sum of the similarities of the items that have it as a
 * neighbour.
 */
static void
KnnScores(const CfModel *m, const uint32 *items, int64 n, float *scores)
{
	memset(scores, 0, sizeof(float) * m->nitems);
	for (int64 t = 0; t < n; t++)
		for (int64 k = m->nbr_off[items[t]]; k < m->nbr_off[items[t] + 1]; k++)
			scores[m->nbr[k]] += m->nbr_sim[k];
}

/*
 * The n best items into heap (returns how many, at most n), best first:
 * by scores, or by popularity when scores is NULL, leaving out the items
 * of the sorted list skip (nskip of them).  Ties: the smaller item id.
 * *scored is how many of them, from the start, the model scored (the rest
 * are popular items).
 *
 * The item-item methods score only items related to the user's: an item
 * with no positive score has no evidence for it, so when fewer than n
 * have one the list goes on with the most popular other items, score 0,
 * as an unknown user's list does (not with the first items by id).
 */
static int
TopItems(const CfModel *m, const float *scores, const uint32 *skip, int64 nskip, int n, Scored *heap,
		 int *scored)
{
	int			size = 0;
	bool		evidence_only = scores != NULL && m->method != CF_METHOD_ALS;

	*scored = 0;
	if (n <= 0)
		return 0;
	if (scores == NULL)
	{
		for (int64 r = 0; r < m->nitems && size < n; r++)
		{
			uint32		i = m->by_popularity[r];

			if (!InSorted(skip, nskip, i))
				heap[size++] = (Scored) {(float) m->popularity[i], i};
		}
		return size;
	}
	for (int64 i = 0, k = 0; i < m->nitems; i++)
	{
		/* skip is increasing, so one pointer walks along */
		while (k < nskip && skip[k] < i)
			k++;
		if (k < nskip && skip[k] == i)
			continue;
		if (evidence_only && !(scores[i] > 0))
			continue;
		uba_cf_heap_offer(heap, &size, n, (Scored) {scores[i], (uint32) i});
	}
	qsort(heap, size, sizeof(Scored), uba_cf_compare_scored);
	*scored = size;
	/* the rest by popularity: items not skipped, not chosen already (those have a score > 0) */
	for (int64 r = 0; evidence_only && r < m->nitems && size < n; r++)
	{
		uint32		i = m->by_popularity[r];

		if (!InSorted(skip, nskip, i) && !(scores[i] > 0))
			heap[size++] = (Scored) {0, i};
	}
	return size;
}

/*
 * Return the ranked items as rows; a third column, where the result has
 * one, says where each came from: the first scored ones from the model,
 * the rest from popularity.
 */
static void
EmitItems(FunctionCallInfo fcinfo, const CfModel *m, const Scored *items, int size, int scored)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			idtype = ResultIdType(fcinfo);
	bool		with_source = rsinfo->setDesc->natts >= 3;

	for (int i = 0; i < size; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = uba_ids_datum(&m->items, items[i].item, idtype, "item");
		values[1] = Float8GetDatum((double) items[i].score);
		if (with_source)
			values[2] = CStringGetTextDatum(i < scored ? "model" : "popular");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* The n argument: not negative, at most the catalog */
static int
ResultCount(const CfModel *m, int32 n)
{
	return (int) Min((int64) uba_count_arg(n, "n"), m->nitems);
}

/*
 * What every form of uba_cf_recommend starts with: the result set, and for
 * non-NULL arguments (they are not STRICT: the options default to NULL)
 * the model, the options (argument optarg) and the row count; NULL when
 * there are no rows.
 */
static CfModel *
RecommendStart(FunctionCallInfo fcinfo, int optarg, UbaOptions *o, int *n)
{
	CfModel    *m;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return NULL;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_CF, uba_cf_parse);
	uba_ids_check_type(&m->items, ResultIdType(fcinfo), "item");
	uba_parse_options(PG_NARGS() > optarg && !PG_ARGISNULL(optarg) ? PG_GETARG_JSONB_P(optarg) : NULL,
					  recommend_options, lengthof(recommend_options), "uba_cf_recommend", o);
	*n = ResultCount(m, PG_GETARG_INT32(2));
	return m;
}

/*
 * uba_cf_recommend(model, user_id, n [, options]) returns (item_id, score):
 * the user's n best items by x_u . y_i, without the items the user had in
 * training unless include_seen; for a user the model does not know, the n
 * most popular items (score: distinct users in training).
 */
static void
RecommendUser(FunctionCallInfo fcinfo, CfModel *m, const UbaOptions *o, int n, int64 u)
{
	Scored	   *top = palloc(sizeof(Scored) * Max(n, 1));
	int			scored;

	if (u < 0)
		n = TopItems(m, NULL, NULL, 0, n, top, &scored);
	else
	{
		const uint32 *seen = m->seen + m->seen_off[u];
		int64		nseen = m->seen_off[u + 1] - m->seen_off[u];
		float	   *scores = palloc(sizeof(float) * m->nitems);

		if (m->method == CF_METHOD_ALS)
			UserScores(m, m->X + (Size) u * m->fs, scores);
		else
			KnnScores(m, seen, nseen, scores);
		if (uba_option(o, "include_seen") != 0)
			nseen = 0;
		n = TopItems(m, scores, seen, nseen, n, top, &scored);
	}
	EmitItems(fcinfo, m, top, n, scored);
}

/*
 * uba_cf_recommend(model, user_id, n [, options [, item_type]]): item ids
 * in the type of the user id, or of item_type, a value used only for its
 * type (NULL::text).  SQL must know a result's type before the model is
 * read, and a user id says nothing about the items' type; the result type
 * comes to the function resolved either way.
 */
Datum
uba_cf_recommend(PG_FUNCTION_ARGS)
{
	UbaOptions	o;
	int			n;
	CfModel    *m = RecommendStart(fcinfo, 3, &o, &n);

	if (m != NULL)
		RecommendUser(fcinfo, m, &o, n, FindArg(fcinfo, 1, &m->users, "user"));
	return (Datum) 0;
}

/*
 * uba_recommend(user_id, n [, model_name [, item_type]]): uba_cf_recommend
 * with the active version of a catalog model (model_name, else the setting
 * uba.recommender).  In C rather than SQL: its ids are polymorphic, and a
 * SQL body calling uba_cf_recommend with the caller's concrete types could
 * be captured by an overload of exactly those types in the extension's
 * schema; this calls nothing by name but the catalog's own table and
 * uba_model(text, int4).  Item ids come in the user id's type, or in
 * item_type's (the four-argument form).
 */
Datum
uba_recommend(PG_FUNCTION_ARGS)
{
	const char *name;
	UbaOptions	o;
	CfModel    *m;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	else
	{
		name = GetConfigOption("uba.recommender", true, false);
		if (name == NULL || name[0] == '\0')
			name = "recommender";
	}
	m = uba_model_cached_datum(fcinfo, uba_catalog_active_model(fcinfo, name), UBA_KIND_CF, uba_cf_parse);
	uba_ids_check_type(&m->items, ResultIdType(fcinfo), "item");
	uba_parse_options(NULL, recommend_options, lengthof(recommend_options), "uba_recommend", &o);
	n = ResultCount(m, PG_GETARG_INT32(1));
	RecommendUser(fcinfo, m, &o, n, FindArg(fcinfo, 0, &m->users, "user"));
	return (Datum) 0;
}

/* Y'Y (f x f, double, full), computed once per parsed model */
static const double *
ModelYtY(CfModel *m)
{
	int			f = m->f;

	if (m->YtY == NULL)
	{
		/* summed in the query's memory, copied to the model's when done: a cancel leaks nothing there */
		double	   *G = palloc0(sizeof(double) * f * f);

		for (int64 i = 0; i < m->nitems; i++)
		{
			const float *y = m->Y + (Size) i * m->fs;

			for (int j = 0; j < f; j++)
				for (int l = 0; l <= j; l++)
					G[(Size) j * f + l] += (double) y[j] * y[l];
			if ((i & 1023) == 1023)
				CHECK_FOR_INTERRUPTS();
		}
		for (int j = 0; j < f; j++)
			for (int l = 0; l < j; l++)
				G[(Size) l * f + j] = G[(Size) j * f + l];
		m->YtY = MemoryContextAlloc(m->cxt, sizeof(double) * f * f);
		memcpy(m->YtY, G, sizeof(double) * f * f);
		pfree(G);
	}
	return m->YtY;
}

/*
 * A user's least-squares system with the item vectors fixed, as training
 * builds it: A = Y'Y + regularization I + sum_k conf_k y_k y_k' over the
 * user's items, and (when b is given) b = sum_k (1 + conf_k) y_k, with
 * conf_k = c_k - 1.
 */
static void
UserSystem(CfModel *m, const uint32 *items, const float *conf, int64 n, double *A, double *b)
{
	int			f = m->f;

	memcpy(A, ModelYtY(m), sizeof(double) * f * f);
	for (int j = 0; j < f; j++)
		A[(Size) j * f + j] += m->reg;
	if (b)
		memset(b, 0, sizeof(double) * f);
	for (int64 k = 0; k < n; k++)
	{
		const float *y = m->Y + (Size) items[k] * m->fs;
		double		c1 = conf[k];

		if ((k & 255) == 255)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < f; j++)
		{
			for (int l = 0; l < f; l++)
				A[(Size) j * f + l] += c1 * y[j] * y[l];
			if (b)
				b[j] += (1 + c1) * y[j];
		}
	}
}

/* Solve A z = v in place (A is overwritten); the user's system is positive definite */
static void
SolveUserSystem(int f, double *A, double *v)
{
	if (!uba_cholesky_solve(f, A, v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the user's items give no solvable system"),
				 errhint("Train with a regularization above 0.")));
}

/*
 * A user vector for a list of items (sorted, repeats adjacent), as training
 * would solve it with the item vectors fixed, each occurrence of an item an
 * event of weight 1: exactly, by Cholesky in double precision.
 */
static void
FoldIn(CfModel *m, const uint32 *items, int64 nitems, float *x)
{
	int			f = m->f;
	double	   *A = palloc(sizeof(double) * f * f);
	double	   *b = palloc(sizeof(double) * f);
	uint32	   *distinct = palloc(sizeof(uint32) * nitems);
	float	   *conf = palloc(sizeof(float) * nitems);
	int64		nd = 0;

	for (int64 k = 0; k < nitems;)
	{
		int64		k1 = k + 1;

		while (k1 < nitems && items[k1] == items[k])
			k1++;
		distinct[nd] = items[k];
		conf[nd++] = (float) (m->alpha * (double) (k1 - k));
		k = k1;
	}
	UserSystem(m, distinct, conf, nd, A, b);
	SolveUserSystem(f, A, b);
	memset(x, 0, sizeof(float) * m->fs);
	for (int j = 0; j < f; j++)
		x[j] = (float) b[j];
	pfree(A);
	pfree(b);
	pfree(distinct);
	pfree(conf);
}

/*
 * uba_cf_recommend(model, items bigint[], n [, options]): real-time
 * fold-in for a user the model does not know (a cart, a live session):
 * solve a user vector from the items and recommend, leaving those items
 * out unless include_seen.  Items the model does not know and NULL
 * elements are ignored; with no known item, the most popular items.
 */
static void
RecommendItems(FunctionCallInfo fcinfo, CfModel *m, const UbaOptions *o, int n, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	uint32	   *known;
	int64		nknown = 0;
	Scored	   *top;
	int			scored;

	uba_read_ids(arr, "item list", &elems, &nulls, &nelems);
	known = palloc(sizeof(uint32) * Max(nelems, 1));
	for (int e = 0; e < nelems; e++)
	{
		int64		i = nulls[e] ? -1 : uba_ids_find(&m->items, elems[e], ARR_ELEMTYPE(arr), "item");

		if (i >= 0)
			known[nknown++] = (uint32) i;
	}
	qsort(known, nknown, sizeof(uint32), uba_cmp_uint32);
	top = palloc(sizeof(Scored) * Max(n, 1));
	if (nknown == 0)
		n = TopItems(m, NULL, NULL, 0, n, top, &scored);
	else
	{
		float	   *scores = palloc(sizeof(float) * m->nitems);

		if (m->method == CF_METHOD_ALS)
		{
			float	   *x = palloc(sizeof(float) * m->fs);

			if (m->explicit)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("recommending for a list of items needs an implicit-feedback model"),
						 errdetail("The model was trained on ratings, and the list has none."),
						 errhint("Train with \"feedback\": \"implicit\" (the default) for fold-in.")));
			FoldIn(m, known, nknown, x);
			UserScores(m, x, scores);
		}
		else
		{
			int64		nd = 0;

			/* each listed item once: the similarities are of the binary matrix */
			for (int64 k = 0; k < nknown; k++)
				if (k == 0 || known[k] != known[k - 1])
					known[nd++] = known[k];
			nknown = nd;
			KnnScores(m, known, nknown, scores);
		}
		n = TopItems(m, scores, uba_option(o, "include_seen") != 0 ? NULL : known,
					 uba_option(o, "include_seen") != 0 ? 0 : nknown, n, top, &scored);
	}
	EmitItems(fcinfo, m, top, n, scored);
}

Datum
uba_cf_recommend_items(PG_FUNCTION_ARGS)
{
	UbaOptions	o;
	int			n;
	CfModel    *m = RecommendStart(fcinfo, 3, &o, &n);

	if (m != NULL)
		RecommendItems(fcinfo, m, &o, n, PG_GETARG_ARRAYTYPE_P(1));
	return (Datum) 0;
}

/*
 * uba_cf_recommend(model, id text, n [, options]): the form an untyped
 * literal resolves to.  Without it, uba_cf_recommend(m, NULL, 5) and
 * uba_cf_recommend(m, '{1,2}', 5) are "not unique": an unknown literal
 * fits both bigint and bigint[] and neither is preferred, while the string
 * category always is.  A text in braces is an item list, anything else a
 * user id; both are read by their types' own input functions, so a typo
 * is the usual 22P02 naming the value.
 */
static void
IdTextContext(void *arg)
{
	errcontext("reading the id of uba_cf_recommend: a user id, or item ids in braces such as '{1641,3040}'");
}

Datum
uba_cf_recommend_text(PG_FUNCTION_ARGS)
{
	UbaOptions	o;
	int			n;
	CfModel    *m = RecommendStart(fcinfo, 3, &o, &n);
	ErrorContextCallback ctx = {.callback = IdTextContext};
	char	   *id;
	const char *p;
	bool		list;
	Datum		value = (Datum) 0;
	int64		u = -1;

	if (m == NULL)
		return (Datum) 0;
	id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (p = id; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	list = (*p == '{');
	ctx.previous = error_context_stack;
	error_context_stack = &ctx;
	if (list)
		value = OidInputFunctionCall(F_ARRAY_IN, id, uba_ids_type(&m->items), -1);
	else
		u = uba_ids_find_cstring(&m->users, id, "user");
	error_context_stack = ctx.previous;
	if (list)
		RecommendItems(fcinfo, m, &o, n, DatumGetArrayTypeP(value));
	else
		RecommendUser(fcinfo, m, &o, n, u);
	return (Datum) 0;
}

/*
 * uba_cf_similar_items(model, item_id, n) returns (item_id, score): the n
 * items whose vectors are closest in direction (cosine), "customers who
 * bought this also bought".  An item the model does not know gives no rows.
 */
Datum
uba_cf_similar_items(PG_FUNCTION_ARGS)
{
	CfModel    *m;
	int64		item;
	int			n,
				size = 0;
	Scored	   *top;
	float		norm;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_CF, uba_cf_parse);
	n = ResultCount(m, PG_GETARG_INT32(2));
	item = FindArg(fcinfo, 1, &m->items, "item");
	uba_ids_check_type(&m->items, ResultIdType(fcinfo), "item");
	if (item < 0 || n == 0)
		return (Datum) 0;
	if (m->method != CF_METHOD_ALS)
	{
		/* the item's kept list, already largest first */
		int64		k0 = m->nbr_off[item];
		int64		cnt = Min((int64) n, m->nbr_off[item + 1] - k0);

		top = palloc(sizeof(Scored) * Max(cnt, 1));
		for (int64 k = 0; k < cnt; k++)
			top[k] = (Scored) {m->nbr_sim[k0 + k], m->nbr[k0 + k]};
		EmitItems(fcinfo, m, top, (int) cnt, (int) cnt);
		return (Datum) 0;
	}
	if (m->item_norms == NULL)
	{
		float	   *norms = MemoryContextAlloc(m->cxt, sizeof(float) * m->nitems);

		for (int64 i = 0; i < m->nitems; i++)
			norms[i] = sqrtf(Dot(m->Y + (Size) i * m->fs, m->Y + (Size) i * m->fs, m->fs));
		m->item_norms = norms;
	}
	top = palloc(sizeof(Scored) * n);
	norm = m->item_norms[item];
	for (int64 i = 0; i < m->nitems; i++)
	{
		float		d = norm * m->item_norms[i];

		if (i == item)
			continue;
		uba_cf_heap_offer(top, &size, n, (Scored) {d > 0 ? Dot(m->Y + (Size) item * m->fs, m->Y + (Size) i * m->fs, m->fs) / d : 0.0f,
					  (uint32) i});
	}
	qsort(top, size, sizeof(Scored), uba_cf_compare_scored);
	EmitItems(fcinfo, m, top, size, size);
	return (Datum) 0;
}

/* A contribution to an explained score */
typedef struct Because
{
	double		contribution;
	uint32		item;
} Because;

static int
CompareBecause(const void *a, const void *b)
{
	const Because *x = (const Because *) a;
	const Because *y = (const Because *) b;

	if (x->contribution != y->contribution)
		return x->contribution > y->contribution ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

static void ExplainAls(CfModel *m, int64 item, int64 k0, int64 nseen, Because *because);

/*
 * uba_cf_explain(model, user_id, item_id [, n]) returns (because_item,
 * contribution): which of the user's own items drove the item's score
 * (Hu, Koren and Volinsky 2008, section 5).  With W = (Y'C_uY +
 * regularization I)^-1, the user's weighting of item similarities, the
 * score is the sum over the user's items j of c_uj (y_i' W y_j): each
 * term is item j's contribution.  The n largest (default 10), largest
 * first.  The sum over all of them equals the score of the exact user
 * vector for the current item vectors, which the trained vector
 * approaches.  An unknown user or item gives no rows.
 */
Datum
uba_cf_explain(PG_FUNCTION_ARGS)
{
	CfModel    *m;
	int64		u,
				item,
				k0,
				nseen;
	int32		n;
	Because    *because;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || (PG_NARGS() > 3 && PG_ARGISNULL(3)))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_CF, uba_cf_parse);
	n = ResultCount(m, PG_NARGS() > 3 ? PG_GETARG_INT32(3) : 10);
	uba_ids_check_type(&m->items, ResultIdType(fcinfo), "item");
	u = FindArg(fcinfo, 1, &m->users, "user");
	item = FindArg(fcinfo, 2, &m->items, "item");
	if (u < 0 || item < 0 || n == 0)
		return (Datum) 0;

	k0 = m->seen_off[u];
	nseen = m->seen_off[u + 1] - k0;
	because = palloc(sizeof(Because) * Max(nseen, 1));
	if (m->method != CF_METHOD_ALS)
	{
		int64		nb = 0;

		/* item-item methods: each of the user's items that has the item in its kept list */
		for (int64 k = 0; k < nseen; k++)
		{
			uint32		i = m->seen[k0 + k];

			for (int64 q = m->nbr_off[i]; q < m->nbr_off[i + 1]; q++)
				if (m->nbr[q] == (uint32) item)
				{
					because[nb].contribution = m->nbr_sim[q];
					because[nb++].item = i;
					break;
				}
		}
		nseen = nb;
	}
	else
		ExplainAls(m, item, k0, nseen, because);

	qsort(because, nseen, sizeof(Because), CompareBecause);
	for (int64 k = 0; k < Min((int64) n, nseen); k++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = uba_ids_datum(&m->items, because[k].item, ResultIdType(fcinfo), "item");
		values[1] = Float8GetDatum(because[k].contribution);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * ALS contributions of the user's nseen items (from k0) to item's score:
 * c_uj y_i' W y_j, or r_uj y_i' W y_j with ratings.
 */
static void
ExplainAls(CfModel *m, int64 item, int64 k0, int64 nseen, Because *because)
{
	int			f = m->f;
	double	   *A = palloc(sizeof(double) * f * f);
	double	   *z = palloc(sizeof(double) * f);

	if (m->explicit)
	{
		/* ratings: W = (Y_u'Y_u + regularization n_u I)^-1, and item j contributes r_uj y_i' W y_j */
		memset(A, 0, sizeof(double) * f * f);
		for (int j = 0; j < f; j++)
			A[(Size) j * f + j] = m->reg * (double) nseen;
		for (int64 k = 0; k < nseen; k++)
		{
			const float *y = m->Y + (Size) m->seen[k0 + k] * m->fs;

			for (int j = 0; j < f; j++)
				for (int l = 0; l < f; l++)
					A[(Size) j * f + l] += (double) y[j] * y[l];
		}
	}
	else
		UserSystem(m, m->seen + k0, m->seen_conf + k0, nseen, A, NULL);
	for (int j = 0; j < f; j++)
		z[j] = m->Y[(Size) item * m->fs + j];
	SolveUserSystem(f, A, z);	/* z = W y_i */

	for (int64 k = 0; k < nseen; k++)
	{
		const float *y = m->Y + (Size) m->seen[k0 + k] * m->fs;
		double		s = 0;
		double		weight = m->explicit ? (double) m->seen_conf[k0 + k] : 1 + (double) m->seen_conf[k0 + k];

		for (int j = 0; j < f; j++)
			s += z[j] * y[j];
		because[k].contribution = weight * s;
		because[k].item = m->seen[k0 + k];
	}
	pfree(A);
	pfree(z);
}
