/* CRC-32C: the standard check value, the hardware and table versions agree
 * at every length and alignment (one stream, three streams and the rounds of
 * three after the first), and a CRC continues across pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/crc32c.h"

static void test_check_values(void **state)
{
	static const uint8_t zeros[32];

	(void)state;
	assert_int_equal(tp_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(tp_crc32c_sw(0, "123456789", 9), 0xe3069283);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	assert_int_equal(tp_crc32c(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(tp_crc32c(0, "", 0), 0);
	assert_int_equal(tp_crc32c(0x1234, NULL, 0), 0x1234);
}

static void test_hw_matches_table(void **state)
{
	uint8_t buf[1700]; /* past three streams of their longest block (3 x 256) */

	(void)state;
	srand(11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= sizeof(buf); len += len < 300 ? 1 : 7) {
			uint32_t a = tp_crc32c(0, buf + off, len);

			assert_int_equal(a, tp_crc32c_sw(0, buf + off, len));
			/* In two pieces: the same CRC. */
			size_t cut = len / 3;

			assert_int_equal(
			    tp_crc32c(tp_crc32c(0, buf + off, cut), buf + off + cut, len - cut), a);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_values),
	    cmocka_unit_test(test_hw_matches_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
