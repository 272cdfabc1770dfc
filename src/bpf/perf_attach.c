#include "bpf/perf_attach.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

int tp_perf_attach(struct bpf_program *prog, const struct tp_bpf_perf_spec *spec, uint64_t period,
		   int (*add)(void *ctx, struct bpf_link *link), void *ctx, char *reason,
		   size_t len)
{
	int ncpu = libbpf_num_possible_cpus(), attached = 0, last_err = 0;

	if (ncpu <= 0) {
		snprintf(reason, len, "cannot count the CPUs: %s", strerror(-ncpu));
		return ncpu ? ncpu : -ENODEV;
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr attr;
		struct bpf_link *link;
		int fd, r;

		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = spec->type;
		attr.config = spec->config;
		attr.sample_period = period;
		attr.sample_type = PERF_SAMPLE_ADDR;
		attr.exclude_kernel = 1; /* events of user mode only */
		attr.exclude_hv = 1;
		fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* an offline CPU */
			last_err = -errno;
			continue;
		}
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			last_err = -errno;
			close(fd);
			continue;
		}
		/* The link owns the perf event's descriptor from here on. */
		if ((r = add(ctx, link)) < 0) {
			bpf_link__destroy(link);
			last_err = r;
			continue;
		}
		attached++;
	}
	if (attached)
		return attached;
	if (!last_err)
		last_err = -ENODEV;
	snprintf(reason, len, "cannot attach to the perf event on any CPU: %s",
		 strerror(-last_err));
	return last_err;
}
