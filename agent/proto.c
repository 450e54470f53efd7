/* proto: frames of JSON between the host and the agent. */
#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "errf.h"

long proto_frame(const uint8_t *buf, size_t len, const uint8_t **body)
{
	if (len < 4)
		return 0;
	uint32_t n = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
		     (uint32_t)buf[3] << 24;
	if (n == 0 || n > PROTO_MAX_MSG)
		return -1;
	if (len - 4 < n)
		return 0;
	*body = buf + 4;
	return (long)n;
}

json_t *proto_decode(const uint8_t *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "bad JSON at byte %d: %s", je.position, je.text);
		return NULL;
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "type"))) {
		snprintf(err, errlen, "a message must be an object with a string \"type\"");
		json_decref(j);
		return NULL;
	}
	return j;
}

int proto_encode(const json_t *msg, uint8_t **out, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	if (!s)
		return -1;
	size_t n = strlen(s);
	if (n == 0 || n > PROTO_MAX_MSG || !(*out = malloc(n + 4))) {
		free(s);
		return -1;
	}
	for (int i = 0; i < 4; i++)
		(*out)[i] = (uint8_t)(n >> (8 * i));
	memcpy(*out + 4, s, n);
	*len = n + 4;
	free(s);
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1: read n bytes; 0: EOF before any; -1: error or EOF midway. */
static int read_all(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 && got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

int proto_send(int fd, const json_t *msg)
{
	uint8_t *buf;
	size_t len;
	if (proto_encode(msg, &buf, &len))
		return -1;
	int r = write_all(fd, buf, len);
	free(buf);
	return r;
}

json_t *proto_recv(int fd, char *err, size_t errlen)
{
	uint8_t hdr[4];
	int r = read_all(fd, hdr, 4);
	if (r <= 0) {
		snprintf(err, errlen, "%s", r == 0 ? "" : "connection lost");
		return NULL;
	}
	const uint8_t *body;
	long n = proto_frame(hdr, 4, &body);
	if (n < 0) {
		snprintf(err, errlen, "bad frame length");
		return NULL;
	}
	uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
		       (uint32_t)hdr[3] << 24;
	uint8_t *buf = malloc(len);
	if (!buf || read_all(fd, buf, len) != 1) {
		free(buf);
		snprintf(err, errlen, "%s", buf ? "connection lost in a message" : "out of memory");
		return NULL;
	}
	json_t *j = proto_decode(buf, len, err, errlen);
	free(buf);
	return j;
}

int proto_check_hello(const json_t *m, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	const json_t *v = json_object_get(m, "version");
	if (!type || strcmp(type, "hello")) {
		const char *e = json_string_value(json_object_get(m, "error"));
		return errf(err, errlen, "%s", e ? e : "expected a hello");
	}
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION)
		return errf(err, errlen, "unsupported protocol version %lld (this side speaks %d)",
			    json_is_integer(v) ? (long long)json_integer_value(v) : -1LL,
			    PROTO_VERSION);
	return 0;
}

/* ---- typed requests ---- */

static int bad(char *err, size_t errlen, const char *field, const char *want)
{
	return errf(err, errlen, "%s must be %s", field, want);
}

/* A NULL-terminated copy of an array of strings (borrowed); NULL and
 * an error when it is not one. */
static char **strings(const json_t *a, bool nonempty, const char *field, char *err, size_t errlen)
{
	size_t n = json_array_size(a);
	if (!json_is_array(a) || (nonempty && n == 0) || n > PROTO_MAX_ARGS) {
		bad(err, errlen, field,
		    nonempty ? "a non-empty array of strings" : "an array of strings");
		return NULL;
	}
	char **v = calloc(n + 1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(a, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
			free(v);
			bad(err, errlen, field, "an array of strings without NUL bytes");
			return NULL;
		}
		v[i] = (char *)json_string_value(s);
	}
	return v;
}

/* An optional non-negative 32-bit integer field. */
static int id_field(const json_t *j, const char *key, const char *field, uint32_t *out, char *err,
		    size_t errlen)
{
	const json_t *v = json_object_get(j, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX - 1)
		return bad(err, errlen, field, "an integer from 0 to 4294967294");
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int bool_field(const json_t *j, const char *key, const char *field, bool *out, char *err,
		      size_t errlen)
{
	const json_t *v = json_object_get(j, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad(err, errlen, field, "true or false");
	*out = json_is_true(v);
	return 0;
}

static int string_field(const json_t *j, const char *key, const char *field, const char **out,
			char *err, size_t errlen)
{
	const json_t *v = json_object_get(j, key);
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return bad(err, errlen, field, "a string");
	*out = json_string_value(v);
	return 0;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

int proto_rlimit_resource(const char *name)
{
	for (size_t i = 0; name && i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (!strcmp(name, rlimit_names[i].name))
			return rlimit_names[i].resource;
	return -1;
}

const char *proto_rlimit_name(int resource)
{
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

/* "rlimits": each a known type and soft <= hard, at most
 * PROTO_MAX_RLIMITS. */
static int parse_rlimits(const json_t *a, struct proto_process *p, char *err, size_t errlen)
{
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > PROTO_MAX_RLIMITS)
		return bad(err, errlen, "process.rlimits", "an array of at most 16 limits");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *r = json_array_get(a, i), *soft = json_object_get(r, "soft"),
			     *hard = json_object_get(r, "hard");
		int res = proto_rlimit_resource(json_string_value(json_object_get(r, "type")));
		if (res < 0 || !json_is_integer(soft) || !json_is_integer(hard) ||
		    json_integer_value(soft) < 0 ||
		    json_integer_value(soft) > json_integer_value(hard))
			return bad(err, errlen, "process.rlimits",
				   "{\"type\": an RLIMIT_ name, \"soft\" <= \"hard\"} each");
		p->rlimits[i] = (struct proto_rlimit){res, (uint64_t)json_integer_value(soft),
						      (uint64_t)json_integer_value(hard)};
	}
	p->nrlimits = (int)json_array_size(a);
	return 0;
}

int proto_process_parse(const json_t *j, struct proto_process *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->cwd = "/";
	if (!json_is_object(j))
		return bad(err, errlen, "process", "an object");
	uint32_t uid = 0, gid = 0;
	const json_t *env = json_object_get(j, "env");
	if (!(p->args = strings(json_object_get(j, "args"), true, "process.args", err, errlen)) ||
	    !(p->env = env ? strings(env, false, "process.env", err, errlen)
			   : calloc(1, sizeof(char *))) ||
	    string_field(j, "cwd", "process.cwd", &p->cwd, err, errlen) ||
	    id_field(j, "uid", "process.uid", &uid, err, errlen) ||
	    id_field(j, "gid", "process.gid", &gid, err, errlen) ||
	    bool_field(j, "terminal", "process.terminal", &p->terminal, err, errlen) ||
	    bool_field(j, "no_new_privs", "process.no_new_privs", &p->no_new_privs, err, errlen) ||
	    parse_rlimits(json_object_get(j, "rlimits"), p, err, errlen))
		goto fail;
	if (p->cwd[0] != '/') {
		bad(err, errlen, "process.cwd", "an absolute path");
		goto fail;
	}
	p->uid = uid;
	p->gid = gid;
	const json_t *g = json_object_get(j, "additional_gids");
	if (g) {
		size_t n = json_array_size(g);
		if (!json_is_array(g) || n > 65536) {
			bad(err, errlen, "process.additional_gids", "an array of group ids");
			goto fail;
		}
		p->groups = calloc(n ? n : 1, sizeof(gid_t));
		if (!p->groups)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			const json_t *v = json_array_get(g, i);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > UINT32_MAX - 1) {
				bad(err, errlen, "process.additional_gids",
				    "an array of group ids");
				goto fail;
			}
			p->groups[i] = (gid_t)json_integer_value(v);
		}
		p->ngroups = n;
	}
	return 0;
fail:
	proto_process_free(p);
	return -1;
}

void proto_process_free(struct proto_process *p)
{
	free(p->args);
	free(p->env);
	free(p->groups);
	p->args = p->env = NULL;
	p->groups = NULL;
}

bool proto_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

bool proto_valid_tag(const char *tag)
{
	size_t n = strlen(tag);
	return n > 0 && n <= 36 &&
	       strspn(tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
		       n;
}

static const struct {
	const char *name;
	unsigned long set, clear; /* mount flags */
	unsigned long propagation;
} mount_options[] = {
	{"ro", MS_RDONLY, 0, 0},
	{"rw", 0, MS_RDONLY, 0},
	{"nosuid", MS_NOSUID, 0, 0},
	{"suid", 0, MS_NOSUID, 0},
	{"nodev", MS_NODEV, 0, 0},
	{"dev", 0, MS_NODEV, 0},
	{"noexec", MS_NOEXEC, 0, 0},
	{"exec", 0, MS_NOEXEC, 0},
	{"sync", MS_SYNCHRONOUS, 0, 0},
	{"async", 0, MS_SYNCHRONOUS, 0},
	{"dirsync", MS_DIRSYNC, 0, 0},
	{"relatime", MS_RELATIME, 0, 0},
	{"norelatime", 0, MS_RELATIME, 0},
	{"noatime", MS_NOATIME, 0, 0},
	{"atime", 0, MS_NOATIME, 0},
	{"strictatime", MS_STRICTATIME, 0, 0},
	{"nodiratime", MS_NODIRATIME, 0, 0},
	{"diratime", 0, MS_NODIRATIME, 0},
	{"bind", MS_BIND, 0, 0},
	{"rbind", MS_BIND | MS_REC, 0, 0},
	{"private", 0, 0, MS_PRIVATE},
	{"rprivate", 0, 0, MS_PRIVATE | MS_REC},
	{"slave", 0, 0, MS_SLAVE},
	{"rslave", 0, 0, MS_SLAVE | MS_REC},
	{"shared", 0, 0, MS_SHARED},
	{"rshared", 0, 0, MS_SHARED | MS_REC},
	{"unbindable", 0, 0, MS_UNBINDABLE},
	{"runbindable", 0, 0, MS_UNBINDABLE | MS_REC},
};

int proto_mount_flags(const struct proto_mount *m, unsigned long *flags, unsigned long *propagation,
		      char *data, size_t datalen)
{
	*flags = m->type && !strcmp(m->type, "bind") ? MS_BIND : 0;
	*propagation = 0;
	size_t len = 0;
	if (datalen)
		data[0] = '\0';
	for (int i = 0; i < m->noptions; i++) {
		const char *o = m->options[i];
		size_t k = 0, n = sizeof(mount_options) / sizeof(mount_options[0]);
		while (k < n && strcmp(o, mount_options[k].name))
			k++;
		if (k < n) {
			*flags = (*flags & ~mount_options[k].clear) | mount_options[k].set;
			if (mount_options[k].propagation)
				*propagation = mount_options[k].propagation;
			continue;
		}
		/* Anything else is the file system's: options in order. */
		size_t ol = strlen(o);
		if (len + (len ? 1 : 0) + ol + 1 > datalen)
			return -1;
		if (len)
			data[len++] = ',';
		memcpy(data + len, o, ol + 1);
		len += ol;
	}
	return 0;
}

int proto_mount_source(const char *source, char tag[37], const char **path)
{
	size_t n = strcspn(source, "/");
	if (n == 0 || n > 36)
		return -1;
	memcpy(tag, source, n);
	tag[n] = '\0';
	if (!proto_valid_tag(tag))
		return -1;
	*path = source[n] ? source + n + 1 : "";
	return 0;
}

/* An absolute path without "." or ".." components (what a mount
 * destination must be), at most PATH_MAX - 1 bytes. */
static bool clean_abs_path(const char *p)
{
	if (p[0] != '/' || strlen(p) >= 4096)
		return false;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
	}
	return true;
}

static const char *const mount_types[] = {"bind",  "tmpfs",  "ramfs",  "proc",
					  "sysfs", "devpts", "mqueue", "cgroup2"};

/* "mounts": each one checked; field names say which, e.g. mounts[2].type. */
static int parse_mounts(const json_t *a, struct proto_create *c, char *err, size_t errlen)
{
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > PROTO_MAX_MOUNTS)
		return bad(err, errlen, "mounts", "an array of at most 64 mounts");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *j = json_array_get(a, i);
		struct proto_mount *m = &c->mounts[i];
		char f[64];
		*m = (struct proto_mount){0};
		snprintf(f, sizeof(f), "mounts[%zu]", i);
		if (!json_is_object(j))
			return bad(err, errlen, f, "an object");
		snprintf(f, sizeof(f), "mounts[%zu].destination", i);
		if (string_field(j, "destination", f, &m->destination, err, errlen))
			return -1;
		if (!m->destination || !clean_abs_path(m->destination))
			return bad(err, errlen, f, "an absolute path without . or .. components");
		snprintf(f, sizeof(f), "mounts[%zu].type", i);
		if (string_field(j, "type", f, &m->type, err, errlen))
			return -1;
		size_t t = 0, nt = sizeof(mount_types) / sizeof(mount_types[0]);
		while (m->type && t < nt && strcmp(m->type, mount_types[t]))
			t++;
		if (!m->type || t == nt)
			return bad(err, errlen, f,
				   "bind, tmpfs, ramfs, proc, sysfs, devpts, mqueue or cgroup2");
		snprintf(f, sizeof(f), "mounts[%zu].source", i);
		if (string_field(j, "source", f, &m->source, err, errlen))
			return -1;
		char tag[37];
		const char *path;
		if (!strcmp(m->type, "bind") &&
		    (!m->source || proto_mount_source(m->source, tag, &path)))
			return bad(err, errlen, f, "a virtio-fs tag, or TAG/path");
		snprintf(f, sizeof(f), "mounts[%zu].options", i);
		const json_t *o = json_object_get(j, "options");
		if (o) {
			if (!json_is_array(o) || json_array_size(o) > PROTO_MAX_MOUNT_OPTIONS)
				return bad(err, errlen, f, "an array of at most 32 strings");
			for (size_t k = 0; k < json_array_size(o); k++) {
				const json_t *s = json_array_get(o, k);
				if (!json_is_string(s) ||
				    strlen(json_string_value(s)) != json_string_length(s) ||
				    !json_string_length(s))
					return bad(err, errlen, f, "an array of non-empty strings");
				m->options[k] = json_string_value(s);
			}
			m->noptions = (int)json_array_size(o);
		}
		unsigned long flags, prop;
		char data[PROTO_MAX_MOUNT_DATA];
		if (proto_mount_flags(m, &flags, &prop, data, sizeof(data)))
			return bad(err, errlen, f, "options whose data fits in 4096 bytes");
		c->nmounts = (int)i + 1;
	}
	return 0;
}

