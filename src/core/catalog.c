/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Changes to the model catalog: save, train, retrain, activate, drop,
 *	  lock, owners and readers
 *
 * The catalog tables grant PUBLIC nothing but SELECT, so every change goes
 * through these functions.  Each one decides with the rights of the role it
 * runs as (GetUserId(): never a role the caller could switch back to), then
 * runs its fixed statements as the tables' owner with search_path pinned to
 * pg_catalog, inside a security-restricted operation.  Whatever happens in
 * between, an error included, the transaction machinery puts the user and
 * the settings back, as for PostgreSQL's own maintenance commands.
 *
 * uba_model_retrain runs a stored query on the owner's behalf the way
 * REFRESH MATERIALIZED VIEW runs a view's query: as the owner, in a
 * security-restricted operation (no SET ROLE, RESET ROLE or SET SESSION
 * AUTHORIZATION, no temporary tables), in a new GUC nest level holding the
 * stored search_path, and only when no role without the owner's rights can
 * create objects in a schema of that path.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#define NAME_MAX_CHARS 200

/* Where the catalog is and who owns it; the role whose rights count */
typedef struct Catalog
{
	Oid			caller;			/* GetUserId() on entry */
	Oid			table_owner;	/* owner of the catalog tables */
	char	   *names;			/* qualified uba_model_names */
	char	   *store;			/* qualified uba_model_store */
} Catalog;

typedef UbaSwitched Switched;

/* What produced a version (uba_model_train); NULL for uba_model_save */
typedef struct Recipe
{
	text	   *query;
	Jsonb	   *options;
	TimestampTz started;
	char	   *search_path;
} Recipe;

/* ---------- the catalog and the role switches ---------- */

/*
 * A table of the extension in schema nsp: its qualified name, its owner,
 * and whether the current transaction created it (uncommitted: another
 * transaction cannot see it).  Errors when a damaged installation lost it.
 */
char *
uba_extension_table(Oid nsp, const char *relname, const char *what, Oid *owner, bool *created_here)
{
	char	   *nspname = OidIsValid(nsp) ? get_namespace_name(nsp) : NULL;
	Oid			relid = nspname != NULL ? get_relname_relid(relname, nsp) : InvalidOid;
	HeapTuple	tup;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("%s is missing from the extension's schema", what)));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	*owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	if (created_here)
		*created_here = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data));
	ReleaseSysCache(tup);
	return psprintf("%s.%s", quote_identifier(nspname), quote_identifier(relname));
}

static void
CatalogOpen(Catalog *c, FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	Oid			names_owner;

	c->store = uba_extension_table(nsp, "uba_model_store", "the uba model catalog", &c->table_owner, NULL);
	c->names = uba_extension_table(nsp, "uba_model_names", "the uba model catalog", &names_owner, NULL);
	c->caller = GetUserId();
}

/*
 * Become role, in a security-restricted operation, with search_path set to
 * path in a new nest level, as PostgreSQL's maintenance commands run code
 * for a table's owner.  uba_switch_back undoes it; an error undoes it too
 * (transaction and subtransaction abort restore both).
 */
void
uba_switch_to(UbaSwitched *s, Oid role, const char *path)
{
	GetUserIdAndSecContext(&s->save_user, &s->save_sec);
	SetUserIdAndSecContext(role, s->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	s->nest = NewGUCNestLevel();
	(void) set_config_option("search_path", path, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
uba_switch_back(UbaSwitched *s)
{
	AtEOXact_GUC(false, s->nest);
	SetUserIdAndSecContext(s->save_user, s->save_sec);
}

/* Catalog statements run as the tables' owner with nothing but pg_catalog on the path */
static void
Elevate(Catalog *c, Switched *s)
{
	uba_switch_to(s, c->table_owner, "pg_catalog, pg_temp");
}

/*
 * Run one of uba's own fixed statements through SPI (connected by the
 * caller) with its parameters; nulls as SPI takes them, or NULL for none.
 * expect is the result code it must give, or 0 for any success; anything
 * else is an internal error naming what failed.  Returns the rows it
 * processed.
 */
uint64
uba_spi_exec(const char *what, const char *sql, int nargs, Oid *types, Datum *values,
			 const char *nulls, bool read_only, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	if (expect != 0 ? rc != expect : rc < 0)
		elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * Run a catalog statement; returns the rows it processed.  Never read-only:
 * each statement sees what the statements before it in this command did
 * (a train and a retrain in one query, for example).
 */
static uint64
Exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	return uba_spi_exec("uba catalog statement", sql, nargs, types, values, nulls, false, 0);
}

static Datum
Col(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* ---------- rights ---------- */

static char *
RoleName(Oid role)
{
	char	   *n = OidIsValid(role) ? GetUserNameFromId(role, true) : NULL;

	return n != NULL ? n : psprintf("(dropped role %u)", role);
}

/* Members of the owner role (and superusers) change a name */
static bool
MayChange(Oid caller, Oid owner)
{
	return is_member_of_role(caller, owner);
}

pg_attribute_noreturn()
static void
DeniedChange(const char *name, Oid owner)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for model \"%s\"", name),
			 errdetail("Only members of its owner role %s may save, activate, drop or retrain it.", RoleName(owner)),
			 errhint("Ask a member of %s to GRANT %s TO you.", RoleName(owner), RoleName(owner))));
}

