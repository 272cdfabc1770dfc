// SPDX-License-Identifier: GPL-2.0
/*
 * network.bpf.c - network events: connect, accept, TCP state changes,
 * TCP connection ends (close), DNS queries, listen, and sockets
 * duplicated onto standard input, output or error (stdio_socket).
 *
 * connect and accept come from their syscalls' exits (syscall.bpf.h): the
 * address asked for from the caller's sockaddr, the local end from the
 * socket. TCP state changes come from the sock:inet_sock_set_state raw
 * tracepoint, which often fires in softirq context where the current task
 * is unrelated: each socket's owner (the task that connected, listened or
 * accepted it) is kept in an LRU map and describes the socket's later
 * events. DNS queries are parsed from the payload of UDP sends to port 53
 * (sendto, sendmsg, and each message of sendmmsg, which glibc uses for its
 * parallel A and AAAA queries). A socket on fd 0-2 is seen where it gets
 * there by duplication (dup, dup2, dup3, fcntl F_DUPFD): the exits of those
 * return at once unless the new descriptor is 0, 1 or 2.
 */
#include "syscall.bpf.h"
#include <bpf/bpf_endian.h>

#define TP_AF_UNIX	1
#define TP_AF_INET	2
#define TP_AF_INET6	10
#define TP_EAGAIN	11
#define TP_DNS_PORT	53
#define TP_DNS_MAX	512 /* a query larger than this is not a plain DNS query */
#define TP_DNS_MMSG_MAX 4

/* The task that owns a socket, for events where current is not it. */
struct sk_owner {
	struct tp_hdr hdr; /* task fields; ts, type, size and cpu are per event */
	__u64 start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct sk_owner);
} sk_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sk_owner);
} sk_owner_scratch SEC(".maps");

/* Remember the current task as the owner of sk. */
static __always_inline void own_socket(struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct sk_owner *o;
	__u32 zero = 0;

	if (!sk)
		return;
	o = bpf_map_lookup_elem(&sk_owner_scratch, &zero);
	if (!o)
		return;
	tp_fill_hdr(&o->hdr, 0, 0);
	o->start_ns = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&sk_owners, &key, o, BPF_ANY);
}

static __always_inline __u16 sock_protocol(struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* Local and remote ends of a socket. */
static __always_inline __u16 sock_ends(struct sock *sk, __u8 *saddr, __u8 *daddr, __u16 *sport,
				       __u16 *dport)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(saddr, 0, 16);
	__builtin_memset(daddr, 0, 16);
	*sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	*dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == TP_AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)daddr, sk, __sk_common.skc_daddr);
	} else if (family == TP_AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)daddr, sk, __sk_common.skc_v6_daddr);
	}
	return family;
}

/* A user sockaddr: family, address into addr (16 bytes), port (host order). */
static __always_inline __u16 user_sockaddr(const void *uaddr, __u8 *addr, __u16 *port)
{
	struct sockaddr_in6 sa = {};

	__builtin_memset(addr, 0, 16);
	*port = 0;
	if (!uaddr || bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr) < 0)
		return 0;
	*port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == TP_AF_INET) {
		__builtin_memcpy(addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	} else if (sa.sin6_family == TP_AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr) == 0)
			__builtin_memcpy(addr, &sa.sin6_addr, 16);
	}
	return sa.sin6_family;
}

