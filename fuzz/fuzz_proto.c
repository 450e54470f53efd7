/* libFuzzer target: the agent protocol as a hostile peer sends it. The
 * input is a byte stream of frames; each whole frame is decoded and, as
 * the agent would, read as a create request, as a process and as a
 * network request. Checks what the agent relies on for an accepted
 * request. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_process(const struct proto_process *p)
{
	if (!p->args || !p->args[0] || !p->env || !p->cwd || p->cwd[0] != '/')
		abort();
	for (char *const *a = p->args; *a; a++)
		(void)strlen(*a);
	for (char *const *e = p->env; *e; e++)
		(void)strlen(*e);
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == (gid_t)-1)
			abort();
}

/* What netcfg relies on: names it can hand to if_nametoindex, families
 * and prefixes in range, a route's gateway of its destination's family;
 * and what the host builds from it parses back to the same. */
static void check_network(const struct proto_network *n)
{
	char err[256];
	if (n->nifaces < 0 || n->nifaces > PROTO_MAX_IFACES || n->nroutes < 0 ||
	    n->nroutes > PROTO_MAX_ROUTES)
		abort();
	for (int i = 0; i < n->nifaces; i++) {
		const struct proto_iface *f = &n->ifaces[i];
		if (!proto_valid_ifname(f->name) || f->naddrs < 0 || f->naddrs > PROTO_MAX_ADDRS ||
		    (f->mtu && (f->mtu < 68 || f->mtu > 65535)) || (f->has_mac && f->mac[0] & 1))
			abort();
		for (int k = 0; k < f->naddrs; k++)
			if ((f->addrs[k].family != AF_INET || f->addrs[k].prefix > 32) &&
			    (f->addrs[k].family != AF_INET6 || f->addrs[k].prefix > 128))
				abort();
	}
	for (int i = 0; i < n->nroutes; i++)
		if (!proto_valid_ifname(n->routes[i].device) ||
		    (n->routes[i].dst.family != AF_INET && n->routes[i].dst.family != AF_INET6))
			abort();
	json_t *again = proto_network_json(n);
	struct proto_network m;
	if (!again || proto_network_parse(again, &m, err, sizeof(err)) || memcmp(n, &m, sizeof(m)))
		abort();
	json_decref(again);
}

/* What setup_root relies on for each mount: an absolute destination with
 * no "." or ".." component, a bind's source a tag, flags that fit. */
static void check_mounts(const struct proto_create *c)
{
	if (c->nmounts < 0 || c->nmounts > PROTO_MAX_MOUNTS)
		abort();
	for (int i = 0; i < c->nmounts; i++) {
		const struct proto_mount *m = &c->mounts[i];
		if (!m->destination || m->destination[0] != '/' || strstr(m->destination, "/../") ||
		    !m->type || m->noptions < 0 || m->noptions > PROTO_MAX_MOUNT_OPTIONS)
			abort();
		size_t n = strlen(m->destination);
		if (n >= 3 && !strcmp(m->destination + n - 3, "/.."))
			abort();
		unsigned long flags, prop;
		char data[PROTO_MAX_MOUNT_DATA], tag[37];
		const char *path;
		if (proto_mount_flags(m, &flags, &prop, data, sizeof(data)))
			abort();
		if (!strcmp(m->type, "bind") &&
		    (!(flags & MS_BIND) || !m->source ||
		     proto_mount_source(m->source, tag, &path) || !proto_valid_tag(tag)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	while (size) {
		const uint8_t *body;
		long n = proto_frame(data, size, &body);
		if (n <= 0)
			break;
		json_t *m = proto_decode(body, (size_t)n, err, sizeof(err));
		if (m) {
			static struct proto_create c;
			if (proto_create_parse(m, &c, err, sizeof(err)) == 0) {
				bool fs = !strcmp(c.rootfs_fstype, "virtiofs");
				if (!proto_valid_id(c.container) ||
				    (fs ? !proto_valid_tag(c.rootfs_source)
					: strncmp(c.rootfs_source, "/dev/", 5)))
					abort();
				check_process(&c.process);
				check_mounts(&c);
				/* What the host would send back must parse the same. */
				json_t *again = proto_create_json(&c);
				static struct proto_create d;
				if (!again || proto_create_parse(again, &d, err, sizeof(err)) ||
				    d.nmounts != c.nmounts)
					abort();
				proto_process_free(&d.process);
				json_decref(again);
				proto_process_free(&c.process);
			}
			struct proto_process p;
			if (proto_process_parse(json_object_get(m, "process"), &p, err,
						sizeof(err)) == 0) {
				check_process(&p);
				proto_process_free(&p);
			}
			struct proto_network net;
			if (proto_network_parse(m, &net, err, sizeof(err)) == 0)
				check_network(&net);
			uint8_t *out;
			size_t len;
			if (proto_encode(m, &out, &len) == 0)
				free(out);
			json_decref(m);
		}
		data += n + 4;
		size -= (size_t)n + 4;
	}
	return 0;
}
