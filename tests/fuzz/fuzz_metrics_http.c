/* Any local client can send the metrics endpoint any bytes: the request
 * parser (obs/http_request.h) must read none past what it was given and
 * always give one of the answers the server knows, consistent with itself.
 * The input is cut where the server would cut it (the end of the header
 * section, within TP_HTTP_MAX_REQUEST); a prefix with no end is also parsed
 * whole, as the worst case. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "obs/http_request.h"
#include "obs/metrics_http.h"

static void check(const char *p, size_t len)
{
	struct tp_http_request req;

	tp_http_parse_request(p, len, &req);
	switch (req.status) {
	case 200:
		if (req.route == TP_HTTP_NONE || req.error || req.allow)
			abort();
		break;
	case 400:
	case 404:
	case 405:
	case 505:
		if (req.route != TP_HTTP_NONE || !req.error || !*req.error)
			abort();
		if (!!req.allow != (req.status == 405))
			abort();
		break;
	default:
		abort();
	}
	if (req.json && req.status != 200)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = size < TP_HTTP_MAX_REQUEST ? size : TP_HTTP_MAX_REQUEST;
	/* An exact-size copy: a read past the end is caught. */
	char *p = malloc(n ? n : 1);
	size_t hdr;

	if (!p)
		return 0;
	memcpy(p, data, n);
	hdr = tp_http_header_end(p, n);
	if (hdr > n)
		abort();
	if (hdr)
		check(p, hdr);
	check(p, n);
	free(p);
	return 0;
}
