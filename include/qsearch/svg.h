/* Small SVG plotting for the HTML report (docs/report.md): a growable text
 * buffer, axes with titled labels and readable ticks (linear or log), scatter
 * points carrying their exact values as data attributes, lines, step lines,
 * quartile bands, a heat map and a legend, in the Okabe-Ito colour-blind-safe
 * palette. Output is well-formed XML (every text is escaped), meant to be
 * inlined in HTML or written as a standalone .svg file.
 *
 * Use: qs_svg_plot_init, qs_svg_axis_fit (x and y), qs_svg_begin, then
 * qs_svg_points/line/band/mark, then qs_svg_end. Allocation failures are
 * sticky in the buffer (oom) and reported once by the caller. */
#ifndef QSEARCH_SVG_H
#define QSEARCH_SVG_H

#include <stddef.h>
#include <stdint.h>

/* Growable text buffer; s is NUL-terminated whenever len > 0. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom; /* 1 after an allocation failed: the content is incomplete */
} qs_svg_buf;

void qs_svg_buf_init(qs_svg_buf *b);
void qs_svg_buf_free(qs_svg_buf *b);
/* Appends printf-style text (not escaped). */
void qs_svg_printf(qs_svg_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s with &, <, >, " and ' escaped (control characters dropped). */
void qs_svg_escape(qs_svg_buf *b, const char *s);
/* Appends n bytes verbatim. */
void qs_svg_append(qs_svg_buf *b, const char *s, size_t n);

/* Number of palette colours; colours repeat after that. */
#define QS_SVG_N_COLORS 8
/* Okabe-Ito colour of series i ("#0072B2", ...). */
const char *qs_svg_color(int i);

/* Short human form of a number with an SI suffix: 1.5k, 2M, 250n, 0.93. */
void qs_svg_format(double v, char *out, size_t cap);

typedef struct {
    int log;            /* 1: logarithmic (base 10) */
    double lo, hi;      /* visible range (data units) */
    const char *label;  /* axis title with unit, e.g. "latency (ns)" */
    /* Optional categorical ticks (replace numeric ticks): positions in data units. */
    size_t n_cat;
    const double *cat_pos;          /* [n_cat] */
    const char *const *cat_labels;  /* [n_cat] */
} qs_svg_axis;

/* Fits a->lo/hi around the finite values v[n] (with a small margin); picks a log
 * scale when allow_log, all values are > 0 and they span at least two decades.
 * With no finite value the range is [0, 1]. */
void qs_svg_axis_fit(qs_svg_axis *a, const double *v, size_t n, int allow_log);
/* Widens a->lo/hi to include x (before qs_svg_begin). */
void qs_svg_axis_include(qs_svg_axis *a, double x);

typedef enum { QS_SVG_KIND_POINT, QS_SVG_KIND_LINE, QS_SVG_KIND_BAND, QS_SVG_KIND_MARK } qs_svg_kind;

#define QS_SVG_MAX_LEGEND 12

typedef struct {
    qs_svg_buf *out;             /* borrowed */
    double width, height;        /* pixels; default 800 x 440 */
    double ml, mr, mt, mb;       /* margins around the plot area */
    const char *title;
    const char *id;              /* id attribute of the <svg> (may be NULL) */
    qs_svg_axis x, y;
    size_t n_legend;
    struct {
        qs_svg_kind kind;
        int color;
        char label[80];
    } legend[QS_SVG_MAX_LEGEND];
} qs_svg_plot;

/* Defaults: 800 x 440, margins for tick labels and axis titles. out is borrowed. */
void qs_svg_plot_init(qs_svg_plot *p, qs_svg_buf *out, const char *title, const char *xlabel,
                      const char *ylabel);
/* Adds a legend entry (drawn by qs_svg_end in a row under the title). */
void qs_svg_legend(qs_svg_plot *p, qs_svg_kind kind, int color, const char *label);

/* Pixel coordinates of a data value (clamped to the plot area; log of <= 0 goes to the edge). */
double qs_svg_px(const qs_svg_plot *p, double x);
double qs_svg_py(const qs_svg_plot *p, double y);

/* Writes <svg>, the title, the frame, grid, ticks and axis titles. */
void qs_svg_begin(qs_svg_plot *p);
/* Scatter points in colour (marker shape follows the colour index). Each point is
 * a <circle>/<path> with data-trial (ids[i], when ids), data-x, data-y (%.17g) and
 * a <title> tooltip (tips[i] when tips, else the values). Non-finite points are skipped. */
void qs_svg_points(qs_svg_plot *p, int color, size_t n, const double *x, const double *y,
                   const int64_t *ids, const char *const *tips, const char *cls);
/* Polyline through the finite points (step: horizontal-then-vertical), dashed when dash. */
void qs_svg_line(qs_svg_plot *p, int color, size_t n, const double *x, const double *y, int step,
                 int dash, const char *cls);
/* Filled band between ylo[i] and yhi[i] (translucent). */
void qs_svg_band(qs_svg_plot *p, int color, size_t n, const double *x, const double *ylo,
                 const double *yhi);
/* Vertical interval (error bar) at x from lo to hi with caps. */
void qs_svg_interval(qs_svg_plot *p, int color, double x, double lo, double hi);
/* A highlighted ring with a short label (e.g. the chosen configuration). */
void qs_svg_mark(qs_svg_plot *p, double x, double y, int64_t id, const char *label);
/* A note in the plot area (e.g. "showing 4000 of 64000 trials"). */
void qs_svg_note(qs_svg_plot *p, const char *text);
/* Writes the legend and closes </svg>. */
void qs_svg_end(qs_svg_plot *p);

/* A complete heat map: rows x cols cells, values[r * cols + c] (NAN: empty)
 * coloured on a sequential colour-blind-safe scale between the finite min and
 * max, text[r * cols + c] written in the cell (may be NULL), row and column
 * labels, and a colour key titled value_label. Cells carry data-row, data-col
 * and data-v. Width 800, height grows with rows. */
void qs_svg_heatmap(qs_svg_buf *out, const char *title, const char *id, size_t rows, size_t cols,
                    const char *const *row_labels, const char *const *col_labels,
                    const double *values, const char *const *text, const char *value_label);

#endif
