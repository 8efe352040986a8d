/* SPDX-License-Identifier: MIT */
/*
 * Reading a process from the outside through /proc: its mappings, threads,
 * tracer, thread states, and its memory (through /proc/PID/mem, which also
 * writes to read-only code pages without making them writable in the
 * process, so W^X holds in the target).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct map_entry {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	int prot; /* PROT_* */
	bool shared;
	unsigned dev_major;
	unsigned dev_minor;
	uint64_t inode;
	bool deleted;
	char *path; /* NULL for anonymous mappings */
};

struct proc_maps {
	struct map_entry *v;
	size_t n;
};

int proc_maps_read(pid_t pid, struct proc_maps *ret);
void proc_maps_free(struct proc_maps *m);
/* Binary search; NULL if @addr is not mapped. */
const struct map_entry *proc_maps_find(const struct proc_maps *m, uint64_t addr);
/* Path of the map_files entry for @e, which opens the mapped inode itself even
 * when the process lives in another mount namespace or the file was deleted. */
void proc_map_files_path(pid_t pid, const struct map_entry *e, char *buf, size_t len);
/* The same through a thread @tid already found live (proc_live_tid()): one
 * check for all the mappings of a scan, not one per mapping. */
void proc_map_files_path_tid(pid_t tid, const struct map_entry *e, char *buf, size_t len);

/* Thread ids of @pid, sorted. */
int proc_tasks(pid_t pid, pid_t **ret, size_t *ret_n);
/* TracerPid from /proc/PID/status, 0 when not traced. */
int proc_tracer(pid_t pid, pid_t *ret);
/* Single-letter scheduler state (R, S, D, T, t, Z, ...) of thread @tid. */
char proc_thread_state(pid_t pid, pid_t tid);
/* CPU time thread @tid has used, in ns (schedstat); 0 if unknown. */
uint64_t proc_thread_runtime_ns(pid_t pid, pid_t tid);
int proc_comm(pid_t pid, char *buf, size_t len);
/* Has @pid exited (gone, or a zombie)? */
bool proc_exited(pid_t pid);
/* @pid, or when its main thread has exited while other threads run (a
 * zombie leader, whose /proc entry no longer shows the memory, maps, files
 * or executable), a live thread of it, whose /proc/TID entry shows them. */
pid_t proc_live_tid(pid_t pid);
/* Does the process's main thread run with a CET user shadow stack? Then
 * return addresses live in two places, and a `ret` or an rt_sigreturn made
 * on its behalf must keep both. */
bool proc_shadow_stack(pid_t pid);
/* Effective uid of the process. */
int proc_uid(pid_t pid, uid_t *ret);
/* All numeric entries of /proc except ourselves. */
int proc_list_pids(pid_t **ret, size_t *ret_n);

int proc_mem_open(pid_t pid, bool writable);
int proc_mem_read(int memfd, uint64_t addr, void *buf, size_t len);
int proc_mem_write(int memfd, uint64_t addr, const void *buf, size_t len);
