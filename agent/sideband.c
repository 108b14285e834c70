// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sideband.c - per-CPU perf side-band records into the mapstore
 *
 * The records come from the task's own exec, mmap and exit paths, so they
 * are written before anything can sample the mapping and nothing races the
 * exit. Times are on CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns(),
 * so records and samples compare. Only executable file mappings are asked
 * for (mmap_data stays off: it would report every malloc arena).
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sideband.h"
#include "sym_maps.h"

/* 2^6 data pages a CPU: 256 KiB, a second of 500 exec/s on one CPU even if
 * the main loop stalls for a window's symbolization. */
#define SIDEBAND_PAGES 64
/* A record is at most a 64 KiB header size; the copy of one that wraps. */
#define SIDEBAND_MAX_RECORD 65536

struct sideband_cpu {
	int fd;
	void *base; /* the perf_event_mmap_page, then the data pages */
	size_t data_size;
};

struct sideband {
	struct mapstore *ms;
	struct sideband_cpu *cpus;
	int ncpus;
	size_t page;
	char *wrap; /* a record that wraps the ring end, made contiguous */
	struct sideband_stats stats;
};

/* The sample_id trailer with sample_type TID | TIME. */
struct sideband_id {
	uint32_t pid, tid;
	uint64_t time;
};

struct sideband_mmap2 {
	struct perf_event_header h;
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags;
	char filename[];
};

struct sideband_comm {
	struct perf_event_header h;
	uint32_t pid, tid;
	char comm[];
};

struct sideband_task {
	struct perf_event_header h;
	uint32_t pid, ppid, tid, ptid;
	uint64_t time;
};

_Static_assert(sizeof(struct sideband_mmap2) == 72, "MMAP2 filename at byte 72");

static int sideband_open(int cpu)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_DUMMY,
		.size = sizeof(attr),
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
		.mmap = 1,
		.mmap2 = 1,
		.comm = 1,
		.comm_exec = 1,
		.task = 1,
		.sample_id_all = 1,
		.use_clockid = 1,
		.clockid = CLOCK_BOOTTIME,
		/* Never woken: the main loop drains on its own schedule. */
		.watermark = 1,
		.wakeup_watermark = SIDEBAND_PAGES * 4096,
	};

	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

struct sideband *sideband__new(struct mapstore *ms)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	struct sideband *sb;
	int cpu, err = 0, opened = 0;

	if (ncpus <= 0)
		ncpus = 1;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return errno = ENOMEM, NULL;
	sb->ms = ms;
	sb->page = sysconf(_SC_PAGESIZE);
	sb->ncpus = ncpus;
	sb->cpus = calloc(ncpus, sizeof(*sb->cpus));
	sb->wrap = malloc(SIDEBAND_MAX_RECORD);
	if (!sb->cpus || !sb->wrap) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (cpu = 0; cpu < ncpus; cpu++)
		sb->cpus[cpu].fd = -1;
	for (cpu = 0; cpu < ncpus; cpu++) {
		struct sideband_cpu *c = &sb->cpus[cpu];
		size_t len = (1 + SIDEBAND_PAGES) * sb->page;

		c->fd = sideband_open(cpu);
		if (c->fd < 0) {
			/* Offline CPUs cannot run anything to report. */
			if (errno == ENODEV || errno == EINVAL)
				continue;
			err = -errno;
			goto cleanup;
		}
		c->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->base == MAP_FAILED) {
			c->base = NULL;
			err = -errno;
			goto cleanup;
		}
		c->data_size = SIDEBAND_PAGES * sb->page;
		opened++;
	}
	if (!opened) {
		err = -ENODEV;
		goto cleanup;
	}
	return sb;
cleanup:
	sideband__free(sb);
	return errno = -err, NULL;
}

void sideband__free(struct sideband *sb)
{
	int cpu;

	if (!sb)
		return;
	for (cpu = 0; sb->cpus && cpu < sb->ncpus; cpu++) {
		if (sb->cpus[cpu].base)
			munmap(sb->cpus[cpu].base, (1 + SIDEBAND_PAGES) * sb->page);
		if (sb->cpus[cpu].fd >= 0)
			close(sb->cpus[cpu].fd);
	}
	free(sb->cpus);
	free(sb->wrap);
	free(sb);
}

/* The sample_id trailer sits at the record's end (sample_id_all). */
static int sideband_id(const void *rec, size_t size, size_t body, struct sideband_id *id)
{
	if (size < body + sizeof(*id))
		return -EINVAL;
	memcpy(id, (const char *)rec + size - sizeof(*id), sizeof(*id));
	return 0;
}

