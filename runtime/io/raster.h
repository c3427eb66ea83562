/* raster.h: an 8-bit canvas to draw pictures on before they become PNG
 * files: image grids (float tensors blitted into tiles), scatter plots
 * and loss curves (lines, discs, rectangles and text in a built-in 5×7
 * bitmap font).  Coordinates are pixels from the top-left corner, x to
 * the right and y down; drawing outside the canvas is clipped, never an
 * error.  Colours are RGB triples; a grayscale canvas takes their luma. */
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
 * y0 <= y < y1, intersected with the canvas; a plot draws its curves
 * clipped to the axes box this way */
void ae_canvas_clip(ae_canvas *c, int x0, int y0, int x1, int y1);
void ae_canvas_unclip(ae_canvas *c);

/* filled rectangle covering x0 <= x < x1, y0 <= y < y1 */
void ae_canvas_rect(ae_canvas *c, int x0, int y0, int x1, int y1, const uint8_t color[3]);
/* a line width pixels thick; non-finite ends draw nothing */
void ae_canvas_line(ae_canvas *c, double x0, double y0, double x1, double y1, const uint8_t color[3], int width);
void ae_canvas_disc(ae_canvas *c, double cx, double cy, double radius, const uint8_t color[3]);

/* The font: printable ASCII, 5×7 cells advancing 6 pixels, each pixel
 * drawn as a scale×scale square.  (x, y) is the top-left of the first
 * cell; vertical text reads bottom to top with (x, y) its bottom-left.
 * Bytes outside printable ASCII draw as '?', one per UTF-8 character.
 * Returns the advance in pixels, what ae_text_width gives. */
#define AE_FONT_W 5
#define AE_FONT_H 7
#define AE_FONT_ADVANCE 6
int ae_canvas_text(ae_canvas *c, int x, int y, const char *s, const uint8_t color[3], int scale, int vertical);
int ae_text_width(const char *s, int scale);

/* Copies an image (H×W, or C×H×W with C 1 or 3) with its top-left at
 * (x, y), mapping [lo, hi] to 0..255 and clipping outside it: byte =
 * ⌊255·clamp((v - lo)/(hi - lo), 0, 1) + ½⌋, torchvision's rounding.  A
 * gray image on an RGB canvas is repeated in the three channels; an RGB
 * image on a gray canvas is an error. */
int ae_canvas_blit(ae_canvas *c, ae_tensor *img, int x, int y, float lo, float hi);

#endif
