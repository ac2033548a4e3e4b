/*-------------------------------------------------------------------------
 *
 * kinds.c
 *	  Model kind number -> the capability's describer (see kinds.h).
 *
 * The one file above the capabilities: adding a model kind means a number
 * in UbaModelKind (uba.h, part of the blob format) and a line here.
 *
 *-------------------------------------------------------------------------
 */
#include "kinds.h"

/* indexed by UbaModelKind; NULL for UBA_KIND_ANY */
static const UbaModelDescriber describers[] = {
	NULL,
	uba_kmeans_describe,		/* UBA_KIND_KMEANS */
	uba_logreg_describe,		/* UBA_KIND_LOGREG */
	uba_linreg_describe,		/* UBA_KIND_LINREG */
	uba_cf_describe,			/* UBA_KIND_CF */
	uba_assoc_describe,			/* UBA_KIND_ASSOC */
	uba_boost_describe			/* UBA_KIND_BOOST */
};

/* The describer of a kind, or NULL when this build has none (an unknown kind) */
UbaModelDescriber
uba_kind_describer(UbaModelKind kind)
{
	if ((int) kind < 0 || (int) kind >= (int) lengthof(describers))
		return NULL;
	return describers[kind];
}
