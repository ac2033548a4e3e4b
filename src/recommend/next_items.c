/*-------------------------------------------------------------------------
 *
 * next_items.c
 *	  Session-based next-item recommendation: uba_session_train(session_id,
 *	  item_id, ts [, options]) learns from the clicks of past sessions,
 *	  uba_next_items(model, recent_items, n [, options]) ranks what a live
 *	  (often anonymous) session clicks next.
 *
 * Methods (doc/sessions.md has the exact definitions; Ludewig & Jannach
 * 2018 and Garg et al. 2019 describe them):
 *	  vsknn   session neighbours weighted by the position of the shared item
 *	          in the live session, its IDF, and how recently the neighbour
 *	          shared it (V-SKNN)
 *	  stan    session neighbours with exponential decays of position,
 *	          neighbour age and distance within the neighbour (STAN)
 *	  sr      sequential rules: items that followed the last click within
 *	          a few steps, weighted 1 / distance
 *	  markov  first-order transitions from the last click
 *	  pop     the items in the most sessions (a baseline)
 *
 * Every method learns from the same thing, so the model keeps the training
 * sessions: each session's items in click order (time, then item id: the
 * order does not depend on the rows' arrival, so the aggregate runs in
 * parallel workers) and its time, sessions in recency order (time, then
 * session id).  What a method serves from (an item -> sessions index,
 * rules) is built when the model is read, once per backend.
 *
 * Payload: method (u32), k (u32), sample_size (u32), steps (u32),
 * idf_weighting, lambda_position, lambda_recency (seconds), lambda_item
 * (f64 each), the items' id kind (u32) and count (u64), the item ids
 * (ids.c), the session count S and event count E (u64 each), the
 * sessions' times (i64 x S, microseconds, non-decreasing), lengths
 * (u32 x S, each at least 1, adding up to E) and items (u32 x E, indexes
 * into the ids).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "recommend/gru4rec.h"

#include <math.h>

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(uba_session_transfn);
PG_FUNCTION_INFO_V1(uba_session_final);
PG_FUNCTION_INFO_V1(uba_next_items);

enum
{
	SESS_VSKNN,
	SESS_STAN,
	SESS_SR,
	SESS_MARKOV,
	SESS_POP,
	SESS_GRU4REC,
	SESS_NMETHODS
};

static const char *const session_methods[] = {"vsknn", "stan", "sr", "markov", "pop", "gru4rec", NULL};

#define SESS_MAX_K 100000
#define SESS_MAX_SAMPLE 10000000
#define SESS_MAX_STEPS 1000
/* what a live session may hold: its most recent clicks count */
#define SESS_MAX_QUERY 10000

static const UbaOptionSpec session_options[] = {
	{"method", UBA_OPT_CHOICE, SESS_VSKNN, 0, 0, session_methods},
	{"k", UBA_OPT_INT, 100, 1, SESS_MAX_K, NULL},
	{"sample_size", UBA_OPT_INT, 500, 1, SESS_MAX_SAMPLE, NULL},
	{"steps", UBA_OPT_INT, 10, 1, SESS_MAX_STEPS, NULL},
	{"idf_weighting", UBA_OPT_FLOAT, 1.0, 0, 1e6, NULL},
	{"lambda_position", UBA_OPT_FLOAT, 1.0, 1e-6, 1e12, NULL},
	{"lambda_recency", UBA_OPT_FLOAT, 604800, 1e-6, 1e12, NULL},
	{"lambda_item", UBA_OPT_FLOAT, 1.0, 1e-6, 1e12, NULL},
	{"hidden", UBA_OPT_INT, 100, 1, GRU4REC_MAX_HIDDEN, NULL},
	{"epochs", UBA_OPT_INT, 10, 1, 1000, NULL},
	{"batch_size", UBA_OPT_INT, 32, 1, 4096, NULL},
	{"n_sample", UBA_OPT_INT, 512, 0, 100000, NULL},
	{"sample_alpha", UBA_OPT_FLOAT, 0.75, 0, 1, NULL},
	{"learning_rate", UBA_OPT_FLOAT, 0.05, 1e-9, 10, NULL},
	{"dropout", UBA_OPT_FLOAT, 0, 0, 0.9, NULL},
	{"logq", UBA_OPT_FLOAT, 1, 0, 1, NULL},
	{"seed", UBA_OPT_INT, 0, 0, PG_INT32_MAX, NULL},
	UBA_PROGRESS_OPTION,
};

static const UbaOptionSpec next_options[] = {
	{"exclude_seen", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"at", UBA_OPT_TEXT, 0, 0, 0, NULL},
	{"weights", UBA_OPT_NUMBERS, 0, 0, 1e6, NULL},
};

