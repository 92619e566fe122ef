/* MASE's `[search.search_space]` (graph/quantize/mixed_precision_ptq)
 * flattened to named categorical parameters, validated up front, and turned
 * back into a qs_quant_config per trial (docs/search.md, "Search space"). */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/search.h"

#define SPACE_NAME "graph/quantize/mixed_precision_ptq"
#define TABLE_MAX 4096 /* prebuild every combination of an entry up to this many */
#define CHOICE_TEXT 64
#define ENTRY_MAX_PARAMS 64

/* Entry parameters while building: the merged config keys of one entry. */
typedef struct {
    const char *key;
    const qs_toml_value *arr; /* the array of choices */
} raw_param;

static const char *kind_names(void) { return "linear, relu, batch_norm1d"; }

static int is_kind(const char *key, qs_layer_kind *out)
{
    for (int k = 0; k < QS_LAYER_KIND_COUNT; k++)
        if (strcmp(key, qs_layer_kind_name((qs_layer_kind)k)) == 0) {
            if (out)
                *out = (qs_layer_kind)k;
            return 1;
        }
    return 0;
}

/* The `config` table of seed entry e (checks its shape). */
static qs_status entry_config(const qs_toml_value *e, const qs_toml_value **config, qs_error *err)
{
    if (e->type != QS_TOML_TABLE)
        return qs_toml_error_at(err, e, "expected a table with a config, got a %s", qs_toml_type_name(e->type));
    for (size_t i = 0; i < e->u.tab.len; i++)
        if (strcmp(e->u.tab.items[i].key, "config") != 0)
            return qs_toml_error_at(err, e->u.tab.items[i].value, "unknown key (a seed entry holds only config)");
    return qs_toml_get_table(e, "config", config, err);
}

static int all_na(const qs_toml_value *arr)
{
    for (size_t i = 0; i < arr->u.arr.len; i++) {
        const qs_toml_value *v = arr->u.arr.items[i];
        if (v->type != QS_TOML_STRING || strcmp(v->u.s.ptr, "NA") != 0)
            return 0;
    }
    return 1;
}

/* Adds (or overrides) the keys of config into rp[*n]. */
static qs_status merge_keys(const qs_toml_value *config, raw_param *rp, size_t *n, qs_error *err)
{
    for (size_t i = 0; i < config->u.tab.len; i++) {
        const qs_toml_entry *e = &config->u.tab.items[i];
        if (e->value->type != QS_TOML_ARRAY)
            return qs_toml_error_at(err, e->value, "expected an array of choices (e.g. [8]), got a %s",
                                    qs_toml_type_name(e->value->type));
        if (e->value->u.arr.len == 0)
            return qs_toml_error_at(err, e->value, "empty list of choices");
        size_t k = 0;
        while (k < *n && strcmp(rp[k].key, e->key) != 0)
            k++;
        if (k == *n) {
            if (*n == ENTRY_MAX_PARAMS)
                return qs_toml_error_at(err, e->value, "more than %d parameters", ENTRY_MAX_PARAMS);
            (*n)++;
        }
        rp[k].key = e->key;
        rp[k].arr = e->value;
    }
    return QS_OK;
}

/* Drops keys that cannot matter for kind: weight_/bias_ of a ReLU, everything
 * but name when every name choice is "NA" (the layer stays float). */
static void drop_irrelevant(raw_param *rp, size_t *n, qs_layer_kind kind)
{
    int float_only = 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(rp[i].key, "name") == 0 && all_na(rp[i].arr))
            float_only = 1;
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        const char *k = rp[i].key;
        int drop = float_only && strcmp(k, "name") != 0;
        if (!qs_quant_layer_has_tensor(kind, QS_TENSOR_WEIGHT) && (!strncmp(k, "weight_", 7) || !strncmp(k, "bias_", 5)))
            drop = 1;
        if (!drop)
            rp[w++] = rp[i];
    }
    *n = w;
}

typedef struct {
    qs_search_space *sp;
    const qs_toml_value *default_cfg; /* NULL when there is no default entry */
    const qs_toml_value **arrays;     /* [capacity] the choice array of each parameter */
    size_t cap;
} builder;

