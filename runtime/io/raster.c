/* raster.c: the canvas of raster.h: pixels, clipping, rectangles and
 * blitting float images into tiles.  Nothing here is anti-aliased, which
 * keeps exact pixel values testable.  (Plots are drawn with cairo, in
 * plot.c.) */
#include "raster.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "png.h"

/* the canvas's own pixel format for an RGB colour */
static void pixel_of(const ae_canvas *c, const uint8_t rgb[3], uint8_t out[3])
{
    if (c->channels == 3) {
        memcpy(out, rgb, 3);
        return;
    }
    out[0] = (uint8_t)((77 * rgb[0] + 150 * rgb[1] + 29 * rgb[2] + 128) >> 8);
}

ae_canvas *ae_canvas_new(int width, int height, int channels, const uint8_t background[3])
{
    if (channels != 1 && channels != 3)
        return ae_fail("canvas: %d channels, expected 1 (grayscale) or 3 (RGB)", channels);
    if (width < 1 || height < 1 || width > 100000 || height > 100000 ||
        (double)width * height * channels > (double)(1u << 30))
        return ae_fail("canvas: size %d×%d is out of range (at most 100000 a side and 2^30 bytes)", width, height);
    ae_canvas *c = malloc(sizeof *c);
    size_t n = (size_t)width * (size_t)height * (size_t)channels;
    uint8_t *p = c ? malloc(n) : NULL;
    if (!p) {
        free(c);
        return ae_fail("canvas: out of memory for %d×%d pixels", width, height);
    }
    *c = (ae_canvas){width, height, channels, p, {0, 0, width, height}};
    uint8_t px[3];
    pixel_of(c, background, px);
    if (channels == 1) {
        memset(p, px[0], n);
    } else {
        for (size_t i = 0; i < n; i += 3) memcpy(p + i, px, 3);
    }
    return c;
}

void ae_canvas_free(ae_canvas *c)
{
    if (!c) return;
    free(c->pixels);
    free(c);
}

int ae_canvas_save(const ae_canvas *c, const char *path)
{
    return ae_png_write(path, c->pixels, c->width, c->height, c->channels);
}

void ae_canvas_clip(ae_canvas *c, int x0, int y0, int x1, int y1)
{
    c->clip[0] = x0 > 0 ? x0 : 0;
    c->clip[1] = y0 > 0 ? y0 : 0;
    c->clip[2] = x1 < c->width ? x1 : c->width;
    c->clip[3] = y1 < c->height ? y1 : c->height;
}

void ae_canvas_unclip(ae_canvas *c) { ae_canvas_clip(c, 0, 0, c->width, c->height); }

/* a rectangle already in the canvas's pixel format, clipped */
static void fill(ae_canvas *c, int x0, int y0, int x1, int y1, const uint8_t *px)
{
    if (x0 < c->clip[0]) x0 = c->clip[0];
    if (y0 < c->clip[1]) y0 = c->clip[1];
    if (x1 > c->clip[2]) x1 = c->clip[2];
    if (y1 > c->clip[3]) y1 = c->clip[3];
    for (int y = y0; y < y1; y++) {
        uint8_t *row = c->pixels + ((size_t)y * c->width + x0) * c->channels;
        for (int x = x0; x < x1; x++, row += c->channels) memcpy(row, px, (size_t)c->channels);
    }
}

void ae_canvas_rect(ae_canvas *c, int x0, int y0, int x1, int y1, const uint8_t color[3])
{
    uint8_t px[3];
    pixel_of(c, color, px);
    fill(c, x0, y0, x1, y1, px);
}

int ae_canvas_blit(ae_canvas *c, ae_tensor *img, int x, int y, float lo, float hi)
{
    char s[AE_SHAPE_STR];
    int nd = img->ndim;
    int64_t ch = nd == 3 ? img->shape[0] : 1;
    if ((nd != 2 && nd != 3) || (ch != 1 && ch != 3))
        return ae_failc("blit: expected an image of shape H×W, 1×H×W or 3×H×W, got %s", ae_shape_str(img, s));
    if (ch == 3 && c->channels == 1)
        return ae_failc("blit: a colour image (%s) onto a grayscale canvas", ae_shape_str(img, s));
    int64_t h = img->shape[nd - 2], w = img->shape[nd - 1];
    ae_tensor *ci = ae_contiguous(img);
    if (!ci) return -1;
    const float *p = ae_data(ci);
    /* torchvision's normalisation: (v - lo) / max(hi - lo, 1e-5) */
    float den = hi - lo > 1e-5f ? hi - lo : 1e-5f;
    /* the rows and columns of the image that land inside the clip box */
    int64_t r0 = c->clip[1] - (int64_t)y, r1 = c->clip[3] - (int64_t)y;
    int64_t k0 = c->clip[0] - (int64_t)x, k1 = c->clip[2] - (int64_t)x;
    r0 = r0 > 0 ? r0 : 0, k0 = k0 > 0 ? k0 : 0;
    r1 = r1 < h ? r1 : h, k1 = k1 < w ? k1 : w;
    for (int dst = 0; dst < c->channels; dst++) {
        const float *plane = p + (ch == 1 ? 0 : dst) * h * w;
        for (int64_t r = r0; r < r1; r++) {
            const float *src = plane + r * w + k0;
            uint8_t *out = c->pixels + ((y + r) * c->width + x + k0) * c->channels + dst;
            for (int64_t k = 0; k < k1 - k0; k++) {
                float v = (src[k] - lo) / den;
                v = v > 0.0f ? v : 0.0f; /* NaN lands here too */
                v = v < 1.0f ? v : 1.0f;
                out[k * c->channels] = (uint8_t)(v * 255.0f + 0.5f);
            }
        }
    }
    ae_release(ci);
    return 0;
}