/*
 * A new version goes into an existing name only for its owner and the real
 * members of the owner role.  A superuser, who may change any name, does
 * not save into another role's name by accident: that would hand the owner
 * a model of data the owner may not read (a squatted name).  Saving as the
 * owner (SET ROLE) or taking the name over first says so explicitly.
 */
static void
CheckSaveInto(Oid caller, const char *name, Oid owner)
{
	if (caller == owner || is_member_of_role_nosuper(caller, owner))
		return;
	if (!MayChange(caller, owner))
		DeniedChange(name, owner);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("model name \"%s\" belongs to role \"%s\"", name, RoleName(owner)),
			 errdetail("A version saved under it would be readable by that role and its readers."),
			 errhint("Save under another name; or take the name over first with uba_model_set_owner(%s, current_user); or SET ROLE %s to save a version on its behalf.",
					 quote_literal_cstr(name), quote_identifier(RoleName(owner)))));
}

/* ---------- arguments ---------- */

static char *
NameArg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t = PG_GETARG_TEXT_PP(argno);
	int			chars = pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	if (chars < 1 || chars > NAME_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must be 1 to %d characters long", NAME_MAX_CHARS)));
	return text_to_cstring(t);
}

/* A name argument that may be NULL, for the "does not exist" messages */
static char *
NameOrNull(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static const char *
Shown(const char *name)
{
	return name != NULL ? name : "<NULL>";
}

static bool
JsonbIsObject(Jsonb *j)
{
	return JB_ROOT_IS_OBJECT(j) && !JB_ROOT_IS_SCALAR(j);
}

static void
CheckMetrics(Jsonb *metrics)
{
	if (metrics != NULL && !JsonbIsObject(metrics))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metrics must be a JSON object")));
}

/* ---------- reading and locking a name ---------- */

/* The name's owner and counter, locked FOR UPDATE when lock; false when there is no such name */
static bool
ReadName(Catalog *c, const char *name, bool lock, Oid *owner, int32 *last_version)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;
	char	   *sql = psprintf("SELECT n.owner::oid, n.last_version FROM %s n WHERE n.name = $1%s",
							   c->names, lock ? " FOR UPDATE" : "");

	if (Exec(sql, 1, types, values, NULL) == 0)
		return false;
	*owner = DatumGetObjectId(Col(0, 1, &isnull));
	if (last_version != NULL)
		*last_version = DatumGetInt32(Col(0, 2, &isnull));
	return true;
}

/* Lock a name the caller may change; false when it does not exist */
static bool
LockForChange(Catalog *c, const char *name)
{
	Oid			owner;

	/* the right first, so that nobody can hold up a name they may not change */
	if (!ReadName(c, name, false, &owner, NULL))
		return false;
	if (!MayChange(c->caller, owner))
		DeniedChange(name, owner);
	if (!ReadName(c, name, true, &owner, NULL))
		return false;
	if (!MayChange(c->caller, owner))
		DeniedChange(name, owner);
	return true;
}

