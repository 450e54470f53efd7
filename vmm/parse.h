/* parse: pure parsers for command-line values. */
#ifndef VMM_PARSE_H
#define VMM_PARSE_H

#include <stdint.h>

/*
 * Parses a memory size: a positive integer with an optional K, M, G or T
 * suffix (binary, case-insensitive, an optional trailing "iB" or "B"); no
 * suffix means MiB, as QEMU and Firecracker read it. Returns 0 and sets
 * *bytes, or -EINVAL (malformed) / -ERANGE (overflows 64 bits).
 */
int parse_mem_size(const char *s, uint64_t *bytes);

/* Parses a decimal integer in [min, max]. Returns 0, -EINVAL or -ERANGE. */
int parse_int_range(const char *s, long min, long max, long *out);

/*
 * Parses a duration in whole seconds: a positive decimal integer with an
 * optional s, m or h suffix (lower case; no suffix means seconds), at most
 * max_s seconds once scaled. Returns 0 and sets *seconds, -EINVAL
 * (malformed, zero) or -ERANGE (above max_s).
 */
int parse_duration(const char *s, unsigned max_s, unsigned *seconds);

#endif
