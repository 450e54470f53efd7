/* cmd_features: `features`: what this runtime supports, as the
 * runtime-spec's features document spells it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rt.h"

int cmd_features(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: " RT_NAME " features\n");
		return 0;
	}
	if (argc != 1)
		return rt_usage("features", "takes no arguments");
	json_t *f = json_pack(
		"{s:s, s:s, s:[ssss], s:[sssssssssssssssssss], s:{s:[sssss], s:{s:b, s:b, s:b},"
		" s:{s:b}, s:{s:b}, s:{s:b}}, s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", RT_OCI_VERSION, "hooks", "prestart",
		"createRuntime", "poststart", "poststop", "mountOptions", "ro", "rw", "nosuid",
		"suid", "nodev", "dev", "noexec", "exec", "relatime", "norelatime", "noatime",
		"strictatime", "nodiratime", "bind", "rbind", "private", "rprivate", "slave",
		"rslave", "linux", "namespaces", "mount", "pid", "uts", "ipc", "network", "cgroup",
		"v1", 0, "v2", 1, "systemd", 0, "seccomp", "enabled", 0, "apparmor", "enabled", 0,
		"selinux", "enabled", 0, "annotations", "io.github.vmm.isolation", "microvm");
	if (!f)
		return rt_error("features: out of memory");
	json_dumpf(f, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(f);
	return 0;
}
