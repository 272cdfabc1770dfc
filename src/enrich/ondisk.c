#include "enrich/ondisk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A source set to NULL, "" or "off" is not read. */
static bool enabled(const char *dir)
{
	return dir && dir[0] && strcmp(dir, "off");
}

/* A Kubernetes name: non-empty, fits, and made of DNS characters. */
static bool k8s_name(const char *s, size_t n)
{
	if (n == 0 || n >= TP_K8S_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static void copy(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int tp_ondisk_parse_pod_dir(const char *name, const char *uid, struct tp_pod_names *out)
{
	const char *a = strchr(name, '_'), *b = a ? strchr(a + 1, '_') : NULL;

	if (!a || !b || strchr(b + 1, '_'))
		return -EINVAL;
	if (uid && strcmp(b + 1, uid))
		return -EINVAL;
	if (!k8s_name(name, (size_t)(a - name)) || !k8s_name(a + 1, (size_t)(b - a - 1)) ||
	    !b[1])
		return -EINVAL;
	copy(out->namespace, name, (size_t)(a - name));
	copy(out->pod, a + 1, (size_t)(b - a - 1));
	return 0;
}

static bool has_suffix(const char *s, const char *suffix, size_t *prefix_len)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n < m || strcmp(s + n - m, suffix))
		return false;
	*prefix_len = n - m;
	return true;
}

int tp_ondisk_pod(const struct tp_ondisk *d, const char *uid, struct tp_pod_names *out)
{
	char suffix[64];
	struct dirent *de;
	int r = -ENOENT;
	DIR *dir;

	if (!enabled(d->pod_logs_dir) || !uid[0] || strlen(uid) > 40)
		return -ENOENT;
	snprintf(suffix, sizeof(suffix), "_%s", uid);
	dir = opendir(d->pod_logs_dir);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		size_t n;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix, &n))
			continue;
		if (tp_ondisk_parse_pod_dir(de->d_name, uid, out) == 0) {
			r = 0;
			break;
		}
	}
	closedir(dir);
	return r;
}

/* The link's target: .../<ns>_<pod>_<uid>/<container>/<N>.log */
static int name_from_target(const char *target, const char *uid, char *name, size_t len)
{
	const char *end = strrchr(target, '/'), *start, *pod;
	struct tp_pod_names pn;
	char dir[TP_K8S_NAME_MAX * 2 + 64];

	if (!end || end == target)
		return -EINVAL;
	for (start = end - 1; start > target && *start != '/'; start--)
		;
	if (*start != '/' || start == target)
		return -EINVAL;
	for (pod = start - 1; pod > target && *pod != '/'; pod--)
		;
	if (*pod == '/')
		pod++;
	if ((size_t)(start - pod) >= sizeof(dir))
		return -EINVAL;
	copy(dir, pod, (size_t)(start - pod));
	if (tp_ondisk_parse_pod_dir(dir, uid, &pn) < 0)
		return -EINVAL;
	if (!k8s_name(start + 1, (size_t)(end - start - 1)) || (size_t)(end - start - 1) >= len)
		return -EINVAL;
	copy(name, start + 1, (size_t)(end - start - 1));
	return 0;
}

/* The link's own name: <pod>_<ns>_<container>-<id>.log, prefix_len bytes
 * before "-<id>.log". */
static int name_from_link(const char *link, size_t prefix_len, char *name, size_t len)
{
	const char *a = memchr(link, '_', prefix_len), *b, *c;

	if (!a)
		return -EINVAL;
	b = memchr(a + 1, '_', prefix_len - (size_t)(a + 1 - link));
	if (!b)
		return -EINVAL;
	c = b + 1;
	if (memchr(c, '_', prefix_len - (size_t)(c - link)))
		return -EINVAL;
	if (!k8s_name(c, prefix_len - (size_t)(c - link)) || prefix_len - (size_t)(c - link) >= len)
		return -EINVAL;
	copy(name, c, prefix_len - (size_t)(c - link));
	return 0;
}

int tp_ondisk_container_name(const struct tp_ondisk *d, const char *id, const char *uid,
			     char *name, size_t len)
{
	char suffix[160], target[4096];
	struct dirent *de;
	int r = -ENOENT;
	DIR *dir;

	if (!enabled(d->container_logs_dir) || strlen(id) > 128)
		return -ENOENT;
	snprintf(suffix, sizeof(suffix), "-%s.log", id);
	dir = opendir(d->container_logs_dir);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		ssize_t n;
		size_t prefix_len;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix, &prefix_len))
			continue;
		n = readlinkat(dirfd(dir), de->d_name, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			r = name_from_target(target, uid, name, len);
		} else {
			/* Not a link (copied logs): the name alone still says it. */
			r = name_from_link(de->d_name, prefix_len, name, len);
		}
		if (r == 0)
			break;
		r = -ENOENT;
	}
	closedir(dir);
	return r;
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *tp_ondisk_runtime(const struct tp_ondisk *d, const char *id)
{
	char path[4096];
	const char *found = NULL;
	struct dirent *de;
	DIR *dir;

	if (strlen(id) > 128)
		return NULL;
	if (enabled(d->docker_data_dir)) {
		snprintf(path, sizeof(path), "%s/containers/%s", d->docker_data_dir, id);
		if (dir_exists(path))
			return "docker";
	}
	if (!enabled(d->containerd_state_dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/io.containerd.runtime.v2.task", d->containerd_state_dir);
	dir = opendir(path);
	if (!dir)
		return NULL;
	/* One directory per containerd namespace: k8s.io, moby (docker), default... */
	while (!found && (de = readdir(dir))) {
		char task[4096];

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(task, sizeof(task), "%s/%s/%s", path, de->d_name, id) >=
		    sizeof(task))
			continue;
		if (dir_exists(task))
			found = strcmp(de->d_name, "moby") ? "containerd" : "docker";
	}
	closedir(dir);
	return found;
}