/*
 * Memory one event may need at the peak of training: itself (24 bytes),
 * the sort keys of the id mappings (32), its dense indexes (8) and its
 * place in its session (16).
 */
#define SESS_EVENT_PEAK_BYTES 80

/* ---------- training ---------- */

/* uba_session_train(session_id, item_id, ts [, options]) transition: collect the click */
Datum
uba_session_transfn(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(uba_events_collect_timed(fcinfo, session_options, lengthof(session_options),
											   "uba_session_train", NULL, SESS_EVENT_PEAK_BYTES,
											   "session ids", 1, "item ids", 2, 3));
}

/* Sessions by recency: time, then session (dense indexes are in id order) */
typedef struct SessionKey
{
	int64		t;
	uint32		session;
	uint32		pad;
} SessionKey;

static int
CompareSessionKeys(const void *a, const void *b)
{
	const SessionKey *x = a,
			   *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->session < y->session ? -1 : x->session > y->session ? 1 : 0;
}

Datum
uba_session_final(PG_FUNCTION_ARGS)
{
	UbaEvents  *st = PG_ARGISNULL(0) ? NULL : (UbaEvents *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MemoryContext cxt,
				old;
	uint32	   *len;
	int64	   *item_ids,
			   *off,
			   *times;
	int64		nsessions,
				nitems,
				e = 0;
	UbaTimedItem *clicks;
	SessionKey *order;
	UbaModelMeta meta;
	UbaWriter	pw;
	bytea	   *result;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	uba_parse_options(st->options, session_options, lengthof(session_options), "uba_session_train", &o);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba session training", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* sessions and items as dense indexes, in id order; each session's clicks in time order (then by item) */
	clicks = uba_events_sequences(st, cxt, &nsessions, &off, &item_ids, &nitems);

	/* the sessions by recency: their time is their last click's */
	order = MemoryContextAllocHuge(cxt, sizeof(SessionKey) * nsessions);
	for (int64 s = 0; s < nsessions; s++)
	{
		order[s].t = clicks[off[s + 1] - 1].t;
		order[s].session = (uint32) s;
		order[s].pad = 0;
	}
	qsort(order, nsessions, sizeof(SessionKey), CompareSessionKeys);

	uba_progress(&o, "uba_session_train: " INT64_FORMAT " sessions, " INT64_FORMAT " clicks, " INT64_FORMAT " items",
				 nsessions, st->n, nitems);
	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) uba_option(&o, "method"));
	uba_put_u32(&pw, (uint32) uba_option(&o, "k"));
	uba_put_u32(&pw, (uint32) uba_option(&o, "sample_size"));
	uba_put_u32(&pw, (uint32) uba_option(&o, "steps"));
	uba_put_f64(&pw, uba_option(&o, "idf_weighting"));
	uba_put_f64(&pw, uba_option(&o, "lambda_position"));
	uba_put_f64(&pw, uba_option(&o, "lambda_recency"));
	uba_put_f64(&pw, uba_option(&o, "lambda_item"));
	uba_put_u32(&pw, (uint32) st->idb.kind);
	uba_put_u64(&pw, (uint64) nitems);
	uba_put_ids(&pw, &st->idb, item_ids, nitems);
	uba_put_u64(&pw, (uint64) nsessions);
	uba_put_u64(&pw, (uint64) st->n);
	times = MemoryContextAllocHuge(cxt, sizeof(int64) * nsessions);
	len = MemoryContextAllocHuge(cxt, sizeof(uint32) * nsessions);
	for (int64 r = 0; r < nsessions; r++)
	{
		int64		s = order[r].session;

		times[r] = order[r].t;
		if (off[s + 1] - off[s] > (int64) PG_UINT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a session has more than 4294967295 clicks")));
		len[r] = (uint32) (off[s + 1] - off[s]);
	}
	uba_put_i64_array(&pw, times, nsessions);
	uba_put_u32_array(&pw, len, nsessions);
	{
		/* the clicks' items, session by session in recency order */
		int64	   *roff = MemoryContextAllocHuge(cxt, sizeof(int64) * (nsessions + 1));
		uint32	   *rclick = MemoryContextAllocHuge(cxt, sizeof(uint32) * st->n);

		roff[0] = 0;
		for (int64 r = 0; r < nsessions; r++)
		{
			int64		s = order[r].session;

			for (int64 k = off[s]; k < off[s + 1]; k++)
				rclick[e++] = clicks[k].item;
			roff[r + 1] = e;
		}
		uba_put_u32_array(&pw, rclick, st->n);
		if (uba_option(&o, "method") == SESS_GRU4REC)
		{
			Gru4RecSettings gs;
			Gru4Rec		net;

			gs.hidden = (int) uba_option(&o, "hidden");
			gs.epochs = (int) uba_option(&o, "epochs");
			gs.batch_size = (int) uba_option(&o, "batch_size");
			gs.n_sample = (int) uba_option(&o, "n_sample");
			gs.sample_alpha = uba_option(&o, "sample_alpha");
			gs.learning_rate = uba_option(&o, "learning_rate");
			gs.dropout = uba_option(&o, "dropout");
			gs.logq = uba_option(&o, "logq");
			gs.seed = (uint64) uba_option(&o, "seed");
			pfree(clicks);
			uba_gru4rec_train(&net, nitems, roff, rclick, nsessions, &gs, &o);
			uba_gru4rec_write(&pw, &net);
		}
	}
	Assert(e == st->n);

	uba_model_meta_init(&meta, 0, st->n, st->started, &o);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_SESSION, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- the model, read and validated ---------- */

/* An item's score while ranking */
typedef struct ItemScore
{
	double		score;
	uint32		item;
} ItemScore;

/* A neighbour session while ranking */
typedef struct Neighbour
{
	double		sim;
	uint32		session;		/* recency rank: larger is more recent */
	uint32		last;			/* position (1-based) of the live session's latest click it shares */
} Neighbour;

typedef struct SessionModel
{
	int			method;
	int			k;
	int			sample_size;
	int			steps;
	double		idf_weighting;
	double		lambda_position;
	double		lambda_recency;	/* seconds */
	double		lambda_item;
	UbaIds		items;
	int64		nitems;
	int64		nsessions;
	int64		nevents;
	int64	   *time;			/* nsessions, microseconds */
	int64	   *off;			/* nsessions + 1 */
	uint32	   *click;			/* nevents */
	int64	   *df;				/* nitems: sessions holding each item */
	/* vsknn, stan: item -> the sessions holding it, in recency order; sessions' distinct items */
	int64	   *post_off;		/* nitems + 1 */
	uint32	   *post;
	uint32	   *ndistinct;		/* stan */
	/* sr, markov: item -> (item, weight), by item */
	int64	   *rule_off;		/* nitems + 1 */
	uint32	   *rule_to;
	double	   *rule_w;
	/* pop: items by df, descending (ties by id) */
	uint32	   *by_pop;
	/* gru4rec: the network */
	Gru4Rec		net;
	/* scratch for one query (a backend answers one at a time) */
	double	   *weight;			/* nitems: a live item's weight, 0 for others */
	uint32	   *pos;			/* nitems: a live item's last position, 0 for others */
	uint32	   *stamp;			/* nitems: the neighbour that counted an item last */
	uint32		visit;
	double	   *score;			/* nitems */
	uint32	   *touched;		/* nitems */
} SessionModel;

static int
ComparePopularity(const void *a, const void *b, void *arg)
{
	const SessionModel *m = arg;
	uint32		x = *(const uint32 *) a,
				y = *(const uint32 *) b;

	if (m->df[x] != m->df[y])
		return m->df[x] > m->df[y] ? -1 : 1;
	return x < y ? -1 : x > y ? 1 : 0;
}

static void
CheckServingMemory(Size bytes)
{
	uba_check_memory_for(bytes, "reading a session model",
						 "train on fewer sessions (a recent period), or with a smaller \"steps\"");
}

/* An (item, item, weight) pair of sequential rules, while they are built */
typedef struct RulePair
{
	uint32		to;
	float		pad;
	double		w;
} RulePair;

static int
CompareRulePairs(const void *a, const void *b)
{
	const RulePair *x = a,
			   *y = b;

	return x->to < y->to ? -1 : x->to > y->to ? 1 : 0;
}

/*
 * The rules of sr (pairs within steps, weight 1 / distance) or markov
 * (consecutive pairs, weight 1, then shares of each item's transitions):
 * pairs counted per source item, placed, then each source's sorted and
 * merged.
 */
static void
BuildRules(SessionModel *m, int steps)
{
	int64		npairs = 0;
	int64	   *fill;
	RulePair   *pairs;
	int64		kept = 0;

	m->rule_off = palloc0(sizeof(int64) * (m->nitems + 1));
	for (int64 s = 0; s < m->nsessions; s++)
	{
		if ((s & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int64 p = m->off[s]; p < m->off[s + 1]; p++)
			for (int64 q = p + 1; q <= Min(p + steps, m->off[s + 1] - 1); q++)
				if (m->click[q] != m->click[p])
				{
					m->rule_off[m->click[p] + 1]++;
					npairs++;
				}
	}
	CheckServingMemory(add_size(mul_size((Size) npairs, sizeof(RulePair) + sizeof(uint32) + sizeof(double)),
								mul_size((Size) m->nevents, 4 * sizeof(int64))));
	for (int64 i = 0; i < m->nitems; i++)
		m->rule_off[i + 1] += m->rule_off[i];
	fill = palloc(sizeof(int64) * (m->nitems + 1));
	memcpy(fill, m->rule_off, sizeof(int64) * (m->nitems + 1));
	pairs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(RulePair) * Max(npairs, 1));
	for (int64 s = 0; s < m->nsessions; s++)
	{
		if ((s & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int64 p = m->off[s]; p < m->off[s + 1]; p++)
			for (int64 q = p + 1; q <= Min(p + steps, m->off[s + 1] - 1); q++)
				if (m->click[q] != m->click[p])
				{
					RulePair   *r = &pairs[fill[m->click[p]]++];

					r->to = m->click[q];
					r->pad = 0;
					r->w = 1.0 / (double) (q - p);
				}
	}
	pfree(fill);
	m->rule_to = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(npairs, 1));
	m->rule_w = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(npairs, 1));
	for (int64 i = 0; i < m->nitems; i++)
	{
		int64		lo = m->rule_off[i],
					hi = m->rule_off[i + 1],
					first = kept;
		double		total = 0;

		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		qsort(pairs + lo, hi - lo, sizeof(RulePair), CompareRulePairs);
		for (int64 k = lo; k < hi; k++)
		{
			if (k > lo && pairs[k].to == pairs[k - 1].to)
				m->rule_w[kept - 1] += pairs[k].w;
			else
			{
				m->rule_to[kept] = pairs[k].to;
				m->rule_w[kept++] = pairs[k].w;
			}
			total += pairs[k].w;
		}
		/* markov: each source's transitions as shares */
		if (m->method == SESS_MARKOV)
			for (int64 k = first; k < kept; k++)
				m->rule_w[k] /= total;
		m->rule_off[i] = first;
	}
	m->rule_off[m->nitems] = kept;
	pfree(pairs);
}

