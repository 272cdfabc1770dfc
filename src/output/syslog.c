#include "output/syslog.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "events/format.h"
#include "output/lines.h"
#include "util/time.h"

#define FACILITY_DAEMON 3
#define MSG_MAX (64 * 1024)
/* A full receiver queue (a slow daemon) is waited on this long per message,
 * then the send is retried after a backoff: a stop is never held longer. */
#define SEND_WAIT_MS 500

enum transport { T_UNIX, T_UDP, T_TCP };

struct syslog_output {
	struct tp_output base;
	struct tp_lines *lines;
	struct tp_buf line, json; /* reader thread scratch */
	char hostname[256];

	/* Worker thread. */
	enum transport t;
	char addr[512], host[256], port[16];
	int fd;
	struct tp_buf frame;
};

/* RFC 5424 severities of ours (debug..critical). */
static const int severity_code[TP_SEV_COUNT] = { 7, 6, 5, 4, 3, 2 };

static int parse_addr(struct syslog_output *s, const char *a, char *err, size_t errlen)
{
	const char *rest;

	snprintf(s->addr, sizeof(s->addr), "%s", a);
	if (!strncmp(a, "unix:", 5)) {
		s->t = T_UNIX;
		rest = a + 5;
		if (*rest != '/' || strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			goto bad;
		snprintf(s->host, sizeof(s->host), "%s", rest);
		return 0;
	}
	if (!strncmp(a, "udp:", 4) || !strncmp(a, "tcp:", 4)) {
		const char *colon = strrchr(a + 4, ':');
		char *end;
		long port;

		s->t = a[0] == 'u' ? T_UDP : T_TCP;
		rest = a + 4;
		if (!colon || colon == rest || (size_t)(colon - rest) >= sizeof(s->host))
			goto bad;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			goto bad;
		memcpy(s->host, rest, (size_t)(colon - rest));
		s->host[colon - rest] = '\0';
		if (s->host[0] == '[' && s->host[strlen(s->host) - 1] == ']') {
			memmove(s->host, s->host + 1, strlen(s->host));
			s->host[strlen(s->host) - 1] = '\0';
		}
		snprintf(s->port, sizeof(s->port), "%ld", port);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "syslog.address: expected unix:/PATH, tcp:HOST:PORT or udp:HOST:PORT, got \"%s\"",
		 a);
	return -EINVAL;
}

int tp_output_syslog_check(const char *address, char *err, size_t errlen)
{
	struct syslog_output s = { .fd = -1 };

	return parse_addr(&s, address, err, errlen);
}

static void disconnect(struct syslog_output *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int connect_sock(struct syslog_output *s, char *err, size_t errlen)
{
	int e = 0;

	if (s->t == T_UNIX) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		memcpy(sa.sun_path, s->host, strlen(s->host) + 1); /* checked by parse_addr */
		s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s->fd >= 0 && connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		e = errno;
	} else {
		struct addrinfo hints = { .ai_socktype = s->t == T_TCP ? SOCK_STREAM : SOCK_DGRAM };
		struct addrinfo *res, *ai;
		int r = getaddrinfo(s->host, s->port, &hints, &res);

		if (r) {
			snprintf(err, errlen, "syslog %s: cannot resolve %s: %s", s->addr, s->host,
				 gai_strerror(r));
			return -EHOSTUNREACH;
		}
		e = ECONNREFUSED;
		for (ai = res; ai; ai = ai->ai_next) {
			s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
			if (s->fd >= 0 && ai->ai_socktype == SOCK_STREAM) {
				struct timeval tv = { .tv_sec = SEND_WAIT_MS / 1000,
						      .tv_usec = (SEND_WAIT_MS % 1000) * 1000 };

				/* connect and send give up after this (then a backoff) */
				setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			}
			if (s->fd >= 0 && connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			e = errno;
			disconnect(s);
		}
		freeaddrinfo(res);
		if (s->fd >= 0)
			return 0;
	}
	disconnect(s);
	snprintf(err, errlen, "syslog %s: cannot connect: %s", s->addr, strerror(e));
	return -e;
}

/* data is "<PRI>... message\n" lines; each goes as one message. */
static int syslog_deliver(void *ctx, const char *data, size_t len, size_t *done, char *err,
			  size_t errlen)
{
	struct syslog_output *s = ctx;
	size_t off = 0;
	int r;

	*done = 0;
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - data - off) : len - off;
		const char *p;
		size_t plen;
		ssize_t w;

		if (s->fd < 0 && (r = connect_sock(s, err, errlen)) < 0)
			return r;
		if (s->t == T_TCP) {
			tp_buf_reset(&s->frame);
			tp_buf_printf(&s->frame, "%zu ", n);
			tp_buf_append(&s->frame, data + off, n);
			p = s->frame.data;
			plen = s->frame.len;
		} else {
			p = data + off;
			plen = n;
		}
		w = send(s->fd, p, plen, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && s->t != T_TCP) {
			/* The daemon's queue is full: wait a little, else later. */
			struct pollfd pf = { .fd = s->fd, .events = POLLOUT };

			if (poll(&pf, 1, SEND_WAIT_MS) > 0)
				w = send(s->fd, p, plen, MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				snprintf(err, errlen, "syslog %s: the receiver's queue is full", s->addr);
				return -EAGAIN;
			}
		}
		if (w < 0 || (size_t)w != plen) {
			int e = w < 0 ? errno : EPIPE;

			disconnect(s);
			snprintf(err, errlen, "syslog %s: %s", s->addr, strerror(e));
			return -e;
		}
		off += n + (nl ? 1 : 0);
		*done = off;
	}
	return 0;
}

