/* Scope stage: include and exclude globs on the process name or executable
 * path; what is out of scope is dropped and counted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_keys.h"
#include "events/decode.h"
#include "events/proc_ctx.h"
#include "obs/metrics.h"
#include "pipeline/pipeline.h"
#include "pipeline/scope.h"

static uint64_t emitted;

static int count_emit(struct tp_output *o, const struct tp_event *ev,
		      const struct tp_event_meta *m)
{
	emitted++;
	return 0;
}

static void no_close(struct tp_output *o)
{
}

static const struct tp_output_ops count_ops = { .name = "count", .emit = count_emit,
						.close = no_close };

static struct tp_event ev;

static bool passes(struct tp_pipeline *p, const char *comm, const char *exec_filename)
{
	uint64_t before = emitted;

	if (exec_filename) {
		struct tp_exec_event e;

		memset(&e, 0, sizeof(e));
		e.hdr.type = TP_EV_PROCESS_EXEC;
		e.hdr.size = sizeof(e);
		e.hdr.pid = 10;
		memcpy(e.hdr.comm, comm, strnlen(comm, sizeof(e.hdr.comm)));
		strncpy(e.filename, exec_filename, sizeof(e.filename) - 1);
		assert_int_equal(tp_decode(&e, sizeof(e), 0, &ev), 0);
	} else {
		struct tp_fork_event f;

		memset(&f, 0, sizeof(f));
		f.hdr.type = TP_EV_PROCESS_FORK;
		f.hdr.size = sizeof(f);
		f.hdr.pid = 10;
		memcpy(f.hdr.comm, comm, strnlen(comm, sizeof(f.hdr.comm)));
		assert_int_equal(tp_decode(&f, sizeof(f), 0, &ev), 0);
	}
	tp_pipeline_event(p, &ev);
	return emitted > before;
}

/* Stands in for enrichment: every event gets the context `ctx` points to. */
static const struct tp_proc_ctx *ctx;

static int fake_enrich(struct tp_stage *st, struct tp_pipeline *p, struct tp_event *e,
		       struct tp_event_meta *meta)
{
	meta->proc = ctx;
	return TP_STAGE_PASS;
}

static void fake_close(struct tp_stage *st)
{
}

static const struct tp_stage_ops fake_ops = { .name = "enrich", .event = fake_enrich,
					      .close = fake_close };
static struct tp_stage fake_stage = { &fake_ops };

/* A pipeline of fake enrichment and a scope stage set by key/value pairs
 * (NULL-terminated). */
static void setup_keys(struct tp_pipeline *p, struct tp_output *out, struct tp_config *c,
		       const char *const *kv)
{
	struct tp_stage *st;
	char err[256];

	tp_config_defaults(c);
	for (; kv[0]; kv += 2)
		if (kv[1])
			assert_int_equal(tp_config_set_text(c, tp_config_key_find(kv[0]), kv[1],
							    TP_SRC_FLAG, err, sizeof(err)),
					 0);
	tp_pipeline_init(p);
	assert_true(tp_scope_wanted(c));
	assert_int_equal(tp_scope_new(&st, c, err, sizeof(err)), 0);
	assert_int_equal(tp_pipeline_add_stage(p, &fake_stage), 0);
	assert_int_equal(tp_pipeline_add_stage(p, st), 0);
	out->ops = &count_ops;
	assert_int_equal(tp_pipeline_add_output(p, out), 0);
}

static void setup_pipeline(struct tp_pipeline *p, struct tp_output *out, struct tp_config *c,
			   const char *include, const char *exclude)
{
	const char *const kv[] = { "filter.processes", include, "filter.exclude_processes",
				   exclude, NULL };

	setup_keys(p, out, c, kv);
}

static uint64_t dropped(const char *reason)
{
	char labels[64];

	struct tp_metric *m;

	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	m = tp_metric_find("tapio_events_dropped_total", labels);
	assert_non_null(m); /* registered while the stage runs */
	return tp_metric_get(m);
}

