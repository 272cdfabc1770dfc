#include "util/caps.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
	"cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
	"cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
	"cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
	"cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
	"cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
	"cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};
#define NNAMES (int)(sizeof(cap_names) / sizeof(cap_names[0]))

/* The highest capability this kernel knows. */
static int last_cap(void)
{
	static int last = -1;
	FILE *f;

	if (last >= 0)
		return last;
	last = 40;
	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = 40;
		fclose(f);
	}
	return last;
}

uint64_t tp_caps_runtime_set(void)
{
	uint64_t keep = 1ull << CAP_SYS_PTRACE | 1ull << CAP_DAC_READ_SEARCH;

	return keep | (last_cap() >= CAP_BPF ? 1ull << CAP_BPF : 1ull << CAP_SYS_ADMIN);
}

void tp_caps_names(uint64_t mask, char *out, size_t len)
{
	size_t used = 0;

	if (len)
		out[0] = '\0';
	for (int c = 0; c < 64 && used < len; c++) {
		char num[16];

		if (!(mask & (1ull << c)))
			continue;
		snprintf(num, sizeof(num), "cap_%d", c);
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
					 c < NNAMES ? cap_names[c] : num);
	}
	if (!used && len)
		snprintf(out, len, "none");
}

void tp_caps_block_signals(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, TP_CAPS_SIGNAL);
}

static int get_caps(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return (int)syscall(SYS_capget, &h, d);
}

uint64_t tp_caps_effective(void)
{
	struct __user_cap_data_struct d[2];

	if (get_caps(d) < 0)
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

int64_t tp_caps_thread_effective(int tid)
{
	char path[64], line[256];
	int64_t v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			v = (int64_t)strtoull(line + 7, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

/* What every thread applies to itself, from the signal handler: only raw
 * system calls, which are async-signal-safe. */
static uint64_t target;
static int target_last;
static atomic_int applied;

static int apply_self(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	/* Bounding set first: dropping from it takes CAP_SETPCAP, which the
	 * capset below gives up. Errors (no CAP_SETPCAP) leave it as it is. */
	for (int c = 0; c <= target_last; c++)
		if (!(target & (1ull << c)))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* The agent never executes anything: no exec may gain privileges
	 * (covers a bounding set a non-root agent cannot shrink). */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		uint32_t keep = (uint32_t)(target >> (32 * i));

		d[i].effective &= keep;
		d[i].permitted &= keep;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static void on_drop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (apply_self() == 0)
		atomic_fetch_add(&applied, 1);
	errno = saved;
}

/* Signal every other thread whose effective set still holds more than the
 * target; returns how many still do. */
static int sweep(int sig, int *changed)
{
	pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
	struct dirent *e;
	int left = 0;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name);
		int64_t eff;

		if (tid <= 0 || tid == self)
			continue;
		eff = tp_caps_thread_effective(tid);
		if (eff < 0 || !((uint64_t)eff & ~target))
			continue; /* gone, or done */
		left++;
		if (syscall(SYS_tgkill, pid, tid, sig) == 0)
			(*changed)++;
	}
	closedir(d);
	return left;
}

int tp_caps_drop_runtime(uint64_t *kept, uint64_t *dropped, char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];
	struct sigaction sa, old;
	uint64_t permitted;
	int sig = TP_CAPS_SIGNAL, changed = 0, left = 0, r;

	if (get_caps(d) < 0) {
		snprintf(err, errlen, "cannot read the capabilities: %s", strerror(errno));
		return -errno;
	}
	permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	target = tp_caps_runtime_set() & permitted;
	target_last = last_cap();
	if (kept)
		*kept = target;
	if (dropped)
		*dropped = permitted & ~target;
	if (!(permitted & ~target) && !(tp_caps_effective() & ~target))
		return 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_drop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, &old) < 0) {
		snprintf(err, errlen, "cannot install a signal handler: %s", strerror(errno));
		return -errno;
	}
	/* Threads may block the signal for a moment, or start while we sweep
	 * (then they inherit from a thread already done, or are caught by the
	 * next sweep). About a second at most. */
	for (int round = 0; round < 100; round++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		left = sweep(sig, &changed);
		if (left <= 0)
			break;
		nanosleep(&ts, NULL);
	}
	r = apply_self();
	sigaction(sig, &old, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(-r));
		return r;
	}
	if (left > 0) {
		snprintf(err, errlen,
			 "%d threads kept capabilities beyond the runtime set (they block signal %d)",
			 left, sig);
		return -EAGAIN;
	}
	if (left < 0) {
		snprintf(err, errlen, "cannot list the threads: %s", strerror(-left));
		return left;
	}
	(void)changed;
	return 1;
}
