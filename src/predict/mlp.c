/*-------------------------------------------------------------------------
 *
 * mlp.c
 *	  Multilayer perceptrons for classification and regression: the
 *	  training aggregate, the model payload and scoring.
 *
 * The network and its training are scikit-learn's MLPClassifier and
 * MLPRegressor with the Adam solver, so that users can carry their
 * settings over: fully connected hidden layers (relu, tanh, logistic or
 * identity), an output of one logistic unit (a boolean label), a softmax
 * over the classes (a text label) or one linear unit (a float8 target);
 * the mean log loss or half the mean squared error plus
 * alpha / (2 m) times the squared weights of a mini-batch of m rows; Glorot
 * uniform initial weights; rows shuffled every epoch; Adam's bias-corrected
 * steps; training stops when the epoch's loss (or, with early stopping,
 * the held-out accuracy or R^2) has not improved by tol for
 * n_iter_no_change epochs.  Beyond scikit-learn: inverted dropout on the
 * hidden layers, and features (and a regression target) standardized with
 * the training rows' mean and population standard deviation, kept in the
 * model so that scoring takes raw rows.
 *
 * Rows are put in the canonical order first and every random draw comes
 * from the seed, so a model depends on the rows, the options and the
 * number of BLAS threads only.  Products of a batch with a layer run on
 * BLAS (uba_dgemm); the backend checks for interrupts between batches.
 *
 * Payload: task (u32: 0 binary, 1 regression, 2 classes), activation
 * (u32), flags (u32: 1 standardized features, 2 standardized target,
 * 4 converged, 8 early stopping), layers L (u32, weight layers: hidden + 1),
 * sizes (L + 1 u32: the features, each hidden layer, the outputs), epochs
 * (u32), the last epoch's training loss and the best validation score
 * (f64; 0 without early stopping); the features' means and scales
 * (standardized), the target's mean and scale (standardized target),
 * the classes (task 2: core/classes.c); then per layer its weights
 * (in x out f64, row-major) and biases (out f64).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_mlp_transfn);
PG_FUNCTION_INFO_V1(uba_mlp_final);

#define MLP_BINARY 0
#define MLP_REGRESSION 1
#define MLP_CLASSES 2

#define MLP_RELU 0
#define MLP_TANH 1
#define MLP_LOGISTIC 2
#define MLP_IDENTITY 3

#define MLP_FLAG_STANDARDIZE 1
#define MLP_FLAG_STANDARDIZE_TARGET 2
#define MLP_FLAG_CONVERGED 4
#define MLP_FLAG_EARLY_STOPPING 8
#define MLP_FLAGS_KNOWN 15

/* the widest hidden layer, and the most parameters a model may have */
#define MLP_MAX_WIDTH 4096
#define MLP_MAX_LAYERS (UBA_OPT_MAX_SIZES + 1)
#define MLP_MAX_PARAMS ((Size) 1 << 28)

static const char *const activation_names[] = {"relu", "tanh", "logistic", "identity", NULL};
static const char *const task_names[] = {"binary", "regression", "multiclass"};

