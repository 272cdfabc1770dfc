/*
 * loadgen - a syscall load generator for the kernel hook benchmark.
 *
 *   loadgen MODE [ITERATIONS]
 *
 * Runs one syscall pattern ITERATIONS times in a tight loop and prints
 * "MODE ns_per_iteration". Each mode exercises one hook (or, for
 * "getppid", none: the cost of being traced at all). Modes that need a
 * DNS server's port run in a network namespace of their own (the harness
 * uses unshare --net), where loadgen brings lo up and binds the sinks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/tapio-loadgen-XXXXXX";
static char path_a[128], path_b[128];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo (run in a network namespace as root)");
	close(s);
}

/* A UDP socket bound to 127.0.0.1:port that nobody reads (drops are fine). */
static int udp_sink(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM, 0), big = 1 << 20;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind sink");
	return s;
}

static size_t dns_query(unsigned char *q)
{
	static const char name[] = "\x05" "tapio" "\x05" "bench" "\x07" "example" "\x03" "com";
	size_t n = 12;

	memset(q, 0, 12);
	q[0] = 0x12, q[1] = 0x34, q[2] = 0x01, q[5] = 1;
	memcpy(q + n, name, sizeof(name)); /* with its final 0 byte */
	n += sizeof(name);
	q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1;
	return n;
}

static void *thread_main(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long iters = argc > 2 ? atol(argv[2]) : 100000;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned char q[128];
	size_t qlen = dns_query(q);
	uint64_t t0, t1;
	int fd, s = -1, srv = -1, pidfd = -1;
	char *page = NULL;

	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path_a, sizeof(path_a), "%s/a", dir);
	snprintf(path_b, sizeof(path_b), "%s/b", dir);
	fd = open(path_a, O_CREAT | O_WRONLY, 0600);
	close(fd);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	if (!strcmp(mode, "dns") || !strcmp(mode, "udp") || !strcmp(mode, "tcp")) {
		lo_up();
		udp_sink(53);
		udp_sink(9999);
		s = socket(AF_INET, SOCK_DGRAM, 0);
	}
	if (!strcmp(mode, "connect"))
		s = socket(AF_INET, SOCK_DGRAM, 0);
	if (!strcmp(mode, "tcp")) {
		struct sockaddr_in a = dst;
		socklen_t al = sizeof(a);

		srv = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(srv, 128) < 0 ||
		    getsockname(srv, (struct sockaddr *)&dst, &al) < 0)
			die("tcp listener");
	}
	if (!strcmp(mode, "dup_stdio")) {
		srv = socket(AF_INET, SOCK_DGRAM, 0);
		if (srv < 0)
			die("socket");
	}
	if (!strcmp(mode, "pidfd")) {
		pidfd = syscall(SYS_pidfd_open, getpid(), 0);
		if (pidfd < 0)
			die("pidfd_open");
	}
	if (!strcmp(mode, "chmod_rel") && chdir(dir) < 0)
		die("chdir");
	if (!strcmp(mode, "mprotect")) {
		page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			die("mmap");
	}

	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (!strcmp(mode, "getppid")) {
			syscall(SYS_getppid);
		} else if (!strcmp(mode, "open")) {
			fd = open(path_a, O_RDONLY);
			close(fd);
		} else if (!strcmp(mode, "rename")) {
			rename(path_a, path_b);
			rename(path_b, path_a);
		} else if (!strcmp(mode, "chmod")) {
			chmod(path_a, 0600);
		} else if (!strcmp(mode, "chown")) {
			chown(path_a, 0, 0);
		} else if (!strcmp(mode, "utimes")) {
			utimensat(AT_FDCWD, path_a, NULL, 0);
		} else if (!strcmp(mode, "chmod_rel")) {
			chmod("a", 0600); /* relative: the agent walks the cwd */
		} else if (!strcmp(mode, "mkdir")) {
			mkdir(path_b, 0700);
			rmdir(path_b);
		} else if (!strcmp(mode, "connect")) {
			dst.sin_port = htons(9);
			connect(s, (struct sockaddr *)&dst, sizeof(dst));
		} else if (!strcmp(mode, "dns")) {
			dst.sin_port = htons(53);
			sendto(s, q, qlen, 0, (struct sockaddr *)&dst, sizeof(dst));
		} else if (!strcmp(mode, "udp")) {
			dst.sin_port = htons(9999);
			sendto(s, q, qlen, 0, (struct sockaddr *)&dst, sizeof(dst));
		} else if (!strcmp(mode, "tcp")) {
			int c = socket(AF_INET, SOCK_STREAM, 0), a;

			if (connect(c, (struct sockaddr *)&dst, sizeof(dst)) < 0)
				die("connect");
			a = accept(srv, NULL, NULL);
			close(c);
			close(a);
		} else if (!strcmp(mode, "setuid")) {
			setuid(0);
		} else if (!strcmp(mode, "kill")) {
			kill(getpid(), 0);
		} else if (!strcmp(mode, "pidfd")) {
			syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
		} else if (!strcmp(mode, "fork")) {
			pid_t pid = fork(); /* glibc's fork is clone(2) */

			if (pid == 0)
				_exit(0);
			waitpid(pid, NULL, 0);
		} else if (!strcmp(mode, "thread")) {
			pthread_t t;

			if (pthread_create(&t, NULL, thread_main, NULL) == 0)
				pthread_join(t, NULL);
		} else if (!strcmp(mode, "memfd")) {
			close(memfd_create("loadgen", 0));
		} else if (!strcmp(mode, "mmap")) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			munmap(p, 4096);
		} else if (!strcmp(mode, "mmap_rwx")) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			munmap(p, 4096);
		} else if (!strcmp(mode, "mprotect")) {
			mprotect(page, 4096, PROT_READ | PROT_EXEC);
			mprotect(page, 4096, PROT_READ | PROT_WRITE);
		} else if (!strcmp(mode, "fault")) {
			/* 16 fresh pages: 16 user page faults per iteration */
			char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			for (int k = 0; k < 16; k++)
				p[k * 4096] = 1;
			munmap(p, 16 * 4096);
		} else if (!strcmp(mode, "dup")) {
			close(dup2(0, 100)); /* not onto 0-2: the early out */
		} else if (!strcmp(mode, "dup_stdio")) {
			dup2(srv, 0); /* a socket onto stdin: network.stdio_socket */
		} else if (!strcmp(mode, "fcntl")) {
			fcntl(0, F_GETFL); /* not F_DUPFD: the early out */
		} else if (!strcmp(mode, "prctl")) {
			prctl(PR_SET_NAME, (i & 1) ? "loadgen-a" : "loadgen-b", 0, 0, 0);
		} else if (!strcmp(mode, "vmread")) {
			struct iovec l = { path_b, 8 }, r = { path_a, 8 };

			process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		} else if (!strcmp(mode, "exec")) {
			pid_t pid = fork();

			if (pid == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			waitpid(pid, NULL, 0);
		} else {
			fprintf(stderr, "loadgen: unknown mode '%s'\n", mode);
			return 2;
		}
	}
	t1 = now_ns();
	printf("%s %.1f\n", mode, (double)(t1 - t0) / (double)iters);
	unlink(path_a);
	unlink(path_b);
	rmdir(dir);
	return 0;
}
