#include "obs/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "obs/health.h"
#include "obs/http_request.h"
#include "obs/metrics.h"
#include "util/addr.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/time.h"

#define READ_TIMEOUT_NS (5 * TP_NSEC_PER_SEC)
#define WRITE_TIMEOUT_NS (10 * TP_NSEC_PER_SEC)
#define DRAIN_TIMEOUT_NS (1 * TP_NSEC_PER_SEC)

enum conn_state {
	CONN_FREE,
	CONN_READ,  /* reading the request line and headers */
	CONN_WRITE, /* sending the response */
	CONN_DRAIN, /* response sent and write side shut: read until EOF, then close,
		     * so unread request bytes do not turn the close into a reset
		     * that could destroy the response in flight */
};

struct conn {
	int fd;
	enum conn_state state;
	uint64_t deadline;
	size_t inlen;
	char in[TP_HTTP_MAX_REQUEST];
	struct tp_buf out;
	size_t outoff;
};

static const int status_codes[] = { 200, 400, 404, 405, 408, 431, 500, 503, 505 };
#define NCODES (sizeof(status_codes) / sizeof(status_codes[0]))

struct tp_metrics_http {
	int listen_fd;
	int wake_fd;
	pthread_t thread;
	bool thread_started;
	char addr[INET6_ADDRSTRLEN + 16];
	struct conn conns[TP_HTTP_MAX_CLIENTS];
	char code_labels[NCODES][24];
	struct tp_metric m_requests[NCODES];
};

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

static void count_status(struct tp_metrics_http *s, int code)
{
	for (size_t i = 0; i < NCODES; i++)
		if (status_codes[i] == code)
			tp_metric_add(&s->m_requests[i], 1);
}

/* Queue a complete response; the connection closes after it. */
static void respond(struct tp_metrics_http *s, struct conn *c, int code, const char *ctype,
		    const char *body, size_t len, bool head_only, const char *extra)
{
	tp_buf_reset(&c->out);
	tp_buf_printf(&c->out,
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
		      code, reason_phrase(code), ctype, len, extra ? extra : "");
	if (!head_only)
		tp_buf_append(&c->out, body, len);
	if (tp_buf_failed(&c->out)) {
		static const char oom[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
					  "Connection: close\r\n\r\n";

		tp_buf_reset(&c->out);
		tp_buf_free(&c->out);
		tp_buf_init(&c->out);
		tp_buf_append(&c->out, oom, sizeof(oom) - 1);
		code = 500;
	}
	count_status(s, code);
	c->outoff = 0;
	c->state = CONN_WRITE;
	c->deadline = tp_mono_ns() + WRITE_TIMEOUT_NS;
}

static void respond_text(struct tp_metrics_http *s, struct conn *c, int code, const char *text,
			 bool head_only, const char *extra)
{
	respond(s, c, code, "text/plain; charset=utf-8", text, strlen(text), head_only, extra);
}

static void serve_metrics(struct tp_metrics_http *s, struct conn *c, bool head)
{
	struct tp_buf b;

	tp_buf_init(&b);
	tp_metrics_render_prometheus(&b);
	if (tp_buf_failed(&b))
		respond_text(s, c, 500, "out of memory rendering metrics\n", head, NULL);
	else
		respond(s, c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
			b.len, head, NULL);
	tp_buf_free(&b);
}

static void serve_health(struct tp_metrics_http *s, struct conn *c, bool head, bool json)
{
	struct tp_buf b;
	bool ok;

	tp_buf_init(&b);
	ok = tp_health_render(&b, tp_mono_ns(), json);
	respond(s, c, ok ? 200 : 503, json ? "application/json" : "text/plain; charset=utf-8",
		b.data ? b.data : "", b.len, head, NULL);
	tp_buf_free(&b);
}

static void serve_live(struct tp_metrics_http *s, struct conn *c, bool head)
{
	char why[128], body[160];

	if (tp_health_live(tp_mono_ns(), why, sizeof(why))) {
		respond_text(s, c, 200, "ok\n", head, NULL);
		return;
	}
	snprintf(body, sizeof(body), "%s\n", why);
	respond_text(s, c, 503, body, head, NULL);
}

static const char index_page[] = "tapio-collector\n"
				 "  /metrics  Prometheus metrics\n"
				 "  /healthz  ok, or degraded with the reasons (?format=json)\n"
				 "  /livez    ok while the event loop runs\n";

/* c->in holds a complete header section of hdr_len bytes. */
static void handle_request(struct tp_metrics_http *s, struct conn *c, size_t hdr_len)
{
	struct tp_http_request req;

	tp_http_parse_request(c->in, hdr_len, &req);
	switch (req.route) {
	case TP_HTTP_METRICS: serve_metrics(s, c, req.head); break;
	case TP_HTTP_HEALTHZ: serve_health(s, c, req.head, req.json); break;
	case TP_HTTP_LIVEZ: serve_live(s, c, req.head); break;
	case TP_HTTP_INDEX: respond_text(s, c, 200, index_page, req.head, NULL); break;
	case TP_HTTP_NONE: respond_text(s, c, req.status, req.error, req.head, req.allow); break;
	}
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
	c->inlen = 0;
	tp_buf_free(&c->out);
}

static void conn_read(struct tp_metrics_http *s, struct conn *c)
{
	for (;;) {
		ssize_t n;
		size_t hdr;

		if (c->state == CONN_DRAIN) {
			char sink[1024];

			n = read(c->fd, sink, sizeof(sink));
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				conn_close(c);
			if (n <= 0)
				return;
			continue;
		}
		if (c->inlen == sizeof(c->in)) {
			respond_text(s, c, 431, "request headers too large\n", false, NULL);
			return;
		}
		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c); /* gone before sending a whole request */
			return;
		}
		if (n < 0)
			return;
		c->inlen += (size_t)n;
		hdr = tp_http_header_end(c->in, c->inlen);
		if (hdr) {
			handle_request(s, c, hdr);
			return;
		}
	}
}

