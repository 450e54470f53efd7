/* errf: for functions that report why they failed in a caller's buffer
 * (char *err, size_t errlen): the message formatted there in one call. */
#ifndef VMM_ERRF_H
#define VMM_ERRF_H

#include <stddef.h>

/* Formats fmt and its arguments into err (errlen bytes, NUL-terminated
 * when errlen > 0; a longer message is cut short) and returns -1, so a
 * failure is `return errf(err, errlen, ...)`. Needs libc alone: the agent
 * compiles errf.c into its static guest binary too. Not named `fail`:
 * check.h defines that as a macro, and the unit tests include both. */
__attribute__((format(printf, 3, 4))) int errf(char *err, size_t errlen, const char *fmt, ...);

#endif
