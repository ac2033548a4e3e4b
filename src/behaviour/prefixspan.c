/*-------------------------------------------------------------------------
 *
 * prefixspan.c
 *	  Sequential pattern mining: the uba_prefixspan aggregate over (user,
 *	  time, item) rows finds the orders of events that many users follow
 *	  (PrefixSpan, Pei et al. 2001); uba_sequential_patterns lists them.
 *
 * Definitions, with N the number of distinct users: a user's sequence is
 * their events by time; a repeated (time, item) counts once and events at
 * the same time are simultaneous.  A pattern p1 .. pk (items, repeats
 * allowed) is followed by a user who has events e1 .. ek with item(ej) = pj
 * at strictly increasing times (simultaneous events never follow one
 * another) and, when max_gap_seconds > 0, each at most that long after the
 * one before.  users(p) counts the users who follow p; p is frequent when
 * users(p) / N >= min_support and k <= max_length.
 *
 * PrefixSpan grows patterns one item at a time, depth first.  A pattern's
 * projection lists, for every user who follows it, the places where its
 * last item can be matched; the items after those places (within the gap)
 * are the pattern's possible extensions, counted once per user.  Without a
 * gap the earliest place is enough (everything after a later one is after
 * it too); with a gap every place counts, since a later one reaches later
 * events.  An item that is not frequent alone is in no frequent pattern,
 * so the sequences keep only frequent items.
 *
 * Payload: users (u64), distinct items in the events (u64; bits 32-35 hold
 * the kind of item ids, ids.c), patterns (u64), frequent items (u32); the
 * frequent items' ids (increasing); per pattern its length (u32) and users
 * (i64); then every pattern's items (u32 indexes into the ids).  Patterns
 * are stored in the order they are listed: more users first, then shorter,
 * then by their items.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_prefixspan_transfn);
PG_FUNCTION_INFO_V1(uba_prefixspan_final);
PG_FUNCTION_INFO_V1(uba_sequential_patterns);

/* The kind of item ids is in the high half of the distinct item count */
#define PS_KIND_SHIFT 32

#define PS_MAX_LENGTH 32

static const UbaOptionSpec prefixspan_options[] = {
	{"min_support", UBA_OPT_FLOAT, 0.05, 0, 1, NULL},
	{"max_length", UBA_OPT_INT, 5, 1, PS_MAX_LENGTH, NULL},
	{"max_gap_seconds", UBA_OPT_FLOAT, 0, 0, 1e12, NULL},
	UBA_PROGRESS_OPTION,
};

/*
 * Memory one event may need while mining: itself (24 bytes), the sort keys
 * of the id mappings (32), its place in its user's sequence (16) and in
 * the projections along one path of the search (about 24).
 */
#define PS_EVENT_PEAK_BYTES 96

static void
CheckOptions(const UbaOptions *o)
{
	if (uba_option(o, "min_support") <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"min_support\" of uba_prefixspan must be greater than 0 and at most 1"),
				 errdetail("Got 0."),
				 errhint("Support is the share of users who follow a pattern; 0.05 keeps patterns that at least 5%% of the users follow.")));
}

/* uba_prefixspan(user_id, ts, item [, options]) transition: collect the row */
Datum
uba_prefixspan_transfn(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(uba_events_collect_timed(fcinfo, prefixspan_options, lengthof(prefixspan_options),
											   "uba_prefixspan", CheckOptions, PS_EVENT_PEAK_BYTES,
											   "user ids", 1, "items", 3, 2));
}

/* ---------- mining ---------- */

/* An event of a user's sequence */
typedef UbaTimedItem SeqEvent;

/* A user in a projection: the places where the pattern's last item matches */
typedef struct ProjUser
{
	uint32		user;
	uint32		npos;
	int64		pos;			/* first of npos places in the positions pool */
} ProjUser;

/* A frequent pattern: len items from off in the pool */
typedef struct Pattern
{
	int64		off;
	int32		len;
	int64		users;
} Pattern;

