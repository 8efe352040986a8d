/* SPDX-License-Identifier: MIT */
/*
 * The safety and consistency check, run while every thread is stopped.
 *
 * Unsafe: a thread's PC inside a forbidden range (a function being replaced
 * on apply; the patch's own code on revert), or any frame of a thread inside
 * one. Checking frames with a full unwind of every thread would make the
 * pause grow with thread count and stack depth, so the check is two-tier:
 * first a conservative scan of each thread's live stack (SP up to the end of
 * its stack mapping) for any word that points into a forbidden range. Every
 * return address of every frame is such a word, so a clean scan proves
 * safety. Only a thread whose scan hits (a real frame, or a stale value) is
 * unwound exactly with libdwfl. An incomplete unwind counts as unsafe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_maps;
struct threads;
struct unwinder;

struct range {
	uint64_t lo, hi;
	const char *name;
};

struct safety {
	pid_t pid;
	int memfd;
	const struct proc_maps *maps;
	struct range *forbid; /* sorted by safety_init */
	size_t nforbid;
	struct unwinder *unw; /* created on the first scan hit */
	uint8_t *buf;
	size_t bufcap;
	unsigned unwinds; /* precise unwinds done, for reports */
	bool emulate;     /* epilogues may be emulated (no shadow stack) */
};

/* Takes ownership of @forbid. */
void safety_init(struct safety *s, pid_t pid, int memfd, const struct proc_maps *maps,
		 struct range *forbid, size_t nforbid);
void safety_free(struct safety *s);
/* 0: safe. 1: unsafe, with the reason in @why. <0: error. */
int safety_check(struct safety *s, const struct threads *ts, char *why, size_t len);
const struct range *range_find(const struct range *v, size_t n, uint64_t addr);
