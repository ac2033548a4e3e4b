/*-------------------------------------------------------------------------
 *
 * assoc.c
 *	  Frequently bought together: the uba_assoc_rules aggregate over
 *	  (basket, item) rows mines frequent itemsets with FP-growth (Han, Pei
 *	  and Yin 2000) and keeps the association rules between them; rules
 *	  are listed, and complete a live basket.
 *
 * Definitions, with N the number of distinct baskets and count(X) the
 * number of baskets holding every item of X: X is frequent when
 * count(X) / N >= min_support and it has at most max_length items.  A rule
 * A => C splits a frequent X into a non-empty antecedent A and a
 * non-empty consequent C of at most max_consequent items; it is kept when
 * its confidence count(X) / count(A) >= min_confidence.  support =
 * count(X) / N, lift = confidence / (count(C) / N).  An item repeated in a
 * basket counts once.
 *
 * FP-growth: baskets, reduced to their frequent items in decreasing
 * frequency, are inserted into a prefix tree that shares common prefixes;
 * the itemsets ending in item i are mined from the tree built from the
 * paths that lead to i's nodes (its conditional tree), recursively.  Every
 * recursion level has its own memory context, reset for each conditional
 * tree, so memory stays proportional to the deepest chain of trees.
 *
 * Payload: baskets (u64), distinct items in the events (u64; bits 32-35
 * hold the kind of item ids, ids.c, 0 for bigint), frequent itemsets
 * (u64), items used by the rules (u32), rules (u64); the item ids
 * (strictly increasing; i64 for integers, others as ids.c writes them); per rule the antecedent and consequent
 * lengths (u32 each), count(X), count(A) and count(C) (i64 each); then
 * every rule's antecedent and consequent items (u32 indexes into the item
 * ids, each side increasing, the sides disjoint).  Rules are stored best
 * first: confidence, then lift, then support, all decreasing.
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

PG_FUNCTION_INFO_V1(uba_assoc_transfn);
PG_FUNCTION_INFO_V1(uba_assoc_final);
PG_FUNCTION_INFO_V1(uba_assoc_rules_list);
PG_FUNCTION_INFO_V1(uba_basket_complete);

/* The kind of item ids is in the high half of the distinct item count */
#define ASSOC_KIND_SHIFT 32

/* The longest itemset: rule subsets are enumerated with positions in a 32-bit mask */
#define ASSOC_MAX_LENGTH 32

static const UbaOptionSpec assoc_options[] = {
	{"min_support", UBA_OPT_FLOAT, 0.01, 0, 1, NULL},
	{"min_confidence", UBA_OPT_FLOAT, 0.5, 0, 1, NULL},
	{"max_length", UBA_OPT_INT, 10, 2, ASSOC_MAX_LENGTH, NULL},
	{"max_consequent", UBA_OPT_INT, 1, 1, ASSOC_MAX_LENGTH - 1, NULL},
	UBA_PROGRESS_OPTION,
};

/*
 * Memory one (basket, item) row may need while mining: itself (16 bytes),
 * the sort keys of the id mapping (32), its basket and item indexes (8),
 * its place in the baskets' item lists (4) and its share of the tree (4).
 */
#define ASSOC_EVENT_PEAK_BYTES 64

static void
CheckOptions(const UbaOptions *o)
{
	if (uba_option(o, "min_support") <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"min_support\" of uba_assoc_rules must be greater than 0 and at most 1"),
				 errdetail("Got 0."),
				 errhint("Support is the share of baskets that hold an itemset; 0.01 keeps itemsets in at least 1%% of the baskets.")));
}

/* uba_assoc_rules(basket_id, item_id [, options]) transition: collect the row */
Datum
uba_assoc_transfn(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;

	/* rows with no basket or item are skipped, as built-in aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st == NULL)
	{
		UbaOptions	o;

		uba_parse_options(opts, assoc_options, lengthof(assoc_options), "uba_assoc_rules", &o);
		CheckOptions(&o);
		st = uba_events_start(fcinfo, opts, false, ASSOC_EVENT_PEAK_BYTES, "basket ids", "item ids");
	}
	else
		uba_check_same_options(st->options, opts);
	uba_events_add(st, fcinfo, 0);
	PG_RETURN_POINTER(st);
}

/*
 * Refuse to mine on when the itemsets, the rules or the tree outgrow
 * uba.max_memory: with a low support, a few large, similar baskets make
 * the number of itemsets explode combinatorially.
 */
static void
CheckMiningMemory(Size bytes, const char *what)
{
	if (bytes > uba_memory_limit())
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s need more than %s (%zu MB)", what, uba_memory_setting(), uba_memory_limit() / (1024 * 1024)),
				 uba_memory_hint("raise min_support or lower max_length (a few large, similar baskets make the number of itemsets explode)")));
}