static void
LockExisting(Catalog *c, const char *name)
{
	if (name == NULL || !LockForChange(c, name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", Shown(name))));
}

/* ---------- storing a version ---------- */

static int32
StoreVersion(Catalog *c, const char *name, bytea *model, Jsonb *metrics, bool activate,
			 const Recipe *recipe)
{
	UbaModelMeta meta;
	Datum		nameval = CStringGetTextDatum(name);
	Oid			owner;
	int32		v = 0;
	bool		created = false;
	bool		isnull;

	uba_model_validate(model, &meta);

	/* the next version number; the row lock serializes the savers of one name */
	while (!created)
	{
		Oid			types[3] = {TEXTOID, OIDOID, NAMEOID};
		Datum		values[3];

		if (ReadName(c, name, false, &owner, NULL))
		{
			CheckSaveInto(c->caller, name, owner);
			if (ReadName(c, name, true, &owner, NULL))
			{
				CheckSaveInto(c->caller, name, owner);
				break;
			}
		}
		/* a new name: the caller owns it (a concurrent first save makes us go round again) */
		values[0] = nameval;
		values[1] = ObjectIdGetDatum(c->caller);
		values[2] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(c->caller, false)));
		created = Exec(psprintf("INSERT INTO %s AS n (name, last_version, owner, created_by, created_at) "
								"VALUES ($1, 1, $2::regrole, $3, now()) "
								"ON CONFLICT ON CONSTRAINT uba_model_names_pkey DO NOTHING RETURNING n.last_version",
								c->names), 3, types, values, NULL) == 1;
		if (created)
			v = 1;
		CHECK_FOR_INTERRUPTS();
	}
	if (!created)
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {nameval};

		Exec(psprintf("UPDATE %s n SET last_version = n.last_version + 1 WHERE n.name = $1 "
					  "RETURNING n.last_version", c->names), 1, types, values, NULL);
		v = DatumGetInt32(Col(0, 1, &isnull));
	}

	/* the new version is active when asked, and when no other version is */
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {nameval};

		if (!activate &&
			Exec(psprintf("SELECT 1 FROM %s s WHERE s.name = $1 AND s.active", c->store),
				 1, types, values, NULL) == 0)
			activate = true;
		if (activate)
			Exec(psprintf("UPDATE %s s SET active = false WHERE s.name = $1 AND s.active", c->store),
				 1, types, values, NULL);
	}
	{
		Oid			types[11] = {TEXTOID, INT4OID, TEXTOID, BYTEAOID, JSONBOID, BOOLOID, INT8OID,
		TEXTOID, TIMESTAMPTZOID, INTERVALOID, NAMEOID};
		Datum		values[11];
		char		nulls[11];

		memset(nulls, ' ', sizeof(nulls));
		values[0] = nameval;
		values[1] = Int32GetDatum(v);
		values[2] = CStringGetTextDatum(uba_kind_name(meta.kind));
		values[3] = PointerGetDatum(model);
		values[4] = metrics != NULL ? JsonbPGetDatum(metrics) : (Datum) 0;
		nulls[4] = metrics != NULL ? ' ' : 'n';
		values[5] = BoolGetDatum(activate);
		values[6] = Int64GetDatum(meta.n_rows);
		if (recipe != NULL)
		{
			TimestampTz now = GetCurrentTimestamp();

			values[7] = PointerGetDatum(recipe->query);
			values[8] = TimestampTzGetDatum(recipe->started);
			values[9] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(now),
											TimestampTzGetDatum(recipe->started));
		}
		else
			nulls[7] = nulls[8] = nulls[9] = 'n';
		values[10] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(c->caller, false)));
		Exec(psprintf("INSERT INTO %s (name, version, kind, model, metrics, active, training_rows, "
					  "training_query, training_started, training_duration, created_by, created_at) "
					  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())", c->store),
			 11, types, values, nulls);
	}

	/* retention: the newest uba.keep_versions versions, and the active one */
	if (uba_keep_versions > 0)
	{
		Oid			types[2] = {TEXTOID, INT4OID};
		Datum		values[2] = {nameval, Int32GetDatum(v - uba_keep_versions)};

		Exec(psprintf("DELETE FROM %s s WHERE s.name = $1 AND NOT s.active AND s.version <= $2", c->store),
			 2, types, values, NULL);
	}

	/* the recipe uba_model_retrain runs again (the metrics describe this version only) */
	if (recipe != NULL)
	{
		Oid			types[4] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID};
		Datum		values[4] = {nameval, PointerGetDatum(recipe->query), JsonbPGetDatum(recipe->options),
		CStringGetTextDatum(recipe->search_path)};

		Exec(psprintf("UPDATE %s n SET training_query = $2, training_options = $3 - 'metrics', "
					  "training_search_path = $4 WHERE n.name = $1", c->names),
			 4, types, values, NULL);
	}
	return v;
}

/* ---------- uba_model_save ---------- */

PG_FUNCTION_INFO_V1(uba_model_save);

Datum
uba_model_save(PG_FUNCTION_ARGS)
{
	Catalog		c;
	Switched	s;
	char	   *name;
	bytea	   *model;
	Jsonb	   *metrics = NULL;
	int32		v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name and model must not be NULL"),
				 errhint("A NULL model usually means the training query saw no rows.")));
	name = NameArg(fcinfo, 0);
	model = PG_GETARG_BYTEA_P(1);
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
		metrics = PG_GETARG_JSONB_P(2);
	CheckMetrics(metrics);

	CatalogOpen(&c, fcinfo);
	SPI_connect();
	Elevate(&c, &s);
	v = StoreVersion(&c, name, model, metrics, true, NULL);
	uba_switch_back(&s);
	SPI_finish();
	PG_RETURN_INT32(v);
}

