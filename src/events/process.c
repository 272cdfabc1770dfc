/* Descriptors of the process family: exec, fork, exit, rename. */
#include "events/types.h"

_Static_assert(sizeof(struct tp_rename_event) == 120, "layout shared with BPF");
_Static_assert(offsetof(struct tp_exec_event, exe_ino) == 1368,
	       "process.exec records before the exec context end at 1368");

#include <errno.h>
#include <string.h>

/* What was executed: present on successful execs (TP_EXE_KNOWN). */
#define EXE(fname, member, fkind)                                                            \
	TP_FIELD_IF(struct tp_exec_event, fname, member, fkind, exe_flags, TP_EXE_KNOWN)
#define EXE_BIT(fname, mask)                                                                 \
	{ .name = fname, .kind = TP_FK_BOOL, .offset = offsetof(struct tp_exec_event, exe_flags), \
	  .size = 4, .aux = mask, .present_offset = offsetof(struct tp_exec_event, exe_flags),  \
	  .present_mask = TP_EXE_KNOWN }
/* A string that is absent when empty (the kernel zeroes its first word). */
#define STR_NONEMPTY(fname, member)                                                          \
	TP_FIELD_IF(struct tp_exec_event, fname, member, TP_FK_STR, member, 0xffffffffu)

static const struct tp_field exec_fields[] = {
	TP_FIELD(struct tp_exec_event, "filename", filename, TP_FK_STR),
	TP_FIELD_ARGV(struct tp_exec_event, "argv", argv, argv_len),
	TP_FIELD(struct tp_exec_event, "ret", ret, TP_FK_S32),
	TP_FIELD_BIT(struct tp_exec_event, "argv_truncated", flags, TP_EXEC_ARGV_TRUNCATED),
	TP_FIELD(struct tp_exec_event, "loginuid", loginuid, TP_FK_U32),
	/* Records stored before the exec context (1368 bytes) end here. */
	{ .name = "env", .kind = TP_FK_ENV, .offset = offsetof(struct tp_exec_event, env),
	  .size = sizeof(((struct tp_exec_event *)0)->env),
	  .aux = offsetof(struct tp_exec_event, env_len) },
	TP_FIELD_BIT(struct tp_exec_event, "env_truncated", flags, TP_EXEC_ENV_TRUNCATED),
	EXE("exe_ino", exe_ino, TP_FK_U64),
	EXE("exe_dev", exe_dev, TP_FK_U32),
	EXE_BIT("exe_memfd", TP_EXE_MEMFD),
	EXE_BIT("exe_deleted", TP_EXE_DELETED),
	EXE_BIT("exe_overlay", TP_EXE_OVERLAY),
	EXE_BIT("exe_upper_layer", TP_EXE_UPPER_LAYER),
	EXE_BIT("exe_writable", TP_EXE_WRITABLE),
	STR_NONEMPTY("tty", tty),
	TP_FIELD(struct tp_exec_event, "sessionid", sessionid, TP_FK_U32),
	TP_FIELD(struct tp_exec_event, "sid", sid, TP_FK_U32),
	TP_FIELD_BIT(struct tp_exec_event, "stdin_socket", exe_flags, TP_EXE_STDIN_SOCKET),
	TP_FIELD_BIT(struct tp_exec_event, "stdout_socket", exe_flags, TP_EXE_STDOUT_SOCKET),
	TP_FIELD_BIT(struct tp_exec_event, "stderr_socket", exe_flags, TP_EXE_STDERR_SOCKET),
	STR_NONEMPTY("old_comm", old_comm),
	/* Records stored before the pipes end before these: absent there. */
	TP_FIELD_IF(struct tp_exec_event, "stdin_pipe", stdin_pipe, TP_FK_U64, exe_flags,
		    TP_EXE_STDIN_PIPE),
	TP_FIELD_IF(struct tp_exec_event, "stdout_pipe", stdout_pipe, TP_FK_U64, exe_flags,
		    TP_EXE_STDOUT_PIPE),
};

