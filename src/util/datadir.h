/*
 * datadir.h - where the shipped files (rule sets, the Lua library) are,
 * found from the binary's own location, so no path of the build is compiled
 * in and an installed tree can be moved (DESTDIR, a container image):
 *
 *   <bindir>/../share/tapio     an install (/usr/bin -> /usr/share/tapio)
 *   <bindir>/share/tapio        the build tree (CMake links its rules there)
 */
#ifndef TAPIO_UTIL_DATADIR_H
#define TAPIO_UTIL_DATADIR_H

/* The shipped rule sets directory (<datadir>/rules). Found once; when
 * neither place has one, the installed default /usr/share/tapio/rules, so an
 * error names the usual place. The string lives as long as the process. */
const char *tp_shipped_rules_dir(void);

/* The first of the candidate places for exe (a path of the binary) holding
 * a directory sub ("rules"), written to out. Returns 0, -ENOENT if none has
 * it, -ENAMETOOLONG. For tests; tp_shipped_rules_dir() uses /proc/self/exe. */
int tp_datadir_find(const char *exe, const char *sub, char *out, unsigned long len);

#endif
