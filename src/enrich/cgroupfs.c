#include "enrich/cgroupfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Controllers that container runtimes and the kubelet always give a
 * cgroup of its own per container, in order of preference. */
static const char *const v1_preference[] = {
	"memory", "pids", "cpu", "cpuacct", "blkio", "devices", "freezer", "cpuset",
};

void tp_cgroupfs_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int tp_cgroupfs_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, name, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* The subsystem id of a controller (its line in /proc/cgroups) and its
 * hierarchy's number if it is bound to a v1 hierarchy; -ENOENT otherwise. */
static int v1_subsys_id(const char *controller, uint32_t *hierarchy)
{
	char line[256], name[64];
	unsigned hier, ssid = 0;
	int r = -ENOENT;
	FILE *f = fopen("/proc/cgroups", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%63s %u", name, &hier) == 2 && !strcmp(name, controller)) {
			r = hier ? (int)ssid : -ENOENT;
			*hierarchy = hier;
			break;
		}
		ssid++;
	}
	fclose(f);
	return r;
}

/* Fill the v2 mount and, for each preferred v1 controller, its mount. */
static int scan_mountinfo(struct tp_cgroupfs *fs, char v1[][256], const char *const *names,
			  size_t nnames)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
		char *fields[32], *save = NULL, *root, *mnt, *fstype = NULL, *opts = NULL;
		size_t nf = 0;

		for (char *t = strtok_r(line, " \n", &save); t && nf < 32;
		     t = strtok_r(NULL, " \n", &save))
			fields[nf++] = t;
		if (nf < 10)
			continue;
		root = fields[3];
		mnt = fields[4];
		for (size_t i = 6; i + 1 < nf; i++) {
			if (strcmp(fields[i], "-"))
				continue;
			fstype = fields[i + 1];
			opts = i + 3 < nf ? fields[i + 3] : NULL;
			break;
		}
		if (!fstype || !mnt || !root || strcmp(root, "/"))
			continue;
		tp_cgroupfs_unescape(mnt);
		if (!strcmp(fstype, "cgroup2")) {
			if (!fs->mount[TP_CG_V2][0])
				snprintf(fs->mount[TP_CG_V2], sizeof(fs->mount[TP_CG_V2]), "%s", mnt);
		} else if (!strcmp(fstype, "cgroup") && opts) {
			for (size_t i = 0; i < nnames; i++)
				if (!v1[i][0] && tp_cgroupfs_list_has(opts, names[i]))
					snprintf(v1[i], 256, "%s", mnt);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

int tp_cgroupfs_open(struct tp_cgroupfs *fs, const char *want, char *err, size_t errlen)
{
	size_t n = sizeof(v1_preference) / sizeof(v1_preference[0]);
	const char *const *names = v1_preference;
	char v1[sizeof(v1_preference) / sizeof(v1_preference[0])][256];
	bool any = !want || !strcmp(want, "auto");
	int r;

	memset(fs, 0, sizeof(*fs));
	memset(v1, 0, sizeof(v1));
	if (want && !strcmp(want, "none"))
		n = 0;
	else if (!any) {
		names = &want;
		n = 1;
	}
	r = scan_mountinfo(fs, v1, names, n);
	if (r < 0) {
		snprintf(err, errlen, "cannot read /proc/self/mountinfo: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t hierarchy = 0;
		int ssid;

		if (!v1[i][0])
			continue;
		ssid = v1_subsys_id(names[i], &hierarchy);
		if (ssid < 0)
			continue;
		memcpy(fs->mount[TP_CG_V1], v1[i], sizeof(fs->mount[TP_CG_V1]));
		snprintf(fs->v1_controller, sizeof(fs->v1_controller), "%s", names[i]);
		fs->v1_subsys = (uint32_t)ssid + 1;
		fs->v1_hierarchy_id = hierarchy;
		return 0;
	}
	if (!any && n) {
		snprintf(err, errlen, "cgroup controller %s is not mounted on a cgroup v1 hierarchy",
			 want);
		return -ENOENT;
	}
	return 0;
}

int tp_cgroupfs_id(const struct tp_cgroupfs *fs, enum tp_cg_hier h, const char *path,
		   uint64_t *id)
{
	char full[TP_CG_PATH_MAX + 256];
	struct stat st;

	if (!fs->mount[h][0])
		return -ENOENT;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", fs->mount[h], path) >= sizeof(full))
		return -ENAMETOOLONG;
	if (stat(full, &st) < 0)
		return -errno;
	*id = (uint64_t)st.st_ino;
	return 0;
}

int tp_cgroupfs_path_by_pid(const struct tp_cgroupfs *fs, enum tp_cg_hier h, uint64_t id,
			    uint32_t pid, char *path, size_t len)
{
	char file[64], line[TP_CG_PATH_MAX + 128];
	int r = -ENOENT;
	uint64_t found;
	FILE *f;

	if (!fs->mount[h][0])
		return -ENOENT;
	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	f = fopen(file, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *p;

		if (!ctrl || !(p = strchr(++ctrl, ':')))
			continue;
		*p++ = '\0';
		p[strcspn(p, "\n")] = '\0';
		if (h == TP_CG_V2 ? (line[0] != '0' || *ctrl)
				  : !tp_cgroupfs_list_has(ctrl, fs->v1_controller))
			continue;
		if (strlen(p) >= len) {
			r = -ENAMETOOLONG;
			break;
		}
		r = tp_cgroupfs_id(fs, h, p, &found);
		if (r == 0 && found != id)
			r = -ESTALE;
		if (r == 0)
			snprintf(path, len, "%s", p);
		else if (r != -ENAMETOOLONG)
			r = -ESTALE;
		break;
	}
	fclose(f);
	return r;
}

struct walk {
	unsigned left;
	char path[TP_CG_PATH_MAX]; /* the directory being read, relative to the mount */
	tp_cgroup_visit_fn visit;
	void *ctx;
};

/* Depth first; dfd is the directory of w->path (plen bytes), consumed. */
static int walk_dir(struct walk *w, int dfd, size_t plen)
{
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (w->left == 0) {
		close(dfd);
		return -E2BIG;
	}
	w->left--;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	while (r == 0 && (de = readdir(d))) {
		size_t n;
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		n = strlen(de->d_name);
		if (plen + 1 + n + 1 > sizeof(w->path))
			continue; /* deeper than any runtime nests */
		w->path[plen] = '/';
		memcpy(w->path + plen + 1, de->d_name, n + 1);
		/* kernfs reports the node id as d_ino: no stat needed. */
		r = w->visit(w->ctx, (uint64_t)de->d_ino, w->path);
		if (r)
			break;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			r = walk_dir(w, sub, plen + 1 + n);
		w->path[plen] = '\0';
	}
	closedir(d);
	return r;
}

int tp_cgroupfs_walk(const struct tp_cgroupfs *fs, enum tp_cg_hier h, unsigned max_dirs,
		     tp_cgroup_visit_fn visit, void *ctx)
{
	struct walk w = { .left = max_dirs, .visit = visit, .ctx = ctx };
	uint64_t root_id;
	int dfd, r;

	if (!fs->mount[h][0])
		return -ENOENT;
	if (tp_cgroupfs_id(fs, h, "", &root_id) == 0 && (r = visit(ctx, root_id, "/")))
		return r;
	dfd = open(fs->mount[h], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return walk_dir(&w, dfd, 0);
}