static __always_inline struct sock *fd_sock(long fd, struct socket **sockp)
{
	struct socket *sock = tp_file_socket(tp_fd_file(fd));

	*sockp = sock;
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* ------------------------------------------------------------------ */
/* network.connect, network.accept */

/* The path of a user sockaddr_un of addrlen bytes: a file name, or an
 * abstract name (first byte NUL, length from addrlen) shown as "@name". */
static __always_inline void unix_path(char *out, const char *uaddr, __u32 addrlen)
{
	__u64 n;

	out[0] = '\0';
	if (addrlen <= 3 || bpf_probe_read_user(out, 1, uaddr + 2) < 0)
		return;
	if (out[0] != '\0') {
		if (bpf_probe_read_user_str(out, TP_UNIX_PATH_MAX + 1, uaddr + 2) < 0)
			out[0] = '\0';
		return;
	}
	n = addrlen - 3;
	if (n > TP_UNIX_PATH_MAX - 1)
		n = TP_UNIX_PATH_MAX - 1;
	asm volatile("" : "+r"(n)); /* keep the bound where the verifier sees it */
	if (n == 0 || n > TP_UNIX_PATH_MAX - 1 || bpf_probe_read_user(out + 1, n, uaddr + 3) < 0)
		return;
	out[0] = '@';
	out[n + 1] = '\0';
}

/* The path a unix socket is bound to: a file name, or an abstract name
 * shown as "@name"; empty when it is not bound. */
static __always_inline void sock_unix_path(struct sock *sk, char *out)
{
	struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
	const char *sun;
	__u64 n;
	int len;

	out[0] = '\0';
	if (!ua)
		return;
	len = BPF_CORE_READ(ua, len); /* sun_family included */
	sun = (const char *)ua + bpf_core_field_offset(struct unix_address, name) + 2;
	if (len <= 2 || bpf_probe_read_kernel(out, 1, sun) < 0)
		return;
	if (out[0] != '\0') {
		if (bpf_probe_read_kernel_str(out, TP_UNIX_PATH_MAX + 1, sun) < 0)
			out[0] = '\0';
		return;
	}
	n = len - 3;
	if (n > TP_UNIX_PATH_MAX - 1)
		n = TP_UNIX_PATH_MAX - 1;
	asm volatile("" : "+r"(n));
	if (n == 0 || n > TP_UNIX_PATH_MAX - 1 || bpf_probe_read_kernel(out + 1, n, sun + 1) < 0)
		return;
	out[0] = '@';
	out[n + 1] = '\0';
}

/* The family of a socket the network events are about (inet, inet6,
 * unix), or 0 for others (netlink, packet...: not network connections). */
static __always_inline __u16 net_family(struct sock *sk)
{
	__u16 family = sk ? BPF_CORE_READ(sk, __sk_common.skc_family) : 0;

	return family == TP_AF_INET || family == TP_AF_INET6 || family == TP_AF_UNIX ? family : 0;
}

/* A record about socket sk (of a family net_family accepts), reserved and
 * filled with the socket's ends; NULL when the event was filtered out or
 * the ring is full. */
static __always_inline struct tp_net_conn_event *net_sock_event(__u32 type, long ret, __u16 sys,
								 long fd, struct sock *sk,
								 struct socket *sock, __u16 family)
{
	struct tp_net_conn_event *e;

	if (!tp_admit(TP_CAT_NETWORK, ret < 0))
		return NULL;
	e = tp_reserve(sizeof(*e), TP_CAT_NETWORK);
	if (!e)
		return NULL;
	tp_fill_hdr(&e->hdr, type, sizeof(*e));
	e->ret = ret;
	e->fd = fd;
	e->syscall = sys;
	e->backlog = 0;
	e->socktype = BPF_CORE_READ(sock, type);
	e->protocol = family == TP_AF_UNIX ? 0 : sock_protocol(sk);
	e->family = sock_ends(sk, e->saddr, e->daddr, &e->sport, &e->dport);
	e->unix_path[0] = '\0';
	return e;
}

static __always_inline int net_conn(__u32 type, long ret, __u16 sys, long fd, struct sock *sk,
				    struct socket *sock, const void *uaddr, __u32 addrlen)
{
	struct tp_net_conn_event *e;
	__u16 family = net_family(sk), port;
	__u8 addr[16];

	if (!family)
		return 0;
	e = net_sock_event(type, ret, sys, fd, sk, sock, family);
	if (!e)
		return 0;
	if (uaddr) {
		/* connect: the address asked for (a failed connect may have reset it in the
		 * socket). */
		if (user_sockaddr(uaddr, addr, &port) == family) {
			__builtin_memcpy(e->daddr, addr, 16);
			e->dport = port;
		}
		if (family == TP_AF_UNIX)
			unix_path(e->unix_path, uaddr, addrlen);
	}
	tp_submit(e, TP_CAT_NETWORK);
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int tp_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	long fd = (int)TP_ARG1(regs);
	struct socket *sock;
	struct sock *sk = fd_sock(fd, &sock);

	return net_conn(TP_EV_NETWORK_CONNECT, ctx->ret, TP_SYS_CONNECT, fd, sk, sock,
			(const void *)TP_ARG2(regs), TP_ARG3(regs));
}

static __always_inline int net_accept(long ret, __u16 sys, long fd)
{
	struct socket *sock;
	struct sock *sk;

	if (ret == -TP_EAGAIN)
		return 0; /* a non-blocking accept found no connection: not an event */
	sk = fd_sock(ret >= 0 ? ret : fd, &sock);
	if (ret >= 0 && sk && sock_protocol(sk) == IPPROTO_TCP)
		own_socket(sk); /* its state changes until now had no owner */
	return net_conn(TP_EV_NETWORK_ACCEPT, ret, sys, fd, sk, sock, NULL, 0);
}

SEC("tp/syscalls/sys_exit_accept")
int tp_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return net_accept(ctx->ret, TP_SYS_ACCEPT, (int)TP_ARG1(tp_syscall_regs()));
}