int proto_create_parse(const json_t *j, struct proto_create *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->rootfs_fstype = "ext4";
	const json_t *rootfs = json_object_get(j, "rootfs");
	if (string_field(j, "container", "container", &c->container, err, errlen) ||
	    string_field(j, "hostname", "hostname", &c->hostname, err, errlen))
		return -1;
	if (!c->container || !proto_valid_id(c->container))
		return bad(err, errlen, "container", "1 to 64 of A-Z a-z 0-9 _ . - (not . or ..)");
	if (c->hostname && (strlen(c->hostname) == 0 || strlen(c->hostname) > 64))
		return bad(err, errlen, "hostname", "1 to 64 bytes");
	if (!json_is_object(rootfs) ||
	    string_field(rootfs, "source", "rootfs.source", &c->rootfs_source, err, errlen) ||
	    string_field(rootfs, "fstype", "rootfs.fstype", &c->rootfs_fstype, err, errlen) ||
	    bool_field(rootfs, "readonly", "rootfs.readonly", &c->rootfs_readonly, err, errlen) ||
	    bool_field(rootfs, "overlay", "rootfs.overlay", &c->rootfs_overlay, err, errlen))
		return json_is_object(rootfs) ? -1 : bad(err, errlen, "rootfs", "an object");
	if (!c->rootfs_source)
		return bad(err, errlen, "rootfs.source", "a string");
	if (!strcmp(c->rootfs_fstype, "virtiofs")) {
		if (!proto_valid_tag(c->rootfs_source))
			return bad(err, errlen, "rootfs.source", "a virtio-fs tag");
	} else if (strncmp(c->rootfs_source, "/dev/", 5) || strstr(c->rootfs_source, "..")) {
		return bad(err, errlen, "rootfs.source", "a device under /dev");
	}
	if (parse_mounts(json_object_get(j, "mounts"), c, err, errlen))
		return -1;
	return proto_process_parse(json_object_get(j, "process"), &c->process, err, errlen);
}