static const UbaOptionSpec mlp_options[] = {
	{"hidden_layer_sizes", UBA_OPT_SIZES, 100, 1, MLP_MAX_WIDTH, NULL},
	{"activation", UBA_OPT_CHOICE, MLP_RELU, 0, 0, activation_names},
	{"alpha", UBA_OPT_FLOAT, 1e-4, 0, 1e6, NULL},
	{"batch_size", UBA_OPT_INT, 200, 1, 1e6, NULL},
	{"learning_rate_init", UBA_OPT_FLOAT, 1e-3, 1e-12, 10, NULL},
	{"max_iter", UBA_OPT_INT, 200, 1, 100000, NULL},
	{"tol", UBA_OPT_FLOAT, 1e-4, 0, 1, NULL},
	{"n_iter_no_change", UBA_OPT_INT, 10, 1, 100000, NULL},
	{"early_stopping", UBA_OPT_BOOL, 0, 0, 1, NULL},
	{"validation_fraction", UBA_OPT_FLOAT, 0.1, 0.001, 0.5, NULL},
	{"beta_1", UBA_OPT_FLOAT, 0.9, 0, 0.999999, NULL},
	{"beta_2", UBA_OPT_FLOAT, 0.999, 0, 0.99999999, NULL},
	{"epsilon", UBA_OPT_FLOAT, 1e-8, 1e-300, 1, NULL},
	{"dropout", UBA_OPT_FLOAT, 0, 0, 0.9, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"standardize", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"standardize_target", UBA_OPT_BOOL, 1, 0, 1, NULL},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

/* The network's shape and parameters: each layer's weights (in x out) then biases */
typedef struct MlpNet
{
	int			L;				/* weight layers */
	int			sizes[MLP_MAX_LAYERS + 1];
	Size		woff[MLP_MAX_LAYERS];	/* where each layer's weights start in params */
	Size		boff[MLP_MAX_LAYERS];
	Size		nparams;
	int			widest;
	int			activation;
	int			task;
	double	   *params;
} MlpNet;

/* Lay out the parameters of a network of the given sizes; false when it is too large */
static bool
Layout(MlpNet *net)
{
	Size		at = 0;

	net->widest = 0;
	for (int l = 0; l < net->L; l++)
	{
		Size		in = net->sizes[l],
					out = net->sizes[l + 1];

		net->woff[l] = at;
		at += in * out;
		net->boff[l] = at;
		at += out;
		if (at > MLP_MAX_PARAMS)
			return false;
	}
	for (int l = 0; l <= net->L; l++)
		net->widest = Max(net->widest, net->sizes[l]);
	net->nparams = at;
	return true;
}

/* ---------- the transition ---------- */

static void
ParseOptions(Jsonb *opts, bool typed, UbaOptions *o)
{
	uba_parse_row_options(opts, mlp_options, lengthof(mlp_options), "uba_mlp_train",
						  typed, UBA_ENC_ONEHOT, o);
}

/*
 * uba_mlp_train(label, features [, options]) transition: a boolean label
 * trains a binary classifier, a float8 target a regressor, a text label a
 * classifier of its classes; features are a float8[] or a typed row.
 */
Datum
uba_mlp_transfn(PG_FUNCTION_ARGS)
{
	Oid			ltype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	int			task = ltype == BOOLOID ? MLP_BINARY : ltype == FLOAT8OID ? MLP_REGRESSION : MLP_CLASSES;
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	bool		typed = rs != NULL ? rs->enc != NULL : uba_arg_is_row(fcinfo, 2);
	double		y = 0;

	/* rows with no label or no features are skipped, as built-in aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	if (task == MLP_BINARY)
		y = PG_GETARG_BOOL(1) ? 1.0 : 0.0;
	else if (task == MLP_REGRESSION)
	{
		y = PG_GETARG_FLOAT8(1);
		uba_check_finite(y, "targets");
	}
	if (rs == NULL)
	{
		UbaOptions	o;

		ParseOptions(opts, typed, &o);
		/* the task rides in the row set's integer parameter */
		if (typed)
			rs = uba_rowset_start_row(fcinfo, 2, true, task, opts, UBA_ENC_ONEHOT, "uba_mlp_train");
		else
		{
			uba_options_check_names(&o, uba_feature_count(PG_GETARG_ARRAYTYPE_P(2)));
			rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(2), true, task, opts);
		}
	}
	else
		uba_check_same_options(rs->options, opts);
	if (task == MLP_CLASSES)
		y = uba_rowset_text_label(rs, PG_GETARG_DATUM(1));
	if (typed)
		uba_rowset_add_row(rs, fcinfo, 2, y);
	else
		uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(2), y);
	PG_RETURN_POINTER(rs);
}

/* ---------- the forward and backward passes ---------- */

/* The hidden activation of a batch, in place */
static void
Activate(int activation, double *a, Size n)
{
	switch (activation)
	{
		case MLP_RELU:
			for (Size i = 0; i < n; i++)
				a[i] = a[i] > 0 ? a[i] : 0;
			break;
		case MLP_TANH:
			for (Size i = 0; i < n; i++)
				a[i] = tanh(a[i]);
			break;
		case MLP_LOGISTIC:
			for (Size i = 0; i < n; i++)
				a[i] = uba_sigmoid(a[i]);
			break;
		default:
			break;
	}
}

/* delta *= the activation's derivative, from the activation's values h */
static void
Derivative(int activation, const double *h, double *delta, Size n)
{
	switch (activation)
	{
		case MLP_RELU:
			for (Size i = 0; i < n; i++)
				delta[i] = h[i] > 0 ? delta[i] : 0;
			break;
		case MLP_TANH:
			for (Size i = 0; i < n; i++)
				delta[i] *= 1 - h[i] * h[i];
			break;
		case MLP_LOGISTIC:
			for (Size i = 0; i < n; i++)
				delta[i] *= h[i] * (1 - h[i]);
			break;
		default:
			break;
	}
}

/*
 * Scratch of a batch of up to m rows: each layer's activations (H, the
 * input of the next layer after dropout's mask), masks and the deltas.
 */
typedef struct MlpBatch
{
	int			m;
	double	   *h[MLP_MAX_LAYERS + 1];	/* h[0] is the batch's rows; h[L] the output's scores */
	double	   *mask[MLP_MAX_LAYERS];	/* hidden layers with dropout: 0 or 1 / (1 - p) */
	double	   *in[MLP_MAX_LAYERS];	/* what layer l reads: h[l], or h[l] masked */
	double	   *delta;			/* m x widest, twice */
	double	   *delta2;
} MlpBatch;

