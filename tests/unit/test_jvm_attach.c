// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_jvm_attach.c - the HotSpot attach never signals a process that is not
 * the JVM it was asked about: a real child that counts SIGQUITs, described by
 * a fake /proc (status with SigCgt, maps with libjvm.so, stat with its start
 * time). Asked about the process that had the pid before (another start
 * time), the worker refuses before any signal; asked about the child itself,
 * it signals once (the control), then fails for want of an attach socket. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "jvm_attach.h"
#include "log.h"

struct fake {
	char dir[64];
	char proc[96];
	pid_t child;
	int quits; /* read end: one byte per SIGQUIT the child took */
	uint64_t start; /* the child's start time in the fake /proc */
};

static int quit_pipe = -1;

static void on_quit(int sig)
{
	char c = 'q';

	if (write(quit_pipe, &c, 1) < 0)
		_exit(3);
}

static void write_at(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void proc_file(struct fake *fk, const char *name, const char *text)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%d/%s", fk->proc, (int)fk->child, name);
	write_at(path, text);
}

static int setup(void **state)
{
	struct fake *fk = calloc(1, sizeof(*fk));
	char path[192], text[512];
	long ticks = sysconf(_SC_CLK_TCK);
	int fds[2];

	assert_non_null(fk);
	assert_int_equal(pipe(fds), 0);
	fk->child = fork();
	assert_true(fk->child >= 0);
	if (!fk->child) {
		struct sigaction sa = { .sa_handler = on_quit };

		close(fds[0]);
		quit_pipe = fds[1];
		sigaction(SIGQUIT, &sa, NULL);
		/* Ready: the parent waits for this byte before asking. */
		if (write(quit_pipe, "r", 1) < 0)
			_exit(2);
		for (;;)
			pause();
	}
	close(fds[1]);
	fk->quits = fds[0];
	assert_int_equal(read(fk->quits, text, 1), 1);
	assert_int_equal(text[0], 'r');

	snprintf(fk->dir, sizeof(fk->dir), "/tmp/ember-jvm-XXXXXX");
	assert_non_null(mkdtemp(fk->dir));
	snprintf(fk->proc, sizeof(fk->proc), "%s/proc", fk->dir);
	assert_int_equal(mkdir(fk->proc, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d", fk->proc, (int)fk->child);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fs", fk->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fs/tmp", fk->dir);
	assert_int_equal(mkdir(path, 01777), 0);
	snprintf(path, sizeof(path), "%s/%d/root", fk->proc, (int)fk->child);
	assert_int_equal(symlink("../../fs", path), 0);
	snprintf(path, sizeof(path), "%s/%d/cwd", fk->proc, (int)fk->child);
	assert_int_equal(symlink("../../fs/tmp", path), 0);
	snprintf(text, sizeof(text),
		 "Name:\tjava\nTgid:\t%d\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
		 "NStgid:\t%d\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000004\n",
		 (int)fk->child, getuid(), getuid(), getuid(), getuid(), getgid(), getgid(),
		 getgid(), getgid(), (int)fk->child);
	proc_file(fk, "status", text);
	proc_file(
		fk, "maps",
		"7f0000000000-7f0000100000 r-xp 00000000 08:01 99 /usr/lib/jvm/lib/server/libjvm.so\n");
	fk->start = clock_ns(CLOCK_BOOTTIME) / 1000000000ull * ticks - 100 * ticks;
	snprintf(text, sizeof(text),
		 "%d (java) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n",
		 (int)fk->child, (unsigned long long)fk->start);
	proc_file(fk, "stat", text);
	log_level = getenv("JVM_TEST_LOG") ? LOG_DEBUG : LOG_ERR;
	*state = fk;
	return 0;
}

static int teardown(void **state)
{
	struct fake *fk = *state;
	char cmd[128];

	kill(fk->child, SIGKILL);
	waitpid(fk->child, NULL, 0);
	close(fk->quits);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fk->dir);
	assert_int_equal(system(cmd), 0);
	free(fk);
	return 0;
}

/* Asks about (child's pid, start) and waits for the attach to end. */
static struct jvm_attach_stats ask(struct fake *fk, uint64_t start)
{
	struct jvm_attach_opts o = { .proc_root = fk->proc, .timeout_ms = 300 };
	struct jvm_attach_stats s = { 0 };
	struct jvm_attach *ja = jvm_attach__new(&o);
	int i;

	assert_non_null(ja);
	jvm_attach__request(ja, fk->child, start, false);
	for (i = 0; i < 500; i++) {
		jvm_attach__stats(ja, &s);
		if (s.attached + s.refused + s.failed)
			break;
		usleep(10000);
	}
	jvm_attach__free(ja);
	return s;
}

/* SIGQUITs the child took (waiting a little for one in flight). */
static int quits(struct fake *fk)
{
	struct pollfd pfd = { .fd = fk->quits, .events = POLLIN };
	char buf[16];
	int n = 0;

	while (poll(&pfd, 1, 200) > 0) {
		ssize_t got = read(fk->quits, buf, sizeof(buf));

		if (got <= 0)
			break;
		n += got;
	}
	return n;
}

static void no_trigger_left(struct fake *fk)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/fs/tmp/.attach_pid%d", fk->dir, (int)fk->child);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_reused_pid_never_signalled(void **state)
{
	struct fake *fk = *state;
	struct jvm_attach_stats s;

	/* The JVM asked about started 0.5 s before the process that has its
	 * pid now. */
	s = ask(fk, fk->start - 50);
	assert_int_equal(s.attached, 0);
	assert_int_equal(s.failed, 1);
	assert_int_equal(quits(fk), 0);
	no_trigger_left(fk);
}

static void test_same_process_signalled_once(void **state)
{
	struct fake *fk = *state;
	struct jvm_attach_stats s;

	/* The control: the very process is signalled, once, and without an
	 * attach socket the attach fails within its time box. */
	s = ask(fk, fk->start);
	assert_int_equal(s.attached, 0);
	assert_int_equal(s.failed, 1);
	assert_int_equal(quits(fk), 1);
	no_trigger_left(fk);
}

static void test_no_sigquit_handler_refused(void **state)
{
	struct fake *fk = *state;
	struct jvm_attach_stats s;
	char text[512];

	snprintf(text, sizeof(text),
		 "Name:\tjava\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
		 "SigIgn:\t0000000000000000\nSigCgt:\t0000000000004000\n",
		 getuid(), getuid(), getuid(), getuid(), getgid(), getgid(), getgid(), getgid());
	proc_file(fk, "status", text);
	s = ask(fk, fk->start);
	assert_int_equal(s.refused, 1);
	assert_int_equal(quits(fk), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reused_pid_never_signalled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_process_signalled_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_sigquit_handler_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