/* ---------- uba_model_train ---------- */

/* The options of uba_model_train: activate (boolean) and metrics (an object) */
static void
TrainOptions(Jsonb *options, bool *activate, Jsonb **metrics)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (options == NULL || !JsonbIsObject(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options of uba_model_train must be a JSON object"),
				 errhint("For example '{\"activate\": false}'::jsonb.")));
	*activate = true;
	*metrics = NULL;
	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "activate") == 0)
		{
			if (v.type != jbvBool)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"activate\" of uba_model_train must be true or false")));
			*activate = v.val.boolean;
		}
		else if (strcmp(key, "metrics") == 0)
		{
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("metrics must be a JSON object")));
			*metrics = JsonbValueToJsonb(&v);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%s\" for uba_model_train", key),
					 errdetail("Valid options are: activate, metrics.")));
	}
}

/*
 * Run a training query with the rights and search_path in effect and
 * return its model.  It must be one query returning one row of one bytea
 * column: checked on the plan, before any row is read.
 */
static bytea *
RunTrainingQuery(const char *name, const char *query)
{
	char	   *q = pstrdup(query);
	int			len = strlen(q);
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *src;
	bool		isnull;
	Datum		d;

	while (len > 0 && strchr("; \n\t\r", q[len - 1]) != NULL)
		q[--len] = '\0';
	plan = SPI_prepare(q, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the training query of model \"%s\" must be a single query", name),
				 errhint("For example SELECT uba_kmeans(features, 5) FROM t.")));
	src = linitial(sources);
	/* a recipe is run again later, from another session (pg_cron): no temporary relations */
	{
		ListCell   *lc;

		foreach(lc, src->relationOids)
		{
			Oid			relid = lfirst_oid(lc);

			if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("the training query of model \"%s\" reads temporary table \"%s\"",
								name, get_rel_name(relid)),
						 errdetail("uba_model_retrain runs the query again later, in another session, where the table does not exist."),
						 errhint("Train from a regular table, or save the model with uba_model_save(), which keeps no query.")));
		}
	}
	if (src->resultDesc == NULL || src->resultDesc->natts != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the training query of model \"%s\" must return one column, the model", name),
				 errhint("For example SELECT uba_kmeans(features, 5) FROM t.")));
	if (TupleDescAttr(src->resultDesc, 0)->atttypid != BYTEAOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the training query of model \"%s\" returns %s, not a model (bytea)", name,
						format_type_be(TupleDescAttr(src->resultDesc, 0)->atttypid)),
				 errhint("For example SELECT uba_kmeans(features, 5) FROM t.")));

	if (SPI_execute_plan(plan, NULL, NULL, false, 2) < 0)
		elog(ERROR, "SPI_execute_plan failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("the training query of model \"%s\" returned no row", name),
				 errhint("It must return one row with one column: the model, for example SELECT uba_kmeans(features, 5) FROM t.")));
	if (SPI_processed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("the training query of model \"%s\" returned more than one row", name),
				 errhint("It must return one row with one column: the model.")));
	d = Col(0, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the training query of model \"%s\" returned NULL", name),
				 errhint("A training aggregate returns NULL when it sees no rows.")));
	return DatumGetByteaP(d);
}

/* Train and store; the caller has connected to SPI */
static int32
Train(Catalog *c, const char *name, text *query, Jsonb *options)
{
	Switched	s;
	Recipe		r;
	bool		activate;
	Jsonb	   *metrics;
	Oid			owner;
	bytea	   *model;
	int32		v;

	TrainOptions(options, &activate, &metrics);
	r.query = query;
	r.options = options;
	r.started = GetCurrentTimestamp();
	r.search_path = pstrdup(GetConfigOption("search_path", false, false));

	/* the right to save into an existing name, before the (long) training, without a lock */
	Elevate(c, &s);
	if (ReadName(c, name, false, &owner, NULL))
		CheckSaveInto(c->caller, name, owner);
	uba_switch_back(&s);

	model = RunTrainingQuery(name, text_to_cstring(query));

	Elevate(c, &s);
	v = StoreVersion(c, name, model, metrics, activate, &r);
	uba_switch_back(&s);
	return v;
}

PG_FUNCTION_INFO_V1(uba_model_train);

Datum
uba_model_train(PG_FUNCTION_ARGS)
{
	Catalog		c;
	char	   *name;
	int32		v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name and training query must not be NULL")));
	name = NameArg(fcinfo, 0);
	CatalogOpen(&c, fcinfo);
	SPI_connect();
	v = Train(&c, name, PG_GETARG_TEXT_P(1), PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2));
	SPI_finish();
	PG_RETURN_INT32(v);
}

