/* SPDX-License-Identifier: MIT */
/*
 * /init of the arm64 test guest's initramfs (root.sh builds it statically
 * with the cross compiler and packs it with the few modules it loads).
 * It loads the modules listed in /lib/modules/order (dependencies first),
 * mounts /dev/vda, moves into it and runs /sbin/hp-guest-boot there: no
 * udev, no scripts, and nothing that has to be made inside the arm64 root
 * (Debian's initramfs takes mkinitramfs most of an hour under qemu-user).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "hp-init: %s: %s\n", what, strerror(errno));
	sync();
	/* PID 1 exiting panics the kernel; with panic=-1 qemu then exits. */
	exit(1);
}

static void load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		die(path);
	close(fd);
}

int main(void)
{
	FILE *list;
	char line[512];

	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0)
		die("mount /dev");
	list = fopen("/lib/modules/order", "re");
	if (!list)
		die("/lib/modules/order");
	while (fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			load(line);
	}
	fclose(list);
	/* virtio_blk probes asynchronously: wait for the disk, 30 s at most. */
	for (int i = 0; i < 300 && access("/dev/vda", F_OK) < 0; i++)
		usleep(100000);
	if (mount("/dev/vda", "/root", "ext4", 0, NULL) < 0)
		die("mount /dev/vda");
	if (mount("/dev", "/root/dev", NULL, MS_MOVE, NULL) < 0)
		die("move /dev");
	if (chdir("/root") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		die("switch to the root");
	execl("/sbin/hp-guest-boot", "hp-guest-boot", (char *)NULL);
	die("exec /sbin/hp-guest-boot");
}
