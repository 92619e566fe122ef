/* SVG plotting primitives for the report (include/qsearch/svg.h). */
#include "qsearch/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---- */

void qs_svg_buf_init(qs_svg_buf *b) { memset(b, 0, sizeof *b); }

void qs_svg_buf_free(qs_svg_buf *b)
{
    if (!b)
        return;
    free(b->s);
    memset(b, 0, sizeof *b);
}

static int reserve(qs_svg_buf *b, size_t extra)
{
    if (b->oom)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return 0;
    }
    b->s = s;
    b->cap = cap;
    return 1;
}

void qs_svg_append(qs_svg_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void qs_svg_printf(qs_svg_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        qs_svg_append(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (0 if invalid). */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 2 && s[0] < 0xC2)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

void qs_svg_escape(qs_svg_buf *b, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        switch (*p) {
        case '&': qs_svg_append(b, "&amp;", 5); p++; continue;
        case '<': qs_svg_append(b, "&lt;", 4); p++; continue;
        case '>': qs_svg_append(b, "&gt;", 4); p++; continue;
        case '"': qs_svg_append(b, "&quot;", 6); p++; continue;
        case '\'': qs_svg_append(b, "&#39;", 5); p++; continue;
        default: break;
        }
        if (*p < 0x20 && *p != '\n' && *p != '\t') { /* not allowed in XML 1.0 */
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (n == 0) { /* invalid byte: keep the document well-formed */
            qs_svg_append(b, "?", 1);
            p++;
            continue;
        }
        qs_svg_append(b, (const char *)p, n);
        p += n;
    }
}

/* ---- palette and numbers ---- */

/* Okabe & Ito (2008), ordered so the first colours stay distinct in greyscale too. */
static const char *const palette[QS_SVG_N_COLORS] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                     "#CC79A7", "#56B4E9", "#000000", "#F0E442"};

const char *qs_svg_color(int i) { return palette[((i % QS_SVG_N_COLORS) + QS_SVG_N_COLORS) % QS_SVG_N_COLORS]; }

void qs_svg_format(double v, char *out, size_t cap)
{
    static const struct { double f; const char *s; } si[] = {
        {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "\xC2\xB5"},
        {1e-9, "n"}, {1e-12, "p"}};
    if (!isfinite(v)) {
        snprintf(out, cap, "%s", isnan(v) ? "n/a" : v > 0 ? "inf" : "-inf");
        return;
    }
    double a = fabs(v);
    if (a == 0 || (a >= 0.01 && a < 1e4)) {
        snprintf(out, cap, "%.4g", v);
        return;
    }
    for (size_t i = 0; i < sizeof si / sizeof si[0]; i++)
        if (a >= si[i].f * 0.9995 || i + 1 == sizeof si / sizeof si[0]) {
            snprintf(out, cap, "%.3g%s", v / si[i].f, si[i].s);
            return;
        }
}

/* ---- axes ---- */

void qs_svg_axis_fit(qs_svg_axis *a, const double *v, size_t n, int allow_log)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    a->log = 0;
    if (lo > hi) {
        a->lo = 0;
        a->hi = 1;
        return;
    }
    if (allow_log && lo > 0 && hi / lo >= 100) {
        a->log = 1;
        a->lo = lo / 1.25;
        a->hi = hi * 1.25;
        return;
    }
    double pad = (hi - lo) * 0.05;
    if (pad == 0)
        pad = lo != 0 ? fabs(lo) * 0.05 : 0.5;
    a->lo = lo - pad;
    a->hi = hi + pad;
    if (lo >= 0 && a->lo < 0)
        a->lo = 0; /* do not invent negative sizes or counts */
}

void qs_svg_axis_include(qs_svg_axis *a, double x)
{
    if (!isfinite(x) || (a->log && x <= 0))
        return;
    if (x < a->lo)
        a->lo = a->log ? x / 1.25 : x;
    if (x > a->hi)
        a->hi = a->log ? x * 1.25 : x;
}

static double axis_t(const qs_svg_axis *a, double v)
{
    double t;
    if (a->log)
        t = v > 0 ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) : 0;
    else
        t = (v - a->lo) / (a->hi - a->lo);
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

double qs_svg_px(const qs_svg_plot *p, double x)
{
    return p->ml + axis_t(&p->x, x) * (p->width - p->ml - p->mr);
}

double qs_svg_py(const qs_svg_plot *p, double y)
{
    return p->height - p->mb - axis_t(&p->y, y) * (p->height - p->mt - p->mb);
}

