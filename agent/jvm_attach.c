// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* jvm_attach.c - the HotSpot attach protocol on a worker thread
 *
 * Owns a small table of JVMs (pid + start time) with their backoff, a worker
 * thread and the one attach in progress. The worker is the only thread that
 * signals a process or makes a file in another's file system; it changes
 * only its own fsuid/fsgid (per thread on Linux) to do so, and restores them.
 * Steps (after jattach, see the reference notes): check the target is the
 * same process, maps libjvm.so and catches SIGQUIT; create .attach_pid<ns
 * pid> in its cwd (else its /tmp) as its uid/gid; SIGQUIT through a pidfd;
 * wait for .java_pid<nspid>; remove the trigger; connect, check the peer is
 * the target; send "1\0jcmd\0Compiler.perfmap\0\0\0"; read the result code.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "clock.h"
#include "file.h"
#include "jit.h"
#include "jvm_attach.h"
#include "lines.h"
#include "log.h"
#include "proc.h"

#define JVM_MAX 256
#define JVM_STATUS_MAX 8192
#define JVM_REPLY_MAX (64 * 1024)
#define JVM_MAPS_MAX (16u << 20)
#define JVM_BACKOFF_MAX_SHIFT 5 /* failures back off up to 32 retry periods */
#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

static const char jvm_request[] = "1\0jcmd\0Compiler.perfmap\0\0";

enum jvm_state { JVM_IDLE = 0, JVM_QUEUED, JVM_REFUSED };

struct jvm_ent {
	uint32_t pid;
	uint64_t start;
	enum jvm_state state;
	uint64_t next_ns; /* no attempt before (CLOCK_MONOTONIC) */
	uint32_t fails;
	uint32_t maps;
	uint64_t last_ns; /* last request seen: unused entries go first */
};

struct jvm_attach {
	struct jvm_attach_opts o;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct jvm_ent ents[JVM_MAX];
	struct jvm_attach_stats stats;
	long ticks; /* clock ticks per second */
};

/* The outcome of one attach, for the backoff and the counters. */
enum jvm_result { JVM_OK, JVM_LATER, JVM_NO, JVM_FAIL };

int jvm_parse_status(const char *text, uint32_t pid, uint32_t *uid, uint32_t *gid, uint32_t *nspid,
		     bool *sigquit)
{
	const char *p;
	unsigned long long cgt = 0, ign = 0;
	unsigned int u, g;
	bool have_cgt = false;

	p = strstr(text, "\nUid:");
	if (!p || sscanf(p + 5, "%*u %u", &u) != 1)
		return -EINVAL;
	p = strstr(text, "\nGid:");
	if (!p || sscanf(p + 5, "%*u %u", &g) != 1)
		return -EINVAL;
	*uid = u;
	*gid = g;
	*nspid = pid;
	p = strstr(text, "\nNStgid:");
	if (p) {
		const char *end = strchr(p + 1, '\n');
		unsigned long v;
		char *e;

		p += 8;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p < '0' || *p > '9' || (end && p >= end))
				break;
			v = strtoul(p, &e, 10);
			if (!v || v > UINT32_MAX)
				return -EINVAL;
			*nspid = v;
			p = e;
		}
	}
	p = strstr(text, "\nSigCgt:");
	if (p && sscanf(p + 8, "%llx", &cgt) == 1)
		have_cgt = true;
	p = strstr(text, "\nSigIgn:");
	if (p)
		sscanf(p + 8, "%llx", &ign);
	/* SIGQUIT is signal 3: bit 2 of the masks. */
	*sigquit = have_cgt && (cgt & (1ull << 2)) && !(ign & (1ull << 2));
	return 0;
}

static void *jvm_worker(void *arg);

struct jvm_attach *jvm_attach__new(const struct jvm_attach_opts *opts)
{
	struct jvm_attach *ja = calloc(1, sizeof(*ja));
	sigset_t all, old;
	int err;

