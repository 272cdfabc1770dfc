/* Descriptors of the file family: open, rename, unlink, chmod, chown, link,
 * symlink, mkdir, utimes, xattr. Flag values are the kernel's for the host architecture
 * (asm/fcntl.h), which is where the agent runs. */
#include "events/types.h"

#include <asm/fcntl.h>
#include <linux/fs.h>

_Static_assert(sizeof(struct tp_file_open_event) == 368, "layout shared with BPF");
_Static_assert(offsetof(struct tp_file_open_event, proc_target_pid) == 360,
	       "file.open records before proc_target_pid end at 360");
_Static_assert(sizeof(struct tp_file_utimes_event) == 376, "layout shared with BPF");
_Static_assert(sizeof(struct tp_file_xattr_event) == 640, "layout shared with BPF");
_Static_assert(sizeof(struct tp_file_rename_event) == 600, "layout shared with BPF");
_Static_assert(sizeof(struct tp_file_path_event) == 352, "layout shared with BPF");
_Static_assert(sizeof(struct tp_file_chown_event) == 352, "layout shared with BPF");
_Static_assert(sizeof(struct tp_file_symlink_event) == 600, "layout shared with BPF");

#define S(x) { x, #x }
static const struct tp_sym open_flag_syms[] = {
	{ 0, "O_RDONLY" }, S(O_WRONLY),   S(O_RDWR),     S(O_CREAT),    S(O_EXCL),
	S(O_NOCTTY),       S(O_TRUNC),    S(O_APPEND),   S(O_NONBLOCK), S(O_DSYNC),
	S(FASYNC),         S(O_DIRECT),   S(O_LARGEFILE), S(O_DIRECTORY), S(O_NOFOLLOW),
	S(O_NOATIME),      S(O_CLOEXEC),  S(__O_SYNC),   S(O_PATH),     S(__O_TMPFILE),
	{ 0, NULL },
};

/* AT_* flags of the *at calls (linux/fcntl.h would clash with glibc). */
static const struct tp_sym at_flag_syms[] = {
	{ 0x100, "AT_SYMLINK_NOFOLLOW" },
	{ 0x200, "AT_REMOVEDIR" },
	{ 0x400, "AT_SYMLINK_FOLLOW" },
	{ 0x800, "AT_NO_AUTOMOUNT" },
	{ 0x1000, "AT_EMPTY_PATH" },
	{ 0, NULL },
};

static const struct tp_sym rename_flag_syms[] = {
	S(RENAME_NOREPLACE), S(RENAME_EXCHANGE), S(RENAME_WHITEOUT), { 0, NULL },
};
#undef S

#define PATH_BITS(st)                                                                        \
	TP_FIELD_BIT(st, "path_truncated", path_flags, TP_PATH_TRUNCATED),                   \
		TP_FIELD_BIT(st, "path_unresolved", path_flags, TP_PATH_UNRESOLVED)
#define SYSCALL(st) TP_FIELD_SYMS(st, "syscall", syscall, TP_FK_U16, tp_syscall_syms, false)
#define RET(st) TP_FIELD_SYMS(st, "ret", ret, TP_FK_S32, tp_errno_syms, false)

static const struct tp_field open_fields[] = {
	TP_FIELD(struct tp_file_open_event, "path", path, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_file_open_event, "flags", flags, TP_FK_HEX, open_flag_syms, true),
	TP_FIELD(struct tp_file_open_event, "mode", mode, TP_FK_OCTAL),
	RET(struct tp_file_open_event),
	TP_FIELD(struct tp_file_open_event, "ino", ino, TP_FK_U64),
	TP_FIELD(struct tp_file_open_event, "dev", dev, TP_FK_U32),
	SYSCALL(struct tp_file_open_event),
	PATH_BITS(struct tp_file_open_event),
	TP_FIELD_NONZERO(struct tp_file_open_event, "proc_target_pid", proc_target_pid, TP_FK_U32),
};

static const struct tp_field rename_fields[] = {
	TP_FIELD(struct tp_file_rename_event, "oldpath", oldpath, TP_FK_STR),
	TP_FIELD(struct tp_file_rename_event, "newpath", newpath, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_file_rename_event, "flags", flags, TP_FK_HEX, rename_flag_syms, true),
	RET(struct tp_file_rename_event),
	SYSCALL(struct tp_file_rename_event),
	PATH_BITS(struct tp_file_rename_event),
	TP_FIELD_BIT(struct tp_file_rename_event, "newpath_truncated", path_flags,
		     TP_PATH_TRUNCATED << TP_PATH2_SHIFT),
	TP_FIELD_BIT(struct tp_file_rename_event, "newpath_unresolved", path_flags,
		     TP_PATH_UNRESOLVED << TP_PATH2_SHIFT),
};

