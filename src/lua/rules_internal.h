/*
 * lua/rules_internal.h - what the units of the rule engine share (not a
 * public header: include it only from lua/rules*.c).
 *
 * The engine is one struct tp_ruleset built by one load and used by one
 * thread at a time; its units split it by concern:
 *   rules.c           the set: load (orchestration), info, diff, free
 *   rules_index.c     the index by event type, and the prefilter that
 *                     picks, per event, the rules that can match
 *   rules_register.c  the Lua side of loading: rule{}, filter/enrich/score
 *   rules_files.c     reading rule files and folders, trust checks
 *   rules_run.c       running the indexed functions on an event; faults
 *   rules_tests.c     the inline tests of every rule, at load
 *   rules_tune.c      list/macro/append, exception{} and override{}: what
 *                     files share and what users change in shipped rules
 *   rules_stats.c     per-rule metrics and cost, the handover at a reload
 */
#ifndef TAPIO_LUA_RULES_INTERNAL_H
#define TAPIO_LUA_RULES_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/aggregate.h"
#include "lua/exceptions.h"
#include "lua/lists.h"
#include "lua/lua_event.h"
#include "lua/rules.h"
#include "lua/state.h"
#include "lua/state_lua.h"
#include "lua/template.h"
#include "obs/metrics.h"
#include "util/buf.h"
#include "util/hash.h"

#define TYPE_SLOTS (TP_CAT_MAX * 64)
#define TYPE_WORDS ((TYPE_SLOTS + 63) / 64)
/* Slot 1 of the VM's stack is the sandbox's message handler; 2 the event. */
#define EVENT_SLOT 2

enum fn_kind { FN_FILTER, FN_ENRICH, FN_SCORE, FN_RULE, FN_KINDS };
extern const char *const tp_rules_kind_names[FN_KINDS];

#define STATE_DECLS_MAX 16
/* Time 1 event in this many (a clock read costs ~90 ns in a VM). */
#define COST_SAMPLE 32

/* A function's exported metrics (registered while its set is in use). */
struct fn_metrics {
	char labels[320];
	char fault_labels[3][340];
	struct tp_metric calls, matches, cpu, excepted, quarantines, faults[3];
	struct tp_metric state_keys, state_bytes, state_evictions;
	bool reg_faults[3], reg_excepted, reg_quarantines, reg_state;
};

/* Any Lua function the engine calls: a rule's when, or a filter/enrich/score. */
struct rule_type_match {	/* match = { ["file.open"] = {...} } */
	const struct tp_event_type *type;
	struct tp_exception *x;
};

#define RULE_GATES_MAX 4
#define RULE_GATE_KEYS_MAX 4 /* maps one recall type may key by its fields */
#define REPEAT_FIELDS_MAX 4

/* skip_repeats = { map = "m", fields = { ... } } (rules_run.c): per type
 * of the rule, where each field's bytes are in the record. */
struct rule_repeats {
	struct tp_lua_state_handle *map;
	uint32_t nfields;
	uint32_t ntypes;
	struct repeat_type {
		const struct tp_event_type *type;
		struct repeat_field {
			const struct tp_field *f; /* its presence; NULL: a header field */
			uint16_t offset, size;
			bool str; /* up to its '\0' */
		} fld[REPEAT_FIELDS_MAX];
	} types[];
};

struct rule_fn {
	/* What every event the function meets reads, first, in one cache
	 * line: a read meets a dozen functions, and each line of theirs it
	 * touches is a miss on a busy reader thread. */
	bool quarantined;
	bool tmatch_first; /* the types' conditions are the cheaper: tried first */
	uint8_t nremember, nrecall; /* entries of remember[] and recall[] */
	enum fn_kind kind;
	int ref;
	/* State (lua/state.h): the declarations, passed to when as its second
	 * argument; the group lives in the set's store. */
	int state_ref;
	/* match = {...}: conditions checked in C before when (rules_tune.c
	 * builds it once every file has loaded, so lists appended later
	 * count); an event that fails it never reaches when. */
	struct tp_exception *match; /* for every type; NULL: none */
	struct rule_type_match *tmatch;
	size_t ntmatch;
	size_t nexceptions;
	/* Counts, kept here on the reader thread, published to m at ticks.
	 * A rule's calls are counted from the slots it is in (rslots), and
	 * calls_base holds those of the set before a reload. */
	uint64_t calls, cpu_ns, calls_base;
	struct rule_slot {
		uint32_t slot; /* type_slot */
		uint32_t pos;  /* in the slot's prefilter (slot_prefilter.nrules) */
	} *rslots;
	uint32_t nrslots;

