#!/usr/bin/python3
"""Reference recommender models and their evaluation on Online Retail.

Independent numpy/scipy implementations of four recommenders (popularity,
implicit-feedback ALS, EASE, item-kNN) and of the top-k metrics used to
compare them, so that the C implementation in uba can be checked against the
same definitions on the same data.  Nothing here touches PostgreSQL.

Usage (from the project root):
  /usr/bin/python3 bench/cf_reference.py                    # default models
  /usr/bin/python3 bench/cf_reference.py --grid             # + hyper-parameter grid
  /usr/bin/python3 bench/cf_reference.py --grid --out-csv /tmp/cf.csv
  /usr/bin/python3 bench/cf_reference.py --verbose          # ALS loss per iteration
  /usr/bin/python3 bench/cf_reference.py --data other.csv.gz

Options: --data PATH (default /work/shared/data/online-retail/online_retail.csv.gz,
plain or .gz CSV), --out-csv PATH (also write the metrics as CSV with columns
model,params,recall20,ndcg20,precision20,hitrate20,fit_s), --grid, --verbose.

Data (Online Retail, UCI, CC BY 4.0)
-----------------------------------
Columns InvoiceNo, StockCode, Description, Quantity, InvoiceDate
(YYYY-MM-DD HH:MM:SS), UnitPrice, CustomerID, Country.  A line is KEPT iff
  CustomerID is non-empty, InvoiceNo does not start with 'C',
  int(Quantity) > 0, and StockCode starts with an ASCII digit 0-9
(this drops cancellations, returns, POST, DOT, M, BANK CHARGES, gift vouchers,
...).  UnitPrice is not used (lines with price 0 are kept).
  user id = int(float(CustomerID))
  item id = 1-based rank of StockCode among the sorted distinct StockCodes of
            ALL kept lines of the whole file (before the split), sorted by
            Python string order = code-point order = byte order for these ASCII
            codes.  In SQL, over the kept lines:
              dense_rank() OVER (ORDER BY stockcode COLLATE "C")
            (StockCode is taken exactly as in the file, case-sensitive, no
            trimming).  On the UCI file: 3,659 distinct codes, ids 1..3659.
Each kept line adds weight 1 to its (user, item) pair: the weight of a pair is
the number of kept lines with that user and item (Quantity is NOT used).

Split
-----
  train: kept lines with InvoiceDate < '2011-10-01 00:00:00' (string compare).
  test:  kept lines with InvoiceDate >= the cutoff.
For every user with at least one train line, relevant(u) = the distinct items
of u's test lines that u has no train line for.  Items that occur only in the
test period ARE counted in relevant(u) although no model can recommend them
(their number is printed).  Users with an empty relevant set are not evaluated.

The training matrix X has one row per train user (ascending user id) and one
column per item that has at least one train line (ascending item id); X[u, i]
= summed weight; B = X with every stored value replaced by 1.

Metrics (k = 20)
----------------
For an evaluated user u: candidates are the items that occur in train (the
columns of X) minus the items u has in train.  The recommendation list is the
k candidates with the highest score, ties broken by smaller item id (exactly:
sort candidates by (-score, item id), take the first k).  With
hits = |list & relevant(u)| and R = |relevant(u)|:
  recall@k    = hits / min(k, R)
  precision@k = hits / k
  hit rate@k  = 1 if hits > 0 else 0
  NDCG@k      = DCG / IDCG, DCG = sum_{r=1..k} rel_r / log2(r + 1), rel_r = 1
                if the r-th recommended item is in relevant(u) else 0;
                IDCG = sum_{r=1..min(k, R)} 1 / log2(r + 1)
Every reported metric is the plain mean over the evaluated users.

Models (all fitted on the train matrix only)
--------------------------------------------
popularity   score(i) = number of distinct train users of i (column count of
             B); the same list for every user (minus the user's own items).
als          implicit ALS (Hu, Koren & Volinsky 2008).  User factors x_u and
             item factors y_i (f each) minimise
               L = sum_{all u, i} c_ui (p_ui - x_u.y_i)^2
                   + reg * (sum_u |x_u|^2 + sum_i |y_i|^2)
             over ALL cells of the train-users x train-items matrix, with
             p_ui = 1, c_ui = 1 + alpha * X[u, i] for stored pairs and
             p_ui = 0, c_ui = 1 otherwise; reg is NOT scaled by counts.
             Initialisation: rng = numpy.random.default_rng(seed); user
             factors = rng.normal(0, 0.01, (n_users, f)) THEN item factors =
             rng.normal(0, 0.01, (n_items, f)) (rows in ascending id order).
             One iteration = update all users (items fixed), then all items
             (with the new users).  For a user (items symmetric):
               A_u = Y^T Y + sum_{i in I(u)} alpha X[u, i] y_i y_i^T + reg I
               b_u = sum_{i in I(u)} (1 + alpha X[u, i]) y_i
             solver exact: x_u = solve(A_u, b_u) (numpy.linalg.solve);
             solver cg (Takacs, Pilaszy & Tikk 2011): 3 conjugate-gradient
             steps on A_u x = b_u started from the current x_u, matrix-free
             (A_u p = Y^T Y p + sum_i alpha X[u,i] (y_i.p) y_i + reg p):
               r = b - A x; p = r; rs = r.r
               repeat 3 times:
                 Ap = A p; a = rs / (p.Ap)  (a = 0 if p.Ap <= 0)
                 x += a p; r -= a Ap; rs' = r.r
                 p = r + (rs' / rs) p  (ratio 0 if rs = 0); rs = rs'
             score(u, i) = x_u . y_i.  Defaults: f = 64, 15 iterations,
             reg = 0.1, alpha = 10, seed = 42, solver exact.  The printed
             objective is L above after the last iteration; with --verbose
             L is printed after every iteration (it must never increase).
             L is computed as sum((X_f^T X_f) * (Y^T Y)) (= sum of s_ui^2 over
             all cells) + sum over stored pairs of [c_ui (1 - s_ui)^2 - s_ui^2]
             + reg * (|X_f|_F^2 + |Y|_F^2), s_ui = x_u.y_i.
ease         Steck 2019: G = B^T B + lambda I (train items x train items),
             P = inv(G), W[i, j] = -P[i, j] / P[j, j] for i != j, W[j, j] = 0;
             score(u, .) = B[u, :] @ W.  Default lambda = 500.
item_knn     sim(i, j) = C[i, j] / sqrt(n_i * n_j) with C = B^T B
             (co-occurrence counts), n_i = C[i, i] (train users of i), the
             product n_i * n_j formed exactly (integer) before the sqrt.
             For every item i, N(i) = the `neighbors` items j != i with the
             largest sim(i, j), ties broken by smaller item id (items with
             sim 0 may fill N(i); they add nothing).  score(u, j) = sum over
             u's train items i with j in N(i) of sim(i, j).  Default 100.

Default run: popularity, als (exact, defaults), ease (lambda 500), item_knn
(100).  --grid adds: als exact for alpha in {1, 10, 40} x reg in {0.01, 0.1,
1} (f 64, 15 iterations; the default point is not refitted), als cg at the
defaults, ease lambda in {100, 250, 1000, 2000}, item_knn neighbours in
{20, 50, 200}.  The objective is printed for every ALS fit.

fit_s is time.perf_counter() around the fit only: from the CSR train matrix to
the model (popularity: column counts; als: initialisation + all iterations,
without the loss evaluations; ease: Gram matrix + inverse + W; item_knn:
similarities + neighbour selection + W).  Loading, scoring and metrics are not
timed.  Everything is float64.  ALS runs with one BLAS thread (threadpoolctl):
its many 64 x 64 BLAS/LAPACK calls were up to 40 times slower with OpenBLAS's
two threads while another process was using a core.
"""
import argparse
import csv
import gzip
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

