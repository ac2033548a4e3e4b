/*-------------------------------------------------------------------------
 *
 * boost.c
 *	  Gradient-boosted trees: uba_boost_train trains with XGBoost's C
 *	  library (hist method), and the trees are stored in uba's own format
 *	  and scored by uba's own evaluator, validated like every model.
 *
 * Training: the rows (in the row set's canonical order, so the model does
 * not depend on row order or plan) become a float32 matrix, XGBoost runs
 * one boosting round at a time (interrupts are checked between rounds),
 * and its JSON model is read into the payload below.  XGBoost's threads
 * (OpenMP) only ever start in a backend, never in the postmaster: a
 * process forked after an OpenMP parallel region can hang in its next
 * one, and backends are forked from the postmaster.  Its handles are freed
 * by a memory context callback, so an error or a cancel frees them too.
 * Before the model is returned, the evaluator's margins on the training
 * rows are compared with XGBoost's own predictions, and TreeSHAP's values
 * on the first rows (100, fewer for deep ensembles) with XGBoost's
 * pred_contribs; the largest
 * differences are stored in the model (uba_model_info:
 * xgboost_margin_difference, xgboost_shap_difference).
 *
 * Scoring follows XGBoost: a feature value is compared as float32,
 * x < threshold goes left, the leaf values add up to the margin in
 * float32 from the base margin, tree by tree; binary models return the
 * sigmoid of the margin.
 *
 * Payload: objective (u32: 0 binary:logistic, 1 reg:squarederror), flags
 * (u32: 1 random forest), rounds asked (u32), base margin (f64), largest margin difference from XGBoost
 * on the training rows (f64), largest SHAP value difference from XGBoost's
 * pred_contribs on the first 100 training rows (f64), rows held out for
 * early stopping (u64) and the best round's metric on them (f64, -1
 * without), cross-validation folds (u32, 0 without) and the metric's mean
 * and standard deviation over them (f64 each, -1 without), the trials of
 * tuning (u32 length, 0 without, then JSON object text), trees (u32); then
 * per tree: nodes (u32) and per node: feature (u32, 0xFFFFFFFF for a
 * leaf), flags (u32: 1 missing goes left, 2 a categorical split), left and
 * right child (u32 each, 0xFFFFFFFF for a leaf), threshold or leaf value
 * (f32; 0 for a categorical split), gain (f32) and cover (f32), and for a
 * categorical split the categories that go right (u32 count, then each,
 * strictly increasing: levels of the column's encoding).  Children come
 * after their parent and every node but the root has exactly one parent.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"
#include "kinds.h"
#include "trees.h"

#include <math.h>
#include <pthread.h>
#include <xgboost/c_api.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(uba_boost_transfn);
PG_FUNCTION_INFO_V1(uba_boost_final);
PG_FUNCTION_INFO_V1(uba_forest_transfn);
PG_FUNCTION_INFO_V1(uba_forest_final);
PG_FUNCTION_INFO_V1(uba_boost_predict);
PG_FUNCTION_INFO_V1(uba_boost_explain);
PG_FUNCTION_INFO_V1(uba_feature_importance);

#define BOOST_BINARY 0
#define BOOST_REGRESSION 1
#define BOOST_MULTICLASS 2
#define BOOST_ISOLATION 3		/* an isolation forest (iforest.c): leaves are path lengths */
/* payload flags */
#define BOOST_FLAG_FOREST 1
#define BOOST_LEAF UBA_TREE_LEAF
/* node flags */
#define NODE_DEFAULT_LEFT 1
#define NODE_CATEGORICAL 2
/* XGBoost's trees hold at most 2^(max_depth + 1) - 1 nodes; depth is capped here */
#define BOOST_MAX_DEPTH 30
#define BOOST_MAX_NODES (1u << 26)
/* deepest tree a model may hold (TreeSHAP keeps a path per level) */
#define BOOST_MAX_TREE_DEPTH 64
/*
 * Training rows whose SHAP values are compared with XGBoost's: at most
 * 100, fewer for deep ensembles (TreeSHAP costs leaves x depth^2 per tree
 * and row), within about 5e7 steps, at least one.
 */
#define BOOST_SHAP_CHECK_ROWS 100
/* training rows whose margins are compared with XGBoost's: the first 100,000 */
#define BOOST_MARGIN_CHECK_ROWS 100000
/* the longest tuning record a model may hold (1000 trials of 12 options) */
#define BOOST_MAX_TUNING_BYTES (4 * 1024 * 1024)
#define BOOST_SHAP_CHECK_STEPS 5e7
/*
 * From this many rows on, the rows are ordered by their most telling
 * feature (LocalityOrder), judged by one round on the first
 * BOOST_PROBE_ROWS rows of the canonical order
 */
#define BOOST_LOCALITY_MIN_ROWS 100000
#define BOOST_PROBE_ROWS 50000

static const char *const objective_names[] = {"binary:logistic", "reg:squarederror", "multi:softprob", "isolation"};
/* "auto": the label's type decides (boolean binary, float8 regression, text multi-class) */
static const char *const objective_choices[] = {"auto", "multiclass", NULL};

/* XGBoost's names and defaults */
static const UbaOptionSpec boost_options[] = {
	{"n_estimators", UBA_OPT_INT, 100, 1, 100000, NULL},
	{"learning_rate", UBA_OPT_FLOAT, 0.3, 0, 1, NULL},
	{"max_depth", UBA_OPT_INT, 6, 1, BOOST_MAX_DEPTH, NULL},
	{"min_child_weight", UBA_OPT_FLOAT, 1, 0, 1e12, NULL},
	{"subsample", UBA_OPT_FLOAT, 1, 1e-6, 1, NULL},
	{"colsample_bytree", UBA_OPT_FLOAT, 1, 1e-6, 1, NULL},
	{"reg_lambda", UBA_OPT_FLOAT, 1, 0, 1e12, NULL},
	{"reg_alpha", UBA_OPT_FLOAT, 0, 0, 1e12, NULL},
	{"gamma", UBA_OPT_FLOAT, 0, 0, 1e12, NULL},
	{"scale_pos_weight", UBA_OPT_FLOAT, 1, 1e-12, 1e12, NULL},
	{"max_bin", UBA_OPT_INT, 256, 2, 65535, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"validation_fraction", UBA_OPT_FLOAT, 0, 0, 0.9, NULL},
	{"early_stopping_rounds", UBA_OPT_INT, 0, 0, 100000, NULL},
	{"cv_folds", UBA_OPT_INT, 0, 0, 20, NULL},
	{"max_cat_to_onehot", UBA_OPT_INT, 4, 1, 100000, NULL},
	{"objective", UBA_OPT_CHOICE, 0, 0, 0, objective_choices},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

/* the metric a validation set is scored with: XGBoost's default for the objective */
static const char *const metric_names[] = {"logloss", "rmse", "mlogloss", "none"};

/*
 * A random forest is XGBoost's random-forest mode: one round of
 * n_estimators parallel trees on row samples (without replacement) and
 * column samples per split, learning rate 1; its trees add up to the
 * margin like boosted ones (XGBoost divides each tree's leaves by their
 * number).  Depth and column sampling default to scikit-learn's spirit:
 * deep trees, the square root of the features per split for a binary label.
 */
static const UbaOptionSpec forest_options[] = {
	{"n_estimators", UBA_OPT_INT, 100, 1, 10000, NULL},
	{"max_depth", UBA_OPT_INT, 12, 1, BOOST_MAX_DEPTH, NULL},
	{"min_child_weight", UBA_OPT_FLOAT, 1, 0, 1e12, NULL},
	{"subsample", UBA_OPT_FLOAT, 0.632, 1e-6, 1, NULL},
	{"colsample_bynode", UBA_OPT_FLOAT, 0, 0, 1, NULL},	/* 0: sqrt(d)/d for binary, 1 for regression */
	{"reg_lambda", UBA_OPT_FLOAT, 1, 0, 1e12, NULL},
	{"max_bin", UBA_OPT_INT, 256, 2, 65535, NULL},
	{"seed", UBA_OPT_INT, 0, 0, 2147483647, NULL},
	{"objective", UBA_OPT_CHOICE, 0, 0, 0, objective_choices},
	{"feature_names", UBA_OPT_NAMES, 0, 0, 0, NULL},
	UBA_PROGRESS_OPTION,
};

typedef struct BoostNode
{
	uint32		feature;		/* BOOST_LEAF for a leaf */
	uint32		left;
	uint32		right;
	bool		default_left;
	float		value;			/* threshold, or the leaf value */
	float		gain;
	float		cover;
	/* a categorical split: the categories that go right, as a bit set of ncats bits */
	uint32		ncats;			/* 0 for a numeric split */
	uint32	   *cats;
	uint32	   *catlist;		/* the same, as the sorted list stored */
	uint32		ncatlist;
} BoostNode;

/*
 * Where a row goes at a split, as XGBoost decides: NaN the default way; a
 * number left when below the threshold (in float32); a category right
 * when it is in the split's set, left otherwise.
 */
static inline bool
GoesLeft(const BoostNode *nd, float v)
{
	if (isnan(v))
		return nd->default_left;
	if (nd->ncats == 0)
		return v < nd->value;
	{
		uint32		c = (uint32) v;

		return !(c < nd->ncats && (nd->cats[c >> 5] & (1u << (c & 31))) != 0);
	}
}

/*
 * The scorer's copy of a node, 16 bytes (a BoostNode is 64): a walk
 * touches a quarter of the cache lines.  A leaf has left 0 (no node's
 * child is the root); feature carries the default direction and the kind
 * of a categorical split: categories below 32 as a bit mask in the step
 * itself, others in the BoostNode (a second load the common case skips).
 */
typedef struct BoostStep
{
	uint32		feature;		/* the feature | STEP_ flags */
	union
	{
		float		value;		/* threshold, or the leaf value */
		uint32		mask;		/* STEP_MASK: the categories that go right */
	}			u;
	uint32		left;			/* 0 for a leaf */
	uint32		right;
} BoostStep;

#define STEP_DEFAULT_LEFT 0x80000000u
#define STEP_CATEGORICAL 0x40000000u	/* categories in the BoostNode */
#define STEP_MASK 0x20000000u	/* categories below 32, in u.mask */
#define STEP_FEATURE 0x1FFFFFFFu

typedef struct BoostTree
{
	uint32		nnodes;
	int			depth;			/* the longest root-to-leaf path, in splits */
	double		mean;			/* cover-weighted mean of the leaves: the tree's expected value */
	BoostNode  *nodes;
	BoostStep  *steps;			/* nnodes: the same tree for scoring */
} BoostTree;

typedef struct BoostModel
{
	int			objective;
	bool		forest;
	int			d;
	uint32		ntrees;
	uint32		rounds;
	double		base_margin;
	double		agreement;		/* largest |margin - XGBoost's margin| on the training rows */
	double		shap_agreement; /* largest |TreeSHAP - XGBoost's pred_contribs| on training rows */
	int64		valid_rows;		/* rows held out for early stopping, or 0 */
	double		valid_metric;	/* the best round's validation metric (-1 without) */
	int			cv_folds;		/* cross-validation folds, or 0 */
	double		cv_mean;		/* and the metric's mean and spread over them (-1 without) */
	double		cv_std;
	char	   *tuning;			/* the trials of tuning (JSON object text), or NULL */
	int			max_depth;		/* of all trees */
	double		expected;		/* base margin + every tree's mean: the SHAP baseline */
	char	  **names;			/* feature names, or NULL */
	UbaEncoding *enc;			/* typed rows' encoding, or NULL */
	BoostTree  *trees;
	float	   *xf;				/* d: a row as float32, for scoring */
	double	   *x;				/* d */
	double	   *phi;			/* d: a row's SHAP values */
	struct ShapStep *shap_path; /* TreeSHAP's path buffer for the deepest tree */
	UbaContribution *contrib;	/* d: an explanation's rows */
	/* multi-class models (objective 2): the classes, in order, and each tree's class */
	int			nclass;			/* 0 for binary and regression models */
	UbaClasses	classes;		/* a multi-class model's (nclass of them) */
	uint32	   *tree_class;		/* ntrees */
	double	   *expected_k;		/* nclass: each class's SHAP baseline */
	float	   *margins;		/* nclass: a row's margins */
	double	   *proba;			/* nclass: a row's probabilities */
	double	   *phi_sum;		/* d: scratch summing SHAP values over classes */
	/* isolation forests (objective 3) */
	int			max_samples;	/* rows each tree grew on */
	double		contamination;	/* the share of training rows above the threshold (0: "auto") */
	double		threshold;		/* scores above it are anomalies */
} BoostModel;

static void TakeRow(BoostModel *m, const double *x);

/* ---------- the evaluator ---------- */

/* The child a row goes to from split i (GoesLeft's rule on the compact steps) */
static inline uint32
NextStep(const BoostTree *tree, uint32 i, const float *x)
{
	const BoostStep *st = &tree->steps[i];
	uint32		f = st->feature;
	float		v = x[f & STEP_FEATURE];
	bool		left;

	if (isnan(v))
		left = (f & STEP_DEFAULT_LEFT) != 0;
	else if (likely((f & (STEP_MASK | STEP_CATEGORICAL)) == 0))
		left = v < st->u.value;
	else if (f & STEP_MASK)
		left = !(v >= 0 && v < 32 && ((st->u.mask >> (uint32) v) & 1) != 0);
	else
		left = GoesLeft(&tree->nodes[i], v);
	return left ? st->left : st->right;
}

/* The leaf value a row reaches in a tree */
static inline float
LeafValue(const BoostTree *tree, const float *x)
{
	uint32		i = 0;

	while (tree->steps[i].left != 0)
		i = NextStep(tree, i, x);
	return tree->steps[i].u.value;
}

/*
 * The leaf values a row reaches in four trees, walked side by side: each
 * level of a walk waits for its loads, and four independent walks let the
 * processor overlap those waits.
 */
static inline void
LeafValues4(const BoostTree *trees, const float *x, float *out)
{
	uint32		i0 = 0,
				i1 = 0,
				i2 = 0,
				i3 = 0;
	bool		more;

	do
	{
		more = false;
		if (trees[0].steps[i0].left != 0)
			i0 = NextStep(&trees[0], i0, x), more = true;
		if (trees[1].steps[i1].left != 0)
			i1 = NextStep(&trees[1], i1, x), more = true;
		if (trees[2].steps[i2].left != 0)
			i2 = NextStep(&trees[2], i2, x), more = true;
		if (trees[3].steps[i3].left != 0)
			i3 = NextStep(&trees[3], i3, x), more = true;
	} while (more);
	out[0] = trees[0].steps[i0].u.value;
	out[1] = trees[1].steps[i1].u.value;
	out[2] = trees[2].steps[i2].u.value;
	out[3] = trees[3].steps[i3].u.value;
}

/*
 * The margin of one row (float32 features; NaN goes the default way),
 * added up as XGBoost's predictor does: in float32, tree by tree.
 */
static double
Margin(const BoostModel *m, const float *x)
{
	float		margin = (float) m->base_margin;
	uint32		t = 0;

	/* added one by one in tree order, as XGBoost adds them */
	for (; t + 4 <= m->ntrees; t += 4)
	{
		float		leaf[4];

		LeafValues4(&m->trees[t], x, leaf);
		margin += leaf[0];
		margin += leaf[1];
		margin += leaf[2];
		margin += leaf[3];
	}
	for (; t < m->ntrees; t++)
		margin += LeafValue(&m->trees[t], x);
	return margin;
}

/*
 * A multi-class model's margins of one row, one per class (each tree adds
 * to its class's margin), in float32 tree by tree as XGBoost adds them.
 */
static void
Margins(const BoostModel *m, const float *x, float *out)
{
	for (int k = 0; k < m->nclass; k++)
		out[k] = (float) m->base_margin;
	for (uint32 t = 0; t < m->ntrees; t++)
		out[m->tree_class[t]] += LeafValue(&m->trees[t], x);
}

/* Softmax of a multi-class model's margins into m->proba; the most probable class (the first of ties) */
static int
Probabilities(BoostModel *m)
{
	double		top = m->margins[0],
				sum = 0;
	int			best = 0;

	for (int k = 1; k < m->nclass; k++)
		if (m->margins[k] > top)
		{
			top = m->margins[k];
			best = k;
		}
	for (int k = 0; k < m->nclass; k++)
	{
		m->proba[k] = exp((double) m->margins[k] - top);
		sum += m->proba[k];
	}
	for (int k = 0; k < m->nclass; k++)
		m->proba[k] /= sum;
	return best;
}

/*
 * An isolation forest's anomaly score of the row in m->xf: 2 to the minus
 * its mean path length over c(max_samples), as Liu et al. and
 * scikit-learn's score_samples (which is its negative).
 */
static double
IsolationScore(const BoostModel *m)
{
	double		mean = Margin(m, m->xf) / (double) Max(m->ntrees, 1);

	return pow(2.0, -mean / uba_average_path_length((double) m->max_samples));
}

/* ---------- TreeSHAP (Lundberg, Erion and Lee 2018, algorithm 2) ---------- */

/*
 * Exact SHAP values of a tree model in polynomial time: each root-to-leaf
 * walk keeps the path of distinct features it has split on, with, for
 * each, the share of training cover that goes the same way (zero) and
 * whether the row itself goes that way (one), and the weights of every
 * subset size; a leaf then credits each feature on the path with its
 * Shapley share of the leaf value.  A feature met again is taken out of
 * the path first and put back with the product of its fractions.
 */
typedef struct ShapStep
{
	int			feature;		/* -1 for the root's placeholder */
	double		zero;
	double		one;
	double		weight;
} ShapStep;

/* Add a feature to the path of depth + 1 steps ending at path[depth] */
static void
ShapExtend(ShapStep *path, int depth, double zero, double one, int feature)
{
	path[depth].feature = feature;
	path[depth].zero = zero;
	path[depth].one = one;
	path[depth].weight = depth == 0 ? 1 : 0;
	for (int i = depth - 1; i >= 0; i--)
	{
		path[i + 1].weight += one * path[i].weight * (i + 1) / (double) (depth + 1);
		path[i].weight = zero * path[i].weight * (depth - i) / (double) (depth + 1);
	}
}

/* Take step k out of the path of depth + 1 steps */
static void
ShapUnwind(ShapStep *path, int depth, int k)
{
	double		one = path[k].one;
	double		zero = path[k].zero;
	double		next = path[depth].weight;

	for (int i = depth - 1; i >= 0; i--)
	{
		if (one != 0)
		{
			double		t = path[i].weight;

			path[i].weight = next * (depth + 1) / ((i + 1) * one);
			next = t - path[i].weight * zero * (depth - i) / (double) (depth + 1);
		}
		else
			path[i].weight = path[i].weight * (depth + 1) / (zero * (depth - i));
	}
	for (int i = k; i < depth; i++)
	{
		path[i].feature = path[i + 1].feature;
		path[i].zero = path[i + 1].zero;
		path[i].one = path[i + 1].one;
	}
}

/* The total weight of the path with step k taken out, without changing it */
static double
ShapUnwoundSum(const ShapStep *path, int depth, int k)
{
	double		one = path[k].one;
	double		zero = path[k].zero;
	double		next = path[depth].weight;
	double		total = 0;

	for (int i = depth - 1; i >= 0; i--)
	{
		if (one != 0)
		{
			double		t = next * (depth + 1) / ((i + 1) * one);

			total += t;
			next = path[i].weight - t * zero * ((depth - i) / (double) (depth + 1));
		}
		else if (zero != 0)
			total += (path[i].weight / zero) / ((depth - i) / (double) (depth + 1));
	}
	return total;
}

/*
 * The walk below node: parent_path holds depth + 1 steps; this level's
 * copy goes right after them (the buffer holds every level's copy).
 */
static void
ShapRecurse(const BoostTree *tree, const float *x, double *phi, uint32 node,
			ShapStep *parent_path, int depth, double zero, double one, int feature)
{
	ShapStep   *path = parent_path + depth + 1;
	const BoostNode *nd = &tree->nodes[node];

	memcpy(path, parent_path, sizeof(ShapStep) * (depth + 1));
	ShapExtend(path, depth, zero, one, feature);
	if (nd->feature == BOOST_LEAF)
	{
		for (int i = 1; i <= depth; i++)
			phi[path[i].feature] += ShapUnwoundSum(path, depth, i) *
				(path[i].one - path[i].zero) * nd->value;
	}
	else
	{
		bool		left = GoesLeft(nd, x[nd->feature]);
		uint32		hot = left ? nd->left : nd->right;
		uint32		cold = left ? nd->right : nd->left;
		double		in_zero = 1,
					in_one = 1;
		int			k;

		for (k = 0; k <= depth; k++)
			if (path[k].feature == (int) nd->feature)
				break;
		if (k <= depth)
		{
			in_zero = path[k].zero;
			in_one = path[k].one;
			ShapUnwind(path, depth, k);
			depth--;
		}
		ShapRecurse(tree, x, phi, hot, path, depth + 1,
					in_zero * tree->nodes[hot].cover / nd->cover, in_one, (int) nd->feature);
		ShapRecurse(tree, x, phi, cold, path, depth + 1,
					in_zero * tree->nodes[cold].cover / nd->cover, 0, (int) nd->feature);
	}
}

/*
 * SHAP values of one row into phi (d): they add up to margin - expected.
 * For a multi-class model, of class cls's margin (its trees only).
 */
static void
TreeShapClass(const BoostModel *m, const float *x, double *phi, ShapStep *buf, int cls)
{
	memset(phi, 0, sizeof(double) * m->d);
	for (uint32 t = 0; t < m->ntrees; t++)
		if (m->nclass == 0 || m->tree_class[t] == (uint32) cls)
			ShapRecurse(&m->trees[t], x, phi, 0, buf, 0, 1, 1, -1);
}


/* Steps a TreeSHAP walk needs for the model's deepest tree: every level's copy of its path */
static Size
ShapBufferSteps(const BoostModel *m)
{
	Size		levels = (Size) m->max_depth + 2;

	return levels * (levels + 1) / 2 + 1;
}

/* ---------- training ---------- */

/*
 * Tuning inside the training call: "tune": {"trials": n, "max_depth": [3,
 * 8], ...} draws n sets of options at random (seeded) within the ranges,
 * scores each by cross-validation, and trains the model with the best.
 * Integer options are drawn uniformly among the integers of the range;
 * rates and penalties log-uniformly when the range is positive (their
 * effect is multiplicative), the others uniformly.
 */
#define TUNE_MAX_TRIALS 1000
#define TUNE_DEFAULT_FOLDS 3

static const char *const tunable[] = {
	"n_estimators", "learning_rate", "max_depth", "min_child_weight", "subsample",
	"colsample_bytree", "reg_lambda", "reg_alpha", "gamma", "scale_pos_weight", "max_bin",
	"max_cat_to_onehot"
};
static const bool tunable_log[] = {
	false, true, false, true, false, false, true, true, true, true, false, false
};

typedef struct TuneSpec
{
	int			trials;
	int			n;				/* options tuned */
	int			which[lengthof(tunable)];	/* index into tunable[] */
	double		lo[lengthof(tunable)];
	double		hi[lengthof(tunable)];
} TuneSpec;

pg_attribute_noreturn()
static void
BadTune(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"tune\" of uba_boost_train is not valid"),
			 errdetail("%s", detail),
			 errhint("Give {\"trials\": 20, \"max_depth\": [3, 8], \"learning_rate\": [0.01, 0.3]}: a number of trials and a [low, high] range per option tuned.")));
}