static const struct tp_field rename_fields[] = {
	TP_FIELD(struct tp_rename_event, "old_comm", old_comm, TP_FK_STR),
	TP_FIELD(struct tp_rename_event, "new_comm", new_comm, TP_FK_STR),
	TP_FIELD(struct tp_rename_event, "target_pid", target_pid, TP_FK_U32),
	TP_FIELD(struct tp_rename_event, "target_tid", target_tid, TP_FK_U32),
	TP_FIELD_SYMS(struct tp_rename_event, "syscall", syscall, TP_FK_U16, tp_syscall_syms, false),
};

static const struct tp_field fork_fields[] = {
	TP_FIELD(struct tp_fork_event, "parent_pid", parent_pid, TP_FK_U32),
};

static const struct tp_field exit_fields[] = {
	TP_FIELD(struct tp_exit_event, "exit_code", exit_code, TP_FK_S32),
	TP_FIELD_SYMS(struct tp_exit_event, "signal", signal, TP_FK_U32, tp_signal_syms, false),
	TP_FIELD(struct tp_exit_event, "core_dumped", core_dumped, TP_FK_BOOL),
	TP_FIELD(struct tp_exit_event, "duration_ns", duration_ns, TP_FK_U64),
};

static int validate_exec(const void *rec, uint32_t len)
{
	const struct tp_exec_event *e = rec;

	if (e->argv_len > sizeof(e->argv))
		return -EBADMSG;
	if (len >= offsetof(struct tp_exec_event, env) && e->env_len > sizeof(e->env))
		return -EBADMSG;
	return 0;
}

const struct tp_event_type tp_process_event_types[] = {
	/* Records of 1368 bytes (stored before the exec context) still decode. */
	{ .id = TP_EV_PROCESS_EXEC, .name = "process.exec", .size = sizeof(struct tp_exec_event),
	  .min_size = offsetof(struct tp_exec_event, exe_ino), TP_FIELDS(exec_fields),
	  .validate = validate_exec },
	{ .id = TP_EV_PROCESS_FORK, .name = "process.fork", .size = sizeof(struct tp_fork_event),
	  .min_size = sizeof(struct tp_fork_event), TP_FIELDS(fork_fields) },
	{ .id = TP_EV_PROCESS_EXIT, .name = "process.exit", .size = sizeof(struct tp_exit_event),
	  .min_size = sizeof(struct tp_exit_event), TP_FIELDS(exit_fields) },
	{ .id = TP_EV_PROCESS_RENAME, .name = "process.rename", .size = sizeof(struct tp_rename_event),
	  .min_size = sizeof(struct tp_rename_event), TP_FIELDS(rename_fields) },
	{ 0 },
};

const struct tp_sym tp_signal_syms[] = {
	{ 1, "SIGHUP" },   { 2, "SIGINT" },     { 3, "SIGQUIT" },  { 4, "SIGILL" },
	{ 5, "SIGTRAP" },  { 6, "SIGABRT" },    { 7, "SIGBUS" },   { 8, "SIGFPE" },
	{ 9, "SIGKILL" },  { 10, "SIGUSR1" },   { 11, "SIGSEGV" }, { 12, "SIGUSR2" },
	{ 13, "SIGPIPE" }, { 14, "SIGALRM" },   { 15, "SIGTERM" }, { 16, "SIGSTKFLT" },
	{ 17, "SIGCHLD" }, { 18, "SIGCONT" },   { 19, "SIGSTOP" }, { 20, "SIGTSTP" },
	{ 21, "SIGTTIN" }, { 22, "SIGTTOU" },   { 23, "SIGURG" },  { 24, "SIGXCPU" },
	{ 25, "SIGXFSZ" }, { 26, "SIGVTALRM" }, { 27, "SIGPROF" }, { 28, "SIGWINCH" },
	{ 29, "SIGIO" },   { 30, "SIGPWR" },    { 31, "SIGSYS" },  { 0, NULL },
};
