/*-------------------------------------------------------------------------
 *
 * gru4rec.h
 *	  GRU4Rec (Hidasi et al. 2016): a recurrent network over a session's
 *	  clicks, the "gru4rec" method of uba_session_train (next_items.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_GRU4REC_H
#define UBA_GRU4REC_H

#include "uba.h"

#define GRU4REC_MAX_HIDDEN 1024

/* Training settings (the options of the same names) */
typedef struct Gru4RecSettings
{
	int			hidden;
	int			epochs;
	int			batch_size;
	int			n_sample;
	double		sample_alpha;
	double		learning_rate;
	double		dropout;
	double		logq;			/* weight of the logQ correction of sampled columns (0: none) */
	uint64		seed;
} Gru4RecSettings;

/* The network: one GRU layer on one-hot items, an output embedding per item */
typedef struct Gru4Rec
{
	int64		n;				/* items */
	int			h;				/* hidden units */
	float	   *E;				/* n x 3h: input weights (update gate, reset gate, candidate) */
	float	   *U;				/* h x 3h: recurrent weights */
	float	   *b;				/* 3h */
	float	   *W;				/* n x h: output embeddings */
	float	   *c;				/* n: output biases */
	int			epochs;			/* trained */
	double		loss;			/* the last epoch's mean cross-entropy */
} Gru4Rec;

/* Bytes the network and its training state take, for the memory check */
extern Size uba_gru4rec_training_bytes(int64 n, const Gru4RecSettings *s);
/* Train on sessions (their clicks in order, off[nsessions + 1] into click[]) */
extern void uba_gru4rec_train(Gru4Rec *g, int64 n, const int64 *off, const uint32 *click, int64 nsessions,
							  const Gru4RecSettings *s, const UbaOptions *progress);
extern void uba_gru4rec_write(UbaWriter *w, const Gru4Rec *g);
/* Read and validate (n items); allocates in CurrentMemoryContext */
extern void uba_gru4rec_read(UbaReader *r, Gru4Rec *g, int64 n);
/* Every item's probability of being next after the clicks c[0..len) (softmax over all items) */
extern void uba_gru4rec_scores(const Gru4Rec *g, const uint32 *c, int len, double *scores);

#endif							/* UBA_GRU4REC_H */
