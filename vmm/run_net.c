/* run_net: vmm run's --net, a tap and the agent's network request for eth0. */
#include "run_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errf.h"

static const char usage[] =
	"none or tap=NAME[,mac=MAC][,ip=CIDR][,ip6=CIDR][,gw=ADDR][,gw6=ADDR][,mtu=N]";

static int bad(char *why, size_t whylen, const char *key, const char *val, const char *want)
{
	return errf(why, whylen, "%s='%s' is not %s", key, val, want);
}

/* Whether gw is inside c's network. */
static bool in_network(const struct proto_cidr *c, const uint8_t *gw)
{
	for (unsigned b = 0; b < c->prefix; b++)
		if ((c->addr[b / 8] ^ gw[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

int run_net_parse(const char *spec, struct run_net *rn, char *why, size_t whylen)
{
	memset(rn, 0, sizeof(*rn));
	rn->net.fd = -1;
	if (!strcmp(spec, "none"))
		return 0;
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return errf(why, whylen, "too long: %s", usage);
	const char *tap = NULL, *mac = NULL;
	bool have[2] = {false, false}, have_gw[2] = {false, false};
	struct proto_cidr ip[2];
	uint8_t gw[2][16];
	uint32_t mtu = 0;
	const char *seen[8] = {0};
	int nseen = 0;
	for (char *save, *opt = strtok_r(buf, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *val = strchr(opt, '=');
		if (!val)
			return errf(why, whylen, "'%s' is not KEY=VALUE: %s", opt, usage);
		*val++ = '\0';
		for (int i = 0; i < nseen; i++)
			if (!strcmp(seen[i], opt))
				return errf(why, whylen, "%s= is given twice", opt);
		if (nseen < 8)
			seen[nseen++] = opt;
		bool v6 = !strcmp(opt, "ip6") || !strcmp(opt, "gw6");
		int family = v6 ? AF_INET6 : AF_INET;
		if (!strcmp(opt, "tap")) {
			if (!proto_valid_ifname(val))
				return bad(why, whylen, opt, val,
					   "an interface name (1 to 15 bytes, no / : or spaces)");
			tap = val;
		} else if (!strcmp(opt, "mac")) {
			uint8_t m[6];
			if (proto_parse_mac(val, m))
				return bad(why, whylen, opt, val,
					   "a unicast MAC address like 02:00:00:00:00:01");
			mac = val;
		} else if (!strcmp(opt, "ip") || !strcmp(opt, "ip6")) {
			if (proto_parse_cidr(val, false, &ip[v6]) || ip[v6].family != family)
				return bad(why, whylen, opt, val,
					   v6 ? "an IPv6 address with its prefix length "
						"(fd00::2/64)"
					      : "an IPv4 address with its prefix length "
						"(169.254.1.2/24)");
			have[v6] = true;
		} else if (!strcmp(opt, "gw") || !strcmp(opt, "gw6")) {
			if (proto_parse_ip(val, gw[v6]) != family)
				return bad(why, whylen, opt, val,
					   v6 ? "an IPv6 address" : "an IPv4 address");
			have_gw[v6] = true;
		} else if (!strcmp(opt, "mtu")) {
			size_t n = strspn(val, "0123456789");
			if (n == 0 || n > 5 || val[n] || atoi(val) < 68 || atoi(val) > 65535)
				return bad(why, whylen, opt, val, "a number from 68 to 65535");
			mtu = (uint32_t)atoi(val);
		} else {
			return errf(why, whylen, "unknown key '%s': %s", opt, usage);
		}
	}
	if (!tap)
		return errf(why, whylen, "'%s' has no tap=NAME: %s", spec, usage);
	for (int v6 = 0; v6 < 2; v6++) {
		if (!have_gw[v6])
			continue;
		const char *g = v6 ? "gw6" : "gw", *i = v6 ? "ip6" : "ip";
		if (!have[v6])
			return errf(why, whylen,
				    "%s= needs %s= (the gateway must be on eth0's network)", g, i);
		if (!in_network(&ip[v6], gw[v6])) {
			char s[64];
			proto_cidr_str(&ip[v6], s, sizeof(s));
			return errf(why, whylen, "%s= is not in %s=%s's network", g, i, s);
		}
	}
	/* The device: tap and MAC as vmm boot --net has them. */
	char net_spec[64];
	snprintf(net_spec, sizeof(net_spec), "tap=%s%s%s", tap, mac ? ",mac=" : "", mac ? mac : "");
	if (net_parse_spec(net_spec, 0, &rn->net, why, whylen))
		return -1;
	/* eth0 gets the device's MAC again: the guest's own may differ only
	 * if something changed it, and the agent's request is then the one
	 * place that says what it is. */
	struct proto_iface *f = &rn->cfg.ifaces[0];
	snprintf(f->name, sizeof(f->name), RUN_NET_IFACE);
	f->has_mac = true;
	memcpy(f->mac, rn->net.mac, 6);
	f->mtu = mtu;
	for (int v6 = 0; v6 < 2; v6++)
		if (have[v6])
			f->addrs[f->naddrs++] = ip[v6];
	rn->cfg.nifaces = 1;
	for (int v6 = 0; v6 < 2; v6++)
		if (have_gw[v6]) {
			struct proto_route *r = &rn->cfg.routes[rn->cfg.nroutes++];
			r->dst.family = v6 ? AF_INET6 : AF_INET;
			r->has_gateway = true;
			memcpy(r->gateway, gw[v6], 16);
			snprintf(r->device, sizeof(r->device), RUN_NET_IFACE);
		}
	rn->enabled = true;
	return 0;
}

int run_net_open(struct run_net *rn)
{
	if (!rn->enabled)
		return 0;
	if (net_open(&rn->net))
		return -1;
	if (rn->cfg.ifaces[0].mtu)
		return 0;
	/* The tap's MTU: what the host side will send and take. */
	struct ifreq ifr = {0};
	memcpy(ifr.ifr_name, rn->net.tap, sizeof(rn->net.tap));
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		fprintf(stderr, "vmm: net %s: its MTU: %s\n", rn->net.tap, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	close(s);
	rn->cfg.ifaces[0].mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}

void run_net_close(struct run_net *rn)
{
	if (rn->enabled)
		net_close(&rn->net);
}