static qs_status add_entry(builder *b, const char *name, const char *source, const qs_toml_value *own_cfg,
                           size_t layer, qs_error *err)
{
    qs_search_space *sp = b->sp;
    raw_param rp[ENTRY_MAX_PARAMS];
    size_t n = 0;
    if (b->default_cfg)
        QS_TRY(merge_keys(b->default_cfg, rp, &n, err));
    if (own_cfg)
        QS_TRY(merge_keys(own_cfg, rp, &n, err));
    drop_irrelevant(rp, &n, sp->model->layers[layer].kind);
    qs_search_entry *e = &sp->entries[sp->n_entries];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->source, sizeof e->source, "%s", source);
    e->layer = layer;
    e->first = sp->n_all;
    e->count = n;
    e->n_local = 1;
    if (sp->n_all + n > b->cap) {
        size_t cap = (b->cap + n) * 2;
        qs_search_param *all = realloc(sp->all, cap * sizeof *all);
        if (all)
            sp->all = all;
        const qs_toml_value **arrays = realloc(b->arrays, cap * sizeof *arrays);
        if (arrays)
            b->arrays = arrays;
        if (!all || !arrays)
            return qs_error_set(err, QS_ERR_NOMEM, "search space: out of memory");
        b->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        qs_search_param *p = &sp->all[sp->n_all];
        memset(p, 0, sizeof *p);
        b->arrays[sp->n_all] = rp[i].arr;
        sp->n_all++;
        size_t len = strlen(name) + strlen(rp[i].key) + 16;
        p->name = malloc(len);
        p->n_choices = rp[i].arr->u.arr.len;
        p->choices = calloc(p->n_choices, sizeof *p->choices);
        if (!p->name || !p->choices)
            return qs_error_set(err, QS_ERR_NOMEM, "search space: out of memory");
        snprintf(p->name, len, "%s/config/%s", name, rp[i].key);
        p->key = p->name + strlen(name) + strlen("/config/");
        p->entry = sp->n_entries;
        for (size_t c = 0; c < p->n_choices; c++) {
            char text[CHOICE_TEXT];
            QS_TRY(qs_quant_param_text(rp[i].arr->u.arr.items[c], text, sizeof text, err));
            for (size_t d = 0; d < c; d++)
                if (strcmp(p->choices[d], text) == 0)
                    return qs_toml_error_at(err, rp[i].arr->u.arr.items[c], "duplicate choice %s", text);
            if (!(p->choices[c] = strdup(text)))
                return qs_error_set(err, QS_ERR_NOMEM, "search space: out of memory");
        }
        p->searched = p->n_choices > 1;
        e->n_local *= p->n_choices;
        if (e->n_local > UINT32_MAX)
            e->n_local = UINT32_MAX; /* large: no table */
    }
    sp->n_entries++;
    return QS_OK;
}

/* Sets layer `layer` of cfg from entry e with local choices loc[count]. */
static qs_status build_entry_layer(const qs_search_space *sp, const qs_search_entry *e, const uint32_t *loc,
                                   size_t layer, qs_quant_config *cfg, qs_error *err)
{
    qs_quant_param params[ENTRY_MAX_PARAMS];
    size_t np = 0;
    const char *fmt = NULL;
    for (size_t i = 0; i < e->count; i++) {
        const qs_search_param *p = &sp->all[e->first + i];
        const char *v = p->choices[loc[i]];
        if (strcmp(p->key, "name") == 0) {
            fmt = v;
        } else {
            params[np].key = p->key;
            params[np].value = v;
            np++;
        }
    }
    if (!fmt)
        return qs_error_set(err, QS_ERR_INPUT, "%s: missing key 'name' (the format, or \"NA\")", e->name);
    return qs_quant_config_set_layer(cfg, sp->model, layer, fmt, params, np, err);
}

/* Local index of loc[count] (first parameter most significant). */
static uint64_t local_index(const qs_search_space *sp, const qs_search_entry *e, const uint32_t *loc)
{
    uint64_t idx = 0;
    for (size_t i = 0; i < e->count; i++)
        idx = idx * sp->all[e->first + i].n_choices + loc[i];
    return idx;
}

