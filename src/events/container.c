/* Descriptors of the container family: setns, unshare, mount, umount, cgroup. */
#include "events/types.h"

_Static_assert(sizeof(struct tp_setns_event) == 96, "layout shared with BPF");
_Static_assert(sizeof(struct tp_unshare_event) == 88, "layout shared with BPF");
_Static_assert(offsetof(struct tp_unshare_event, syscall) == 80, "unshare records before syscall end at 80");
_Static_assert(sizeof(struct tp_mount_event) == 672, "layout shared with BPF");
_Static_assert(offsetof(struct tp_mount_event, move_flags) == 664, "mount records before move_mount end at 664");
_Static_assert(sizeof(struct tp_umount_event) == 344, "layout shared with BPF");
_Static_assert(sizeof(struct tp_cgroup_event) == 376, "layout shared with BPF");

/* CLONE_* flags (linux/sched.h numbers, stable ABI). */
static const struct tp_sym clone_syms[] = {
	{ 0x00000080, "CLONE_NEWTIME" },  { 0x00000100, "CLONE_VM" },
	{ 0x00000200, "CLONE_FS" },       { 0x00000400, "CLONE_FILES" },
	{ 0x00000800, "CLONE_SIGHAND" },  { 0x00002000, "CLONE_PTRACE" },
	{ 0x00004000, "CLONE_VFORK" },    { 0x00008000, "CLONE_PARENT" },
	{ 0x00010000, "CLONE_THREAD" },   { 0x00020000, "CLONE_NEWNS" },
	{ 0x00040000, "CLONE_SYSVSEM" },  { 0x02000000, "CLONE_NEWCGROUP" },
	{ 0x04000000, "CLONE_NEWUTS" },   { 0x08000000, "CLONE_NEWIPC" },
	{ 0x10000000, "CLONE_NEWUSER" },  { 0x20000000, "CLONE_NEWPID" },
	{ 0x40000000, "CLONE_NEWNET" },   { 0x80000000, "CLONE_IO" },
	{ 0, NULL },
};

/* MS_* mount flags (linux/mount.h numbers). */
static const struct tp_sym mount_syms[] = {
	{ 1, "MS_RDONLY" },       { 2, "MS_NOSUID" },      { 4, "MS_NODEV" },
	{ 8, "MS_NOEXEC" },       { 16, "MS_SYNCHRONOUS" }, { 32, "MS_REMOUNT" },
	{ 64, "MS_MANDLOCK" },    { 128, "MS_DIRSYNC" },   { 256, "MS_NOSYMFOLLOW" },
	{ 1024, "MS_NOATIME" },   { 2048, "MS_NODIRATIME" }, { 4096, "MS_BIND" },
	{ 8192, "MS_MOVE" },      { 16384, "MS_REC" },     { 32768, "MS_SILENT" },
	{ 1 << 16, "MS_POSIXACL" }, { 1 << 17, "MS_UNBINDABLE" }, { 1 << 18, "MS_PRIVATE" },
	{ 1 << 19, "MS_SLAVE" },  { 1 << 20, "MS_SHARED" }, { 1 << 21, "MS_RELATIME" },
	{ 1 << 22, "MS_KERNMOUNT" }, { 1 << 23, "MS_I_VERSION" }, { 1 << 24, "MS_STRICTATIME" },
	{ 1 << 25, "MS_LAZYTIME" }, { 0xc0ed0000, "MS_MGC_VAL" },
	{ 0, NULL },
};

/* move_mount(2) MOVE_MOUNT_* flags (linux/mount.h). */
static const struct tp_sym move_mount_syms[] = {
	{ 0x01, "MOVE_MOUNT_F_SYMLINKS" }, { 0x02, "MOVE_MOUNT_F_AUTOMOUNTS" },
	{ 0x04, "MOVE_MOUNT_F_EMPTY_PATH" }, { 0x10, "MOVE_MOUNT_T_SYMLINKS" },
	{ 0x20, "MOVE_MOUNT_T_AUTOMOUNTS" }, { 0x40, "MOVE_MOUNT_T_EMPTY_PATH" },
	{ 0x100, "MOVE_MOUNT_SET_GROUP" }, { 0x200, "MOVE_MOUNT_BENEATH" },
	{ 0, NULL },
};

/* umount2(2) flags (linux/fs.h, sys/mount.h). */
static const struct tp_sym umount_syms[] = {
	{ 1, "MNT_FORCE" }, { 2, "MNT_DETACH" }, { 4, "MNT_EXPIRE" }, { 8, "UMOUNT_NOFOLLOW" },
	{ 0, NULL },
};

static const struct tp_sym cgroup_op_syms[] = {
	{ TP_CGROUP_MKDIR, "mkdir" }, { TP_CGROUP_RMDIR, "rmdir" }, { TP_CGROUP_ATTACH, "attach" },
	{ 0, NULL },
};

#define RET(st) TP_FIELD_SYMS(st, "ret", ret, TP_FK_S32, tp_errno_syms, false)

