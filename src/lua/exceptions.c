#include "lua/exceptions.h"

#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "obs/log.h"
#include "lua/lua_event.h"
#include "util/buf.h"
#include "util/hash.h"
#include "events/proc_ctx.h"

#define MAX_CONDS  32
#define MAX_VALUES 256

/* What a condition reads. */
enum src {
	S_TYPE,
	S_COMM,
	S_PID,
	S_TID,
	S_PPID,
	S_UID,
	S_GID,
	S_USER, /* uid, values given as names */
	S_EXE,
	S_EXE_BASE,
	S_CMDLINE,
	S_PARENT, /* comm, or exe when the value has a '/' */
	S_PARENT_COMM,
	S_PARENT_EXE,
	S_PARENT_PID,
	S_ANCESTOR,
	S_CONTAINER_ID,
	S_CONTAINER_RUNTIME,
	S_K8S_NAMESPACE,
	S_K8S_POD,
	S_K8S_CONTAINER,
	S_K8S_POD_UID,
	S_K8S_QOS,
	S_FIELD, /* a field of the event's type, by name */
	S_SET,   /* set.<key>: what an enrich function (or an earlier stage) set */
	S_ONE_OF, /* one_of = { {...}, {...} }: any of the nested condition sets */
};

static const struct {
	const char *name;
	enum src src;
	bool numeric;
	const char *virtual_field; /* needs this Lua field (the enrichment's) */
} known[] = {
    {"type", S_TYPE, false, NULL},
    {"comm", S_COMM, false, NULL},
    {"pid", S_PID, true, NULL},
    {"tid", S_TID, true, NULL},
    {"ppid", S_PPID, true, NULL},
    {"uid", S_UID, true, NULL},
    {"gid", S_GID, true, NULL},
    {"user", S_USER, true, NULL},
    {"exe", S_EXE, false, "exe"},
    {"exe_base", S_EXE_BASE, false, "exe"},
    {"cmdline", S_CMDLINE, false, NULL},
    {"parent", S_PARENT, false, "parent"},
    {"parent.comm", S_PARENT_COMM, false, "parent"},
    {"parent.exe", S_PARENT_EXE, false, "parent"},
    {"parent.pid", S_PARENT_PID, true, "parent"},
    {"ancestor", S_ANCESTOR, false, "ancestors"},
    {"ancestors", S_ANCESTOR, false, "ancestors"},
    {"container", S_CONTAINER_ID, false, "container"},
    {"container.id", S_CONTAINER_ID, false, "container"},
    {"container.runtime", S_CONTAINER_RUNTIME, false, "container"},
    {"k8s.namespace", S_K8S_NAMESPACE, false, "k8s"},
    {"k8s.pod", S_K8S_POD, false, "k8s"},
    {"k8s.container", S_K8S_CONTAINER, false, "k8s"},
    {"k8s.pod_uid", S_K8S_POD_UID, false, "k8s"},
    {"k8s.qos", S_K8S_QOS, false, "k8s"},
};

/* How a string value compares: "abc" equal, "abc*" a prefix, "*abc" a
 * suffix, "*abc*" a substring, "*[...]*" any byte of a set ("*[[:cntrl:]]*"),
 * anything else with * ? [ a glob. */
enum vkind { V_EXACT, V_PREFIX, V_SUFFIX, V_SUBSTR, V_BYTES, V_GLOB };

struct value {
	bool glob;
	bool slash; /* s has a '/': parent/ancestor compare it to the exe */
	bool is_num;
	int64_t num;
	char *s;
	enum vkind kind;
	uint64_t *bytes; /* V_BYTES: the set, 256 bits */
	const char *lit; /* the literal part of s (prefix, suffix, substring) */
	size_t len;      /* its length */
	/* match = { flags = { any = ... } }: a mask the value must meet. */
	int mask;        /* 0, MASK_ANY or MASK_ALL */
	char *mask_syms; /* "O_WRONLY|O_RDWR": names, resolved by bind */
	/* field = true (present) or false (absent). */
	int present;     /* 0, PRESENT_YES or PRESENT_NO */
};

enum { MASK_ANY = 1, MASK_ALL };
enum { PRESENT_YES = 1, PRESENT_NO };

/* The field of one of the rule's types. */
struct type_field {
	const struct tp_event_type *type;
	const struct tp_field *field;
	bool sym;  /* "<field>_str", or a name given for a symbolic field */
	bool base; /* "<field>_base": the part after the last '/' */
	uint64_t mask; /* { any = "A|B" }: the names in this type's values */
	const char *var; /* "env.NAME": the variable (in the condition's name) */
	uint32_t argi;	 /* "argv[i]": that argument alone (1: argv[0], as in Lua) */
	/* What most conditions are, matched without the general path: a
	 * string field compared as it is (or its base name), a number of
	 * fixed size compared to numbers (bind_field decides). */
	enum { TF_GENERAL, TF_STR, TF_NUM } hot;
};

/*
 * A condition's string values, indexed when it has many (match_str): the
 * exact ones sorted, the prefixes and the suffixes each sorted (the
 * suffixes from their end) without those a shorter one of the same kind
 * covers, so that one binary search finds the only candidate of each
 * kind. Substrings that start with '/' (a path component anywhere: .ssh) are
 * prefixes of what follows one of the string's slashes: one search per
 * slash. Other substrings and globs are tried in turn.
 */
#define INDEX_FROM 8 /* values */
/* A condition of this many string values or more gets an index for its
 * cache (below: a few memcmp calls; the cache's look-up is cheaper from 3). */
#define CACHE_FROM 3

/* A sorted array of 8 values or more cut by the byte after the part they
 * all share (before it, from the end, for suffixes): a string without that
 * part is turned away at once, else the search is over the values with its
 * byte there (ending there: bucket 0). */
struct buckets {
	size_t common;       /* bytes every value starts (ends) with */
	uint16_t start[257]; /* values of bucket k: [start[k], start[k + 1]) */
};

/*
 * The last answers of an index, by string: the strings a node's events
 * carry repeat (the same libraries, configuration files, programs and
 * names), and a search of a long list (binary searches, one per '/' for
 * the path components) costs several times a look-up here. Direct-mapped
 * by a hash of the string's length and its first and last 8 bytes; the
 * whole string is compared, so an answer is never another string's.
 * Strings longer than SCACHE_KEY are not kept. A condition is matched by
 * one thread at a time (the rule stage's), so the entries need no lock.
 */
#define SCACHE_N   256
#define SCACHE_KEY 62

struct scache_entry {
	uint8_t len; /* 0: empty */
	bool match;
	char key[SCACHE_KEY];
};

struct str_index {
	/* SCACHE_N entries, made at the first look-up (most conditions never
	 * meet an event); NULL: none yet, or no memory (searched every time) */
	struct scache_entry *cache;
	bool no_cache; /* its allocation failed: not tried again */
	const struct value **exact, **prefix, **suffix, **slash, **other;
	size_t nexact, nprefix, nsuffix, nslash, nother;
	struct buckets *bexact, *bprefix, *bsuffix; /* NULL: fewer values */
	uint64_t after_slash[4]; /* the bytes that follow the '/' of a slash value */
	bool any; /* "*": every string matches */
};

struct cond {
	/* What a match reads first (a condition's first cache line: rules
	 * meet many conditions per event, each a miss on a busy reader). */
	enum src src;
	int present; /* field = true|false: PRESENT_YES, PRESENT_NO; 0: values */
	struct type_field *tf; /* S_FIELD: per type of the rule (and name: a|b) */
	size_t ntf;
	struct str_index *ix; /* NULL: fewer values, or not only strings */
	struct value *values;
	size_t nvalues;
	struct tp_exception **alts; /* S_ONE_OF */
	size_t nalts;
	/* parent/ancestor: values with a '/' (compared to the exe) — none, some
	 * or all: with none or all, an indexed list is searched once per
	 * process instead of tried value by value. */
	enum { SLASH_NONE, SLASH_SOME, SLASH_ALL } slashes;
	char *name;
	/* tf when the rule's types have the field once (most): kept here, in
	 * the condition's own lines, instead of an array of its own. */
	struct type_field tf1;
	/* Its numbers sorted, when it has NUMS_SORTED_FROM or more (a list of
	 * ports): one binary search instead of a walk. NULL: fewer. */
	int64_t *nums;
	size_t nnums;
};

#define NUMS_SORTED_FROM 8

struct tp_exception {
	size_t nconds;
	/* The order tp_exception_match tries the conditions in: the cheapest
	 * first (bind sorts it; all must hold, so the order is no matter of
	 * meaning). describe keeps the given order. Beside nconds: a match
	 * reads both first. */
	uint8_t order[MAX_CONDS];
	char *file;
	int line;
	char *reason;
	struct cond conds[MAX_CONDS];
};

/* ------------------------------------------------------------ parsing */

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* t[name] without metamethods, pushed; its type. */
static int rawfield(lua_State *L, int idx, const char *name)
{
	idx = lua_absindex(L, idx);
	lua_pushstring(L, name);
	return lua_rawget(L, idx);
}

/* The end of the bracket expression that starts at p ('['): the index of
 * its ']' in s, or 0. */
static size_t bracket_end(const char *s, size_t p)
{
	size_t i = p + 1;

	if (s[i] == '!' || s[i] == '^')
		i++;
	if (s[i] == ']') /* a literal ']' first */
		i++;
	for (; s[i]; i++) {
		if (s[i] == '[' && (s[i + 1] == ':' || s[i + 1] == '.' || s[i + 1] == '=')) {
			const char *end = strchr(s + i + 2, s[i + 1]);

			if (!end || end[1] != ']')
				return 0;
			i = (size_t)(end + 1 - s);
			continue;
		}
		if (s[i] == ']')
			return i;
	}
	return 0;
}

