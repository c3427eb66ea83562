/* png.c: PNG files through libpng (see png.h).
 *
 * libpng signals an error by calling its error function, which must not
 * return; ours records libpng's message and longjmps back to the setjmp
 * in the one function that owns the png structures.  That function frees
 * everything on the way out, whichever way it leaves, and turns the
 * message into an ae_fail naming the file.  Objects that are assigned
 * after the setjmp and freed after a longjmp are volatile-qualified, as C
 * requires for their values to be reliable there.
 *
 * This file's own header is "png.h" and libpng's is <png.h>: the quoted
 * include finds this directory's first, the bracketed one libpng's, as
 * long as runtime/ is not on the include path (the Makefile keeps it off). */
#include "png.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

typedef struct {
    char msg[200];
} png_err;

static void on_error(png_structp png, png_const_charp msg)
{
    png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* warnings (an unknown chunk, a bad gamma value) do not stop a read */
static void on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

/* the IHDR, the rows, the end; -1 with ae_error() set on any failure.
 * The message buffer e belongs to the caller: an automatic object of this
 * function changed between setjmp and longjmp would be indeterminate. */
static int write_stream(FILE *f, const char *path, const uint8_t *pixels, int width, int height, int channels,
                        png_err *e)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return ae_failc("png: out of memory writing %s", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return ae_failc("png: cannot write %s: %s", path, e->msg);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int ae_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels)
{
    if (channels != 1 && channels != 3)
        return ae_failc("png: %s: %d channels, expected 1 (grayscale) or 3 (RGB)", path, channels);
    if (width < 1 || height < 1 || width > 1000000 || height > 1000000)
        return ae_failc("png: %s: size %d×%d is out of range (1 to 1000000 pixels a side)", path, width, height);
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return ae_failc("png: out of memory writing %s", path);
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int err = errno;
        free(tmp);
        return ae_failc("png: cannot write %s: %s", path, strerror(err));
    }
    png_err e = {"unknown error"};
    int rc = write_stream(f, path, pixels, width, height, channels, &e);
    /* fclose flushes: a full disk may only show here */
    if (fclose(f) != 0 && rc == 0) rc = ae_failc("png: cannot write %s: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ae_failc("png: cannot write %s (renaming %s into place): %s", path, tmp, strerror(errno));
    if (rc != 0) remove(tmp);
    free(tmp);
    return rc;
}

/* gray or RGB rows of 8 or 16 bits, whatever the file holds; the depth
 * and channels the rows will have go to px */
static void set_transforms(png_structp png, png_infop info, ae_pixels *px)
{
    int type = png_get_color_type(png, info), bits = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && bits < 8) png_set_expand_gray_1_2_4_to_8(png);
    /* expanding a palette (or low-depth gray) turns a tRNS chunk into an
     * alpha channel, which goes with the file's own */
    if ((type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    /* PNG stores 16-bit samples big-endian; ours are in host order */
    const uint16_t one = 1;
    if (bits == 16 && *(const uint8_t *)&one == 1) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    px->colour = (type & PNG_COLOR_MASK_COLOR) != 0;
    px->channels = px->colour ? 3 : 1;
    px->depth = bits == 16 ? 16 : 8;
}

/* the header, then unless header_only the pixels into px->samples; the
 * decoded samples go to one block that holds the row pointers first, so a
 * longjmp has one thing to free */
static int decode_stream(FILE *f, const char *path, ae_pixels *px, int header_only, png_err *e)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, e, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return ae_failc("png: out of memory reading %s", path);
    }
    unsigned char *volatile block = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(block);
        return ae_failc("png: cannot read %s: %s", path, e->msg);
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    set_transforms(png, info, px);
    size_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    size_t ch = png_get_channels(png, info), stride = png_get_rowbytes(png, info);
    size_t bytes = (size_t)px->depth / 8;
    px->width = (int)w, px->height = (int)h;
    if (ch != (size_t)px->channels || stride != w * ch * bytes) {
        snprintf(e->msg, sizeof e->msg, "unexpected layout of %zu channels", ch);
        png_longjmp(png, 1);
    }
    if ((int64_t)w * (int64_t)h > AE_PIXELS_MAX) {
        snprintf(e->msg, sizeof e->msg, "%zu×%zu pixels is more than the %lld a picture may have", w, h,
                 (long long)AE_PIXELS_MAX);
        png_longjmp(png, 1);
    }
    if (header_only) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }
    block = malloc(h * sizeof(png_bytep) + h * stride);
    if (!block) {
        snprintf(e->msg, sizeof e->msg, "out of memory for %zu×%zu pixels", w, h);
        png_longjmp(png, 1);
    }
    png_bytep *rows = (png_bytep *)block;
    unsigned char *pixels = block + h * sizeof(png_bytep);
    for (size_t y = 0; y < h; y++) rows[y] = pixels + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    /* the samples to the block's start, where free finds them */
    memmove(block, pixels, h * stride);
    px->samples = block;
    return 0;
}

int ae_png_decode(const char *path, ae_pixels *px, int header_only)
{
    *px = (ae_pixels){0};
    FILE *f = fopen(path, "rb");
    if (!f) return ae_failc("png: cannot open %s: %s", path, strerror(errno));
    unsigned char sig[8];
    png_err e = {"unknown error"};
    int rc = -1;
    if (fread(sig, 1, sizeof sig, f) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0)
        ae_failc("png: %s is not a PNG file (its first 8 bytes are not the PNG signature)", path);
    else rc = decode_stream(f, path, px, header_only, &e);
    fclose(f);
    return rc;
}

ae_tensor *ae_png_read(const char *path)
{
    ae_pixels px;
    if (ae_png_decode(path, &px, 0) != 0) return NULL;
    int64_t shape[3] = {px.channels, px.height, px.width};
    ae_tensor *t = ae_empty(3, shape);
    if (t) {
        /* interleaved HWC samples to planar CHW floats, divided as ToTensor divides */
        float *out = ae_data(t);
        size_t plane = (size_t)px.width * (size_t)px.height, ch = (size_t)px.channels;
        const uint8_t *s8 = px.samples;
        const uint16_t *s16 = px.samples;
        for (size_t c = 0; c < ch; c++)
            for (size_t i = 0; i < plane; i++)
                out[c * plane + i] = px.depth == 16 ? s16[i * ch + c] / 65535.0f : s8[i * ch + c] / 255.0f;
    }
    free(px.samples);
    return t;
}
