/* image.c: pictures for Lua: core.png_read(path) and core.canvas(w,
 * h[, channels, background]), a userdata over raster.h's canvas that the
 * Lua module aerun.image draws grids, scatter plots and curves on.
 * Coordinates are pixels from the top-left corner (x right, y down), as
 * in raster.h; a colour is a gray level 0..255, a table {r, g, b} or a
 * string "#rrggbb".
 *
 * A folder of pictures (io/imagedir.h has the rules in full):
 *
 *   core.image_folder(dir [, {channels = 1|3, size = {h, w}, extensions = {"png", ...}}])
 *     -> x, y, classes, files, skipped
 *
 *   x        N×C×H×W float32 tensor in [0, 1] (byte / 255, 16-bit / 65535)
 *   y        N labels 0..K-1 as a float tensor (the class folder's position
 *            among the subfolders sorted by name), nil when the pictures sit
 *            in dir itself
 *   classes  the subfolders' names in label order, or nil
 *   files    the pictures' paths in sample order (class by class, by name)
 *   skipped  the paths of files left out for their extension (a list, maybe
 *            empty); names starting with "." are not listed
 *   channels nil: 3 when any picture has colour, else 1; gray to RGB
 *            repeats, RGB to gray is Pillow's convert("L") (ITU-R 601 luma,
 *            (19595 R + 38470 G + 7471 B + 32768) >> 16); alpha is dropped
 *   size     nil: the pictures must agree in size (an error names two that
 *            do not); {h, w}: bilinear resize of each, torch's
 *            F.interpolate(mode="bilinear", align_corners=False,
 *            antialias=False)
 *   extensions  which files to read, from png, jpg, jpeg (the default: all
 *            three, case-insensitive); files are decoded by content
 *
 *   core.jpeg_write(path, image [, quality = 95]): a C×H×W (or H×W) tensor
 *     in [0, 1] as a JPEG (RGB stored 4:4:4; C = 4 writes CMYK), bytes
 *     rounded as torchvision rounds (⌊255·clamp(v, 0, 1) + ½⌋); for tests
 *     and tools */
#include "binding.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/imagedir.h"
#include "io/jpeg.h"
#include "io/png.h"
#include "io/raster.h"

#define LAE_CANVAS "aerun.Canvas"
#define LAE_IMAGEDIR "aerun.ImageFolder"

static ae_canvas *check_canvas(lua_State *L, int idx)
{
    ae_canvas **u = luaL_checkudata(L, idx, LAE_CANVAS);
    if (!*u) luaL_argerror(L, idx, "canvas already freed");
    return *u;
}

static uint8_t channel_value(lua_State *L, int arg, lua_Number v)
{
    if (!(v >= 0 && v <= 255)) luaL_argerror(L, arg, "colour components must be in 0..255");
    return (uint8_t)lround(v);
}

static void check_color(lua_State *L, int arg, uint8_t rgb[3])
{
    switch (lua_type(L, arg)) {
    case LUA_TNUMBER: rgb[0] = rgb[1] = rgb[2] = channel_value(L, arg, lua_tonumber(L, arg)); return;
    case LUA_TTABLE:
        for (int i = 0; i < 3; i++) {
            lua_geti(L, arg, i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER) luaL_argerror(L, arg, "a colour table is {r, g, b}");
            rgb[i] = channel_value(L, arg, lua_tonumber(L, -1));
            lua_pop(L, 1);
        }
        return;
    case LUA_TSTRING: {
        const char *s = lua_tostring(L, arg);
        unsigned r, g, b;
        int end = 0;
        if (sscanf(s, "#%2x%2x%2x%n", &r, &g, &b, &end) == 3 && end == 7 && s[7] == '\0') {
            rgb[0] = (uint8_t)r, rgb[1] = (uint8_t)g, rgb[2] = (uint8_t)b;
            return;
        }
        luaL_argerror(L, arg, lua_pushfstring(L, "colour string must be \"#rrggbb\", got \"%s\"", s));
        return;
    }
    default:
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "colour expected (gray level, {r, g, b} or \"#rrggbb\"), got %s",
                                      luaL_typename(L, arg)));
    }
}

