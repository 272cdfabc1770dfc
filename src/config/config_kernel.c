#include "config/config_kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/event.h"
#include "events/types.h"

static int bad(char *err, size_t errlen, const char *key, const char *value, const char *want)
{
	snprintf(err, errlen, "invalid value '%s' for kernel setting %s: expected %s", value, key,
		 want);
	return -EINVAL;
}

static int parse_count(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

/* A comma-separated list of categories ("all", "none") into a bit mask. */
static int parse_categories(const char *v, uint32_t *mask)
{
	const char *p = v;

	*mask = 0;
	if (!strcmp(v, "all")) {
		*mask = ((1u << TP_CAT_KERNEL_MAX) - 1) & ~1u;
		return 0;
	}
	if (!strcmp(v, "none"))
		return 0;
	while (*p) {
		char name[32];
		size_t n = strcspn(p, ",");
		int cat;

		if (n == 0 || n >= sizeof(name))
			return -EINVAL;
		memcpy(name, p, n);
		name[n] = '\0';
		cat = tp_category_by_name(name);
		if (cat <= 0 || cat >= TP_CAT_KERNEL_MAX) /* agent events come from user space */
			return -EINVAL;
		*mask |= 1u << cat;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int parse_bpf_commands(const char *v, uint64_t *mask)
{
	const char *p = v;

	if (!strcmp(v, "all")) {
		*mask = ~0ull;
		return 0;
	}
	if (!strcmp(v, "control")) {
		*mask = TP_BPF_CMDS_CONTROL;
		return 0;
	}
	*mask = 0;
	while (*p) {
		char name[40];
		size_t n = strcspn(p, ",");
		const struct tp_sym *s;

		if (n == 0 || n + 4 >= sizeof(name))
			return -EINVAL;
		memcpy(name, "BPF_", 4);
		for (size_t i = 0; i < n; i++)
			name[4 + i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
		name[4 + n] = '\0';
		for (s = tp_bpf_cmd_syms; s->name; s++)
			if (!strcmp(s->name, name))
				break;
		if (!s->name || s->value >= 64)
			return -EINVAL;
		*mask |= 1ull << s->value;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int tp_config_set_kernel(struct tp_config *cfg, const char *key, const char *value, char *err,
			 size_t errlen)
{
	uint64_t n;

	if (!strcmp(key, "categories")) {
		if (parse_categories(value, &cfg->categories) < 0 || !cfg->categories)
			return bad(err, errlen, key, value,
				   "all, or a list of process, file, network, security, container, "
				   "memory");
		return 0;
	}
	if (!strcmp(key, "drop_failed")) {
		if (parse_categories(value, &cfg->drop_failed) < 0)
			return bad(err, errlen, key, value, "all, none, or a list of categories");
		return 0;
	}
	if (!strcmp(key, "exclude_comm") || !strcmp(key, "exclude_path")) {
		bool comm = key[8] == 'c';
		unsigned *count = comm ? &cfg->nexclude_comms : &cfg->nexclude_paths;
		const char **list = comm ? cfg->exclude_comms : cfg->exclude_paths;

		if (comm && (!value[0] || strlen(value) >= TP_COMM_LEN))
			return bad(err, errlen, key, value, "a task name of 1 to 15 characters");
		if (!comm && (value[0] != '/' || strlen(value) >= TP_PATH_PREFIX_MAX))
			return bad(err, errlen, key, value,
				   "an absolute path prefix of at most 127 bytes");
		if (*count == TP_EXCLUDE_MAX) {
			snprintf(err, errlen, "too many %s entries (at most %d)", key,
				 TP_EXCLUDE_MAX);
			return -EINVAL;
		}
		list[(*count)++] = value;
		return 0;
	}
	if (!strncmp(key, "sample.", 7)) {
		int cat = tp_category_by_name(key + 7);

		if (cat <= 0) {
			snprintf(
			    err, errlen,
			    "unknown kernel setting %s: the category after 'sample.' must be one "
			    "of process, file, network, security, container, memory",
			    key);
			return -EINVAL;
		}
		if (parse_count(value, UINT32_MAX, &n) < 0)
			return bad(err, errlen, key, value,
				   "a rate N (keep 1 in N; 0 or 1 keeps all)");
		cfg->kernel_sample[cat] = (uint32_t)n;
		return 0;
	}
	if (!strcmp(key, "bpf_commands")) {
		if (parse_bpf_commands(value, &cfg->bpf_cmd_mask) < 0)
			return bad(
			    err, errlen, key, value,
			    "control, all, or a list of commands such as prog_load,map_create");
		return 0;
	}
	if (!strcmp(key, "page_fault_sample")) {
		if (parse_count(value, 1ull << 40, &n) < 0)
			return bad(err, errlen, key, value,
				   "a period N (1 in N faults; 0 disables)");
		cfg->page_fault_period = n;
		return 0;
	}
	snprintf(err, errlen,
		 "unknown kernel setting '%s' (known: categories, exclude_comm, exclude_path, "
		 "drop_failed, sample.CATEGORY, bpf_commands, page_fault_sample)",
		 key);
	return -EINVAL;
}

int tp_config_kernel_arg(struct tp_config *cfg, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char key[64];

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		snprintf(err, errlen, "kernel setting '%s' must have the form KEY=VALUE", kv);
		return -EINVAL;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	return tp_config_set_kernel(cfg, key, eq + 1, err, errlen);
}

void tp_config_kfilter(const struct tp_config *cfg, struct tp_kfilter *kf)
{
	memset(kf, 0, sizeof(*kf));
	memcpy(kf->sample_rate, cfg->kernel_sample, sizeof(kf->sample_rate));
	kf->drop_failed = cfg->drop_failed;
	kf->bpf_cmd_mask = cfg->bpf_cmd_mask;
	kf->exclude_comms = cfg->exclude_comms;
	kf->nexclude_comms = cfg->nexclude_comms;
	kf->exclude_paths = cfg->exclude_paths;
	kf->nexclude_paths = cfg->nexclude_paths;
}