	if (!ja)
		return NULL;
	ja->o = *opts;
	if (!ja->o.proc_root)
		ja->o.proc_root = "/proc";
	if (!ja->o.timeout_ms)
		ja->o.timeout_ms = 2000;
	if (!ja->o.retry_s)
		ja->o.retry_s = 60;
	ja->ticks = sysconf(_SC_CLK_TCK);
	if (ja->ticks <= 0)
		ja->ticks = 100;
	pthread_mutex_init(&ja->lock, NULL);
	pthread_cond_init(&ja->cond, NULL);
	/* The main thread takes SIGINT/SIGTERM; the worker none. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&ja->thread, NULL, jvm_worker, ja);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		jvm_attach__free(ja);
		errno = err;
		return NULL;
	}
	ja->started = true;
	return ja;
}

void jvm_attach__free(struct jvm_attach *ja)
{
	if (!ja)
		return;
	if (ja->started) {
		pthread_mutex_lock(&ja->lock);
		ja->stop = true;
		pthread_cond_signal(&ja->cond);
		pthread_mutex_unlock(&ja->lock);
		pthread_join(ja->thread, NULL);
	}
	pthread_mutex_destroy(&ja->lock);
	pthread_cond_destroy(&ja->cond);
	free(ja);
}

/* Under the lock: the entry of (pid, start), made (evicting the longest
 * unused one) when make is set. NULL when none. */
static struct jvm_ent *jvm_find(struct jvm_attach *ja, uint32_t pid, uint64_t start, bool make,
				uint64_t now)
{
	struct jvm_ent *e, *free_e = NULL, *old = NULL;
	size_t i;

	for (i = 0; i < JVM_MAX; i++) {
		e = &ja->ents[i];
		if (e->pid == pid && e->start == start)
			return e;
		if (!e->pid) {
			if (!free_e)
				free_e = e;
		} else if (e->state != JVM_QUEUED && (!old || e->last_ns < old->last_ns)) {
			old = e;
		}
	}
	if (!make)
		return NULL;
	/* An entry unused for a retry period belongs to a JVM gone by now. */
	if (!free_e && old && now - old->last_ns > ja->o.retry_s * NS_PER_S)
		free_e = old;
	if (!free_e) {
		caps__hit(CAPS_JVM, 1, JVM_MAX);
		return NULL;
	}
	memset(free_e, 0, sizeof(*free_e));
	free_e->pid = pid;
	free_e->start = start;
	return free_e;
}

void jvm_attach__request(struct jvm_attach *ja, uint32_t pid, uint64_t start_time, bool reask)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct jvm_ent *e;

	pthread_mutex_lock(&ja->lock);
	e = jvm_find(ja, pid, start_time, true, now);
	if (!e) {
		ja->stats.dropped++;
		goto unlock;
	}
	e->last_ns = now;
	/* A JVM that answered is asked again only when its map falls behind. */
	if (e->state != JVM_IDLE || now < e->next_ns || (e->maps && !reask))
		goto unlock;
	e->state = JVM_QUEUED;
	pthread_cond_signal(&ja->cond);
unlock:
	pthread_mutex_unlock(&ja->lock);
}

uint32_t jvm_attach__maps(struct jvm_attach *ja, uint32_t pid, uint64_t start_time)
{
	struct jvm_ent *e;
	uint32_t n = 0;

	pthread_mutex_lock(&ja->lock);
	e = jvm_find(ja, pid, start_time, false, 0);
	if (e)
		n = e->maps;
	pthread_mutex_unlock(&ja->lock);
	return n;
}

void jvm_attach__stats(struct jvm_attach *ja, struct jvm_attach_stats *out)
{
	pthread_mutex_lock(&ja->lock);
	*out = ja->stats;
	pthread_mutex_unlock(&ja->lock);
}

/* What one attach knows of its target. */
struct jvm_target {
	uint32_t pid, nspid, uid, gid;
	uint64_t start;
	bool sigquit;
	int tmp_fd; /* the target's /tmp, O_PATH */
	int trig_dir; /* where the trigger file was made, or -1 */
	char trig[32];
	int pidfd;
	uint64_t deadline; /* CLOCK_MONOTONIC */
	const char *why; /* for the log line */
};

