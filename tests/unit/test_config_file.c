/* Config files and presets: tables of settings evaluated in the sandbox;
 * nested and dotted keys; every problem reported with its key path; chunks
 * that fail, loop or hoard memory are stopped; untrusted files refused;
 * every preset loads and applies cleanly. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_file.h"
#include "config/config_keys.h"
#include "events.h"

static char err[8192];

/* Load text as a document and apply it to c; returns apply's result (or
 * load's when that fails). */
static int apply_text(struct tp_config *c, const char *text)
{
	struct tp_config_doc *d;
	int r;

	err[0] = '\0';
	r = tp_config_doc_load_text(&d, text, strlen(text), "test.lua", err, sizeof(err));
	if (r < 0)
		return r;
	r = tp_config_doc_apply(d, c, TP_SRC_FILE, err, sizeof(err));
	tp_config_doc_free(d);
	return r;
}

static void test_nested_and_dotted_keys(void **state)
{
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(apply_text(&c, "local mb = 1024 * 1024\n"
					"return {\n"
					"  sampling = { enabled = true, base_rate = 0.25 },\n"
					"  [\"rate_limit.per_process\"] = 77,\n"
					"  rate_limit = { [\"per_container\"] = 88 },\n"
					"  ring = { size = 16 * mb, drain_interval = 0.02 },\n"
					"  programs = { memory = { enabled = false } },\n"
					"  filter = { exclude_paths = { \"/proc\", \"/sys\" } },\n"
					"  server = { address = \"collector:4317\", flush_interval = \"250ms\" },\n"
					"}\n"),
			 0);
	assert_true(c.sampling.enabled);
	assert_true(c.sampling.base_rate == 0.25);
	assert_int_equal(c.rate_limit.per_process, 77);
	assert_int_equal(c.rate_limit.per_container, 88);
	assert_int_equal(c.ring_bytes, 16u << 20);
	assert_int_equal(c.drain_interval_ns, 20000000ULL);
	assert_false(c.categories & (1u << TP_CAT_MEMORY));
	assert_int_equal(c.nexclude_paths, 2);
	assert_string_equal(c.exclude_paths[1], "/sys");
	assert_string_equal(c.server, "collector:4317");
	assert_int_equal(c.flush_interval_ns, 250000000ULL);
	assert_int_equal(tp_config_source_of(&c, "sampling.base_rate"), TP_SRC_FILE);
	assert_int_equal(tp_config_source_of(&c, "sampling.burst_threshold"), TP_SRC_DEFAULT);
	tp_config_free(&c);
}

static void test_every_problem_with_its_path(void **state)
{
	struct tp_config c;

	tp_config_defaults(&c);
	assert_int_equal(apply_text(&c, "return {\n"
					"  sampling = { base_rat = 1, enabled = \"yes please\",\n"
					"               never_sample_categories = { \"security\", 3 } },\n"
					"  rate_limit = 5,\n"
					"  bogus = { x = 1 },\n"
					"  ring = { size = \"3\" },\n"
					"  [1] = \"x\",\n"
					"  filter = { exclude_comms = { a = \"b\" } },\n"
					"  output = { format = print },\n"
					"}\n"),
			 -EINVAL);
	assert_string_equal(
		err, "test.lua: keys must be names, got 1\n"
		     "test.lua: unknown key 'bogus' (tapio-collector --print-keys lists them)\n"
		     "test.lua: filter.exclude_comms: expected a list (a sequence of strings), got a "
		     "table with other keys\n"
		     "test.lua: output.format: expected one of text, json, none, got a function\n"
		     "test.lua: rate_limit: expected a table of settings, got 5\n"
		     "test.lua: ring.size: expected a size from 64K to 1G (e.g. 16M), got \"3\"\n"
		     "test.lua: unknown key 'sampling.base_rat' (did you mean 'sampling.base_rate'?)\n"
		     "test.lua: sampling.enabled: expected true or false, got \"yes please\"\n"
		     "test.lua: sampling.never_sample_categories: item 2: expected a string, got 3");
	tp_config_free(&c);
}

/* Evaluate text alone; returns the load's result. */
static int load(const char *text, const char *name)
{
	struct tp_config_doc *d = NULL;
	int r;

	err[0] = '\0';
	r = tp_config_doc_load_text(&d, text, strlen(text), name, err, sizeof(err));
	tp_config_doc_free(d);
	return r;
}