/* ---------- FP-tree ---------- */

/*
 * A prefix tree of baskets.  Items are local indexes 0 .. nitems - 1,
 * increasing with the global frequency rank (gitem), and every path from
 * the root runs through increasing local indexes.  Node 0 is the root.
 */
typedef struct FpTree
{
	int32		nnodes;
	int32		cap;
	int32	   *item;
	int64	   *count;
	int32	   *parent;
	int32	   *child;			/* first child, or -1 */
	int32	   *sibling;		/* next child of the same parent, or -1 */
	int32	   *link;			/* next node of the same item, or -1 */
	int32		nitems;
	int32	   *gitem;			/* local item -> global rank */
	int32	   *head;			/* local item -> its first node, or -1 */
	int64	   *support;		/* local item -> summed count of its nodes */
} FpTree;

/* Bytes per tree node, for uba.max_memory */
#define FP_NODE_BYTES (5 * sizeof(int32) + sizeof(int64))

static FpTree *
TreeCreate(int32 nitems, const int32 *gitem, int32 cap)
{
	FpTree	   *t = palloc(sizeof(FpTree));

	cap = Max(cap, 16);
	t->nnodes = 1;
	t->cap = cap;
	t->item = palloc(sizeof(int32) * cap);
	t->count = palloc(sizeof(int64) * cap);
	t->parent = palloc(sizeof(int32) * cap);
	t->child = palloc(sizeof(int32) * cap);
	t->sibling = palloc(sizeof(int32) * cap);
	t->link = palloc(sizeof(int32) * cap);
	t->item[0] = -1;
	t->count[0] = 0;
	t->parent[0] = -1;
	t->child[0] = -1;
	t->sibling[0] = -1;
	t->link[0] = -1;
	t->nitems = nitems;
	t->gitem = palloc(sizeof(int32) * Max(nitems, 1));
	memcpy(t->gitem, gitem, sizeof(int32) * nitems);
	t->head = palloc(sizeof(int32) * Max(nitems, 1));
	t->support = palloc0(sizeof(int64) * Max(nitems, 1));
	for (int i = 0; i < nitems; i++)
		t->head[i] = -1;
	return t;
}

static void
TreeGrow(FpTree *t)
{
	int32		cap;

	if (t->cap >= PG_INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the frequent-pattern tree has more than %d nodes", PG_INT32_MAX / 2),
				 errhint("Raise min_support.")));
	cap = t->cap * 2;
	CheckMiningMemory(mul_size((Size) cap, FP_NODE_BYTES), "the frequent-pattern tree's nodes");
	t->item = repalloc_huge(t->item, sizeof(int32) * cap);
	t->count = repalloc_huge(t->count, sizeof(int64) * cap);
	t->parent = repalloc_huge(t->parent, sizeof(int32) * cap);
	t->child = repalloc_huge(t->child, sizeof(int32) * cap);
	t->sibling = repalloc_huge(t->sibling, sizeof(int32) * cap);
	t->link = repalloc_huge(t->link, sizeof(int32) * cap);
	t->cap = cap;
}

/* Add a path of increasing local items with a count */
static void
TreeInsert(FpTree *t, const int32 *items, int len, int64 count)
{
	int32		cur = 0;

	for (int k = 0; k < len; k++)
	{
		int32		it = items[k];
		int32		c = t->child[cur];

		while (c >= 0 && t->item[c] != it)
			c = t->sibling[c];
		if (c < 0)
		{
			if (t->nnodes == t->cap)
				TreeGrow(t);
			c = t->nnodes++;
			t->item[c] = it;
			t->count[c] = 0;
			t->parent[c] = cur;
			t->child[c] = -1;
			t->sibling[c] = t->child[cur];
			t->child[cur] = c;
			t->link[c] = t->head[it];
			t->head[it] = c;
		}
		t->count[c] += count;
		t->support[it] += count;
		cur = c;
	}
}

/* ---------- mining ---------- */

/* A frequent itemset: len items (item indexes, increasing) from off in the pool */
typedef struct Itemset
{
	int64		off;
	int32		len;
	int64		count;
} Itemset;

typedef struct Miner
{
	int64		mincount;		/* the smallest frequent count */
	int			max_length;
	const int32 *rank_item;		/* global rank -> item index */
	MemoryContext level[ASSOC_MAX_LENGTH];	/* per recursion depth */
	int32		suffix[ASSOC_MAX_LENGTH];	/* global ranks of the current itemset */
	/* the frequent itemsets found */
	Itemset    *sets;
	int64		nsets;
	int64		setcap;
	int32	   *pool;
	int64		npool;
	int64		poolcap;
} Miner;

