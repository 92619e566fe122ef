/* Optimisation direction of a metric or objective, shared by the combined
 * metrics, the samplers, Pareto tools, search and reports. */
#ifndef QSEARCH_DIRECTION_H
#define QSEARCH_DIRECTION_H

#include "qsearch/status.h"

typedef enum { QS_MINIMIZE = 0, QS_MAXIMIZE = 1 } qs_direction;

/* "minimize" / "maximize". */
const char *qs_direction_name(qs_direction d);

/* Parses "minimize"/"maximize" (also "min"/"max"); QS_ERR_INPUT otherwise. */
qs_status qs_direction_parse(const char *name, qs_direction *out, qs_error *err);

/* +1 for maximize, -1 for minimize: the sign that makes "larger is better". */
static inline double qs_direction_sign(qs_direction d) { return d == QS_MAXIMIZE ? 1.0 : -1.0; }

#endif