static const struct tp_field setns_fields[] = {
	TP_FIELD_SYMS(struct tp_setns_event, "nstype", nstype, TP_FK_HEX, clone_syms, true),
	TP_FIELD(struct tp_setns_event, "ns_ino", ns_ino, TP_FK_U64),
	TP_FIELD(struct tp_setns_event, "fd", fd, TP_FK_S32),
	RET(struct tp_setns_event),
};

static const struct tp_field unshare_fields[] = {
	TP_FIELD_SYMS(struct tp_unshare_event, "flags", flags, TP_FK_HEX, clone_syms, true),
	RET(struct tp_unshare_event),
	TP_FIELD_SYMS(struct tp_unshare_event, "syscall", syscall, TP_FK_U16, tp_syscall_syms, false),
};

static const struct tp_field mount_fields[] = {
	TP_FIELD(struct tp_mount_event, "source", source, TP_FK_STR),
	TP_FIELD(struct tp_mount_event, "target", target, TP_FK_STR),
	TP_FIELD(struct tp_mount_event, "fstype", fstype, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_mount_event, "flags", flags, TP_FK_HEX, mount_syms, true),
	RET(struct tp_mount_event),
	TP_FIELD_BIT(struct tp_mount_event, "target_truncated", path_flags, TP_PATH_TRUNCATED),
	TP_FIELD_BIT(struct tp_mount_event, "target_unresolved", path_flags, TP_PATH_UNRESOLVED),
	TP_FIELD_BIT(struct tp_mount_event, "source_truncated", path_flags,
		     TP_PATH_TRUNCATED << TP_PATH2_SHIFT),
	TP_FIELD_BIT(struct tp_mount_event, "source_unresolved", path_flags,
		     TP_PATH_UNRESOLVED << TP_PATH2_SHIFT),
	TP_FIELD_SYMS(struct tp_mount_event, "move_flags", move_flags, TP_FK_HEX, move_mount_syms,
		      true),
	TP_FIELD_SYMS(struct tp_mount_event, "syscall", syscall, TP_FK_U16, tp_syscall_syms, false),
};

static const struct tp_field umount_fields[] = {
	TP_FIELD(struct tp_umount_event, "target", target, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_umount_event, "flags", flags, TP_FK_HEX, umount_syms, true),
	RET(struct tp_umount_event),
	TP_FIELD_BIT(struct tp_umount_event, "target_truncated", path_flags, TP_PATH_TRUNCATED),
	TP_FIELD_BIT(struct tp_umount_event, "target_unresolved", path_flags, TP_PATH_UNRESOLVED),
};

static const struct tp_field cgroup_fields[] = {
	TP_FIELD_SYMS(struct tp_cgroup_event, "op", op, TP_FK_U32, cgroup_op_syms, false),
	TP_FIELD(struct tp_cgroup_event, "path", path, TP_FK_STR),
	TP_FIELD(struct tp_cgroup_event, "cgroup", cgroup_id, TP_FK_U64), /* "cgroup_id" is the header's */
	TP_FIELD(struct tp_cgroup_event, "hierarchy_id", hierarchy_id, TP_FK_U32),
	TP_FIELD(struct tp_cgroup_event, "level", level, TP_FK_U32),
	TP_FIELD(struct tp_cgroup_event, "target_pid", target_pid, TP_FK_U32),
	TP_FIELD(struct tp_cgroup_event, "target_comm", target_comm, TP_FK_STR),
	TP_FIELD(struct tp_cgroup_event, "threadgroup", threadgroup, TP_FK_BOOL),
};

#define TYPE(tid, tname, st, f)                                                              \
	{ .id = tid, .name = tname, .size = sizeof(st), .min_size = sizeof(st), TP_FIELDS(f) }

const struct tp_event_type tp_container_event_types[] = {
	TYPE(TP_EV_CONTAINER_SETNS, "container.setns", struct tp_setns_event, setns_fields),
	/* Records of 80 bytes (stored before clone was reported) have no syscall. */
	{ .id = TP_EV_CONTAINER_UNSHARE, .name = "container.unshare",
	  .size = sizeof(struct tp_unshare_event), .min_size = offsetof(struct tp_unshare_event, syscall),
	  TP_FIELDS(unshare_fields) },
	/* Records of 664 bytes (stored before move_mount was reported) have no
	 * syscall and move_flags: they are mount(2)'s. */
	{ .id = TP_EV_CONTAINER_MOUNT, .name = "container.mount", .size = sizeof(struct tp_mount_event),
	  .min_size = offsetof(struct tp_mount_event, move_flags), TP_FIELDS(mount_fields) },
	TYPE(TP_EV_CONTAINER_CGROUP, "container.cgroup", struct tp_cgroup_event, cgroup_fields),
	/* Not in the design's minimum set (docs/architecture.md, "Event types"): added
	 * with umount2 (docs/notes/issue-4.md). */
	TYPE(TP_EV_CONTAINER_UMOUNT, "container.umount", struct tp_umount_event, umount_fields),
	{ 0 },
};
