/*
 * A shell-less /init for test initramfs images: prints one marker line on
 * the console and ends the VM. With no userspace to speak of, a line on
 * the console proves the kernel booted, found the initramfs and ran init.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER "VMM-GUEST-INIT-OK"

int main(void)
{
	/* The initramfs has no /dev/console node; devtmpfs brings one. */
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		dprintf(fd, "%s\n", MARKER);
		fsync(fd);
	}
	/* RB_AUTOBOOT: the VMM ends the run on the reset (reboot=k or =t). */
	reboot(RB_AUTOBOOT);
	return 1;
}
