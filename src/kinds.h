/*-------------------------------------------------------------------------
 *
 * kinds.h
 *	  The model kinds' describers: what each capability gives the core so
 *	  that uba_model_info() and every reader can validate its models.
 *
 * Each capability defines its kind's describer; src/kinds.c maps kind
 * numbers to them.  The core (src/core) never includes this header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UBA_KINDS_H
#define UBA_KINDS_H

#include "uba.h"

extern void uba_kmeans_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_logreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_linreg_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_cf_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_assoc_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);
extern void uba_boost_describe(const UbaModelMeta *meta, UbaReader *payload, StringInfo json);

#endif							/* UBA_KINDS_H */
