/* tapio-sink takes requests from the network and reads its own output file
 * back at start: neither may crash on any bytes. The first byte picks which. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sink/sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tp_sink_state st;
	static int ready;
	char err[256];
	uint64_t seq;

	if (!ready) {
		tp_sink_state_init(&st, open("/dev/null", O_WRONLY | O_CLOEXEC), false);
		ready = 1;
	}
	if (!size)
		return 0;
	if (data[0] & 1) {
		tp_sink_handle(&st, data + 1, size - 1, &seq, err, sizeof(err));
	} else {
		struct tp_sink_state fresh;
		int fd = memfd_create("sink-out", MFD_CLOEXEC);

		if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
			abort();
		tp_sink_state_init(&fresh, fd, false);
		tp_sink_recover(&fresh, fd, err, sizeof(err));
		tp_sink_state_free(&fresh);
		close(fd);
	}
	return 0;
}
