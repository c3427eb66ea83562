/* raster.c: the canvas of raster.h: pixels, clipping, the few shapes that
 * plots need, a 5×7 bitmap font, and blitting float images into tiles.
 * Everything is plain integer stepping (Bresenham for lines); nothing here
 * is anti-aliased, which keeps exact pixel values testable. */
#include "raster.h"

#include <math.h>
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

/* Cohen-Sutherland: moves the ends of a segment onto the box [lo, hi]
 * on both axes; false when nothing of it is inside.  Clipping first keeps
 * a wild data point (1e30 pixels away) from costing a walk of 1e30 steps,
 * and each crossing is computed from the boundary it lies on, so a far
 * end does not blur the near one. */
static int outcode(double x, double y, const double box[4])
{
    return (x < box[0]) | (x > box[2]) << 1 | (y < box[1]) << 2 | (y > box[3]) << 3;
}

static int clip_segment(double *x0, double *y0, double *x1, double *y1, const double box[4])
{
    int c0 = outcode(*x0, *y0, box), c1 = outcode(*x1, *y1, box);
    /* each pass puts one end on one more boundary: at most four each */
    for (int pass = 0; pass < 8 && (c0 | c1); pass++) {
        if (c0 & c1) return 0;
        int c = c0 ? c0 : c1;
        double x, y, dx = *x1 - *x0, dy = *y1 - *y0;
        if (c & 8) {
            y = box[3];
            x = *x0 + dx * (y - *y0) / dy;
        } else if (c & 4) {
            y = box[1];
            x = *x0 + dx * (y - *y0) / dy;
        } else if (c & 2) {
            x = box[2];
            y = *y0 + dy * (x - *x0) / dx;
        } else {
            x = box[0];
            y = *y0 + dy * (x - *x0) / dx;
        }
        if (!isfinite(x) || !isfinite(y)) return 0;
        if (c == c0) {
            *x0 = x, *y0 = y;
            c0 = outcode(x, y, box);
        } else {
            *x1 = x, *y1 = y;
            c1 = outcode(x, y, box);
        }
    }
    return !(c0 | c1);
}

void ae_canvas_line(ae_canvas *c, double x0, double y0, double x1, double y1, const uint8_t color[3], int width)
{
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
    if (width < 1) width = 1;
    double m = width + 1, box[4] = {-m, -m, c->width + m, c->height + m};
    if (!clip_segment(&x0, &y0, &x1, &y1, box)) return;
    uint8_t px[3];
    pixel_of(c, color, px);
    int ax = (int)lround(x0), ay = (int)lround(y0), bx = (int)lround(x1), by = (int)lround(y1);
    int dx = abs(bx - ax), dy = -abs(by - ay), sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
    int err = dx + dy, lo = (width - 1) / 2, hi = width / 2 + 1;
    for (;;) {
        fill(c, ax - lo, ay - lo, ax + hi, ay + hi, px);
        if (ax == bx && ay == by) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            ax += sx;
        }
        if (e2 <= dx) {
            err += dx;
            ay += sy;
        }
    }
}

void ae_canvas_disc(ae_canvas *c, double cx, double cy, double radius, const uint8_t color[3])
{
    if (!isfinite(cx) || !isfinite(cy) || !(radius >= 0)) return;
    if (cx < -radius - 1 || cy < -radius - 1 || cx > c->width + radius + 1 || cy > c->height + radius + 1) return;
    uint8_t px[3];
    pixel_of(c, color, px);
    int x0 = (int)floor(cx - radius), x1 = (int)ceil(cx + radius);
    int y0 = (int)floor(cy - radius), y1 = (int)ceil(cy + radius);
    /* r² + r reaches the pixels a circle of radius r + ½ covers, which
     * looks round at the small radii plots use */
    double r2 = radius * radius + radius;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double ddx = x - cx, ddy = y - cy;
            if (ddx * ddx + ddy * ddy <= r2) fill(c, x, y, x + 1, y + 1, px);
        }
}

/* 5×7 glyphs for ' ' to '~', rows top to bottom separated by spaces,
 * '#' on.  Lowercase letters with descenders sit one row high, as on
 * character LCDs, to stay within the 7 rows. */