static void
BatchInit(MlpBatch *b, const MlpNet *net, int m, bool dropout)
{
	b->m = m;
	for (int l = 0; l <= net->L; l++)
		b->h[l] = palloc(sizeof(double) * m * net->sizes[l]);
	for (int l = 0; l < net->L; l++)
	{
		b->mask[l] = (dropout && l > 0) ? palloc(sizeof(double) * m * net->sizes[l]) : NULL;
		b->in[l] = b->mask[l] ? palloc(sizeof(double) * m * net->sizes[l]) : b->h[l];
	}
	b->delta = palloc(sizeof(double) * m * net->widest);
	b->delta2 = palloc(sizeof(double) * m * net->widest);
}

/* The batch's bytes, for the memory check */
static Size
BatchBytes(const MlpNet *net, int m, bool dropout)
{
	Size		cells = 2 * (Size) net->widest;

	for (int l = 0; l <= net->L; l++)
		cells += (Size) net->sizes[l] * (dropout && l > 0 && l < net->L ? 3 : 1);
	return mul_size(mul_size(cells, m), sizeof(double));
}

/*
 * Forward pass of the m rows in b->h[0]: the last layer's raw scores in
 * b->h[L].  In training (rng given) with dropout the hidden layers' masks
 * are drawn and each layer reads its masked input (b->in); otherwise every
 * layer reads b->h unmasked (scoring, the held-out score).
 */
static void
Forward(const MlpNet *net, MlpBatch *b, int m, double dropout, UbaRandom *rng)
{
	for (int l = 0; l < net->L; l++)
	{
		int			in = net->sizes[l],
					out = net->sizes[l + 1];
		const double *bias = net->params + net->boff[l];
		const double *input = b->h[l];
		double	   *z = b->h[l + 1];

		if (rng != NULL && b->mask[l] != NULL)
		{
			double		keep = 1.0 / (1.0 - dropout);

			for (Size i = 0; i < (Size) m * in; i++)
			{
				b->mask[l][i] = uba_random_double(rng) < dropout ? 0 : keep;
				b->in[l][i] = b->h[l][i] * b->mask[l][i];
			}
			input = b->in[l];
		}
		for (int i = 0; i < m; i++)
			memcpy(z + (Size) i * out, bias, sizeof(double) * out);
		uba_dgemm(false, false, m, out, in, 1.0, input, in, net->params + net->woff[l], out, 1.0, z, out);
		if (l + 1 < net->L)
			Activate(net->activation, z, (Size) m * out);
	}
}

/* The softmax of k scores in place; returns log(sum(exp(z))) of the scores given */
static double
Softmax(double *z, int k)
{
	double		mx = z[0],
				sum = 0;

	for (int j = 1; j < k; j++)
		mx = Max(mx, z[j]);
	for (int j = 0; j < k; j++)
		sum += (z[j] = exp(z[j] - mx));
	for (int j = 0; j < k; j++)
		z[j] /= sum;
	return mx + log(sum);
}

/*
 * The output's loss for the m rows of targets y (scores in z, m x k), and
 * z turned into the delta of the scores: probabilities (or the value)
 * minus the target.  The loss from the scores directly: log(1 + e^-|z|)
 * keeps full precision where a clipped probability would not.
 */
static double
OutputLoss(int task, double *z, const double *y, int m, int k)
{
	double		loss = 0;

	for (int i = 0; i < m; i++)
	{
		double	   *zi = z + (Size) i * k;

		if (task == MLP_BINARY)
		{
			double		s = zi[0];

			loss += log1p(exp(-fabs(s))) + (s > 0 ? s : 0) - y[i] * s;
			zi[0] = uba_sigmoid(s) - y[i];
		}
		else if (task == MLP_REGRESSION)
		{
			double		r = zi[0] - y[i];

			loss += 0.5 * r * r;
			zi[0] = r;
		}
		else
		{
			int			c = (int) y[i];
			double		zc = zi[c];

			loss += Softmax(zi, k) - zc;
			zi[c] -= 1.0;
		}
	}
	return loss;
}

/*
 * Gradient of the batch's mean loss plus its L2 term into grad, from the
 * output deltas in b->h[L] (as OutputLoss left them).
 */
