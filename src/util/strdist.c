#include "util/strdist.h"

#include <string.h>

size_t tp_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t prev[TP_EDIT_DISTANCE_MAX_LEN + 1], cur[TP_EDIT_DISTANCE_MAX_LEN + 1];

	if (la > TP_EDIT_DISTANCE_MAX_LEN || lb > TP_EDIT_DISTANCE_MAX_LEN)
		return TP_EDIT_DISTANCE_FAR;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(cur[0]));
	}
	return prev[lb];
}
