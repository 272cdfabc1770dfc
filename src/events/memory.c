/* Descriptors of the memory family: oom, mmap_exec, page_fault. */
#include "events/types.h"

_Static_assert(sizeof(struct tp_oom_event) == 144, "layout shared with BPF");
_Static_assert(sizeof(struct tp_mmap_exec_event) == 376, "layout shared with BPF");
_Static_assert(sizeof(struct tp_page_fault_event) == 96, "layout shared with BPF");

static const struct tp_sym prot_syms[] = {
	{ 0, "PROT_NONE" }, { 1, "PROT_READ" }, { 2, "PROT_WRITE" }, { 4, "PROT_EXEC" },
	{ 0x01000000, "PROT_GROWSDOWN" }, { 0x02000000, "PROT_GROWSUP" }, { 0, NULL },
};

/* MAP_* flags (asm-generic numbers, as on x86 and arm64). */
static const struct tp_sym map_syms[] = {
	{ 0x01, "MAP_SHARED" },     { 0x02, "MAP_PRIVATE" },    { 0x10, "MAP_FIXED" },
	{ 0x20, "MAP_ANONYMOUS" },  { 0x0100, "MAP_GROWSDOWN" }, { 0x0800, "MAP_DENYWRITE" },
	{ 0x1000, "MAP_EXECUTABLE" }, { 0x2000, "MAP_LOCKED" },  { 0x4000, "MAP_NORESERVE" },
	{ 0x8000, "MAP_POPULATE" }, { 0x10000, "MAP_NONBLOCK" }, { 0x20000, "MAP_STACK" },
	{ 0x40000, "MAP_HUGETLB" }, { 0x80000, "MAP_SYNC" },     { 0x100000, "MAP_FIXED_NOREPLACE" },
	{ 0, NULL },
};

static const struct tp_field oom_fields[] = {
	TP_FIELD(struct tp_oom_event, "victim_pid", victim_pid, TP_FK_U32),
	TP_FIELD(struct tp_oom_event, "victim_comm", victim_comm, TP_FK_STR),
	TP_FIELD(struct tp_oom_event, "victim_uid", victim_uid, TP_FK_U32),
	TP_FIELD(struct tp_oom_event, "total_vm_kb", total_vm_kb, TP_FK_U64),
	TP_FIELD(struct tp_oom_event, "anon_rss_kb", anon_rss_kb, TP_FK_U64),
	TP_FIELD(struct tp_oom_event, "file_rss_kb", file_rss_kb, TP_FK_U64),
	TP_FIELD(struct tp_oom_event, "shmem_rss_kb", shmem_rss_kb, TP_FK_U64),
	TP_FIELD(struct tp_oom_event, "pgtables_kb", pgtables_kb, TP_FK_U64),
	TP_FIELD(struct tp_oom_event, "oom_score_adj", oom_score_adj, TP_FK_S32),
};

static const struct tp_field mmap_exec_fields[] = {
	TP_FIELD(struct tp_mmap_exec_event, "addr", addr, TP_FK_HEX),
	TP_FIELD(struct tp_mmap_exec_event, "len", len, TP_FK_U64),
	TP_FIELD_SYMS(struct tp_mmap_exec_event, "prot", prot, TP_FK_HEX, prot_syms, true),
	TP_FIELD_SYMS(struct tp_mmap_exec_event, "flags", flags, TP_FK_HEX, map_syms, true),
	TP_FIELD(struct tp_mmap_exec_event, "anonymous", anonymous, TP_FK_BOOL),
	TP_FIELD(struct tp_mmap_exec_event, "path", path, TP_FK_STR),
	TP_FIELD(struct tp_mmap_exec_event, "fd", fd, TP_FK_S32),
	TP_FIELD_SYMS(struct tp_mmap_exec_event, "ret", ret, TP_FK_S32, tp_errno_syms, false),
	TP_FIELD_SYMS(struct tp_mmap_exec_event, "syscall", syscall, TP_FK_U16, tp_syscall_syms, false),
	TP_FIELD_BIT(struct tp_mmap_exec_event, "path_truncated", path_flags, TP_PATH_TRUNCATED),
};

static const struct tp_field page_fault_fields[] = {
	TP_FIELD(struct tp_page_fault_event, "addr", addr, TP_FK_HEX),
	TP_FIELD(struct tp_page_fault_event, "ip", ip, TP_FK_HEX),
	TP_FIELD(struct tp_page_fault_event, "sample_period", sample_period, TP_FK_U64),
};

#define TYPE(tid, tname, st, f)                                                              \
	{ .id = tid, .name = tname, .size = sizeof(st), .min_size = sizeof(st), TP_FIELDS(f) }

const struct tp_event_type tp_memory_event_types[] = {
	TYPE(TP_EV_MEMORY_OOM, "memory.oom", struct tp_oom_event, oom_fields),
	TYPE(TP_EV_MEMORY_MMAP_EXEC, "memory.mmap_exec", struct tp_mmap_exec_event, mmap_exec_fields),
	TYPE(TP_EV_MEMORY_PAGE_FAULT, "memory.page_fault", struct tp_page_fault_event,
	     page_fault_fields),
	{ 0 },
};