/* Record the itemset suffix[0 .. len - 1] with its count */
static void
EmitItemset(Miner *mn, int len, int64 count)
{
	Itemset    *s;

	if (mn->nsets == mn->setcap || mn->npool + len > mn->poolcap)
	{
		mn->setcap = Max(1024, mn->setcap * 2);
		mn->poolcap = Max(mn->poolcap * 2, mn->npool + len + 4096);
		CheckMiningMemory(add_size(mul_size((Size) mn->setcap, sizeof(Itemset)),
								   mul_size((Size) mn->poolcap, sizeof(int32))),
						  "the frequent itemsets");
		mn->sets = mn->sets ? repalloc_huge(mn->sets, sizeof(Itemset) * mn->setcap)
			: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Itemset) * mn->setcap);
		mn->pool = mn->pool ? repalloc_huge(mn->pool, sizeof(int32) * mn->poolcap)
			: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * mn->poolcap);
	}
	s = &mn->sets[mn->nsets++];
	s->off = mn->npool;
	s->len = len;
	s->count = count;
	for (int k = 0; k < len; k++)
		mn->pool[mn->npool + k] = mn->rank_item[mn->suffix[k]];
	qsort(mn->pool + mn->npool, len, sizeof(int32), uba_cmp_uint32);
	mn->npool += len;
}

/* Mine every frequent itemset of tree t extended by suffix[0 .. depth - 1] */
static void
Mine(Miner *mn, FpTree *t, int depth, MemoryContext parent_cxt)
{
	for (int32 li = t->nitems - 1; li >= 0; li--)
	{
		MemoryContext cxt,
					old;
		int64	   *cnt;
		int32	   *map,
				   *gitem,
				   *path;
		int32		nlocal = 0;
		FpTree	   *cond;

		CHECK_FOR_INTERRUPTS();
		if (t->support[li] < mn->mincount)
			continue;
		mn->suffix[depth] = t->gitem[li];
		old = MemoryContextSwitchTo(parent_cxt);
		EmitItemset(mn, depth + 1, t->support[li]);
		MemoryContextSwitchTo(old);
		if (depth + 1 >= mn->max_length || li == 0)
			continue;

		/* the items on the paths to li's nodes (all before li), counted */
		cxt = mn->level[depth + 1];
		MemoryContextReset(cxt);
		old = MemoryContextSwitchTo(cxt);
		cnt = palloc0(sizeof(int64) * li);
		for (int32 n = t->head[li]; n >= 0; n = t->link[n])
			for (int32 p = t->parent[n]; p > 0; p = t->parent[p])
				cnt[t->item[p]] += t->count[n];
		map = palloc(sizeof(int32) * li);
		gitem = palloc(sizeof(int32) * li);
		for (int32 i = 0; i < li; i++)
		{
			map[i] = -1;
			if (cnt[i] >= mn->mincount)
			{
				map[i] = nlocal;
				gitem[nlocal++] = t->gitem[i];
			}
		}
		if (nlocal > 0)
		{
			/* the conditional tree: each path, without its infrequent items, with the node's count */
			cond = TreeCreate(nlocal, gitem, 64);
			path = palloc(sizeof(int32) * li);
			for (int32 n = t->head[li]; n >= 0; n = t->link[n])
			{
				int			len = 0;

				for (int32 p = t->parent[n]; p > 0; p = t->parent[p])
					if (map[t->item[p]] >= 0)
						path[len++] = map[t->item[p]];
				/* collected leaf to root: reverse into increasing order */
				for (int a = 0, b = len - 1; a < b; a++, b--)
				{
					int32		x = path[a];

					path[a] = path[b];
					path[b] = x;
				}
				if (len > 0)
					TreeInsert(cond, path, len, t->count[n]);
			}
			Mine(mn, cond, depth + 1, parent_cxt);
		}
		MemoryContextSwitchTo(old);
	}
}

/* ---------- itemset lookup ---------- */

typedef struct SetTable
{
	const Miner *mn;
	int64		mask;			/* capacity - 1 (a power of 2) */
	int64	   *slot;			/* itemset index, or -1 */
} SetTable;

static uint64
HashItems(const int32 *items, int len)
{
	uint64		h = UINT64CONST(0x9E3779B97F4A7C15) ^ (uint64) len;

	for (int k = 0; k < len; k++)
	{
		h ^= (uint64) (uint32) items[k];
		h *= UINT64CONST(0xBF58476D1CE4E5B9);
		h ^= h >> 31;
	}
	return h;
}