/* Locates an error of a build with every choice at 0 at the parameter its message names. */
static qs_status locate_base_error(const builder *b, const qs_search_entry *e, const qs_toml_value *fallback,
                                   const char *msg, qs_error *err)
{
    const qs_search_space *sp = b->sp;
    for (size_t i = 0; i < e->count; i++) {
        const char *key = sp->all[e->first + i].key;
        size_t kl = strlen(key);
        if (strncmp(msg, key, kl) == 0 && msg[kl] == ':')
            return qs_toml_error_at(err, b->arrays[e->first + i]->u.arr.items[0], "%s", msg);
        /* validation messages read "LAYER ROLE: PARAM: ..." */
        static const char *const roles[] = {"data_in", "weight", "bias"};
        for (size_t r = 0; r < 3; r++) {
            size_t rl = strlen(roles[r]);
            char pat[96];
            if (strncmp(key, roles[r], rl) != 0 || key[rl] != '_')
                continue;
            snprintf(pat, sizeof pat, " %s: %s:", roles[r], key + rl + 1);
            if (strstr(msg, pat))
                return qs_toml_error_at(err, b->arrays[e->first + i]->u.arr.items[0], "%s", msg);
        }
    }
    return qs_toml_error_at(err, fallback, "%s: %s", e->name, msg);
}

/* Builds the entry's layer with every choice once (others at their first
 * choice), then prebuilds the table of every combination when small. */
static qs_status validate_entry(builder *b, qs_search_entry *e, const qs_toml_value *where, qs_error *err)
{
    qs_search_space *sp = b->sp;
    qs_quant_config cfg;
    QS_TRY(qs_quant_config_init(&cfg, sp->model, err));
    uint32_t loc[ENTRY_MAX_PARAMS] = {0};
    qs_error inner;
    qs_status st = build_entry_layer(sp, e, loc, e->layer, &cfg, &inner);
    if (st)
        st = locate_base_error(b, e, where, inner.msg, err);
    for (size_t i = 0; st == QS_OK && i < e->count; i++) {
        const qs_search_param *p = &sp->all[e->first + i];
        for (uint32_t c = 1; st == QS_OK && c < p->n_choices; c++) {
            loc[i] = c;
            if (build_entry_layer(sp, e, loc, e->layer, &cfg, &inner))
                st = qs_toml_error_at(err, b->arrays[e->first + i]->u.arr.items[c], "%s", inner.msg);
        }
        loc[i] = 0;
    }
    if (st == QS_OK && e->n_local <= TABLE_MAX) {
        e->table = calloc(e->n_local, sizeof *e->table);
        e->valid = calloc(e->n_local, 1);
        if (!e->table || !e->valid)
            st = qs_error_set(err, QS_ERR_NOMEM, "search space: out of memory");
        for (uint64_t idx = 0; st == QS_OK && idx < e->n_local; idx++) {
            uint64_t r = idx;
            for (size_t i = e->count; i-- > 0;) {
                loc[i] = (uint32_t)(r % sp->all[e->first + i].n_choices);
                r /= sp->all[e->first + i].n_choices;
            }
            /* each choice is valid; a combination that is not fails its trials */
            e->valid[idx] = build_entry_layer(sp, e, loc, e->layer, &cfg, &inner) == QS_OK;
            if (e->valid[idx])
                e->table[idx] = cfg.layers[e->layer];
        }
    }
    qs_quant_config_free(&cfg);
    return st;
}

/* Every seed key must be default, a layer name or a layer type. */
static qs_status check_seed_keys(const qs_toml_value *seed, const qs_model *m, qs_error *err)
{
    for (size_t i = 0; i < seed->u.tab.len; i++) {
        const qs_toml_entry *e = &seed->u.tab.items[i];
        if (strcmp(e->key, "default") == 0 || is_kind(e->key, NULL) || qs_model_find_layer(m, e->key) >= 0)
            continue;
        return qs_toml_error_at(err, e->value,
                                "unknown layer '%s': model %s has seq_blocks_0..seq_blocks_%zu (or a layer type: %s)",
                                e->key, m->arch, m->n_layers ? m->n_layers - 1 : 0, kind_names());
    }
    return QS_OK;
}