/* Parse and fully validate a session model; build what its method serves from */
static void *
ParseSession(const UbaModelMeta *meta, UbaReader *r)
{
	SessionModel *m = palloc0(sizeof(SessionModel));
	uint32	   *len;
	uint64		v;
	int			kind;
	uint32	   *last_seen;

	m->method = (int) uba_get_u32(r);
	m->k = (int) uba_get_u32(r);
	m->sample_size = (int) uba_get_u32(r);
	m->steps = (int) uba_get_u32(r);
	m->idf_weighting = uba_get_finite_f64(r);
	m->lambda_position = uba_get_finite_f64(r);
	m->lambda_recency = uba_get_finite_f64(r);
	m->lambda_item = uba_get_finite_f64(r);
	if (m->method < 0 || m->method >= SESS_NMETHODS || m->k < 1 || m->k > SESS_MAX_K ||
		m->sample_size < 1 || m->sample_size > SESS_MAX_SAMPLE || m->steps < 1 || m->steps > SESS_MAX_STEPS ||
		m->idf_weighting < 0 || m->idf_weighting > 1e6 || !(m->lambda_position >= 1e-6) ||
		!(m->lambda_recency >= 1e-6) || !(m->lambda_item >= 1e-6))
		uba_model_corrupted("A parameter is out of range.");
	kind = (int) uba_get_u32(r);
	v = uba_get_u64(r);
	if (kind > UBA_ID_UUID || v < 1 || v > (uint64) PG_UINT32_MAX)
		uba_model_corrupted("The item count or id type is out of range.");
	m->nitems = (int64) v;
	uba_get_ids(r, kind, m->nitems, &m->items, "item");
	v = uba_get_u64(r);
	/* every session takes 12 bytes below */
	uba_reader_check_space(r, (Size) Min(v, (uint64) (PG_INT64_MAX / 64)), 12);
	m->nsessions = (int64) v;
	v = uba_get_u64(r);
	uba_reader_check_space(r, (Size) Min(v, (uint64) (PG_INT64_MAX / 64)), 4);
	m->nevents = (int64) v;
	if (m->nsessions < 1 || m->nevents < m->nsessions)
		uba_model_corrupted("The session or click count is out of range.");
	CheckServingMemory(add_size(mul_size((Size) m->nevents, 3 * sizeof(uint32)),
								mul_size((Size) m->nsessions, 4 * sizeof(int64))));
	m->time = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * m->nsessions);
	uba_get_i64_array(r, m->time, m->nsessions);
	len = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nsessions);
	uba_get_u32_array(r, len, m->nsessions);
	m->off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nsessions + 1));
	m->off[0] = 0;
	for (int64 s = 0; s < m->nsessions; s++)
	{
		if (len[s] < 1 || (uint64) len[s] > (uint64) (m->nevents - m->off[s]))
			uba_model_corrupted("Session " INT64_FORMAT " has an impossible length.", s + 1);
		if (s > 0 && m->time[s] < m->time[s - 1])
			uba_model_corrupted("The sessions are not in time order.");
		m->off[s + 1] = m->off[s] + len[s];
	}
	if (m->off[m->nsessions] != m->nevents)
		uba_model_corrupted("The session lengths do not add up to the clicks.");
	pfree(len);
	m->click = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nevents);
	uba_get_u32_array(r, m->click, m->nevents);
	for (int64 e = 0; e < m->nevents; e++)
		if (m->click[e] >= m->nitems)
			uba_model_corrupted("A click names item %u of " INT64_FORMAT ".", m->click[e], m->nitems);

	/* sessions holding each item; with neighbours, the item -> sessions index */
	m->df = palloc0(sizeof(int64) * m->nitems);
	last_seen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	memset(last_seen, 0, sizeof(uint32) * m->nitems);
	for (int64 s = 0; s < m->nsessions; s++)
		for (int64 e = m->off[s]; e < m->off[s + 1]; e++)
			if (last_seen[m->click[e]] != (uint32) s + 1)
			{
				last_seen[m->click[e]] = (uint32) s + 1;
				m->df[m->click[e]]++;
			}
	if (m->method == SESS_VSKNN || m->method == SESS_STAN)
	{
		int64	   *fill;

		m->post_off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nitems + 1));
		m->post_off[0] = 0;
		for (int64 i = 0; i < m->nitems; i++)
			m->post_off[i + 1] = m->post_off[i] + m->df[i];
		fill = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * m->nitems);
		memcpy(fill, m->post_off, sizeof(int64) * m->nitems);
		m->post = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(m->post_off[m->nitems], 1));
		m->ndistinct = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nsessions);
		memset(last_seen, 0, sizeof(uint32) * m->nitems);
		for (int64 s = 0; s < m->nsessions; s++)
		{
			m->ndistinct[s] = 0;
			for (int64 e = m->off[s]; e < m->off[s + 1]; e++)
				if (last_seen[m->click[e]] != (uint32) s + 1)
				{
					last_seen[m->click[e]] = (uint32) s + 1;
					m->post[fill[m->click[e]]++] = (uint32) s;
					m->ndistinct[s]++;
				}
		}
		pfree(fill);
	}
	pfree(last_seen);
	if (m->method == SESS_SR || m->method == SESS_MARKOV)
		BuildRules(m, m->method == SESS_MARKOV ? 1 : m->steps);
	if (m->method == SESS_GRU4REC)
		uba_gru4rec_read(r, &m->net, m->nitems);
	if (m->method == SESS_POP)
	{
		m->by_pop = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
		for (int64 i = 0; i < m->nitems; i++)
			m->by_pop[i] = (uint32) i;
		qsort_arg(m->by_pop, m->nitems, sizeof(uint32), ComparePopularity, m);
	}
	m->weight = MemoryContextAllocZero(CurrentMemoryContext, sizeof(double) * m->nitems);
	m->pos = MemoryContextAllocZero(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	m->stamp = MemoryContextAllocZero(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	m->score = MemoryContextAllocZero(CurrentMemoryContext, sizeof(double) * m->nitems);
	m->touched = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	return m;
}

void
uba_session_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	SessionModel *m = ParseSession(meta, payload);

	appendStringInfo(json, ", \"method\": \"%s\", \"sessions\": " INT64_FORMAT ", \"clicks\": " INT64_FORMAT
					 ", \"items\": " INT64_FORMAT ", \"item_id_type\": \"%s\"",
					 session_methods[m->method], m->nsessions, m->nevents, m->nitems,
					 uba_id_kind_name(m->items.kind));
	if (m->method == SESS_SR || m->method == SESS_MARKOV)
		appendStringInfo(json, ", \"rules\": " INT64_FORMAT, m->rule_off[m->nitems]);
	if (m->method == SESS_GRU4REC)
		appendStringInfo(json, ", \"hidden\": %d, \"epochs\": %d, \"loss\": %.17g", m->net.h, m->net.epochs, m->net.loss);
}

