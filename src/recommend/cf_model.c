/*-------------------------------------------------------------------------
 *
 * cf_model.c
 *	  Reading a recommender model: the payload, validated in full before
 *	  use, and its summary for uba_model_info.
 *
 * Payload: users, items, factors or neighbours (u32 each), method (u32: 0
 * als, 1 item_knn, 2 ease), flags (u32: 1 explicit feedback), iterations
 * (u32), regularization, alpha, loss (f64), user ids and item ids
 * (strictly increasing; i64 for integer ids, other kinds as ids.c writes
 * them, the kinds in bits 8-11 and 12-15 of the flags), item popularity (u32: distinct users), seen-item
 * offsets (u64, users + 1), seen items (u32 item indexes, increasing per
 * user) and their confidences c - 1 = alpha w, or ratings (f32); then for
 * als the user and item factors (f32, row-major), for item_knn and ease
 * the offsets of each item's list (u64, items + 1), the related items
 * (u32) and their weights (f32), largest first.
 *
 *-------------------------------------------------------------------------
 */
#include "cf.h"
#include "kinds.h"

#include <math.h>
#include "miscadmin.h"
#include "utils/memutils.h"

/* Order of item indexes by popularity (descending), then id */
static int
ComparePopularity(const void *a, const void *b, void *arg)
{
	const CfModel *m = (const CfModel *) arg;
	uint32		i = *(const uint32 *) a;
	uint32		j = *(const uint32 *) b;

	if (m->popularity[i] != m->popularity[j])
		return m->popularity[i] > m->popularity[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Read the fixed part of the payload, checking counts before anything is allocated */
static void
ReadCfHeader(const UbaModelMeta *meta, UbaReader *r, CfModel *m, int *ukind, int *ikind)
{
	uint32		method,
				flags;

	m->nusers = uba_get_u32(r);
	m->nitems = uba_get_u32(r);
	m->f = (int) uba_get_u32(r);
	method = uba_get_u32(r);
	flags = uba_get_u32(r);
	m->iterations = (int) uba_get_u32(r);
	m->reg = uba_get_finite_f64(r);
	m->alpha = uba_get_finite_f64(r);
	m->loss = uba_get_finite_f64(r);	/* printed by uba_model_info: NaN is not JSON */
	if (m->nusers < 1 || m->nitems < 1)
		uba_model_corrupted("The model has no users or no items.");
	if (method != CF_METHOD_ALS && method != CF_METHOD_ITEM_KNN && method != CF_METHOD_EASE)
		uba_model_corrupted("Unknown method %u.", method);
	m->method = (int) method;
	*ukind = (int) ((flags >> CF_USER_KIND_SHIFT) & CF_KIND_MASK);
	*ikind = (int) ((flags >> CF_ITEM_KIND_SHIFT) & CF_KIND_MASK);
	flags &= ~((CF_KIND_MASK << CF_USER_KIND_SHIFT) | (CF_KIND_MASK << CF_ITEM_KIND_SHIFT));
	if ((flags & ~CF_FLAG_EXPLICIT) != 0 || ((flags & CF_FLAG_EXPLICIT) && method != CF_METHOD_ALS) ||
		*ukind > UBA_ID_UUID || *ikind > UBA_ID_UUID)
		uba_model_corrupted("Unknown flags %u.", flags);
	m->explicit = (flags & CF_FLAG_EXPLICIT) != 0;
	if (m->f < 1 || m->f > (method == CF_METHOD_ALS ? CF_MAX_FACTORS : CF_MAX_NEIGHBORS) ||
		m->f != meta->n_features)
		uba_model_corrupted("Invalid number of factors or neighbours %d.", m->f);
	if (m->reg < 0 || m->alpha < 0 || m->loss < 0)
		uba_model_corrupted("Negative regularization, alpha or loss.");
	m->fs = CF_PAD(m->f);
	/* ids, popularity, offsets and factors must fit in what is left */
	uba_reader_check_space(r, (Size) m->nusers + m->nitems, 8);
}

/* Parse and fully validate a CF payload */
void *
uba_cf_parse(const UbaModelMeta *meta, UbaReader *r)
{
	CfModel    *m = palloc0(sizeof(CfModel));
	int64		nseen;
	int			ukind,
				ikind;

	ReadCfHeader(meta, r, m, &ukind, &ikind);
	uba_get_ids(r, ukind, m->nusers, &m->users, "user");
	uba_get_ids(r, ikind, m->nitems, &m->items, "item");
	uba_reader_check_space(r, (Size) m->nitems, 4);
	m->popularity = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	uba_get_u32_array(r, m->popularity, m->nitems);
	uba_reader_check_space(r, (Size) m->nusers + 1, 8);
	m->seen_off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nusers + 1));
	for (int64 u = 0; u <= m->nusers; u++)
	{
		uint64		v = uba_get_u64(r);

		if (v > (uint64) PG_INT64_MAX || (u == 0 && v != 0) || (u > 0 && (int64) v < m->seen_off[u - 1]))
			uba_model_corrupted("The seen-item offsets are not increasing from 0.");
		m->seen_off[u] = (int64) v;
	}
	nseen = m->seen_off[m->nusers];
	uba_reader_check_space(r, (Size) nseen, 4);
	m->seen = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(nseen, 1));
	uba_get_u32_array(r, m->seen, nseen);
	for (int64 u = 0; u < m->nusers; u++)
		for (int64 k = m->seen_off[u]; k < m->seen_off[u + 1]; k++)
			if (m->seen[k] >= m->nitems || (k > m->seen_off[u] && m->seen[k] <= m->seen[k - 1]))
				uba_model_corrupted("A user's seen items are out of range or not increasing.");
	for (int64 i = 0; i < m->nitems; i++)
		if (m->popularity[i] > m->nusers)
			uba_model_corrupted("An item's popularity exceeds the number of users.");
	uba_reader_check_space(r, (Size) nseen, 4);
	m->seen_conf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(nseen, 1));
	uba_get_f32_array(r, m->seen_conf, nseen, true);
	for (int64 k = 0; k < nseen; k++)
		if (m->seen_conf[k] < 0)
			uba_model_corrupted("A negative confidence.");

	if (m->method == CF_METHOD_ALS)
	{
		uba_reader_check_space(r, (Size) (m->nusers + m->nitems), (Size) m->f * sizeof(float));
		m->X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * m->nusers * m->fs);
		m->Y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * m->nitems * m->fs);
		memset(m->X, 0, sizeof(float) * m->nusers * m->fs);
		memset(m->Y, 0, sizeof(float) * m->nitems * m->fs);
		for (int64 u = 0; u < m->nusers; u++)
			uba_get_f32_array(r, m->X + (Size) u * m->fs, m->f, true);
		for (int64 i = 0; i < m->nitems; i++)
			uba_get_f32_array(r, m->Y + (Size) i * m->fs, m->f, true);
	}
	else
	{
		int64		nn;

		uba_reader_check_space(r, (Size) m->nitems + 1, 8);
		m->nbr_off = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (m->nitems + 1));
		for (int64 i = 0; i <= m->nitems; i++)
		{
			uint64		v = uba_get_u64(r);

			if (v > (uint64) PG_INT64_MAX || (i == 0 && v != 0) ||
				(i > 0 && ((int64) v < m->nbr_off[i - 1] || (int64) v - m->nbr_off[i - 1] > m->f)))
				uba_model_corrupted("The neighbour offsets are not increasing from 0 by at most %d.", m->f);
			m->nbr_off[i] = (int64) v;
		}
		nn = m->nbr_off[m->nitems];
		uba_reader_check_space(r, (Size) nn, 8);
		m->nbr = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(nn, 1));
		m->nbr_sim = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(nn, 1));
		uba_get_u32_array(r, m->nbr, nn);
		uba_get_f32_array(r, m->nbr_sim, nn, true);
		for (int64 i = 0; i < m->nitems; i++)
			for (int64 k = m->nbr_off[i]; k < m->nbr_off[i + 1]; k++)
				if (m->nbr[k] >= m->nitems || m->nbr[k] == i ||
					(m->method == CF_METHOD_ITEM_KNN && !(m->nbr_sim[k] >= 0 && m->nbr_sim[k] <= 1.0001f)))
					uba_model_corrupted("A neighbour is out of range, the item itself, or has a similarity outside [0, 1].");
	}
	uba_reader_finish(r);

	m->cxt = CurrentMemoryContext;
	m->by_popularity = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * m->nitems);
	for (int64 i = 0; i < m->nitems; i++)
		m->by_popularity[i] = (uint32) i;
	qsort_arg(m->by_popularity, m->nitems, sizeof(uint32), ComparePopularity, m);
	return m;
}

