/* netlink: an interface's configuration read with libnl-route-3. */
#include "netlink.h"

#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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
	if (e < 0) {
		snprintf(err, errlen, "%s: addresses: %s", f->name, nl_geterror(e));
		return -1;
	}
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
	if (e < 0) {
		snprintf(err, errlen, "%s: routes: %s", n->ifaces[0].name, nl_geterror(e));
		return -1;
	}
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
	if (!proto_valid_ifname(name)) {
		snprintf(err, errlen, "'%s' is not an interface name", name);
		return -1;
	}
	struct proto_iface *f = &n->ifaces[0];
	snprintf(f->name, sizeof(f->name), "%s", name);
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int e, rc = -1;
	if (!sk) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
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
