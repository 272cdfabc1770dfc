#include "bpf/creds_seed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "events.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* 6.9+: a pidfd for one thread */
#endif

static bool parse_ids(const char *text, const char *key, uint32_t ids[4])
{
	const char *p = strstr(text, key);
	unsigned long v[4];

	if (!p || sscanf(p + strlen(key), "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		ids[i] = (uint32_t)v[i];
	return true;
}

static bool parse_caps(const char *text, const char *key, __u64 *caps)
{
	const char *p = strstr(text, key);
	unsigned long long v;

	if (!p || sscanf(p + strlen(key), "%llx", &v) != 1)
		return false;
	*caps = v;
	return true;
}

bool tp_creds_parse_status(const char *text, struct tp_creds_seen *c)
{
	memset(c, 0, sizeof(*c));
	if (!parse_ids(text, "\nUid:", c->uids) || !parse_ids(text, "\nGid:", c->gids) ||
	    !parse_caps(text, "\nCapEff:", &c->caps[0]) ||
	    !parse_caps(text, "\nCapPrm:", &c->caps[1]) ||
	    !parse_caps(text, "\nCapInh:", &c->caps[2]))
		return false;
	c->known = 1;
	return true;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Kernel threads never call set*id or capset: no entry for them. */
static bool kernel_thread(const char *text)
{
	const char *k = strstr(text, "\nKthread:");

	if (k)
		return atoi(k + 9) == 1;
	k = strstr(text, "\nPPid:");
	return k && atoi(k + 6) == 2;
}

static void seed_thread(int map_fd, const char *proc_root, long pid, long tid,
			struct tp_creds_seed_stats *st)
{
	char path[96], text[4096];
	struct tp_creds_seen c;
	ssize_t n;
	int fd, pidfd;

	snprintf(path, sizeof(path), "%s/%ld/task/%ld/status", proc_root, pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st->missed += errno != ENOENT && errno != ESRCH;
		return; /* gone: nothing to seed */
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	if (kernel_thread(text))
		return;
	if (!tp_creds_parse_status(text, &c)) {
		st->missed++;
		return;
	}
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)tid, tid == pid ? 0 : PIDFD_THREAD);
	if (pidfd < 0) {
		st->missed += errno != ESRCH;
		return;
	}
	if (bpf_map_update_elem(map_fd, &pidfd, &c, BPF_NOEXIST) == 0)
		st->seeded++;
	else if (errno == EEXIST)
		st->kept++;
	else if (errno != ESRCH && errno != ENOENT)
		st->missed++;
	close(pidfd);
}

int tp_creds_seed(int map_fd, const char *proc_root, const atomic_bool *stop,
		  struct tp_creds_seed_stats *st)
{
	struct timespec t0, t1;
	struct dirent *d, *t;
	DIR *procs, *tasks;
	char path[64];

	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	procs = opendir(proc_root);
	if (!procs)
		return -errno;
	while ((d = readdir(procs)) && !(stop && atomic_load(stop))) {
		long pid;

		if (!is_number(d->d_name))
			continue;
		pid = atol(d->d_name);
		snprintf(path, sizeof(path), "%s/%ld/task", proc_root, pid);
		tasks = opendir(path);
		if (!tasks)
			continue; /* gone */
		while ((t = readdir(tasks)))
			if (is_number(t->d_name))
				seed_thread(map_fd, proc_root, pid, atol(t->d_name), st);
		closedir(tasks);
	}
	closedir(procs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return 0;
}