typedef struct Miner
{
	const SeqEvent *seq;
	const int64 *off;			/* users + 1: each user's events */
	int64		nusers;
	int64		nitems;			/* frequent items */
	int64		mincount;
	int			max_length;
	bool		gapped;
	int64		gap_us;
	/* per item, reset after each node: users and places counted, the user last seen */
	int64	   *ucnt;
	int64	   *pcnt;
	uint64	   *stamp;
	uint64		visit;
	uint32	   *touched;
	int64		ntouched;
	/* the pattern being grown */
	uint32		prefix[PS_MAX_LENGTH];
	/* the frequent patterns found */
	Pattern    *pats;
	int64		npats;
	int64		patcap;
	uint32	   *pool;
	int64		npool;
	int64		poolcap;
	Size		live;			/* bytes of the projections alive on the search path */
	const UbaOptions *o;
} Miner;

static void
CheckMiningMemory(Size bytes, const char *what)
{
	uba_check_memory_for(bytes, what,
						 "raise min_support or lower max_length (long, similar sequences make the number of patterns explode)");
}

static void
EmitPattern(Miner *mn, int len, int64 users)
{
	Pattern    *p;

	if (mn->npats == mn->patcap || mn->npool + len > mn->poolcap)
	{
		mn->patcap = Max(1024, mn->patcap * 2);
		mn->poolcap = Max(mn->poolcap * 2, mn->npool + len + 4096);
		CheckMiningMemory(add_size(add_size(mul_size((Size) mn->patcap, sizeof(Pattern)),
											mul_size((Size) mn->poolcap, sizeof(uint32))), mn->live),
						  "mining the sequential patterns");
		mn->pats = mn->pats ? repalloc_huge(mn->pats, sizeof(Pattern) * mn->patcap)
			: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Pattern) * mn->patcap);
		mn->pool = mn->pool ? repalloc_huge(mn->pool, sizeof(uint32) * mn->poolcap)
			: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * mn->poolcap);
	}
	p = &mn->pats[mn->npats++];
	p->off = mn->npool;
	p->len = len;
	p->users = users;
	memcpy(mn->pool + mn->npool, mn->prefix, sizeof(uint32) * len);
	mn->npool += len;
}

/* The first event of user u's sequence after place p (later in time), or the end */
static inline int64
After(const Miner *mn, int64 p, int64 end)
{
	int64		t = mn->seq[p].t;

	for (p++; p < end && mn->seq[p].t == t; p++)
		;
	return p;
}

/*
 * Visit the events that may extend the pattern for one user of the
 * projection (root: every event), calling fn(item, place) for each.  With a
 * gap, the events within the gap after any of the places, each once.
 */
#define FOR_EACH_NEXT(mn, pu, positions, root, BODY) \
	do { \
		int64		lo_ = (mn)->off[(pu)->user], \
					hi_ = (mn)->off[(pu)->user + 1]; \
		if (root) \
		{ \
			for (int64 j = lo_; j < hi_; j++) { uint32 x = (mn)->seq[j].item; BODY; } \
		} \
		else if (!(mn)->gapped) \
		{ \
			for (int64 j = After((mn), (positions)[(pu)->pos], hi_); j < hi_; j++) \
			{ uint32 x = (mn)->seq[j].item; BODY; } \
		} \
		else \
		{ \
			int64		done_ = lo_; \
			for (uint32 q_ = 0; q_ < (pu)->npos; q_++) \
			{ \
				int64		p_ = (positions)[(pu)->pos + q_]; \
				int64		limit_ = (mn)->seq[p_].t + (mn)->gap_us; \
				int64		j = Max(After((mn), p_, hi_), done_); \
				for (; j < hi_ && (mn)->seq[j].t <= limit_; j++) \
				{ uint32 x = (mn)->seq[j].item; BODY; } \
				done_ = Max(done_, j); \
			} \
		} \
	} while (0)

