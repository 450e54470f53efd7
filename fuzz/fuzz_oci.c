/* libFuzzer target: config.json (and an exec --process file) as a user
 * or a client hands them to vmm-runtime. Checks what the runtime relies on
 * for an accepted config. */
#include <stdlib.h>
#include <string.h>

#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config c;
	char err[256];
	if (oci_config_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		if (!c.root_path || !c.root_path[0] || !c.process.args || !c.process.args[0] ||
		    !c.process.env || c.process.cwd[0] != '/' || c.nmounts > OCI_MAX_MOUNTS)
			abort();
		for (int i = 0; i < c.nmounts; i++)
			if (c.mounts[i].destination[0] != '/' || !c.mounts[i].options)
				abort();
		for (int k = 0; k < OCI_NHOOKS; k++)
			for (int i = 0; i < c.nhooks[k]; i++)
				if (c.hooks[k][i].path[0] != '/' || !c.hooks[k][i].args)
					abort();
		if (oci_vcpus(&c, 64) < 1 || oci_vcpus(&c, 64) > 64 || oci_memory(&c, 1) < 1)
			abort();
		oci_config_free(&c);
	} else if (!err[0]) {
		abort(); /* a refusal always says why */
	}
	/* The same bytes as an exec --process file. */
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct proto_process p;
	unsigned rows, cols;
	if (j && oci_process_parse(j, "process", &p, &rows, &cols, err, sizeof(err)) == 0) {
		if (!p.args[0] || p.cwd[0] != '/' || rows > 65535 || cols > 65535)
			abort();
		proto_process_free(&p);
	}
	json_decref(j);
	return 0;
}
