/* parse: pure parsers for command-line values. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

int parse_mem_size(const char *s, uint64_t *bytes)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	unsigned shift;
	switch (toupper((unsigned char)*end)) {
	case '\0':
	case 'M':
		shift = 20;
		break;
	case 'K':
		shift = 10;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (strcasecmp(end, "") && strcasecmp(end, "B") && strcasecmp(end, "iB"))
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	if (n > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = (uint64_t)n << shift;
	return 0;
}

int parse_int_range(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || end == s)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_duration(const char *s, unsigned max_s, unsigned *seconds)
{
	/* strtoul would take leading blanks and a sign: refuse them first. */
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	unsigned long long unit = 1;
	if (*end == 's' || *end == 'm' || *end == 'h') {
		unit = *end == 's' ? 1 : *end == 'm' ? 60 : 3600;
		end++;
	}
	if (*end || n == 0)
		return -EINVAL;
	if (errno == ERANGE || n > max_s / unit)
		return -ERANGE;
	*seconds = (unsigned)(n * unit);
	return 0;
}