/* Tick values of an axis into t[cap]; returns the count. */
static size_t ticks(const qs_svg_axis *a, double *t, size_t cap)
{
    size_t n = 0;
    if (a->log) {
        double e0 = floor(log10(a->lo)), e1 = ceil(log10(a->hi));
        int fine = e1 - e0 <= 2.0;
        for (double e = e0; e <= e1 && n < cap; e++) {
            static const double mult[3] = {1, 2, 5};
            for (int k = 0; k < (fine ? 3 : 1) && n < cap; k++) {
                double v = mult[k] * pow(10, e);
                if (v >= a->lo && v <= a->hi)
                    t[n++] = v;
            }
        }
        return n;
    }
    double span = a->hi - a->lo, raw = span / 6, mag = pow(10, floor(log10(raw))), step;
    double r = raw / mag;
    step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9 && n < cap; v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

/* ---- plot ---- */

void qs_svg_plot_init(qs_svg_plot *p, qs_svg_buf *out, const char *title, const char *xlabel,
                      const char *ylabel)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->width = 800;
    p->height = 440;
    p->ml = 84;
    p->mr = 24;
    p->mt = 74;
    p->mb = 62;
    p->title = title;
    p->x.label = xlabel;
    p->y.label = ylabel;
    p->x.lo = p->y.lo = 0;
    p->x.hi = p->y.hi = 1;
}

void qs_svg_legend(qs_svg_plot *p, qs_svg_kind kind, int color, const char *label)
{
    if (p->n_legend >= QS_SVG_MAX_LEGEND)
        return;
    p->legend[p->n_legend].kind = kind;
    p->legend[p->n_legend].color = color;
    snprintf(p->legend[p->n_legend].label, sizeof p->legend[0].label, "%s", label);
    p->n_legend++;
}

static void svg_open(qs_svg_buf *b, double w, double h, const char *id, const char *title)
{
    qs_svg_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                     "height=\"%.0f\" role=\"img\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" "
                     "font-size=\"12\"",
                  w, h, w, h);
    if (id) {
        qs_svg_printf(b, " id=\"");
        qs_svg_escape(b, id);
        qs_svg_printf(b, "\"");
    }
    qs_svg_printf(b, "><title>");
    qs_svg_escape(b, title ? title : "plot");
    qs_svg_printf(b, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
                     "<text x=\"%.1f\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
                  w / 2);
    qs_svg_escape(b, title ? title : "");
    qs_svg_printf(b, "</text>\n");
}

static void tick_label(qs_svg_buf *b, double x, double y, const char *anchor, double v)
{
    char s[32];
    qs_svg_format(v, s, sizeof s);
    qs_svg_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", x, y, anchor, s);
}

static void draw_x_ticks(qs_svg_plot *p, double x0, double x1, double y1)
{
    qs_svg_buf *b = p->out;
    if (p->x.n_cat) {
        /* Categorical labels, rotated; thinned so they never overlap (14 px apart). */
        size_t every = 1;
        while ((x1 - x0) / ((double)p->x.n_cat / every) < 14)
            every++;
        for (size_t i = 0; i < p->x.n_cat; i += every) {
            double x = qs_svg_px(p, p->x.cat_pos[i]);
            qs_svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, y1, x,
                          y1 + 4);
            qs_svg_printf(b, "<text transform=\"translate(%.1f,%.1f) rotate(-60)\" text-anchor=\"end\" "
                             "font-size=\"10\">",
                          x + 3, y1 + 8);
            qs_svg_escape(b, p->x.cat_labels[i]);
            qs_svg_printf(b, "</text>\n");
        }
        return;
    }
    double t[64];
    size_t n = ticks(&p->x, t, 64);
    for (size_t i = 0; i < n; i++) {
        double x = qs_svg_px(p, t[i]);
        qs_svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n", x, p->mt, x,
                      y1);
        qs_svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, y1, x,
                      y1 + 4);
        tick_label(b, x, y1 + 17, "middle", t[i]);
    }
}

static void draw_y_ticks(qs_svg_plot *p, double x0, double x1)
{
    qs_svg_buf *b = p->out;
    double t[64];
    size_t n = ticks(&p->y, t, 64);
    for (size_t i = 0; i < n; i++) {
        double y = qs_svg_py(p, t[i]);
        qs_svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n", x0, y, x1,
                      y);
        qs_svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0 - 4, y, x0,
                      y);
        tick_label(b, x0 - 7, y + 4, "end", t[i]);
    }
}

