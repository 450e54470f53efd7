/* oci: config.json parsing; see oci.h. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "files.h"

#define MAX_CONFIG (4 << 20) /* config.json is a few KiB; refuse a huge one */

/* An optional member of a given JSON type: 0 with *out set (NULL if
 * absent), or -1 if present with another type. */
static int member(const json_t *o, const char *key, json_type type, const char *where,
		  const char *what, const json_t **out, char *err, size_t errlen)
{
	*out = json_object_get(o, key);
	if (*out && json_typeof(*out) != type) {
		*out = NULL;
		return errf(err, errlen, "%s%s: must be %s", where, key, what);
	}
	return 0;
}

static int opt_string(const json_t *o, const char *key, const char *where, const char **out,
		      char *err, size_t errlen)
{
	const json_t *v;
	if (member(o, key, JSON_STRING, where, "a string", &v, err, errlen))
		return -1;
	if (v)
		*out = json_string_value(v);
	return 0;
}

static int opt_bool(const json_t *o, const char *key, const char *where, bool *out, char *err,
		    size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	if (v && !json_is_boolean(v))
		return errf(err, errlen, "%s%s: must be true or false", where, key);
	if (v)
		*out = json_is_true(v);
	return 0;
}

/* An integer member in [min, max]. */
static int opt_int(const json_t *o, const char *key, const char *where, json_int_t min,
		   json_int_t max, json_int_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return errf(err, errlen, "%s%s: must be an integer from %lld to %lld", where, key,
			    (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* A string array member into a malloc'd NULL-terminated array of borrowed
 * strings (an empty one when absent). */
static char **opt_strings(const json_t *o, const char *key, const char *where, size_t max,
			  char *err, size_t errlen)
{
	const json_t *a = json_object_get(o, key);
	if (a && (!json_is_array(a) || json_array_size(a) > max)) {
		errf(err, errlen, "%s%s: must be an array of at most %zu strings", where, key, max);
		return NULL;
	}
	size_t n = a ? json_array_size(a) : 0;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(a, i);
		if (!json_is_string(s)) {
			free(v);
			errf(err, errlen, "%s%s[%zu]: must be a string", where, key, i);
			return NULL;
		}
		v[i] = (char *)json_string_value(s);
	}
	return v;
}

int oci_process_parse(const json_t *j, const char *where, struct proto_process *p, unsigned *rows,
		      unsigned *cols, char *err, size_t errlen)
{
	char w[64];
	memset(p, 0, sizeof(*p));
	p->cwd = "/";
	*rows = *cols = 0;
	if (!json_is_object(j))
		return errf(err, errlen, "%s: must be an object", where);
	snprintf(w, sizeof(w), "%s.", where);
	const json_t *user, *size, *rl;
	json_int_t uid = 0, gid = 0, r = 0, c = 0;
	if (!(p->args = opt_strings(j, "args", w, PROTO_MAX_ARGS, err, errlen)))
		goto bad;
	if (!p->args[0] || !p->args[0][0]) {
		errf(err, errlen, "%sargs: must name the program to run", w);
		goto bad;
	}
	if (!(p->env = opt_strings(j, "env", w, PROTO_MAX_ARGS, err, errlen)) ||
	    opt_string(j, "cwd", w, &p->cwd, err, errlen) ||
	    opt_bool(j, "terminal", w, &p->terminal, err, errlen) ||
	    opt_bool(j, "noNewPrivileges", w, &p->no_new_privs, err, errlen) ||
	    member(j, "user", JSON_OBJECT, w, "an object", &user, err, errlen) ||
	    member(j, "consoleSize", JSON_OBJECT, w, "an object", &size, err, errlen) ||
	    member(j, "rlimits", JSON_ARRAY, w, "an array", &rl, err, errlen))
		goto bad;
	if (p->cwd[0] != '/') {
		errf(err, errlen, "%scwd: must be an absolute path", w);
		goto bad;
	}
	if (user) {
		char uw[80];
		snprintf(uw, sizeof(uw), "%suser.", w);
		if (opt_int(user, "uid", uw, 0, UINT32_MAX - 1, &uid, err, errlen) ||
		    opt_int(user, "gid", uw, 0, UINT32_MAX - 1, &gid, err, errlen))
			goto bad;
		const json_t *g;
		if (member(user, "additionalGids", JSON_ARRAY, uw, "an array", &g, err, errlen))
			goto bad;
		size_t n = g ? json_array_size(g) : 0;
		if (n > 64) {
			errf(err, errlen, "%sadditionalGids: at most 64", uw);
			goto bad;
		}
		p->groups = calloc(n + 1, sizeof(gid_t));
		if (!p->groups) {
			errf(err, errlen, "out of memory");
			goto bad;
		}
		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_array_get(g, i);
			if (!json_is_integer(x) || json_integer_value(x) < 0 ||
			    json_integer_value(x) > UINT32_MAX - 1) {
				errf(err, errlen, "%sadditionalGids[%zu]: must be a group id", uw,
				     i);
				goto bad;
			}
			p->groups[i] = (gid_t)json_integer_value(x);
		}
		p->ngroups = n;
	}
	p->uid = (uid_t)uid;
	p->gid = (gid_t)gid;
	if (size) {
		char sw[80];
		snprintf(sw, sizeof(sw), "%sconsoleSize.", w);
		if (opt_int(size, "height", sw, 0, 65535, &r, err, errlen) ||
		    opt_int(size, "width", sw, 0, 65535, &c, err, errlen))
			goto bad;
		*rows = (unsigned)r;
		*cols = (unsigned)c;
	}
	size_t n = rl ? json_array_size(rl) : 0;
	if (n > PROTO_MAX_RLIMITS) {
		errf(err, errlen, "%srlimits: at most %d", w, PROTO_MAX_RLIMITS);
		goto bad;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(rl, i);
		char rw[80];
		snprintf(rw, sizeof(rw), "%srlimits[%zu].", w, i);
		const char *type = NULL;
		json_int_t soft = 0, hard = 0;
		if (!json_is_object(x)) {
			errf(err, errlen, "%srlimits[%zu]: must be an object", w, i);
			goto bad;
		}
		/* Limits are uint64 in the spec; jansson's integers are signed,
		 * so RLIM_INFINITY (2^64-1) does not fit: a negative value or
		 * the largest one both mean unlimited. */
		if (opt_string(x, "type", rw, &type, err, errlen) ||
		    opt_int(x, "soft", rw, INT64_MIN, INT64_MAX, &soft, err, errlen) ||
		    opt_int(x, "hard", rw, INT64_MIN, INT64_MAX, &hard, err, errlen))
			goto bad;
		int res = type ? proto_rlimit_resource(type) : -1;
		if (res < 0) {
			errf(err, errlen, "%stype: not a known resource", rw);
			goto bad;
		}
		p->rlimits[i] = (struct proto_rlimit){
			.resource = res,
			.soft = soft < 0 || soft == INT64_MAX ? RLIM_INFINITY : (uint64_t)soft,
			.hard = hard < 0 || hard == INT64_MAX ? RLIM_INFINITY : (uint64_t)hard};
		if (p->rlimits[i].soft > p->rlimits[i].hard) {
			errf(err, errlen, "%ssoft: above hard", rw);
			goto bad;
		}
	}
	p->nrlimits = (int)n;
	return 0;
bad:
	proto_process_free(p);
	return -1;
}

static int parse_hooks(const json_t *j, struct oci_config *c, char *err, size_t errlen)
{
	static const char *const names[OCI_NHOOKS] = {"prestart", "createRuntime", "poststart",
						      "poststop"};
	const json_t *hooks;
	if (member(j, "hooks", JSON_OBJECT, "", "an object", &hooks, err, errlen))
		return -1;
	for (int k = 0; k < OCI_NHOOKS && hooks; k++) {
		const json_t *a;
		char w[64];
		snprintf(w, sizeof(w), "hooks.");
		if (member(hooks, names[k], JSON_ARRAY, w, "an array", &a, err, errlen))
			return -1;
		size_t n = a ? json_array_size(a) : 0;
		if (n > OCI_MAX_HOOKS)
			return errf(err, errlen, "hooks.%s: at most %d", names[k], OCI_MAX_HOOKS);
		for (size_t i = 0; i < n; i++) {
			const json_t *h = json_array_get(a, i);
			struct oci_hook *hk = &c->hooks[k][i];
			json_int_t timeout = 0;
			snprintf(w, sizeof(w), "hooks.%s[%zu].", names[k], i);
			if (!json_is_object(h))
				return errf(err, errlen, "hooks.%s[%zu]: must be an object",
					    names[k], i);
			c->nhooks[k] = (int)i + 1; /* so oci_config_free frees it */
			if (opt_string(h, "path", w, &hk->path, err, errlen) ||
			    !(hk->args = opt_strings(h, "args", w, 1024, err, errlen)) ||
			    !(hk->env = opt_strings(h, "env", w, 1024, err, errlen)) ||
			    opt_int(h, "timeout", w, 1, 86400, &timeout, err, errlen))
				return -1;
			if (!hk->path || hk->path[0] != '/')
				return errf(err, errlen, "%spath: must be an absolute path", w);
			hk->timeout = (int)timeout;
		}
	}
	return 0;
}

static int parse_mounts(const json_t *j, struct oci_config *c, char *err, size_t errlen)
{
	const json_t *a;
	if (member(j, "mounts", JSON_ARRAY, "", "an array", &a, err, errlen))
		return -1;
	size_t n = a ? json_array_size(a) : 0;
	if (n > OCI_MAX_MOUNTS)
		return errf(err, errlen, "mounts: at most %d", OCI_MAX_MOUNTS);
	for (size_t i = 0; i < n; i++) {
		const json_t *m = json_array_get(a, i);
		struct oci_mount *om = &c->mounts[i];
		char w[64];
		snprintf(w, sizeof(w), "mounts[%zu].", i);
		if (!json_is_object(m))
			return errf(err, errlen, "mounts[%zu]: must be an object", i);
		c->nmounts = (int)i + 1;
		if (opt_string(m, "destination", w, &om->destination, err, errlen) ||
		    opt_string(m, "type", w, &om->type, err, errlen) ||
		    opt_string(m, "source", w, &om->source, err, errlen) ||
		    !(om->options = opt_strings(m, "options", w, 64, err, errlen)))
			return -1;
		if (!om->destination || om->destination[0] != '/')
			return errf(err, errlen, "%sdestination: must be an absolute path", w);
	}
	return 0;
}

static int parse_linux(const json_t *j, struct oci_config *c, char *err, size_t errlen)
{
	const json_t *lx, *ns, *res, *cpu, *mem;
	if (member(j, "linux", JSON_OBJECT, "", "an object", &lx, err, errlen))
		return -1;
	if (!lx)
		return 0;
	if (member(lx, "namespaces", JSON_ARRAY, "linux.", "an array", &ns, err, errlen) ||
	    member(lx, "resources", JSON_OBJECT, "linux.", "an object", &res, err, errlen))
		return -1;
	for (size_t i = 0; ns && i < json_array_size(ns); i++) {
		const json_t *e = json_array_get(ns, i);
		const char *type = NULL, *path = NULL;
		char w[64];
		snprintf(w, sizeof(w), "linux.namespaces[%zu].", i);
		if (!json_is_object(e))
			return errf(err, errlen, "linux.namespaces[%zu]: must be an object", i);
		if (opt_string(e, "type", w, &type, err, errlen) ||
		    opt_string(e, "path", w, &path, err, errlen))
			return -1;
		if (!type)
			return errf(err, errlen, "%stype: missing", w);
		if (!strcmp(type, "network")) {
			c->netns = true;
			if (path && path[0] != '/')
				return errf(err, errlen, "%spath: must be an absolute path", w);
			c->netns_path = path && path[0] ? path : NULL;
		}
	}
	if (!res)
		return 0;
	if (member(res, "cpu", JSON_OBJECT, "linux.resources.", "an object", &cpu, err, errlen) ||
	    member(res, "memory", JSON_OBJECT, "linux.resources.", "an object", &mem, err, errlen))
		return -1;
	json_int_t quota = 0, period = 0, limit = 0;
	if (cpu &&
	    (opt_int(cpu, "quota", "linux.resources.cpu.", -1, INT64_MAX, &quota, err, errlen) ||
	     opt_int(cpu, "period", "linux.resources.cpu.", 0, INT64_MAX, &period, err, errlen)))
		return -1;
	if (mem &&
	    opt_int(mem, "limit", "linux.resources.memory.", -1, INT64_MAX, &limit, err, errlen))
		return -1;
	c->cpu_quota = quota > 0 ? quota : 0;
	c->cpu_period = (uint64_t)period;
	c->memory_limit = limit > 0 ? limit : 0;
	return 0;
}

int oci_config_parse(const char *text, size_t len, struct oci_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	json_error_t je;
	c->json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!c->json)
		return errf(err, errlen, "not valid JSON: %s (line %d)", je.text, je.line);
	const json_t *j = c->json, *root, *ann, *proc;
	unsigned rows = 0, cols = 0;
	if (!json_is_object(j)) {
		errf(err, errlen, "must be a JSON object");
		goto bad;
	}
	if (opt_string(j, "ociVersion", "", &c->oci_version, err, errlen) ||
	    opt_string(j, "hostname", "", &c->hostname, err, errlen) ||
	    member(j, "root", JSON_OBJECT, "", "an object", &root, err, errlen) ||
	    member(j, "annotations", JSON_OBJECT, "", "an object", &ann, err, errlen))
		goto bad;
	/* We implement 1.x; 1.0.0 to 1.1.x are what the clients send. */
	if (!c->oci_version) {
		errf(err, errlen, "ociVersion: missing");
		goto bad;
	}
	if (strncmp(c->oci_version, "1.", 2)) {
		errf(err, errlen, "ociVersion: %.32s is not supported (1.x is)", c->oci_version);
		goto bad;
	}
	if (!root || opt_string(root, "path", "root.", &c->root_path, err, errlen) ||
	    opt_bool(root, "readonly", "root.", &c->root_readonly, err, errlen)) {
		if (!root)
			errf(err, errlen, "root: missing");
		goto bad;
	}
	if (!c->root_path || !c->root_path[0]) {
		errf(err, errlen, "root.path: missing");
		goto bad;
	}
	proc = json_object_get(j, "process");
	if (!proc) {
		errf(err, errlen, "process: missing");
		goto bad;
	}
	if (oci_process_parse(proc, "process", &c->process, &rows, &cols, err, errlen))
		goto bad;
	c->console_rows = rows;
	c->console_cols = cols;
	if (c->hostname && (strlen(c->hostname) > 64 || strchr(c->hostname, '/'))) {
		errf(err, errlen, "hostname: must be at most 64 bytes, no '/'");
		goto bad;
	}
	if (c->hostname && !c->hostname[0])
		c->hostname = NULL;
	if (parse_mounts(j, c, err, errlen) || parse_hooks(j, c, err, errlen) ||
	    parse_linux(j, c, err, errlen))
		goto bad;
	return 0;
bad:
	oci_config_free(c);
	return -1;
}

