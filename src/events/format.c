#include "events/format.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "events/proc_ctx.h"
#include "util/time.h"

int tp_format_parse(const char *name, enum tp_output_format *fmt)
{
	if (!strcmp(name, "text"))
		*fmt = TP_FMT_TEXT;
	else if (!strcmp(name, "json"))
		*fmt = TP_FMT_JSON;
	else if (!strcmp(name, "none"))
		*fmt = TP_FMT_NONE;
	else
		return -EINVAL;
	return 0;
}

/* ,"<key><suffix>": in one reservation. Keys are our own identifiers: no
 * escaping needed. */
static void json_key_suffixed(struct tp_buf *b, const char *key, const char *suffix)
{
	size_t kn = strlen(key), sn = strlen(suffix);
	char *p;

	if (!tp_buf_reserve(b, kn + sn + 4))
		return;
	p = b->data + b->len;
	*p++ = ',';
	*p++ = '"';
	memcpy(p, key, kn);
	p += kn;
	memcpy(p, suffix, sn);
	p += sn;
	*p++ = '"';
	*p++ = ':';
	b->len = (size_t)(p - b->data);
}

/* A string literal appended without strlen. */
#define PUT_LIT(b, lit) tp_buf_append((b), (lit), sizeof(lit) - 1)

/* "%.6g" of d. The values an event carries (importance: the few a rule set
 * gives) repeat, so the last few are kept per thread by their bits: the
 * same bytes as snprintf without its cost on every line. */
#define DBL_CACHE 8
static _Thread_local struct {
	uint64_t bits;
	uint8_t len; /* 0: empty */
	char s[23];
} dbl_cache[DBL_CACHE];

static void json_double(struct tp_buf *b, double d)
{
	uint64_t bits;
	unsigned slot;
	int n;

	if (!isfinite(d)) {
		PUT_LIT(b, "null");
		return;
	}
	memcpy(&bits, &d, sizeof(bits));
	slot = (unsigned)((bits ^ (bits >> 29) ^ (bits >> 52)) % DBL_CACHE);
	if (dbl_cache[slot].len && dbl_cache[slot].bits == bits) {
		tp_buf_append(b, dbl_cache[slot].s, dbl_cache[slot].len);
		return;
	}
	/* "%.6g" of a finite double: at most "-1.23457e+308", 13 bytes. */
	n = snprintf(dbl_cache[slot].s, sizeof(dbl_cache[slot].s), "%.6g", d);
	if (n <= 0 || (size_t)n >= sizeof(dbl_cache[slot].s)) {
		dbl_cache[slot].len = 0;
		tp_buf_printf(b, "%.6g", d);
		return;
	}
	dbl_cache[slot].bits = bits;
	dbl_cache[slot].len = (uint8_t)n;
	tp_buf_append(b, dbl_cache[slot].s, (size_t)n);
}

static void json_value(struct tp_buf *b, const struct tp_value *v)
{
	switch (v->kind) {
	case TP_V_STR: tp_buf_json_str(b, v->str.s, v->str.len); break;
	case TP_V_INT: tp_buf_i64(b, v->i); break;
	case TP_V_NUM: json_double(b, v->d); break;
	case TP_V_BOOL: tp_buf_puts(b, v->b ? "true" : "false"); break;
	}
}

/* Each type's keys, rendered once: ,"<name>": and ,"<name>_str": per
 * field, so a line copies them with their length known. Built at the first
 * line (the types are all registered before main); a type without them
 * (out of memory) has its keys written as before. */
struct json_fkey {
	const char *key, *skey;
	uint16_t klen, sklen;
};

/* What a line needs of a field, in 40 bytes with its key (most keys fit
 * OP_KEY): a type's fields are a few cache lines in a row, not the field
 * table, the keys table and the keys each (cold after the rules' work). */
#define OP_KEY 24
struct json_op {
	uint16_t offset, size;
	uint16_t cond_offset; /* present when the __u32 there has a bit of cond_mask */
	uint8_t kind;
	uint8_t klen; /* of key; 0: not here (the keys table has it) */
	uint32_t cond_mask; /* 0: always present */
	uint16_t aux;
	uint8_t field; /* index in the type's fields */
	bool syms;
	char key[OP_KEY];
};

struct json_type_keys {
	const struct tp_event_type *type;
	size_t name_len;
	bool has_argv; /* an argv field of its own (process.exec) */
	const struct json_op *ops; /* one per field, NULL: written from the fields */
	struct json_fkey f[];
};

#define KEY_SLOTS 64
static struct json_type_keys *type_keys[TP_CAT_MAX][KEY_SLOTS];
static pthread_once_t type_keys_once = PTHREAD_ONCE_INIT;

/* A key is stored in KEY_PAD bytes at least: one that fits is copied
 * whole, a copy of known size. */
#define KEY_PAD 32

static size_t key_room(const char *name, const char *suffix)
{
	size_t n = strlen(name) + strlen(suffix) + 4;

	return n < KEY_PAD ? KEY_PAD : n;
}

/* ,"<name><suffix>": at k; returns its length. */
static uint16_t key_put(char *k, const char *name, const char *suffix)
{
	size_t nn = strlen(name), sn = strlen(suffix), n = nn + sn + 4;

	k[0] = ',';
	k[1] = '"';
	memcpy(k + 2, name, nn);
	memcpy(k + 2 + nn, suffix, sn);
	k[n - 2] = '"';
	k[n - 1] = ':';
	return (uint16_t)n;
}

