/* The trusted-file reader (util/trusted.h): what it reads, and one test per
 * reason it refuses a file or a folder. */
#include <errno.h>
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

#include "fixtures.h"
#include "util/file.h"
#include "util/trusted.h"

static char dir[256], path[512], err[1024];
static const struct tp_trusted_opts opts = {.max_bytes = 1024};

static int setup(void **state)
{
	(void)state;
	tp_fx_tmpdir(dir, sizeof(dir), "trusted");
	tp_fx_write_text(dir, "rules.lua", "return 42\n", path, sizeof(path));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	chmod(dir, 0700);
	tp_fx_rmtree(dir);
	return 0;
}

/* Read path with opts; on success the text must be "return 42\n". */
static int read_it(const struct tp_trusted_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	err[0] = '\0';
	r = tp_trusted_read(path, o, &text, &len, err, sizeof(err));
	if (r == 0) {
		assert_int_equal(len, 10);
		assert_string_equal(text, "return 42\n");
	} else {
		assert_null(text);
		assert_non_null(strstr(err, path) ? strstr(err, path) : strstr(err, dir));
	}
	free(text);
	return r;
}

static void test_reads_a_trusted_file(void **state)
{
	(void)state;
	assert_int_equal(read_it(&opts), 0);
	/* In a sticky folder others may write (like /tmp): fine. */
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(read_it(&opts), 0);
}

static void test_refuses_a_missing_file(void **state)
{
	(void)state;
	unlink(path);
	assert_int_equal(read_it(&opts), -ENOENT);
	assert_string_equal(strstr(err, ": ") + 2, "No such file or directory");
}

static void test_refuses_what_is_not_a_regular_file(void **state)
{
	(void)state;
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(read_it(&opts), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	rmdir(path);
	/* A FIFO: refused at once, the open does not wait for a writer. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(read_it(&opts), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_refuses_a_file_over_the_size_limit(void **state)
{
	struct tp_trusted_opts small = {.max_bytes = 9};

	(void)state;
	assert_int_equal(read_it(&small), -EFBIG);
	assert_non_null(strstr(err, "larger than 9 bytes"));
	small.max_bytes = 10;
	assert_int_equal(read_it(&small), 0);
}

static void test_refuses_a_file_its_group_or_others_may_write(void **state)
{
	(void)state;
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(read_it(&opts), -EPERM);
	assert_non_null(strstr(err, "rules.lua: refusing to load: writable by its group (mode 664); "
				    "run chmod go-w on it"));
	assert_int_equal(chmod(path, 0646), 0);
	assert_int_equal(read_it(&opts), -EPERM);
	assert_non_null(strstr(err, "writable by every user (mode 646)"));
	/* Sticky means nothing on a file. */
	assert_int_equal(chmod(path, 01666), 0);
	assert_int_equal(read_it(&opts), -EPERM);
}

static void test_refuses_a_file_in_a_folder_others_may_write(void **state)
{
	(void)state;
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(read_it(&opts), -EPERM);
	assert_non_null(strstr(err, "refusing to load from this folder: writable by every user"));
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(read_it(&opts), -EPERM);
	assert_non_null(strstr(err, "writable by its group"));
}

static void test_refuses_a_file_or_folder_of_another_user(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	assert_int_equal(chown(path, 12345, 12345), 0);
	assert_int_equal(read_it(&opts), -EPERM);
	assert_non_null(strstr(err, "refusing to load: owned by uid 12345, neither root nor the "
				    "agent's user (uid 0)"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chown(dir, 12345, 12345), 0);
	assert_int_equal(read_it(&opts), -EPERM);
	assert_non_null(strstr(err, "from this folder: owned by uid 12345"));
	assert_int_equal(tp_trusted_dir(dir, err, sizeof(err)), -EPERM);
	assert_int_equal(chown(dir, 0, 0), 0);
}

static void test_skip_trust_still_wants_a_regular_file(void **state)
{
	struct tp_trusted_opts any = {.max_bytes = 1024, .skip_trust = true};

	(void)state;
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(read_it(&any), 0);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(read_it(&any), -EINVAL);
}

static void test_folder_policy_has_no_sticky_exception(void **state)
{
	(void)state;
	assert_int_equal(tp_trusted_dir(dir, err, sizeof(err)), 0);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(tp_trusted_dir(dir, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "refusing to load: writable by every user (mode 777)"));
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(tp_trusted_dir(dir, err, sizeof(err)), 0);
	assert_int_equal(tp_trusted_dir(path, err, sizeof(err)), -ENOTDIR);
	unlink(path);
	assert_int_equal(tp_trusted_dir(path, err, sizeof(err)), -ENOENT);
}

/* A bearer token (and, through the same reader, a TLS key or CA) someone
 * else can change is refused like a rule file: the message names the file
 * and the fix. */
static void test_token_files_follow_the_policy(void **state)
{
	char tok[512], out[64] = "unchanged";

	(void)state;
	tp_fx_write_text(dir, "agent.token", "  s3cret\n", tok, sizeof(tok));
	assert_int_equal(tp_read_bearer_token(tok, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "Bearer s3cret");
	assert_int_equal(chmod(tok, 0666), 0);
	strcpy(out, "unchanged");
	assert_int_equal(tp_read_bearer_token(tok, out, sizeof(out), err, sizeof(err)), -EPERM);
	assert_string_equal(out, "unchanged");
	assert_non_null(strstr(err, "the token file "));
	assert_non_null(strstr(err, "agent.token: refusing to load: writable by every user (mode "
				    "666); run chmod go-w on it"));
	assert_int_equal(chmod(tok, 0600), 0);
	if (geteuid() != 0)
		return; /* only root can give a file away */
	assert_int_equal(chown(tok, 12345, 12345), 0);
	assert_int_equal(tp_read_bearer_token(tok, out, sizeof(out), err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "owned by uid 12345"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reads_a_trusted_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_a_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_what_is_not_a_regular_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_a_file_over_the_size_limit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_a_file_its_group_or_others_may_write,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_a_file_in_a_folder_others_may_write,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_a_file_or_folder_of_another_user, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_skip_trust_still_wants_a_regular_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_folder_policy_has_no_sticky_exception, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_token_files_follow_the_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
