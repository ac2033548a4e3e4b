#!/usr/bin/python3
"""NumPy reference of GRU4Rec as uba specifies it (method "gru4rec" of uba_session_train).

An independent implementation, written from the GRU4Rec specification (/work/gru4rec_spec.md)
and the session specification (/work/session_spec.md; split, queries and metrics through
session_reference.py's functions), not from uba's C code; it touches no database.  It is the
"NumPy reference of the same network" that the C version's results and speed are compared
with.  One GRU layer on one-hot item input, session-parallel mini-batches, one step of
backpropagation (the carried hidden state is a constant of each step), cross-entropy over the
batch's targets plus negatives sampled from popularity^sample_alpha (duplicate columns kept),
optional dropout on the output side, Adagrad (eps 1e-6) on the touched rows with the gradients
of a row that appears several times summed first; scoring = softmax over all items.

The network (H = hidden size, N = items, B = batch_size):
  E: N x 3H (z | r | candidate), U: H x 3H, b: 3H, W: N x H, c: N; matrices uniform in
  [-s, s], s = sqrt(6 / (rows + cols)), drawn in the order E, U, W from
  numpy.random.default_rng(seed) (the same generator then draws the negatives and the dropout
  masks); biases 0.
  a = E[x][:2H] + h U[:, :2H] + b[:2H]; z, r = sigmoid(a); g = tanh(E[x][2H:] + (r h) U[:, 2H:]
  + b[2H:]); h' = (1 - z) h + z g.  Y = h'_dropped W[S]^T + c[S], S = targets then negatives.

Vectorisation.  One step is a handful of matrix products of the active rows.  Duplicate output
columns are folded exactly: the logits are computed once per distinct column u (Y_u) and the
softmax uses count_u * exp(Y_u), so the loss, the softmax and the summed gradient of every
distinct row equal those of the literal duplicated-column computation.  Summed row gradients of
E use a one-hot product (no np.add.at, which is slow in numpy < 1.25).

Choices the specification leaves open (the C version may differ; they change nothing in
distribution):
  - items are indexed 0..N-1 in item id order (integers numerically, text by UTF-8 bytes), so
    "ties by item id" is "ties by index"; N = every item of a training session (also sessions
    of one click); popularity = training clicks;
  - inactive slots (no session left) are dropped from the step: its rows are the active slots in
    slot order, S = their targets, then the negatives; the loss is the mean over those rows;
  - when several slots need a new session at one step, the lower slot takes the older session;
  - negatives: searchsorted of rng.random(n_sample) in the cumulative popularity^alpha; the
    dropout mask: rng.random((rows, H)) >= p, scaled by 1 / (1 - p);
  - the reported loss of an epoch is the mean over all its training rows (pairs);
  - queries: unknown items dropped, h = 0 then one GRU step per known item; with no known item
    the result is empty; the target's rank is 1 + #items of larger softmax score + #items of an
    equal score and a smaller id.
BLAS: OPENBLAS_NUM_THREADS (and OMP_NUM_THREADS) default to 1 when not set (set them before
running to use more threads); float64 unless --dtype float32.

Run from the project root with /usr/bin/python3:

  bench/gru4rec_reference.py --gradcheck
      One step on a tiny random problem (N=7, H=4, B=3, 5 negatives with duplicates, repeated
      input items, nonzero carried state, no dropout; and once more with a fixed dropout mask):
      the analytic gradients of every parameter entry (step_grads, the training code) against
      central differences (5-point stencil, step 1e-3, float64) of the loss written out
      literally (row by row, duplicated columns of S kept: literal_loss); prints the largest
      relative error (over the entries whose gradient exceeds 1e-7) and the largest absolute
      error; exit status 1 above 1e-6.

  bench/gru4rec_reference.py --evaluate FILE [--split-days 2] [--epochs 10] [--hidden 100]
      [--batch-size 32] [--n-sample 512] [--sample-alpha 0.75] [--learning-rate 0.05]
      [--dropout 0] [--max-queries Q] [--seed 1] [--dtype float64] [--eval-each-epoch]
      Reads FILE as session_reference.py --evaluate does (session_id,item_id,ts[,test]), splits
      by time (the last --split-days calendar days are the test sessions), trains on the
      training sessions (seconds and loss per epoch), then hit@20 and MRR@20 on the evaluation
      queries (first 5 prefixes of each test session; every query counts) and the markov
      baseline of session_reference.SessionModel on the same queries.  --max-queries Q: an
      evenly spaced subset of at most Q queries (queries[::ceil(n / Q)], as
      session_reference.py takes for its neighbourhood methods) for both; default all queries.
      --eval-each-epoch: hit@20 / MRR@20 after every epoch too (outside the epoch's time).
"""

