#!/usr/bin/python3
"""Reference figures for uba_mlp_train (multilayer perceptron) from scikit-learn 1.2.

Data (all committed under test/data except the last; licences in test/data/README.md):
  breast_cancer  test/data/breast_cancer.csv, 569 rows: binary, label benign, the 30 features
                 f1..f30 as a float8[].
  shoppers       test/data/shoppers_scores.csv, 12,330 sessions: binary, label revenue; features
                 weekend (0/1), product_related, product_related_duration, page_values,
                 exit_rates standardized, month (10 levels) and visitor_type (3) one-hot.  uba
                 takes the typed row (month, visitor_type, weekend, product_related,
                 product_related_duration, page_values, exit_rates).  doc/typed_rows.md: under
                 "standardize" uba standardizes the numeric columns (a boolean is the number
                 0/1) and leaves the one-hot indicators 0 or 1, so scikit-learn gets a
                 ColumnTransformer of a StandardScaler on the five numbers (weekend included)
                 and a OneHotEncoder on the two text columns (indicators not scaled).
  diabetes       test/data/diabetes.csv, written here from scikit-learn's bundled data
                 (load_diabetes(scaled=False): the raw values, not the mean-centred, scaled
                 ones), 442 rows: regression, target `target`, the 10 features as a float8[].
  wine           test/data/wine.csv, written here from load_wine, 178 rows: three classes,
                 label class ('class_0', 'class_1', 'class_2', text), 13 features as a float8[].
  timing         (not a fixture) the full Online Shoppers data from ../shared/data, 17 columns
                 (10 numeric, Month and VisitorType as text, OperatingSystems, Browser, Region,
                 TrafficType as integer codes, Weekend boolean), label Revenue.

Split everywhere: the row's 1-based position in its file, held out when position % 5 = 0
(breast_cancer 113 held out, shoppers 2,466, diabetes 88, wine 35).

Configurations (scikit-learn names, the same as uba's options):
  A  hidden_layer_sizes [100], relu, alpha 1e-4, adam, learning_rate_init 1e-3, batch_size 200,
     max_iter 200, tol 1e-4, n_iter_no_change 10, early_stopping false
  B  hidden_layer_sizes [64, 32], tanh, alpha 1e-3, early_stopping true, validation_fraction 0.1,
     otherwise as A
scikit-learn fits MLPClassifier / MLPRegressor for random_state 0..4 behind a StandardScaler
fitted on the training rows (uba's "standardize": true, population standard deviation); for
diabetes inside TransformedTargetRegressor(transformer=StandardScaler()), uba's default
"standardize_target": true.  The plain-target regressor is printed too, not written.
ConvergenceWarning is silenced (config A stops at max_iter on some sets, as uba may).

Held-out metrics: roc_auc_score of P(true) (binary), r2_score (regression), accuracy_score and
log_loss of the class probabilities (wine).

--fixtures writes
  test/data/diabetes.csv       id,age,sex,bmi,bp,s1..s6,target (repr of the float64 values)
  test/data/wine.csv           id, 13 features, class
  test/data/mlp_reference.csv  one row per (dataset, config, metric): dataset, config, task
                               (binary, regression, multiclass), metric (auc, r2, accuracy,
                               log_loss: wine has two rows per config), options (uba's JSON,
                               seed left out), seeds, sklearn_mean, sklearn_min, sklearn_max
                               over the seeds, sklearn_epochs_mean (mean n_iter_).
Default mode (--dsn) also trains uba in SQL, for --seeds seeds (uba's "seed"; its draws are not
scikit-learn's, so only the spread is comparable), on temp tables loaded with COPY, computes
the held-out metric in SQL (uba_auc, uba_r2; accuracy and log loss by hand from
uba_predict_class and uba_predict_proba) and prints uba mean [min, max] beside scikit-learn's.
Then the timing: config A on the full Online Shoppers data (80 % of rows), the median of
--repeat runs of uba_mlp_train(revenue, row) end to end in SQL (uba.threads = 1, no parallel
workers) against MLPClassifier.fit on the already encoded matrix (one BLAS thread), the epochs
each ran, the ratio, and both held-out AUCs.

    /usr/bin/python3 bench/mlp_reference.py --fixtures
    /usr/bin/python3 bench/mlp_reference.py [--dsn DSN] [--seeds 5] [--repeat 3]
"""
import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse
import csv
import io
import json
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, r2_score, roc_auc_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import connect  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")
FULL_SHOPPERS = os.path.join(ROOT, "..", "shared", "data", "online-shoppers-intention",
                             "online_shoppers_intention.csv")
