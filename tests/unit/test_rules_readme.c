/* rules/README.md's event field reference lists every field of every event
 * type the program decodes (and its "<field>_str" where the field has
 * symbolic names), and nothing else: a field added to a type without its
 * line in the reference fails here. With TAPIO_PRINT_FIELDS=1 in the
 * environment it prints the skeleton of the reference instead. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/event.h"

#ifndef TP_SOURCE_DIR
#error "TP_SOURCE_DIR: the source tree (set by tests/CMakeLists.txt)"
#endif

#define BEGIN "<!-- event-fields:begin -->"
#define END "<!-- event-fields:end -->"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The documented names of one type: "|`name`|" cells that start a row
 * between "### `type`" and the next heading. */
struct doc_type {
	char type[64];
	char names[64][48];
	size_t n;
};

static size_t parse(char *text, struct doc_type *out, size_t max)
{
	size_t nt = 0;
	bool in_type = false;
	char *line = text;

	while (line && *line) {
		char *next = strchr(line, '\n');
		char name[64];

		if (next)
			*next++ = '\0';
		if (sscanf(line, "### `%63[^`]`", name) == 1 && strchr(name, '.')) {
			if (nt == max)
				fail_msg("more than %zu types in the reference", max);
			memset(&out[nt], 0, sizeof(out[nt]));
			strcpy(out[nt].type, name);
			nt++;
			in_type = true;
		} else if (line[0] == '#') {
			in_type = false; /* another heading: its rows are no type's */
		} else if (in_type && sscanf(line, "| `%47[^`]`", name) == 1) {
			struct doc_type *d = &out[nt - 1];

			if (d->n == sizeof(d->names) / sizeof(d->names[0]))
				fail_msg("%s: too many fields", d->type);
			strcpy(d->names[d->n++], name);
		}
		line = next;
	}
	return nt;
}

static bool documented(const struct doc_type *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->names[i], name))
			return true;
	return false;
}

static bool in_program(const struct tp_event_type *t, const char *name)
{
	size_t n = strlen(name);

	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];

		if (!strcmp(f->name, name))
			return true;
		if (f->syms && n > 4 && !strcmp(name + n - 4, "_str") &&
		    strlen(f->name) == n - 4 && !strncmp(f->name, name, n - 4))
			return true;
	}
	return false;
}

static void print_skeleton(FILE *out)
{
	const struct tp_event_type *t;

	for (size_t k = 0; (t = tp_event_type_at(k)); k++) {
		fprintf(out, "### `%s`\n\n| field | meaning |\n|---|---|\n", t->name);
		for (uint32_t i = 0; i < t->nfields; i++) {
			fprintf(out, "| `%s` | |\n", t->fields[i].name);
			if (t->fields[i].syms)
				fprintf(out, "| `%s_str` | |\n", t->fields[i].name);
		}
		fprintf(out, "\n");
	}
}

static void test_reference_matches_the_program(void **state)
{
	static struct doc_type docs[128];
	const struct tp_event_type *t;
	char *text = read_all(TP_SOURCE_DIR "/rules/README.md");
	char *a, *b;
	size_t nt, problems = 0;

	(void)state;
	if (getenv("TAPIO_PRINT_FIELDS")) {
		print_skeleton(stdout);
		free(text);
		return;
	}
	assert_non_null(text);
	a = strstr(text, BEGIN);
	b = a ? strstr(a, END) : NULL;
	if (!a || !b)
		fail_msg("rules/README.md: no %s ... %s section", BEGIN, END);
	*b = '\0';
	nt = parse(a, docs, sizeof(docs) / sizeof(docs[0]));

	for (size_t k = 0; (t = tp_event_type_at(k)); k++) {
		const struct doc_type *d = NULL;

		for (size_t i = 0; i < nt; i++)
			if (!strcmp(docs[i].type, t->name))
				d = &docs[i];
		if (!d) {
			print_message("rules/README.md: no section \"### `%s`\"\n", t->name);
			problems++;
			continue;
		}
		for (uint32_t i = 0; i < t->nfields; i++) {
			char s[80];

			if (!documented(d, t->fields[i].name)) {
				print_message("rules/README.md: %s: field `%s` is not listed\n", t->name,
					      t->fields[i].name);
				problems++;
			}
			snprintf(s, sizeof(s), "%s_str", t->fields[i].name);
			if (t->fields[i].syms && !documented(d, s)) {
				print_message("rules/README.md: %s: field `%s` is not listed\n", t->name,
					      s);
				problems++;
			}
		}
		for (size_t i = 0; i < d->n; i++) {
			if (!in_program(t, d->names[i])) {
				print_message("rules/README.md: %s: `%s` is not a field of it\n",
					      t->name, d->names[i]);
				problems++;
			}
		}
	}
	for (size_t i = 0; i < nt; i++) {
		if (!tp_event_type_by_name(docs[i].type)) {
			print_message("rules/README.md: `%s` is not an event type\n", docs[i].type);
			problems++;
		}
	}
	free(text);
	if (problems) {
		print_message("(TAPIO_PRINT_FIELDS=1 %s prints every type's fields)\n", "this test");
		fail_msg("%zu problems in rules/README.md's event field reference", problems);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_matches_the_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