/* A number from a jsonb value, or an error naming what it was for */
static double
TuneNumber(JsonbValue *v, const char *what)
{
	if (v == NULL || v->type != jbvNumeric)
		BadTune(psprintf("%s must be a number.", what));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/*
 * Split the options into the tuning spec (when "tune" is given) and the
 * rest, which parse as usual; every range is checked against the
 * option's own.
 */
static Jsonb *
TakeTune(Jsonb *opts, const UbaOptionSpec *specs, int nspecs, TuneSpec *tune)
{
	JsonbValue *t;
	JsonbContainer *c;
	int			keys = 0;

	tune->trials = 0;
	if (opts == NULL || !JB_ROOT_IS_OBJECT(opts))
		return opts;
	t = getKeyJsonValueFromContainer(&opts->root, "tune", 4, NULL);
	if (t == NULL)
		return opts;
	if (t->type != jbvBinary || !JsonContainerIsObject(t->val.binary.data))
		BadTune("It must be an object.");
	c = t->val.binary.data;
	tune->trials = (int) TuneNumber(getKeyJsonValueFromContainer(c, "trials", 6, NULL), "\"trials\"");
	if (tune->trials < 1 || tune->trials > TUNE_MAX_TRIALS)
		BadTune(psprintf("\"trials\" must be from 1 to %d.", TUNE_MAX_TRIALS));
	keys = 1;
	tune->n = 0;
	for (int i = 0; i < (int) lengthof(tunable); i++)
	{
		JsonbValue *r = getKeyJsonValueFromContainer(c, tunable[i], strlen(tunable[i]), NULL);
		const UbaOptionSpec *spec = NULL;
		double		lo,
					hi;

		if (r == NULL)
			continue;
		keys++;
		for (int k = 0; k < nspecs; k++)
			if (strcmp(specs[k].name, tunable[i]) == 0)
				spec = &specs[k];
		Assert(spec != NULL);
		if (r->type != jbvBinary || !JsonContainerIsArray(r->val.binary.data) ||
			JsonContainerSize(r->val.binary.data) != 2)
			BadTune(psprintf("The range of \"%s\" must be an array of two numbers.", tunable[i]));
		lo = TuneNumber(getIthJsonbValueFromContainer(r->val.binary.data, 0), tunable[i]);
		hi = TuneNumber(getIthJsonbValueFromContainer(r->val.binary.data, 1), tunable[i]);
		if (!(lo <= hi) || lo < spec->min || hi > spec->max)
			BadTune(psprintf("The range of \"%s\" must be low <= high within %g and %g; got [%g, %g].",
							 tunable[i], spec->min, spec->max, lo, hi));
		if (spec->type == UBA_OPT_INT && ceil(lo) > floor(hi))
			BadTune(psprintf("The range of \"%s\" holds no integer.", tunable[i]));
		tune->which[tune->n] = i;
		tune->lo[tune->n] = lo;
		tune->hi[tune->n] = hi;
		tune->n++;
	}
	if (keys != JsonContainerSize(c))
		BadTune("It has a key that is neither \"trials\" nor an option that can be tuned (n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, scale_pos_weight, max_bin, max_cat_to_onehot).");
	if (tune->n == 0)
		BadTune("No option to tune is given.");
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(opts), CStringGetTextDatum("tune")));
}

/* The options and the name of the aggregate, boosting or forest */
static void
ParseOptions(Jsonb *opts, bool forest, bool typed, UbaOptions *o, TuneSpec *tune)
{
	if (!forest)
		opts = TakeTune(opts, boost_options, lengthof(boost_options), tune);
	else
		tune->trials = 0;
	if (forest)
		uba_parse_row_options(opts, forest_options, lengthof(forest_options), "uba_forest_train",
							  typed, UBA_ENC_CODES, o);
	else
		uba_parse_row_options(opts, boost_options, lengthof(boost_options), "uba_boost_train",
							  typed, UBA_ENC_CODES, o);
}

static Datum
Transition(FunctionCallInfo fcinfo, bool forest)
{
	Oid			ltype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	bool		binary = ltype == BOOLOID;
	bool		textlabel = ltype != BOOLOID && ltype != FLOAT8OID;	/* the SQL declares text */
	bool		typed;
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);
	Jsonb	   *opts = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? PG_GETARG_JSONB_P(3) : NULL;
	double		y;

	/* the form of the features is the first row's (a row set of typed rows has an encoding) */
	typed = rs != NULL ? rs->enc != NULL : uba_arg_is_row(fcinfo, 2);

	/* rows with no label or no features are skipped, as built-in aggregates skip NULLs */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (rs == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(rs);
	}
	if (binary)
		y = PG_GETARG_BOOL(1) ? 1.0 : 0.0;
	else if (textlabel)
		y = 0;					/* the label's handle, below */
	else
	{
		y = PG_GETARG_FLOAT8(1);
		uba_check_finite(y, "targets");
	}
	if (rs == NULL)
	{
		UbaOptions	o;
		TuneSpec	tune;
		int			objective;

		ParseOptions(opts, forest, typed, &o, &tune);
		/* boolean labels are binary, text labels classes, float8 targets values unless asked */
		objective = binary ? BOOST_BINARY : textlabel ? BOOST_MULTICLASS :
			uba_option(&o, "objective") == 1 ? BOOST_MULTICLASS : BOOST_REGRESSION;
		if (binary && uba_option(&o, "objective") == 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"objective\": \"multiclass\" needs a text or numeric label, not boolean"),
					 errhint("A boolean label trains a binary model.")));
		if (!typed)
			uba_options_check_names(&o, uba_feature_count(PG_GETARG_ARRAYTYPE_P(2)));
		if (!forest && uba_option(&o, "early_stopping_rounds") > 0 && uba_option(&o, "validation_fraction") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"early_stopping_rounds\" of uba_boost_train needs \"validation_fraction\""),
					 errhint("Hold out a share of the rows to stop on, for example \"validation_fraction\": 0.2.")));
		if (!forest && uba_option(&o, "cv_folds") == 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"cv_folds\" of uba_boost_train must be 0 (none) or from 2 to 20"),
					 errdetail("Got 1.")));
		if (!forest && (uba_option(&o, "cv_folds") >= 2 || tune.trials > 0) && uba_option(&o, "validation_fraction") > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options \"cv_folds\" and \"validation_fraction\" of uba_boost_train do not go together"),
					 errhint("Cross-validation scores every row once; a held-out share is for early stopping.")));
		/* the objective rides in the row set's integer parameter */
		if (typed)
			rs = uba_rowset_start_row(fcinfo, 2, true, objective, opts,
									  UBA_ENC_CODES, forest ? "uba_forest_train" : "uba_boost_train");
		else
			rs = uba_rowset_start(fcinfo, PG_GETARG_ARRAYTYPE_P(2), true, objective, opts);
		/* XGBoost reads float32: the rows are kept so from the start */
		uba_rowset_use_float4(rs);
	}
	else
		uba_check_same_options(rs->options, opts);
	if (textlabel)
		y = uba_rowset_text_label(rs, PG_GETARG_DATUM(1));
	if (typed)
		uba_rowset_add_row(rs, fcinfo, 2, y);
	else
		uba_rowset_add(rs, PG_GETARG_ARRAYTYPE_P(2), y);
	PG_RETURN_POINTER(rs);
}