int oci_config_load(const char *path, struct oci_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	size_t got;
	char *buf = file_read_all(path, MAX_CONFIG, &got);
	if (!buf && (errno == EINVAL || errno == EFBIG))
		return errf(err, errlen, "%s: not a regular file of at most %d bytes", path,
			    MAX_CONFIG);
	if (!buf)
		return errf(err, errlen, "%s: %s", path,
			    errno == ENOENT ? "does not exist"
			    : errno == EIO  ? "cannot read it"
					    : strerror(errno));
	char why[400];
	int rc = oci_config_parse(buf, got, c, why, sizeof(why));
	free(buf);
	if (rc)
		errf(err, errlen, "%s: %s", path, why);
	return rc;
}

void oci_config_free(struct oci_config *c)
{
	proto_process_free(&c->process);
	for (int i = 0; i < c->nmounts; i++)
		free(c->mounts[i].options);
	for (int k = 0; k < OCI_NHOOKS; k++)
		for (int i = 0; i < c->nhooks[k]; i++) {
			free(c->hooks[k][i].args);
			free(c->hooks[k][i].env);
		}
	json_decref(c->json);
	memset(c, 0, sizeof(*c));
}

int oci_vcpus(const struct oci_config *c, int max_cpus)
{
	if (c->cpu_quota <= 0 || c->cpu_period == 0)
		return 1;
	uint64_t n = ((uint64_t)c->cpu_quota + c->cpu_period - 1) / c->cpu_period;
	return n > (uint64_t)max_cpus ? max_cpus : (int)n;
}

uint64_t oci_memory(const struct oci_config *c, uint64_t def_mem)
{
	const uint64_t min = 128ULL << 20;
	if (c->memory_limit <= 0)
		return def_mem;
	/* Whole pages, as guest RAM is mapped (gm_alloc refuses any other
	 * size), and a limit in decimal units is not (Kubernetes' "300M",
	 * docker run -m 300000000). Down: the limit is the most it may use. */
	uint64_t mem = (uint64_t)c->memory_limit & ~4095ULL;
	return mem < min ? min : mem;
}