static void op_build(struct json_op *op, const struct tp_field *f, uint32_t j,
		     const struct json_fkey *fk)
{
	op->offset = f->offset;
	op->size = f->size;
	op->kind = (uint8_t)f->kind;
	op->aux = f->aux;
	op->field = (uint8_t)j;
	op->syms = f->syms != NULL;
	/* An ENV field's condition (its count) is tp_field_present's own. */
	if (f->kind != TP_FK_ENV) {
		op->cond_offset = f->present_offset;
		op->cond_mask = f->present_mask;
	}
	if (fk->klen <= OP_KEY) {
		memcpy(op->key, fk->key, fk->klen);
		op->klen = (uint8_t)fk->klen;
	}
}

static void type_keys_build(void)
{
	const struct tp_event_type *t;

	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		unsigned cat = TP_TYPE_CATEGORY(t->id), sub = t->id & 0xff;
		size_t head = sizeof(struct json_type_keys) + t->nfields * sizeof(struct json_fkey);
		size_t room = 0;
		struct json_type_keys *tk;
		char *k;

		if (cat >= TP_CAT_MAX || sub >= KEY_SLOTS)
			continue;
		for (uint32_t j = 0; j < t->nfields && room <= UINT16_MAX; j++)
			room += key_room(t->fields[j].name, "") + key_room(t->fields[j].name, "_str");
		if (room > UINT16_MAX)
			continue; /* not our identifiers: written as before */
		head = (head + 7) & ~(size_t)7;
		/* The table, its ops and its keys in one piece. */
		tk = calloc(1, head + t->nfields * sizeof(struct json_op) + room);
		if (!tk)
			continue;
		tk->type = t;
		tk->name_len = strlen(t->name);
		tk->has_argv = tp_event_field(t, "argv") != NULL;
		k = (char *)tk + head + t->nfields * sizeof(struct json_op);
		for (uint32_t j = 0; j < t->nfields; j++) {
			const char *name = t->fields[j].name;

			tk->f[j].key = k;
			tk->f[j].klen = key_put(k, name, "");
			k += key_room(name, "");
			tk->f[j].skey = k;
			tk->f[j].sklen = key_put(k, name, "_str");
			k += key_room(name, "_str");
		}
		if (t->nfields <= UINT8_MAX + 1) {
			struct json_op *ops = (struct json_op *)((char *)tk + head);

			for (uint32_t j = 0; j < t->nfields; j++)
				op_build(&ops[j], &t->fields[j], j, &tk->f[j]);
			tk->ops = ops;
		}
		__atomic_store_n(&type_keys[cat][sub], tk, __ATOMIC_RELEASE);
	}
}



static const struct json_type_keys *keys_of(const struct tp_event_type *t)
{
	unsigned cat = TP_TYPE_CATEGORY(t->id), sub = t->id & 0xff;
	const struct json_type_keys *tk;

	if (cat >= TP_CAT_MAX || sub >= KEY_SLOTS)
		return NULL;
	tk = __atomic_load_n(&type_keys[cat][sub], __ATOMIC_ACQUIRE);
	if (!tk) {
		pthread_once(&type_keys_once, type_keys_build);
		tk = __atomic_load_n(&type_keys[cat][sub], __ATOMIC_ACQUIRE);
	}
	return tk && tk->type == t ? tk : NULL;
}

/* A field's key: from the type's table, else built from its name. */
static inline __attribute__((always_inline)) void field_key(struct tp_buf *b, const struct json_type_keys *tk, uint32_t i,
			     const struct tp_field *f, bool sym)
{
	const char *k;
	size_t n;

	if (!tk) {
		json_key_suffixed(b, f->name, sym ? "_str" : "");
		return;
	}
	k = sym ? tk->f[i].skey : tk->f[i].key;
	n = sym ? tk->f[i].sklen : tk->f[i].klen;
	if (n <= KEY_PAD && b->len + KEY_PAD + 1 <= b->cap) {
		memcpy(b->data + b->len, k, KEY_PAD);
		b->len += n;
	} else {
		tp_buf_append(b, k, n);
	}
}

/* A present numeric field's value, as tp_field_u64 and tp_field_i64 read it. */
static inline uint64_t field_bits(const struct tp_event *ev, const struct tp_field *f)
{
	return tp_load_uint(ev->rec.bytes + f->offset, f->size);
}

/* A numeric field with symbolic names renders as ,"name":N,"name_str":"SYM"
 * (or ,"name":N when N has no name), the same bytes for the same (field,
 * value): the last ones rendered are kept per thread, one 64-byte slot
 * each, and copied whole (a line of file events has two or three: flags,
 * ret, syscall). The fields are the types' constant tables; a fragment too
 * long for its slot is rendered every time. */
#define FRAG_SLOTS 128
#define FRAG_MAX 46
static _Thread_local struct frag {
	const struct tp_field *f;
	uint64_t v;
	uint8_t len; /* 0: empty */
	char s[FRAG_MAX + 1];
} __attribute__((aligned(64))) frag_cache[FRAG_SLOTS];

static inline struct frag *frag_slot(const struct tp_field *f, uint64_t v)
{
	uint64_t h = ((uint64_t)(uintptr_t)f ^ v) * 0x9e3779b97f4a7c15ull;

	return &frag_cache[h >> 57];
}

