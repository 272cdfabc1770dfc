/*
 * lua/rules.h - a rule set: the rule files of one load, in a VM of their
 * own, indexed by event type, self-tested, and run on events.
 *
 * A rule file is plain Lua in the sandbox (lua/sandbox.h) with four more
 * globals, usable while the file loads:
 *
 *   rule { name, desc, events, severity, importance, tags, when, output,
 *          tests, enabled }     a detection: when(e) true -> an alert
 *   filter([events,] fn)        fn(e) == false drops the event from the
 *                               semantic path (nil or true keep it)
 *   enrich([events,] fn)        fn(e) adds fields and tags: e:set, e:tag
 *   score([events,] fn)         fn(e) returns an importance in [0, 1] (or nil);
 *                               the event's importance is the highest score
 *
 * events: a list of type names ("process.exec"), categories ("process" or
 * "process.*") or "*". A rule must name its events; filter/enrich/score
 * default to all. Per event: filters, then enrich, then score, then the
 * rules for its type, each in load order. Only the functions registered for
 * an event's type run: an event type nothing asked for costs no Lua at all.
 *
 * Rule tests ({ event = {...}, expect = true|false, output = "..." }) run at
 * every load: the set's enrich functions, then the rule's when. A load fails
 * on any problem (syntax, unknown key or event type, duplicate name, failed
 * test, file writable by another user); every problem is reported through
 * opts->diag as "file:line: message".
 *
 * A function that raises, runs out of its instruction budget or memory
 * share is a fault: counted, logged with its name, and after fault_limit
 * faults quarantined (skipped) until the set is replaced.
 *
 * A set is built on one thread and used by another, one at a time.
 */
#ifndef TAPIO_LUA_RULES_H
#define TAPIO_LUA_RULES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event.h"
#include "events/event_meta.h"
#include "lua/sandbox.h"
#include "lua/state.h"
#include "util/buf.h"

struct tp_rules_opts {
	const char *const *paths; /* rule files or directories (their *.lua, sorted) */
	size_t npaths;
	/* Loaded before the paths: the shared lists and macros (rules/lib). NULL: none. */
	const char *lib_path;
	/* Loaded after the paths when it exists (the user's exceptions and
	 * overrides: /etc/tapio/rules.d). NULL: none. */
	const char *user_dir;
	struct tp_state_limits state; /* memory of the rules' state */
	struct tp_lua_limits limits; /* per call (event or test) */
	uint32_t fault_limit;	     /* faults before quarantine; 0: never quarantine */
	/* Rules of a lower severity load and self-test but never run: they
	 * could only raise alerts that filter.min_severity keeps out. */
	enum tp_severity min_severity;
	bool allow_untrusted;	     /* skip the owner/permission check (tests only) */
	/* Set by another thread to give the load up (NULL: never): the load
	 * then fails at its next check with "cancelled". */
	const atomic_bool *cancel;
	/* Filled by the load, also when it fails (may be NULL). */
	struct tp_rules_load_report *report;
	/* Each problem found, as "file:line: message" (may be NULL). */
	void (*diag)(void *ctx, const char *msg);
	void *diag_ctx;
};

struct tp_ruleset;

struct tp_rules_load_report {
	size_t files;
	size_t rules;	     /* rules defined (enabled or not) */
	size_t tests;	     /* inline tests run */
	size_t tests_failed; /* of those */
	unsigned problems;   /* every problem, the failed tests' included */
};

/* Load, index and self-test. Returns 0 or a negative errno; err sums up
 * (the first problem and how many there were). */
int tp_ruleset_load(struct tp_ruleset **out, const struct tp_rules_opts *opts, char *err,
		    size_t errlen);
void tp_ruleset_free(struct tp_ruleset *rs);

struct tp_ruleset_info {
	size_t rules; /* enabled rules */
	size_t below_min_severity; /* of those, not run (severity below opts.min_severity) */
	size_t filters, enrichers, scorers;
	size_t files;
	size_t tests;  /* inline tests run (all passed, or the load failed) */
	uint64_t hash; /* FNV-1a of every file's path and bytes, in load order */
	size_t quarantined;
	size_t exceptions; /* applied to the rules */
	size_t overridden; /* rules an override{} changed */
	size_t stateful;   /* rules that declare state */
};
void tp_ruleset_info(const struct tp_ruleset *rs, struct tp_ruleset_info *info);

