//go:build lua54 || luajit

/* The data of the lasgi.groups extension (spec/groups.md) in C: send()
 * encodes the data table of lasgi.group.send straight from the Lua stack
 * into vm->gbuf, in the encoding of reference/server/groups/data.go, and
 * build() turns the bytes of a lasgi.group.message back into tables of the
 * member's own. In C because walking a table through nodes that Go reads
 * would cost a node per value and a second pass; the rules stay Go's: C
 * reports what it stopped at, Go makes the violation (values.go). */

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <lua.h>
#include <lauxlib.h>
#include "lasgi.h"

static void wr32(char *p, uint32_t v) {
	for (int k = 0; k < 4; k++)
		p[k] = (char)(v >> (8 * k));
}

static void wr64(char *p, uint64_t v) {
	for (int k = 0; k < 8; k++)
		p[k] = (char)(v >> (8 * k));
}

static uint64_t rd64(const unsigned char *p) {
	uint64_t v = 0;
	for (int k = 7; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

static uint32_t rd32le(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* --- encoding --- */

typedef struct {
	lua_State *L;
	char *buf;
	size_t len;
	int code; /* GE_* */
	/* What a GE_KEY or GE_VALUE stopped at, for Go to describe. */
	int kind, b;
	double num;
	const char *tname;
} genc;

static int fail(genc *e, int code) {
	e->code = code;
	return -1;
}

/* room says whether n more bytes fit the bound; the size rule is checked
 * before anything is written, as groups.Encoder does, so a huge string is
 * refused without being copied. */
static int room(genc *e, size_t n) {
	if (n > LASGI_GROUP_MAX - e->len)
		return fail(e, GE_SIZE);
	return 0;
}

/* found keeps what the value at idx is, for the message. */
static int found(genc *e, int idx, int code) {
	lua_State *L = e->L;
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
		e->kind = LK_NUMBER;
		e->num = lua_tonumber(L, idx);
		break;
	case LUA_TBOOLEAN:
		e->kind = LK_BOOL;
		e->b = lua_toboolean(L, idx);
		break;
	case LUA_TTABLE:
		e->kind = LK_TABLE;
		break;
	default:
		e->kind = LK_OTHER;
		e->tname = luaL_typename(L, idx);
	}
	return fail(e, code);
}

static int put_string(genc *e, int idx) {
	size_t n;
	const char *s = lua_tolstring(e->L, idx, &n); /* a string: no conversion, which would upset lua_next */
	if (n > UINT32_MAX || room(e, 5 + n) < 0)
		return fail(e, GE_SIZE);
	e->buf[e->len] = 'S';
	wr32(e->buf + e->len + 1, (uint32_t)n);
	memcpy(e->buf + e->len + 5, s, n);
	e->len += 5 + n;
	return 0;
}

static int put_number(genc *e, int tag, uint64_t bits) {
	if (room(e, 9) < 0)
		return -1;
	e->buf[e->len] = (char)tag;
	wr64(e->buf + e->len + 1, bits);
	e->len += 9;
	return 0;
}

/* put_num writes the number at idx: an integer as 'I' on 5.4; on LuaJIT,
 * whose numbers are all floats, an integral one that fits an int64 as 'I'
 * (groups.Encoder.Number), so a 5.4 member gets the integer meant. */
static int put_num(genc *e, int idx) {
	lua_State *L = e->L;
#if LUA_VERSION_NUM >= 504
	if (lua_isinteger(L, idx))
		return put_number(e, 'I', (uint64_t)(int64_t)lua_tointeger(L, idx));
	double f = lua_tonumber(L, idx);
#else
	double f = lua_tonumber(L, idx);
	if (f == floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0)
		return put_number(e, 'I', (uint64_t)(int64_t)f);
#endif
	uint64_t bits;
	memcpy(&bits, &f, 8);
	return put_number(e, 'F', bits);
}

static int put_table(genc *e, int idx, int depth);

static int put_key(genc *e, int idx) {
	lua_State *L = e->L;
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		return put_string(e, idx);
	case LUA_TNUMBER:
		if (isnan(lua_tonumber(L, idx)))
			return found(e, idx, GE_KEY);
		return put_num(e, idx);
	default:
		return found(e, idx, GE_KEY);
	}
}

static int put_value(genc *e, int idx, int depth) {
	lua_State *L = e->L;
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		return put_string(e, idx);
	case LUA_TNUMBER:
		return put_num(e, idx);
	case LUA_TBOOLEAN:
		if (room(e, 1) < 0)
			return -1;
		e->buf[e->len++] = lua_toboolean(L, idx) ? 't' : 'f';
		return 0;
	case LUA_TTABLE:
		return put_table(e, idx, depth);
	default:
		return found(e, idx, GE_VALUE);
	}
}

/* put_table writes the table at idx (absolute), depth tables being open
 * around it: the pair count is patched in once lua_next has gone through
 * them. The depth bound comes first, then the size, as in groups.Encoder;
 * a table that holds itself stops at the depth bound. */
