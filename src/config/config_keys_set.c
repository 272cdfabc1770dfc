/*
 * Values into struct tp_config: typed values of a config file or text of the
 * environment, flags and --set, checked against the key's type and range.
 */
#include "config/config_keys.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_kernel.h"
#include "config/config_keys_internal.h"
#include "events/event.h"
#include "obs/log.h"
#include "util/addr.h"
#include "util/time.h"

/* ------------------------------------------------------- owned memory */

struct tp_config_alloc {
	struct tp_config_alloc *next;
	max_align_t data[];
};

static void *config_alloc(struct tp_config *cfg, size_t n)
{
	struct tp_config_alloc *a = malloc(sizeof(*a) + n);

	if (!a)
		return NULL;
	a->next = cfg->owned;
	cfg->owned = a;
	return a->data;
}

const char *tp_config_strdup(struct tp_config *cfg, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = config_alloc(cfg, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void tp_config_free(struct tp_config *cfg)
{
	while (cfg->owned) {
		struct tp_config_alloc *a = cfg->owned;

		cfg->owned = a->next;
		free(a);
	}
}

/* "got ..." for an error message: the value as the user wrote it. */
static void describe_value(const struct tp_cval *v, char *buf, size_t len)
{
	switch (v->kind) {
	case TP_CV_BOOL:
		snprintf(buf, len, "%s", v->b ? "true" : "false");
		break;
	case TP_CV_NUM:
		snprintf(buf, len, "%.17g", v->num);
		break;
	case TP_CV_STR:
		snprintf(buf, len, "\"%.60s%s\"", v->str, strlen(v->str) > 60 ? "..." : "");
		break;
	case TP_CV_LIST:
		snprintf(buf, len, "a list");
		break;
	}
}

static int bad(const struct tp_config_key *k, const struct tp_cval *v, char *err, size_t errlen)
{
	char want[160], got[96];

	tp_config_key_describe(k, want, sizeof(want));
	describe_value(v, got, sizeof(got));
	snprintf(err, errlen, "expected %s, got %s", want, got);
	return -EINVAL;
}

static int number_of(const struct tp_config_key *k, const struct tp_cval *v, double *out)
{
	char *end;

	if (v->kind == TP_CV_NUM) {
		*out = v->num;
	} else if (v->kind == TP_CV_STR) {
		const char *s = v->str;

		if (!*s || !strchr("0123456789.-+", *s))
			return -EINVAL;
		errno = 0;
		*out = strtod(s, &end);
		if (errno || *end)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return isfinite(*out) ? 0 : -EINVAL;
}

static int set_uint(void *f, const struct tp_config_key *k, double d)
{
	if (d < k->min || d > k->max || d != floor(d))
		return -EINVAL;
	if (k->size == 4)
		*(uint32_t *)f = (uint32_t)d;
	else
		*(uint64_t *)f = (uint64_t)d;
	return 0;
}

static int parse_bool_text(const char *s, bool *b)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int categories_mask(const struct tp_cval *v, uint32_t *mask)
{
	*mask = 0;
	if (v->kind != TP_CV_LIST)
		return -EINVAL;
	for (size_t i = 0; i < v->nlist; i++) {
		int c = tp_category_by_name(v->list[i]);

		if (!strcmp(v->list[i], "all")) {
			*mask |= ((1u << TP_CAT_KERNEL_MAX) - 1) & ~1u;
			continue;
		}
		if (c <= 0 || c >= TP_CAT_KERNEL_MAX)
			return -EINVAL;
		*mask |= 1u << c;
	}
	return 0;
}

static int set_strlist(struct tp_config *cfg, struct tp_strlist *l, const struct tp_cval *v)
{
	const char **arr;

	if (v->kind != TP_CV_LIST)
		return -EINVAL;
	arr = config_alloc(cfg, (v->nlist ? v->nlist : 1) * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < v->nlist; i++) {
		arr[i] = tp_config_strdup(cfg, v->list[i]);
		if (!arr[i])
			return -ENOMEM;
	}
	l->v = arr;
	l->n = v->nlist;
	return 0;
}

/* Other spellings of a choice: log levels say warn, severities warning; each
 * takes the other's (and err, crit). The index in choices, or -1. */
static int choice_alias(const char *const *choices, const char *s)
{
	static const char *const aliases[][2] = {
		{ "warning", "warn" }, { "warn", "warning" }, { "err", "error" },
		{ "crit", "critical" }, { "information", "info" },
	};

	for (size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
		if (strcasecmp(s, aliases[a][0]))
			continue;
		for (int i = 0; choices[i]; i++)
			if (!strcmp(choices[i], aliases[a][1]))
				return i;
	}
	return -1;
}

int set_rule_paths(struct tp_config *cfg, const struct tp_config_key *k,
			  const struct tp_cval *v, char *err, size_t errlen)
{
	if (v->kind != TP_CV_LIST)
		return bad(k, v, err, errlen);
	if (v->nlist > TP_MAX_RULE_PATHS) {
		snprintf(err, errlen, "expected at most %d paths, got %zu", TP_MAX_RULE_PATHS,
			 v->nlist);
		return -EINVAL;
	}
	for (size_t i = 0; i < v->nlist; i++) {
		if (!*v->list[i]) {
			snprintf(err, errlen, "expected a list of paths, got an empty string");
			return -EINVAL;
		}
		cfg->rule_paths[i] = tp_config_strdup(cfg, v->list[i]);
		if (!cfg->rule_paths[i])
			return -ENOMEM;
	}
	cfg->nrule_paths = (unsigned)v->nlist;
	return 0;
}

/* config_kernel.c says "invalid value 'v' for kernel setting k: expected
 * ..."; keep our form, "expected ..., got ...". */
static int kernel_error(const char *value, char *err, size_t errlen)
{
	char *exp = strstr(err, "expected ");
	char tmp[256];

	if (exp) {
		snprintf(tmp, sizeof(tmp), "%s, got \"%.60s\"", exp, value);
		snprintf(err, errlen, "%s", tmp);
	}
	return -EINVAL;
}

bool is_comms(const struct tp_config_key *k)
{
	return !strcmp(k->path, "filter.exclude_comms");
}

int set_excludes(struct tp_config *cfg, const struct tp_config_key *k,
			const struct tp_cval *v, char *err, size_t errlen)
{
	bool comms = is_comms(k);

	if (v->kind != TP_CV_LIST)
		return bad(k, v, err, errlen);
	if (v->nlist > TP_EXCLUDE_MAX) {
		snprintf(err, errlen, "expected at most %d entries, got %zu", TP_EXCLUDE_MAX,
			 v->nlist);
		return -EINVAL;
	}
	/* The list replaces what was there (a preset's, a file's). */
	if (comms)
		cfg->nexclude_comms = 0;
	else
		cfg->nexclude_paths = 0;
	for (size_t i = 0; i < v->nlist; i++) {
		const char *copy = tp_config_strdup(cfg, v->list[i]);

		if (!copy)
			return -ENOMEM;
		if (tp_config_set_kernel(cfg, comms ? "exclude_comm" : "exclude_path", copy, err,
					 errlen) < 0)
			return kernel_error(v->list[i], err, errlen);
	}
	return 0;
}

/* A list-valued kernel setting (bpf_commands, io_uring_ops, exec_env): the
 * key's last component is the -k setting's name; a list is joined with
 * commas. */
int set_kernel_list(struct tp_config *cfg, const struct tp_config_key *k, const struct tp_cval *v,
		    char *err, size_t errlen)
{
	const char *name = strrchr(k->path, '.') + 1;
	struct tp_buf joined;
	int r;

	if (v->kind == TP_CV_STR)
		return tp_config_set_kernel(cfg, name, v->str, err, errlen) < 0
			       ? kernel_error(v->str, err, errlen)
			       : 0;
	if (v->kind != TP_CV_LIST || !v->nlist)
		return bad(k, v, err, errlen);
	tp_buf_init(&joined);
	for (size_t i = 0; i < v->nlist; i++) {
		if (i)
			tp_buf_putc(&joined, ',');
		tp_buf_puts(&joined, v->list[i]);
	}
	if (tp_buf_failed(&joined)) {
		tp_buf_free(&joined);
		return -ENOMEM;
	}
	r = tp_config_set_kernel(cfg, name, tp_buf_cstr(&joined), err, errlen);
	if (r < 0)
		kernel_error(tp_buf_cstr(&joined), err, errlen);
	tp_buf_free(&joined);
	return r < 0 ? -EINVAL : 0;
}

int tp_config_set(struct tp_config *cfg, const struct tp_config_key *k, const struct tp_cval *v,
		  enum tp_config_source src, char *err, size_t errlen)
{
	void *f = field(cfg, k);
	const char *s = v->kind == TP_CV_STR ? v->str : NULL;
	char host[256];
	uint16_t port;
	uint64_t u64;
	uint32_t mask;
	double d;
	bool b;
	int r = 0;

	switch (k->type) {
	case TP_KEY_BOOL:
	case TP_KEY_CATEGORY:
		if (v->kind == TP_CV_BOOL)
			b = v->b;
		else if (!s || parse_bool_text(s, &b) < 0)
			return bad(k, v, err, errlen);
		if (k->type == TP_KEY_BOOL)
			*(bool *)f = b;
		else if (b)
			*(uint32_t *)f |= k->bit;
		else
			*(uint32_t *)f &= ~k->bit;
		break;
	case TP_KEY_UINT:
		if (number_of(k, v, &d) < 0 || set_uint(f, k, d) < 0)
			return bad(k, v, err, errlen);
		break;
	case TP_KEY_NUM:
		if (number_of(k, v, &d) < 0 || d < k->min || d > k->max)
			return bad(k, v, err, errlen);
		*(double *)f = d;
		break;
	case TP_KEY_DURATION:
		/* A number is seconds; text takes units. */
		if (v->kind == TP_CV_NUM) {
			if (!isfinite(v->num) || v->num < 0 || v->num * SEC > 1.8e19)
				return bad(k, v, err, errlen);
			u64 = (uint64_t)(v->num * SEC);
		} else if (!s || tp_parse_duration(s, &u64) < 0) {
			return bad(k, v, err, errlen);
		}
		if ((double)u64 < k->min || (double)u64 > k->max)
			return bad(k, v, err, errlen);
		*(uint64_t *)f = u64;
		break;
	case TP_KEY_SIZE:
		if (v->kind == TP_CV_NUM) {
			if (!isfinite(v->num) || v->num < 0 || v->num != floor(v->num) ||
			    v->num > 1.8e19)
				return bad(k, v, err, errlen);
			u64 = (uint64_t)v->num;
		} else if (!s || tp_parse_size(s, &u64) < 0) {
			return bad(k, v, err, errlen);
		}
		if ((double)u64 < k->min || (double)u64 > k->max)
			return bad(k, v, err, errlen);
		*(uint64_t *)f = u64;
		break;
	case TP_KEY_STR:
		if (!s)
			return bad(k, v, err, errlen);
		if (!*s && !(k->flags & TP_KEYF_OFF)) {
			snprintf(err, errlen, "expected a non-empty string");
			return -EINVAL;
		}
		s = tp_config_strdup(cfg, *s ? s : "off");
		if (!s)
			return -ENOMEM;
		*(const char **)f = s;
		break;
	case TP_KEY_ADDR:
		if (!s)
			return bad(k, v, err, errlen);
		if (!*s || !strcmp(s, "off")) {
			/* Optional addresses are unset (NULL); a listener says "off". */
			*(const char **)f = k->flags & TP_KEYF_OFF ? "off" : NULL;
			break;
		}
		if (tp_parse_hostport(s, host, sizeof(host), &port) < 0)
			return bad(k, v, err, errlen);
		s = tp_config_strdup(cfg, s);
		if (!s)
			return -ENOMEM;
		*(const char **)f = s;
		break;
	case TP_KEY_CHOICE: {
		int i = 0;

		if (!s)
			return bad(k, v, err, errlen);
		while (k->choices[i] && strcasecmp(s, k->choices[i]))
			i++;
		if (!k->choices[i] && (i = choice_alias(k->choices, s)) < 0)
			return bad(k, v, err, errlen);
		if (k->flags & TP_KEYF_NAME)
			*(const char **)f = k->choices[i];
		else
			*(int *)f = i;
		break;
	}
	case TP_KEY_CATEGORIES:
		if (categories_mask(v, &mask) < 0)
			return bad(k, v, err, errlen);
		*(uint32_t *)f = mask;
		break;
	case TP_KEY_STRLIST:
		if (v->kind == TP_CV_LIST && (k->flags & TP_KEYF_NONEMPTY))
			for (size_t i = 0; i < v->nlist; i++)
				if (!*v->list[i]) {
					snprintf(err, errlen,
						 "expected a list of non-empty strings, got an empty "
						 "string");
					return -EINVAL;
				}
		r = set_strlist(cfg, f, v);
		if (r == -EINVAL)
			return bad(k, v, err, errlen);
		break;
	case TP_KEY_CUSTOM:
		r = k->set(cfg, k, v, err, errlen);
		break;
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r < 0)
		return r;
	cfg->key_source[tp_config_key_index(k)] = (uint8_t)src;
	return 0;
}

/* Split "a,b, c" into a list (spaces around items trimmed, empty text is
 * the empty list). */
static int split_list(const char *text, char **copy, const char ***items, size_t *n)
{
	size_t cap = 1;
	char *p;

	for (const char *c = text; *c; c++)
		cap += *c == ',';
	*copy = strdup(text);
	*items = calloc(cap, sizeof(**items));
	if (!*copy || !*items) {
		free(*copy);
		free(*items);
		return -ENOMEM;
	}
	*n = 0;
	p = *copy;
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		char *comma = strchr(p, ','), *end;

		if (comma)
			*comma = '\0';
		while (*p == ' ')
			p++;
		end = p + strlen(p);
		while (end > p && end[-1] == ' ')
			*--end = '\0';
		(*items)[(*n)++] = p;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

int tp_config_set_text(struct tp_config *cfg, const struct tp_config_key *k, const char *text,
		       enum tp_config_source src, char *err, size_t errlen)
{
	struct tp_cval v = { .kind = TP_CV_STR, .str = text };
	const char **items = NULL;
	char *copy = NULL;
	int r;

	if (k->type == TP_KEY_CATEGORIES || k->type == TP_KEY_STRLIST || k->type == TP_KEY_CUSTOM) {
		size_t n;

		if (split_list(text, &copy, &items, &n) < 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		v = (struct tp_cval){ .kind = TP_CV_LIST, .list = items, .nlist = n };
		for (size_t i = 0; i < n; i++) {
			if (!*items[i]) {
				char want[160];

				tp_config_key_describe(k, want, sizeof(want));
				snprintf(err, errlen, "expected %s separated by commas, got an empty item",
					 want);
				free(copy);
				free(items);
				return -EINVAL;
			}
		}
	}
	r = tp_config_set(cfg, k, &v, src, err, errlen);
	free(copy);
	free(items);
	return r;
}
