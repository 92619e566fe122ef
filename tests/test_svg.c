/* SVG plotting: buffer, escaping, number formatting, axes (linear/log), plot
 * elements well-formed with exact data attributes, heat map. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qsearch/svg.h"
#include "xml_check.h"

static void check_xml(const char *s)
{
    char why[256] = "";
    int ok = s && xml_well_formed(s, why, sizeof why);
    if (!ok)
        fprintf(stderr, "  not well-formed: %s\n", why);
    CHECK(ok);
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_buffer_and_escape(void)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    qs_svg_printf(&b, "%s|%d", big, 42); /* longer than the on-stack fast path */
    CHECK_INT(b.len, 1999 + 3);
    CHECK_STR(b.s + 1999, "|42");
    b.len = 0;
    qs_svg_escape(&b, "a<b&\"c'>\x01z\xC3\xA9\xFF.");
    CHECK_STR(b.s, "a&lt;b&amp;&quot;c&#39;&gt;z\xC3\xA9?.");
    CHECK(!b.oom);
    qs_svg_buf_free(&b);
    qs_svg_buf_free(NULL);
}

static void test_format(void)
{
    char s[32];
    static const struct { double v; const char *want; } cases[] = {
        {1500, "1500"}, {15000, "15k"}, {2e6, "2M"}, {0.5, "0.5"}, {2.5e-7, "250n"}, {0, "0"}, {123.456, "123.5"},
        {-3e9, "-3G"}, {12000, "12k"}, {1e-3, "1m"}, {5e-6, "5\xC2\xB5"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qs_svg_format(cases[i].v, s, sizeof s);
        CHECK_STR(s, cases[i].want);
    }
    qs_svg_format(NAN, s, sizeof s);
    CHECK_STR(s, "n/a");
    CHECK_STR(qs_svg_color(0), "#0072B2");
    CHECK_STR(qs_svg_color(QS_SVG_N_COLORS), qs_svg_color(0));
    CHECK_STR(qs_svg_color(-1), qs_svg_color(QS_SVG_N_COLORS - 1));
}

static void test_axis_fit(void)
{
    qs_svg_axis a = {0};
    const double lin[] = {1, 2, 3, 10};
    qs_svg_axis_fit(&a, lin, 4, 1);
    CHECK_INT(a.log, 0);
    CHECK(a.lo <= 1 && a.hi >= 10 && a.lo >= 0);
    const double dec[] = {100, 5000, 2e6, NAN};
    qs_svg_axis_fit(&a, dec, 4, 1);
    CHECK_INT(a.log, 1);
    CHECK(a.lo < 100 && a.lo > 0 && a.hi > 2e6);
    qs_svg_axis_fit(&a, dec, 4, 0); /* log not allowed */
    CHECK_INT(a.log, 0);
    const double neg[] = {-5, 1000};
    qs_svg_axis_fit(&a, neg, 2, 1);
    CHECK_INT(a.log, 0);
    const double none[] = {NAN, INFINITY};
    qs_svg_axis_fit(&a, none, 2, 1);
    CHECK(a.lo == 0 && a.hi == 1);
    const double one[] = {0.7};
    qs_svg_axis_fit(&a, one, 1, 1);
    CHECK(a.lo < 0.7 && a.hi > 0.7);
    qs_svg_axis_include(&a, 5);
    CHECK(a.hi >= 5);
}

/* Reads back every data-x/data-y pair in order. */
static size_t read_points(const char *s, double *x, double *y, long long *id, size_t cap)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, "data-x=\"")) && n < cap; p++) {
        x[n] = strtod(p + 8, NULL);
        const char *q = strstr(p, "data-y=\"");
        y[n] = q ? strtod(q + 8, NULL) : NAN;
        const char *t = p;
        while (t > s && *t != '<')
            t--;
        const char *tr = strstr(t, "data-trial=\"");
        id[n] = tr && tr < p ? strtoll(tr + 12, NULL, 10) : -1;
        n++;
    }
    return n;
}

