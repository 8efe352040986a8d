/* SPDX-License-Identifier: MIT */
/*
 * Carrying a file's identity over to its replacement: owner, group, mode
 * (set-id bits included) and every extended attribute: file capabilities
 * (security.capability), ACLs (system.posix_acl_*), security labels and
 * user attributes. `commit` and `rollback` write a new inode and rename it
 * over the old one, so whatever the old inode carried must be copied, or a
 * binary that relied on a capability or a set-uid bit would silently lose it.
 */
#pragma once

/* Copies the attributes of @src_fd onto @dst_fd. Fails (with a message
 * naming the attribute) rather than produce a file that lacks one. */
int fileattrs_copy(int src_fd, int dst_fd);