static json_t *string_array(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *proto_process_json(const struct proto_process *p)
{
	json_t *g = json_array(), *rl = json_array();
	for (size_t i = 0; g && i < p->ngroups; i++)
		json_array_append_new(g, json_integer(p->groups[i]));
	for (int i = 0; rl && i < p->nrlimits; i++)
		json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type",
						    proto_rlimit_name(p->rlimits[i].resource),
						    "soft", (json_int_t)p->rlimits[i].soft, "hard",
						    (json_int_t)p->rlimits[i].hard));
	return json_pack("{s:o, s:o, s:s, s:I, s:I, s:o, s:b, s:b, s:o}", "args",
			 string_array(p->args), "env", string_array(p->env), "cwd",
			 p->cwd ? p->cwd : "/", "uid", (json_int_t)p->uid, "gid",
			 (json_int_t)p->gid, "additional_gids", g, "terminal", p->terminal,
			 "no_new_privs", p->no_new_privs, "rlimits", rl);
}

json_t *proto_create_json(const struct proto_create *c)
{
	json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s, s:b, s:b}, s:o}", "type", "create",
			      "container", c->container, "rootfs", "source", c->rootfs_source,
			      "fstype", c->rootfs_fstype ? c->rootfs_fstype : "ext4", "readonly",
			      c->rootfs_readonly, "overlay", c->rootfs_overlay, "process",
			      proto_process_json(&c->process));
	if (j && c->hostname && json_object_set_new(j, "hostname", json_string(c->hostname))) {
		json_decref(j);
		return NULL;
	}
	json_t *mounts = j ? json_array() : NULL;
	for (int i = 0; mounts && i < c->nmounts; i++) {
		const struct proto_mount *m = &c->mounts[i];
		json_t *o = json_array();
		for (int k = 0; o && k < m->noptions; k++)
			if (json_array_append_new(o, json_string(m->options[k]))) {
				json_decref(o);
				o = NULL; /* json_pack then fails: no mount goes missing */
			}
		json_t *mj = json_pack("{s:s, s:s, s:o}", "destination", m->destination, "type",
				       m->type, "options", o);
		if (!mj ||
		    (m->source && json_object_set_new(mj, "source", json_string(m->source))) ||
		    json_array_append_new(mounts, mj)) {
			json_decref(mounts);
			mounts = NULL;
		}
	}
	if (j && (!mounts || json_object_set_new(j, "mounts", mounts))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *proto_ok(json_int_t id)
{
	return json_pack("{s:s, s:I, s:b}", "type", "response", "id", id, "ok", 1);
}

json_t *proto_error(json_int_t id, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:I, s:b, s:s}", "type", "response", "id", id, "ok", 0, "error",
			 msg);
}