static int put_table(genc *e, int idx, int depth) {
	lua_State *L = e->L;
	if (depth >= LASGI_GROUP_DEPTH)
		return fail(e, GE_DEPTH);
	if (room(e, 5) < 0)
		return -1;
	if (!lua_checkstack(L, 3))
		return fail(e, GE_STACK);
	size_t mark = e->len;
	e->buf[mark] = 'T';
	e->len += 5;
	uint32_t pairs = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int top = lua_gettop(L);
		if (put_key(e, top - 1) < 0 || put_value(e, top, depth + 1) < 0)
			return -1; /* the caller resets the stack */
		lua_pop(L, 1);
		pairs++;
	}
	wr32(e->buf + mark + 1, pairs);
	return 0;
}

/* lasgi_group_data encodes the table at idx (absolute) into vm->gbuf and
 * fills node i as values.go's GroupData reads it. The stack is left as it
 * was. -1: out of memory (the buffer, the node, or Lua's stack). */
int lasgi_group_data(lasgi_vm *vm, lua_State *L, int idx, int i) {
	if (vm->gbuf == NULL && (vm->gbuf = malloc(LASGI_GROUP_MAX)) == NULL)
		return -1;
	genc e = {.L = L, .buf = vm->gbuf};
	int top = lua_gettop(L);
	put_table(&e, idx, 0);
	lua_settop(L, top);
	if (e.code == GE_STACK)
		return -1;
	int bad = -1;
	if (e.code == GE_KEY || e.code == GE_VALUE) {
		bad = lasgi_new_nodes(vm, 1);
		if (bad < 0)
			return -1;
		lasgi_node *f = &vm->nodes[bad];
		memset(f, 0, sizeof *f);
		f->kind = e.kind;
		f->n = e.b;
		f->num = e.num;
		f->bad = f->first = -1;
		if (e.kind == LK_OTHER) {
			f->s = e.tname;
			f->len = strlen(e.tname);
		}
	}
	lasgi_node *nd = &vm->nodes[i]; /* after lasgi_new_nodes, which may move them */
	memset(nd, 0, sizeof *nd);
	nd->kind = LK_TABLE;
	nd->first = -1;
	nd->n = e.code;
	nd->bad = bad;
	nd->s = vm->gbuf;
	nd->len = e.len;
	return 0;
}

/* --- decoding --- */

typedef struct {
	lua_State *L;
	const unsigned char *start, *p, *end;
} gdec;

static void corrupt(gdec *d) { luaL_error(d->L, "lasgi: internal error: corrupt group data at byte %d", (int)(d->p - d->start)); }

static void need(gdec *d, size_t n) {
	if ((size_t)(d->end - d->p) < n)
		corrupt(d);
}

/* push_value pushes the value the bytes at d->p encode, depth tables
 * being open around it. The bytes come from Go's encoder; they are checked
 * all the same, so that a bug there is an error, not a read out of
 * bounds. */
static void push_value(gdec *d, int depth) {
	lua_State *L = d->L;
	need(d, 1);
	int tag = *d->p++;
	switch (tag) {
	case 'T': {
		need(d, 4);
		uint32_t n = rd32le(d->p);
		d->p += 4;
		/* Each pair takes two bytes at least: a count past what is left
		 * is refused before it sizes a table. */
		if (depth >= LASGI_GROUP_DEPTH || n > (size_t)(d->end - d->p) / 2)
			corrupt(d);
		luaL_checkstack(L, 3, "group data");
		/* A table whose first key is 1 is most likely a list. */
		int list = n > 0 && d->end - d->p >= 9 && d->p[0] == 'I' && rd64(d->p + 1) == 1;
		lua_createtable(L, list ? (int)n : 0, list ? 0 : (int)n);
		for (uint32_t k = 0; k < n; k++) {
			push_value(d, depth + 1);
			push_value(d, depth + 1);
			lua_rawset(L, -3);
		}
		return;
	}
	case 'S': {
		need(d, 4);
		uint32_t n = rd32le(d->p);
		d->p += 4;
		need(d, n);
		lua_pushlstring(L, (const char *)d->p, n);
		d->p += n;
		return;
	}
	case 'I': {
		need(d, 8);
		int64_t v = (int64_t)rd64(d->p);
		d->p += 8;
#if LUA_VERSION_NUM >= 504
		lua_pushinteger(L, (lua_Integer)v);
#else
		lua_pushnumber(L, (lua_Number)v);
#endif
		return;
	}
	case 'F': {
		need(d, 8);
		uint64_t bits = rd64(d->p);
		double f;
		memcpy(&f, &bits, 8);
		d->p += 8;
		lua_pushnumber(L, f);
		return;
	}
	case 't':
	case 'f':
		lua_pushboolean(L, tag == 't');
		return;
	default:
		d->p--;
		corrupt(d);
	}
}

/* lasgi_group_push pushes the table the n bytes at p encode, new tables
 * every time; it raises on bytes that are not data (never across Go
 * frames: build runs under a protected call or in receive's closure). */
void lasgi_group_push(lua_State *L, const char *p, size_t n) {
	const unsigned char *u = (const unsigned char *)p;
	gdec d = {L, u, u, u + n};
	if (n == 0 || *d.p != 'T')
		corrupt(&d);
	push_value(&d, 0);
	if (d.p != d.end)
		corrupt(&d);
}
