/* image.c: pictures for Lua: core.png_read(path), core.canvas(w, h[,
 * channels, background]), a userdata over raster.h's canvas that the Lua
 * module aerun.image lays image grids out on, and core.plot(path, spec),
 * plot.h's cairo plots (line curves and scatter plots).  Coordinates are
 * pixels from the top-left corner (x right, y down), as in raster.h; a
 * colour is a gray level 0..255, a table {r, g, b} or a string "#rrggbb".
 *
 *   core.plot(path, {width =, height =, cols =, title =, panels = {
 *       {title =, xlabel =, ylabel =, log = bool, legend = bool,
 *        xlim = {lo, hi}, ylim = {lo, hi},
 *        series = {{name =, x = {...}, y = {...}, color = colour,
 *                   style = "line"|"points", size =}, ...}}, ...}})
 *     -> {{box = {x0, y0, x1, y1}, xlim = {lo, hi}, ylim = {lo, hi}}, ...}
 *
 *   x and y are lists of numbers of one length (x may be absent: 1, 2,
 *   ...); the result says where each panel's axes landed (plot.h).
 *   aerun.image checks the spec and gives the friendly errors; this
 *   checks again, so a bad table is an error here too, never a crash.
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
#include "io/plot.h"
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

/* ------------------------------------------------------------- plots */

/* t[k] as a string or NULL; the string stays referenced by t */
static const char *opt_string_field(lua_State *L, int t, const char *k, const char *where)
{
    int ty = lua_getfield(L, t, k);
    const char *s = NULL;
    if (ty == LUA_TSTRING || ty == LUA_TNUMBER) s = lua_tostring(L, -1);
    else if (ty != LUA_TNIL) luaL_error(L, "plot: %s.%s must be a string, got %s", where, k, lua_typename(L, ty));
    lua_pop(L, 1);
    return s;
}

static double opt_number_field(lua_State *L, int t, const char *k, double def, const char *where)
{
    int ty = lua_getfield(L, t, k);
    double v = def;
    if (ty == LUA_TNUMBER) v = lua_tonumber(L, -1);
    else if (ty != LUA_TNIL) luaL_error(L, "plot: %s.%s must be a number, got %s", where, k, lua_typename(L, ty));
    lua_pop(L, 1);
    return v;
}

static void opt_limits(lua_State *L, int t, const char *k, double out[2], const char *where)
{
    out[0] = out[1] = NAN;
    int ty = lua_getfield(L, t, k);
    if (ty == LUA_TTABLE) {
        for (int i = 0; i < 2; i++) {
            lua_geti(L, -1, i + 1);
            out[i] = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
            lua_pop(L, 1);
        }
        if (!(isfinite(out[0]) && isfinite(out[1]) && out[0] < out[1]))
            luaL_error(L, "plot: %s.%s must be {lo, hi} with lo < hi", where, k);
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "plot: %s.%s must be {lo, hi}, got %s", where, k, lua_typename(L, ty));
    }
    lua_pop(L, 1);
}

/* a list field's length, 0 when absent */
static lua_Integer list_field(lua_State *L, int t, const char *k, const char *where)
{
    int ty = lua_getfield(L, t, k);
    lua_Integer n = 0;
    if (ty == LUA_TTABLE) n = luaL_len(L, -1);
    else if (ty != LUA_TNIL) luaL_error(L, "plot: %s.%s must be a list, got %s", where, k, lua_typename(L, ty));
    lua_pop(L, 1);
    return n;
}

/* the numbers of list t[k] into out[0..n) */
static void numbers_field(lua_State *L, int t, const char *k, double *out, lua_Integer n, const char *where)
{
    lua_getfield(L, t, k);
    for (lua_Integer j = 0; j < n; j++) {
        if (lua_geti(L, -1, j + 1) != LUA_TNUMBER)
            luaL_error(L, "plot: %s.%s[%d] is %s, not a number", where, k, (int)(j + 1), luaL_typename(L, -1));
        out[j] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

#define PLOT_MAX_PANELS 256
#define PLOT_MAX_SERIES 4096
#define PLOT_MAX_POINTS 50000000

static void push_pair(lua_State *L, double a, double b)
{
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, a);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, b);
    lua_rawseti(L, -2, 2);
}