static const char font[95][42] = {
    "..... ..... ..... ..... ..... ..... .....", /*   */
    "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..", /* ! */
    ".#.#. .#.#. ..... ..... ..... ..... .....", /* " */
    ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.", /* # */
    "..#.. .#### #.#.. .###. ..#.# ####. ..#..", /* $ */
    "##... ##..# ...#. ..#.. .#... #..## ...##", /* % */
    ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#", /* & */
    "..#.. ..#.. ..... ..... ..... ..... .....", /* ' */
    "...#. ..#.. .#... .#... .#... ..#.. ...#.", /* ( */
    ".#... ..#.. ...#. ...#. ...#. ..#.. .#...", /* ) */
    "..... ..#.. #.#.# .###. #.#.# ..#.. .....", /* * */
    "..... ..#.. ..#.. ##### ..#.. ..#.. .....", /* + */
    "..... ..... ..... ..... .##.. ..#.. .#...", /* , */
    "..... ..... ..... ##### ..... ..... .....", /* - */
    "..... ..... ..... ..... ..... .##.. .##..", /* . */
    "..... ....# ...#. ..#.. .#... #.... .....", /* / */
    ".###. #...# #..## #.#.# ##..# #...# .###.", /* 0 */
    "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.", /* 1 */
    ".###. #...# ....# ...#. ..#.. .#... #####", /* 2 */
    "##### ...#. ..#.. ...#. ....# #...# .###.", /* 3 */
    "...#. ..##. .#.#. #..#. ##### ...#. ...#.", /* 4 */
    "##### #.... ####. ....# ....# #...# .###.", /* 5 */
    "..##. .#... #.... ####. #...# #...# .###.", /* 6 */
    "##### ....# ...#. ..#.. .#... .#... .#...", /* 7 */
    ".###. #...# #...# .###. #...# #...# .###.", /* 8 */
    ".###. #...# #...# .#### ....# ...#. .##..", /* 9 */
    "..... .##.. .##.. ..... .##.. .##.. .....", /* : */
    "..... .##.. .##.. ..... .##.. ..#.. .#...", /* ; */
    "...#. ..#.. .#... #.... .#... ..#.. ...#.", /* < */
    "..... ..... ##### ..... ##### ..... .....", /* = */
    ".#... ..#.. ...#. ....# ...#. ..#.. .#...", /* > */
    ".###. #...# ....# ...#. ..#.. ..... ..#..", /* ? */
    ".###. #...# ....# .##.# #.#.# #.#.# .###.", /* @ */
    ".###. #...# #...# ##### #...# #...# #...#", /* A */
    "####. #...# #...# ####. #...# #...# ####.", /* B */
    ".###. #...# #.... #.... #.... #...# .###.", /* C */
    "###.. #..#. #...# #...# #...# #..#. ###..", /* D */
    "##### #.... #.... ####. #.... #.... #####", /* E */
    "##### #.... #.... ####. #.... #.... #....", /* F */
    ".###. #...# #.... #.### #...# #...# .####", /* G */
    "#...# #...# #...# ##### #...# #...# #...#", /* H */
    ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", /* I */
    "..### ...#. ...#. ...#. ...#. #..#. .##..", /* J */
    "#...# #..#. #.#.. ##... #.#.. #..#. #...#", /* K */
    "#.... #.... #.... #.... #.... #.... #####", /* L */
    "#...# ##.## #.#.# #.#.# #...# #...# #...#", /* M */
    "#...# #...# ##..# #.#.# #..## #...# #...#", /* N */
    ".###. #...# #...# #...# #...# #...# .###.", /* O */
    "####. #...# #...# ####. #.... #.... #....", /* P */
    ".###. #...# #...# #...# #.#.# #..#. .##.#", /* Q */
    "####. #...# #...# ####. #.#.. #..#. #...#", /* R */
    ".#### #.... #.... .###. ....# ....# ####.", /* S */
    "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", /* T */
    "#...# #...# #...# #...# #...# #...# .###.", /* U */
    "#...# #...# #...# #...# #...# .#.#. ..#..", /* V */
    "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", /* W */
    "#...# #...# .#.#. ..#.. .#.#. #...# #...#", /* X */
    "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", /* Y */
    "##### ....# ...#. ..#.. .#... #.... #####", /* Z */
    ".###. .#... .#... .#... .#... .#... .###.", /* [ */
    "..... #.... .#... ..#.. ...#. ....# .....", /* \ */
    ".###. ...#. ...#. ...#. ...#. ...#. .###.", /* ] */
    "..#.. .#.#. #...# ..... ..... ..... .....", /* ^ */
    "..... ..... ..... ..... ..... ..... #####", /* _ */
    ".#... ..#.. ..... ..... ..... ..... .....", /* ` */
    "..... ..... .###. ....# .#### #...# .####", /* a */
    "#.... #.... #.##. ##..# #...# #...# ####.", /* b */
    "..... ..... .###. #.... #.... #...# .###.", /* c */
    "....# ....# .##.# #..## #...# #...# .####", /* d */
    "..... ..... .###. #...# ##### #.... .###.", /* e */
    "..##. .#..# .#... ###.. .#... .#... .#...", /* f */
    "..... .#### #...# #...# .#### ....# .###.", /* g */
    "#.... #.... #.##. ##..# #...# #...# #...#", /* h */
    "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.", /* i */
    "...#. ..... ..##. ...#. ...#. #..#. .##..", /* j */
    "#.... #.... #..#. #.#.. ##... #.#.. #..#.", /* k */
    ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", /* l */
    "..... ..... ##.#. #.#.# #.#.# #...# #...#", /* m */
    "..... ..... #.##. ##..# #...# #...# #...#", /* n */
    "..... ..... .###. #...# #...# #...# .###.", /* o */
    "..... ..... ####. #...# ####. #.... #....", /* p */
    "..... ..... .##.# #..## .#### ....# ....#", /* q */
    "..... ..... #.##. ##..# #.... #.... #....", /* r */
    "..... ..... .###. #.... .###. ....# ####.", /* s */
    ".#... .#... ###.. .#... .#... .#..# ..##.", /* t */
    "..... ..... #...# #...# #...# #..## .##.#", /* u */
    "..... ..... #...# #...# #...# .#.#. ..#..", /* v */
    "..... ..... #...# #...# #.#.# #.#.# .#.#.", /* w */
    "..... ..... #...# .#.#. ..#.. .#.#. #...#", /* x */
    "..... ..... #...# #...# .#### ....# .###.", /* y */
    "..... ..... ##### ...#. ..#.. .#... #####", /* z */
    "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.", /* { */
    "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", /* | */
    ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...", /* } */
    "..... ..... .#... #.#.# ...#. ..... .....", /* ~ */
};

