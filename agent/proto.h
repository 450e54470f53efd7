/*
 * proto: the host <-> agent protocol, shared by the agent (in the guest),
 * `vmm run` and the OCI runtime (on the host).
 *
 * Transport: vsock stream connections to the agent's port
 * (PROTO_AGENT_PORT). Every message is a frame: a 4-byte little-endian
 * length N (1 to PROTO_MAX_MSG) and N bytes of one JSON object with a
 * string "type". Both sides refuse anything else with one error.
 *
 * A connection starts with the host's hello:
 *   {"type":"hello","version":1,"role":"control"}            requests
 *   {"type":"hello","version":1,"role":"stdin"|"stdout"|"stderr",
 *    "container":"ID","exec_id":"E"}                          one stream
 * answered {"type":"hello","version":1} (or an error response when the
 * version is not PROTO_VERSION). A stream connection then carries raw
 * bytes, never frames, so output never waits behind control messages;
 * EOF on it is the stream's end. Output streams are attached before
 * "start" (or the process's "exec"); the exit status is only answered
 * once both have reached EOF, so it always comes after the last byte.
 *
 * On a control connection the host sends requests with an integer "id";
 * the agent answers each with {"type":"response","id":N,"ok":true, ...}
 * or {"type":"response","id":N,"ok":false,"error":"..."}. Requests:
 *   create   {"container","rootfs":{"source","fstype","readonly","overlay"},
 *             (source: a block device under /dev, or a virtio-fs tag when
 *             fstype is "virtiofs")
 *             "hostname","process":PROCESS,"mounts":[MOUNT,...]}
 *   start    {"container"}  an exec failure's error carries "exit_code"
 *            (127: not found, 126: not runnable), as a shell's would
 *   exec     {"container","exec_id","process":PROCESS}
 *   signal   {"container","exec_id"?,"signal":N}
 *   close_stdin {"container","exec_id"?}
 *   wait     {"container","exec_id"?} -> {"exit_code":N} or {"signal":N}
 *   network  {"interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01"?,"mtu":N?,
 *             "addresses":["169.254.3.2/24","fd00:3::2/64"]}],
 *             "routes":[{"destination":"default"|"CIDR","gateway":"ADDR"?,
 *             "device":"eth0"}]?}
 *            configures the guest's interfaces (MAC with the link down,
 *            MTU, addresses, link up; IPv6 addresses without DAD) and
 *            then adds the routes ("default": 0.0.0.0/0 or ::/0, as the
 *            gateway is; a route without a gateway is on the device's
 *            link). ok only when all of it applied; else the error names
 *            the interface or route, the step and the errno. Before
 *            create: the VM's network namespace, which the container
 *            then shares; after: the interfaces are moved from the VM's
 *            into the container's own (it has one when nothing came
 *            before create) and configured there.
 *   shutdown {}
 * PROCESS: {"args":[...] (non-empty), "env":[...], "cwd":"/",
 *           "uid":0, "gid":0, "additional_gids":[], "terminal":false,
 *           "no_new_privs":false,
 *           "rlimits":[{"type":"RLIMIT_NOFILE","soft":N,"hard":N}, ...]}
 * MOUNT, as OCI spells it (at most PROTO_MAX_MOUNTS, applied in order
 * after the rootfs and the container's /proc, /sys and /dev, before the
 * pivot into the root):
 *   {"destination":"/abs/path"  absolute, no "." or ".." components; it is
 *                               resolved inside the container's root
 *                               (symlinks in the image included, so it
 *                               never leaves it) and made if missing,
 *    "type":"bind"|"tmpfs"|"ramfs"|"proc"|"sysfs"|"devpts"|"mqueue"|
 *           "cgroup2",
 *    "source":"..."             bind: "TAG" or "TAG/path", a virtio-fs
 *                               share (the agent mounts each once) and a
 *                               path resolved inside it; a file binds onto
 *                               a file; others: optional, the device name
 *                               shown in /proc/mounts (default: the type),
 *    "options":["ro","nosuid","mode=755",...]}
 *                               ro rw nosuid suid nodev dev noexec exec
 *                               sync async dirsync relatime norelatime
 *                               noatime atime strictatime nodiratime
 *                               diratime bind rbind, and the propagation
 *                               [r]private [r]slave [r]shared
 *                               [r]unbindable are mount flags; anything
 *                               else goes to the file system as data
 *                               ("mode=755,size=65536k"); at most
 *                               PROTO_MAX_MOUNT_OPTIONS.
 */