/* a pixel coordinate, kept in int range so casts stay defined */
static int check_coord(lua_State *L, int arg)
{
    lua_Number v = lae_check_number(L, arg);
    if (v != v) luaL_argerror(L, arg, "coordinate is NaN");
    v = floor(v);
    return (int)(v < -1e9 ? -1e9 : v > 1e9 ? 1e9 : v);
}

static int l_canvas(lua_State *L)
{
    int w = (int)lae_check_int(L, 1, "width"), h = (int)lae_check_int(L, 2, "height");
    int ch = lua_isnoneornil(L, 3) ? 3 : (int)lae_check_int(L, 3, "channels");
    uint8_t bg[3] = {0, 0, 0};
    if (!lua_isnoneornil(L, 4)) check_color(L, 4, bg);
    ae_canvas **u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = NULL;
    luaL_setmetatable(L, LAE_CANVAS);
    *u = ae_canvas_new(w, h, ch, bg);
    if (!*u) return lae_raise(L);
    return 1;
}

static int l_size(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    lua_pushinteger(L, c->width);
    lua_pushinteger(L, c->height);
    lua_pushinteger(L, c->channels);
    return 3;
}

/* canvas:clip(x0, y0, x1, y1) limits later drawing; canvas:clip() lifts it */
static int l_clip(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    if (lua_isnoneornil(L, 2)) {
        ae_canvas_unclip(c);
        return 0;
    }
    ae_canvas_clip(c, check_coord(L, 2), check_coord(L, 3), check_coord(L, 4), check_coord(L, 5));
    return 0;
}

static int l_rect(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    int x0 = check_coord(L, 2), y0 = check_coord(L, 3), x1 = check_coord(L, 4), y1 = check_coord(L, 5);
    uint8_t rgb[3];
    check_color(L, 6, rgb);
    ae_canvas_rect(c, x0, y0, x1, y1, rgb);
    return 0;
}

static int l_line(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    double x0 = lae_check_number(L, 2), y0 = lae_check_number(L, 3);
    double x1 = lae_check_number(L, 4), y1 = lae_check_number(L, 5);
    uint8_t rgb[3];
    check_color(L, 6, rgb);
    int width = lua_isnoneornil(L, 7) ? 1 : (int)lae_check_int(L, 7, "width");
    if (width < 1 || width > 100) luaL_argerror(L, 7, "line width must be in 1..100");
    ae_canvas_line(c, x0, y0, x1, y1, rgb, width);
    return 0;
}

static int l_disc(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    double x = lae_check_number(L, 2), y = lae_check_number(L, 3), r = lae_check_number(L, 4);
    if (!(r >= 0 && r <= 1000)) luaL_argerror(L, 4, "radius must be in 0..1000");
    uint8_t rgb[3];
    check_color(L, 5, rgb);
    ae_canvas_disc(c, x, y, r, rgb);
    return 0;
}

static int check_scale(lua_State *L, int arg)
{
    int scale = lua_isnoneornil(L, arg) ? 1 : (int)lae_check_int(L, arg, "scale");
    if (scale < 1 || scale > 64) luaL_argerror(L, arg, "text scale must be in 1..64");
    return scale;
}

/* canvas:text(x, y, s, colour[, scale, vertical]) -> advance in pixels */
static int l_text(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    int x = check_coord(L, 2), y = check_coord(L, 3);
    const char *s = luaL_checkstring(L, 4);
    uint8_t rgb[3];
    check_color(L, 5, rgb);
    int scale = check_scale(L, 6);
    lua_pushinteger(L, ae_canvas_text(c, x, y, s, rgb, scale, lua_toboolean(L, 7)));
    return 1;
}

static int l_text_width(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    lua_pushinteger(L, ae_text_width(s, check_scale(L, 2)));
    return 1;
}

/* canvas:blit(image, x, y[, lo = 0, hi = 1]) */
static int l_blit(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    ae_tensor *t = lae_check_tensor(L, 2);
    int x = check_coord(L, 3), y = check_coord(L, 4);
    float lo = (float)lae_opt_number(L, 5, 0.0), hi = (float)lae_opt_number(L, 6, 1.0);
    if (!isfinite(lo) || !isfinite(hi)) luaL_argerror(L, 5, "the value range must be finite");
    if (ae_canvas_blit(c, t, x, y, lo, hi) != 0) return lae_raise(L);
    return 0;
}

