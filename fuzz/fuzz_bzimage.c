/* libFuzzer target: bzimage_parse on arbitrary bytes (a user's --kernel). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage bz;
	if (bzimage_parse(data, size, &bz) == BZ_OK) {
		/* What a loader will rely on must hold for every accepted image. */
		if (bz.kernel_offset + bz.kernel_size != size || bz.kernel_offset < 1024 ||
		    bz.kernel_size == 0 || bz.cmdline_size == 0 || bz.load_addr < BZ_DEFAULT_LOAD)
			abort();
	}
	return 0;
}
