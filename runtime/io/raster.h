/* raster.h: an 8-bit canvas to lay pictures out on before they become
 * PNG files: image grids (float tensors blitted into tiles, with
 * rectangles of padding).  Plots (curves, scatter plots, text) are drawn
 * with cairo instead, by plot.h.  Coordinates are pixels from the
 * top-left corner, x to the right and y down; drawing outside the canvas
 * is clipped, never an error.  Colours are RGB triples; a grayscale
 * canvas takes their luma. */
#ifndef AE_RASTER_H
#define AE_RASTER_H

#include <stdint.h>

#include "core/tensor.h"

typedef struct {
    int width, height, channels; /* channels: 1 gray, 3 RGB */
    uint8_t *pixels;             /* rows top to bottom, channels interleaved */
    int clip[4];                 /* x0, y0, x1, y1: drawing stays inside */
} ae_canvas;

/* NULL with ae_error() set for a bad size or no memory */
ae_canvas *ae_canvas_new(int width, int height, int channels, const uint8_t background[3]);
void ae_canvas_free(ae_canvas *c);
int ae_canvas_save(const ae_canvas *c, const char *path);

/* limits every later drawing call (blit included) to x0 <= x < x1,
 * y0 <= y < y1, intersected with the canvas */
void ae_canvas_clip(ae_canvas *c, int x0, int y0, int x1, int y1);
void ae_canvas_unclip(ae_canvas *c);

/* filled rectangle covering x0 <= x < x1, y0 <= y < y1 */
void ae_canvas_rect(ae_canvas *c, int x0, int y0, int x1, int y1, const uint8_t color[3]);

/* Copies an image (H×W, or C×H×W with C 1 or 3) with its top-left at
 * (x, y), mapping [lo, hi] to 0..255 and clipping outside it: byte =
 * ⌊255·clamp((v - lo)/(hi - lo), 0, 1) + ½⌋, torchvision's rounding.  A
 * gray image on an RGB canvas is repeated in the three channels; an RGB
 * image on a gray canvas is an error. */
int ae_canvas_blit(ae_canvas *c, ae_tensor *img, int x, int y, float lo, float hi);

#endif
