/* Unit tests for agent/netcfg.c on the host: each test in a network
 * namespace of its own (Check forks one process per test) with a tap it
 * makes, configured through netcfg_apply and read back with ioctls,
 * getifaddrs and /proc/net, which show the calling process's namespace.
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for unshare): skips without. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_netns.h"
#include "netcfg.h"
#include "proto.h"

#define TAP "vt0"

static char err[512];

/* A new network namespace with tap TAP in it (down, as a fresh guest's
 * eth0 is). Returns the tap's fd: the tap lives as long as it. */
static int netns_with_tap(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TAP);
	ck_assert_msg(ioctl(fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF: %s", strerror(errno));
	return fd;
}

static void network(const char *json, struct proto_network *n)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	ck_assert_msg(j != NULL, "test JSON: %s", je.text);
	ck_assert_msg(proto_network_parse(j, n, err, sizeof(err)) == 0, "%s", err);
	json_decref(j);
}

static void ifreq_get(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), TAP);
	ck_assert_msg(ioctl(s, req, ifr) == 0, "ioctl: %s", strerror(errno));
	close(s);
}

/* Whether the tap has addr/prefix (getifaddrs: netlink, this namespace). */
static bool has_addr(int family, const char *addr, int prefix)
{
	struct ifaddrs *ifa, *p;
	bool found = false;
	ck_assert_int_eq(getifaddrs(&ifa), 0);
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != family || strcmp(p->ifa_name, TAP))
			continue;
		char s[INET6_ADDRSTRLEN];
		const void *a =
			family == AF_INET
				? (const void *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr
				: (const void *)&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
		const uint8_t *m =
			family == AF_INET
				? (const uint8_t *)&((struct sockaddr_in *)p->ifa_netmask)->sin_addr
				: ((struct sockaddr_in6 *)p->ifa_netmask)->sin6_addr.s6_addr;
		int bits = 0;
		for (size_t i = 0; i < (family == AF_INET ? 4u : 16u); i++)
			bits += __builtin_popcount(m[i]);
		inet_ntop(family, a, s, sizeof(s));
		found |= !strcmp(s, addr) && bits == prefix;
	}
	freeifaddrs(ifa);
	return found;
}

/* A line of a /proc/net file that has every one of the words. */
static bool proc_line(const char *file, const char *const *words)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/net/%s", file);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		found = true;
		for (const char *const *w = words; *w; w++)
			found &= strstr(line, *w) != NULL;
	}
	fclose(f);
	return found;
}

static const char full[] =
	"{\"interfaces\":[{\"name\":\"" TAP "\",\"mac\":\"02:00:00:00:00:07\",\"mtu\":1400,"
	"\"addresses\":[\"169.254.3.2/24\",\"fd00:3::2/64\"]}],"
	"\"routes\":[{\"destination\":\"default\",\"gateway\":\"169.254.3.1\",\"device\":\"" TAP
	"\"},{\"destination\":\"default\",\"gateway\":\"fd00:3::1\",\"device\":\"" TAP "\"},"
	"{\"destination\":\"10.9.0.0/16\",\"device\":\"" TAP "\"},"
	"{\"destination\":\"fd00:9::/48\",\"gateway\":\"fd00:3::1\",\"device\":\"" TAP "\"}]}";

/* What network(full, ...) asks of the tap, as seen in the current
 * namespace: MTU 1400, up, its IPv4 and IPv6 addresses. */
static void assert_configured(void)
{
	struct ifreq ifr;
	ifreq_get(SIOCGIFMTU, &ifr);
	ck_assert_int_eq(ifr.ifr_mtu, 1400);
	ifreq_get(SIOCGIFFLAGS, &ifr);
	ck_assert(ifr.ifr_flags & IFF_UP);
	ck_assert(has_addr(AF_INET, "169.254.3.2", 24));
	ck_assert(has_addr(AF_INET6, "fd00:3::2", 64));
}

