/*-------------------------------------------------------------------------
 *
 * cf_train.c
 *	  The uba_cf_train aggregate: it collects (user, item, weight) events
 *	  (events.c), builds the sparse user x item matrices every method trains
 *	  on, runs the method (als.c, item_knn.c, ease.c) and writes the model
 *	  (layout in cf_model.c).
 *
 * Rows are ordered by id before training (and repeated pairs summed with
 * their weights in a fixed order), so the same events give the same model
 * in any order and under any plan.
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"
#include "kinds.h"

#include <math.h>
#include "miscadmin.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_cf_transfn);
PG_FUNCTION_INFO_V1(uba_cf_final);

const char *const uba_cf_methods[] = {"als", "item_knn", "ease", NULL};
static const char *const cf_solvers[] = {"cg", "cholesky", NULL};
static const char *const cf_feedback[] = {"implicit", "explicit", NULL};

static const UbaOptionSpec cf_options[] = {
	{"method", UBA_OPT_CHOICE, CF_METHOD_ALS, 0, 0, uba_cf_methods},
	{"factors", UBA_OPT_INT, 64, 1, CF_MAX_FACTORS, NULL},
	{"iterations", UBA_OPT_INT, 15, 1, 1000, NULL},
	{"regularization", UBA_OPT_FLOAT, 0.1, 0, 1e9, NULL},
	{"alpha", UBA_OPT_FLOAT, 1, 0, 1e9, NULL},
	{"solver", UBA_OPT_CHOICE, CF_SOLVER_CG, 0, 0, cf_solvers},
	{"cg_steps", UBA_OPT_INT, 3, 1, 100, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"neighbors", UBA_OPT_INT, 20, 1, CF_MAX_NEIGHBORS, NULL},
	{"feedback", UBA_OPT_CHOICE, 0, 0, 0, cf_feedback},
	UBA_PROGRESS_OPTION,
};

/*
 * Options that the chosen method does not use are an error, as unknown ones
 * are: {"method": "item_knn", "factors": 8} would otherwise be quietly ignored.
 */
static const char *const cf_method_options[] = {
	/* als */ "method factors iterations regularization alpha solver cg_steps seed feedback verbose",
	/* item_knn */ "method neighbors verbose",
	/* ease */ "method neighbors regularization verbose",
};

static void
CheckMethodOptions(const UbaOptions *o)
{
	int			method = (int) uba_option(o, "method");
	const char *valid = cf_method_options[method];

	for (int i = 0; i < o->nspecs; i++)
	{
		const char *name = o->specs[i].name;
		const char *at;
		Size		len = strlen(name);
		bool		found = false;

		if (!o->given[i])
			continue;
		for (at = strstr(valid, name); at != NULL && !found; at = strstr(at + 1, name))
			found = (at == valid || at[-1] == ' ') && (at[len] == ' ' || at[len] == '\0');
		if (!found)
		{
			StringInfoData list;

			initStringInfo(&list);
			for (const char *c = valid; *c; c++)
			{
				if (*c == ' ')
					appendStringInfoString(&list, ", ");
				else
					appendStringInfoChar(&list, *c);
			}
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" does not apply to method \"%s\" of uba_cf_train", name, uba_cf_methods[method]),
					 errdetail("Options of method %s are: %s.", uba_cf_methods[method], list.data)));
		}
	}
}