static void conn_write(struct conn *c)
{
	while (c->outoff < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	tp_buf_free(&c->out);
	c->state = CONN_DRAIN;
	c->deadline = tp_mono_ns() + DRAIN_TIMEOUT_NS;
}

static void accept_clients(struct tp_metrics_http *s)
{
	for (;;) {
		struct conn *c = NULL;
		int fd;

		for (size_t i = 0; i < TP_HTTP_MAX_CLIENTS; i++) {
			if (s->conns[i].state == CONN_FREE) {
				c = &s->conns[i];
				break;
			}
		}
		if (!c)
			return; /* full: the rest wait in the listen backlog */
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c->fd = fd;
		c->state = CONN_READ;
		c->inlen = 0;
		c->outoff = 0;
		tp_buf_init(&c->out);
		c->deadline = tp_mono_ns() + READ_TIMEOUT_NS;
	}
}

static void expire(struct tp_metrics_http *s, uint64_t now)
{
	for (size_t i = 0; i < TP_HTTP_MAX_CLIENTS; i++) {
		struct conn *c = &s->conns[i];

		if (c->state == CONN_FREE || now < c->deadline)
			continue;
		if (c->state == CONN_READ && c->inlen) {
			/* A partial request that never finished. */
			respond_text(s, c, 408, "request timeout\n", false, NULL);
			conn_write(c);
			if (c->state != CONN_FREE)
				conn_close(c);
		} else {
			conn_close(c);
		}
	}
}

static void *serve(void *arg)
{
	struct tp_metrics_http *s = arg;
	struct pollfd pfd[2 + TP_HTTP_MAX_CLIENTS];
	struct conn *owner[2 + TP_HTTP_MAX_CLIENTS];

	for (;;) {
		uint64_t now = tp_mono_ns(), next = now + TP_NSEC_PER_SEC;
		size_t n = 0, busy = 0;
		int timeout_ms;

		pfd[n++] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		for (size_t i = 0; i < TP_HTTP_MAX_CLIENTS; i++) {
			struct conn *c = &s->conns[i];

			if (c->state == CONN_FREE)
				continue;
			busy++;
			if (c->deadline < next)
				next = c->deadline;
			owner[n] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
						    .events = c->state == CONN_WRITE ? POLLOUT
										     : POLLIN };
		}
		if (busy < TP_HTTP_MAX_CLIENTS) {
			owner[n] = NULL;
			pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		}
		timeout_ms = next > now ? (int)((next - now) / TP_NSEC_PER_MSEC) + 1 : 0;
		if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		for (size_t i = 1; i < n; i++) {
			struct conn *c = owner[i];

			if (!pfd[i].revents)
				continue;
			if (!c) {
				accept_clients(s);
				continue;
			}
			if (c->state == CONN_WRITE)
				conn_write(c);
			else
				conn_read(s, c);
			if (c->state == CONN_WRITE)
				conn_write(c); /* most responses go out at once */
		}
		expire(s, tp_mono_ns());
	}
	for (size_t i = 0; i < TP_HTTP_MAX_CLIENTS; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_close(&s->conns[i]);
	return NULL;
}

static int listen_on(struct tp_metrics_http *s, const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port_s[8], ip[INET6_ADDRSTRLEN];
	uint16_t port;
	int r, fd = -1, saved = 0, one = 1;

	if (tp_parse_hostport(addr, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "invalid metrics address '%s': expected HOST:PORT such as "
				      "127.0.0.1:9464",
			 addr);
		return -EINVAL;
	}
	snprintf(port_s, sizeof(port_s), "%u", port);
	r = getaddrinfo(host[0] ? host : NULL, port_s, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot resolve metrics address '%s': %s", addr,
			 gai_strerror(r));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s for metrics: %s", addr, strerror(saved));
		return -(saved ? saved : EADDRNOTAVAIL);
	}
	s->listen_fd = fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			snprintf(s->addr, sizeof(s->addr), "[%s]:%u", ip, ntohs(a->sin6_port));
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
			snprintf(s->addr, sizeof(s->addr), "%s:%u", ip, ntohs(a->sin_port));
		}
	}
	return 0;
}

