/* SPDX-License-Identifier: MIT */
/*
 * What hotpatchd tells the rest of the host about itself, beyond its
 * control socket: the one-line STATUS= systemd shows, and a Prometheus
 * node_exporter textfile (var/lib/prometheus/node-exporter/hotpatch.prom)
 * for fleet monitoring. Both are made from the view and from what the host
 * refuses the daemon (struct health), and rewritten when they change.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct json;
struct view;

/* The host facilities hotpatchd can run without, more slowly or refusing
 * some processes, when a container or a unit's sandbox blocks them. */
enum facility { FAC_FANOTIFY, FAC_CONNECTOR, FAC_FILTERS, FAC_COUNT };

struct health {
	char blocked[FAC_COUNT][512]; /* why, and the remedy; "" when available */
	int64_t last_apply_s;         /* wall clock of the last apply that patched */
};

const char *facility_name(enum facility f);
/* What the daemon does without it. */
const char *facility_fallback(enum facility f);
bool health_degraded(const struct health *h);
void health_json(const struct health *h, struct json *j);
void health_text(const struct health *h, struct buf *out);

/* "N patches enabled: P processes patched, Q pending, F failed[; degraded: ...]" */
void metrics_status(const struct view *v, const struct health *h, char *out, size_t size);
void metrics_prom(const struct view *v, const struct health *h, struct buf *out);
