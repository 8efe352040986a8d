/* SPDX-License-Identifier: MIT */
/*
 * Named fault points for the fault-injection harness: when the environment
 * variable HOTPATCH_FAULT names a point, the tool SIGKILLs itself there, so
 * tests can prove that every step of apply and revert leaves the target
 * alive, either untouched or completely patched, and that a second run
 * converges. With HOTPATCH_FAULT_ACTION=stop it SIGSTOPs itself instead, so
 * a test can make the target exit at exactly that step and then let the tool
 * go on. Each point is listed in fault_points[] (`hotpatch --fault-points`)
 * so the harness can walk all of them.
 */
#pragma once

#include <stddef.h>

extern const char *const fault_points[];
extern const size_t fault_points_n;

void fault_point(const char *name);