static qs_status read_setup(const qs_toml_value *section, int *by_name, qs_error *err)
{
    const qs_toml_value *name = qs_toml_table_get(section, "name");
    if (name) {
        const char *s;
        QS_TRY(qs_toml_as_string(name, &s, err));
        if (strcmp(s, SPACE_NAME) != 0)
            return qs_toml_error_at(err, name, "unknown search space \"%s\" (expected \"%s\")", s, SPACE_NAME);
    }
    for (size_t i = 0; i < section->u.tab.len; i++) {
        const char *k = section->u.tab.items[i].key;
        if (strcmp(k, "name") && strcmp(k, "setup") && strcmp(k, "seed"))
            return qs_toml_error_at(err, section->u.tab.items[i].value, "unknown key (expected name, setup, seed)");
    }
    *by_name = 1;
    const qs_toml_value *setup = qs_toml_table_get(section, "setup");
    if (!setup)
        return QS_OK;
    if (setup->type != QS_TOML_TABLE)
        return qs_toml_error_at(err, setup, "expected a table");
    for (size_t i = 0; i < setup->u.tab.len; i++)
        if (strcmp(setup->u.tab.items[i].key, "by") != 0)
            return qs_toml_error_at(err, setup->u.tab.items[i].value, "unknown key (expected by)");
    const qs_toml_value *by = qs_toml_table_get(setup, "by");
    if (!by)
        return QS_OK;
    const char *s;
    QS_TRY(qs_toml_as_string(by, &s, err));
    if (strcmp(s, "name") != 0 && strcmp(s, "type") != 0)
        return qs_toml_error_at(err, by, "must be \"name\" or \"type\"");
    *by_name = strcmp(s, "name") == 0;
    return QS_OK;
}

static const qs_toml_value *own_config(const qs_toml_value *seed, const char *key, const qs_toml_value **where,
                                       qs_status *st, qs_error *err)
{
    const qs_toml_value *e = qs_toml_table_get(seed, key), *cfg = NULL;
    if (e) {
        *st = entry_config(e, &cfg, err);
        *where = cfg ? cfg : e;
    }
    return cfg;
}

/* Creates the entries: one per layer (by name) or per layer type (by type). */
static qs_status make_entries(builder *b, const qs_toml_value *seed, qs_error *err)
{
    qs_search_space *sp = b->sp;
    const qs_model *m = sp->model;
    const qs_toml_value *default_where = seed;
    qs_status st = QS_OK;
    b->default_cfg = own_config(seed, "default", &default_where, &st, err);
    QS_TRY(st);
    for (size_t l = 0; l < m->n_layers; l++) {
        const qs_layer *L = &m->layers[l];
        const char *key = sp->by_name ? L->name : qs_layer_kind_name(L->kind);
        if (!sp->by_name) { /* one entry per type, shared by its layers */
            size_t e = 0;
            while (e < sp->n_entries && strcmp(sp->entries[e].name, key) != 0)
                e++;
            if (e < sp->n_entries) {
                sp->layer_entry[l] = (int)e;
                continue;
            }
        }
        const qs_toml_value *where = default_where;
        const qs_toml_value *own = own_config(seed, key, &where, &st, err);
        QS_TRY(st);
        if (!own && (!b->default_cfg || !qs_quant_layer_supported(L->kind)))
            continue; /* no entry: the layer stays in float */
        sp->layer_entry[l] = (int)sp->n_entries;
        QS_TRY(add_entry(b, key, own ? key : "default", own, l, err));
        QS_TRY(validate_entry(b, &sp->entries[sp->n_entries - 1], where, err));
    }
    return QS_OK;
}

static qs_status index_searched(qs_search_space *sp, qs_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < sp->n_all; i++)
        n += sp->all[i].searched;
    sp->searched = calloc(n ? n : 1, sizeof *sp->searched);
    sp->names = calloc(n ? n : 1, sizeof *sp->names);
    sp->n_choices = calloc(n ? n : 1, sizeof *sp->n_choices);
    if (!sp->searched || !sp->names || !sp->n_choices)
        return qs_error_set(err, QS_ERR_NOMEM, "search space: out of memory");
    for (size_t i = 0; i < sp->n_all; i++) {
        qs_search_param *p = &sp->all[i];
        if (!p->searched)
            continue;
        p->index = sp->n_params;
        sp->searched[sp->n_params] = i;
        sp->names[sp->n_params] = p->name;
        sp->n_choices[sp->n_params] = (uint32_t)p->n_choices;
        sp->n_params++;
    }
    return QS_OK;
}

qs_status qs_search_space_from_toml(qs_search_space *sp, const qs_model *m, const qs_toml_value *root,
                                    qs_error *err)
{
    memset(sp, 0, sizeof *sp);
    sp->model = m;
    const qs_toml_value *section, *seed;
    QS_TRY(qs_toml_get_table(root, "search.search_space", &section, err));
    QS_TRY(read_setup(section, &sp->by_name, err));
    QS_TRY(qs_toml_get_table(section, "seed", &seed, err));
    QS_TRY(check_seed_keys(seed, m, err));
    sp->entries = calloc(m->n_layers ? m->n_layers : 1, sizeof *sp->entries);
    sp->layer_entry = malloc((m->n_layers ? m->n_layers : 1) * sizeof *sp->layer_entry);
    if (!sp->entries || !sp->layer_entry) {
        qs_search_space_free(sp);
        return qs_error_set(err, QS_ERR_NOMEM, "search space: out of memory");
    }
    for (size_t l = 0; l < m->n_layers; l++)
        sp->layer_entry[l] = -1;
    builder b = {.sp = sp};
    qs_status st = make_entries(&b, seed, err);
    if (st == QS_OK)
        st = index_searched(sp, err);
    free(b.arrays);
    if (st)
        qs_search_space_free(sp);
    return st;
}

