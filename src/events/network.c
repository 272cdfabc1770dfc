/* Descriptors of the network family: connect, accept, close, state, dns,
 * listen, stdio_socket. */
#include "events/types.h"

_Static_assert(sizeof(struct tp_net_conn_event) == 240, "layout shared with BPF");
_Static_assert(sizeof(struct tp_net_state_event) == 136, "layout shared with BPF");
_Static_assert(sizeof(struct tp_net_close_event) == 152, "layout shared with BPF");
_Static_assert(sizeof(struct tp_net_dns_event) == 360, "layout shared with BPF");

static const struct tp_sym family_syms[] = {
	{ 1, "AF_UNIX" }, { 2, "AF_INET" }, { 10, "AF_INET6" }, { 0, NULL },
};

static const struct tp_sym protocol_syms[] = {
	{ 1, "IPPROTO_ICMP" },  { 6, "IPPROTO_TCP" },     { 17, "IPPROTO_UDP" },
	{ 58, "IPPROTO_ICMPV6" }, { 132, "IPPROTO_SCTP" }, { 136, "IPPROTO_UDPLITE" },
	{ 255, "IPPROTO_RAW" }, { 262, "IPPROTO_MPTCP" }, { 0, NULL },
};

static const struct tp_sym socktype_syms[] = {
	{ 1, "SOCK_STREAM" }, { 2, "SOCK_DGRAM" }, { 3, "SOCK_RAW" },
	{ 4, "SOCK_RDM" },    { 5, "SOCK_SEQPACKET" }, { 0, NULL },
};

static const struct tp_sym tcp_state_syms[] = {
	{ 1, "TCP_ESTABLISHED" }, { 2, "TCP_SYN_SENT" },   { 3, "TCP_SYN_RECV" },
	{ 4, "TCP_FIN_WAIT1" },   { 5, "TCP_FIN_WAIT2" },  { 6, "TCP_TIME_WAIT" },
	{ 7, "TCP_CLOSE" },       { 8, "TCP_CLOSE_WAIT" }, { 9, "TCP_LAST_ACK" },
	{ 10, "TCP_LISTEN" },     { 11, "TCP_CLOSING" },   { 12, "TCP_NEW_SYN_RECV" },
	{ 0, NULL },
};

