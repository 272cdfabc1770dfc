/*
 * events/event.h - the decoded event every stage of the pipeline works on, and the
 * registry of event types.
 *
 * A decoded event is the kernel record, validated and copied into an owned,
 * aligned buffer, plus its type descriptor and wall-clock time. Fields are
 * not unpacked into a C struct per type: each type lists its fields with
 * name, kind and offset, and the formatters, the Lua bridge, storage and the
 * gRPC encoder all read fields through that one table. Adding an event type
 * is adding a struct to bpf/events.h and a descriptor table here, nothing
 * else.
 */
#ifndef TAPIO_EVENT_H
#define TAPIO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "events.h"

#define TP_RECORD_MAX 4096 /* largest record accepted from any source */

enum tp_field_kind {
	TP_FK_U8,
	TP_FK_U16,
	TP_FK_U32,
	TP_FK_S32,
	TP_FK_U64,
	TP_FK_S64,
	TP_FK_STR,    /* char[size], NUL-terminated by the decoder */
	TP_FK_ARGV,   /* NUL-separated strings; aux = offset of the __u32 byte count */
	TP_FK_IPADDR, /* 16 bytes (IPv4 in the first 4); aux = offset of a __u16 family */
	TP_FK_BOOL,   /* __u32, rendered true/false */
	TP_FK_HEX,    /* __u32 or __u64 (size), rendered as a 0x... string in text output */
	TP_FK_OCTAL,  /* unsigned (file modes), rendered as 0644 in text output; a number in JSON */
	TP_FK_ENV,    /* NUL-separated NAME=value strings, stored like TP_FK_ARGV; an object
		       * {NAME: value} (first occurrence of each name), absent when empty */
};

/* Symbolic names for enum-like or flag values (signals, open flags...). */
struct tp_sym {
	uint64_t value;
	const char *name;
};

struct tp_field {
	const char *name;        /* as in Lua and JSON: "filename", "argv"... */
	enum tp_field_kind kind;
	uint16_t offset;         /* from the start of the record */
	uint16_t size;
	uint16_t aux;
	/* Optional: render the value symbolically in text output and as an extra
	 * "<name>_str" string in JSON. flags: OR of values, else exact match. */
	const struct tp_sym *syms;
	bool flags;
	/* Optional: the field is present only when the __u32 at present_offset
	 * has a bit of present_mask set (0: always present). A field whose mask
	 * covers itself is absent when zero. */
	uint16_t present_offset;
	uint32_t present_mask;
};

struct tp_event_type {
	uint32_t id;             /* enum tp_event_type_id */
	const char *name;        /* "process.exec" */
	uint32_t size;           /* largest record: sizeof the kernel struct */
	uint32_t min_size;       /* smallest valid record */
	/* The record ends with its path (bpf/file.bpf.c, PATH_SEND): the kernel
	 * reserves it in a size class, and its header's size says where it ends
	 * inside the ring space it got (src/bpf/source_bpf.c). */
	bool ends_with_path;
	const struct tp_field *fields;
	uint32_t nfields;
	/* Optional extra validation of a record that passed the generic checks. */
	int (*validate)(const void *rec, uint32_t len);
};

struct tp_event {
	const struct tp_event_type *type;
	uint64_t ts_wall_ns;     /* wall clock */
	uint32_t len;            /* bytes valid in rec */
	uint32_t _pad;
	union {
		struct tp_hdr hdr;
		uint8_t bytes[TP_RECORD_MAX];
	} rec __attribute__((aligned(8)));
};

const char *tp_category_name(unsigned category);
/* Returns the category id for a name ("network"), or -1. */
int tp_category_by_name(const char *name);

const struct tp_event_type *tp_event_type_by_id(uint32_t id);
/* The indices into the type's fields of those the decoder checks (the
 * strings, argv and env), *n of them: no type has more than
 * TP_CHECKED_FIELDS_MAX. For an unknown id, *n = 0. */
#define TP_CHECKED_FIELDS_MAX 8
const uint8_t *tp_event_type_checked_fields(uint32_t id, uint32_t *n);
const struct tp_event_type *tp_event_type_by_name(const char *name);
/* Iterate all registered types: for (i = 0; (t = tp_event_type_at(i)); i++) */
const struct tp_event_type *tp_event_type_at(size_t i);

const struct tp_field *tp_event_field(const struct tp_event_type *t, const char *name);

/* The unsigned number of size bytes (1, 2, 4 or 8; else 0) at p, as the
 * record holds it: fixed-size loads, no memcpy call. */
static inline uint64_t tp_load_uint(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 8: {
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, p, 4);
		return x;
	}
	case 2: {
		uint16_t x;
		memcpy(&x, p, 2);
		return x;
	}
	case 1:
		return *p;
	default:
		return 0;
	}
}

/* Field access. A field that lies past the record's end (a shorter record of
 * a type with a variable tail), or whose presence condition is not met,
 * reads as absent: these return false. A string is present when the
 * record holds its first byte: a record may end inside its last string
 * (file.open ends with its path), which the decoder terminated. */
static inline bool tp_field_present(const struct tp_event *ev, const struct tp_field *f)
{
	uint32_t cond;

	if ((uint32_t)f->offset + (f->kind == TP_FK_STR ? 1 : f->size) > ev->len)
		return false;
	if (f->kind == TP_FK_ENV) {
		memcpy(&cond, ev->rec.bytes + f->aux, 4);
		return cond != 0; /* no variable: absent */
	}
	if (!f->present_mask)
		return true;
	if ((uint32_t)f->present_offset + 4 > ev->len)
		return false;
	memcpy(&cond, ev->rec.bytes + f->present_offset, 4);
	return (cond & f->present_mask) != 0;
}
bool tp_field_u64(const struct tp_event *ev, const struct tp_field *f, uint64_t *v);
bool tp_field_i64(const struct tp_event *ev, const struct tp_field *f, int64_t *v);
/* STR: pointer to the NUL-terminated string inside the record. */
const char *tp_field_str(const struct tp_event *ev, const struct tp_field *f);
/* ARGV, ENV: bytes and their count. */
const char *tp_field_argv(const struct tp_event *ev, const struct tp_field *f, uint32_t *len);
/* IPADDR: address family (AF_INET / AF_INET6, 0 if unset) and text form. */
int tp_field_ipaddr(const struct tp_event *ev, const struct tp_field *f, char *buf, size_t len);
/* Symbolic name(s) of a value through f->syms, written to buf; false if none. */
bool tp_field_sym(const struct tp_field *f, uint64_t v, char *buf, size_t len);
/* The same, returning the length of the name(s) written, or -1 for none.
 * f is a type's constant field (names are kept per thread by field and value). */
ssize_t tp_field_sym_len(const struct tp_field *f, uint64_t v, char *buf, size_t len);

/* One NAME=value string of an ENV field. */
struct tp_env_entry {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	const char *next; /* where the iteration goes on */
};
/* Iterate the entries of an ENV field, the first of each name only,
 * skipping strings without '=': for (bool ok = tp_env_next(buf, len, NULL,
 * &e); ok; ok = tp_env_next(buf, len, &e, &e)) */
bool tp_env_next(const char *buf, uint32_t len, const struct tp_env_entry *prev,
		 struct tp_env_entry *out);

/* Iterate the NUL-separated strings of an ARGV field:
 * for (p = tp_argv_next(buf, len, NULL, &n); p; p = tp_argv_next(buf, len, p, &n)) */
const char *tp_argv_next(const char *buf, uint32_t len, const char *prev, size_t *n);

#endif