/* A field with symbolic names: its fragment from the cache, else rendered
 * (and kept when it fits a slot). */
static void json_sym_field(struct tp_buf *b, const struct json_type_keys *tk, uint32_t i,
			   const struct tp_field *f, uint64_t u, char *tmp, size_t tmplen)
{
	struct frag *c = frag_slot(f, u);
	size_t start = b->len;
	ssize_t sl;

	if (c->len && c->f == f && c->v == u) {
		if (b->len + sizeof(c->s) + 1 <= b->cap) {
			memcpy(b->data + b->len, c->s, sizeof(c->s));
			b->len += c->len;
		} else {
			tp_buf_append(b, c->s, c->len);
		}
		return;
	}
	field_key(b, tk, i, f, false);
	if (f->kind == TP_FK_S32 || f->kind == TP_FK_S64)
		tp_buf_i64(b, (int64_t)u);
	else
		tp_buf_u64(b, u);
	if ((sl = tp_field_sym_len(f, u, tmp, tmplen)) >= 0) {
		field_key(b, tk, i, f, true);
		tp_buf_json_str(b, tmp, (size_t)sl);
	}
	if (!tp_buf_failed(b) && b->len - start <= FRAG_MAX) {
		c->f = f;
		c->v = u;
		c->len = (uint8_t)(b->len - start);
		memcpy(c->s, b->data + start, c->len);
	}
}

/* One present field, key and value (tmp: room for a name or an address). */
static void json_field(struct tp_buf *b, const struct tp_event *ev, const struct json_type_keys *tk,
		       uint32_t i, const struct tp_field *f, char *tmp, size_t tmplen)
{
	uint64_t u;

	switch (f->kind) {
	case TP_FK_STR: {
		const char *str = (const char *)ev->rec.bytes + f->offset;

		field_key(b, tk, i, f, false);
		/* The decoder terminated it inside the field. */
		tp_buf_json_strn(b, str, f->size);
		break;
	}
	case TP_FK_ARGV: {
		uint32_t len;
		const char *av = tp_field_argv(ev, f, &len);

		field_key(b, tk, i, f, false);
		tp_buf_json_strv(b, av, av ? len : 0);
		break;
	}
	case TP_FK_ENV: {
		struct tp_env_entry en;
		uint32_t len;
		const char *av = tp_field_argv(ev, f, &len);
		bool first = true;

		field_key(b, tk, i, f, false);
		tp_buf_putc(b, '{');
		for (bool ok = tp_env_next(av, len, NULL, &en); ok; ok = tp_env_next(av, len, &en, &en)) {
			if (!first)
				tp_buf_putc(b, ',');
			tp_buf_json_str(b, en.name, en.name_len);
			tp_buf_putc(b, ':');
			tp_buf_json_str(b, en.value, en.value_len);
			first = false;
		}
		tp_buf_putc(b, '}');
		break;
	}
	case TP_FK_IPADDR:
		field_key(b, tk, i, f, false);
		if (tp_field_ipaddr(ev, f, tmp, tmplen))
			tp_buf_json_str(b, tmp, strlen(tmp));
		else
			PUT_LIT(b, "null");
		break;
	case TP_FK_BOOL:
		u = field_bits(ev, f);
		u = f->aux ? (u & f->aux) != 0 : u != 0;
		field_key(b, tk, i, f, false);
		if (u)
			PUT_LIT(b, "true");
		else
			PUT_LIT(b, "false");
		break;
	default:
		u = field_bits(ev, f);
		if (f->kind == TP_FK_S32 && f->size == 4)
			u = (uint64_t)(int64_t)(int32_t)(uint32_t)u;
		if (f->syms) {
			json_sym_field(b, tk, i, f, u, tmp, tmplen);
			break;
		}
		field_key(b, tk, i, f, false);
		if (f->kind == TP_FK_S32 || f->kind == TP_FK_S64)
			tp_buf_i64(b, (int64_t)u);
		else
			tp_buf_u64(b, u);
		break;
	}
}

/* An op's key: inline, else the keys table's. */
static inline __attribute__((always_inline)) void op_key(struct tp_buf *b,
							 const struct json_type_keys *tk,
							 const struct json_op *op,
							 const struct tp_field *fields)
{
	if (op->klen && b->len + OP_KEY + 1 <= b->cap) {
		memcpy(b->data + b->len, op->key, OP_KEY);
		b->len += op->klen;
	} else {
		field_key(b, tk, op->field, &fields[op->field], false);
	}
}

/* The fields through the type's ops: strings, flags and numbers (nearly
 * every field of a line) from the op alone; the rest as json_field. The
 * same bytes as json_field field by field (test_format compares every
 * type against a plain reference). */
