/* profile.h: where a run's time goes, by kind of work (aerun --profile).
 * The clock is charged to one kind at a time: entering a kind (a GEMM, a
 * node's backward, a Lua-visible core function) charges the time since the
 * last switch to the kind that was running, so nested work is counted once,
 * by its innermost kind (the GEMM inside a convolution is "gemm", the
 * im2col around it "conv").  Whatever no kind claims is the Lua
 * interpreter's.  Off by default; when off every hook is one load and a
 * branch. */
#ifndef AE_PROFILE_H
#define AE_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    AE_PROF_LUA,         /* the rest: the interpreter and uninstrumented C */
    AE_PROF_GEMM,        /* every ae_gemm call */
    AE_PROF_CONV,        /* convolution and pooling outside their GEMMs */
    AE_PROF_ELEMENTWISE, /* every other tensor op, forward and backward */
    AE_PROF_OPTIMIZER,   /* optimizer updates, gradient clipping */
    AE_PROF_DATA,        /* batching, shuffling, reading data sets */
    AE_PROF_AUTOGRAD,    /* the graph walk of backward outside the ops */
    AE_PROF_KINDS
} ae_prof_kind;

extern bool ae_prof_on;

/* starts profiling now (idempotent); the report is printed to stderr at exit */
void ae_profile_enable(void);
static inline bool ae_profile_enabled(void) { return ae_prof_on; }

/* switches to kind for an op named name (a string that outlives the run, or
 * NULL); returns the token that ae_prof_leave takes to switch back.
 * Tokens are stack depths, so a leave after an error that skipped inner
 * leaves still restores the right state. */
int ae_prof_enter(ae_prof_kind kind, const char *name);
/* the same for a graph node's backward (listed apart in the report) */
int ae_prof_enter_backward(ae_prof_kind kind, const char *name);
void ae_prof_leave(int token);

/* the kind of a graph op by its name (conv, pooling and the rest) */
ae_prof_kind ae_prof_kind_of_op(const char *op);
const char *ae_prof_kind_name(ae_prof_kind k);

typedef struct {
    double total; /* seconds since enable (or reset) */
    double seconds[AE_PROF_KINDS];
    uint64_t calls[AE_PROF_KINDS];
} ae_profile_totals;

void ae_profile_get(ae_profile_totals *t);
void ae_profile_reset(void);
void ae_profile_report(FILE *f);

#endif