try:                                   # installed with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:                    # pragma: no cover
    threadpool_limits = None

DEFAULT_DATA = "/work/shared/data/online-retail/online_retail.csv.gz"
CUTOFF = "2011-10-01 00:00:00"
K = 20

ALS_DEFAULTS = dict(factors=64, iterations=15, reg=0.1, alpha=10.0, seed=42)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def load_online_retail(path):
    """Return (users, items, is_train, item_codes) for the kept lines.

    users: int64 user ids; items: int64 1-based item ids (rank of StockCode);
    is_train: bool per kept line; item_codes: the sorted distinct StockCodes
    (item id k is item_codes[k - 1]).
    """
    opener = gzip.open if path.endswith(".gz") else open
    users, codes, train = [], [], []
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: k for k, name in enumerate(header)}
        c_inv, c_code, c_qty = col["InvoiceNo"], col["StockCode"], col["Quantity"]
        c_date, c_cust = col["InvoiceDate"], col["CustomerID"]
        for row in reader:
            cust = row[c_cust]
            code = row[c_code]
            if (not cust or row[c_inv].startswith("C") or int(row[c_qty]) <= 0
                    or not code or not ("0" <= code[0] <= "9")):
                continue
            date = row[c_date]
            if len(date) != 19:
                raise ValueError("unexpected InvoiceDate format: %r" % date)
            users.append(int(float(cust)))
            codes.append(code)
            train.append(date < CUTOFF)
    item_codes = sorted(set(codes))
    rank = {c: k + 1 for k, c in enumerate(item_codes)}
    items = np.fromiter((rank[c] for c in codes), dtype=np.int64, count=len(codes))
    return (np.asarray(users, dtype=np.int64), items,
            np.asarray(train, dtype=bool), item_codes)


