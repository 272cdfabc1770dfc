#include "pipeline/scope.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/proc_ctx.h"
#include "obs/metrics.h"

/* A pattern, with what matching it needs worked out once. */
struct pat {
	char *text;
	size_t len;
	bool glob;	  /* has * ? [ (or a backslash escape): fnmatch, else literal */
	size_t lit;	  /* bytes before the first of those: a string must start with them */
	bool star_tail;	  /* the pattern is those bytes and one final '*' */
	bool has_path;	  /* process patterns: has a '/', matches the executable */
	const char *last; /* process patterns: after the last '/' */
};

struct pat_list {
	struct pat *v;
	size_t n;
};


struct scope {
	struct tp_stage base;
	struct pat_list procs, exclude_procs;
	struct pat_list containers, exclude_containers;
	struct pat_list namespaces, exclude_namespaces;
};

static const enum tp_drop_reason scope_drops[] = {
    TP_DROP_OUT_OF_SCOPE, TP_DROP_EXCLUDED_CONTAINER, TP_DROP_EXCLUDED_K8S_NAMESPACE, 0};

/* fnmatch(p, s, flags), without calling it where the pattern's literal
 * start already tells ("kube-*" against "default"), or is all there is
 * before a final '*' (fnmatch costs ~15 ns a call; most patterns are
 * names with a '*' at the end). */
static bool glob_match(const struct pat *p, const char *s, int flags)
{
	if (strncmp(s, p->text, p->lit))
		return false;
	if (p->star_tail && !(flags & FNM_PATHNAME))
		return true;
	return fnmatch(p->text, s, flags) == 0;
}

/* ------------------------------------------------------------ processes */

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
static bool process_match(const struct pat_list *l, const char *comm, const char *exe)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct pat *p = &l->v[i];

		if (!p->has_path) {
			if (glob_match(p, comm, 0))
				return true;
		} else if (exe) {
			if (glob_match(p, exe, FNM_PATHNAME))
				return true;
		} else if (same_program(p->last, comm)) {
			return true; /* executable unknown: its name is what we have */
		}
	}
	return false;
}

static const char *event_exe(const struct tp_event *ev, const struct tp_event_meta *meta)
{
	/* process.exec names the new executable itself. */
	if (ev->type->id == TP_EV_PROCESS_EXEC) {
		const struct tp_field *f = tp_event_field(ev->type, "filename");
		const char *s = f ? tp_field_str(ev, f) : NULL;

		if (s && *s)
			return s;
	}
	return meta->proc ? meta->proc->exe : NULL;
}

/* ------------------------------------------------ containers, namespaces */

static bool name_match(const struct pat *p, const char *s)
{
	return s && (p->glob ? glob_match(p, s, 0) : strcmp(p->text, s) == 0);
}

/* An id prefix or glob on the container id, or the same pattern on the
 * container's name in its pod spec. */
static bool container_match(const struct pat_list *l, const struct tp_proc_ctx *pc)
{
	const char *id = pc && pc->container ? pc->container->id : NULL;
	const char *name = pc && pc->k8s ? pc->k8s->container : NULL;

	for (size_t i = 0; i < l->n; i++) {
		const struct pat *p = &l->v[i];

		if (id && (p->glob ? glob_match(p, id, 0) : !strncmp(id, p->text, p->len)))
			return true;
		if (name_match(p, name))
			return true;
	}
	return false;
}

static bool namespace_match(const struct pat_list *l, const struct tp_proc_ctx *pc)
{
	const char *ns = pc && pc->k8s ? pc->k8s->namespace : NULL;

	for (size_t i = 0; i < l->n; i++)
		if (name_match(&l->v[i], ns))
			return true;
	return false;
}