static void json_fields_ops(struct tp_buf *b, const struct tp_event *ev,
			    const struct json_type_keys *tk)
{
	const struct tp_field *fields = ev->type->fields;
	const struct json_op *op = tk->ops, *end = op + ev->type->nfields;
	const uint8_t *rec = ev->rec.bytes;
	char tmp[1024]; /* room for a full capability set by name */

	for (; op < end; op++) {
		uint64_t u = 0;

		/* A string may be cut by the record's end (tp_field_present). */
		if ((uint32_t)op->offset + (op->kind == TP_FK_STR ? 1 : op->size) > ev->len)
			continue;
		if (op->cond_mask) {
			uint32_t cond;

			if ((uint32_t)op->cond_offset + 4 > ev->len)
				continue;
			memcpy(&cond, rec + op->cond_offset, 4);
			if (!(cond & op->cond_mask))
				continue;
		}
		switch (op->kind) {
		case TP_FK_STR: {
			const char *str = (const char *)rec + op->offset;

			op_key(b, tk, op, fields);
			tp_buf_json_strn(b, str, op->size);
			continue;
		}
		case TP_FK_ENV:
			if (!tp_field_present(ev, &fields[op->field]))
				continue;
			/* fall through */
		case TP_FK_ARGV:
		case TP_FK_IPADDR:
			json_field(b, ev, tk, op->field, &fields[op->field], tmp, sizeof(tmp));
			continue;
		default:
			break;
		}
		switch (op->size) {
		case 1: u = rec[op->offset]; break;
		case 2: { uint16_t x; memcpy(&x, rec + op->offset, 2); u = x; break; }
		case 4: { uint32_t x; memcpy(&x, rec + op->offset, 4); u = x; break; }
		case 8: memcpy(&u, rec + op->offset, 8); break;
		}
		if (op->kind == TP_FK_BOOL) {
			u = op->aux ? (u & op->aux) != 0 : u != 0;
			op_key(b, tk, op, fields);
			if (u)
				PUT_LIT(b, "true");
			else
				PUT_LIT(b, "false");
			continue;
		}
		if (op->kind == TP_FK_S32 && op->size == 4)
			u = (uint64_t)(int64_t)(int32_t)(uint32_t)u;
		if (op->syms) {
			json_sym_field(b, tk, op->field, &fields[op->field], u, tmp, sizeof(tmp));
			continue;
		}
		op_key(b, tk, op, fields);
		if (op->kind == TP_FK_S32 || op->kind == TP_FK_S64)
			tp_buf_i64(b, (int64_t)u);
		else
			tp_buf_u64(b, u);
	}
}

static void json_fields(struct tp_buf *b, const struct tp_event *ev,
			const struct json_type_keys *tk)
{
	const struct tp_event_type *t = ev->type;
	char tmp[1024]; /* room for a full capability set by name */

	if (tk && tk->ops) {
		json_fields_ops(b, ev, tk);
		return;
	}
	for (uint32_t i = 0; i < t->nfields; i++)
		if (tp_field_present(ev, &t->fields[i]))
			json_field(b, ev, tk, i, &t->fields[i], tmp, sizeof(tmp));
}

void tp_format_json_fields(struct tp_buf *b, const struct tp_event *ev)
{
	json_fields(b, ev, keys_of(ev->type));
}

/* key: "\"name\":", klen its length (STR_FIELD passes a literal name). */
static void json_str_field(struct tp_buf *b, bool *first, const char *key, size_t klen,
			   const char *v)
{
	if (!v)
		return;
	if (!*first)
		tp_buf_putc(b, ',');
	*first = false;
	tp_buf_append(b, key, klen);
	tp_buf_json_str(b, v, strlen(v));
}

#define STR_FIELD(b, first, name, v) \
	json_str_field((b), (first), "\"" name "\":", sizeof(name) + 2, (v))

static void json_proc_ref(struct tp_buf *b, const struct tp_proc_ref *r)
{
	bool first = false;

	PUT_LIT(b, "{\"pid\":");
	tp_buf_u64(b, r->pid);
	STR_FIELD(b, &first, "comm", r->comm);
	STR_FIELD(b, &first, "exe", r->exe);
	tp_buf_putc(b, '}');
}

/* The process tree's part of a line: exe, argv (unless the event has its
 * own), parent and, for process events, the ancestors. */
static void json_proc_tree(struct tp_buf *b, const struct tp_proc_ctx *pc, bool argv_out,
			   size_t nanc)
{
	if (pc->exe) {
		PUT_LIT(b, ",\"exe\":");
		tp_buf_json_str(b, pc->exe, strlen(pc->exe));
	}
	if (argv_out) {
		PUT_LIT(b, ",\"argv\":");
		tp_buf_json_strv(b, pc->argv, pc->argv_len);
		if (pc->argv_truncated)
			PUT_LIT(b, ",\"argv_truncated\":true");
	}
	if (pc->parent) {
		PUT_LIT(b, ",\"parent\":");
		json_proc_ref(b, pc->parent);
	}
	if (nanc) {
		PUT_LIT(b, ",\"ancestors\":");
		tp_buf_putc(b, '[');
		for (size_t i = 0; i < nanc; i++) {
			if (i)
				tp_buf_putc(b, ',');
			json_proc_ref(b, &pc->ancestors[i]);
		}
		tp_buf_putc(b, ']');
	}
}

/* The tree parts last written, per thread, by what they were made of: the
 * context's pointers and the enrichment's epoch (proc_ctx.h: the same
 * epoch and pointers show the same strings). A line of the same process
 * as one before copies its ~250 bytes instead of reading exe, argv and the
 * parent's comm and exe again (about 40 % of a line's cost after the
 * rules' work). The container and pod parts are written each time. */
#define PROC_SLOTS 4
#define PROC_ANC 16
#define PROC_BYTES 1536
static _Thread_local struct proc_slot {
	uint64_t epoch; /* 0: empty */
	const char *exe, *argv;
	uint32_t argv_len;
	bool argv_truncated, argv_out, parent;
	uint8_t nanc;
	uint16_t len;
	struct tp_proc_ref par;
	char s[PROC_BYTES]; /* next to the key: a file line reads both at once */
	struct tp_proc_ref anc[PROC_ANC];
} __attribute__((aligned(64))) proc_cache[PROC_SLOTS];

