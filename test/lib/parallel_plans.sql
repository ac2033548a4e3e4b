-- Force parallel plans for the rest of the test's transaction (every setting is SET LOCAL and
-- the ALTERs roll back with it), and define pg_temp.plan_of(query), the EXPLAIN text of a query.
-- The planner keeps row-collecting aggregates out of parallel plans (a high COST on their state
-- serialization, see doc/concepts.md); it is lowered here so the parallel path is tested.
ALTER FUNCTION uba_rowset_serialize(internal) COST 1;
ALTER FUNCTION uba_rowset_deserialize(bytea, internal) COST 1;
ALTER FUNCTION uba_events_serialize(internal) COST 1;
ALTER FUNCTION uba_events_deserialize(bytea, internal) COST 1;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
\i test/lib/plan_of.sql