	char *name; /* the rule's name, or the kind */
	char *file;
	int line;
	uint64_t types[TYPE_WORDS];
	uint32_t faults;
	/* remember = { [type] = "map" }: an event of the type that passes
	 * match and the exceptions sets map[its process] = true in C, and
	 * when is not called. recall = { [type] = "map" }: when is called
	 * only when map holds the event's process; recall = { [type] = {
	 * map = "field", ... } }: only when one of the maps holds the event's
	 * field (a string; "<field>_base": its last component), or when the
	 * field is the process's program (exe = "field", exe_base = ...). */
	struct rule_gate {
		uint32_t slot; /* type_slot of the event type */
		struct tp_lua_state_handle *map; /* keyed by process; NULL: by keys */
		uint8_t nkeys;
		struct gate_key {
			/* NULL: the process's program instead (exe, exe_base),
			 * equal to the field */
			struct tp_lua_state_handle *map;
			const struct tp_field *field; /* of the slot's type: TP_FK_STR */
			bool base;
			bool exe_base; /* map NULL: the program's name, else its path */
		} keys[RULE_GATE_KEYS_MAX];
	} remember[RULE_GATES_MAX], recall[RULE_GATES_MAX];
	/* skip_repeats: an event whose fields' values the map holds (within
	 * its ttl) is a repeat, and when is not called; NULL: none. */
	struct rule_repeats *repeats;
	/* enrich(events, { match = {...}, set = { key = "field" } }): no Lua
	 * function (ref LUA_NOREF); an event that passes match gets each key
	 * set to its field's text, in C (rules_run.c). */
	struct enrich_set {
		char *key;
		bool base; /* "<field>_base": the part after the last '/' */
		uint32_t ntypes;
		struct enrich_set_type {
			const struct tp_event_type *type;
			const struct tp_field *f;
		} * t;
	} * sets;
	uint32_t nsets;
	/* Rules only. */
	bool enabled;
	char *desc;
	const char *severity;
	enum tp_severity level; /* of severity */
	double importance;
	char **tags;
	size_t ntags;
	struct tp_template *output;
	int tests_ref;
	uint64_t hash; /* the definition, for reload summaries */
	bool importance_set; /* given, not the severity's */
	/* aggregate = {...} | false: how repeats fold (lua/aggregate.h);
	 * alerts point at it; NULL: the stage's defaults. */
	struct tp_aggregate_spec *aggregate;
	struct tp_state_group *state;
	uint64_t state_hash;
	struct tp_lua_state_handle *handles[STATE_DECLS_MAX];
	int nhandles;
	int match_ref;
	/* Exceptions and overrides from any file (rules_tune.c). */
	struct tp_exception **exceptions;
	char *override_at; /* "file:line" of the last override applied */
	uint64_t matches, excepted, quarantines;
	uint64_t nfaults[3];
	bool cost_logged;
	struct fn_metrics *m;
} __attribute__((aligned(64)));

/* A value of a prefilter key and the rules that name it (rules_index.c). */
struct pf_value {
	const char *s; /* owned by the rule's match */
	uint32_t len;
	uint32_t bits; /* its bitmap: k->bits + bits */
};

/* One key of a slot's prefilter: a string of the event (tp_str_key) that
 * rules compare, the rules that do (keyed), its values: equal ones
 * hashed, prefixes sorted, each with its longest prefix among them
 * (pparent, index + 1). */
struct pf_key {
	struct tp_str_key key;
	uint64_t *keyed;
	struct pf_value *exact, *prefix;
	uint32_t nexact, nprefix;
	uint32_t *table; /* exact + 1 by hash; 0: empty */
	uint32_t tmask;
	uint32_t *pparent;
	uint64_t *bits; /* the values' bitmaps */
	/* Conditions with values the table cannot hold (suffixes, substrings,
	 * globs: "*.keytab", a substring of ".ssh/"), each with its rule, in rule order:
	 * evaluated on the key's string only for the rules still in the
	 * running whose answer for that string is not known yet. */
	struct pf_eval {
		uint32_t pos;
		const void *cond;
	} * evals;
	uint32_t nevals;
	uint64_t *evalmask; /* the rules of evals */
	/* The key of this string's base name (a path's path_base), looked up
	 * with it, and the other way round; PF_KEYS: none. */
	uint32_t base, full;
	/* The strings looked up last and the rules each keeps, by hash
	 * (PF_CACHE_N entries of cstride bytes: the length, the string, the
	 * bitmap, and with evals the bitmap of the rules whose evals were
	 * decided): the same paths and names come back. NULL until the first
	 * look-up, or when there was no memory for it. */
	uint8_t *cache;
	uint32_t cstride;
	uint64_t cclock; /* look-ups that hit or filled an entry, for the stamps */
	/* The comm key's last entry hit (index + 1; 0: none) and the 16 bytes
	 * of the name it was hit for: a process's events come in runs, and
	 * the same bytes need no hash, no search, no compare of the string.
	 * Forgotten when its entry is given to another string. */
	uint32_t last;
	char last_comm[16];
};