static inline bool ref_eq(const struct tp_proc_ref *a, const struct tp_proc_ref *b)
{
	return a->pid == b->pid && a->comm == b->comm && a->exe == b->exe;
}

static bool proc_slot_is(const struct proc_slot *c, const struct tp_proc_ctx *pc, bool argv_out,
			 size_t nanc)
{
	if (c->epoch != pc->epoch || c->exe != pc->exe || c->argv != pc->argv ||
	    c->argv_len != pc->argv_len || c->argv_truncated != pc->argv_truncated ||
	    c->argv_out != argv_out || c->parent != (pc->parent != NULL) || c->nanc != nanc)
		return false;
	if (pc->parent && !ref_eq(&c->par, pc->parent))
		return false;
	for (size_t i = 0; i < nanc; i++)
		if (!ref_eq(&c->anc[i], &pc->ancestors[i]))
			return false;
	return true;
}

static void proc_slot_keep(struct proc_slot *c, const struct tp_proc_ctx *pc, bool argv_out,
			   size_t nanc, const char *s, size_t len)
{
	c->epoch = pc->epoch;
	c->exe = pc->exe;
	c->argv = pc->argv;
	c->argv_len = pc->argv_len;
	c->argv_truncated = pc->argv_truncated;
	c->argv_out = argv_out;
	c->parent = pc->parent != NULL;
	if (pc->parent)
		c->par = *pc->parent;
	c->nanc = (uint8_t)nanc;
	for (size_t i = 0; i < nanc; i++)
		c->anc[i] = pc->ancestors[i];
	c->len = (uint16_t)len;
	memcpy(c->s, s, len);
}

/* The enrichment: nested objects, each absent when unknown (proc_ctx.h). */
static void json_proc(struct tp_buf *b, const struct tp_event *ev, const struct tp_proc_ctx *pc,
		      const struct json_type_keys *tk)
{
	/* An exec event has the new argv as its own field already. */
	bool argv_out = pc->argv && !(tk ? tk->has_argv : tp_event_field(ev->type, "argv") != NULL);
	/* The whole tree where it matters (and Lua has it on every event): a
	 * full ancestry triples the size of every file or network line. */
	size_t nanc = TP_TYPE_CATEGORY(ev->type->id) == TP_CAT_PROCESS ? pc->nancestors : 0;
	bool first;

	if (pc->epoch && nanc <= PROC_ANC) {
		uint64_t h = ((uint64_t)(uintptr_t)pc->exe ^ (pc->parent ? pc->parent->pid : 0)) *
			     0x9e3779b97f4a7c15ull;
		struct proc_slot *c = &proc_cache[h >> 62];
		size_t start = b->len;

		if (proc_slot_is(c, pc, argv_out, nanc)) {
			tp_buf_append(b, c->s, c->len);
		} else {
			json_proc_tree(b, pc, argv_out, nanc);
			if (!tp_buf_failed(b) && b->len - start <= PROC_BYTES)
				proc_slot_keep(c, pc, argv_out, nanc, b->data + start, b->len - start);
		}
	} else {
		json_proc_tree(b, pc, argv_out, nanc);
	}
	if (pc->container) {
		PUT_LIT(b, ",\"container\":");
		tp_buf_putc(b, '{');
		first = true;
		STR_FIELD(b, &first, "id", pc->container->id);
		STR_FIELD(b, &first, "runtime", pc->container->runtime);
		tp_buf_putc(b, '}');
	}
	if (pc->k8s) {
		PUT_LIT(b, ",\"k8s\":");
		tp_buf_putc(b, '{');
		first = true;
		STR_FIELD(b, &first, "pod", pc->k8s->pod);
		STR_FIELD(b, &first, "namespace", pc->k8s->namespace);
		STR_FIELD(b, &first, "pod_uid", pc->k8s->pod_uid);
		STR_FIELD(b, &first, "container", pc->k8s->container);
		STR_FIELD(b, &first, "qos", pc->k8s->qos);
		tp_buf_putc(b, '}');
	}
}

/* The digits of a wall-clock time in ns (19 of them): those above the
 * last 8 change every 0.1 s and are kept per thread. */
static _Thread_local struct {
	uint64_t hi;
	uint8_t len; /* 0: empty */
	char s[24];
} ts_head;

static inline char *json_ts(char *p, uint64_t ts)
{
	uint64_t hi = ts / 100000000;

	if (!hi)
		return tp_u64_put(p, ts);
	if (!ts_head.len || ts_head.hi != hi) {
		ts_head.hi = hi;
		ts_head.len = (uint8_t)(tp_u64_put(ts_head.s, hi) - ts_head.s);
	}
	/* At most 12 digits (2^64 / 10^8): copied as 16 bytes, in room. */
	memcpy(p, ts_head.s, 16);
	return tp_digits8_put(p + ts_head.len, (uint32_t)(ts - hi * 100000000));
}

/* The number written from `from` to `end` (at most 8 digits: a pid or an
 * id of 32 bits may have 10) again at p: copied when short, else written. */
static inline char *json_again(char *p, const char *from, const char *end)
{
	size_t n = (size_t)(end - from);

	if (n > 8)
		return (char *)memcpy(p, from, n) + n;
	memcpy(p, from, 8); /* p is past from + 8: a key lies between */
	return p + n;
}