/* uba_boost_train(label, features [, options]) transition: boolean labels are binary, float8 regression */
Datum
uba_boost_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, false);
}

/* uba_forest_train(label, features [, options]) transition */
Datum
uba_forest_transfn(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, true);
}

/* XGBoost's handles, freed with the memory context that owns them */
typedef struct XgbHandles
{
	DMatrixHandle dtrain;
	DMatrixHandle dshap;		/* rows spread over the copy, for the SHAP check */
	DMatrixHandle dvalid;		/* rows held out for early stopping */
	DMatrixHandle cvtrain;		/* a cross-validation fold's training and scored rows */
	DMatrixHandle cvvalid;
	DMatrixHandle proxy;		/* while a training matrix is made */
	BoosterHandle cvbooster;
	BoosterHandle booster;
	DMatrixHandle dprobe;		/* a sample of the rows and one round on them, for the order */
	BoosterHandle probe;
	MemoryContextCallback free;
} XgbHandles;

static void
FreeHandles(void *arg)
{
	XgbHandles *h = (XgbHandles *) arg;

	if (h->booster)
		XGBoosterFree(h->booster);
	if (h->dtrain)
		XGDMatrixFree(h->dtrain);
	if (h->dshap)
		XGDMatrixFree(h->dshap);
	if (h->dvalid)
		XGDMatrixFree(h->dvalid);
	if (h->cvbooster)
		XGBoosterFree(h->cvbooster);
	if (h->cvtrain)
		XGDMatrixFree(h->cvtrain);
	if (h->cvvalid)
		XGDMatrixFree(h->cvvalid);
	if (h->proxy)
		XGDMatrixFree(h->proxy);
	if (h->probe)
		XGBoosterFree(h->probe);
	if (h->dprobe)
		XGDMatrixFree(h->dprobe);
	h->probe = NULL;
	h->dprobe = NULL;
	h->proxy = NULL;
	h->booster = NULL;
	h->dtrain = NULL;
	h->dshap = NULL;
	h->dvalid = NULL;
	h->cvbooster = NULL;
	h->cvtrain = NULL;
	h->cvvalid = NULL;
}

/* An XGBoost call that failed: its own message */
static void
Check(int rc, const char *what)
{
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("XGBoost failed to %s: %s", what, XGBGetLastError())));
}

/*
 * XGBoost's log goes to the server log.  Its callback may run on XGBoost's
 * threads, which never call PostgreSQL: it only appends to a buffer under a
 * mutex, and the backend writes the buffer out between rounds.
 */
static pthread_mutex_t xgb_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char xgb_log[4096];
static size_t xgb_log_len;
static bool xgb_log_registered;

static void
XgbLog(const char *msg)
{
	pthread_mutex_lock(&xgb_log_lock);
	if (xgb_log_len + 2 < sizeof(xgb_log))
	{
		size_t		n = Min(strlen(msg), sizeof(xgb_log) - xgb_log_len - 2);

		memcpy(xgb_log + xgb_log_len, msg, n);
		xgb_log_len += n;
		xgb_log[xgb_log_len++] = '\n';
		xgb_log[xgb_log_len] = '\0';
	}
	pthread_mutex_unlock(&xgb_log_lock);
}

/* Write what XGBoost logged to the server log (the backend's thread only) */
static void
FlushXgbLog(void)
{
	char		copy[sizeof(xgb_log)];

	pthread_mutex_lock(&xgb_log_lock);
	memcpy(copy, xgb_log, xgb_log_len + 1);
	xgb_log_len = 0;
	xgb_log[0] = '\0';
	pthread_mutex_unlock(&xgb_log_lock);
	if (copy[0] != '\0')
		ereport(LOG, (errmsg("XGBoost: %s", copy)));
}

static void
SetParam(BoosterHandle b, const char *name, const char *value)
{
	Check(XGBoosterSetParam(b, name, value), "set a parameter");
}

static void
SetNumParam(BoosterHandle b, const char *name, double v)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), "%.17g", v);
	SetParam(b, name, buf);
}

/* XGBoost's feature types of typed rows ("c" categorical, "q" a number), or NULL for arrays */
static const char **
FeatureTypes(const UbaEncoding *enc, int d)
{
	const char **types;

	if (enc == NULL)
		return NULL;
	types = palloc(sizeof(char *) * d);
	for (int k = 0; k < enc->ncols; k++)
		types[enc->cols[k].first] = enc->cols[k].cls == UBA_COL_CATEGORY ? "c" : "q";
	return types;
}

/* A matrix of rows for XGBoost, its categorical features marked (typed rows) */
static void
NewMatrix(const float *x, int64 n, int d, const UbaEncoding *enc, DMatrixHandle *out, const char *what)
{
	const char **types = FeatureTypes(enc, d);

	/* on uba.threads threads: XGBoost's single-threaded reader is slow for millions of rows */
	Check(XGDMatrixCreateFromMat_omp(x, (bst_ulong) n, (bst_ulong) d, NAN, out, uba_thread_count()), what);
	if (types != NULL)
	{
		Check(XGDMatrixSetStrFeatureInfo(*out, "feature_type", types, (bst_ulong) d), what);
		pfree(types);
	}
}

/*
 * A training matrix: XGBoost's quantile matrix, made from the float rows
 * through its one-batch iterator (a proxy matrix that points at them).
 * It holds the rows' bin numbers only, not the copy of every value a
 * plain matrix makes, so it takes less memory and time, and training on
 * it gives the same model (as scikit-learn's interface to XGBoost trains).
 * The callbacks run on the backend's thread inside XGBoost: they never
 * raise an error through it, they keep XGBoost's message for after.
 */
/*
 * XGBoost's array interface to n rows of d floats at x, row i at
 * x + i x stride x d (strided rows are read in place)
 */
static void
FloatArray(char *buf, Size len, const float *x, int64 n, int d, int64 stride)
{
	snprintf(buf, len,
			 "{\"data\": [%zu, true], \"shape\": [" INT64_FORMAT ", %d], \"strides\": [" INT64_FORMAT ", %d], "
			 "\"typestr\": \"<f4\", \"version\": 3}",
			 (size_t) x, n, d, stride * d * (int64) sizeof(float), (int) sizeof(float));
}

typedef struct BatchIter
{
	DMatrixHandle proxy;
	const float *x;
	const float *y;
	int64		n;
	int			d;
	const char **types;			/* feature types, or NULL */
	bool		given;			/* the batch was handed over */
	char		error[256];		/* a failed setter's message */
} BatchIter;

static void
BatchReset(DataIterHandle handle)
{
	((BatchIter *) handle)->given = false;
}

static int
BatchNext(DataIterHandle handle)
{
	BatchIter  *it = (BatchIter *) handle;
	char		array[256];

	if (it->given || it->error[0] != '\0')
		return 0;
	it->given = true;
	FloatArray(array, sizeof(array), it->x, it->n, it->d, 1);
	if (XGProxyDMatrixSetDataDense(it->proxy, array) != 0 ||
		XGDMatrixSetFloatInfo(it->proxy, "label", it->y, (bst_ulong) it->n) != 0 ||
		(it->types != NULL &&
		 XGDMatrixSetStrFeatureInfo(it->proxy, "feature_type", it->types, (bst_ulong) it->d) != 0))
	{
		strlcpy(it->error, XGBGetLastError(), sizeof(it->error));
		return 0;
	}
	return 1;
}

static void
NewTrainingMatrix(XgbHandles *h, const float *x, const float *y, int64 n, int d, const UbaEncoding *enc,
				  int max_bin, DMatrixHandle *out, const char *what)
{
	BatchIter	it;
	char		config[128];

	memset(&it, 0, sizeof(it));
	it.x = x;
	it.y = y;
	it.n = n;
	it.d = d;
	it.types = FeatureTypes(enc, d);
	Check(XGProxyDMatrixCreate(&h->proxy), what);
	it.proxy = h->proxy;
	snprintf(config, sizeof(config), "{\"missing\": NaN, \"nthread\": %d, \"max_bin\": %d}",
			 uba_thread_count(), max_bin);
	Check(XGQuantileDMatrixCreateFromCallback(&it, h->proxy, NULL, BatchReset, BatchNext, config, out), what);
	XGDMatrixFree(h->proxy);
	h->proxy = NULL;
	if (it.error[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("XGBoost failed to %s: %s", what, it.error)));
	if (it.types != NULL)
		pfree(it.types);
}

/* ---- reading XGBoost's JSON model ---- */

static JsonbValue *
Key(JsonbContainer *c, const char *key, enum jbvType type)
{
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), NULL);

	if (v == NULL || v->type != type)
		elog(ERROR, "uba: XGBoost's model has no %s of the expected type", key);
	return v;
}

static JsonbContainer *
Obj(JsonbContainer *c, const char *key)
{
	JsonbValue *v = Key(c, key, jbvBinary);

	return v->val.binary.data;
}

static double
NumberAt(JsonbContainer *arr, uint32 i)
{
	JsonbValue *v = getIthJsonbValueFromContainer(arr, i);

	if (v == NULL)
		elog(ERROR, "uba: XGBoost's model has a short array");
	if (v->type == jbvBool)
		return v->val.boolean ? 1 : 0;
	if (v->type != jbvNumeric)
		elog(ERROR, "uba: XGBoost's model has a non-number in an array");
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* A number XGBoost writes as a string ("5E-1") */
static double
NumberString(JsonbContainer *c, const char *key)
{
	JsonbValue *v = Key(c, key, jbvString);
	char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
	char	   *end;
	double		d = strtod(s, &end);

	if (*end != '\0' || !isfinite(d))
		elog(ERROR, "uba: XGBoost's model has an unreadable %s", key);
	return d;
}

/*
 * XGBoost's JSON as jsonb: it writes NaN (not JSON) as the threshold of a
 * categorical split; such a number is read as null (and never used).
 */
static Jsonb *
ReadXgbJson(const char *json, bst_ulong len)
{
	StringInfoData t;
	bool		in_string = false;

	initStringInfo(&t);
	for (bst_ulong i = 0; i < len; i++)
	{
		char		ch = json[i];

		if (in_string)
		{
			appendStringInfoChar(&t, ch);
			if (ch == '\\' && i + 1 < len)
				appendStringInfoChar(&t, json[++i]);
			else if (ch == '"')
				in_string = false;
		}
		else if (ch == '"')
		{
			in_string = true;
			appendStringInfoChar(&t, ch);
		}
		else if (ch == 'N' && i + 3 <= len && memcmp(json + i, "NaN", 3) == 0)
		{
			appendStringInfoString(&t, "null");
			i += 2;
		}
		else
			appendStringInfoChar(&t, ch);
	}
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(t.data)));
}