static void
Backward(const MlpNet *net, MlpBatch *b, int m, double alpha, double *grad)
{
	double	   *delta = b->h[net->L];	/* m x out of the current layer */
	double	   *spare[2] = {b->delta, b->delta2};
	int			which = 0;

	for (int l = net->L - 1; l >= 0; l--)
	{
		int			in = net->sizes[l],
					out = net->sizes[l + 1];
		const double *W = net->params + net->woff[l];
		double	   *gW = grad + net->woff[l];
		double	   *gb = grad + net->boff[l];

		/* gW = (in^T delta + alpha W) / m; gb = the deltas' mean */
		memcpy(gW, W, sizeof(double) * in * out);
		uba_dgemm(true, false, in, out, m, 1.0 / m, b->in[l], in, delta, out, alpha / m, gW, out);
		for (int j = 0; j < out; j++)
			gb[j] = 0;
		for (int i = 0; i < m; i++)
			for (int j = 0; j < out; j++)
				gb[j] += delta[(Size) i * out + j];
		for (int j = 0; j < out; j++)
			gb[j] /= m;
		if (l == 0)
			break;
		/* the delta of layer l's activations: delta W^T, through the mask and the derivative */
		{
			double	   *next = spare[which];

			which ^= 1;
			uba_dgemm(false, true, m, in, out, 1.0, delta, out, W, out, 0.0, next, in);
			if (b->mask[l] != NULL)
				for (Size i = 0; i < (Size) m * in; i++)
					next[i] *= b->mask[l][i];
			Derivative(net->activation, b->h[l], next, (Size) m * in);
			delta = next;
		}
	}
}

/* Half the squared weights (not the biases), for the loss's L2 term */
static double
HalfSquaredWeights(const MlpNet *net)
{
	double		s = 0;

	for (int l = 0; l < net->L; l++)
	{
		const double *W = net->params + net->woff[l];
		Size		n = (Size) net->sizes[l] * net->sizes[l + 1];

		for (Size i = 0; i < n; i++)
			s += W[i] * W[i];
	}
	return 0.5 * s;
}

/* ---------- training ---------- */

typedef struct MlpTrain
{
	const UbaOptions *o;
	MlpNet	   *net;
	const double *X;			/* n x d, standardized when asked */
	const double *y;			/* n: 0/1, the (standardized) target, or the class */
	int64	   *train;			/* rows trained on, shuffled every epoch */
	int64		ntrain;
	int64	   *valid;			/* rows held out (early stopping) */
	int64		nvalid;
} MlpTrain;

/* Gather rows idx[0..m) into the batch's input and targets */
static void
Gather(const MlpTrain *t, const int64 *idx, int m, double *x, double *y)
{
	int			d = t->net->sizes[0];

	for (int i = 0; i < m; i++)
	{
		memcpy(x + (Size) i * d, t->X + (Size) idx[i] * d, sizeof(double) * d);
		y[i] = t->y[idx[i]];
	}
}

