#include "obs/http_request.h"

#include <string.h>
#include <strings.h>

static bool is_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

size_t tp_http_header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Does the header section (after the request line) ask for JSON? Returns
 * -1 on a malformed header line. */
static int headers_want_json(const char *h, const char *end)
{
	int json = 0;

	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));
		size_t n = eol ? (size_t)(eol - h) : (size_t)(end - h);
		const char *colon;

		if (n && h[n - 1] == '\r')
			n--;
		if (!n)
			break; /* the empty line that ends the headers */
		colon = memchr(h, ':', n);
		if (!colon || colon == h)
			return -1;
		for (const char *p = h; p < colon; p++)
			if (!is_tchar(*p))
				return -1;
		if (colon - h == 6 && !strncasecmp(h, "accept", 6)) {
			const char *v = colon + 1, *vend = h + n;

			for (; v + 16 <= vend; v++)
				if (!strncasecmp(v, "application/json", 16))
					json = 1;
		}
		h = eol ? eol + 1 : end;
	}
	return json;
}

static void fail(struct tp_http_request *req, int status, const char *text)
{
	req->status = status;
	req->route = TP_HTTP_NONE;
	req->error = text;
	req->json = false;
}

#define FAIL(...)                          \
	do {                               \
		fail(req, __VA_ARGS__);    \
		return;                    \
	} while (0)

void tp_http_parse_request(const char *buf, size_t len, struct tp_http_request *req)
{
	const char *end = buf + len, *eol = memchr(buf, '\n', len);
	const char *sp1, *sp2, *target, *version, *query;
	size_t line_len, mlen, tlen, vlen, plen;
	int json;

	memset(req, 0, sizeof(*req));
	if (memchr(buf, '\0', len) || !eol)
		FAIL(400, "bad request\n");
	line_len = (size_t)(eol - buf);
	if (line_len && buf[line_len - 1] == '\r')
		line_len--;
	sp1 = memchr(buf, ' ', line_len);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', line_len - (size_t)(sp1 + 1 - buf)) : NULL;
	if (!sp1 || !sp2 || sp1 == buf || sp2 == sp1 + 1 ||
	    memchr(sp2 + 1, ' ', line_len - (size_t)(sp2 + 1 - buf)))
		FAIL(400, "bad request line\n");
	mlen = (size_t)(sp1 - buf);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = line_len - (size_t)(version - buf);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(buf[i]))
			FAIL(400, "bad request method\n");
	if (vlen < 5 || strncmp(version, "HTTP/", 5))
		FAIL(400, "bad HTTP version\n");
	if (vlen != 8 || (strncmp(version, "HTTP/1.1", 8) && strncmp(version, "HTTP/1.0", 8)))
		FAIL(505, "only HTTP/1.0 and HTTP/1.1\n");
	req->head = mlen == 4 && !strncmp(buf, "HEAD", 4);
	if (!req->head && !(mlen == 3 && !strncmp(buf, "GET", 3))) {
		req->allow = "Allow: GET, HEAD\r\n";
		FAIL(405, "only GET and HEAD\n");
	}
	if (target[0] != '/')
		FAIL(400, "bad request target\n");
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= ' ' || target[i] == 0x7f)
			FAIL(400, "bad request target\n");
	json = headers_want_json(eol + 1, end);
	if (json < 0)
		FAIL(400, "bad header line\n");
	query = memchr(target, '?', tlen);
	plen = query ? (size_t)(query - target) : tlen;
	if (query) {
		/* format=json anywhere among &-separated parameters */
		for (const char *q = query + 1; q < target + tlen;) {
			const char *amp = memchr(q, '&', (size_t)(target + tlen - q));
			size_t n = amp ? (size_t)(amp - q) : (size_t)(target + tlen - q);

			if (n == 11 && !strncmp(q, "format=json", 11))
				json = 1;
			q += n + 1;
		}
	}
	req->json = json;
	req->status = 200;
#define PATH_IS(lit) (plen == sizeof(lit) - 1 && !strncmp(target, lit, plen))
	if (PATH_IS("/metrics"))
		req->route = TP_HTTP_METRICS;
	else if (PATH_IS("/healthz"))
		req->route = TP_HTTP_HEALTHZ;
	else if (PATH_IS("/livez"))
		req->route = TP_HTTP_LIVEZ;
	else if (PATH_IS("/"))
		req->route = TP_HTTP_INDEX;
	else
		fail(req, 404, "not found: try /metrics, /healthz or /livez\n");
#undef PATH_IS
}
#undef FAIL