/* Width of legend entry i (marker, gap, text at ~6.8 px a character, spacing). */
static double legend_w(const qs_svg_plot *p, size_t i) { return 30 + 6.8 * (double)strlen(p->legend[i].label) + 16; }

/* Rows the legend needs when wrapped to the plot's width. */
static int legend_rows(const qs_svg_plot *p)
{
    int rows = p->n_legend ? 1 : 0;
    double x = p->ml;
    for (size_t i = 0; i < p->n_legend; i++) {
        if (x + legend_w(p, i) > p->width - p->mr && x > p->ml) {
            x = p->ml;
            rows++;
        }
        x += legend_w(p, i);
    }
    return rows;
}

void qs_svg_begin(qs_svg_plot *p)
{
    qs_svg_buf *b = p->out;
    if (legend_rows(p) > 1) /* legend entries are added before begin: make room for its rows */
        p->mt += 16.0 * (legend_rows(p) - 1);
    if (p->x.n_cat && p->mb < 104)
        p->mb = 104; /* room for the rotated labels */
    svg_open(b, p->width, p->height, p->id, p->title);
    double x0 = p->ml, x1 = p->width - p->mr, y0 = p->mt, y1 = p->height - p->mb;
    draw_x_ticks(p, x0, x1, y1);
    draw_y_ticks(p, x0, x1);
    qs_svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
                  x0, y0, x1 - x0, y1 - y0);
    qs_svg_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">", (x0 + x1) / 2,
                  p->height - 12);
    qs_svg_escape(b, p->x.label ? p->x.label : "");
    qs_svg_printf(b, "%s</text>\n", p->x.log ? " [log scale]" : "");
    qs_svg_printf(b, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">",
                  (y0 + y1) / 2);
    qs_svg_escape(b, p->y.label ? p->y.label : "");
    qs_svg_printf(b, "%s</text>\n", p->y.log ? " [log scale]" : "");
}

/* Marker of series colour c centred at (x, y): circle, square, triangle, diamond. */
static void marker_open(qs_svg_buf *b, int c, double x, double y, double r)
{
    switch (((c % 4) + 4) % 4) {
    case 0: qs_svg_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", x, y, r); break;
    case 1: qs_svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x - r, y - r, 2 * r, 2 * r); break;
    case 2:
        qs_svg_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x, y - r * 1.2, x + r * 1.1, y + r * 0.8,
                      x - r * 1.1, y + r * 0.8);
        break;
    default:
        qs_svg_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x, y - r * 1.3, x + r * 1.3, y, x,
                      y + r * 1.3, x - r * 1.3, y);
        break;
    }
}

void qs_svg_points(qs_svg_plot *p, int color, size_t n, const double *x, const double *y,
                   const int64_t *ids, const char *const *tips, const char *cls)
{
    qs_svg_buf *b = p->out;
    qs_svg_printf(b, "<g class=\"%s\" fill=\"%s\" fill-opacity=\"0.7\" stroke=\"%s\" stroke-width=\"0.6\">\n",
                  cls ? cls : "points", qs_svg_color(color), qs_svg_color(color));
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        marker_open(b, color, qs_svg_px(p, x[i]), qs_svg_py(p, y[i]), 3.2);
        if (ids)
            qs_svg_printf(b, " data-trial=\"%lld\"", (long long)ids[i]);
        qs_svg_printf(b, " data-x=\"%.17g\" data-y=\"%.17g\">", x[i], y[i]);
        if (tips && tips[i]) {
            qs_svg_printf(b, "<title>");
            qs_svg_escape(b, tips[i]);
            qs_svg_printf(b, "</title>");
        }
        /* Closing tag matches the marker element. */
        qs_svg_printf(b, "%s\n", (((color % 4) + 4) % 4) == 0 ? "</circle>" : (((color % 4) + 4) % 4) == 1 ? "</rect>" : "</path>");
    }
    qs_svg_printf(b, "</g>\n");
}

void qs_svg_line(qs_svg_plot *p, int color, size_t n, const double *x, const double *y, int step,
                 int dash, const char *cls)
{
    qs_svg_buf *b = p->out;
    int started = 0;
    qs_svg_printf(b, "<path class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"", cls ? cls : "line",
                  qs_svg_color(color), dash ? " stroke-dasharray=\"6 4\"" : "");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        double X = qs_svg_px(p, x[i]), Y = qs_svg_py(p, y[i]);
        if (!started)
            qs_svg_printf(b, "M%.1f %.1f", X, Y);
        else if (step)
            qs_svg_printf(b, "H%.1fV%.1f", X, Y);
        else
            qs_svg_printf(b, "L%.1f %.1f", X, Y);
        started = 1;
    }
    if (!started) /* an empty path is valid but say so */
        qs_svg_printf(b, "M0 0");
    qs_svg_printf(b, "\"/>\n");
}

