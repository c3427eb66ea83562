/* profile.c: see profile.h.  A stack of (kind, op) frames; each switch
 * charges the time since the previous switch to the frame on top, both to
 * its kind and to its op's line in a small table for the report. */
#include "profile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 64
#define MAX_OPS 256 /* distinct (kind, op, phase) lines; later ones go to their kind only */

typedef struct {
    const char *name;
    ae_prof_kind kind;
    bool backward;
    double seconds;
    uint64_t calls;
} op_line;

typedef struct {
    ae_prof_kind kind;
    int op;
} frame;

bool ae_prof_on;
static frame stack[MAX_DEPTH];
static int depth; /* frames above the base (Lua) frame */
static double start, last;
static double seconds[AE_PROF_KINDS];
static uint64_t calls[AE_PROF_KINDS];
static op_line ops[MAX_OPS];
static int nops;

static const char *const kind_names[AE_PROF_KINDS] = {
    [AE_PROF_LUA] = "Lua (the rest)",      [AE_PROF_GEMM] = "gemm",           [AE_PROF_CONV] = "conv",
    [AE_PROF_ELEMENTWISE] = "elementwise", [AE_PROF_OPTIMIZER] = "optimizer", [AE_PROF_DATA] = "data",
    [AE_PROF_AUTOGRAD] = "autograd",
};

const char *ae_prof_kind_name(ae_prof_kind k) { return (unsigned)k < AE_PROF_KINDS ? kind_names[k] : "?"; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the op's line, found by the name's address first (names are static
 * strings or interned Lua strings), by its text otherwise */
static int op_index(ae_prof_kind kind, const char *name, bool backward)
{
    if (!name) return -1;
    for (int i = 0; i < nops; i++)
        if (ops[i].kind == kind && ops[i].backward == backward &&
            (ops[i].name == name || strcmp(ops[i].name, name) == 0))
            return i;
    if (nops == MAX_OPS) return -1;
    char *copy = malloc(strlen(name) + 1);
    if (!copy) return -1;
    strcpy(copy, name);
    ops[nops] = (op_line){copy, kind, backward, 0, 0};
    return nops++;
}

static void charge(double t)
{
    frame *f = &stack[depth];
    double dt = t - last;
    seconds[f->kind] += dt;
    if (f->op >= 0) ops[f->op].seconds += dt;
    last = t;
}

static void report_at_exit(void) { ae_profile_report(stderr); }

void ae_profile_enable(void)
{
    if (ae_prof_on) return;
    ae_prof_on = true;
    ae_profile_reset();
    atexit(report_at_exit);
}

static int enter(ae_prof_kind kind, const char *name, bool backward)
{
    int token = depth;
    if (!ae_prof_on) return token;
    charge(now());
    if (depth + 1 < MAX_DEPTH) depth++;
    stack[depth] = (frame){kind, op_index(kind, name, backward)};
    calls[kind]++;
    if (stack[depth].op >= 0) ops[stack[depth].op].calls++;
    return token;
}

int ae_prof_enter(ae_prof_kind kind, const char *name) { return enter(kind, name, false); }

int ae_prof_enter_backward(ae_prof_kind kind, const char *name) { return enter(kind, name, true); }

void ae_prof_leave(int token)
{
    if (!ae_prof_on) return;
    charge(now());
    if (token >= 0 && token < depth) depth = token;
}

ae_prof_kind ae_prof_kind_of_op(const char *op)
{
    if (!op) return AE_PROF_ELEMENTWISE;
    if (strstr(op, "conv") || strstr(op, "pool") || strstr(op, "upsample")) return AE_PROF_CONV;
    return AE_PROF_ELEMENTWISE;
}

void ae_profile_get(ae_profile_totals *t)
{
    if (ae_prof_on) charge(now());
    t->total = ae_prof_on ? last - start : 0;
    for (int k = 0; k < AE_PROF_KINDS; k++) {
        t->seconds[k] = seconds[k];
        t->calls[k] = calls[k];
    }
}

void ae_profile_reset(void)
{
    start = last = now();
    stack[0] = (frame){AE_PROF_LUA, -1};
    memset(seconds, 0, sizeof seconds);
    memset(calls, 0, sizeof calls);
    for (int i = 0; i < nops; i++) {
        ops[i].seconds = 0;
        ops[i].calls = 0;
    }
}

static int by_seconds(const void *a, const void *b)
{
    const op_line *x = a, *y = b;
    return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

void ae_profile_report(FILE *f)
{
    if (!ae_prof_on) return;
    ae_profile_totals t;
    ae_profile_get(&t);
    double total = t.total > 0 ? t.total : 1e-9;
    fprintf(f, "\naerun profile: %.3f s wall\n", t.total);
    fprintf(f, "  %-16s %9s %7s %11s\n", "kind", "seconds", "share", "calls");
    static const ae_prof_kind order[] = {AE_PROF_GEMM, AE_PROF_CONV,     AE_PROF_ELEMENTWISE, AE_PROF_OPTIMIZER,
                                         AE_PROF_DATA, AE_PROF_AUTOGRAD, AE_PROF_LUA};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        ae_prof_kind k = order[i];
        fprintf(f, "  %-16s %9.3f %6.1f%% %11llu\n", kind_names[k], t.seconds[k], 100.0 * t.seconds[k] / total,
                (unsigned long long)t.calls[k]);
    }
    op_line sorted[MAX_OPS];
    memcpy(sorted, ops, (size_t)nops * sizeof *ops);
    qsort(sorted, (size_t)nops, sizeof *sorted, by_seconds);
    fprintf(f, "  the costliest ops, without the GEMMs they call:\n");
    for (int i = 0; i < nops && i < 12 && sorted[i].seconds > 0; i++) {
        char label[64];
        snprintf(label, sizeof label, "%s%s", sorted[i].backward ? "backward " : "", sorted[i].name);
        fprintf(f, "    %-24s %-12s %8.3f %6.1f%% %9llu\n", label, kind_names[sorted[i].kind], sorted[i].seconds,
                100.0 * sorted[i].seconds / total, (unsigned long long)sorted[i].calls);
    }
}