static int jvm_same_process(struct jvm_attach *ja, const struct jvm_target *t)
{
	char path[64], buf[1024];
	uint64_t start = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", ja->o.proc_root, t->pid);
	n = file_read(path, buf, sizeof(buf));
	if (n <= 0)
		return -ESRCH;
	if (proc_parse_stat_start(buf, n, &start) || start != t->start)
		return -ESRCH;
	return 0;
}

static int jvm_maps_line(void *ctx, const char *line, size_t len)
{
	static const char lib[] = "/libjvm.so";

	if (len >= sizeof(lib) - 1 &&
	    !memcmp(line + len - (sizeof(lib) - 1), lib, sizeof(lib) - 1)) {
		*(bool *)ctx = true;
		return 1;
	}
	return 0;
}

/* HotSpot (and only a JVM) maps libjvm.so. */
static bool jvm_is_hotspot(struct jvm_attach *ja, uint32_t pid)
{
	struct lines l;
	char path[64];
	bool found = false, truncated;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/maps", ja->o.proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (!lines__init(&l, 4096, jvm_maps_line, &found)) {
		lines__read_fd(&l, fd, JVM_MAPS_MAX, &truncated);
		lines__release(&l);
	}
	close(fd);
	return found;
}

static int jvm_ms_left(const struct jvm_target *t)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	return now >= t->deadline ? 0 : (int)((t->deadline - now) / NS_PER_MS) + 1;
}

static bool jvm_socket_exists(const struct jvm_target *t, const char *name)
{
	struct stat st;

	return !fstatat(t->tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISSOCK(st.st_mode);
}

/* Makes the trigger file in dir as the target's uid/gid. 0 or -errno. */
static int jvm_make_trigger(struct jvm_target *t, int dir)
{
	uid_t old_uid = geteuid();
	gid_t old_gid = getegid();
	struct stat st;
	int fd, err = 0;

	/* fsuid/fsgid are per thread: only this worker acts as the target. */
	setfsgid(t->gid);
	setfsuid(t->uid);
	fd = openat(dir, t->trig, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0)
		err = -errno;
	setfsuid(old_uid);
	setfsgid(old_gid);
	if (err)
		return err;
	/* HotSpot wants it owned by the JVM's user (or root); a file system
	 * that gave it another owner is no place for it. */
	if (fstat(fd, &st) || (st.st_uid != t->uid && st.st_uid != 0)) {
		close(fd);
		unlinkat(dir, t->trig, 0);
		return -EPERM;
	}
	close(fd);
	t->trig_dir = dir;
	return 0;
}

static void jvm_remove_trigger(struct jvm_target *t)
{
	if (t->trig_dir >= 0 && unlinkat(t->trig_dir, t->trig, 0) && errno != ENOENT)
		log_warn("jvm: cannot remove the attach trigger pid=%u file=%s err=%d", t->pid,
			 t->trig, -errno);
	if (t->trig_dir >= 0 && t->trig_dir != t->tmp_fd)
		close(t->trig_dir);
	t->trig_dir = -1;
}

/* Signals the JVM and waits for its attach socket. 0 or -errno. */
static int jvm_trigger(struct jvm_attach *ja, struct jvm_target *t, const char *sock)
{
	char path[64];
	struct pollfd pfd;
	int cwd, err, step = 20, ms;

	snprintf(t->trig, sizeof(t->trig), ".attach_pid%u", t->nspid);
	snprintf(path, sizeof(path), "%s/%u/cwd", ja->o.proc_root, t->pid);
	cwd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	err = cwd >= 0 ? jvm_make_trigger(t, cwd) : -errno;
	if (err) {
		if (cwd >= 0)
			close(cwd);
		err = jvm_make_trigger(t, t->tmp_fd);
		if (err) {
			t->why = "cannot create trigger file";
			return err;
		}
	}
	/* Checked after the pidfd is held: the signal cannot reach a process
	 * that took the pid since. */
	t->pidfd = syscall(SYS_pidfd_open, t->pid, 0);
	if (t->pidfd < 0 || jvm_same_process(ja, t)) {
		t->why = "exited or pid reused";
		return -ESRCH;
	}
	if (syscall(SYS_pidfd_send_signal, t->pidfd, SIGQUIT, NULL, 0)) {
		t->why = "signal failed";
		return -errno;
	}
	/* jattach polls from 20 ms, 20 ms more each time; the pidfd tells at
	 * once if the JVM exits meanwhile. */
	for (;;) {
		if (jvm_socket_exists(t, sock))
			return 0;
		ms = jvm_ms_left(t);
		if (!ms) {
			t->why = "no attach socket in time";
			return -ETIMEDOUT;
		}
		pfd.fd = t->pidfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, step < ms ? step : ms) > 0) {
			t->why = "exited during attach";
			return -ESRCH;
		}
		step += 20;
	}
}