class Split:
    """Train matrix and test sets (see the module docstring)."""

    def __init__(self, users, items, is_train):
        tu, ti = users[is_train], items[is_train]
        self.user_ids = np.unique(tu)              # row r <-> user_ids[r]
        self.item_ids = np.unique(ti)              # column c <-> item_ids[c]
        rows = np.searchsorted(self.user_ids, tu)
        cols = np.searchsorted(self.item_ids, ti)
        X = sp.coo_matrix((np.ones(len(rows)), (rows, cols)),
                          shape=(len(self.user_ids), len(self.item_ids))).tocsr()
        X.sum_duplicates()                         # weight = number of lines
        X.sort_indices()
        self.X = X
        self.B = X.copy()
        self.B.data[:] = 1.0
        self.train_lines = int(is_train.sum())

        # Relevant sets: test items of train users not bought in train.
        qu, qi = users[~is_train], items[~is_train]
        in_train_user = np.isin(qu, self.user_ids)
        qu, qi = qu[in_train_user], qi[in_train_user]
        pairs = np.unique(np.stack([qu, qi], axis=1), axis=0)
        train_pairs = set(zip(tu.tolist(), ti.tolist()))
        relevant = {}
        for u, i in pairs.tolist():
            if (u, i) not in train_pairs:
                relevant.setdefault(u, []).append(i)
        eval_users = np.array(sorted(relevant), dtype=np.int64)
        self.eval_rows = np.searchsorted(self.user_ids, eval_users)
        self.eval_users = eval_users
        self.relevant = [np.array(relevant[u], dtype=np.int64) for u in eval_users]
        item_set = set(self.item_ids.tolist())
        self.relevant_pairs = sum(len(r) for r in self.relevant)
        self.relevant_unseen = sum(1 for r in self.relevant for i in r.tolist()
                                   if i not in item_set)

    def describe(self):
        X = self.X
        return [
            ("train lines", self.train_lines),
            ("train pairs (distinct user, item)", X.nnz),
            ("train users", X.shape[0]),
            ("train items", X.shape[1]),
            ("evaluated users", len(self.eval_users)),
            ("relevant pairs", self.relevant_pairs),
            ("relevant pairs whose item is not in train", self.relevant_unseen),
        ]


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------

def evaluate(split, scores, k=K):
    """Mean recall, NDCG, precision, hit rate at k.

    scores: dense (n_eval_users x n_train_items) array, rows in the order of
    split.eval_rows, columns in ascending item id.
    """
    S = np.array(scores, dtype=np.float64, copy=True)
    # Exclude each user's train items.
    Xe = split.X[split.eval_rows]
    r = np.repeat(np.arange(Xe.shape[0]), np.diff(Xe.indptr))
    S[r, Xe.indices] = -np.inf
    # Stable sort on -score: equal scores keep ascending column = item id order.
    top = np.argsort(-S, axis=1, kind="stable")[:, :k]
    top_items = split.item_ids[top]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    rec = ndcg = prec = hit = 0.0
    for row, rel in enumerate(split.relevant):
        is_rel = np.isin(top_items[row], rel)
        hits = int(is_rel.sum())
        m = min(k, len(rel))
        rec += hits / m
        prec += hits / k
        hit += hits > 0
        ndcg += float(discount[is_rel].sum()) / float(discount[:m].sum())
    n = len(split.relevant)
    return dict(recall20=rec / n, ndcg20=ndcg / n, precision20=prec / n,
                hitrate20=hit / n)


