#include "bpf/families.h"

#include <bpf/libbpf.h>

#include <linux/perf_event.h>
#include <stddef.h>
#include <string.h>

#include "bpf/loader.h"
#include "bpf/perf_attach.h"
#include "events.h"
#include "file.skel.h"
#include "file_nk.skel.h"
#include "network.skel.h"
#include "network_nk.skel.h"
#include "security.skel.h"
#include "security_nk.skel.h"
#include "iouring.skel.h"
#include "iouring_nk.skel.h"
#include "container.skel.h"
#include "container_nk.skel.h"
#include "memory.skel.h"
#include "memory_nk.skel.h"
#include "process.skel.h"
#include "process_nk.skel.h"

#define TP_FAMILY(fam, cat)                                                   \
	static void *open_##fam(struct bpf_object **obj, bool typed)          \
	{                                                                     \
		if (typed) {                                                  \
			struct fam##_bpf *skel = fam##_bpf__open();           \
			if (skel)                                             \
				*obj = skel->obj;                             \
			return skel;                                          \
		} else {                                                      \
			struct fam##_nk_bpf *skel = fam##_nk_bpf__open();     \
			if (skel)                                             \
				*obj = skel->obj;                             \
			return skel;                                          \
		}                                                             \
	}                                                                     \
	static void destroy_##fam(void *skel, bool typed)                     \
	{                                                                     \
		if (typed)                                                    \
			fam##_bpf__destroy(skel);                             \
		else                                                          \
			fam##_nk_bpf__destroy(skel);                          \
	}

#define TP_FAMILY_ENTRY(fam, cat) { #fam, cat, open_##fam, destroy_##fam, false }
#define TP_FAMILY_ENTRY_SHARDED(fam, cat) { #fam, cat, open_##fam, destroy_##fam, true }

TP_FAMILY(process, TP_CAT_PROCESS)
TP_FAMILY(file, TP_CAT_FILE)
TP_FAMILY(network, TP_CAT_NETWORK)
TP_FAMILY(security, TP_CAT_SECURITY)
TP_FAMILY(iouring, TP_CAT_SECURITY)
TP_FAMILY(container, TP_CAT_CONTAINER)
TP_FAMILY(memory, TP_CAT_MEMORY)

const struct tp_bpf_family tp_bpf_families[] = {
	TP_FAMILY_ENTRY(process, TP_CAT_PROCESS),
	/* ~36 programs of ~20,000 instructions verified each: most of the start */
	TP_FAMILY_ENTRY_SHARDED(file, TP_CAT_FILE),
	TP_FAMILY_ENTRY(network, TP_CAT_NETWORK),
	TP_FAMILY_ENTRY(security, TP_CAT_SECURITY),
	/* io_uring: rings and the operations submitted through them */
	TP_FAMILY_ENTRY(iouring, TP_CAT_SECURITY),
	TP_FAMILY_ENTRY(container, TP_CAT_CONTAINER),
	TP_FAMILY_ENTRY(memory, TP_CAT_MEMORY),
};
const unsigned tp_bpf_nfamilies = sizeof(tp_bpf_families) / sizeof(tp_bpf_families[0]);

/* Programs on perf events, and the option holding each one's period. */
static const struct tp_bpf_perf_spec perf_specs[] = {
	{ "tp_page_fault", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS,
	  offsetof(struct tp_bpf_opts, page_fault_period) },
};

const struct tp_bpf_perf_spec *tp_bpf_perf_spec(const char *prog)
{
	for (size_t i = 0; i < sizeof(perf_specs) / sizeof(perf_specs[0]); i++)
		if (!strcmp(perf_specs[i].prog, prog))
			return &perf_specs[i];
	return NULL;
}
