/* netcfg: interfaces, addresses and routes through rtnetlink. */
#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errf.h"

/* One request at a time: a header, the family's struct, attributes. */
struct nlreq {
	union {
		struct nlmsghdr h;
		char buf[512]; /* the largest request holds two 16-byte addresses */
	};
};

static void nl_start(struct nlreq *r, uint16_t type, uint16_t flags, const void *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	memcpy(NLMSG_DATA(&r->h), body, len);
	r->h.nlmsg_len = NLMSG_LENGTH(len);
}

static void nl_attr(struct nlreq *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(r->buf + NLMSG_ALIGN(r->h.nlmsg_len));
	/* Requests are built from checked, bounded fields: this cannot
	 * overflow, but a mistake here must not write past the buffer. */
	if (NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len) > sizeof(r->buf))
		return;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + (uint32_t)RTA_SPACE(len);
}

/* Sends r and waits for the kernel's acknowledgement. Returns 0 or an
 * errno. */
static int nl_talk(int fd, struct nlreq *r)
{
	static uint32_t seq;
	r->h.nlmsg_seq = ++seq;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;
	do
		n = sendto(fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	for (;;) {
		union {
			struct nlmsghdr h;
			char buf[8192];
		} ans;
		n = recv(fd, ans.buf, sizeof(ans.buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EPROTO;
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = &ans.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return EPROTO;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return -e->error; /* 0: the acknowledgement */
		}
	}
}

static int link_set(int fd, int index, unsigned flags, unsigned change, const uint8_t *mac,
		    uint32_t mtu)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_index = index,
				.ifi_flags = flags,
				.ifi_change = change};
	struct nlreq r;
	nl_start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (mac)
		nl_attr(&r, IFLA_ADDRESS, mac, 6);
	if (mtu)
		nl_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	return nl_talk(fd, &r);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int addr_add(int fd, int index, const struct proto_cidr *c)
{
	/* Without DAD an IPv6 address is usable at once; the host side is
	 * a tap this VM alone is on. */
	uint32_t flags = c->family == AF_INET6 ? IFA_F_NODAD : 0;
	struct ifaddrmsg ifa = {.ifa_family = (uint8_t)c->family,
				.ifa_prefixlen = (uint8_t)c->prefix,
				.ifa_flags = (uint8_t)flags,
				.ifa_scope = RT_SCOPE_UNIVERSE,
				.ifa_index = (uint32_t)index};
	struct nlreq r;
	/* REPLACE: asking again for an address it has is not an error. */
	nl_start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
	nl_attr(&r, IFA_LOCAL, c->addr, addr_len(c->family));
	nl_attr(&r, IFA_ADDRESS, c->addr, addr_len(c->family));
	nl_attr(&r, IFA_FLAGS, &flags, sizeof(flags));
	return nl_talk(fd, &r);
}

static int route_add(int fd, int index, const struct proto_route *rt)
{
	/* Without a gateway the destination is on the device's link. */
	struct rtmsg rtm = {.rtm_family = (uint8_t)rt->dst.family,
			    .rtm_dst_len = (uint8_t)rt->dst.prefix,
			    .rtm_table = RT_TABLE_MAIN,
			    .rtm_protocol = RTPROT_BOOT,
			    .rtm_scope = rt->has_gateway || rt->dst.family == AF_INET6
						 ? RT_SCOPE_UNIVERSE
						 : RT_SCOPE_LINK,
			    .rtm_type = RTN_UNICAST};
	uint32_t oif = (uint32_t)index;
	struct nlreq r;
	nl_start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm, sizeof(rtm));
	if (rt->dst.prefix)
		nl_attr(&r, RTA_DST, rt->dst.addr, addr_len(rt->dst.family));
	if (rt->has_gateway)
		nl_attr(&r, RTA_GATEWAY, rt->gateway, addr_len(rt->dst.family));
	nl_attr(&r, RTA_OIF, &oif, sizeof(oif));
	return nl_talk(fd, &r);
}

static int fail(char *err, size_t errlen, const char *who, const char *step, int e)
{
	return errf(err, errlen, "%s: %s: %s", who, step, strerror(e));
}