SEEDS = range(5)

CONFIGS = {
    "A": {"hidden_layer_sizes": [100], "activation": "relu", "alpha": 1e-4, "learning_rate_init": 1e-3,
          "batch_size": 200, "max_iter": 200, "tol": 1e-4, "n_iter_no_change": 10, "early_stopping": False},
    "B": {"hidden_layer_sizes": [64, 32], "activation": "tanh", "alpha": 1e-3, "learning_rate_init": 1e-3,
          "batch_size": 200, "max_iter": 200, "tol": 1e-4, "n_iter_no_change": 10, "early_stopping": True,
          "validation_fraction": 0.1},
}

BC_FEATURES = [f"f{j}" for j in range(1, 31)]
SHOP_NUMBERS = ["weekend", "product_related", "product_related_duration", "page_values", "exit_rates"]
SHOP_TEXT = ["month", "visitor_type"]
SHOP_ROW = ["month", "visitor_type", "weekend", "product_related", "product_related_duration",
            "page_values", "exit_rates"]          # the typed row uba is given, in this order
DIABETES_FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
WINE_FEATURES = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
                 "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
                 "od280_od315", "proline"]        # scikit-learn's names, od280/od315_of_diluted_wines shortened

FULL_NUMERIC = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
                "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues",
                "SpecialDay"]
FULL_TEXT = ["Month", "VisitorType"]
FULL_CODES = ["OperatingSystems", "Browser", "Region", "TrafficType"]


# ---------------------------------------------------------------- data

def held_out(n):
    """True for the rows held out: 1-based position % 5 == 0"""
    return (np.arange(1, n + 1) % 5) == 0


def read_csv(name):
    with open(os.path.join(DATA, name), newline="") as f:
        return list(csv.DictReader(f))


def write_diabetes_wine():
    """test/data/diabetes.csv and wine.csv from scikit-learn's bundled copies"""
    d = load_diabetes(scaled=False)
    assert list(d.feature_names) == DIABETES_FEATURES, d.feature_names
    with open(os.path.join(DATA, "diabetes.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id"] + DIABETES_FEATURES + ["target"])
        for i, (x, t) in enumerate(zip(d.data.tolist(), d.target.tolist()), 1):
            w.writerow([i] + [repr(float(v)) for v in x] + [repr(float(t))])
    wd = load_wine()
    assert len(wd.feature_names) == len(WINE_FEATURES)
    with open(os.path.join(DATA, "wine.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id"] + WINE_FEATURES + ["class"])
        for i, (x, c) in enumerate(zip(wd.data.tolist(), wd.target.tolist()), 1):
            w.writerow([i] + [repr(float(v)) for v in x] + [f"class_{c}"])
    return d.data.shape, wd.data.shape


def dataset(name):
    """(task, X, y) of a committed data set in file order; X is a float matrix, or for shoppers
    an object matrix: the five numbers then the two text columns"""
    if name == "breast_cancer":
        rows = read_csv("breast_cancer.csv")
        return "binary", np.array([[float(r[c]) for c in BC_FEATURES] for r in rows]), \
            np.array([r["benign"] == "true" for r in rows])
    if name == "shoppers":
        rows = read_csv("shoppers_scores.csv")
        X = np.array([[1.0 if r["weekend"] == "true" else 0.0] + [float(r[c]) for c in SHOP_NUMBERS[1:]]
                      + [r[c] for c in SHOP_TEXT] for r in rows], dtype=object)
        return "binary", X, np.array([r["revenue"] == "true" for r in rows])
    if name == "diabetes":
        rows = read_csv("diabetes.csv")
        return "regression", np.array([[float(r[c]) for c in DIABETES_FEATURES] for r in rows]), \
            np.array([float(r["target"]) for r in rows])
    if name == "wine":
        rows = read_csv("wine.csv")
        return "multiclass", np.array([[float(r[c]) for c in WINE_FEATURES] for r in rows]), \
            np.array([r["class"] for r in rows])
    raise ValueError(name)