/*
 * Grow the pattern prefix[0 .. depth - 1] whose projection is users[0 ..
 * nusers - 1] (root: depth 0, every user): count each item after the
 * places once per user, then project the frequent ones and recurse.
 */
static void
Grow(Miner *mn, int depth, const ProjUser *users, int64 nproj, const int64 *positions, bool root)
{
	int64		nfreq = 0;
	uint32	   *freq;
	int64	   *ubase,
			   *pbase,
			   *ufill,
			   *pfill;
	int64		utotal = 0,
				ptotal = 0;
	ProjUser   *child;
	int64	   *childpos;
	int64	   *users_of;		/* each frequent extension's users */
	Size		bytes;

	CHECK_FOR_INTERRUPTS();
	/* count: users (once each) and places per item */
	mn->ntouched = 0;
	for (int64 u = 0; u < nproj; u++)
	{
		const ProjUser *pu = &users[u];

		mn->visit++;
		FOR_EACH_NEXT(mn, pu, positions, root, {
			if (mn->stamp[x] != mn->visit)
			{
				mn->stamp[x] = mn->visit;
				if (mn->ucnt[x]++ == 0)
					mn->touched[mn->ntouched++] = x;
			}
			else if (!mn->gapped)
				continue;	/* without a gap only the first place counts */
			mn->pcnt[x]++;
		});
		if ((u & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
	}

	/* the frequent extensions, in item order, and room for their projections */
	freq = palloc(sizeof(uint32) * Max(mn->ntouched, 1));
	for (int64 k = 0; k < mn->ntouched; k++)
		if (mn->ucnt[mn->touched[k]] >= mn->mincount)
			freq[nfreq++] = mn->touched[k];
	qsort(freq, nfreq, sizeof(uint32), uba_cmp_uint32);
	users_of = palloc(sizeof(int64) * Max(nfreq, 1));
	ubase = palloc(sizeof(int64) * (nfreq + 1));
	pbase = palloc(sizeof(int64) * (nfreq + 1));
	for (int64 f = 0; f < nfreq; f++)
	{
		ubase[f] = utotal;
		pbase[f] = ptotal;
		utotal += mn->ucnt[freq[f]];
		ptotal += mn->pcnt[freq[f]];
		users_of[f] = mn->ucnt[freq[f]];
	}
	ubase[nfreq] = utotal;
	pbase[nfreq] = ptotal;
	for (int64 k = 0; k < mn->ntouched; k++)
	{
		mn->ucnt[mn->touched[k]] = 0;	/* during the projection: -1 - f for frequent item f, else 0 */
		mn->pcnt[mn->touched[k]] = 0;
	}
	for (int64 f = 0; f < nfreq; f++)
		mn->ucnt[freq[f]] = -1 - f;

	/* the children's projections, unless the patterns stop here */
	child = NULL;
	childpos = NULL;
	bytes = 0;
	if (depth + 1 < mn->max_length && nfreq > 0)
	{
		bytes = add_size(mul_size((Size) utotal, sizeof(ProjUser)), mul_size((Size) ptotal, sizeof(int64)));
		mn->live = add_size(mn->live, bytes);
		CheckMiningMemory(add_size(mn->live, mul_size((Size) mn->poolcap, sizeof(uint32))),
						  "projecting the sequences");
		child = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ProjUser) * Max(utotal, 1));
		childpos = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(ptotal, 1));
		ufill = palloc(sizeof(int64) * Max(nfreq, 1));
		pfill = palloc(sizeof(int64) * Max(nfreq, 1));
		memcpy(ufill, ubase, sizeof(int64) * Max(nfreq, 1));
		memcpy(pfill, pbase, sizeof(int64) * Max(nfreq, 1));
		for (int64 u = 0; u < nproj; u++)
		{
			const ProjUser *pu = &users[u];

			mn->visit++;
			FOR_EACH_NEXT(mn, pu, positions, root, {
				int64		f = -1 - mn->ucnt[x];

				if (f < 0)
					continue;
				if (mn->stamp[x] != mn->visit)
				{
					ProjUser   *c = &child[ufill[f]++];

					mn->stamp[x] = mn->visit;
					c->user = pu->user;
					c->npos = 0;
					c->pos = pfill[f];
				}
				else if (!mn->gapped)
					continue;
				/* a user's places of one item are contiguous: users are visited one by one */
				childpos[pfill[f]++] = j;
				child[ufill[f] - 1].npos++;
			});
			if ((u & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();
		}
	}
	/* the per-item counters are free again for the children */
	for (int64 k = 0; k < mn->ntouched; k++)
		mn->ucnt[mn->touched[k]] = 0;

	for (int64 f = 0; f < nfreq; f++)
	{
		mn->prefix[depth] = freq[f];
		EmitPattern(mn, depth + 1, users_of[f]);
		if (child != NULL)
			Grow(mn, depth + 1, child + ubase[f], ubase[f + 1] - ubase[f], childpos, false);
	}
	if (child != NULL)
	{
		pfree(child);
		pfree(childpos);
		mn->live -= bytes;
	}
	pfree(freq);
	pfree(users_of);
	pfree(ubase);
	pfree(pbase);
}

/* Listed order: more users, then shorter, then by the items */
static int
ComparePatterns(const void *pa, const void *pb, void *arg)
{
	const Pattern *a = (const Pattern *) pa;
	const Pattern *b = (const Pattern *) pb;
	const uint32 *pool = (const uint32 *) arg;

	if (a->users != b->users)
		return a->users > b->users ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	for (int k = 0; k < a->len; k++)
		if (pool[a->off + k] != pool[b->off + k])
			return pool[a->off + k] < pool[b->off + k] ? -1 : 1;
	return 0;
}

/* Final: the users' sequences, the patterns, the model */
Datum
uba_prefixspan_final(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MemoryContext cxt,
				old;
	uint32	   *fidx;
	int64	   *item_ids,
			   *off,
			   *cnt;
	int64		nusers,
				nitems,
				nfrequent = 0,
				kept = 0;
	SeqEvent   *seq;
	Miner		mn;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, prefixspan_options, lengthof(prefixspan_options), "uba_prefixspan", &o);
	CheckOptions(&o);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba prefixspan", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* users and items as dense indexes; each user's events by time (then by item) */
	seq = uba_events_sequences(st, cxt, &nusers, &off, &item_ids, &nitems);

	/* each user's events by time, repeats dropped; items counted once per user */
	cnt = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(nitems, 1));
	memset(cnt, 0, sizeof(int64) * Max(nitems, 1));
	{
		uint64	   *seen = MemoryContextAllocHuge(cxt, sizeof(uint64) * Max(nitems, 1));
		int64		w = 0;

		memset(seen, 0, sizeof(uint64) * Max(nitems, 1));
		for (int64 u = 0; u < nusers; u++)
		{
			int64		lo = off[u],
						hi = off[u + 1];

			if ((u & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			off[u] = w;
			for (int64 k = lo; k < hi; k++)
			{
				if (k > lo && seq[k].t == seq[k - 1].t && seq[k].item == seq[k - 1].item)
					continue;
				if (seen[seq[k].item] != (uint64) u + 1)
				{
					seen[seq[k].item] = (uint64) u + 1;
					cnt[seq[k].item]++;
				}
				seq[w++] = seq[k];
			}
		}
		off[nusers] = w;
		pfree(seen);
	}

	/* only the frequent items stay in the sequences, renumbered in id order */
	memset(&mn, 0, sizeof(mn));
	mn.mincount = uba_min_count(uba_option(&o, "min_support"), nusers);
	fidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * Max(nitems, 1));
	for (int64 i = 0; i < nitems; i++)
	{
		fidx[i] = PG_UINT32_MAX;
		if (cnt[i] >= mn.mincount)
		{
			item_ids[nfrequent] = item_ids[i];
			fidx[i] = (uint32) nfrequent++;
		}
	}
	for (int64 u = 0; u < nusers; u++)
	{
		int64		lo = off[u],
					hi = off[u + 1];

		off[u] = kept;
		for (int64 k = lo; k < hi; k++)
			if (fidx[seq[k].item] != PG_UINT32_MAX)
			{
				seq[kept] = seq[k];
				seq[kept++].item = fidx[seq[k].item];
			}
	}
	off[nusers] = kept;
	pfree(fidx);
	pfree(cnt);

	mn.seq = seq;
	mn.off = off;
	mn.nusers = nusers;
	mn.nitems = nfrequent;
	mn.max_length = (int) uba_option(&o, "max_length");
	mn.gap_us = (int64) (uba_option(&o, "max_gap_seconds") * USECS_PER_SEC);
	mn.gapped = uba_option(&o, "max_gap_seconds") > 0;
	mn.o = &o;
	mn.ucnt = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(nfrequent, 1));
	mn.pcnt = MemoryContextAllocHuge(cxt, sizeof(int64) * Max(nfrequent, 1));
	mn.stamp = MemoryContextAllocHuge(cxt, sizeof(uint64) * Max(nfrequent, 1));
	mn.touched = MemoryContextAllocHuge(cxt, sizeof(uint32) * Max(nfrequent, 1));
	memset(mn.ucnt, 0, sizeof(int64) * Max(nfrequent, 1));
	memset(mn.pcnt, 0, sizeof(int64) * Max(nfrequent, 1));
	memset(mn.stamp, 0, sizeof(uint64) * Max(nfrequent, 1));
	uba_progress(&o, "uba_prefixspan: " INT64_FORMAT " users, " INT64_FORMAT " events, " INT64_FORMAT
				 " frequent items of " INT64_FORMAT "; mining", nusers, kept, nfrequent, nitems);
	{
		/* the root: every user, no places yet */
		ProjUser   *all = MemoryContextAllocHuge(cxt, sizeof(ProjUser) * Max(nusers, 1));

		for (int64 u = 0; u < nusers; u++)
		{
			all[u].user = (uint32) u;
			all[u].npos = 0;
			all[u].pos = 0;
		}
		if (nfrequent > 0)
			Grow(&mn, 0, all, nusers, NULL, true);
		pfree(all);
	}
	if (mn.npats > 0)
		qsort_arg(mn.pats, mn.npats, sizeof(Pattern), ComparePatterns, mn.pool);
	uba_progress(&o, "uba_prefixspan: " INT64_FORMAT " patterns", mn.npats);

	uba_writer_init(&pw);
	uba_put_u64(&pw, (uint64) nusers);
	uba_put_u64(&pw, (uint64) nitems | ((uint64) st->idb.kind << PS_KIND_SHIFT));
	uba_put_u64(&pw, (uint64) mn.npats);
	uba_put_u32(&pw, (uint32) nfrequent);
	uba_put_ids(&pw, &st->idb, item_ids, nfrequent);
	for (int64 k = 0; k < mn.npats; k++)
	{
		uba_put_u32(&pw, (uint32) mn.pats[k].len);
		uba_put_i64_array(&pw, &mn.pats[k].users, 1);
	}
	for (int64 k = 0; k < mn.npats; k++)
		uba_put_u32_array(&pw, mn.pool + mn.pats[k].off, mn.pats[k].len);

	uba_model_meta_init(&meta, 0, st->n, st->started, &o);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_SEQPATTERN, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading and listing ---------- */