/* ---------- uba_model_retrain ---------- */

/*
 * Refuse a search_path holding a schema in which a role without the
 * owner's rights may create objects (a function or table there could
 * capture a name in the query and run as the owner).  A schema that does
 * not exist counts as creatable by whoever may create schemas in the
 * database.  Runs elevated, so it can read every ACL.
 */
static void
CheckSearchPath(Catalog *c, const char *name, Oid owner, const char *path)
{
	char	   *raw = pstrdup(path);
	List	   *elems;
	ListCell   *lc;
	Datum	   *nsps;
	int			n = 0;
	ArrayType  *arr;
	Oid			types[2] = {TEXTARRAYOID, OIDOID};
	Datum		values[2];
	bool		isnull;

	if (!SplitIdentifierString(raw, ',', &elems))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the stored search_path of model \"%s\" is not valid: %s", name, path)));
	nsps = palloc(sizeof(Datum) * (list_length(elems) + 1));
	foreach(lc, elems)
	{
		char	   *e = lfirst(lc);

		if (strcmp(e, "$user") == 0)
		{
			char	   *role = GetUserNameFromId(owner, true);

			if (role == NULL)
				continue;
			e = role;
		}
		if (strcmp(e, "pg_catalog") == 0 || strcmp(e, "pg_temp") == 0)
			continue;
		nsps[n++] = CStringGetTextDatum(e);
	}
	if (n == 0)
		return;
	arr = construct_array(nsps, n, TEXTOID, -1, false, TYPALIGN_INT);
	values[0] = PointerGetDatum(arr);
	values[1] = ObjectIdGetDatum(owner);
	if (Exec("WITH db AS (SELECT d.datdba, coalesce(d.datacl, acldefault('d', d.datdba)) AS acl "
			 "              FROM pg_database d WHERE d.datname = current_database()), "
			 "creators AS ("
			 " SELECT p.nspname, a.grantee AS creator "
			 "   FROM unnest($1::text[]) AS p(nspname) "
			 "   JOIN pg_namespace s ON s.nspname = p.nspname, "
			 "        aclexplode(coalesce(s.nspacl, acldefault('n', s.nspowner))) a "
			 "  WHERE a.privilege_type = 'CREATE' "
			 " UNION ALL "
			 " SELECT s.nspname::text, s.nspowner FROM pg_namespace s WHERE s.nspname = ANY ($1::text[]) "
			 " UNION ALL "
			 " SELECT p.nspname, a.grantee "
			 "   FROM unnest($1::text[]) AS p(nspname), db, aclexplode(db.acl) a "
			 "  WHERE NOT EXISTS (SELECT 1 FROM pg_namespace s WHERE s.nspname = p.nspname) "
			 "    AND a.privilege_type = 'CREATE' "
			 " UNION ALL "
			 " SELECT p.nspname, db.datdba "
			 "   FROM unnest($1::text[]) AS p(nspname), db "
			 "  WHERE NOT EXISTS (SELECT 1 FROM pg_namespace s WHERE s.nspname = p.nspname)) "
			 "SELECT c.nspname, c.creator, "
			 "       EXISTS (SELECT 1 FROM pg_namespace s WHERE s.nspname = c.nspname) "
			 "  FROM creators c, db "
			 " WHERE c.creator = 0 "
			 "    OR NOT pg_has_role(CASE WHEN c.creator = 'pg_database_owner'::regrole THEN db.datdba "
			 "                            ELSE c.creator END, $2, 'MEMBER') "
			 " LIMIT 1",
			 2, types, values, NULL) > 0)
	{
		char	   *nsp = TextDatumGetCString(Col(0, 1, &isnull));
		Oid			creator = DatumGetObjectId(Col(0, 2, &isnull));
		bool		exists = DatumGetBool(Col(0, 3, &isnull));
		char	   *who = OidIsValid(creator) ? psprintf("role \"%s\"", RoleName(creator)) : pstrdup("every role (PUBLIC)");

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot retrain model \"%s\": its search_path includes schema \"%s\", where %s may create objects",
						name, nsp, who),
				 exists ?
				 errdetail("The training query runs as the model's owner %s; an object created there could run in its place with the owner's rights.", RoleName(owner)) :
				 errdetail("The schema does not exist, and %s may create it; the training query runs as the model's owner %s.", who, RoleName(owner)),
				 errhint("Train the model again with a search_path of schemas only its owner's role may create in (SET search_path = ...; then uba_model_train), or revoke CREATE on that schema.")));
	}

	/*
	 * Objects that such a role created there earlier (while it could) are as
	 * dangerous: a table, view, function or operator of theirs may be what a
	 * name in the query resolves to.
	 */
	if (Exec("SELECT o.nspname::text, o.what, o.owner FROM ("
			 " SELECT s.nspname, format('%s %s.%s', CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' "
			 "                                          WHEN 'f' THEN 'foreign table' ELSE 'table' END, "
			 "                         quote_ident(s.nspname), quote_ident(c.relname)) AS what, c.relowner AS owner "
			 "   FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
			 "  WHERE s.nspname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
			 " UNION ALL "
			 " SELECT s.nspname, format('function %s', p.oid::regprocedure), p.proowner "
			 "   FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace WHERE s.nspname = ANY ($1::text[]) "
			 " UNION ALL "
			 " SELECT s.nspname, format('operator %s', o.oid::regoperator), o.oprowner "
			 "   FROM pg_operator o JOIN pg_namespace s ON s.oid = o.oprnamespace WHERE s.nspname = ANY ($1::text[])"
			 ") o WHERE NOT pg_has_role(o.owner, $2, 'MEMBER') LIMIT 1",
			 2, types, values, NULL) > 0)
	{
		char	   *nsp = TextDatumGetCString(Col(0, 1, &isnull));
		char	   *what = TextDatumGetCString(Col(0, 2, &isnull));
		Oid			creator = DatumGetObjectId(Col(0, 3, &isnull));

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot retrain model \"%s\": its search_path includes schema \"%s\", which holds %s of role \"%s\"",
						name, nsp, what, RoleName(creator)),
				 errdetail("The training query runs as the model's owner %s; an object of a role without the owner's rights could run in its place.", RoleName(owner)),
				 errhint("Train the model again with a search_path of schemas that hold only objects of its owner's role (SET search_path = ...; then uba_model_train), or move that object.")));
	}
}