/* uba_cf_train(user_id, item_id, weight [, options]) transition: collect the event */
Datum
uba_cf_transfn(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ? PG_GETARG_JSONB_P(4) : NULL;
	double		w;

	/* events with no user, item or weight are skipped, as built-in aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	w = PG_GETARG_FLOAT8(3);
	uba_check_finite(w, "interaction weights");
	if (w < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("interaction weights must not be negative"),
				 errdetail("Got %g for user %s and item %s.", w,
						   uba_id_text(PG_GETARG_DATUM(1), get_fn_expr_argtype(fcinfo->flinfo, 1)),
						   uba_id_text(PG_GETARG_DATUM(2), get_fn_expr_argtype(fcinfo->flinfo, 2))),
				 errhint("Weights count how strongly a user showed interest: views, purchases, quantities.")));
	if (st == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, cf_options, lengthof(cf_options), "uba_cf_train", &o);
		CheckMethodOptions(&o);
		st = uba_events_start(fcinfo, opts, true, CF_EVENT_PEAK_BYTES, "user ids", "item ids");
	}
	else
		uba_check_same_options(st->options, opts);
	uba_events_add(st, fcinfo, w);
	PG_RETURN_POINTER(st);
}

/* ---------- from events to sparse matrices ---------- */

/*
 * The user x item matrix of summed weights (times alpha), by user and by
 * item.  Events are sorted by (user, item); a pair's repeated weights are
 * summed in increasing order, so the sums do not depend on event order.
 */
static int64
BuildMatrices(UbaEvents *st, double alpha, int64 nusers, const uint32 *uidx, int64 nitems,
			  const uint32 *iidx, CfSparse *byuser, CfSparse *byitem, uint32 *popularity)
{
	int64		n = st->n;
	UbaSortKey *a = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * n);
	UbaSortKey *b = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(UbaSortKey) * n);
	UbaSortKey *s;
	int64		pairs = 0;
	double	   *ws = NULL;
	int64		wscap = 0;
	int64	   *fill;

	for (int64 i = 0; i < n; i++)
	{
		a[i].key = ((uint64) uidx[i] << 32) | iidx[i];
		a[i].idx = i;
	}
	s = uba_radix_sort(a, b, n);
	for (int64 i = 0; i < n; i++)
		if (i == 0 || s[i].key != s[i - 1].key)
			pairs++;

	byuser->rows = nusers;
	byuser->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (nusers + 1));
	byuser->col = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(pairs, 1));
	byuser->val = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(pairs, 1));
	memset(byuser->off, 0, sizeof(int64) * (nusers + 1));
	memset(popularity, 0, sizeof(uint32) * nitems);
	pairs = 0;
	for (int64 i = 0; i < n;)
	{
		int64		j = i + 1;
		double		sum;

		while (j < n && s[j].key == s[i].key)
			j++;
		if (j - i == 1)
			sum = st->w[s[i].idx];
		else
		{
			if (j - i > wscap)
			{
				wscap = Max(j - i, 2 * wscap);
				ws = ws ? repalloc_huge(ws, sizeof(double) * wscap) :
					MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * wscap);
			}
			for (int64 k = i; k < j; k++)
				ws[k - i] = st->w[s[k].idx];
			qsort(ws, j - i, sizeof(double), uba_cmp_double);
			sum = 0;
			for (int64 k = 0; k < j - i; k++)
				sum += ws[k];
		}
		byuser->off[(s[i].key >> 32) + 1]++;
		byuser->col[pairs] = (uint32) (s[i].key & 0xFFFFFFFF);
		byuser->val[pairs] = (float) (alpha * sum);
		popularity[byuser->col[pairs]]++;
		pairs++;
		i = j;
		if ((pairs & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int64 u = 0; u < nusers; u++)
		byuser->off[u + 1] += byuser->off[u];
	pfree(a);
	pfree(b);
	if (ws)
		pfree(ws);

	/* the transpose, by counting */
	byitem->rows = nitems;
	byitem->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (nitems + 1));
	byitem->col = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(pairs, 1));
	byitem->val = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(pairs, 1));
	byitem->off[0] = 0;
	for (int64 i = 0; i < nitems; i++)
		byitem->off[i + 1] = byitem->off[i] + popularity[i];
	fill = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(nitems, 1));
	memcpy(fill, byitem->off, sizeof(int64) * nitems);
	for (int64 u = 0; u < nusers; u++)
		for (int64 k = byuser->off[u]; k < byuser->off[u + 1]; k++)
		{
			int64		at = fill[byuser->col[k]]++;

			byitem->col[at] = (uint32) u;
			byitem->val[at] = byuser->val[k];
		}
	pfree(fill);
	return pairs;
}

/* ---------- the model ---------- */

