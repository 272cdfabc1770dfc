#include "bpf/kfilter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/percpu.h"

_Static_assert(sizeof(struct tp_settings) == 56, "tp_settings layout is shared with BPF");
_Static_assert(sizeof(struct tp_path_key) == 4 + TP_PATH_PREFIX_MAX,
	       "tp_path_key layout is shared with BPF");
_Static_assert(sizeof(struct tp_env_prefix) == 8192, "tp_env_prefix layout is shared with BPF");

static const char *const kstat_names[TP_KSTAT_N] = {
    [TP_KSTAT_EMITTED] = "emitted", [TP_KSTAT_COMM] = "comm",	    [TP_KSTAT_PATH] = "path",
    [TP_KSTAT_FAILED] = "failed",   [TP_KSTAT_SAMPLED] = "sampled", [TP_KSTAT_SETTING] = "setting",
};

const char *tp_kstat_name(unsigned reason)
{
	return reason < TP_KSTAT_N ? kstat_names[reason] : "unknown";
}

int tp_kfilter_env_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= TP_ENV_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

int tp_kfilter_validate(const struct tp_kfilter *kf, char *err, size_t errlen)
{
	if (kf->nenv_names > TP_ENV_NAMES_MAX) {
		snprintf(err, errlen, "too many environment variable names (at most %d)",
			 TP_ENV_NAMES_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < kf->nenv_names; i++) {
		if (!tp_kfilter_env_name_ok(kf->env_names[i])) {
			snprintf(err, errlen,
				 "environment variable name '%s' must have 1 to %d letters, digits "
				 "or '_'",
				 kf->env_names[i], TP_ENV_NAME_MAX - 1);
			return -EINVAL;
		}
	}
	if (kf->nexclude_comms > TP_EXCLUDE_MAX || kf->nexclude_paths > TP_EXCLUDE_MAX) {
		snprintf(err, errlen,
			 "too many exclude entries (at most %d task names and %d paths)",
			 TP_EXCLUDE_MAX, TP_EXCLUDE_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < kf->nexclude_comms; i++) {
		size_t n = strlen(kf->exclude_comms[i]);

		if (n == 0 || n >= TP_COMM_LEN) {
			snprintf(err, errlen,
				 "excluded task name '%s' must have 1 to %d characters (the kernel "
				 "keeps "
				 "the first %d of a name)",
				 kf->exclude_comms[i], TP_COMM_LEN - 1, TP_COMM_LEN - 1);
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < kf->nexclude_paths; i++) {
		const char *p = kf->exclude_paths[i];
		size_t n = strlen(p);

		if (p[0] != '/' || n >= TP_PATH_PREFIX_MAX) {
			snprintf(
			    err, errlen,
			    "excluded path prefix '%s' must be absolute and at most %d bytes long",
			    p, TP_PATH_PREFIX_MAX - 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int create_map(int *fd, enum bpf_map_type type, const char *name, uint32_t key,
		      uint32_t value, uint32_t entries, uint32_t flags, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);

	*fd = bpf_map_create(type, name, key, value, entries, &o);
	if (*fd < 0) {
		int r = -errno;

		snprintf(err, errlen, "cannot create the BPF map %s: %s", name, strerror(-r));
		return r;
	}
	return 0;
}

int tp_kfilter_maps_create(struct tp_kfilter_maps *m, char *err, size_t errlen)
{
	int r;

	m->kstats_fd = m->settings_fd = m->sample_fd = m->comm_fd = m->path_fd = -1;
	m->env_names_fd = m->env_prefix_fd = -1;
	if ((r = create_map(&m->kstats_fd, BPF_MAP_TYPE_PERCPU_ARRAY, "tp_kstats", 4, 8,
			    TP_KSTAT_SLOTS, 0, err, errlen)) < 0 ||
	    (r = create_map(&m->settings_fd, BPF_MAP_TYPE_ARRAY, "tp_settings", 4,
			    sizeof(struct tp_settings), 1, 0, err, errlen)) < 0 ||
	    (r = create_map(&m->sample_fd, BPF_MAP_TYPE_PERCPU_ARRAY, "tp_sample_ctr", 4, 8,
			    TP_CAT_MAX, 0, err, errlen)) < 0 ||
	    (r = create_map(&m->comm_fd, BPF_MAP_TYPE_HASH, "tp_exclude_comm", TP_COMM_LEN, 1,
			    TP_EXCLUDE_MAX, 0, err, errlen)) < 0 ||
	    (r = create_map(&m->path_fd, BPF_MAP_TYPE_LPM_TRIE, "tp_exclude_path",
			    sizeof(struct tp_path_key), 1, TP_EXCLUDE_MAX, BPF_F_NO_PREALLOC, err,
			    errlen)) < 0 ||
	    (r = create_map(&m->env_names_fd, BPF_MAP_TYPE_HASH, "tp_env_names",
			    sizeof(struct tp_env_key), 1, TP_ENV_NAMES_MAX, 0, err, errlen)) < 0 ||
	    (r = create_map(&m->env_prefix_fd, BPF_MAP_TYPE_ARRAY, "tp_env_prefix", 4,
			    sizeof(struct tp_env_prefix), 1, 0, err, errlen)) < 0) {
		tp_kfilter_maps_close(m);
		return r;
	}
	return 0;
}

void tp_kfilter_maps_close(struct tp_kfilter_maps *m)
{
	int *fds[] = {&m->kstats_fd, &m->settings_fd,	 &m->sample_fd,	  &m->comm_fd,
		      &m->path_fd,   &m->env_names_fd, &m->env_prefix_fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int tp_kfilter_reuse(const struct tp_kfilter_maps *m, struct bpf_object *obj)
{
	const struct {
		const char *name;
		int fd;
	} shared[] = {
	    {"tp_kstats", m->kstats_fd},     {"tp_settings", m->settings_fd},
	    {"tp_sample_ctr", m->sample_fd}, {"tp_exclude_comm", m->comm_fd},
	    {"tp_exclude_path", m->path_fd}, {"tp_env_names", m->env_names_fd},
	    {"tp_env_prefix", m->env_prefix_fd},
	};

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, shared[i].name);
		int r;

		if (map && (r = bpf_map__reuse_fd(map, shared[i].fd)) < 0)
			return r;
	}
	return 0;
}

/* Delete every key of a hash or LPM map. */
static int clear_map(int fd, size_t key_size)
{
	char key[256], next[256];
	void *prev = NULL;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key) < 0 && errno != ENOENT)
			return -errno;
		prev = NULL; /* start over: the map changed under the iteration */
	}
	return 0;
}

static int write_settings(const struct tp_kfilter_maps *m, const struct tp_kfilter *kf,
			  uint32_t flags)
{
	struct tp_settings s;
	uint32_t zero = 0;

	memset(&s, 0, sizeof(s));
	s.bpf_cmd_mask = kf->bpf_cmd_mask;
	s.io_uring_op_mask = kf->io_uring_op_mask;
	memcpy(s.sample_rate, kf->sample_rate, sizeof(s.sample_rate));
	s.drop_failed = kf->drop_failed;
	s.flags = flags;
	return bpf_map_update_elem(m->settings_fd, &zero, &s, BPF_ANY) < 0 ? -errno : 0;
}

int tp_kfilter_apply(const struct tp_kfilter_maps *m, const struct tp_kfilter *kf, char *err,
		     size_t errlen)
{
	uint32_t flags = 0;
	uint8_t one = 1;
	int r;

	if ((r = tp_kfilter_validate(kf, err, errlen)) < 0)
		return r;
	if ((r = write_settings(m, kf, 0)) < 0 || (r = clear_map(m->comm_fd, TP_COMM_LEN)) < 0 ||
	    (r = clear_map(m->path_fd, sizeof(struct tp_path_key))) < 0 ||
	    (r = clear_map(m->env_names_fd, sizeof(struct tp_env_key))) < 0)
		goto fail;
	if (kf->nenv_names) {
		struct tp_env_prefix prefix;
		uint32_t zero = 0;

		memset(&prefix, 0, sizeof(prefix));
		for (unsigned i = 0; i < kf->nenv_names; i++) {
			struct tp_env_key key;
			const unsigned char *n = (const unsigned char *)kf->env_names[i];
			/* A one-letter name is followed by its '='. */
			unsigned idx = (n[0] << 8) | (n[1] ? n[1] : '=');

			memset(&key, 0, sizeof(key));
			memcpy(key.name, n, strlen((const char *)n));
			if (bpf_map_update_elem(m->env_names_fd, &key, &one, BPF_ANY) < 0) {
				r = -errno;
				goto fail;
			}
			prefix.bits[idx >> 6] |= 1ull << (idx & 63);
		}
		if (bpf_map_update_elem(m->env_prefix_fd, &zero, &prefix, BPF_ANY) < 0) {
			r = -errno;
			goto fail;
		}
		flags |= TP_SET_EXEC_ENV;
	}
	for (unsigned i = 0; i < kf->nexclude_comms; i++) {
		char key[TP_COMM_LEN] = {0};

		memcpy(key, kf->exclude_comms[i], strlen(kf->exclude_comms[i]));
		if (bpf_map_update_elem(m->comm_fd, key, &one, BPF_ANY) < 0) {
			r = -errno;
			goto fail;
		}
		flags |= TP_SET_EXCLUDE_COMM;
	}
	for (unsigned i = 0; i < kf->nexclude_paths; i++) {
		struct tp_path_key key;
		size_t n = strlen(kf->exclude_paths[i]);

		memset(&key, 0, sizeof(key));
		key.prefixlen = (uint32_t)n * 8;
		memcpy(key.path, kf->exclude_paths[i], n);
		if (bpf_map_update_elem(m->path_fd, &key, &one, BPF_ANY) < 0) {
			r = -errno;
			goto fail;
		}
		flags |= TP_SET_EXCLUDE_PATH;
	}
	if ((r = write_settings(m, kf, flags)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot write the in-kernel filter settings: %s", strerror(-r));
	return r;
}

int tp_kfilter_pause(const struct tp_kfilter_maps *m)
{
	struct tp_settings s;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(m->settings_fd, &zero, &s) < 0)
		return -errno;
	s.flags |= TP_SET_PAUSED;
	return bpf_map_update_elem(m->settings_fd, &zero, &s, BPF_ANY) < 0 ? -errno : 0;
}

int tp_kfilter_read_stats(const struct tp_kfilter_maps *m, uint64_t *out)
{
	return tp_percpu_sum(m->kstats_fd, TP_KSTAT_SLOTS, out);
}
