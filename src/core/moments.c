/*-------------------------------------------------------------------------
 *
 * moments.c
 *	  A mergeable aggregate state of the count, means and co-moments (sums
 *	  of centred cross products) of m columns, in O(m^2) memory whatever
 *	  the row count: what ridge regression and uba_pca_moments need.
 *
 * The state is a bytea, not internal, so that Citus splits an aggregate
 * over it: each worker sends its moments as text, never its rows.  Rows
 * wait in a small buffer inside the state and are folded a block at a
 * time: the block, centred at its own mean, goes through BLAS's dsyrk and
 * joins the running moments by the pairwise formula of Chan, Golub and
 * LeVeque (1979); combining two partial states is the same formula.  Both
 * steps keep the sums centred, so no digits are lost to a large mean.  The
 * last bits of the sums depend on how rows fall into blocks and partial
 * states, that is on the plan.
 *
 * Layout after the varlena header and 4 bytes of padding (so that the
 * doubles are aligned where uba allocates the state): UbaMomentsHead,
 * mean (m), scratch (2 m), co-moments (m x m: the upper triangle of
 * row-major storage is kept), the buffer (cap x m), the options as jsonb
 * (compared with each row's) and as JSON text (what a final function
 * parses: a state can come from outside, and the text is checked as it is
 * parsed), each padded to 8 bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/jsonb.h"

#define MOMENTS_PAD 4
/* rows a state buffers: at most 32 kB of them, at most 128 (a state is shipped as text) */
#define MOMENTS_BUFFER_BYTES (32 * 1024)
#define MOMENTS_MAX_BUFFERED 128
#define MOMENTS_MAX_OPTIONS (1024 * 1024)

/* Rows buffered for m columns: derived, never read from a state */
static int
BufferRows(int m)
{
	return Max(1, Min(MOMENTS_MAX_BUFFERED, MOMENTS_BUFFER_BYTES / (int) (sizeof(double) * m)));
}

/* Doubles of a state's arrays: mean, scratch, co-moments, buffer */
static Size
ArrayDoubles(int m)
{
	return add_size(add_size(mul_size(3, m), mul_size(m, m)), mul_size(BufferRows(m), m));
}

static Size
StateBytes(int m, int optlen, int textlen)
{
	return add_size(add_size(VARHDRSZ + MOMENTS_PAD + sizeof(UbaMomentsHead),
							 mul_size(ArrayDoubles(m), sizeof(double))),
					TYPEALIGN(8, optlen) + TYPEALIGN(8, textlen));
}

static void
View(bytea *b, UbaMoments *s)
{
	char	   *p = VARDATA(b) + MOMENTS_PAD;
	int			m;

	s->blob = b;
	s->h = (UbaMomentsHead *) p;
	m = s->m = s->h->m;
	p += sizeof(UbaMomentsHead);
	s->mean = (double *) p;
	s->scratch = s->mean + m;
	s->cm = s->scratch + 2 * (Size) m;
	s->buf = s->cm + (Size) m * m;
	p += ArrayDoubles(m) * sizeof(double);
	s->options = s->h->optlen > 0 ? (Jsonb *) p : NULL;
	p += TYPEALIGN(8, s->h->optlen);
	s->options_text = s->h->textlen > 0 ? p : NULL;
}

/* The memory a state's arrays take for m columns */
Size
uba_moments_bytes(int m)
{
	return mul_size(ArrayDoubles(m), sizeof(double));
}

