/* plot.c: the plots of plot.h, drawn with cairo on an RGB24 image surface
 * and written with png.h's writer (the project's atomic PNG writer, so a
 * plot fails as every other picture does).  Layout is in pixels: each
 * panel gets a cell of the grid, and its margins are measured from the
 * text they hold (tick labels, title, axis labels, a legend beside the
 * axes when no corner inside them is free of data). */
#include "plot.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "png.h"

#define FONT "sans-serif"
#define PI 3.14159265358979323846
#define TICK_FONT 11.0
#define LABEL_FONT 12.0
#define TITLE_FONT 13.0
#define FIGURE_FONT 15.0
#define TICK_LEN 4.0
#define PAD 6.0
#define LEGEND_ROW 16.0
#define LEGEND_SWATCH 18.0
#define MAX_TICKS 64

typedef struct {
    double r, g, b;
} rgbf;

static const rgbf INK = {0.13, 0.13, 0.13}, FRAME = {0.27, 0.27, 0.27}, GRID = {0.9, 0.9, 0.9},
                  LEGEND_EDGE = {0.75, 0.75, 0.75};

static void set_color(cairo_t *cr, rgbf c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

static int finite2(double x, double y) { return isfinite(x) && isfinite(y); }

/* ------------------------------------------------------------- axes */

typedef struct {
    double lo, hi; /* the data values at the box's edges (log: the values, not their logs) */
    int log;
    int n;
    double ticks[MAX_TICKS];
    double step; /* linear ticks' spacing, for their labels' precision; 0 on decades */
} axis;

/* a value's position along the axis in [0, 1] (outside for values beyond) */
static double axis_frac(const axis *a, double v)
{
    if (a->log) return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    return (v - a->lo) / (a->hi - a->lo);
}

/* a value this axis can place: finite, and positive on a log axis */
static int placeable(const axis *a, double v) { return isfinite(v) && (!a->log || v > 0); }

static double nice_step(double span, int target)
{
    double raw = span / (target < 1 ? 1 : target);
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void linear_ticks(axis *a, double lo, double hi, int target, int integer)
{
    double step = nice_step(hi - lo, target);
    if (integer && step < 1) step = 1; /* epochs: no tick at 1.5 */
    double first = ceil(lo / step - 1e-9);
    a->n = 0;
    a->step = step;
    for (double k = first; a->n < MAX_TICKS; k++) {
        double v = k * step;
        if (v > hi + step * 1e-9) break;
        if (fabs(v) < step * 1e-9) v = 0;
        a->ticks[a->n++] = v;
    }
}

/* the axis's range from the data (plus 5% each side) or the limits given,
 * then its ticks: about one every spacing pixels along len */
static void make_axis(axis *a, double dlo, double dhi, const double lim[2], int log_scale, double len, double spacing,
                      int integer)
{
    a->log = log_scale;
    int target = (int)(len / spacing);
    target = target < 2 ? 2 : target > 10 ? 10 : target;
    if (isfinite(lim[0]) && isfinite(lim[1])) {
        a->lo = lim[0], a->hi = lim[1];
    } else {
        if (!(dlo <= dhi)) dlo = log_scale ? 1 : 0, dhi = log_scale ? 10 : 1;
        if (log_scale) {
            double l0 = log10(dlo), l1 = log10(dhi);
            if (l1 - l0 < 1e-9) l0 -= 0.5, l1 += 0.5;
            double m = (l1 - l0) * 0.05;
            a->lo = pow(10.0, l0 - m), a->hi = pow(10.0, l1 + m);
        } else {
            if (dhi - dlo <= fabs(dhi) * 1e-12) {
                /* a constant series: a band around it */
                double pad = dlo != 0 ? fabs(dlo) * 0.1 : 1;
                dlo -= pad, dhi += pad;
            }
            double m = (dhi - dlo) * 0.05;
            a->lo = dlo - m, a->hi = dhi + m;
        }
    }
    if (!log_scale) {
        linear_ticks(a, a->lo, a->hi, target, integer);
        return;
    }
    /* decades, every k-th when there are many; 1-2-5 within them when
     * there are too few decades to read values off */
    double l0 = log10(a->lo), l1 = log10(a->hi);
    int d0 = (int)ceil(l0 - 1e-9), d1 = (int)floor(l1 + 1e-9);
    a->n = 0;
    a->step = 0;
    if (d1 - d0 + 1 >= 3) {
        int every = (d1 - d0) / target + 1;
        for (int d = d0; d <= d1 && a->n < MAX_TICKS; d += every) a->ticks[a->n++] = pow(10.0, d);
        return;
    }
    static const double mult[3] = {1, 2, 5};
    for (int d = d0 - 1; d <= d1 && a->n < MAX_TICKS; d++)
        for (int m = 0; m < 3 && a->n < MAX_TICKS; m++) {
            double v = mult[m] * pow(10.0, d);
            if (v >= a->lo * (1 - 1e-9) && v <= a->hi * (1 + 1e-9)) a->ticks[a->n++] = v;
        }
    if (a->n < 2) linear_ticks(a, a->lo, a->hi, target, 0);
}

/* "0.02", "100", "0.00105", "1e-5": fixed notation with as many decimals
 * as the step needs while the axis's values are in [0.001, 1e5),
 * scientific otherwise; exponents without "+" and leading zeros */
static void tick_label(const axis *a, double v, char *buf, size_t size)
{
    double big = fmax(fabs(a->lo), fabs(a->hi));
    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    if (a->step > 0 && big < 1e5 && big >= 1e-3 && a->step >= 1e-6) {
        int decimals = (int)-floor(log10(a->step) + 1e-9);
        snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, v);
        return;
    }
    if (a->step == 0 && fabs(v) >= 1e-4 && fabs(v) < 1e5) {
        snprintf(buf, size, "%.6g", v);
        return;
    }
    int digits = a->step > 0 ? (int)(floor(log10(fabs(v))) - floor(log10(a->step))) : 0;
    digits = digits < 0 ? 0 : digits > 6 ? 6 : digits;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", digits, v);
    /* 1.50e+05 -> 1.50e5, 1e-05 -> 1e-5 */
    char *e = strchr(tmp, 'e');
    if (e) {
        char *src = e + 1, *dst = e + 1;
        if (*src == '+') src++;
        else if (*src == '-') *dst++ = *src++;
        while (*src == '0' && src[1]) src++;
        memmove(dst, src, strlen(src) + 1);
    }
    snprintf(buf, size, "%s", tmp);
}

/* ------------------------------------------------------------- text */

static double text_width(cairo_t *cr, const char *s, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* text with its anchor at (x, y): ax 0 left, 0.5 centre, 1 right; the
 * text's cap height is centred on y when mid, else y is its top */
static void draw_text(cairo_t *cr, const char *s, double x, double y, double size, int bold, double ax, int mid, rgbf c)
{
    double w = text_width(cr, s, size, bold);
    double cap = size * 0.72; /* sans-serif capitals are about 0.72 em */
    set_color(cr, c);
    cairo_move_to(cr, x - ax * w, mid ? y + cap / 2 : y + cap);
    cairo_show_text(cr, s);
}

/* text reading bottom to top, centred on (x, y), its top at x */
static void draw_vertical(cairo_t *cr, const char *s, double x, double y, double size, rgbf c)
{
    double w = text_width(cr, s, size, 0);
    cairo_save(cr);
    cairo_translate(cr, x + size * 0.8, y + w / 2);
    cairo_rotate(cr, -PI / 2);
    set_color(cr, c);
    cairo_move_to(cr, 0, 0);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

/* ------------------------------------------------------------- clipping */

/* Liang-Barsky: trims the segment to the box; false when none of it is
 * inside.  Done in doubles before cairo sees a coordinate, since cairo's
 * 24.8 fixed point would wrap a point 1e30 pixels away. */
static int clip_segment(double *x0, double *y0, double *x1, double *y1, const double box[4])
{
    double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {*x0 - box[0], box[2] - *x0, *y0 - box[1], box[3] - *y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1) return 0;
            if (t > t0) t0 = t;
        } else {
            if (t < t0) return 0;
            if (t < t1) t1 = t;
        }
    }
    double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy, bx = *x0 + t1 * dx, by = *y0 + t1 * dy;
    *x0 = ax, *y0 = ay, *x1 = bx, *y1 = by;
    return isfinite(ax) && isfinite(ay) && isfinite(bx) && isfinite(by);
}

/* ------------------------------------------------------------- panels */

typedef struct {
    axis xa, ya;
    double box[4]; /* x0, y0, x1, y1 */
} frame;

static void to_px(const frame *f, double x, double y, double *px, double *py)
{
    *px = f->box[0] + axis_frac(&f->xa, x) * (f->box[2] - f->box[0]);
    *py = f->box[3] - axis_frac(&f->ya, y) * (f->box[3] - f->box[1]);
}

static int point_ok(const frame *f, const ae_plot_series *s, int j)
{
    return placeable(&f->xa, s->x[j]) && placeable(&f->ya, s->y[j]);
}

static double line_width(const ae_plot_series *s) { return s->size > 0 ? s->size : 2.0; }
static double marker_radius(const ae_plot_series *s)
{
    if (s->style == AE_PLOT_POINTS) return s->size > 0 ? s->size : 2.5;
    return line_width(s) * 1.5;
}

/* Calls seg(a, b) for each drawn segment and dot(p) for each point drawn
 * as a marker (either may be NULL), in pixels: a line joins neighbours
 * that are both placeable; a point alone between gaps is a marker. */
typedef void (*seg_fn)(void *ctx, double x0, double y0, double x1, double y1, int joined);
typedef void (*dot_fn)(void *ctx, double x, double y);

static void walk(const frame *f, const ae_plot_series *s, void *ctx, seg_fn seg, dot_fn dot)
{
    for (int j = 0; j < s->n; j++) {
        if (!point_ok(f, s, j)) continue;
        double x, y;
        to_px(f, s->x[j], s->y[j], &x, &y);
        if (s->style == AE_PLOT_POINTS) {
            if (dot) dot(ctx, x, y);
            continue;
        }
        int prev = j > 0 && point_ok(f, s, j - 1), next = j + 1 < s->n && point_ok(f, s, j + 1);
        if (!prev && !next && dot) dot(ctx, x, y);
        if (next && seg) {
            double x1, y1;
            to_px(f, s->x[j + 1], s->y[j + 1], &x1, &y1);
            seg(ctx, x, y, x1, y1, prev);
        }
    }
}

/* counting what a rectangle would hide, for the legend's place */
typedef struct {
    double r[4];
    double pad;
    int hits;
} hit_ctx;

static void hit_seg(void *c, double x0, double y0, double x1, double y1, int joined)
{
    (void)joined;
    hit_ctx *h = c;
    double box[4] = {h->r[0] - h->pad, h->r[1] - h->pad, h->r[2] + h->pad, h->r[3] + h->pad};
    if (clip_segment(&x0, &y0, &x1, &y1, box)) h->hits++;
}

static void hit_dot(void *c, double x, double y)
{
    hit_ctx *h = c;
    if (x >= h->r[0] - h->pad && x <= h->r[2] + h->pad && y >= h->r[1] - h->pad && y <= h->r[3] + h->pad) h->hits++;
}

/* drawing, with segments trimmed to a box a little larger than the axes
 * (cairo's clip does the exact edge) */
typedef struct {
    cairo_t *cr;
    double ext[4];
    double pen_x, pen_y;
    int pen;
    double radius;
} draw_ctx;

static void draw_seg(void *c, double x0, double y0, double x1, double y1, int joined)
{
    draw_ctx *d = c;
    double ox1 = x1, oy1 = y1;
    if (!clip_segment(&x0, &y0, &x1, &y1, d->ext)) {
        d->pen = 0;
        return;
    }
    /* continue the path when this segment starts where the last ended,
     * so joins are round rather than two overlapping caps */
    if (!(joined && d->pen && x0 == d->pen_x && y0 == d->pen_y)) cairo_move_to(d->cr, x0, y0);
    cairo_line_to(d->cr, x1, y1);
    d->pen = x1 == ox1 && y1 == oy1;
    d->pen_x = x1, d->pen_y = y1;
}

static void draw_dot(void *c, double x, double y)
{
    draw_ctx *d = c;
    if (x < d->ext[0] || x > d->ext[2] || y < d->ext[1] || y > d->ext[3]) return;
    cairo_new_sub_path(d->cr);
    cairo_arc(d->cr, x, y, d->radius, 0, 2 * PI);
    cairo_close_path(d->cr);
    d->pen = 0;
}

/* the finite data's bounds, and whether every x is a whole number */
static int data_range(const ae_plot_panel *p, int log_y, double *xlo, double *xhi, double *ylo, double *yhi)
{
    int whole = 1;
    *xlo = *ylo = INFINITY, *xhi = *yhi = -INFINITY;
    for (int i = 0; i < p->n_series; i++) {
        const ae_plot_series *s = &p->series[i];
        for (int j = 0; j < s->n; j++) {
            double x = s->x[j], y = s->y[j];
            if (!finite2(x, y) || (log_y && y <= 0)) continue;
            *xlo = fmin(*xlo, x), *xhi = fmax(*xhi, x);
            *ylo = fmin(*ylo, y), *yhi = fmax(*yhi, y);
            whole = whole && x == floor(x);
        }
    }
    return whole;
}

static int named(const ae_plot_series *s) { return s->name && s->name[0]; }

/* the legend's size in pixels; 0×0 when no series is named */
static void legend_size(cairo_t *cr, const ae_plot_panel *p, double *w, double *h)
{
    double tw = 0;
    int rows = 0;
    for (int i = 0; i < p->n_series; i++) {
        if (!named(&p->series[i])) continue;
        tw = fmax(tw, text_width(cr, p->series[i].name, TICK_FONT, 0));
        rows++;
    }
    *w = rows ? tw + LEGEND_SWATCH + 3 * PAD : 0;
    *h = rows ? rows * LEGEND_ROW + PAD : 0;
}

/* lays out the panel in its cell with right_extra pixels kept on the
 * right (for a legend beside the axes) */
static void layout(cairo_t *cr, const ae_plot_panel *p, const double cell[4], double right_extra, frame *f)
{
    double xlo, xhi, ylo, yhi;
    int whole = data_range(p, p->log_y, &xlo, &xhi, &ylo, &yhi);
    double top = cell[1] + (p->title ? TITLE_FONT + 2 * PAD : PAD * 2);
    double bottom = cell[3] - (TICK_LEN + 3 + TICK_FONT + PAD + (p->xlabel ? LABEL_FONT + PAD : 0));
    make_axis(&f->ya, ylo, yhi, p->ylim, p->log_y, bottom - top, 40, 0);
    double lw = 0;
    char buf[64];
    for (int i = 0; i < f->ya.n; i++) {
        tick_label(&f->ya, f->ya.ticks[i], buf, sizeof buf);
        lw = fmax(lw, text_width(cr, buf, TICK_FONT, 0));
    }
    double left = cell[0] + PAD + (p->ylabel ? LABEL_FONT + PAD : 0) + lw + TICK_LEN + 3;
    double right = cell[2] - 2 * PAD - right_extra;
    if (right - left < 20) right = left + 20;
    if (bottom - top < 20) bottom = top + 20;
    make_axis(&f->xa, xlo, xhi, p->xlim, 0, right - left, 70, whole && xlo <= xhi);
    f->box[0] = floor(left) + 0.5, f->box[1] = floor(top) + 0.5;
    f->box[2] = floor(right) + 0.5, f->box[3] = floor(bottom) + 0.5;
}

static int legend_hits(const frame *f, const ae_plot_panel *p, const double r[4])
{
    hit_ctx h = {{r[0], r[1], r[2], r[3]}, 3, 0};
    for (int i = 0; i < p->n_series; i++) {
        h.pad = 3 + (p->series[i].style == AE_PLOT_POINTS ? marker_radius(&p->series[i]) : line_width(&p->series[i]));
        walk(f, &p->series[i], &h, hit_seg, hit_dot);
    }
    return h.hits;
}

/* does any segment of the series get drawn (else its swatch is a dot)? */
static int has_segment(const frame *f, const ae_plot_series *s)
{
    if (s->style == AE_PLOT_POINTS) return 0;
    for (int j = 0; j + 1 < s->n; j++)
        if (point_ok(f, s, j) && point_ok(f, s, j + 1)) return 1;
    return 0;
}

static void draw_legend(cairo_t *cr, const frame *f, const ae_plot_panel *p, double x, double y, double w, double h)
{
    cairo_rectangle(cr, floor(x) + 0.5, floor(y) + 0.5, floor(w), floor(h));
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    set_color(cr, LEGEND_EDGE);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double ty = y + PAD / 2 + LEGEND_ROW / 2;
    for (int i = 0; i < p->n_series; i++) {
        const ae_plot_series *s = &p->series[i];
        if (!named(s)) continue;
        cairo_set_source_rgb(cr, s->rgb[0] / 255.0, s->rgb[1] / 255.0, s->rgb[2] / 255.0);
        if (!has_segment(f, s)) {
            cairo_arc(cr, x + PAD + LEGEND_SWATCH / 2, ty, marker_radius(s), 0, 2 * PI);
            cairo_fill(cr);
        } else {
            cairo_set_line_width(cr, line_width(s));
            cairo_move_to(cr, x + PAD, ty);
            cairo_line_to(cr, x + PAD + LEGEND_SWATCH, ty);
            cairo_stroke(cr);
        }
        draw_text(cr, s->name, x + 2 * PAD + LEGEND_SWATCH, ty, TICK_FONT, 0, 0, 1, INK);
        ty += LEGEND_ROW;
    }
}

static void draw_panel(cairo_t *cr, ae_plot_panel *p, const double cell[4])
{
    frame f;
    double lw, lh;
    legend_size(cr, p, &lw, &lh);
    int legend = p->legend && lw > 0;
    layout(cr, p, cell, 0, &f);
    double lx = 0, ly = 0;
    if (legend) {
        /* the first place inside the axes that hides nothing: the
         * corners, then the middles of the sides, then the centre (as
         * matplotlib's "best"); else beside the axes */
        double in = 6, L = f.box[0] + in, R = f.box[2] - in - lw, T = f.box[1] + in, B = f.box[3] - in - lh;
        double MX = (f.box[0] + f.box[2] - lw) / 2, MY = (f.box[1] + f.box[3] - lh) / 2;
        double xs[9] = {R, L, R, L, R, L, MX, MX, MX};
        double ys[9] = {T, T, B, B, MY, MY, T, B, MY};
        int best = -1;
        if (lw + 2 * in < f.box[2] - f.box[0] && lh + 2 * in < f.box[3] - f.box[1])
            for (int k = 0; k < 9 && best < 0; k++) {
                double r[4] = {xs[k], ys[k], xs[k] + lw, ys[k] + lh};
                if (legend_hits(&f, p, r) == 0) best = k;
            }
        if (best >= 0) {
            lx = xs[best], ly = ys[best];
        } else {
            layout(cr, p, cell, lw + PAD, &f);
            lx = f.box[2] + PAD + 2, ly = f.box[1];
        }
    }
    double *b = f.box;
    /* grid and ticks */
    char buf[64];
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < f.xa.n; i++) {
        double x = floor(b[0] + axis_frac(&f.xa, f.xa.ticks[i]) * (b[2] - b[0])) + 0.5;
        set_color(cr, GRID);
        cairo_move_to(cr, x, b[1]);
        cairo_line_to(cr, x, b[3]);
        cairo_stroke(cr);
        set_color(cr, FRAME);
        cairo_move_to(cr, x, b[3]);
        cairo_line_to(cr, x, b[3] + TICK_LEN);
        cairo_stroke(cr);
        tick_label(&f.xa, f.xa.ticks[i], buf, sizeof buf);
        draw_text(cr, buf, x, b[3] + TICK_LEN + 3, TICK_FONT, 0, 0.5, 0, INK);
    }
    for (int i = 0; i < f.ya.n; i++) {
        double y = floor(b[3] - axis_frac(&f.ya, f.ya.ticks[i]) * (b[3] - b[1])) + 0.5;
        set_color(cr, GRID);
        cairo_move_to(cr, b[0], y);
        cairo_line_to(cr, b[2], y);
        cairo_stroke(cr);
        set_color(cr, FRAME);
        cairo_move_to(cr, b[0] - TICK_LEN, y);
        cairo_line_to(cr, b[0], y);
        cairo_stroke(cr);
        tick_label(&f.ya, f.ya.ticks[i], buf, sizeof buf);
        draw_text(cr, buf, b[0] - TICK_LEN - 3, y, TICK_FONT, 0, 1, 1, INK);
    }
    /* the data, clipped to the axes: a line series' segments stroked,
     * then its lone points (and a points series' markers) filled */
    cairo_save(cr);
    cairo_rectangle(cr, b[0], b[1], b[2] - b[0], b[3] - b[1]);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int i = 0; i < p->n_series; i++) {
        const ae_plot_series *s = &p->series[i];
        double m = marker_radius(s) + line_width(s) + 2;
        draw_ctx d = {cr, {b[0] - m, b[1] - m, b[2] + m, b[3] + m}, 0, 0, 0, marker_radius(s)};
        cairo_set_source_rgb(cr, s->rgb[0] / 255.0, s->rgb[1] / 255.0, s->rgb[2] / 255.0);
        cairo_set_line_width(cr, line_width(s));
        cairo_new_path(cr);
        if (s->style == AE_PLOT_LINE) {
            walk(&f, s, &d, draw_seg, NULL);
            cairo_stroke(cr);
        }
        walk(&f, s, &d, NULL, draw_dot);
        cairo_fill(cr);
    }
    cairo_restore(cr);
    /* frame */
    set_color(cr, FRAME);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, b[0], b[1], b[2] - b[0], b[3] - b[1]);
    cairo_stroke(cr);
    if (p->title) draw_text(cr, p->title, (b[0] + b[2]) / 2, cell[1] + PAD, TITLE_FONT, 1, 0.5, 0, INK);
    if (p->xlabel)
        draw_text(cr, p->xlabel, (b[0] + b[2]) / 2, b[3] + TICK_LEN + 3 + TICK_FONT + PAD, LABEL_FONT, 0, 0.5, 0, INK);
    if (p->ylabel) draw_vertical(cr, p->ylabel, cell[0] + PAD - 2, (b[1] + b[3]) / 2, LABEL_FONT, INK);
    if (legend) draw_legend(cr, &f, p, lx, ly, lw, lh);
    memcpy(p->box, b, sizeof p->box);
    p->xrange[0] = f.xa.lo, p->xrange[1] = f.xa.hi;
    p->yrange[0] = f.ya.lo, p->yrange[1] = f.ya.hi;
}

