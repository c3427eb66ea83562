/* gemm.c: what the benchmark and users need to know about and steer
 * the GEMM behind every layer: its name, its thread count, the work done,
 * and its speed on a given shape. */
#include "binding.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/gemm.h"
#include "core/pool.h"

static int l_gemm_flops(lua_State *L)
{
    lua_pushnumber(L, ae_gemm_flops());
    return 1;
}

static int l_gemm_backend(lua_State *L)
{
    lua_pushstring(L, ae_gemm_backend());
    return 1;
}

static int l_gemm_threads(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        int64_t n = lae_check_int(L, 1, "threads");
        if (n < 1 || n > 1024) luaL_argerror(L, 1, "threads must be between 1 and 1024");
        ae_gemm_set_threads((int)n);
    }
    lua_pushinteger(L, ae_gemm_threads());
    return 1;
}

/* precision([name]) -> the precision before the call ("fp32" or "bf16") */
static int l_precision(lua_State *L)
{
    const char *was = ae_gemm_precision();
    if (!lua_isnoneornil(L, 1) && ae_gemm_set_precision(luaL_checkstring(L, 1)) != 0) luaL_argerror(L, 1, ae_error());
    lua_pushstring(L, was);
    return 1;
}

/* autocast(name, f, ...) -> f(...) with the products in that precision */
static int l_autocast(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    bool was = ae_gemm_bf16();
    if (ae_gemm_set_precision(name) != 0) luaL_argerror(L, 1, ae_error());
    int n = lua_gettop(L) - 2;
    int rc = lua_pcall(L, n, LUA_MULTRET, 0);
    ae_gemm_set_bf16(was);
    if (rc != LUA_OK) return lua_error(L);
    return lua_gettop(L) - 1;
}

/* round_bf16(x) -> a new tensor: x's values rounded to bf16 (as
 * x.bfloat16().float() in PyTorch), without a graph */
static int l_round_bf16(lua_State *L)
{
    ae_tensor *x = lae_check_tensor(L, 1);
    ae_tensor *c = ae_clone_data(x);
    if (!c) return lae_raise(L);
    float *p = ae_data(c);
    int64_t n = ae_numel(c);
    uint16_t *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    if (!h) {
        ae_release(c);
        return luaL_error(L, "round_bf16: out of memory");
    }
    ae_to_bf16(p, h, n);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)h[i] << 16;
        memcpy(&p[i], &u, sizeof u);
    }
    free(h);
    lae_push_tensor(L, c);
    return 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* bench_gemm(m, n, k[, seconds = 0.5]) -> GFLOP/s of C = A·B on random data */
static int l_bench_gemm(lua_State *L)
{
    int64_t m = lae_check_int(L, 1, "m"), n = lae_check_int(L, 2, "n"), k = lae_check_int(L, 3, "k");
    double budget = lae_opt_number(L, 4, 0.5);
    if (!(budget >= 0 && budget <= 60)) luaL_argerror(L, 4, "seconds must be between 0 and 60");
    if (m < 1 || n < 1 || k < 1 || m > 16384 || n > 16384 || k > 16384)
        return luaL_error(L, "bench_gemm: sizes must be between 1 and 16384");
    float *a = ae_pool_get((size_t)(m * k)), *b = ae_pool_get((size_t)(k * n)), *c = ae_pool_get((size_t)(m * n));
    if (!a || !b || !c) {
        ae_pool_put(a, (size_t)(m * k));
        ae_pool_put(b, (size_t)(k * n));
        ae_pool_put(c, (size_t)(m * n));
        return lae_raise(L);
    }
    for (int64_t i = 0; i < m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (int64_t i = 0; i < k * n; i++) b[i] = (float)(i % 5) * 0.1f;
    ae_gemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n); /* warm-up */
    double t0 = now(), t;
    long reps = 0;
    do {
        ae_gemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        reps++;
        t = now() - t0;
    } while (t < budget);
    ae_pool_put(a, (size_t)(m * k));
    ae_pool_put(b, (size_t)(k * n));
    ae_pool_put(c, (size_t)(m * n));
    lua_pushnumber(L, 2.0 * (double)m * (double)n * (double)k * (double)reps / t / 1e9);
    return 1;
}

static const luaL_Reg functions[] = {{"gemm_flops", l_gemm_flops},     {"gemm_backend", l_gemm_backend},
                                     {"gemm_threads", l_gemm_threads}, {"bench_gemm", l_bench_gemm},
                                     {"precision", l_precision},       {"autocast", l_autocast},
                                     {"round_bf16", l_round_bf16},     {NULL, NULL}};

void lae_open_gemm(lua_State *L) { luaL_setfuncs(L, functions, 0); }