import argparse
import datetime
import math
import os
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import session_reference as sref  # noqa: E402

TOP_N = sref.TOP_N
ADAGRAD_EPS = 1e-6


# --------------------------------------------------------------------------------------------
# the network

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def sum_rows(inv, n_unique, vals):
    """out[u] = sum of vals[k] over k with inv[k] == u (n_unique rows)."""
    if n_unique == len(inv):
        out = np.empty((n_unique,) + vals.shape[1:], dtype=vals.dtype)
        out[inv] = vals
        return out
    m = np.zeros((n_unique, len(inv)), dtype=vals.dtype)
    m[inv, np.arange(len(inv))] = 1.0
    return m @ vals


def adagrad_rows(p_rows, G, idx, grad, lr):
    """Adagrad on the rows idx (distinct) of a parameter whose rows are p_rows (a copy):
    G[idx] += grad^2; returns p_rows - lr * grad / (sqrt(G[idx]) + eps)."""
    g2 = G[idx]
    g2 += grad * grad
    G[idx] = g2
    np.sqrt(g2, out=g2)
    g2 += ADAGRAD_EPS
    np.divide(grad, g2, out=g2)
    g2 *= lr
    np.subtract(p_rows, g2, out=g2)
    return g2


def adagrad_dense(p, G, grad, lr):
    tmp = grad * grad
    G += tmp
    np.sqrt(G, out=tmp)
    tmp += ADAGRAD_EPS
    np.divide(grad, tmp, out=tmp)
    tmp *= lr
    p -= tmp


