#include "scope.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct scope {
	struct tp_stage base;
	char **include;
	size_t ninclude;
	char **exclude;
	size_t nexclude;
	struct tp_metric m_dropped;
};

/*
 * Without the executable, "/usr/sbin/nginx" can still be told by its name:
 * a literal last component equal to comm (which the kernel cuts to 15
 * bytes). A wildcard there ("/opt/app/ *") says nothing about the name.
 */
static bool same_program(const char *last, const char *comm)
{
	size_t n = strlen(last), m = strlen(comm);

	if (!n || strpbrk(last, "*?[\\"))
		return false;
	return !strncmp(last, comm, TP_COMM_LEN - 1) && (n == m || m == TP_COMM_LEN - 1);
}

/* A pattern with a '/' matches the executable path, one without the name
 * (comm), so "nginx" and "/usr/sbin/nginx" both mean what they say. */
static bool match_any(char *const *pats, size_t n, const char *comm, const char *exe)
{
	for (size_t i = 0; i < n; i++) {
		const char *slash = strrchr(pats[i], '/');

		if (!slash) {
			if (fnmatch(pats[i], comm, 0) == 0)
				return true;
		} else if (exe) {
			if (fnmatch(pats[i], exe, FNM_PATHNAME) == 0)
				return true;
		} else if (same_program(slash + 1, comm)) {
			return true; /* executable unknown: its name is what we have */
		}
	}
	return false;
}

static const char *event_exe(const struct tp_event *ev)
{
	/* process.exec names the executable itself. */
	if (ev->type->id == TP_EV_PROCESS_EXEC) {
		const struct tp_field *f = tp_event_field(ev->type, "filename");

		return f ? tp_field_str(ev, f) : NULL;
	}
	return NULL;
}

static int scope_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		       struct tp_event_meta *meta)
{
	struct scope *s = (struct scope *)st;
	char comm[TP_COMM_LEN + 1];
	const char *exe = event_exe(ev);

	memcpy(comm, ev->rec.hdr.comm, TP_COMM_LEN);
	comm[TP_COMM_LEN] = '\0';
	if ((s->ninclude && !match_any(s->include, s->ninclude, comm, exe)) ||
	    match_any(s->exclude, s->nexclude, comm, exe)) {
		tp_metric_add(&s->m_dropped, 1);
		return TP_STAGE_DROP;
	}
	return TP_STAGE_PASS;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void scope_close(struct tp_stage *st)
{
	struct scope *s = (struct scope *)st;

	tp_metric_unregister(&s->m_dropped);
	free_list(s->include, s->ninclude);
	free_list(s->exclude, s->nexclude);
	free(s);
}

static const struct tp_stage_ops scope_ops = {
	.name = "scope",
	.event = scope_event,
	.close = scope_close,
};

static int copy_list(const struct tp_strlist *l, char ***out, size_t *n)
{
	*out = calloc(l->n ? l->n : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (*n = 0; *n < l->n; (*n)++) {
		(*out)[*n] = strdup(l->v[*n]);
		if (!(*out)[*n])
			return -1;
	}
	return 0;
}

bool tp_scope_wanted(const struct tp_config *cfg)
{
	return cfg->scope_processes.n || cfg->scope_exclude_processes.n;
}

struct tp_stage *tp_scope_new(const struct tp_config *cfg)
{
	struct scope *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &scope_ops;
	if (copy_list(&cfg->scope_processes, &s->include, &s->ninclude) < 0 ||
	    copy_list(&cfg->scope_exclude_processes, &s->exclude, &s->nexclude) < 0) {
		free_list(s->include, s->ninclude);
		free_list(s->exclude, s->nexclude);
		free(s);
		return NULL;
	}
	s->m_dropped = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_events_dropped_total",
		"Events kept from the outputs on purpose or for lack of room, by reason.");
	s->m_dropped.labels = "reason=\"out_of_scope\"";
	tp_metric_register(&s->m_dropped);
	return &s->base;
}
