/* rtnet: the container's network joined to the VM's; see rtnet.h. */
#include "rtnet.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errf.h"
#include "rt.h"

int rtnet_open_tap(struct net *n, char *err, size_t errlen)
{
	if (if_nametoindex(RTNET_TAP))
		return errf(err, errlen,
			    "the network namespace already has " RTNET_TAP
			    " (another container's VM): a network namespace shared between "
			    "containers is not supported");
	if (net_parse_spec("tap=" RTNET_TAP, 0, n, err, errlen))
		return -1;
	/* net_open says why on stderr (ours: the container's). */
	if (net_open(n))
		return errf(err, errlen, "cannot create tap " RTNET_TAP " for the VM's network");
	return 0;
}

int rtnet_pick(const struct netlink_link *links, int n, char *err, size_t errlen)
{
	/* Made by ip_gre and ip6_gre in every namespace, down and unused. */
	static const char *const fallback[] = {"gretap", "erspan", "ip6gretap", "ip6erspan"};
	int found = -1;
	for (int i = 0; i < n; i++) {
		const struct netlink_link *l = &links[i];
		if (l->arptype != ARPHRD_ETHER || !strcmp(l->name, RTNET_TAP))
			continue;
		bool skip = false;
		for (size_t k = 0; k < sizeof(fallback) / sizeof(fallback[0]); k++)
			skip |= !strcmp(l->kind, fallback[k]);
		if (skip)
			continue;
		if (found >= 0) {
			snprintf(err, errlen,
				 "the container's network namespace has more than one interface "
				 "(%s, %s): a VM here has one",
				 links[found].name, l->name);
			return -2;
		}
		found = i;
	}
	return found;
}

void rtnet_for_guest(struct proto_network *nw)
{
	for (int i = 0; i < nw->nifaces; i++)
		snprintf(nw->ifaces[i].name, sizeof(nw->ifaces[i].name), RTNET_GUEST);
	for (int i = 0; i < nw->nroutes; i++)
		snprintf(nw->routes[i].device, sizeof(nw->routes[i].device), RTNET_GUEST);
}

/* The child's work, in the shim's namespace. 0: done, 1: no interface,
 * -1: failed (err). */
static int connect_in_ns(int dir_fd, char *err, size_t errlen)
{
	struct netlink_link links[32];
	int n = netlink_links(links, 32, err, errlen);
	if (n < 0)
		return -1;
	if (n > 32)
		n = 32;
	int k = rtnet_pick(links, n, err, errlen);
	if (k == -1)
		return 1;
	if (k < 0)
		return -1;
	static struct proto_network nw;
	const char *name = links[k].name;
	if (netlink_read(name, &nw, err, errlen) ||
	    netlink_link_up(RTNET_TAP, nw.ifaces[0].mtu, err, errlen) ||
	    netlink_redirect(name, RTNET_TAP, err, errlen))
		return -1;
	rtnet_for_guest(&nw);
	char why[256];
	if (rt_agent_call(dir_fd, proto_network_json(&nw), why, sizeof(why)))
		return errf(err, errlen, "the guest's " RTNET_GUEST ": %s", why);
	return 0;
}

int rtnet_connect(pid_t shim, int dir_fd, bool *configured, char *err, size_t errlen)
{
	*configured = false;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)shim);
	struct stat theirs, ours;
	if (stat(path, &theirs) || stat("/proc/self/ns/net", &ours))
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	/* The host's network is not ours to rewire. */
	if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
		return 0;
	int fd;
	pid_t pid = rt_fork_report(&fd, err, errlen);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* 0: configured, 1: no interface, 2 and why: failed. */
		char why[512] = "";
		int ns = open(path, O_RDONLY | O_CLOEXEC), rc;
		if (ns < 0 || setns(ns, CLONE_NEWNET)) {
			snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
			rc = -1;
		} else {
			rc = connect_in_ns(dir_fd, why, sizeof(why));
		}
		rt_report(&fd, rc == 0 ? 0 : rc == 1 ? 1 : 2, why);
		_exit(0);
	}
	char why[512];
	int code = rt_read_report(fd, why, sizeof(why));
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (code < 0)
		code = 2;
	if (code == 2)
		return errf(err, errlen, "network: %s",
			    why[0] ? why : "the process setting it up died");
	*configured = code == 0;
	return 0;
}
