// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_cgroup.c - cgroup paths of every runtime, driver and cgroup version -> container and pod;
 * the cache */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cmocka.h>

#include "caps.h"
#include "cgroup.h"

#define ID_A "bacb920470900725e0aa7d914fee5eb0854315448b024b6b8420ad8429c607ba"
#define ID_B "9e07365d65e8f8a5f3e2b4c7d8e9fa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4dba98"
#define UID_A "4c9f1974-5c46-44c2-b42f-3bbf0e98eef9"
#define UID_A_ "4c9f1974_5c46_44c2_b42f_3bbf0e98eef9"

struct shape {
	const char *what;
	const char *path; /* one cgroup path, as after "N:ctl:" */
	int err;
	const char *id, *uid;
	enum cgroup_runtime rt;
	enum cgroup_qos qos;
};

/* reference/k8s-and-jit.md A1, one row per shape. */
static const struct shape shapes[] = {
	{ "containerd systemd v2 besteffort",
	  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_A_
	  ".slice/cri-containerd-" ID_A ".scope",
	  0, ID_A, UID_A, CGROUP_RT_CONTAINERD, CGROUP_QOS_BESTEFFORT },
	{ "containerd systemd guaranteed",
	  "/kubepods.slice/kubepods-pod" UID_A_ ".slice/cri-containerd-" ID_B ".scope", 0, ID_B,
	  UID_A, CGROUP_RT_CONTAINERD, CGROUP_QOS_GUARANTEED },
	{ "cri-o systemd burstable",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_
	  ".slice/crio-" ID_A ".scope",
	  0, ID_A, UID_A, CGROUP_RT_CRIO, CGROUP_QOS_BURSTABLE },
	{ "cri-o cgroupfs v2", "/kubepods/besteffort/pod" UID_A "/crio-" ID_A, 0, ID_A, UID_A,
	  CGROUP_RT_CRIO, CGROUP_QOS_BESTEFFORT },
	{ "docker systemd v2",
	  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_A_
	  ".slice/docker-" ID_A ".scope",
	  0, ID_A, UID_A, CGROUP_RT_DOCKER, CGROUP_QOS_BESTEFFORT },
	{ "cgroupfs v1 guaranteed (GKE)", "/kubepods/pod" UID_A "/" ID_A, 0, ID_A, UID_A,
	  CGROUP_RT_UNKNOWN, CGROUP_QOS_GUARANTEED },
	{ "containerd cgroupfs v2", "/kubepods/burstable/pod" UID_A "/" ID_B, 0, ID_B, UID_A,
	  CGROUP_RT_UNKNOWN, CGROUP_QOS_BURSTABLE },
	{ "kind, --cgroup-root",
	  "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID_A_ ".slice/cri-containerd-" ID_A ".scope",
	  0, ID_A, UID_A, CGROUP_RT_CONTAINERD, CGROUP_QOS_BESTEFFORT },
	{ "driver mismatch, literal CRI path",
	  "/kubepods-burstable-pod" UID_A ".slice:cri-containerd:" ID_A, 0, ID_A, UID_A,
	  CGROUP_RT_CONTAINERD, CGROUP_QOS_BURSTABLE },
	{ "driver mismatch under containerd.service",
	  "/system.slice/containerd.service/kubepods-besteffort-pod" UID_A_
	  ".slice:cri-containerd:" ID_B,
	  0, ID_B, UID_A, CGROUP_RT_CONTAINERD, CGROUP_QOS_BESTEFFORT },
	{ "plain docker cgroupfs", "/docker/" ID_A, 0, ID_A, NULL, CGROUP_RT_DOCKER,
	  CGROUP_QOS_NONE },
	{ "plain docker systemd, init sub-cgroup", "/system.slice/docker-" ID_A ".scope/init", 0,
	  ID_A, NULL, CGROUP_RT_DOCKER, CGROUP_QOS_NONE },
	{ "podman",
	  "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B ".scope", 0, ID_B,
	  NULL, CGROUP_RT_PODMAN, CGROUP_QOS_NONE },
	{ "nested cgroup namespace",
	  "/../../kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_
	  ".slice/cri-containerd-" ID_A ".scope",
	  0, ID_A, UID_A, CGROUP_RT_CONTAINERD, CGROUP_QOS_BURSTABLE },
	{ "namespace root is the container", "/", -ENOENT, NULL, NULL, CGROUP_RT_NONE,
	  CGROUP_QOS_NONE },
	{ "inside a namespace, relative to the pod", "/../cri-containerd-" ID_A ".scope", 0, ID_A,
	  NULL, CGROUP_RT_CONTAINERD, CGROUP_QOS_NONE },
	{ "CRI-O conmon is not a container",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_
	  ".slice/crio-conmon-" ID_A ".scope",
	  0, NULL, UID_A, CGROUP_RT_NONE, CGROUP_QOS_BURSTABLE },
	{ "pod cgroup itself (sandbox-less)", "/kubepods/besteffort/pod" UID_A, 0, NULL, UID_A,
	  CGROUP_RT_NONE, CGROUP_QOS_BESTEFFORT },
	{ "systemd service", "/system.slice/nginx.service", -ENOENT, NULL, NULL, CGROUP_RT_NONE,
	  CGROUP_QOS_NONE },
	{ "user session", "/user.slice/user-0.slice/session-3.scope", -ENOENT, NULL, NULL,
	  CGROUP_RT_NONE, CGROUP_QOS_NONE },
	{ "id one digit short",
	  "/docker/"
	  "bacb920470900725e0aa7d914fee5eb0854315448b024b6b8420ad8429c607b",
	  -ENOENT, NULL, NULL, CGROUP_RT_NONE, CGROUP_QOS_NONE },
	{ "upper-case hex is not an id",
	  "/kubepods/podX/BACB920470900725E0AA7D914FEE5EB0854315448B024B6B8420AD8429C607BA",
	  -ENOENT, NULL, NULL, CGROUP_RT_NONE, CGROUP_QOS_NONE },
	{ "mixed uid separators",
	  "/kubepods.slice/kubepods-pod4c9f1974_5c46-44c2_b42f_3bbf0e98eef9.slice", -ENOENT, NULL,
	  NULL, CGROUP_RT_NONE, CGROUP_QOS_NONE },
	{ "pod in the middle of a word", "/kubepods.slice/kubepodsxpod" UID_A_ ".slice", -ENOENT,
	  NULL, NULL, CGROUP_RT_NONE, CGROUP_QOS_NONE },
	{ "a container deep under a host path is still read from the tail",
	  "/a/b/c/d/e/f/docker-" ID_A ".scope", 0, ID_A, NULL, CGROUP_RT_DOCKER, CGROUP_QOS_NONE },
	{ "an id four levels above the leaf is not the leaf", "/docker/" ID_A "/a/b/c", -ENOENT,
	  NULL, NULL, CGROUP_RT_NONE, CGROUP_QOS_NONE },
};

