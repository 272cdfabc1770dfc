/*
 * stdout.h - the stdout output: text (coloured on a terminal) or JSON lines.
 */
#ifndef TAPIO_OUTPUT_STDOUT_H
#define TAPIO_OUTPUT_STDOUT_H

#include <stdbool.h>

#include "events/format.h"
#include "output/output.h"

struct tp_stdout_opts {
	int fd; /* normally 1 */
	enum tp_output_format fmt;
	bool color; /* text only */
};

/* Returns 0, or -ENOMEM with err filled. */
int tp_output_stdout_new(struct tp_output **out, const struct tp_stdout_opts *o, char *err,
			 size_t errlen);

/* Whether fd is a terminal that wants colour (honours NO_COLOR and TERM=dumb). */
bool tp_output_want_color(int fd);

#endif