static const struct tp_field link_fields[] = {
	TP_FIELD(struct tp_file_rename_event, "oldpath", oldpath, TP_FK_STR),
	TP_FIELD(struct tp_file_rename_event, "newpath", newpath, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_file_rename_event, "flags", flags, TP_FK_HEX, at_flag_syms, true),
	RET(struct tp_file_rename_event),
	SYSCALL(struct tp_file_rename_event),
	PATH_BITS(struct tp_file_rename_event),
	TP_FIELD_BIT(struct tp_file_rename_event, "newpath_truncated", path_flags,
		     TP_PATH_TRUNCATED << TP_PATH2_SHIFT),
	TP_FIELD_BIT(struct tp_file_rename_event, "newpath_unresolved", path_flags,
		     TP_PATH_UNRESOLVED << TP_PATH2_SHIFT),
};

static const struct tp_field unlink_fields[] = {
	TP_FIELD(struct tp_file_path_event, "path", path, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_file_path_event, "flags", flags, TP_FK_HEX, at_flag_syms, true),
	RET(struct tp_file_path_event),
	SYSCALL(struct tp_file_path_event),
	PATH_BITS(struct tp_file_path_event),
};

static const struct tp_field mode_fields[] = {
	TP_FIELD(struct tp_file_path_event, "path", path, TP_FK_STR),
	TP_FIELD(struct tp_file_path_event, "mode", mode, TP_FK_OCTAL),
	TP_FIELD_SYMS(struct tp_file_path_event, "flags", flags, TP_FK_HEX, at_flag_syms, true),
	RET(struct tp_file_path_event),
	SYSCALL(struct tp_file_path_event),
	PATH_BITS(struct tp_file_path_event),
};

static const struct tp_field chown_fields[] = {
	TP_FIELD(struct tp_file_chown_event, "path", path, TP_FK_STR),
	TP_FIELD(struct tp_file_chown_event, "owner_uid", uid, TP_FK_U32),
	TP_FIELD(struct tp_file_chown_event, "owner_gid", gid, TP_FK_U32),
	TP_FIELD_SYMS(struct tp_file_chown_event, "flags", flags, TP_FK_HEX, at_flag_syms, true),
	RET(struct tp_file_chown_event),
	SYSCALL(struct tp_file_chown_event),
	PATH_BITS(struct tp_file_chown_event),
};

static const struct tp_field symlink_fields[] = {
	TP_FIELD(struct tp_file_symlink_event, "target", target, TP_FK_STR),
	TP_FIELD(struct tp_file_symlink_event, "linkpath", linkpath, TP_FK_STR),
	RET(struct tp_file_symlink_event),
	SYSCALL(struct tp_file_symlink_event),
	PATH_BITS(struct tp_file_symlink_event),
};

static const struct tp_field utimes_fields[] = {
	TP_FIELD(struct tp_file_utimes_event, "path", path, TP_FK_STR),
	TP_FIELD(struct tp_file_utimes_event, "atime_sec", atime_sec, TP_FK_S64),
	TP_FIELD(struct tp_file_utimes_event, "atime_nsec", atime_nsec, TP_FK_U32),
	TP_FIELD(struct tp_file_utimes_event, "mtime_sec", mtime_sec, TP_FK_S64),
	TP_FIELD(struct tp_file_utimes_event, "mtime_nsec", mtime_nsec, TP_FK_U32),
	TP_FIELD_BIT(struct tp_file_utimes_event, "atime_now", time_flags, TP_UTIME_ATIME_NOW),
	TP_FIELD_BIT(struct tp_file_utimes_event, "atime_omit", time_flags, TP_UTIME_ATIME_OMIT),
	TP_FIELD_BIT(struct tp_file_utimes_event, "mtime_now", time_flags, TP_UTIME_MTIME_NOW),
	TP_FIELD_BIT(struct tp_file_utimes_event, "mtime_omit", time_flags, TP_UTIME_MTIME_OMIT),
	TP_FIELD_SYMS(struct tp_file_utimes_event, "flags", flags, TP_FK_HEX, at_flag_syms, true),
	RET(struct tp_file_utimes_event),
	SYSCALL(struct tp_file_utimes_event),
	PATH_BITS(struct tp_file_utimes_event),
};