static void test_include(void **state)
{
	struct tp_pipeline p;
	struct tp_output out;
	struct tp_config c;

	setup_pipeline(&p, &out, &c, "nginx, postgres*, /usr/sbin/redis-server, /opt/*",
		       NULL);
	tp_config_free(&c); /* the stage keeps its own copies */
	assert_true(passes(&p, "nginx", NULL));
	assert_true(passes(&p, "postgres", NULL));
	assert_true(passes(&p, "postgres: walwr", NULL));
	assert_false(passes(&p, "bash", NULL));
	assert_false(passes(&p, "nginx2", NULL));
	/* A path pattern matches the executable when it is known... */
	assert_true(passes(&p, "whatever", "/usr/sbin/redis-server"));
	assert_true(passes(&p, "a-very-long-nam", "/usr/sbin/a-very-long-name-indeed") == false);
	assert_false(passes(&p, "redis-server", "/opt/redis/redis-server"));
	/* ... and a plain last component the name when it is not; a wildcard
	 * there says nothing about the name. */
	assert_true(passes(&p, "redis-server", NULL));
	assert_false(passes(&p, "anything", NULL));
	assert_true(passes(&p, "x", "/opt/x"));
	assert_int_equal(dropped("out_of_scope"), 5);
	assert_int_equal(p.events_in, 11);
	tp_pipeline_close(&p);
}

static void test_exclude(void **state)
{
	struct tp_pipeline p;
	struct tp_output out;
	struct tp_config c;

	setup_pipeline(&p, &out, &c, NULL, "systemd-*,/usr/lib/jvm/*/bin/java");
	assert_false(passes(&p, "systemd-journal", NULL));
	assert_true(passes(&p, "systemd", NULL));
	assert_false(passes(&p, "java", "/usr/lib/jvm/java-17/bin/java"));
	assert_true(passes(&p, "java", "/opt/java/bin/java"));
	assert_false(passes(&p, "java", NULL)); /* name fallback */
	assert_int_equal(dropped("out_of_scope"), 3);
	tp_pipeline_close(&p);
	tp_config_free(&c);
}

/* Contexts as enrichment gives them. */
static const struct tp_container_ctx web_ct = {
	.id = "3f0a9c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90",
	.runtime = "containerd"
};
static const struct tp_k8s_ctx web_pod = { .pod = "web-0", .namespace = "shop",
					   .container = "nginx" };
static const struct tp_proc_ctx web = { .exe = "/usr/sbin/nginx", .container = &web_ct,
					.k8s = &web_pod };
static const struct tp_container_ctx db_ct = { .id = "deadbeef00112233", .runtime = "docker" };
static const struct tp_proc_ctx db = { .exe = "/usr/bin/postgres", .container = &db_ct };
static const struct tp_k8s_ctx sys_pod = { .pod = "coredns-1", .namespace = "kube-system",
					   .container = "coredns" };
static const struct tp_container_ctx sys_ct = { .id = "0123456789abcdef" };
static const struct tp_proc_ctx sys = { .container = &sys_ct, .k8s = &sys_pod };
static const struct tp_proc_ctx host = { .exe = "/usr/bin/bash" };

static bool passes_in(const struct tp_proc_ctx *pc, struct tp_pipeline *p)
{
	ctx = pc;
	return passes(p, "x", NULL);
}

static void test_containers(void **state)
{
	const char *const kv[] = { "filter.containers", "3f0a9c, dead*, coredns", NULL };
	struct tp_pipeline p;
	struct tp_output out;
	struct tp_config c;

	setup_keys(&p, &out, &c, kv);
	assert_true(passes_in(&web, &p));  /* id prefix */
	assert_true(passes_in(&db, &p));   /* id glob */
	assert_true(passes_in(&sys, &p));  /* the container's name in its pod */
	assert_false(passes_in(&host, &p)); /* not in a container */
	assert_false(passes_in(NULL, &p));  /* not enriched: unknown */
	assert_int_equal(dropped("excluded_container"), 2);
	tp_pipeline_close(&p);
	tp_config_free(&c);
	{
		/* A prefix is a prefix: not a substring, nor a prefix of the name. */
		const char *const kv2[] = { "filter.containers", "0a9c, ngin", NULL };

		setup_keys(&p, &out, &c, kv2);
		assert_false(passes_in(&web, &p));
		assert_int_equal(dropped("excluded_container"), 1);
		tp_pipeline_close(&p);
		tp_config_free(&c);
	}
}

