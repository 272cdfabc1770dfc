/* Scope stage: include and exclude globs on the process name or executable
 * path; what is out of scope is dropped and counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_keys.h"
#include "decode.h"
#include "metrics.h"
#include "pipeline.h"
#include "scope.h"

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

static void setup_pipeline(struct tp_pipeline *p, struct tp_output *out, struct tp_config *c,
			   const char *include, const char *exclude)
{
	char err[256];

	tp_config_defaults(c);
	if (include)
		assert_int_equal(tp_config_set_text(c, tp_config_key_find("filter.processes"),
						    include, TP_SRC_FLAG, err, sizeof(err)),
				 0);
	if (exclude)
		assert_int_equal(tp_config_set_text(c, tp_config_key_find("filter.exclude_processes"),
						    exclude, TP_SRC_FLAG, err, sizeof(err)),
				 0);
	tp_pipeline_init(p);
	assert_true(tp_scope_wanted(c));
	assert_int_equal(tp_pipeline_add_stage(p, tp_scope_new(c)), 0);
	out->ops = &count_ops;
	assert_int_equal(tp_pipeline_add_output(p, out), 0);
}

static uint64_t out_of_scope(void)
{
	return tp_metric_get(tp_metric_find("tapio_events_dropped_total", "reason=\"out_of_scope\""));
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
	assert_int_equal(out_of_scope(), 5);
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
	assert_int_equal(out_of_scope(), 3);
	tp_pipeline_close(&p);
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
		cmocka_unit_test(test_not_wanted_by_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