class GRU4Rec:
    def __init__(self, n_items, hidden=100, seed=1, dtype=np.float64):
        self.N, self.H = n_items, hidden
        self.dtype = dtype
        self.rng = np.random.default_rng(seed)
        H = hidden

        def uniform(rows, cols):
            s = math.sqrt(6.0 / (rows + cols))
            return self.rng.uniform(-s, s, size=(rows, cols)).astype(dtype)

        self.E = uniform(n_items, 3 * H)
        self.U = uniform(H, 3 * H)
        self.W = uniform(n_items, H)
        self.b = np.zeros(3 * H, dtype=dtype)
        self.c = np.zeros(n_items, dtype=dtype)
        # Adagrad accumulators
        self.GE = np.zeros_like(self.E)
        self.GU = np.zeros_like(self.U)
        self.GW = np.zeros_like(self.W)
        self.Gb = np.zeros_like(self.b)
        self.Gc = np.zeros_like(self.c)

    # ---- GRU step (forward only), used for the carried state of scoring
    def gru(self, h, x):
        H = self.H
        ex = self.E[x]
        a = ex[:, :2 * H] + h @ self.U[:, :2 * H] + self.b[:2 * H]
        zr = sigmoid(a)
        z, r = zr[:, :H], zr[:, H:]
        g = np.tanh(ex[:, 2 * H:] + (r * h) @ self.U[:, 2 * H:] + self.b[2 * H:])
        return h + z * (g - h)

    # ---- one training step: forward, loss, gradients (sparse rows)
    def step_grads(self, x, h, S, mask=None):
        """x: input items of the rows (R), h: their carried states (R x H), S: output columns,
        the rows' targets S[:R] then the negatives.  mask: dropout mask (R x H) or None.
        Returns (sum of the rows' losses, h' without dropout, grads) with grads =
        (ux, dE_u, dU, db, us, dW_u, dc_u, Wu): distinct input rows and their summed
        gradients, the full U and b gradients, distinct output rows, their summed gradients
        and their current W rows (a copy, reused by the update).
        The loss differentiated is the mean over the R rows."""
        H = self.H
        R = len(x)
        U = self.U
        # forward
        ex = self.E[x]
        a = ex[:, :2 * H] + h @ U[:, :2 * H] + self.b[:2 * H]
        zr = sigmoid(a)
        z, r = zr[:, :H], zr[:, H:]
        rh = r * h
        g = np.tanh(ex[:, 2 * H:] + rh @ U[:, 2 * H:] + self.b[2 * H:])
        hn = h + z * (g - h)
        hd = hn if mask is None else hn * mask
        # output over the distinct columns, duplicates counted
        us, inv = np.unique(S, return_inverse=True)
        counts = np.bincount(inv, minlength=len(us)).astype(self.dtype)
        Wu = self.W[us]
        Y = hd @ Wu.T + self.c[us]                      # R x |us|
        ymax = Y.max(axis=1, keepdims=True)
        e = np.exp(Y - ymax)
        denom = e @ counts                              # sum over all columns of S
        lse = ymax[:, 0] + np.log(denom)
        rows = np.arange(R)
        own = inv[:R]                                   # row i's target: column i of S
        loss = float(np.sum(lse - Y[rows, own]))
        # backward: dY summed over duplicate columns
        dY = e * (counts / denom[:, None])
        dY[rows, own] -= 1.0
        dY /= R
        dW_u = dY.T @ hd
        dc_u = dY.sum(axis=0)
        dh = dY @ Wu
        if mask is not None:
            dh *= mask
        dzh = dh * z
        dg = dzh * (1.0 - g * g)
        dz = dh * (g - h) * z * (1.0 - z)
        dr = (dg @ U[:, 2 * H:].T) * h * r * (1.0 - r)
        dX = np.concatenate((dz, dr, dg), axis=1)       # R x 3H
        dU = np.empty_like(U)
        dU[:, :2 * H] = h.T @ dX[:, :2 * H]
        dU[:, 2 * H:] = rh.T @ dg
        db = dX.sum(axis=0)
        ux, invx = np.unique(x, return_inverse=True)
        dE_u = sum_rows(invx, len(ux), dX)
        return loss, hn, (ux, dE_u, dU, db, us, dW_u, dc_u, Wu)

    def adagrad(self, grads, lr):
        ux, dE_u, dU, db, us, dW_u, dc_u, Wu = grads
        self.E[ux] = adagrad_rows(self.E[ux], self.GE, ux, dE_u, lr)
        adagrad_dense(self.U, self.GU, dU, lr)
        adagrad_dense(self.b, self.Gb, db, lr)
        self.W[us] = adagrad_rows(Wu, self.GW, us, dW_u, lr)
        self.c[us] = adagrad_rows(self.c[us], self.Gc, us, dc_u, lr)

    # ---- training
    def train_epoch(self, clicks, starts, ends, batch_size, n_sample, cdf, lr, dropout):
        """One epoch over the sessions (clicks[starts[s]..ends[s]], recency order, every session
        at least 2 clicks).  Returns (sum of row losses, rows)."""
        B, H = batch_size, self.H
        n_sess = len(starts)
        rng = self.rng
        h = np.zeros((B, H), dtype=self.dtype)
        k0 = min(B, n_sess)
        cur = np.zeros(B, dtype=np.int64)
        last = np.zeros(B, dtype=np.int64)
        active = np.zeros(B, dtype=bool)
        cur[:k0] = starts[:k0]
        last[:k0] = ends[:k0]
        active[:k0] = True
        nxt = k0
        rows = np.flatnonzero(active)
        total, n_rows = 0.0, 0
        keep = 1.0 - dropout
        while len(rows):
            pos = cur[rows]
            x = clicks[pos]
            t = clicks[pos + 1]
            if n_sample:
                neg = np.searchsorted(cdf, rng.random(n_sample), side='right')
                np.minimum(neg, self.N - 1, out=neg)
                S = np.concatenate((t, neg))
            else:
                S = t
            mask = None
            if dropout > 0:
                mask = (rng.random((len(rows), H)) >= dropout) * (1.0 / keep)
                mask = mask.astype(self.dtype)
            full = len(rows) == B
            hr = h if full else h[rows]
            loss, hn, grads = self.step_grads(x, hr, S, mask)
            self.adagrad(grads, lr)
            total += loss
            n_rows += len(rows)
            if full:
                h = hn
            else:
                h[rows] = hn
            # move on; finished slots take the next sessions (lower slot first)
            pos += 1
            cur[rows] = pos
            done = rows[pos == last[rows]]
            if len(done):
                k = min(len(done), n_sess - nxt)
                if k:
                    d = done[:k]
                    cur[d] = starts[nxt:nxt + k]
                    last[d] = ends[nxt:nxt + k]
                    h[d] = 0.0
                    nxt += k
                if k < len(done):
                    active[done[k:]] = False
                    rows = np.flatnonzero(active)
        return total, n_rows