DATASETS = ["breast_cancer", "shoppers", "diabetes", "wine"]
METRICS = {"binary": ["auc"], "regression": ["r2"], "multiclass": ["accuracy", "log_loss"]}


# ---------------------------------------------------------------- scikit-learn

def sk_params(cfg, seed):
    p = dict(hidden_layer_sizes=tuple(cfg["hidden_layer_sizes"]), activation=cfg["activation"],
             solver="adam", alpha=cfg["alpha"], batch_size=cfg["batch_size"],
             learning_rate_init=cfg["learning_rate_init"], max_iter=cfg["max_iter"], tol=cfg["tol"],
             n_iter_no_change=cfg["n_iter_no_change"], early_stopping=cfg["early_stopping"],
             beta_1=0.9, beta_2=0.999, epsilon=1e-8, shuffle=True, random_state=seed)
    if cfg["early_stopping"]:
        p["validation_fraction"] = cfg["validation_fraction"]
    return p


def preprocessor(name):
    """StandardScaler on the numbers; for shoppers the indicators of the text columns unscaled"""
    if name == "shoppers":
        return ColumnTransformer([("num", StandardScaler(), list(range(len(SHOP_NUMBERS)))),
                                  ("cat", OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
                                   [len(SHOP_NUMBERS), len(SHOP_NUMBERS) + 1])])
    return StandardScaler()


def sk_fit(name, task, X, y, cfg, seed, standardize_target=True):
    """Fit on the training rows; (metrics on the held-out rows, epochs, seconds)"""
    test = held_out(len(y))
    params = sk_params(cfg, seed)
    if task == "regression":
        net = MLPRegressor(**params)
        model = make_pipeline(preprocessor(name), net)
        if standardize_target:
            model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    else:
        net = MLPClassifier(**params)
        model = make_pipeline(preprocessor(name), net)
    t0 = time.perf_counter()
    model.fit(X[~test], y[~test])
    seconds = time.perf_counter() - t0
    fitted = model.regressor_[-1] if isinstance(model, TransformedTargetRegressor) else model[-1]
    if task == "binary":
        p = model.predict_proba(X[test])[:, list(model.classes_).index(True)]
        m = {"auc": roc_auc_score(y[test], p)}
    elif task == "regression":
        m = {"r2": r2_score(y[test], model.predict(X[test]))}
    else:
        proba = model.predict_proba(X[test])
        m = {"accuracy": accuracy_score(y[test], model.classes_[np.argmax(proba, axis=1)]),
             "log_loss": log_loss(y[test], proba, labels=model.classes_)}
    return m, fitted.n_iter_, seconds


def sk_reference(datasets, seeds):
    """{(dataset, config[, 'plain']): {'metrics': {metric: [per seed]}, 'epochs': [...], 'seconds': s}}"""
    out = {}
    for name in datasets:
        task, X, y = dataset(name)
        variants = [True, False] if task == "regression" else [True]
        for cfg_name, cfg in CONFIGS.items():
            for std_target in variants:
                key = (name, cfg_name) if std_target else (name, cfg_name, "plain")
                res = {"metrics": {m: [] for m in METRICS[task]}, "epochs": [], "seconds": 0.0, "task": task}
                for seed in seeds:
                    m, epochs, s = sk_fit(name, task, X, y, cfg, seed, std_target)
                    for k, v in m.items():
                        res["metrics"][k].append(float(v))
                    res["epochs"].append(int(epochs))
                    res["seconds"] += s
                out[key] = res
                print(f"  scikit-learn {name:13s} {cfg_name}{'' if std_target else ' plain target':13s} "
                      + ", ".join(f"{k} {np.mean(v):.4f} [{min(v):.4f}, {max(v):.4f}]" for k, v in res["metrics"].items())
                      + f", epochs {np.mean(res['epochs']):.1f} {res['epochs']}, {res['seconds']:.1f} s",
                      file=sys.stderr, flush=True)
    return out


