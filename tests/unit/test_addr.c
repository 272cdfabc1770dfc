/* HOST:PORT parsing: the forms users write, and what must be refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/addr.h"

static void test_good(void **state)
{
	char host[64];
	uint16_t port;

	assert_int_equal(tp_parse_hostport("127.0.0.1:9464", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9464);
	assert_int_equal(tp_parse_hostport(":0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 0);
	assert_int_equal(tp_parse_hostport("[::1]:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 65535);
	assert_int_equal(tp_parse_hostport("tapio-server.tapio-system:9090", host, sizeof(host), &port), 0);
	assert_string_equal(host, "tapio-server.tapio-system");
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"", "host", "host:", ":", "host:65536", "host:-1", "host:12a", "::1:80",
		"[::1]80", "[::1:80", "a b:80", "host:123456", "host:80\n", "]:80",
	};
	char host[16];
	uint16_t port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tp_parse_hostport(bad[i], host, sizeof(host), &port) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(tp_parse_hostport("a-very-long-host-name:80", host, sizeof(host), &port),
			 -EINVAL);
	assert_int_equal(tp_parse_hostport(NULL, host, sizeof(host), &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
