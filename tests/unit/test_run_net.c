/* Unit tests for vmm/run_net.c: vmm run --net specs into the tap and the
 * agent's network request for eth0; every refusal with its reason. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "run_net.h"

static char why[256];

START_TEST(none_and_full)
{
	struct run_net rn;
	ck_assert_int_eq(run_net_parse("none", &rn, why, sizeof(why)), 0);
	ck_assert(!rn.enabled);
	ck_assert_int_eq(run_net_parse("tap=t0", &rn, why, sizeof(why)), 0);
	ck_assert(rn.enabled);
	ck_assert_str_eq(rn.net.tap, "t0");
	ck_assert_int_eq(rn.cfg.nifaces, 1);
	ck_assert_str_eq(rn.cfg.ifaces[0].name, "eth0");
	ck_assert(rn.cfg.ifaces[0].has_mac);
	ck_assert_mem_eq(rn.cfg.ifaces[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
	ck_assert_int_eq(rn.cfg.ifaces[0].naddrs + rn.cfg.nroutes, 0);
	ck_assert_int_eq(rn.cfg.ifaces[0].mtu, 0); /* the tap's, once open */
	ck_assert_int_eq(run_net_parse("tap=t1,mac=02:00:00:00:03:02,ip=169.254.3.2/24,"
				       "ip6=fd00:3::2/64,gw=169.254.3.1,gw6=fd00:3::1,mtu=1400",
				       &rn, why, sizeof(why)),
			 0);
	ck_assert_mem_eq(rn.net.mac, "\x02\x00\x00\x00\x03\x02", 6);
	const struct proto_iface *f = &rn.cfg.ifaces[0];
	ck_assert_mem_eq(f->mac, rn.net.mac, 6);
	ck_assert_int_eq(f->mtu, 1400);
	ck_assert_int_eq(f->naddrs, 2);
	char s[64];
	proto_cidr_str(&f->addrs[0], s, sizeof(s));
	ck_assert_str_eq(s, "169.254.3.2/24");
	proto_cidr_str(&f->addrs[1], s, sizeof(s));
	ck_assert_str_eq(s, "fd00:3::2/64");
	ck_assert_int_eq(rn.cfg.nroutes, 2);
	ck_assert_int_eq(rn.cfg.routes[0].dst.family, AF_INET);
	ck_assert_int_eq(rn.cfg.routes[0].dst.prefix, 0);
	ck_assert_str_eq(rn.cfg.routes[1].device, "eth0");
	inet_ntop(AF_INET6, rn.cfg.routes[1].gateway, s, sizeof(s));
	ck_assert_str_eq(s, "fd00:3::1");
	/* What goes to the agent is a request it takes. */
	json_t *j = proto_network_json(&rn.cfg);
	struct proto_network back;
	ck_assert_int_eq(proto_network_parse(j, &back, why, sizeof(why)), 0);
	ck_assert_mem_eq(&back, &rn.cfg, sizeof(back));
	json_decref(j);
}
END_TEST

START_TEST(refusals)
{
	static const struct {
		const char *spec, *why;
	} cases[] = {
		{"", "'' has no tap=NAME"},
		{"ip=169.254.3.2/24", "'ip=169.254.3.2/24' has no tap=NAME"},
		{"tap=", "tap='' is not an interface name"},
		{"tap=a/b", "tap='a/b' is not an interface name"},
		{"tap=t0,tap=t1", "tap= is given twice"},
		{"tap=t0,bridge=br0", "unknown key 'bridge'"},
		{"tap=t0,ip", "'ip' is not KEY=VALUE"},
		{"tap=t0,mac=01:00:00:00:00:01", "mac='01:00:00:00:00:01' is not a unicast MAC"},
		{"tap=t0,ip=169.254.3.2",
		 "ip='169.254.3.2' is not an IPv4 address with its prefix"},
		{"tap=t0,ip=fd00::2/64", "ip='fd00::2/64' is not an IPv4 address"},
		{"tap=t0,ip6=169.254.3.2/24", "ip6='169.254.3.2/24' is not an IPv6 address"},
		{"tap=t0,ip=169.254.3.2/33", "ip='169.254.3.2/33' is not"},
		{"tap=t0,gw=fd00::1", "gw='fd00::1' is not an IPv4 address"},
		{"tap=t0,gw6=169.254.3.1", "gw6='169.254.3.1' is not an IPv6 address"},
		{"tap=t0,gw=169.254.3.1", "gw= needs ip="},
		{"tap=t0,ip6=fd00:3::2/64,gw6=fd00:4::1",
		 "gw6= is not in ip6=fd00:3::2/64's network"},
		{"tap=t0,ip=169.254.3.2/24,gw=169.254.4.1", "gw= is not in ip=169.254.3.2/24's"},
		{"tap=t0,mtu=67", "mtu='67' is not a number from 68 to 65535"},
		{"tap=t0,mtu=65536", "mtu='65536' is not"},
		{"tap=t0,mtu=+1500", "mtu='+1500' is not"},
		{"tap=t0,mtu=1500x", "mtu='1500x' is not"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_net rn;
		why[0] = '\0';
		ck_assert_msg(run_net_parse(cases[i].spec, &rn, why, sizeof(why)) == -1,
			      "took '%s'", cases[i].spec);
		ck_assert_msg(!strncmp(why, cases[i].why, strlen(cases[i].why)),
			      "'%s': '%s', want '%s'", cases[i].spec, why, cases[i].why);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run_net");
	TCase *tc = tcase_create("run_net");
	tcase_add_test(tc, none_and_full);
	tcase_add_test(tc, refusals);
	suite_add_tcase(s, tc);
	return check_run(s);
}