# --------------------------------------------------------------------------
# Implicit ALS
# --------------------------------------------------------------------------

def _row_dots(M, U, V, chunk=1 << 18):
    """s_k = U[row_k] . V[col_k] for every stored entry k of CSR matrix M."""
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    out = np.empty(M.nnz)
    for s in range(0, M.nnz, chunk):
        e = min(s + chunk, M.nnz)
        out[s:e] = np.einsum("ij,ij->i", U[rows[s:e]], V[M.indices[s:e]])
    return out


def als_loss(X, U, V, reg, alpha):
    """Objective L of the module docstring (X: CSR weights, U users, V items)."""
    total = float(np.sum((U.T @ U) * (V.T @ V)))     # sum of s^2 over all cells
    s = _row_dots(X, U, V)
    c = 1.0 + alpha * X.data
    total += float(np.sum(c * (1.0 - s) ** 2 - s * s))
    total += reg * (float(np.sum(U * U)) + float(np.sum(V * V)))
    return total


def _solve_exact(R, Y, reg, alpha, out, chunk_rows=2048):
    """Exact ALS half-step: rows of `out` <- solve(A_u, b_u), R CSR (rows x cols)."""
    f = Y.shape[1]
    base = Y.T @ Y + reg * np.eye(f)
    indptr, indices, data = R.indptr, R.indices, R.data
    b_all = sp.csr_matrix((1.0 + alpha * data, indices, indptr), shape=R.shape) @ Y
    for r0 in range(0, R.shape[0], chunk_rows):
        r1 = min(r0 + chunk_rows, R.shape[0])
        A = np.empty((r1 - r0, f, f))
        for u in range(r0, r1):
            s, e = indptr[u], indptr[u + 1]
            Yi = Y[indices[s:e]]
            A[u - r0] = base + (Yi.T * (alpha * data[s:e])) @ Yi
        out[r0:r1] = np.linalg.solve(A, b_all[r0:r1, :, None])[:, :, 0]


def _solve_cg(R, Y, reg, alpha, out, steps=3, chunk_nnz=1 << 18):
    """CG ALS half-step: `steps` CG steps per row, warm-started from `out`.

    All rows of a chunk run their CG in lock step (vectorised); each row has
    its own step sizes, so the result equals per-row CG.
    """
    YtY = Y.T @ Y
    indptr, indices, data = R.indptr, R.indices, R.data
    n = R.shape[0]
    # Row chunks with about chunk_nnz stored entries each.
    bounds = [0]
    while bounds[-1] < n:
        target = indptr[bounds[-1]] + chunk_nnz
        nxt = int(np.searchsorted(indptr, target, side="right")) - 1
        bounds.append(min(n, max(nxt, bounds[-1] + 1)))
    for r0, r1 in zip(bounds[:-1], bounds[1:]):
        s, e = indptr[r0], indptr[r1]
        m, nr = e - s, r1 - r0
        Yg = Y[indices[s:e]]                       # y_i of every stored entry
        w = alpha * data[s:e]                      # c_ui - 1
        lptr = indptr[r0:r1 + 1] - s
        rows = np.repeat(np.arange(nr), np.diff(lptr))
        ar = np.arange(m)

        def seg(vals):
            # (nr x m) matrix summing entry values into their row
            return sp.csr_matrix((vals, ar, lptr), shape=(nr, m))

        def apply_A(P):
            v = np.einsum("ij,ij->i", Yg, P[rows])
            return P @ YtY + seg(w * v) @ Yg + reg * P

        b = seg(1.0 + w) @ Yg
        x = out[r0:r1].copy()
        r = b - apply_A(x)
        p = r.copy()
        rs = np.einsum("ij,ij->i", r, r)
        for _ in range(steps):
            Ap = apply_A(p)
            pAp = np.einsum("ij,ij->i", p, Ap)
            a = np.divide(rs, pAp, out=np.zeros(nr), where=pAp > 0)
            x += a[:, None] * p
            r -= a[:, None] * Ap
            rs_new = np.einsum("ij,ij->i", r, r)
            beta = np.divide(rs_new, rs, out=np.zeros(nr), where=rs > 0)
            p = r + beta[:, None] * p
            rs = rs_new
        out[r0:r1] = x