/* core.plot(path, spec) -> the panels' boxes and ranges (see the top) */
static int l_plot(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    ae_plot plot = {0};
    double w = opt_number_field(L, 2, "width", 640, "spec"), h = opt_number_field(L, 2, "height", 400, "spec");
    double cols = opt_number_field(L, 2, "cols", 0, "spec");
    if (!(w >= 16 && w <= 16384 && h >= 16 && h <= 16384))
        luaL_error(L, "plot: size %f×%f is out of range (16 to 16384 a side)", w, h);
    if (!(cols >= 0 && cols <= PLOT_MAX_PANELS)) luaL_error(L, "plot: cols must be in 0..%d", PLOT_MAX_PANELS);
    plot.width = (int)w, plot.height = (int)h, plot.cols = (int)cols;
    plot.title = opt_string_field(L, 2, "title", "spec");
    lua_Integer np = list_field(L, 2, "panels", "spec");
    if (np < 1 || np > PLOT_MAX_PANELS) luaL_error(L, "plot: spec.panels must list 1 to %d panels", PLOT_MAX_PANELS);
    lua_getfield(L, 2, "panels");
    int panels = lua_gettop(L);
    /* first pass: how many series and points, for one allocation that a
     * Lua error frees with the userdata */
    lua_Integer ns = 0, npts = 0;
    for (lua_Integer i = 1; i <= np; i++) {
        if (lua_geti(L, panels, i) != LUA_TTABLE) luaL_error(L, "plot: spec.panels[%d] must be a table", (int)i);
        lua_Integer k = list_field(L, -1, "series", "panel");
        lua_getfield(L, -1, "series");
        for (lua_Integer j = 1; j <= k; j++) {
            if (lua_geti(L, -1, j) != LUA_TTABLE)
                luaL_error(L, "plot: panels[%d].series[%d] must be a table", (int)i, (int)j);
            lua_Integer n = list_field(L, -1, "y", "series");
            npts += n;
            lua_pop(L, 1);
            if (npts > PLOT_MAX_POINTS) luaL_error(L, "plot: more than %d points", PLOT_MAX_POINTS);
        }
        lua_pop(L, 2);
        ns += k;
        if (ns > PLOT_MAX_SERIES) luaL_error(L, "plot: more than %d series", PLOT_MAX_SERIES);
    }
    size_t bytes =
        sizeof(ae_plot_panel) * (size_t)np + sizeof(ae_plot_series) * (size_t)ns + 2 * sizeof(double) * (size_t)npts;
    char *mem = lua_newuserdatauv(L, bytes ? bytes : 1, 0);
    ae_plot_panel *pp = (ae_plot_panel *)(void *)mem;
    ae_plot_series *ss = (ae_plot_series *)(void *)(pp + np);
    double *values = (double *)(void *)(ss + ns);
    char where[64];
    for (lua_Integer i = 1; i <= np; i++) {
        lua_geti(L, panels, i);
        int t = lua_gettop(L);
        ae_plot_panel *p = &pp[i - 1];
        snprintf(where, sizeof where, "panels[%d]", (int)i);
        *p = (ae_plot_panel){0};
        p->title = opt_string_field(L, t, "title", where);
        p->xlabel = opt_string_field(L, t, "xlabel", where);
        p->ylabel = opt_string_field(L, t, "ylabel", where);
        lua_getfield(L, t, "log");
        p->log_y = lua_toboolean(L, -1);
        lua_getfield(L, t, "legend");
        p->legend = lua_isnil(L, -1) || lua_toboolean(L, -1);
        lua_pop(L, 2);
        opt_limits(L, t, "xlim", p->xlim, where);
        opt_limits(L, t, "ylim", p->ylim, where);
        p->n_series = (int)list_field(L, t, "series", where);
        p->series = ss;
        lua_getfield(L, t, "series");
        int st = lua_gettop(L);
        for (int j = 1; j <= p->n_series; j++) {
            lua_geti(L, st, j);
            int e = lua_gettop(L);
            ae_plot_series *s = ss++;
            snprintf(where, sizeof where, "panels[%d].series[%d]", (int)i, j);
            *s = (ae_plot_series){0};
            s->name = opt_string_field(L, e, "name", where);
            lua_Integer n = list_field(L, e, "y", where), nx = list_field(L, e, "x", where);
            lua_getfield(L, e, "x");
            int has_x = !lua_isnil(L, -1);
            lua_pop(L, 1);
            if (has_x && nx != n) luaL_error(L, "plot: %s has %d x values and %d y values", where, (int)nx, (int)n);
            s->n = (int)n;
            s->y = values;
            numbers_field(L, e, "y", values, n, where);
            values += n;
            s->x = values;
            if (has_x) numbers_field(L, e, "x", values, n, where);
            else
                for (lua_Integer k = 0; k < n; k++) values[k] = (double)(k + 1);
            values += n;
            s->size = opt_number_field(L, e, "size", 0, where);
            if (!(s->size >= 0 && s->size <= 100)) luaL_error(L, "plot: %s.size must be in 0..100", where);
            const char *style = opt_string_field(L, e, "style", where);
            if (!style || strcmp(style, "line") == 0) s->style = AE_PLOT_LINE;
            else if (strcmp(style, "points") == 0) s->style = AE_PLOT_POINTS;
            else luaL_error(L, "plot: %s.style must be \"line\" or \"points\", got \"%s\"", where, style);
            lua_getfield(L, e, "color");
            if (lua_isnil(L, -1)) s->rgb[0] = s->rgb[1] = s->rgb[2] = 0;
            else check_color(L, lua_gettop(L), s->rgb);
            lua_settop(L, e - 1);
        }
        lua_settop(L, t - 1);
    }
    plot.panels = pp;
    plot.n_panels = (int)np;
    if (ae_plot_write(path, &plot) != 0) return lae_raise(L);
    lua_createtable(L, (int)np, 0);
    for (lua_Integer i = 0; i < np; i++) {
        const ae_plot_panel *p = &pp[i];
        lua_createtable(L, 0, 4);
        lua_createtable(L, 4, 0);
        for (int k = 0; k < 4; k++) {
            lua_pushnumber(L, p->box[k]);
            lua_rawseti(L, -2, k + 1);
        }
        lua_setfield(L, -2, "box");
        push_pair(L, p->xrange[0], p->xrange[1]);
        lua_setfield(L, -2, "xlim");
        push_pair(L, p->yrange[0], p->yrange[1]);
        lua_setfield(L, -2, "ylim");
        lua_pushboolean(L, p->log_y);
        lua_setfield(L, -2, "log");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg canvas_methods[] = {{"size", l_size}, {"clip", l_clip}, {"rect", l_rect},
                                          {"blit", l_blit}, {"save", l_save}, {"totensor", l_totensor},
                                          {"free", l_free}, {NULL, NULL}};

static const luaL_Reg canvas_meta[] = {{"__gc", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg functions[] = {{"canvas", l_canvas},
                                     {"png_read", l_png_read},
                                     {"plot", l_plot},
                                     {"image_folder", l_image_folder},
                                     {"jpeg_write", l_jpeg_write},
                                     {NULL, NULL}};

static const luaL_Reg imagedir_meta[] = {{"__gc", imagedir_gc}, {NULL, NULL}};

void lae_open_image(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_new_class(L, LAE_CANVAS, canvas_meta, canvas_methods);
    lua_pop(L, 1);
    lae_new_class(L, LAE_IMAGEDIR, imagedir_meta, NULL);
    lua_pop(L, 1);
}