/* ---- network ---- */

int proto_parse_ip(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return -1;
}

int proto_parse_cidr(const char *s, bool network, struct proto_cidr *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	memset(out, 0, sizeof(*out));
	if ((out->family = proto_parse_ip(ip, out->addr)) < 0)
		return -1;
	/* Digits only: strtoul would take signs, spaces and hex. */
	const char *d = slash + 1;
	size_t nd = strspn(d, "0123456789");
	if (nd == 0 || nd > 3 || d[nd])
		return -1;
	unsigned prefix = (unsigned)atoi(d), bits = out->family == AF_INET ? 32 : 128;
	if (prefix > bits)
		return -1;
	out->prefix = prefix;
	if (network)
		for (unsigned b = prefix; b < bits; b++)
			if (out->addr[b / 8] & (0x80 >> (b % 8)))
				return -1;
	return 0;
}

int proto_parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *h = s + 3 * i;
		if (!strchr("0123456789abcdefABCDEF", h[0]) || !h[0] ||
		    !strchr("0123456789abcdefABCDEF", h[1]) || !h[1] || (i < 5 && h[2] != ':'))
			return -1;
		mac[i] = (uint8_t)strtoul((char[3]){h[0], h[1], 0}, NULL, 16);
	}
	/* A station address: not multicast (nor broadcast), not all zero. */
	if (mac[0] & 1 || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -1;
	return 0;
}

