/*
 * config/config_keys.h - the one table of configuration keys.
 *
 * Every setting that a preset, a config file, the environment or a flag can
 * change is one row: its dotted path ("sampling.base_rate"), its type and
 * range, where it lands in struct tp_config, the flag and environment
 * variable that also set it, and one line of documentation. Config files,
 * presets, TAPIO_* variables, --set and the value-taking flags all go
 * through tp_config_set / tp_config_set_text, so a value is validated the
 * same way wherever it comes from; the README's reference table is printed
 * from this table (tapio-collector --print-keys) and a test checks that the
 * two agree. Adding a setting is adding a field and a row.
 */
#ifndef TAPIO_CONFIG_KEYS_H
#define TAPIO_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "util/buf.h"

enum tp_key_type {
	TP_KEY_BOOL,       /* bool */
	TP_KEY_UINT,       /* uint32_t or uint64_t (size), in [min, max] */
	TP_KEY_NUM,        /* double in [min, max] */
	TP_KEY_STR,        /* const char *, non-empty unless TP_KEYF_OFF */
	TP_KEY_ADDR,       /* const char * HOST:PORT; "" or "off": NULL, or "off" with TP_KEYF_OFF */
	TP_KEY_DURATION,   /* uint64_t ns: "500ms", "2s", or a number of seconds */
	TP_KEY_SIZE,       /* uint64_t bytes: "16M", or a number of bytes */
	TP_KEY_CHOICE,     /* an enum stored as int: one of choices[] */
	TP_KEY_CATEGORY,   /* bool as bit `bit` of a uint32_t mask */
	TP_KEY_CATEGORIES, /* list of category names as a uint32_t mask */
	TP_KEY_STRLIST,    /* struct tp_strlist */
	TP_KEY_CUSTOM,     /* set and format through the row's functions */
};

#define TP_KEYF_OFF 0x1       /* STR/ADDR: "off" (or "") disables (stored as "off") */
#define TP_KEYF_FILE_ONLY 0x2 /* not settable by --set (e.g. preset) */
#define TP_KEYF_POW2 0x4      /* SIZE: rounded up to a power of two by its user */
#define TP_KEYF_NAME 0x8      /* CHOICE: stored as the choice's name (const char *) */
#define TP_KEYF_NONEMPTY 0x10 /* STRLIST: no empty strings (an empty prefix matches all) */

struct tp_cval;
struct tp_config_key;

typedef int (*tp_key_set_fn)(struct tp_config *cfg, const struct tp_config_key *k,
			     const struct tp_cval *v, char *err, size_t errlen);
typedef void (*tp_key_format_fn)(const struct tp_config *cfg, const struct tp_config_key *k,
				 struct tp_buf *b);

struct tp_config_key {
	const char *path;
	enum tp_key_type type;
	size_t offset;      /* in struct tp_config */
	uint8_t size;       /* UINT: 4 or 8 */
	double min, max;    /* UINT, NUM, DURATION (ns), SIZE (bytes) */
	uint32_t bit;       /* CATEGORY */
	const char *const *choices; /* CHOICE: names in enum order, NULL-terminated */
	tp_key_set_fn set;          /* CUSTOM */
	tp_key_format_fn format;    /* CUSTOM */
	unsigned flags;
	const char *flag;   /* the command-line flag that also sets it, or NULL */
	const char *env;    /* the environment variable that also sets it, or NULL */
	const char *doc;
	/* The default as the README reference shows it, when the value depends
	 * on the build (a path of the source tree), else NULL. */
	const char *ref_default;
};

/* A value to set: typed from a config file, or text from env/flags. */
enum tp_cval_kind {
	TP_CV_BOOL,
	TP_CV_NUM,
	TP_CV_STR,
	TP_CV_LIST, /* of strings */
};

struct tp_cval {
	enum tp_cval_kind kind;
	bool b;
	double num;
	const char *str;
	const char *const *list;
	size_t nlist;
};

size_t tp_config_key_count(void);
const struct tp_config_key *tp_config_key_at(size_t i);
const struct tp_config_key *tp_config_key_find(const char *path);
/* The closest key to an unknown path, or NULL; for "did you mean". */
const char *tp_config_key_suggest(const char *path);
/* Is path a prefix of some key ("sampling" for "sampling.base_rate")? */
bool tp_config_key_is_group(const char *path);

/*
 * Set key k of cfg to v, remembering src as the value's origin. On a bad
 * value returns -EINVAL with err = "expected <what>, got <value>" (the
 * caller adds the key path or flag name in front). Strings are copied.
 */
int tp_config_set(struct tp_config *cfg, const struct tp_config_key *k, const struct tp_cval *v,
		  enum tp_config_source src, char *err, size_t errlen);

/* Set from text (environment, flags, --set): "true"/"false", numbers with
 * units, comma-separated lists. Same errors as tp_config_set. */
int tp_config_set_text(struct tp_config *cfg, const struct tp_config_key *k, const char *text,
		       enum tp_config_source src, char *err, size_t errlen);

/* Append the current value of k as a Lua literal ("0.1", "\"json\"",
 * "{ \"security\" }"). */
void tp_config_format_value(const struct tp_config *cfg, const struct tp_config_key *k,
			    struct tp_buf *b);

/* A size as a size key takes it: "8M", "256K", "1000" (the largest unit
 * that divides it). */
void tp_config_size_text(char *buf, size_t len, double bytes);

/* A short description of what a key accepts ("a number from 0 to 1"). */
void tp_config_key_describe(const struct tp_config_key *k, char *buf, size_t len);

const char *tp_config_source_name(enum tp_config_source src);

/* Where the current value of key path came from (TP_SRC_DEFAULT for an
 * unknown path). */
enum tp_config_source tp_config_source_of(const struct tp_config *cfg, const char *path);

/* Copy s into memory owned by cfg; NULL on allocation failure. */
const char *tp_config_strdup(struct tp_config *cfg, const char *s);

/* The effective configuration as a Lua config file (every key, with where
 * its value came from as a comment). */
void tp_config_render(const struct tp_config *cfg, struct tp_buf *b);

/* The reference table of every key, as Markdown (for the README). */
void tp_config_render_reference(struct tp_buf *b);

#endif
