/*-------------------------------------------------------------------------
 *
 * ranking.c
 *	  Ranking metrics for recommendations: precision, recall, NDCG, average
 *	  precision, hit rate and reciprocal rank at k, as scalar functions of one user's
 *	  recommended list and relevant set, to average with avg().
 *
 * Definitions (binary relevance; the top k are the first k elements of
 * the recommended array; an item repeated in it counts at its first place
 * only; a NULL element is a place that cannot hit; NULL elements of the
 * relevant array are ignored, and it is a set):
 *	  hits@k			relevant items among the top k
 *	  precision@k		hits@k / k
 *	  recall@k			hits@k / min(k, |relevant|), so a perfect list scores 1
 *	  NDCG@k			DCG / IDCG, DCG = sum over hit ranks r of 1 / log2(r + 1),
 *						IDCG = the same for hits at ranks 1 .. min(k, |relevant|)
 *	  AP@k				sum over hit ranks r of precision@r, / min(k, |relevant|)
 *	  hit rate@k		1 if hits@k > 0, else 0
 *	  MRR@k				1 / the rank of the first hit in the top k, 0 without one
 *						(averaged over next-item queries: mean reciprocal rank)
 * An empty relevant set gives NULL (the user has nothing to find, so
 * avg() leaves them out).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(uba_precision_at_k);
PG_FUNCTION_INFO_V1(uba_recall_at_k);
PG_FUNCTION_INFO_V1(uba_ndcg_at_k);
PG_FUNCTION_INFO_V1(uba_average_precision_at_k);
PG_FUNCTION_INFO_V1(uba_hit_rate_at_k);
PG_FUNCTION_INFO_V1(uba_mrr_at_k);

typedef enum RankingMetric
{
	RANK_PRECISION,
	RANK_RECALL,
	RANK_NDCG,
	RANK_AP,
	RANK_HIT_RATE,
	RANK_MRR
} RankingMetric;

static Datum
RankingMetricAt(FunctionCallInfo fcinfo, RankingMetric metric)
{
	ArrayType  *rec = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *relv = PG_GETARG_ARRAYTYPE_P(1);
	int32		k = PG_GETARG_INT32(2);
	Datum	   *re,
			   *ve;
	bool	   *rn,
			   *vn;
	int			nrec,
				nrel,
				nset = 0,
				top,
				hits = 0,
				first_hit = 0,
				ideal;
	int64	   *relevant;
	bool	   *found;
	UbaIdDict	keys;
	double		dcg = 0,
				ap = 0,
				idcg = 0;

	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be at least 1"),
				 errdetail("Got %d.", k)));
	uba_read_ids(rec, "recommended", &re, &rn, &nrec);
	uba_read_ids(relv, "relevant", &ve, &vn, &nrel);
	if (ARR_ELEMTYPE(rec) != ARR_ELEMTYPE(relv))
		elog(ERROR, "uba: ranking metric of arrays of different types");
	/* ids of any supported type become integers: their values, or handles of text and uuid keys */
	uba_id_dict_init(&keys, CurrentMemoryContext, uba_id_kind(ARR_ELEMTYPE(rec), "ids"));

	/* the relevant set, sorted and without duplicates */
	relevant = palloc(sizeof(int64) * Max(nrel, 1));
	for (int i = 0; i < nrel; i++)
		if (!vn[i])
			relevant[nset++] = uba_id_handle(&keys, ve[i], ARR_ELEMTYPE(relv));
	qsort(relevant, nset, sizeof(int64), uba_cmp_int64);
	{
		int			u = 0;

		for (int i = 0; i < nset; i++)
			if (u == 0 || relevant[i] != relevant[u - 1])
				relevant[u++] = relevant[i];
		nset = u;
	}
	if (nset == 0)
	{
		uba_id_dict_free(&keys);
		PG_RETURN_NULL();
	}

	found = palloc0(sizeof(bool) * nset);
	top = Min(k, nrec);
	for (int r = 0; r < top; r++)
	{
		int64		id;
		int64	   *at;

		if (rn[r])
			continue;
		id = uba_id_handle(&keys, re[r], ARR_ELEMTYPE(rec));
		at = bsearch(&id, relevant, nset, sizeof(int64), uba_cmp_int64);
		if (at == NULL)
			continue;
		if (found[at - relevant])
			continue;			/* a repeated item hits once */
		found[at - relevant] = true;
		if (hits++ == 0)
			first_hit = r + 1;
		dcg += 1.0 / log2(r + 2.0);
		ap += (double) hits / (r + 1);
	}
	uba_id_dict_free(&keys);
	ideal = Min(k, nset);
	for (int r = 0; r < ideal; r++)
		idcg += 1.0 / log2(r + 2.0);

	switch (metric)
	{
		case RANK_PRECISION:
			PG_RETURN_FLOAT8((double) hits / k);
		case RANK_RECALL:
			PG_RETURN_FLOAT8((double) hits / ideal);
		case RANK_NDCG:
			PG_RETURN_FLOAT8(dcg / idcg);
		case RANK_AP:
			PG_RETURN_FLOAT8(ap / ideal);
		case RANK_HIT_RATE:
			PG_RETURN_FLOAT8(hits > 0 ? 1.0 : 0.0);
		case RANK_MRR:
			PG_RETURN_FLOAT8(hits > 0 ? 1.0 / first_hit : 0.0);
	}
	PG_RETURN_NULL();			/* not reached */
}

Datum
uba_precision_at_k(PG_FUNCTION_ARGS)
{
	return RankingMetricAt(fcinfo, RANK_PRECISION);
}

Datum
uba_recall_at_k(PG_FUNCTION_ARGS)
{
	return RankingMetricAt(fcinfo, RANK_RECALL);
}

Datum
uba_ndcg_at_k(PG_FUNCTION_ARGS)
{
	return RankingMetricAt(fcinfo, RANK_NDCG);
}

Datum
uba_average_precision_at_k(PG_FUNCTION_ARGS)
{
	return RankingMetricAt(fcinfo, RANK_AP);
}

Datum
uba_hit_rate_at_k(PG_FUNCTION_ARGS)
{
	return RankingMetricAt(fcinfo, RANK_HIT_RATE);
}

/* 1 / the rank of the first relevant item among the first k, 0 when none is (next-item MRR@k) */
Datum
uba_mrr_at_k(PG_FUNCTION_ARGS)
{
	return RankingMetricAt(fcinfo, RANK_MRR);
}
