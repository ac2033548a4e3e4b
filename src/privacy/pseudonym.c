/*-------------------------------------------------------------------------
 *
 * pseudonym.c
 *	  uba_pseudonymize(id, key_name): a stable keyed pseudonym, and the
 *	  functions that keep its secret keys (uba_pseudonym_key_create,
 *	  _grant, _revoke, _drop).
 *
 * A pseudonym is the HMAC-SHA-256 of the id's text form (its type's output
 * function: 42::int and 42::bigint give the same) under a secret key, as 64
 * lowercase hexadecimal digits, computed by PostgreSQL's own HMAC
 * (common/hmac.h, OpenSSL's when the server is built with it).  Without the
 * key nobody can compute a pseudonym, or tell which id one stands for,
 * other than by guessing ids and asking uba_pseudonymize for theirs: which
 * is why a key is usable only by the members of its owner role and of the
 * roles it was granted to.
 *
 * The keys are rows of uba_pseudonym_keys, a table PUBLIC has no right on.
 * Every function here decides with the rights of the role it runs as
 * (GetUserId()), then reads or writes the table as its owner with
 * search_path pinned to pg_catalog, inside a security-restricted operation
 * (the way src/core/catalog.c writes the model catalog); an error puts the
 * user and the settings back through the transaction machinery.
 *
 * uba_pseudonymize reads a key once per call site and query: it is kept in
 * the call site's memory (fn_extra, in fn_mcxt) by key name and caller, and
 * its bytes are zeroed when that memory goes (a reset callback), as are
 * the copies this file makes on the way.  The key also passes, like any
 * table data, through shared buffers, the WAL and the executor's memory,
 * which nothing here can wipe.  No error message ever holds a key.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "privacy.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(uba_pseudonymize);
PG_FUNCTION_INFO_V1(uba_pseudonym_key_create);
PG_FUNCTION_INFO_V1(uba_pseudonym_key_grant);
PG_FUNCTION_INFO_V1(uba_pseudonym_key_revoke);
PG_FUNCTION_INFO_V1(uba_pseudonym_key_drop);

#define KEY_NAME_MAX_CHARS 200	/* as the table's CHECK */
#define KEY_MIN_BYTES 16		/* as the table's CHECK: 128 bits */
#define KEY_MAX_BYTES 1024		/* for given keys; HMAC hashes a key longer than its block (64) first */
#define KEY_NEW_BYTES 32		/* a generated key: as long as the MAC */
#define CACHED_KEYS 8			/* keys one call site keeps (one query pseudonymizing with several) */

/* Where the key table is and who owns it; the role whose rights count */
typedef struct KeyTable
{
	Oid			caller;			/* GetUserId() on entry */
	Oid			owner;			/* owner of uba_pseudonym_keys */
	char	   *table;			/* its qualified name */
} KeyTable;

typedef UbaSwitched Elevated;

/* A key kept by a call site of uba_pseudonymize, for one caller and one command */
typedef struct CachedKey
{
	char	   *name;
	int			namelen;
	Oid			caller;
	LocalTransactionId lxid;
	CommandId	cid;
	uint8	   *bytes;
	int			len;
} CachedKey;

typedef struct PseudonymCache
{
	MemoryContextCallback wipe; /* zeroes the keys when the call site's memory goes */
	FmgrInfo	out;			/* the id type's output function */
	int			nkeys;
	int			next;			/* the slot a new key takes when all are used */
	CachedKey	keys[CACHED_KEYS];
} PseudonymCache;

/* ---------- the table and the role switch ---------- */

static void
KeysOpen(KeyTable *t, FunctionCallInfo fcinfo)
{
	t->table = uba_extension_table(get_func_namespace(fcinfo->flinfo->fn_oid), "uba_pseudonym_keys",
								   "the uba pseudonym key table", &t->owner, NULL);
	t->caller = GetUserId();
}

