/* The credentials of threads older than the agent: a status file's lines
 * as the kernel side's record of them, and a seeding pass over a /proc
 * that has none to seed. */
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

#include "bpf/creds_seed.h"
#include "events.h"

static const char status[] = "Name:\tsshd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t812\n"
			     "Pid:\t812\nPPid:\t1\nUid:\t0\t1000\t0\t1000\nGid:\t0\t42\t0\t42\n"
			     "FDSize:\t64\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
			     "CapEff:\t0000000000002000\nCapBnd:\t000001ffffffffff\n";

static void test_status_parsed(void **state)
{
	struct tp_creds_seen c;
	char broken[sizeof(status)];

	(void)state;
	assert_true(tp_creds_parse_status(status, &c));
	assert_int_equal(c.uids[0], 0);
	assert_int_equal(c.uids[1], 1000);
	assert_int_equal(c.uids[3], 1000);
	assert_int_equal(c.gids[1], 42);
	assert_int_equal(c.caps[0], 0x2000);	       /* effective */
	assert_int_equal(c.caps[1], 0x1ffffffffffull); /* permitted */
	assert_int_equal(c.caps[2], 0);		       /* inheritable */
	assert_int_equal(c.known, 1);

	/* a line cut short, or one missing, is no record */
	memcpy(broken, status, sizeof(status));
	*strstr(broken, "\t1000\nGid") = '\0';
	assert_false(tp_creds_parse_status(broken, &c));
	memcpy(broken, status, sizeof(status));
	memcpy(strstr(broken, "CapEff"), "CapXff", 6);
	assert_false(tp_creds_parse_status(broken, &c));
}

/* A /proc without tasks seeds nothing; one that does not exist is an error. */
static void test_seed_empty_and_missing_proc(void **state)
{
	struct tp_creds_seed_stats st;
	char dir[] = "/tmp/tapio-creds-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tp_creds_seed(-1, dir, NULL, &st), 0);
	assert_int_equal(st.seeded + st.kept + st.missed, 0);
	rmdir(dir);
	assert_true(tp_creds_seed(-1, dir, NULL, &st) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_parsed),
	    cmocka_unit_test(test_seed_empty_and_missing_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