/* A zeroed state of m columns, tagged magic, keeping the options given */
void
uba_moments_new(FunctionCallInfo fcinfo, uint32 magic, int m, Jsonb *options, const char *what,
				UbaMoments *s)
{
	int			optlen = options ? VARSIZE(options) : 0;
	char	   *text = options ? JsonbToCString(NULL, &options->root, VARSIZE(options)) : NULL;
	int			textlen = text ? (int) strlen(text) + 1 : 0;
	Size		bytes;
	bytea	   *b;

	uba_check_memory(uba_moments_bytes(m), psprintf("%s training", what));
	bytes = StateBytes(m, optlen, textlen);
	if (bytes > MaxAllocSize || optlen > MOMENTS_MAX_OPTIONS || textlen > MOMENTS_MAX_OPTIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s training state over 1 GB", what)));
	b = MemoryContextAllocZero(uba_state_context(fcinfo), bytes);
	SET_VARSIZE(b, bytes);
	{
		UbaMomentsHead *h = (UbaMomentsHead *) (VARDATA(b) + MOMENTS_PAD);

		h->magic = magic;
		h->m = m;
		h->optlen = optlen;
		h->textlen = textlen;
		h->started = GetCurrentTimestamp();
	}
	View(b, s);
	if (optlen > 0)
	{
		memcpy(s->options, options, optlen);
		memcpy((char *) s->options_text, text, textlen);
	}
}

static void
NotAState(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("not a %s training state", what)));
}

/*
 * The state of argument argno, checked (its tag, every size, where its
 * options end), or false for NULL.  A copy is taken when the state is not
 * the aggregate's own (outside an aggregate, or not aligned as uba
 * allocates it, as after Citus's text form).
 */
bool
uba_moments_arg(FunctionCallInfo fcinfo, int argno, uint32 magic, int max_m, const char *what,
				UbaMoments *s)
{
	bytea	   *b;
	UbaMomentsHead h;

	uba_check_bytea_state(fcinfo);
	if (PG_ARGISNULL(argno))
		return false;
	b = PG_GETARG_BYTEA_P(argno);
	if (VARSIZE(b) < VARHDRSZ + MOMENTS_PAD + sizeof(UbaMomentsHead))
		NotAState(what);
	memcpy(&h, VARDATA(b) + MOMENTS_PAD, sizeof(h));
	if (h.magic != magic || h.m < 1 || h.m > max_m || h.pending < 0 || h.pending > BufferRows(h.m) ||
		h.optlen < 0 || h.optlen > MOMENTS_MAX_OPTIONS || h.textlen < 0 || h.textlen > MOMENTS_MAX_OPTIONS ||
		(h.optlen == 0) != (h.textlen == 0) || h.n < 0 ||
		VARSIZE(b) != StateBytes(h.m, h.optlen, h.textlen))
		NotAState(what);
	if (!AggCheckCallContext(fcinfo, NULL) || ((uintptr_t) (VARDATA(b) + MOMENTS_PAD)) % 8 != 0)
	{
		bytea	   *copy = MemoryContextAlloc(uba_state_context(fcinfo), VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		b = copy;
	}
	View(b, s);
	/* the options compared byte for byte must be as long as they say; the text must end */
	if ((s->options != NULL && VARSIZE(s->options) != (Size) h.optlen) ||
		(s->options_text != NULL && s->options_text[h.textlen - 1] != '\0'))
		NotAState(what);
	return true;
}

/* Where the next row's m values go; uba_moments_row_done counts it */
double *
uba_moments_next_row(UbaMoments *s)
{
	return s->buf + (Size) s->h->pending * s->m;
}

void
uba_moments_row_done(UbaMoments *s)
{
	if (++s->h->pending >= BufferRows(s->m))
		uba_moments_fold(s);
}

/*
 * Add the moments of a part (count nb, mean mb, co-moments cb: upper
 * triangle, or NULL when they were added already) to those of s:
 * C += Cb + d d^T na nb / (na + nb), d = mb - ma.
 */
static void
Merge(UbaMoments *s, int64 nb, const double *mb, const double *cb)
{
	int			m = s->m;
	double		na = (double) s->h->n;
	double		n = na + (double) nb;
	double		f = na * (double) nb / n;
	double	   *delta = s->scratch;

	for (int j = 0; j < m; j++)
		delta[j] = mb[j] - s->mean[j];
	for (int j = 0; j < m; j++)
	{
		double	   *row = s->cm + (Size) j * m;
		double		dj = delta[j] * f;

		if (cb != NULL)
		{
			const double *brow = cb + (Size) j * m;

			for (int k = j; k < m; k++)
				row[k] += brow[k] + dj * delta[k];
		}
		else
			for (int k = j; k < m; k++)
				row[k] += dj * delta[k];
		s->mean[j] += delta[j] * ((double) nb / n);
	}
	s->h->n += nb;
}

/* Fold the buffered rows into the moments */
void
uba_moments_fold(UbaMoments *s)
{
	int			m = s->m;
	int			rows = s->h->pending;
	double	   *mb;

	if (rows == 0)
		return;
	/* the block's own mean, in the scratch room's second half (Merge uses the first) */
	mb = s->scratch + m;
	memset(mb, 0, sizeof(double) * m);
	for (int i = 0; i < rows; i++)
		for (int j = 0; j < m; j++)
			mb[j] += s->buf[(Size) i * m + j];
	for (int j = 0; j < m; j++)
		mb[j] /= (double) rows;
	for (int i = 0; i < rows; i++)
		for (int j = 0; j < m; j++)
			s->buf[(Size) i * m + j] -= mb[j];
	/* the block's co-moments go straight onto the running ones, then the means' correction */
	uba_syrk_add(rows, m, s->buf, s->cm);
	Merge(s, rows, mb, NULL);
	s->h->pending = 0;
}

/*
 * The combine function of an aggregate over a moments state: NULL states
 * give the other, states of other widths or options are refused, else a
 * takes b in.  extra: columns beyond the features (a target), so that the
 * message counts features.
 */
Datum
uba_moments_combine_fn(FunctionCallInfo fcinfo, uint32 magic, int max_m, const char *what, int extra)
{
	UbaMoments	sa,
				sb;
	UbaMoments *a = uba_moments_arg(fcinfo, 0, magic, max_m, what, &sa) ? &sa : NULL;
	UbaMoments *b = uba_moments_arg(fcinfo, 1, magic, max_m, what, &sb) ? &sb : NULL;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(a->blob);
	}
	if (a == NULL)
		PG_RETURN_BYTEA_P(b->blob);
	if (b->m != a->m)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature array has %d elements, expected %d", b->m - extra, a->m - extra),
				 errhint("Every row, and every call scoring a model, must pass the same number of features the model was trained on.")));
	uba_check_same_options(a->options, b->options);
	uba_moments_combine(a, b);
	PG_RETURN_BYTEA_P(a->blob);
}