START_TEST(applies_everything)
{
	int tap = netns_with_tap();
	struct proto_network n;
	network(full, &n);
	ck_assert_msg(netcfg_apply(&n, err, sizeof(err)) == 0, "%s", err);
	struct ifreq ifr;
	ifreq_get(SIOCGIFHWADDR, &ifr);
	ck_assert_mem_eq(ifr.ifr_hwaddr.sa_data, "\x02\x00\x00\x00\x00\x07", 6);
	assert_configured();
	/* if_inet6: address, index, prefix (hex), scope, flags: no DAD, so
	 * not tentative (0x40) but usable at once. */
	ck_assert(proc_line("if_inet6", (const char *const[]){"fd000003000000000000000000000002",
							      " 40 00 80 ", TAP, NULL}) ||
		  proc_line("if_inet6", (const char *const[]){"fd000003000000000000000000000002",
							      " 40 00 82 ", TAP, NULL}));
	/* route: Iface Destination Gateway (little-endian hex) Flags ... */
	ck_assert(
		proc_line("route", (const char *const[]){TAP "\t00000000\t0103FEA9\t0003", NULL}));
	ck_assert(
		proc_line("route", (const char *const[]){TAP "\t0000090A\t00000000\t0001", NULL}));
	/* ipv6_route: dst, its prefix, src, its prefix, gateway, ... dev. */
	ck_assert(
		proc_line("ipv6_route", (const char *const[]){"00000000000000000000000000000000 00 "
							      "00000000000000000000000000000000 00 "
							      "fd000003000000000000000000000001",
							      TAP, NULL}));
	ck_assert(
		proc_line("ipv6_route", (const char *const[]){"fd000009000000000000000000000000 30 "
							      "00000000000000000000000000000000 00 "
							      "fd000003000000000000000000000001",
							      TAP, NULL}));
	/* Asked again, it is all there already: still ok. */
	ck_assert_msg(netcfg_apply(&n, err, sizeof(err)) == 0, "again: %s", err);
	close(tap);
}
END_TEST

START_TEST(without_mac_or_mtu_keeps_them)
{
	int tap = netns_with_tap();
	struct ifreq before, after;
	ifreq_get(SIOCGIFHWADDR, &before);
	struct proto_network n;
	network("{\"interfaces\":[{\"name\":\"" TAP "\",\"addresses\":[\"169.254.4.2/16\"]}]}", &n);
	ck_assert_msg(netcfg_apply(&n, err, sizeof(err)) == 0, "%s", err);
	ifreq_get(SIOCGIFHWADDR, &after);
	ck_assert_mem_eq(before.ifr_hwaddr.sa_data, after.ifr_hwaddr.sa_data, 6);
	ifreq_get(SIOCGIFMTU, &after);
	ck_assert_int_eq(after.ifr_mtu, 1500);
	ck_assert(has_addr(AF_INET, "169.254.4.2", 16));
	close(tap);
}
END_TEST

