/*
 * lua/load_limits.h - how much work a rule file may make the loader do.
 *
 * Everything a rule file causes at load is bounded: its top-level chunk by
 * an instruction budget (TP_LOAD_BUDGET per file, or the rules' own budget
 * if larger) and the VM's memory cap; the C work behind rule{},
 * filter/enrich/score and lists by the sizes below (checked before the
 * work, so a megabyte of anything is refused at once) and by charging that
 * work to the same budget; the self-tests by a count per rule and per load,
 * each under the per-call budget; the whole reload by rules.reload_timeout
 * (lua/rules_stage.h), which cancels what is still running.
 *
 * A refusal names the limit: "events: 300 entries, more than the 256 a rule
 * may have". The loader adds file:line.
 */
#ifndef TAPIO_LUA_LOAD_LIMITS_H
#define TAPIO_LUA_LOAD_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Instructions the top-level code of one file may run. */
#define TP_LOAD_BUDGET 50000000ull

enum tp_load_limit {
	TP_LOAD_FILE_BYTES,  /* one rule file */
	TP_LOAD_FILES,       /* files in one load */
	TP_LOAD_FUNCTIONS,   /* rules + filter/enrich/score in one set */
	TP_LOAD_NAME_BYTES,  /* a rule's name */
	TP_LOAD_DESC_BYTES,  /* a rule's desc */
	TP_LOAD_TAGS,        /* tags of a rule */
	TP_LOAD_TAG_BYTES,   /* one tag */
	TP_LOAD_EVENTS,      /* entries of an events list */
	TP_LOAD_TESTS,       /* inline tests of one rule */
	TP_LOAD_TESTS_TOTAL, /* inline tests in one load */
	TP_LOAD_LIST_ITEMS,  /* entries of a list built at load (list(), append()) */
	TP_LOAD_LIMITS
};

/* The limit's value. */
size_t tp_load_max(enum tp_load_limit which);

/* 0 if n is within the limit; else -E2BIG with err saying "<what>: <n>
 * <unit>, more than the <max> <whom> may have". */
int tp_load_check(enum tp_load_limit which, size_t n, char *err, size_t errlen);

#endif
