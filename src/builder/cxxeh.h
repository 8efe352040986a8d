/* SPDX-License-Identifier: MIT */
/*
 * Can a C++ exception cross a function's frame?
 *
 * The process's C++ runtime (libgcc's unwinder) looks for unwind and
 * exception tables only in the modules the dynamic loader loaded (through
 * _dl_find_object), and a live patch is not one of them: when an exception
 * is thrown, caught, cleaned up after, or only passes through a frame of
 * patch code, the unwinder finds no table for it and the process ends in
 * std::terminate(). A changed C++ function is therefore carried only when
 * no exception can reach its frame: it has no exception table (no catch, no
 * cleanup), throws nothing itself, and every call it makes goes to a C
 * function or to a C++ function of the same object of which the same holds.
 * An indirect call (a virtual function, a function pointer) may throw.
 * Tail calls leave no frame of ours and do not count.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct changes;
struct obj;

/* Is @o compiled from C++ (its source file's name says so)? */
bool cxxeh_is_cxx(const struct obj *o);
/* 0 when no exception can cross the frame of the function in section @sec
 * of C++ object @o; 1 when one can, with the reason in @why (a phrase: "it
 * catches or cleans up after exceptions", "it calls f, which may throw");
 * a negative errno when the code cannot be read. */
int cxxeh_crossed(const struct obj *o, size_t sec, char *why, size_t len);

/* Refuses the first of the changed or new functions of C++ object @fixed,
 * from entry @first of @c on, that an exception can cross, naming it (f,
 * not f.cold, whose landing pads are f's): -EINVAL with the message and
 * @c->refusal set, as objdiff_pair() refuses. 0 when none can. */
int cxxeh_refuse(struct changes *c, size_t first, const struct obj *fixed);