/* The trees of XGBoost's JSON model into the payload */
static uint32
WriteTrees(UbaWriter *pw, const char *json, bst_ulong len, uint32 max_trees, double *base_score,
		   bool multiclass)
{
	Jsonb	   *jb = ReadXgbJson(json, len);
	JsonbContainer *learner = Obj(&jb->root, "learner");
	JsonbContainer *model = Obj(Obj(learner, "gradient_booster"), "model");
	JsonbContainer *trees = Obj(model, "trees");
	uint32		ntrees = Min(JsonContainerSize(trees), max_trees);
	JsonbContainer *info = Obj(model, "tree_info");

	*base_score = NumberString(Obj(learner, "learner_model_param"), "base_score");
	uba_put_u32(pw, ntrees);
	for (uint32 t = 0; t < ntrees; t++)
	{
		JsonbValue *tv = getIthJsonbValueFromContainer(trees, t);
		JsonbContainer *tree;
		JsonbContainer *left,
				   *right,
				   *feat,
				   *cond,
				   *defl,
				   *gain,
				   *cover,
				   *stype,
				   *cats,
				   *catnodes,
				   *catseg,
				   *catsizes;
		uint32		nnodes,
					ncatnodes;

		if (tv == NULL || tv->type != jbvBinary)
			elog(ERROR, "uba: XGBoost's model has a tree that is not an object");
		tree = tv->val.binary.data;
		left = Obj(tree, "left_children");
		right = Obj(tree, "right_children");
		feat = Obj(tree, "split_indices");
		cond = Obj(tree, "split_conditions");
		defl = Obj(tree, "default_left");
		gain = Obj(tree, "loss_changes");
		cover = Obj(tree, "sum_hessian");
		stype = Obj(tree, "split_type");
		cats = Obj(tree, "categories");
		catnodes = Obj(tree, "categories_nodes");
		catseg = Obj(tree, "categories_segments");
		catsizes = Obj(tree, "categories_sizes");
		ncatnodes = JsonContainerSize(catnodes);
		nnodes = JsonContainerSize(left);
		/* a multi-class model's trees each add to one class's margin */
		if (multiclass)
			uba_put_u32(pw, (uint32) NumberAt(info, t));
		uba_put_u32(pw, nnodes);
		for (uint32 i = 0; i < nnodes; i++)
		{
			double		l = NumberAt(left, i);
			bool		leaf = l < 0;
			float		f32;

			bool		categorical = !leaf && NumberAt(stype, i) != 0;

			uba_put_u32(pw, leaf ? BOOST_LEAF : (uint32) NumberAt(feat, i));
			uba_put_u32(pw, leaf ? 0 : ((NumberAt(defl, i) != 0 ? NODE_DEFAULT_LEFT : 0) |
										(categorical ? NODE_CATEGORICAL : 0)));
			uba_put_u32(pw, leaf ? BOOST_LEAF : (uint32) l);
			uba_put_u32(pw, leaf ? BOOST_LEAF : (uint32) NumberAt(right, i));
			f32 = categorical ? 0 : (float) NumberAt(cond, i);
			uba_put_f32_array(pw, &f32, 1);
			f32 = (float) NumberAt(gain, i);
			uba_put_f32_array(pw, &f32, 1);
			f32 = (float) NumberAt(cover, i);
			uba_put_f32_array(pw, &f32, 1);
			/* a categorical split's categories (they go right), ascending as XGBoost keeps them */
			if (categorical)
			{
				uint32		c;

				for (c = 0; c < ncatnodes; c++)
					if ((uint32) NumberAt(catnodes, c) == i)
						break;
				if (c == ncatnodes)
					elog(ERROR, "uba: XGBoost's model has a categorical split without categories");
				{
					uint32		seg = (uint32) NumberAt(catseg, c);
					uint32		size = (uint32) NumberAt(catsizes, c);

					uba_put_u32(pw, size);
					for (uint32 k = 0; k < size; k++)
						uba_put_u32(pw, (uint32) NumberAt(cats, seg + k));
				}
			}
		}
		if ((t & 63) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return ntrees;
}

static void *ParseBoost(const UbaModelMeta *meta, UbaReader *r);

/* The objective's metric on rows after round iter (XGBoost reports "[iter]\tname-metric:value") */
static double
EvalMetric(BoosterHandle b, int iter, DMatrixHandle rows)
{
	const char *names[1] = {"rows"};
	const char *out;
	const char *colon;
	double		metric;

	Check(XGBoosterEvalOneIter(b, iter, &rows, names, 1, &out), "score held-out rows");
	colon = strrchr(out, ':');
	metric = colon ? strtod(colon + 1, NULL) : NAN;
	if (!isfinite(metric))
		elog(ERROR, "uba: unreadable XGBoost evaluation \"%s\"", out);
	return metric;
}

/* XGBoost's parameters from the options */
static void
Configure(BoosterHandle b, const UbaOptions *o, bool forest, int objective, int d, int nclass)
{
	SetParam(b, "objective", objective_names[objective]);
	if (objective == BOOST_MULTICLASS)
		SetNumParam(b, "num_class", nclass);
	SetParam(b, "tree_method", "hist");
	SetParam(b, "eval_metric", metric_names[objective]);
	SetNumParam(b, "nthread", uba_thread_count());
	SetNumParam(b, "max_depth", uba_option(o, "max_depth"));
	SetNumParam(b, "min_child_weight", uba_option(o, "min_child_weight"));
	SetNumParam(b, "subsample", uba_option(o, "subsample"));
	SetNumParam(b, "lambda", uba_option(o, "reg_lambda"));
	SetNumParam(b, "max_bin", uba_option(o, "max_bin"));
	SetNumParam(b, "seed", uba_option(o, "seed"));
	if (!forest)
		SetNumParam(b, "max_cat_to_onehot", uba_option(o, "max_cat_to_onehot"));
	if (forest)
	{
		double		cols = uba_option(o, "colsample_bynode");

		if (cols == 0)
			cols = objective != BOOST_REGRESSION ? Min(1.0, ceil(sqrt((double) d)) / d) : 1.0;
		SetNumParam(b, "num_parallel_tree", uba_option(o, "n_estimators"));
		SetNumParam(b, "eta", 1);
		SetNumParam(b, "colsample_bynode", cols);
	}
	else
	{
		SetNumParam(b, "eta", uba_option(o, "learning_rate"));
		SetNumParam(b, "colsample_bytree", uba_option(o, "colsample_bytree"));
		SetNumParam(b, "alpha", uba_option(o, "reg_alpha"));
		SetNumParam(b, "gamma", uba_option(o, "gamma"));
		if (objective == BOOST_BINARY)
			SetNumParam(b, "scale_pos_weight", uba_option(o, "scale_pos_weight"));
	}

}

/* The trials of tuning (a JSON object), or none: its length (u32, 0 without), then the text */
/* The rows' float32 copy in canonical order (CopyBlock, on uba.threads threads) */
typedef struct CopyWork
{
	const UbaRowSet *rs;
	const UbaSortKey *order;	/* the canonical order: arrival positions */
	const int64 *dest;			/* each row's place in the copy, or NULL: its rank */
	int64		n;				/* the first n rows of the order */
	float	   *xf;
	float	   *yf;
} CopyWork;

static void
CopyBlock(void *arg, int64 block, int lane)
{
	CopyWork   *cw = (CopyWork *) arg;
	int			d = cw->rs->dim;
	int64		i1 = Min(cw->n, (block + 1) * UBA_BLOCK_ROWS);

	for (int64 i = block * UBA_BLOCK_ROWS; i < i1; i++)
	{
		int64		at = cw->dest != NULL ? cw->dest[i] : i;
		int64		r = cw->order[i].idx;

		if (cw->rs->single)
			memcpy(cw->xf + (Size) at * d, cw->rs->xs + (Size) r * d, sizeof(float) * d);
		else
			for (int j = 0; j < d; j++)
				cw->xf[(Size) at * d + j] = (float) cw->rs->x[(Size) r * d + j];
		cw->yf[at] = (float) cw->rs->y[r];
	}
}

/* The first n rows of order (and their labels) as float32 into xf and yf, at dest (NULL: in order), on threads */
static void
CopyRows(const UbaRowSet *rs, const UbaSortKey *order, int64 n, const int64 *dest, float *xf, float *yf)
{
	CopyWork	cw;

	cw.rs = rs;
	cw.order = order;
	cw.n = n;
	cw.dest = dest;
	cw.xf = xf;
	cw.yf = yf;
	uba_run_lanes((n + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(), CopyBlock, &cw);
}

/* Our evaluator against XGBoost's margins (CheckBlock, on uba.threads threads) */
typedef struct CheckWork
{
	const BoostModel *m;
	const float *xf;			/* row i of the check is row i x stride */
	int64		stride;
	const float *pred;			/* XGBoost's margins: n, or n x nclass */
	int64		n;
	float	   *margins;		/* UBA_LANES x UBA_LANE_STRIDE(nclass): scratch */
	double		worst[UBA_LANES];
} CheckWork;

static void
CheckBlock(void *arg, int64 block, int lane)
{
	CheckWork  *ck = (CheckWork *) arg;
	const BoostModel *m = ck->m;
	int			d = m->d;
	int64		i1 = Min(ck->n, (block + 1) * UBA_BLOCK_ROWS);
	double		worst = ck->worst[lane];

	for (int64 i = block * UBA_BLOCK_ROWS; i < i1; i++)
	{
		if (m->nclass > 0)
		{
			float	   *mk = ck->margins + (Size) lane * UBA_LANE_STRIDE(m->nclass, sizeof(float));

			Margins(m, ck->xf + (Size) i * ck->stride * d, mk);
			for (int k = 0; k < m->nclass; k++)
				worst = Max(worst, fabs((double) mk[k] - (double) ck->pred[(Size) i * m->nclass + k]));
		}
		else
			worst = Max(worst, fabs(Margin(m, ck->xf + (Size) i * ck->stride * d) - (double) ck->pred[i]));
	}
	ck->worst[lane] = worst;
}

static void
PutTuning(UbaWriter *w, const char *json)
{
	uba_put_u32(w, json ? (uint32) strlen(json) : 0);
	if (json)
		appendBinaryStringInfo(&w->buf, json, strlen(json));
}

/* The payload's head, before the classes (multi-class), isolation parameters and trees */
typedef struct BoostHead
{
	int			objective;
	uint32		flags;
	uint32		rounds;
	double		base_margin;
	double		agreement;		/* largest margin and SHAP differences from XGBoost */
	double		shap_agreement;
	int64		valid_rows;
	double		valid_metric;
	int			cv_folds;
	double		cv_mean;
	double		cv_std;
	const char *tuning;			/* JSON object text, or NULL */
} BoostHead;

/* Start a payload with its head (the layout at the top of this file) */
static void
PutHead(UbaWriter *w, const BoostHead *hd)
{
	uba_writer_init(w);
	uba_put_u32(w, (uint32) hd->objective);
	uba_put_u32(w, hd->flags);
	uba_put_u32(w, hd->rounds);
	uba_put_f64(w, hd->base_margin);
	uba_put_f64(w, hd->agreement);
	uba_put_f64(w, hd->shap_agreement);
	uba_put_u64(w, (uint64) hd->valid_rows);
	uba_put_f64(w, hd->valid_metric);
	uba_put_u32(w, (uint32) Max(hd->cv_folds, 0));
	uba_put_f64(w, hd->cv_mean);
	uba_put_f64(w, hd->cv_std);
	PutTuning(w, hd->tuning);
}

/* The rows and scratch of cross-validation, shared by the trials of tuning */
typedef struct CvWork
{
	XgbHandles *h;
	bool		forest;
	int			objective;
	const float *xf;
	const float *yf;
	int64		n;
	int			d;
	const UbaEncoding *enc;
	int			folds;
	int			nclass;
	int32	   *fold;			/* n: each row's fold */
	float	   *fx;				/* n x d: a fold's training rows, then its scored rows */
	float	   *fy;
} CvWork;

/* Is a boosting option an integer? */
static bool
IsIntOption(const char *name)
{
	for (int k = 0; k < (int) lengthof(boost_options); k++)
		if (strcmp(boost_options[k].name, name) == 0)
			return boost_options[k].type == UBA_OPT_INT;
	return false;
}

/*
 * The metric's mean and spread over the folds for options o: per fold, a
 * model with these options on the other folds scores it after its last
 * round.
 */
static void
CrossValidate(CvWork *cv, const UbaOptions *o, double *mean, double *std)
{
	XgbHandles *h = cv->h;
	int			d = cv->d;
	int			rounds = (int) uba_option(o, "n_estimators");
	double		sum = 0,
				sumsq = 0;

	for (int f = 0; f < cv->folds; f++)
	{
		int64		ntr = 0,
					nva = 0;
		double		metric;

		for (int64 i = 0; i < cv->n; i++)
			nva += cv->fold[i] == f;
		ntr = cv->n - nva;
		if (nva == 0 || ntr < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cv_folds %d leaves fold %d with " INT64_FORMAT " rows of " INT64_FORMAT,
							cv->folds, f + 1, nva, cv->n),
					 errhint("Use fewer folds, or train on more rows.")));
		/* the fold's scored rows after its training rows */
		for (int64 i = 0, t = 0, v = ntr; i < cv->n; i++)
		{
			int64		at = cv->fold[i] == f ? v++ : t++;

			memcpy(cv->fx + (Size) at * d, cv->xf + (Size) i * d, sizeof(float) * d);
			cv->fy[at] = cv->yf[i];
		}
		NewTrainingMatrix(h, cv->fx, cv->fy, ntr, d, cv->enc, (int) uba_option(o, "max_bin"), &h->cvtrain,
						  "take a fold's rows");
		NewMatrix(cv->fx + (Size) ntr * d, nva, d, cv->enc, &h->cvvalid, "take a fold's rows");
		Check(XGDMatrixSetFloatInfo(h->cvvalid, "label", cv->fy + ntr, (bst_ulong) nva), "take a fold's labels");
		Check(XGBoosterCreate(&h->cvtrain, 1, &h->cvbooster), "create a booster");
		Configure(h->cvbooster, o, cv->forest, cv->objective, d, cv->nclass);
		for (int r = 0; r < rounds; r++)
		{
			CHECK_FOR_INTERRUPTS();
			Check(XGBoosterUpdateOneIter(h->cvbooster, r, h->cvtrain), "train a round");
		}
		metric = EvalMetric(h->cvbooster, rounds - 1, h->cvvalid);
		sum += metric;
		sumsq += metric * metric;
		uba_progress(o, "uba_boost_train: fold %d of %d: %s %.6g", f + 1, cv->folds,
					 metric_names[cv->objective], metric);
		XGBoosterFree(h->cvbooster);
		XGDMatrixFree(h->cvtrain);
		XGDMatrixFree(h->cvvalid);
		h->cvbooster = NULL;
		h->cvtrain = NULL;
		h->cvvalid = NULL;
	}
	*mean = sum / cv->folds;
	*std = sqrt(Max(0, sumsq / cv->folds - *mean * *mean));
}

/* Sort key of a float: ascending by value, NaN (missing) last */
static inline uint64
FloatOrderKey(float v)
{
	uint32		b;

	if (isnan(v))
		return PG_UINT32_MAX;
	memcpy(&b, &v, sizeof(b));
	return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

/*
 * The order XGBoost gets the rows in: the canonical order (order, by row
 * hash) sorted by the value of the feature that gains most in one round
 * on the first BOOST_PROBE_ROWS rows of it, ties in canonical order.  Its
 * histograms walk each tree node's rows in row order; a hash order
 * scatters every node over all rows, while rows sorted by the feature
 * most splits use sit together (Online Shoppers tiled to a million rows:
 * 50 rounds 14% faster).  Still a function of the rows alone, so still
 * independent of the order they came in.  Returns the new order (idx:
 * arrival positions) and in *hashpos each place's position in the
 * canonical order; or order itself and NULL, for few rows or when the
 * probe splits nothing.
 */
static const UbaSortKey *
LocalityOrder(XgbHandles *h, UbaRowSet *rs, const UbaSortKey *order, const UbaOptions *o,
			  bool forest, int objective, int nclass, int64 **hashpos)
{
	int64		n = rs->n;
	int			d = rs->dim;
	int64		m = Min(n, BOOST_PROBE_ROWS);
	float	   *px,
			   *py;
	bst_ulong	nf,
				dim;
	const char **names;
	const bst_ulong *shape;
	const float *scores;
	int			best = -1;
	float		best_gain = 0;
	UbaSortKey *a,
			   *sorted;

	*hashpos = NULL;
	if (n < BOOST_LOCALITY_MIN_ROWS)
		return order;

	/* one round on the first rows (a random sample: the canonical order is by hash) */
	px = palloc(sizeof(float) * m * d);
	py = palloc(sizeof(float) * m);
	CopyRows(rs, order, m, NULL, px, py);
	NewTrainingMatrix(h, px, py, m, d, rs->enc, (int) uba_option(o, "max_bin"), &h->dprobe, "take a sample of the rows");
	Check(XGBoosterCreate(&h->dprobe, 1, &h->probe), "create a booster");
	Configure(h->probe, o, forest, objective, d, nclass);
	if (forest)
		SetNumParam(h->probe, "num_parallel_tree", 1);
	Check(XGBoosterUpdateOneIter(h->probe, 0, h->dprobe), "train a round");
	Check(XGBoosterFeatureScore(h->probe, "{\"importance_type\": \"total_gain\"}", &nf, &names, &dim, &shape, &scores),
		  "score the features");
	/* features are named f0, f1, ... (none are set); the first of equal gains wins */
	for (bst_ulong k = 0; k < nf; k++)
	{
		int			f = (names[k][0] == 'f') ? atoi(names[k] + 1) : -1;

		if (f >= 0 && f < d && (scores[k] > best_gain || (scores[k] == best_gain && best >= 0 && f < best)))
		{
			best = f;
			best_gain = scores[k];
		}
	}
	XGBoosterFree(h->probe);
	XGDMatrixFree(h->dprobe);
	h->probe = NULL;
	h->dprobe = NULL;
	pfree(px);
	pfree(py);
	if (best < 0)
		return order;

	/* a stable sort of the canonical order by that feature's value */
	a = uba_big_alloc_raw(CurrentMemoryContext, sizeof(UbaSortKey) * n);
	for (int64 i = 0; i < n; i++)
	{
		a[i].key = FloatOrderKey((float) uba_rowset_value(rs, order[i].idx, best));
		a[i].idx = i;
	}
	sorted = uba_radix_sort(a, rs->keys, n);	/* the row hashes are in order already */
	*hashpos = uba_big_alloc_raw(CurrentMemoryContext, sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
	{
		(*hashpos)[i] = sorted[i].idx;
		sorted[i].idx = order[sorted[i].idx].idx;
	}
	return sorted;
}

static bytea *
Fit(UbaRowSet *rs, bool forest)
{
	UbaOptions	o;
	MemoryContext cxt,
				ordercxt,
				old;
	XgbHandles *h;
	int			objective,
				rounds,
				d;
	int64		n;
	float	   *xf,
			   *yf;
	double		base_score,
				base_margin,
				vfrac,
				best_metric = -1,
				last_metric = -1;
	int64		nvalid = 0;
	int			best_round = -1,
				used_rounds,
				folds;
	TuneSpec	tune;
	StringInfoData tuning;
	int			best_trial = -1;
	int			nclass = 0;
	UbaWriter	classes;
	const UbaSortKey *order;
	int64	   *hashpos;
	double		cv_mean = -1,
				cv_std = -1;
	bst_ulong	len;
	const char *json;
	UbaWriter	pw,
				trees;
	UbaModelMeta meta;
	bytea	   *result;

	ParseOptions(rs->options, forest, rs->enc != NULL, &o, &tune);
	objective = rs->iparam;
	rounds = forest ? 1 : (int) uba_option(&o, "n_estimators");
	n = rs->n;
	d = rs->dim;

	/*
	 * The float32 copy, XGBoost's quantile matrix made from it (a bin number
	 * of at most two bytes per value), gradients and predictions; and the
	 * feature's order (LocalityOrder) while the rows are copied
	 */
	uba_check_memory(add_size(mul_size((Size) n, (Size) d * (sizeof(float) + sizeof(uint16))),
							  mul_size((Size) n, n >= BOOST_LOCALITY_MIN_ROWS ? 64 + 24 : 64)),
					 "gradient boosting training");
	if (objective == BOOST_BINARY)
	{
		int64		pos = 0;

		for (int64 i = 0; i < n; i++)
			pos += rs->y[i] != 0;
		if (pos == 0 || pos == n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("uba_boost_train needs both labels, true and false"),
					 errdetail("All " INT64_FORMAT " rows are %s.", n, pos ? "true" : "false")));
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext, "uba boost", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	/* the canonical order, read straight into the float copy below: no second copy of the rows */
	order = uba_rowset_canonical_keys(rs);
	if (objective == BOOST_MULTICLASS)
		nclass = uba_rowset_classes(rs, &classes);
	h = palloc0(sizeof(XgbHandles));
	h->free.func = FreeHandles;
	h->free.arg = h;
	MemoryContextRegisterResetCallback(cxt, &h->free);
	/* the order XGBoost reads fastest, still a function of the rows alone (its arrays go after the copy) */
	ordercxt = AllocSetContextCreate(cxt, "uba boost row order", ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(ordercxt);
	order = LocalityOrder(h, rs, order, &o, forest, objective, nclass, &hashpos);
	MemoryContextSwitchTo(cxt);

	/*
	 * Written in full by the copy below: float4 rows come with its room,
	 * paged in while they were read
	 */
	xf = rs->single ? rs->xs2 : uba_big_alloc_raw(cxt, sizeof(float) * n * d);
	yf = uba_big_alloc_raw(cxt, sizeof(float) * n);

	/*
	 * Rows held out for early stopping: drawn with the seed over the
	 * canonical order (by hash, not the feature's order: a random
	 * share), so the split is the same in any row order; the held-out
	 * rows go to the end of the float copy.
	 */
	vfrac = forest ? 0 : uba_option(&o, "validation_fraction");
	{
		UbaRandom	rng;
		int64		ntr = 0,
					nva = 0;
		int64	   *dest = NULL;
		bool	   *held = uba_big_alloc_raw(cxt, sizeof(bool) * n);

		uba_random_seed(&rng, (uint64) uba_option(&o, "seed") + 0x9E3779B97F4A7C15ULL);
		for (int64 i = 0; i < n; i++)
			held[i] = vfrac > 0 && uba_random_double(&rng) < vfrac;

		for (int64 i = 0; i < n; i++)
			nva += held[i];
		ntr = n - nva;
		/* where each row goes: held-out rows after the others */
		if (nva > 0)
		{
			dest = uba_big_alloc_raw(cxt, sizeof(int64) * n);
			for (int64 i = 0, t = 0, v = ntr; i < n; i++)
				dest[i] = held[hashpos != NULL ? hashpos[i] : i] ? v++ : t++;
		}
		CopyRows(rs, order, n, dest, xf, yf);
		if (vfrac > 0 && (ntr < 2 || nva < 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("validation_fraction %g leaves " INT64_FORMAT " rows for training and " INT64_FORMAT " for validation", vfrac, ntr, nva),
					 errhint("Train on more rows, or hold out another share.")));
		nvalid = nva;
		n = ntr;
	}
	/* the float copy is all that training reads from here: the rows and keys go */
	uba_array_free((void **) &rs->x, &rs->x_bytes);
	uba_array_free((void **) &rs->xs, &rs->xs_bytes);
	uba_array_free((void **) &rs->keys, &rs->keys_bytes);
	uba_array_free((void **) &rs->keys2, &rs->keys2_bytes);
	MemoryContextDelete(ordercxt);
	/* and for good: XGBoost's memory is its own, so keeping them would only add to the peak */
	uba_big_trim();

	/* warnings and errors of XGBoost's own go to the server log */
	if (!xgb_log_registered)
	{
		Check(XGBRegisterLogCallback(XgbLog), "take its log");
		xgb_log_registered = true;
	}
	FlushXgbLog();
	Check(XGBSetGlobalConfig("{\"verbosity\": 1}"), "configure");

	/*
	 * Cross-validation (cv_folds, or tuning): each row in one of the folds
	 * (drawn with the seed over the float copy's order, a function of the
	 * rows alone).  With "tune", each
	 * trial's options are scored so and the best mean wins; the model
	 * itself is trained on all rows below, with the options kept.
	 */
	folds = forest ? 0 : (int) uba_option(&o, "cv_folds");
	if (tune.trials > 0 && folds < 2)
	{
		folds = TUNE_DEFAULT_FOLDS;
		uba_option_set(&o, "cv_folds", folds);
	}
	if (folds >= 2)
	{
		CvWork		cv;
		UbaRandom	rng;

		/* the rows, a fold's copy and XGBoost's two matrices of it */
		uba_check_memory(mul_size((Size) n, (Size) d * 4 * sizeof(float) + 64), "cross-validation");
		cv.h = h;
		cv.forest = forest;
		cv.objective = objective;
		cv.xf = xf;
		cv.yf = yf;
		cv.n = n;
		cv.d = d;
		cv.enc = rs->enc;
		cv.folds = folds;
		cv.nclass = nclass;
		cv.fold = uba_big_alloc(cxt, sizeof(int32) * n);
		cv.fx = uba_big_alloc(cxt, sizeof(float) * n * d);
		cv.fy = uba_big_alloc(cxt, sizeof(float) * n);
		uba_random_seed(&rng, (uint64) uba_option(&o, "seed") + 0xC2B2AE3D27D4EB4FULL);
		for (int64 i = 0; i < n; i++)
			cv.fold[i] = (int32) uba_random_below(&rng, (uint64) folds);
		if (tune.trials == 0)
			CrossValidate(&cv, &o, &cv_mean, &cv_std);
		else
		{
			UbaOptions	best = o;
			UbaRandom	draw;

			initStringInfo(&tuning);
			appendStringInfo(&tuning, "{\"metric\": \"%s\", \"folds\": %d, \"trials\": [", metric_names[objective], folds);
			uba_random_seed(&draw, (uint64) uba_option(&o, "seed") + 0x165667B19E3779F9ULL);
			for (int t = 0; t < tune.trials; t++)
			{
				UbaOptions	trial = o;
				double		mean,
							std;

				appendStringInfoString(&tuning, t > 0 ? ", {" : "{");
				for (int k = 0; k < tune.n; k++)
				{
					const char *name = tunable[tune.which[k]];
					double		u = uba_random_double(&draw);
					double		v;
					bool		integer = IsIntOption(name);

					if (integer)
						v = ceil(tune.lo[k]) + floor(u * (floor(tune.hi[k]) - ceil(tune.lo[k]) + 1));
					else if (tunable_log[tune.which[k]] && tune.lo[k] > 0)
						v = exp(log(tune.lo[k]) + u * (log(tune.hi[k]) - log(tune.lo[k])));
					else
						v = tune.lo[k] + u * (tune.hi[k] - tune.lo[k]);
					v = Min(Max(v, tune.lo[k]), tune.hi[k]);
					uba_option_set(&trial, name, v);
					appendStringInfo(&tuning, "\"%s\": %.17g, ", name, v);
				}
				CrossValidate(&cv, &trial, &mean, &std);
				appendStringInfo(&tuning, "\"mean\": %.17g, \"std\": %.17g}", mean, std);
				uba_progress(&o, "uba_boost_train: trial %d of %d: cross-validated %s %.6g", t + 1, tune.trials,
							 metric_names[objective], mean);
				if (t == 0 || mean < cv_mean)
				{
					cv_mean = mean;
					cv_std = std;
					best = trial;
					best_trial = t;
				}
			}
			appendStringInfo(&tuning, "], \"best_trial\": %d}", best_trial + 1);
			o = best;
			rounds = (int) uba_option(&o, "n_estimators");
		}
	}
	/* the training matrix bins values by max_bin, which tuning may have chosen */
	NewTrainingMatrix(h, xf, yf, n, d, rs->enc, (int) uba_option(&o, "max_bin"), &h->dtrain, "take the rows");
	if (nvalid > 0)
	{
		NewMatrix(xf + (Size) n * d, nvalid, d, rs->enc, &h->dvalid, "take the held-out rows");
		Check(XGDMatrixSetFloatInfo(h->dvalid, "label", yf + n, (bst_ulong) nvalid), "take the held-out labels");
	}
	Check(XGBoosterCreate(&h->dtrain, 1, &h->booster), "create a booster");
	Configure(h->booster, &o, forest, objective, d, nclass);

	used_rounds = rounds;
	for (int r = 0; r < rounds; r++)
	{
		CHECK_FOR_INTERRUPTS();
		Check(XGBoosterUpdateOneIter(h->booster, r, h->dtrain), "train a round");
		FlushXgbLog();
		if (nvalid > 0)
		{
			double		metric = EvalMetric(h->booster, r, h->dvalid);
			int			patience = (int) uba_option(&o, "early_stopping_rounds");

			last_metric = metric;
			if (best_round < 0 || metric < best_metric)
			{
				best_metric = metric;
				best_round = r;
			}
			if ((r + 1) % 10 == 0)
				uba_progress(&o, "uba_boost_train: round %d: held-out %s %.6g (best %.6g at round %d)",
							 r + 1, metric_names[objective], metric, best_metric, best_round + 1);
			/* the model keeps the best round's trees when it stops early */
			if (patience > 0 && r - best_round >= patience)
			{
				used_rounds = best_round + 1;
				uba_progress(&o, "uba_boost_train: stopped after round %d, no better held-out %s for %d rounds",
							 r + 1, metric_names[objective], patience);
				break;
			}
			if (patience > 0)
				used_rounds = best_round + 1;
		}
		else if ((r + 1) % 10 == 0 || r + 1 == rounds)
			uba_progress(&o, "%s: round %d of %d", forest ? "uba_forest_train" : "uba_boost_train", r + 1, rounds);
	}

	Check(XGBoosterSaveModelToBuffer(h->booster, "{\"format\": \"json\"}", &len, &json), "write its model");
	uba_writer_init(&trees);
	/* the held-out metric of the model kept: the best round's when it stopped early, else the last's */
	if (nvalid > 0 && uba_option(&o, "early_stopping_rounds") == 0)
		best_metric = last_metric;

	/* a forest is one round of n_estimators trees; boosting one tree a round */
	(void) WriteTrees(&trees, json, len, forest ? PG_UINT32_MAX : (uint32) used_rounds * Max(nclass, 1),
					  &base_score, nclass > 0);
	if (objective == BOOST_BINARY)
	{
		if (!(base_score > 0 && base_score < 1))
			elog(ERROR, "uba: XGBoost's base score %g is not a probability", base_score);
		base_margin = -logf(1.0f / (float) base_score - 1.0f);	/* in float32, as XGBoost */
	}
	else
		base_margin = base_score;

	/*
	 * The evaluator against XGBoost on the training rows: the margins
	 * must agree (float32 leaf sums against our double sums).
	 */
	{
		char	   *cfg = psprintf("{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": %d, \"strict_shape\": false, \"cache_id\": 0, \"missing\": NaN}",
							   forest ? 0 : used_rounds);
		char		array[256];
		const bst_ulong *shape;
		bst_ulong	dim;
		const float *pred;
		UbaReader	r;
		BoostModel *m;
		UbaModelMeta pm;
		UbaWriter	probe;
		BoostHead	hd;
		double		worst = 0,
					shap_worst = 0;
		int64		ncheck,
					stride;

		/*
		 * Training rows spread over all of them (the copy may be ordered
		 * by a feature): all up to BOOST_MARGIN_CHECK_ROWS, else every
		 * stride-th row, read in place (a matrix of them would copy them)
		 */
		ncheck = Min(n, BOOST_MARGIN_CHECK_ROWS);
		stride = n / ncheck;
		FloatArray(array, sizeof(array), xf, ncheck, d, stride);
		Check(XGBoosterPredictFromDense(h->booster, array, cfg, NULL, &shape, &dim, &pred), "predict");
		/* parse what we wrote, with a placeholder agreement */
		hd.objective = objective;
		hd.flags = forest ? BOOST_FLAG_FOREST : 0;
		hd.rounds = (uint32) used_rounds;
		hd.base_margin = base_margin;
		hd.agreement = hd.shap_agreement = 0;
		hd.valid_rows = nvalid;
		hd.valid_metric = best_metric;
		hd.cv_folds = folds;
		hd.cv_mean = cv_mean;
		hd.cv_std = cv_std;
		hd.tuning = best_trial >= 0 ? tuning.data : NULL;
		PutHead(&probe, &hd);
		if (nclass > 0)
			appendBinaryStringInfo(&probe.buf, classes.buf.data, classes.buf.len);
		appendBinaryStringInfo(&probe.buf, trees.buf.data, trees.buf.len);
		memset(&pm, 0, sizeof(pm));
		pm.n_features = d;
		pm.encoding = rs->enc;
		r.p = probe.buf.data;
		r.end = probe.buf.data + probe.buf.len;
		m = ParseBoost(&pm, &r);
		{
			CheckWork	ck;

			ck.m = m;
			ck.xf = xf;
			ck.stride = stride;
			ck.pred = pred;
			ck.n = ncheck;
			ck.margins = palloc(sizeof(float) * UBA_LANES * UBA_LANE_STRIDE(Max(nclass, 1), sizeof(float)));
			memset(ck.worst, 0, sizeof(ck.worst));
			uba_run_lanes((ncheck + UBA_BLOCK_ROWS - 1) / UBA_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
						  CheckBlock, &ck);
			for (int l = 0; l < UBA_LANES; l++)
				worst = Max(worst, ck.worst[l]);
		}
		CHECK_FOR_INTERRUPTS();

		/* TreeSHAP against XGBoost's pred_contribs on rows spread as above (d values and the bias each) */
		{
			double		steps = 0;
			int64		nshap;
			float	   *sx;
			char	   *ccfg = psprintf("{\"type\": 2, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": %d, \"strict_shape\": false}",
									forest ? 0 : used_rounds);
			const float *contribs;

			for (uint32 t = 0; t < m->ntrees; t++)
				steps += (double) (m->trees[t].nnodes + 1) / 2 * (m->trees[t].depth + 1) * (m->trees[t].depth + 1);
			nshap = Min(n, (int64) Max(1, Min(BOOST_SHAP_CHECK_ROWS, BOOST_SHAP_CHECK_STEPS / Max(steps, 1))));

			sx = palloc(sizeof(float) * nshap * d);
			for (int64 i = 0; i < nshap; i++)
				memcpy(sx + (Size) i * d, xf + (Size) (i * (n / nshap)) * d, sizeof(float) * d);
			NewMatrix(sx, nshap, d, rs->enc, &h->dshap, "take the rows");
			Check(XGBoosterPredictFromDMatrix(h->booster, h->dshap, ccfg, &shape, &dim, &contribs),
				  "compute SHAP values");
			/* XGBoost's layout: row by row, class by class (multi-class), d values and the bias */
			for (int64 i = 0; i < nshap; i++)
				for (int k = 0; k < Max(nclass, 1); k++)
				{
					const float *c = contribs + ((Size) i * Max(nclass, 1) + k) * (d + 1);

					TreeShapClass(m, sx + (Size) i * d, m->phi, m->shap_path, nclass > 0 ? k : -1);
					for (int j = 0; j < d; j++)
						shap_worst = Max(shap_worst, fabs(m->phi[j] - (double) c[j]));
					shap_worst = Max(shap_worst, fabs((nclass > 0 ? m->expected_k[k] : m->expected) - (double) c[d]));
				}
		}
		hd.agreement = worst;
		hd.shap_agreement = shap_worst;
		PutHead(&pw, &hd);
		if (nclass > 0)
			appendBinaryStringInfo(&pw.buf, classes.buf.data, classes.buf.len);
		appendBinaryStringInfo(&pw.buf, trees.buf.data, trees.buf.len);
	}
	FlushXgbLog();
	uba_progress(&o, "%s: trained; the model is read back", forest ? "uba_forest_train" : "uba_boost_train");

	uba_model_meta_init(&meta, d, n, rs->started, &o);
	uba_encoding_attach(&meta, rs->enc);
	MemoryContextSwitchTo(old);
	result = uba_model_build(UBA_KIND_BOOST, &meta, &pw);
	MemoryContextDelete(cxt);	/* frees XGBoost's handles */
	return result;
}

static Datum
Train(FunctionCallInfo fcinfo, bool forest)
{
	UbaRowSet  *rs = PG_ARGISNULL(0) ? NULL : (UbaRowSet *) PG_GETARG_POINTER(0);

	if (rs == NULL || rs->n == 0)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(Fit(rs, forest));
}

Datum
uba_boost_final(PG_FUNCTION_ARGS)
{
	return Train(fcinfo, false);
}

Datum
uba_forest_final(PG_FUNCTION_ARGS)
{
	return Train(fcinfo, true);
}

/*
 * Boosted regression trees on rows another capability built (a global
 * forecaster's lags and calendar): rs holds n rows of float8 features
 * (NaN missing) and their targets, rs->options uba_boost_train's options.
 * The row set is consumed.
 */
bytea *
uba_boost_fit_rows(UbaRowSet *rs)
{
	Assert(rs->n > 0 && rs->has_y && rs->enc == NULL);
	rs->iparam = BOOST_REGRESSION;
	return Fit(rs, false);
}

/* ---------- reading ---------- */

/*
 * A categorical split's categories: only on a category column of typed
 * rows, at least one, strictly increasing, each a level the column has
 * (its other level included); kept as a bit set for the evaluator.
 */
static void
ReadCategories(UbaReader *r, const UbaModelMeta *meta, BoostNode *nd, uint32 t, uint32 i)
{
	const UbaEncoding *enc = meta->encoding;
	const UbaColumn *col;
	int64		levels;
	uint32		n = uba_get_u32(r);

	if (enc == NULL || nd->feature >= (uint32) enc->nfeatures)
		uba_model_corrupted("Tree %u, node %u: a categorical split on a model without categories.", t, i);
	col = &enc->cols[uba_encoding_column_of(enc, (int) nd->feature)];
	if (col->cls != UBA_COL_CATEGORY)
		uba_model_corrupted("Tree %u, node %u: a categorical split on column \"%s\", not a category.", t, i, col->name);
	levels = col->levels.n + (col->has_other ? 1 : 0);
	if (n < 1 || n > (uint32) levels)
		uba_model_corrupted("Tree %u, node %u: %u categories of %lld.", t, i, n, (long long) levels);
	uba_reader_check_space(r, n, sizeof(uint32));
	nd->catlist = palloc(sizeof(uint32) * n);
	nd->ncatlist = n;
	uba_get_u32_array(r, nd->catlist, n);
	for (uint32 k = 0; k < n; k++)
		if (nd->catlist[k] >= (uint64) levels || (k > 0 && nd->catlist[k] <= nd->catlist[k - 1]))
			uba_model_corrupted("Tree %u, node %u: categories out of range or order.", t, i);
	nd->ncats = nd->catlist[n - 1] + 1;
	nd->cats = palloc0(sizeof(uint32) * ((nd->ncats + 31) / 32));
	for (uint32 k = 0; k < n; k++)
		nd->cats[nd->catlist[k] >> 5] |= 1u << (nd->catlist[k] & 31);
	nd->value = 0;
}

/* A node as the payload stores it (the format above); a categorical split lists its categories */
void
uba_tree_put_node(UbaWriter *w, uint32 feature, bool default_left, uint32 left, uint32 right,
				  float value, float gain, float cover, const uint32 *cats, uint32 ncats)
{
	uba_put_u32(w, feature);
	uba_put_u32(w, feature == BOOST_LEAF ? 0 :
				((default_left ? NODE_DEFAULT_LEFT : 0) | (ncats > 0 ? NODE_CATEGORICAL : 0)));
	uba_put_u32(w, feature == BOOST_LEAF ? BOOST_LEAF : left);
	uba_put_u32(w, feature == BOOST_LEAF ? BOOST_LEAF : right);
	uba_put_f32_array(w, &value, 1);
	uba_put_f32_array(w, &gain, 1);
	uba_put_f32_array(w, &cover, 1);
	if (ncats > 0 && feature != BOOST_LEAF)
	{
		uba_put_u32(w, ncats);
		uba_put_u32_array(w, cats, ncats);
	}
}

/* The payload's head for a model that XGBoost did not train (no agreement, validation or tuning) */
static void
PutIsolationHead(UbaWriter *w, uint32 ntrees, int max_samples, double contamination, double threshold)
{
	/* no XGBoost to compare with, no validation, cross-validation or tuning */
	BoostHead	hd = {BOOST_ISOLATION, 0, ntrees, 0, 0, 0, 0, -1, 0, -1, -1, NULL};

	PutHead(w, &hd);
	uba_put_u32(w, (uint32) max_samples);
	uba_put_f64(w, contamination);
	uba_put_f64(w, threshold);
}

/*
 * An isolation forest's model (iforest.c grew the trees): read back, its
 * scores of the training rows give the threshold for a contamination
 * (the upper quantile, interpolated as numpy's percentile), else 0.5.
 */
bytea *
uba_isolation_model(const UbaOptions *o, UbaRowSet *rs, UbaWriter *trees, uint32 ntrees,
					int max_samples, double contamination)
{
	UbaWriter	pw;
	UbaModelMeta meta;
	double		threshold = 0.5;

	if (contamination > 0)
	{
		UbaModelMeta pm;
		UbaReader	r;
		BoostModel *m;
		double	   *scores = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * rs->n);
		double		pos,
					frac;
		int64		lo;

		PutIsolationHead(&pw, ntrees, max_samples, contamination, 0.5);
		appendBinaryStringInfo(&pw.buf, trees->buf.data, trees->buf.len);
		memset(&pm, 0, sizeof(pm));
		pm.n_features = rs->dim;
		pm.encoding = rs->enc;
		r.p = pw.buf.data;
		r.end = pw.buf.data + pw.buf.len;
		m = ParseBoost(&pm, &r);
		for (int64 i = 0; i < rs->n; i++)
		{
			TakeRow(m, rs->x + (Size) i * rs->dim);
			scores[i] = IsolationScore(m);
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		qsort(scores, rs->n, sizeof(double), uba_cmp_double);
		pos = (1.0 - contamination) * (double) (rs->n - 1);
		lo = (int64) floor(pos);
		frac = pos - (double) lo;
		threshold = lo + 1 < rs->n ? scores[lo] + frac * (scores[lo + 1] - scores[lo]) : scores[lo];
		pfree(scores);
	}
	PutIsolationHead(&pw, ntrees, max_samples, contamination, threshold);
	appendBinaryStringInfo(&pw.buf, trees->buf.data, trees->buf.len);
	uba_model_meta_init(&meta, rs->dim, rs->n, rs->started, o);
	uba_encoding_attach(&meta, rs->enc);
	return uba_model_build(UBA_KIND_BOOST, &meta, &pw);
}

static void *
ParseBoost(const UbaModelMeta *meta, UbaReader *r)
{
	BoostModel *m = palloc0(sizeof(BoostModel));
	uint32		objective,
				flags;

	objective = uba_get_u32(r);
	if (objective > BOOST_ISOLATION)
		uba_model_corrupted("Unknown objective %u.", objective);
	m->objective = (int) objective;
	flags = uba_get_u32(r);
	if ((flags & ~BOOST_FLAG_FOREST) != 0)
		uba_model_corrupted("Unknown flags %u.", flags);
	m->forest = (flags & BOOST_FLAG_FOREST) != 0;
	m->d = meta->n_features;
	if (m->d < 1 || m->d > UBA_MAX_FEATURES)
		uba_model_corrupted("The model claims %d features.", m->d);
	m->rounds = uba_get_u32(r);
	m->base_margin = uba_get_finite_f64(r);
	m->agreement = uba_get_finite_f64(r);
	m->shap_agreement = uba_get_finite_f64(r);
	if (m->agreement < 0 || m->shap_agreement < 0)
		uba_model_corrupted("A negative difference from XGBoost.");
	{
		uint64		v = uba_get_u64(r);

		if (v > (uint64) PG_INT64_MAX)
			uba_model_corrupted("The held-out row count is out of range.");
		m->valid_rows = (int64) v;
	}
	m->valid_metric = uba_get_finite_f64(r);
	if ((m->valid_rows > 0) != (m->valid_metric >= 0))
		uba_model_corrupted("A held-out metric without held-out rows, or none with them.");
	m->cv_folds = (int) uba_get_u32(r);
	m->cv_mean = uba_get_finite_f64(r);
	m->cv_std = uba_get_finite_f64(r);
	{
		uint32		len = uba_get_u32(r);

		if (len > BOOST_MAX_TUNING_BYTES)
			uba_model_corrupted("The tuning trials take %u bytes.", len);
		uba_reader_check_space(r, len, 1);
		m->tuning = len > 0 ? pnstrdup(r->p, len) : NULL;
		if (len > 0 && (strlen(m->tuning) != len || !uba_is_json_object_text(m->tuning, (int) len)))
			uba_model_corrupted("The tuning trials are not a JSON object.");
		if (len > 0 && m->cv_folds < 2)
			uba_model_corrupted("Tuning trials without cross-validation.");
		r->p += len;
	}
	if (m->objective == BOOST_MULTICLASS)
	{
		uba_get_classes(r, &m->classes);
		m->nclass = m->classes.k;
	}
	if (m->objective == BOOST_ISOLATION)
	{
		m->max_samples = (int) uba_get_u32(r);
		m->contamination = uba_get_finite_f64(r);
		m->threshold = uba_get_finite_f64(r);
		if (m->max_samples < 1 || m->max_samples > PG_INT32_MAX / 2 ||
			m->contamination < 0 || m->contamination > 0.5 || m->threshold < 0 || m->threshold > 1)
			uba_model_corrupted("Bad isolation forest parameters.");
	}
	if (m->cv_folds == 1 || m->cv_folds > 20 || (m->cv_folds > 0) != (m->cv_mean >= 0 && m->cv_std >= 0))
		uba_model_corrupted("Bad cross-validation results.");
	m->names = meta->feature_names;
	m->enc = meta->encoding;
	m->expected = m->base_margin;
	m->ntrees = uba_get_u32(r);
	/* every tree needs at least one node of 28 bytes (and a class, multi-class) */
	uba_reader_check_space(r, (Size) m->ntrees, 4 + 28 + (m->nclass > 0 ? 4 : 0));
	m->trees = palloc0(sizeof(BoostTree) * Max(m->ntrees, 1));
	if (m->nclass > 0)
	{
		m->tree_class = palloc(sizeof(uint32) * Max(m->ntrees, 1));
		m->expected_k = palloc(sizeof(double) * m->nclass);
		for (int k = 0; k < m->nclass; k++)
			m->expected_k[k] = m->base_margin;
	}
	for (uint32 t = 0; t < m->ntrees; t++)
	{
		BoostTree  *tree = &m->trees[t];
		uint32	   *parents;

		if (m->nclass > 0)
		{
			m->tree_class[t] = uba_get_u32(r);
			if (m->tree_class[t] >= (uint32) m->nclass)
				uba_model_corrupted("Tree %u adds to class %u of %d.", t, m->tree_class[t], m->nclass);
		}
		tree->nnodes = uba_get_u32(r);
		if (tree->nnodes < 1 || tree->nnodes > BOOST_MAX_NODES || tree->nnodes % 2 == 0)
			uba_model_corrupted("Tree %u has %u nodes.", t, tree->nnodes);
		uba_reader_check_space(r, (Size) tree->nnodes, 28);
		tree->nodes = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BoostNode) * tree->nnodes);
		parents = palloc0(sizeof(uint32) * tree->nnodes);
		for (uint32 i = 0; i < tree->nnodes; i++)
		{
			BoostNode  *nd = &tree->nodes[i];
			uint32		nflags;

			nd->feature = uba_get_u32(r);
			nflags = uba_get_u32(r);
			nd->left = uba_get_u32(r);
			nd->right = uba_get_u32(r);
			uba_get_f32_array(r, &nd->value, 1, true);
			uba_get_f32_array(r, &nd->gain, 1, true);
			uba_get_f32_array(r, &nd->cover, 1, true);
			if ((nflags & ~(uint32) (NODE_DEFAULT_LEFT | NODE_CATEGORICAL)) != 0 || nd->cover < 0)
				uba_model_corrupted("Tree %u, node %u: bad flags or cover.", t, i);
			nd->default_left = (nflags & NODE_DEFAULT_LEFT) != 0;
			nd->ncats = 0;
			nd->cats = NULL;
			nd->ncatlist = 0;
			nd->catlist = NULL;
			if (nd->feature == BOOST_LEAF)
			{
				if (nd->left != BOOST_LEAF || nd->right != BOOST_LEAF || nflags != 0)
					uba_model_corrupted("Tree %u, node %u: a leaf with children.", t, i);
				continue;
			}
			if (nflags & NODE_CATEGORICAL)
				ReadCategories(r, meta, nd, t, i);
			/* children after their parent: walks end, and no cycle is possible */
			if (nd->feature >= (uint32) m->d ||
				nd->left <= i || nd->left >= tree->nnodes ||
				nd->right <= i || nd->right >= tree->nnodes || nd->left == nd->right)
				uba_model_corrupted("Tree %u, node %u: a feature or child out of range.", t, i);
			parents[nd->left]++;
			parents[nd->right]++;
		}
		for (uint32 i = 1; i < tree->nnodes; i++)
			if (parents[i] != 1)
				uba_model_corrupted("Tree %u, node %u has %u parents.", t, i, parents[i]);
		pfree(parents);
		/* the scorer's compact copy, of the nodes just checked */
		tree->steps = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BoostStep) * tree->nnodes);
		for (uint32 i = 0; i < tree->nnodes; i++)
		{
			const BoostNode *nd = &tree->nodes[i];
			BoostStep  *st = &tree->steps[i];

			st->u.value = nd->value;
			st->left = nd->feature == BOOST_LEAF ? 0 : nd->left;
			st->right = nd->feature == BOOST_LEAF ? 0 : nd->right;
			if (nd->feature == BOOST_LEAF)
				st->feature = 0;
			else if (nd->ncats == 0)
				st->feature = nd->feature;
			else if (nd->ncats <= 32)
			{
				st->feature = nd->feature | STEP_MASK;
				st->u.mask = nd->cats[0];
			}
			else
				st->feature = nd->feature | STEP_CATEGORICAL;
			if (nd->feature != BOOST_LEAF && nd->default_left)
				st->feature |= STEP_DEFAULT_LEFT;
		}

		/* depths (children come after parents) and the cover-weighted means (leaves up) */
		{
			int		   *depth = palloc0(sizeof(int) * tree->nnodes);
			double	   *mean = palloc(sizeof(double) * tree->nnodes);

			for (uint32 i = 0; i < tree->nnodes; i++)
			{
				const BoostNode *nd = &tree->nodes[i];

				tree->depth = Max(tree->depth, depth[i]);
				if (nd->feature == BOOST_LEAF)
					continue;
				if (depth[i] >= BOOST_MAX_TREE_DEPTH || !(nd->cover > 0))
					uba_model_corrupted("Tree %u, node %u: deeper than %d, or a split with no cover.",
										t, i, BOOST_MAX_TREE_DEPTH);
				depth[nd->left] = depth[nd->right] = depth[i] + 1;
			}
			for (uint32 i = tree->nnodes; i-- > 0;)
			{
				const BoostNode *nd = &tree->nodes[i];

				mean[i] = nd->feature == BOOST_LEAF ? nd->value :
					(mean[nd->left] * tree->nodes[nd->left].cover +
					 mean[nd->right] * tree->nodes[nd->right].cover) / nd->cover;
			}
			tree->mean = mean[0];
			m->expected += mean[0];
			if (m->nclass > 0)
				m->expected_k[m->tree_class[t]] += mean[0];
			m->max_depth = Max(m->max_depth, tree->depth);
			pfree(depth);
			pfree(mean);
		}
	}
	uba_reader_finish(r);
	/* scratch for scoring and explaining one row, so that no call allocates */
	m->xf = palloc(sizeof(float) * m->d);
	m->x = palloc(sizeof(double) * m->d);
	m->phi = palloc(sizeof(double) * m->d);
	m->shap_path = palloc0(sizeof(ShapStep) * ShapBufferSteps(m));
	m->contrib = palloc(sizeof(UbaContribution) * m->d);
	if (m->nclass > 0)
	{
		m->margins = palloc(sizeof(float) * m->nclass);
		m->proba = palloc(sizeof(double) * m->nclass);
		m->phi_sum = palloc(sizeof(double) * m->d);
	}
	return m;
}