void qs_svg_band(qs_svg_plot *p, int color, size_t n, const double *x, const double *ylo,
                 const double *yhi)
{
    qs_svg_buf *b = p->out;
    qs_svg_printf(b, "<path class=\"band\" fill=\"%s\" fill-opacity=\"0.22\" stroke=\"none\" d=\"", qs_svg_color(color));
    int started = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(yhi[i])) {
            qs_svg_printf(b, "%c%.1f %.1f", started ? 'L' : 'M', qs_svg_px(p, x[i]), qs_svg_py(p, yhi[i]));
            started = 1;
        }
    for (size_t i = n; i-- > 0;)
        if (isfinite(x[i]) && isfinite(ylo[i]) && started)
            qs_svg_printf(b, "L%.1f %.1f", qs_svg_px(p, x[i]), qs_svg_py(p, ylo[i]));
    qs_svg_printf(b, "%s\"/>\n", started ? "Z" : "M0 0");
}

void qs_svg_interval(qs_svg_plot *p, int color, double x, double lo, double hi)
{
    if (!isfinite(x) || !isfinite(lo) || !isfinite(hi))
        return;
    double X = qs_svg_px(p, x), a = qs_svg_py(p, lo), c = qs_svg_py(p, hi);
    qs_svg_printf(p->out, "<path class=\"interval\" stroke=\"%s\" stroke-width=\"1.5\" fill=\"none\" "
                          "data-lo=\"%.17g\" data-hi=\"%.17g\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\"/>\n",
                  qs_svg_color(color), lo, hi, X, a, c, X - 5, a, X + 5, X - 5, c, X + 5);
}

void qs_svg_mark(qs_svg_plot *p, double x, double y, int64_t id, const char *label)
{
    if (!isfinite(x) || !isfinite(y))
        return;
    double X = qs_svg_px(p, x), Y = qs_svg_py(p, y);
    qs_svg_printf(p->out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" stroke=\"#fff\" stroke-width=\"5\"/>\n",
                  X, Y); /* white halo: the ring stays visible over dense points */
    qs_svg_printf(p->out, "<circle class=\"chosen\" cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" stroke=\"#000\" "
                          "stroke-width=\"2.2\" data-trial=\"%lld\" data-x=\"%.17g\" data-y=\"%.17g\"/>\n",
                  X, Y, (long long)id, x, y);
    if (label) {
        /* Label on the side with more room, so it stays inside the plot area. */
        int left = X > (p->ml + p->width - p->mr) / 2;
        qs_svg_printf(p->out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-weight=\"bold\" "
                              "paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">",
                      left ? X - 11 : X + 11, Y < p->mt + 40 ? Y + 22 : Y - 11, left ? "end" : "start");
        qs_svg_escape(p->out, label);
        qs_svg_printf(p->out, "</text>\n");
    }
}

void qs_svg_note(qs_svg_plot *p, const char *text)
{
    /* Under the title, right-aligned: never on the data, the ticks or the axis titles. */
    qs_svg_printf(p->out, "<text class=\"note\" x=\"%.1f\" y=\"38\" text-anchor=\"end\" font-size=\"11\" "
                          "fill=\"#555\">",
                  p->width - p->mr);
    qs_svg_escape(p->out, text);
    qs_svg_printf(p->out, "</text>\n");
}

void qs_svg_end(qs_svg_plot *p)
{
    qs_svg_buf *b = p->out;
    double x = p->ml, y = 56;
    for (size_t i = 0; i < p->n_legend; i++) {
        double w = legend_w(p, i);
        if (x + w > p->width - p->mr && x > p->ml) {
            x = p->ml;
            y += 16;
        }
        const char *c = qs_svg_color(p->legend[i].color);
        switch (p->legend[i].kind) {
        case QS_SVG_KIND_POINT:
            qs_svg_printf(b, "<g fill=\"%s\" stroke=\"%s\">", c, c);
            marker_open(b, p->legend[i].color, x + 8, y - 4, 4);
            qs_svg_printf(b, "/></g>");
            break;
        case QS_SVG_KIND_LINE:
            qs_svg_printf(b, "<path d=\"M%.1f %.1fh20\" stroke=\"%s\" stroke-width=\"2\"/>", x - 2, y - 4, c);
            break;
        case QS_SVG_KIND_BAND:
            qs_svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"20\" height=\"10\" fill=\"%s\" fill-opacity=\"0.3\"/>",
                          x - 2, y - 9, c);
            break;
        case QS_SVG_KIND_MARK:
            qs_svg_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/>",
                          x + 8, y - 4);
            break;
        }
        qs_svg_printf(b, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">", x + 24, y);
        qs_svg_escape(b, p->legend[i].label);
        qs_svg_printf(b, "</text>\n");
        x += w;
    }
    qs_svg_printf(b, "</svg>\n");
}