#define PF_KEYS 3
#define PF_SET_KEYS    4
#define PF_MASK_FIELDS 6

/*
 * Which of a type's rules can match an event, found for all of them at once
 * (rules_index.c), as a bitmap over slot_index.fns[FN_RULE]: the rules
 * left once each distinct inline condition (tp_fast_mask) and the keys'
 * values have ruled the others out. Only those are visited.
 */
struct slot_prefilter {
	uint32_t nwords;
	uint64_t *all;	 /* every rule of the slot */
	uint64_t *unset; /* those whose match can pass an event no key was set on */
	/* Distinct inline conditions, and the rules that have each. */
	struct tp_fast_mask *masks;
	uint64_t *mask_bits; /* nmasks * nwords */
	uint32_t nmasks;
	/* The fields they read (0: more than PF_MASK_FIELDS), and the last
	 * event's values of them with the rules the conditions turned away
	 * (memo_out, nwords): the next event with the same values (most
	 * opens' flags are one of a few) gets them without a check. */
	uint32_t nmfields;
	struct pf_mask_field {
		uint16_t off;
		uint8_t size;
	} mfield[PF_MASK_FIELDS];
	bool memo_valid;
	uint64_t memo_val[PF_MASK_FIELDS];
	uint64_t *memo_out;
	/* The strings the slot's rules compare most, the most compared first. */
	struct pf_key keys[PF_KEYS];
	uint32_t nkeys;
	/* How they are looked up: each key once, a field with its base name
	 * (the key's index, then its base name's or PF_KEYS). */
	uint8_t lookups[PF_KEYS][2];
	uint32_t nlookups;
	uint64_t *cand, *keep; /* the event's, scratch */
	/* Events that reached the rules: [0] with no key set, [1] with some;
	 * a rule's calls are counted from these (tp_rules_fn_calls), an
	 * enrich function's from both. */
	uint64_t seen[2];
	/* Keys of e:set that rules' matches need (set = { privilege_exec =
	 * true }: an enrich function's verdict), each with the rules that
	 * need it and the events that reached them with it set (their calls):
	 * an event with other keys set does not reach them either. */
	struct pf_set_key {
		const char *name; /* the condition's */
		uint64_t *bits;
		uint64_t seen;
	} set_keys[PF_SET_KEYS];
	uint32_t nset_keys;
	/* Where an event's candidates start, by its process's context (bit 0:
	 * in a container, bit 1: in a pod): all but the functions whose match
	 * needs what the process is not in. Each is `all` when no function
	 * needs either. */
	uint64_t *start[4];
	/* The bitmaps' first positions are the slot's rules; the enrich
	 * functions follow them, from this one. */
	uint32_t nrules;
};

struct slot_index {
	uint32_t *fns[FN_KINDS];
	uint32_t n[FN_KINDS];
	/* Beside fns[kind]: each function's bit-mask condition on this type,
	 * checked inline before its match (size 0: none); for the rules, by
	 * the prefilter instead. */
	struct tp_fast_mask *fast[FN_KINDS];
	struct slot_prefilter pf;
};

struct tune;