/* ---------- ranking ---------- */

/* A new neighbour visit: items counted once per neighbour by stamp */
static inline void
NextVisit(SessionModel *m)
{
	if (++m->visit == 0)
	{
		memset(m->stamp, 0, sizeof(uint32) * m->nitems);
		m->visit = 1;
	}
}

/*
 * The sample_size most recent sessions holding any live item: the posting
 * lists are in recency order, so they are merged from their ends, most
 * recent first, by a heap of (session, list) until enough distinct
 * sessions are taken.
 */
typedef struct Cursor
{
	uint32		session;
	uint32		item;
	int64		at;				/* the next entry to take, going down */
} Cursor;

static void
SiftDown(Cursor *h, int n, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					big = i;

		if (l < n && h[l].session > h[big].session)
			big = l;
		if (r < n && h[r].session > h[big].session)
			big = r;
		if (big == i)
			return;
		{
			Cursor		t = h[i];

			h[i] = h[big];
			h[big] = t;
		}
		i = big;
	}
}

static int64
RecentCandidates(const SessionModel *m, const uint32 *live, int nlive, int sample, uint32 *out)
{
	Cursor	   *h = palloc(sizeof(Cursor) * Max(nlive, 1));
	int			n = 0;
	int64		taken = 0;

	for (int i = 0; i < nlive; i++)
	{
		int64		hi = m->post_off[live[i] + 1];

		if (hi > m->post_off[live[i]])
		{
			h[n].item = live[i];
			h[n].at = hi - 1;
			h[n].session = m->post[hi - 1];
			n++;
		}
	}
	for (int i = n / 2 - 1; i >= 0; i--)
		SiftDown(h, n, i);
	while (n > 0 && taken < sample)
	{
		uint32		s = h[0].session;

		if (taken == 0 || out[taken - 1] != s)
			out[taken++] = s;
		if (h[0].at > m->post_off[h[0].item])
		{
			h[0].at--;
			h[0].session = m->post[h[0].at];
		}
		else
			h[0] = h[--n];
		SiftDown(h, n, 0);
	}
	pfree(h);
	return taken;
}