static int scope_event(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *ev,
		       struct tp_event_meta *meta)
{
	struct scope *s = (struct scope *)st;
	const struct tp_proc_ctx *pc = meta->proc;
	(void)p;
	if (s->procs.n || s->exclude_procs.n) {
		char comm[TP_COMM_LEN + 1];
		const char *exe = event_exe(ev, meta);

		memcpy(comm, ev->rec.hdr.comm, TP_COMM_LEN);
		comm[TP_COMM_LEN] = '\0';
		if ((s->procs.n && !process_match(&s->procs, comm, exe)) ||
		    (s->exclude_procs.n && process_match(&s->exclude_procs, comm, exe)))
			return TP_DROP_OUT_OF_SCOPE;
	}
	if ((s->containers.n && !container_match(&s->containers, pc)) ||
	    (s->exclude_containers.n && container_match(&s->exclude_containers, pc)))
		return TP_DROP_EXCLUDED_CONTAINER;
	if ((s->namespaces.n && !namespace_match(&s->namespaces, pc)) ||
	    (s->exclude_namespaces.n && namespace_match(&s->exclude_namespaces, pc)))
		return TP_DROP_EXCLUDED_K8S_NAMESPACE;
	return TP_STAGE_PASS;
}

/* ------------------------------------------------------------ lifecycle */

static void free_list(struct pat_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void scope_free(struct scope *s)
{
	free_list(&s->procs);
	free_list(&s->exclude_procs);
	free_list(&s->containers);
	free_list(&s->exclude_containers);
	free_list(&s->namespaces);
	free_list(&s->exclude_namespaces);
	free(s);
}

static void scope_close(struct tp_stage *st)
{
	scope_free((struct scope *)st);
}

static const struct tp_stage_ops scope_ops = {
    .name = "scope",
    .event = scope_event,
    .drops = scope_drops,
    .close = scope_close,
};

static int copy_list(const struct tp_strlist *l, struct pat_list *out)
{
	out->v = calloc(l->n ? l->n : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (out->n = 0; out->n < l->n; out->n++) {
		struct pat *p = &out->v[out->n];
		const char *slash;

		p->text = strdup(l->v[out->n]);
		if (!p->text)
			return -ENOMEM;
		p->len = strlen(p->text);
		p->lit = strcspn(p->text, "*?[\\");
		p->glob = p->lit < p->len;
		p->star_tail = p->glob && p->lit + 1 == p->len && p->text[p->lit] == '*';
		slash = strrchr(p->text, '/');
		p->has_path = slash != NULL;
		p->last = slash ? slash + 1 : p->text;
	}
	return 0;
}

bool tp_scope_wanted(const struct tp_config *cfg)
{
	return cfg->scope_processes.n || cfg->scope_exclude_processes.n ||
	       cfg->scope_containers.n || cfg->scope_exclude_containers.n ||
	       cfg->scope_k8s_namespaces.n || cfg->scope_exclude_k8s_namespaces.n;
}

int tp_scope_check(const struct tp_config *cfg, char *err, size_t errlen)
{
	const char *key = cfg->scope_containers.n		? "filter.containers"
			  : cfg->scope_exclude_containers.n	? "filter.exclude_containers"
			  : cfg->scope_k8s_namespaces.n		? "filter.k8s_namespaces"
			  : cfg->scope_exclude_k8s_namespaces.n ? "filter.exclude_k8s_namespaces"
								: NULL;

	/* Only enrichment knows an event's container and pod. */
	if (key && !cfg->enrich) {
		snprintf(err, errlen, "%s needs the enrichment stage (enrich.enabled = true)", key);
		return -EINVAL;
	}
	return 0;
}

int tp_scope_new(struct tp_stage **out, const struct tp_config *cfg, char *err, size_t errlen)
{
	struct scope *s;
	int r;

	*out = NULL;
	r = tp_scope_check(cfg, err, errlen);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "cannot set up the scope filters: out of memory");
		return -ENOMEM;
	}
	s->base.ops = &scope_ops;
	if ((r = copy_list(&cfg->scope_processes, &s->procs)) < 0 ||
	    (r = copy_list(&cfg->scope_exclude_processes, &s->exclude_procs)) < 0 ||
	    (r = copy_list(&cfg->scope_containers, &s->containers)) < 0 ||
	    (r = copy_list(&cfg->scope_exclude_containers, &s->exclude_containers)) < 0 ||
	    (r = copy_list(&cfg->scope_k8s_namespaces, &s->namespaces)) < 0 ||
	    (r = copy_list(&cfg->scope_exclude_k8s_namespaces, &s->exclude_namespaces)) < 0) {
		scope_free(s);
		snprintf(err, errlen, "cannot set up the scope filters: out of memory");
		return r;
	}
	*out = &s->base;
	return 0;
}
