/* TOML document -> jansson JSON: plain values, or toml-test's tagged form. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "io/toml_internal.h"

static json_t *convert(const qs_toml_value *v, int tagged);

static json_t *container(const qs_toml_value *v, int tagged)
{
    json_t *out = v->type == QS_TOML_ARRAY ? json_array() : json_object();
    if (!out)
        return NULL;
    size_t n = v->type == QS_TOML_ARRAY ? v->u.arr.len : v->u.tab.len;
    for (size_t i = 0; i < n; i++) {
        const qs_toml_value *item =
            v->type == QS_TOML_ARRAY ? v->u.arr.items[i] : v->u.tab.items[i].value;
        json_t *j = convert(item, tagged);
        int rc = -1;
        if (j && v->type == QS_TOML_ARRAY)
            rc = json_array_append_new(out, j);
        else if (j)
            rc = json_object_setn_new(out, v->u.tab.items[i].key, v->u.tab.items[i].key_len, j);
        if (rc != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *tag(const char *type, const char *value)
{
    return json_pack("{s:s, s:s}", "type", type, "value", value);
}

static json_t *convert(const qs_toml_value *v, int tagged)
{
    char buf[64];
    switch (v->type) {
    case QS_TOML_STRING:
        if (!tagged)
            return json_stringn(v->u.s.ptr, v->u.s.len);
        return json_pack("{s:s, s:s%}", "type", "string", "value", v->u.s.ptr, v->u.s.len);
    case QS_TOML_INTEGER:
        if (!tagged)
            return json_integer((json_int_t)v->u.i);
        snprintf(buf, sizeof buf, "%" PRId64, v->u.i);
        return tag("integer", buf);
    case QS_TOML_FLOAT:
        qs_toml_format_float(v->u.f, buf);
        if (tagged)
            return tag("float", isnan(v->u.f) ? "nan" : buf);
        if (isnan(v->u.f))
            return json_string("nan");
        if (isinf(v->u.f))
            return json_string(v->u.f < 0 ? "-inf" : "inf");
        return json_real(v->u.f);
    case QS_TOML_BOOLEAN:
        return tagged ? tag("bool", v->u.b ? "true" : "false") : json_boolean(v->u.b);
    case QS_TOML_OFFSET_DATETIME:
    case QS_TOML_LOCAL_DATETIME:
    case QS_TOML_LOCAL_DATE:
    case QS_TOML_LOCAL_TIME:
        qs_toml_datetime_str(v, buf, sizeof buf);
        if (!tagged)
            return json_string(buf);
        return tag(v->type == QS_TOML_OFFSET_DATETIME  ? "datetime"
                   : v->type == QS_TOML_LOCAL_DATETIME ? "datetime-local"
                   : v->type == QS_TOML_LOCAL_DATE     ? "date-local"
                                                       : "time-local",
                   buf);
    case QS_TOML_ARRAY:
    case QS_TOML_TABLE: return container(v, tagged);
    }
    return NULL;
}

json_t *qs_toml_to_json(const qs_toml_value *v) { return v ? convert(v, 0) : NULL; }

json_t *qs_toml_to_tagged_json(const qs_toml_value *v) { return v ? convert(v, 1) : NULL; }
