/* libFuzzer target: any bytes as a cgroup path (container and pod names
 * are chosen by whoever starts them) and as a kubelet directory name must
 * neither crash nor read out of bounds, and what they yield must be
 * well-formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/container.h"
#include "enrich/ondisk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_cgroup_identity id;
	struct tp_pod_names pn;
	char *s = malloc(size + 1);

	/* An exact-size heap copy so ASan sees any read past the end. */
	memcpy(s, data, size);
	s[size] = '\0';
	if (tp_container_parse(s, &id)) {
		if (!id.container_id[0] && !id.pod_uid[0])
			abort();
		if (id.pod_uid[0] && !id.qos)
			abort();
		if (id.bare_id && (id.runtime || strlen(id.container_id) != 64))
			abort();
	} else if (id.container_id[0] || id.pod_uid[0] || id.runtime || id.qos) {
		abort();
	}
	if (tp_ondisk_parse_pod_dir(s, NULL, &pn) == 0 && (!pn.namespace[0] || !pn.pod[0]))
		abort();
	free(s);
	return 0;
}