/* Rules added, removed and changed (same name, other definition) from old to new. */
void tp_ruleset_diff(const struct tp_ruleset *old, const struct tp_ruleset *new, size_t *added,
		     size_t *removed, size_t *changed);

/* Receives each alert; meta->alert and everything it points to are valid
 * only during the call. */
typedef void (*tp_rules_alert_fn)(void *ctx, const struct tp_event *ev,
				  const struct tp_event_meta *meta);

enum tp_rules_verdict {
	TP_RULES_KEEP = 0,
	TP_RULES_FILTERED = 1, /* a filter returned false */
};

/* The set's calls on this thread run under the lazy budget (lua/sandbox.h)
 * while on; the stage turns it on around tp_ruleset_event only. */
void tp_ruleset_lazy_budget(struct tp_ruleset *rs, bool on);

/*
 * Run the set on one event. meta gets the importance (the highest score,
 * unchanged when nothing scored) and the kv and tags set by enrich (they
 * point into the set, valid until its next event). Alerts go to alert_fn
 * before this returns; *nalerts says how many. Returns enum tp_rules_verdict.
 */
int tp_ruleset_event(struct tp_ruleset *rs, const struct tp_event *ev, struct tp_event_meta *meta,
		     tp_rules_alert_fn alert_fn, void *ctx, unsigned *nalerts);

/* Can an event of type t raise an alert: does any rule that runs ask for
 * it? (No: the rules stage can leave the event out under a minimum
 * severity above the one of plain events, without running Lua.) */
bool tp_ruleset_may_alert(const struct tp_ruleset *rs, const struct tp_event_type *t);

/* Bytes the set's VM holds. */
size_t tp_ruleset_mem(const struct tp_ruleset *rs);

/* What a reload did with the rules' state (tp_ruleset_adopt). */
struct tp_ruleset_adoption {
	size_t kept;	/* rules whose state carried over */
	size_t reset;	/* rules with state whose declaration changed: fresh state */
	size_t dropped; /* rules with state that are gone */
	char reset_names[256]; /* "a, b, ..." */
};

/*
 * Make rs the set in use, after old (NULL at start): rs takes old's state
 * store, and each of its rules the state of old's rule of the same name and
 * the same state declaration (others start empty); per-rule counters carry
 * over by name, and rs's per-rule metrics replace old's in the registry.
 * old keeps nothing that rs uses; free it afterwards. sum may be NULL.
 */
void tp_ruleset_adopt(struct tp_ruleset *rs, struct tp_ruleset *old,
		      struct tp_ruleset_adoption *sum);

/* Between events (a tick of the reader): expire state, publish per-rule
 * metrics (at most once per second of mono_ns), name a rule that costs far
 * more than the others. */
void tp_ruleset_tick(struct tp_ruleset *rs, uint64_t mono_ns);

/* "name 12.3ms (1.2us x 10400), ..." for the n rules that cost most so far. */
void tp_ruleset_top_costs(const struct tp_ruleset *rs, size_t n, struct tp_buf *b);

/* A rule of the set, for `rules list`. */
struct tp_rule_info {
	const char *name;
	const char *desc;
	const char *severity;
	double importance;
	bool enabled;
	const char *file;
	int line;
	const char *const *tags;
	size_t ntags;
	const char *override_at; /* "file:line" of an override, or NULL */
	size_t nexceptions;
	bool has_state;
};
/* Rule i (0..); false past the last. events gets the rule's event types
 * (up to max). */
bool tp_ruleset_rule(const struct tp_ruleset *rs, size_t i, struct tp_rule_info *out,
		     const struct tp_event_type **events, size_t max, size_t *nevents);
/* Exception j of rule i: "file:line: comm=a|b path=..." (and its reason). */
bool tp_ruleset_rule_exception(const struct tp_ruleset *rs, size_t i, size_t j, char *buf,
			       size_t len);

/* The rules' state, for tests and metrics. */
struct tp_state_store *tp_ruleset_state(const struct tp_ruleset *rs);

#endif