static int l_save(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    if (ae_canvas_save(c, luaL_checkstring(L, 2)) != 0) return lae_raise(L);
    return 0;
}

/* the pixels as a C×H×W tensor in [0, 1], what png_read of the saved
 * file gives */
static int l_totensor(lua_State *L)
{
    ae_canvas *c = check_canvas(L, 1);
    int64_t shape[3] = {c->channels, c->height, c->width};
    ae_tensor *t = ae_empty(3, shape);
    if (!t) return lae_raise(L);
    float *out = ae_data(t);
    size_t plane = (size_t)c->width * (size_t)c->height;
    for (int ch = 0; ch < c->channels; ch++)
        for (size_t i = 0; i < plane; i++)
            out[ch * plane + i] = c->pixels[i * (size_t)c->channels + ch] * (1.0f / 255.0f);
    return lae_push_tensor(L, t);
}

static int l_gc(lua_State *L)
{
    ae_canvas **u = luaL_checkudata(L, 1, LAE_CANVAS);
    ae_canvas_free(*u);
    *u = NULL;
    return 0;
}

/* frees the pixels now rather than when the collector runs (the
 * collector sees a pointer-sized userdata, not the megabytes behind it) */
static int l_free(lua_State *L) { return l_gc(L); }

static int l_tostring(lua_State *L)
{
    ae_canvas **u = luaL_checkudata(L, 1, LAE_CANVAS);
    if (!*u) return lua_pushliteral(L, "canvas (freed)"), 1;
    lua_pushfstring(L, "canvas(%d×%d, %s)", (*u)->width, (*u)->height, (*u)->channels == 3 ? "RGB" : "gray");
    return 1;
}

static int l_png_read(lua_State *L) { return lae_push_tensor(L, ae_png_read(luaL_checkstring(L, 1))); }

/* the {channels, size, extensions} table at arg into o; extension names
 * point into the table's strings, which stay on the stack */
#define MAX_EXTENSIONS 16
static void imagedir_options(lua_State *L, int arg, ae_imagedir_opts *o, const char **ext)
{
    *o = (ae_imagedir_opts){0};
    if (lua_isnoneornil(L, arg)) return;
    lae_check_options(L, arg, "image_folder");
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(k, "channels") == 0) {
            lua_Integer c = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
            if (c != 1 && c != 3)
                luaL_error(L, "image_folder: channels must be 1 (gray) or 3 (RGB), got %s",
                           luaL_tolstring(L, -1, NULL));
            o->channels = (int)c;
        } else if (strcmp(k, "size") == 0) {
            lua_Integer hw[2] = {0, 0};
            int ok = lua_istable(L, -1) && luaL_len(L, -1) == 2;
            for (int i = 0; ok && i < 2; i++) {
                lua_geti(L, -1, i + 1);
                ok = lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= 65535;
                hw[i] = ok ? lua_tointeger(L, -1) : 0;
                lua_pop(L, 1);
            }
            if (!ok) luaL_error(L, "image_folder: size must be {h, w}, two integers in 1..65535");
            o->height = (int)hw[0], o->width = (int)hw[1];
        } else if (strcmp(k, "extensions") == 0) {
            lua_Integer n = lua_istable(L, -1) ? luaL_len(L, -1) : 0;
            if (n < 1 || n > MAX_EXTENSIONS)
                luaL_error(L, "image_folder: extensions must be a list of 1 to %d names such as {\"png\", \"jpg\"}",
                           MAX_EXTENSIONS);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_geti(L, -1, i);
                const char *e = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
                if (e && e[0] == '.') e++;
                if (!e || !ae_imagedir_known_extension(e))
                    luaL_error(L, "image_folder: extensions: %s is not one of png, jpg, jpeg",
                               luaL_tolstring(L, -1, NULL));
                ext[i - 1] = e; /* the string stays referenced by the options table */
                lua_pop(L, 1);
            }
            o->extensions = ext, o->n_extensions = (int)n;
        } else
            luaL_error(L, "image_folder: unknown option '%s' (known: channels, extensions, size)",
                       luaL_tolstring(L, -2, NULL));
        lua_pop(L, 1);
    }
}