/* "*[...]*": the bytes the bracket matches, as fnmatch says (one byte each;
 * '*' matches the rest). Returns false for any other pattern. */
static bool byte_set(struct value *v, size_t n)
{
	char one[2] = {0, 0};

	if (n < 5 || v->s[0] != '*' || v->s[1] != '[' || v->s[n - 1] != '*' ||
	    bracket_end(v->s, 1) != n - 2)
		return false;
	v->bytes = calloc(4, sizeof(*v->bytes));
	if (!v->bytes)
		return false; /* fnmatch, slower */
	for (int b = 1; b < 256; b++) {
		one[0] = (char)b;
		if (fnmatch(v->s, one, 0) == 0)
			v->bytes[b / 64] |= 1ull << (b % 64);
	}
	return true;
}

/* The cheapest comparison that gives fnmatch's answer (flags 0: '*' also
 * matches '/'). */
static void classify(struct value *v)
{
	size_t n = strlen(v->s);

	v->kind = V_EXACT;
	v->lit = v->s;
	v->len = n;
	if (!v->glob)
		return;
	v->kind = V_GLOB;
	if (n >= 2 && v->s[n - 1] == '*' && v->s[0] == '*' &&
	    !strpbrk(v->s + 1, "?[") && !memchr(v->s + 1, '*', n - 2)) {
		v->kind = V_SUBSTR;
		v->lit = v->s + 1;
		v->len = n - 2;
	} else if (v->s[n - 1] == '*' && !strpbrk(v->s, "?[") && !memchr(v->s, '*', n - 1)) {
		v->kind = V_PREFIX;
		v->len = n - 1;
	} else if (v->s[0] == '*' && !strpbrk(v->s + 1, "*?[")) {
		v->kind = V_SUFFIX;
		v->lit = v->s + 1;
		v->len = n - 1;
	} else if (byte_set(v, n)) {
		v->kind = V_BYTES;
	}
}

/* { any = N|"A|B" } or { all = ... }: a mask. */
static int parse_mask(lua_State *L, int idx, struct cond *c, struct value *v, char *err,
		      size_t errlen)
{
	int found = 0;

	for (int k = MASK_ANY; k <= MASK_ALL; k++) {
		int t = rawfield(L, idx, k == MASK_ANY ? "any" : "all");

		if (t == LUA_TNUMBER && lua_isinteger(L, -1)) {
			v->num = lua_tointeger(L, -1);
			v->is_num = true;
		} else if (t == LUA_TSTRING) {
			v->mask_syms = strdup(lua_tostring(L, -1));
			if (!v->mask_syms) {
				lua_pop(L, 1);
				return -ENOMEM;
			}
		} else if (t != LUA_TNIL) {
			lua_pop(L, 1);
			snprintf(err, errlen, "%s: any = or all = a whole number or names (\"A|B\")",
				 c->name);
			return -EINVAL;
		}
		lua_pop(L, 1);
		if (t != LUA_TNIL) {
			v->mask = k;
			found++;
		}
	}
	if (found != 1 || lua_rawlen(L, idx) != 0) {
		snprintf(err, errlen, "%s: a bit mask is { any = ... } or { all = ... }", c->name);
		return -EINVAL;
	}
	if (asprintf(&v->s, "%s:%s", v->mask == MASK_ANY ? "any" : "all",
		     v->mask_syms ? v->mask_syms : "") < 0)
		return -ENOMEM;
	if (!v->mask_syms) {
		free(v->s);
		if (asprintf(&v->s, "%s:0x%llx", v->mask == MASK_ANY ? "any" : "all",
			     (unsigned long long)v->num) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The value at idx into v. */
static int parse_value(lua_State *L, int idx, struct cond *c, struct value *v, char *err,
		       size_t errlen)
{
	memset(v, 0, sizeof(*v));
	if (lua_type(L, idx) == LUA_TBOOLEAN) {
		v->present = lua_toboolean(L, idx) ? PRESENT_YES : PRESENT_NO;
		v->s = strdup(lua_toboolean(L, idx) ? "(set)" : "(unset)");
		return v->s ? 0 : -ENOMEM;
	}
	if (lua_type(L, idx) == LUA_TTABLE)
		return parse_mask(L, idx, c, v, err, errlen);
	if (lua_type(L, idx) == LUA_TNUMBER) {
		int ok;

		v->num = lua_tointegerx(L, idx, &ok);
		if (!ok) {
			snprintf(err, errlen, "%s: %g is not a whole number", c->name,
				 lua_tonumber(L, idx));
			return -EINVAL;
		}
		v->is_num = true;
		if (asprintf(&v->s, "%lld", (long long)v->num) < 0)
			return -ENOMEM;
		classify(v);
		return 0;
	}
	if (lua_type(L, idx) != LUA_TSTRING) {
		snprintf(err, errlen, "%s: values are strings, numbers, true/false or { any = mask }, "
			 "not a %s", c->name, luaL_typename(L, idx));
		return -EINVAL;
	}
	v->s = strdup(lua_tostring(L, idx));
	if (!v->s)
		return -ENOMEM;
	v->glob = has_glob(v->s);
	v->slash = strchr(v->s, '/') != NULL;
	classify(v);
	if (!v->glob) {
		char *end;
		long long n = strtoll(v->s, &end, 0);

		if (*v->s && !*end) {
			v->is_num = true;
			v->num = n;
		}
	}
	return 0;
}

/* { any = ... } or { all = ... }, not a list of values. */
static bool is_mask(lua_State *L, int idx)
{
	bool yes = rawfield(L, idx, "any") != LUA_TNIL;

	yes = rawfield(L, idx, "all") != LUA_TNIL || yes;
	lua_pop(L, 2);
	return yes;
}

/* The keys of the tapio.set at idx as c's values (sorted: the same
 * order at every load). */
static int add_set(lua_State *L, struct cond *c, int idx, lua_Integer n, char *err,
		   size_t errlen)
{
	const char **keys;
	int r = 0;

	if (n > MAX_VALUES) {
		snprintf(err, errlen, "%s: 1 to %d values", c->name, MAX_VALUES);
		return -EINVAL;
	}
	c->values = calloc((size_t)n, sizeof(*c->values));
	keys = calloc((size_t)n, sizeof(*keys));
	if (!c->values || !keys) {
		free(keys);
		return -ENOMEM;
	}
	n = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		keys[n++] = lua_tostring(L, -1); /* the table keeps it */
	}
	qsort(keys, (size_t)n, sizeof(*keys), by_str);
	for (lua_Integer i = 0; i < n && r == 0; i++) {
		lua_pushstring(L, keys[i]);
		r = parse_value(L, -1, c, &c->values[c->nvalues], err, errlen);
		lua_pop(L, 1);
		if (r == 0)
			c->nvalues++;
	}
	free(keys);
	return r;
}

/* A condition named name with the value(s) at idx. */
static int add_cond(lua_State *L, struct tp_exception *x, const char *name, int idx, char *err,
		    size_t errlen)
{
	struct cond *c;
	lua_Integer n;
	bool is_list;
	int r;

	idx = lua_absindex(L, idx);
	if (x->nconds == MAX_CONDS) {
		snprintf(err, errlen, "more than %d fields", MAX_CONDS);
		return -EINVAL;
	}
	c = &x->conds[x->nconds];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	if (!c->name)
		return -ENOMEM;
	x->nconds++;
	c->src = S_FIELD;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i].name, name))
			c->src = known[i].src;
	if (!strncmp(name, "set.", 4)) {
		if (!name[4]) {
			snprintf(err, errlen, "set: the keys e:set sets (set = { my_key = true })");
			return -EINVAL;
		}
		c->src = S_SET;
	}
	is_list = lua_type(L, idx) == LUA_TTABLE && !is_mask(L, idx);
	n = is_list ? (lua_Integer)lua_rawlen(L, idx) : 1;
	if (is_list) {
		/* A list of values: nothing but 1..n (a list() also has its
		 * entries as keys set to true: SHELLS["bash"]); or a
		 * tapio.set, nothing but those keys: its keys are the values. */
		lua_Integer nkeys = 0;

		lua_pushnil(L);
		while (lua_next(L, idx)) {
			lua_Integer k = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
			bool set_key = lua_type(L, -2) == LUA_TSTRING &&
				       lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1);

			lua_pop(L, 1);
			if (!set_key && (k < 1 || k > n)) {
				lua_pop(L, 1);
				snprintf(err, errlen, "%s: a value or a list of values", name);
				return -EINVAL;
			}
			nkeys += set_key;
		}
		if (n == 0 && nkeys > 0)
			return add_set(L, c, idx, nkeys, err, errlen);
	}
	if (n < 1 || n > MAX_VALUES) {
		snprintf(err, errlen, "%s: 1 to %d values", name, MAX_VALUES);
		return -EINVAL;
	}
	c->values = calloc((size_t)n, sizeof(*c->values));
	if (!c->values)
		return -ENOMEM;
	for (lua_Integer i = 1; i <= n; i++) {
		if (is_list)
			lua_rawgeti(L, idx, i);
		else
			lua_pushvalue(L, idx);
		r = parse_value(L, -1, c, &c->values[c->nvalues], err, errlen);
		lua_pop(L, 1);
		if (r < 0)
			return r;
		c->nvalues++;
		if (c->values[c->nvalues - 1].present && n > 1) {
			snprintf(err, errlen, "%s: true or false alone, not in a list", name);
			return -EINVAL;
		}
	}
	c->present = c->values[0].present;
	return 0;
}

#define MAX_ALTS 16

/* x's one condition when it has just one, of values (no true/false, no bit
 * mask, no nested one_of), else NULL. */
static struct cond *lone_values_cond(struct tp_exception *x)
{
	struct cond *c = x->nconds == 1 ? &x->conds[0] : NULL;