static void
TableBuild(SetTable *tab, const Miner *mn)
{
	int64		cap = 16;

	while (cap < mn->nsets * 2)
		cap *= 2;
	CheckMiningMemory(mul_size((Size) cap, sizeof(int64)), "the index of the frequent itemsets");
	tab->mn = mn;
	tab->mask = cap - 1;
	tab->slot = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * cap);
	memset(tab->slot, 0xFF, sizeof(int64) * cap);
	for (int64 s = 0; s < mn->nsets; s++)
	{
		int64		h = (int64) (HashItems(mn->pool + mn->sets[s].off, mn->sets[s].len) & tab->mask);

		while (tab->slot[h] >= 0)
			h = (h + 1) & tab->mask;
		tab->slot[h] = s;
	}
}

/* The count of an itemset (increasing items), or -1 when it is not frequent */
static int64
TableCount(const SetTable *tab, const int32 *items, int len)
{
	int64		h = (int64) (HashItems(items, len) & tab->mask);

	for (; tab->slot[h] >= 0; h = (h + 1) & tab->mask)
	{
		const Itemset *s = &tab->mn->sets[tab->slot[h]];

		if (s->len == len && memcmp(tab->mn->pool + s->off, items, sizeof(int32) * len) == 0)
			return s->count;
	}
	return -1;
}

/* ---------- rules ---------- */

typedef struct Rule
{
	int64		count;			/* count(X) */
	int64		acount;			/* count(A) */
	int64		ccount;			/* count(C) */
	int64		off;			/* antecedent, then consequent, in the rule pool */
	int32		alen;
	int32		clen;
	double		confidence;
	double		lift;
} Rule;

typedef struct RuleList
{
	Rule	   *rules;
	int64		n;
	int64		cap;
	int32	   *pool;
	int64		npool;
	int64		poolcap;
} RuleList;

static void
AddRule(RuleList *rl, const int32 *a, int alen, const int32 *c, int clen,
		int64 count, int64 acount, int64 ccount, int64 baskets)
{
	Rule	   *r;

	if (rl->n == rl->cap || rl->npool + alen + clen > rl->poolcap)
	{
		rl->cap = Max(1024, rl->cap * 2);
		rl->poolcap = Max(rl->poolcap * 2, rl->npool + alen + clen + 4096);
		CheckMiningMemory(add_size(mul_size((Size) rl->cap, sizeof(Rule)),
								   mul_size((Size) rl->poolcap, sizeof(int32))),
						  "the association rules");
		rl->rules = rl->rules ? repalloc_huge(rl->rules, sizeof(Rule) * rl->cap)
			: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Rule) * rl->cap);
		rl->pool = rl->pool ? repalloc_huge(rl->pool, sizeof(int32) * rl->poolcap)
			: MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * rl->poolcap);
	}
	r = &rl->rules[rl->n++];
	r->count = count;
	r->acount = acount;
	r->ccount = ccount;
	r->off = rl->npool;
	r->alen = alen;
	r->clen = clen;
	r->confidence = (double) count / (double) acount;
	r->lift = r->confidence / ((double) ccount / (double) baskets);
	memcpy(rl->pool + rl->npool, a, sizeof(int32) * alen);
	memcpy(rl->pool + rl->npool + alen, c, sizeof(int32) * clen);
	rl->npool += alen + clen;
}

/*
 * Every rule of itemset X with a consequent of at most max_consequent
 * items and enough confidence.  Consequents are the subsets of X's
 * positions, enumerated as bit masks.
 */