int sideband_record(struct mapstore *ms, const void *rec, size_t size)
{
	const struct perf_event_header *h = rec;
	struct sideband_id id;
	struct sym_map m;
	size_t flen;

	if (size < sizeof(*h) || h->size != size)
		return -EINVAL;
	switch (h->type) {
	case PERF_RECORD_MMAP2: {
		const struct sideband_mmap2 *r = rec;

		if (sideband_id(rec, size, sizeof(*r) + 1, &id))
			return -EINVAL;
		/* NUL-padded to 8 bytes, between the fixed part and the trailer. */
		flen = strnlen(r->filename, size - sizeof(*r) - sizeof(id));
		if (flen == size - sizeof(*r) - sizeof(id) || r->addr + r->len < r->addr)
			return -EINVAL;
		/* Anonymous and pseudo mappings, and build-id records (no
		 * inode), are of no use for naming a file later. */
		if (r->filename[0] != '/' && strcmp(r->filename, "[vdso]"))
			return 0;
		memset(&m, 0, sizeof(m));
		m.start = r->addr;
		m.end = r->addr + r->len;
		m.pgoff = r->pgoff;
		if (!(h->misc & PERF_RECORD_MISC_MMAP_BUILD_ID)) {
			m.dev_major = r->maj;
			m.dev_minor = r->min;
			m.ino = r->ino;
		}
		m.prot = SYM_PROT_EXEC | SYM_PROT_READ;
		m.path = r->filename;
		return mapstore__mmap(ms, r->pid, id.time, &m);
	}
	case PERF_RECORD_COMM: {
		const struct sideband_comm *r = rec;

		if (sideband_id(rec, size, sizeof(*r), &id))
			return -EINVAL;
		if (!(h->misc & PERF_RECORD_MISC_COMM_EXEC) || r->pid != r->tid)
			return 0;
		return mapstore__exec(ms, r->pid, id.time);
	}
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT: {
		const struct sideband_task *r = rec;

		if (sideband_id(rec, size, sizeof(*r), &id))
			return -EINVAL;
		/* Thread creation and exit (pid == ppid, or tid != pid) change
		 * no process's mappings. */
		if (r->tid != r->pid)
			return 0;
		if (h->type == PERF_RECORD_EXIT) {
			mapstore__exit(ms, r->pid, r->time);
			return 0;
		}
		return r->pid == r->ppid ? 0 : mapstore__fork(ms, r->pid, r->ppid, r->time);
	}
	default:
		return 0;
	}
}

static int sideband_drain_cpu(struct sideband *sb, struct sideband_cpu *c)
{
	struct perf_event_mmap_page *pg = c->base;
	const char *data = (const char *)c->base + sb->page;
	uint64_t head, tail, mask = c->data_size - 1;
	struct perf_event_header h;
	int n = 0, err;

	/* Acquire pairs with the kernel's store of data_head: the records
	 * before it are visible once we see it. */
	head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	tail = pg->data_tail;
	while (tail < head) {
		const void *rec;
		size_t off = tail & mask;

		if (head - tail < sizeof(h))
			break;
		if (off + sizeof(h) <= c->data_size) {
			memcpy(&h, data + off, sizeof(h));
		} else {
			size_t first = c->data_size - off;

			memcpy(&h, data + off, first);
			memcpy((char *)&h + first, data, sizeof(h) - first);
		}
		if (h.size < sizeof(h) || h.size > head - tail) {
			/* Cannot happen with a sane kernel: resync by skipping all. */
			sb->stats.bad++;
			tail = head;
			break;
		}
		if (off + h.size <= c->data_size) {
			rec = data + off;
		} else {
			size_t first = c->data_size - off;

			memcpy(sb->wrap, data + off, first);
			memcpy(sb->wrap + first, data, h.size - first);
			rec = sb->wrap;
		}
		if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
			uint64_t lost;

			memcpy(&lost, (const char *)rec + sizeof(h) + 8, sizeof(lost));
			sb->stats.lost += lost;
		} else {
			err = sideband_record(sb->ms, rec, h.size);
			if (err == -EINVAL)
				sb->stats.bad++;
		}
		tail += h.size;
		n++;
	}
	/* Release: we are done reading what lies before the new tail. */
	__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

int sideband__drain(struct sideband *sb)
{
	int cpu, n = 0;

	sb->stats.drains++;
	for (cpu = 0; cpu < sb->ncpus; cpu++)
		if (sb->cpus[cpu].base)
			n += sideband_drain_cpu(sb, &sb->cpus[cpu]);
	sb->stats.records += n;
	return n;
}

void sideband__stats(const struct sideband *sb, struct sideband_stats *out)
{
	*out = sb->stats;
}
