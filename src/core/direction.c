#include "qsearch/direction.h"

#include <string.h>

const char *qs_direction_name(qs_direction d) { return d == QS_MAXIMIZE ? "maximize" : "minimize"; }

qs_status qs_direction_parse(const char *name, qs_direction *out, qs_error *err)
{
    if (name && (!strcmp(name, "minimize") || !strcmp(name, "min"))) {
        *out = QS_MINIMIZE;
        return QS_OK;
    }
    if (name && (!strcmp(name, "maximize") || !strcmp(name, "max"))) {
        *out = QS_MAXIMIZE;
        return QS_OK;
    }
    return qs_error_set(err, QS_ERR_INPUT, "direction \"%s\": expected \"minimize\" or \"maximize\"",
                        name ? name : "(none)");
}