static void test_bad_chunks(void **state)
{
	assert_int_equal(load("return 42", "n.lua"), -EINVAL);
	assert_string_equal(err, "n.lua: must return a table of settings (return { ... }), "
				 "returned number");
	assert_int_equal(load("return {", "s.lua"), -EINVAL);
	assert_non_null(strstr(err, "s.lua:1:"));
	assert_int_equal(load("\nerror('no')", "e.lua"), -EINVAL);
	assert_non_null(strstr(err, "e.lua:2: no"));
	assert_null(strchr(err, '\n'));
	/* The sandbox: no os, io, require or dofile. */
	assert_int_equal(load("return { x = os.execute('true') }", "o.lua"), -EINVAL);
	assert_string_equal(err, "o.lua:1: undeclared global 'os'");
	assert_int_equal(load("return dofile('/etc/passwd')", "f.lua"), -EINVAL);
	assert_int_equal(load("return require('io')", "r.lua"), -EINVAL);
	/* A loop or a memory hog is stopped, not obeyed. */
	assert_int_equal(load("while true do end", "l.lua"), -EINVAL);
	assert_string_equal(err, "l.lua: stopped: instruction budget exceeded (a config file only "
				 "returns a table)");
	assert_int_equal(load("local t = {} for i = 1, 1e9 do t[i] = 'x' .. i end", "m.lua"),
			 -ENOMEM);
	assert_non_null(strstr(err, "memory limit exceeded"));
	/* Binary chunks are refused. */
	assert_int_equal(load("\x1bLua", "b.lua"), -EINVAL);
	assert_int_equal(load("return {}", "ok.lua"), 0);
}

static void test_preset_key(void **state)
{
	struct tp_config_doc *d;
	struct tp_config c;
	const char *text = "return { preset = 'security', ring = { size = '16M' } }";

	tp_config_defaults(&c);
	assert_int_equal(tp_config_doc_load_text(&d, text, strlen(text), "p.lua", err, sizeof(err)), 0);
	assert_string_equal(tp_config_doc_preset(d), "security");
	/* apply skips it: the caller has applied the preset first */
	assert_int_equal(tp_config_doc_apply(d, &c, TP_SRC_FILE, err, sizeof(err)), 0);
	assert_string_equal(c.preset, "default");
	assert_int_equal(c.ring_bytes, 16u << 20);
	tp_config_doc_free(d);
	assert_int_equal(apply_text(&c, "return { preset = 3 }"), -EINVAL);
	assert_non_null(strstr(err, "preset: expected one of default, high-performance, security"));
	tp_config_free(&c);
}

static void test_presets(void **state)
{
	const struct tp_config_key *k = tp_config_key_find("preset");
	size_t n = 0;
	const char *name;

	/* Every preset the key accepts is compiled in, and nothing else. */
	for (const char *const *c = k->choices; *c; c++) {
		struct tp_config_doc *d;
		struct tp_config cfg;

		tp_config_defaults(&cfg);
		if (tp_config_doc_load_preset(&d, *c, err, sizeof(err)) < 0)
			fail_msg("preset %s: %s", *c, err);
		assert_null(tp_config_doc_preset(d));
		if (tp_config_doc_apply(d, &cfg, TP_SRC_PRESET, err, sizeof(err)) < 0)
			fail_msg("preset %s: %s", *c, err);
		if (!strcmp(*c, "security")) {
			assert_true(cfg.sampling.never_sample_categories & (1u << TP_CAT_SECURITY));
			assert_int_equal(cfg.nexclude_paths, 0);
			assert_int_equal(cfg.drop_failed, 0);
			assert_int_equal(cfg.bpf_cmd_mask, ~0ull);
			assert_int_equal(cfg.categories, ((1u << TP_CAT_KERNEL_MAX) - 1) & ~1u);
		}
		if (!strcmp(*c, "high-performance")) {
			assert_true(cfg.sampling.enabled);
			assert_true(cfg.ring_bytes > (8u << 20));
			assert_true(cfg.nexclude_paths > 0);
		}
		tp_config_doc_free(d);
		tp_config_free(&cfg);
		n++;
	}
	for (size_t i = 0; (name = tp_preset_name_at(i)); i++) {
		bool known = false;

		for (const char *const *c = k->choices; *c; c++)
			known |= !strcmp(*c, name);
		if (!known)
			fail_msg("preset file %s.lua is not a choice of the preset key", name);
		assert_true(i < n);
	}
	assert_int_equal(tp_config_doc_load_preset(&(struct tp_config_doc *){ NULL }, "fast", err,
						   sizeof(err)),
			 -ENOENT);
}

static void test_files_and_trust(void **state)
{
	char dir[] = "/tmp/tapio-cfg-XXXXXX", path[64];
	struct tp_config_doc *d;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.lua", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "return { log = { level = 'debug' } }\n", 37), 37);
	close(fd);
	assert_int_equal(tp_config_doc_load_file(&d, path, err, sizeof(err)), 0);
	tp_config_doc_free(d);

	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(tp_config_doc_load_file(&d, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "refusing to load: writable by every user"));
	assert_int_equal(chmod(path, 0644), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(tp_config_doc_load_file(&d, path, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "refusing to load: owned by uid 65534"));
	}
	assert_int_equal(tp_config_doc_load_file(&d, dir, err, sizeof(err)), -EINVAL);
	unlink(path);
	assert_int_equal(tp_config_doc_load_file(&d, path, err, sizeof(err)), -ENOENT);
	assert_string_equal(strstr(err, ": ") + 2, "No such file or directory");
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_and_dotted_keys),
		cmocka_unit_test(test_every_problem_with_its_path),
		cmocka_unit_test(test_bad_chunks),
		cmocka_unit_test(test_preset_key),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_files_and_trust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