/* The held-out rows' accuracy (classifiers) or R^2 (regression) */
static double
ValidationScore(const MlpTrain *t, MlpBatch *b, double *yb)
{
	const MlpNet *net = t->net;
	int			k = net->sizes[net->L];
	double		hits = 0,
				sse = 0,
				sum = 0,
				sumsq = 0;

	for (int64 i0 = 0; i0 < t->nvalid; i0 += b->m)
	{
		int			m = (int) Min((int64) b->m, t->nvalid - i0);

		Gather(t, t->valid + i0, m, b->h[0], yb);
		Forward(net, b, m, 0, NULL);
		for (int i = 0; i < m; i++)
		{
			const double *z = b->h[net->L] + (Size) i * k;

			if (net->task == MLP_REGRESSION)
			{
				sse += (z[0] - yb[i]) * (z[0] - yb[i]);
				sum += yb[i];
				sumsq += yb[i] * yb[i];
			}
			else if (net->task == MLP_BINARY)
				hits += (z[0] >= 0) == (yb[i] > 0.5);
			else
			{
				int			best = 0;

				for (int j = 1; j < k; j++)
					if (z[j] > z[best])
						best = j;
				hits += best == (int) yb[i];
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	if (net->task == MLP_REGRESSION)
	{
		double		sst = sumsq - sum * sum / t->nvalid;

		return sst > 0 ? 1 - sse / sst : (sse == 0 ? 1 : 0);
	}
	return hits / t->nvalid;
}

/* Fisher-Yates with the run's generator */
static void
Shuffle(int64 *v, int64 n, UbaRandom *rng)
{
	for (int64 i = n - 1; i > 0; i--)
	{
		int64		j = (int64) uba_random_below(rng, (uint64) i + 1);
		int64		tmp = v[i];

		v[i] = v[j];
		v[j] = tmp;
	}
}

/*
 * Adam over mini-batches until the loss (or the held-out score) stops
 * improving; the network ends at the best held-out score with early
 * stopping.  Returns the epochs run; *loss the last epoch's mean training
 * loss, *score the best held-out score, *converged whether it stopped
 * before max_iter.
 */
static int
Fit(MlpTrain *t, UbaRandom *rng, double *loss_out, double *score_out, bool *converged)
{
	const UbaOptions *o = t->o;
	MlpNet	   *net = t->net;
	int			k = net->sizes[net->L];
	int			bs = (int) Min((int64) uba_option(o, "batch_size"), t->ntrain);
	int			max_iter = (int) uba_option(o, "max_iter");
	int			patience = (int) uba_option(o, "n_iter_no_change");
	double		tol = uba_option(o, "tol");
	double		lr = uba_option(o, "learning_rate_init");
	double		beta1 = uba_option(o, "beta_1");
	double		beta2 = uba_option(o, "beta_2");
	double		eps = uba_option(o, "epsilon");
	double		alpha = uba_option(o, "alpha");
	double		dropout = uba_option(o, "dropout");
	bool		early = t->nvalid > 0;
	Size		P = net->nparams;
	double	   *grad = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * P);
	double	   *m1 = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * P);
	double	   *m2 = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * P);
	double	   *best = early ? MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * P) : NULL;
	double	   *yb = palloc(sizeof(double) * bs);
	double		best_loss = INFINITY,
				best_score = -INFINITY,
				loss = 0;
	double		pow1 = 1,
				pow2 = 1;
	int			stale = 0,
				epoch;
	MlpBatch	b;

	memset(m1, 0, sizeof(double) * P);
	memset(m2, 0, sizeof(double) * P);
	BatchInit(&b, net, bs, dropout > 0);
	*converged = false;
	for (epoch = 1; epoch <= max_iter; epoch++)
	{
		double		total = 0;

		Shuffle(t->train, t->ntrain, rng);
		for (int64 i0 = 0; i0 < t->ntrain; i0 += bs)
		{
			int			m = (int) Min((int64) bs, t->ntrain - i0);
			double		lr_t;

			CHECK_FOR_INTERRUPTS();
			Gather(t, t->train + i0, m, b.h[0], yb);
			Forward(net, &b, m, dropout, rng);
			total += OutputLoss(net->task, b.h[net->L], yb, m, k) + alpha * HalfSquaredWeights(net);
			Backward(net, &b, m, alpha, grad);
			/* Adam: moments of the gradient, bias-corrected into the step size */
			pow1 *= beta1;
			pow2 *= beta2;
			lr_t = lr * sqrt(1 - pow2) / (1 - pow1);
			for (Size p = 0; p < P; p++)
			{
				m1[p] = beta1 * m1[p] + (1 - beta1) * grad[p];
				m2[p] = beta2 * m2[p] + (1 - beta2) * grad[p] * grad[p];
				net->params[p] -= lr_t * m1[p] / (sqrt(m2[p]) + eps);
			}
		}
		loss = total / t->ntrain;
		if (!isfinite(loss))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the multilayer perceptron's training diverged at epoch %d", epoch),
					 errdetail("The training loss is not finite."),
					 errhint("Lower \"learning_rate_init\", or keep \"standardize\" on.")));
		if (early)
		{
			double		score = ValidationScore(t, &b, yb);

			uba_progress(o, "uba_mlp_train: epoch %d: loss %.6f, validation %s %.6f", epoch, loss,
						 net->task == MLP_REGRESSION ? "R^2" : "accuracy", score);
			stale = score < best_score + tol ? stale + 1 : 0;
			if (score > best_score)
			{
				best_score = score;
				memcpy(best, net->params, sizeof(double) * P);
			}
		}
		else
		{
			uba_progress(o, "uba_mlp_train: epoch %d: loss %.6f", epoch, loss);
			stale = loss > best_loss - tol ? stale + 1 : 0;
			if (loss < best_loss)
				best_loss = loss;
		}
		if (stale > patience)
		{
			*converged = true;
			break;
		}
	}
	if (epoch > max_iter)
		epoch = max_iter;
	if (early)
		memcpy(net->params, best, sizeof(double) * P);
	*loss_out = loss;
	*score_out = early ? best_score : 0;
	return epoch;
}

/* Glorot's uniform initialization, as scikit-learn's: weights and biases in +-sqrt(f / (in + out)) */
static void
Initialize(MlpNet *net, UbaRandom *rng)
{
	double		factor = net->activation == MLP_LOGISTIC ? 2.0 : 6.0;

	for (int l = 0; l < net->L; l++)
	{
		int			in = net->sizes[l],
					out = net->sizes[l + 1];
		double		bound = sqrt(factor / (in + out));
		Size		n = (Size) in * out + out;	/* weights then biases, adjacent */

		for (Size i = 0; i < n; i++)
			net->params[net->woff[l] + i] = (2 * uba_random_double(rng) - 1) * bound;
	}
}

