/*
 * cgroupfs.h - where the cgroup hierarchies are mounted, which v1 hierarchy
 * the BPF side tracks, and the path of a cgroup given its id.
 *
 * Every record carries two kernfs ids: cgroup_id in the unified (v2)
 * hierarchy and cgroup_v1_id in one tracked v1 hierarchy (hybrid and
 * v1-only machines, where containers often show only there). An id is the
 * inode number of the cgroup's directory under its hierarchy's mount and is
 * never reused during a boot. Turning an id into a path costs a /proc read
 * or a directory walk: callers cache what these functions return.
 */
#ifndef TAPIO_ENRICH_CGROUPFS_H
#define TAPIO_ENRICH_CGROUPFS_H

#include <stddef.h>
#include <stdint.h>

enum tp_cg_hier {
	TP_CG_V2 = 0, /* the unified hierarchy: tp_hdr.cgroup_id */
	TP_CG_V1 = 1, /* the tracked v1 hierarchy: tp_hdr.cgroup_v1_id */
	TP_CG_NHIER,
};

#define TP_CG_PATH_MAX 512

struct tp_cgroupfs {
	char mount[TP_CG_NHIER][256]; /* "" when that hierarchy is not mounted */
	char v1_controller[32];       /* the tracked v1 controller, "" when none */
	uint32_t v1_subsys;           /* 1 + its cgroup subsystem id; 0: none */
	uint32_t v1_hierarchy_id;     /* its hierarchy's number (/proc/cgroups); 0: none */
};

/*
 * Find the mounts and choose the tracked v1 controller. want: a controller
 * name ("memory"), NULL or "auto" for the first mounted on a v1 hierarchy
 * among memory, pids, cpu, cpuacct, blkio, devices, freezer, cpuset; "none"
 * tracks no v1 hierarchy. Asking for a controller that is not on a v1
 * hierarchy is an error (-ENOENT, err says why); auto finding none is not.
 */
int tp_cgroupfs_open(struct tp_cgroupfs *fs, const char *want, char *err, size_t errlen);

/*
 * The path of cgroup id in hierarchy h (relative to the hierarchy's root,
 * "/" for the root itself), read from /proc/<pid>/cgroup and accepted only
 * if that directory's inode is id: a process that moved or a reused pid
 * gives -ESTALE, a gone one -ENOENT.
 */
int tp_cgroupfs_path_by_pid(const struct tp_cgroupfs *fs, enum tp_cg_hier h, uint64_t id,
			    uint32_t pid, char *path, size_t len);

/*
 * Visit every cgroup of hierarchy h, the root first, reading at most
 * max_dirs directories: visit(ctx, id, path) with path relative to the
 * hierarchy's root. A non-zero return from visit stops the walk and is
 * returned; otherwise 0, or -E2BIG when max_dirs stopped it first.
 */
typedef int (*tp_cgroup_visit_fn)(void *ctx, uint64_t id, const char *path);
int tp_cgroupfs_walk(const struct tp_cgroupfs *fs, enum tp_cg_hier h, unsigned max_dirs,
		     tp_cgroup_visit_fn visit, void *ctx);

/* The id of the cgroup at path in hierarchy h (stat of its directory). */
int tp_cgroupfs_id(const struct tp_cgroupfs *fs, enum tp_cg_hier h, const char *path,
		   uint64_t *id);

/* Parsing helpers, exposed for tests. */

/* Decode a mountinfo field in place (\040 and friends). */
void tp_cgroupfs_unescape(char *s);
/* Whether a comma-separated list contains name as a whole item. */
int tp_cgroupfs_list_has(const char *list, const char *name);

#endif
