/* png.h: reading and writing PNG files through libpng.
 * libpng reports errors by longjmp; these functions catch every one of
 * them and return through the core's error channel (error.h) instead,
 * with the file's name in the message and nothing left allocated. */
#ifndef AE_PNG_H
#define AE_PNG_H

#include <stdint.h>

#include "core/tensor.h"

/* Writes 8-bit pixels (rows top to bottom, channels interleaved: 1 for
 * grayscale, 3 for RGB) to path.  The file is written beside the target
 * under a temporary name and renamed into place, so a failure or a crash
 * never leaves half a picture at path.  0, or -1 with ae_error() set. */
int ae_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels);

/* Reads a PNG as a C×H×W float tensor with values in [0, 1]: C = 1 for
 * grayscale, 3 for colour.  Any bit depth or palette is converted to 8-bit
 * gray or RGB first; an alpha channel is dropped. */
ae_tensor *ae_png_read(const char *path);

#endif