/* uba_mlp_train final function: train and return the model */
Datum
uba_mlp_final(PG_FUNCTION_ARGS)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	UbaOptions	o;
	MlpNet		net;
	MlpTrain	t;
	UbaRandom	rng;
	UbaWriter	pw,
				classes;
	UbaModelMeta meta;
	MemoryContext cxt,
				old;
	double	   *mean,
			   *scale,
				ymean = 0,
				yscale = 1,
				loss,
				score;
	bool		standardize,
				standardize_y,
				converged,
				early;
	int			nhidden,
				epochs,
				k = 1;
	const double *hidden;
	uint32		flags = 0;
	bytea	   *result;

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	ParseOptions(rs->options, rs->enc != NULL, &o);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba mlp", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	uba_rowset_canonical_order(rs);
	uba_check_feature_scale(rs->mean, rs->var, rs->dim, rs->enc ? rs->enc->feature_names : o.names);
	memset(&net, 0, sizeof(net));
	net.task = rs->iparam;
	net.activation = (int) uba_option(&o, "activation");
	standardize = uba_option(&o, "standardize") != 0;
	standardize_y = net.task == MLP_REGRESSION && uba_option(&o, "standardize_target") != 0;
	early = uba_option(&o, "early_stopping") != 0;

	/* the outputs: one score, or one per class (their section written now, y made class indexes) */
	if (net.task == MLP_CLASSES)
		k = uba_rowset_classes(rs, &classes);
	else if (net.task == MLP_BINARY)
	{
		int64		npos = 0;

		for (int64 i = 0; i < rs->n; i++)
			npos += rs->y[i] > 0;
		if (npos == 0 || npos == rs->n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a classifier needs rows of both classes"),
					 errdetail("All " INT64_FORMAT " rows have label %s.", rs->n, npos ? "true" : "false")));
	}

	hidden = uba_option_list(&o, &nhidden);
	net.L = nhidden + 1;
	net.sizes[0] = rs->dim;
	for (int l = 0; l < nhidden; l++)
		net.sizes[l + 1] = (int) hidden[l];
	net.sizes[net.L] = k;
	if (!Layout(&net))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the multilayer perceptron would have more than %zu parameters", MLP_MAX_PARAMS),
				 errhint("Use fewer or narrower hidden layers.")));

	/* parameters, gradient, Adam's moments and the best held-out ones; the batch; row indexes */
	{
		int			bs = (int) Min((int64) uba_option(&o, "batch_size"), rs->n);
		Size		bytes = mul_size(net.nparams, 5 * sizeof(double));

		bytes = add_size(bytes, BatchBytes(&net, bs, uba_option(&o, "dropout") > 0));
		bytes = add_size(bytes, mul_size((Size) rs->n, sizeof(int64)));
		uba_check_memory(bytes, "multilayer perceptron training");
	}

	/* standardize the features (and a regression target) on the training rows' moments */
	mean = palloc(sizeof(double) * rs->dim);
	scale = palloc(sizeof(double) * rs->dim);
	if (standardize)
	{
		double	   *var = palloc(sizeof(double) * rs->dim);

		uba_rowset_moments(rs, mean, var);
		uba_standardize(rs->x, rs->n, rs->dim, mean, var, scale);
		flags |= MLP_FLAG_STANDARDIZE;
	}
	if (standardize_y)
	{
		double		s = 0,
					ss = 0;

		for (int64 i = 0; i < rs->n; i++)
			s += rs->y[i];
		ymean = s / rs->n;
		for (int64 i = 0; i < rs->n; i++)
			ss += (rs->y[i] - ymean) * (rs->y[i] - ymean);
		yscale = sqrt(ss / rs->n);
		if (!(yscale > 1e-300) || !isfinite(yscale))
			yscale = 1;
		for (int64 i = 0; i < rs->n; i++)
			rs->y[i] = (rs->y[i] - ymean) / yscale;
		flags |= MLP_FLAG_STANDARDIZE_TARGET;
	}

	/* the rows: a held-out share for early stopping, drawn from the seed */
	uba_random_seed(&rng, (uint64) uba_option(&o, "seed"));
	memset(&t, 0, sizeof(t));
	t.o = &o;
	t.net = &net;
	t.X = rs->x;
	t.y = rs->y;
	t.train = MemoryContextAllocHuge(cxt, sizeof(int64) * rs->n);
	for (int64 i = 0; i < rs->n; i++)
		t.train[i] = i;
	t.ntrain = rs->n;
	if (early)
	{
		int64		nvalid = (int64) ceil(uba_option(&o, "validation_fraction") * rs->n);

		if (nvalid < 1 || rs->n - nvalid < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("early stopping needs rows to train on and rows to hold out"),
					 errdetail("There are " INT64_FORMAT " rows; \"validation_fraction\" %g holds out " INT64_FORMAT ".",
							   rs->n, uba_option(&o, "validation_fraction"), nvalid)));
		Shuffle(t.train, rs->n, &rng);
		t.valid = t.train + (rs->n - nvalid);
		t.nvalid = nvalid;
		t.ntrain = rs->n - nvalid;
		flags |= MLP_FLAG_EARLY_STOPPING;
	}

	net.params = MemoryContextAllocHuge(cxt, sizeof(double) * net.nparams);
	Initialize(&net, &rng);
	epochs = Fit(&t, &rng, &loss, &score, &converged);
	if (converged)
		flags |= MLP_FLAG_CONVERGED;
	else
		ereport(NOTICE,
				(errmsg("the multilayer perceptron did not converge in %d epochs", epochs),
				 errdetail("Training reached \"max_iter\" before the %s had stopped improving by more than \"tol\" (%g) for %d epochs.",
						   early ? "held-out score" : "training loss", uba_option(&o, "tol"),
						   (int) uba_option(&o, "n_iter_no_change")),
				 errhint("Raise \"max_iter\", or accept the model as it is.")));
	for (Size p = 0; p < net.nparams; p++)
		if (!isfinite(net.params[p]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the multilayer perceptron's training diverged"),
					 errdetail("A weight is not finite."),
					 errhint("Lower \"learning_rate_init\", or keep \"standardize\" on.")));

	uba_writer_init(&pw);
	uba_put_u32(&pw, (uint32) net.task);
	uba_put_u32(&pw, (uint32) net.activation);
	uba_put_u32(&pw, flags);
	uba_put_u32(&pw, (uint32) net.L);
	for (int l = 0; l <= net.L; l++)
		uba_put_u32(&pw, (uint32) net.sizes[l]);
	uba_put_u32(&pw, (uint32) epochs);
	uba_put_f64(&pw, loss);
	uba_put_f64(&pw, score);
	if (standardize)
	{
		uba_put_f64_array(&pw, mean, rs->dim);
		uba_put_f64_array(&pw, scale, rs->dim);
	}
	if (standardize_y)
	{
		uba_put_f64(&pw, ymean);
		uba_put_f64(&pw, yscale);
	}
	if (net.task == MLP_CLASSES)
		appendBinaryStringInfo(&pw.buf, classes.buf.data, classes.buf.len);
	uba_put_f64_array(&pw, net.params, net.nparams);

	uba_model_meta_init(&meta, rs->dim, rs->n, rs->started, &o);
	uba_encoding_attach(&meta, rs->enc);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_MLP, &meta, &pw);
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- the model ---------- */