SEC("tp/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return net_accept(ctx->ret, TP_SYS_ACCEPT4, (int)TP_ARG1(tp_syscall_regs()));
}

/* ------------------------------------------------------------------ */
/* network.listen, network.stdio_socket */

SEC("tp/syscalls/sys_exit_listen")
int tp_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	long fd = (int)TP_ARG1(regs);
	struct tp_net_conn_event *e;
	struct socket *sock;
	struct sock *sk = fd_sock(fd, &sock);
	__u16 family = net_family(sk);

	if (!family)
		return 0;
	e = net_sock_event(TP_EV_NETWORK_LISTEN, ctx->ret, TP_SYS_LISTEN, fd, sk, sock, family);
	if (!e)
		return 0;
	e->backlog = TP_ARG2(regs);
	if (family == TP_AF_UNIX)
		sock_unix_path(sk, e->unix_path);
	tp_submit(e, TP_CAT_NETWORK);
	return 0;
}

/* A successful duplication of oldfd onto ret: an event when ret is 0, 1 or
 * 2 and the file is a socket. Callers return before anything else when ret
 * is not 0-2, so the common duplications cost one compare. */
static __always_inline int net_stdio(long ret, __u16 sys, long oldfd)
{
	struct tp_net_conn_event *e;
	struct socket *sock;
	struct sock *sk;
	__u16 family;

	if (ret == oldfd)
		return 0; /* dup2(fd, fd): nothing was duplicated */
	sk = fd_sock(ret, &sock);
	family = net_family(sk);
	if (!family)
		return 0;
	e = net_sock_event(TP_EV_NETWORK_STDIO_SOCKET, ret, sys, oldfd, sk, sock, family);
	if (!e)
		return 0;
	if (family == TP_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);

		if (peer)
			sock_unix_path(peer, e->unix_path);
		if (!e->unix_path[0])
			sock_unix_path(sk, e->unix_path);
	}
	tp_submit(e, TP_CAT_NETWORK);
	return 0;
}

#define TP_STDIO_FD(ret) ((unsigned long)(ret) <= 2)

SEC("tp/syscalls/sys_exit_dup")
int tp_exit_dup(struct trace_event_raw_sys_exit *ctx)
{
	if (!TP_STDIO_FD(ctx->ret))
		return 0;
	return net_stdio(ctx->ret, TP_SYS_DUP, (int)TP_ARG1(tp_syscall_regs()));
}

SEC("tp/syscalls/sys_exit_dup2")
int tp_exit_dup2(struct trace_event_raw_sys_exit *ctx)
{
	if (!TP_STDIO_FD(ctx->ret))
		return 0;
	return net_stdio(ctx->ret, TP_SYS_DUP2, (int)TP_ARG1(tp_syscall_regs()));
}

SEC("tp/syscalls/sys_exit_dup3")
int tp_exit_dup3(struct trace_event_raw_sys_exit *ctx)
{
	if (!TP_STDIO_FD(ctx->ret))
		return 0;
	return net_stdio(ctx->ret, TP_SYS_DUP3, (int)TP_ARG1(tp_syscall_regs()));
}

#define TP_F_DUPFD	   0
#define TP_F_DUPFD_CLOEXEC 1030

/* fcntl is frequent (F_GETFL, F_SETFL...): the result is looked at first,
 * then the command, before anything is read. */
SEC("tp/syscalls/sys_exit_fcntl")
int tp_exit_fcntl(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	unsigned int cmd;

	if (!TP_STDIO_FD(ctx->ret))
		return 0;
	regs = tp_syscall_regs();
	cmd = TP_ARG2(regs);
	if (cmd != TP_F_DUPFD && cmd != TP_F_DUPFD_CLOEXEC)
		return 0;
	return net_stdio(ctx->ret, TP_SYS_FCNTL, (int)TP_ARG1(regs));
}

/* ------------------------------------------------------------------ */
/* network.state, network.close */