int tp_metrics_http_start(struct tp_metrics_http **out, const char *addr, char *err,
			  size_t errlen)
{
	struct tp_metrics_http *s;
	sigset_t all, old;
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->listen_fd = -1;
	for (size_t i = 0; i < TP_HTTP_MAX_CLIENTS; i++)
		s->conns[i].fd = -1;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create an eventfd: %s", strerror(errno));
		free(s);
		return r;
	}
	r = listen_on(s, addr, err, errlen);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < NCODES; i++) {
		snprintf(s->code_labels[i], sizeof(s->code_labels[i]), "code=\"%d\"",
			 status_codes[i]);
		s->m_requests[i] = (struct tp_metric)TP_COUNTER_INIT(
			"tapio_http_requests_total", "Requests to the metrics endpoint, by status.");
		s->m_requests[i].labels = s->code_labels[i];
		tp_metric_register(&s->m_requests[i]);
	}
	/* Signals belong to the run loop: the server thread blocks them all
	 * (but the one that drops capabilities). */
	tp_caps_block_signals(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&s->thread, NULL, serve, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the metrics thread: %s", strerror(-r));
		goto fail;
	}
	s->thread_started = true;
	*out = s;
	return 0;
fail:
	tp_metrics_http_stop(s);
	return r;
}

const char *tp_metrics_http_addr(const struct tp_metrics_http *s)
{
	return s->addr;
}

void tp_metrics_http_stop(struct tp_metrics_http *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->thread_started) {
		/* An eventfd write fails only on overflow, when it is woken already. */
		ssize_t w = write(s->wake_fd, &one, sizeof(one));

		(void)w;
		pthread_join(s->thread, NULL);
	}
	for (size_t i = 0; i < NCODES; i++)
		if (s->m_requests[i].name)
			tp_metric_unregister(&s->m_requests[i]);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	close(s->wake_fd);
	free(s);
}
