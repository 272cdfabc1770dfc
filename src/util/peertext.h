/*
 * util/peertext.h - text that came from a peer (a server's rejection reason,
 * a gRPC status message, an OTLP partial-success message), made safe for a
 * log line: printable ASCII is kept, every other byte (control characters,
 * escape sequences, newlines, bytes of other scripts) becomes \xNN, and the
 * result is cut at the buffer with "..." so one line stays one line and a
 * peer cannot forge or flood log lines.
 */
#ifndef TAPIO_UTIL_PEERTEXT_H
#define TAPIO_UTIL_PEERTEXT_H

#include <stddef.h>

/* Write the safe form of src[0..len) into dst (always NUL-terminated when
 * dstlen > 0). Returns the length written. */
size_t tp_peer_text(char *dst, size_t dstlen, const char *src, size_t len);

#endif