static void test_plot_roundtrip(void)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, "acc vs <latency> & size", "latency (ns)", "accuracy");
    p.id = "t1";
    const double x[] = {1234.5678901234567, 2e5, NAN, 3.3e6, 0.1 + 0.2};
    const double y[] = {0.91, 0.1 + 0.7, 0.5, 0.77, 1.0 / 3};
    const int64_t ids[] = {7, 8, 9, 10, 11};
    const char *tips[] = {"t<7>", NULL, NULL, "x&y", NULL};
    qs_svg_axis_fit(&p.x, x, 5, 1);
    qs_svg_axis_fit(&p.y, y, 5, 0);
    CHECK_INT(p.x.log, 1);
    qs_svg_legend(&p, QS_SVG_KIND_POINT, 0, "trial");
    qs_svg_legend(&p, QS_SVG_KIND_LINE, 3, "front <2-D>");
    qs_svg_legend(&p, QS_SVG_KIND_BAND, 2, "band");
    qs_svg_legend(&p, QS_SVG_KIND_MARK, 0, "chosen");
    qs_svg_begin(&p);
    for (int c = 0; c < 4; c++) /* every marker shape */
        qs_svg_points(&p, c, 5, x, y, ids, tips, "pts");
    qs_svg_line(&p, 3, 5, x, y, 1, 0, "front");
    qs_svg_line(&p, 1, 0, x, y, 0, 1, NULL); /* empty line stays valid */
    qs_svg_band(&p, 2, 5, x, y, y);
    qs_svg_interval(&p, 6, 2e5, 0.5, 0.9);
    qs_svg_mark(&p, 3.3e6, 0.77, 10, "chosen #10");
    qs_svg_note(&p, "showing 4 of 5 & more");
    qs_svg_end(&p);
    CHECK(!b.oom);
    check_xml(b.s);
    double rx[32], ry[32];
    long long rid[32];
    size_t n = read_points(b.s, rx, ry, rid, 32);
    CHECK_INT(n, 4 * 4 + 1); /* 4 finite points x 4 series + the mark */
    size_t k = 0;
    for (size_t i = 0; i < 5 && n >= 4; i++) {
        if (!isfinite(x[i]))
            continue;
        CHECK(rx[k] == x[i] && ry[k] == y[i]); /* %.17g is exact */
        CHECK_INT(rid[k], ids[i]);
        k++;
    }
    CHECK(strstr(b.s, "[log scale]") != NULL);
    CHECK(strstr(b.s, "t&lt;7&gt;") != NULL && strstr(b.s, "front &lt;2-D&gt;") != NULL);
    CHECK(strstr(b.s, "id=\"t1\"") != NULL);
    CHECK_INT(count(b.s, "class=\"legend\""), 4);
    CHECK(strstr(b.s, ">10k<") && strstr(b.s, ">1M<")); /* log ticks labelled with SI suffixes */
    /* Pixel mapping: range ends map to the plot area's edges, monotone. */
    CHECK_NEAR(qs_svg_px(&p, p.x.lo), p.ml, 1e-9);
    CHECK_NEAR(qs_svg_px(&p, p.x.hi), p.width - p.mr, 1e-9);
    CHECK(qs_svg_px(&p, 1e4) < qs_svg_px(&p, 1e5));
    CHECK(qs_svg_py(&p, 0.9) < qs_svg_py(&p, 0.5)); /* y grows upwards */
    CHECK_NEAR(qs_svg_px(&p, -1), p.ml, 1e-9);      /* log of <= 0 is clamped */
    qs_svg_buf_free(&b);
}

