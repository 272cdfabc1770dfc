/*
 * Rule files: a path is a file or a folder of *.lua (sorted); each file is
 * read under the trusted-file policy (util/trusted.h) before its chunk runs
 * in the set's VM under a load budget.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/load_limits.h"
#include "lua/rules_internal.h"
#include "util/trusted.h"

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

static void load_file(struct tp_ruleset *rs, const char *path)
{
	struct tp_trusted_opts topts = {.max_bytes = tp_load_max(TP_LOAD_FILE_BYTES),
					.skip_trust = rs->opts->allow_untrusted};
	lua_State *L = rs->L;
	char *text = NULL, err[2048];
	size_t n;
	struct tp_lua_limits load_lim = rs->limits;

	if (tp_rules_cancelled(rs))
		return;
	if (tp_load_check(TP_LOAD_FILES, rs->files + 1, err, sizeof(err)) < 0) {
		tp_rules_problem(rs, path, 0, "%s", err);
		return;
	}
	if (tp_trusted_read(path, &topts, &text, &n, err, sizeof(err)) < 0) {
		tp_rules_problem(rs, NULL, 0, "%s", err);
		return;
	}
	rs->hash = fnv_str(rs->hash, path);
	rs->hash = tp_fnv1a(rs->hash, text, (size_t)n);
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
	char sub[PATH_MAX], err[1024];
	int n;

	if (stat(path, &st) < 0) {
		tp_rules_problem(rs, path, 0, "%s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		load_file(rs, path); /* checks the file and its folder */
		return;
	}
	if (!rs->opts->allow_untrusted && tp_trusted_dir(path, err, sizeof(err)) < 0) {
		tp_rules_problem(rs, NULL, 0, "%s", err);
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