static void
RulesOf(RuleList *rl, const SetTable *tab, const int32 *x, int len, int64 count,
		int max_consequent, double min_confidence, int64 baskets)
{
	uint64		full = (UINT64CONST(1) << len) - 1;

	/* the consequent masks of each size, smallest first: Gosper's next subset of the same size */
	for (int size = 1; size <= Min(max_consequent, len - 1); size++)
	{
		uint64		m = (UINT64CONST(1) << size) - 1;

		for (; m <= full; )
		{
			int32		a[ASSOC_MAX_LENGTH],
						c[ASSOC_MAX_LENGTH];
			int			alen = 0,
						clen = 0;
			int64		acount,
						ccount;
			uint64		lowest,
						ripple;

			for (int k = 0; k < len; k++)
			{
				if (m & (UINT64CONST(1) << k))
					c[clen++] = x[k];
				else
					a[alen++] = x[k];
			}
			acount = TableCount(tab, a, alen);
			if (acount <= 0)
				elog(ERROR, "uba: a subset of a frequent itemset is missing");
			/* the consequent's count is only needed for the lift of a rule that is kept */
			if ((double) count / (double) acount >= min_confidence)
			{
				ccount = TableCount(tab, c, clen);
				if (ccount <= 0)
					elog(ERROR, "uba: a subset of a frequent itemset is missing");
				AddRule(rl, a, alen, c, clen, count, acount, ccount, baskets);
			}
			/* one itemset of 20+ items has up to millions of rules to try */
			if ((m & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();

			lowest = m & -m;
			ripple = m + lowest;
			m = (((ripple ^ m) >> 2) / lowest) | ripple;
		}
	}
}

static int
CompareItemLists(const int32 *a, int alen, const int32 *b, int blen)
{
	for (int k = 0; k < Min(alen, blen); k++)
		if (a[k] != b[k])
			return a[k] < b[k] ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

/* Best first: confidence, lift, support; then the shorter, smaller antecedent and consequent */
static int
CompareRules(const void *pa, const void *pb, void *arg)
{
	const Rule *a = (const Rule *) pa;
	const Rule *b = (const Rule *) pb;
	const int32 *pool = (const int32 *) arg;
	int			c;

	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	if (a->lift != b->lift)
		return a->lift > b->lift ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	c = CompareItemLists(pool + a->off, a->alen, pool + b->off, b->alen);
	if (c != 0)
		return c;
	return CompareItemLists(pool + a->off + a->alen, a->clen, pool + b->off + b->alen, b->clen);
}

static int
CompareRanked(const void *pa, const void *pb, void *arg)
{
	int32		a = *(const int32 *) pa;
	int32		b = *(const int32 *) pb;
	const int64 *cnt = (const int64 *) arg;

	if (cnt[a] != cnt[b])
		return cnt[a] > cnt[b] ? -1 : 1;
	return (a > b) - (a < b);
}

/* Final: group the rows into baskets, mine, keep the rules, write the model */
Datum
uba_assoc_final(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	double		min_support,
				min_confidence;
	int			max_length,
				max_consequent;
	MemoryContext cxt,
				old;
	uint32	   *bidx,
			   *iidx,
			   *items;
	int64	   *basket_ids,
			   *item_ids,
			   *off,
			   *fill,
			   *cnt;
	int64		nbaskets,
				nitems,
				nfrequent = 0,
				used_items = 0;
	int32	   *ranked,
			   *rank_of,
			   *path,
			   *used_index;
	FpTree	   *tree;
	Miner		mn;
	SetTable	tab;
	RuleList	rl;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, assoc_options, lengthof(assoc_options), "uba_assoc_rules", &o);
	CheckOptions(&o);
	min_support = uba_option(&o, "min_support");
	min_confidence = uba_option(&o, "min_confidence");
	max_length = (int) uba_option(&o, "max_length");
	max_consequent = (int) uba_option(&o, "max_consequent");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba assoc", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* baskets as lists of distinct item indexes */
	uba_events_canonical(st);
	bidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	iidx = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	nbaskets = uba_map_ids(st->a, st->n, &basket_ids, bidx);
	nitems = uba_map_ids(st->b, st->n, &item_ids, iidx);
	pfree(basket_ids);
	off = MemoryContextAllocHuge(cxt, sizeof(int64) * (nbaskets + 1));
	fill = MemoryContextAllocHuge(cxt, sizeof(int64) * (nbaskets + 1));
	memset(off, 0, sizeof(int64) * (nbaskets + 1));
	for (int64 i = 0; i < st->n; i++)
		off[bidx[i] + 1]++;
	for (int64 b = 0; b < nbaskets; b++)
		off[b + 1] += off[b];
	memcpy(fill, off, sizeof(int64) * (nbaskets + 1));
	items = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);
	for (int64 i = 0; i < st->n; i++)
		items[fill[bidx[i]]++] = iidx[i];
	pfree(bidx);
	pfree(iidx);

	/* each basket's items sorted and made distinct in place (off becomes the new bounds); counted */
	cnt = MemoryContextAllocHuge(cxt, sizeof(int64) * nitems);
	memset(cnt, 0, sizeof(int64) * nitems);
	{
		int64		w = 0;

		for (int64 b = 0; b < nbaskets; b++)
		{
			int64		lo = off[b],
						hi = fill[b];

			if ((b & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			qsort(items + lo, hi - lo, sizeof(uint32), uba_cmp_uint32);
			off[b] = w;
			for (int64 k = lo; k < hi; k++)
				if (k == lo || items[k] != items[k - 1])
				{
					cnt[items[k]]++;
					items[w++] = items[k];
				}
		}
		off[nbaskets] = w;
	}
	pfree(fill);

	/* frequent items, ranked by decreasing count (then item index) */
	memset(&mn, 0, sizeof(mn));
	mn.mincount = uba_min_count(min_support, nbaskets);
	mn.max_length = max_length;
	ranked = MemoryContextAllocHuge(cxt, sizeof(int32) * Max(nitems, 1));
	rank_of = MemoryContextAllocHuge(cxt, sizeof(int32) * Max(nitems, 1));
	for (int64 i = 0; i < nitems; i++)
	{
		rank_of[i] = -1;
		if (cnt[i] >= mn.mincount)
			ranked[nfrequent++] = (int32) i;
	}
	qsort_arg(ranked, nfrequent, sizeof(int32), CompareRanked, cnt);
	for (int64 r = 0; r < nfrequent; r++)
		rank_of[ranked[r]] = (int32) r;
	mn.rank_item = ranked;

	/* the tree of all baskets over the frequent items, then the itemsets */
	for (int d = 0; d < ASSOC_MAX_LENGTH; d++)
		mn.level[d] = AllocSetContextCreate(cxt, "uba assoc level", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(mn.level[0]);
	path = palloc(sizeof(int32) * Max(nfrequent, 1));
	for (int32 r = 0; r < nfrequent; r++)
		path[r] = r;
	tree = TreeCreate((int32) nfrequent, path, 1024);	/* local item r is global rank r */
	for (int64 b = 0; b < nbaskets; b++)
	{
		int			len = 0;

		if ((b & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int64 k = off[b]; k < off[b + 1]; k++)
			if (rank_of[items[k]] >= 0)
				path[len++] = rank_of[items[k]];
		qsort(path, len, sizeof(int32), uba_cmp_uint32);
		if (len > 0)
			TreeInsert(tree, path, len, 1);
	}
	MemoryContextSwitchTo(cxt);
	uba_progress(&o, "uba_assoc_rules: " INT64_FORMAT " baskets, " INT64_FORMAT " distinct items; mining frequent itemsets",
				 nbaskets, nitems);
	Mine(&mn, tree, 0, cxt);
	uba_progress(&o, "uba_assoc_rules: " INT64_FORMAT " frequent itemsets; making rules", mn.nsets);
	for (int d = 0; d < ASSOC_MAX_LENGTH; d++)
		MemoryContextDelete(mn.level[d]);

	/* the rules */
	TableBuild(&tab, &mn);
	memset(&rl, 0, sizeof(rl));
	for (int64 s = 0; s < mn.nsets; s++)
	{
		if ((s & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (mn.sets[s].len >= 2)
			RulesOf(&rl, &tab, mn.pool + mn.sets[s].off, mn.sets[s].len, mn.sets[s].count,
					max_consequent, min_confidence, nbaskets);
	}
	if (rl.n > 0)
		qsort_arg(rl.rules, rl.n, sizeof(Rule), CompareRules, rl.pool);
	uba_progress(&o, "uba_assoc_rules: " INT64_FORMAT " rules", rl.n);

	/* the items the rules use, renumbered in id order */
	used_index = MemoryContextAllocHuge(cxt, sizeof(int32) * Max(nitems, 1));
	for (int64 i = 0; i < nitems; i++)
		used_index[i] = -1;
	for (int64 k = 0; k < rl.npool; k++)
		used_index[rl.pool[k]] = 0;
	for (int64 i = 0; i < nitems; i++)
		if (used_index[i] == 0)
			used_index[i] = (int32) used_items++;

	uba_writer_init(&pw);
	uba_put_u64(&pw, (uint64) nbaskets);
	uba_put_u64(&pw, (uint64) nitems | ((uint64) st->idb.kind << ASSOC_KIND_SHIFT));
	uba_put_u64(&pw, (uint64) mn.nsets);
	uba_put_u32(&pw, (uint32) used_items);
	uba_put_u64(&pw, (uint64) rl.n);
	{
		int64		nused = 0;

		for (int64 i = 0; i < nitems; i++)
			if (used_index[i] >= 0)
				item_ids[nused++] = item_ids[i];
		uba_put_ids(&pw, &st->idb, item_ids, nused);
	}
	for (int64 r = 0; r < rl.n; r++)
	{
		uba_put_u32(&pw, (uint32) rl.rules[r].alen);
		uba_put_u32(&pw, (uint32) rl.rules[r].clen);
	}
	for (int64 r = 0; r < rl.n; r++)
	{
		uba_put_i64_array(&pw, &rl.rules[r].count, 1);
		uba_put_i64_array(&pw, &rl.rules[r].acount, 1);
		uba_put_i64_array(&pw, &rl.rules[r].ccount, 1);
	}
	for (int64 r = 0; r < rl.n; r++)
		for (int k = 0; k < rl.rules[r].alen + rl.rules[r].clen; k++)
			uba_put_u32(&pw, (uint32) used_index[rl.pool[rl.rules[r].off + k]]);

	uba_model_meta_init(&meta, 0, st->n, st->started, &o);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_ASSOC, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- reading and serving ---------- */

typedef struct AssocModel
{
	int64		baskets;
	int64		distinct_items;
	int64		itemsets;
	int64		nitems;			/* items the rules use */
	int64		nrules;
	UbaIds		ids;			/* the nitems item ids, increasing */
	uint32	   *alen;
	uint32	   *clen;
	int64	   *count;
	int64	   *acount;
	int64	   *ccount;
	int64	   *off;			/* nrules + 1: each rule's antecedent, then consequent, in items */
	uint32	   *items;
} AssocModel;

/* Is the list strictly increasing and below n? */
static bool
IncreasingBelow(const uint32 *v, int64 len, int64 n)
{
	for (int64 k = 0; k < len; k++)
		if (v[k] >= n || (k > 0 && v[k] <= v[k - 1]))
			return false;
	return true;
}

static void *
ParseAssoc(const UbaModelMeta *meta, UbaReader *r)
{
	AssocModel *m = palloc0(sizeof(AssocModel));
	uint64		v;
	int			kind;

	v = uba_get_u64(r);
	if (v < 1 || v > (uint64) PG_INT64_MAX)
		uba_model_corrupted("The basket count is out of range.");
	m->baskets = (int64) v;
	v = uba_get_u64(r);
	kind = (int) (v >> ASSOC_KIND_SHIFT);
	v &= PG_UINT32_MAX;
	if (v < 1 || kind > UBA_ID_UUID)
		uba_model_corrupted("The item count is out of range.");
	m->distinct_items = (int64) v;
	v = uba_get_u64(r);
	if (v > (uint64) PG_INT64_MAX)
		uba_model_corrupted("The itemset count is out of range.");
	m->itemsets = (int64) v;
	m->nitems = uba_get_u32(r);
	if (m->nitems > m->distinct_items)
		uba_model_corrupted("The rules use more items than the baskets hold.");
	v = uba_get_u64(r);
	/* every rule needs at least 32 bytes below */
	uba_reader_check_space(r, (Size) Min(v, (uint64) (PG_INT64_MAX / 64)), 32);
	m->nrules = (int64) v;
	if ((m->nrules == 0) != (m->nitems == 0))
		uba_model_corrupted("Rules and their items do not match.");

	uba_get_ids(r, kind, m->nitems, &m->ids, "item");

	m->alen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(m->nrules, 1));
	m->clen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(m->nrules, 1));
	m->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nrules + 1));
	m->off[0] = 0;
	for (int64 k = 0; k < m->nrules; k++)
	{
		m->alen[k] = uba_get_u32(r);
		m->clen[k] = uba_get_u32(r);
		if (m->alen[k] < 1 || m->clen[k] < 1 ||
			(uint64) m->alen[k] + m->clen[k] > ASSOC_MAX_LENGTH)
			uba_model_corrupted("Rule " INT64_FORMAT " has an impossible length.", k + 1);
		m->off[k + 1] = m->off[k] + m->alen[k] + m->clen[k];
	}
	m->count = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(m->nrules, 1));
	m->acount = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(m->nrules, 1));
	m->ccount = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(m->nrules, 1));
	for (int64 k = 0; k < m->nrules; k++)
	{
		uba_get_i64_array(r, &m->count[k], 1);
		uba_get_i64_array(r, &m->acount[k], 1);
		uba_get_i64_array(r, &m->ccount[k], 1);
		if (m->count[k] < 1 || m->count[k] > m->acount[k] || m->acount[k] > m->baskets ||
			m->count[k] > m->ccount[k] || m->ccount[k] > m->baskets)
			uba_model_corrupted("Rule " INT64_FORMAT " has impossible counts.", k + 1);
	}
	uba_reader_check_space(r, (Size) m->off[m->nrules], 4);
	m->items = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(m->off[m->nrules], 1));
	uba_get_u32_array(r, m->items, m->off[m->nrules]);
	for (int64 k = 0; k < m->nrules; k++)
	{
		const uint32 *a = m->items + m->off[k];
		const uint32 *c = a + m->alen[k];

		if (!IncreasingBelow(a, m->alen[k], m->nitems) || !IncreasingBelow(c, m->clen[k], m->nitems))
			uba_model_corrupted("Rule " INT64_FORMAT " has items out of range or out of order.", k + 1);
		for (uint32 i = 0, j = 0; i < m->alen[k] && j < m->clen[k];)
		{
			if (a[i] == c[j])
				uba_model_corrupted("Rule " INT64_FORMAT " has an item on both sides.", k + 1);
			if (a[i] < c[j])
				i++;
			else
				j++;
		}
	}
	uba_reader_finish(r);
	(void) meta;
	return m;
}