bool proto_valid_ifname(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 15 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == ':' || (unsigned char)name[i] <= ' ' ||
		    name[i] == 0x7f)
			return false;
	return true;
}

void proto_cidr_str(const struct proto_cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(c->family, c->addr, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, c->prefix);
}

static const char ifname_want[] = "an interface name (1 to 15 bytes, no / : or spaces)";

static int parse_iface(const json_t *j, int i, struct proto_iface *f, char *err, size_t errlen)
{
	char field[64];
	const char *name = NULL, *mac = NULL;
	snprintf(field, sizeof(field), "interfaces[%d]", i);
	if (!json_is_object(j))
		return bad(err, errlen, field, "an object");
	snprintf(field, sizeof(field), "interfaces[%d].name", i);
	if (string_field(j, "name", field, &name, err, errlen))
		return -1;
	if (!name || !proto_valid_ifname(name))
		return bad(err, errlen, field, ifname_want);
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(field, sizeof(field), "interfaces[%d].mac", i);
	if (string_field(j, "mac", field, &mac, err, errlen))
		return -1;
	if (mac && proto_parse_mac(mac, f->mac))
		return bad(err, errlen, field, "a unicast MAC address like 02:00:00:00:00:01");
	f->has_mac = mac != NULL;
	const json_t *mtu = json_object_get(j, "mtu");
	snprintf(field, sizeof(field), "interfaces[%d].mtu", i);
	/* 68: the least IPv4 takes (RFC 791); the kernel's own floor. */
	if (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 68 ||
		    json_integer_value(mtu) > 65535))
		return bad(err, errlen, field, "an integer from 68 to 65535");
	f->mtu = mtu ? (uint32_t)json_integer_value(mtu) : 0;
	const json_t *a = json_object_get(j, "addresses");
	snprintf(field, sizeof(field), "interfaces[%d].addresses", i);
	if (a && (!json_is_array(a) || json_array_size(a) > PROTO_MAX_ADDRS))
		return bad(err, errlen, field, "an array of at most 16 addresses");
	for (size_t k = 0; k < json_array_size(a); k++) {
		const char *s = json_string_value(json_array_get(a, k));
		snprintf(field, sizeof(field), "interfaces[%d].addresses[%zu]", i, k);
		if (!s || strlen(s) != json_string_length(json_array_get(a, k)) ||
		    proto_parse_cidr(s, false, &f->addrs[k]))
			return bad(err, errlen, field,
				   "an IPv4 or IPv6 address with its prefix length (ADDR/N)");
	}
	f->naddrs = (int)json_array_size(a);
	return 0;
}