def write_fixture(ref, seeds):
    rows = [("dataset", "config", "task", "metric", "options", "seeds", "sklearn_mean", "sklearn_min",
             "sklearn_max", "sklearn_epochs_mean")]
    for name in DATASETS:
        for cfg_name, cfg in CONFIGS.items():
            r = ref[(name, cfg_name)]
            for metric, vals in r["metrics"].items():
                rows.append((name, cfg_name, r["task"], metric, json.dumps(cfg), len(vals),
                             repr(float(np.mean(vals))), repr(min(vals)), repr(max(vals)),
                             repr(float(np.mean(r["epochs"])))))
    with open(os.path.join(DATA, "mlp_reference.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return rows


# ---------------------------------------------------------------- uba

def copy_csv(cur, table, columns_sql, file_name):
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TEMP TABLE {table} ({columns_sql})")
    with open(os.path.join(DATA, file_name), newline="") as f:
        cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)", f)
    cur.execute(f"ANALYZE {table}")


def load_uba_tables(cur):
    """The four data sets as temp tables; per data set (from clause, key, label, features SQL)"""
    copy_csv(cur, "mlp_bc", "id int, " + ", ".join(f"{c} float8" for c in BC_FEATURES) + ", benign boolean",
             "breast_cancer.csv")
    copy_csv(cur, "mlp_shoppers", "session int, month text, visitor_type text, weekend boolean, "
             "product_related int, product_related_duration float8, page_values float8, exit_rates float8, "
             "revenue boolean", "shoppers_scores.csv")
    copy_csv(cur, "mlp_diabetes", "id int, " + ", ".join(f"{c} float8" for c in DIABETES_FEATURES)
             + ", target float8", "diabetes.csv")
    copy_csv(cur, "mlp_wine", "id int, " + ", ".join(f"{c} float8" for c in WINE_FEATURES) + ", class text",
             "wine.csv")
    arr = lambda cols: "ARRAY[" + ", ".join(f"d.{c}" for c in cols) + "]"
    lateral = "mlp_shoppers d, LATERAL (SELECT " + ", ".join(f"d.{c}" for c in SHOP_ROW) + ") t"
    return {    # from clause, key column, label, features
        "breast_cancer": ("mlp_bc d", "id", "benign", arr(BC_FEATURES)),
        "shoppers": (lateral, "session", "revenue", "t"),
        "diabetes": ("mlp_diabetes d", "id", "target", arr(DIABETES_FEATURES)),
        "wine": ("mlp_wine d", "id", "class", arr(WINE_FEATURES)),
    }


def epochs_of(info):
    """The epochs a uba model ran, from uba_model_info (the key's name is assumed)"""
    for k in ("n_iter", "n_iter_", "epochs", "iterations"):
        if isinstance(info, dict) and k in info:
            return info[k]
    return None


def uba_run(cur, tables, name, task, cfg, seed):
    source, key, label, feats = tables[name]
    opts = json.dumps(dict(cfg, seed=seed))
    t0 = time.perf_counter()
    cur.execute(f"SELECT uba_mlp_train(d.{label}, {feats}, %s::jsonb) FROM {source} WHERE d.{key} %% 5 <> 0", (opts,))
    model = cur.fetchone()[0]
    seconds = time.perf_counter() - t0
    cur.execute("SELECT uba_model_info(%s)", (model,))
    epochs = epochs_of(cur.fetchone()[0])
    where = f"FROM {source} WHERE d.{key} %% 5 = 0"
    if task == "binary":
        cur.execute(f"SELECT uba_auc(uba_predict(%s, {feats}), d.{label}) {where}", (model,))
        m = {"auc": cur.fetchone()[0]}
    elif task == "regression":
        cur.execute(f"SELECT uba_r2(uba_predict(%s, {feats}), d.{label}) {where}", (model,))
        m = {"r2": cur.fetchone()[0]}
    else:
        # log loss as scikit-learn's: the probability of the true class, clipped to [1e-15, 1 - 1e-15]
        cur.execute(f"""SELECT avg((uba_predict_class(m.b, {feats}) = d.{label})::int),
                               -avg(ln(least(greatest((uba_predict_proba(m.b, {feats}))
                                   [array_position(m.classes, d.{label})], 1e-15), 1 - 1e-15)))
                          FROM (SELECT %s::bytea AS b,
                                       ARRAY(SELECT jsonb_array_elements_text(uba_model_info(%s)->'classes')) AS classes) m,
                               {source} WHERE d.{key} %% 5 = 0""", (model, model))
        acc, ll = cur.fetchone()
        m = {"accuracy": float(acc), "log_loss": float(ll)}
    return m, epochs, seconds


def fmt_range(vals):
    return f"{np.mean(vals):.4f} [{min(vals):.4f}, {max(vals):.4f}]"


def compare(cur, ref, seeds):
    tables = load_uba_tables(cur)
    print("\n| data set | config | metric | uba mean [min, max] | scikit-learn mean [min, max] | uba - sklearn "
          "| uba epochs | sklearn epochs | uba s (mean) |")
    print("|---|---|---|---|---|---:|---|---|---:|")
    for name in DATASETS:
        task = ref[(name, "A")]["task"]
        for cfg_name, cfg in CONFIGS.items():
            got = {m: [] for m in METRICS[task]}
            epochs, secs = [], []
            for seed in seeds:
                m, e, s = uba_run(cur, tables, name, task, cfg, seed)
                for k, v in m.items():
                    got[k].append(float(v))
                epochs.append(e)
                secs.append(s)
            r = ref[(name, cfg_name)]
            for metric in METRICS[task]:
                u, k = got[metric], r["metrics"][metric]
                ue = "?" if None in epochs else f"{np.mean(epochs):.1f}"
                print(f"| {name} | {cfg_name} | {metric} | {fmt_range(u)} | {fmt_range(k)} | "
                      f"{np.mean(u) - np.mean(k):+.4f} | {ue} | {np.mean(r['epochs']):.1f} | {np.mean(secs):.3f} |")
            if (name, cfg_name, "plain") in ref:
                p = ref[(name, cfg_name, "plain")]
                print(f"| {name} | {cfg_name} | r2, target not standardized (sklearn only) | | "
                      f"{fmt_range(p['metrics']['r2'])} | | | {np.mean(p['epochs']):.1f} | |")


def timing(cur, repeat):
    """Config A on the full Online Shoppers data: uba_mlp_train in SQL against MLPClassifier.fit"""
    with open(FULL_SHOPPERS, newline="") as f:
        rows = list(csv.DictReader(f))
    n = len(rows)
    test = held_out(n)
    y = np.array([r["Revenue"] == "TRUE" for r in rows])
    cur.execute("DROP TABLE IF EXISTS mlp_full")
    cur.execute("CREATE TEMP TABLE mlp_full (id int, " + ", ".join(f'"{c}" float8' for c in FULL_NUMERIC) + ", "
                + ", ".join(f'"{c}" text' for c in FULL_TEXT) + ", " + ", ".join(f'"{c}" int' for c in FULL_CODES)
                + ', "Weekend" boolean, revenue boolean)')
    buf = io.StringIO()
    for i, r in enumerate(rows, 1):
        vals = [str(i)] + [repr(float(r[c])) for c in FULL_NUMERIC] + [r[c] for c in FULL_TEXT] \
            + [str(int(r[c])) for c in FULL_CODES] + [str(r["Weekend"] == "TRUE"), str(r["Revenue"] == "TRUE")]
        buf.write("\t".join(vals) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY mlp_full FROM STDIN", buf)
    cur.execute("ANALYZE mlp_full")
    cur.execute("SET uba.threads = 1")
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cols = FULL_NUMERIC + FULL_TEXT + FULL_CODES + ["Weekend"]
    source = "mlp_full s, LATERAL (SELECT " + ", ".join(f's."{c}"' for c in cols) + ") t"
    opts = json.dumps(dict(CONFIGS["A"], seed=0))
    sql = f"SELECT uba_mlp_train(s.revenue, t, %s::jsonb) FROM {source} WHERE s.id %% 5 <> 0"
    uba_times, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur.execute(sql, (opts,))
        model = cur.fetchone()[0]
        uba_times.append(time.perf_counter() - t0)
    cur.execute("SELECT uba_model_info(%s)", (model,))
    uba_epochs = epochs_of(cur.fetchone()[0])
    cur.execute(f"SELECT uba_auc(uba_predict(%s, t), s.revenue) FROM {source} WHERE s.id %% 5 = 0", (model,))
    uba_auc = cur.fetchone()[0]

    # scikit-learn: the numbers (codes and Weekend included) standardized, the two text columns one-hot
    Xnum = np.array([[float(r[c]) for c in FULL_NUMERIC + FULL_CODES] + [1.0 if r["Weekend"] == "TRUE" else 0.0]
                     for r in rows])
    Xtxt = np.array([[r[c] for c in FULL_TEXT] for r in rows], dtype=object)
    scaler = StandardScaler().fit(Xnum[~test])
    onehot = OneHotEncoder(sparse_output=False, handle_unknown="ignore").fit(Xtxt[~test])
    X = np.hstack([scaler.transform(Xnum), onehot.transform(Xtxt)])
    sk_times, clf = [], None
    for _ in range(repeat):
        clf = MLPClassifier(**sk_params(CONFIGS["A"], 0))
        t0 = time.perf_counter()
        clf.fit(X[~test], y[~test])
        sk_times.append(time.perf_counter() - t0)
    sk_auc = roc_auc_score(y[test], clf.predict_proba(X[test])[:, 1])
    u, s = statistics.median(uba_times), statistics.median(sk_times)
    print(f"\nTiming, config A, full Online Shoppers: {int((~test).sum())} training rows x 17 columns "
          f"({X.shape[1]} features after one-hot), {int(test.sum())} held out; one thread each, "
          f"median of {repeat}")
    print("\n| trainer | seconds | epochs | s / epoch | held-out AUC |")
    print("|---|---:|---:|---:|---:|")
    ue = "?" if uba_epochs is None else f"{uba_epochs}"
    upe = "" if uba_epochs is None else f"{u / uba_epochs:.4f}"
    print(f"| uba_mlp_train(revenue, row) (SQL, end to end) | {u:.3f} | {ue} | {upe} | {uba_auc:.4f} |")
    print(f"| scikit-learn MLPClassifier.fit (encoded matrix) | {s:.3f} | {clf.n_iter_} | {s / clf.n_iter_:.4f} | {sk_auc:.4f} |")
    print(f"\nuba / scikit-learn: {u / s:.2f}x"
          + ("" if uba_epochs is None else f" (per epoch {(u / uba_epochs) / (s / clf.n_iter_):.2f}x)"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", action="store_true", help="write the fixtures (no database)")
    ap.add_argument("--dsn", default="dbname=postgres")
    ap.add_argument("--seeds", type=int, default=5, help="uba seeds 0..N-1 in the comparison")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each trainer in the timing")
    ap.add_argument("--skip-timing", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # batch_size 200 above the training rows (wine, early-stopped sets): clipped to them, as uba does
    warnings.filterwarnings("ignore", message="Got `batch_size` less than 1 or larger than sample size")

    t0 = time.perf_counter()
    if args.fixtures:
        (dn, dd), (wn, wd) = write_diabetes_wine()
        print(f"wrote test/data/diabetes.csv ({dn} x {dd}) and test/data/wine.csv ({wn} x {wd})", flush=True)
    elif not os.path.exists(os.path.join(DATA, "diabetes.csv")):
        raise SystemExit("test/data/diabetes.csv is missing: run with --fixtures first")
    ref = sk_reference(DATASETS, SEEDS)
    if args.fixtures:
        rows = write_fixture(ref, SEEDS)
        print(f"wrote test/data/mlp_reference.csv ({len(rows) - 1} rows) in {time.perf_counter() - t0:.0f} s")
        for r in rows:
            print(",".join(str(x) for x in r[:4] + r[5:]))
        for key, r in ref.items():
            if len(key) == 3:
                print(f"{key[0]} {key[1]}, target not standardized: r2 {fmt_range(r['metrics']['r2'])}, "
                      f"epochs {np.mean(r['epochs']):.1f}")
        return
    cur = connect(args.dsn)
    cur.execute("SET max_parallel_workers_per_gather = 0")
    compare(cur, ref, range(args.seeds))
    if not args.skip_timing:
        timing(cur, args.repeat)


if __name__ == "__main__":
    main()
