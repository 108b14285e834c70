// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_push.c - push client: backoff, retry verdicts, queue, encodings, lifecycle
 *
 * The pure pieces are tested directly; the client itself only against
 * loopback sockets that refuse or never answer, to show that secrets are
 * checked at start and that free() and flush() return in bounded time.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "push_internal.h"
#include "push.pb-c.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_backoff_bounds_and_jitter(void **state)
{
	uint64_t rng = 12345;
	uint32_t a, i, t, d, lo, hi, prev_hi = 0;

	for (a = 0; a < 40; a++) {
		t = a < 16 && (PUSH_BACKOFF_BASE_MS << a) < PUSH_BACKOFF_CAP_MS
			    ? PUSH_BACKOFF_BASE_MS << a
			    : PUSH_BACKOFF_CAP_MS;
		lo = UINT32_MAX;
		hi = 0;
		for (i = 0; i < 2000; i++) {
			d = push_backoff_ms(a, &rng);
			assert_true(d >= t / 2 && d <= t);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		/* Jitter really spreads over the range... */
		assert_true(lo < t / 2 + t / 10);
		assert_true(hi > t - t / 10);
		/* ...and the gaps still grow until the cap. */
		if (t < PUSH_BACKOFF_CAP_MS)
			assert_true(lo >= prev_hi / 2);
		prev_hi = hi;
	}
	assert_true(push_backoff_ms(0, &rng) <= 500);
	assert_true(push_backoff_ms(0, &rng) >= 250);
	assert_true(push_backoff_ms(1000, &rng) <= PUSH_BACKOFF_CAP_MS);
	/* A zero state still yields numbers. */
	rng = 0;
	push_backoff_ms(3, &rng);
	assert_true(rng != 0);
}

static void test_classify(void **state)
{
	static const long retry_status[] = { 408, 429, 500, 502, 503, 504, 599 };
	static const long fail_status[] = { 301, 400, 401, 403, 404, 405, 413, 415, 422, 0 };
	static const int retry_curl[] = { CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT,
					  CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR,
					  CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
					  CURLE_SSL_CONNECT_ERROR };
	static const int fail_curl[] = { CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
					 CURLE_SSL_CERTPROBLEM, CURLE_URL_MALFORMAT,
					 CURLE_UNSUPPORTED_PROTOCOL, CURLE_ABORTED_BY_CALLBACK,
					 CURLE_WEIRD_SERVER_REPLY };
	size_t i;

	assert_int_equal(push_classify(200, CURLE_OK), PUSH_VERDICT_OK);
	assert_int_equal(push_classify(204, CURLE_OK), PUSH_VERDICT_OK);
	for (i = 0; i < sizeof(retry_status) / sizeof(retry_status[0]); i++)
		assert_int_equal(push_classify(retry_status[i], CURLE_OK), PUSH_VERDICT_RETRY);
	for (i = 0; i < sizeof(fail_status) / sizeof(fail_status[0]); i++)
		assert_int_equal(push_classify(fail_status[i], CURLE_OK), PUSH_VERDICT_FAIL);
	for (i = 0; i < sizeof(retry_curl) / sizeof(retry_curl[0]); i++)
		assert_int_equal(push_classify(0, retry_curl[i]), PUSH_VERDICT_RETRY);
	for (i = 0; i < sizeof(fail_curl) / sizeof(fail_curl[0]); i++)
		assert_int_equal(push_classify(0, fail_curl[i]), PUSH_VERDICT_FAIL);
	/* The transfer's code wins over a status left from a previous reply. */
	assert_int_equal(push_classify(200, CURLE_OPERATION_TIMEDOUT), PUSH_VERDICT_RETRY);
}

/* Each request given up is counted under one reason. */
static void test_fail_reason(void **state)
{
	static const struct {
		long status;
		int curl;
		bool cut;
		enum push_fail_reason want;
	} cases[] = {
		{ 400, CURLE_OK, false, PUSH_FAIL_REJECTED },
		{ 401, CURLE_OK, false, PUSH_FAIL_REJECTED },
		{ 413, CURLE_OK, false, PUSH_FAIL_REJECTED },
		{ 429, CURLE_OK, false, PUSH_FAIL_SERVER },
		{ 408, CURLE_OK, false, PUSH_FAIL_SERVER },
		{ 503, CURLE_OK, false, PUSH_FAIL_SERVER },
		{ 301, CURLE_OK, false, PUSH_FAIL_OTHER },
		{ 0, CURLE_OPERATION_TIMEDOUT, false, PUSH_FAIL_TIMEOUT },
		{ 0, CURLE_COULDNT_CONNECT, false, PUSH_FAIL_CONNECT },
		{ 0, CURLE_COULDNT_RESOLVE_HOST, false, PUSH_FAIL_CONNECT },
		{ 0, CURLE_GOT_NOTHING, false, PUSH_FAIL_CONNECT },
		{ 0, CURLE_PEER_FAILED_VERIFICATION, false, PUSH_FAIL_TLS },
		{ 0, CURLE_SSL_CONNECT_ERROR, false, PUSH_FAIL_TLS },
		{ 0, CURLE_URL_MALFORMAT, false, PUSH_FAIL_OTHER },
		/* A cut reply is the reply's fault, whatever else ended. */
		{ 200, CURLE_OK, true, PUSH_FAIL_REPLY },
		{ 0, CURLE_WRITE_ERROR, true, PUSH_FAIL_REPLY },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(push_fail_reason(cases[i].status, cases[i].curl, cases[i].cut),
				 cases[i].want);
	assert_string_equal(push_fail_reason_name(PUSH_FAIL_TIMEOUT), "timeout");
	assert_string_equal(push_fail_reason_name(PUSH_FAIL_N), "other");
}

static struct push_req *req(size_t tag)
{
	struct push_req *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->samples = tag;
	r->body = malloc(8);
	r->len = 8;
	return r;
}

static void test_queue_drops_oldest(void **state)
{
	struct push_queue q = { 0 };
	struct push_req *ev;
	size_t i, dropped = 0;

	push_queue_fini(&q); /* a zeroed queue is fine */
	assert_int_equal(push_queue_init(&q, 3), 0);
	assert_null(push_queue_take(&q));
	for (i = 1; i <= 7; i++) {
		ev = push_queue_put(&q, req(i));
		if (ev) {
			/* Always the oldest one left: 1, 2, 3, 4. */
			assert_int_equal(ev->samples, ++dropped);
			push_req_free(ev);
		}
		assert_true(q.n <= 3);
	}
	assert_int_equal(dropped, 4);
	ev = push_queue_take(&q);
	assert_int_equal(ev->samples, 5);
	push_req_free(ev);
	ev = push_queue_put(&q, req(8));
	assert_null(ev);
	ev = push_queue_put(&q, req(9));
	assert_int_equal(ev->samples, 6);
	push_req_free(ev);
	assert_int_equal(q.n, 3);
	push_queue_fini(&q); /* frees 7, 8, 9 (ASan/valgrind would see a leak) */
	assert_null(q.slots);
}

static void test_encode_roundtrip(void **state)
{
	uint8_t b1[] = { 0x1f, 0x8b, 1, 2, 3 }, b2[] = { 9, 8, 7 }, b3[] = { 42 };
	struct pprof_blob blobs1[] = { { .data = b1, .len = sizeof(b1) },
				       { .data = b2, .len = sizeof(b2) } };
	struct pprof_blob blobs2[] = { { .data = b3, .len = sizeof(b3) } };
	struct label l1[] = { { "__name__", "process_cpu" },
			       { "__meta_secret", "x" },
			       { "host", "h1" },
			       { "service_name", "split" } };
	struct label l2[] = { { "__name__", "process_cpu" }, { "service_name", "other" } };
	struct push_series s[] = {
		{ .labels = l1, .nlabels = 4, .blobs = blobs1, .nblobs = 2 },
		{ .labels = l2, .nlabels = 2, .blobs = NULL, .nblobs = 0 }, /* skipped */
		{ .labels = l2, .nlabels = 2, .blobs = blobs2, .nblobs = 1 },
	};
	Push__V1__PushRequest *m;
	uint8_t *body;
	size_t len;

	assert_int_equal(push_encode_request(s, 3, &body, &len), 0);
	assert_true(len > 0);
	assert_int_equal(body[0], 0x0A); /* field 1, series */
	m = push__v1__push_request__unpack(NULL, len, body);
	assert_non_null(m);
	assert_int_equal(m->n_series, 2);
	assert_int_equal(m->series[0]->n_labels, 3);
	assert_string_equal(m->series[0]->labels[0]->name, "__name__");
	assert_string_equal(m->series[0]->labels[0]->value, "process_cpu");
	assert_string_equal(m->series[0]->labels[1]->name, "host");
	assert_string_equal(m->series[0]->labels[2]->value, "split");
	assert_int_equal(m->series[0]->n_samples, 2);
	assert_int_equal(m->series[0]->samples[0]->raw_profile.len, sizeof(b1));
	assert_memory_equal(m->series[0]->samples[0]->raw_profile.data, b1, sizeof(b1));
	assert_memory_equal(m->series[0]->samples[1]->raw_profile.data, b2, sizeof(b2));
	assert_string_equal(m->series[0]->samples[0]->id, "");
	assert_int_equal(m->series[1]->n_labels, 2);
	assert_string_equal(m->series[1]->labels[1]->value, "other");
	assert_int_equal(m->series[1]->n_samples, 1);
	assert_memory_equal(m->series[1]->samples[0]->raw_profile.data, b3, 1);
	push__v1__push_request__free_unpacked(m, NULL);
	free(body);

	assert_int_equal(push_encode_request(&s[1], 1, &body, &len), -ENODATA);
	assert_null(body);
	assert_int_equal(push_encode_request(s, 0, &body, &len), -ENODATA);
}

static void check_name(const struct label *labels, size_t n, const char *want)
{
	char *name = NULL;

	assert_int_equal(push_ingest_name(labels, n, &name), 0);
	assert_string_equal(name, want);
	free(name);
}

static void test_ingest_name(void **state)
{
	struct label plain[] = { { "__name__", "process_cpu" },
				  { "host", "h1" },
				  { "service_name", "split" },
				  { "env", "a,b}c=d{e f" },
				  { "bad-name/x", "v" },
				  { "empty", "" },
				  { "__private", "p" } };
	struct label unit[] = { { "service_name", "getty@tty1.service" }, { "host", "h" } };
	struct label none[] = { { "host", "h" } };

	check_name(plain, 7, "split{host=h1,env=a_b_c_d{e f,bad_name_x=v}");
	/* An app name the syntax cannot carry travels as an exact tag. */
	check_name(unit, 2, "getty_tty1.service{service_name=getty@tty1.service,host=h}");
	check_name(none, 1, "unknown_service{host=h}");
	check_name(NULL, 0, "unknown_service{}");
}

static void test_ingest_url(void **state)
{
	char *url = NULL;

	assert_int_equal(push_ingest_url("http://127.0.0.1:4040", "split{host=h 1,a=b/c}", 100,
					 115, 97, &url),
			 0);
	assert_string_equal(url, "http://127.0.0.1:4040/ingest"
				 "?name=split%7Bhost%3Dh%201%2Ca%3Db%2Fc%7D&from=100&until=115"
				 "&format=pprof&sampleRate=97&spyName=ember");
	free(url);
}

static void check_reason(const char *body, size_t len, size_t out_size, const char *want)
{
	char out[512];

	memset(out, 'X', sizeof(out));
	push_error_message(body, len, out, out_size);
	assert_string_equal(out, want);
}

static void test_error_message(void **state)
{
	static const char connect[] = "{\"code\":\"invalid_argument\","
				      "\"message\":\"invalid labels '{}' with \\\"x\\\"\"}";
	char big[8192];

	check_reason(connect, strlen(connect), 200,
		     "invalid_argument: invalid labels '{}' with 'x'");
	check_reason("{\"message\":\"only a message\"}", 28, 200, "only a message");
	/* Not Connect JSON: the raw body, made printable. */
	check_reason("{\"message\":42}", 14, 200, "{'message':42}");
	check_reason("upstream\r\nbad\x01\xff gateway", 23, 200, "upstream  bad?? gateway");
	check_reason("[1,2", 4, 200, "[1,2");
	check_reason("", 0, 200, "");
	check_reason(NULL, 5, 200, "");
	/* Bounded whatever the body. */
	memset(big, 'a', sizeof(big));
	check_reason(big, sizeof(big), 11, "aaaaaaaaaa");
	big[0] = '{';
	check_reason(big, sizeof(big), 6, "{aaaa");
}

/* --- the client against loopback ------------------------------------------- */

static void base_cfg(struct cfg *cfg, const char *server)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->server = server;
	cfg->frequency = 100;
	cfg->window_s = 2;
	cfg->connect_timeout_ms = 1000;
	cfg->timeout_ms = 60000;
	cfg->queue_max = 2;
	cfg->max_retries = 1000;
}

static char *write_tmp(const char *content)
{
	char *path = strdup("/tmp/ember-test-push-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static bool has_line(const struct curl_slist *l, const char *want)
{
	for (; l; l = l->next)
		if (!strcmp(l->data, want))
			return true;
	return false;
}

static void test_headers(void **state)
{
	struct curl_slist *hp = NULL, *hi = NULL;
	struct cfg cfg = { .timeout_ms = 2500, .tenant = "team-a" };
	char *secret = NULL, *path;

	cfg.headers[0] = (struct label){ "X-A", "b c" };
	cfg.headers[1] = (struct label){ "content-type", "text/plain" }; /* ignored */
	cfg.nheaders = 2;
	assert_int_equal(push_build_headers(&cfg, "tok", &hp, &hi), 0);
	assert_true(has_line(hp, "Content-Type: application/proto"));
	assert_true(has_line(hp, "Connect-Protocol-Version: 1"));
	assert_true(has_line(hp, "Connect-Timeout-Ms: 2500"));
	assert_true(has_line(hp, "Expect:"));
	assert_true(has_line(hp, "X-Scope-OrgID: team-a"));
	assert_true(has_line(hp, "Authorization: Bearer tok"));
	assert_true(has_line(hp, "X-A: b c"));
	assert_false(has_line(hp, "content-type: text/plain"));
	assert_true(has_line(hi, "Content-Type: application/octet-stream"));
	assert_true(has_line(hi, "X-Scope-OrgID: team-a"));
	assert_true(has_line(hi, "Authorization: Bearer tok"));
	assert_false(has_line(hi, "Content-Type: application/proto"));
	push_slist_free(hp);
	push_slist_free(hi);

	hp = hi = NULL;
	cfg.tenant = "..";
	assert_int_equal(push_build_headers(&cfg, NULL, &hp, &hi), -EINVAL);
	assert_null(hp);
	cfg.tenant = NULL;
	cfg.headers[0] = (struct label){ "Bad Name", "v" };
	assert_int_equal(push_build_headers(&cfg, NULL, &hp, &hi), -EINVAL);
	assert_null(hi);

	path = write_tmp("tok\r\n\n");
	assert_int_equal(push_read_secret(path, "--bearer-token-file", &secret), 0);
	assert_string_equal(secret, "tok");
	free(secret);
	unlink(path);
	free(path);
	assert_int_equal(push_read_secret("/nonexistent/x", "--bearer-token-file", &secret),
			 -ENOENT);
	assert_null(secret);
}

static void test_new_checks_secrets_and_options(void **state)
{
	char *pw = write_tmp("s3cret\n"), *empty = write_tmp("\n"), *twolines = write_tmp("a\nb\n");
	struct push_client *p;
	struct cfg cfg;

	base_cfg(&cfg, "http://127.0.0.1:9/");
	cfg.basic_user = "u";
	cfg.basic_password_file = "/nonexistent/ember-pw";
	errno = 0;
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, ENOENT);
	cfg.basic_password_file = empty;
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, ENODATA);
	cfg.basic_password_file = twolines;
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg.basic_password_file = pw;
	cfg.bearer_token_file = pw;
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg.bearer_token_file = NULL;
	p = push_client__new(&cfg);
	assert_non_null(p);
	push_client__free(p);

	base_cfg(&cfg, "http://127.0.0.1:9");
	cfg.tenant = "bad tenant\r\nX: y";
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg.tenant = "team-a";
	cfg.headers[0] = (struct label){ "X-Ok", "fine" };
	cfg.headers[1] = (struct label){ "X-Bad", "a\r\nInjected: 1" };
	cfg.nheaders = 2;
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg.nheaders = 1;
	cfg.ca_file = "/nonexistent/ca.pem";
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, ENOENT);
	cfg.ca_file = NULL;
	cfg.server = "ftp://x";
	assert_null(push_client__new(&cfg));
	assert_int_equal(errno, EINVAL);
	push_client__free(NULL);

	unlink(pw);
	unlink(empty);
	unlink(twolines);
	free(pw);
	free(empty);
	free(twolines);
}

