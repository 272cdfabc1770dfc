/*
 * lua/rules_watch.h - notice that rule files changed on disk, so the rules
 * reload without a signal (rules.watch; for Kubernetes ConfigMaps, whose
 * files the kubelet replaces by swapping a symlink).
 *
 * Polls: every interval, a signature of each rule path (a file, or a
 * directory and its *.lua files, symlinks followed: inode, size, mtime,
 * ctime). A change is reported once the signature has held still for one
 * more interval, so a half-written update is not loaded.
 */
#ifndef TAPIO_LUA_RULES_WATCH_H
#define TAPIO_LUA_RULES_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_rules_watch {
	const char *const *paths;
	size_t npaths;
	uint64_t interval_ns;
	uint64_t next_ns;
	uint64_t loaded;   /* signature of what was loaded */
	uint64_t pending;  /* a new signature seen once, waiting to hold */
	bool have_pending;
};

/* Start watching paths (kept by reference) from now. */
void tp_rules_watch_init(struct tp_rules_watch *w, const char *const *paths, size_t npaths,
			 uint64_t interval_ns, uint64_t now_ns);

/* True once per settled change; the caller reloads. */
bool tp_rules_watch_changed(struct tp_rules_watch *w, uint64_t now_ns);

/* The signature of paths now (0 for a set that cannot be read at all). */
uint64_t tp_rules_watch_signature(const char *const *paths, size_t npaths);

#endif