static const struct tp_sym qtype_syms[] = {
	{ 1, "A" },      { 2, "NS" },     { 5, "CNAME" },  { 6, "SOA" },    { 12, "PTR" },
	{ 15, "MX" },    { 16, "TXT" },   { 28, "AAAA" },  { 33, "SRV" },   { 35, "NAPTR" },
	{ 43, "DS" },    { 48, "DNSKEY" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" },
	{ 252, "AXFR" }, { 255, "ANY" },  { 257, "CAA" },  { 0, NULL },
};

static const struct tp_sym qclass_syms[] = {
	{ 1, "IN" }, { 3, "CH" }, { 4, "HS" }, { 255, "ANY" }, { 0, NULL },
};

#define SYSCALL(st) TP_FIELD_SYMS(st, "syscall", syscall, TP_FK_U16, tp_syscall_syms, false)
#define RET(st) TP_FIELD_SYMS(st, "ret", ret, TP_FK_S32, tp_errno_syms, false)
#define ENDS(st)                                                                             \
	TP_FIELD_SYMS(st, "family", family, TP_FK_U16, family_syms, false),                  \
		TP_FIELD_ADDR(st, "saddr", saddr, family), TP_FIELD(st, "sport", sport, TP_FK_U16), \
		TP_FIELD_ADDR(st, "daddr", daddr, family), TP_FIELD(st, "dport", dport, TP_FK_U16), \
		TP_FIELD_SYMS(st, "protocol", protocol, TP_FK_U16, protocol_syms, false)

static const struct tp_field conn_fields[] = {
	ENDS(struct tp_net_conn_event),
	TP_FIELD_SYMS(struct tp_net_conn_event, "socktype", socktype, TP_FK_U16, socktype_syms, false),
	TP_FIELD(struct tp_net_conn_event, "unix_path", unix_path, TP_FK_STR),
	RET(struct tp_net_conn_event),
	TP_FIELD(struct tp_net_conn_event, "fd", fd, TP_FK_S32),
	SYSCALL(struct tp_net_conn_event),
};

static const struct tp_field state_fields[] = {
	ENDS(struct tp_net_state_event),
	TP_FIELD_SYMS(struct tp_net_state_event, "oldstate", oldstate, TP_FK_U32, tcp_state_syms, false),
	TP_FIELD_SYMS(struct tp_net_state_event, "newstate", newstate, TP_FK_U32, tcp_state_syms, false),
	TP_FIELD(struct tp_net_state_event, "sock", sock, TP_FK_HEX),
	TP_FIELD(struct tp_net_state_event, "owner_known", owner_known, TP_FK_BOOL),
};

static const struct tp_field close_fields[] = {
	ENDS(struct tp_net_close_event),
	TP_FIELD(struct tp_net_close_event, "bytes_sent", bytes_sent, TP_FK_U64),
	TP_FIELD(struct tp_net_close_event, "bytes_received", bytes_received, TP_FK_U64),
	TP_FIELD(struct tp_net_close_event, "duration_ns", duration_ns, TP_FK_U64),
	TP_FIELD_SYMS(struct tp_net_close_event, "oldstate", oldstate, TP_FK_U32, tcp_state_syms, false),
	TP_FIELD(struct tp_net_close_event, "sock", sock, TP_FK_HEX),
	TP_FIELD(struct tp_net_close_event, "owner_known", owner_known, TP_FK_BOOL),
};

static const struct tp_field dns_fields[] = {
	TP_FIELD(struct tp_net_dns_event, "qname", qname, TP_FK_STR),
	TP_FIELD_SYMS(struct tp_net_dns_event, "qtype", qtype, TP_FK_U16, qtype_syms, false),
	TP_FIELD_SYMS(struct tp_net_dns_event, "qclass", qclass, TP_FK_U16, qclass_syms, false),
	TP_FIELD(struct tp_net_dns_event, "id", id, TP_FK_U16),
	TP_FIELD_SYMS(struct tp_net_dns_event, "family", family, TP_FK_U16, family_syms, false),
	TP_FIELD_ADDR(struct tp_net_dns_event, "daddr", daddr, family),
	TP_FIELD(struct tp_net_dns_event, "dport", dport, TP_FK_U16),
	RET(struct tp_net_dns_event),
	SYSCALL(struct tp_net_dns_event),
};

static const struct tp_field listen_fields[] = {
	TP_FIELD_SYMS(struct tp_net_conn_event, "family", family, TP_FK_U16, family_syms, false),
	TP_FIELD_ADDR(struct tp_net_conn_event, "saddr", saddr, family),
	TP_FIELD(struct tp_net_conn_event, "sport", sport, TP_FK_U16),
	TP_FIELD_SYMS(struct tp_net_conn_event, "protocol", protocol, TP_FK_U16, protocol_syms, false),
	TP_FIELD_SYMS(struct tp_net_conn_event, "socktype", socktype, TP_FK_U16, socktype_syms, false),
	TP_FIELD(struct tp_net_conn_event, "unix_path", unix_path, TP_FK_STR),
	TP_FIELD(struct tp_net_conn_event, "backlog", backlog, TP_FK_U32),
	RET(struct tp_net_conn_event),
	TP_FIELD(struct tp_net_conn_event, "fd", fd, TP_FK_S32),
};

static const struct tp_field stdio_fields[] = {
	TP_FIELD(struct tp_net_conn_event, "newfd", ret, TP_FK_S32),
	TP_FIELD(struct tp_net_conn_event, "fd", fd, TP_FK_S32),
	ENDS(struct tp_net_conn_event),
	TP_FIELD_SYMS(struct tp_net_conn_event, "socktype", socktype, TP_FK_U16, socktype_syms, false),
	TP_FIELD(struct tp_net_conn_event, "unix_path", unix_path, TP_FK_STR),
	SYSCALL(struct tp_net_conn_event),
};

#define TYPE(tid, tname, st, f)                                                              \
	{ .id = tid, .name = tname, .size = sizeof(st), .min_size = sizeof(st), TP_FIELDS(f) }

const struct tp_event_type tp_network_event_types[] = {
	TYPE(TP_EV_NETWORK_CONNECT, "network.connect", struct tp_net_conn_event, conn_fields),
	TYPE(TP_EV_NETWORK_ACCEPT, "network.accept", struct tp_net_conn_event, conn_fields),
	TYPE(TP_EV_NETWORK_CLOSE, "network.close", struct tp_net_close_event, close_fields),
	TYPE(TP_EV_NETWORK_STATE, "network.state", struct tp_net_state_event, state_fields),
	TYPE(TP_EV_NETWORK_DNS, "network.dns", struct tp_net_dns_event, dns_fields),
	TYPE(TP_EV_NETWORK_LISTEN, "network.listen", struct tp_net_conn_event, listen_fields),
	TYPE(TP_EV_NETWORK_STDIO_SOCKET, "network.stdio_socket", struct tp_net_conn_event,
	     stdio_fields),
	{ 0 },
};
