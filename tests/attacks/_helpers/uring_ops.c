/* An io_uring client without liburing (raw syscalls), for the attack
 * corpus: does its file and network work through a ring, so no openat or
 * connect syscall is ever made, the way "curing"-style rootkits avoid
 * syscall hooks.
 *
 *   uring_ops [-s] open PATH            read a file (IORING_OP_OPENAT + READ)
 *   uring_ops [-s] open2 PATH           the same with IORING_OP_OPENAT2
 *   uring_ops [-s] openat DIR NAME      NAME relative to DIR (dfd)
 *   uring_ops [-s] connect ADDR PORT    connect and send a line (CONNECT + SEND)
 *   uring_ops [-s] rename OLD NEW       move a file into place (IORING_OP_RENAMEAT)
 * -s: an SQPOLL ring (a kernel thread submits).
 * Exit 0 when the ring did it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *sq_flags, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static int sqpoll;

static int setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 2000;
	}
	ring_fd = syscall(__NR_io_uring_setup, 8, &p);
	if (ring_fd < 0) {
		perror("io_uring_setup");
		return -1;
	}
	size_t sl = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cl = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(0, sl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd,
			IORING_OFF_SQ_RING);
	char *cq = mmap(0, cl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd,
			IORING_OFF_CQ_RING);
	sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return -1;
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	sq_flags = (unsigned *)(sq + p.sq_off.flags);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Submit one prepared sqe, wait for its completion, return its result. */
static int run(struct io_uring_sqe *sqe)
{
	unsigned tail = *sq_tail, idx = tail & *sq_mask;
	sqes[idx] = *sqe;
	sq_array[idx] = idx;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	unsigned flags = IORING_ENTER_GETEVENTS;
	if (sqpoll && (__atomic_load_n(sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP))
		flags |= IORING_ENTER_SQ_WAKEUP;
	if (syscall(__NR_io_uring_enter, ring_fd, sqpoll ? 0 : 1, 1, flags, NULL, 0) < 0) {
		perror("io_uring_enter");
		return -1;
	}
	unsigned head = *cq_head;
	while (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
		syscall(__NR_io_uring_enter, ring_fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	int res = cqes[head & *cq_mask].res;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

static int read_all(int fd)
{
	char buf[4096];
	struct io_uring_sqe sqe;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_READ;
	sqe.fd = fd;
	sqe.addr = (unsigned long)buf;
	sqe.len = sizeof(buf);
	int n = run(&sqe);
	printf("read %d bytes\n", n);
	return n > 0 ? 0 : 1;
}

static int open_path(int dfd, const char *path, int two)
{
	struct io_uring_sqe sqe;
	struct open_how how = { .flags = O_RDONLY };
	memset(&sqe, 0, sizeof(sqe));
	sqe.fd = dfd;
	sqe.addr = (unsigned long)path;
	if (two) {
		sqe.opcode = IORING_OP_OPENAT2;
		sqe.len = sizeof(how);
		sqe.off = (unsigned long)&how;
	} else {
		sqe.opcode = IORING_OP_OPENAT;
		sqe.open_flags = O_RDONLY;
	}
	int fd = run(&sqe);
	if (fd < 0) {
		fprintf(stderr, "openat %s: %s\n", path, strerror(-fd));
		return 1;
	}
	return read_all(fd);
}

static int do_connect(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct io_uring_sqe sqe;
	static const char line[] = "hello from the ring\n";
	int s = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_CONNECT;
	sqe.fd = s;
	sqe.addr = (unsigned long)&sa;
	sqe.off = sizeof(sa);
	int r = run(&sqe);
	if (r < 0) {
		fprintf(stderr, "connect: %s\n", strerror(-r));
		return 1;
	}
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_SEND;
	sqe.fd = s;
	sqe.addr = (unsigned long)line;
	sqe.len = sizeof(line) - 1;
	return run(&sqe) > 0 ? 0 : 1;
}

static int do_rename(const char *from, const char *to)
{
	struct io_uring_sqe sqe;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_RENAMEAT;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)from;
	sqe.len = AT_FDCWD;
	sqe.addr2 = (unsigned long)to;
	int r = run(&sqe);
	if (r < 0)
		fprintf(stderr, "renameat %s %s: %s\n", from, to, strerror(-r));
	return r < 0;
}

int main(int argc, char **argv)
{
	int i = 1;
	if (argc > 1 && !strcmp(argv[1], "-s")) {
		sqpoll = 1;
		i++;
	}
	if (argc - i < 2 || setup() < 0)
		return 2;
	if (!strcmp(argv[i], "open"))
		return open_path(AT_FDCWD, argv[i + 1], 0);
	if (!strcmp(argv[i], "open2"))
		return open_path(AT_FDCWD, argv[i + 1], 1);
	if (!strcmp(argv[i], "openat") && argc - i >= 3) {
		int dfd = open(argv[i + 1], O_PATH | O_DIRECTORY);
		return dfd < 0 ? 2 : open_path(dfd, argv[i + 2], 0);
	}
	if (!strcmp(argv[i], "rename") && argc - i >= 3)
		return do_rename(argv[i + 1], argv[i + 2]);
	if (!strcmp(argv[i], "connect") && argc - i >= 3)
		return do_connect(argv[i + 1], atoi(argv[i + 2]));
	return 2;
}