	if (!c || c->src == S_ONE_OF || c->present || !c->nvalues || c->values[0].mask)
		return NULL;
	return c;
}

/*
 * Tables of one_of that each hold one condition on one same field, by
 * values, are that condition with all their values (the values of a list
 * are ORed, and so are the tables): `one_of = { { filename_base = A },
 * { filename_base = B } }` is filename_base = A + B, one search of one
 * index instead of one per table. The first such table takes the others'
 * values; the others are dropped. A bind error names the first one.
 */
static int merge_alts(struct cond *c)
{
	for (size_t i = 0; i < c->nalts; i++) {
		struct cond *a = lone_values_cond(c->alts[i]);

		for (size_t j = i + 1; a && j < c->nalts;) {
			struct cond *b = lone_values_cond(c->alts[j]);
			struct value *v;

			if (!b || b->src != a->src || strcmp(a->name, b->name) ||
			    a->nvalues + b->nvalues > MAX_VALUES) {
				j++;
				continue;
			}
			v = realloc(a->values, (a->nvalues + b->nvalues) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			memcpy(v + a->nvalues, b->values, b->nvalues * sizeof(*v));
			a->values = v;
			a->nvalues += b->nvalues;
			b->nvalues = 0; /* a owns them now */
			tp_exception_free(c->alts[j]);
			memmove(&c->alts[j], &c->alts[j + 1], (c->nalts - j - 1) * sizeof(*c->alts));
			c->nalts--;
		}
	}
	return 0;
}

/* one_of = { {...}, {...} }: a condition that holds when all the
 * conditions of one of the tables do. Stack: [-0, +0] */
static int add_one_of(lua_State *L, struct tp_exception *x, int idx, char *err, size_t errlen)
{
	struct cond *c;
	lua_Integer n;

	idx = lua_absindex(L, idx);
	n = lua_type(L, idx) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, idx) : 0;
	if (n < 1 || n > MAX_ALTS) {
		snprintf(err, errlen, "one_of: a list of 1 to %d tables of conditions "
			 "(one_of = { { exe_memfd = 1 }, { filename = \"/dev/fd/*\" } })", MAX_ALTS);
		return -EINVAL;
	}
	if (x->nconds == MAX_CONDS) {
		snprintf(err, errlen, "more than %d fields", MAX_CONDS);
		return -EINVAL;
	}
	c = &x->conds[x->nconds];
	memset(c, 0, sizeof(*c));
	c->src = S_ONE_OF;
	c->name = strdup("one_of");
	c->alts = calloc((size_t)n, sizeof(*c->alts));
	x->nconds++;
	if (!c->name || !c->alts)
		return -ENOMEM;
	for (lua_Integer i = 1; i <= n; i++) {
		char sub[512];

		if (lua_rawgeti(L, idx, i) != LUA_TTABLE) {
			lua_pop(L, 1);
			snprintf(err, errlen, "one_of[%lld]: a table of conditions", (long long)i);
			return -EINVAL;
		}
		c->alts[i - 1] = tp_exception_parse(L, -1, x->file, x->line, sub, sizeof(sub));
		lua_pop(L, 1);
		if (!c->alts[i - 1]) {
			snprintf(err, errlen, "one_of[%lld]: %s", (long long)i, sub);
			return strstr(sub, "out of memory") ? -ENOMEM : -EINVAL;
		}
		c->nalts++;
	}
	return merge_alts(c);
}

static bool is_nested(const char *k)
{
	return !strcmp(k, "parent") || !strcmp(k, "container") || !strcmp(k, "k8s") ||
	       !strcmp(k, "set") || !strcmp(k, "env");
}

struct tp_exception *tp_exception_parse(lua_State *L, int idx, const char *file, int line,
					 char *err, size_t errlen)
{
	struct tp_exception *x = calloc(1, sizeof(*x));
	int r = 0;

	if (!x || !(x->file = strdup(file ? file : "?"))) {
		free(x);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->line = line;
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (r == 0 && lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;

		if (!k) {
			snprintf(err, errlen, "keys are field names (comm = ..., path = ...)");
			r = -EINVAL;
		} else if (!strcmp(k, "rule")) {
			/* the caller's */
		} else if (!strcmp(k, "reason")) {
			if (lua_type(L, -1) != LUA_TSTRING) {
				snprintf(err, errlen, "reason: a string");
				r = -EINVAL;
			} else if (!(x->reason = strdup(lua_tostring(L, -1)))) {
				r = -ENOMEM;
			}
		} else if (!strcmp(k, "one_of")) {
			r = add_one_of(L, x, -1, err, errlen);
		} else if (is_nested(k) && lua_type(L, -1) == LUA_TTABLE &&
			   lua_rawlen(L, -1) == 0) {
			/* parent = { comm = "sshd", exe = ... } */
			int t = lua_gettop(L);

			lua_pushnil(L);
			while (r == 0 && lua_next(L, t)) {
				char name[64];

				if (lua_type(L, -2) != LUA_TSTRING) {
					snprintf(err, errlen, "%s: keys are field names", k);
					r = -EINVAL;
				} else {
					snprintf(name, sizeof(name), "%s.%s", k,
						 lua_tostring(L, -2));
					r = add_cond(L, x, name, -1, err, errlen);
				}
				lua_pop(L, 1);
			}
			if (r)
				lua_pop(L, 1);
		} else {
			r = add_cond(L, x, k, -1, err, errlen);
		}
		lua_pop(L, 1);
		if (r)
			lua_pop(L, 1); /* the key */
	}
	if (r == 0 && !x->nconds) {
		snprintf(err, errlen, "no field to match (e.g. comm = \"puppet\")");
		r = -EINVAL;
	}
	for (size_t i = 0; i < x->nconds; i++)
		x->order[i] = (uint8_t)i;
	if (r) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		tp_exception_free(x);
		return NULL;
	}
	return x;
}

void tp_exception_drop_caches(struct tp_exception *x)
{
	for (size_t i = 0; x && i < x->nconds; i++) {
		struct cond *c = &x->conds[i];

		if (c->ix) {
			free(c->ix->cache);
			c->ix->cache = NULL;
			c->ix->no_cache = false;
		}
		for (size_t j = 0; j < c->nalts; j++)
			tp_exception_drop_caches(c->alts[j]);
	}
}

void tp_exception_free(struct tp_exception *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nconds; i++) {
		for (size_t j = 0; j < x->conds[i].nvalues; j++) {
			free(x->conds[i].values[j].s);
			free(x->conds[i].values[j].bytes);
			free(x->conds[i].values[j].mask_syms);
		}
		free(x->conds[i].values);
		for (size_t j = 0; j < x->conds[i].nalts; j++)
			tp_exception_free(x->conds[i].alts[j]);
		free(x->conds[i].alts);
		if (x->conds[i].ix) {
			free(x->conds[i].ix->cache);
			free(x->conds[i].ix->bexact);
			free(x->conds[i].ix->bprefix);
			free(x->conds[i].ix->bsuffix);
		}
		free(x->conds[i].ix);
		free(x->conds[i].nums);
		if (x->conds[i].tf != &x->conds[i].tf1)
			free(x->conds[i].tf);
		free(x->conds[i].name);
	}
	free(x->reason);
	free(x->file);
	free(x);
}

/* ------------------------------------------------------------ binding to a rule's events */

static bool numeric_kind(enum tp_field_kind k)
{
	return k != TP_FK_STR && k != TP_FK_ARGV && k != TP_FK_IPADDR;
}

/* Every field name the types have, for the message. */
static void list_fields(const struct tp_event_type *const *types, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < types[i]->nfields; j++) {
			const char *name = types[i]->fields[j].name;
			char probe[80];

			snprintf(probe, sizeof(probe), " %s,", name);
			if (strstr(buf, probe) || used + strlen(probe) + 8 >= len)
				continue;
			used += (size_t)snprintf(buf + used, len - used, "%s", probe);
		}
	}
	if (used)
		buf[used - 1] = '\0';
}

static int bind_user(struct cond *c)
{
	for (size_t i = 0; i < c->nvalues; i++) {
		struct value *v = &c->values[i];
		struct passwd pw, *res = NULL;
		char buf[2048];

		if (v->is_num || v->glob)
			continue;
		if (getpwnam_r(v->s, &pw, buf, sizeof(buf), &res) == 0 && res) {
			v->is_num = true;
			v->num = pw.pw_uid;
		} else {
			tp_warn("exception: no user '%s' on this node: that value never matches",
				v->s);
			v->num = -1; /* never an uid */
			v->is_num = true;
		}
	}
	return 0;
}

/* "O_WRONLY|O_RDWR" through f's names (of the type ty) into *out. */
static int resolve_mask(const struct cond *c, const struct value *v,
			const struct tp_event_type *ty, const struct tp_field *f, uint64_t *out,
			char *err, size_t errlen)
{
	char *save = NULL, *tok, *s = strdup(v->mask_syms);
	uint64_t mask = 0;

	if (!s)
		return -ENOMEM;
	for (tok = strtok_r(s, "| ", &save); tok; tok = strtok_r(NULL, "| ", &save)) {
		const struct tp_sym *y = f->syms;

		while (y && y->name && strcmp(y->name, tok))
			y++;
		if (!y || !y->name) {
			snprintf(err, errlen, "%s: %s has no flag '%s' (a name of its %s field, "
				 "e.g. %s)", c->name, ty->name, tok, f->name,
				 f->syms && f->syms[0].name ? f->syms[0].name : "none: give a number");
			free(s);
			return -EINVAL;
		}
		mask |= y->value;
	}
	free(s);
	*out = mask;
	return 0;
}

/* One name of an S_FIELD condition ("path", "flags_str", "filename_base")
 * bound to each type that has it. */