def fit_als(X, factors=64, iterations=15, reg=0.1, alpha=10.0, seed=42,
            solver="exact", verbose=False, log=sys.stderr):
    """Implicit ALS; returns (user_factors, item_factors, fit_seconds, losses).

    losses: the objective after every iteration if verbose, else only the final
    one (loss evaluation is excluded from fit_seconds).  Runs with one BLAS
    thread (threadpoolctl, if importable).
    """
    # The half-steps make many tiny BLAS/LAPACK calls (64 x 64); a threaded
    # BLAS makes them up to 40 times slower when another process holds a core
    # (measured here), so ALS runs with one BLAS thread.
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            return _fit_als(X, factors, iterations, reg, alpha, seed, solver,
                            verbose, log)
    return _fit_als(X, factors, iterations, reg, alpha, seed, solver, verbose,
                    log)


def _fit_als(X, factors, iterations, reg, alpha, seed, solver, verbose, log):
    X = X.tocsr()
    XT = X.T.tocsr()
    XT.sort_indices()
    half = {"exact": _solve_exact, "cg": _solve_cg}[solver]
    losses = []
    elapsed = 0.0
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    U = rng.normal(0.0, 0.01, (X.shape[0], factors))
    V = rng.normal(0.0, 0.01, (X.shape[1], factors))
    for it in range(iterations):
        half(X, V, reg, alpha, U)
        half(XT, U, reg, alpha, V)
        if verbose:
            elapsed += time.perf_counter() - t0
            losses.append(als_loss(X, U, V, reg, alpha))
            print("  als %s iter %2d  loss %.6f  (%.2f s)"
                  % (solver, it + 1, losses[-1], elapsed), file=log, flush=True)
            t0 = time.perf_counter()
    elapsed += time.perf_counter() - t0
    if not verbose:
        losses.append(als_loss(X, U, V, reg, alpha))
    return U, V, elapsed, losses


# --------------------------------------------------------------------------
# Other models
# --------------------------------------------------------------------------

def fit_popularity(B):
    t0 = time.perf_counter()
    pop = np.asarray(B.sum(axis=0)).ravel()
    return pop, time.perf_counter() - t0


def fit_ease(B, lam):
    t0 = time.perf_counter()
    G = (B.T @ B).toarray()
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    W = -P / np.diag(P)[None, :]                   # W[i, j] = -P[i, j] / P[j, j]
    W[np.diag_indices_from(W)] = 0.0
    return W, time.perf_counter() - t0


