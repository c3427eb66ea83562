/* error.h: the runtime's one error channel.
 * C functions of the core never longjmp or abort on bad input: they record a
 * message here and return NULL (or -1).  The Lua binding turns the message
 * into a Lua error, so the core stays free of lua.h. */
#ifndef AE_ERROR_H
#define AE_ERROR_H

#include <stddef.h>

const char *ae_error(void);
void ae_clear_error(void);
/* record a printf-style message; both return the failure value for chaining */
void *ae_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ae_failc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
