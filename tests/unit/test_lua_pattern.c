/* Pattern matcher (lua/pattern.c, lua/strpat.c): differential against the
 * stock Lua 5.4 string library in a plain lua_State. Hand-written cases cover
 * every feature of the manual's section 6.4.1 and the functions' argument
 * handling; seeded random patterns and subjects cover the combinations.
 * Every result (values, their types, errors and messages) must be equal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua/pattern.h"
#include "lua/strpat.h"

static lua_State *L;

/*
 * compare(op, s, p, extra): runs op on both libraries and returns nil when
 * they agree, else a description. extra is Lua text for the arguments after
 * the pattern (init, plain, replacement, max), evaluated with R (replacement
 * helpers) as its environment. gmatch results are all iterations joined.
 */
static const char driver[] =
    "local ours, stock = ...\n"
    "local R = {\n"
    "  tab = { a = 'A', ab = 'AB', ['1'] = 'one', x = false, b = 7 },\n"
    "  up = function(...) return (select(1, ...)):upper() end,\n"
    "  count = function(...) return tostring(select('#', ...)) end,\n"
    "  no = function() return false end,\n"
    "  nothing = function() end,\n"
    "  bad = function() return {} end,\n"
    "  num = function(a) return 42 end,\n"
    "  joined = function(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) "
    "end return table.concat(t, '|') end,\n"
    "}\n"
    "local function show(ok, ...)\n"
    "  local t = { tostring(ok) }\n"
    "  for i = 1, select('#', ...) do local v = select(i, ...) t[#t + 1] = type(v) .. ':' .. "
    "tostring(v) end\n"
    "  return table.concat(t, ',')\n"
    "end\n"
    "local function run(lib, op, s, p, extra)\n"
    "  local args = extra and load('return ' .. extra, '=extra', 't', R) or function() end\n"
    "  if op == 'gmatch' then\n"
    "    return show(pcall(function()\n"
    "      local out, n = {}, 0\n"
    "      for a, b, c in lib.gmatch(s, p, args()) do\n"
    "        n = n + 1 out[n] = show(true, a, b, c) if n > 200 then break end\n"
    "      end\n"
    "      return table.concat(out, ';')\n"
    "    end))\n"
    "  end\n"
    "  return show(pcall(lib[op], s, p, args()))\n"
    "end\n"
    "return function(op, s, p, extra)\n"
    "  local a, b = run(ours, op, s, p, extra), run(stock, op, s, p, extra)\n"
    "  if a == b then return nil end\n"
    "  if a:find('bad argument', 1, true) and b:find('bad argument', 1, true) then return nil "
    "end\n"
    "  return 'ours:  ' .. a .. '\\nstock: ' .. b\n"
    "end\n";

static int setup(void **state)
{
	(void)state;
	L = luaL_newstate();
	luaL_openlibs(L);
	if (luaL_loadstring(L, driver) != LUA_OK)
		fail_msg("driver: %s", lua_tostring(L, -1));
	lua_newtable(L);
	tp_lua_set_pattern_functions(L, -1, NULL);
	lua_getglobal(L, "string");
	if (lua_pcall(L, 2, 1, 0) != LUA_OK)
		fail_msg("driver: %s", lua_tostring(L, -1));
	lua_setglobal(L, "compare");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lua_close(L);
	return 0;
}

static unsigned ncompared;

static void compare(const char *op, const char *s, size_t slen, const char *p, size_t plen,
		    const char *extra)
{
	lua_getglobal(L, "compare");
	lua_pushstring(L, op);
	lua_pushlstring(L, s, slen);
	lua_pushlstring(L, p, plen);
	if (extra)
		lua_pushstring(L, extra);
	else
		lua_pushnil(L);
	if (lua_pcall(L, 4, 1, 0) != LUA_OK)
		fail_msg("compare: %s", lua_tostring(L, -1));
	if (!lua_isnil(L, -1))
		fail_msg("%s(%.*s, %.*s%s%s):\n%s", op, (int)slen, s, (int)plen, p,
			 extra ? ", " : "", extra ? extra : "", lua_tostring(L, -1));
	lua_pop(L, 1);
	ncompared++;
}

