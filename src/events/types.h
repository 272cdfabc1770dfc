/*
 * types.h - descriptor tables of every probe family (one file each under
 * src/events/) and shared symbol tables.
 */
#ifndef TAPIO_EVENTS_TYPES_H
#define TAPIO_EVENTS_TYPES_H

#include <stddef.h>

#include "events/event.h"

#define TP_FIELD(st, fname, member, fkind)                                                   \
	{ .name = fname, .kind = fkind, .offset = offsetof(st, member),                      \
	  .size = sizeof(((st *)0)->member) }
#define TP_FIELD_SYMS(st, fname, member, fkind, table, isflags)                             \
	{ .name = fname, .kind = fkind, .offset = offsetof(st, member),                      \
	  .size = sizeof(((st *)0)->member), .syms = table, .flags = isflags }
#define TP_FIELD_ARGV(st, fname, member, lenmember)                                          \
	{ .name = fname, .kind = TP_FK_ARGV, .offset = offsetof(st, member),                 \
	  .size = sizeof(((st *)0)->member), .aux = offsetof(st, lenmember) }
#define TP_FIELD_BIT(st, fname, member, mask)                                                \
	{ .name = fname, .kind = TP_FK_BOOL, .offset = offsetof(st, member),                 \
	  .size = sizeof(((st *)0)->member), .aux = mask }
#define TP_FIELD_ADDR(st, fname, member, familymember)                                       \
	{ .name = fname, .kind = TP_FK_IPADDR, .offset = offsetof(st, member),               \
	  .size = sizeof(((st *)0)->member), .aux = offsetof(st, familymember) }
/* Present only when flagmember has a bit of mask set. */
#define TP_FIELD_IF(st, fname, member, fkind, flagmember, mask)                              \
	{ .name = fname, .kind = fkind, .offset = offsetof(st, member),                      \
	  .size = sizeof(((st *)0)->member), .present_offset = offsetof(st, flagmember),     \
	  .present_mask = mask }
/* A __u32 field that is absent when zero. */
#define TP_FIELD_NONZERO(st, fname, member, fkind)                                           \
	TP_FIELD_IF(st, fname, member, fkind, member, 0xffffffffu)
#define TP_FIELDS(arr) .fields = arr, .nfields = sizeof(arr) / sizeof(arr[0])

/* Each table ends with an entry whose name is NULL. */
extern const struct tp_event_type tp_process_event_types[];
extern const struct tp_event_type tp_file_event_types[];
extern const struct tp_event_type tp_network_event_types[];
extern const struct tp_event_type tp_security_event_types[];
extern const struct tp_event_type tp_container_event_types[];
extern const struct tp_event_type tp_memory_event_types[];
extern const struct tp_event_type tp_agent_event_types[];

/* Signal numbers to names ("SIGKILL"). */
extern const struct tp_sym tp_signal_syms[];
/* -errno values of ret fields ("ENOENT"). */
extern const struct tp_sym tp_errno_syms[];
/* enum tp_syscall_id ("openat"). */
extern const struct tp_sym tp_syscall_syms[];
/* Capabilities as bits of a 64-bit set ("CAP_SETUID"). */
extern const struct tp_sym tp_cap_syms[];
/* io_uring opcodes ("IORING_OP_OPENAT"). */
extern const struct tp_sym tp_io_uring_op_syms[];
/* bpf(2) commands ("BPF_PROG_LOAD"). */
extern const struct tp_sym tp_bpf_cmd_syms[];

#endif
