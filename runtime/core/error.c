/* error.c: see error.h */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static char message[1024];

const char *ae_error(void) { return message[0] ? message : "unknown error"; }

void ae_clear_error(void) { message[0] = '\0'; }

static void record(const char *fmt, va_list ap) { vsnprintf(message, sizeof message, fmt, ap); }

void *ae_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(fmt, ap);
    va_end(ap);
    return NULL;
}

int ae_failc(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(fmt, ap);
    va_end(ap);
    return -1;
}