/*
 * Values within NEAR (relative) of each other are ties: sums of the same
 * terms in another order differ in their last bits, and a tie must not be
 * decided by that.  Items are sorted by value, then each run of values
 * each near the previous one is put in the tie's order.
 */
#define NEAR 1e-12

static inline bool
Near(double a, double b)
{
	return fabs(a - b) <= NEAR * Max(fabs(a), fabs(b));
}

static int
CompareNeighbourSims(const void *a, const void *b)
{
	const Neighbour *x = a,
			   *y = b;

	if (x->sim != y->sim)
		return x->sim > y->sim ? -1 : 1;
	return x->session > y->session ? -1 : x->session < y->session ? 1 : 0;
}

/* Ties: the more recent session first */
static int
CompareNeighbourRecency(const void *a, const void *b)
{
	const Neighbour *x = a,
			   *y = b;

	return x->session > y->session ? -1 : x->session < y->session ? 1 : 0;
}

static int
CompareItemScores(const void *a, const void *b)
{
	const ItemScore *x = a,
			   *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item ? 1 : 0;
}

/* Ties: the smaller item id first (item indexes are in id order) */
static int
CompareItemIds(const void *a, const void *b)
{
	const ItemScore *x = a,
			   *y = b;

	return x->item < y->item ? -1 : x->item > y->item ? 1 : 0;
}