# --------------------------------------------------------------------------------------------
# gradient check

def dense_grads(model, grads):
    ux, dE_u, dU, db, us, dW_u, dc_u, _ = grads
    dE = np.zeros_like(model.E)
    dE[ux] = dE_u
    dW = np.zeros_like(model.W)
    dW[us] = dW_u
    dc = np.zeros_like(model.c)
    dc[us] = dc_u
    return {'E': dE, 'U': dU, 'b': db, 'W': dW, 'c': dc}


def literal_loss(model, x, h, S, mask):
    """The specification's loss, written out row by row with the duplicated columns of S
    (independent of the folding in step_grads): mean over rows of -log softmax(Y[i, :])[i]."""
    H = model.H
    E, U, b, W, c = model.E, model.U, model.b, model.W, model.c
    total = 0.0
    for i in range(len(x)):
        hi = h[i]
        a = E[x[i], :2 * H] + hi @ U[:, :2 * H] + b[:2 * H]
        z = 1.0 / (1.0 + np.exp(-a[:H]))
        r = 1.0 / (1.0 + np.exp(-a[H:]))
        g = np.tanh(E[x[i], 2 * H:] + (r * hi) @ U[:, 2 * H:] + b[2 * H:])
        hn = (1.0 - z) * hi + z * g
        if mask is not None:
            hn = hn * mask[i]
        y = np.array([hn @ W[j] + c[j] for j in S])
        m = y.max()
        total += m + math.log(np.exp(y - m).sum()) - y[i]
    return total / len(x)


def gradcheck(seed=3):
    rng = np.random.default_rng(seed)
    N, H, R = 7, 4, 3
    model = GRU4Rec(N, H, seed=seed)
    # nonzero biases, so that their gradients are exercised at a generic point
    model.b[:] = rng.uniform(-0.5, 0.5, 3 * H)
    model.c[:] = rng.uniform(-0.5, 0.5, N)
    x = np.array([2, 5, 2])                        # a repeated input item
    h = rng.uniform(-0.9, 0.9, (R, H))             # the carried state (a constant)
    S = np.array([4, 1, 4, 0, 4, 6, 1, 1])         # targets 4 1 4, then 5 negatives
    worst = []
    for label, mask in (('no dropout', None),
                        ('dropout mask p=0.5', (rng.random((R, H)) >= 0.5) * 2.0)):
        loss, _, grads = model.step_grads(x, h, S, mask)
        analytic = dense_grads(model, grads)
        lit = literal_loss(model, x, h, S, mask)
        print('%s: loss %.15f (step), %.15f (literal, duplicated columns)' % (label, loss / R, lit))
        delta = 1e-3
        max_rel = max_abs = 0.0
        for name, g in analytic.items():
            p = getattr(model, name)
            num = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                f = {}
                for k in (-2, -1, 1, 2):
                    p[idx] = old + k * delta
                    f[k] = literal_loss(model, x, h, S, mask)
                p[idx] = old
                # central differences, 5-point stencil (error O(delta^4))
                num[idx] = (f[-2] - 8 * f[-1] + 8 * f[1] - f[2]) / (12 * delta)
            diff = np.abs(num - g)
            scale = np.maximum(np.abs(num), np.abs(g))
            big = scale > 1e-7
            rel = float((diff[big] / scale[big]).max()) if big.any() else 0.0
            print('  %-20s %-2s %3d entries (%3d nonzero)  max rel %.2e  max abs %.2e'
                  % (label, name, g.size, int(big.sum()), rel, float(diff.max())))
            max_rel = max(max_rel, rel)
            max_abs = max(max_abs, float(diff.max()))
        print('%s: max relative error %.2e, max absolute error %.2e'
              % (label, max_rel, max_abs))
        worst.append(max_rel)
    ok = max(worst) < 1e-6
    print('gradient check %s (max relative error %.2e)' % ('passed' if ok else 'FAILED',
                                                            max(worst)))
    return 0 if ok else 1


