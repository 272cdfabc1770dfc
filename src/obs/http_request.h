/*
 * obs/http_request.h - the request head of the metrics endpoint
 * (obs/metrics_http.h), parsed without I/O: the bytes come from any local
 * client, so the parser is pure and fuzzed (tests/fuzz/fuzz_metrics_http.c).
 *
 * One request per connection: a request line ("GET /path?query HTTP/1.1")
 * and header lines up to an empty line, LF or CRLF. Only GET and HEAD;
 * HTTP/1.0 and 1.1; a target that starts with '/' and holds no control
 * byte or blank; header names made of token characters.
 */
#ifndef TAPIO_OBS_HTTP_REQUEST_H
#define TAPIO_OBS_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

enum tp_http_route {
	TP_HTTP_NONE,	 /* an error to answer (status != 200) */
	TP_HTTP_INDEX,	 /* / */
	TP_HTTP_METRICS, /* /metrics */
	TP_HTTP_HEALTHZ, /* /healthz */
	TP_HTTP_LIVEZ,	 /* /livez */
};

struct tp_http_request {
	int status;		  /* 200 with a route, else 400, 404, 405 or 505 */
	enum tp_http_route route; /* TP_HTTP_NONE unless status is 200 */
	const char *error;	  /* status != 200: the plain-text body to answer */
	const char *allow;	  /* an extra header line for the answer, or NULL */
	bool head;		  /* HEAD: answer without a body */
	bool json;		  /* ?format=json or Accept: application/json */
};

/* The length of the header section (through its empty line) if buf holds
 * all of it, else 0. */
size_t tp_http_header_end(const char *buf, size_t len);

/* Parse the header section buf[0..len) (len from tp_http_header_end, or any
 * bytes: no NUL needed, none read past len) into *req. Always fills *req:
 * a malformed request is a status and an error text. */
void tp_http_parse_request(const char *buf, size_t len, struct tp_http_request *req);

#endif
