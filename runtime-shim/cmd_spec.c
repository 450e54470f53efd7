/* cmd_spec: `spec [--bundle DIR]`: writes a starting config.json (as
 * runc spec does): sh on a terminal in ./rootfs, the usual mounts and
 * namespaces. An existing one is left alone (an error). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "rt.h"

static const char default_spec[] =
	"{\n"
	"  \"ociVersion\": \"" RT_OCI_VERSION "\",\n"
	"  \"process\": {\n"
	"    \"terminal\": true,\n"
	"    \"user\": {\"uid\": 0, \"gid\": 0},\n"
	"    \"args\": [\"sh\"],\n"
	"    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"            \"TERM=xterm\"],\n"
	"    \"cwd\": \"/\",\n"
	"    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
	"    \"noNewPrivileges\": true\n"
	"  },\n"
	"  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
	"  \"hostname\": \"vmm\",\n"
	"  \"mounts\": [\n"
	"    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
	"    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	"     \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
	"    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"     \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
	"\"mode=0620\"]},\n"
	"    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
	"     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
	"    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
	"     \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}\n"
	"  ],\n"
	"  \"linux\": {\n"
	"    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
	"                   {\"type\": \"uts\"}, {\"type\": \"mount\"}]\n"
	"  }\n"
	"}\n";

int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"rootless", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *bundle = ".";
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "b:h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: " RT_NAME " spec [--bundle DIR]\n");
			return 0;
		}
		if (c == 'b')
			bundle = optarg;
		else if (c != 'r')
			return rt_usage("spec", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc)
		return rt_usage("spec", "takes no arguments");
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return rt_error("spec: %s: %s", path,
				errno == EEXIST ? "exists already" : strerror(errno));
	ssize_t n = write(fd, default_spec, sizeof(default_spec) - 1);
	close(fd);
	if (n != (ssize_t)sizeof(default_spec) - 1)
		return rt_error("spec: %s: cannot write it", path);
	return 0;
}