PG_FUNCTION_INFO_V1(uba_model_retrain);

Datum
uba_model_retrain(PG_FUNCTION_ARGS)
{
	Catalog		c;
	Switched	s,
				as_owner;
	char	   *name = NameOrNull(fcinfo, 0);
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	Oid			owner;
	text	   *query;
	Jsonb	   *options;
	char	   *path;
	Datum		d;
	bool		found,
				isnull;
	int32		v;

	CatalogOpen(&c, fcinfo);
	SPI_connect();
	Elevate(&c, &s);
	found = false;
	if (name != NULL)
	{
		values[0] = CStringGetTextDatum(name);
		found = Exec(psprintf("SELECT n.owner::oid, n.training_query, n.training_options, n.training_search_path "
							  "FROM %s n WHERE n.name = $1", c.names), 1, types, values, NULL) > 0;
	}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", Shown(name)),
				 errhint("Train it first with uba_model_train(name, training_query).")));
	owner = DatumGetObjectId(Col(0, 1, &isnull));
	d = Col(0, 2, &isnull);
	query = isnull ? NULL : (text *) PG_DETOAST_DATUM_COPY(d);
	d = Col(0, 3, &isnull);
	options = isnull ? NULL : (Jsonb *) PG_DETOAST_DATUM_COPY(d);
	d = Col(0, 4, &isnull);
	path = isnull ? NULL : TextDatumGetCString(d);
	uba_switch_back(&s);

	if (!MayChange(c.caller, owner))
		DeniedChange(name, owner);
	if (query == NULL || path == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no training query", name),
				 errhint("It was saved with uba_model_save(); train it once with uba_model_train(name, training_query).")));
	if (GetUserNameFromId(owner, true) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("cannot retrain model \"%s\": its owner role no longer exists", name),
				 errhint("A superuser can give it to another role with uba_model_set_owner().")));
	Elevate(&c, &s);
	CheckSearchPath(&c, name, owner, path);
	uba_switch_back(&s);

	if (options == NULL)
		options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));

	/* as the owner, restricted, with the stored search_path (as REFRESH MATERIALIZED VIEW) */
	uba_switch_to(&as_owner, owner, path);
	c.caller = owner;
	v = Train(&c, name, query, options);
	uba_switch_back(&as_owner);

	SPI_finish();
	PG_RETURN_INT32(v);
}

/* ---------- lock, activate, drop ---------- */

PG_FUNCTION_INFO_V1(uba_model_lock);

