-- ranking metrics at k, each checked against its definition on hand-worked lists
SET extra_float_digits = 0;

-- recommended 10, 20, 30, 40, 50; relevant {20, 50, 60}: hits at ranks 2 and 5
SELECT round(uba_precision_at_k(r, v, 5)::numeric, 12) AS p5,     -- 2 / 5
       round(uba_recall_at_k(r, v, 5)::numeric, 12) AS r5,        -- 2 / min(5, 3)
       round(uba_ndcg_at_k(r, v, 5)::numeric, 12) AS ndcg5,       -- (1/log2 3 + 1/log2 6) / (1 + 1/log2 3 + 1/2)
       round(((1 / log(2, 3) + 1 / log(2, 6)) / (1 + 1 / log(2, 3) + 0.5))::numeric, 12) AS ndcg5_by_hand,
       round(uba_average_precision_at_k(r, v, 5)::numeric, 12) AS ap5,   -- (1/2 + 2/5) / 3
       uba_hit_rate_at_k(r, v, 5) AS hit5
  FROM (VALUES (ARRAY[10, 20, 30, 40, 50]::bigint[], ARRAY[20, 50, 60]::bigint[])) t(r, v);
-- at k = 1 nothing hits; at k = 2 one hit
SELECT uba_precision_at_k(r, v, 1) AS p1, uba_hit_rate_at_k(r, v, 1) AS hit1, uba_ndcg_at_k(r, v, 1) AS ndcg1,
       uba_precision_at_k(r, v, 2) AS p2, uba_recall_at_k(r, v, 2) AS r2, uba_average_precision_at_k(r, v, 2) AS ap2
  FROM (VALUES (ARRAY[10, 20, 30, 40, 50]::bigint[], ARRAY[20, 50, 60]::bigint[])) t(r, v);
-- a perfect list scores 1 everywhere (recall normalizes by min(k, |relevant|))
SELECT uba_precision_at_k(ARRAY[1, 2, 3]::bigint[], ARRAY[3, 2, 1]::bigint[], 3) AS p,
       uba_recall_at_k(ARRAY[1, 2, 3, 4]::bigint[], ARRAY[1, 2, 3, 4, 5, 6]::bigint[], 4) AS r,
       uba_ndcg_at_k(ARRAY[1, 2]::bigint[], ARRAY[2, 1]::bigint[], 2) AS ndcg,
       uba_average_precision_at_k(ARRAY[5, 6]::bigint[], ARRAY[6, 5, 7]::bigint[], 2) AS ap;
-- k beyond the list: precision still divides by k
SELECT uba_precision_at_k(ARRAY[1]::bigint[], ARRAY[1]::bigint[], 4) AS p4, uba_recall_at_k(ARRAY[1]::bigint[], ARRAY[1]::bigint[], 4) AS r4;
-- a repeated recommendation hits once; NULL elements are places that cannot hit; relevant is a set
SELECT uba_precision_at_k(ARRAY[7, 7, NULL, 8]::bigint[], ARRAY[7, 7, 8, NULL]::bigint[], 4) AS p,
       uba_recall_at_k(ARRAY[7, 7, NULL, 8]::bigint[], ARRAY[7, 7, 8, NULL]::bigint[], 4) AS r;
-- nothing relevant: NULL, so avg() leaves the user out; NULL arguments: NULL
SELECT uba_ndcg_at_k(ARRAY[1, 2]::bigint[], ARRAY[]::bigint[], 2) IS NULL AS empty_relevant,
       uba_recall_at_k(ARRAY[1, 2]::bigint[], ARRAY[NULL]::bigint[], 2) IS NULL AS only_null_relevant,
       uba_precision_at_k(NULL, ARRAY[1]::bigint[], 2) IS NULL AS null_list,
       uba_precision_at_k(ARRAY[]::bigint[], ARRAY[1]::bigint[], 2) AS empty_list;
-- averaged over users with avg()
SELECT round(avg(uba_recall_at_k(r, v, 2))::numeric, 12) AS mean_recall_at_2
  FROM (VALUES (ARRAY[1, 2]::bigint[], ARRAY[2]::bigint[]), (ARRAY[3, 4]::bigint[], ARRAY[5]::bigint[]),
               (ARRAY[6, 7]::bigint[], ARRAY[]::bigint[])) t(r, v);
-- errors
SELECT expect_error($$SELECT uba_ndcg_at_k(ARRAY[1]::bigint[], ARRAY[1]::bigint[], 0)$$);
SELECT expect_error($$SELECT uba_ndcg_at_k(ARRAY[[1, 2]]::bigint[], ARRAY[1]::bigint[], 2)$$);
SELECT expect_error($$SELECT uba_hit_rate_at_k(ARRAY[1]::bigint[], ARRAY[[1], [2]]::bigint[], 2)$$);
-- ids as they are: text and uuid ids, and integer arrays of different widths
SELECT uba_precision_at_k(ARRAY['85123A', '71053', '22752'], ARRAY['22752', '99999'], 3) AS text_precision,
       uba_recall_at_k(ARRAY['85123A', '71053', '22752'], ARRAY['22752', '99999'], 3) AS text_recall,
       uba_hit_rate_at_k(ARRAY[md5('a')::uuid], ARRAY[md5('a')::uuid, md5('b')::uuid], 1) AS uuid_hit,
       uba_ndcg_at_k(ARRAY[1, 2, 3], ARRAY[3::bigint], 3) = uba_ndcg_at_k(ARRAY[1, 2, 3]::bigint[], ARRAY[3]::bigint[], 3) AS int_and_bigint;
SELECT expect_error($$SELECT uba_precision_at_k(ARRAY[1.5], ARRAY[1.5], 1)$$);
