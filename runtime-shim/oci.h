/*
 * oci: an OCI runtime-spec config.json (and an `exec --process` file),
 * read into what vmm-runtime acts on. Pure: no I/O but the file read, so
 * it is unit-tested and fuzzed.
 *
 * Fields honoured: ociVersion (1.x), root.path/readonly, process (args,
 * env, cwd, user uid/gid/additionalGids, terminal, consoleSize, rlimits,
 * noNewPrivileges), hostname, mounts, annotations, linux.namespaces (the
 * network entry and its path), linux.resources (cpu quota/period, memory
 * limit), hooks (prestart, createRuntime, poststart, poststop). Others are
 * accepted and ignored (capabilities, seccomp, ...: the VM is the
 * boundary). Every field present is type-checked: a wrong type is one
 * error naming the field ("process.args: must be ...").
 */
#ifndef VMM_RT_OCI_H
#define VMM_RT_OCI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define OCI_MAX_MOUNTS 64
#define OCI_MAX_HOOKS  16

enum oci_hook_kind { OCI_PRESTART, OCI_CREATE_RUNTIME, OCI_POSTSTART, OCI_POSTSTOP, OCI_NHOOKS };

struct oci_hook {
	const char *path;
	char **args; /* NULL-terminated, may be empty (then argv[0] = path) */
	char **env;  /* NULL-terminated */
	int timeout; /* seconds; 0: none */
};

struct oci_mount {
	const char *destination, *type, *source; /* type, source may be NULL */
	char **options;				 /* NULL-terminated */
};

struct oci_config {
	json_t *json; /* owns every string below */
	const char *oci_version;
	const char *root_path;
	bool root_readonly;
	struct proto_process process;
	unsigned console_rows, console_cols; /* 0: not given */
	const char *hostname;		     /* NULL: none */
	struct oci_mount mounts[OCI_MAX_MOUNTS];
	int nmounts;
	bool netns;		/* linux.namespaces has a network entry */
	const char *netns_path; /* ... to join (NULL: a new one) */
	int64_t cpu_quota;	/* linux.resources.cpu; 0: none */
	uint64_t cpu_period;
	int64_t memory_limit; /* linux.resources.memory.limit; 0: none */
	struct oci_hook hooks[OCI_NHOOKS][OCI_MAX_HOOKS];
	int nhooks[OCI_NHOOKS];
};

/* Parses a config.json text. Returns 0, or -1 with one line in err (the
 * config is then empty, nothing to free). */
int oci_config_parse(const char *text, size_t len, struct oci_config *c, char *err, size_t errlen);

/* Reads and parses path. Returns 0 or -1 with err (naming the file). */
int oci_config_load(const char *path, struct oci_config *c, char *err, size_t errlen);

void oci_config_free(struct oci_config *c);

/* A process object (config.json's "process", or an exec --process
 * file): into p (strings borrowed from j; proto_process_free() it), the
 * console size into rows/cols (0 if absent). where prefixes errors. */
int oci_process_parse(const json_t *j, const char *where, struct proto_process *p, unsigned *rows,
		      unsigned *cols, char *err, size_t errlen);

/* The VM's size from linux.resources, as Kata does: vCPUs =
 * ceil(quota / period) (default 1, at most max_cpus), memory = the limit
 * rounded down to whole 4 KiB pages (default def_mem, at least 128 MiB). */
int oci_vcpus(const struct oci_config *c, int max_cpus);
uint64_t oci_memory(const struct oci_config *c, uint64_t def_mem);

#endif