typedef struct PatternModel
{
	int64		users;
	int64		distinct_items;
	int64		npats;
	int64		nitems;			/* frequent items */
	UbaIds		ids;
	uint32	   *len;
	int64	   *count;
	int64	   *off;			/* npats + 1 */
	uint32	   *items;
} PatternModel;

static void *
ParsePatterns(const UbaModelMeta *meta, UbaReader *r)
{
	PatternModel *m = palloc0(sizeof(PatternModel));
	uint64		v;
	int			kind;

	v = uba_get_u64(r);
	if (v < 1 || v > (uint64) PG_UINT32_MAX)
		uba_model_corrupted("The user count is out of range.");
	m->users = (int64) v;
	v = uba_get_u64(r);
	kind = (int) (v >> PS_KIND_SHIFT);
	v &= PG_UINT32_MAX;
	if (v < 1 || kind > UBA_ID_UUID)
		uba_model_corrupted("The item count is out of range.");
	m->distinct_items = (int64) v;
	v = uba_get_u64(r);
	/* every pattern needs at least 16 bytes below */
	uba_reader_check_space(r, (Size) Min(v, (uint64) (PG_INT64_MAX / 64)), 16);
	m->npats = (int64) v;
	m->nitems = uba_get_u32(r);
	if (m->nitems > m->distinct_items || (m->npats == 0) != (m->nitems == 0))
		uba_model_corrupted("The frequent items do not match the patterns.");
	uba_get_ids(r, kind, m->nitems, &m->ids, "item");

	m->len = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(m->npats, 1));
	m->count = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(m->npats, 1));
	m->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->npats + 1));
	m->off[0] = 0;
	for (int64 k = 0; k < m->npats; k++)
	{
		m->len[k] = uba_get_u32(r);
		uba_get_i64_array(r, &m->count[k], 1);
		if (m->len[k] < 1 || m->len[k] > PS_MAX_LENGTH)
			uba_model_corrupted("Pattern " INT64_FORMAT " has an impossible length.", k + 1);
		if (m->count[k] < 1 || m->count[k] > m->users ||
			(k > 0 && (m->count[k] > m->count[k - 1] ||
					   (m->count[k] == m->count[k - 1] && m->len[k] < m->len[k - 1]))))
			uba_model_corrupted("Pattern " INT64_FORMAT " has an impossible count or is out of order.", k + 1);
		m->off[k + 1] = m->off[k] + m->len[k];
	}
	uba_reader_check_space(r, (Size) m->off[m->npats], 4);
	m->items = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(m->off[m->npats], 1));
	uba_get_u32_array(r, m->items, m->off[m->npats]);
	for (int64 k = 0; k < m->off[m->npats]; k++)
		if (m->items[k] >= m->nitems)
			uba_model_corrupted("A pattern names an item out of range.");
	uba_reader_finish(r);
	(void) meta;
	return m;
}