static int parse_route(const json_t *j, int i, struct proto_route *r, char *err, size_t errlen)
{
	char field[64];
	const char *dst = NULL, *gw = NULL, *dev = NULL;
	snprintf(field, sizeof(field), "routes[%d]", i);
	if (!json_is_object(j))
		return bad(err, errlen, field, "an object");
	snprintf(field, sizeof(field), "routes[%d].destination", i);
	if (string_field(j, "destination", field, &dst, err, errlen))
		return -1;
	if (!dst)
		return bad(err, errlen, field, "\"default\" or a network (ADDR/N)");
	snprintf(field, sizeof(field), "routes[%d].gateway", i);
	if (string_field(j, "gateway", field, &gw, err, errlen))
		return -1;
	int gw_family = gw ? proto_parse_ip(gw, r->gateway) : 0;
	if (gw_family < 0)
		return bad(err, errlen, field, "an IPv4 or IPv6 address");
	r->has_gateway = gw != NULL;
	snprintf(field, sizeof(field), "routes[%d].destination", i);
	if (!strcmp(dst, "default")) {
		/* Its family is the gateway's: without one it is ambiguous. */
		if (!gw)
			return bad(err, errlen, field,
				   "a network (0.0.0.0/0 or ::/0) when there is no gateway");
		memset(&r->dst, 0, sizeof(r->dst));
		r->dst.family = gw_family;
	} else if (proto_parse_cidr(dst, true, &r->dst)) {
		return bad(err, errlen, field,
			   "\"default\" or a network (ADDR/N, no bits set after N)");
	}
	snprintf(field, sizeof(field), "routes[%d].gateway", i);
	if (gw && gw_family != r->dst.family)
		return bad(err, errlen, field, "of the destination's address family");
	snprintf(field, sizeof(field), "routes[%d].device", i);
	if (string_field(j, "device", field, &dev, err, errlen))
		return -1;
	if (!dev || !proto_valid_ifname(dev))
		return bad(err, errlen, field, ifname_want);
	snprintf(r->device, sizeof(r->device), "%s", dev);
	return 0;
}