static void test_exclude_containers(void **state)
{
	const char *const kv[] = { "filter.exclude_containers", "*", NULL };
	struct tp_pipeline p;
	struct tp_output out;
	struct tp_config c;

	/* "*": any container; the host's events stay. */
	setup_keys(&p, &out, &c, kv);
	assert_false(passes_in(&web, &p));
	assert_false(passes_in(&sys, &p));
	assert_true(passes_in(&host, &p));
	assert_true(passes_in(NULL, &p));
	tp_pipeline_close(&p);
	tp_config_free(&c);
}

static void test_k8s_namespaces(void **state)
{
	const char *const inc[] = { "filter.k8s_namespaces", "shop, prod-*", NULL };
	const char *const exc[] = { "filter.exclude_k8s_namespaces", "kube-*", NULL };
	struct tp_pipeline p;
	struct tp_output out;
	struct tp_config c;

	setup_keys(&p, &out, &c, inc);
	assert_true(passes_in(&web, &p));
	assert_false(passes_in(&sys, &p));
	assert_false(passes_in(&db, &p)); /* a container outside Kubernetes */
	assert_false(passes_in(&host, &p));
	assert_int_equal(dropped("excluded_k8s_namespace"), 3);
	tp_pipeline_close(&p);
	tp_config_free(&c);
	setup_keys(&p, &out, &c, exc);
	assert_true(passes_in(&web, &p));
	assert_false(passes_in(&sys, &p));
	assert_true(passes_in(&db, &p));
	assert_true(passes_in(&host, &p));
	assert_int_equal(dropped("excluded_k8s_namespace"), 1);
	tp_pipeline_close(&p);
	tp_config_free(&c);
}

static void test_filters_combine_and_count_the_first_reason(void **state)
{
	const char *const kv[] = { "filter.exclude_processes", "x",	     "filter.containers",
				   "3f0a9c",		       "filter.k8s_namespaces", "shop",
				   NULL };
	struct tp_pipeline p;
	struct tp_output out;
	struct tp_config c;

	setup_keys(&p, &out, &c, kv);
	ctx = &web;
	assert_false(passes(&p, "x", NULL)); /* excluded process, in scope otherwise */
	assert_true(passes(&p, "y", NULL));
	ctx = &db;
	assert_false(passes(&p, "y", NULL));
	assert_int_equal(dropped("out_of_scope"), 1);
	assert_int_equal(dropped("excluded_container"), 1);
	assert_int_equal(p.events_in, 3);
	/* The executable enrichment knows is matched on any event. */
	tp_pipeline_close(&p);
	tp_config_free(&c);
	{
		const char *const kv2[] = { "filter.processes", "/usr/sbin/*", NULL };

		setup_keys(&p, &out, &c, kv2);
		ctx = &web;
		assert_true(passes(&p, "x", NULL));
		ctx = &db;
		assert_false(passes(&p, "x", NULL));
		tp_pipeline_close(&p);
		tp_config_free(&c);
	}
}

static void test_needs_enrichment(void **state)
{
	struct tp_stage *st;
	struct tp_config c;
	char err[256];

	tp_config_defaults(&c);
	c.enrich = false;
	assert_int_equal(tp_config_set_text(&c, tp_config_key_find("filter.exclude_k8s_namespaces"),
					    "kube-system", TP_SRC_FLAG, err, sizeof(err)),
			 0);
	assert_int_equal(tp_scope_new(&st, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "filter.exclude_k8s_namespaces needs the enrichment stage "
				 "(enrich.enabled = true)");
	c.enrich = true;
	assert_int_equal(tp_scope_check(&c, err, sizeof(err)), 0);
	/* An empty pattern would match every id: refused. */
	assert_int_equal(tp_config_set_text(&c, tp_config_key_find("filter.containers"), "abc,",
					    TP_SRC_FLAG, err, sizeof(err)),
			 -EINVAL);
	tp_config_free(&c);
}

static void test_not_wanted_by_default(void **state)
{
	struct tp_config c;

	tp_config_defaults(&c);
	assert_false(tp_scope_wanted(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_exclude_containers),
		cmocka_unit_test(test_k8s_namespaces),
		cmocka_unit_test(test_filters_combine_and_count_the_first_reason),
		cmocka_unit_test(test_needs_enrichment),
		cmocka_unit_test(test_not_wanted_by_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
