/* jpeg.c: JPEG files through libjpeg (see jpeg.h).
 *
 * The error manager's error_exit formats libjpeg's message into the
 * manager and longjmps to the setjmp in the one function that owns the
 * (de)compressor; emit_message does the same for warnings (level -1), which
 * libjpeg raises for damaged data it would otherwise paper over.  Objects
 * assigned after the setjmp and freed after a longjmp are volatile. */
#include "jpeg.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#include "core/error.h"

typedef struct {
    struct jpeg_error_mgr mgr; /* first: libjpeg's pointer to it is ours */
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void on_error(j_common_ptr c)
{
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jump, 1);
}

/* level -1 is a warning about the data: an error here; trace messages
 * (levels 0 and up) are dropped */
static void on_message(j_common_ptr c, int level)
{
    if (level < 0) on_error(c);
}

static void init_errors(jpeg_err *e)
{
    jpeg_std_error(&e->mgr);
    e->mgr.error_exit = on_error;
    e->mgr.emit_message = on_message;
    snprintf(e->msg, sizeof e->msg, "unknown error");
}

static const char *space_name(J_COLOR_SPACE s)
{
    switch (s) {
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK (Adobe CMYK)";
    default: return "an unknown colour space";
    }
}

/* the decompressor's whole life, on a file already open; the decompressor
 * and its error manager e are the caller's, since an automatic object of
 * this function changed between setjmp and longjmp would be indeterminate */
static int decode_stream(FILE *f, const char *path, ae_pixels *px, int header_only, struct jpeg_decompress_struct *c,
                         jpeg_err *e)
{
    unsigned char *volatile samples = NULL;
    c->err = &e->mgr;
    if (setjmp(e->jump)) {
        jpeg_destroy_decompress(c);
        free(samples);
        return ae_failc("jpeg: cannot read %s: %s", path, e->msg);
    }
    jpeg_create_decompress(c);
    jpeg_stdio_src(c, f);
    jpeg_read_header(c, TRUE);
    int ncomp = c->num_components;
    J_COLOR_SPACE space = c->jpeg_color_space;
    if (space == JCS_GRAYSCALE && ncomp == 1) c->out_color_space = JCS_GRAYSCALE;
    else if ((space == JCS_YCbCr || space == JCS_RGB) && ncomp == 3) c->out_color_space = JCS_RGB;
    else {
        jpeg_destroy_decompress(c);
        return ae_failc("jpeg: %s is a %s JPEG (%d components); only grayscale and RGB (YCbCr) JPEGs are read: "
                        "convert it to RGB first",
                        path, space_name(space), ncomp);
    }
    px->width = (int)c->image_width, px->height = (int)c->image_height;
    px->channels = ncomp, px->depth = 8, px->colour = ncomp == 3;
    if ((int64_t)px->width * (int64_t)px->height > AE_PIXELS_MAX) {
        jpeg_destroy_decompress(c);
        return ae_failc("jpeg: %s: %d×%d pixels is more than the %lld a picture may have", path, px->width, px->height,
                        (long long)AE_PIXELS_MAX);
    }
    if (header_only) {
        jpeg_destroy_decompress(c);
        return 0;
    }
    jpeg_start_decompress(c);
    size_t stride = (size_t)c->output_width * (size_t)c->output_components;
    if (c->output_components != ncomp || (int)c->output_width != px->width || (int)c->output_height != px->height) {
        snprintf(e->msg, sizeof e->msg, "unexpected output layout");
        longjmp(e->jump, 1);
    }
    samples = malloc(stride * (size_t)px->height);
    if (!samples) {
        snprintf(e->msg, sizeof e->msg, "out of memory for %d×%d pixels", px->width, px->height);
        longjmp(e->jump, 1);
    }
    while (c->output_scanline < c->output_height) {
        JSAMPROW row = samples + (size_t)c->output_scanline * stride;
        jpeg_read_scanlines(c, &row, 1);
    }
    jpeg_finish_decompress(c);
    jpeg_destroy_decompress(c);
    px->samples = samples;
    return 0;
}

int ae_jpeg_decode(const char *path, ae_pixels *px, int header_only)
{
    *px = (ae_pixels){0};
    FILE *f = fopen(path, "rb");
    if (!f) return ae_failc("jpeg: cannot open %s: %s", path, strerror(errno));
    unsigned char sig[3];
    int rc = -1;
    jpeg_err e;
    init_errors(&e);
    if (fread(sig, 1, sizeof sig, f) != sizeof sig || sig[0] != 0xFF || sig[1] != 0xD8 || sig[2] != 0xFF)
        ae_failc("jpeg: %s is not a JPEG file (it does not start with the bytes FF D8 FF)", path);
    else if (fseek(f, 0, SEEK_SET) != 0) ae_failc("jpeg: cannot read %s: %s", path, strerror(errno));
    else {
        struct jpeg_decompress_struct c;
        rc = decode_stream(f, path, px, header_only, &c, &e);
    }
    fclose(f);
    return rc;
}

static int encode_stream(FILE *f, const char *path, const uint8_t *pixels, int width, int height, int channels,
                         int quality, struct jpeg_compress_struct *c, jpeg_err *e)
{
    c->err = &e->mgr;
    if (setjmp(e->jump)) {
        jpeg_destroy_compress(c);
        return ae_failc("jpeg: cannot write %s: %s", path, e->msg);
    }
    jpeg_create_compress(c);
    jpeg_stdio_dest(c, f);
    c->image_width = (JDIMENSION)width, c->image_height = (JDIMENSION)height;
    c->input_components = channels;
    c->in_color_space = channels == 4 ? JCS_CMYK : channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, quality, TRUE);
    /* no chroma subsampling: 4:4:4 */
    for (int i = 0; i < c->num_components; i++) c->comp_info[i].h_samp_factor = c->comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(c, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (c->next_scanline < c->image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)c->next_scanline * stride);
        jpeg_write_scanlines(c, &row, 1);
    }
    jpeg_finish_compress(c);
    jpeg_destroy_compress(c);
    return 0;
}

int ae_jpeg_write(const char *path, const uint8_t *pixels, int width, int height, int channels, int quality)
{
    if (channels != 1 && channels != 3 && channels != 4)
        return ae_failc("jpeg: %s: %d channels, expected 1 (grayscale), 3 (RGB) or 4 (CMYK)", path, channels);
    if (width < 1 || height < 1 || width > 65500 || height > 65500)
        return ae_failc("jpeg: %s: size %d×%d is out of range (1 to 65500 pixels a side)", path, width, height);
    if (quality < 1 || quality > 100) return ae_failc("jpeg: %s: quality %d is not in 1..100", path, quality);
    /* beside the target, then renamed into place, as png.c writes */
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return ae_failc("jpeg: out of memory writing %s", path);
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int err = errno;
        free(tmp);
        return ae_failc("jpeg: cannot write %s: %s", path, strerror(err));
    }
    jpeg_err e;
    init_errors(&e);
    struct jpeg_compress_struct c;
    int rc = encode_stream(f, path, pixels, width, height, channels, quality, &c, &e);
    if (fclose(f) != 0 && rc == 0) rc = ae_failc("jpeg: cannot write %s: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ae_failc("jpeg: cannot write %s (renaming %s into place): %s", path, tmp, strerror(errno));
    if (rc != 0) remove(tmp);
    free(tmp);
    return rc;
}
