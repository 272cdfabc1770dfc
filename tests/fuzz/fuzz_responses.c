/* A receiver's responses are bytes from a peer: any of them must parse into
 * a bounded response or be refused, and no text that reaches a log line may
 * keep a byte outside printable ASCII (a rejection's reason, an OTLP partial
 * success message). Both transports' parsers get every input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/responses.h"

static void check_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n >= max)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_response r;
	char err[256];
	/* An exact-size copy: a read past the end is caught. */
	uint8_t *p = malloc(size ? size : 1);

	if (!p)
		return 0;
	memcpy(p, data, size);
	if (tp_tapio_parse_response(p, size, &r, err, sizeof(err)) == 0) {
		if ((r.nacks && !r.acks) || (r.nrejections && !r.rejections) ||
		    r.nacks > size || r.nrejections > size)
			abort();
		for (size_t i = 0; i < r.nrejections; i++)
			check_text(r.rejections[i].reason, TP_REJECTION_REASON_MAX);
		tp_response_free(&r);
	} else if (r.acks || r.rejections || r.nacks) {
		abort(); /* a refused response leaves nothing behind */
	}
	if (tp_otlp_parse_response(p, size, &r, err, sizeof(err)) == 0)
		check_text(r.message, sizeof(r.message));
	free(p);
	return 0;
}