/* uba_model_info fields of a CF model (validated in full) */
void
uba_cf_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	CfModel    *m = uba_cf_parse(meta, payload);

	appendStringInfo(json, ", \"method\": \"%s\", \"users\": " INT64_FORMAT ", \"items\": " INT64_FORMAT
					 ", \"interactions\": " INT64_FORMAT ", \"user_id_type\": \"%s\", \"item_id_type\": \"%s\"",
					 uba_cf_methods[m->method], m->nusers, m->nitems, m->seen_off[m->nusers],
					 uba_id_kind_name(m->users.kind), uba_id_kind_name(m->items.kind));
	if (m->method == CF_METHOD_ALS)
		appendStringInfo(json, ", \"feedback\": \"%s\", \"factors\": %d, \"iterations\": %d"
						 ", \"regularization\": %.17g, \"alpha\": %.17g, \"loss\": %.17g",
						 m->explicit ? "explicit" : "implicit", m->f, m->iterations, m->reg,
						 m->alpha, m->loss);
	else if (m->method == CF_METHOD_ITEM_KNN)
		appendStringInfo(json, ", \"neighbors\": %d, \"similarities\": " INT64_FORMAT,
						 m->f, m->nbr_off[m->nitems]);
	else
		appendStringInfo(json, ", \"neighbors\": %d, \"weights\": " INT64_FORMAT ", \"regularization\": %.17g",
						 m->f, m->nbr_off[m->nitems], m->reg);
}