struct tp_ruleset {
	struct tp_lua_vm *vm;
	lua_State *L;
	struct rule_fn *fns;
	size_t nfns, capfns;
	struct slot_index *index[TYPE_SLOTS];
	/* Filters', enrich's and score's events turned away by their inline
	 * check (tp_fast_mask), kept apart from fns[k].calls so that those
	 * events never touch the function's struct: its calls are the sum
	 * (tp_rules_fn_calls). Rules count from their slots' events. */
	uint64_t *fast_rejects;
	struct tp_lua_limits limits;
	uint32_t fault_limit;
	enum tp_severity min_severity; /* rules below it are not indexed: never run */
	uint64_t hash;
	size_t files, tests, tests_failed;
	int envs_ref;
	int names_ref; /* while loading: rule name -> index in fns (duplicates in O(1)) */
	struct tp_lua_event *binding;
	struct tp_lua_sink sink;
	/* The bound event's meta as matches see it (tp_rules_meta_now): a copy
	 * made at bind, with the sink's keys. */
	struct tp_event_meta view;
	struct tp_buf out;
	struct tp_state_store *state; /* every rule's state; moves on at a reload */
	struct tp_state_limits state_limits;
	uint64_t events;	       /* run so far (1 in COST_SAMPLE is timed) */
	uint64_t published_ns;	       /* metrics last published (monotonic) */
	uint64_t ticks;		       /* publications so far */
	bool active;		       /* its metrics are registered */
	/* While loading. */
	struct tp_lua_lists *lists;
	struct tune *tunes; /* exception{} and override{}, applied after the files */
	size_t ntunes, captunes;
	bool loading;
	const char *cur_file;
	const char *cur_text; /* its bytes */
	size_t cur_len;
	/* Where hash_function_text's last line walk ended in cur_text: rules
	 * come in line order, so a file is walked once, not once per rule. */
	const char *scan_p;
	int scan_line;
	const struct tp_rules_opts *opts;
	unsigned problems;
	char first_problem[1024];
	struct tp_event test_ev;
	bool cancelled; /* opts->cancel was seen set (and reported once) */
};

/* ------------------------------------------------------------ helpers */