/* cairo keeps its fonts (and fontconfig's patterns behind them) cached
 * for the life of the process; handing them back at exit keeps a leak
 * checker's report (make test-asan, make valgrind) to real leaks.  Run
 * once, from the first plot; glibc runs it at dlclose when aerun.so is
 * unloaded first. */
static void release_fonts(void) { cairo_debug_reset_static_data(); }

uint8_t *ae_plot_render(ae_plot *p)
{
    static int registered;
    if (!registered) registered = atexit(release_fonts) == 0;
    if (p->width < 16 || p->height < 16 || p->width > 16384 || p->height > 16384)
        return ae_fail("plot: size %d×%d is out of range (16 to 16384 a side)", p->width, p->height);
    if (p->n_panels < 1) return ae_fail("plot: no panels to draw");
    int cols = p->cols > 0 ? p->cols : (int)ceil(sqrt((double)p->n_panels) - 1e-9);
    if (cols > p->n_panels) cols = p->n_panels;
    int rows = (p->n_panels + cols - 1) / cols;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, p->width, p->height);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return ae_fail("plot: cairo cannot make a %d×%d picture: %s", p->width, p->height,
                       cairo_status_to_string(cairo_surface_status(surface)));
    }
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double top = 0;
    if (p->title) {
        draw_text(cr, p->title, p->width / 2.0, PAD, FIGURE_FONT, 1, 0.5, 0, INK);
        top = FIGURE_FONT + 2 * PAD;
    }
    double cw = (double)p->width / cols, ch = (p->height - top) / rows;
    for (int i = 0; i < p->n_panels; i++) {
        int r = i / cols, c = i % cols;
        double cell[4] = {c * cw, top + r * ch, (c + 1) * cw, top + (r + 1) * ch};
        draw_panel(cr, &p->panels[i], cell);
    }
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    uint8_t *out = NULL;
    if (st == CAIRO_STATUS_SUCCESS) {
        out = malloc((size_t)p->width * (size_t)p->height * 3);
        if (!out) ae_fail("plot: out of memory for %d×%d pixels", p->width, p->height);
    } else {
        ae_fail("plot: cairo failed: %s", cairo_status_to_string(st));
    }
    if (out) {
        const unsigned char *data = cairo_image_surface_get_data(surface);
        int stride = cairo_image_surface_get_stride(surface);
        for (int y = 0; y < p->height; y++) {
            const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
            uint8_t *o = out + (size_t)y * (size_t)p->width * 3;
            for (int x = 0; x < p->width; x++) {
                uint32_t v = row[x]; /* 0x00RRGGBB in native order */
                o[3 * x] = (uint8_t)(v >> 16), o[3 * x + 1] = (uint8_t)(v >> 8), o[3 * x + 2] = (uint8_t)v;
            }
        }
    }
    cairo_surface_destroy(surface);
    return out;
}

int ae_plot_write(const char *path, ae_plot *p)
{
    uint8_t *px = ae_plot_render(p);
    if (!px) return -1;
    int rc = ae_png_write(path, px, p->width, p->height, 3);
    free(px);
    return rc;
}
