/* Unit tests for vmm/netlink.c: in a network namespace of its own with a
 * tap, configured by the agent's netcfg_apply (what the guest would get),
 * netlink_read gives back the same configuration; and what it reads,
 * applied to a second tap, reads back the same again (the runtime's path:
 * a veth's configuration read on the host, applied in the guest); links
 * are listed with their kinds; and a veth joined to a tap with
 * netlink_redirect passes frames both ways (written into the tap, out of
 * the veth's peer, and back). Needs root: skips without. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/route/link/veth.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_netns.h"
#include "netcfg.h"
#include "netlink.h"

static char err[512];

static int tap(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_msg(ioctl(fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF: %s", strerror(errno));
	return fd;
}

static const char config[] =
	"{\"interfaces\":[{\"name\":\"vt0\",\"mac\":\"02:00:00:00:00:07\",\"mtu\":1400,"
	"\"addresses\":[\"169.254.3.2/24\",\"fd00:3::2/64\",\"169.254.5.9/16\"]}],"
	"\"routes\":[{\"destination\":\"default\",\"gateway\":\"169.254.3.1\",\"device\":\"vt0\"},"
	"{\"destination\":\"default\",\"gateway\":\"fd00:3::1\",\"device\":\"vt0\"},"
	"{\"destination\":\"10.9.0.0/16\",\"device\":\"vt0\"},"
	"{\"destination\":\"fd00:9::/48\",\"gateway\":\"fd00:3::1\",\"device\":\"vt0\"}]}";

static bool has_cidr(const struct proto_iface *f, const struct proto_cidr *c)
{
	for (int i = 0; i < f->naddrs; i++)
		if (!memcmp(&f->addrs[i], c, sizeof(*c)))
			return true;
	return false;
}

static bool has_route(const struct proto_network *n, const struct proto_route *r)
{
	for (int i = 0; i < n->nroutes; i++)
		if (!memcmp(&n->routes[i].dst, &r->dst, sizeof(r->dst)) &&
		    n->routes[i].has_gateway == r->has_gateway &&
		    !memcmp(n->routes[i].gateway, r->gateway, 16) &&
		    !strcmp(n->routes[i].device, r->device))
			return true;
	return false;
}

/* got is want: the same interface and the same sets of addresses and
 * routes, whatever the order. */
static void same(const struct proto_network *got, const struct proto_network *want)
{
	ck_assert_int_eq(got->nifaces, 1);
	const struct proto_iface *g = &got->ifaces[0], *w = &want->ifaces[0];
	ck_assert_str_eq(g->name, w->name);
	ck_assert(g->has_mac);
	ck_assert_mem_eq(g->mac, w->mac, 6);
	ck_assert_int_eq(g->mtu, w->mtu);
	ck_assert_int_eq(g->naddrs, w->naddrs);
	for (int i = 0; i < w->naddrs; i++) {
		char s[64];
		proto_cidr_str(&w->addrs[i], s, sizeof(s));
		ck_assert_msg(has_cidr(g, &w->addrs[i]), "%s not read back", s);
	}
	ck_assert_int_eq(got->nroutes, want->nroutes);
	for (int i = 0; i < want->nroutes; i++)
		ck_assert_msg(has_route(got, &want->routes[i]), "route %d not read back", i);
}