/* a += b (both folded first); b must have a's columns, the caller checks its options */
void
uba_moments_combine(UbaMoments *a, UbaMoments *b)
{
	uba_moments_fold(a);
	uba_moments_fold(b);
	if (b->h->n == 0)
		return;
	if (a->h->n == 0)
	{
		memcpy(a->mean, b->mean, sizeof(double) * a->m);
		memcpy(a->cm, b->cm, sizeof(double) * a->m * a->m);
		a->h->n = b->h->n;
	}
	else
		Merge(a, b->h->n, b->mean, b->cm);
	a->h->started = Min(a->h->started, b->h->started);
}

/*
 * The state made ready for a final function: rows folded, and every sum
 * finite (rows were checked as they came; sums of values near 1e154
 * overflow), naming the column that overflowed.  names: the columns'
 * names or NULL.
 */
void
uba_moments_finish(UbaMoments *s, char **names)
{
	int			m = s->m;

	uba_moments_fold(s);
	for (int j = 0; j < m; j++)
	{
		double		bad = 0;

		for (int k = j; k < m; k++)
			bad += s->cm[(Size) j * m + k] * 0;
		s->scratch[j] = isfinite(bad) ? s->cm[(Size) j * m + j] : get_float8_infinity();
	}
	uba_check_feature_scale(s->mean, s->scratch, m, names);
}

/* The options, parsed from their text (never trust a state's jsonb bytes to be well formed) */
Jsonb *
uba_moments_options(const UbaMoments *s)
{
	if (s->options_text == NULL)
		return NULL;
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s->options_text)));
}
