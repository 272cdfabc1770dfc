#include "output/webhook.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events/format.h"
#include "events/proc_ctx.h"
#include "obs/log.h"
#include "output/lines.h"
#include "util/time.h"
#include "version.h"

#define RESPONSE_MAX (64 * 1024)

struct webhook_output {
	struct tp_output base;
	struct tp_lines *lines;
	struct tp_buf line;       /* reader thread scratch */
	char hostname[256];
	bool all_events;

	/* Worker thread. */
	char host[256], port[16], path[1024], url[1400];
	int fd;
	uint64_t timeout_ns;
	struct tp_buf req;
	char resp[RESPONSE_MAX];
};

/* ---------------------------------------------------------------- format */

static const char *const falco_priority[TP_SEV_COUNT] = {
	"Debug", "Informational", "Notice", "Warning", "Error", "Critical",
};

static void key(struct tp_buf *b, bool *first, const char *k)
{
	if (!*first)
		tp_buf_putc(b, ',');
	*first = false;
	tp_buf_json_str(b, k, strlen(k));
	tp_buf_putc(b, ':');
}

static void str_field(struct tp_buf *b, bool *first, const char *k, const char *v)
{
	if (!v)
		return;
	key(b, first, k);
	tp_buf_json_str(b, v, strlen(v));
}

static void u64_field(struct tp_buf *b, bool *first, const char *k, uint64_t v)
{
	key(b, first, k);
	tp_buf_u64(b, v);
}

/* The time as Falco writes it: RFC 3339 UTC with nanoseconds. */
static void rfc3339_ns(uint64_t ns, char *out, size_t len)
{
	time_t sec = (time_t)(ns / TP_NSEC_PER_SEC);
	struct tm tm;
	char tmp[32];

	gmtime_r(&sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%09lluZ", tmp, (unsigned long long)(ns % TP_NSEC_PER_SEC));
}

static void cmdline(struct tp_buf *b, const struct tp_event *ev, const struct tp_proc_ctx *pc)
{
	const struct tp_field *f = tp_event_field(ev->type, "argv");
	const char *av = NULL, *p;
	uint32_t len = 0;
	size_t n;
	struct tp_buf s;

	if (f)
		av = tp_field_argv(ev, f, &len);
	if (!av && pc && pc->argv) {
		av = pc->argv;
		len = pc->argv_len;
	}
	if (!av || !len)
		return;
	tp_buf_init(&s);
	for (p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		if (s.len)
			tp_buf_putc(&s, ' ');
		tp_buf_append(&s, p, n);
	}
	if (!tp_buf_failed(&s)) {
		tp_buf_puts(b, ",\"proc.cmdline\":");
		tp_buf_json_str(b, s.data, s.len);
	}
	tp_buf_free(&s);
}

void tp_webhook_format(struct tp_buf *b, const struct tp_event *ev,
		       const struct tp_event_meta *meta, const char *hostname)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	const struct tp_alert *a = meta ? meta->alert : NULL;
	const struct tp_proc_ctx *pc = meta ? meta->proc : NULL;
	int sev = a ? tp_severity_parse(a->severity) : TP_SEV_EVENT;
	const char *prio = falco_priority[sev < 0 ? TP_SEV_EVENT : sev];
	const struct tp_field *f;
	char ts[48], clock[32];
	bool first = true;
	uint64_t v;

	rfc3339_ns(ev->ts_wall_ns, ts, sizeof(ts));
	/* Falco's output starts with the time of day and the priority. */
	snprintf(clock, sizeof(clock), "%.18s", ts + 11);
	tp_buf_puts(b, "{\"output\":");
	{
		struct tp_buf o;

		tp_buf_init(&o);
		tp_buf_printf(&o, "%s: %s ", clock, prio);
		if (a)
			tp_buf_puts(&o, a->output);
		else
			tp_buf_printf(&o, "%s by %.*s (pid %u)", ev->type->name,
				      (int)strnlen(h->comm, sizeof(h->comm)), h->comm, h->pid);
		tp_buf_json_str(b, o.data ? o.data : "", o.len);
		tp_buf_free(&o);
	}
	tp_buf_puts(b, ",\"priority\":\"");
	tp_buf_puts(b, prio);
	tp_buf_puts(b, "\",\"rule\":");
	tp_buf_json_str(b, a ? a->rule : "", a ? strlen(a->rule) : 0);
	tp_buf_puts(b, ",\"time\":\"");
	tp_buf_puts(b, ts);
	tp_buf_puts(b, "\",\"output_fields\":{");
	u64_field(b, &first, "evt.time", ev->ts_wall_ns);
	str_field(b, &first, "evt.type", ev->type->name);
	u64_field(b, &first, "proc.pid", h->pid);
	u64_field(b, &first, "proc.tid", h->tid);
	u64_field(b, &first, "proc.ppid", h->ppid);
	key(b, &first, "proc.name");
	tp_buf_json_str(b, h->comm, strnlen(h->comm, sizeof(h->comm)));
	u64_field(b, &first, "user.uid", h->uid);
	u64_field(b, &first, "group.gid", h->gid);
	if ((f = tp_event_field(ev->type, "loginuid")) && tp_field_u64(ev, f, &v))
		u64_field(b, &first, "user.loginuid", v);
	if (pc) {
		str_field(b, &first, "proc.exepath", pc->exe);
		if (pc->parent)
			str_field(b, &first, "proc.pname", pc->parent->comm);
		if (pc->container)
			str_field(b, &first, "container.id", pc->container->id);
		if (pc->k8s) {
			str_field(b, &first, "k8s.ns.name", pc->k8s->namespace);
			str_field(b, &first, "k8s.pod.name", pc->k8s->pod);
		}
	}
	if (!pc || !pc->container)
		str_field(b, &first, "container.id", "host");
	cmdline(b, ev, pc);
	if ((f = tp_event_field(ev->type, "path")) && tp_field_present(ev, f))
		str_field(b, &first, "fd.name", tp_field_str(ev, f));
	/* The event's own fields, as -o json names them. */
	tp_format_json_fields(b, ev);
	tp_buf_puts(b, "},\"tags\":[");
	{
		bool t1 = true;

		for (size_t i = 0; a && i < a->ntags; i++) {
			if (!t1)
				tp_buf_putc(b, ',');
			t1 = false;
			tp_buf_json_str(b, a->tags[i], strlen(a->tags[i]));
		}
		for (size_t i = 0; meta && i < meta->ntags; i++) {
			if (!t1)
				tp_buf_putc(b, ',');
			t1 = false;
			tp_buf_json_str(b, meta->tags[i], strlen(meta->tags[i]));
		}
	}
	tp_buf_puts(b, "],\"hostname\":");
	tp_buf_json_str(b, hostname, strlen(hostname));
	tp_buf_puts(b, ",\"source\":\"syscall\"}\n");
}