void
uba_assoc_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	AssocModel *m = ParseAssoc(meta, payload);

	appendStringInfo(json, ", \"baskets\": " INT64_FORMAT ", \"items\": " INT64_FORMAT
					 ", \"frequent_itemsets\": " INT64_FORMAT ", \"rules\": " INT64_FORMAT
					 ", \"rule_items\": " INT64_FORMAT ", \"item_id_type\": \"%s\"",
					 m->baskets, m->distinct_items, m->itemsets, m->nrules, m->nitems,
					 uba_id_kind_name(m->ids.kind));
}

static double
Confidence(const AssocModel *m, int64 k)
{
	return (double) m->count[k] / (double) m->acount[k];
}

static double
Lift(const AssocModel *m, int64 k)
{
	return Confidence(m, k) / ((double) m->ccount[k] / (double) m->baskets);
}

/* Rule items as an array of the result column's element type */
static ArrayType *
ItemArray(const AssocModel *m, const uint32 *items, int len, Oid elemtype)
{
	Datum		d[ASSOC_MAX_LENGTH];
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int k = 0; k < len; k++)
		d[k] = uba_ids_datum(&m->ids, items[k], elemtype, "item");
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return construct_array(d, len, elemtype, typlen, typbyval, typalign);
}

/* uba_assoc_rules_list(model): every rule, best first */
Datum
uba_assoc_rules_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AssocModel *m;
	Oid			elemtype;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_ASSOC, ParseAssoc);
	elemtype = get_element_type(TupleDescAttr(rsinfo->setDesc, 0)->atttypid);
	uba_ids_check_type(&m->ids, elemtype, "item");
	for (int64 k = 0; k < m->nrules; k++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		const uint32 *a = m->items + m->off[k];

		if ((k & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		values[0] = PointerGetDatum(ItemArray(m, a, m->alen[k], elemtype));
		values[1] = PointerGetDatum(ItemArray(m, a + m->alen[k], m->clen[k], elemtype));
		values[2] = Float8GetDatum((double) m->count[k] / (double) m->baskets);
		values[3] = Float8GetDatum(Confidence(m, k));
		values[4] = Float8GetDatum(Lift(m, k));
		values[5] = Int64GetDatum(m->count[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * uba_basket_complete(model, items, n): the n items that best complete the
 * basket, by the best rule (confidence, then lift) whose antecedent the
 * basket holds and whose consequent has the item.  Rules are stored best
 * first, so the first rule that names an item is its best, and the items
 * come out in order: the scan stops at the n-th.
 */
Datum
uba_basket_complete(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AssocModel *m;
	ArrayType  *basket;
	int32		n;
	Datum	   *ids;
	bool	   *idnulls;
	int			nids;
	bool	   *in_basket,
			   *named;
	int			found = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	n = uba_count_arg(PG_GETARG_INT32(2), "n");
	m = uba_model_cached(fcinfo, 0, UBA_KIND_ASSOC, ParseAssoc);
	basket = PG_GETARG_ARRAYTYPE_P(1);
	uba_read_ids(basket, "basket items", &ids, &idnulls, &nids);
	if (n == 0 || m->nrules == 0)
		return (Datum) 0;
	in_basket = palloc0(sizeof(bool) * m->nitems);
	named = palloc0(sizeof(bool) * m->nitems);
	for (int k = 0; k < nids; k++)
	{
		int64		hit;

		if (idnulls[k])
			continue;
		hit = uba_ids_find(&m->ids, ids[k], ARR_ELEMTYPE(basket), "item");
		if (hit >= 0)
			in_basket[hit] = true;
	}
	uba_ids_check_type(&m->ids, TupleDescAttr(rsinfo->setDesc, 0)->atttypid, "item");
	for (int64 k = 0; k < m->nrules && found < n; k++)
	{
		const uint32 *a = m->items + m->off[k];
		const uint32 *c = a + m->alen[k];
		bool		holds = true;

		if ((k & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		for (uint32 i = 0; i < m->alen[k] && holds; i++)
			holds = in_basket[a[i]];
		if (!holds)
			continue;
		for (uint32 j = 0; j < m->clen[k] && found < n; j++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			if (in_basket[c[j]] || named[c[j]])
				continue;
			named[c[j]] = true;
			found++;
			values[0] = uba_ids_datum(&m->ids, c[j], TupleDescAttr(rsinfo->setDesc, 0)->atttypid, "item");
			values[1] = Float8GetDatum(Confidence(m, k));
			values[2] = Float8GetDatum(Lift(m, k));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