/* uba_model_info fields of a boosted model (validated in full) */
void
uba_boost_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json)
{
	BoostModel *m = ParseBoost(meta, payload);
	int64		nodes = 0,
				leaves = 0;

	for (uint32 t = 0; t < m->ntrees; t++)
	{
		nodes += m->trees[t].nnodes;
		leaves += (m->trees[t].nnodes + 1) / 2;
	}
	appendStringInfo(json, ", \"method\": \"%s\"", m->objective == BOOST_ISOLATION ? "isolation forest" :
					 m->forest ? "random forest" : "gradient boosting");
	if (m->objective == BOOST_ISOLATION)
		appendStringInfo(json, ", \"max_samples\": %d, \"contamination\": %s, \"threshold\": %.17g",
						 m->max_samples, m->contamination > 0 ? psprintf("%.17g", m->contamination) : "\"auto\"",
						 m->threshold);
	appendStringInfo(json, ", \"objective\": \"%s\", \"trees\": %u, \"nodes\": " INT64_FORMAT
					 ", \"leaves\": " INT64_FORMAT ", \"depth\": %d, \"base_margin\": %.17g, \"expected_margin\": %.17g"
					 ", \"xgboost_margin_difference\": %.17g, \"xgboost_shap_difference\": %.17g",
					 objective_names[m->objective], m->ntrees, nodes, leaves, m->max_depth, m->base_margin,
					 m->expected, m->agreement, m->shap_agreement);
	appendStringInfo(json, ", \"rounds\": %u", m->rounds);
	if (m->nclass > 0)
		uba_classes_json(json, &m->classes);
	if (m->valid_rows > 0)
		appendStringInfo(json, ", \"validation\": {\"rows\": " INT64_FORMAT ", \"metric\": \"%s\", \"value\": %.17g}",
						 m->valid_rows, metric_names[m->objective], m->valid_metric);
	if (m->cv_folds > 0)
		appendStringInfo(json, ", \"cross_validation\": {\"folds\": %d, \"metric\": \"%s\", \"mean\": %.17g, \"std\": %.17g}",
						 m->cv_folds, metric_names[m->objective], m->cv_mean, m->cv_std);
	if (m->tuning)
		appendStringInfo(json, ", \"tuning\": %s", m->tuning);
}

