/* Metrics endpoint over real sockets: /metrics, /healthz, /livez, HEAD;
 * every kind of bad request gets its status code and the server carries on;
 * slow and idle clients cannot hold it; bad and busy addresses are errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "obs/health.h"
#include "obs/metrics.h"
#include "obs/metrics_http.h"
#include "util/time.h"

static struct tp_metrics_http *srv;
static uint16_t port;
static struct tp_metric m_test = TP_COUNTER_INIT("tapio_test_things_total", "Things.");

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 15 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Read until the server closes; returns a malloc'ed NUL-terminated string. */
static char *read_all(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	while ((n = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

static char *request(const char *raw)
{
	int fd = dial();
	char *r;

	send_all(fd, raw, strlen(raw));
	r = read_all(fd);
	close(fd);
	return r;
}

static void expect_status(const char *raw, const char *status_line)
{
	char *r = request(raw);

	if (strncmp(r, status_line, strlen(status_line)))
		fail_msg("request %.40s: got %.60s, want %s", raw, r, status_line);
	free(r);
}

static int setup(void **state)
{
	char err[256];
	const char *colon;

	tp_health_reset();
	tp_metric_register(&m_test);
	assert_int_equal(tp_metrics_http_start(&srv, "127.0.0.1:0", err, sizeof(err)), 0);
	colon = strrchr(tp_metrics_http_addr(srv), ':');
	assert_non_null(colon);
	port = (uint16_t)atoi(colon + 1);
	assert_true(port > 0);
	return 0;
}

static int teardown(void **state)
{
	tp_metrics_http_stop(srv);
	tp_metric_unregister(&m_test);
	return 0;
}

static void test_metrics(void **state)
{
	char *r, *body;
	long len;

	/* The locked add and the one-thread add reach the same value. */
	tp_metric_add(&m_test, 40);
	tp_metric_add_owned(&m_test, 2);
	r = request("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	body = strstr(r, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	assert_non_null(strstr(body, "# TYPE tapio_test_things_total counter\n"
				     "tapio_test_things_total 42\n"));
	assert_non_null(strstr(body, "tapio_http_requests_total{code=\"200\"}"));
	len = atol(strstr(r, "Content-Length: ") + 16);
	assert_int_equal(len, (long)strlen(body));
	free(r);

	/* HEAD: the same headers, no body. */
	r = request("HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_true(atol(strstr(r, "Content-Length: ") + 16) > 100);
	assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\n");
	free(r);
	/* Bare LF line ends and a query string are fine. */
	expect_status("GET /metrics?x=1 HTTP/1.1\n\n", "HTTP/1.1 200 ");
}

static void test_health_endpoints(void **state)
{
	uint64_t now = tp_mono_ns();
	char *r;

	expect_status("GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 503 "); /* starting */
	expect_status("GET /livez HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
	tp_health_beat(now);
	r = request("GET /healthz HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(strstr(r, "\r\n\r\n") + 4, "ok\n");
	free(r);
	tp_health_set("delivery", "server unreachable");
	r = request("GET /healthz HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_string_equal(strstr(r, "\r\n\r\n") + 4, "degraded: delivery: server unreachable\n");
	free(r);
	r = request("GET /healthz?format=json HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(r, "{\"status\":\"degraded\",\"reasons\":[{\"name\":\"delivery\""));
	free(r);
	r = request("GET /healthz HTTP/1.1\r\nACCEPT: application/json\r\n\r\n");
	assert_non_null(strstr(r, "{\"status\":\"degraded\""));
	free(r);
	/* Degraded is still alive. */
	expect_status("GET /livez HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
	tp_health_clear("delivery");
	expect_status("GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
	expect_status("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
}

static void test_bad_requests(void **state)
{
	char big[TP_HTTP_MAX_REQUEST + 100];
	char *r;

	r = request("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
	assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
	free(r);
	expect_status("GET /nope HTTP/1.1\r\n\r\n", "HTTP/1.1 404 ");
	expect_status("GET /metrics/ HTTP/1.1\r\n\r\n", "HTTP/1.1 404 ");
	expect_status("GARBAGE\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET  /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET /metrics FTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 505 ");
	expect_status("G(T /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n", "HTTP/1.1 400 ");
	expect_status("GET /met\x01rics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ");
	{
		static const char nul[] = "GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n";
		int fd = dial();

		send_all(fd, nul, sizeof(nul) - 1);
		r = read_all(fd);
		close(fd);
		assert_int_equal(strncmp(r, "HTTP/1.1 400 ", 13), 0);
		free(r);
	}
	/* Headers that never end within the limit. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	expect_status(big, "HTTP/1.1 431 ");
	/* The server is fine after all that. */
	expect_status("GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
	assert_true(tp_metric_get(tp_metric_find("tapio_http_requests_total", "code=\"400\"")) >= 8);
}

static void test_split_and_abandoned_requests(void **state)
{
	static const char req[] = "GET /livez HTTP/1.1\r\nHost: a\r\n\r\n";
	int fd = dial();
	char *r;

	/* One byte at a time. */
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		send_all(fd, req + i, 1);
		usleep(1000);
	}
	r = read_all(fd);
	close(fd);
	assert_int_equal(strncmp(r, "HTTP/1.1 200 ", 13), 0);
	free(r);
	/* Gone halfway through a request. */
	fd = dial();
	send_all(fd, "GET /met", 8);
	close(fd);
	expect_status("GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
}

static void test_slow_and_idle_clients(void **state)
{
	int idle[TP_HTTP_MAX_CLIENTS + 4], partial;
	uint64_t start = tp_mono_ns();
	char *r;

	/* A partial request, then more idle connections than the server
	 * serves at once: a real request still gets through once the slow
	 * ones time out, and the partial one is told 408. */
	partial = dial();
	send_all(partial, "GET /metrics HTTP/1.1\r\n", 23);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		idle[i] = dial();
	expect_status("GET /livez HTTP/1.1\r\n\r\n", "HTTP/1.1 200 ");
	assert_true(tp_mono_ns() - start < 12 * TP_NSEC_PER_SEC);
	r = read_all(partial);
	assert_int_equal(strncmp(r, "HTTP/1.1 408 ", 13), 0);
	free(r);
	close(partial);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		close(idle[i]);
}

static void test_bad_addresses(void **state)
{
	struct tp_metrics_http *other = NULL;
	char err[256], addr[64];

	assert_int_equal(tp_metrics_http_start(&other, "nonsense", err, sizeof(err)), -EINVAL);
	assert_null(other);
	assert_string_equal(err, "invalid metrics address 'nonsense': expected HOST:PORT such as "
				 "127.0.0.1:9464");
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_int_equal(tp_metrics_http_start(&other, addr, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "Address already in use"));
	assert_non_null(strstr(err, addr));
	/* Stopping with a connection open is clean. */
	assert_int_equal(tp_metrics_http_start(&other, "127.0.0.1:0", err, sizeof(err)), 0);
	tp_metrics_http_stop(other);
	tp_metrics_http_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_health_endpoints),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_split_and_abandoned_requests),
		cmocka_unit_test(test_slow_and_idle_clients),
		cmocka_unit_test(test_bad_addresses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