static int jvm_wait_fd(const struct jvm_target *t, int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms = jvm_ms_left(t), n;

	if (!ms)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, ms);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Connects, sends the command and reads the result code. 0 or -errno. */
static int jvm_command(struct jvm_target *t, const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char reply[512], sink[4096];
	size_t got = 0, sent = 0, total = 0;
	ssize_t n;
	int fd, err = 0, code;
	char *end;

	/* Through our fd of its /tmp: no path of the target's can reach
	 * outside its root, and the path stays short. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", t->tmp_fd, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!jvm_socket_exists(t, sock))
		err = -ENOENT;
	else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS &&
		 errno != EAGAIN)
		err = -errno;
	if (!err)
		err = jvm_wait_fd(t, fd, POLLOUT);
	/* Whoever listens there must be the JVM itself. */
	if (!err &&
	    (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || (uint32_t)cred.pid != t->pid))
		err = -EPERM;
	if (err) {
		t->why = err == -EPERM ? "socket not the JVM's" : "cannot connect";
		goto cleanup;
	}
	while (!err && sent < sizeof(jvm_request)) {
		n = write(fd, jvm_request + sent, sizeof(jvm_request) - sent);
		if (n > 0)
			sent += n;
		else if (n < 0 && errno == EAGAIN)
			err = jvm_wait_fd(t, fd, POLLOUT);
		else
			err = n < 0 ? -errno : -EPIPE;
	}
	/* The reply: a result code line, then the command's output, to EOF
	 * (the JVM has written the map by then). The output is not kept. */
	while (!err && total < JVM_REPLY_MAX) {
		err = jvm_wait_fd(t, fd, POLLIN);
		if (err)
			break;
		if (got < sizeof(reply) - 1)
			n = read(fd, reply + got, sizeof(reply) - 1 - got);
		else
			n = read(fd, sink, sizeof(sink));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		if (got < sizeof(reply) - 1)
			got += n;
		total += n;
	}
	if (err) {
		t->why = "no reply in time";
		goto cleanup;
	}
	reply[got] = '\0';
	code = strtol(reply, &end, 10);
	if (end == reply || code != 0 || strstr(reply, "Unknown diagnostic command") ||
	    strstr(reply, "Exception")) {
		t->why = "command refused (JDK older than 16?)";
		err = -EPROTO;
	}
cleanup:
	close(fd);
	return err;
}

