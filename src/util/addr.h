/*
 * addr.h - HOST:PORT text, as in --metrics-addr, --server and --otlp.
 */
#ifndef TAPIO_UTIL_ADDR_H
#define TAPIO_UTIL_ADDR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Split "host:port", "[v6addr]:port" or ":port" (host left empty: every
 * interface). The port is a decimal number 0-65535 (0: any free port).
 * Returns 0 or -EINVAL (no port, port out of range, host too long,
 * unbalanced brackets, spaces or control characters).
 */
int tp_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