START_TEST(reads_what_netcfg_applied)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	int t0 = tap("vt0"), t1 = tap("vt1");
	json_t *j = json_loads(config, 0, NULL);
	struct proto_network want, got, again;
	ck_assert_int_eq(proto_network_parse(j, &want, err, sizeof(err)), 0);
	json_decref(j);
	ck_assert_msg(netcfg_apply(&want, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(netlink_read("vt0", &got, err, sizeof(err)) == 0, "%s", err);
	same(&got, &want);
	/* Renamed to vt1 (the guest's eth0, for the runtime) and applied
	 * there: the same configuration, minus the MAC (one per link). */
	snprintf(got.ifaces[0].name, sizeof(got.ifaces[0].name), "vt1");
	got.ifaces[0].mac[5] = 8;
	for (int i = 0; i < got.nroutes; i++)
		snprintf(got.routes[i].device, sizeof(got.routes[i].device), "vt1");
	/* vt0's routes on vt1 would be the same destinations: take vt0's
	 * away first, as the runtime's guest has only its own. */
	close(t0);
	ck_assert_msg(netcfg_apply(&got, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(netlink_read("vt1", &again, err, sizeof(err)) == 0, "%s", err);
	same(&again, &got);
	close(t1);
}
END_TEST

START_TEST(errors)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	struct proto_network n;
	ck_assert_int_eq(netlink_read("nosuch0", &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "nosuch0: No such device");
	ck_assert_int_eq(netlink_read("a/b", &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'a/b' is not an interface name");
	/* Loopback: no MAC, no global address here, no routes of its own. */
	ck_assert_int_eq(netlink_read("lo", &n, err, sizeof(err)), 0);
	ck_assert(!n.ifaces[0].has_mac);
	ck_assert_int_eq(n.ifaces[0].naddrs, 0);
	ck_assert_int_eq(n.nroutes, 0);
}
END_TEST

/* A frame of an experimental EtherType (0x88b5) carrying text. */
static size_t frame(uint8_t *buf, const char *text)
{
	static const uint8_t dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			     src[6] = {0x02, 0, 0, 0, 0, 0x42};
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x88;
	buf[13] = 0xb5;
	size_t n = strlen(text);
	memcpy(buf + 14, text, n);
	/* The minimum Ethernet payload; the rest zeros. */
	memset(buf + 14 + n, 0, 60 - 14 - n);
	return 60;
}

/* Reads frames from fd until one carries text (others, such as IPv6
 * neighbour discovery, pass by). */
static bool receives(int fd, const char *text)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 3000) != 1)
			return false;
		uint8_t buf[2048];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n >= 14 + (ssize_t)strlen(text) && buf[12] == 0x88 && buf[13] == 0xb5 &&
		    !memcmp(buf + 14, text, strlen(text)))
			return true;
	}
	return false;
}

START_TEST(redirect_joins_veth_and_tap)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	int t = tap("vt0");
	struct nl_sock *sk = nl_socket_alloc();
	ck_assert(sk && nl_connect(sk, NETLINK_ROUTE) == 0);
	ck_assert_int_eq(rtnl_link_veth_add(sk, "va", "vb", getpid()), 0);
	nl_socket_free(sk);
	struct netlink_link links[8];
	int n = netlink_links(links, 8, err, sizeof(err));
	ck_assert_msg(n == 4, "%d links: %s", n, err);
	int seen = 0;
	for (int i = 0; i < n; i++) {
		if (!strcmp(links[i].name, "vt0") && !strcmp(links[i].kind, "tun") &&
		    links[i].arptype == 1)
			seen |= 1;
		if (!strcmp(links[i].name, "va") && !strcmp(links[i].kind, "veth"))
			seen |= 2;
		if (!strcmp(links[i].name, "lo") && links[i].arptype == 772)
			seen |= 4;
	}
	ck_assert_int_eq(seen, 7);
	ck_assert_int_eq(netlink_links(links, 2, err, sizeof(err)), 4);
	ck_assert_msg(netlink_link_up("va", 0, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(netlink_link_up("vb", 0, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(netlink_link_up("vt0", 1400, err, sizeof(err)) == 0, "%s", err);
	struct proto_network nw;
	ck_assert_msg(netlink_read("vt0", &nw, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nw.ifaces[0].mtu, 1400);
	ck_assert_msg(netlink_redirect("va", "vt0", err, sizeof(err)) == 0, "%s", err);
	/* The far end of the veth, as the host's bridge would be. */
	int ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ck_assert_int_ge(ps, 0);
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ALL),
				 .sll_ifindex = (int)if_nametoindex("vb")};
	ck_assert_int_eq(bind(ps, (struct sockaddr *)&ll, sizeof(ll)), 0);
	uint8_t buf[64];
	size_t len = frame(buf, "from-the-vm");
	ck_assert_int_eq(write(t, buf, len), (ssize_t)len);
	ck_assert_msg(receives(ps, "from-the-vm"), "a frame into the tap never left by the veth");
	len = frame(buf, "to-the-vm");
	ck_assert_int_eq(send(ps, buf, len, 0), (ssize_t)len);
	ck_assert_msg(receives(t, "to-the-vm"), "a frame into the veth never reached the tap");
	ck_assert_int_eq(netlink_redirect("va", "nosuch0", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "nosuch0: No such device");
	ck_assert_int_eq(netlink_link_up("nosuch0", 0, err, sizeof(err)), -1);
	close(ps);
	close(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc = tcase_create("netlink");
	tcase_add_test(tc, reads_what_netcfg_applied);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, redirect_joins_veth_and_tap);
	suite_add_tcase(s, tc);
	return check_run_netns(s);
}
