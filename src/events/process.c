/* Descriptors of the process family: exec, fork, exit. */
#include "events/types.h"

#include <errno.h>
#include <string.h>

static const struct tp_field exec_fields[] = {
	TP_FIELD(struct tp_exec_event, "filename", filename, TP_FK_STR),
	TP_FIELD_ARGV(struct tp_exec_event, "argv", argv, argv_len),
	TP_FIELD(struct tp_exec_event, "ret", ret, TP_FK_S32),
	TP_FIELD_BIT(struct tp_exec_event, "argv_truncated", flags, TP_EXEC_ARGV_TRUNCATED),
	TP_FIELD(struct tp_exec_event, "loginuid", loginuid, TP_FK_U32),
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

	(void)len;
	return e->argv_len <= sizeof(e->argv) ? 0 : -EBADMSG;
}

const struct tp_event_type tp_process_event_types[] = {
	{ .id = TP_EV_PROCESS_EXEC, .name = "process.exec", .size = sizeof(struct tp_exec_event),
	  .min_size = sizeof(struct tp_exec_event), TP_FIELDS(exec_fields), .validate = validate_exec },
	{ .id = TP_EV_PROCESS_FORK, .name = "process.fork", .size = sizeof(struct tp_fork_event),
	  .min_size = sizeof(struct tp_fork_event), TP_FIELDS(fork_fields) },
	{ .id = TP_EV_PROCESS_EXIT, .name = "process.exit", .size = sizeof(struct tp_exit_event),
	  .min_size = sizeof(struct tp_exit_event), TP_FIELDS(exit_fields) },
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