/* Bytes of a literal at p; returns the end. */
#define RAW_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/*
 * The header from ,"pid": to the cgroup ids is the same bytes for the same
 * process, credentials, name and cgroups, and a process's events come in
 * runs: the last ones rendered are kept per thread, with the header's
 * bytes they came from (cgroup ids, pid to gid, comm), and copied whole.
 */
#define HDR_MEMO_MAX 320 /* 75 bytes of keys, 7 numbers, an escaped comm */
static _Thread_local struct hdr_memo {
	uint8_t key[16 + 20 + TP_COMM_LEN];
	uint16_t len; /* 0: none */
	char s[HDR_MEMO_MAX];
} hdr_memo;

static inline void hdr_memo_key(uint8_t *key, const struct tp_hdr *h)
{
	memcpy(key, &h->cgroup_id, 16);
	memcpy(key + 16, &h->pid, 20);
	memcpy(key + 36, h->comm, TP_COMM_LEN);
}

_Static_assert(offsetof(struct tp_hdr, cgroup_v1_id) == offsetof(struct tp_hdr, cgroup_id) + 8,
	       "the cgroup ids side by side");
_Static_assert(offsetof(struct tp_hdr, gid) == offsetof(struct tp_hdr, pid) + 16,
	       "pid, tid, ppid, uid, gid side by side");

/* The header from ,"pid": to the cgroup ids at p (room for the pid's
 * part reserved), kept in the memo under key. False when the buffer could
 * not grow. */
static bool json_hdr_ids(struct tp_buf *b, char *p, const struct tp_hdr *h, const uint8_t *key)
{
	size_t from = (size_t)(p - b->data);
	char *q;

	p = RAW_LIT(p, ",\"pid\":");
	q = p;
	p = tp_u64_put(p, h->pid);
	p = RAW_LIT(p, ",\"tid\":");
	p = h->tid == h->pid ? json_again(p, q, p - 7) : tp_u64_put(p, h->tid);
	p = RAW_LIT(p, ",\"ppid\":");
	p = tp_u64_put(p, h->ppid);
	p = RAW_LIT(p, ",\"uid\":");
	q = p;
	p = tp_u64_put(p, h->uid);
	p = RAW_LIT(p, ",\"gid\":");
	p = h->gid == h->uid ? json_again(p, q, p - 7) : tp_u64_put(p, h->gid);
	p = RAW_LIT(p, ",\"comm\":");
	b->len = (size_t)(p - b->data);
	tp_buf_json_strn(b, h->comm, sizeof(h->comm));
	/* The cgroup ids: 29 bytes of keys, 2 numbers. */
	if (b->len + 80 > b->cap && !tp_buf_reserve(b, 80))
		return false;
	p = b->data + b->len;
	p = RAW_LIT(p, ",\"cgroup_id\":");
	p = tp_u64_put(p, h->cgroup_id);
	if (h->cgroup_v1_id) {
		p = RAW_LIT(p, ",\"cgroup_v1_id\":");
		p = tp_u64_put(p, h->cgroup_v1_id);
	}
	b->len = (size_t)(p - b->data);
	if (!tp_buf_failed(b) && b->len - from <= HDR_MEMO_MAX) {
		memcpy(hdr_memo.key, key, sizeof(hdr_memo.key));
		hdr_memo.len = (uint16_t)(b->len - from);
		memcpy(hdr_memo.s, b->data + from, hdr_memo.len);
	}
	return true;
}

void tp_format_json(struct tp_buf *b, const struct tp_event *ev, const struct tp_event_meta *meta)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	const struct json_type_keys *tk = keys_of(ev->type);
	size_t tn = tk ? tk->name_len : strlen(ev->type->name);
	uint8_t key[sizeof(hdr_memo.key)];
	char *p;

	/* The header up to the comm in one reservation: its keys (75 bytes)
	 * and 7 numbers of at most 20 digits; or up to the cgroup ids, from
	 * the memo. */
	if (b->len + tn + 64 + HDR_MEMO_MAX > b->cap && !tp_buf_reserve(b, tn + 64 + HDR_MEMO_MAX))
		return;
	p = b->data + b->len;
	p = RAW_LIT(p, "{\"type\":\"");
	memcpy(p, ev->type->name, tn);
	p += tn;
	p = RAW_LIT(p, "\",\"ts\":");
	p = json_ts(p, ev->ts_wall_ns);
	p = RAW_LIT(p, ",\"cpu\":");
	p = tp_u64_put(p, h->cpu);
	hdr_memo_key(key, h);
	if (hdr_memo.len && !memcmp(key, hdr_memo.key, sizeof(key))) {
		memcpy(p, hdr_memo.s, hdr_memo.len);
		b->len = (size_t)(p - b->data) + hdr_memo.len;
	} else if (!json_hdr_ids(b, p, h, key)) {
		return;
	}
	json_fields(b, ev, tk);

	if (meta) {
		if (meta->proc)
			json_proc(b, ev, meta->proc, tk);
		for (size_t i = 0; i < meta->nkv; i++) {
			tp_buf_putc(b, ',');
			tp_buf_json_str(b, meta->kv[i].key, strlen(meta->kv[i].key));
			tp_buf_putc(b, ':');
			json_value(b, &meta->kv[i].value);
		}
		if (meta->importance >= 0 || meta->alert) {
			PUT_LIT(b, ",\"importance\":");
			json_double(b, meta->alert ? meta->alert->importance : meta->importance);
		}
		if (meta->sample_rate > 1) {
			PUT_LIT(b, ",\"sample_rate\":");
			tp_buf_u64(b, meta->sample_rate);
		}
		if (meta->alert) {
			const struct tp_alert *a = meta->alert;

			PUT_LIT(b, ",\"rule\":");
			tp_buf_json_str(b, a->rule, strlen(a->rule));
			PUT_LIT(b, ",\"severity\":");
			tp_buf_json_str(b, a->severity, strlen(a->severity));
			PUT_LIT(b, ",\"output\":");
			tp_buf_json_str(b, a->output, strlen(a->output));
		}
		/* One tags array: the rule's tags, then those enrich functions added. */
		if (meta->ntags || (meta->alert && meta->alert->ntags)) {
			bool first = true;

			PUT_LIT(b, ",\"tags\":");
			tp_buf_putc(b, '[');
			for (size_t i = 0; meta->alert && i < meta->alert->ntags; i++, first = false) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, meta->alert->tags[i], strlen(meta->alert->tags[i]));
			}
			for (size_t i = 0; i < meta->ntags; i++, first = false) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, meta->tags[i], strlen(meta->tags[i]));
			}
			tp_buf_putc(b, ']');
		} else if (meta->alert) {
			PUT_LIT(b, ",\"tags\":");
			PUT_LIT(b, "[]");
		}
	}
	PUT_LIT(b, "}\n");
}

