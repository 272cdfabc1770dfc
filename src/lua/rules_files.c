/*
 * Rule files: a path is a file or a folder of *.lua (sorted); each file is
 * checked (regular, trusted owner and mode, size) before its chunk runs in
 * the set's VM under a load budget.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/load_limits.h"
#include "lua/rules_internal.h"

/* Protected: keep the environment of a chunk, to freeze it after the load.
 * Stack: [-2, +0] (the set, the chunk) */
static int keep_env_p(lua_State *L)
{
	struct tp_ruleset *rs = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, rs->envs_ref);
	tp_lua_push_env(L, 2);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
	return 0;
}

/* A root agent must not run Lua that someone else can change. */
static bool trusted(const struct stat *st, bool sticky_ok)
{
	uid_t me = geteuid();

	if (st->st_uid != 0 && st->st_uid != me)
		return false;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return sticky_ok && (st->st_mode & S_ISVTX);
	return true;
}

static void untrusted_problem(struct tp_ruleset *rs, const char *path, const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		tp_rules_problem(
		    rs, path, 0,
		    "refusing to load: owned by uid %u, not by root or the agent's user (uid %u); "
		    "whoever owns it could make the agent run any code",
		    (unsigned)st->st_uid, (unsigned)geteuid());
	else
		tp_rules_problem(
		    rs, path, 0,
		    "refusing to load: writable by %s (mode %03o); run chmod go-w on it",
		    (st->st_mode & S_IWOTH) ? "every user" : "its group",
		    (unsigned)(st->st_mode & 0777));
}

static void load_file(struct tp_ruleset *rs, const char *path)
{
	lua_State *L = rs->L;
	struct stat st;
	char *text = NULL, err[2048];
	ssize_t n;
	int fd;
	struct tp_lua_limits load_lim = rs->limits;

	if (tp_rules_cancelled(rs))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tp_rules_problem(rs, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		tp_rules_problem(rs, path, 0, "not a regular file");
		goto out;
	}
	if (!rs->opts->allow_untrusted && !trusted(&st, false)) {
		untrusted_problem(rs, path, &st);
		goto out;
	}
	if (tp_load_check(TP_LOAD_FILE_BYTES, (size_t)st.st_size, err, sizeof(err)) < 0 ||
	    tp_load_check(TP_LOAD_FILES, rs->files + 1, err, sizeof(err)) < 0) {
		tp_rules_problem(rs, path, 0, "%s", err);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		tp_rules_problem(rs, path, 0, "out of memory");
		goto out;
	}
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		tp_rules_problem(rs, path, 0, "short read");
		goto out;
	}
	rs->hash = fnv_str(rs->hash, path);
	rs->hash = fnv(rs->hash, text, (size_t)n);
	rs->files++;

	{
		char name[PATH_MAX + 2];

		snprintf(name, sizeof(name), "@%s", path);
		if (tp_lua_load(rs->vm, text, (size_t)n, name, err, sizeof(err)) < 0) {
			tp_rules_problem(rs, NULL, 0, "%s", err);
			goto out;
		}
	}
	lua_pushcfunction(L, keep_env_p);
	lua_pushlightuserdata(L, rs);
	lua_pushvalue(L, -3);
	if (tp_lua_pcall(rs->vm, 2, 0, err, sizeof(err)) != TP_LUA_OK) {
		lua_pop(L, 1);
		tp_rules_problem(rs, path, 0, "%.*s", first_line_len(err), err);
		goto out;
	}
	rs->cur_file = path;
	rs->cur_text = text;
	rs->cur_len = (size_t)n;
	rs->scan_p = NULL;
	rs->scan_line = 0;
	/* Top-level code may build big tables: a larger budget while loading. */
	if (load_lim.instr_budget < TP_LOAD_BUDGET)
		load_lim.instr_budget = TP_LOAD_BUDGET;
	load_lim.mem_call_max = 0;
	tp_lua_vm_set_limits(rs->vm, &load_lim);
	enum tp_lua_status s = tp_lua_pcall(rs->vm, 0, 0, err, sizeof(err));
	tp_lua_vm_set_limits(rs->vm, &rs->limits);
	rs->cur_file = NULL;
	rs->cur_text = NULL;
	rs->scan_p = NULL;
	if (s != TP_LUA_OK) {
		if (!strncmp(err, path, strlen(path)))
			tp_rules_problem(rs, NULL, 0, "%.*s", first_line_len(err), err);
		else
			tp_rules_problem(rs, path, 0, "%.*s", first_line_len(err), err);
	}
out:
	free(text);
	close(fd);
}

static int lua_file_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && !strcmp(d->d_name + n - 4, ".lua");
}

void tp_rules_load_path(struct tp_ruleset *rs, const char *path)
{
	struct stat st;
	struct dirent **list;
	char sub[PATH_MAX];
	int n;

	if (stat(path, &st) < 0) {
		tp_rules_problem(rs, path, 0, "%s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		char copy[PATH_MAX];
		struct stat dst;

		/* Whoever can write the folder can swap the file. */
		snprintf(copy, sizeof(copy), "%s", path);
		if (!rs->opts->allow_untrusted && stat(dirname(copy), &dst) == 0 &&
		    !trusted(&dst, true)) {
			snprintf(copy, sizeof(copy), "%s", path);
			untrusted_problem(rs, dirname(copy), &dst);
			return;
		}
		load_file(rs, path);
		return;
	}
	if (!rs->opts->allow_untrusted && !trusted(&st, false)) {
		untrusted_problem(rs, path, &st);
		return;
	}
	n = scandir(path, &list, lua_file_filter, alphasort);
	if (n < 0) {
		tp_rules_problem(rs, path, 0, "%s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
			 list[i]->d_name);
		load_file(rs, sub);
		free(list[i]);
	}
	free(list);
}