/* Sort by value, descending, with near values as ties in the order of tie */
#define SORT_WITH_TIES(arr, n, field, byvalue, tie) \
	do { \
		qsort((arr), (n), sizeof(*(arr)), (byvalue)); \
		for (int64 a_ = 0; a_ < (n);) \
		{ \
			int64		b_ = a_ + 1; \
			while (b_ < (n) && Near((arr)[b_ - 1].field, (arr)[b_].field)) \
				b_++; \
			if (b_ - a_ > 1 && (arr)[a_].field != (arr)[b_ - 1].field) \
				qsort((arr) + a_, b_ - a_, sizeof(*(arr)), (tie)); \
			a_ = b_; \
		} \
	} while (0)

/* Add w to item j's score */
static inline void
AddScore(SessionModel *m, int64 *ntouched, uint32 j, double w)
{
	if (m->score[j] == 0)
		m->touched[(*ntouched)++] = j;
	m->score[j] += w;
}

/*
 * The neighbour methods: candidates, their similarity to the live session
 * (c, L clicks; weight[] and pos[] set for its distinct items, ndistinct
 * of them), the k most similar, and their items' scores.
 */
static int64
NeighbourScores(SessionModel *m, const uint32 *c, int L, const uint32 *live, int nlive, int64 at)
{
	uint32	   *cand = palloc(sizeof(uint32) * Min((int64) m->sample_size, m->nsessions));
	int64		ncand = RecentCandidates(m, live, nlive, m->sample_size, cand);
	Neighbour  *nb = palloc(sizeof(Neighbour) * Max(ncand, 1));
	int64		nnb = 0,
				ntouched = 0;
	bool		stan = m->method == SESS_STAN;

	for (int64 k = 0; k < ncand; k++)
	{
		uint32		s = cand[k];
		double		sum = 0;
		uint32		last = 0;

		NextVisit(m);
		for (int64 e = m->off[s]; e < m->off[s + 1]; e++)
		{
			uint32		j = m->click[e];

			if (m->stamp[j] == m->visit)
				continue;
			m->stamp[j] = m->visit;
			if (m->pos[j] > 0)
			{
				sum += m->weight[j];
				last = Max(last, m->pos[j]);
			}
		}
		if (last == 0)
			continue;
		if (stan)
		{
			double		age = Max(0.0, (double) (at - m->time[s]) / USECS_PER_SEC);

			sum = sum / sqrt((double) nlive * (double) m->ndistinct[s]) * exp(-age / m->lambda_recency);
		}
		else
			sum /= L;
		if (!(sum > 0))
			continue;
		nb[nnb].sim = sum;
		nb[nnb].session = s;
		nb[nnb].last = last;
		nnb++;
	}
	SORT_WITH_TIES(nb, nnb, sim, CompareNeighbourSims, CompareNeighbourRecency);
	nnb = Min(nnb, (int64) m->k);
	for (int64 k = 0; k < nnb; k++)
	{
		uint32		s = nb[k].session;

		NextVisit(m);
		if (!stan)
		{
			/* V-SKNN: the neighbour counts less the longer ago the live session shared an item with it */
			double		w = nb[k].sim / (double) (L - (int) nb[k].last + 1);

			for (int64 e = m->off[s]; e < m->off[s + 1]; e++)
				if (m->stamp[m->click[e]] != m->visit)
				{
					m->stamp[m->click[e]] = m->visit;
					AddScore(m, &ntouched, m->click[e], w);
				}
		}
		else
		{
			/* STAN: each item counts less the farther it is from the shared item in the neighbour */
			uint32		shared = c[nb[k].last - 1];
			int64		at_shared = -1;

			for (int64 e = m->off[s]; e < m->off[s + 1] && at_shared < 0; e++)
				if (m->click[e] == shared)
					at_shared = e - m->off[s];
			for (int64 e = m->off[s]; e < m->off[s + 1]; e++)
				if (m->stamp[m->click[e]] != m->visit)
				{
					double		dist = fabs((double) (e - m->off[s] - at_shared));

					m->stamp[m->click[e]] = m->visit;
					AddScore(m, &ntouched, m->click[e], nb[k].sim * exp(-dist / m->lambda_item));
				}
		}
	}
	pfree(cand);
	pfree(nb);
	return ntouched;
}

