/*
 * bench_rules: what the Lua path costs per event, against the bare decode
 * path, on one synthetic mix (exec with argv, fork, exit, file.open).
 *
 *   bench_rules RULES_DIR [ROUNDS]
 *
 * Each round decodes every record into one reused event and runs the
 * pipeline as the live reader does (tick every 4096 events), once per
 * configuration; figures are medians over the rounds of thread CPU ns per
 * event:
 *
 *   bare            decode + a pipeline without stages
 *   empty set       + the rules stage with no rule: no Lua at all
 *   no-op filter    + one filter on every type that returns true: one call
 *   3-field filter  + one filter on every type reading pid, uid and comm
 *   (no budget)     the same two without the instruction budget: what the
 *                   count hook costs (Lua 5.4 traps every instruction while
 *                   it is set)
 *   default rules   + rules/default (rules on exec, exit, open, unlink; scorers)
 *   20 exec rules   + 20 rules on process.exec, each reading two fields
 *   1 rule          + one rule on every type reading e.pid (the floor of
 *                     the stateful rules below: what a rule costs)
 *   + counter(e)    the same rule adding the event's process to a counter
 *                     over a 30 s window (4096 keys)
 *   + counter(comm) a counter keyed by e.comm (a string, 50 keys)
 *   + distinct      distinct comms per process in a 5 m window
 *   + sequence      a 3-step sequence (fork, exec, exit) per process
 *
 *   30 path rules   30 rules on file.open, each testing a path prefix and
 *                   the write flags in Lua (when)
 *   30 as match{}   the same 30 rules with the tests in match = {...}: C
 *                   turns the events away before any Lua call
 *   security preset rules/default + rules/security (what -p security runs)
 *
 * "state" is the stateful rule's cost minus the plain rule's: what the
 * state API adds per event.
 *
 * RULES_DIR is the shipped rules folder (for rules/default).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "enrich/lua_fields.h"
#include "events/decode.h"
#include "lua/rules_stage.h"
#include "obs/log.h"
#include "pipeline/pipeline.h"
#include "util/time.h"

#include "bench_util.h"

#define NRECS  4096
#define REPEAT 50

static uint8_t recs[NRECS][TP_RECORD_MAX];
static uint32_t lens[NRECS];
static struct tp_event ev;

static void make_corpus(void)
{
	for (int i = 0; i < NRECS; i++) {
		struct tp_hdr *h = (struct tp_hdr *)recs[i];
		int kind = i % 8; /* 2 exec, 2 fork, 2 exit, 2 open: 1:1:1:1 */

		memset(recs[i], 0, TP_RECORD_MAX);
		h->pid = h->tid = 1000 + (uint32_t)i;
		h->ppid = 1;
		h->uid = (uint32_t)(i % 3) * 1000;
		snprintf(h->comm, sizeof(h->comm), "proc%d", i % 50);
		if (kind < 2) {
			struct tp_exec_event *e = (void *)recs[i];
			static const char argv[] = "/usr/bin/proc\0--flag\0value\0/some/path";

			h->type = TP_EV_PROCESS_EXEC;
			h->size = sizeof(*e);
			snprintf(e->filename, sizeof(e->filename), "/usr/bin/proc%d", i % 50);
			memcpy(e->argv, argv, sizeof(argv));
			e->argv_len = sizeof(argv);
		} else if (kind < 4) {
			struct tp_fork_event *e = (void *)recs[i];

			h->type = TP_EV_PROCESS_FORK;
			h->size = sizeof(*e);
			e->parent_pid = 1;
		} else if (kind < 6) {
			struct tp_exit_event *e = (void *)recs[i];

			h->type = TP_EV_PROCESS_EXIT;
			h->size = sizeof(*e);
			e->exit_code = i % 2;
		} else {
			struct tp_file_open_event *e = (void *)recs[i];

			h->type = TP_EV_FILE_OPEN;
			h->size = sizeof(*e);
			snprintf(e->path, sizeof(e->path), "/etc/file%d.conf", i % 100);
			e->flags = (uint32_t)(i % 4 == 0);
		}
		lens[i] = h->size;
	}
}

static uint64_t feed(struct tp_pipeline *p)
{
	uint64_t t0 = tp_now_ns(CLOCK_THREAD_CPUTIME_ID), n = 0;

	for (int r = 0; r < REPEAT; r++) {
		for (int i = 0; i < NRECS; i++) {
			if (tp_decode(recs[i], lens[i], 0, &ev) == 0)
				tp_pipeline_event(p, &ev);
			if (++n % 4096 == 0)
				tp_pipeline_tick(p, tp_mono_ns());
		}
	}
	return tp_now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mkdir(dir, 0700);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
	chmod(path, 0644);
}

#define NCONF 16
#define FIRST_STATE 9 /* configurations compared with "1 rule" (8) */
#define LAST_STATE  12