/* ---------- scoring ---------- */

/* A row's features into the model's scratch, as float32 the way XGBoost reads them */
static void
ReadRow(BoostModel *m, ArrayType *features)
{
	uba_read_features(features, m->x, m->d);
	for (int j = 0; j < m->d; j++)
		m->xf[j] = (float) m->x[j];
}

/* The same for a row of d values (NaN missing) */
static void
TakeRow(BoostModel *m, const double *x)
{
	if (x != m->x)
		memcpy(m->x, x, sizeof(double) * m->d);
	for (int j = 0; j < m->d; j++)
		m->xf[j] = (float) x[j];
}

/*
 * uba_boost_predict(model, features): the probability of true for a binary
 * model, the predicted value for regression.
 */
Datum
uba_boost_predict(PG_FUNCTION_ARGS)
{
	BoostModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);

	ReadRow(m, PG_GETARG_ARRAYTYPE_P(1));
	PG_RETURN_FLOAT8(uba_boost_score(fcinfo, m->x));
}

/* The prediction for the model in argument 0 of a row of its features (uba_predict) */
double
uba_boost_score(FunctionCallInfo fcinfo, const double *x)
{
	BoostModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);
	double		margin;

	TakeRow(m, x);
	if (m->objective == BOOST_ISOLATION)
		return IsolationScore(m);
	if (m->nclass > 0)
	{
		int			best;

		Margins(m, m->xf, m->margins);
		best = Probabilities(m);
		if (m->classes.kind == UBA_CLASSES_TEXT)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("a multi-class model of text labels predicts text"),
					 errhint("Use uba_predict_class(model, features) for the class, uba_predict_proba(model, features) for the probabilities.")));
		return m->classes.values[best];
	}
	margin = Margin(m, m->xf);
	return m->objective == BOOST_BINARY ? uba_sigmoid(margin) : margin;
}

