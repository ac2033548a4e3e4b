-- The privacy budget (src/privacy/budget.c, release.c): charges that hold under rollback, are
-- made to the session user, once per grouped query and again per rescan; an analyst with DP
-- access only (EXECUTE on the data owner's SECURITY DEFINER function, no SELECT on the raw
-- table) cannot read the data, the other budgets or the ledger, nor grant or change budget.
-- Values are noisy, so the suite shows only what does not depend on the noise.
CREATE ROLE regress_uba_dp_owner;
CREATE ROLE regress_uba_dp_analyst;
GRANT CREATE ON SCHEMA public TO regress_uba_dp_owner;
SET ROLE regress_uba_dp_owner;
CREATE TABLE dp_orders AS
SELECT c AS customer_id, (c % 5)::text AS country, (c % 50)::float8 AS amount
  FROM generate_series(1, 2000) c, generate_series(1, 3) r;
-- what the owner publishes: a fixed DP query, run with the owner's rights, charged to the caller
CREATE FUNCTION dp_customers(eps float8) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT uba_dp_count_distinct(customer_id, eps, jsonb_build_object('dataset', 'shop')) FROM dp_orders $$;
REVOKE ALL ON FUNCTION dp_customers(float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dp_customers(float8) TO regress_uba_dp_analyst;
RESET ROLE;

-- no budget yet: nothing is released
SET SESSION AUTHORIZATION regress_uba_dp_analyst;
\set VERBOSITY terse
SELECT dp_customers(0.4);
RESET SESSION AUTHORIZATION;
SELECT * FROM uba_dp_grant('shop', 'regress_uba_dp_analyst', 1.0);

SET SESSION AUTHORIZATION regress_uba_dp_analyst;
SELECT abs(dp_customers(0.4) - 2000) < 100 AS released;
SELECT dataset, epsilon, epsilon_spent, epsilon_left FROM uba_dp_my_budget;
-- a rolled-back transaction still paid for what it saw
BEGIN;
SELECT abs(dp_customers(0.4) - 2000) < 100 AS released;
ROLLBACK;
SELECT dataset, epsilon, epsilon_spent, round(epsilon_left::numeric, 9) AS epsilon_left FROM uba_dp_my_budget;
-- 0.2 left: the next 0.4 is refused, with the budget's own SQLSTATE, and charges nothing
\set VERBOSITY sqlstate
SELECT dp_customers(0.4);
\set VERBOSITY terse
SELECT dp_customers(0.4);
SELECT round(epsilon_spent::numeric, 9) AS epsilon_spent FROM uba_dp_my_budget;
-- what the analyst cannot do
SELECT count(*) FROM dp_orders;
SELECT uba_dp_count(customer_id, 1.0) FROM dp_orders;
SELECT * FROM uba_dp_grant('shop', 'regress_uba_dp_analyst', 100);
UPDATE uba_dp_budget SET epsilon_spent = 0;
INSERT INTO uba_dp_budget (dataset, role, epsilon) VALUES ('shop2', 'regress_uba_dp_analyst', 100);
SELECT count(*) FROM uba_dp_budget;
SELECT count(*) FROM uba_dp_ledger;
-- the function's owner has budget, but the caller pays: still refused
RESET SESSION AUTHORIZATION;
SELECT * FROM uba_dp_grant('shop', 'regress_uba_dp_owner', 1.0);
SET SESSION AUTHORIZATION regress_uba_dp_analyst;
SELECT dp_customers(0.4);
RESET SESSION AUTHORIZATION;
\set VERBOSITY default

-- the ledger: every charge, to the session user, even through the owner's function
SELECT dataset, role, epsilon, delta, query FROM uba_dp_ledger ORDER BY charged_at;

-- a grouped release is charged once for all its groups (epsilon and delta)...
SELECT * FROM uba_dp_grant('shop', current_user::regrole, 10, 1e-5);
SELECT count(*) AS groups, count(n) AS released
  FROM (SELECT country, uba_dp_count(customer_id, 0.5, '{"dataset": "shop", "delta": 1e-6}') AS n
          FROM dp_orders GROUP BY country) g;
-- ... two aggregates are two releases; a subquery rerun for each outer row is charged each time
SELECT uba_dp_count(customer_id, 0.25, '{"dataset": "shop"}') > 0 AS a,
       uba_dp_sum(customer_id, amount, 0, 50, 0.25, '{"dataset": "shop"}') > 0 AS b FROM dp_orders;
SELECT g, (SELECT uba_dp_count(customer_id, 0.125, '{"dataset": "shop"}') FROM dp_orders WHERE country = g::text) > 0 AS released
  FROM generate_series(0, 2) g;
SELECT epsilon, delta, count(*) FROM uba_dp_ledger WHERE role = current_user::regrole GROUP BY 1, 2 ORDER BY 1, 2;
SELECT epsilon_spent, delta_spent FROM uba_dp_budget WHERE role = current_user::regrole;
-- over no rows nothing is released, nor charged
SELECT uba_dp_count(customer_id, 1, '{"dataset": "shop"}') FROM dp_orders WHERE false;
SELECT count(*) FROM uba_dp_ledger WHERE role = current_user::regrole;

-- grant checks
SELECT * FROM uba_dp_grant('shop', current_user::regrole, -1);
SELECT * FROM uba_dp_grant('shop', current_user::regrole, 1, 1);
SELECT * FROM uba_dp_grant(NULL, current_user::regrole, 1);
SELECT * FROM uba_dp_grant('', current_user::regrole, 1);

DROP FUNCTION dp_customers(float8);
DROP TABLE dp_orders;
DELETE FROM uba_dp_budget;
DELETE FROM uba_dp_ledger;
REVOKE CREATE ON SCHEMA public FROM regress_uba_dp_owner;
DROP ROLE regress_uba_dp_owner;
DROP ROLE regress_uba_dp_analyst;
