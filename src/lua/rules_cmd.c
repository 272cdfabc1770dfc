#include "lua/rules_cmd.h"

#include <errno.h>
#include <string.h>

#include "lua/rules.h"
#include "lua/rules_stage.h"
#include "util/buf.h"

#define EVENTS_MAX 512

static void print_problem(void *ctx, const char *msg)
{
	fprintf(ctx, "%s\n", msg);
}

/* "process.exec,file.open" or, for a whole category, "process.*". */
static void events_text(struct tp_buf *b, const struct tp_event_type **ev, size_t n)
{
	const struct tp_event_type *t;
	size_t i = 0;

	while (i < n) {
		unsigned cat = TP_TYPE_CATEGORY(ev[i]->id);
		size_t in_set = 0, in_cat = 0;

		for (size_t j = i; j < n && TP_TYPE_CATEGORY(ev[j]->id) == cat; j++)
			in_set++;
		for (size_t k = 0; (t = tp_event_type_at(k)); k++)
			in_cat += TP_TYPE_CATEGORY(t->id) == cat;
		if (b->len)
			tp_buf_putc(b, ',');
		if (in_set == in_cat && in_cat > 1) {
			tp_buf_printf(b, "%s.*", tp_category_name(cat));
			i += in_set;
			continue;
		}
		tp_buf_puts(b, ev[i++]->name);
	}
}

static void json_str(struct tp_buf *b, const char *s)
{
	if (s)
		tp_buf_json_str(b, s, strlen(s));
	else
		tp_buf_puts(b, "null");
}

static void list_json(const struct tp_ruleset *rs, size_t i, const struct tp_rule_info *ri,
		      const struct tp_event_type **ev, size_t nev, struct tp_buf *b)
{
	char x[1024];

	tp_buf_puts(b, "{\"name\":");
	json_str(b, ri->name);
	tp_buf_puts(b, ",\"desc\":");
	json_str(b, ri->desc);
	tp_buf_puts(b, ",\"events\":[");
	for (size_t k = 0; k < nev; k++) {
		if (k)
			tp_buf_putc(b, ',');
		json_str(b, ev[k]->name);
	}
	tp_buf_puts(b, "],\"severity\":");
	json_str(b, ri->severity);
	tp_buf_printf(b, ",\"importance\":%g,\"tags\":[", ri->importance);
	for (size_t k = 0; k < ri->ntags; k++) {
		if (k)
			tp_buf_putc(b, ',');
		json_str(b, ri->tags[k]);
	}
	tp_buf_puts(b, "],\"file\":");
	json_str(b, ri->file);
	tp_buf_printf(b, ",\"line\":%d,\"enabled\":%s,\"state\":%s,\"override\":", ri->line,
		      ri->enabled ? "true" : "false", ri->has_state ? "true" : "false");
	json_str(b, ri->override_at);
	tp_buf_puts(b, ",\"exceptions\":[");
	for (size_t j = 0; tp_ruleset_rule_exception(rs, i, j, x, sizeof(x)); j++) {
		if (j)
			tp_buf_putc(b, ',');
		json_str(b, x);
	}
	tp_buf_puts(b, "]}\n");
}

int tp_rules_cmd_list(const struct tp_config *cfg, bool json, FILE *out, FILE *err_out)
{
	static struct tp_rules_where w;
	const struct tp_event_type *ev[EVENTS_MAX];
	struct tp_rules_opts o;
	struct tp_ruleset *rs;
	struct tp_rule_info ri;
	struct tp_buf b, evs;
	char err[1024], x[1024];
	size_t nev;
	int r;

	tp_rules_opts_init(&o, &w, cfg);
	o.diag = print_problem;
	o.diag_ctx = err_out;
	r = tp_ruleset_load(&rs, &o, err, sizeof(err));
	if (r < 0) {
		fprintf(err_out, "tapio-collector: the rules do not load: %s\n", err);
		return r;
	}
	tp_buf_init(&b);
	tp_buf_init(&evs);
	if (!json)
		tp_buf_printf(&b, "%-36s %-8s %-28s %s\n", "RULE", "SEVERITY", "EVENTS", "WHERE");
	for (size_t i = 0; tp_ruleset_rule(rs, i, &ri, ev, EVENTS_MAX, &nev); i++) {
		if (json) {
			list_json(rs, i, &ri, ev, nev, &b);
			continue;
		}
		tp_buf_reset(&evs);
		events_text(&evs, ev, nev);
		tp_buf_printf(&b, "%-36s %-8s %-28s %s:%d%s%s\n", ri.name, ri.severity,
			      tp_buf_cstr(&evs), ri.file, ri.line, ri.enabled ? "" : " disabled",
			      ri.has_state ? " stateful" : "");
		if (ri.override_at)
			tp_buf_printf(&b, "    overridden at %s\n", ri.override_at);
		for (size_t k = 0; k < ri.ntags; k++)
			tp_buf_printf(&b, "%s%s", k ? ", " : "    tags: ", ri.tags[k]);
		if (ri.ntags)
			tp_buf_putc(&b, '\n');
		for (size_t j = 0; tp_ruleset_rule_exception(rs, i, j, x, sizeof(x)); j++)
			tp_buf_printf(&b, "    except %s\n", x);
	}
	fwrite(b.data, 1, b.len, out);
	fflush(out);
	tp_buf_free(&b);
	tp_buf_free(&evs);
	tp_ruleset_free(rs);
	return 0;
}

int tp_rules_cmd_test(const struct tp_config *cfg, const char *path, FILE *out)
{
	static struct tp_rules_where w;
	struct tp_rules_load_report rep = {0};
	struct tp_rules_opts o;
	struct tp_ruleset *rs;
	const char *one[1] = {path};
	char err[1024];
	int r;

	tp_rules_opts_init(&o, &w, cfg);
	if (path) {
		o.paths = one;
		o.npaths = 1;
		o.user_dir = NULL;
	}
	o.diag = print_problem;
	o.diag_ctx = out;
	o.report = &rep;
	r = tp_ruleset_load(&rs, &o, err, sizeof(err));
	if (r == 0) {
		fprintf(out, "rules test: %zu tests of %zu rules passed (%zu files)\n", rep.tests,
			rep.rules, rep.files);
		tp_ruleset_free(rs);
		fflush(out);
		return 0;
	}
	if (!rep.problems)
		fprintf(out, "%s\n", err);
	{
		size_t other = rep.problems > rep.tests_failed ? rep.problems - rep.tests_failed : 0;

		if (rep.tests_failed)
			fprintf(out, "rules test: %zu of %zu tests failed", rep.tests_failed,
				rep.tests);
		else
			fprintf(out, "rules test: the rules do not load");
		if (other)
			fprintf(out, "%s%zu other problem%s", rep.tests_failed ? "; " : ": ", other,
				other > 1 ? "s" : "");
		fputc('\n', out);
	}
	fflush(out);
	return r;
}