/*
 * A regression model of boosted trees another model embeds (a global
 * forecaster's), opened and validated like any model; its features' count
 * in *d.
 */
void *
uba_boost_open(bytea *blob, int *d)
{
	UbaModelMeta meta;
	UbaReader	r;
	BoostModel *m;

	uba_model_open(blob, UBA_KIND_BOOST, &meta, &r);
	m = ParseBoost(&meta, &r);
	if (m->objective != BOOST_REGRESSION || m->nclass > 0 || meta.encoding != NULL)
		uba_model_corrupted("The embedded trees are not a regression model of float8 features.");
	*d = m->d;
	return m;
}

/* The prediction of a model uba_boost_open gave for a row of its features (NaN missing) */
double
uba_boost_value(void *model, const double *x)
{
	BoostModel *m = (BoostModel *) model;

	TakeRow(m, x);
	return Margin(m, m->xf);
}

/*
 * The class probabilities of a classifier in argument 0 for a row of its
 * features (the model's scratch): a binary model's [false, true], a
 * multi-class model's in the order of its classes; their labels.
 * Returns the number of classes.
 */
static const char *const binary_labels[] = {"false", "true"};

int
uba_boost_classes(FunctionCallInfo fcinfo, const double *x, const double **p, const char *const **labels)
{
	BoostModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);

	TakeRow(m, x);
	if (m->objective == BOOST_REGRESSION || m->objective == BOOST_ISOLATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s has no classes", m->objective == BOOST_ISOLATION ? "an isolation forest" : "a regression model"),
				 errhint("Use uba_predict(model, features) for its value.")));
	if (m->nclass > 0)
	{
		Margins(m, m->xf, m->margins);
		(void) Probabilities(m);
		*p = m->proba;
		*labels = (const char *const *) m->classes.labels;
		return m->nclass;
	}
	m->phi[1] = uba_sigmoid(Margin(m, m->xf));	/* phi is free scratch here */
	m->phi[0] = 1 - m->phi[1];
	*p = m->phi;
	*labels = binary_labels;
	return 2;
}

/*
 * uba_boost_explain(model, features [, top]): exact TreeSHAP values of one
 * prediction, in margin units (log-odds for a binary model): a baseline row
 * (the expected margin over the training cover) and each feature's
 * contribution, largest first; baseline and contributions add up to the
 * margin, as XGBoost's pred_contribs do.
 */
Datum
uba_boost_explain(PG_FUNCTION_ARGS)
{
	BoostModel *m;
	UbaContribution *c;
	char	  **names;
	double		baseline;
	int			top = PG_NARGS() > 2 ? uba_count_arg(PG_GETARG_INT32(2), "top") : -1;

	InitMaterializedSRF(fcinfo, 0);
	m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);
	ReadRow(m, PG_GETARG_ARRAYTYPE_P(1));
	baseline = uba_boost_contributions(fcinfo, m->x, &c, &names);
	uba_emit_contributions(fcinfo, baseline, c, m->d, top < 0 ? m->d : top, names);
	return (Datum) 0;
}

/*
 * TreeSHAP values for the model in argument 0 and a row of its features
 * (NaN missing), into the model's scratch (*c, d entries, *names); returns
 * the baseline, the expected margin.
 */
double
uba_boost_contributions(FunctionCallInfo fcinfo, const double *x, UbaContribution **c, char ***names)
{
	BoostModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);

	int			cls = -1;

	TakeRow(m, x);
	/* a multi-class model explains the margin of the class it predicts */
	if (m->nclass > 0)
	{
		Margins(m, m->xf, m->margins);
		cls = Probabilities(m);
	}
	TreeShapClass(m, m->xf, m->phi, m->shap_path, cls);
	for (int j = 0; j < m->d; j++)
	{
		m->contrib[j].feature = j + 1;
		m->contrib[j].value = m->x[j];
		m->contrib[j].contribution = m->phi[j];
	}
	*c = m->contrib;
	*names = m->names;
	return cls >= 0 ? m->expected_k[cls] : m->expected;
}

/*
 * uba_feature_importance(model): per feature, as XGBoost reports them: the
 * splits that use it (weight), their total and average gain (loss
 * reduction) and their total and average cover (training hessian); ordered
 * by total gain.  Features no split uses come with zeros.
 */