int proto_network_parse(const json_t *j, struct proto_network *n, char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	const json_t *ifs = json_object_get(j, "interfaces"),
		     *routes = json_object_get(j, "routes");
	if (!json_is_array(ifs) || json_array_size(ifs) > PROTO_MAX_IFACES)
		return bad(err, errlen, "interfaces", "an array of at most 8 interfaces");
	if (routes && (!json_is_array(routes) || json_array_size(routes) > PROTO_MAX_ROUTES))
		return bad(err, errlen, "routes", "an array of at most 32 routes");
	for (size_t i = 0; i < json_array_size(ifs); i++) {
		if (parse_iface(json_array_get(ifs, i), (int)i, &n->ifaces[i], err, errlen))
			return -1;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(n->ifaces[k].name, n->ifaces[i].name))
				return errf(err, errlen,
					    "interfaces[%zu].name: %s is configured twice", i,
					    n->ifaces[i].name);
	}
	n->nifaces = (int)json_array_size(ifs);
	for (size_t i = 0; i < json_array_size(routes); i++)
		if (parse_route(json_array_get(routes, i), (int)i, &n->routes[i], err, errlen))
			return -1;
	n->nroutes = (int)json_array_size(routes);
	return 0;
}

json_t *proto_network_json(const struct proto_network *n)
{
	json_t *ifs = json_array(), *routes = json_array();
	json_t *j = json_pack("{s:s, s:o, s:o}", "type", "network", "interfaces", ifs, "routes",
			      routes);
	if (!j)
		return NULL;
	char buf[64];
	for (int i = 0; i < n->nifaces; i++) {
		const struct proto_iface *f = &n->ifaces[i];
		json_t *addrs = json_array(),
		       *o = json_pack("{s:s, s:o}", "name", f->name, "addresses", addrs);
		if (!o || json_array_append_new(ifs, o))
			goto fail;
		for (int k = 0; k < f->naddrs; k++) {
			proto_cidr_str(&f->addrs[k], buf, sizeof(buf));
			if (json_array_append_new(addrs, json_string(buf)))
				goto fail;
		}
		if (f->has_mac) {
			const uint8_t *m = f->mac;
			snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
			if (json_object_set_new(o, "mac", json_string(buf)))
				goto fail;
		}
		if (f->mtu && json_object_set_new(o, "mtu", json_integer(f->mtu)))
			goto fail;
	}
	for (int i = 0; i < n->nroutes; i++) {
		const struct proto_route *r = &n->routes[i];
		if (r->dst.prefix == 0 && r->has_gateway)
			snprintf(buf, sizeof(buf), "default");
		else
			proto_cidr_str(&r->dst, buf, sizeof(buf));
		json_t *o = json_pack("{s:s, s:s}", "destination", buf, "device", r->device);
		if (!o || json_array_append_new(routes, o))
			goto fail;
		char gw[INET6_ADDRSTRLEN];
		if (r->has_gateway && (!inet_ntop(r->dst.family, r->gateway, gw, sizeof(gw)) ||
				       json_object_set_new(o, "gateway", json_string(gw))))
			goto fail;
	}
	return j;
fail:
	json_decref(j);
	return NULL;
}
