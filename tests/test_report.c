/* HTML report: studies built through study.h (empty, one trial, a failed trial,
 * a few hundred realistic trials, multi-objective, curves and latency samples,
 * thousands of trials for decimation). Every report and plot is well-formed
 * XML and the plotted numbers read back from the data attributes equal the
 * study's. QS_REPORT_BENCH=N times a report of an N-trial study;
 * QS_REPORT_KEEP=DIR keeps the realistic reports there (for screenshots). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/report.h"
#include "qsearch/rng.h"
#include "qsearch/search.h"
#include "qsearch/study.h"
#include "xml_check.h"

static char tmpdir[512];

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", tmpdir, name); }

static qs_study *fresh(const char *name)
{
    char p[600];
    path_in(p, sizeof p, name);
    unlink(p);
    qs_study *s = NULL;
    qs_error err;
    CHECK_INT(qs_study_open(p, &s, &err), QS_OK);
    return s;
}

static void check_xml(const char *what, const char *s)
{
    char why[300] = "";
    int ok = s && xml_well_formed(s, why, sizeof why);
    if (!ok)
        fprintf(stderr, "  %s not well-formed: %s\n", what, why);
    CHECK(ok);
}

static char *report(qs_study *s, const qs_report_options *o, qs_report_stats *st)
{
    char *html = NULL;
    qs_error err;
    qs_error_clear(&err);
    qs_status rc = qs_report_html(s, o, &html, st, &err);
    if (rc != QS_OK)
        fprintf(stderr, "  report: %s\n", err.msg);
    CHECK_INT(rc, QS_OK);
    check_xml("report", html);
    return html;
}

/* The text of the <svg id="ID"> element inside html (malloc'd), or NULL. */
static char *svg_by_id(const char *html, const char *id)
{
    char key[96];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *p = html ? strstr(html, key) : NULL;
    if (!p)
        return NULL;
    while (p > html && strncmp(p, "<svg", 4) != 0)
        p--;
    const char *e = strstr(p, "</svg>");
    if (!e)
        return NULL;
    size_t n = (size_t)(e + 6 - p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* The text of the group <g class="CLS" ...> ... </g> inside svg (malloc'd). */
static char *group(const char *svg, const char *cls)
{
    char key[64];
    snprintf(key, sizeof key, "<g class=\"%s\"", cls);
    const char *p = svg ? strstr(svg, key) : NULL, *e = p ? strstr(p, "</g>") : NULL;
    if (!e)
        return NULL;
    char *s = malloc((size_t)(e - p) + 1);
    memcpy(s, p, (size_t)(e - p));
    s[e - p] = 0;
    return s;
}

typedef struct {
    long long trial;
    double x, y;
} pt;

static size_t read_points(const char *s, pt *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = s; p && (p = strstr(p, "data-trial=\"")) && n < cap; p++) {
        out[n].trial = strtoll(p + 12, NULL, 10);
        const char *x = strstr(p, "data-x=\""), *y = strstr(p, "data-y=\"");
        out[n].x = x ? strtod(x + 8, NULL) : NAN;
        out[n].y = y ? strtod(y + 8, NULL) : NAN;
        n++;
    }
    return n;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Points of both trial groups ("trials": feasible, "infeasible": violating a constraint);
 * *wrong counts points whose group disagrees with the study's feasibility. */
static int T_feasible(long long i);
static size_t trial_points(const char *svg, pt *out, size_t cap, size_t *wrong)
{
    char *g = group(svg, "trials"), *h = group(svg, "infeasible");
    size_t a = read_points(g, out, cap), b = read_points(h, out + a, cap - a);
    *wrong = 0;
    for (size_t k = 0; k < a + b; k++)
        *wrong += T_feasible(out[k].trial) != (k < a);
    free(g), free(h);
    return a + b;
}

/* ---- a realistic study: 3 linear layers, 9 searched parameters ---- */

#define MAXT 70000
static const int fan[3][2] = {{16, 16}, {16, 16}, {16, 26}};
static const int din_ch[2] = {4, 8}, w_ch[3] = {2, 4, 8};

typedef struct {
    qs_trial_state state;
    int feasible;
    unsigned ch[9];
    double acc, lat, size, bitops, energy, avg, value[2];
} truth;
static truth T[MAXT];

static const char *space_json =
    "{\"name\":\"graph/quantize/mixed_precision_ptq\",\"by\":\"name\",\"arch\":\"jsc-three-linear\",\"entries\":["
    "{\"name\":\"seq_blocks_2\",\"source\":\"default\",\"layers\":[\"seq_blocks_2\"],\"params\":["
    "{\"name\":\"seq_blocks_2/config/data_in_width\",\"choices\":[\"4\",\"8\"],\"searched\":true},"
    "{\"name\":\"seq_blocks_2/config/weight_width\",\"choices\":[\"2\",\"4\",\"8\"],\"searched\":true},"
    "{\"name\":\"seq_blocks_2/config/bias_width\",\"choices\":[\"2\",\"4\",\"8\"],\"searched\":true}]},"
    "{\"name\":\"seq_blocks_4\",\"source\":\"default\",\"layers\":[\"seq_blocks_4\"],\"params\":["
    "{\"name\":\"seq_blocks_4/config/data_in_width\",\"choices\":[\"4\",\"8\"],\"searched\":true},"
    "{\"name\":\"seq_blocks_4/config/weight_width\",\"choices\":[\"2\",\"4\",\"8\"],\"searched\":true},"
    "{\"name\":\"seq_blocks_4/config/bias_width\",\"choices\":[\"2\",\"4\",\"8\"],\"searched\":true}]},"
    "{\"name\":\"seq_blocks_6\",\"source\":\"default\",\"layers\":[\"seq_blocks_6\"],\"params\":["
    "{\"name\":\"seq_blocks_6/config/data_in_width\",\"choices\":[\"4\",\"8\"],\"searched\":true},"
    "{\"name\":\"seq_blocks_6/config/weight_width\",\"choices\":[\"2\",\"4\",\"8\"],\"searched\":true},"
    "{\"name\":\"seq_blocks_6/config/bias_width\",\"choices\":[\"2\",\"4\",\"8\"],\"searched\":true}]}],"
    "\"searched\":[\"seq_blocks_2/config/data_in_width\",\"seq_blocks_2/config/weight_width\","
    "\"seq_blocks_2/config/bias_width\",\"seq_blocks_4/config/data_in_width\",\"seq_blocks_4/config/weight_width\","
    "\"seq_blocks_4/config/bias_width\",\"seq_blocks_6/config/data_in_width\",\"seq_blocks_6/config/weight_width\","
    "\"seq_blocks_6/config/bias_width\"],\"size\":5832}";

static const char *config_single =
    "# MASE lab 3 style search <with> & \"quotes\"\n"
    "[search.search_space]\nname = \"graph/quantize/mixed_precision_ptq\"\n"
    "[search.strategy.setup]\nn_trials = 300\nsampler = \"tpe\"\nsum_scaled_metrics = true\ndirection = \"maximize\"\n"
    "[search.strategy.metrics]\naccuracy.scale = 1.0\naccuracy.direction = \"maximize\"\n"
    "average_bitwidth.scale = -0.00625\naverage_bitwidth.direction = \"minimize\"\n";

static const char *config_multi =
    "[search.strategy.setup]\nsum_scaled_metrics = false\nsampler = \"nsgaii\"\n"
    "[search.strategy.metrics]\naccuracy.direction = \"maximize\"\naverage_bitwidth.direction = \"minimize\"\n";

static void meta(qs_study *s, const char *k, const char *v)
{
    qs_error err;
    CHECK_INT(qs_study_meta_set(s, k, v, &err), QS_OK);
}

/* Metrics of a configuration, with noise. */
static void model_trial(truth *t, qs_rng *r)
{
    double num = 0, den = 0;
    t->size = t->bitops = 0;
    t->acc = 0.93;
    for (int l = 0; l < 3; l++) {
        int d = din_ch[t->ch[3 * l]], w = w_ch[t->ch[3 * l + 1]], b = w_ch[t->ch[3 * l + 2]];
        double mac = fan[l][0] * fan[l][1];
        num += mac * w;
        den += mac;
        t->size += mac * w + fan[l][1] * b;
        t->bitops += mac * w * d;
        t->acc -= 0.25 / (w * w) + 0.08 / (d * d) + 0.01 / b;
    }
    t->acc += 0.004 * qs_rng_normal(r);
    t->avg = num / den;
    t->lat = 900 + 0.02 * t->bitops + 15 * fabs(qs_rng_normal(r));
    t->energy = t->bitops * 2e-14 + 3e-10;
}

static const char *state_error(int i, qs_trial_state *st)
{
    *st = QS_TRIAL_COMPLETE;
    if (i % 37 == 5) {
        *st = QS_TRIAL_FAILED;
        return "quantize: seq_blocks_4 <weight> bad format & width";
    }
    if (i % 53 == 7) {
        *st = QS_TRIAL_PRUNED;
        return "model_size_bits 9000 > 8000";
    }
    return NULL;
}

/* Fills a study with n trials (multi: 2 objectives); flat: driver-style flat metric keys. */
static void fill(qs_study *s, size_t n, int multi, int flat, uint64_t seed)
{
    qs_rng r;
    qs_rng_seed(&r, seed);
    meta(s, "space", space_json);
    meta(s, "config", multi ? config_multi : config_single);
    meta(s, "model", "jsc-three-linear.safetensors");
    meta(s, "arch", "jsc-three-linear");
    meta(s, "dataset", "letter");
    meta(s, "sampler", multi ? "nsgaii" : "tpe");
    meta(s, "seed", "42");
    meta(s, "machine", "{\"host\": \"node1\", \"cpu\": \"Test CPU @ 3 GHz\", \"online_cpus\": 2}");
    meta(s, "float_baseline", "{\"val_accuracy\": 0.715, \"val_samples\": 3000}");
    meta(s, "qsearch_version", "0.1.0");
    const size_t B = 1000;
    uint64_t *hash = malloc(B * sizeof *hash);
    char **cj = malloc(B * sizeof *cj), **mj = malloc(B * sizeof *mj), **vj = malloc(B * sizeof *vj);
    char **cons = malloc(B * sizeof *cons);
    int64_t *num = malloc(B * sizeof *num);
    int *claimed = malloc(B * sizeof *claimed);
    qs_trial_result *res = malloc(B * sizeof *res);
    for (size_t i = 0; i < B; i++) {
        cj[i] = malloc(64);
        mj[i] = malloc(512);
        vj[i] = malloc(96);
        cons[i] = malloc(96);
    }
    for (size_t b0 = 0; b0 < n; b0 += B) {
        size_t m = n - b0 < B ? n - b0 : B;
        for (size_t j = 0; j < m; j++) {
            size_t i = b0 + j;
            truth *t = &T[i];
            for (int k = 0; k < 9; k++)
                t->ch[k] = (unsigned)qs_rng_below(&r, k % 3 == 0 ? 2 : 3);
            model_trial(t, &r);
            hash[j] = (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull;
            snprintf(cj[j], 64, "[%u,%u,%u,%u,%u,%u,%u,%u,%u]", t->ch[0], t->ch[1], t->ch[2], t->ch[3], t->ch[4],
                     t->ch[5], t->ch[6], t->ch[7], t->ch[8]);
            const char *e = state_error((int)i, &t->state);
            t->feasible = t->size <= 5500;
            t->value[0] = multi ? t->acc : t->acc - 0.00625 * t->avg;
            t->value[1] = t->avg;
            if (flat)
                snprintf(mj[j], 512, "{\"accuracy\":%.17g,\"avg_bitwidth\":%.17g,\"model_size_bits\":%.17g,"
                                     "\"bitops\":%.17g,\"latency\":%.17g,\"energy\":%.17g}",
                         t->acc, t->avg, t->size, t->bitops, t->lat, t->energy);
            else
                snprintf(mj[j], 512, "{\"accuracy\":%.17g,\"loss\":%.17g,\"avg_bitwidth\":%.17g,\"model_size_bits\""
                                     ":%.17g,\"bitops\":%.17g,\"params\":800,\"latency\":{\"batch\":1,\"median_ns\":"
                                     "%.17g,\"ci95_ns\":[%.17g,%.17g],\"runs\":200},\"energy\":{\"joules\":%.17g,"
                                     "\"source\":\"model\"}}",
                         t->acc, 1.5 - t->acc, t->avg, t->size, t->bitops, t->lat, t->lat * 0.99, t->lat * 1.01,
                         t->energy);
            if (multi)
                snprintf(vj[j], 96, "[%.17g,%.17g]", t->value[0], t->value[1]);
            else
                snprintf(vj[j], 96, "[%.17g]", t->value[0]);
            snprintf(cons[j], 96, "{\"model_size_bits_max\":%.17g}", t->size - 5500);
            res[j] = (qs_trial_result){.state = t->state, .values_json = t->state == QS_TRIAL_COMPLETE ? vj[j] : NULL,
                                       .metrics_json = t->state == QS_TRIAL_COMPLETE ? mj[j] : NULL,
                                       .constraints_json = t->state == QS_TRIAL_COMPLETE ? cons[j] : NULL,
                                       .error = e, .duration_s = 0.01};
        }
        qs_error err;
        CHECK_INT(qs_study_claim_many(s, m, hash, (const char *const *)cj, 0, num, claimed, &err), QS_OK);
        CHECK_INT(qs_study_finish_many(s, m, num, res, &err), QS_OK);
    }
    for (size_t i = 0; i < B; i++)
        free(cj[i]), free(mj[i]), free(vj[i]), free(cons[i]);
    free(hash), free(cj), free(mj), free(vj), free(cons), free(num), free(claimed), free(res);
}

static int complete(size_t i) { return T[i].state == QS_TRIAL_COMPLETE; }
static int T_feasible(long long i) { return i >= 0 && i < MAXT && T[i].feasible; }

/* Index of the best feasible complete trial (single objective, maximise). */
static long best_single(size_t n)
{
    long b = -1;
    for (size_t i = 0; i < n; i++)
        if (complete(i) && T[i].feasible && (b < 0 || T[i].value[0] > T[b].value[0]))
            b = (long)i;
    return b;
}

/* 1 when trial i is on the 2-D front of (max accuracy, min metric) among complete trials. */
static int on_front_2d(size_t n, size_t i, const double *metric)
{
    for (size_t j = 0; j < n; j++)
        if (j != i && complete(j) && T[j].acc >= T[i].acc && metric[j] <= metric[i] &&
            (T[j].acc > T[i].acc || metric[j] < metric[i] || j < i))
            return 0;
    return 1;
}

static void keep(const char *name, const char *html)
{
    const char *dir = getenv("QS_REPORT_KEEP");
    if (!dir || !html)
        return;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(html, f);
        fclose(f);
    }
}

/* ---- tests ---- */

static void test_empty_study(void)
{
    qs_study *s = fresh("empty.db");
    qs_report_stats st;
    char *html = report(s, NULL, &st);
    CHECK(html && strstr(html, "No completed feasible trial"));
    CHECK(html && strstr(html, "<td>unknown</td>"));
    CHECK(html && strstr(html, "no sample-efficiency curves"));
    /* Self-contained: no scripts, links, external sources (http:// only in the SVG namespace). */
    CHECK(html && !strstr(html, "<script") && !strstr(html, "<link") && !strstr(html, "src="));
    CHECK(html && !strstr(html, "href=\"http") && !strstr(html, "url("));
    CHECK_INT(st.n_trials, 0);
    CHECK_INT(st.n_plots, 0);
    CHECK(st.n_notes > 0);
    free(html);
    qs_study_close(s);
}

static void test_one_trial(void)
{
    qs_study *s = fresh("one.db");
    fill(s, 1, 0, 0, 1);
    char *html = report(s, NULL, NULL);
    CHECK(html && strstr(html, "<h2 id=\"best\">Best trials</h2>"));
    CHECK(html && strstr(html, "<td class=\"n\">#0</td>"));
    char *sc = svg_by_id(html, "accuracy_vs_latency");
    pt p[8];
    CHECK_INT(read_points(sc, p, 8), 3); /* the trial, its front point, the chosen mark */
    CHECK(p[0].x == T[0].lat && p[0].y == T[0].acc);
    CHECK(html && strstr(html, "the same for every configuration"));
    free(sc);
    free(html);
    qs_study_close(s);
}

static void test_failed_trial(void)
{
    qs_study *s = fresh("failed.db");
    qs_error err;
    int64_t num;
    int claimed;
    CHECK_INT(qs_study_claim(s, 99, "[0]", 0, &num, &claimed, &err), QS_OK);
    qs_trial_result r = {.state = QS_TRIAL_FAILED, .error = "eval: <nan> logits & \x01 \xFF bad", .duration_s = -1};
    CHECK_INT(qs_study_finish(s, num, &r, &err), QS_OK);
    char *html = report(s, NULL, NULL);
    CHECK(html && strstr(html, "Failed and pruned trials"));
    CHECK(html && strstr(html, "eval: &lt;nan&gt; logits &amp;  ? bad"));
    CHECK(html && strstr(html, "No completed feasible trial"));
    CHECK(html && strstr(html, "0 complete, 0 pruned, 1 failed"));
    free(html);
    qs_study_close(s);
}

static void test_realistic_values(void)
{
    const size_t n = 300;
    qs_study *s = fresh("real.db");
    fill(s, n, 0, 0, 7);
    char *html = report(s, NULL, NULL);
    keep("realistic.html", html);
    long b = best_single(n);
    CHECK(b >= 0);
    /* Summary from the metadata; the config text escaped. */
    CHECK(html && strstr(html, "CPU Test CPU @ 3 GHz; 2 cores; SIMD unknown; host node1"));
    CHECK(html && strstr(html, "# MASE lab 3 style search &lt;with&gt; &amp; &quot;quotes&quot;"));
    CHECK(html && strstr(html, "5832 configurations (9 searched parameters)"));
    /* Best table: first row is the best trial. */
    char row[160];
    snprintf(row, sizeof row, "<tr class=\"best\"><td class=\"n\">1</td><td class=\"n\">#%ld</td>", b);
    CHECK(html && strstr(html, row));
    /* Scatter of accuracy against each hardware metric: every complete trial, exact values. */
    static const char *const ids[4] = {"accuracy_vs_latency", "accuracy_vs_model_size_bits", "accuracy_vs_bitops",
                                       "accuracy_vs_energy"};
    double *metric = malloc(n * sizeof *metric);
    for (int h = 0; h < 4; h++) {
        for (size_t i = 0; i < n; i++)
            metric[i] = h == 0 ? T[i].lat : h == 1 ? T[i].size : h == 2 ? T[i].bitops : T[i].energy;
        char *sv = svg_by_id(html, ids[h]), *f = group(sv, "front");
        check_xml(ids[h], sv);
        static pt p[400];
        size_t wrong, np = trial_points(sv, p, 400, &wrong), nc = 0, bad = 0;
        CHECK_INT(wrong, 0);
        for (size_t i = 0; i < n; i++)
            nc += complete(i);
        CHECK_INT(np, nc);
        for (size_t k = 0; k < np; k++) {
            size_t i = (size_t)p[k].trial;
            bad += i >= n || !complete(i) || p[k].x != metric[i] || p[k].y != T[i].acc;
        }
        CHECK_INT(bad, 0);
        size_t nf = read_points(f, p, 400), want = 0;
        for (size_t i = 0; i < n; i++)
            want += complete(i) && on_front_2d(n, i, metric);
        CHECK_INT(nf, want);
        for (size_t k = 0; k < nf; k++)
            CHECK(on_front_2d(n, (size_t)p[k].trial, metric));
        char mark[64];
        snprintf(mark, sizeof mark, "class=\"chosen\" cx=");
        const char *m = sv ? strstr(sv, mark) : NULL;
        CHECK(m && strtol(strstr(m, "data-trial=\"") + 12, NULL, 10) == b);
        free(sv), free(f);
    }
    free(metric);
    /* Per-configuration plot: thinned to 120, ascending, chosen kept. */
    char *cf = svg_by_id(html, "configs_accuracy"), *cg = group(cf, "trials");
    static pt q[200];
    size_t nq = read_points(cg, q, 200), asc = 1, has_b = 0;
    CHECK_INT(nq, 120);
    for (size_t k = 0; k < nq; k++) {
        asc &= k == 0 || q[k].y >= q[k - 1].y;
        has_b |= q[k].trial == b;
        CHECK(q[k].y == T[q[k].trial].acc);
    }
    CHECK(asc && has_b);
    CHECK(cf && strstr(cf, "showing 120 of"));
    free(cf), free(cg);
    /* History: every complete trial's objective, in trial order. */
    char *hs = svg_by_id(html, "history_0");
    static pt hp[400];
    size_t wrong, nh = trial_points(hs, hp, 400, &wrong), okh = 1, nc = 0;
    CHECK_INT(wrong, 0);
    for (size_t i = 0; i < n; i++)
        nc += complete(i);
    CHECK_INT(nh, nc);
    for (size_t k = 0; k < nh; k++)
        okh &= hp[k].x == (double)hp[k].trial && hp[k].y == T[hp[k].trial].value[0];
    CHECK(okh);
    CHECK(hs && strstr(hs, "class=\"best-so-far\""));
    free(hs);
    /* Heat map: 12 rows x 9 columns; row 0 = the best trial's choices. */
    char *hm = svg_by_id(html, "precision_heatmap");
    CHECK_INT(count(hm, "data-row="), 12 * 9);
    char cell[80];
    snprintf(cell, sizeof cell, "data-row=\"0\" data-col=\"1\" data-v=\"%d\"", w_ch[T[b].ch[1]]);
    CHECK(hm && strstr(hm, cell));
    snprintf(cell, sizeof cell, "#%ld (best)", b);
    CHECK(hm && strstr(hm, cell));
    free(hm);
    /* Latency without samples: the medians with the stored CIs of the top trials. */
    char *lt = svg_by_id(html, "latency");
    CHECK(lt && strstr(lt, "class=\"interval\""));
    free(lt);
    CHECK(html && strstr(html, "Failed and pruned trials") && strstr(html, "&lt;weight&gt; bad format &amp; width"));
    free(html);
    qs_study_close(s);
}

static void test_flat_metrics(void)
{
    /* The search driver's flat form ("latency": ns, "energy": J) reads the same. */
    qs_study *s = fresh("flat.db");
    fill(s, 40, 0, 1, 3);
    char *html = report(s, NULL, NULL);
    char *sv = svg_by_id(html, "accuracy_vs_energy");
    pt p[64];
    size_t wrong, np = trial_points(sv, p, 64, &wrong), ok = np > 30 && wrong == 0;
    for (size_t k = 0; k < np; k++)
        ok &= p[k].x == T[p[k].trial].energy && p[k].y == T[p[k].trial].acc;
    CHECK(ok);
    CHECK(html && strstr(html, "no latency samples") == NULL);
    free(sv), free(html);
    qs_study_close(s);
}

static void test_multi_objective(void)
{
    const size_t n = 200;
    qs_study *s = fresh("multi.db");
    fill(s, n, 1, 0, 11);
    char *html = report(s, NULL, NULL);
    keep("multi.html", html);
    CHECK(html && strstr(html, "<h2 id=\"best\">Pareto front</h2>"));
    CHECK(html && strstr(html, "accuracy (maximize); average_bitwidth (minimize) (Pareto front)"));
    /* Rows of the table = the brute-force front of feasible complete trials. */
    size_t want = 0;
    for (size_t i = 0; i < n; i++) {
        if (!complete(i) || !T[i].feasible)
            continue;
        int dom = 0;
        for (size_t j = 0; j < n && !dom; j++)
            dom = j != i && complete(j) && T[j].feasible && T[j].acc >= T[i].acc && T[j].avg <= T[i].avg &&
                  (T[j].acc > T[i].acc || T[j].avg < T[i].avg || j < i);
        want += !dom;
    }
    const char *tab = html ? strstr(html, "<table class=\"best\">") : NULL;
    const char *end = tab ? strstr(tab, "</table>") : NULL;
    size_t rows = 0;
    for (const char *p = tab; p && p < end && (p = strstr(p, "<tr")) && p < end; p++)
        rows++;
    CHECK_INT(rows, want + 1); /* + header */
    CHECK(html && strstr(html, "id=\"history_1\"")); /* one history per objective */
    /* objectives equal to metrics (scale 1) are shown once, in the metric's column */
    char *head = tab ? strndup(tab, (size_t)(strstr(tab, "</tr>") - tab)) : NULL;
    CHECK(head && strstr(head, "accuracy<br/><small>objective, maximize</small>"));
    CHECK(head && strstr(head, "avg bit width<br/><small>objective, minimize</small>"));
    CHECK(head && !strstr(head, "accuracy (maximize)"));
    CHECK_INT(count(head ? head : "", ">accuracy<"), 1);
    free(head);
    free(html);
    qs_study_close(s);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_curves_and_samples(void)
{
    qs_study *s = fresh("curves.db");
    fill(s, 60, 0, 0, 5);
    qs_error err;
    double best[3][20];
    static const char *const samplers[2] = {"random", "tpe"};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 3; r++) {
            double v = 0.3;
            for (int i = 0; i < 20; i++) {
                v += (k + 1) * 0.01 * ((i * 7 + r * 3) % 5);
                best[r][i] = i == 0 && r == 2 ? NAN : v;
            }
            CHECK_INT(qs_study_put_curve(s, samplers[k], r, 100 + r, NULL, best[r], 20, &err), QS_OK);
        }
    /* Latency samples for the three best configurations. */
    long b = best_single(60);
    double v[101];
    for (int i = 0; i < 101; i++)
        v[i] = 1000 + (i * 37 % 101);
    CHECK_INT(qs_study_put_samples_f64(s, b, "latency_ns", v, 101, &err), QS_OK);
    char *html = report(s, NULL, NULL);
    keep("curves.html", html);
    char *cv = svg_by_id(html, "curves");
    CHECK(cv && strstr(cv, "data-sampler=\"random\"") && strstr(cv, "data-sampler=\"tpe\""));
    /* The tpe median at trial 5 equals the median of the 3 repeats (the last curve written is tpe's). */
    char *g = cv ? strstr(cv, "data-sampler=\"tpe\"") : NULL;
    const char *p5 = g ? strstr(g, "data-x=\"5\"") : NULL;
    double col[3] = {0}, want;
    for (int r = 0; r < 3; r++) {
        double x = 0.3;
        for (int i = 0; i < 5; i++)
            x += 2 * 0.01 * ((i * 7 + r * 3) % 5);
        col[r] = x;
    }
    qsort(col, 3, sizeof *col, cmp_d);
    want = col[1];
    CHECK(p5 && strtod(strstr(p5, "data-y=\"") + 8, NULL) == want);
    const char *p1 = g ? strstr(g, "data-x=\"1\"") : NULL; /* index 0: two repeats known */
    CHECK(p1 != NULL);
    char *lt = svg_by_id(html, "latency");
    CHECK(lt && strstr(lt, "data-n=\"101\""));
    char box[160];
    snprintf(box, sizeof box, "data-trial=\"%ld\" data-n=\"101\" data-q1=\"1025\" data-q3=\"1075\"", b);
    CHECK(lt && strstr(lt, box));
    free(cv), free(lt), free(html);
    qs_study_close(s);
}

static void test_decimation(void)
{
    const size_t n = 6000;
    qs_study *s = fresh("big.db");
    fill(s, n, 0, 0, 9);
    qs_report_options o;
    qs_report_options_default(&o);
    o.max_points = 500;
    char *html = report(s, &o, NULL);
    char *sv = svg_by_id(html, "accuracy_vs_bitops"), *f = group(sv, "front");
    static pt p[7000], fp[200];
    size_t wrong, np = trial_points(sv, p, 7000, &wrong), nf = read_points(f, fp, 200);
    CHECK_INT(wrong, 0);
    CHECK(np <= 500 && np > 300);
    size_t missing = 0;
    long b = best_single(n);
    int has_b = 0;
    for (size_t k = 0; k < np; k++)
        has_b |= p[k].trial == b;
    for (size_t j = 0; j < nf; j++) {
        int found = 0;
        for (size_t k = 0; k < np && !found; k++)
            found = p[k].trial == fp[j].trial;
        missing += !found;
    }
    CHECK_INT(missing, 0);
    CHECK(has_b);
    CHECK(sv && strstr(sv, "of 5") && strstr(sv, "front and chosen always kept"));
    char *hs = svg_by_id(html, "history_0");
    CHECK(hs && strstr(hs, "every improvement kept"));
    free(sv), free(f), free(hs), free(html);
    qs_study_close(s);
}

static void test_bad_values(void)
{
    qs_study *s = fresh("bad.db");
    meta(s, "config", config_single);
    qs_error err;
    int64_t num;
    int claimed;
    CHECK_INT(qs_study_claim(s, 5, "[0]", 0, &num, &claimed, &err), QS_OK);
    qs_trial_result r = {.state = QS_TRIAL_COMPLETE, .values_json = "[1, 2]", .metrics_json = "{}", .duration_s = -1};
    CHECK_INT(qs_study_finish(s, num, &r, &err), QS_OK);
    char *html = NULL;
    CHECK_INT(qs_report_html(s, NULL, &html, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "trial 0: objective values [1, 2]");
    CHECK(html == NULL);
    qs_study_close(s);
}

static void test_write_files(void)
{
    qs_study *s = fresh("files.db");
    fill(s, 50, 0, 0, 13);
    char out[600], dir[600];
    path_in(out, sizeof out, "r.html");
    path_in(dir, sizeof dir, "plots");
    qs_report_options o;
    qs_report_options_default(&o);
    o.plots_dir = dir;
    o.title = "My <study>";
    qs_report_stats st;
    qs_error err;
    CHECK_INT(qs_report_write(s, out, &o, &st, &err), QS_OK);
    struct stat sb;
    CHECK(stat(out, &sb) == 0 && (size_t)sb.st_size == st.html_bytes);
    static const char *const names[] = {"accuracy_vs_latency", "configs_accuracy", "history_0", "precision_heatmap",
                                        "latency"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s.svg", dir, names[i]);
        FILE *f = fopen(p, "r");
        CHECK(f != NULL);
        if (!f)
            continue;
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        check_xml(p, buf);
        CHECK(strncmp(buf, "<?xml", 5) == 0);
    }
    /* A plots path under a regular file cannot be created: an I/O error naming it. */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/sub", out);
    o.plots_dir = bad;
    CHECK_INT(qs_report_write(s, out, &o, NULL, &err), QS_ERR_IO);
    CHECK_CONTAINS(err.msg, "plots directory");
    qs_study_close(s);
}

static void bench(size_t n)
{
    qs_study *s = fresh("bench.db");
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fill(s, n, 0, 0, 17);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char out[600];
    path_in(out, sizeof out, "bench.html");
    if (getenv("QS_REPORT_KEEP"))
        snprintf(out, sizeof out, "%s/bench.html", getenv("QS_REPORT_KEEP"));
    qs_report_stats st;
    qs_error err;
    CHECK_INT(qs_report_write(s, out, NULL, &st, &err), QS_OK);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    fprintf(stderr, "  bench: %zu trials: study filled in %.2f s; report %zu bytes (%.2f MB), %zu plots, in %.2f s\n", n,
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, st.html_bytes, st.html_bytes / 1e6,
            st.n_plots, (double)(t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) * 1e-9);
    qs_study_close(s);
}

/* The compact configuration text shared by the CLI table, best.json and the report. */
static void test_config_text(void)
{
    const char *names[] = {"seq_blocks_2/config/data_in_width", "seq_blocks_2/config/data_in_frac_width",
                           "seq_blocks_2/config/weight_width", "seq_blocks_5/config/weight_width",
                           "seq_blocks_5/config/name", "seq_blocks_5/config/bias_frac_width",
                           "seq_blocks_5/config/bias_width"};
    const char *vals[] = {"6", "3", "8", "4", "integer", "2", "8"};
    const char *want = "seq_blocks_2[in6.3 w8] seq_blocks_5[w4 name=integer bias_frac_width=2 b8]";
    char buf[256];
    CHECK_INT(qs_search_config_text_names(7, names, vals, buf, sizeof buf), strlen(want));
    CHECK_STR(buf, want);
    char small[11];
    CHECK_INT(qs_search_config_text_names(7, names, vals, small, sizeof small), strlen(want)); /* as snprintf */
    CHECK_STR(small, "seq_blocks");
    CHECK_INT(qs_search_config_text_names(7, names, vals, NULL, 0), strlen(want));
    CHECK_INT(qs_search_config_text_names(0, names, vals, buf, sizeof buf), 0);
    CHECK_STR(buf, "");
    const char *tn[] = {"linear/config/weight_width", "linear/config/weight_frac_width", "relu/config/data_in_width"};
    const char *tv[] = {"8", "NA", "4"};
    qs_search_config_text_names(3, tn, tv, buf, sizeof buf);
    CHECK_STR(buf, "linear[w8.NA] relu[in4]");
    CHECK(strstr(qs_search_config_text_legend(), "weight width 8 with 5 fractional bits") != NULL);
}

int main(void)
{
    const char *base = getenv("QS_TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/qs_report_XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *b = getenv("QS_REPORT_BENCH");
    if (b) {
        size_t n = (size_t)strtoul(b, NULL, 10);
        bench(n > MAXT ? MAXT : n);
        return qs_test_summary();
    }
    RUN(test_empty_study);
    RUN(test_one_trial);
    RUN(test_failed_trial);
    RUN(test_realistic_values);
    RUN(test_flat_metrics);
    RUN(test_multi_objective);
    RUN(test_curves_and_samples);
    RUN(test_decimation);
    RUN(test_bad_values);
    RUN(test_write_files);
    RUN(test_config_text);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return qs_test_summary();
}
