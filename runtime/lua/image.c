/* image.c: pictures for Lua: core.png_read(path) and core.canvas(w,
 * h[, channels, background]), a userdata over raster.h's canvas that the
 * Lua module aerun.image draws grids, scatter plots and curves on.
 * Coordinates are pixels from the top-left corner (x right, y down), as
 * in raster.h; a colour is a gray level 0..255, a table {r, g, b} or a
 * string "#rrggbb". */
#include "binding.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/png.h"
#include "io/raster.h"

#define LAE_CANVAS "aerun.Canvas"

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
    lua_Number v = luaL_checknumber(L, arg);
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
    double x0 = luaL_checknumber(L, 2), y0 = luaL_checknumber(L, 3);
    double x1 = luaL_checknumber(L, 4), y1 = luaL_checknumber(L, 5);
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
    double x = luaL_checknumber(L, 2), y = luaL_checknumber(L, 3), r = luaL_checknumber(L, 4);
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
    float lo = (float)luaL_optnumber(L, 5, 0.0), hi = (float)luaL_optnumber(L, 6, 1.0);
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

static const luaL_Reg canvas_methods[] = {
    {"size", l_size}, {"clip", l_clip}, {"rect", l_rect},         {"line", l_line}, {"disc", l_disc}, {"text", l_text},
    {"blit", l_blit}, {"save", l_save}, {"totensor", l_totensor}, {"free", l_free}, {NULL, NULL}};

static const luaL_Reg canvas_meta[] = {{"__gc", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"canvas", l_canvas}, {"png_read", l_png_read}, {"text_width", l_text_width}, {NULL, NULL}};

void lae_open_image(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lae_new_class(L, LAE_CANVAS, canvas_meta, canvas_methods);
    lua_pop(L, 1);
}
