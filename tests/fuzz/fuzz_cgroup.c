// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_cgroup.c - libFuzzer harness for the /proc/PID/cgroup parsers (unit, container, pod) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgroup.h"
#include "proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the parsers promise of any output: terminated, and only the
 * characters a container id or pod uid can hold. */
static void check_where(const struct cgroup_where *w)
{
	size_t i, n;

	n = strnlen(w->container_id, sizeof(w->container_id));
	if (n != 0 && n != CGROUP_ID_LEN)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", w->container_id[i]))
			__builtin_trap();
	n = strnlen(w->pod_uid, sizeof(w->pod_uid));
	if (n != 0 && n != CGROUP_UID_LEN)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef-", w->pod_uid[i]))
			__builtin_trap();
	if (w->runtime > CGROUP_RT_PODMAN || w->qos > CGROUP_QOS_BESTEFFORT)
		__builtin_trap();
	if (!w->container_id[0] && w->runtime != CGROUP_RT_NONE)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_where w;
	char path[64], unit[16];
	int err;

	if (!proc_parse_cgroup((const char *)data, size, path, sizeof(path), unit, sizeof(unit))) {
		/* Both outputs must be terminated within their buffers. */
		if (strnlen(path, sizeof(path)) == sizeof(path) ||
		    strnlen(unit, sizeof(unit)) == sizeof(unit))
			__builtin_trap();
	}
	err = cgroup_parse_proc((const char *)data, size, &w);
	check_where(&w);
	if (err == 0 && !w.container_id[0] && !w.pod_uid[0])
		__builtin_trap();
	err = cgroup_parse_path((const char *)data, size, &w);
	check_where(&w);
	if (err == 0 && !w.container_id[0] && !w.pod_uid[0])
		__builtin_trap();
	return 0;
}