static void cmp(const char *op, const char *s, const char *p, const char *extra)
{
	compare(op, s, strlen(s), p, strlen(p), extra);
}

/* Every op that takes the same arguments, on one subject and pattern. */
static void cmp_all(const char *s, const char *p)
{
	cmp("find", s, p, NULL);
	cmp("match", s, p, NULL);
	cmp("gmatch", s, p, NULL);
	cmp("gsub", s, p, "'<%0>'");
}

static void test_hand_written(void **state)
{
	static const char *const all[][2] = {
	    /* literals, '.', anchors */
	    {"hello world", "o w"},
	    {"hello", "l+"},
	    {"hello", "^h"},
	    {"hello", "^e"},
	    {"hello", "o$"},
	    {"hello", "l$"},
	    {"a$b", "a$b"},
	    {"a^b", "a^b"},
	    {"", ""},
	    {"", "^$"},
	    {"abc", ""},
	    {"abc", "^"},
	    {"abc", "$"},
	    {"abc", "..."},
	    {"ab", "..."},
	    {"x.y", "%."},
	    {"a+b", "a%+b"},
	    {"100%", "%%"},
	    /* classes and complements */
	    {"abc123 \t\n!?", "%a+"},
	    {"abc123", "%d+"},
	    {"ab\1\2c", "%c+"},
	    {"a b", "%g+"},
	    {"aBc", "%l+"},
	    {"aBC", "%u+"},
	    {"a,b.c!", "%p+"},
	    {"a \t\nb", "%s+"},
	    {"a_b1", "%w+"},
	    {"0x1fG", "%x+"},
	    {"abc123", "%A+"},
	    {"abc123", "%D+"},
	    {"a b", "%S+"},
	    {"a1!", "%W"},
	    {"aBc", "%L"},
	    {"aBc", "%U"},
	    {"ab1!", "%P+"},
	    {"a b", "%G"},
	    {"ab\1", "%C+"},
	    {"fg", "%X"},
	    {"azq", "%z"},
	    {"q", "%q"},
	    /* sets */
	    {"hello", "[aeiou]+"},
	    {"hello", "[^aeiou]+"},
	    {"a-b", "[a-]"},
	    {"a-b", "[-a]+"},
	    {"x]y", "[]]"},
	    {"x]y", "[^]]+"},
	    {"a1_b", "[%w_]+"},
	    {"a1_b", "[^%d]+"},
	    {"m", "[a-z]"},
	    {"M", "[a-z]"},
	    {"5", "[0-46-9]"},
	    {"5", "[0-9]"},
	    {"a%b", "[%%]"},
	    {"a]b", "[%]]"},
	    {"z", "[z-a]"},
	    {"-", "[a-]"},
	    {"^x", "[%^]"},
	    {"^x", "[x^]+"},
	    {"\xff\x80", "[\x80-\xff]+"},
	    {"ab", "[a"},
	    {"ab", "[a%"},
	    {"ab", "[^"},
	    {"ab", "[]"},
	    {"ab", "[^]"},
	    {"ab", "x["},
	    /* repetitions */
	    {"aaab", "a*"},
	    {"aaab", "a*b"},
	    {"b", "a*b"},
	    {"aaab", "a+"},
	    {"b", "a+"},
	    {"aaab", "a-b"},
	    {"aaab", "a-"},
	    {"aaab", "^a-$"},
	    {"ab", "a?b"},
	    {"b", "a?b"},
	    {"aab", "a?ab"},
	    {"<a><b>", "<.->"},
	    {"<a><b>", "<.*>"},
	    {"abc", ".-"},
	    {"abc", ".-$"},
	    {"aaa", "a-a"},
	    {"a", "a**"},
	    {"a", "a*+"},
	    {"a-", "a-%-"},
	    {"key = value", "(%w+)%s*=%s*(%w+)"},
	    {"  trim  ", "^%s*(.-)%s*$"},
	    /* captures */
	    {"hello world", "(o)(.)"},
	    {"hello", "()ll()"},
	    {"hello", "(h)(e)(l)(l)(o)"},
	    {"hello", "((l)(l))"},
	    {"abc", "()"},
	    {"abc", "(a)()"},
	    {"hello", "(l*)"},
	    {"hello", "(x?)"},
	    {"abc", "(a"},
	    {"abc", "a)"},
	    {"abc", "(a))"},
	    {"abc", "((a)"},
	    {"abc", "%)"},
	    {"abc", "(()"},
	    {"abc", "a()b()c()"},
	    /* back-references */
	    {"abcabc", "(abc)%1"},
	    {"aa bb cd", "(%a)%1"},
	    {"\"hi\" 'x'", "([\"'])(.-)%1"},
	    {"abab", "(a)(b)%1%2"},
	    {"aa", "%1"},
	    {"aa", "(a)%2"},
	    {"aa", "(a%1)"},
	    {"aa", "%0"},
	    {"aa", "()%1"},
	    {"aa", "(a)%9"},
	    /* %b and %f */
	    {"f(a(b)c) d", "%b()"},
	    {"((x)", "%b()"},
	    {"[[x]]", "%b[]"},
	    {"xx", "%bx"},
	    {"xx", "%b"},
	    {"aXbYc", "%bXY"},
	    {"THE (quick) fox", "%f[%a]%a+"},
	    {"THE (quick) fox", "%f[%A]"},
	    {"hello", "%f[%l]"},
	    {"hello", "%f[%z]"},
	    {"ab", "%f"},
	    {"ab", "%fa"},
	    {"ab", "%f[a"},
	    {"a.b", "%f[%w]%w+$"},
	    /* escapes at the end, errors reached late or never */
	    {"abc", "%"},
	    {"abc", "a%"},
	    {"abc", "x%"},
	    {"abc", "(a)(b)(c)%4"},
	    {"a\0b", "%z"},
	    {"a$", "$$"},
	    {"$", "^$$"},
	    /* nesting */
	    {"aaaaaaaaaaaaaaaa", "a?a?a?a?a?a?a?a?aaaaaaaa"},
	};
	/* find's init and plain, match's init, gmatch's init, gsub's repl and max */
	static const char *const extra[][4] = {
	    {"find", "hello", "l", "-2"},
	    {"find", "hello", "l", "10"},
	    {"find", "hello", "l", "-10"},
	    {"find", "hello", "", "6"},
	    {"find", "hello", "", "7"},
	    {"find", "hello", "", "0"},
	    {"find", "a.b", ".", "1, true"},
	    {"find", "a.b", "%.", "1, true"},
	    {"find", "a.b", ".", "2, false"},
	    {"find", "hello", "^l", "3"},
	    {"find", "hello", "l+", "-3"},
	    {"find", "abc", "", "100"},
	    {"find", "a(b", "(", "1, 1"},
	    {"find", "a\0b", "\0", NULL},
	    {"match", "hello", "l+", "4"},
	    {"match", "hello", "()", "6"},
	    {"match", "hello", "()", "7"},
	    {"match", "hello", ".", "-1"},
	    {"gmatch", "hello world", "%a+", "3"},
	    {"gmatch", "abc", "", "2"},
	    {"gmatch", "abc", ".", "-1"},
	    {"gmatch", "abc", "", "10"},
	    {"gmatch", "abc", "^a", NULL},
	    {"gmatch", "a=1, b=2", "(%w+)=(%w+)", NULL},
	    {"gmatch", "abc", "()", NULL},
	    {"gmatch", "aaa", "a-", NULL},
	    {"gsub", "hello world", "o", "'0'"},
	    {"gsub", "hello world", "o", "'0', 1"},
	    {"gsub", "hello world", "o", "'0', 0"},
	    {"gsub", "hello world", "o", "'0', -1"},
	    {"gsub", "hello", "", "'-'"},
	    {"gsub", "hello", "x*", "'-'"},
	    {"gsub", "abc", "^", "'>'"},
	    {"gsub", "abc", "$", "'<'"},
	    {"gsub", "abc", "^a", "'A'"},
	    {"gsub", "abc", "^b", "'B'"},
	    {"gsub", "hello world", "(o)", "'[%1]'"},
	    {"gsub", "hello", "l", "'%%'"},
	    {"gsub", "hello", "l", "'%'"},
	    {"gsub", "hello", "l", "'%x'"},
	    {"gsub", "hello", "l", "'%1'"},
	    {"gsub", "hello", "l", "'%2'"},
	    {"gsub", "hello", "(l)", "'%2'"},
	    {"gsub", "hello", "()l", "'%1'"},
	    {"gsub", "hello", "(l)(l)", "'%2%1%0'"},
	    {"gsub", "hello", "l", "5"},
	    {"gsub", "hello", "l", "5.5"},
	    {"gsub", "a b ab x", "%w+", "tab"},
	    {"gsub", "a b", "(%w)", "tab"},
	    {"gsub", "1 2", "%d", "tab"},
	    {"gsub", "hello world", "%w+", "up"},
	    {"gsub", "hello", "(h)(e)", "count"},
	    {"gsub", "hello", "()e()", "joined"},
	    {"gsub", "hello", "l", "no"},
	    {"gsub", "hello", "l", "nothing"},
	    {"gsub", "hello", "l", "bad"},
	    {"gsub", "hello", "l", "num"},
	    {"gsub", "hello", "l", "true"},
	    {"gsub", "hello", "l", NULL},
	    {"gsub", "hello", "(l", "'x'"},
	    {"gsub", "hello", "[", "'x'"},
	    {"gsub", "abc", "%w", "'%0%0'"},
	    {"gsub", "abc", "", "'%0'"},
	    {"gsub", "a.b", "%.", "'%%.'"},
	    {"find", "hello", "l", "'x'"},
	    {"find", "hello", "l", "1.5"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cmp_all(all[i][0], all[i][1]);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		cmp(extra[i][0], extra[i][1], extra[i][2], extra[i][3]);
	/* Embedded NULs in subjects and patterns. */
	compare("find", "a\0b\0c", 5, "\0b", 2, NULL);
	compare("find", "a\0b\0c", 5, "%z", 2, NULL);
	compare("match", "a\0b\0c", 5, "[\0-a]+", 6, NULL);
	compare("match", "a\0b\0c", 5, "(.)%z", 5, NULL);
	compare("gsub", "a\0b\0c", 5, "\0", 1, "'-'");
	compare("match", "a\0b", 3, "%b\0b", 4, NULL);
	compare("match", "x", 1, "%b\0", 3, NULL);
	compare("match", "", 0, "%f[\0]", 5, NULL);
}

static void test_limits_as_lua(void **state)
{
	char pat[1024];
	size_t n = 0;

	(void)state;
	/* 32 captures are fine, 33 are too many. */
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(pat + n, sizeof(pat) - n, "(a)");
	compare("find", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 36, pat, 32 * 3, NULL);
	compare("find", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 36, pat, 33 * 3, NULL);
	/* Nesting: each capture and each matched optional item is a level. */
	for (int depth = 190; depth < 210; depth++) {
		char subj[256];

		memset(subj, 'a', sizeof(subj));
		n = 0;
		for (int i = 0; i < depth; i++)
			n += (size_t)snprintf(pat + n, sizeof(pat) - n, "a?");
		compare("find", subj, sizeof(subj), pat, n, NULL);
		n = 0;
		for (int i = 0; i < depth / 7; i++)
			n += (size_t)snprintf(pat + n, sizeof(pat) - n, "(");
		for (int i = 0; i < depth / 7; i++)
			n += (size_t)snprintf(pat + n, sizeof(pat) - n, "a)");
		compare("match", subj, sizeof(subj), pat, n, NULL);
	}
}

/* xorshift64*: the same cases on every run and machine. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static const char *pick(const char *const *list, size_t n)
{
	return list[rnd((uint32_t)n)];
}
#define PICK(list) pick(list, sizeof(list) / sizeof(list[0]))

static size_t random_pattern(char *out, size_t cap)
{
	static const char *const single[] = {
	    "a",    "b",     "c",     " ",   ".",     "%a",	"%d",  "%s", "%w",
	    "%p",   "%A",    "%S",    "%x",  "%l",    "%u",	"%.",  "%%", "[abc]",
	    "[^a]", "[a-c]", "[%d_]", "[]]", "[^%s]", "[%a%d]", "\\0", "x",
	};
	static const char *const quant[] = {"", "", "", "*", "+", "-", "?"};
	static const char *const other[] = {
	    "(", ")", "()", "%1", "%2", "%bab", "%b()", "%f[%w]", "%f[%W]", "%f[a]",
	    "$", "^", "%",  "[",  "[a", "%b",	"%f",	"%0",	  "]",
	};
	size_t n = 0;
	unsigned items = rnd(7);

	if (rnd(4) == 0)
		out[n++] = '^';
	for (unsigned i = 0; i < items && n + 16 < cap; i++) {
		const char *t = rnd(4) == 0 ? PICK(other) : PICK(single);
		size_t len = strlen(t);

		if (strcmp(t, "\\0") == 0) {
			out[n++] = '\0';
		} else {
			memcpy(out + n, t, len);
			n += len;
		}
		if (t[0] != '(' && t[0] != ')' && t[0] != '^' && t[0] != '$') {
			const char *q = PICK(quant);

			memcpy(out + n, q, strlen(q));
			n += strlen(q);
		}
	}
	if (rnd(5) == 0)
		out[n++] = '$';
	return n;
}

static void test_random(void **state)
{
	static const char alphabet[] = "aabbc  1_()[]%.-x\0";
	static const char *const repl[] = {"'<%0>'", "'%1'",   "'%2%1'", "up",
					   "tab",    "joined", "'x', 2", "no"};
	char pat[256], subj[32], extra[64];
	unsigned cases = 0;

	(void)state;
	for (; cases < 20000; cases++) {
		size_t plen = random_pattern(pat, sizeof(pat));
		size_t slen = rnd(14);

		for (size_t i = 0; i < slen; i++)
			subj[i] = alphabet[rnd(sizeof(alphabet) - 1)];
		switch (rnd(4)) {
		case 0:
			snprintf(extra, sizeof(extra), "%d%s", (int)rnd(20) - 6,
				 rnd(6) == 0 ? ", true" : "");
			compare("find", subj, slen, pat, plen, rnd(2) ? extra : NULL);
			break;
		case 1:
			snprintf(extra, sizeof(extra), "%d", (int)rnd(20) - 6);
			compare("match", subj, slen, pat, plen, rnd(2) ? extra : NULL);
			break;
		case 2:
			snprintf(extra, sizeof(extra), "%d", (int)rnd(20) - 6);
			compare("gmatch", subj, slen, pat, plen, rnd(2) ? extra : NULL);
			break;
		default:
			compare("gsub", subj, slen, pat, plen, PICK(repl));
			break;
		}
	}
	print_message("%u random cases, %u comparisons in all\n", cases, ncompared);
}

/* The C interface: steps are counted and the allowance is a hard stop. */
static void test_step_allowance(void **state)
{
	static char subj[20000];
	const char *pat = ".-.-.-.-b";
	struct tp_pat m;
	const char *e;

	(void)state;
	memset(subj, 'a', sizeof(subj));
	tp_pat_init(&m, subj, sizeof(subj), pat, strlen(pat), 100000);
	e = tp_pat_match(&m, subj, pat);
	assert_null(e);
	assert_int_equal(m.err, TP_PAT_E_BUDGET);
	assert_int_equal(m.steps_left, 0);
	/* A pattern that finishes reports what it used. */
	tp_pat_init(&m, "/etc/passwd", 11, "/etc/", 5, 1000);
	e = tp_pat_match(&m, "/etc/passwd", "/etc/");
	assert_non_null(e);
	assert_int_equal(m.err, TP_PAT_OK);
	assert_true(m.steps_left < 1000 && m.steps_left > 980);
	/* The back-reference pays for the bytes it compares. */
	tp_pat_init(&m, subj, 2000, "(.*)%1", 6, 50000);
	assert_null(tp_pat_match(&m, subj, "(.*)%1"));
	assert_int_equal(m.err, TP_PAT_E_BUDGET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hand_written),
	    cmocka_unit_test(test_limits_as_lua),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_step_allowance),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