void qs_search_space_free(qs_search_space *sp)
{
    if (!sp)
        return;
    for (size_t i = 0; i < sp->n_all; i++) {
        for (size_t c = 0; sp->all[i].choices && c < sp->all[i].n_choices; c++)
            free(sp->all[i].choices[c]);
        free(sp->all[i].choices);
        free(sp->all[i].name);
    }
    for (size_t e = 0; e < sp->n_entries; e++) {
        free(sp->entries[e].table);
        free(sp->entries[e].valid);
    }
    free(sp->all);
    free(sp->entries);
    free(sp->searched);
    free(sp->names);
    free(sp->n_choices);
    free(sp->layer_entry);
    memset(sp, 0, sizeof *sp);
}

qs_sampler_space qs_search_space_sampler(const qs_search_space *sp)
{
    qs_sampler_space s = {.n_params = sp->n_params, .names = sp->names, .n_choices = sp->n_choices};
    return s;
}

double qs_search_space_size(const qs_search_space *sp)
{
    double d = 1;
    for (size_t i = 0; i < sp->n_params; i++)
        d *= sp->n_choices[i];
    return d;
}

qs_status qs_search_space_build(const qs_search_space *sp, const uint32_t *choices, qs_quant_config *cfg,
                                qs_error *err)
{
    const qs_model *m = sp->model;
    QS_ASSERT(cfg->n_layers == m->n_layers);
    for (size_t l = 0; l < m->n_layers; l++) {
        int ei = sp->layer_entry[l];
        if (ei < 0) {
            memset(&cfg->layers[l], 0, sizeof cfg->layers[l]);
            continue;
        }
        const qs_search_entry *e = &sp->entries[ei];
        uint32_t loc[ENTRY_MAX_PARAMS];
        for (size_t i = 0; i < e->count; i++) {
            const qs_search_param *p = &sp->all[e->first + i];
            loc[i] = p->searched ? choices[p->index] : 0;
        }
        uint64_t idx = e->table ? local_index(sp, e, loc) : 0;
        if (e->table && e->valid[idx]) {
            cfg->layers[l] = e->table[idx];
            continue;
        }
        qs_status st = build_entry_layer(sp, e, loc, l, cfg, err);
        if (st) {
            qs_error_prefix(err, "%s", m->layers[l].name);
            return st;
        }
    }
    return QS_OK;
}

char *qs_search_space_json(const qs_search_space *sp)
{
    json_t *entries = json_array();
    for (size_t e = 0; e < sp->n_entries; e++) {
        const qs_search_entry *en = &sp->entries[e];
        json_t *layers = json_array(), *params = json_array();
        for (size_t l = 0; l < sp->model->n_layers; l++)
            if (sp->layer_entry[l] == (int)e)
                json_array_append_new(layers, json_string(sp->model->layers[l].name));
        for (size_t i = 0; i < en->count; i++) {
            const qs_search_param *p = &sp->all[en->first + i];
            json_t *ch = json_array();
            for (size_t c = 0; c < p->n_choices; c++)
                json_array_append_new(ch, json_string(p->choices[c]));
            json_array_append_new(params, json_pack("{s:s, s:o, s:b}", "name", p->name, "choices", ch, "searched",
                                                    p->searched));
        }
        json_array_append_new(entries, json_pack("{s:s, s:s, s:o, s:o}", "name", en->name, "source", en->source,
                                                 "layers", layers, "params", params));
    }
    json_t *names = json_array();
    for (size_t i = 0; i < sp->n_params; i++)
        json_array_append_new(names, json_string(sp->names[i]));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:f}", "name", SPACE_NAME, "by", sp->by_name ? "name" : "type",
                            "arch", sp->model->arch, "entries", entries, "searched", names, "size",
                            qs_search_space_size(sp));
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return text;
}