typedef struct MlpModel
{
	MlpNet		net;
	uint32		flags;
	int			epochs;
	double		loss;
	double		score;
	double	   *mean;			/* standardized features: means and scales, else NULL */
	double	   *scale;
	double		ymean;
	double		yscale;
	UbaClasses	classes;
	MlpBatch	b;				/* scratch for one row */
	double	   *proba;
} MlpModel;

static const char *const binary_labels[] = {"false", "true"};

/* Parse and fully validate a multilayer perceptron payload */
static void *
ParseMlp(const UbaModelMeta *meta, UbaReader *r)
{
	MlpModel   *m = palloc0(sizeof(MlpModel));
	MlpNet	   *net = &m->net;
	uint32		L;
	int			d = meta->n_features;

	net->task = (int) uba_get_u32(r);
	net->activation = (int) uba_get_u32(r);
	m->flags = uba_get_u32(r);
	L = uba_get_u32(r);
	if (net->task < MLP_BINARY || net->task > MLP_CLASSES)
		uba_model_corrupted("Unknown multilayer perceptron task %d.", net->task);
	if (net->activation < MLP_RELU || net->activation > MLP_IDENTITY)
		uba_model_corrupted("Unknown activation %d.", net->activation);
	if ((m->flags & ~MLP_FLAGS_KNOWN) != 0)
		uba_model_corrupted("Unknown multilayer perceptron flags.");
	if ((m->flags & MLP_FLAG_STANDARDIZE_TARGET) && net->task != MLP_REGRESSION)
		uba_model_corrupted("A classifier with a standardized target.");
	if (L < 1 || L > MLP_MAX_LAYERS)
		uba_model_corrupted("A multilayer perceptron of %u layers.", L);
	net->L = (int) L;
	for (int l = 0; l <= net->L; l++)
	{
		uint32		s = uba_get_u32(r);

		if (s < 1 || s > (l == 0 ? UBA_MAX_FEATURES : MLP_MAX_WIDTH))
			uba_model_corrupted("Layer %d has %u units.", l, s);
		net->sizes[l] = (int) s;
	}
	if (net->sizes[0] != d)
		uba_model_corrupted("The network reads %d features, metadata says %d.", net->sizes[0], d);
	if (!Layout(net))
		uba_model_corrupted("The network has too many parameters.");
	m->epochs = (int) uba_get_u32(r);
	m->loss = uba_get_finite_f64(r);
	m->score = uba_get_finite_f64(r);
	if (m->flags & MLP_FLAG_STANDARDIZE)
		uba_get_scaling(r, d, &m->mean, &m->scale);
	m->yscale = 1;
	if (m->flags & MLP_FLAG_STANDARDIZE_TARGET)
	{
		m->ymean = uba_get_finite_f64(r);
		m->yscale = uba_get_finite_f64(r);
		if (!(m->yscale > 0))
			uba_model_corrupted("Non-positive target scale.");
	}
	if (net->task == MLP_CLASSES)
	{
		uba_get_classes(r, &m->classes);
		if (m->classes.kind != UBA_CLASSES_TEXT || net->sizes[net->L] != m->classes.k)
			uba_model_corrupted("The network has %d outputs for %d classes.", net->sizes[net->L], m->classes.k);
	}
	else if (net->sizes[net->L] != 1)
		uba_model_corrupted("The network has %d outputs, expected 1.", net->sizes[net->L]);
	uba_reader_check_space(r, net->nparams, sizeof(double));
	net->params = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * net->nparams);
	uba_get_f64_array(r, net->params, net->nparams, true);
	uba_reader_finish(r);
	BatchInit(&m->b, net, 1, false);
	m->proba = palloc(sizeof(double) * Max(2, net->sizes[net->L]));
	return m;
}