/* Statements on the key table run as its owner with nothing but pg_catalog on the path */
static void
Elevate(const KeyTable *t, Elevated *e)
{
	uba_switch_to(e, t->owner, "pg_catalog, pg_temp");
}

/* Run a fixed statement on the key table (elevated); returns the rows it processed */
static uint64
Exec(const char *sql, int nargs, Oid *types, Datum *values, bool read_only)
{
	return uba_spi_exec("uba pseudonym key statement", sql, nargs, types, values, NULL, read_only, 0);
}

static Datum
Col(int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);
}

/* Zero a varlena's bytes where they are in memory (not an out-of-line TOAST pointer's target) */
static void
WipeVarlena(Pointer p)
{
	if (p != NULL && !VARATT_IS_EXTERNAL(p))
		explicit_bzero(VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
}

/* ---------- names, roles and rights ---------- */

static char *
RoleName(Oid role)
{
	char	   *n = OidIsValid(role) ? GetUserNameFromId(role, true) : NULL;

	return n != NULL ? n : psprintf("(dropped role %u)", role);
}

/* A key name argument: not NULL, 1 to 200 characters */
static char *
KeyNameArg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;
	int			chars;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pseudonym key name must not be NULL")));
	t = PG_GETARG_TEXT_PP(argno);
	chars = pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if (chars < 1 || chars > KEY_NAME_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pseudonym key name must be 1 to %d characters long", KEY_NAME_MAX_CHARS)));
	return text_to_cstring(t);
}

pg_attribute_noreturn()
static void
KeyMissing(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("pseudonym key \"%s\" does not exist", name != NULL ? name : "<NULL>"),
			 errhint("Create one with uba_pseudonym_key_create().")));
}

pg_attribute_noreturn()
static void
DeniedChange(const char *name, Oid owner)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for pseudonym key \"%s\"", name),
			 errdetail("Only members of its owner role %s may grant, revoke or drop it.", RoleName(owner))));
}

/*
 * The key's owner (locked FOR UPDATE when lock); false when there is no
 * such key.  Elevated.
 */
static bool
ReadOwner(const KeyTable *t, const char *name, bool lock, Oid *owner)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	if (Exec(psprintf("SELECT k.owner FROM %s k WHERE k.name OPERATOR(pg_catalog.=) $1%s",
					  t->table, lock ? " FOR UPDATE" : ""), 1, types, values, false) == 0)
		return false;
	*owner = DatumGetObjectId(Col(1, &isnull));
	return true;
}

/*
 * Lock a key the caller may change: the members of its owner role (and
 * superusers).  The right is checked before the lock too, so that nobody
 * can hold up a key they may not change.  Elevated.
 */
static void
LockForChange(const KeyTable *t, const char *name)
{
	Oid			owner;

	if (name == NULL || !ReadOwner(t, name, false, &owner))
		KeyMissing(name);
	if (!is_member_of_role(t->caller, owner))
		DeniedChange(name, owner);
	if (!ReadOwner(t, name, true, &owner))
		KeyMissing(name);
	if (!is_member_of_role(t->caller, owner))
		DeniedChange(name, owner);
}

/* Whether role has the privileges of the key's owner or of one of its users */
static bool
MayUse(Oid role, Oid owner, ArrayType *users)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (has_privs_of_role(role, owner))
		return true;
	if (ARR_NDIM(users) == 0)
		return false;
	deconstruct_array(users, REGROLEOID, sizeof(Oid), true, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i] && OidIsValid(DatumGetObjectId(elems[i])) &&
			has_privs_of_role(role, DatumGetObjectId(elems[i])))
			return true;
	return false;
}

/* ---------- uba_pseudonymize ---------- */

/* Zero every kept key: the reset callback of the call site's memory */
static void
WipeCache(void *arg)
{
	PseudonymCache *pc = (PseudonymCache *) arg;

	for (int i = 0; i < pc->nkeys; i++)
		explicit_bzero(pc->keys[i].bytes, pc->keys[i].len);
	pc->nkeys = 0;
}