static int bind_name(struct cond *c, const char *name, size_t nlen,
		     const struct tp_event_type *const *types, size_t n, char *err, size_t errlen)
{
	bool str_suffix = nlen > 4 && !strncmp(name + nlen - 4, "_str", 4);
	bool base_suffix = nlen > 5 && !strncmp(name + nlen - 5, "_base", 5);
	char full[128], base[128];
	int r;

	snprintf(full, sizeof(full), "%.*s", (int)nlen, name);
	for (size_t t = 0; t < n; t++) {
		const struct tp_field *f = tp_event_field(types[t], full);
		bool sym = false, is_base = false;
		uint64_t mask = 0;

		/* argv[i]: one argument, by its place (Lua's: argv[1] is the
		 * program's name as run) */
		if (!f && nlen > 6 && !strncmp(name, "argv[", 5) && name[nlen - 1] == ']') {
			char *end;
			unsigned long i = strtoul(name + 5, &end, 10);

			f = tp_event_field(types[t], "argv");
			if (!f || f->kind != TP_FK_ARGV)
				continue;
			if (end != name + nlen - 1 || i < 1 || i > 64) {
				snprintf(err, errlen, "%s: argv[N] takes an index from 1 to 64",
					 c->name);
				return -EINVAL;
			}
			c->tf[c->ntf++] =
			    (struct type_field){types[t], f, false, false, 0, NULL, (uint32_t)i};
			continue;
		}
		/* env.NAME: a variable of the exec's environment */
		if (!f && nlen > 4 && !strncmp(name, "env.", 4)) {
			f = tp_event_field(types[t], "env");
			if (f && f->kind != TP_FK_ENV)
				f = NULL;
			if (f) {
				c->tf[c->ntf++] = (struct type_field){types[t], f, false, false, 0,
								      name + 4};
				continue;
			}
		}

		if (!f && (str_suffix || base_suffix)) {
			snprintf(base, sizeof(base), "%.*s", (int)(nlen - (str_suffix ? 4 : 5)),
				 name);
			f = tp_event_field(types[t], base);
			if (f && str_suffix && !f->syms)
				f = NULL;
			if (f && base_suffix && f->kind != TP_FK_STR)
				f = NULL;
			sym = str_suffix;
			is_base = base_suffix;
		}
		if (!f)
			continue;
		for (size_t j = 0; j < c->nvalues; j++) {
			struct value *v = &c->values[j];

			if (v->mask) {
				if (!numeric_kind(f->kind)) {
					snprintf(err, errlen, "%s: a bit mask needs a number field",
						 c->name);
					return -EINVAL;
				}
				mask = (uint64_t)v->num;
				if (v->mask_syms &&
				    (r = resolve_mask(c, v, types[t], f, &mask, err, errlen)) < 0)
					return r;
				continue;
			}
			/* A name for a number: signal = "SIGKILL". */
			if (!sym && !v->present && numeric_kind(f->kind) && !v->is_num) {
				if (!f->syms) {
					snprintf(err, errlen, "%s: '%s' is not a number (%s is one)",
						 c->name, v->s, c->name);
					return -EINVAL;
				}
				sym = true;
			}
		}
		c->tf[c->ntf++] = (struct type_field){types[t], f, sym, is_base, mask};
	}
	return 0;
}

/* Can an inline check read a field of this kind from the record: unsigned
 * bits for a mask; for a number to equal, also a flag and signed numbers
 * (compared as the record's bits). */
static bool inline_kind(enum tp_field_kind k, bool eq)
{
	switch (k) {
	case TP_FK_U8:
	case TP_FK_U16:
	case TP_FK_U32:
	case TP_FK_U64:
	case TP_FK_HEX:
	case TP_FK_OCTAL:
		return true;
	case TP_FK_BOOL:
	case TP_FK_S32:
	case TP_FK_S64:
		return eq;
	default:
		return false;
	}
}

/* Can match_field check tf of c without the general path? */
static int hot_kind(const struct cond *c, const struct type_field *tf)
{
	const struct tp_field *f = tf->field;

	if (c->present || tf->argi || tf->var)
		return TF_GENERAL;
	if (f->kind == TP_FK_STR)
		return TF_STR;
	/* a number of fixed size compared to numbers (not a flag's bit) */
	if (f->kind == TP_FK_BOOL || !inline_kind(f->kind, true) || tf->sym || !c->nvalues ||
	    c->values[0].mask || (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8))
		return TF_GENERAL;
	return TF_NUM;
}