def fit_item_knn(B, neighbors):
    t0 = time.perf_counter()
    C = (B.T @ B).toarray()
    n = np.diag(C).astype(np.int64)
    sim = C / np.sqrt((n[:, None] * n[None, :]).astype(np.float64))
    np.fill_diagonal(sim, -np.inf)                 # self excluded
    # Per row: order by (-sim, j); stable sort keeps smaller j first on ties.
    keep = np.argsort(-sim, axis=1, kind="stable")[:, :neighbors]
    W = np.zeros_like(sim)
    rows = np.arange(sim.shape[0])[:, None]
    W[rows, keep] = sim[rows, keep]
    return W, time.perf_counter() - t0


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def run(args):
    out = sys.stdout
    t0 = time.perf_counter()
    users, items, is_train, codes = load_online_retail(args.data)
    split = Split(users, items, is_train)
    print("# cf_reference: %s" % args.data, file=out)
    print("load average at start (1, 5, 15 min): %.2f %.2f %.2f (2 cores; "
          "fit times are not comparable across loads)" % os.getloadavg(), file=out)
    print("kept lines %d, distinct kept StockCodes (item ids 1..%d), "
          "loaded in %.1f s" % (len(users), len(codes), time.perf_counter() - t0),
          file=out)
    print("", file=out)
    print("| count | value |\n|---|---:|", file=out)
    for name, value in split.describe():
        print("| %s | %d |" % (name, value), file=out)
    print("", file=out)
    out.flush()

    B_eval = split.B[split.eval_rows]
    results = []

    def record(model, params, scores, fit_s):
        m = evaluate(split, scores)
        m.update(model=model, params=params, fit_s=fit_s)
        results.append(m)
        print("  %-10s %-40s recall@20 %.4f  ndcg@20 %.4f  fit %.2f s"
              % (model, params, m["recall20"], m["ndcg20"], fit_s),
              file=sys.stderr, flush=True)

    # popularity
    pop, fit_s = fit_popularity(split.B)
    record("popularity", "-", np.tile(pop, (len(split.eval_rows), 1)), fit_s)

    # als
    als_runs = [("exact", ALS_DEFAULTS["alpha"], ALS_DEFAULTS["reg"])]
    if args.grid:
        for alpha in (1.0, 10.0, 40.0):
            for reg in (0.01, 0.1, 1.0):
                if (alpha, reg) != (ALS_DEFAULTS["alpha"], ALS_DEFAULTS["reg"]):
                    als_runs.append(("exact", alpha, reg))
        als_runs.append(("cg", ALS_DEFAULTS["alpha"], ALS_DEFAULTS["reg"]))
    objectives = []
    for solver, alpha, reg in als_runs:
        params = dict(ALS_DEFAULTS, alpha=alpha, reg=reg)
        U, V, fit_s, losses = fit_als(split.X, solver=solver,
                                      verbose=args.verbose, **params)
        desc = ("solver=%s f=%d iters=%d reg=%g alpha=%g seed=%d"
                % (solver, params["factors"], params["iterations"], reg, alpha,
                   params["seed"]))
        objectives.append((desc, losses[-1]))
        record("als", desc, U[split.eval_rows] @ V.T, fit_s)

    # ease
    lambdas = [500.0] + ([100.0, 250.0, 1000.0, 2000.0] if args.grid else [])
    for lam in lambdas:
        W, fit_s = fit_ease(split.B, lam)
        record("ease", "lambda=%g" % lam, np.asarray(B_eval @ W), fit_s)

    # item_knn
    neighbours = [100] + ([20, 50, 200] if args.grid else [])
    for nb in neighbours:
        W, fit_s = fit_item_knn(split.B, nb)
        record("item_knn", "neighbors=%d" % nb, np.asarray(B_eval @ W), fit_s)

    print("| model | hyper-parameters | recall@20 | NDCG@20 | precision@20 "
          "| hit rate@20 | fit s |", file=out)
    print("|---|---|---:|---:|---:|---:|---:|", file=out)
    for m in results:
        print("| %s | %s | %.4f | %.4f | %.4f | %.4f | %.2f |"
              % (m["model"], m["params"], m["recall20"], m["ndcg20"],
                 m["precision20"], m["hitrate20"], m["fit_s"]), file=out)
    print("", file=out)
    print("ALS objective L after the last iteration:", file=out)
    for desc, loss in objectives:
        print("  %s: %.6f" % (desc, loss), file=out)

    if args.out_csv:
        with open(args.out_csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["model", "params", "recall20", "ndcg20", "precision20",
                        "hitrate20", "fit_s"])
            for m in results:
                w.writerow([m["model"], m["params"], repr(m["recall20"]),
                            repr(m["ndcg20"]), repr(m["precision20"]),
                            repr(m["hitrate20"]), "%.4f" % m["fit_s"]])
        print("wrote %s" % args.out_csv, file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="Online Retail CSV (.csv or .csv.gz)")
    ap.add_argument("--out-csv", help="also write the metrics to this CSV file")
    ap.add_argument("--grid", action="store_true",
                    help="also run the hyper-parameter grid")
    ap.add_argument("--verbose", action="store_true",
                    help="print the ALS objective after every iteration (stderr)")
    run(ap.parse_args(argv))


if __name__ == "__main__":
    main()