static void test_shapes(void **state)
{
	struct cgroup_where w;
	size_t i;
	int err;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];

		err = cgroup_parse_path(s->path, strlen(s->path), &w);
		if (err != s->err || strcmp(w.container_id, s->id ? s->id : "") ||
		    strcmp(w.pod_uid, s->uid ? s->uid : "") || w.runtime != s->rt ||
		    w.qos != s->qos)
			fail_msg("%s: %s -> err=%d id=%s uid=%s rt=%d qos=%d", s->what, s->path,
				 err, w.container_id, w.pod_uid, w.runtime, w.qos);
	}
}

static void test_bad_args(void **state)
{
	static char longpath[CGROUP_PATH_MAX + 2];
	struct cgroup_where w;

	(void)state;
	assert_int_equal(cgroup_parse_path(NULL, 3, &w), -EINVAL);
	assert_int_equal(cgroup_parse_path("/x", 0, &w), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	assert_int_equal(cgroup_parse_path(longpath, strlen(longpath), &w), -EINVAL);
	/* len bounds the read: the id past len is not seen. */
	assert_int_equal(cgroup_parse_path("/docker/" ID_A, 8, &w), -ENOENT);
}

/* Whole /proc/PID/cgroup files: which line wins. */
static void test_proc_files(void **state)
{
	struct cgroup_where w;
	const char *v2 =
		"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_A_
		".slice/cri-containerd-" ID_A ".scope\n";
	/* Hybrid: the v2 line names the runtime's unit, the v1 lines the container. */
	const char *hybrid = "12:hugetlb:/kubepods.slice/kubepods-pod" UID_A_
			     ".slice/cri-containerd-" ID_B ".scope\n"
			     "4:memory:/kubepods.slice/kubepods-pod" UID_A_
			     ".slice/cri-containerd-" ID_B ".scope\n"
			     "1:name=systemd:/system.slice/containerd.service\n"
			     "0::/system.slice/containerd.service\n";
	const char *v1_memory_first = "5:cpu,cpuacct:/kubepods/pod" UID_A "\n"
				      "4:memory:/kubepods/pod" UID_A "/" ID_A "\n";
	const char *host = "9:name=systemd:/\n8:pids:/\n0::/system.slice/ssh.service\n";
	const char *garbage = "no colons here\n::\n0:\n\n";

	(void)state;
	assert_int_equal(cgroup_parse_proc(v2, strlen(v2), &w), 0);
	assert_string_equal(w.container_id, ID_A);
	assert_true(w.from_v2);
	assert_int_equal(cgroup_parse_proc(hybrid, strlen(hybrid), &w), 0);
	assert_string_equal(w.container_id, ID_B);
	assert_string_equal(w.pod_uid, UID_A);
	assert_int_equal(w.qos, CGROUP_QOS_GUARANTEED);
	assert_false(w.from_v2);
	assert_int_equal(cgroup_parse_proc(v1_memory_first, strlen(v1_memory_first), &w), 0);
	assert_string_equal(w.container_id, ID_A);
	assert_int_equal(cgroup_parse_proc(host, strlen(host), &w), -ENOENT);
	assert_string_equal(w.container_id, "");
	assert_int_equal(cgroup_parse_proc(garbage, strlen(garbage), &w), -ENOENT);
	/* Without a final newline. */
	assert_int_equal(cgroup_parse_proc(v2, strlen(v2) - 1, &w), 0);
	assert_string_equal(w.container_id, ID_A);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cgroup_runtime_name(CGROUP_RT_CONTAINERD), "containerd");
	assert_string_equal(cgroup_runtime_name(CGROUP_RT_CRIO), "cri-o");
	assert_string_equal(cgroup_runtime_name(CGROUP_RT_DOCKER), "docker");
	assert_null(cgroup_runtime_name(CGROUP_RT_UNKNOWN));
	assert_null(cgroup_runtime_name(CGROUP_RT_NONE));
	assert_string_equal(cgroup_qos_name(CGROUP_QOS_BURSTABLE), "burstable");
	assert_null(cgroup_qos_name(CGROUP_QOS_NONE));
}