int main(int argc, char **argv)
{
	static const char *const names[NCONF] = {
	    "bare",	      "empty set",     "no-op filter",	"  (no budget)",
	    "3-field filter", "  (no budget)", "default rules", "20 exec rules",
	    "1 rule",	      "+ counter(e)",  "+ counter(comm)", "+ distinct",
	    "+ sequence",     "30 path rules", "30 as match{}",	"security preset",
	};
	/* One rule on every type of the mix; %s: its state and the test. */
	static const char *const stateful[LAST_STATE - 7][2] = {
	    {"", "e.pid == 0"},
	    {"state = { n = tapio.counter { window = '30s' } },", "s.n:add(e) == 0"},
	    {"state = { n = tapio.counter { window = '30s' } },", "s.n:add(e.comm) == 0"},
	    {"state = { d = tapio.distinct { window = '5m' } },", "s.d:add(e, e.comm) == 0"},
	    {"state = { q = tapio.sequence { 'fork', 'exec', 'exit', within = '1m' } },",
	     "s.q:step(e, e.type == 'process.fork' and 1 or e.type == 'process.exec' and 2 or 3)"},
	};
	int rounds = argc > 2 ? atoi(argv[2]) : 7;
	char tmp[] = "/tmp/tapio-bench-rules-XXXXXX", d[NCONF][600], err[1024], text[8192];
	struct tp_pipeline pipes[NCONF];
	struct tp_config cfgs[NCONF];
	double ns[NCONF][64];

	if (argc < 2 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_rules RULES_DIR [ROUNDS<=64]\n");
		return 2;
	}
	tp_log_set_level(TP_LOG_WARN);
	if (tp_enrich_lua_register() < 0) { /* ${exe}, e.parent... of the security rules */
		fprintf(stderr, "enrichment fields: out of memory\n");
		return 1;
	}
	make_corpus();
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(d[1], sizeof(d[1]), "%s/empty", tmp);
	write_file(d[1], "empty.lua", "-- nothing\n");
	snprintf(d[2], sizeof(d[2]), "%s/noop", tmp);
	write_file(d[2], "noop.lua", "filter(function(e) return true end)\n");
	snprintf(d[3], sizeof(d[3]), "%s", d[2]);
	snprintf(d[4], sizeof(d[4]), "%s/filter", tmp);
	write_file(d[4], "filter.lua",
		   "filter(function(e) return e.pid ~= 0 and e.uid ~= 7 and e.comm ~= 'x' end)\n");
	snprintf(d[5], sizeof(d[5]), "%s", d[4]);
	snprintf(d[6], sizeof(d[6]), "%s/default", argv[1]);
	snprintf(d[7], sizeof(d[7]), "%s/many", tmp);
	text[0] = '\0';
	for (int i = 0; i < 20; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "rule { name = 'r%d', events = { 'process.exec' }, output = '${comm}',\n"
			 "  when = function(e) return e.uid == %d and e.comm == 'never%d' end }\n",
			 i, 1000 + i, i);
	write_file(d[7], "many.lua", text);
	for (int c = 8; c <= LAST_STATE; c++) {
		snprintf(d[c], sizeof(d[c]), "%s/state%d", tmp, c);
		snprintf(text, sizeof(text),
			 "rule { name = 'r', events = { 'process', 'file.open' }, output = '${comm}',\n"
			 "  %s\n  when = function(e, s) return %s end }\n",
			 stateful[c - 8][0], stateful[c - 8][1]);
		write_file(d[c], "r.lua", text);
	}
	for (int c = 13; c <= 14; c++) {
		snprintf(d[c], sizeof(d[c]), "%s/paths%d", tmp, c);
		text[0] = '\0';
		for (int i = 0; i < 30; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 c == 13 ? "rule { name = 'p%d', events = { 'file.open' }, output = "
					   "'${path}',\n  when = function(e) return "
					   "tapio.startswith(e.path, '/etc/place%d/') and (e.flags & 3) "
					   "~= 0 end }\n"
					 : "rule { name = 'p%d', events = { 'file.open' }, output = "
					   "'${path}',\n  match = { path = '/etc/place%d/*', flags = { "
					   "any = 3 } },\n  when = function(e) return true end }\n",
				 i, i);
		write_file(d[c], "paths.lua", text);
	}
	snprintf(d[15], sizeof(d[15]), "%s/default", argv[1]);

	for (int c = 0; c < NCONF; c++) {
		tp_config_defaults(&cfgs[c]);
		cfgs[c].all_events = true;
		cfgs[c].rules_user_dir = "off";
		if (c == 3 || c == 5)
			cfgs[c].rule_instr_budget = 0;
		tp_pipeline_init(&pipes[c]);
		if (c) {
			struct tp_stage *st;

			cfgs[c].rule_paths[0] = d[c];
			cfgs[c].nrule_paths = 1;
			if (c == 15) {
				static char sec[600];

				snprintf(sec, sizeof(sec), "%s/security", argv[1]);
				cfgs[c].rule_paths[1] = sec;
				cfgs[c].nrule_paths = 2;
			}
			if (tp_rules_stage_new(&st, &cfgs[c], err, sizeof(err)) < 0) {
				fprintf(stderr, "%s: %s\n", names[c], err);
				return 1;
			}
			tp_pipeline_add_stage(&pipes[c], st);
		}
	}
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < NCONF; c++)
			ns[c][r] = (double)feed(&pipes[c]) / (NRECS * REPEAT);

	printf("Lua path cost, %d events x %d rounds (exec/fork/exit/open 1:1:1:1), median thread "
	       "CPU ns/event\n",
	       NRECS * REPEAT, rounds);
	double bare = median(ns[0], rounds);

	for (int c = 0; c < NCONF; c++) {
		double m = c ? median(ns[c], rounds) : bare;

		printf("  %-16s %7.1f ns/event  (+%.1f vs bare, x%.2f)", names[c], m, m - bare,
		       m / bare);
		if (c >= FIRST_STATE && c <= LAST_STATE)
			printf("  state %+.1f ns/event", m - median(ns[8], rounds));
		putchar('\n');
	}
	for (int c = 0; c < NCONF; c++)
		tp_pipeline_close(&pipes[c]);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (system(cmd))
			return 1;
	}
	return 0;
}
