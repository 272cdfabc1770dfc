// SPDX-License-Identifier: GPL-2.0
/*
 * iouring.bpf.c - io_uring: rings set up (security.io_uring_setup) and the
 * operations submitted through them that touch files or the network
 * (security.io_uring).
 *
 * An operation submitted through a ring passes no syscall tracepoint of
 * its own (an IORING_OP_OPENAT is no openat(2); with SQPOLL not even
 * io_uring_enter(2) runs), so the file and network families do not see
 * it. io_uring:io_uring_submit_req fires for every request when it is
 * submitted, after it was prepared, in the submitter's context or in the
 * ring's SQPOLL thread (which shares its process's files and cwd): the
 * paths the kernel copied in (struct filename) and the addresses (kernel
 * copies in the request's async data) are there to read; the result is
 * not, the operation has not run yet.
 *
 * Which opcodes are reported is a setting (tp_settings.io_uring_op_mask);
 * the others cost a load and a bit test and are not events.
 */
#include "path.bpf.h"
#include <bpf/bpf_endian.h>

#define TP_AF_INET  2
#define TP_AF_INET6 10
#define TP_PF_IO_WORKER 0x00000010
#define TP_IOSQE_MASK 0xff /* the low bits of req->flags are the sqe's IOSQE_* flags */
#define TP_IOSQE_FIXED_FILE 0x1

/* io_uring_setup(entries, struct io_uring_params *p): on success the kernel
 * wrote the ring's actual sizes and features back into p. */
SEC("tp/syscalls/sys_exit_io_uring_setup")
int tp_exit_io_uring_setup(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	struct tp_io_uring_setup_event *e;
	struct io_uring_params p = {};
	long ret = ctx->ret;

	if (!tp_admit(TP_CAT_SECURITY, ret < 0))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_IO_URING_SETUP, sizeof(*e));
	bpf_probe_read_user(&p, sizeof(p), (const void *)TP_ARG2(regs));
	e->ret = ret;
	e->entries = TP_ARG1(regs);
	e->sq_entries = p.sq_entries;
	e->cq_entries = p.cq_entries;
	e->flags = p.flags;
	e->sq_thread_cpu = p.sq_thread_cpu;
	e->sq_thread_idle = p.sq_thread_idle;
	e->features = ret >= 0 ? p.features : 0;
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

/* A socket address into e's family, addr and port (user memory when user,
 * else kernel memory); nothing for families other than inet and inet6. */
static __always_inline void iou_sockaddr(struct tp_io_uring_event *e, const void *sa, bool user)
{
	struct sockaddr_in6 s6 = {};
	long r;

	if (!sa)
		return;
	r = user ? bpf_probe_read_user(&s6, sizeof(s6), sa) : bpf_probe_read_kernel(&s6, sizeof(s6), sa);
	if (r < 0)
		return;
	if (s6.sin6_family == TP_AF_INET)
		__builtin_memcpy(e->addr, &((struct sockaddr_in *)&s6)->sin_addr, 4);
	else if (s6.sin6_family == TP_AF_INET6)
		__builtin_memcpy(e->addr, &s6.sin6_addr, 16);
	else
		return;
	e->family = s6.sin6_family;
	e->port = bpf_ntohs(s6.sin6_port);
	e->io_flags |= TP_IOU_ADDR;
}

/* A socket's local or remote end, when it has one (a port, or an address). */
static __always_inline void iou_sock_end(struct tp_io_uring_event *e, struct sock *sk, bool local)
{
	__u16 family = sk ? BPF_CORE_READ(sk, __sk_common.skc_family) : 0;

	if (family != TP_AF_INET && family != TP_AF_INET6)
		return;
	e->family = family;
	if (local) {
		e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		if (family == TP_AF_INET)
			BPF_CORE_READ_INTO((__u32 *)e->addr, sk, __sk_common.skc_rcv_saddr);
		else
			BPF_CORE_READ_INTO((struct in6_addr *)e->addr, sk,
					   __sk_common.skc_v6_rcv_saddr);
	} else {
		e->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (family == TP_AF_INET)
			BPF_CORE_READ_INTO((__u32 *)e->addr, sk, __sk_common.skc_daddr);
		else
			BPF_CORE_READ_INTO((struct in6_addr *)e->addr, sk, __sk_common.skc_v6_daddr);
	}
	if (e->port)
		e->io_flags |= TP_IOU_ADDR;
}

/* What a path of an op names: a struct filename (a kernel copy of what the
 * process passed) relative to dfd. */
struct iou_path {
	const char *name; /* kernel string, or NULL */
	long dfd;
};

