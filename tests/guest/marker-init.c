/*
 * vmm-marker: the test guests' boot milestone. It writes the boot-timer
 * port (so `vmm boot --boot-timer` times the boot) when the kernel command
 * line says vmm_boot_timer=1 (the kernel hands it to init as an environment
 * variable; other monitors have no such port), and prints one marker line
 * with the guest's own uptime on the console.
 *
 * As /init of the marker initramfs (no arguments, PID 1) it then resets
 * the VM: with no userspace to speak of, the line proves the kernel booted,
 * found the initramfs and ran init. With the argument "mark" (run by
 * another init, such as the busybox test image's) it just returns.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot_timer.h"

#define MARKER "VMM-GUEST-INIT-OK"

int main(int argc, char **argv)
{
	/* First, so the time includes nothing of ours. */
	const char *timer = getenv("vmm_boot_timer");
	if (timer && !strcmp(timer, "1") && ioperm(BOOT_TIMER_PORT, 1, 1) == 0)
		outb(BOOT_TIMER_MAGIC, BOOT_TIMER_PORT);
	struct timespec up;
	clock_gettime(CLOCK_BOOTTIME, &up);
	double up_ms = up.tv_sec * 1e3 + up.tv_nsec / 1e6;

	bool as_init = argc < 2 || strcmp(argv[1], "mark");
	int fd = STDOUT_FILENO;
	if (as_init) {
		/* The initramfs has no /dev/console node; devtmpfs brings one. */
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	}
	if (fd >= 0) {
		dprintf(fd, "%s uptime_ms=%.1f\n", MARKER, up_ms);
		fsync(fd);
	}
	if (!as_init)
		return 0;
	/* RB_AUTOBOOT: the VMM ends the run on the reset (reboot=k or =t). */
	reboot(RB_AUTOBOOT);
	return 1;
}
