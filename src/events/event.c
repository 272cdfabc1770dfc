#include "events/event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *const category_names[TP_CAT_MAX] = {
	[TP_CAT_NONE] = "none",
	[TP_CAT_PROCESS] = "process",
	[TP_CAT_FILE] = "file",
	[TP_CAT_NETWORK] = "network",
	[TP_CAT_SECURITY] = "security",
	[TP_CAT_CONTAINER] = "container",
	[TP_CAT_MEMORY] = "memory",
	[TP_CAT_AGENT] = "agent",
};

const char *tp_category_name(unsigned category)
{
	return category < TP_CAT_MAX ? category_names[category] : "unknown";
}

int tp_category_by_name(const char *name)
{
	for (int i = 1; i < TP_CAT_MAX; i++)
		if (!strcmp(name, category_names[i]))
			return i;
	return -1;
}

const struct tp_field *tp_event_field(const struct tp_event_type *t, const char *name)
{
	for (uint32_t i = 0; i < t->nfields; i++)
		if (!strcmp(t->fields[i].name, name))
			return &t->fields[i];
	return NULL;
}

bool tp_field_u64(const struct tp_event *ev, const struct tp_field *f, uint64_t *v)
{
	const uint8_t *p = ev->rec.bytes + f->offset;

	if (!tp_field_present(ev, f) ||
	    (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8))
		return false;
	*v = tp_load_uint(p, f->size);
	if (f->kind == TP_FK_BOOL)
		*v = f->aux ? (*v & f->aux) != 0 : *v != 0;
	return true;
}

bool tp_field_i64(const struct tp_event *ev, const struct tp_field *f, int64_t *v)
{
	const uint8_t *p = ev->rec.bytes + f->offset;

	if (!tp_field_present(ev, f))
		return false;
	if (f->kind == TP_FK_S32 && f->size == 4) {
		int32_t x;

		memcpy(&x, p, 4);
		*v = x;
		return true;
	}
	if (f->kind == TP_FK_S64 && f->size == 8) {
		memcpy(v, p, 8);
		return true;
	}
	uint64_t u;

	if (!tp_field_u64(ev, f, &u))
		return false;
	*v = (int64_t)u;
	return true;
}

const char *tp_field_str(const struct tp_event *ev, const struct tp_field *f)
{
	if (f->kind != TP_FK_STR || !tp_field_present(ev, f))
		return NULL;
	return (const char *)ev->rec.bytes + f->offset; /* terminated by the decoder */
}

const char *tp_field_argv(const struct tp_event *ev, const struct tp_field *f, uint32_t *len)
{
	uint32_t n;

	if ((f->kind != TP_FK_ARGV && f->kind != TP_FK_ENV) || (uint32_t)f->aux + 4 > ev->len)
		return NULL;
	memcpy(&n, ev->rec.bytes + f->aux, 4);
	/* The decoder rejected counts past the field; the record may still end
	 * before the count does (a shortened tail). */
	if (n > f->size)
		n = f->size;
	if (f->offset + n > ev->len)
		n = ev->len > f->offset ? ev->len - f->offset : 0;
	*len = n;
	return (const char *)ev->rec.bytes + f->offset;
}

const char *tp_argv_next(const char *buf, uint32_t len, const char *prev, size_t *n)
{
	const char *p = prev ? prev + *n + 1 : buf;
	const char *end = buf + len;
	const char *z;

	if (p >= end)
		return NULL;
	z = memchr(p, '\0', (size_t)(end - p));
	*n = z ? (size_t)(z - p) : (size_t)(end - p);
	return p;
}

/* Was name already given by an entry before p? */
static bool env_seen(const char *buf, const char *p, const char *name, size_t name_len)
{
	size_t n;

	for (const char *q = tp_argv_next(buf, (uint32_t)(p - buf), NULL, &n); q && q < p;
	     q = tp_argv_next(buf, (uint32_t)(p - buf), q, &n))
		if (n > name_len && q[name_len] == '=' && !memcmp(q, name, name_len))
			return true;
	return false;
}

bool tp_env_next(const char *buf, uint32_t len, const struct tp_env_entry *prev,
		 struct tp_env_entry *out)
{
	const char *end = buf + len, *p = prev ? prev->next : buf;

	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
		const char *eq = memchr(p, '=', n);
		const char *s = p;

		p += n + 1;
		if (!eq || eq == s || env_seen(buf, s, s, (size_t)(eq - s)))
			continue;
		out->name = s;
		out->name_len = (size_t)(eq - s);
		out->value = eq + 1;
		out->value_len = n - out->name_len - 1;
		out->next = p;
		return true;
	}
	return false;
}