/* uba_cf_train final function: train and return the model */
Datum
uba_cf_final(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MemoryContext cxt,
				old;
	int64		nusers,
				nitems,
				pairs;
	int64	   *user_ids,
			   *item_ids;
	uint32	   *uidx,
			   *iidx,
			   *popularity;
	CfSparse	byuser,
				byitem;
	int			f,
				fs,
				method,
				iterations;
	bool		explicit;
	double		reg,
				alpha,
				loss;
	float	   *X = NULL,
			   *Y = NULL,
			   *nbr_sim = NULL;
	int64	   *nbr_off = NULL;
	uint32	   *nbr = NULL;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, cf_options, lengthof(cf_options), "uba_cf_train", &o);
	method = (int) uba_option(&o, "method");
	/* EASE's own defaults: its lambda is on counts of users, and it keeps more weights */
	if (method == CF_METHOD_EASE && !uba_option_given(&o, "regularization"))
		uba_option_set(&o, "regularization", 500);
	if (method == CF_METHOD_EASE && !uba_option_given(&o, "neighbors"))
		uba_option_set(&o, "neighbors", 200);
	/* the model's width: factors for ALS, weights kept per item for the item-item methods */
	f = (int) uba_option(&o, method == CF_METHOD_ALS ? "factors" : "neighbors");
	fs = CF_PAD(f);
	iterations = (int) uba_option(&o, "iterations");
	reg = uba_option(&o, "regularization");
	alpha = uba_option(&o, "alpha");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba cf", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	uba_events_canonical(st);
	uidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	iidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	nusers = uba_map_ids(st->a, st->n, &user_ids, uidx);
	nitems = uba_map_ids(st->b, st->n, &item_ids, iidx);

	popularity = MemoryContextAllocHuge(cxt, sizeof(uint32) * nitems);
	if (method == CF_METHOD_ALS)
		uba_cf_check_als_memory(st->n, nusers, nitems, f);
	else if (method == CF_METHOD_EASE)
	{
		/* the method's limits first: raising uba.max_memory would not help past them */
		if (nitems > CF_EASE_MAX_ITEMS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("EASE supports at most %d items, the events have " INT64_FORMAT,
							CF_EASE_MAX_ITEMS, nitems),
					 errhint("Use method \"als\" or \"item_knn\" for larger catalogs.")));
		if (nusers >= (INT64CONST(1) << 24))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("EASE supports fewer than 16777216 users")));
		/* events, the items x items matrix, the inversion's work space, the kept lists */
		uba_check_memory(add_size(add_size(mul_size((Size) st->n, CF_EVENT_PEAK_BYTES),
										   mul_size((Size) nitems, (Size) (nitems + 256) * sizeof(float))),
								  mul_size((Size) nitems, mul_size((Size) f, sizeof(uint32) + sizeof(float)))),
						 "EASE training");
	}
	else
		uba_check_memory(add_size(mul_size((Size) st->n, CF_EVENT_PEAK_BYTES),
								  add_size(mul_size(UBA_LANES, mul_size((Size) nitems, 2 * sizeof(uint32))),
										   mul_size((Size) nitems, mul_size((Size) f, sizeof(uint32) + sizeof(float))))),
						 "collaborative filtering training");
	/* explicit feedback keeps the ratings themselves (alpha is for confidences) */
	explicit = method == CF_METHOD_ALS && (int) uba_option(&o, "feedback") == CF_FEEDBACK_EXPLICIT;
	pairs = BuildMatrices(st, explicit ? 1.0 : alpha, nusers, uidx, nitems, iidx, &byuser, &byitem,
						  popularity);
	pfree(uidx);
	pfree(iidx);
	uba_progress(&o, "uba_cf_train: " INT64_FORMAT " users, " INT64_FORMAT " items, " INT64_FORMAT " distinct pairs; training %s",
				 nusers, nitems, pairs, uba_cf_methods[method]);
	if (method == CF_METHOD_ALS)
		loss = uba_cf_train_als(&byuser, &byitem, nusers, nitems, &o, &X, &Y);
	else
	{
		iterations = 0;
		loss = 0;
		if (method == CF_METHOD_EASE)
			uba_cf_train_ease(&byuser, &byitem, nusers, nitems, reg, f, &nbr_off, &nbr, &nbr_sim);
		else
			uba_cf_train_item_knn(&byuser, &byitem, nitems, f, &nbr_off, &nbr, &nbr_sim);
	}

	uba_progress(&o, "uba_cf_train: trained; writing the model");
	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) nusers);
	uba_put_u32(&pw, (uint32) nitems);
	uba_put_u32(&pw, (uint32) f);
	uba_put_u32(&pw, (uint32) method);
	uba_put_u32(&pw, (explicit ? CF_FLAG_EXPLICIT : 0) |
				((uint32) st->ida.kind << CF_USER_KIND_SHIFT) | ((uint32) st->idb.kind << CF_ITEM_KIND_SHIFT));
	uba_put_u32(&pw, (uint32) iterations);
	uba_put_f64(&pw, reg);
	uba_put_f64(&pw, alpha);
	uba_put_f64(&pw, loss);
	uba_put_ids(&pw, &st->ida, user_ids, nusers);
	uba_put_ids(&pw, &st->idb, item_ids, nitems);
	uba_put_u32_array(&pw, popularity, nitems);
	for (int64 u = 0; u <= nusers; u++)
		uba_put_u64(&pw, (uint64) byuser.off[u]);
	uba_put_u32_array(&pw, byuser.col, pairs);
	uba_put_f32_array(&pw, byuser.val, pairs);
	if (method == CF_METHOD_ALS)
	{
		/* factors without their padding */
		for (int64 u = 0; u < nusers; u++)
			uba_put_f32_array(&pw, X + (Size) u * fs, f);
		for (int64 i = 0; i < nitems; i++)
			uba_put_f32_array(&pw, Y + (Size) i * fs, f);
	}
	else
	{
		for (int64 i = 0; i <= nitems; i++)
			uba_put_u64(&pw, (uint64) nbr_off[i]);
		uba_put_u32_array(&pw, nbr, nbr_off[nitems]);
		uba_put_f32_array(&pw, nbr_sim, nbr_off[nitems]);
	}

	uba_model_meta_init(&meta, f, st->n, st->started, &o);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_CF, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