/* ---- heat map ---- */

/* Viridis at 5 stops (perceptually uniform, readable with colour-vision deficiencies). */
static void seq_color(double t, char *out, size_t cap, int *dark)
{
    static const unsigned char stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double f = t * 4;
    int i = (int)f;
    if (i > 3)
        i = 3;
    f -= i;
    int rgb[3];
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f);
    snprintf(out, cap, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    *dark = t < 0.55;
}

void qs_svg_heatmap(qs_svg_buf *out, const char *title, const char *id, size_t rows, size_t cols,
                    const char *const *row_labels, const char *const *col_labels,
                    const double *values, const char *const *text, const char *value_label)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < rows * cols; i++)
        if (isfinite(values[i])) {
            lo = values[i] < lo ? values[i] : lo;
            hi = values[i] > hi ? values[i] : hi;
        }
    const double W = 800, ml = 150, mr = 20, mt = 40, cell_h = 22;
    double mb = 150; /* rotated column labels and the colour key */
    double cw = cols ? (W - ml - mr) / (double)cols : 0;
    double H = mt + cell_h * (double)rows + mb;
    svg_open(out, W, H, id, title);
    for (size_t r = 0; r < rows; r++) {
        double y = mt + cell_h * (double)r;
        qs_svg_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", ml - 6, y + cell_h / 2 + 4);
        qs_svg_escape(out, row_labels[r]);
        qs_svg_printf(out, "</text>\n");
        for (size_t c = 0; c < cols; c++) {
            double v = values[r * cols + c];
            char col[16] = "#f2f2f2";
            int dark = 0;
            if (isfinite(v))
                seq_color(hi > lo ? (v - lo) / (hi - lo) : 0.5, col, sizeof col, &dark);
            double x = ml + cw * (double)c;
            qs_svg_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"#fff\" "
                               "data-row=\"%zu\" data-col=\"%zu\" data-v=\"%.17g\"/>\n",
                          x, y, cw, cell_h, col, r, c, v);
            if (text && text[r * cols + c] && cw >= 14) {
                qs_svg_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%s\" fill=\"%s\">",
                              x + cw / 2, y + cell_h / 2 + 4, cw < 28 ? "9" : "11", dark ? "#fff" : "#000");
                qs_svg_escape(out, text[r * cols + c]);
                qs_svg_printf(out, "</text>\n");
            }
        }
    }
    double yb = mt + cell_h * (double)rows;
    for (size_t c = 0; c < cols; c++) {
        double x = ml + cw * ((double)c + 0.5);
        qs_svg_printf(out, "<text transform=\"translate(%.1f,%.1f) rotate(-45)\" text-anchor=\"end\" font-size=\"10\">",
                      x + 3, yb + 10);
        qs_svg_escape(out, col_labels[c]);
        qs_svg_printf(out, "</text>\n");
    }
    /* Colour key: a gradient of 10 steps from min to max, its title to the right. */
    double kx = ml, ky = H - 28;
    for (int k = 0; k < 10; k++) {
        char col[16];
        int dark;
        seq_color(k / 9.0, col, sizeof col, &dark);
        qs_svg_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"14\" fill=\"%s\"/>\n", kx + 24 * k, ky, col);
    }
    char a[32] = "n/a", z[32] = "n/a";
    if (lo <= hi) {
        qs_svg_format(lo, a, sizeof a);
        qs_svg_format(hi, z, sizeof z);
    }
    qs_svg_printf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                  kx, ky - 4, a, kx + 240, ky - 4, z);
    qs_svg_printf(out, "<text x=\"%.1f\" y=\"%.1f\">", kx + 252, ky + 11);
    qs_svg_escape(out, value_label ? value_label : "value");
    qs_svg_printf(out, "</text>\n");
    qs_svg_printf(out, "</svg>\n");
}