static PseudonymCache *
CacheOf(FunctionCallInfo fcinfo)
{
	PseudonymCache *pc = (PseudonymCache *) fcinfo->flinfo->fn_extra;

	if (pc == NULL)
	{
		Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 0);
		Oid			out;
		bool		varlena;

		if (!OidIsValid(argtype))
			elog(ERROR, "uba_pseudonymize: could not determine the type of the id");
		pc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PseudonymCache));
		getTypeOutputInfo(argtype, &out, &varlena);
		fmgr_info_cxt(out, &pc->out, fcinfo->flinfo->fn_mcxt);
		pc->wipe.func = WipeCache;
		pc->wipe.arg = pc;
		MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, &pc->wipe);
		fcinfo->flinfo->fn_extra = pc;
	}
	return pc;
}

/*
 * Read a key as the table's owner, for a caller who has the privileges of
 * its owner or of one of its users, into a slot of the call site's cache.
 */
static CachedKey *
LoadKey(FunctionCallInfo fcinfo, PseudonymCache *pc, text *nametext)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	char	   *name = text_to_cstring(nametext);
	int			chars = pg_mbstrlen_with_len(VARDATA_ANY(nametext), VARSIZE_ANY_EXHDR(nametext));
	KeyTable	t;
	Elevated	e;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	Oid			owner;
	ArrayType  *users;
	Datum		raw;
	bytea	   *key;
	int			len;
	uint8	   *bytes;
	CachedKey  *slot;

	if (chars < 1 || chars > KEY_NAME_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pseudonym key name must be 1 to %d characters long", KEY_NAME_MAX_CHARS)));
	KeysOpen(&t, fcinfo);
	values[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	Elevate(&t, &e);
	/* read-only: the statement sees the calling query's snapshot, as a STABLE function's should */
	Exec(psprintf("SELECT k.owner, k.users, k.key FROM %s k WHERE k.name OPERATOR(pg_catalog.=) $1",
				  t.table), 1, types, values, true);
	uba_switch_back(&e);
	if (SPI_processed == 0)
		KeyMissing(name);
	owner = DatumGetObjectId(Col(1, &isnull));
	users = DatumGetArrayTypeP(Col(2, &isnull));
	raw = Col(3, &isnull);
	key = DatumGetByteaPP(raw);
	len = VARSIZE_ANY_EXHDR(key);
	if (!MayUse(t.caller, owner, users))
	{
		WipeVarlena((Pointer) key);
		WipeVarlena(DatumGetPointer(raw));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for pseudonym key \"%s\"", name),
				 errdetail("Only roles with the privileges of its owner role %s or of a role it was granted to may use it.",
						   RoleName(owner)),
				 errhint("Members of %s can grant it to you with uba_pseudonym_key_grant().", RoleName(owner))));
	}
	if (len < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("pseudonym key \"%s\" is empty", name)));
	bytes = MemoryContextAlloc(mcxt, len);
	memcpy(bytes, VARDATA_ANY(key), len);
	WipeVarlena((Pointer) key);
	WipeVarlena(DatumGetPointer(raw));
	SPI_finish();

	/* a free slot, or the one whose turn it is */
	if (pc->nkeys < CACHED_KEYS)
		slot = &pc->keys[pc->nkeys++];
	else
	{
		slot = &pc->keys[pc->next];
		pc->next = (pc->next + 1) % CACHED_KEYS;
		explicit_bzero(slot->bytes, slot->len);
		pfree(slot->bytes);
		pfree(slot->name);
	}
	slot->namelen = VARSIZE_ANY_EXHDR(nametext);
	slot->name = MemoryContextAlloc(mcxt, slot->namelen + 1);
	memcpy(slot->name, VARDATA_ANY(nametext), slot->namelen);
	slot->name[slot->namelen] = '\0';
	slot->caller = t.caller;
	slot->lxid = MyProc->lxid;
	slot->cid = GetCurrentCommandId(false);
	slot->bytes = bytes;
	slot->len = len;
	return slot;
}

