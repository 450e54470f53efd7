/* netlink: an interface's configuration read, links listed and joined
 * with tc, with libnl-route-3. */
#include "netlink.h"

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "errf.h"

/* addr into c (family, bytes, prefix length). -1 if it is not IPv4 or
 * IPv6. */
static int to_cidr(struct nl_addr *a, unsigned prefix, struct proto_cidr *c)
{
	memset(c, 0, sizeof(*c));
	int family = nl_addr_get_family(a);
	unsigned len = nl_addr_get_len(a);
	if ((family != AF_INET || len != 4) && (family != AF_INET6 || len != 16))
		return -1;
	c->family = family;
	memcpy(c->addr, nl_addr_get_binary_addr(a), len);
	c->prefix = prefix;
	return 0;
}

static int read_addrs(struct nl_sock *sk, int index, struct proto_iface *f, char *err,
		      size_t errlen)
{
	struct nl_cache *cache;
	int e = rtnl_addr_alloc_cache(sk, &cache);
	if (e < 0)
		return errf(err, errlen, "%s: addresses: %s", f->name, nl_geterror(e));
	int rc = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && rc == 0;
	     o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		if (rtnl_addr_get_ifindex(a) != index ||
		    rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE || !local)
			continue;
		if (f->naddrs == PROTO_MAX_ADDRS) {
			snprintf(err, errlen, "%s: more than %d addresses", f->name,
				 PROTO_MAX_ADDRS);
			rc = -1;
		} else if (to_cidr(local, (unsigned)rtnl_addr_get_prefixlen(a),
				   &f->addrs[f->naddrs]) == 0) {
			f->naddrs++;
		}
	}
	nl_cache_free(cache);
	return rc;
}

static int read_routes(struct nl_sock *sk, int index, struct proto_network *n, char *err,
		       size_t errlen)
{
	struct nl_cache *cache;
	int e = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (e < 0)
		return errf(err, errlen, "%s: routes: %s", n->ifaces[0].name, nl_geterror(e));
	int rc = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && rc == 0;
	     o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
		    rtnl_route_get_type(r) != RTN_UNICAST ||
		    rtnl_route_get_protocol(r) == RTPROT_KERNEL || rtnl_route_get_nnexthops(r) != 1)
			continue;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
		if (rtnl_route_nh_get_ifindex(nh) != index)
			continue;
		if (n->nroutes == PROTO_MAX_ROUTES) {
			snprintf(err, errlen, "%s: more than %d routes", n->ifaces[0].name,
				 PROTO_MAX_ROUTES);
			rc = -1;
			break;
		}
		struct proto_route *pr = &n->routes[n->nroutes];
		memset(pr, 0, sizeof(*pr));
		struct nl_addr *dst = rtnl_route_get_dst(r), *gw = rtnl_route_nh_get_gateway(nh);
		/* A default route's destination is an address of no bytes. */
		int family = rtnl_route_get_family(r);
		if (dst && nl_addr_get_len(dst) == 0 && (family == AF_INET || family == AF_INET6))
			pr->dst.family = family;
		else if (!dst || to_cidr(dst, nl_addr_get_prefixlen(dst), &pr->dst))
			continue;
		if (gw) {
			struct proto_cidr g;
			if (to_cidr(gw, 0, &g) || g.family != pr->dst.family)
				continue;
			memcpy(pr->gateway, g.addr, sizeof(pr->gateway));
			pr->has_gateway = true;
		}
		memcpy(pr->device, n->ifaces[0].name, sizeof(pr->device));
		n->nroutes++;
	}
	nl_cache_free(cache);
	return rc;
}

