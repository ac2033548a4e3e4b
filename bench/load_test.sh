#!/bin/sh
# Load: many pgbench clients call uba_recommend, a scoring view and metric aggregates while one
# more client retrains and saves the recommender in a loop.  Reports errors (there must be none),
# transactions per second, latency percentiles per script, and the private memory of every
# long-lived backend early in the run and at its end (it must not grow).
#
#   bench/load_test.sh [seconds] [clients]      (defaults 60 and 8; PG* variables pick the server)
#
# Needs a database where it may create tables (PGDATABASE, default: uba_load, created if missing).
set -eu
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-60}
CLIENTS=${2:-8}
export PGDATABASE=${PGDATABASE:-uba_load}
psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE'" | grep -q 1 || createdb "$PGDATABASE"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "setting up in database $PGDATABASE"
psql -X -q -v ON_ERROR_STOP=1 <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS uba;
DROP VIEW IF EXISTS load_scores;
DROP TABLE IF EXISTS load_events, load_customers;
-- 3,000 users, 1,500 items, 150,000 events with popular items; 20,000 customers with features
CREATE TABLE load_events AS
SELECT (g * 7919) % 3000 + 1 AS user_id, ((g % 97) * (g % 31) + g % 13) % 1500 + 1 AS item_id, 1.0::float8 AS weight
  FROM generate_series(1, 150000) g;
CREATE TABLE load_customers AS
SELECT g AS id, ARRAY[(g % 97)::float8, (g % 13)::float8, (g % 7)::float8] AS f, g % 5 = 0 AS churned,
       ((g * 37) % 1000)::float8 / 1000 AS score
  FROM generate_series(1, 20000) g;
CREATE INDEX ON load_customers (id);
ANALYZE load_events;
ANALYZE load_customers;
SELECT uba_model_train('load_recommender', 'SELECT uba_cf_train(user_id, item_id, weight, ''{"factors": 32, "iterations": 5}'') FROM load_events');
SELECT uba_model_train('load_churn', 'SELECT uba_logreg_train(churned, f) FROM load_customers');
SELECT uba_model_train('load_segments', 'SELECT uba_kmeans(f, 5, ''{"seed": 1}'') FROM load_customers');
CREATE VIEW load_scores AS
SELECT c.id, uba_logreg_predict((SELECT uba_model('load_churn')), c.f) AS churn_probability,
       uba_kmeans_assign((SELECT uba_model('load_segments')), c.f) AS segment
  FROM load_customers c;
EOF

cat > "$tmp/recommend.sql" <<'EOF'
\set u random(1, 3000)
SELECT * FROM uba_recommend(:u, 10, 'load_recommender');
EOF
cat > "$tmp/score.sql" <<'EOF'
\set a random(1, 19900)
SELECT count(*), avg(churn_probability), max(segment) FROM load_scores WHERE id BETWEEN :a AND :a + 99;
EOF
cat > "$tmp/metrics.sql" <<'EOF'
\set a random(1, 15000)
SELECT uba_auc(score, churned), uba_f1_score(score >= 0.5, churned) FROM load_customers WHERE id BETWEEN :a AND :a + 4999;
EOF
cat > "$tmp/retrain.sql" <<'EOF'
SELECT uba_model_retrain('load_recommender');
EOF

# private memory of the serving backends (RssAnon in /proc: what a leak would grow; RSS also
# counts the shared buffers a backend has touched) early in the run and at its end
rss() {
	psql -X -tA -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'uba_load' AND pid <> pg_backend_pid()" |
	while read -r pid; do
		[ -r /proc/$pid/status ] && echo "$pid $(awk '/RssAnon/ {print $2}' /proc/$pid/status)"
	done
}

echo "running $CLIENTS clients for $SECONDS_RUN s, and one client retraining in a loop"
PGAPPNAME=uba_load pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_RUN" -l --log-prefix="$tmp/serve" \
	-f "$tmp/recommend.sql@6" -f "$tmp/score.sql@3" -f "$tmp/metrics.sql@1" > "$tmp/serve.out" 2>&1 &
serve=$!
PGAPPNAME=uba_retrain pgbench -n -c 1 -T "$SECONDS_RUN" -f "$tmp/retrain.sql" > "$tmp/retrain.out" 2>&1 &
retrain=$!
sleep 10
rss > "$tmp/rss_start"
sleep $((SECONDS_RUN - 12))
rss > "$tmp/rss_end"
wait $serve || true
wait $retrain || true

cat "$tmp/serve.out" | grep -E "transactions|failed|aborted|tps|latency|SQL script|weight" || true
echo "--- retraining client"
grep -E "number of transactions actually processed|failed|aborted|latency average" "$tmp/retrain.out" || true
versions=$(psql -X -tA -c "SELECT count(*) FROM uba_models WHERE name = 'load_recommender'")
echo "recommender versions saved during the run: $((versions - 1))"

/usr/bin/python3 - "$tmp" <<'EOF'
import glob, os, sys
tmp = sys.argv[1]
# pgbench -l: client_id transaction_no time script_no time_epoch time_us [schedule_lag]
names = {0: "uba_recommend", 1: "scoring view (100 rows)", 2: "uba_auc + uba_f1_score (5,000 rows)"}
lat = {}
for f in glob.glob(os.path.join(tmp, "serve*")):
    if f.endswith(".out"):
        continue
    for line in open(f):
        p = line.split()
        lat.setdefault(int(p[3]), []).append(int(p[2]) / 1000.0)
print("\n| script | calls | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|---:|---:|")
for s in sorted(lat):
    v = sorted(lat[s])
    q = lambda x: v[min(len(v) - 1, int(x * len(v)))]
    print(f"| {names.get(s, s)} | {len(v):,} | {q(0.5):.2f} | {q(0.9):.2f} | {q(0.99):.2f} | {v[-1]:.2f} |")
start = dict(l.split() for l in open(os.path.join(tmp, "rss_start")) if l.strip())
end = dict(l.split() for l in open(os.path.join(tmp, "rss_end")) if l.strip())
common = sorted(set(start) & set(end))
growth = [int(end[p]) - int(start[p]) for p in common]
if common:
    print(f"\nserving backends: {len(common)}; private memory (RssAnon) at 10 s {min(int(start[p]) for p in common) / 1024:.0f}-"
          f"{max(int(start[p]) for p in common) / 1024:.0f} MB, at the end {min(int(end[p]) for p in common) / 1024:.0f}-"
          f"{max(int(end[p]) for p in common) / 1024:.0f} MB; largest growth {max(growth) / 1024:.1f} MB")
EOF
if grep -qE "aborted|number of failed transactions: [1-9]" "$tmp/serve.out" "$tmp/retrain.out"; then
	echo "ERRORS during the load run" >&2
	cat "$tmp/serve.out" "$tmp/retrain.out" | grep -iE "error|abort" | head -20 >&2
	exit 1
fi
echo "no errors"
