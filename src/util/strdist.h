/*
 * strdist.h - how far apart two short names are, for "did you mean".
 */
#ifndef TAPIO_UTIL_STRDIST_H
#define TAPIO_UTIL_STRDIST_H

#include <stddef.h>

#define TP_EDIT_DISTANCE_MAX_LEN 79

/* Levenshtein distance of a and b; TP_EDIT_DISTANCE_FAR when either is
 * longer than TP_EDIT_DISTANCE_MAX_LEN (such names get no suggestion). */
size_t tp_edit_distance(const char *a, const char *b);

#define TP_EDIT_DISTANCE_FAR ((size_t)99)

#endif