void
uba_prefixspan_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	PatternModel *m = ParsePatterns(meta, payload);
	int			longest = 0;

	for (int64 k = 0; k < m->npats; k++)
		longest = Max(longest, (int) m->len[k]);
	appendStringInfo(json, ", \"users\": " INT64_FORMAT ", \"items\": " INT64_FORMAT
					 ", \"frequent_items\": " INT64_FORMAT ", \"patterns\": " INT64_FORMAT
					 ", \"longest_pattern\": %d, \"item_id_type\": \"%s\"",
					 m->users, m->distinct_items, m->nitems, m->npats, longest,
					 uba_id_kind_name(m->ids.kind));
}

/* uba_sequential_patterns(model [, item_type]): every pattern, most followed first */
Datum
uba_sequential_patterns(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PatternModel *m;
	Oid			elemtype;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_SEQPATTERN, ParsePatterns);
	elemtype = get_element_type(TupleDescAttr(rsinfo->setDesc, 0)->atttypid);
	uba_ids_check_type(&m->ids, elemtype, "item");
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	for (int64 k = 0; k < m->npats; k++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		Datum		d[PS_MAX_LENGTH];

		if ((k & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (uint32 i = 0; i < m->len[k]; i++)
			d[i] = uba_ids_datum(&m->ids, m->items[m->off[k] + i], elemtype, "item");
		values[0] = PointerGetDatum(construct_array(d, m->len[k], elemtype, typlen, typbyval, typalign));
		values[1] = Int32GetDatum((int32) m->len[k]);
		values[2] = Int64GetDatum(m->count[k]);
		values[3] = Float8GetDatum((double) m->count[k] / (double) m->users);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