static void syslog_close_worker(void *ctx)
{
	disconnect(ctx);
}

static int syslog_emit(struct tp_output *o, const struct tp_event *ev,
		       const struct tp_event_meta *meta)
{
	struct syslog_output *s = (struct syslog_output *)o;
	int sev = meta && meta->alert ? tp_severity_parse(meta->alert->severity) : TP_SEV_EVENT;
	char ts[40];

	tp_buf_reset(&s->line);
	tp_buf_reset(&s->json);
	tp_format_json(&s->json, ev, meta);
	tp_format_rfc3339(ev->ts_wall_ns, ts, sizeof(ts));
	/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG */
	tp_buf_printf(&s->line, "<%d>1 %s %s tapio-collector %d %s - ",
		      FACILITY_DAEMON * 8 + severity_code[sev < 0 ? TP_SEV_EVENT : sev], ts,
		      s->hostname, (int)getpid(), meta && meta->alert ? "alert" : "event");
	if (s->json.len)
		tp_buf_append(&s->line, s->json.data, s->json.len); /* ends in '\n' */
	if (tp_buf_failed(&s->json) || s->line.len > MSG_MAX)
		s->line.failed = true; /* counted as an encode drop */
	return tp_lines_push_buf(s->lines, &s->line);
}

static void syslog_close(struct tp_output *o)
{
	struct syslog_output *s = (struct syslog_output *)o;

	tp_lines_stop(s->lines);
	tp_buf_free(&s->line);
	tp_buf_free(&s->json);
	tp_buf_free(&s->frame);
	free(s);
}

static const struct tp_output_ops syslog_ops = {
	.name = "syslog",
	.emit = syslog_emit,
	.close = syslog_close,
};

int tp_output_syslog_new(struct tp_output **out, const struct tp_config *cfg, char *err,
			 size_t errlen)
{
	struct syslog_output *s = calloc(1, sizeof(*s));
	struct tp_lines_sink sink = {
		.name = "syslog", .deliver = syslog_deliver, .close = syslog_close_worker,
	};
	int r;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->base.ops = &syslog_ops;
	s->fd = -1;
	tp_buf_init(&s->line);
	tp_buf_init(&s->json);
	tp_buf_init(&s->frame);
	if (gethostname(s->hostname, sizeof(s->hostname)) < 0 || !s->hostname[0])
		snprintf(s->hostname, sizeof(s->hostname), "-");
	s->hostname[sizeof(s->hostname) - 1] = '\0';
	for (char *c = s->hostname; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c > '~')
			*c = '-';
	r = parse_addr(s, cfg->syslog_address, err, errlen);
	if (r < 0)
		goto fail;
	sink.ctx = s;
	r = tp_lines_start(&s->lines, &sink, cfg, err, errlen);
	if (r < 0)
		goto fail;
	*out = &s->base;
	return 0;
fail:
	tp_buf_free(&s->line);
	tp_buf_free(&s->json);
	tp_buf_free(&s->frame);
	free(s);
	return r;
}