/* The key of a name for the current user and command: kept, or read now */
static CachedKey *
KeyFor(FunctionCallInfo fcinfo, PseudonymCache *pc, text *nametext)
{
	int			namelen = VARSIZE_ANY_EXHDR(nametext);
	Oid			caller = GetUserId();
	LocalTransactionId lxid = MyProc->lxid;
	CommandId	cid = GetCurrentCommandId(false);

	for (int i = 0; i < pc->nkeys; i++)
	{
		CachedKey  *k = &pc->keys[i];

		if (k->namelen == namelen && memcmp(k->name, VARDATA_ANY(nametext), namelen) == 0)
		{
			if (k->caller == caller && k->lxid == lxid && k->cid == cid)
				return k;
			/* another caller, or a later command (PL/pgSQL keeps a call site): read it again */
			explicit_bzero(k->bytes, k->len);
			pfree(k->bytes);
			pfree(k->name);
			pc->keys[i] = pc->keys[--pc->nkeys];
			pc->next = 0;
			break;
		}
	}
	return LoadKey(fcinfo, pc, nametext);
}

pg_attribute_noreturn()
static void
HmacFailed(pg_hmac_ctx *ctx)
{
	char	   *why = pstrdup(pg_hmac_error(ctx));

	pg_hmac_free(ctx);
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not compute a pseudonym: %s", why)));
}

/*
 * uba_pseudonymize(id anyelement, key_name text) returns text: the
 * HMAC-SHA-256 of the id's text form under the key, in lowercase hex.  A
 * NULL id gives NULL (after the key is checked, so that the errors do not
 * depend on the data).
 */
Datum
uba_pseudonymize(PG_FUNCTION_ARGS)
{
	static const char hexdigits[] = "0123456789abcdef";
	PseudonymCache *pc;
	CachedKey  *k;
	char	   *idtext;
	pg_hmac_ctx *ctx;
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	char		hex[2 * PG_SHA256_DIGEST_LENGTH];

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("pseudonym key name must not be NULL")));
	pc = CacheOf(fcinfo);
	k = KeyFor(fcinfo, pc, PG_GETARG_TEXT_PP(1));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	idtext = OutputFunctionCall(&pc->out, PG_GETARG_DATUM(0));

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		HmacFailed(NULL);
	if (pg_hmac_init(ctx, k->bytes, k->len) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) idtext, strlen(idtext)) < 0 ||
		pg_hmac_final(ctx, mac, sizeof(mac)) < 0)
		HmacFailed(ctx);
	pg_hmac_free(ctx);
	pfree(idtext);

	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[2 * i] = hexdigits[mac[i] >> 4];
		hex[2 * i + 1] = hexdigits[mac[i] & 0xF];
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(hex, sizeof(hex)));
}

/* ---------- keeping the keys ---------- */

/*
 * uba_pseudonym_key_create(name text, key bytea DEFAULT NULL): a new key,
 * owned by the caller; NULL for 32 bytes from pg_strong_random.
 */