/* An event field, or several ("path|newpath": any of them). */
static int bind_field(struct cond *c, const struct tp_event_type *const *types, size_t n,
		      char *err, size_t errlen)
{
	size_t nalts = 1;
	const char *p, *q;
	int r;

	for (p = c->name; (p = strchr(p, '|')); p++)
		nalts++;
	if (c->tf != &c->tf1)
		free(c->tf);
	c->tf = calloc((n ? n : 1) * nalts, sizeof(*c->tf));
	if (!c->tf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->ntf = 0;
	for (p = c->name; p; p = q ? q + 1 : NULL) {
		q = strchr(p, '|');
		r = bind_name(c, p, q ? (size_t)(q - p) : strlen(p), types, n, err, errlen);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < c->ntf; k++)
		c->tf[k].hot = hot_kind(c, &c->tf[k]);
	if (c->ntf == 1) {
		c->tf1 = c->tf[0];
		free(c->tf);
		c->tf = &c->tf1;
	}
	return 0;
}

/* What checking c costs, roughly: a key e:set set, a number or a flag
 * first; then a string compared to a few literals; globs, substrings and
 * long lists; the process's ancestry; the command line (joined first). */
static int cond_cost(const struct cond *c)
{
	int cost;

	switch (c->src) {
	case S_ONE_OF:
		cost = 0;
		for (size_t j = 0; j < c->nalts; j++) {
			const struct tp_exception *a = c->alts[j];

			for (size_t k = 0; k < a->nconds; k++)
				if (cond_cost(&a->conds[k]) > cost)
					cost = cond_cost(&a->conds[k]);
		}
		return cost + 1;
	case S_SET:
	case S_PID:
	case S_TID:
	case S_PPID:
	case S_UID:
	case S_GID:
	case S_USER:
		cost = 0;
		break;
	case S_FIELD:
		cost = c->present || c->values[0].mask ? 0 : 1;
		for (size_t k = 0; cost && k < c->ntf; k++)
			if (c->tf[k].field->kind == TP_FK_STR || c->tf[k].sym ||
			    c->tf[k].field->kind == TP_FK_IPADDR)
				cost = 2;
		break;
	case S_TYPE:
	case S_COMM:
		cost = 2;
		break;
	case S_ANCESTOR:
		cost = 5;
		break;
	case S_CMDLINE:
		cost = 7;
		break;
	default:
		cost = 3;
		break;
	}
	if (c->present)
		return cost;
	for (size_t i = 0; i < c->nvalues; i++)
		if (c->values[i].kind == V_GLOB || c->values[i].kind == V_SUBSTR ||
		    c->values[i].kind == V_BYTES) {
			cost++;
			break;
		}
	return cost + (c->nvalues > 8);
}

/* Byte order from the start (fwd) or from the end (rev), then length. */
static int cmp_fwd(const char *a, size_t an, const char *b, size_t bn)
{
	/* Short strings that differ in their first bytes: no memcmp call. */
	for (size_t i = 0, n = an < bn ? an : bn; i < n; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	return (an > bn) - (an < bn);
}

static int cmp_rev(const char *a, size_t an, const char *b, size_t bn)
{
	for (size_t i = 0; i < an && i < bn; i++) {
		unsigned char x = (unsigned char)a[an - 1 - i], y = (unsigned char)b[bn - 1 - i];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return (an > bn) - (an < bn);
}

static int by_fwd(const void *a, const void *b)
{
	const struct value *u = *(const struct value *const *)a, *v = *(const struct value *const *)b;

	return cmp_fwd(u->lit, u->len, v->lit, v->len);
}

static int by_rev(const void *a, const void *b)
{
	const struct value *u = *(const struct value *const *)a, *v = *(const struct value *const *)b;

	return cmp_rev(u->lit, u->len, v->lit, v->len);
}

/* Sorted, then without each value the last one kept covers (a prefix of it,
 * or a suffix with rev): in sorted order whatever lies between a value and
 * one it covers is covered too, so the last kept is the one to ask. */
static size_t sort_and_prune(const struct value **a, size_t n, bool rev)
{
	size_t kept = 0;

	qsort(a, n, sizeof(*a), rev ? by_rev : by_fwd);
	for (size_t i = 0; i < n; i++) {
		const struct value *k = kept ? a[kept - 1] : NULL;

		if (k && a[i]->len >= k->len &&
		    !memcmp(rev ? a[i]->lit + a[i]->len - k->len : a[i]->lit, k->lit, k->len))
			continue;
		a[kept++] = a[i];
	}
	return kept;
}

/* The last of a[0..n) at or before s in the array's order, or NULL. */
static const struct value *last_at_or_before(const struct value *const *a, size_t n,
					     const char *s, size_t sn, bool rev)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = rev ? cmp_rev(a[mid]->lit, a[mid]->len, s, sn)
			    : cmp_fwd(a[mid]->lit, a[mid]->len, s, sn);

		if (r <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? a[lo - 1] : NULL;
}

static unsigned bucket_of(const char *s, size_t n, size_t common, bool rev)
{
	return n > common ? (unsigned char)(rev ? s[n - 1 - common] : s[common]) : 0;
}

static struct buckets *make_buckets(const struct value *const *a, size_t n, bool rev)
{
	struct buckets *b;
	size_t common;

	if (n < INDEX_FROM)
		return NULL;
	common = a[0]->len;
	for (size_t i = 1; i < n; i++) {
		size_t k = 0, m = a[i]->len < common ? a[i]->len : common;

		while (k < m && (rev ? a[i]->lit[a[i]->len - 1 - k] == a[0]->lit[a[0]->len - 1 - k]
				     : a[i]->lit[k] == a[0]->lit[k]))
			k++;
		common = k;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL; /* the whole array, slower */
	b->common = common;
	for (size_t k = 0, i = 0; k <= 256; k++) {
		while (i < n && bucket_of(a[i]->lit, a[i]->len, common, rev) < k)
			i++;
		b->start[k] = (uint16_t)i;
	}
	return b;
}

/* last_at_or_before, within s's bucket. */
static const struct value *bucket_search(const struct value *const *a, size_t n,
					 const struct buckets *b, const char *s, size_t sn,
					 bool rev)
{
	unsigned k;

	if (!b)
		return last_at_or_before(a, n, s, sn, rev);
	if (sn < b->common ||
	    memcmp(rev ? s + sn - b->common : s,
		   rev ? a[0]->lit + a[0]->len - b->common : a[0]->lit, b->common))
		return NULL;
	k = bucket_of(s, sn, b->common, rev);
	return last_at_or_before(a + b->start[k], (size_t)(b->start[k + 1] - b->start[k]), s, sn,
				 rev);
}

/* a[0..n) without the values whose every match one of ix's (pruned)
 * prefixes matches too: an exact value or a glob whose text before its
 * first * ? [ starts with the prefix ("/etc/pam.d/x", "/lib/?/y" under
 * "/etc/" and "/lib/"). Returns the count kept. */
static size_t drop_covered(const struct str_index *ix, const struct value **a, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = a[i]->s; /* a substring's "*" leads: 0 */
		size_t lead = a[i]->kind == V_EXACT ? a[i]->len : strcspn(s, "*?[\\");
		const struct value *p = last_at_or_before(ix->prefix, ix->nprefix, s, lead, false);

		if (!p || p->len > lead || memcmp(s, p->lit, p->len))
			a[kept++] = a[i];
	}
	return kept;
}

static int by_num(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* c's numbers sorted, when it has many (match_num). Without memory, the
 * walk. */
static void sort_nums(struct cond *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nvalues; i++)
		n += c->values[i].is_num;
	if (n < NUMS_SORTED_FROM || c->nums || !(c->nums = malloc(n * sizeof(*c->nums))))
		return;
	for (size_t i = 0; i < c->nvalues; i++)
		if (c->values[i].is_num)
			c->nums[c->nnums++] = c->values[i].num;
	qsort(c->nums, c->nnums, sizeof(*c->nums), by_num);
}

/* The index of c's values (match_str), when it has many and they are all
 * compared as strings. Without memory the values are tried in turn. */
static void build_index(struct cond *c)
{
	struct str_index *ix;
	const struct value **all;
	size_t nslash = 0;

	for (size_t i = 0; i < c->nvalues; i++)
		nslash += c->values[i].slash;
	c->slashes = !nslash ? SLASH_NONE : nslash == c->nvalues ? SLASH_ALL : SLASH_SOME;
	if (c->ix || c->nvalues < CACHE_FROM || c->present)
		return;
	for (size_t i = 0; i < c->nvalues; i++)
		if (c->values[i].mask || c->values[i].present)
			return;
	ix = calloc(1, sizeof(*ix) + 5 * c->nvalues * sizeof(*all));
	if (!ix)
		return;
	all = (const struct value **)(ix + 1);
	ix->exact = all;
	ix->prefix = all + c->nvalues;
	ix->suffix = all + 2 * c->nvalues;
	ix->slash = all + 3 * c->nvalues;
	ix->other = all + 4 * c->nvalues;
	for (size_t i = 0; i < c->nvalues; i++) {
		const struct value *v = &c->values[i];

		switch (v->kind) {
		case V_EXACT: ix->exact[ix->nexact++] = v; break;
		case V_PREFIX:
			ix->any |= v->len == 0;
			ix->prefix[ix->nprefix++] = v;
			break;
		case V_SUFFIX: ix->suffix[ix->nsuffix++] = v; break;
		case V_SUBSTR:
			if (v->len && v->lit[0] == '/') {
				ix->slash[ix->nslash++] = v;
				break;
			}
			/* fall through */
		default: ix->other[ix->nother++] = v; break;
		}
	}
	ix->nprefix = sort_and_prune(ix->prefix, ix->nprefix, false);
	ix->nexact = drop_covered(ix, ix->exact, ix->nexact);
	ix->nother = drop_covered(ix, ix->other, ix->nother);
	qsort(ix->exact, ix->nexact, sizeof(*all), by_fwd);
	ix->nsuffix = sort_and_prune(ix->suffix, ix->nsuffix, true);
	ix->nslash = sort_and_prune(ix->slash, ix->nslash, false);
	ix->bexact = make_buckets(ix->exact, ix->nexact, false);
	ix->bprefix = make_buckets(ix->prefix, ix->nprefix, false);
	ix->bsuffix = make_buckets(ix->suffix, ix->nsuffix, true);
	for (size_t i = 0; i < ix->nslash; i++) {
		unsigned char b = ix->slash[i]->len > 1 ? (unsigned char)ix->slash[i]->lit[1] : 0;

		if (ix->slash[i]->len == 1) /* "/": after any byte */
			memset(ix->after_slash, 0xff, sizeof(ix->after_slash));
		ix->after_slash[b / 64] |= 1ull << (b % 64);
	}
	c->ix = ix;
}

/* x->order: the conditions by cost, the given order among equals. */
static void sort_by_cost(struct tp_exception *x)
{
	int cost[MAX_CONDS];

	for (size_t i = 0; i < x->nconds; i++)
		cost[i] = cond_cost(&x->conds[i]);
	for (size_t i = 1; i < x->nconds; i++) { /* insertion: stable, a few items */
		uint8_t o = x->order[i];
		size_t j = i;

		for (; j > 0 && cost[x->order[j - 1]] > cost[o]; j--)
			x->order[j] = x->order[j - 1];
		x->order[j] = o;
	}
}

int tp_exception_cost(const struct tp_exception *x)
{
	return x->nconds ? cond_cost(&x->conds[x->order[0]]) : 0;
}

int tp_exception_bind(struct tp_exception *x, const struct tp_event_type *const *types, size_t n,
		      char *err, size_t errlen)
{
	for (size_t i = 0; i < x->nconds; i++) {
		struct cond *c = &x->conds[i];
		int r;

		if (c->src == S_ONE_OF) {
			for (size_t j = 0; j < c->nalts; j++) {
				char sub[512];

				r = tp_exception_bind(c->alts[j], types, n, sub, sizeof(sub));
				if (r < 0) {
					snprintf(err, errlen, "one_of[%zu]: %s", j + 1, sub);
					return r;
				}
			}
			continue;
		}
		if (c->src != S_FIELD && c->values[0].mask) {
			snprintf(err, errlen, "%s: a bit mask needs a number field of the event",
				 c->name);
			return -EINVAL;
		}
		if (c->present && c->src != S_FIELD && c->src < S_EXE) {
			snprintf(err, errlen, "%s: every event has one (true/false is for fields "
					      "that may be missing)", c->name);
			return -EINVAL;
		}
		if (c->src == S_USER) {
			bind_user(c);
			continue;
		}
		if (c->src != S_FIELD) {
			for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
				if (known[k].src != c->src)
					continue;
				if (known[k].virtual_field &&
				    !tp_lua_event_has_field(NULL, known[k].virtual_field)) {
					snprintf(err, errlen,
						 "%s: the enrichment that provides it is not built "
						 "in",
						 c->name);
					return -EINVAL;
				}
				for (size_t j = 0; j < c->nvalues; j++) {
					if (known[k].numeric && !c->values[j].is_num &&
					    !c->values[j].present) {
						snprintf(err, errlen, "%s: '%s' is not a number",
							 c->name, c->values[j].s);
						return -EINVAL;
					}
				}
			}
			continue;
		}
		r = bind_field(c, types, n, err, errlen);
		if (r < 0)
			return r;
		if (!c->ntf && !strcmp(c->name, "container.image")) {
			snprintf(err, errlen, "container.image: the enrichment does not know container "
					      "images (it knows container.id and container.runtime)");
			return -EINVAL;
		}
		if (!c->ntf) {
			char fields[512];

			list_fields(types, n, fields, sizeof(fields));
			snprintf(err, errlen,
				 "no field '%s' in the rule's events (known: comm, exe, cmdline, "
				 "uid, user, pid, ppid, parent, ancestor, container, k8s,%s)",
				 c->name, fields);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < x->nconds; i++) {
		build_index(&x->conds[i]);
		sort_nums(&x->conds[i]);
	}
	sort_by_cost(x);
	return 0;
}

/* ------------------------------------------------------------ matching */

static bool match_value(const struct value *v, const char *s, size_t n)
{
	switch (v->kind) {
	case V_EXACT:
		return n == v->len && memcmp(s, v->lit, n) == 0;
	case V_PREFIX:
		return n >= v->len && memcmp(s, v->lit, v->len) == 0;
	case V_SUFFIX:
		return n >= v->len && memcmp(s + n - v->len, v->lit, v->len) == 0;
	case V_SUBSTR:
		if (v->len == 1) /* one byte: a \226 that starts a control */
			return memchr(s, v->lit[0], n) != NULL;
		return n >= v->len && memmem(s, n, v->lit, v->len) != NULL;
	case V_BYTES:
		for (size_t i = 0; i < n; i++) {
			unsigned char b = (unsigned char)s[i];

			if (v->bytes[b / 64] >> (b % 64) & 1)
				return true;
		}
		return false;
	case V_GLOB:
		return fnmatch(v->s, s, 0) == 0;
	}
	return false;
}

__attribute__((noinline)) static bool match_indexed(const struct str_index *ix, const char *s,
						    size_t n)
{
	const struct value *v;

	if (ix->any)
		return true;
	v = bucket_search(ix->exact, ix->nexact, ix->bexact, s, n, false);
	if (v && v->len == n && !memcmp(v->lit, s, n))
		return true;
	v = bucket_search(ix->prefix, ix->nprefix, ix->bprefix, s, n, false);
	if (v && match_value(v, s, n))
		return true;
	v = bucket_search(ix->suffix, ix->nsuffix, ix->bsuffix, s, n, true);
	if (v && match_value(v, s, n))
		return true;
	for (const char *p = ix->nslash ? memchr(s, '/', n) : NULL; p;
	     p = memchr(p + 1, '/', n - (size_t)(p + 1 - s))) {
		size_t rest = n - (size_t)(p - s);
		unsigned char b = rest > 1 ? (unsigned char)p[1] : 0;

		if (!(ix->after_slash[b / 64] >> (b % 64) & 1))
			continue;
		v = last_at_or_before(ix->slash, ix->nslash, p, rest, false);
		if (v && rest >= v->len && !memcmp(p, v->lit, v->len))
			return true;
	}
	for (size_t i = 0; i < ix->nother; i++)
		if (match_value(ix->other[i], s, n))
			return true;
	return false;
}

static unsigned scache_slot(const char *s, size_t n)
{
	return (unsigned)(tp_hash_ends(s, n) >> 56); /* SCACHE_N = 256 */
}

static bool match_cached(struct str_index *ix, const char *s, size_t n)
{
	struct scache_entry *e;

	if (!ix->cache && !ix->no_cache && !(ix->cache = calloc(SCACHE_N, sizeof(*ix->cache))))
		ix->no_cache = true;
	if (!ix->cache || n == 0 || n > SCACHE_KEY)
		return match_indexed(ix, s, n);
	e = &ix->cache[scache_slot(s, n)];
	if (e->len == n && !memcmp(e->key, s, n))
		return e->match;
	e->match = match_indexed(ix, s, n);
	e->len = (uint8_t)n;
	memcpy(e->key, s, n);
	return e->match;
}

static bool match_strn(const struct cond *c, const char *s, size_t n)
{
	if (c->ix)
		return match_cached(c->ix, s, n);
	for (size_t i = 0; i < c->nvalues; i++)
		if (match_value(&c->values[i], s, n))
			return true;
	return false;
}

static bool match_str(const struct cond *c, const char *s)
{
	return s && match_strn(c, s, strlen(s));
}

static const char *base_name(const char *s)
{
	const char *b = s ? strrchr(s, '/') : NULL;

	return b ? b + 1 : s;
}

static bool match_num(const struct cond *c, int64_t n)
{
	if (c->nums) {
		size_t lo = 0, hi = c->nnums;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (c->nums[mid] < n)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < c->nnums && c->nums[lo] == n;
	}
	for (size_t i = 0; i < c->nvalues; i++)
		if (c->values[i].is_num && c->values[i].num == n)
			return true;
	return false;
}

/* The parent, or any ancestor (the parent first): by exe when the value
 * has a '/', else by comm. */
__attribute__((noinline)) static bool match_ancestor(const struct cond *c,
						     const struct tp_proc_ctx *pc, bool parent_only)
{
	const struct tp_proc_ref *r;

	for (size_t k = 0; pc && k <= (parent_only ? 0 : pc->nancestors); k++) {
		r = k == 0 ? pc->parent : &pc->ancestors[k - 1];
		if (!r)
			continue;
		size_t ncomm = r->comm ? strlen(r->comm) : 0, nexe = r->exe ? strlen(r->exe) : 0;

		if (c->ix && c->slashes != SLASH_SOME) {
			const char *s = c->slashes == SLASH_ALL ? r->exe : r->comm;

			if (s && match_strn(c, s, c->slashes == SLASH_ALL ? nexe : ncomm))
				return true;
			continue;
		}
		for (size_t i = 0; i < c->nvalues; i++) {
			const struct value *v = &c->values[i];

			if (v->slash ? r->exe && match_value(v, r->exe, nexe)
				     : r->comm && match_value(v, r->comm, ncomm))
				return true;
		}
	}
	return false;
}

/* The command line argv (len bytes, NUL-separated) joins to, by spaces, at
 * most 4095 bytes. The last one joined is kept with the bytes it came from:
 * an exec's cmdline conditions, rule after rule, join the same. */
static const char *joined_cmdline(const char *argv, uint32_t len)
{
	static __thread struct {
		bool valid;
		uint32_t len;
		char src[4096];
		char line[4096];
	} m;
	const char *p;
	size_t used = 0, n;

	if (m.valid && m.len == len && !memcmp(m.src, argv, len))
		return m.line;
	for (p = tp_argv_next(argv, len, NULL, &n); p; p = tp_argv_next(argv, len, p, &n)) {
		if (used && used < sizeof(m.line) - 1)
			m.line[used++] = ' ';
		if (n > sizeof(m.line) - 1 - used)
			n = sizeof(m.line) - 1 - used;
		memcpy(m.line + used, p, n);
		used += n;
	}
	m.line[used] = '\0';
	m.valid = len <= sizeof(m.src);
	if (m.valid) {
		memcpy(m.src, argv, len);
		m.len = len;
	}
	return m.line;
}

/* argv joined by spaces, from the event or the enrichment. */
__attribute__((noinline)) static bool match_cmdline(const struct cond *c, const struct tp_event *ev,
						    const struct tp_proc_ctx *pc)
{
	const char *argv = NULL;
	uint32_t len = 0;

	for (uint32_t i = 0; i < ev->type->nfields; i++) {
		if (ev->type->fields[i].kind == TP_FK_ARGV) {
			argv = tp_field_argv(ev, &ev->type->fields[i], &len);
			break;
		}
	}
	if (!argv && pc) {
		argv = pc->argv;
		len = pc->argv_len;
	}
	if (!argv)
		return false;
	return match_str(c, joined_cmdline(argv, len));
}

static bool match_mask(const struct cond *c, const struct type_field *tf, uint64_t u)
{
	uint64_t m = tf->mask;

	return c->values[0].mask == MASK_ANY ? (u & m) != 0 : (u & m) == m;
}

/* env.NAME: the variable's value (the first of that name); absent when
 * it is not set. */
static bool match_env(const struct cond *c, const struct type_field *tf, const struct tp_event *ev)
{
	struct tp_env_entry en;
	char buf[1024];
	const char *env;
	uint32_t len = 0;
	size_t vlen = strcspn(tf->var, "|");

	env = tp_field_argv(ev, tf->field, &len);
	for (bool ok = tp_env_next(env, len, NULL, &en); ok; ok = tp_env_next(env, len, &en, &en)) {
		if (en.name_len != vlen || memcmp(en.name, tf->var, vlen))
			continue;
		if (c->present)
			return c->present == PRESENT_YES;
		if (en.value + en.value_len >= env + len) { /* no '\0' after it */
			size_t k = en.value_len < sizeof(buf) - 1 ? en.value_len : sizeof(buf) - 1;

			memcpy(buf, en.value, k);
			buf[k] = '\0';
			return match_strn(c, buf, k);
		}
		return match_strn(c, en.value, en.value_len);
	}
	return c->present == PRESENT_NO;
}

/* One field of the event's type. */
/* argv[i]: absent when the exec has fewer arguments. */
/* One argument p (an bytes) of argv (len bytes): the last one may end
 * without its '\0', and globs need one. */
static bool match_argn(const struct cond *c, const char *argv, uint32_t len, const char *p,
		       size_t an)
{
	char buf[1024];

	if (p + an < argv + len)
		return match_strn(c, p, an);
	an = an < sizeof(buf) - 1 ? an : sizeof(buf) - 1;
	memcpy(buf, p, an);
	buf[an] = '\0';
	return match_strn(c, buf, an);
}

static bool match_arg(const struct cond *c, const struct type_field *tf, const struct tp_event *ev)
{
	const char *argv = NULL, *p = NULL;
	uint32_t len = 0, k = 0;
	size_t an = 0;

	if (tp_field_present(ev, tf->field))
		argv = tp_field_argv(ev, tf->field, &len);
	if (argv)
		for (p = tp_argv_next(argv, len, NULL, &an); p && ++k < tf->argi;)
			p = tp_argv_next(argv, len, p, &an);
	if (!p)
		return c->present == PRESENT_NO;
	if (c->present)
		return c->present == PRESENT_YES;
	return match_argn(c, argv, len, p, an);
}

/* v in decimal, as "%lld" writes it, into out (at least 22 bytes). */
static void dec_i64(char *out, int64_t v)
{
	if (v < 0)
		*out++ = '-';
	*tp_u64_put(out, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v) = '\0';
}

__attribute__((noinline)) static bool
match_one_field(const struct cond *c, const struct type_field *tf, const struct tp_event *ev)
{
	char buf[1024];
	uint64_t u;
	int64_t i;

	if (tf->argi)
		return match_arg(c, tf, ev);
	if (!tp_field_present(ev, tf->field))
		return c->present == PRESENT_NO;
	if (tf->var)
		return match_env(c, tf, ev);
	if (c->present)
		return c->present == PRESENT_YES;
	switch (tf->field->kind) {
	case TP_FK_STR:
		if (tf->base)
			return match_str(c, base_name(tp_field_str(ev, tf->field)));
		return match_str(c, tp_field_str(ev, tf->field));
	case TP_FK_IPADDR:
		return tp_field_ipaddr(ev, tf->field, buf, sizeof(buf)) && match_str(c, buf);
	case TP_FK_ARGV: { /* any one argument (argv[0] too); cmdline: all joined */
		const char *argv, *p;
		uint32_t len = 0;
		size_t an;

		argv = tp_field_argv(ev, tf->field, &len);
		for (p = tp_argv_next(argv, len, NULL, &an); p; p = tp_argv_next(argv, len, p, &an))
			if (match_argn(c, argv, len, p, an))
				return true;
		return false;
	}
	case TP_FK_S32:
	case TP_FK_S64:
		if (!tp_field_i64(ev, tf->field, &i))
			return false;
		u = (uint64_t)i;
		break;
	default:
		if (!tp_field_u64(ev, tf->field, &u))
			return false;
		i = (int64_t)u;
		break;
	}
	if (c->values[0].mask)
		return match_mask(c, tf, u);
	if (tf->sym) {
		if (!tp_field_sym(tf->field, u, buf, sizeof(buf)))
			dec_i64(buf, i); /* a value without a name: its number (most exits' 0) */
		return match_str(c, buf);
	}
	return match_num(c, i);
}

/* The event's field(s) of that name: any of them ("path|newpath"). A type
 * without the field never matches (nor does `field = false`: the rule's
 * other types are not this condition's business). */
static inline __attribute__((always_inline)) bool match_field(const struct cond *c,
							      const struct tp_event *ev)
{
	for (size_t k = 0; k < c->ntf; k++) {
		const struct type_field *tf = &c->tf[k];
		const struct tp_field *f = tf->field;

		if (tf->type != ev->type)
			continue;
		if (tf->hot == TF_STR) { /* as tp_field_str gives it */
			const char *s = (const char *)ev->rec.bytes + f->offset;

			if (!tp_field_present(ev, f))
				continue;
			if (tf->base)
				s = base_name(s);
			if (match_strn(c, s, strlen(s)))
				return true;
		} else if (tf->hot == TF_NUM) { /* as tp_field_u64 and _i64 give it */
			uint64_t u;

			if (!tp_field_present(ev, f))
				continue;
			u = tp_load_uint(ev->rec.bytes + f->offset, f->size);
			/* a 4-byte signed field is sign-extended, as tp_field_i64 does */
			if (f->kind == TP_FK_S32 && f->size == 4)
				u = (uint64_t)(int64_t)(int32_t)u;
			if (match_num(c, (int64_t)u))
				return true;
		} else if (match_one_field(c, tf, ev)) {
			return true;
		}
	}
	return false;
}

/* field = true|false for what the enrichment attached. */
static bool match_known_present(const struct cond *c, const struct tp_proc_ctx *pc)
{
	bool set = false;

	switch (c->src) {
	case S_EXE:
	case S_EXE_BASE:
		set = pc && pc->exe && *pc->exe;
		break;
	case S_PARENT:
	case S_PARENT_COMM:
	case S_PARENT_EXE:
	case S_PARENT_PID:
		set = pc && pc->parent;
		break;
	case S_CONTAINER_ID:
	case S_CONTAINER_RUNTIME:
		set = pc && pc->container;
		break;
	default:
		set = pc && pc->k8s;
		break;
	}
	return set == (c->present == PRESENT_YES);
}

/* set.<key>: the value e:set gave the key on this event (meta->kv), by
 * presence, text or number. */
__attribute__((noinline)) static bool match_set(const struct cond *c,
						const struct tp_event_meta *meta)
{
	const char *key = c->name + 4;
	const struct tp_value *v = NULL;

	for (size_t i = 0; meta && i < meta->nkv; i++) {
		if (!strcmp(meta->kv[i].key, key)) {
			v = &meta->kv[i].value;
			break;
		}
	}
	if (!v)
		return c->present == PRESENT_NO;
	if (c->present)
		return c->present == PRESENT_YES;
	switch (v->kind) {
	case TP_V_STR:
		for (size_t i = 0; i < c->nvalues; i++)
			if (match_value(&c->values[i], v->str.s, v->str.len))
				return true;
		return false;
	case TP_V_INT:
		return match_num(c, v->i);
	case TP_V_BOOL:
		return match_num(c, v->b);
	case TP_V_NUM:
		return v->d == (double)(int64_t)v->d && match_num(c, (int64_t)v->d);
	}
	return false;
}

/* match_cond for what is not a plain event field (match_field). */
__attribute__((noinline)) static bool match_other(const struct cond *c, const struct tp_event *ev,
						  const struct tp_event_meta *meta)
{
	const struct tp_hdr *h = &ev->rec.hdr;
	const struct tp_proc_ctx *pc = meta ? meta->proc : NULL;

	if (c->src == S_SET)
		return match_set(c, meta);
	if (c->src == S_ONE_OF) {
		for (size_t j = 0; j < c->nalts; j++)
			if (tp_exception_match(c->alts[j], ev, meta))
				return true;
		return false;
	}
	if (c->present && c->src != S_FIELD)
		return match_known_present(c, pc);
	switch (c->src) {
	case S_TYPE:
		return match_str(c, ev->type->name);
	case S_COMM:
		return match_str(c, h->comm);
	case S_PID:
		return match_num(c, h->pid);
	case S_TID:
		return match_num(c, h->tid);
	case S_PPID:
		return match_num(c, h->ppid);
	case S_UID:
	case S_USER:
		return match_num(c, h->uid);
	case S_GID:
		return match_num(c, h->gid);
	case S_EXE:
		return pc && match_str(c, pc->exe);
	case S_EXE_BASE:
		return pc && match_str(c, base_name(pc->exe));
	case S_CMDLINE:
		return match_cmdline(c, ev, pc);
	case S_PARENT_COMM:
		return pc && pc->parent && match_str(c, pc->parent->comm);
	case S_PARENT_EXE:
		return pc && pc->parent && match_str(c, pc->parent->exe);
	case S_PARENT_PID:
		return pc && pc->parent && match_num(c, pc->parent->pid);
	case S_PARENT:
		return match_ancestor(c, pc, true);
	case S_ANCESTOR:
		return match_ancestor(c, pc, false);
	case S_CONTAINER_ID:
		return pc && pc->container && match_str(c, pc->container->id);
	case S_CONTAINER_RUNTIME:
		return pc && pc->container && match_str(c, pc->container->runtime);
	case S_K8S_NAMESPACE:
		return pc && pc->k8s && match_str(c, pc->k8s->namespace);
	case S_K8S_POD:
		return pc && pc->k8s && match_str(c, pc->k8s->pod);
	case S_K8S_CONTAINER:
		return pc && pc->k8s && match_str(c, pc->k8s->container);
	case S_K8S_POD_UID:
		return pc && pc->k8s && match_str(c, pc->k8s->pod_uid);
	case S_K8S_QOS:
		return pc && pc->k8s && match_str(c, pc->k8s->qos);
	case S_FIELD:
		return match_field(c, ev);
	case S_SET:
		return match_set(c, meta);
	case S_ONE_OF:
		break; /* above */
	}
	return false;
}

static inline bool match_cond(const struct cond *c, const struct tp_event *ev,
			      const struct tp_event_meta *meta)
{
	if (c->src == S_FIELD) /* most: a field of the record */
		return match_field(c, ev);
	return match_other(c, ev, meta);
}

bool tp_exception_match_but(const struct tp_exception *x, const struct tp_event *ev,
			    const struct tp_event_meta *meta, int skip)
{
	for (size_t i = 0; i < x->nconds; i++)
		if (x->order[i] != skip && !match_cond(&x->conds[x->order[i]], ev, meta))
			return false;
	return true;
}

bool tp_exception_match(const struct tp_exception *x, const struct tp_event *ev,
			const struct tp_event_meta *meta)
{
	return tp_exception_match_but(x, ev, meta, -1);
}

/* ------------------------------------------------------------ index keys */

/* How an index takes c: not at all (a number, a bit mask, a presence),
 * by its values when each is one an index holds (an equal string, or a
 * prefix with a literal part: "python*"; "*" alone matches anything), else
 * as a condition to evaluate on the key's string. */
enum key_form { KEY_NONE, KEY_VALUES, KEY_EVAL };

static enum key_form key_form(const struct cond *c)
{
	enum key_form form = KEY_VALUES;

	if (c->present || !c->nvalues)
		return KEY_NONE;
	for (size_t i = 0; i < c->nvalues; i++) {
		const struct value *v = &c->values[i];

		if (v->is_num || v->mask || v->present || !v->s)
			return KEY_NONE;
		if (v->kind != V_EXACT && (v->kind != V_PREFIX || v->len == 0))
			form = KEY_EVAL;
	}
	return form;
}

static bool exc_key(const struct tp_exception *x, const struct tp_event_type *t,
		    const struct tp_str_key *key, const struct cond **out);

/* Does c compare a key on type t (and which)? */
static bool cond_key(const struct cond *c, const struct tp_event_type *t, struct tp_str_key *key)
{
	const struct type_field *tf = NULL;

	switch (c->src) {
	case S_COMM:
		if (key_form(c) == KEY_NONE)
			return false;
		*key = (struct tp_str_key){NULL, false};
		return true;
	case S_FIELD:
		if (key_form(c) == KEY_NONE)
			return false;
		for (size_t k = 0; k < c->ntf; k++) {
			if (c->tf[k].type != t)
				continue;
			if (tf) /* "a|b": either field */
				return false;
			tf = &c->tf[k];
		}
		if (!tf || tf->var || tf->sym || tf->field->kind != TP_FK_STR)
			return false;
		*key = (struct tp_str_key){tf->field, tf->base};
		return true;
	case S_ONE_OF: /* a key every alternative compares */
		if (!c->nalts)
			return false;
		for (size_t i = 0; i < c->alts[0]->nconds; i++) {
			bool all = true;

			if (!cond_key(&c->alts[0]->conds[i], t, key))
				continue;
			for (size_t j = 1; j < c->nalts && all; j++)
				all = exc_key(c->alts[j], t, key, NULL);
			if (all)
				return true;
		}
		return false;
	default:
		return false;
	}
}

/* x's first condition that compares key on type t, in *out. */
static bool exc_key(const struct tp_exception *x, const struct tp_event_type *t,
		    const struct tp_str_key *key, const struct cond **out)
{
	struct tp_str_key k;

	for (size_t i = 0; i < x->nconds; i++)
		if (cond_key(&x->conds[i], t, &k) && tp_str_key_eq(&k, key)) {
			if (out)
				*out = &x->conds[i];
			return true;
		}
	return false;
}

size_t tp_exception_keys(const struct tp_exception *x, const struct tp_event_type *t,
			 struct tp_str_key *keys, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; x && i < x->nconds && n < max; i++)
		if (cond_key(&x->conds[i], t, &keys[n]))
			n++;
	return n;
}

static void cond_key_values(const struct cond *c, const struct tp_event_type *t,
			    const struct tp_str_key *key, tp_key_value_fn fn, void *ctx)
{
	const struct cond *a;

	if (c->src != S_ONE_OF && key_form(c) == KEY_EVAL) {
		fn(ctx, NULL, 0, false, c);
		return;
	}
	if (c->src != S_ONE_OF) {
		for (size_t i = 0; i < c->nvalues; i++)
			fn(ctx, c->values[i].lit, c->values[i].len, c->values[i].kind == V_PREFIX,
			   NULL);
		return;
	}
	for (size_t j = 0; j < c->nalts; j++)
		if (exc_key(c->alts[j], t, key, &a))
			cond_key_values(a, t, key, fn, ctx);
}

bool tp_exception_key_values(const struct tp_exception *x, const struct tp_event_type *t,
			     const struct tp_str_key *key, tp_key_value_fn fn, void *ctx)
{
	const struct cond *c;

	if (!x || !exc_key(x, t, key, &c))
		return false;
	cond_key_values(c, t, key, fn, ctx);
	return true;
}

/* The key's string is what match_field (or the comm's condition) hands
 * match_strn: the same answer. */
bool tp_exception_key_eval(const void *eval, const char *s, size_t n)
{
	return match_strn(eval, s, n);
}

const char *tp_str_key_get(const struct tp_str_key *key, const struct tp_event *ev)
{
	if (!key->field)
		return ev->rec.hdr.comm;
	if (!tp_field_present(ev, key->field))
		return NULL;
	return key->base ? base_name(tp_field_str(ev, key->field)) : tp_field_str(ev, key->field);
}

/* c's one field for type t when it is a number of 1, 2, 4 or 8 bytes that
 * every event of t carries (no env.NAME, no field of its own presence but
 * a flag whose presence bit is in its own word), else NULL. */
static const struct type_field *fixed_number_field(const struct cond *c,
						   const struct tp_event_type *t)
{
	const struct type_field *tf = NULL;
	const struct tp_field *f;
	size_t ntf = 0;

	for (size_t k = 0; k < c->ntf; k++)
		if (c->tf[k].type == t) {
			tf = &c->tf[k];
			ntf++;
		}
	if (ntf != 1 || tf->var)
		return NULL;
	f = tf->field;
	if (f->present_mask && !(f->kind == TP_FK_BOOL && f->aux && f->present_offset == f->offset))
		return NULL;
	if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
		return NULL;
	return tf;
}

/* c as a check of the record's bits, for events of type t: a bit mask
 * (masks = true), else a number to equal, or (flags) a flag = 1. A flag
 * whose word a record may lack (an exec's exe_flags in records stored
 * before the exec context) is only for the prefilter, which leaves the
 * full check to decide those. */
static bool cond_fast_mask(const struct tp_exception *x, size_t i, const struct tp_event_type *t,
			   bool masks, bool flags, struct tp_fast_mask *out)
{
	const struct cond *c = &x->conds[x->order[i]];
	const struct type_field *tf;
	const struct tp_field *f;
	uint64_t v;

	if (c->src != S_FIELD || c->present || c->nvalues != 1 || !(tf = fixed_number_field(c, t)))
		return false;
	f = tf->field;
	if (masks) {
		if (!c->values[0].mask || f->kind == TP_FK_BOOL || f->present_mask ||
		    !inline_kind(f->kind, false))
			return false;
		*out = (struct tp_fast_mask){.off = f->offset,
					     .size = (uint8_t)f->size,
					     .all = c->values[0].mask == MASK_ALL,
					     .cond = (int8_t)x->order[i],
					     .mask = tf->mask};
		return true;
	}
	if (c->values[0].mask || !c->values[0].is_num || tf->sym || tf->base ||
	    !inline_kind(f->kind, true))
		return false;
	v = (uint64_t)c->values[0].num;
	if (f->kind == TP_FK_BOOL && f->aux) {
		/* flag = 1: its bit (and its presence bit) set; flag = 0 is
		 * no bit test */
		if (v != 1 || !flags)
			return false;
		*out = (struct tp_fast_mask){.off = f->offset,
					     .size = (uint8_t)f->size,
					     .all = true,
					     .cond = (int8_t)x->order[i],
					     .mask = (uint64_t)f->aux | f->present_mask};
		return true;
	}
	if (f->kind == TP_FK_BOOL && v != 0) /* any bit of the field: no one number */
		return false;
	/* the record's bits: a negative number in a signed field of fewer
	 * than 8 bytes is its two's complement of that size */
	if (f->size < 8)
		v &= (1ull << (8 * f->size)) - 1;
	*out = (struct tp_fast_mask){.off = f->offset,
				     .size = (uint8_t)f->size,
				     .eq = true,
				     .cond = (int8_t)x->order[i],
				     .mask = v};
	return true;
}

bool tp_exception_fast_mask(const struct tp_exception *x, const struct tp_event_type *t,
			    struct tp_fast_mask *out)
{
	/* a bit mask first (the rarer to pass), then a number to equal */
	for (int masks = 1; masks >= 0; masks--)
		for (size_t i = 0; x && i < x->nconds; i++)
			if (cond_fast_mask(x, i, t, masks, false, out))
				return true;
	return false;
}

size_t tp_exception_fast_masks(const struct tp_exception *x, const struct tp_event_type *t,
			       struct tp_fast_mask *out, size_t max)
{
	size_t n = 0;

	for (int masks = 1; masks >= 0; masks--)
		for (size_t i = 0; x && i < x->nconds && n < max; i++)
			if (cond_fast_mask(x, i, t, masks, true, &out[n]))
				n++;
	return n;
}

bool tp_exception_needs_set(const struct tp_exception *x)
{
	if (tp_exception_set_key(x))
		return true;
	for (size_t i = 0; x && i < x->nconds; i++) {
		const struct cond *c = &x->conds[i];
		size_t j = 0;

		/* one_of needs a key when each of its tables does */
		for (; c->src == S_ONE_OF && j < c->nalts; j++)
			if (!tp_exception_needs_set(c->alts[j]))
				break;
		if (c->src == S_ONE_OF && j == c->nalts)
			return true;
	}
	return false;
}

unsigned tp_exception_needs_context(const struct tp_exception *x)
{
	unsigned need = 0;

	for (size_t i = 0; x && i < x->nconds; i++) {
		const struct cond *c = &x->conds[i];

		if (c->present == PRESENT_NO)
			continue;
		switch (c->src) {
		case S_CONTAINER_ID:
		case S_CONTAINER_RUNTIME:
			need |= TP_NEEDS_CONTAINER;
			break;
		case S_K8S_NAMESPACE:
		case S_K8S_POD:
		case S_K8S_CONTAINER:
		case S_K8S_POD_UID:
		case S_K8S_QOS:
			need |= TP_NEEDS_K8S;
			break;
		default:
			break;
		}
	}
	return need;
}

const char *tp_exception_set_key(const struct tp_exception *x)
{
	for (size_t i = 0; x && i < x->nconds; i++)
		if (x->conds[i].src == S_SET && x->conds[i].present != PRESENT_NO)
			return x->conds[i].name + 4; /* after "set." */
	return NULL;
}

const char *tp_exception_file(const struct tp_exception *x)
{
	return x->file;
}

int tp_exception_line(const struct tp_exception *x)
{
	return x->line;
}

const char *tp_exception_reason(const struct tp_exception *x)
{
	return x->reason;
}

void tp_exception_describe(const struct tp_exception *x, char *buf, size_t len)
{
	size_t used = 0, by_name[MAX_CONDS];

	/* By name: the order of a Lua table's keys changes from one VM to the
	 * next (its string hashes are seeded), and rules are told apart across
	 * reloads by this text. */
	for (size_t i = 0; i < x->nconds; i++) {
		size_t j = i;

		for (; j > 0 && strcmp(x->conds[by_name[j - 1]].name, x->conds[i].name) > 0; j--)
			by_name[j] = by_name[j - 1];
		by_name[j] = i;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < x->nconds && used < len; i++) {
		const struct cond *c = &x->conds[by_name[i]];

		used += (size_t)snprintf(buf + used, len - used, "%s%s=", i ? " " : "", c->name);
		for (size_t j = 0; j < c->nalts && used < len; j++) {
			used += (size_t)snprintf(buf + used, len - used, "%s(", j ? "|" : "");
			if (used < len) {
				tp_exception_describe(c->alts[j], buf + used, len - used);
				used += strlen(buf + used);
			}
			if (used < len)
				used += (size_t)snprintf(buf + used, len - used, ")");
		}
		for (size_t j = 0; j < c->nvalues && used < len; j++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", j ? "|" : "",
						 c->values[j].s);
	}
}