static void test_categorical(void)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, "configs", "configuration", "accuracy");
    double pos[200], y[200];
    char lab[200][16];
    const char *labels[200];
    for (int i = 0; i < 200; i++) {
        pos[i] = i + 1;
        y[i] = i / 200.0;
        snprintf(lab[i], sizeof lab[i], "#%d", i);
        labels[i] = lab[i];
    }
    p.x.lo = 0;
    p.x.hi = 201;
    p.x.n_cat = 200;
    p.x.cat_pos = pos;
    p.x.cat_labels = labels;
    qs_svg_axis_fit(&p.y, y, 200, 1);
    qs_svg_begin(&p);
    qs_svg_points(&p, 0, 200, pos, y, NULL, NULL, NULL);
    qs_svg_end(&p);
    check_xml(b.s);
    size_t nl = count(b.s, "rotate(-60)");
    CHECK(nl > 10 && nl < 200); /* thinned so labels do not overlap */
    CHECK(p.mb >= 100);
    qs_svg_buf_free(&b);
}

static void test_heatmap(void)
{
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    const char *rows[] = {"#3 (best)", "#9"}, *cols[] = {"l1.w", "l1.d", "l<2>.w"};
    const double v[] = {8, 4, NAN, 2, 8, 16};
    const char *text[] = {"8", "4", NULL, "2", "8", "16"};
    qs_svg_heatmap(&b, "precision", "hm", 2, 3, rows, cols, v, text, "bits");
    check_xml(b.s);
    CHECK_INT(count(b.s, "data-row="), 6);
    CHECK(strstr(b.s, "data-row=\"1\" data-col=\"2\" data-v=\"16\"") != NULL);
    CHECK(strstr(b.s, "l&lt;2&gt;.w") != NULL);
    CHECK(strstr(b.s, "fill=\"#f2f2f2\"") != NULL); /* the empty cell */
    qs_svg_buf_free(&b);
    qs_svg_buf_init(&b);
    qs_svg_heatmap(&b, "empty", NULL, 0, 0, NULL, NULL, NULL, NULL, NULL);
    check_xml(b.s);
    qs_svg_buf_free(&b);
}

static void test_xml_checker(void)
{
    char why[128];
    CHECK(xml_well_formed("<a x=\"1\"><b/>t &amp; &#x41;</a>", why, sizeof why));
    CHECK(!xml_well_formed("<a><b></a></b>", why, sizeof why));
    CHECK(!xml_well_formed("<a x=1/>", why, sizeof why));
    CHECK(!xml_well_formed("<a>&bogus;</a>", why, sizeof why));
    CHECK(!xml_well_formed("<a x=\"<\"/>", why, sizeof why));
    CHECK(!xml_well_formed("<a/><b/>", why, sizeof why));
    CHECK(!xml_well_formed("<a>", why, sizeof why));
}

static void test_legend_wrap(void)
{
    /* A legend too wide for one row wraps, and the plot area moves down to make room. */
    qs_svg_buf b;
    qs_svg_buf_init(&b);
    qs_svg_plot p;
    qs_svg_plot_init(&p, &b, "wrap", "x", "y");
    double mt0 = p.mt;
    for (int i = 0; i < 6; i++)
        qs_svg_legend(&p, QS_SVG_KIND_POINT, i, "a rather long legend label here");
    qs_svg_begin(&p);
    qs_svg_end(&p);
    check_xml(b.s);
    CHECK(p.mt >= mt0 + 16);
    double maxy = 0;
    for (const char *q = b.s; (q = strstr(q, "class=\"legend\" x=\"")); q++) {
        const char *y = strstr(q, "y=\"");
        double v = y ? strtod(y + 3, NULL) : 1e9;
        maxy = v > maxy ? v : maxy;
    }
    CHECK(maxy > 0 && maxy < p.mt); /* every legend row above the plot area */
    qs_svg_buf_free(&b);
}

int main(void)
{
    RUN(test_xml_checker);
    RUN(test_buffer_and_escape);
    RUN(test_format);
    RUN(test_axis_fit);
    RUN(test_plot_roundtrip);
    RUN(test_categorical);
    RUN(test_legend_wrap);
    RUN(test_heatmap);
    return qs_test_summary();
}