Datum
uba_pseudonym_key_create(PG_FUNCTION_ARGS)
{
	char	   *name = KeyNameArg(fcinfo, 0);
	KeyTable	t;
	Elevated	e;
	bytea	   *key;
	Oid			types[3] = {TEXTOID, BYTEAOID, REGROLEOID};
	Datum		values[3];
	uint64		inserted;

	if (!PG_ARGISNULL(1))
	{
		bytea	   *given = PG_GETARG_BYTEA_PP(1);
		int			len = VARSIZE_ANY_EXHDR(given);

		if (len < KEY_MIN_BYTES || len > KEY_MAX_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a pseudonym key must have %d to %d bytes", KEY_MIN_BYTES, KEY_MAX_BYTES),
					 errdetail("Got %d bytes.", len),
					 errhint("Pass NULL for %d bytes from a secure random generator.", KEY_NEW_BYTES)));
		key = palloc(VARHDRSZ + len);
		SET_VARSIZE(key, VARHDRSZ + len);
		memcpy(VARDATA(key), VARDATA_ANY(given), len);
	}
	else
	{
		key = palloc(VARHDRSZ + KEY_NEW_BYTES);
		SET_VARSIZE(key, VARHDRSZ + KEY_NEW_BYTES);
		if (!pg_strong_random(VARDATA(key), KEY_NEW_BYTES))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a secure random pseudonym key")));
	}

	KeysOpen(&t, fcinfo);
	values[0] = CStringGetTextDatum(name);
	values[1] = PointerGetDatum(key);
	values[2] = ObjectIdGetDatum(t.caller);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	Elevate(&t, &e);
	/* a concurrent creation of the same name waits for ours, then inserts nothing */
	inserted = Exec(psprintf("INSERT INTO %s AS k (name, key, owner) VALUES ($1, $2, $3) "
							 "ON CONFLICT (name) DO NOTHING", t.table), 3, types, values, false);
	uba_switch_back(&e);
	SPI_finish();
	WipeVarlena((Pointer) key);
	if (inserted == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pseudonym key \"%s\" already exists", name),
				 errhint("Choose another name, or drop the key first with uba_pseudonym_key_drop(): "
						 "a new key gives every id a new pseudonym.")));
	PG_RETURN_VOID();
}

/* Add (grant) or remove a role among the key's users */
static Datum
ChangeUsers(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	KeyTable	t;
	Elevated	e;
	Oid			role;
	Oid			types[2] = {TEXTOID, REGROLEOID};
	Datum		values[2];

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the role must not be NULL")));
	role = PG_GETARG_OID(1);
	/* a role that was dropped may still be revoked: its number is all that is left of it */
	if (grant && (!OidIsValid(role) || !SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role))))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role with OID %u does not exist", role)));
	KeysOpen(&t, fcinfo);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	Elevate(&t, &e);
	LockForChange(&t, name);
	values[0] = CStringGetTextDatum(name);
	values[1] = ObjectIdGetDatum(role);
	if (grant)
		Exec(psprintf("UPDATE %s k SET users = pg_catalog.array_append(k.users, $2) "
					  "WHERE k.name OPERATOR(pg_catalog.=) $1 AND NOT $2 OPERATOR(pg_catalog.=) ANY (k.users)",
					  t.table), 2, types, values, false);
	else
		Exec(psprintf("UPDATE %s k SET users = pg_catalog.array_remove(k.users, $2) "
					  "WHERE k.name OPERATOR(pg_catalog.=) $1", t.table), 2, types, values, false);
	uba_switch_back(&e);
	SPI_finish();
	PG_RETURN_VOID();
}

/* uba_pseudonym_key_grant(name text, role regrole): let the role's members use the key */
Datum
uba_pseudonym_key_grant(PG_FUNCTION_ARGS)
{
	return ChangeUsers(fcinfo, true);
}

/* uba_pseudonym_key_revoke(name text, role regrole): take that back */
Datum
uba_pseudonym_key_revoke(PG_FUNCTION_ARGS)
{
	return ChangeUsers(fcinfo, false);
}

/*
 * uba_pseudonym_key_drop(name text): drop a key, for the members of its
 * owner role (any of whom could SET ROLE to the owner and drop it).
 */
Datum
uba_pseudonym_key_drop(PG_FUNCTION_ARGS)
{
	char	   *name = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	KeyTable	t;
	Elevated	e;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	KeysOpen(&t, fcinfo);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	Elevate(&t, &e);
	LockForChange(&t, name);
	values[0] = CStringGetTextDatum(name);
	Exec(psprintf("DELETE FROM %s k WHERE k.name OPERATOR(pg_catalog.=) $1", t.table),
		 1, types, values, false);
	uba_switch_back(&e);
	SPI_finish();
	PG_RETURN_VOID();
}