# --------------------------------------------------------------------------------------------
# data, evaluation

def prepare(train):
    """Training sessions (sid, ordered events) -> item list (id order), index, the clicks of
    the sessions of 2+ clicks in recency order (flattened, with starts and ends), popularity."""
    items = sorted(set(i for _, ev in train for _, i in ev), key=sref.id_key)
    index = {i: k for k, i in enumerate(items)}
    ordered = sorted(train, key=lambda se: (se[1][-1][0], sref.id_key(se[0])))
    pop = np.zeros(len(items), dtype=np.float64)
    seqs = []
    for _, ev in ordered:
        seq = [index[i] for _, i in ev]
        for k in seq:
            pop[k] += 1
        if len(seq) >= 2:
            seqs.append(seq)
    lens = np.array([len(s) for s in seqs], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
    ends = starts + lens - 1
    clicks = np.fromiter((k for s in seqs for k in s), dtype=np.int64, count=int(lens.sum()))
    return items, index, clicks, starts, ends, pop


def gru_metrics(model, index, queries):
    """hit@20 and MRR@20 of the softmax scores over queries (every query counts)."""
    nq = len(queries)
    if nq == 0:
        return float('nan'), float('nan')
    H = model.H
    # states of every query: a query of prefix t continues the query of prefix t - 1 of the
    # same session (queries come session by session, t = 1, 2, ...)
    hq = np.zeros((nq, H), dtype=model.dtype)
    known = np.zeros(nq, dtype=bool)
    tq = np.array([q['t'] for q in queries])
    item = np.array([index.get(q['items'][-1], -1) for q in queries])
    for t in range(1, int(tq.max()) + 1):
        sel = np.flatnonzero(tq == t)
        if t > 1:
            prev = sel - 1
            hq[sel] = hq[prev]
            known[sel] = known[prev]
        step = sel[item[sel] >= 0]
        if len(step):
            hq[step] = model.gru(hq[step], item[step])
            known[step] = True
    target = np.array([index.get(q['target'], -1) for q in queries])
    use = np.flatnonzero(known & (target >= 0))
    hits = 0
    rr = 0.0
    ids = np.arange(model.N)
    for a in range(0, len(use), 512):
        qi = use[a:a + 512]
        logits = hq[qi] @ model.W.T + model.c
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        tg = target[qi]
        st = p[np.arange(len(qi)), tg][:, None]
        rank = 1 + (p > st).sum(axis=1) + ((p == st) & (ids < tg[:, None])).sum(axis=1)
        ok = (rank <= TOP_N) & (st[:, 0] > 0)
        hits += int(ok.sum())
        rr += float((1.0 / rank[ok]).sum())
    return hits / nq, rr / nq


def run_evaluate(args):
    t0 = time.time()
    sessions, n_events = sref.read_events(args.evaluate)
    last_day = max(sref.day_of(max(ts for ts, _ in ev)) for ev in sessions.values())
    first_test_day = last_day - datetime.timedelta(days=args.split_days - 1)
    train, test = sref.split_sessions(sessions, first_test_day)
    del sessions
    items, index, clicks, starts, ends, pop = prepare(train)
    queries = sref.make_queries(test)
    step = 1
    if args.max_queries and len(queries) > args.max_queries:
        step = math.ceil(len(queries) / args.max_queries)
    qs = queries[::step]
    print('%s: %d events, read in %.1f s; test days %s .. %s'
          % (args.evaluate, n_events, time.time() - t0, first_test_day, last_day))
    print('train %d sessions (%d events, %d items; %d sessions of 2+ clicks, %d training '
          'pairs), test %d sessions, %d queries%s'
          % (len(train), int(pop.sum()), len(items), len(starts), len(clicks) - len(starts),
             len(test), len(queries),
             (', one in %d evaluated (%d)' % (step, len(qs))) if step > 1 else ''))
    dtype = np.float32 if args.dtype == 'float32' else np.float64
    print('gru4rec: epochs %d, hidden %d, batch_size %d, n_sample %d, sample_alpha %g, '
          'learning_rate %g, dropout %g, seed %d, %s, OPENBLAS_NUM_THREADS=%s'
          % (args.epochs, args.hidden, args.batch_size, args.n_sample, args.sample_alpha,
             args.learning_rate, args.dropout, args.seed, args.dtype,
             os.environ.get('OPENBLAS_NUM_THREADS')))
    print('load average at start: %s' % ' '.join('%.2f' % v for v in os.getloadavg()))
    w = pop ** args.sample_alpha
    cdf = np.cumsum(w / w.sum())
    t1 = time.time()
    model = GRU4Rec(len(items), args.hidden, args.seed, dtype)
    t_init = time.time() - t1
    epoch_times = []
    for epoch in range(1, args.epochs + 1):
        t1 = time.time()
        total, n_rows = model.train_epoch(clicks, starts, ends, args.batch_size, args.n_sample,
                                          cdf, args.learning_rate, args.dropout)
        dt = time.time() - t1
        epoch_times.append(dt)
        extra = ''
        if args.eval_each_epoch:
            extra = '  hit@20 %.4f  mrr@20 %.4f' % gru_metrics(model, index, qs)
        print('  epoch %2d: %7.2f s  loss %.5f  (%d rows)  load %.2f%s'
              % (epoch, dt, total / max(n_rows, 1), n_rows, os.getloadavg()[0], extra))
    print('training: init %.2f s, %.2f s per epoch (mean of %d), total %.1f s'
          % (t_init, sum(epoch_times) / len(epoch_times), len(epoch_times), sum(epoch_times)))
    t1 = time.time()
    hit, mrr = gru_metrics(model, index, qs)
    t_eval = time.time() - t1
    sm = sref.SessionModel(train)
    sm.train_markov()
    t1 = time.time()
    mhit, mmrr = sref.evaluate(sm, lambda m, q: m.markov(q['items']), qs)
    t_markov = time.time() - t1
    print()
    print('%-10s %8s %9s %9s %8s' % ('method', 'queries', 'hit@20', 'mrr@20', 'eval_s'))
    print('%-10s %8d %9.4f %9.4f %8.2f' % ('gru4rec', len(qs), hit, mrr, t_eval))
    print('%-10s %8d %9.4f %9.4f %8.2f' % ('markov', len(qs), mhit, mmrr, t_markov))
    print('\ntotal %.1f s; load average at end: %s'
          % (time.time() - t0, ' '.join('%.2f' % v for v in os.getloadavg())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--gradcheck', action='store_true')
    mode.add_argument('--evaluate', metavar='FILE')
    ap.add_argument('--split-days', type=int, default=2)
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--hidden', type=int, default=100)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--n-sample', type=int, default=512)
    ap.add_argument('--sample-alpha', type=float, default=0.75)
    ap.add_argument('--learning-rate', type=float, default=0.05)
    ap.add_argument('--dropout', type=float, default=0.0)
    ap.add_argument('--max-queries', type=int, default=0, help='0: every query')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64')
    ap.add_argument('--eval-each-epoch', action='store_true',
                    help='also hit@20 / MRR@20 after every epoch (not timed)')
    args = ap.parse_args()
    if args.gradcheck:
        return gradcheck()
    if not 0 <= args.dropout < 1:
        ap.error('--dropout must be in [0, 1)')
    run_evaluate(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