START_TEST(errors_name_the_step)
{
	int tap = netns_with_tap();
	struct proto_network n;
	network("{\"interfaces\":[{\"name\":\"nosuch0\"}]}", &n);
	ck_assert_int_eq(netcfg_apply(&n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "nosuch0: no such interface: No such device");
	/* A tap takes no MTU above 65535 less its Ethernet header: the
	 * kernel's own refusal comes back with the step. */
	network("{\"interfaces\":[{\"name\":\"" TAP "\",\"mtu\":65535}]}", &n);
	ck_assert_int_eq(netcfg_apply(&n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, TAP ": set MTU 65535: Invalid argument");
	network("{\"interfaces\":[{\"name\":\"" TAP "\",\"addresses\":[\"169.254.3.2/24\"]}],"
		"\"routes\":[{\"destination\":\"default\",\"gateway\":\"10.0.0.1\","
		"\"device\":\"" TAP "\"}]}",
		&n);
	ck_assert_int_eq(netcfg_apply(&n, err, sizeof(err)), -1);
	ck_assert_str_eq(err,
			 "route default via 10.0.0.1 dev " TAP ": add: Network is unreachable");
	network("{\"interfaces\":[],\"routes\":[{\"destination\":\"::/0\",\"device\":\"gone0\"}]}",
		&n);
	ck_assert_int_eq(netcfg_apply(&n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "route default dev gone0: no such interface: No such device");
	close(tap);
}
END_TEST

/* The inode of a namespace fd: which namespace it is. */
static ino_t ns_ino(int fd)
{
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_ino;
}

/* Our namespace (with the tap) and a second, empty one as a container's,
 * each as an fd; we stay in ours. */
static void two_namespaces(int *ours, int *theirs)
{
	*ours = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(*ours, 0);
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	*theirs = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(*theirs, 0);
	ck_assert_int_eq(setns(*ours, CLONE_NEWNET), 0);
}

START_TEST(apply_in_moves_then_configures)
{
	int tap = netns_with_tap(), ours, theirs;
	two_namespaces(&ours, &theirs);
	struct proto_network n;
	network(full, &n);
	ck_assert_msg(netcfg_apply_in(&n, theirs, err, sizeof(err)) == 0, "%s", err);
	/* Back in ours, and the tap has gone from it. */
	int now = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(ns_ino(now), ns_ino(ours));
	close(now);
	ck_assert_int_eq(if_nametoindex(TAP), 0);
	/* There it is, configured: a move drops addresses and brings the
	 * link down, so these were set after it. */
	ck_assert_int_eq(setns(theirs, CLONE_NEWNET), 0);
	assert_configured();
	ck_assert(
		proc_line("route", (const char *const[]){TAP "\t00000000\t0103FEA9\t0003", NULL}));
	/* Asked again from ours: the tap is already there, still ok. */
	ck_assert_int_eq(setns(ours, CLONE_NEWNET), 0);
	ck_assert_msg(netcfg_apply_in(&n, theirs, err, sizeof(err)) == 0, "again: %s", err);
	/* In neither: named missing, from inside theirs. */
	network("{\"interfaces\":[{\"name\":\"nosuch0\"}]}", &n);
	ck_assert_int_eq(netcfg_apply_in(&n, theirs, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "nosuch0: no such interface: No such device");
	/* Not a namespace: the move says so, and we stay in ours. */
	network("{\"interfaces\":[{\"name\":\"lo\"}]}", &n);
	ck_assert_int_eq(netcfg_apply_in(&n, tap, err, sizeof(err)), -1);
	static const char want[] = "lo: move into the container's network namespace: ";
	ck_assert_msg(!strncmp(err, want, sizeof(want) - 1), "%s", err);
	now = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(ns_ino(now), ns_ino(ours));
	close(now);
	close(theirs);
	close(ours);
	close(tap);
}
END_TEST

START_TEST(loopback_up_in_a_new_namespace)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	ck_assert_msg(netcfg_loopback_up(err, sizeof(err)) == 0, "%s", err);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ck_assert(ifr.ifr_flags & IFF_UP);
	/* 127.0.0.1 answers: a UDP datagram to ourselves arrives. */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	ck_assert_int_eq(sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1);
	char c;
	ck_assert_int_eq(recv(s, &c, 1, MSG_DONTWAIT), 1);
	close(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("netcfg");
	TCase *tc = tcase_create("netcfg");
	tcase_add_test(tc, applies_everything);
	tcase_add_test(tc, without_mac_or_mtu_keeps_them);
	tcase_add_test(tc, errors_name_the_step);
	tcase_add_test(tc, apply_in_moves_then_configures);
	tcase_add_test(tc, loopback_up_in_a_new_namespace);
	suite_add_tcase(s, tc);
	return check_run_netns(s);
}