int netlink_read(const char *name, struct proto_network *n, char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	if (!proto_valid_ifname(name))
		return errf(err, errlen, "'%s' is not an interface name", name);
	struct proto_iface *f = &n->ifaces[0];
	snprintf(f->name, sizeof(f->name), "%s", name);
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int e, rc = -1;
	if (!sk)
		return errf(err, errlen, "%s: out of memory", name);
	if ((e = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (e = rtnl_link_get_kernel(sk, 0, name, &link)) < 0) {
		snprintf(err, errlen, "%s: %s", name, nl_geterror(e));
		goto out;
	}
	struct nl_addr *mac = rtnl_link_get_addr(link);
	if (rtnl_link_get_arptype(link) == ARPHRD_ETHER && mac && nl_addr_get_len(mac) == 6) {
		memcpy(f->mac, nl_addr_get_binary_addr(mac), 6);
		f->has_mac = true;
	}
	f->mtu = rtnl_link_get_mtu(link);
	n->nifaces = 1;
	int index = rtnl_link_get_ifindex(link);
	if (read_addrs(sk, index, f, err, errlen) || read_routes(sk, index, n, err, errlen))
		goto out;
	rc = 0;
out:
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

/* A connected NETLINK_ROUTE socket, or NULL with err. */
static struct nl_sock *route_socket(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk) {
		snprintf(err, errlen, "netlink: out of memory");
		return NULL;
	}
	int e = nl_connect(sk, NETLINK_ROUTE);
	if (e < 0) {
		snprintf(err, errlen, "netlink: %s", nl_geterror(e));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int netlink_links(struct netlink_link *out, int max, char *err, size_t errlen)
{
	struct nl_sock *sk = route_socket(err, errlen);
	if (!sk)
		return -1;
	struct nl_cache *cache;
	int e = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (e < 0) {
		snprintf(err, errlen, "links: %s", nl_geterror(e));
		nl_socket_free(sk);
		return -1;
	}
	int n = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o), n++) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		if (n >= max)
			continue;
		struct netlink_link *k = &out[n];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%s", rtnl_link_get_name(l));
		k->index = rtnl_link_get_ifindex(l);
		k->arptype = rtnl_link_get_arptype(l);
		const char *kind = rtnl_link_get_type(l);
		snprintf(k->kind, sizeof(k->kind), "%s", kind ? kind : "");
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return n;
}

int netlink_link_up(const char *name, uint32_t mtu, char *err, size_t errlen)
{
	struct nl_sock *sk = route_socket(err, errlen);
	if (!sk)
		return -1;
	struct rtnl_link *link = NULL, *change = rtnl_link_alloc();
	int e = change ? rtnl_link_get_kernel(sk, 0, name, &link) : -NLE_NOMEM;
	if (e >= 0) {
		if (mtu)
			rtnl_link_set_mtu(change, mtu);
		rtnl_link_set_flags(change, IFF_UP);
		e = rtnl_link_change(sk, link, change, 0);
	}
	if (e < 0)
		snprintf(err, errlen, "%s: MTU %u and up: %s", name, mtu, nl_geterror(e));
	if (link)
		rtnl_link_put(link);
	if (change)
		rtnl_link_put(change);
	nl_socket_free(sk);
	return e < 0 ? -1 : 0;
}

/* The ingress qdisc (ffff:) on ifindex; one already there will do. */
static int add_ingress(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return -NLE_NOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_INGRESS, 0));
	int e = rtnl_tc_set_kind(TC_CAST(q), "ingress");
	if (e >= 0)
		e = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	return e == -NLE_EXIST ? 0 : e;
}

/* On from's ingress: every frame (u32 with one key that masks nothing:
 * `tc filter ... protocol all u32 match u32 0 0`) redirected to to's
 * egress and stolen, as `action mirred egress redirect dev TO` is. */
static int add_redirect(struct nl_sock *sk, int from, int to)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int e = cls && act ? 0 : -NLE_NOMEM;
	if (e == 0) {
		rtnl_tc_set_ifindex(TC_CAST(cls), from);
		rtnl_tc_set_parent(TC_CAST(cls), TC_H_MAKE(TC_H_INGRESS, 0));
		rtnl_cls_set_protocol(cls, ETH_P_ALL);
		rtnl_cls_set_prio(cls, 1);
		e = rtnl_tc_set_kind(TC_CAST(cls), "u32");
	}
	if (e >= 0)
		e = rtnl_u32_set_cls_terminal(cls);
	if (e >= 0)
		e = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
	if (e >= 0)
		e = rtnl_tc_set_kind(TC_CAST(act), "mirred");
	if (e >= 0) {
		rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
		rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
		rtnl_mirred_set_ifindex(act, (uint32_t)to);
		e = rtnl_u32_add_action(cls, act);
	}
	if (e >= 0)
		e = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_EXCL);
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	return e;
}

int netlink_redirect(const char *a, const char *b, char *err, size_t errlen)
{
	const char *names[2] = {a, b};
	int index[2];
	struct nl_sock *sk = route_socket(err, errlen);
	if (!sk)
		return -1;
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		struct rtnl_link *link;
		int e = rtnl_link_get_kernel(sk, 0, names[i], &link);
		if (e < 0) {
			snprintf(err, errlen, "%s: %s", names[i], nl_geterror(e));
			rc = -1;
		} else {
			index[i] = rtnl_link_get_ifindex(link);
			rtnl_link_put(link);
		}
	}
	for (int i = 0; i < 2 && rc == 0; i++) {
		int e = add_ingress(sk, index[i]);
		if (e < 0) {
			snprintf(err, errlen, "%s: an ingress qdisc: %s", names[i], nl_geterror(e));
			rc = -1;
		} else if ((e = add_redirect(sk, index[i], index[!i])) < 0) {
			snprintf(err, errlen, "%s: a filter redirecting to %s: %s", names[i],
				 names[!i], nl_geterror(e));
			rc = -1;
		}
	}
	nl_socket_free(sk);
	return rc;
}