/* ---------------------------------------------------------------- HTTP */

static int parse_url(const char *url, struct webhook_output *w, char *err, size_t errlen)
{
	const char *p, *slash, *colon;
	size_t hl;

	if (strncmp(url, "http://", 7)) {
		snprintf(err, errlen,
			 "webhook.url: expected http://HOST[:PORT][/PATH], got \"%s\"%s", url,
			 !strncmp(url, "https://", 8) ?
				 " (https is not supported: put a TLS proxy or falcosidekick "
				 "on the node)" :
				 "");
		return -EINVAL;
	}
	p = url + 7;
	slash = strchr(p, '/');
	hl = slash ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', hl);
	if (hl == 0 || (colon && colon == p) || hl >= sizeof(w->host)) {
		snprintf(err, errlen, "webhook.url: no host in \"%s\"", url);
		return -EINVAL;
	}
	if (colon) {
		size_t pl = hl - (size_t)(colon + 1 - p);
		char *end;
		long port;

		if (pl == 0 || pl >= sizeof(w->port)) {
			snprintf(err, errlen, "webhook.url: bad port in \"%s\"", url);
			return -EINVAL;
		}
		memcpy(w->port, colon + 1, pl);
		w->port[pl] = '\0';
		port = strtol(w->port, &end, 10);
		if (*end || port < 1 || port > 65535) {
			snprintf(err, errlen, "webhook.url: bad port in \"%s\"", url);
			return -EINVAL;
		}
		hl = (size_t)(colon - p);
	} else {
		snprintf(w->port, sizeof(w->port), "80");
	}
	memcpy(w->host, p, hl);
	w->host[hl] = '\0';
	snprintf(w->path, sizeof(w->path), "%s", slash ? slash : "/");
	for (const char *c = w->path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			snprintf(err, errlen, "webhook.url: a space or control character in the path");
			return -EINVAL;
		}
	snprintf(w->url, sizeof(w->url), "%s", url);
	return 0;
}