static int apply_iface(int fd, const struct proto_iface *f, char *err, size_t errlen)
{
	char step[96];
	int index = (int)if_nametoindex(f->name), e;
	if (index == 0)
		return fail(err, errlen, f->name, "no such interface", errno);
	if (f->has_mac) {
		if ((e = link_set(fd, index, 0, IFF_UP, NULL, 0)))
			return fail(err, errlen, f->name, "set link down", e);
		const uint8_t *m = f->mac;
		snprintf(step, sizeof(step), "set MAC %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
			 m[2], m[3], m[4], m[5]);
		if ((e = link_set(fd, index, 0, 0, f->mac, 0)))
			return fail(err, errlen, f->name, step, e);
	}
	if (f->mtu) {
		snprintf(step, sizeof(step), "set MTU %u", f->mtu);
		if ((e = link_set(fd, index, 0, 0, NULL, f->mtu)))
			return fail(err, errlen, f->name, step, e);
	}
	for (int k = 0; k < f->naddrs; k++) {
		char a[64];
		proto_cidr_str(&f->addrs[k], a, sizeof(a));
		snprintf(step, sizeof(step), "add address %s", a);
		if ((e = addr_add(fd, index, &f->addrs[k])))
			return fail(err, errlen, f->name, step, e);
	}
	if ((e = link_set(fd, index, IFF_UP, IFF_UP, NULL, 0)))
		return fail(err, errlen, f->name, "set link up", e);
	return 0;
}

/* An rtnetlink socket in the current namespace, or -1 with err. */
static int nl_open(char *err, size_t errlen)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail(err, errlen, "rtnetlink", "socket", errno);
	struct sockaddr_nl me = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		int e = errno;
		close(fd);
		return fail(err, errlen, "rtnetlink", "bind", e);
	}
	return fd;
}

int netcfg_apply(const struct proto_network *n, char *err, size_t errlen)
{
	int fd = nl_open(err, errlen);
	if (fd < 0)
		return -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < n->nifaces; i++)
		rc = apply_iface(fd, &n->ifaces[i], err, errlen);
	for (int i = 0; rc == 0 && i < n->nroutes; i++) {
		const struct proto_route *rt = &n->routes[i];
		char who[192], dst[64], gw[INET6_ADDRSTRLEN] = "";
		if (rt->dst.prefix == 0)
			snprintf(dst, sizeof(dst), "default");
		else
			proto_cidr_str(&rt->dst, dst, sizeof(dst));
		if (rt->has_gateway)
			inet_ntop(rt->dst.family, rt->gateway, gw, sizeof(gw));
		snprintf(who, sizeof(who), "route %s%s%s dev %s", dst, gw[0] ? " via " : "", gw,
			 rt->device);
		int index = (int)if_nametoindex(rt->device), e;
		if (index == 0)
			rc = fail(err, errlen, who, "no such interface", errno);
		else if ((e = route_add(fd, index, rt)))
			rc = fail(err, errlen, who, "add", e);
	}
	close(fd);
	return rc;
}

int netcfg_apply_in(const struct proto_network *n, int nsfd, char *err, size_t errlen)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return fail(err, errlen, "our network namespace", "open", errno);
	int fd = nl_open(err, errlen), rc = fd < 0 ? -1 : 0;
	for (int i = 0; rc == 0 && i < n->nifaces; i++) {
		/* One that is not here may be there already (a request
		 * repeated): netcfg_apply finds it, or names it missing. */
		int index = (int)if_nametoindex(n->ifaces[i].name), e;
		if (index == 0)
			continue;
		struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
		uint32_t target = (uint32_t)nsfd;
		struct nlreq r;
		nl_start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
		nl_attr(&r, IFLA_NET_NS_FD, &target, sizeof(target));
		if ((e = nl_talk(fd, &r)))
			rc = fail(err, errlen, n->ifaces[i].name,
				  "move into the container's network namespace", e);
	}
	if (fd >= 0)
		close(fd);
	if (rc == 0 && setns(nsfd, CLONE_NEWNET))
		rc = fail(err, errlen, "the container's network namespace", "enter", errno);
	else if (rc == 0) {
		rc = netcfg_apply(n, err, errlen);
		/* Back to the namespace we were in a moment ago: only refused
		 * if something is badly wrong, and going on in the
		 * container's would be worse than stopping. */
		if (setns(self, CLONE_NEWNET))
			abort();
	}
	close(self);
	return rc;
}

int netcfg_loopback_up(char *err, size_t errlen)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = 0;
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)))
		rc = fail(err, errlen, "lo", "set link up", errno);
	if (s >= 0)
		close(s);
	return rc;
}