Datum
uba_feature_importance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BoostModel *m;
	int64	   *weight;
	double	   *gain,
			   *cover;
	int		   *order;

	InitMaterializedSRF(fcinfo, 0);
	m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);
	weight = palloc0(sizeof(int64) * m->d);
	gain = palloc0(sizeof(double) * m->d);
	cover = palloc0(sizeof(double) * m->d);
	order = palloc(sizeof(int) * m->d);
	for (uint32 t = 0; t < m->ntrees; t++)
		for (uint32 i = 0; i < m->trees[t].nnodes; i++)
		{
			const BoostNode *nd = &m->trees[t].nodes[i];

			if (nd->feature == BOOST_LEAF)
				continue;
			weight[nd->feature]++;
			gain[nd->feature] += nd->gain;
			cover[nd->feature] += nd->cover;
		}
	/* by total gain, then feature number: a handful of features, insertion order is enough */
	for (int j = 0; j < m->d; j++)
	{
		int			k = j;

		while (k > 0 && gain[order[k - 1]] < gain[j])
		{
			order[k] = order[k - 1];
			k--;
		}
		order[k] = j;
	}
	for (int r = 0; r < m->d; r++)
	{
		int			j = order[r];
		Datum		values[7];
		bool		nulls[7] = {false, m->names == NULL, false, false, false, false, false};

		values[0] = Int32GetDatum(j + 1);
		values[1] = m->names ? CStringGetTextDatum(m->names[j]) : (Datum) 0;
		values[2] = Int64GetDatum(weight[j]);
		values[3] = Float8GetDatum(gain[j]);
		values[4] = Float8GetDatum(weight[j] > 0 ? gain[j] / weight[j] : 0);
		values[5] = Float8GetDatum(cover[j]);
		values[6] = Float8GetDatum(weight[j] > 0 ? cover[j] / weight[j] : 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * A float32 in JSON, exactly (nine significant digits round-trip), always
 * as a float: XGBoost's parser tells integers from numbers by their text.
 */
static void
AppendFloat(StringInfo s, float v)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%.9g", (double) v);
	appendStringInfoString(s, buf);
	if (strpbrk(buf, ".e") == NULL)
		appendStringInfoString(s, ".0");
}

/*
 * uba_boost_export(model) returns json: the model in XGBoost's JSON model format (1.7),
 * which XGBoost loads (xgboost.Booster(model_file=...) or load_model of
 * the text): the trees, the objective and base score, the feature count
 * and names.  Internal nodes carry no weight in uba's format and are
 * written with 0 (XGBoost predicts from leaves only).
 */
PG_FUNCTION_INFO_V1(uba_boost_export);

Datum
uba_boost_export(PG_FUNCTION_ARGS)
{
	BoostModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);
	StringInfoData s;
	uint32		parallel = m->forest ? m->ntrees : 1;
	double		base_score = m->objective == BOOST_BINARY ? uba_sigmoid(m->base_margin) : m->base_margin;

	initStringInfo(&s);
	appendStringInfoString(&s, "{\"learner\": {\"attributes\": {}, \"feature_names\": [");
	for (int j = 0; m->names && j < m->d; j++)
	{
		if (j > 0)
			appendStringInfoString(&s, ", ");
		escape_json(&s, m->names[j]);
	}
	appendStringInfoString(&s, "], \"feature_types\": [");
	for (int j = 0; m->names && j < m->d; j++)
	{
		bool		cat = m->enc != NULL &&
			m->enc->cols[uba_encoding_column_of(m->enc, j)].cls == UBA_COL_CATEGORY;

		appendStringInfoString(&s, j > 0 ? ", " : "");
		appendStringInfoString(&s, cat ? "\"c\"" : "\"float\"");
	}
	appendStringInfo(&s, "], \"gradient_booster\": {\"model\": {\"gbtree_model_param\": {\"num_parallel_tree\": \"%u\", "
					 "\"num_trees\": \"%u\", \"size_leaf_vector\": \"0\"}, \"tree_info\": [",
					 parallel, m->ntrees);
	for (uint32 t = 0; t < m->ntrees; t++)
		appendStringInfo(&s, t > 0 ? ", %u" : "%u", m->nclass > 0 ? m->tree_class[t] : 0);
	appendStringInfoString(&s, "], \"trees\": [");
	for (uint32 t = 0; t < m->ntrees; t++)
	{
		const BoostTree *tree = &m->trees[t];
		uint32	   *parent = palloc(sizeof(uint32) * tree->nnodes);

		parent[0] = 2147483647;
		for (uint32 i = 0; i < tree->nnodes; i++)
			if (tree->nodes[i].feature != BOOST_LEAF)
				parent[tree->nodes[i].left] = parent[tree->nodes[i].right] = i;
		if (t > 0)
			appendStringInfoString(&s, ", ");
		appendStringInfoString(&s, "{\"base_weights\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
		{
			if (i > 0)
				appendStringInfoString(&s, ", ");
			AppendFloat(&s, tree->nodes[i].feature == BOOST_LEAF ? tree->nodes[i].value : 0);
		}
		/* categorical splits: their categories back to back, with each one's node, start and size */
		{
			uint32		seg = 0;
			bool		first = true;

			appendStringInfoString(&s, "], \"categories\": [");
			for (uint32 i = 0; i < tree->nnodes; i++)
				for (uint32 k = 0; k < tree->nodes[i].ncatlist; k++, first = false)
					appendStringInfo(&s, first ? "%u" : ", %u", tree->nodes[i].catlist[k]);
			appendStringInfoString(&s, "], \"categories_nodes\": [");
			first = true;
			for (uint32 i = 0; i < tree->nnodes; i++)
				if (tree->nodes[i].ncatlist > 0)
					appendStringInfo(&s, first ? "%u" : ", %u", i), first = false;
			appendStringInfoString(&s, "], \"categories_segments\": [");
			first = true;
			for (uint32 i = 0; i < tree->nnodes; i++)
				if (tree->nodes[i].ncatlist > 0)
				{
					appendStringInfo(&s, first ? "%u" : ", %u", seg);
					seg += tree->nodes[i].ncatlist;
					first = false;
				}
			appendStringInfoString(&s, "], \"categories_sizes\": [");
			first = true;
			for (uint32 i = 0; i < tree->nnodes; i++)
				if (tree->nodes[i].ncatlist > 0)
					appendStringInfo(&s, first ? "%u" : ", %u", tree->nodes[i].ncatlist), first = false;
		}
		appendStringInfoString(&s, "], \"default_left\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
			appendStringInfo(&s, i > 0 ? ", %d" : "%d", tree->nodes[i].default_left ? 1 : 0);
		appendStringInfo(&s, "], \"id\": %u, \"left_children\": [", t);
		for (uint32 i = 0; i < tree->nnodes; i++)
			appendStringInfo(&s, i > 0 ? ", %d" : "%d",
							 tree->nodes[i].feature == BOOST_LEAF ? -1 : (int) tree->nodes[i].left);
		appendStringInfoString(&s, "], \"loss_changes\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
		{
			if (i > 0)
				appendStringInfoString(&s, ", ");
			AppendFloat(&s, tree->nodes[i].gain);
		}
		appendStringInfoString(&s, "], \"parents\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
			appendStringInfo(&s, i > 0 ? ", %u" : "%u", parent[i]);
		appendStringInfoString(&s, "], \"right_children\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
			appendStringInfo(&s, i > 0 ? ", %d" : "%d",
							 tree->nodes[i].feature == BOOST_LEAF ? -1 : (int) tree->nodes[i].right);
		appendStringInfoString(&s, "], \"split_conditions\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
		{
			if (i > 0)
				appendStringInfoString(&s, ", ");
			AppendFloat(&s, tree->nodes[i].value);
		}
		appendStringInfoString(&s, "], \"split_indices\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
			appendStringInfo(&s, i > 0 ? ", %u" : "%u",
							 tree->nodes[i].feature == BOOST_LEAF ? 0 : tree->nodes[i].feature);
		appendStringInfoString(&s, "], \"split_type\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
			appendStringInfo(&s, i > 0 ? ", %d" : "%d", tree->nodes[i].ncatlist > 0 ? 1 : 0);
		appendStringInfoString(&s, "], \"sum_hessian\": [");
		for (uint32 i = 0; i < tree->nnodes; i++)
		{
			if (i > 0)
				appendStringInfoString(&s, ", ");
			AppendFloat(&s, tree->nodes[i].cover);
		}
		appendStringInfo(&s, "], \"tree_param\": {\"num_deleted\": \"0\", \"num_feature\": \"%d\", "
						 "\"num_nodes\": \"%u\", \"size_leaf_vector\": \"0\"}}", m->d, tree->nnodes);
		pfree(parent);
		if ((t & 63) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	appendStringInfo(&s, "]}, \"name\": \"gbtree\"}, \"learner_model_param\": {\"base_score\": \"%.9g\", "
					 "\"boost_from_average\": \"1\", \"num_class\": \"%d\", \"num_feature\": \"%d\", \"num_target\": \"1\"}, ",
					 base_score, m->nclass, m->d);
	if (m->nclass > 0)
		appendStringInfo(&s, "\"objective\": {\"name\": \"%s\", \"softmax_multiclass_param\": {\"num_class\": \"%d\"}}}, ",
						 objective_names[m->objective], m->nclass);
	else
		appendStringInfo(&s, "\"objective\": {\"name\": \"%s\", \"reg_loss_param\": {\"scale_pos_weight\": \"1\"}}}, ",
						 objective_names[m->objective]);
	appendStringInfoString(&s, "\"version\": [1, 7, 4]}");
	/* json, not jsonb: the text as written, whose number forms XGBoost needs */
	PG_RETURN_TEXT_P(cstring_to_text(s.data));
}

/* ---------- mean absolute SHAP over rows: uba_shap_importance ---------- */

/*
 * uba_shap_importance's state.  Rows are read one by one (that calls into
 * PostgreSQL) into a batch of float32 rows; a full batch is explained on
 * uba.threads threads, each row's |SHAP values| added to its lane's sums.
 * The lanes are fixed, so the sums do not depend on the thread count.  The
 * batch grows from a few rows, so that many small groups stay small.
 */
#define SHAP_BATCH_ROWS 1024
#define SHAP_BLOCK_ROWS 16

typedef struct ShapImportance
{
	BoostModel *model;			/* parsed, kept by the call site's cache */
	int			d;
	int64		rows;
	int			nbatch;			/* rows waiting in batch */
	int			cap;			/* rows batch has room for */
	float	   *batch;			/* cap x d */
	double	   *lane_sum;		/* UBA_LANES x stride: sums of |SHAP value| */
	/* scratch of the flush running */
	double	   *lane_phi;		/* UBA_LANES x stride: a row's SHAP values */
	ShapStep   *lane_path;		/* UBA_LANES x path_stride */
	Size		path_steps;
	/*
	 * Lanes apart by a cache line (UBA_LANE_STRIDE): threads on
	 * neighbouring lanes wrote the same lines at every step of the
	 * recursion, and two threads ran hardly faster than one.
	 */
	Size		stride;			/* doubles per lane */
	Size		path_stride;	/* steps per lane */
} ShapImportance;

PG_FUNCTION_INFO_V1(uba_shap_importance_final);

/* Explain a block of the batch's rows (pure computation: runs on helper threads) */
static void
ShapBlock(void *arg, int64 block, int lane)
{
	ShapImportance *st = (ShapImportance *) arg;
	const BoostModel *m = st->model;
	int			d = st->d;
	int			nk = Max(m->nclass, 1);
	double	   *phi = st->lane_phi + (Size) lane * st->stride;
	double	   *sum = st->lane_sum + (Size) lane * st->stride;
	ShapStep   *path = st->lane_path + (Size) lane * st->path_stride;
	int64		i1 = Min(st->nbatch, (block + 1) * SHAP_BLOCK_ROWS);

	for (int64 i = block * SHAP_BLOCK_ROWS; i < i1; i++)
		/* multi-class: each class's margin explained, their absolute values averaged over classes */
		for (int k = 0; k < nk; k++)
		{
			TreeShapClass(m, st->batch + (Size) i * d, phi, path, m->nclass > 0 ? k : -1);
			for (int j = 0; j < d; j++)
				sum[j] += fabs(phi[j]) / nk;
		}
}

/* Explain the rows waiting in the batch */
static void
ShapFlush(ShapImportance *st)
{
	if (st->nbatch == 0)
		return;
	st->lane_phi = palloc(mul_size(sizeof(double) * UBA_LANES, st->stride));
	st->lane_path = palloc(mul_size(sizeof(ShapStep) * UBA_LANES, st->path_stride));
	uba_run_lanes((st->nbatch + SHAP_BLOCK_ROWS - 1) / SHAP_BLOCK_ROWS, UBA_LANES, uba_thread_count(),
				  ShapBlock, st);
	pfree(st->lane_phi);
	pfree(st->lane_path);
	st->rows += st->nbatch;
	st->nbatch = 0;
}

static Datum
ShapImportanceStep(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	ShapImportance *st = PG_ARGISNULL(0) ? NULL : (ShapImportance *) PG_GETARG_POINTER(0);
	MemoryContext aggcxt = uba_agg_context(fcinfo);
	BoostModel *m;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	/* the model is argument 1 here: the cache reads it as its own argument */
	m = uba_model_cached_datum(fcinfo, PG_GETARG_DATUM(1), UBA_KIND_BOOST, ParseBoost);
	if (st == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		st = palloc0(sizeof(ShapImportance));
		st->model = m;
		st->d = m->d;
		st->path_steps = ShapBufferSteps(m);
		st->stride = UBA_LANE_STRIDE(m->d, sizeof(double));
		st->path_stride = UBA_LANE_STRIDE(st->path_steps, sizeof(ShapStep));
		st->cap = SHAP_BLOCK_ROWS;
		st->batch = palloc(mul_size(sizeof(float) * st->cap, (Size) m->d));
		st->lane_sum = palloc0(mul_size(sizeof(double) * UBA_LANES, st->stride));
		MemoryContextSwitchTo(old);
	}
	else if (m != st->model)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uba_shap_importance needs the same model for every row"),
				 errhint("Pass the model as a constant or a scalar subquery: (SELECT uba_model('name')).")));
	uba_read_features_arg(fcinfo, 2, form, m->enc, m->x, m->d);
	TakeRow(m, m->x);
	if (st->nbatch == st->cap)
	{
		if (st->cap < SHAP_BATCH_ROWS)
		{
			st->cap *= 2;
			st->batch = repalloc(st->batch, mul_size(sizeof(float) * st->cap, (Size) st->d));
		}
		else
			ShapFlush(st);
	}
	memcpy(st->batch + (Size) st->nbatch * st->d, m->xf, sizeof(float) * st->d);
	st->nbatch++;
	PG_RETURN_POINTER(st);
}

UBA_FEATURE_FORMS(uba_shap_importance_transfn, ShapImportanceStep)

/* Final: {"feature name" (or "feature N"): mean |SHAP value|, ...}, NULL without rows */
Datum
uba_shap_importance_final(PG_FUNCTION_ARGS)
{
	ShapImportance *st = PG_ARGISNULL(0) ? NULL : (ShapImportance *) PG_GETARG_POINTER(0);
	StringInfoData s;
	double	   *sum;

	if (st == NULL)
		PG_RETURN_NULL();
	ShapFlush(st);
	if (st->rows == 0)
		PG_RETURN_NULL();
	/* the lanes' sums, added in lane order */
	sum = palloc0(sizeof(double) * st->d);
	for (int l = 0; l < UBA_LANES; l++)
		for (int j = 0; j < st->d; j++)
			sum[j] += st->lane_sum[(Size) l * st->stride + j];
	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int j = 0; j < st->d; j++)
	{
		if (j > 0)
			appendStringInfoString(&s, ", ");
		if (st->model->names)
			escape_json(&s, st->model->names[j]);
		else
			appendStringInfo(&s, "\"feature %d\"", j + 1);
		appendStringInfo(&s, ": %.17g", sum[j] / (double) st->rows);
	}
	appendStringInfoChar(&s, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* ---------- isolation forests: uba_anomaly_score, uba_is_anomaly ---------- */

static BoostModel *
IsolationModel(FunctionCallInfo fcinfo, const char *function)
{
	BoostModel *m = uba_model_cached(fcinfo, 0, UBA_KIND_BOOST, ParseBoost);

	if (m->objective != BOOST_ISOLATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs an isolation forest, not a %s model", function,
						m->forest ? "random forest" : "gradient boosting"),
				 errhint("Train one with uba_isolation_forest(features).")));
	return m;
}

/*
 * uba_anomaly_score(model, features): the row's anomaly score, in (0, 1]:
 * near 1 for anomalies, below 0.5 for ordinary rows.
 * uba_is_anomaly(model, features): the score above the model's threshold.
 */
static Datum
AnomalyScore(FunctionCallInfo fcinfo, UbaFeatureForm form, bool flag)
{
	BoostModel *m = IsolationModel(fcinfo, flag ? "uba_is_anomaly" : "uba_anomaly_score");
	double		score;

	uba_read_features_arg(fcinfo, 1, form, m->enc, m->x, m->d);
	TakeRow(m, m->x);
	score = IsolationScore(m);
	if (flag)
		PG_RETURN_BOOL(score > m->threshold);
	PG_RETURN_FLOAT8(score);
}

static Datum
Score(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	return AnomalyScore(fcinfo, form, false);
}

static Datum
IsAnomaly(FunctionCallInfo fcinfo, UbaFeatureForm form)
{
	return AnomalyScore(fcinfo, form, true);
}

UBA_FEATURE_FORMS(uba_anomaly_score, Score)
UBA_FEATURE_FORMS(uba_is_anomaly, IsAnomaly)