int tp_field_ipaddr(const struct tp_event *ev, const struct tp_field *f, char *buf, size_t len)
{
	uint16_t family;

	buf[0] = '\0';
	if (f->kind != TP_FK_IPADDR || !tp_field_present(ev, f) || (uint32_t)f->aux + 2 > ev->len)
		return 0;
	memcpy(&family, ev->rec.bytes + f->aux, 2);
	if (family == AF_INET && len >= INET_ADDRSTRLEN) {
		/* inet_ntop's dotted quad without its sprintf (~1000
		 * instructions an address, the most of a connect's line). */
		const uint8_t *a = ev->rec.bytes + f->offset;
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			unsigned x = a[i];

			if (x >= 100)
				*p++ = (char)('0' + x / 100);
			if (x >= 10)
				*p++ = (char)('0' + x / 10 % 10);
			*p++ = (char)('0' + x % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
	} else if (family == AF_INET) {
		inet_ntop(AF_INET, ev->rec.bytes + f->offset, buf, (socklen_t)len);
	} else if (family == AF_INET6) {
		inet_ntop(AF_INET6, ev->rec.bytes + f->offset, buf, (socklen_t)len);
	} else {
		return 0;
	}
	return family;
}

/* n bytes of s at buf + *used, cut and terminated as snprintf(buf + *used,
 * len - *used, ...) would; *used counts them all, as its return does. */
static void sym_put(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
	if (*used < len) {
		size_t room = len - *used - 1, k = n < room ? n : room;

		memcpy(buf + *used, s, k);
		buf[*used + k] = '\0';
	}
	*used += n;
}

/* tp_field_sym_len without the cache; -2: names that len cannot hold. */
static ssize_t sym_render(const struct tp_field *f, uint64_t v, char *buf, size_t len)
{
	size_t used = 0;
	uint64_t rest = v;

	buf[0] = '\0';
	if (!f->flags) {
		for (const struct tp_sym *s = f->syms; s->name; s++) {
			if (s->value == v) {
				sym_put(buf, len, &used, s->name, strlen(s->name));
				return (ssize_t)(used < len ? used : len - 1);
			}
		}
		return -1;
	}
	/* Flags: a zero-valued entry names the empty set (e.g. O_RDONLY). */
	for (const struct tp_sym *s = f->syms; s->name; s++) {
		if (s->value == 0 || (rest & s->value) != s->value)
			continue;
		if (used)
			sym_put(buf, len, &used, "|", 1);
		sym_put(buf, len, &used, s->name, strlen(s->name));
		rest &= ~s->value;
	}
	if (rest) {
		char hex[24];
		int n = snprintf(hex, sizeof(hex), "%s0x%llx", used ? "|" : "",
				 (unsigned long long)rest);

		sym_put(buf, len, &used, hex, (size_t)n);
	}
	if (!used) {
		for (const struct tp_sym *s = f->syms; s->name; s++)
			if (s->value == 0) {
				sym_put(buf, len, &used, s->name, strlen(s->name));
				return (ssize_t)(used < len ? used : len - 1);
			}
		return -1;
	}
	return used < len ? (ssize_t)used : -2; /* cut: none at this len */
}

/* The names of the last values looked up, per thread (each line of a flags
 * or syscall field walks its table otherwise): the tables are constant, so
 * (field, value) names the same string until the process exits. Names too
 * long for a slot are not kept. */
#define SYM_SLOTS 64
static _Thread_local struct {
	const struct tp_field *f;
	uint64_t v;
	int8_t n; /* length of name, -1: no name */
	char name[39];
} sym_cache[SYM_SLOTS];

ssize_t tp_field_sym_len(const struct tp_field *f, uint64_t v, char *buf, size_t len)
{
	uint64_t h = ((uint64_t)(uintptr_t)f ^ (v * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	unsigned slot = (unsigned)(h >> 58) % SYM_SLOTS;
	ssize_t r;

	if (!f->syms || len == 0)
		return -1;
	if (sym_cache[slot].f == f && sym_cache[slot].v == v) {
		int8_t n = sym_cache[slot].n;

		if (n < 0) {
			buf[0] = '\0';
			return -1;
		}
		if ((size_t)n < len) {
			memcpy(buf, sym_cache[slot].name, (size_t)n + 1);
			return n;
		}
	}
	r = sym_render(f, v, buf, len);
	if (r == -2)
		return -1;
	/* Kept when whole: a result cut to len would differ for a larger one. */
	if (r == -1 || ((size_t)r + 1 < len && (size_t)r < sizeof(sym_cache[slot].name))) {
		sym_cache[slot].f = f;
		sym_cache[slot].v = v;
		sym_cache[slot].n = (int8_t)(r < 0 ? -1 : r);
		if (r >= 0)
			memcpy(sym_cache[slot].name, buf, (size_t)r + 1);
	}
	return r;
}

bool tp_field_sym(const struct tp_field *f, uint64_t v, char *buf, size_t len)
{
	return tp_field_sym_len(f, v, buf, len) >= 0;
}