static const struct tp_sym xattr_op_syms[] = {
	{ TP_XATTR_SET, "set" },
	{ TP_XATTR_REMOVE, "remove" },
	{ 0, NULL },
};

static const struct tp_sym xattr_flag_syms[] = {
	{ 1, "XATTR_CREATE" },
	{ 2, "XATTR_REPLACE" },
	{ 0, NULL },
};

/* The file capabilities of a security.capability value (setcap). */
#define XATTR_CAPS(fname, member, fkind, table)                                              \
	{ .name = fname, .kind = fkind, .offset = offsetof(struct tp_file_xattr_event, member), \
	  .size = sizeof(((struct tp_file_xattr_event *)0)->member), .syms = table,          \
	  .flags = true, .present_offset = offsetof(struct tp_file_xattr_event, xattr_flags), \
	  .present_mask = TP_XATTR_CAPS }

static const struct tp_field xattr_fields[] = {
	TP_FIELD(struct tp_file_xattr_event, "path", path, TP_FK_STR),
	TP_FIELD(struct tp_file_xattr_event, "name", name, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_file_xattr_event, "op", op, TP_FK_U8, xattr_op_syms, false),
	TP_FIELD(struct tp_file_xattr_event, "size", size, TP_FK_U32),
	TP_FIELD_SYMS(struct tp_file_xattr_event, "flags", flags, TP_FK_HEX, xattr_flag_syms, true),
	TP_FIELD_SYMS(struct tp_file_xattr_event, "at_flags", at_flags, TP_FK_HEX, at_flag_syms,
		      true),
	XATTR_CAPS("cap_permitted", cap_permitted, TP_FK_HEX, tp_cap_syms),
	XATTR_CAPS("cap_inheritable", cap_inheritable, TP_FK_HEX, tp_cap_syms),
	XATTR_CAPS("cap_effective", cap_effective, TP_FK_BOOL, NULL),
	XATTR_CAPS("cap_rootid", cap_rootid, TP_FK_U32, NULL),
	RET(struct tp_file_xattr_event),
	SYSCALL(struct tp_file_xattr_event),
	PATH_BITS(struct tp_file_xattr_event),
};

#define TYPE(tid, tname, st, f)                                                              \
	{ .id = tid, .name = tname, .size = sizeof(st), .min_size = sizeof(st), TP_FIELDS(f) }

/* A record that ends with its path (bpf/file.bpf.c, PATH_SEND): it holds
 * at least the path's first word. */
#define PATH_TYPE(tid, tname, st, f)                                                          \
	{ .id = tid, .name = tname, .size = sizeof(st), .min_size = offsetof(st, path) + 8,   \
	  .ends_with_path = true, TP_FIELDS(f) }

const struct tp_event_type tp_file_event_types[] = {
	/* Records of 360 bytes (stored before proc_target_pid) still decode. */
	PATH_TYPE(TP_EV_FILE_OPEN, "file.open", struct tp_file_open_event, open_fields),
	TYPE(TP_EV_FILE_RENAME, "file.rename", struct tp_file_rename_event, rename_fields),
	PATH_TYPE(TP_EV_FILE_UNLINK, "file.unlink", struct tp_file_path_event, unlink_fields),
	PATH_TYPE(TP_EV_FILE_CHMOD, "file.chmod", struct tp_file_path_event, mode_fields),
	PATH_TYPE(TP_EV_FILE_CHOWN, "file.chown", struct tp_file_chown_event, chown_fields),
	TYPE(TP_EV_FILE_LINK, "file.link", struct tp_file_rename_event, link_fields),
	TYPE(TP_EV_FILE_SYMLINK, "file.symlink", struct tp_file_symlink_event, symlink_fields),
	PATH_TYPE(TP_EV_FILE_MKDIR, "file.mkdir", struct tp_file_path_event, mode_fields),
	PATH_TYPE(TP_EV_FILE_UTIMES, "file.utimes", struct tp_file_utimes_event, utimes_fields),
	TYPE(TP_EV_FILE_XATTR, "file.xattr", struct tp_file_xattr_event, xattr_fields),
	{ 0 },
};
