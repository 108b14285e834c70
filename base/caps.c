// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* caps.c - bounds hit, logged once and counted */
#include <stdbool.h>
#include <stdio.h>

#include "caps.h"
#include "log.h"

struct caps_desc {
	const char *name; /* summary key */
	const char *bound; /* what is bounded */
	const char *dropped; /* what a hit refuses */
};

static const struct caps_desc caps_desc[CAPS_N] = {
	[CAPS_AGG_STACKS] = { "agg_stacks", "distinct stacks per window", "the sample" },
	[CAPS_AGG_FRAMES] = { "agg_frames", "distinct frames per window", "the sample" },
	[CAPS_AGG_POOL] = { "agg_pool", "frame slots per window", "the sample" },
	[CAPS_AGG_PROCS] = { "agg_procs", "processes per window", "the sample" },
	[CAPS_AGG_DEPTH] = { "agg_depth", "frames per stack", "the outermost frames" },
	[CAPS_SYM_TABLE] = { "sym_table", "bytes of one symbol table in the cache",
			     "the file's symbols (frames keep file+offset)" },
	[CAPS_KSYM] = { "ksym", "kallsyms symbols or bytes", "the rest of kallsyms" },
	[CAPS_STRTAB] = { "strtab", "bytes of one string blob", "the name or path" },
	[CAPS_LINE] = { "line", "bytes of one text line", "the line" },
	[CAPS_PERFMAP] = { "perfmap", "perf-map entries or bytes of one process",
			   "part of the map (over the bytes, its oldest part)" },
	[CAPS_DWARF] = { "dwarf", "DWARF bytes of one file", "the file's lines and inlines" },
	[CAPS_MAPSTORE_MAPS] = { "mapstore_maps", "mmap records kept per process image",
				 "the record" },
	[CAPS_MAPSTORE_IMAGES] = { "mapstore_images", "exec images kept per process",
				   "the oldest image's records" },
	[CAPS_JVM] = { "jvm", "JVMs tracked for attaching", "the attach" },
	[CAPS_PERFMAP_TOTAL] = { "perfmap_total", "perf-map bytes held over all processes",
				 "the least recently used process's whole map (read again when "
				 "needed)" },
	[CAPS_RELABEL_SET] = { "relabel_set", "labels per process while relabelling",
			       "the labels a rule adds past it" },
	[CAPS_LABEL_NAMES] = { "label_names", "label names per series",
			       "the labels past it, in name order" },
	[CAPS_RELABEL_MATCH] = { "relabel_match", "backtracking steps of one relabel regex match",
				 "the match (the value counts as not matching)" },
};

static uint64_t caps_count[CAPS_N];
static bool caps_logged[CAPS_N];

void caps__hit(enum caps_id id, uint64_t n, uint64_t limit)
{
	if ((unsigned)id >= CAPS_N)
		return;
	__atomic_fetch_add(&caps_count[id], n, __ATOMIC_RELAXED);
	/* Once per bound: a bound hit per sample must not flood the log. */
	if (!__atomic_exchange_n(&caps_logged[id], true, __ATOMIC_RELAXED))
		log_warn("caps: bound reached bound=%s max=%llu (%s); dropped each time: %s, "
			 "counted in caps_hit",
			 caps_desc[id].name, (unsigned long long)limit, caps_desc[id].bound,
			 caps_desc[id].dropped);
}

uint64_t caps__count(enum caps_id id)
{
	return (unsigned)id < CAPS_N ? __atomic_load_n(&caps_count[id], __ATOMIC_RELAXED) : 0;
}

const char *caps__name(enum caps_id id)
{
	return (unsigned)id < CAPS_N ? caps_desc[id].name : "?";
}

void caps__format(char *buf, size_t size)
{
	uint64_t total = 0;
	size_t off;
	int i, n;

	if (!size)
		return;
	for (i = 0; i < CAPS_N; i++)
		total += caps__count(i);
	n = snprintf(buf, size, "caps_hit=%llu", (unsigned long long)total);
	off = n > 0 && (size_t)n < size ? (size_t)n : size - 1;
	for (i = 0; i < CAPS_N; i++) {
		uint64_t c = caps__count(i);

		if (!c)
			continue;
		n = snprintf(buf + off, size - off, " cap_%s=%llu", caps_desc[i].name,
			     (unsigned long long)c);
		if (n < 0 || (size_t)n >= size - off) {
			buf[off] = '\0'; /* no half field */
			return;
		}
		off += n;
	}
}

void caps__reset(void)
{
	int i;

	for (i = 0; i < CAPS_N; i++) {
		__atomic_store_n(&caps_count[i], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&caps_logged[i], false, __ATOMIC_RELAXED);
	}
}