/* A listening socket that never accepts: connections complete in the
 * backlog, requests go out, no answer ever comes. */
static int silent_server(char *url, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(url, size, "http://127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

static void submit_one(struct push_client *p, const char *service)
{
	uint8_t data[] = { 1, 2, 3 };
	struct pprof_blob blob = { .data = data, .len = sizeof(data), .samples = 1 };
	struct label labels[] = { { "__name__", "process_cpu" }, { "service_name", service } };
	struct push_series s = { .labels = labels, .nlabels = 2, .blobs = &blob, .nblobs = 1 };

	assert_int_equal(push_client__submit(p, &s, 1), 0);
}

static void test_free_abandons_inflight_promptly(void **state)
{
	struct push_stats st;
	struct push_client *p;
	char url[64];
	uint64_t t;
	struct cfg cfg;
	int fd = silent_server(url, sizeof(url));
	int i;

	base_cfg(&cfg, url);
	p = push_client__new(&cfg);
	assert_non_null(p);
	for (i = 0; i < 5; i++)
		submit_one(p, "a");
	/* One in flight (hanging), two queued, the two oldest queued dropped. */
	push_client__stats(p, &st);
	assert_true(st.dropped >= 2);
	assert_true(st.queued <= 3);
	t = mono_ms();
	assert_int_equal(push_client__flush(p, 300), -ETIMEDOUT);
	assert_true(mono_ms() - t >= 250);
	assert_true(mono_ms() - t < 2000);
	t = mono_ms();
	push_client__free(p);
	/* The transfer would wait 60 s; the progress callback cuts it short. */
	assert_true(mono_ms() - t < 3000);
	close(fd);
}

static void test_free_interrupts_backoff(void **state)
{
	struct push_stats st;
	struct push_client *p;
	char url[64];
	uint64_t t;
	struct cfg cfg;
	int fd = silent_server(url, sizeof(url));

	/* Nobody listens on that port any more: connections are refused. */
	close(fd);
	base_cfg(&cfg, url);
	cfg.queue_max = 8;
	p = push_client__new(&cfg);
	assert_non_null(p);
	submit_one(p, "a");
	submit_one(p, "b");
	/* Refused, retried after 250-500 ms, then 500-1000 ms... */
	t = mono_ms();
	do {
		usleep(20000);
		push_client__stats(p, &st);
	} while (st.retries < 2 && mono_ms() - t < 5000);
	assert_true(st.retries >= 2);
	assert_int_equal(st.requests_ok, 0);
	assert_int_equal(st.dropped, 0);
	t = mono_ms();
	push_client__free(p);
	assert_true(mono_ms() - t < 1000);
}

static void test_gives_up_after_max_retries(void **state)
{
	struct push_stats st;
	struct push_client *p;
	char url[64];
	struct cfg cfg;
	int fd = silent_server(url, sizeof(url));

	close(fd);
	base_cfg(&cfg, url);
	cfg.max_retries = 1;
	p = push_client__new(&cfg);
	assert_non_null(p);
	submit_one(p, "a");
	/* 1 retry after <= 500 ms, then dropped and counted. */
	assert_int_equal(push_client__flush(p, 5000), 0);
	push_client__stats(p, &st);
	assert_int_equal(st.retries, 1);
	assert_int_equal(st.requests_failed, 1);
	assert_int_equal(st.requests_ok, 0);
	assert_int_equal(st.queued, 0);
	push_client__free(p);
}

/* Answers one request with a 400 and 8 MiB of binary garbage. */
static void *hostile_server(void *arg)
{
	int lfd = *(int *)arg, fd;
	char buf[4096], *junk;
	size_t i, len = 8 << 20;
	ssize_t n;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	/* The request is small: its head and body arrive in a few reads. */
	n = read(fd, buf, sizeof(buf));
	(void)n;
	junk = malloc(len);
	for (i = 0; junk && i < len; i++)
		junk[i] = (char)(i * 2654435761u >> 13);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json"
		     "\r\nContent-Length: %zu\r\n\r\n", len);
	if (write(fd, buf, n) == n && junk)
		for (i = 0; i < len; i += (size_t)n)
			if ((n = write(fd, junk + i, len - i)) <= 0)
				break;
	free(junk);
	close(fd);
	return NULL;
}

static void test_hostile_reply(void **state)
{
	struct push_stats st;
	struct push_client *p;
	pthread_t th;
	char url[64];
	struct cfg cfg;
	int fd = silent_server(url, sizeof(url));

	assert_int_equal(pthread_create(&th, NULL, hostile_server, &fd), 0);
	base_cfg(&cfg, url);
	cfg.timeout_ms = 10000;
	p = push_client__new(&cfg);
	assert_non_null(p);
	submit_one(p, "a");
	assert_int_equal(push_client__flush(p, 10000), 0);
	push_client__stats(p, &st);
	/* A 400 is never retried, whatever its body. */
	assert_int_equal(st.requests_failed, 1);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.requests_ok, 0);
	push_client__free(p);
	pthread_join(th, NULL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds_and_jitter),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_fail_reason),
		cmocka_unit_test(test_queue_drops_oldest),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_ingest_name),
		cmocka_unit_test(test_ingest_url),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_new_checks_secrets_and_options),
		cmocka_unit_test(test_free_abandons_inflight_promptly),
		cmocka_unit_test(test_free_interrupts_backoff),
		cmocka_unit_test(test_gives_up_after_max_retries),
		cmocka_unit_test(test_hostile_reply),
	};

	/* Only errors: the refusals below are expected. */
	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("push", tests, NULL, NULL);
}