/* ANSI colours: one per category, and severities for alerts. */
static const char *const category_colors[TP_CAT_MAX] = {
	[TP_CAT_PROCESS] = "\033[32m",   /* green */
	[TP_CAT_FILE] = "\033[36m",      /* cyan */
	[TP_CAT_NETWORK] = "\033[34m",   /* blue */
	[TP_CAT_SECURITY] = "\033[35m",  /* magenta */
	[TP_CAT_CONTAINER] = "\033[33m", /* yellow */
	[TP_CAT_MEMORY] = "\033[37m",    /* white */
	[TP_CAT_AGENT] = "\033[31m",     /* red: the agent was blind */
};
#define COLOR_RESET "\033[0m"
#define COLOR_DIM "\033[2m"

static const char *severity_color(const char *sev)
{
	if (!strcmp(sev, "critical") || !strcmp(sev, "error"))
		return "\033[1;31m";
	if (!strcmp(sev, "warning"))
		return "\033[1;33m";
	return "\033[1m";
}

/* A value in key=value form: quoted when it holds spaces or quotes. */
static void text_value(struct tp_buf *b, const char *s, size_t n)
{
	if (n && !memchr(s, ' ', n) && !memchr(s, '"', n) && !memchr(s, '=', n)) {
		tp_buf_text_str(b, s, n);
		return;
	}
	tp_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			PUT_LIT(b, "\\\"");
		else
			tp_buf_text_str(b, s + i, 1);
	}
	tp_buf_putc(b, '"');
}

static void text_key(struct tp_buf *b, const char *key, bool color)
{
	tp_buf_putc(b, ' ');
	if (color)
		tp_buf_puts(b, COLOR_DIM);
	tp_buf_puts(b, key);
	tp_buf_putc(b, '=');
	if (color)
		tp_buf_puts(b, COLOR_RESET);
}

static void text_fields(struct tp_buf *b, const struct tp_event *ev, bool color)
{
	const struct tp_event_type *t = ev->type;
	char tmp[1024]; /* room for a full capability set by name */

	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		uint64_t u;
		int64_t s;

		if (!tp_field_present(ev, f))
			continue;
		switch (f->kind) {
		case TP_FK_STR: {
			const char *str = tp_field_str(ev, f);

			text_key(b, f->name, color);
			text_value(b, str, strlen(str));
			break;
		}
		case TP_FK_ARGV: {
			uint32_t len;
			size_t n;
			const char *av = tp_field_argv(ev, f, &len);
			bool first = true;

			text_key(b, f->name, color);
			tp_buf_putc(b, '[');
			for (const char *p = tp_argv_next(av, len, NULL, &n); p;
			     p = tp_argv_next(av, len, p, &n)) {
				if (!first)
					tp_buf_putc(b, ' ');
				text_value(b, p, n);
				first = false;
			}
			tp_buf_putc(b, ']');
			break;
		}
		case TP_FK_ENV: {
			struct tp_env_entry en;
			uint32_t len;
			const char *av = tp_field_argv(ev, f, &len);
			bool first = true;

			text_key(b, f->name, color);
			tp_buf_putc(b, '[');
			for (bool ok = tp_env_next(av, len, NULL, &en); ok;
			     ok = tp_env_next(av, len, &en, &en)) {
				if (!first)
					tp_buf_putc(b, ' ');
				text_value(b, en.name, en.name_len + 1 + en.value_len);
				first = false;
			}
			tp_buf_putc(b, ']');
			break;
		}
		case TP_FK_IPADDR:
			if (!tp_field_ipaddr(ev, f, tmp, sizeof(tmp)))
				break;
			text_key(b, f->name, color);
			tp_buf_puts(b, tmp);
			break;
		case TP_FK_BOOL:
			tp_field_u64(ev, f, &u);
			if (!u)
				break; /* a false flag is noise in a human line */
			text_key(b, f->name, color);
			PUT_LIT(b, "true");
			break;
		case TP_FK_S32:
		case TP_FK_S64:
			tp_field_i64(ev, f, &s);
			text_key(b, f->name, color);
			u = (uint64_t)s;
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp)))
				tp_buf_puts(b, tmp);
			else
				tp_buf_i64(b, s);
			break;
		case TP_FK_HEX:
			tp_field_u64(ev, f, &u);
			text_key(b, f->name, color);
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp)))
				tp_buf_puts(b, tmp);
			else
				tp_buf_printf(b, "0x%llx", (unsigned long long)u);
			break;
		case TP_FK_OCTAL:
			tp_field_u64(ev, f, &u);
			text_key(b, f->name, color);
			tp_buf_printf(b, "0%llo", (unsigned long long)u);
			break;
		default:
			tp_field_u64(ev, f, &u);
			text_key(b, f->name, color);
			if (f->syms && tp_field_sym(f, u, tmp, sizeof(tmp)))
				tp_buf_puts(b, tmp);
			else
				tp_buf_u64(b, u);
			break;
		}
	}
}