static void where_of(struct cgroup_where *w, const char *path)
{
	assert_int_equal(cgroup_parse_path(path, strlen(path), w), 0);
	w->from_v2 = true;
}

static void test_cache(void **state)
{
	struct cgroup_cache *c;
	struct cgroup_where a, b, none = { .from_v2 = true }, v1;
	const struct cgroup_where *got;
	struct cgroup_stats st;

	(void)state;
	caps__reset();
	/* A directory that is not a cgroup v2 mount: existence cannot be
	 * checked by id, so entries age out instead. */
	c = cgroup_cache__new("/", 2);
	assert_non_null(c);
	where_of(&a, "/docker/" ID_A);
	where_of(&b, "/docker/" ID_B);
	assert_null(cgroup_cache__find(c, 1));
	assert_int_equal(cgroup_cache__put(c, 1, &a), 0);
	assert_int_equal(cgroup_cache__put(c, 2, &b), 0);
	got = cgroup_cache__find(c, 1);
	assert_non_null(got);
	assert_string_equal(got->container_id, ID_A);
	/* Nothing learned, or learned from a v1 line: not kept. */
	assert_int_equal(cgroup_cache__put(c, 3, &none), 0);
	assert_null(cgroup_cache__find(c, 3));
	v1 = a;
	v1.from_v2 = false;
	assert_int_equal(cgroup_cache__put(c, 4, &v1), 0);
	assert_null(cgroup_cache__find(c, 4));
	/* Full (2): the least recently used (id 2; 1 was just found) goes. */
	assert_int_equal(cgroup_cache__put(c, 5, &b), 0);
	assert_null(cgroup_cache__find(c, 2));
	assert_non_null(cgroup_cache__find(c, 1));
	assert_non_null(cgroup_cache__find(c, 5));
	assert_int_equal(caps__count(CAPS_CGROUP), 1);
	cgroup_cache__stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.unknown, 1);
	/* Unused for more than 4 sweeps: dropped. Used: kept. */
	for (int i = 0; i < 6; i++) {
		assert_non_null(cgroup_cache__find(c, 5));
		cgroup_cache__sweep(c);
	}
	assert_null(cgroup_cache__find(c, 1));
	assert_non_null(cgroup_cache__find(c, 5));
	cgroup_cache__stats(c, &st);
	assert_int_equal(st.removed, 1);
	cgroup_cache__free(c);
	cgroup_cache__free(NULL);
}

/* With root and a cgroup v2 mount: an entry stays while its cgroup exists
 * and goes at the first sweep after it is removed. Skipped otherwise. */
static void test_cache_real_cgroup(void **state)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char dir[256];
	struct cgroup_cache *c = NULL;
	struct cgroup_where a;
	struct statfs sfs;
	const char *root = NULL;
	uint64_t id;
	size_t i;
	int mnt;

	(void)state;
	for (i = 0; i < 2 && !root; i++)
		if (!statfs(roots[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC)
			root = roots[i];
	snprintf(dir, sizeof(dir), "%s/ember-unit-%d", root ? root : "", (int)getpid());
	if (!root || geteuid() || mkdir(dir, 0755)) {
		fprintf(stderr, "SKIP test_cache_real_cgroup: needs root and a cgroup v2 mount\n");
		skip();
	}
	h.fh.handle_bytes = sizeof(uint64_t);
	assert_int_equal(name_to_handle_at(AT_FDCWD, dir, &h.fh, &mnt, 0), 0);
	memcpy(&id, h.fh.f_handle, sizeof(id));
	c = cgroup_cache__new(root, 16);
	assert_non_null(c);
	where_of(&a, "/docker/" ID_A);
	assert_int_equal(cgroup_cache__put(c, id, &a), 0);
	/* Unused for longer than the idle bound, but alive: kept. */
	for (i = 0; i < 6; i++)
		cgroup_cache__sweep(c);
	assert_non_null(cgroup_cache__find(c, id));
	assert_int_equal(rmdir(dir), 0);
	cgroup_cache__sweep(c);
	assert_null(cgroup_cache__find(c, id));
	cgroup_cache__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),	   cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_proc_files), cmocka_unit_test(test_names),
		cmocka_unit_test(test_cache),	   cmocka_unit_test(test_cache_real_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
