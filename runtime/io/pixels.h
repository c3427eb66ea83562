/* pixels.h: a decoded picture as the file readers (png.h, jpeg.h) hand it
 * over, before it becomes a float tensor: integer samples at the file's
 * own depth, so that 16-bit files keep their precision and conversions
 * between gray and RGB can follow Pillow's integer arithmetic. */
#ifndef AE_PIXELS_H
#define AE_PIXELS_H

#include <stdint.h>

typedef struct {
    int width, height;
    int channels;  /* 1 gray, 3 RGB: interleaved, rows top to bottom */
    int depth;     /* bits per sample: 8 (uint8_t) or 16 (uint16_t, host order) */
    int colour;    /* the file stores colour (RGB, palette, YCbCr), not gray */
    void *samples; /* malloc'd; NULL after a header-only read */
} ae_pixels;

/* the most pixels one picture may have (2^28, e.g. 16384×16384): a header
 * that claims more is refused before anything is allocated */
#define AE_PIXELS_MAX ((int64_t)1 << 28)

#endif