static enum jvm_result jvm_attach_one(struct jvm_attach *ja, struct jvm_ent *snap,
				      uint64_t *retry_at)
{
	struct jvm_target t = {
		.pid = snap->pid, .start = snap->start, .tmp_fd = -1, .trig_dir = -1, .pidfd = -1
	};
	char path[64], buf[JVM_STATUS_MAX], sock[32];
	enum jvm_result res = JVM_FAIL;
	uint64_t now = clock_ns(CLOCK_MONOTONIC), age_ns;
	ssize_t n;
	int err;

	t.deadline = now + ja->o.timeout_ms * NS_PER_MS;
	if (jvm_same_process(ja, &t)) {
		t.why = "exited or pid reused";
		goto out;
	}
	/* Signals before HotSpot installs its handlers kill it: let it start. */
	age_ns = clock_ns(CLOCK_BOOTTIME) - snap->start * (NS_PER_S / ja->ticks);
	if (age_ns < ja->o.min_age_s * NS_PER_S) {
		*retry_at = now + ja->o.min_age_s * NS_PER_S - age_ns;
		return JVM_LATER;
	}
	snprintf(path, sizeof(path), "%s/%u/status", ja->o.proc_root, t.pid);
	n = file_read(path, buf, sizeof(buf));
	if (n <= 0 || jvm_parse_status(buf, t.pid, &t.uid, &t.gid, &t.nspid, &t.sigquit)) {
		t.why = "cannot read status";
		goto out;
	}
	if (!jvm_is_hotspot(ja, t.pid)) {
		t.why = "not a HotSpot JVM (no libjvm.so)";
		res = JVM_NO;
		goto out;
	}
	if (!t.sigquit) {
		t.why = "SIGQUIT not caught (-Xrs, or still starting)";
		res = JVM_NO;
		goto out;
	}
	t.tmp_fd = jit_open_in_root(ja->o.proc_root, t.pid, "tmp", O_PATH | O_DIRECTORY);
	if (t.tmp_fd < 0) {
		t.why = "no /tmp in its root";
		goto out;
	}
	snprintf(sock, sizeof(sock), ".java_pid%u", t.nspid);
	if (!jvm_socket_exists(&t, sock)) {
		err = jvm_trigger(ja, &t, sock);
		jvm_remove_trigger(&t);
		if (err)
			goto out;
	}
	err = jvm_command(&t, sock);
	if (!err)
		res = JVM_OK;
out:
	jvm_remove_trigger(&t);
	if (t.tmp_fd >= 0)
		close(t.tmp_fd);
	if (t.pidfd >= 0)
		close(t.pidfd);
	n = (clock_ns(CLOCK_MONOTONIC) - now) / NS_PER_MS;
	if (res == JVM_OK)
		log_info("jvm: perf map written pid=%u nspid=%u ms=%zd", t.pid, t.nspid, n);
	else if (res == JVM_NO)
		log_info("jvm: not attaching pid=%u reason=\"%s\"", t.pid, t.why);
	else
		log_warn_ratelimited("jvm: attach failed pid=%u reason=\"%s\" ms=%zd", t.pid,
				     t.why ? t.why : "?", n);
	return res;
}

static void *jvm_worker(void *arg)
{
	struct jvm_attach *ja = arg;
	struct jvm_ent snap, *e;
	enum jvm_result res;
	uint64_t retry_at, now;
	size_t i;

	pthread_mutex_lock(&ja->lock);
	while (!ja->stop) {
		e = NULL;
		for (i = 0; i < JVM_MAX && !e; i++)
			if (ja->ents[i].pid && ja->ents[i].state == JVM_QUEUED)
				e = &ja->ents[i];
		if (!e) {
			pthread_cond_wait(&ja->cond, &ja->lock);
			continue;
		}
		snap = *e;
		pthread_mutex_unlock(&ja->lock);
		retry_at = 0;
		res = jvm_attach_one(ja, &snap, &retry_at);
		now = clock_ns(CLOCK_MONOTONIC);
		pthread_mutex_lock(&ja->lock);
		/* The entry may have been reused for another JVM meanwhile. */
		e = jvm_find(ja, snap.pid, snap.start, false, 0);
		if (!e)
			continue;
		e->state = JVM_IDLE;
		switch (res) {
		case JVM_OK:
			ja->stats.attached++;
			e->maps++;
			e->fails = 0;
			e->next_ns = now + ja->o.retry_s * NS_PER_S;
			break;
		case JVM_LATER:
			e->next_ns = retry_at;
			break;
		case JVM_NO:
			ja->stats.refused++;
			e->state = JVM_REFUSED;
			break;
		case JVM_FAIL:
			ja->stats.failed++;
			e->next_ns = now + ((uint64_t)ja->o.retry_s * NS_PER_S
					    << (e->fails < JVM_BACKOFF_MAX_SHIFT ?
							e->fails :
							JVM_BACKOFF_MAX_SHIFT));
			e->fails++;
			break;
		}
	}
	pthread_mutex_unlock(&ja->lock);
	return NULL;
}
