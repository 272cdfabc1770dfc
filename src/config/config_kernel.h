/*
 * config/config_kernel.h - the kernel-side settings of struct tp_config by name,
 * for the command line (-k KEY=VALUE) and the config file.
 *
 *   categories=LIST        probe families loaded: all, or process,file,...
 *   exclude_comm=NAME      drop the events of tasks with this name (repeatable)
 *   exclude_path=PREFIX    drop file events under this prefix (repeatable)
 *   drop_failed=LIST       drop failed syscalls of these categories (all, none)
 *   sample.CATEGORY=N      keep 1 in N events of a category in the kernel
 *   bpf_commands=SET       bpf(2) commands reported: control (default), all,
 *                          or names (prog_load,map_create,...)
 *   page_fault_sample=N    report 1 in N user page faults per CPU (0: none)
 *   exec_env=LIST          environment variables process.exec reports (names,
 *                          comma-separated; "none": no variable)
 *   io_uring_ops=SET       io_uring operations reported: default, all, or names
 *                          (openat,connect,...)
 */
#ifndef TAPIO_CONFIG_KERNEL_H
#define TAPIO_CONFIG_KERNEL_H

#include <stddef.h>

#include "bpf/kfilter.h"
#include "config/config.h"

/* io_uring operations reported by default: those that name a file, a
 * socket or an address, or hand descriptors around (openat, openat2,
 * statx, renameat, unlinkat, mkdirat, symlinkat, linkat, xattr ops,
 * ftruncate, files_update, fixed_fd_install, msg_ring, pipe, socket,
 * connect, accept, bind, listen, send, sendmsg and their zero-copy forms,
 * uring_cmd); not the reads, writes, receives, polls, timeouts and buffer
 * management that a ring does all day. */
#define TP_IO_URING_OPS_DEFAULT 0x43c1fff814352200ull

/* The environment variables process.exec reports by default: those that
 * change what a program loads or runs (dynamic loader and its tunables,
 * interpreters' module paths, shell start-up and history). */
#define TP_EXEC_ENV_DEFAULT                                                                  \
	"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES", "HISTFILE", "HISTSIZE", \
	    "HISTFILESIZE", "HISTCONTROL", "PROMPT_COMMAND", "BASH_ENV", "ENV", "PYTHONPATH",  \
	    "PERL5LIB"

/* Reset cfg's environment allow-list to the default. */
void tp_config_exec_env_default(struct tp_config *cfg);

/* Set one key. The value's storage must outlive cfg (argv, a config file's
 * strings). Returns 0, or -EINVAL with err naming the key and the problem. */
int tp_config_set_kernel(struct tp_config *cfg, const char *key, const char *value, char *err,
			 size_t errlen);

/* "KEY=VALUE" as given to -k. */
int tp_config_kernel_arg(struct tp_config *cfg, const char *kv, char *err, size_t errlen);

/* The filter part of cfg, as the loader takes it (pointers into cfg). */
void tp_config_kfilter(const struct tp_config *cfg, struct tp_kfilter *kf);

#endif