#ifndef VMM_AGENT_PROTO_H
#define VMM_AGENT_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_VERSION		1
#define PROTO_AGENT_PORT	1024
#define PROTO_MAX_MSG		(1 << 20)
#define PROTO_MAX_ARGS		4096 /* args or env entries in a process */
#define PROTO_MAX_RLIMITS	16
#define PROTO_MAX_MOUNTS	64
#define PROTO_MAX_MOUNT_OPTIONS 32
#define PROTO_MAX_MOUNT_DATA	4096 /* one page: what mount(2) copies */

/* A frame in buf[0..len): returns the body length and sets *body when a
 * whole frame is there, 0 when more bytes are needed, -1 when the length
 * is 0 or above PROTO_MAX_MSG. */
long proto_frame(const uint8_t *buf, size_t len, const uint8_t **body);

/* Parses a frame body into a JSON object with a string "type". Returns
 * it (the caller json_decref()s it), or NULL with the reason in err. */
json_t *proto_decode(const uint8_t *body, size_t len, char *err, size_t errlen);

/* Encodes msg as a frame: malloc'd bytes in *out, their count in *len.
 * Returns 0, or -1 if it does not serialise or is too big. */
int proto_encode(const json_t *msg, uint8_t **out, size_t *len);

/* Blocking I/O of whole frames on fd. proto_recv returns the message, or
 * NULL with err ("" for a clean EOF between frames). */
int proto_send(int fd, const json_t *msg);
json_t *proto_recv(int fd, char *err, size_t errlen);

/* The process to run: borrowed strings (the json it came from must
 * outlive it); args and env are NULL-terminated arrays to free with
 * proto_process_free. */
struct proto_process {
	char **args;
	char **env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	bool terminal;
	bool no_new_privs;
	struct proto_rlimit {
		int resource; /* RLIMIT_* */
		uint64_t soft, hard;
	} rlimits[PROTO_MAX_RLIMITS];
	int nrlimits;
};

/* One extra mount: borrowed strings, as the process's. */
struct proto_mount {
	const char *destination; /* absolute, checked */
	const char *type;	 /* one of the types above */
	const char *source;	 /* bind: "TAG[/path]"; else the device name */
	const char *options[PROTO_MAX_MOUNT_OPTIONS];
	int noptions;
};

struct proto_create {
	const char *container;
	const char *rootfs_source; /* a block device, or a virtio-fs tag */
	const char *rootfs_fstype;
	bool rootfs_readonly; /* the container's root is read-only */
	bool rootfs_overlay;  /* the device is shared read-only: a tmpfs upper */
	const char *hostname; /* NULL: keep the VM's */
	struct proto_process process;
	struct proto_mount mounts[PROTO_MAX_MOUNTS];
	int nmounts;
};

/* Checks a hello (from the host, or the agent's answer): type "hello"
 * and version PROTO_VERSION. Returns 0, or -1 with the reason in err
 * (an error response's own message when it is one). */
int proto_check_hello(const json_t *m, char *err, size_t errlen);

/* RLIMIT_NOFILE and friends, as OCI spells them: the resource number, or
 * -1 for a name it does not know. */
int proto_rlimit_resource(const char *name);
const char *proto_rlimit_name(int resource);

/* Read a request's fields, checking every type. Return 0, or -1 with
 * one line in err naming the field. */