static inline uint64_t fnv_str(uint64_t h, const char *s)
{
	return tp_fnv1a(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* rules_index.c: function k leaves the index (it was quarantined: it
 * meets no event, and is not counted as meeting any). */
void tp_rules_index_quarantine(struct tp_ruleset *rs, size_t k);

/* The events function k met (tapio_rule_calls_total). */
uint64_t tp_rules_fn_calls(const struct tp_ruleset *rs, size_t k);

static inline unsigned type_slot(const struct tp_event_type *t)
{
	return TP_TYPE_CATEGORY(t->id) * 64 + (t->id & 0x3f);
}

static inline bool has_type(const uint64_t *types, unsigned slot)
{
	return types[slot / 64] & (1ull << (slot % 64));
}

/* The first line of a Lua error (the message without its traceback). */
static inline int first_line_len(const char *s)
{
	return (int)strcspn(s, "\n");
}

static inline char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static inline bool known_key(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (!strcmp(*keys, k))
			return true;
	return false;
}

static inline bool truthy_bool(lua_State *L)
{
	bool r = lua_toboolean(L, -1);

	lua_pop(L, 1);
	return r;
}

/* ------------------------------------------------------------ across units */

/* Report a problem of the load as "file:line: message" (rules.c). */
__attribute__((format(printf, 4, 5))) void tp_rules_problem(struct tp_ruleset *rs, const char *file,
							    int line, const char *fmt, ...);

/* Has another thread given the load up (opts->cancel)? The first time it
 * is seen, the load gets a problem saying so (rules.c). */
bool tp_rules_cancelled(struct tp_ruleset *rs);

/* rules_register.c */
void tp_rules_free_fn(struct rule_fn *f);
/* The line of the Lua code calling the running C function. */
int tp_rules_caller_line(lua_State *L);
/* Protected: the event userdata, the envs list, the four globals. Stack: [-1, +0] */
int tp_rules_setup_p(lua_State *L);
/* Protected: freeze every file's globals. Stack: [-1, +0] */
int tp_rules_freeze_p(lua_State *L);

/* rules_files.c: load a rule file, or a folder's *.lua in order. */
void tp_rules_load_path(struct tp_ruleset *rs, const char *path);

/* rules_run.c */
void tp_rules_metrics_init(void);
void tp_rules_bind(struct tp_ruleset *rs, const struct tp_event *ev, struct tp_event_meta *meta,
		   int extra);
void tp_rules_unbind(struct tp_ruleset *rs, struct tp_event_meta *meta);
/* fn(e). The event userdata waits in slot EVENT_SLOT of the VM's stack.
 * Stack: [-0, +1] on TP_LUA_OK, [-0, +0] otherwise */
enum tp_lua_status tp_rules_call(struct tp_ruleset *rs, const struct rule_fn *f, char *err,
				 size_t errlen);
/* Render into rs->out; on a fault the message says so. */
enum tp_lua_status tp_rules_render(struct tp_ruleset *rs, const struct rule_fn *rule, char *err,
				   size_t errlen);

/* rules_tests.c: run every enabled rule's inline tests. */
void tp_rules_run_tests(struct tp_ruleset *rs);

/* rules_tune.c */
/* Protected: list, macro, append, exception and override as globals.
 * Stack: [-0, +0] */
void tp_rules_tune_setup(lua_State *L, struct tp_ruleset *rs);
/* After every file: apply overrides and exceptions to the rules they name
 * (problems for unknown rules or fields). Protected. Stack: [-0, +0] */
void tp_rules_tune_apply(lua_State *L, struct tp_ruleset *rs);
void tp_rules_tune_free(struct tp_ruleset *rs);
/* Does the event pass f's match (true when it has none)? skip: a condition
 * of f->match checked already (its tp_fast_mask's cond), -1: none. */
bool tp_rules_matched(const struct rule_fn *f, const struct tp_event *ev,
		      const struct tp_event_meta *meta, int skip);
/* Is the event excepted from rule f? */
bool tp_rules_excepted(const struct rule_fn *f, const struct tp_event *ev,
		       const struct tp_event_meta *meta);

/* meta (the bound one) as a match or exception sees it while the event is
 * bound: with the keys e:set has set so far (set.<key> conditions). */
static inline const struct tp_event_meta *tp_rules_meta_now(struct tp_ruleset *rs,
							    const struct tp_event_meta *meta)
{
	if (!rs->binding->sink)
		return meta;
	rs->view.nkv = rs->sink.nkv; /* the rest as tp_rules_bind made it */
	return &rs->view;
}
/* The rule named name, or NULL. */
struct rule_fn *tp_rules_find(const struct tp_ruleset *rs, const char *name);

/* rules_run.c: a rule's remember and recall for the event (after its match
 * and exceptions): false when when is not to be called (the event only
 * marked its process, or its process is not in the map recall names). */
bool tp_rules_gates_pass(struct rule_fn *f, const struct tp_event *ev,
			 const struct tp_event_meta *meta);
/* rules_run.c: a rule's skip_repeats for the event (after its gates):
 * true when the event repeats one within the map's ttl (when is not to be
 * called); either way the map now holds the event's values. */
bool tp_rules_repeat(struct rule_fn *f, const struct tp_event *ev);
/* rules_run.c: an enrich's set = {...} for the event (its match passed). */
void tp_rules_apply_sets(struct tp_ruleset *rs, const struct rule_fn *f, const struct tp_event *ev);

/* rules_index.c */
int tp_rules_index_build(struct tp_ruleset *rs);
void tp_rules_index_free(struct tp_ruleset *rs);
/* The rules and enrich functions of ix the event can match, as a bitmap:
 * ix->fns[FN_RULE] from 0, ix->fns[FN_ENRICH] from ix->pf.nrules. Found
 * before the enrich functions run; their e:set changes no field. meta: its
 * process's context (NULL: none). */
const uint64_t *tp_rules_candidates(struct slot_index *ix, const struct tp_event *ev,
				    const struct tp_event_meta *meta);
/* Then, once they ran, the rules of those: meta's keys (set on the event
 * by them or an earlier stage; NULL: none) leave out the rules whose match
 * needs a key not set. Counts the event for the calls of the rules and
 * enrich functions. */
const uint64_t *tp_rules_candidates_rules(struct slot_index *ix, const struct tp_event_meta *meta);
/* Would the index let the event reach rule f (a check for the inline
 * tests: any event f's match passes must)? Uses the slot's scratch: not
 * while the set runs an event. */
bool tp_rules_index_admits(struct tp_ruleset *rs, const struct rule_fn *f,
			   const struct tp_event *ev, const struct tp_event_meta *meta);
/* Free the caches of the index's keys and of the functions' matches and
 * exceptions (made again at their next look-up): after the inline tests,
 * whose strings are not the node's. */
void tp_rules_index_drop_caches(struct tp_ruleset *rs);

/* rules_stats.c */
/* Publish the counts to the registered metrics. */
void tp_rules_stats_publish(struct tp_ruleset *rs);
void tp_rules_stats_register(struct tp_ruleset *rs);
void tp_rules_stats_unregister(struct tp_ruleset *rs);
/* Name a rule whose cost per call is far above the others, once. */
void tp_rules_stats_check_costs(struct tp_ruleset *rs);

#endif
