/*
 * stdout.h - the stdout output: text (coloured on a terminal) or JSON lines.
 */
#ifndef TAPIO_OUTPUT_STDOUT_H
#define TAPIO_OUTPUT_STDOUT_H

#include <stdbool.h>

#include "events/format.h"
#include "output/output.h"

/* fd is normally 1. color applies to text only. */
struct tp_output *tp_output_stdout_new(int fd, enum tp_output_format fmt, bool color);

/* Whether fd is a terminal that wants colour (honours NO_COLOR and TERM=dumb). */
bool tp_output_want_color(int fd);

#endif
