/* proto: frames of JSON between the host and the agent. */
#include "proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
		snprintf(err, errlen, "%s", e ? e : "expected a hello");
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		snprintf(err, errlen, "unsupported protocol version %lld (this side speaks %d)",
			 json_is_integer(v) ? (long long)json_integer_value(v) : -1LL,
			 PROTO_VERSION);
		return -1;
	}
	return 0;
}

/* ---- typed requests ---- */

static int bad(char *err, size_t errlen, const char *field, const char *want)
{
	snprintf(err, errlen, "%s must be %s", field, want);
	return -1;
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