/* Header of an event about sk: its owner's task when known, else zeroed. */
static __always_inline bool owner_hdr(struct tp_hdr *h, const struct sk_owner *o, __u32 type,
				      __u32 size)
{
	if (o)
		__builtin_memcpy(h, &o->hdr, sizeof(*h));
	else
		__builtin_memset(h, 0, sizeof(*h));
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	return o != NULL;
}

/* raw_tp args: (const struct sock *sk, const int oldstate, const int newstate) */
SEC("raw_tp/inet_sock_set_state")
int tp_inet_sock_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int oldstate = (int)ctx->args[1], newstate = (int)ctx->args[2];
	__u64 key = (__u64)sk;
	const struct tp_settings *s;
	struct tp_net_state_event *e;
	struct sk_owner *o;
	__u16 protocol;

	protocol = sock_protocol(sk);
	/* Connecting and listening happen in the owner's own syscall. */
	if (newstate == TCP_SYN_SENT || newstate == TCP_LISTEN)
		own_socket(sk);
	o = bpf_map_lookup_elem(&sk_owners, &key);
	s = tp_admit_as(TP_CAT_NETWORK, false, o ? o->hdr.pid : (__u32)-1, o ? o->hdr.comm : NULL);
	if (s && (e = tp_reserve(sizeof(*e), TP_CAT_NETWORK))) {
		e->owner_known = owner_hdr(&e->hdr, o, TP_EV_NETWORK_STATE, sizeof(*e));
		e->family = sock_ends(sk, e->saddr, e->daddr, &e->sport, &e->dport);
		e->sock = key;
		e->oldstate = oldstate;
		e->newstate = newstate;
		e->protocol = protocol;
		e->_pad = 0;
		tp_submit(e, TP_CAT_NETWORK);
	}
	if (newstate != TCP_CLOSE)
		return 0;

	/* The connection's end: a summary, then forget the owner. */
	s = tp_admit_as(TP_CAT_NETWORK, false, o ? o->hdr.pid : (__u32)-1, o ? o->hdr.comm : NULL);
	if (s) {
		struct tp_net_close_event *c = tp_reserve(sizeof(*c), TP_CAT_NETWORK);

		if (c) {
			c->owner_known = owner_hdr(&c->hdr, o, TP_EV_NETWORK_CLOSE, sizeof(*c));
			c->family = sock_ends(sk, c->saddr, c->daddr, &c->sport, &c->dport);
			c->sock = key;
			c->oldstate = oldstate;
			c->protocol = protocol;
			c->duration_ns = o ? bpf_ktime_get_boot_ns() - o->start_ns : 0;
			c->bytes_sent = 0;
			c->bytes_received = 0;
			if (protocol == IPPROTO_TCP) {
				struct tcp_sock *tp = (struct tcp_sock *)sk;

				c->bytes_sent = BPF_CORE_READ(tp, bytes_acked);
				c->bytes_received = BPF_CORE_READ(tp, bytes_received);
			}
			tp_submit(c, TP_CAT_NETWORK);
		}
	}
	if (o)
		bpf_map_delete_elem(&sk_owners, &key);
	return 0;
}

/* ------------------------------------------------------------------ */
/* network.dns */

/*
 * One message sent on socket fd: when it goes to UDP port 53 and looks like
 * a standard query, report its first question. daddr_u is the message's
 * destination (NULL: the socket's peer).
 *
 * A global function: the verifier checks it once per program, not once per
 * call site (sendmmsg calls it in a loop). Its arguments are scalars (user
 * pointers are not memory the verifier knows), at most five: sys_fd packs
 * the syscall id above the descriptor.
 */
