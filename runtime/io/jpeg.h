/* jpeg.h: reading (and, for tests and tools, writing) JPEG files through
 * libjpeg (libjpeg-turbo in Debian).  libjpeg reports errors by calling an
 * error routine that must not return; ours longjmps back to the function
 * that owns the decompressor, which frees everything and returns through
 * the core's error channel (error.h) with the file's name in the message. */
#ifndef AE_JPEG_H
#define AE_JPEG_H

#include <stdint.h>

#include "io/pixels.h"

/* Decodes a baseline or progressive JPEG into px (see pixels.h): 8-bit
 * gray for a one-component file, 8-bit RGB for YCbCr or RGB, with
 * libjpeg's defaults (the accurate integer IDCT, smooth chroma upsampling)
 * as Pillow uses them, so the samples are the ones Image.open(path) gives.
 * CMYK and YCCK files are refused.  A warning of libjpeg (premature end of
 * data, corrupt entropy data) is an error too: libjpeg would carry on and
 * fill the rest of the picture with gray.  header_only reads the size and
 * colour space and leaves samples NULL.  0, or -1 with ae_error() naming
 * path; px->samples is the caller's to free. */
int ae_jpeg_decode(const char *path, ae_pixels *px, int header_only);

/* Writes 8-bit pixels (rows top to bottom, 1 channel gray, 3 RGB or 4
 * CMYK, interleaved) as a baseline JPEG of the given quality (1..100); RGB
 * is stored as YCbCr without chroma subsampling (4:4:4), CMYK as it is
 * (the tests make one to see it refused).  0, or -1 with ae_error() set. */
int ae_jpeg_write(const char *path, const uint8_t *pixels, int width, int height, int channels, int quality);

#endif
