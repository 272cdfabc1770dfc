#include "bpf/families.h"

#include <bpf/libbpf.h>

#include "events.h"
#include "file.skel.h"
#include "network.skel.h"
#include "security.skel.h"
#include "container.skel.h"
#include "process.skel.h"

#define TP_FAMILY(fam, cat)                                                   \
	static void *open_##fam(struct bpf_object **obj)                      \
	{                                                                     \
		struct fam##_bpf *skel = fam##_bpf__open();                   \
		if (skel)                                                     \
			*obj = skel->obj;                                     \
		return skel;                                                  \
	}                                                                     \
	static void destroy_##fam(void *skel) { fam##_bpf__destroy(skel); }

#define TP_FAMILY_ENTRY(fam, cat) { #fam, cat, open_##fam, destroy_##fam }

TP_FAMILY(process, TP_CAT_PROCESS)
TP_FAMILY(file, TP_CAT_FILE)
TP_FAMILY(network, TP_CAT_NETWORK)
TP_FAMILY(security, TP_CAT_SECURITY)
TP_FAMILY(container, TP_CAT_CONTAINER)

const struct tp_bpf_family tp_bpf_families[] = {
	TP_FAMILY_ENTRY(process, TP_CAT_PROCESS),
	TP_FAMILY_ENTRY(file, TP_CAT_FILE),
	TP_FAMILY_ENTRY(network, TP_CAT_NETWORK),
	TP_FAMILY_ENTRY(security, TP_CAT_SECURITY),
	TP_FAMILY_ENTRY(container, TP_CAT_CONTAINER),
};
const unsigned tp_bpf_nfamilies = sizeof(tp_bpf_families) / sizeof(tp_bpf_families[0]);