__noinline int net_dns(long ret, __u64 sys_fd, __u64 buf_u, __u64 len, __u64 daddr_u)
{
	const __u8 *buf = (const __u8 *)buf_u;
	__u16 sys = sys_fd >> 32;
	long fd = (int)sys_fd;
	const struct tp_settings *s;
	struct tp_net_dns_event *e;
	__u8 hdr[13], addr[16], q[4];
	__u16 family, port, flags, qdcount;
	struct socket *sock;
	struct sock *sk;
	__u32 idx, n;
	int i;

	if (len < 17 || len > TP_DNS_MAX || !buf)
		return 0;
	if (daddr_u) {
		family = user_sockaddr((const void *)daddr_u, addr, &port);
		if (port != TP_DNS_PORT)
			return 0;
	}
	sk = fd_sock(fd, &sock);
	if (!sk || sock_protocol(sk) != IPPROTO_UDP)
		return 0;
	if (!daddr_u) {
		__u8 saddr[16];
		__u16 sport;

		family = sock_ends(sk, saddr, addr, &sport, &port);
		if (port != TP_DNS_PORT)
			return 0;
	}
	if (bpf_probe_read_user(hdr, sizeof(hdr), buf) < 0)
		return 0;
	flags = (hdr[2] << 8) | hdr[3];
	qdcount = (hdr[4] << 8) | hdr[5];
	if ((flags & 0xf800) || qdcount == 0 || (hdr[12] & 0xc0))
		return 0; /* a response, not a standard query, or no question */

	s = tp_admit(TP_CAT_NETWORK, ret < 0);
	if (!s)
		return 0;
	e = tp_reserve(sizeof(*e), TP_CAT_NETWORK);
	if (!e)
		return 0;
	tp_fill_hdr(&e->hdr, TP_EV_NETWORK_DNS, sizeof(*e));
	e->ret = ret;
	e->family = family;
	e->dport = port;
	__builtin_memcpy(e->daddr, addr, 16);
	e->id = (hdr[0] << 8) | hdr[1];
	e->syscall = sys;
	e->qtype = 0;
	e->qclass = 0;
	/* The name's labels as they are, then each length byte after the
	 * first becomes a dot: 3www7example3com0 -> www.example.com. */
	n = len - 13;
	if (n > TP_PATH_MAX - 1)
		n = TP_PATH_MAX - 1;
	if (bpf_probe_read_user(e->qname, n & (TP_PATH_MAX - 1), buf + 13) < 0)
		n = 0;
	e->qname[n & (TP_PATH_MAX - 1)] = '\0';
	idx = hdr[12];
	for (i = 0; i < 128; i++) {
		__u8 c;

		if (idx >= n)
			break;
		c = e->qname[idx & (TP_PATH_MAX - 1)];
		if (c == 0)
			break;
		if (c & 0xc0) { /* compression has no place in a question */
			idx = n;
			break;
		}
		e->qname[idx & (TP_PATH_MAX - 1)] = '.';
		idx += c + 1;
	}
	if (idx < n && bpf_probe_read_user(q, sizeof(q), buf + 13 + idx + 1) == 0) {
		e->qtype = (q[0] << 8) | q[1];
		e->qclass = (q[2] << 8) | q[3];
	}
	e->qname[idx & (TP_PATH_MAX - 1)] = '\0';
	tp_submit(e, TP_CAT_NETWORK);
	return 0;
}

#define DNS_SYS_FD(sys, fd) (((__u64)(sys) << 32) | (__u32)(fd))

SEC("tp/syscalls/sys_exit_sendto")
int tp_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return net_dns(ctx->ret, DNS_SYS_FD(TP_SYS_SENDTO, TP_ARG1(regs)), TP_ARG2(regs),
		       TP_ARG3(regs), TP_ARG5(regs));
}

/* One user_msghdr: its destination and first buffer. */
static __always_inline int net_dns_msg(long ret, __u16 sys, long fd, const struct user_msghdr *um)
{
	struct user_msghdr m;
	struct iovec iov;

	if (bpf_probe_read_user(&m, sizeof(m), um) < 0 || m.msg_iovlen < 1 ||
	    bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov) < 0)
		return 0;
	return net_dns(ret, DNS_SYS_FD(sys, fd), (__u64)iov.iov_base, iov.iov_len,
		       (__u64)m.msg_name);
}

SEC("tp/syscalls/sys_exit_sendmsg")
int tp_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();

	return net_dns_msg(ctx->ret, TP_SYS_SENDMSG, (int)TP_ARG1(regs),
			   (const struct user_msghdr *)TP_ARG2(regs));
}

SEC("tp/syscalls/sys_exit_sendmmsg")
int tp_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = tp_syscall_regs();
	const struct mmsghdr *vec = (const struct mmsghdr *)TP_ARG2(regs);
	long fd = (int)TP_ARG1(regs), ret = ctx->ret;
	unsigned int vlen = TP_ARG3(regs);
	int i;

	/* ret: messages sent, each with its byte count in msg_len; on
	 * failure, report what was attempted with the error. */
	for (i = 0; i < TP_DNS_MMSG_MAX; i++) {
		unsigned int sent = 0;

		if (i >= vlen || (ret >= 0 && i >= ret))
			break;
		if (ret >= 0)
			bpf_probe_read_user(&sent, sizeof(sent), &vec[i].msg_len);
		net_dns_msg(ret < 0 ? ret : sent, TP_SYS_SENDMMSG, fd, &vec[i].msg_hdr);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