/* Compact: exe=... parent=comm[pid] container=<12 chars>(runtime)
 * pod=namespace/pod[/container]; unknown parts left out. */
static void text_proc(struct tp_buf *b, const struct tp_proc_ctx *pc, bool color)
{
	if (pc->exe) {
		text_key(b, "exe", color);
		text_value(b, pc->exe, strlen(pc->exe));
	}
	if (pc->parent) {
		text_key(b, "parent", color);
		if (pc->parent->comm)
			text_value(b, pc->parent->comm, strlen(pc->parent->comm));
		tp_buf_printf(b, "[%u]", pc->parent->pid);
	}
	if (pc->container) {
		text_key(b, "container", color);
		text_value(b, pc->container->id, strnlen(pc->container->id, 12));
		if (pc->container->runtime)
			tp_buf_printf(b, "(%s)", pc->container->runtime);
	}
	if (pc->k8s && (pc->k8s->pod || pc->k8s->pod_uid)) {
		const char *ns = pc->k8s->namespace, *pod = pc->k8s->pod;

		text_key(b, "pod", color);
		if (ns && pod) {
			text_value(b, ns, strlen(ns));
			tp_buf_putc(b, '/');
			text_value(b, pod, strlen(pod));
		} else {
			text_value(b, pc->k8s->pod_uid, strlen(pc->k8s->pod_uid));
		}
		if (pc->k8s->container) {
			tp_buf_putc(b, '/');
			text_value(b, pc->k8s->container, strlen(pc->k8s->container));
		}
	}
}

void tp_format_text(struct tp_buf *b, const struct tp_event *ev, const struct tp_event_meta *meta,
		    bool color)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	unsigned cat = TP_TYPE_CATEGORY(ev->type->id);
	char ts[40];

	tp_format_rfc3339(ev->ts_wall_ns, ts, sizeof(ts));
	/* Time of day only: the date is noise in a live view. */
	tp_buf_append(b, ts + 11, 12);
	tp_buf_putc(b, ' ');
	if (meta && meta->alert) {
		const struct tp_alert *a = meta->alert;

		if (color)
			tp_buf_puts(b, severity_color(a->severity));
		tp_buf_printf(b, "ALERT %s %s", a->severity, a->rule);
		if (color)
			tp_buf_puts(b, COLOR_RESET);
		PUT_LIT(b, ": ");
		tp_buf_text_str(b, a->output, strlen(a->output));
		PUT_LIT(b, " | ");
	}
	if (color && cat < TP_CAT_MAX && category_colors[cat])
		tp_buf_puts(b, category_colors[cat]);
	tp_buf_printf(b, "%-18s", ev->type->name);
	if (color)
		tp_buf_puts(b, COLOR_RESET);
	text_key(b, "pid", color);
	tp_buf_u64(b, h->pid);
	if (h->tid != h->pid) {
		text_key(b, "tid", color);
		tp_buf_u64(b, h->tid);
	}
	text_key(b, "ppid", color);
	tp_buf_u64(b, h->ppid);
	text_key(b, "uid", color);
	tp_buf_u64(b, h->uid);
	text_key(b, "comm", color);
	text_value(b, h->comm, strnlen(h->comm, sizeof(h->comm)));
	text_fields(b, ev, color);
	if (meta && meta->proc)
		text_proc(b, meta->proc, color);
	if (meta) {
		for (size_t i = 0; i < meta->nkv; i++) {
			const struct tp_value *v = &meta->kv[i].value;

			text_key(b, meta->kv[i].key, color);
			switch (v->kind) {
			case TP_V_STR: text_value(b, v->str.s, v->str.len); break;
			case TP_V_INT: tp_buf_i64(b, v->i); break;
			case TP_V_NUM: tp_buf_printf(b, "%.6g", v->d); break;
			case TP_V_BOOL: tp_buf_puts(b, v->b ? "true" : "false"); break;
			}
		}
		for (size_t i = 0; i < meta->ntags; i++) {
			PUT_LIT(b, " #");
			tp_buf_text_str(b, meta->tags[i], strlen(meta->tags[i]));
		}
		if (meta->importance >= 0 && !meta->alert) {
			text_key(b, "importance", color);
			tp_buf_printf(b, "%.2f", meta->importance);
		}
	}
	tp_buf_putc(b, '\n');
}