int proto_process_parse(const json_t *j, struct proto_process *p, char *err, size_t errlen);
int proto_create_parse(const json_t *j, struct proto_create *c, char *err, size_t errlen);
void proto_process_free(struct proto_process *p);

/* A mount's options as mount(2) takes them: the flags for the mount
 * itself (MS_BIND, MS_REC for bind and rbind, MS_RDONLY, ...), the
 * propagation flags for a second call (MS_PRIVATE, ..., with MS_REC for
 * the r- forms; 0 for none), and the other options joined with commas in
 * data. A bind mount always gets MS_BIND. Returns 0, or -1 when data
 * would not fit in datalen. */
int proto_mount_flags(const struct proto_mount *m, unsigned long *flags, unsigned long *propagation,
		      char *data, size_t datalen);

/* A bind source "TAG[/path]" split: the tag copied into tag (37 bytes),
 * *path pointing after the slash ("" for the share's root). Returns 0,
 * or -1 when the tag is not a valid one. */
int proto_mount_source(const char *source, char tag[37], const char **path);

/* Build them (host side). NULL on allocation failure. */
json_t *proto_process_json(const struct proto_process *p);
json_t *proto_create_json(const struct proto_create *c);

/* Responses. */
json_t *proto_ok(json_int_t id);
json_t *proto_error(json_int_t id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- network ---- */

#define PROTO_MAX_IFACES 8
#define PROTO_MAX_ADDRS	 16 /* per interface */
#define PROTO_MAX_ROUTES 32

/* An address with its prefix length: 4 (AF_INET) or 16 (AF_INET6)
 * bytes of addr, in network order. */
struct proto_cidr {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

struct proto_iface {
	char name[16]; /* IFNAMSIZ */
	bool has_mac;
	uint8_t mac[6];
	uint32_t mtu; /* 0: leave as it is */
	struct proto_cidr addrs[PROTO_MAX_ADDRS];
	int naddrs;
};

struct proto_route {
	struct proto_cidr dst; /* prefix 0: the default route */
	bool has_gateway;
	uint8_t gateway[16]; /* of dst.family */
	char device[16];
};

struct proto_network {
	struct proto_iface ifaces[PROTO_MAX_IFACES];
	int nifaces;
	struct proto_route routes[PROTO_MAX_ROUTES];
	int nroutes;
};

/* "ADDR/PREFIX", IPv4 or IPv6, the prefix required and in range. With
 * network true, the bits after the prefix must be zero (a route's
 * destination). Returns 0 or -1. */
int proto_parse_cidr(const char *s, bool network, struct proto_cidr *out);

/* An IPv4 or IPv6 address: its family, or -1. */
int proto_parse_ip(const char *s, uint8_t out[16]);

/* "52:54:00:12:34:56": a unicast, non-zero station address. 0 or -1. */
int proto_parse_mac(const char *s, uint8_t mac[6]);

/* An interface name as Linux takes it: 1 to 15 bytes, no '/', ':' or
 * white space, not "." or "..". */
bool proto_valid_ifname(const char *name);

/* The text of a CIDR ("169.254.3.2/24") into buf (at least 50 bytes). */
void proto_cidr_str(const struct proto_cidr *c, char *buf, size_t len);

/* A network request: every field checked (see the header comment); the
 * result owns nothing. Returns 0, or -1 with one line in err naming the
 * field ("interfaces[0].addresses[1] must be ..."). */
int proto_network_parse(const json_t *j, struct proto_network *n, char *err, size_t errlen);

/* The request for n (host side), with "type":"network". NULL on
 * allocation failure. */
json_t *proto_network_json(const struct proto_network *n);

/* A virtio-fs tag: 1 to 36 of [A-Za-z0-9_.-]. */
bool proto_valid_tag(const char *tag);

/* A container or exec id: 1 to 64 of [A-Za-z0-9_.-], not "." or "..". */
bool proto_valid_id(const char *id);

#endif
