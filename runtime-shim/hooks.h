/*
 * hooks: the OCI lifecycle hooks of a config (prestart, createRuntime,
 * poststart, poststop): each run in turn with the container's state JSON
 * on its stdin, its own args and env, killed past its timeout. What a
 * hook writes (stdout and stderr) comes to us, never to the container's
 * stdio, and is in the error when it fails, as runc reports it.
 */
#ifndef VMM_RT_HOOKS_H
#define VMM_RT_HOOKS_H

#include <jansson.h>
#include <stddef.h>

#include "oci.h"

/* Runs cfg's hooks of one kind. Returns 0, or -1 at the first that fails
 * (non-zero exit, signal, timeout, cannot run) with err naming it. */
int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const json_t *state, char *err,
	      size_t errlen);

#endif
