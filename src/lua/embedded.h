/*
 * lua/embedded.h - the Lua library files under lua/ (the tapio.* helpers),
 * compiled into the binary so every VM has them whatever the working
 * directory. Generated at build time by cmake/embed_lua.cmake.
 */
#ifndef TAPIO_LUA_EMBEDDED_H
#define TAPIO_LUA_EMBEDDED_H

#include <stddef.h>

struct tp_lua_embedded_file {
	const char *name; /* "tapio.lua": defines global "tapio" */
	const char *data;
	size_t len;
};

/* Ends with an entry whose name is NULL. */
extern const struct tp_lua_embedded_file tp_lua_embedded_files[];

#endif
