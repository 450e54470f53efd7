/* Unit tests for the pure parts of runtime-shim/rtnet.c: which interface
 * of the container's network namespace is the container's, and its
 * configuration renamed to the guest's eth0. */
#include <check.h>
#include <net/if_arp.h>
#include <string.h>

#include "check_main.h"
#include "rtnet.h"

static char err[256];

#define LINK(n, t, k)                                                                              \
	{                                                                                          \
		.name = n, .arptype = t, .kind = k                                                 \
	}

START_TEST(picks_the_one_ethernet_interface)
{
	/* As Docker leaves it: lo, the tunnel modules' fallbacks, our tap,
	 * the veth. */
	const struct netlink_link links[] = {
		LINK("lo", ARPHRD_LOOPBACK, ""),	 LINK("tunl0", ARPHRD_TUNNEL, "ipip"),
		LINK("gretap0", ARPHRD_ETHER, "gretap"), LINK("erspan0", ARPHRD_ETHER, "erspan"),
		LINK("sit0", ARPHRD_SIT, "sit"),	 LINK(RTNET_TAP, ARPHRD_ETHER, "tun"),
		LINK("eth0", ARPHRD_ETHER, "veth"),
	};
	ck_assert_int_eq(rtnet_pick(links, 7, err, sizeof(err)), 6);
	/* --network none: nothing but lo and the tap. */
	ck_assert_int_eq(rtnet_pick(links, 6, err, sizeof(err)), -1);
	/* A macvlan network's interface is Ethernet too. */
	const struct netlink_link mv[] = {LINK("lo", ARPHRD_LOOPBACK, ""),
					  LINK("eth0", ARPHRD_ETHER, "macvlan")};
	ck_assert_int_eq(rtnet_pick(mv, 2, err, sizeof(err)), 1);
}
END_TEST

START_TEST(more_than_one_is_an_error)
{
	const struct netlink_link links[] = {
		LINK("eth0", ARPHRD_ETHER, "veth"),
		LINK(RTNET_TAP, ARPHRD_ETHER, "tun"),
		LINK("eth1", ARPHRD_ETHER, "veth"),
	};
	ck_assert_int_eq(rtnet_pick(links, 3, err, sizeof(err)), -2);
	ck_assert_str_eq(err, "the container's network namespace has more than one interface "
			      "(eth0, eth1): a VM here has one");
}
END_TEST

START_TEST(renamed_for_the_guest)
{
	struct proto_network n;
	memset(&n, 0, sizeof(n));
	n.nifaces = 1;
	strcpy(n.ifaces[0].name, "veth1234567");
	n.ifaces[0].mtu = 1450;
	n.ifaces[0].has_mac = true;
	n.ifaces[0].mac[0] = 0x02;
	ck_assert_int_eq(proto_parse_cidr("169.254.7.2/24", false, &n.ifaces[0].addrs[0]), 0);
	n.ifaces[0].naddrs = 1;
	n.nroutes = 2;
	for (int i = 0; i < 2; i++)
		strcpy(n.routes[i].device, "veth1234567");
	n.routes[0].dst.family = AF_INET;
	n.routes[1].dst.family = AF_INET6; /* on-link */
	ck_assert_int_eq(proto_parse_ip("169.254.7.1", n.routes[0].gateway), AF_INET);
	n.routes[0].has_gateway = true;
	struct proto_network before = n;
	rtnet_for_guest(&n);
	ck_assert_str_eq(n.ifaces[0].name, "eth0");
	ck_assert_str_eq(n.routes[0].device, "eth0");
	ck_assert_str_eq(n.routes[1].device, "eth0");
	/* Nothing else changes: the MAC stays the veth's, so the bridge's
	 * neighbour entries hold. */
	ck_assert_mem_eq(n.ifaces[0].mac, before.ifaces[0].mac, 6);
	ck_assert_int_eq(n.ifaces[0].mtu, 1450);
	ck_assert_mem_eq(&n.ifaces[0].addrs[0], &before.ifaces[0].addrs[0],
			 sizeof(struct proto_cidr));
	ck_assert_mem_eq(&n.routes[0].dst, &before.routes[0].dst, sizeof(struct proto_cidr));
	ck_assert_mem_eq(n.routes[0].gateway, before.routes[0].gateway, 16);
	/* The request the agent gets says so. */
	json_t *j = proto_network_json(&n);
	struct proto_network back;
	ck_assert_msg(proto_network_parse(j, &back, err, sizeof(err)) == 0, "%s", err);
	json_decref(j);
	ck_assert_str_eq(back.ifaces[0].name, "eth0");
	ck_assert_str_eq(back.routes[1].device, "eth0");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtnet");
	TCase *tc = tcase_create("rtnet");
	tcase_add_test(tc, picks_the_one_ethernet_interface);
	tcase_add_test(tc, more_than_one_is_an_error);
	tcase_add_test(tc, renamed_for_the_guest);
	suite_add_tcase(s, tc);
	return check_run(s);
}
