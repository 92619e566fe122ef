/* Reading MASE's `[passes.quantize]` TOML into a qs_quant_config. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/quantize.h"

#define MAX_PARAMS 64
#define VALUE_TEXT 64

typedef struct {
    qs_quant_param params[MAX_PARAMS];
    char text[MAX_PARAMS][VALUE_TEXT];
    size_t n;
} param_list;

/* Declared in quantize.h: one text form for quantize configs and search spaces. */
qs_status qs_quant_param_text(const qs_toml_value *v, char *buf, size_t cap, qs_error *err)
{
    switch (v->type) {
    case QS_TOML_INTEGER: snprintf(buf, cap, "%" PRId64, v->u.i); return QS_OK;
    case QS_TOML_STRING: snprintf(buf, cap, "%s", v->u.s.ptr); return QS_OK;
    case QS_TOML_BOOLEAN: snprintf(buf, cap, "%s", v->u.b ? "true" : "false"); return QS_OK;
    case QS_TOML_FLOAT: /* ternary's mean/median/max; "8.0" stays no integer for width */
        snprintf(buf, cap, "%.17g", v->u.f);
        if (!strpbrk(buf, ".eEn"))
            snprintf(buf + strlen(buf), cap - strlen(buf), ".0");
        return QS_OK;
    case QS_TOML_ARRAY: {
        size_t len = (size_t)snprintf(buf, cap, "[");
        for (size_t i = 0; i < v->u.arr.len && len < cap; i++) {
            const qs_toml_value *item = v->u.arr.items[i];
            if (item->type != QS_TOML_INTEGER)
                return qs_toml_error_at(err, item, "expected an integer, got a %s", qs_toml_type_name(item->type));
            len += (size_t)snprintf(buf + len, cap - len, "%s%" PRId64, i ? ", " : "", item->u.i);
        }
        if (len < cap)
            snprintf(buf + len, cap - len, "]");
        return QS_OK;
    }
    default:
        return qs_toml_error_at(err, v, "expected a number, string, boolean or integer array, got a %s",
                                qs_toml_type_name(v->type));
    }
}

/* Collects the config table's parameters (everything but name and bypass). */
static qs_status collect_params(const qs_toml_value *config, param_list *pl, qs_error *err)
{
    pl->n = 0;
    for (size_t i = 0; i < config->u.tab.len; i++) {
        const qs_toml_entry *e = &config->u.tab.items[i];
        if (strcmp(e->key, "name") == 0 || strcmp(e->key, "bypass") == 0)
            continue;
        if (pl->n == MAX_PARAMS)
            return qs_toml_error_at(err, e->value, "more than %d parameters", MAX_PARAMS);
        QS_TRY(qs_quant_param_text(e->value, pl->text[pl->n], VALUE_TEXT, err));
        pl->params[pl->n].key = e->key;
        pl->params[pl->n].value = pl->text[pl->n];
        pl->n++;
    }
    return QS_OK;
}

/* The optional boolean `bypass` of a table (0 when absent). */
static qs_status read_bypass(const qs_toml_value *table, int *bypass, qs_error *err)
{
    const qs_toml_value *v = qs_toml_table_get(table, "bypass");
    *bypass = 0;
    return v ? qs_toml_as_bool(v, bypass, err) : QS_OK;
}

/* Applies one entry (`{config = {name = ..., ...}, bypass = ...}`) to a layer. */
static qs_status apply_entry(qs_quant_config *cfg, const qs_model *m, size_t layer, const qs_toml_value *entry,
                             qs_error *err)
{
    if (entry->type != QS_TOML_TABLE)
        return qs_toml_error_at(err, entry, "expected a table with a config, got a %s", qs_toml_type_name(entry->type));
    for (size_t i = 0; i < entry->u.tab.len; i++) {
        const char *k = entry->u.tab.items[i].key;
        if (strcmp(k, "config") != 0 && strcmp(k, "bypass") != 0)
            return qs_toml_error_at(err, entry->u.tab.items[i].value, "unknown key (expected config or bypass)");
    }
    int bypass;
    QS_TRY(read_bypass(entry, &bypass, err));
    const qs_toml_value *config;
    QS_TRY(qs_toml_get_table(entry, "config", &config, err));
    int config_bypass;
    QS_TRY(read_bypass(config, &config_bypass, err));
    const char *name;
    QS_TRY(qs_toml_get_string(config, "name", &name, err));
    if (bypass || config_bypass)
        name = "NA";
    param_list pl;
    QS_TRY(collect_params(config, &pl, err));
    qs_error inner;
    qs_status st = qs_quant_config_set_layer(cfg, m, layer, name, pl.params, pl.n, &inner);
    if (st)
        return qs_toml_error_at(err, config, "%s", inner.msg);
    return QS_OK;
}

static int is_kind_name(const char *key)
{
    for (int k = 0; k < QS_LAYER_KIND_COUNT; k++)
        if (strcmp(key, qs_layer_kind_name((qs_layer_kind)k)) == 0)
            return 1;
    return 0;
}

/* Every entry key must name a layer (by name) or a layer type (by type). */
static qs_status check_entry_keys(const qs_toml_value *section, const qs_model *m, int by_name, qs_error *err)
{
    for (size_t i = 0; i < section->u.tab.len; i++) {
        const qs_toml_entry *e = &section->u.tab.items[i];
        if (strcmp(e->key, "by") == 0 || strcmp(e->key, "default") == 0)
            continue;
        if (by_name && qs_model_find_layer(m, e->key) < 0)
            return qs_toml_error_at(err, e->value, "unknown layer '%s': model %s has seq_blocks_0..seq_blocks_%zu",
                                    e->key, m->arch, m->n_layers - 1);
        if (!by_name && !is_kind_name(e->key))
            return qs_toml_error_at(err, e->value, "unknown layer type '%s' (known: linear, relu, batch_norm1d)",
                                    e->key);
    }
    return QS_OK;
}

qs_status qs_quant_config_from_toml(qs_quant_config *cfg, const qs_model *m, const qs_toml_value *root,
                                    qs_error *err)
{
    const qs_toml_value *section;
    QS_TRY(qs_toml_get_table(root, "passes.quantize", &section, err));
    const char *by;
    QS_TRY(qs_toml_get_string(section, "by", &by, err));
    int by_name = strcmp(by, "name") == 0;
    if (!by_name && strcmp(by, "type") != 0)
        return qs_toml_error_at(err, qs_toml_table_get(section, "by"), "must be \"name\" or \"type\"");
    QS_TRY(check_entry_keys(section, m, by_name, err));
    const qs_toml_value *fallback = qs_toml_table_get(section, "default");
    QS_TRY(qs_quant_config_init(cfg, m, err));
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer *l = &m->layers[i];
        const qs_toml_value *entry = qs_toml_table_get(section, by_name ? l->name : qs_layer_kind_name(l->kind));
        qs_status st = QS_OK;
        if (entry)
            st = apply_entry(cfg, m, i, entry, err);
        else if (fallback && qs_quant_layer_supported(l->kind))
            st = apply_entry(cfg, m, i, fallback, err); /* a default never forces BN into a format */
        if (st) {
            qs_quant_config_free(cfg);
            return st;
        }
    }
    return QS_OK;
}

qs_status qs_quant_config_load(qs_quant_config *cfg, const qs_model *m, const char *path, qs_error *err)
{
    qs_toml_doc *doc;
    QS_TRY(qs_toml_parse_file(path, &doc, err));
    qs_status st = qs_quant_config_from_toml(cfg, m, doc->root, err);
    qs_toml_free(doc);
    return st;
}
