#include "util/peertext.h"

#include <stdbool.h>

static bool plain(unsigned char ch)
{
	return ch >= 0x20 && ch <= 0x7e && ch != '\\';
}

size_t tp_peer_text(char *dst, size_t dstlen, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, need = 0, room;

	if (!dstlen)
		return 0;
	for (size_t i = 0; i < len; i++)
		need += plain((unsigned char)src[i]) ? 1 : 4;
	/* All of it, or as much as leaves room for "..." (whole escapes only). */
	room = need < dstlen ? need : dstlen > 4 ? dstlen - 4 : 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (o + (plain(ch) ? 1 : 4) > room)
			break;
		if (plain(ch)) {
			dst[o++] = (char)ch;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[ch >> 4];
		dst[o++] = hex[ch & 15];
	}
	if (need >= dstlen)
		for (int k = 0; k < 3 && o + 1 < dstlen; k++)
			dst[o++] = '.';
	dst[o] = '\0';
	return o;
}
