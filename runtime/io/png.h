/* png.h: reading and writing PNG files through libpng.
 * libpng reports errors by longjmp; these functions catch every one of
 * them and return through the core's error channel (error.h) instead,
 * with the file's name in the message and nothing left allocated. */
#ifndef AE_PNG_H
#define AE_PNG_H

#include <stdint.h>

#include "core/tensor.h"
#include "io/pixels.h"

/* Writes 8-bit pixels (rows top to bottom, channels interleaved: 1 for
 * grayscale, 3 for RGB) to path.  The file is written beside the target
 * under a temporary name and renamed into place, so a failure or a crash
 * never leaves half a picture at path.  0, or -1 with ae_error() set. */
int ae_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels);

/* Reads a PNG as a C×H×W float tensor with values in [0, 1]: C = 1 for
 * grayscale, 3 for colour.  Samples are divided by 255 (by 65535 in a
 * 16-bit file), as torchvision's ToTensor divides bytes; bit depths under
 * 8 are expanded to 8 (1-bit 1 is 255), a palette to its RGB entries; an
 * alpha channel (or a tRNS chunk) is dropped, as Pillow's convert("RGB")
 * and convert("L") drop it: no compositing. */
ae_tensor *ae_png_read(const char *path);

/* Decodes a PNG into px (see pixels.h) with the same rules: gray or RGB,
 * depth 16 for a 16-bit gray or RGB file, 8 otherwise.  header_only reads
 * the size and colour type and leaves samples NULL.  0, or -1 with
 * ae_error() naming path; px->samples is the caller's to free. */
int ae_png_decode(const char *path, ae_pixels *px, int header_only);

#endif
