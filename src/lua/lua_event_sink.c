/*
 * Where e:set and e:tag land for one event (struct tp_lua_sink): the kv and
 * tags of earlier stages, then the ones Lua adds, copied into an arena.
 */
#include "lua/lua_event.h"

#include <string.h>

const char *tp_lua_sink_copy(struct tp_lua_sink *s, const char *p, size_t n)
{
	char *d;

	if (n + 1 > sizeof(s->arena) - s->used)
		return NULL;
	d = s->arena + s->used;
	memcpy(d, p, n);
	d[n] = '\0';
	s->used += n + 1;
	return d;
}

bool tp_lua_sink_begin(struct tp_lua_sink *s, const struct tp_event_meta *meta)
{
	s->nkv = s->ntags = s->used = 0;
	if (!meta)
		return true;
	if (meta->nkv > TP_LUA_KV_MAX || meta->ntags > TP_LUA_TAGS_MAX)
		return false;
	/* Borrowed from earlier stages: valid for the whole event. */
	if (meta->nkv)
		memcpy(s->kv, meta->kv, meta->nkv * sizeof(s->kv[0]));
	s->nkv = meta->nkv;
	if (meta->ntags)
		memcpy(s->tags, meta->tags, meta->ntags * sizeof(s->tags[0]));
	s->ntags = meta->ntags;
	return true;
}

void tp_lua_sink_end(struct tp_lua_sink *s, struct tp_event_meta *meta)
{
	meta->kv = s->nkv ? s->kv : NULL;
	meta->nkv = s->nkv;
	meta->tags = s->ntags ? s->tags : NULL;
	meta->ntags = s->ntags;
}