static void disconnect(struct webhook_output *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = tp_mono_ns();
		struct pollfd p = { .fd = fd, .events = ev };
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline - now) / TP_NSEC_PER_MSEC) + 1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int connect_to(struct webhook_output *w, uint64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int r = getaddrinfo(w->host, w->port, &hints, &res), e = ECONNREFUSED;

	if (r) {
		snprintf(err, errlen, "%s: cannot resolve %s: %s", w->url, w->host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1, soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			e = errno;
			close(fd);
			continue;
		}
		if ((r = wait_fd(fd, POLLOUT, deadline)) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			e = r < 0 ? -r : soerr ? soerr : errno;
			close(fd);
			continue;
		}
		w->fd = fd;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "%s: cannot connect: %s", w->url, strerror(e));
	return -e;
}

static int send_all(struct webhook_output *w, const char *p, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t s = send(w->fd, p, n, MSG_NOSIGNAL);

		if (s > 0) {
			p += s;
			n -= (size_t)s;
			continue;
		}
		if (s < 0 && errno == EINTR)
			continue;
		if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(w->fd, POLLOUT, deadline);

			if (r < 0)
				return r;
			continue;
		}
		return s < 0 ? -errno : -EPIPE;
	}
	return 0;
}

/* Read one response: its status, and whether the connection stays open.
 * The body (Content-Length or chunked) is read and discarded. */
static int read_response(struct webhook_output *w, uint64_t deadline, int *status, bool *keep)
{
	size_t have = 0, hdr_end = 0, need = 0;
	char *e;
	bool chunked = false, has_len = false;

	for (;;) {
		ssize_t n;

		if (hdr_end && (has_len ? have >= hdr_end + need :
				chunked ? (have >= 5 && !memcmp(w->resp + have - 5, "0\r\n\r\n", 5)) :
					  false))
			break;
		if (have == sizeof(w->resp) - 1)
			return -E2BIG;
		n = recv(w->fd, w->resp + have, sizeof(w->resp) - 1 - have, 0);
		if (n == 0) {
			if (hdr_end && !has_len && !chunked) { /* body until close */
				*keep = false;
				break;
			}
			return -ECONNRESET;
		}
		if (n < 0) {
			int r;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if ((r = wait_fd(w->fd, POLLIN, deadline)) < 0)
				return r;
			continue;
		}
		have += (size_t)n;
		w->resp[have] = '\0';
		if (!hdr_end && (e = strstr(w->resp, "\r\n\r\n"))) {
			char *cl, *te, *conn;

			hdr_end = (size_t)(e - w->resp) + 4;
			if (sscanf(w->resp, "HTTP/1.%*c %d", status) != 1)
				return -EBADMSG;
			*e = '\0'; /* headers only, for the searches below */
			for (char *c = w->resp; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			cl = strstr(w->resp, "\r\ncontent-length:");
			te = strstr(w->resp, "\r\ntransfer-encoding:");
			conn = strstr(w->resp, "\r\nconnection:");
			if (conn) {
				char *eol = strstr(conn + 2, "\r\n"), *cl2 = strstr(conn, "close");

				*keep = !(cl2 && (!eol || cl2 < eol));
			}
			if (te && strstr(te, "chunked"))
				chunked = true;
			else if (cl) {
				has_len = true;
				need = (size_t)strtoull(cl + 17, NULL, 10);
			} else if (*status == 204 || *status == 304) {
				has_len = true;
				need = 0;
			}
			*e = '\r';
		}
	}
	return 0;
}

/* One POST of one alert. Returns 0 (2xx), -EAGAIN (try again later) or
 * -EBADMSG (never), err saying why. */
static int post(struct webhook_output *w, const char *body, size_t len, char *err, size_t errlen)
{
	uint64_t deadline = tp_mono_ns() + w->timeout_ns;
	int status = 0, r;
	bool keep = true;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = w->fd < 0;

		if (fresh && (r = connect_to(w, deadline, err, errlen)) < 0)
			return -EAGAIN;
		tp_buf_reset(&w->req);
		tp_buf_printf(&w->req,
			      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: tapio-collector/%s\r\n"
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			      w->path, w->host, w->port, TAPIO_VERSION, len);
		tp_buf_append(&w->req, body, len);
		if (tp_buf_failed(&w->req)) {
			snprintf(err, errlen, "out of memory");
			return -EAGAIN;
		}
		r = send_all(w, w->req.data, w->req.len, deadline);
		if (r == 0)
			r = read_response(w, deadline, &status, &keep);
		if (r == 0)
			break;
		disconnect(w);
		/* A kept-alive connection the server closed meanwhile: once more. */
		if (fresh || r == -ETIMEDOUT) {
			snprintf(err, errlen, "%s: %s", w->url,
				 r == -ETIMEDOUT ? "no answer within delivery.ack_timeout" :
				 r == -EBADMSG	 ? "the answer is not HTTP" :
						   strerror(-r));
			return -EAGAIN;
		}
	}
	if (!keep)
		disconnect(w);
	if (status >= 200 && status < 300)
		return 0;
	snprintf(err, errlen, "%s answered HTTP %d", w->url, status);
	if (status == 408 || status == 429 || status >= 500)
		return -EAGAIN;
	return -EBADMSG;
}