Datum
uba_model_lock(PG_FUNCTION_ARGS)
{
	Catalog		c;
	Switched	s;
	bool		found;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	CatalogOpen(&c, fcinfo);
	SPI_connect();
	Elevate(&c, &s);
	found = LockForChange(&c, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	uba_switch_back(&s);
	SPI_finish();
	PG_RETURN_BOOL(found);
}

PG_FUNCTION_INFO_V1(uba_model_activate);

Datum
uba_model_activate(PG_FUNCTION_ARGS)
{
	Catalog		c;
	Switched	s;
	char	   *name = NameOrNull(fcinfo, 0);
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	bool		found;

	CatalogOpen(&c, fcinfo);
	SPI_connect();
	Elevate(&c, &s);
	found = name != NULL && !PG_ARGISNULL(1) && LockForChange(&c, name);
	if (found)
	{
		values[0] = CStringGetTextDatum(name);
		values[1] = PG_GETARG_DATUM(1);
		found = Exec(psprintf("SELECT 1 FROM %s s WHERE s.name = $1 AND s.version = $2", c.store),
					 2, types, values, NULL) > 0;
	}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version %s of model \"%s\" does not exist",
						PG_ARGISNULL(1) ? "<NULL>" : psprintf("%d", PG_GETARG_INT32(1)), Shown(name)),
				 errhint("List saved versions in the uba_models view.")));
	Exec(psprintf("UPDATE %s s SET active = false WHERE s.name = $1 AND s.active AND s.version <> $2", c.store),
		 2, types, values, NULL);
	Exec(psprintf("UPDATE %s s SET active = true WHERE s.name = $1 AND s.version = $2 AND NOT s.active", c.store),
		 2, types, values, NULL);
	uba_switch_back(&s);
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(uba_model_drop);

Datum
uba_model_drop(PG_FUNCTION_ARGS)
{
	Catalog		c;
	Switched	s;
	char	   *name = NameOrNull(fcinfo, 0);
	bool		whole = PG_NARGS() < 2 || PG_ARGISNULL(1);
	int32		version = whole ? 0 : PG_GETARG_INT32(1);
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	char		nulls[2] = {' ', whole ? 'n' : ' '};
	bool		isnull;
	int64		n;
	bool		was_active;

	CatalogOpen(&c, fcinfo);
	SPI_connect();
	Elevate(&c, &s);
	if (name == NULL || !LockForChange(&c, name))
	{
		if (whole)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" does not exist", Shown(name))));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version %d of model \"%s\" does not exist", version, Shown(name))));
	}
	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum(version);
	Exec(psprintf("WITH d AS (DELETE FROM %s s WHERE s.name = $1 AND ($2::int IS NULL OR s.version = $2) "
				  "RETURNING s.active) SELECT count(*), coalesce(bool_or(d.active), false) FROM d", c.store),
		 2, types, values, nulls);
	n = DatumGetInt64(Col(0, 1, &isnull));
	was_active = DatumGetBool(Col(0, 2, &isnull));
	if (whole)
	{
		/* the whole name goes, with its counter (a name emptied version by version returns 0) */
		Exec(psprintf("DELETE FROM %s n WHERE n.name = $1", c.names), 1, types, values, NULL);
	}
	else if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version %d of model \"%s\" does not exist", version, name)));
	else if (was_active &&
			 Exec(psprintf("UPDATE %s s SET active = true WHERE s.name = $1 AND s.version = "
						   "(SELECT max(t.version) FROM %s t WHERE t.name = $1) RETURNING s.version",
						   c.store, c.store), 1, types, values, NULL) == 1)
		ereport(NOTICE,
				(errmsg("version %d of model \"%s\" is now active",
						DatumGetInt32(Col(0, 1, &isnull)), name)));
	uba_switch_back(&s);
	SPI_finish();
	PG_RETURN_INT32((int32) n);
}

/* ---------- owners and readers ---------- */

static Oid
ExistingRole(const char *role)
{
	Oid			r = get_role_oid(role, true);

	if (!OidIsValid(r))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", role)));
	return r;
}

/*
 * The start of a change of a name's owner or readers: the name (argument 1)
 * locked for a caller who may change it, and a role (argument 2) that is
 * not NULL.  Returns the name; the caller is left elevated and connected.
 */
static char *
BeginRoleChange(FunctionCallInfo fcinfo, Catalog *c, Switched *s, const char *null_role)
{
	char	   *name = NameOrNull(fcinfo, 0);

	CatalogOpen(c, fcinfo);
	SPI_connect();
	Elevate(c, s);
	LockExisting(c, name);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s", null_role),
				 errhint("Name a role (or, for readers, 'public' for everyone).")));
	return name;
}

PG_FUNCTION_INFO_V1(uba_model_set_owner);

