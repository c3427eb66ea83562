/* rnn.c: the recurrent op (ops/rnn.h) for Lua, one direction of one layer:
 *     ae.lstm(x, h0, c0, w_ih, w_hh [, b_ih, b_hh [, opts]]) -> output, h_n, c_n
 *     ae.gru(x, h0, w_ih, w_hh [, b_ih, b_hh [, opts]])      -> output, h_n
 * x is T×B×I (B×T×I with batch_first); h0 and c0 are B×H or nil for zeros;
 * the weights are PyTorch's (4H×I, 4H×H, 4H for the LSTM; 3H for the GRU)
 * and the biases nil for none.  opts: {reverse = false, batch_first =
 * false, lengths = {...} or a 1-D tensor of B whole numbers in 1..T}. */
#include "binding.h"

#include <math.h>
#include <string.h>

#include "ops/rnn.h"

static bool flag(lua_State *L, int opts, const char *name, const char *fname)
{
    int t = lua_getfield(L, opts, name);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        luaL_error(L, "%s: option %s must be true or false, got %s", fname, name, lae_describe(L, -1));
    bool v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static double length_at(lua_State *L, int idx, ae_tensor *t, int64_t i)
{
    if (t) return ae_data(t)[i];
    lua_geti(L, idx, i + 1);
    if (lua_type(L, -1) != LUA_TNUMBER) return NAN;
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* the lengths option as B integers in a userdata left on the stack, or
 * NULL when absent; range checks are the op's */
static const int64_t *lengths_of(lua_State *L, int opts, int64_t B, const char *fname)
{
    int type = lua_getfield(L, opts, "lengths");
    int idx = lua_gettop(L);
    if (type == LUA_TNIL) return NULL;
    ae_tensor *t = lae_test_tensor(L, idx), *c = NULL;
    int64_t n;
    if (t) {
        if (t->ndim != 1) luaL_error(L, "%s: lengths must be a list or a 1-D tensor of %d numbers", fname, (int)B);
        c = ae_contiguous(t);
        if (!c) lae_raise(L);
        n = t->shape[0];
    } else if (type == LUA_TTABLE) {
        n = (int64_t)luaL_len(L, idx);
    } else {
        return luaL_error(L, "%s: lengths must be a list or a 1-D tensor, got %s", fname, lae_describe(L, idx)), NULL;
    }
    if (n != B) {
        ae_release(c);
        luaL_error(L, "%s: lengths has %d entries for a batch of %d", fname, (int)n, (int)B);
    }
    int64_t *out = lua_newuserdatauv(L, (size_t)(B > 0 ? B : 1) * sizeof(int64_t), 0);
    for (int64_t i = 0; i < B; i++) {
        double v = length_at(L, idx, c, i);
        if (!(v == floor(v)) || fabs(v) > 9.0e15) {
            ae_release(c);
            luaL_error(L, "%s: lengths[%d] must be a whole number, got %s", fname, (int)i + 1,
                       lua_pushfstring(L, "%f", v));
        }
        out[i] = (int64_t)v;
    }
    ae_release(c);
    return out;
}

static int rnn(lua_State *L, ae_rnn_cell cell)
{
    bool lstm = cell == AE_RNN_LSTM;
    const char *fname = lstm ? "ae.lstm" : "ae.gru";
    int a = lstm ? 4 : 3; /* w_ih's argument */
    ae_tensor *x = lae_check_tensor(L, 1), *h0 = lae_opt_tensor(L, 2), *c0 = lstm ? lae_opt_tensor(L, 3) : NULL;
    ae_tensor *w_ih = lae_check_tensor(L, a), *w_hh = lae_check_tensor(L, a + 1);
    ae_tensor *b_ih = lae_opt_tensor(L, a + 2), *b_hh = lae_opt_tensor(L, a + 3);
    int opts = a + 4;
    bool reverse = false, batch_first = false;
    const int64_t *lengths = NULL;
    if (!lua_isnoneornil(L, opts)) {
        lae_check_options(L, opts, fname);
        lua_pushnil(L);
        while (lua_next(L, opts)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!k || (strcmp(k, "reverse") && strcmp(k, "batch_first") && strcmp(k, "lengths")))
                luaL_error(L, "%s: unknown option %s (known: reverse, batch_first, lengths)", fname,
                           lae_describe(L, -2));
            lua_pop(L, 1);
        }
        reverse = flag(L, opts, "reverse", fname);
        batch_first = flag(L, opts, "batch_first", fname);
        if (x->ndim == 3) lengths = lengths_of(L, opts, x->shape[batch_first ? 0 : 1], fname);
    }
    ae_rnn_result r;
    if (ae_rnn(cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, batch_first, &r) != 0) return lae_raise(L);
    lae_push_tensor(L, r.output);
    lae_push_tensor(L, r.h_n);
    if (!lstm) return 2;
    lae_push_tensor(L, r.c_n);
    return 3;
}

static int l_lstm(lua_State *L) { return rnn(L, AE_RNN_LSTM); }
static int l_gru(lua_State *L) { return rnn(L, AE_RNN_GRU); }

static const luaL_Reg functions[] = {{"lstm", l_lstm}, {"gru", l_gru}, {NULL, NULL}};

void lae_open_rnn(lua_State *L) { luaL_setfuncs(L, functions, 0); }