static int webhook_deliver(void *ctx, const char *data, size_t len, size_t *done, char *err,
			   size_t errlen)
{
	struct webhook_output *w = ctx;
	size_t off = 0;

	*done = 0;
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - data - off) : len - off;
		int r = post(w, data + off, n, err, errlen);

		if (r < 0)
			return r;
		off += n + (nl ? 1 : 0);
		*done = off;
	}
	return 0;
}

static void webhook_close_worker(void *ctx)
{
	disconnect(ctx);
}

int tp_output_webhook_check(const char *url, char *err, size_t errlen)
{
	struct webhook_output *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	r = parse_url(url, w, err, errlen);
	free(w);
	return r;
}

/* ---------------------------------------------------------------- output */

static int webhook_emit(struct tp_output *o, const struct tp_event *ev,
			const struct tp_event_meta *meta)
{
	struct webhook_output *w = (struct webhook_output *)o;

	if (!w->all_events && !(meta && meta->alert))
		return 0; /* Falco posts alerts only */
	tp_webhook_format(&w->line, ev, meta, w->hostname);
	return tp_lines_push_buf(w->lines, &w->line);
}

static void webhook_close(struct tp_output *o)
{
	struct webhook_output *w = (struct webhook_output *)o;

	tp_lines_stop(w->lines);
	tp_buf_free(&w->line);
	tp_buf_free(&w->req);
	free(w);
}

static const struct tp_output_ops webhook_ops = {
	.name = "webhook",
	.emit = webhook_emit,
	.close = webhook_close,
};

int tp_output_webhook_new(struct tp_output **out, const struct tp_config *cfg, char *err,
			  size_t errlen)
{
	struct webhook_output *w = calloc(1, sizeof(*w));
	struct tp_lines_sink sink = {
		.name = "webhook", .deliver = webhook_deliver, .close = webhook_close_worker,
	};
	int r;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->base.ops = &webhook_ops;
	w->fd = -1;
	w->all_events = cfg->webhook_all_events;
	w->timeout_ns = cfg->ack_timeout_ns ? cfg->ack_timeout_ns : 30 * TP_NSEC_PER_SEC;
	tp_buf_init(&w->line);
	tp_buf_init(&w->req);
	if (gethostname(w->hostname, sizeof(w->hostname)) < 0)
		snprintf(w->hostname, sizeof(w->hostname), "unknown");
	w->hostname[sizeof(w->hostname) - 1] = '\0';
	r = parse_url(cfg->webhook_url, w, err, errlen);
	if (r < 0)
		goto fail;
	sink.ctx = w;
	r = tp_lines_start(&w->lines, &sink, cfg, err, errlen);
	if (r < 0)
		goto fail;
	*out = &w->base;
	return 0;
fail:
	tp_buf_free(&w->line);
	tp_buf_free(&w->req);
	free(w);
	return r;
}