Datum
uba_model_set_owner(PG_FUNCTION_ARGS)
{
	Catalog		c;
	Switched	s;
	char	   *name = BeginRoleChange(fcinfo, &c, &s, "the new owner must not be NULL");
	Oid			role;
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2];

	role = ExistingRole(NameStr(*PG_GETARG_NAME(1)));
	if (!MayChange(c.caller, role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to give model \"%s\" to role \"%s\"", name, RoleName(role)),
				 errdetail("The new owner must be a role you are a member of.")));
	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(role);
	Exec(psprintf("UPDATE %s n SET owner = $2::regrole WHERE n.name = $1", c.names),
		 2, types, values, NULL);
	uba_switch_back(&s);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Add (grant) or remove a reader; 'public' is role 0, as in ACLs */
static Datum
ChangeReaders(FunctionCallInfo fcinfo, bool grant)
{
	Catalog		c;
	Switched	s;
	char	   *name = BeginRoleChange(fcinfo, &c, &s, "the reader role must not be NULL");
	const char *reader;
	Oid			role;
	Oid			types[2] = {TEXTOID, OIDOID};
	Datum		values[2];

	reader = NameStr(*PG_GETARG_NAME(1));
	if (strcmp(reader, "public") == 0)
		role = InvalidOid;
	else if (grant)
		role = ExistingRole(reader);
	else
		role = get_role_oid(reader, true);
	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(role);
	if (grant)
		Exec(psprintf("UPDATE %s n SET readers = array_append(n.readers, $2::regrole) "
					  "WHERE n.name = $1 AND NOT $2::regrole = ANY (n.readers)", c.names),
			 2, types, values, NULL);
	else if (role != InvalidOid || strcmp(reader, "public") == 0)
		Exec(psprintf("UPDATE %s n SET readers = array_remove(n.readers, $2::regrole) WHERE n.name = $1",
					  c.names), 2, types, values, NULL);
	uba_switch_back(&s);
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(uba_model_grant_read);

Datum
uba_model_grant_read(PG_FUNCTION_ARGS)
{
	return ChangeReaders(fcinfo, true);
}

PG_FUNCTION_INFO_V1(uba_model_revoke_read);

Datum
uba_model_revoke_read(PG_FUNCTION_ARGS)
{
	return ChangeReaders(fcinfo, false);
}

/* ---------- reading the active version for serving (uba_recommend) ---------- */

typedef struct ActiveModel
{
	char	   *name;
	Datum		model;			/* as stored: a TOAST pointer for all but tiny models */
} ActiveModel;

/*
 * The active version of a catalog model as the caller may read it (row
 * security decides, as for a SELECT of theirs), kept for the call site for
 * the rest of the query: a query sees one version from start to end.  The
 * value is the stored one, a TOAST pointer rather than the model's bytes,
 * so that the backend's kept, parsed model is found by it.  No active
 * version: uba_model() raises the error that says why (missing, or not
 * readable).  Statements name their tables and functions with the schema
 * and exact types, so no object on the caller's search_path takes part.
 */
Datum
uba_catalog_active_model(FunctionCallInfo fcinfo, const char *name)
{
	ActiveModel **slot = (ActiveModel **) uba_model_cache_extra(fcinfo);
	ActiveModel *am = *slot;
	char	   *nspname;
	char	   *sql;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	Datum		d;
	MemoryContext callcxt = fcinfo->flinfo->fn_mcxt;

	if (am != NULL && strcmp(am->name, name) == 0)
		return am->model;
	nspname = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
	if (nspname == NULL)
		elog(ERROR, "uba: the schema of function %u is gone", fcinfo->flinfo->fn_oid);
	values[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	sql = psprintf("SELECT s.model FROM %s.uba_model_store s WHERE s.name OPERATOR(pg_catalog.=) $1 AND s.active",
				   quote_identifier(nspname));
	if (SPI_execute_with_args(sql, 1, types, values, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "uba catalog statement failed");
	if (SPI_processed != 1)
	{
		/* the function that says what is wrong (and returns the model if it is there after all) */
		sql = psprintf("SELECT %s.uba_model($1, NULL::pg_catalog.int4)", quote_identifier(nspname));
		if (SPI_execute_with_args(sql, 1, types, values, NULL, true, 2) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "uba catalog statement failed");
	}
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name)));
	/* keep it beyond SPI's memory: the pointer (or the small inline value) itself */
	if (am == NULL)
	{
		am = MemoryContextAllocZero(callcxt, sizeof(ActiveModel));
		*slot = am;
	}
	else
	{
		pfree(am->name);
		pfree(DatumGetPointer(am->model));
	}
	am->name = MemoryContextStrdup(callcxt, name);
	{
		Size		len = VARSIZE_ANY(DatumGetPointer(d));
		char	   *copy = MemoryContextAlloc(callcxt, len);

		memcpy(copy, DatumGetPointer(d), len);
		am->model = PointerGetDatum(copy);
	}
	SPI_finish();
	return am->model;
}
