/* plot.h: line and scatter plots as PNG files, drawn with cairo
 * (anti-aliased lines, real text through cairo's toy font API and
 * fontconfig's "sans-serif").  A plot is a grid of panels; a panel has a
 * title, axis labels, "nice" ticks (1, 2 or 5 times a power of ten, or
 * decades on a log axis), a light grid and a legend placed where it hides
 * no data (inside a corner of the axes when one is free, else beside
 * them).  Points with a non-finite x or y (and y <= 0 on a log axis) are
 * skipped and break a line; a point with no drawn neighbour is drawn as a
 * marker, so a one-point series shows.  Pixels are from the top-left
 * corner, x right and y down.  The file is written by png.h's writer
 * (RGB, beside the target then renamed into place). */
#ifndef AE_PLOT_H
#define AE_PLOT_H

#include <stdint.h>

typedef enum { AE_PLOT_LINE, AE_PLOT_POINTS } ae_plot_style;

typedef struct {
    const char *name; /* the legend's entry; NULL or "" for none */
    const double *x, *y;
    int n;
    uint8_t rgb[3];
    ae_plot_style style;
    double size; /* line width or marker radius in pixels; <= 0: 2 for a line, 2.5 for points */
} ae_plot_series;

typedef struct {
    const char *title, *xlabel, *ylabel; /* each may be NULL */
    int log_y;                           /* log10 y axis */
    int legend;                          /* 0: none; else one entry per named series */
    double xlim[2], ylim[2];             /* exact limits, or NaN for the data's range plus 5% */
    const ae_plot_series *series;
    int n_series;
    /* set by ae_plot_render: the axes box (left, top, right, bottom, in
     * cairo's coordinates, where pixel (i, j) covers [i, i+1)×[j, j+1))
     * and the data values at its edges (left, right; bottom, top), so
     * callers and tests can map data to pixels: x at box[0] + (x - xrange[0])
     * / (xrange[1] - xrange[0]) · (box[2] - box[0]), y likewise from
     * box[3] upwards (in log10 on a log axis) */
    double box[4], xrange[2], yrange[2];
} ae_plot_panel;

typedef struct {
    int width, height; /* 16..16384 each */
    int cols;          /* panels per row; 0: ⌈√n⌉ */
    const char *title; /* over the whole grid, or NULL */
    ae_plot_panel *panels;
    int n_panels;
} ae_plot;

/* Draws the plot into an RGB buffer (rows top to bottom, 3 bytes a pixel;
 * the caller frees it) and fills each panel's box and ranges.
 * NULL with ae_error() set for a bad size, no memory or a cairo failure. */
uint8_t *ae_plot_render(ae_plot *p);

/* ae_plot_render, then the PNG at path; 0, or -1 with ae_error() set */
int ae_plot_write(const char *path, ae_plot *p);

#endif