/* The live session's time for STAN: the option "at", or now */
static int64
QueryTime(const UbaOptions *o)
{
	const char *at = uba_option_text(o, "at");

	if (at == NULL)
		return GetCurrentTransactionStartTimestamp();
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(at),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/*
 * uba_next_items(model, recent_items, n [, options]) returns (item_id,
 * score): the n items most likely clicked next after the live session's
 * clicks (in click order), best first, ties by item id; only items with a
 * score above 0.  Items the model does not know (and NULLs) are left out
 * of the session; with none left, only pop answers.  exclude_seen leaves
 * the session's own items out.
 */
Datum
uba_next_items(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SessionModel *m;
	UbaOptions	o;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems,
				L = 0,
				nlive = 0,
				n;
	uint32	   *c,
			   *live;
	double	   *cw;
	const double *ew;
	int			nweights;
	int64		ntouched = 0;
	Oid			idtype;
	ItemScore  *top;
	int64		ntop = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	m = uba_model_cached(fcinfo, 0, UBA_KIND_SESSION, ParseSession);
	idtype = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	{
		/* the items come back in the type of the list: one that holds the model's ids */
		int			kind = uba_id_kind(idtype, "item ids");
		bool		integer = kind == UBA_ID_INT8 || kind == UBA_ID_INT4 || kind == UBA_ID_INT2;
		bool		model_integer = m->items.kind <= UBA_ID_INT2;

		if (!(kind == UBA_ID_TEXT || (integer && model_integer) || (kind == UBA_ID_UUID && m->items.kind == UBA_ID_UUID)))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the model's item ids are %s, and recent_items is %s[]",
							uba_id_kind_name(m->items.kind), format_type_be(idtype)),
					 errhint("Pass the items in the type they were trained with, or as text (text holds any id).")));
		uba_ids_check_type(&m->items, idtype, "item");
	}
	uba_parse_options(PG_NARGS() > 3 && !PG_ARGISNULL(3) ? PG_GETARG_JSONB_P(3) : NULL,
					  next_options, lengthof(next_options), "uba_next_items", &o);
	n = (int) Min((int64) uba_count_arg(PG_GETARG_INT32(2), "n"), m->nitems);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	uba_read_ids(arr, "recent items", &elems, &nulls, &nelems);

	/* each click's weight (its event type's, say), one per element of recent_items */
	ew = uba_option_given(&o, "weights") ? uba_option_list(&o, &nweights) : NULL;
	if (ew != NULL && nweights != nelems)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"weights\" of uba_next_items has %d numbers, and recent_items %d elements", nweights,
						nelems),
				 errhint("Give one weight per click, in the order of recent_items (for example 1 for a view, 3 for a purchase).")));

	/* the live session: known items in click order, its most recent SESS_MAX_QUERY of them */
	c = palloc(sizeof(uint32) * Max(nelems, 1));
	cw = palloc(sizeof(double) * Max(nelems, 1));
	for (int e = 0; e < nelems; e++)
	{
		int64		i = nulls[e] ? -1 : uba_ids_find(&m->items, elems[e], ARR_ELEMTYPE(arr), "item");

		if (i >= 0)
		{
			cw[L] = ew ? ew[e] : 1.0;
			c[L++] = (uint32) i;
		}
	}
	if (L > SESS_MAX_QUERY)
	{
		memmove(c, c + (L - SESS_MAX_QUERY), sizeof(uint32) * SESS_MAX_QUERY);
		memmove(cw, cw + (L - SESS_MAX_QUERY), sizeof(double) * SESS_MAX_QUERY);
		L = SESS_MAX_QUERY;
	}
	live = palloc(sizeof(uint32) * Max(L, 1));
	for (int p = 0; p < L; p++)
	{
		if (m->pos[c[p]] == 0)
			live[nlive++] = c[p];
		m->pos[c[p]] = (uint32) (p + 1);
	}
	PG_TRY();
	{
		/* a live item weighs its largest click weight (a purchase after a view counts as a purchase) */
		for (int p = 0; p < L && (m->method == SESS_VSKNN || m->method == SESS_STAN); p++)
			m->weight[c[p]] = Max(m->weight[c[p]], cw[p]);
		for (int t = 0; t < nlive && (m->method == SESS_VSKNN || m->method == SESS_STAN); t++)
		{
			uint32		i = live[t];

			if (m->method == SESS_STAN)
				m->weight[i] *= exp(((double) m->pos[i] - L) / m->lambda_position);
			else
				m->weight[i] *= (double) m->pos[i] / L *
					(1 + m->idf_weighting * log((double) m->nsessions / (double) m->df[i]));
		}
		if (L > 0 && (m->method == SESS_VSKNN || m->method == SESS_STAN))
			ntouched = NeighbourScores(m, c, L, live, nlive, m->method == SESS_STAN ? QueryTime(&o) : 0);
		else if (L > 0 && m->method == SESS_GRU4REC)
		{
			/* every item has a probability */
			uba_gru4rec_scores(&m->net, c, L, m->score);
			for (int64 j = 0; j < m->nitems; j++)
				m->touched[ntouched++] = (uint32) j;
		}
		else if (L > 0 && (m->method == SESS_SR || m->method == SESS_MARKOV))
		{
			uint32		a = c[L - 1];

			for (int64 k = m->rule_off[a]; k < m->rule_off[a + 1]; k++)
				AddScore(m, &ntouched, m->rule_to[k], m->rule_w[k]);
		}

		/* the n best: by score, ties by id; the session's own items out with exclude_seen */
		top = palloc(sizeof(ItemScore) * Max(m->method == SESS_POP ? n : ntouched, 1));
		if (m->method == SESS_POP)
		{
			for (int64 r = 0; r < m->nitems && ntop < n; r++)
			{
				uint32		j = m->by_pop[r];

				if (uba_option(&o, "exclude_seen") == 0 || m->pos[j] == 0)
				{
					top[ntop].score = (double) m->df[j] / (double) m->nsessions;
					top[ntop++].item = j;
				}
			}
		}
		else
		{
			for (int64 t = 0; t < ntouched; t++)
			{
				uint32		j = m->touched[t];

				if (m->score[j] > 0 && (uba_option(&o, "exclude_seen") == 0 || m->pos[j] == 0))
				{
					top[ntop].score = m->score[j];
					top[ntop++].item = j;
				}
			}
			SORT_WITH_TIES(top, ntop, score, CompareItemScores, CompareItemIds);
			ntop = Min(ntop, (int64) n);
		}
	}
	PG_FINALLY();
	{
		/* the scratch back to zero for the next query, on error too */
		for (int64 t = 0; t < ntouched; t++)
			m->score[m->touched[t]] = 0;
		for (int t = 0; t < nlive; t++)
		{
			m->pos[live[t]] = 0;
			m->weight[live[t]] = 0;
		}
	}
	PG_END_TRY();

	for (int64 r = 0; r < ntop; r++)
	{
		Datum		values[2];
		bool		rnulls[2] = {false, false};

		values[0] = uba_ids_datum(&m->items, top[r].item, idtype, "item");
		values[1] = Float8GetDatum(top[r].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, rnulls);
	}
	return (Datum) 0;
}