/* the glyph for the byte at *s, or NULL for a UTF-8 continuation byte */
static const char *glyph_of(unsigned char ch)
{
    if (ch >= 0x80 && ch < 0xC0) return NULL;
    if (ch < 32 || ch > 126) ch = '?';
    return font[ch - 32];
}

int ae_text_width(const char *s, int scale)
{
    int n = 0;
    for (; *s; s++)
        if (glyph_of((unsigned char)*s)) n++;
    return n * AE_FONT_ADVANCE * (scale < 1 ? 1 : scale);
}

int ae_canvas_text(ae_canvas *c, int x, int y, const char *s, const uint8_t color[3], int scale, int vertical)
{
    if (scale < 1) scale = 1;
    uint8_t px[3];
    pixel_of(c, color, px);
    int u0 = 0; /* along the text, in font pixels */
    for (; *s; s++) {
        const char *g = glyph_of((unsigned char)*s);
        if (!g) continue;
        for (int r = 0; r < AE_FONT_H; r++)
            for (int k = 0; k < AE_FONT_W; k++) {
                if (g[r * (AE_FONT_W + 1) + k] != '#') continue;
                int u = (u0 + k) * scale, v = r * scale;
                if (vertical) fill(c, x + v, y - u - scale + 1, x + v + scale, y - u + 1, px);
                else fill(c, x + u, y + v, x + u + scale, y + v + scale, px);
            }
        u0 += AE_FONT_ADVANCE;
    }
    return u0 * scale;
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