/* Summary for uba_model_info() */
void
uba_mlp_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	MlpModel   *m = ParseMlp(meta, payload);

	appendStringInfo(json, ", \"task\": \"%s\", \"activation\": \"%s\", \"layers\": [",
					 task_names[m->net.task], activation_names[m->net.activation]);
	for (int l = 0; l <= m->net.L; l++)
		appendStringInfo(json, "%s%d", l > 0 ? ", " : "", m->net.sizes[l]);
	appendStringInfo(json, "], \"parameters\": %zu, \"epochs\": %d, \"converged\": %s, \"loss\": %.17g",
					 m->net.nparams, m->epochs, (m->flags & MLP_FLAG_CONVERGED) ? "true" : "false", m->loss);
	if (m->flags & MLP_FLAG_EARLY_STOPPING)
		appendStringInfo(json, ", \"validation\": {\"metric\": \"%s\", \"value\": %.17g}",
						 m->net.task == MLP_REGRESSION ? "r2" : "accuracy", m->score);
	appendStringInfo(json, ", \"standardized\": %s", (m->flags & MLP_FLAG_STANDARDIZE) ? "true" : "false");
	if (m->net.task == MLP_CLASSES)
		uba_classes_json(json, &m->classes);
}

/* The output scores of one row of features (raw, as the caller gives them) */
static const double *
Scores(MlpModel *m, const double *x)
{
	int			d = m->net.sizes[0];

	memcpy(m->b.h[0], x, sizeof(double) * d);
	uba_standardize_row(m->b.h[0], d, m->mean, m->scale);
	Forward(&m->net, &m->b, 1, 0, NULL);
	return m->b.h[m->net.L];
}

/* uba_predict: P(true) of a binary classifier, the value of a regressor */
double
uba_mlp_score(FunctionCallInfo fcinfo, const double *x)
{
	MlpModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_MLP, ParseMlp);
	const double *z = Scores(m, x);

	if (m->net.task == MLP_CLASSES)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a multi-class model of text labels predicts text"),
				 errhint("Use uba_predict_class(model, features) for the class, uba_predict_proba(model, features) for the probabilities.")));
	if (m->net.task == MLP_BINARY)
		return uba_sigmoid(z[0]);
	return z[0] * m->yscale + m->ymean;
}

/* uba_predict_proba and uba_predict_class: the class probabilities and their labels */
int
uba_mlp_classes(FunctionCallInfo fcinfo, const double *x, const double **p, const char *const **labels)
{
	MlpModel   *m = uba_model_cached(fcinfo, 0, UBA_KIND_MLP, ParseMlp);
	const double *z = Scores(m, x);
	int			k = m->net.sizes[m->net.L];

	if (m->net.task == MLP_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a regression model has no classes"),
				 errhint("Use uba_predict(model, features) for its value.")));
	if (m->net.task == MLP_BINARY)
	{
		m->proba[1] = uba_sigmoid(z[0]);
		m->proba[0] = 1 - m->proba[1];
		*p = m->proba;
		*labels = binary_labels;
		return 2;
	}
	memcpy(m->proba, z, sizeof(double) * k);
	(void) Softmax(m->proba, k);
	*p = m->proba;
	*labels = (const char *const *) m->classes.labels;
	return k;
}