static __always_inline const char *filename_str(struct filename *fn)
{
	return fn ? BPF_CORE_READ(fn, name) : NULL;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(tp_io_uring_submit_req, struct io_kiocb *req)
{
	struct task_struct *cur = tp_current();
	const struct tp_settings *s = tp_get_settings();
	struct iou_path p1 = { NULL, TP_AT_FDCWD }, p2 = { NULL, TP_AT_FDCWD };
	struct tp_io_uring_event *e;
	void *cmd = &req->cmd;
	__u8 op = req->opcode;

	if (!s || !(s->io_uring_op_mask & (1ull << (op & 63))))
		return 0;
	if (!tp_admit(TP_CAT_SECURITY, false))
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_SECURITY);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_SECURITY_IO_URING, sizeof(*e));
	e->op = op;
	e->user_data = req->cqe.user_data;
	e->fd = req->cqe.fd;
	e->dfd = TP_AT_FDCWD;
	e->sqe_flags = req->flags & TP_IOSQE_MASK;
	e->io_flags = (req->flags & TP_IOSQE_FIXED_FILE) ? TP_IOU_FIXED_FILE : 0;
	if (cur->flags & TP_PF_IO_WORKER)
		e->io_flags |= TP_IOU_SQ_THREAD;
	e->op_flags = 0;
	e->mode = 0;
	e->family = e->port = e->protocol = 0;
	e->path_flags = 0;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	/* Empty strings with a zero first word: user space shows them as absent. */
	*(__u32 *)e->path = 0;
	*(__u32 *)e->path2 = 0;

	switch (op) {
	case IORING_OP_OPENAT:
	case IORING_OP_OPENAT2: {
		struct io_open *o = cmd;

		p1.dfd = BPF_CORE_READ(o, dfd);
		p1.name = filename_str(BPF_CORE_READ(o, filename));
		e->op_flags = BPF_CORE_READ(o, how.flags);
		e->mode = BPF_CORE_READ(o, how.mode);
		break;
	}
	case IORING_OP_STATX: {
		struct io_statx *o = cmd;

		p1.dfd = BPF_CORE_READ(o, dfd);
		p1.name = filename_str(BPF_CORE_READ(o, filename));
		e->op_flags = BPF_CORE_READ(o, flags);
		break;
	}
	case IORING_OP_UNLINKAT: {
		struct io_unlink *o = cmd;

		p1.dfd = BPF_CORE_READ(o, dfd);
		p1.name = filename_str(BPF_CORE_READ(o, filename));
		e->op_flags = BPF_CORE_READ(o, flags);
		break;
	}
	case IORING_OP_MKDIRAT: {
		struct io_mkdir *o = cmd;

		p1.dfd = BPF_CORE_READ(o, dfd);
		p1.name = filename_str(BPF_CORE_READ(o, filename));
		e->mode = BPF_CORE_READ(o, mode);
		break;
	}
	case IORING_OP_RENAMEAT: {
		struct io_rename *o = cmd;

		p1.dfd = BPF_CORE_READ(o, old_dfd);
		p1.name = filename_str(BPF_CORE_READ(o, oldpath));
		p2.dfd = BPF_CORE_READ(o, new_dfd);
		p2.name = filename_str(BPF_CORE_READ(o, newpath));
		e->op_flags = BPF_CORE_READ(o, flags);
		break;
	}
	case IORING_OP_LINKAT:
	case IORING_OP_SYMLINKAT: {
		struct io_link *o = cmd;

		/* symlinkat: oldpath is the link's content, kept as given. */
		p1.dfd = BPF_CORE_READ(o, old_dfd);
		p1.name = filename_str(BPF_CORE_READ(o, oldpath));
		p2.dfd = BPF_CORE_READ(o, new_dfd);
		p2.name = filename_str(BPF_CORE_READ(o, newpath));
		e->op_flags = BPF_CORE_READ(o, flags);
		break;
	}
	case IORING_OP_SETXATTR:
	case IORING_OP_GETXATTR:
	case IORING_OP_FSETXATTR:
	case IORING_OP_FGETXATTR: {
		struct io_xattr *o = cmd;
		struct xattr_name *kname = BPF_CORE_READ(o, ctx.kname);

		/* The attribute's name goes to path2, as given. */
		p2.name = kname ? (const char *)kname + bpf_core_field_offset(struct xattr_name, name)
				: NULL;
		if (op == IORING_OP_SETXATTR || op == IORING_OP_GETXATTR)
			p1.name = filename_str(BPF_CORE_READ(o, filename));
		e->op_flags = BPF_CORE_READ(o, ctx.flags);
		break;
	}
	case IORING_OP_SOCKET: {
		struct io_socket *o = cmd;

		e->family = BPF_CORE_READ(o, domain);
		e->op_flags = BPF_CORE_READ(o, type);
		e->protocol = BPF_CORE_READ(o, protocol);
		break;
	}
	case IORING_OP_CONNECT: {
		struct io_connect *o = cmd;

		/* The user's sockaddr: the kernel's copy moved between
		 * kernels (io_async_msghdr.addr, then a bare sockaddr_storage). */
		iou_sockaddr(e, BPF_CORE_READ(o, addr), true);
		break;
	}
	case IORING_OP_SEND:
	case IORING_OP_SENDMSG:
	case IORING_OP_SEND_ZC:
	case IORING_OP_SENDMSG_ZC: {
		/* A destination given: msg_name points at the kernel's copy. */
		struct io_async_msghdr *am = req->async_data;

		if (am)
			iou_sockaddr(e, BPF_CORE_READ(am, msg.msg_name), false);
		break;
	}
	default:
		break;
	}

	/* Names as the process gave them (relative ones against dfd): a walk
	 * of dfd's dentries for each of two paths, behind a switch over every
	 * opcode, is more than the verifier accepts (1M instructions). */
	e->dfd = p1.dfd;
	if (p1.name && bpf_probe_read_kernel_str(e->path, sizeof(e->path), p1.name) < 0)
		e->path[0] = '\0';
	if (p2.name && bpf_probe_read_kernel_str(e->path2, sizeof(e->path2), p2.name) < 0)
		e->path2[0] = '\0';
	/* An op on a socket descriptor names no address itself: the socket's
	 * local end for listen and accept, else its peer (a send on a
	 * connected socket), as far as the socket has them yet. */
	if (!p1.name && !e->family && e->fd >= 0 && !(e->io_flags & TP_IOU_FIXED_FILE)) {
		struct socket *sock = tp_file_socket(tp_fd_file(e->fd));

		if (sock)
			iou_sock_end(e, BPF_CORE_READ(sock, sk),
				     op == IORING_OP_LISTEN || op == IORING_OP_ACCEPT);
	}
	tp_submit(e, TP_CAT_SECURITY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
