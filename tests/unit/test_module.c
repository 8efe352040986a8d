/* SPDX-License-Identifier: MIT */
/* module.c: finding a target among our own mappings by build-id, and not
 * trusting a cached build-id when an inode number was reused. */
#include "module.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "elffile.h"
#include "test.h"

struct mapped {
	void *addr;
	uint8_t id[HP_BUILD_ID_MAX];
	size_t idlen;
};

/* Maps the first page of the ELF file @path and reads its build-id. */
static void map_elf(const char *path, struct mapped *ret)
{
	struct elf_file *ef;
	int fd;

	ASSERT_OK(elf_file_open(path, &ef));
	ASSERT_OK(elf_file_build_id(ef, ret->id, &ret->idlen));
	elf_file_close(ef);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ret->addr = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	ASSERT_TRUE(ret->addr != MAP_FAILED);
}

/* Our own mapping at @addr, alone in a maps list of its own. */
static void only_entry(struct proc_maps *all, void *addr, struct proc_maps *ret)
{
	const struct map_entry *e;

	ASSERT_OK(proc_maps_read(getpid(), all));
	e = proc_maps_find(all, (uint64_t)(uintptr_t)addr);
	ASSERT_NOT_NULL(e);
	ret->v = (struct map_entry *)e;
	ret->n = 1;
}

static void need_map_files(void)
{
	struct stat st;

	if (stat("/proc/self/map_files", &st) < 0 || access("/proc/self/map_files", R_OK) < 0)
		TEST_SKIP("no access to /proc/self/map_files (needs root)");
}

TEST(finds_a_mapping_by_build_id)
{
	struct proc_maps all = {0}, one;
	struct proc_module m;
	struct mapped self;

	need_map_files();
	map_elf("/proc/self/exe", &self);
	only_entry(&all, self.addr, &one);
	ASSERT_OK(module_find(getpid(), &one, self.id, self.idlen, &m));
	ASSERT_TRUE(m.first == one.v);
	self.id[0] ^= 1;
	ASSERT_ERR(module_find(getpid(), &one, self.id, self.idlen, &m), -ENOENT);
	munmap(self.addr, 4096);
	proc_maps_free(&all);
}

TEST(reused_inode_number_is_looked_at_again)
{
	struct proc_maps all_a = {0}, all_b = {0}, a, b;
	struct mapped self, libc;
	struct proc_module m;
	Dl_info info;

	need_map_files();
	module_cache_clear();
	ASSERT_TRUE(dladdr((void *)printf, &info) && info.dli_fname);
	map_elf("/proc/self/exe", &self);
	map_elf(info.dli_fname, &libc);
	ASSERT_FALSE(self.idlen == libc.idlen && !memcmp(self.id, libc.id, self.idlen));

	/* The cache learns our executable's device and inode number... */
	only_entry(&all_a, self.addr, &a);
	ASSERT_OK(module_find(getpid(), &a, self.id, self.idlen, &m));
	/* ...then another file shows up under that same number, as a file
	 * created after a deletion does (a commit's or a rollback's). */
	only_entry(&all_b, libc.addr, &b);
	b.v->dev_major = a.v->dev_major;
	b.v->dev_minor = a.v->dev_minor;
	b.v->inode = a.v->inode;
	ASSERT_OK(module_find(getpid(), &b, libc.id, libc.idlen, &m));
	ASSERT_ERR(module_find(getpid(), &b, self.id, self.idlen, &m), -ENOENT);

	munmap(self.addr, 4096);
	munmap(libc.addr, 4096);
	proc_maps_free(&all_a);
	proc_maps_free(&all_b);
}