static int imagedir_gc(lua_State *L)
{
    ae_imagedir_free(luaL_checkudata(L, 1, LAE_IMAGEDIR));
    return 0;
}

static void push_strings(lua_State *L, char **items, int64_t n)
{
    lua_createtable(L, n > 1000000 ? 0 : (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushstring(L, items[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* core.image_folder(dir [, opts]) -> x, y, classes, files, skipped (see
 * the header comment); the result lives in a userdata until it is pushed,
 * so a Lua error on the way frees it */
static int l_image_folder(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    ae_imagedir_opts o;
    const char *ext[MAX_EXTENSIONS];
    imagedir_options(L, 2, &o, ext);
    ae_imagedir *d = lua_newuserdatauv(L, sizeof *d, 0);
    *d = (ae_imagedir){0};
    luaL_setmetatable(L, LAE_IMAGEDIR);
    int box = lua_gettop(L);
    if (ae_imagedir_read(dir, &o, d) != 0) return lae_raise(L);
    ae_tensor *x = d->x, *y = d->y;
    d->x = d->y = NULL;
    lae_push_tensor(L, x);
    if (y) lae_push_tensor(L, y);
    else lua_pushnil(L);
    if (d->n_classes > 0) push_strings(L, d->classes, d->n_classes);
    else lua_pushnil(L);
    push_strings(L, d->files, d->n);
    push_strings(L, d->skipped, d->n_skipped);
    ae_imagedir_free(d);
    lua_remove(L, box);
    return 5;
}

/* core.jpeg_write(path, image [, quality]) */
static int l_jpeg_write(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    ae_tensor *t = lae_check_tensor(L, 2);
    lua_Integer quality = lae_opt_integer(L, 3, 95);
    if (quality < 1 || quality > 100) luaL_argerror(L, 3, "quality must be in 1..100");
    int ch = t->ndim == 3 ? (int)t->shape[0] : 1;
    if (!(t->ndim == 2 || (t->ndim == 3 && (ch == 1 || ch == 3 || ch == 4))))
        luaL_error(L, "jpeg_write: %s: the image must be H×W or C×H×W with C 1, 3 or 4 (CMYK)", path);
    int64_t h = t->shape[t->ndim - 2], w = t->shape[t->ndim - 1];
    if (h < 1 || w < 1 || h > 65500 || w > 65500)
        luaL_error(L, "jpeg_write: %s: size out of range (1 to 65500 a side)", path);
    size_t plane = (size_t)h * (size_t)w;
    uint8_t *bytes = lua_newuserdatauv(L, plane * (size_t)ch, 0);
    ae_tensor *c = ae_contiguous(t);
    if (!c) return lae_raise(L);
    const float *v = ae_data(c);
    for (int k = 0; k < ch; k++)
        for (size_t i = 0; i < plane; i++) {
            float f = v[(size_t)k * plane + i];
            f = f > 0 ? (f < 1 ? f : 1) : 0; /* NaN to 0 */
            bytes[i * (size_t)ch + k] = (uint8_t)floorf(f * 255.0f + 0.5f);
        }
    ae_release(c);
    if (ae_jpeg_write(path, bytes, (int)w, (int)h, ch, (int)quality) != 0) return lae_raise(L);
    return 0;
}

static const luaL_Reg canvas_methods[] = {
    {"size", l_size}, {"clip", l_clip}, {"rect", l_rect},         {"line", l_line}, {"disc", l_disc}, {"text", l_text},
    {"blit", l_blit}, {"save", l_save}, {"totensor", l_totensor}, {"free", l_free}, {NULL, NULL}};

static const luaL_Reg canvas_meta[] = {{"__gc", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"canvas", l_canvas},         {"png_read", l_png_read},
                                     {"text_width", l_text_width}, {"image_folder", l_image_folder},
                                     {"jpeg_write", l_jpeg_write}, {NULL, NULL}};

static const luaL_Reg imagedir_meta[] = {{"__gc", imagedir_gc}, {NULL, NULL}};

void lae_open_image(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_new_class(L, LAE_CANVAS, canvas_meta, canvas_methods);
    lua_pop(L, 1);
    lae_new_class(L, LAE_IMAGEDIR, imagedir_meta, NULL);
    lua_pop(L, 1);
}
