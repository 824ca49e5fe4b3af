//go:build lua54 || luajit

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "lasgi.h"
#include "_cgo_export.h"

/* Lua 5.4 and LuaJIT (the 5.1 API) differ in a few calls. */
#if LUA_VERSION_NUM >= 504
#define RESUME(co, from, n, nres) lua_resume(co, from, n, nres)
#define RAWLEN(L, i) ((int)lua_rawlen(L, i))
#else
static int resume51(lua_State *co, int n, int *nres) {
	int st = lua_resume(co, n);
	*nres = lua_gettop(co);
	return st;
}
#define RESUME(co, from, n, nres) resume51(co, n, nres)
#define RAWLEN(L, i) ((int)lua_objlen(L, i))
#define lua_absindex(L, i) ((i) > 0 || (i) <= LUA_REGISTRYINDEX ? (i) : lua_gettop(L) + (i) + 1)
#endif

/* field_of is the place of the string key at idx among the fields of an
 * event, or -1. The fields are the first of the common strings, kept since
 * the load; short strings are interned (all of LuaJIT's, and 5.4's of up to
 * 40 bytes), so a key is one of them when it is at the same address. */
static int field_of(lasgi_vm *vm, lua_State *L, int idx) {
	const char *k = lua_tostring(L, idx);
	for (int f = 0; f < LASGI_NFIELDS; f++)
		if (vm->fields[f] == k)
			return f;
	return -1;
}

/* maxList bounds the entries of a list the server reads from an event. */
#define MAX_LIST 100000

/* The allocator: each state's own, counting its bytes against vm->limit.
 * Blocks of up to SLAB_MAX bytes (most of what Lua allocates: strings,
 * tables, closures) come from per-size free lists carved out of 64 KiB
 * chunks: glibc's malloc and free were a large part of a request's time.
 * The chunks go back when the state closes. */
static void *slab_get(lasgi_vm *vm, size_t n) {
	int c = SLAB_CLASS(n);
	void *p = vm->freelist[c];
	if (p != NULL) {
		vm->freelist[c] = *(void **)p;
		return p;
	}
	size_t size = SLAB_SIZE(c);
	if (vm->slab_left < size) {
		char *chunk = malloc(SLAB_CHUNK);
		if (chunk == NULL)
			return NULL;
		*(void **)chunk = vm->chunks;
		vm->chunks = chunk;
		vm->slab_cur = chunk + 16; /* the link, keeping 16-byte alignment */
		vm->slab_left = SLAB_CHUNK - 16;
	}
	p = vm->slab_cur;
	vm->slab_cur += size;
	vm->slab_left -= size;
	return p;
}

static void slab_put(lasgi_vm *vm, void *p, size_t n) {
	int c = SLAB_CLASS(n);
	*(void **)p = vm->freelist[c];
	vm->freelist[c] = p;
}

/* A large block's size is its request rounded up to BIG_STEP; one kept
 * may be up to a step larger than asked for. */
static int is_big(size_t n) { return n >= BIG_MIN && n <= BIG_MAX; }
static size_t big_cap(size_t n) { return (n + BIG_STEP - 1) / BIG_STEP * BIG_STEP; }

static void *big_get(lasgi_vm *vm, size_t n) {
	size_t cap = big_cap(n);
	for (int i = 0; i < vm->nbig; i++) {
		if (vm->bigcap[i] >= cap && vm->bigcap[i] - cap <= BIG_STEP) {
			void *p = vm->big[i];
			vm->nbig--;
			vm->big[i] = vm->big[vm->nbig];
			vm->bigcap[i] = vm->bigcap[vm->nbig];
			return p;
		}
	}
	return malloc(cap);
}

static void big_put(lasgi_vm *vm, void *p, size_t n) {
	if (vm->nbig == BIG_KEEP) {
		free(p);
		return;
	}
	vm->big[vm->nbig] = p;
	vm->bigcap[vm->nbig++] = big_cap(n);
}

static void *block_get(lasgi_vm *vm, size_t n) {
	return n <= SLAB_MAX ? slab_get(vm, n) : is_big(n) ? big_get(vm, n) : malloc(n);
}

static void block_put(lasgi_vm *vm, void *p, size_t n) {
	if (n <= SLAB_MAX)
		slab_put(vm, p, n);
	else if (is_big(n))
		big_put(vm, p, n);
	else
		free(p);
}

/* same_block: a block made for o bytes holds n as well. */
static int same_block(size_t o, size_t n) {
	if (o <= SLAB_MAX && n <= SLAB_MAX)
		return SLAB_CLASS(o) == SLAB_CLASS(n);
	return is_big(o) && is_big(n) && big_cap(o) >= n;
}

static void *alloc(void *ud, void *p, size_t osize, size_t nsize) {
	lasgi_vm *vm = ud;
	if (p == NULL)
		osize = 0; /* 5.4 passes the type of the object to make */
	if (nsize == 0) {
		if (p != NULL)
			block_put(vm, p, osize);
		vm->used -= osize;
		return NULL;
	}
	if (nsize > osize && vm->limit && vm->used + (nsize - osize) > vm->limit) {
		vm->memfail = 1;
		return NULL;
	}
	void *q;
	if (p != NULL && same_block(osize, nsize)) {
		q = p;
	} else if (p != NULL && osize > SLAB_MAX && nsize > SLAB_MAX && !is_big(osize) && !is_big(nsize)) {
		q = realloc(p, nsize);
	} else {
		q = block_get(vm, nsize);
		if (q != NULL && p != NULL) {
			memcpy(q, p, osize < nsize ? osize : nsize);
			block_put(vm, p, osize);
		}
	}
	if (q == NULL) {
		vm->memfail = 1;
		return NULL;
	}
	vm->used += nsize - osize;
	return q;
}

int lasgi_setmsg(lasgi_vm *vm, const char *s, size_t n) {
	if (n + 1 > vm->msgcap) {
		char *m = realloc(vm->msg, n + 1);
		if (m == NULL) {
			n = vm->msgcap ? vm->msgcap - 1 : 0;
		} else {
			vm->msg = m;
			vm->msgcap = n + 1;
		}
	}
	if (vm->msgcap) {
		memcpy(vm->msg, s, n);
		vm->msg[n] = 0;
	}
	vm->msglen = n;
	return LR_ERROR;
}

lasgi_vm *lasgi_new(uintptr_t handle, size_t limit) {
	lasgi_vm *vm = calloc(1, sizeof *vm);
	if (vm == NULL)
		return NULL;
	vm->handle = handle;
	vm->limit = limit;
	vm->appref = vm->strref = vm->lendref = LUA_NOREF;
	vm->L = lua_newstate(alloc, vm);
	if (vm->L == NULL) {
		free(vm);
		return NULL;
	}
	return vm;
}

size_t lasgi_gc_count(lasgi_vm *vm) { return vm->used; }

int lasgi_ensure_ops(lasgi_vm *vm, size_t n) {
	if (n <= vm->opscap)
		return 1;
	size_t c = vm->opscap ? vm->opscap : 4096;
	while (c < n)
		c *= 2;
	char *p = realloc(vm->ops, c);
	if (p == NULL)
		return 0;
	vm->ops = p;
	vm->opscap = c;
	return 1;
}

/* The busy timeout: the watchdog sets a hook on the running coroutine,
 * which raises at the next instruction. */
static void stop_hook(lua_State *L, lua_Debug *ar) {
	(void)ar;
	/* The hook stays until the run is over (lasgi_clear_interrupt): an
	 * app that catches the error (pcall, coroutine.resume) is stopped
	 * again at its next instruction. */
	luaL_error(L, "lasgi: the app was interrupted");
}

#define STOP_MASK (LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT)

static void lock_running(lasgi_vm *vm) {
	while (__atomic_test_and_set(&vm->running_lock, __ATOMIC_ACQUIRE))
		;
}

static void unlock_running(lasgi_vm *vm) { __atomic_clear(&vm->running_lock, __ATOMIC_RELEASE); }

/* set_running names the coroutine that runs now. A coroutine is reachable
 * (on its resumer's stack) for as long as it is vm->running, so the
 * watchdog, which hooks it under the same lock, never touches a freed one. */
static void set_running(lasgi_vm *vm, lua_State *co) {
	lock_running(vm);
	vm->running = co;
	unlock_running(vm);
}

void lasgi_interrupt(lasgi_vm *vm, lua_State *co) {
	__atomic_store_n(&vm->interrupt, 1, __ATOMIC_SEQ_CST);
	lua_sethook(co ? co : vm->L, stop_hook, STOP_MASK, 1);
	/* Lua 5.4's hooks are per thread: a coroutine the app resumed runs
	 * with its own (LuaJIT's are global). */
	lock_running(vm);
	if (vm->running != NULL)
		lua_sethook(vm->running, stop_hook, STOP_MASK, 1);
	unlock_running(vm);
}

#if LUA_VERSION_NUM >= 504
/* coroutine.resume and the functions coroutine.wrap makes, as Lua's own
 * but keeping vm->running, the coroutine that runs now, for the watchdog;
 * after an interrupt, the coroutine control goes back to is stopped too.
 * upvalues: the original function, the vm, and (wrap) the coroutine. */
static int tracked_call(lua_State *L, lua_State *co) {
	lasgi_vm *vm = lua_touserdata(L, lua_upvalueindex(2));
	lua_State *prev = vm->running;
	if (co != NULL) {
		set_running(vm, co);
		if (vm->interrupt)
			lua_sethook(co, stop_hook, STOP_MASK, 1);
		else if (lua_gethook(co) == stop_hook)
			lua_sethook(co, NULL, 0, 0); /* left from an interrupt of an earlier call */
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	set_running(vm, prev);
	if (vm->interrupt)
		lua_sethook(L, stop_hook, STOP_MASK, 1);
	if (st != 0)
		return lua_error(L);
	return lua_gettop(L);
}

static int l_tracked_resume(lua_State *L) { return tracked_call(L, lua_tothread(L, 1)); }

static int l_tracked_wrapped(lua_State *L) { return tracked_call(L, lua_tothread(L, lua_upvalueindex(3))); }

static int l_tracked_wrap(lua_State *L) {
	lua_pushvalue(L, lua_upvalueindex(1)); /* the original wrap */
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	lua_getupvalue(L, -1, 1); /* auxwrap's coroutine */
	lua_pushlightuserdata(L, lua_touserdata(L, lua_upvalueindex(2)));
	lua_insert(L, -2);
	lua_pushcclosure(L, l_tracked_wrapped, 3);
	return 1;
}

static void track_coroutines(lasgi_vm *vm, lua_State *L) {
	lua_getglobal(L, "coroutine");
	lua_getfield(L, -1, "resume");
	lua_pushlightuserdata(L, vm);
	lua_pushcclosure(L, l_tracked_resume, 2);
	lua_setfield(L, -2, "resume");
	lua_getfield(L, -1, "wrap");
	lua_pushlightuserdata(L, vm);
	lua_pushcclosure(L, l_tracked_wrap, 2);
	lua_setfield(L, -2, "wrap");
	lua_pop(L, 1);
}
#else
static void track_coroutines(lasgi_vm *vm, lua_State *L) { (void)vm, (void)L; }
#endif

void lasgi_clear_interrupt(lasgi_vm *vm, lua_State *co) {
	vm->interrupt = 0;
	lua_sethook(co ? co : vm->L, NULL, 0, 0);
}

/* tostr leaves a string for the value at the top of L, in place of it. */
static void tostr(lua_State *L) {
	if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
		lua_pushstring(L, lua_tostring(L, -1));
	} else if (luaL_callmeta(L, -1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
	} else {
		lua_pushfstring(L, "(an error object of type %s)", luaL_typename(L, -1));
	}
	lua_remove(L, -2);
}

/* keep_error keeps the text of the error at the top of co, with a
 * traceback, in vm->msg. It runs protected, on L (start_k, resume_k). */
static int keep_error(lasgi_vm *vm, lua_State *co) {
	lua_State *L = vm->L;
	lua_xmove(co, L, 1);
	tostr(L);
	luaL_traceback(L, co, lua_tostring(L, -1), 0);
	size_t n;
	const char *s = lua_tolstring(L, -1, &n);
	lasgi_setmsg(vm, s, n);
	lua_pop(L, 2);
	return LR_ERROR;
}

/* --- building tables from ops --- */

static uint32_t rd32(const char **p) {
	uint32_t v;
	memcpy(&v, *p, 4);
	*p += 4;
	return v;
}

static void shallow_copy(lua_State *L, int ref) {
	if (ref == LUA_NOREF || ref == LUA_REFNIL) {
		lua_createtable(L, 0, 0);
		return;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	int src = lua_gettop(L);
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, src)) {
		n++;
		lua_pop(L, 1);
	}
	lua_createtable(L, 0, n);
	lua_pushnil(L);
	while (lua_next(L, src)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, src);
}

/* build runs the ops from p to end on L, leaving one value. The ops:
 *   T narr nrec      push a new table
 *   S len bytes      push a string
 *   P ptr len        push the len bytes at ptr (Go's memory, pinned by Go)
 *   s index          push the common string at index (a byte, from 0)
 *   k index          pop v: top[common string at index] = v
 *   I int64          push an integer
 *   B byte           push a boolean
 *   K len bytes      pop v: top[key] = v
 *   A index          pop v: top[index] = v
 *   R ref            push the table under ref
 *   C ref            push a shallow copy of the table under ref (an empty table for LUA_NOREF)
 *   G len bytes      push the table group data encodes (groups.c)
 *   Q ptr len        the same, the data at ptr (Go's memory, pinned by Go)
 */
static void build(lasgi_vm *vm, lua_State *L, const char *p, const char *end) {
	luaL_checkstack(L, 16, "building a table");
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->strref);
	int common = lua_gettop(L);
	while (p < end) {
		char op = *p++;
		switch (op) {
		case 'T': {
			uint32_t a = rd32(&p), r = rd32(&p);
			lua_createtable(L, (int)a, (int)r);
			break;
		}
		case 'S': {
			uint32_t n = rd32(&p);
			lua_pushlstring(L, p, n);
			p += n;
			break;
		}
		case 'P': {
			uint64_t at;
			memcpy(&at, p, 8);
			p += 8;
			uint32_t n = rd32(&p);
			lua_pushlstring(L, (const char *)(uintptr_t)at, n);
			break;
		}
		case 'I': {
			int64_t v;
			memcpy(&v, p, 8);
			p += 8;
			lua_pushinteger(L, (lua_Integer)v);
			break;
		}
		case 'B':
			lua_pushboolean(L, *p++);
			break;
		case 's':
			lua_rawgeti(L, common, (unsigned char)*p++ + 1);
			break;
		case 'k':
			lua_rawgeti(L, common, (unsigned char)*p++ + 1);
			lua_insert(L, -2);
			lua_rawset(L, -3);
			break;
		case 'K': {
			uint32_t n = rd32(&p);
			lua_pushlstring(L, p, n);
			p += n;
			lua_insert(L, -2);
			lua_rawset(L, -3);
			break;
		}
		case 'A': {
			uint32_t i = rd32(&p);
			lua_rawseti(L, -2, (int)i);
			break;
		}
		case 'C':
			shallow_copy(L, (int)rd32(&p));
			break;
		case 'G': {
			uint32_t n = rd32(&p);
			lasgi_group_push(L, p, n);
			p += n;
			break;
		}
		case 'Q': {
			uint64_t at;
			memcpy(&at, p, 8);
			p += 8;
			uint32_t n = rd32(&p);
			lasgi_group_push(L, (const char *)(uintptr_t)at, n);
			break;
		}
		case 'R':
			lua_rawgeti(L, LUA_REGISTRYINDEX, (int)rd32(&p));
			break;
		default:
			luaL_error(L, "lasgi: internal error: op %d", op);
		}
	}
	lua_remove(L, common);
}

/* --- receive and send: C closures with upvalues vm, id, gen, thread --- */

static lasgi_vm *closure_vm(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* owner: whether L is the call's own coroutine (core.call.same-coroutine);
 * Go says which error comes first. */
static int owner(lua_State *L) { return lua_tothread(L, lua_upvalueindex(4)) == L; }

static int raise_msg(lua_State *L, lasgi_vm *vm) {
	lua_pushlstring(L, vm->msg, vm->msglen);
	return lua_error(L);
}

static int encode(lasgi_vm *vm, lua_State *L, int idx, int i, int depth);
static int encode_event(lasgi_vm *vm, lua_State *L, int send);

static int l_receive(lua_State *L) {
	lasgi_vm *vm = closure_vm(L);
	int id = (int)lua_tointeger(L, lua_upvalueindex(2)), gen = (int)lua_tointeger(L, lua_upvalueindex(3));
	size_t n = 0;
	int nn = 0;
	/* receive(options), the timers extension: read as send reads an event,
	 * for Go to check (luatype.ReceiveOptions). */
	if (lua_gettop(L) >= 1 && !lua_isnil(L, 1)) {
		lua_settop(L, 1);
		if (encode_event(vm, L, 0) < 0)
			return luaL_error(L, "not enough memory");
		nn = vm->nnodes;
	}
	int r = lasgiReceive(vm->handle, id, gen, owner(L), vm->nodes, nn, &n);
	if (r < 0)
		return raise_msg(L, vm);
	if (r == 0)
		return lua_yield(L, 0); /* resumed with the event (lasgi_resume) */
	build(vm, L, vm->ops, vm->ops + n);
	return 1;
}

/* encode reads the value at idx into node i; depth 0 is the event. */
int lasgi_new_nodes(lasgi_vm *vm, int n) {
	if (vm->nnodes + n > vm->nodecap) {
		int c = vm->nodecap ? vm->nodecap : 64;
		while (c < vm->nnodes + n)
			c *= 2;
		lasgi_node *p = realloc(vm->nodes, (size_t)c * sizeof *p);
		if (p == NULL)
			return -1;
		vm->nodes = p;
		vm->nodecap = c;
	}
	int first = vm->nnodes;
	vm->nnodes += n;
	return first;
}

static int is_index(lua_State *L, int idx, int n) {
	if (lua_type(L, idx) != LUA_TNUMBER)
		return 0;
	lua_Number k = lua_tonumber(L, idx);
	return k == floor(k) && k >= 1 && k <= n;
}

static int encode(lasgi_vm *vm, lua_State *L, int idx, int i, int depth) {
	lasgi_node *nd = &vm->nodes[i];
	memset(nd, 0, sizeof *nd);
	nd->bad = -1;
	nd->first = -1;
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		nd->kind = LK_NIL;
		return 0;
	case LUA_TBOOLEAN:
		nd->kind = LK_BOOL;
		nd->n = lua_toboolean(L, idx);
		return 0;
	case LUA_TNUMBER:
		nd->kind = LK_NUMBER;
		nd->num = lua_tonumber(L, idx);
#if LUA_VERSION_NUM >= 504
		nd->ok = lua_isinteger(L, idx);
#endif
		return 0;
	case LUA_TSTRING:
		nd->kind = LK_STRING;
		nd->s = lua_tolstring(L, idx, &nd->len);
		return 0;
	case LUA_TTABLE:
		break;
	default:
		nd->kind = LK_OTHER;
		nd->s = luaL_typename(L, idx);
		nd->len = strlen(nd->s);
		return 0;
	}
	nd->kind = LK_TABLE;
	int n = RAWLEN(L, idx), ok = 1, bad = -1;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (ok && !is_index(L, -1, n)) {
			ok = 0;
			bad = lasgi_new_nodes(vm, 1);
			if (bad < 0 || encode(vm, L, -1, bad, 3) < 0) {
				lua_pop(L, 1);
				return -1;
			}
		}
	}
	nd = &vm->nodes[i];
	nd->n = n;
	nd->ok = ok;
	nd->bad = bad;
	if (depth >= 3 || (depth == 2 && n > 2))
		return 0;
	if (n > MAX_LIST) {
		nd->kind = LK_OTHER;
		nd->s = "table of more than 100000 entries";
		nd->len = strlen(nd->s);
		return 0;
	}
	int first = lasgi_new_nodes(vm, n);
	if (first < 0)
		return -1;
	vm->nodes[i].first = first;
	vm->nodes[i].count = n;
	for (int k = 1; k <= n; k++) {
		lua_rawgeti(L, idx, k);
		if (encode(vm, L, -1, first + k - 1, depth + 1) < 0)
			return -1;
		lua_pop(L, 1);
	}
	return 0;
}

/* lend anchors the string on top of the stack, read into nd, when it is
 * worth lending (LASGI_LEND_MIN) and no other field of the event is lent.
 * It may raise out of memory, with nothing anchored. */
static void lend(lasgi_vm *vm, lua_State *L, lasgi_node *nd) {
	if (nd->kind != LK_STRING || nd->len < LASGI_LEND_MIN || vm->lendref != LUA_NOREF)
		return;
	lua_pushvalue(L, -1);
	vm->lendref = luaL_ref(L, LUA_REGISTRYINDEX);
	nd->lent = 1;
}

/* unlend lets go of the body send() anchored, unless Go took it, and of
 * the loans Go has done with. */
static void unlend(lasgi_vm *vm, lua_State *L) {
	if (vm->lendref != LUA_NOREF) {
		luaL_unref(L, LUA_REGISTRYINDEX, vm->lendref);
		vm->lendref = LUA_NOREF;
	}
	for (int i = 0; i < vm->ndrop; i++)
		luaL_unref(L, LUA_REGISTRYINDEX, vm->drops[i]);
	vm->ndrop = 0;
}

/* encode_event reads the event (or receive's options) at index 1 into
 * node 0 and, for a table, its fields into the nodes after it: its keys
 * walked once (a lookup of each of the fields would hash and compare every
 * name, for each send). send's data, when a table, is encoded for the
 * groups extension instead (groups.c); receive reads no data. */
static int encode_event(lasgi_vm *vm, lua_State *L, int send) {
	vm->nnodes = 0;
	if (lasgi_new_nodes(vm, 1) < 0)
		return -1;
	if (lua_type(L, 1) != LUA_TTABLE)
		return encode(vm, L, 1, 0, 1);
	lasgi_node *nd = &vm->nodes[0];
	memset(nd, 0, sizeof *nd);
	nd->kind = LK_TABLE;
	nd->bad = -1;
	int first = lasgi_new_nodes(vm, LASGI_NFIELDS);
	if (first < 0)
		return -1;
	vm->nodes[0].first = first;
	vm->nodes[0].count = LASGI_NFIELDS;
	for (int f = 0; f < LASGI_NFIELDS; f++) {
		lasgi_node *c = &vm->nodes[first + f];
		memset(c, 0, sizeof *c);
		c->kind = LK_NIL;
		c->bad = c->first = -1;
	}
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		int f = lua_type(L, -2) == LUA_TSTRING ? field_of(vm, L, -2) : -1;
		int st = 0;
		if (f == LASGI_FIELD_DATA) {
			if (send)
				st = lua_type(L, -1) == LUA_TTABLE ? lasgi_group_data(vm, L, lua_gettop(L), first + f)
				                                   : encode(vm, L, -1, first + f, 1);
		} else if (f >= 0) {
			st = encode(vm, L, -1, first + f, 1);
			if (st == 0 && send && (f == LASGI_FIELD_BODY || f == LASGI_FIELD_TEXT || f == LASGI_FIELD_BYTES))
				lend(vm, L, &vm->nodes[first + f]);
		}
		if (st < 0) {
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	return 0;
}

static int l_send(lua_State *L) {
	lasgi_vm *vm = closure_vm(L);
	int id = (int)lua_tointeger(L, lua_upvalueindex(2)), gen = (int)lua_tointeger(L, lua_upvalueindex(3));
	lua_settop(L, 1);
	unlend(vm, L); /* an error raised in an earlier send's reading may have left its anchor */
	if (encode_event(vm, L, 1) < 0) {
		unlend(vm, L);
		return luaL_error(L, "not enough memory");
	}
	int r = lasgiSend(vm->handle, id, gen, owner(L), vm->nodes, vm->nnodes);
	unlend(vm, L);
	if (r < 0)
		return raise_msg(L, vm);
	if (r == 0)
		return lua_yield(L, 0); /* the client is behind: resumed when it caught up */
	return 0;
}

/* --- loading, starting and resuming --- */

/* writer prints through Go when the host took the app's output. */
static int l_write(lua_State *L) {
	lasgi_vm *vm = lua_touserdata(L, lua_upvalueindex(1));
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	lasgiWrite(vm->handle, (char *)s, n);
	return 0;
}

/* The entry points run their work through protect: every allocation, even
 * a thread's or a C function's (LuaJIT allocates one for
 * lua_pushcfunction), happens under a protected call, so that running out
 * of memory fails the call instead of ending the process. */
struct args {
	lasgi_vm *vm;
	lua_State *co;
	int id, gen, reuse;
	size_t opslen;
	const char *src, *name, *setup, *common;
	size_t srcn, setupn;
	int ncommon;
	lua_State **thread;
	int *ref;
	int result;
};

static int protect(lasgi_vm *vm, lua_CFunction f, struct args *a) {
	lua_State *L = vm->L;
	int top = lua_gettop(L);
	a->vm = vm;
	a->result = LR_ERROR;
#if LUA_VERSION_NUM >= 504
	lua_pushcfunction(L, f); /* a light C function: no allocation */
	lua_pushlightuserdata(L, a);
	int st = lua_pcall(L, 1, 0, 0);
#else
	int st = lua_cpcall(L, f, a);
#endif
	if (st != 0) {
		size_t m = 0;
		const char *s = lua_tolstring(L, -1, &m);
		if (s == NULL)
			s = "(an error object that is not a string)", m = strlen(s);
		a->result = lasgi_setmsg(vm, s, m);
	}
	lua_settop(L, top);
	return a->result;
}

static int load_k(lua_State *L) {
	struct args *a = lua_touserdata(L, 1);
	lasgi_vm *vm = a->vm;
	luaL_openlibs(L);
	track_coroutines(vm, L);
	/* The setup chunk (Go's) gets the output writer and fixes the globals. */
	if (luaL_loadbuffer(L, a->setup, a->setupn, "=lasgi setup") != 0)
		return lua_error(L);
	lua_pushlightuserdata(L, vm);
	lua_pushcclosure(L, l_write, 1);
	lua_call(L, 1, 0);
	if (luaL_loadbuffer(L, a->src, a->srcn, a->name) != 0)
		return lua_error(L);
	lua_call(L, 0, 1);
	if (lua_type(L, -1) != LUA_TFUNCTION) {
		if (!luaL_getmetafield(L, -1, "__call"))
			return luaL_error(L, "lasgi: core.app.callable: the file returned %s, not a function or a table with __call", luaL_typename(L, -1));
		lua_pop(L, 1); /* the __call: the value itself is the app */
	}
	vm->appref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* The common strings, kept in a table of their own (build's 's' and
	 * 'k'); the fields' addresses for field_of. */
	lua_createtable(L, a->ncommon, 0);
	const char *c = a->common;
	for (int i = 1; i <= a->ncommon; i++) {
		size_t n = strlen(c);
		lua_pushlstring(L, c, n);
		if (i <= LASGI_NFIELDS)
			vm->fields[i - 1] = lua_tostring(L, -1);
		lua_rawseti(L, -2, i);
		c += n + 1;
	}
	vm->strref = luaL_ref(L, LUA_REGISTRYINDEX);
	a->result = LR_OK;
	return 0;
}

int lasgi_load(lasgi_vm *vm, const char *src, size_t n, const char *name, const char *setup, size_t setupn,
               const char *common, int ncommon) {
	struct args a = {.src = src, .srcn = n, .name = name, .setup = setup, .setupn = setupn,
	                 .common = common, .ncommon = ncommon};
	return protect(vm, load_k, &a);
}

/* after runs once a resume is over: a return's values are dropped, an error
 * is kept as text. */
static int after(lasgi_vm *vm, lua_State *co, int st, int nres) {
	if (st == LUA_YIELD) {
		lua_pop(co, nres);
		return LR_YIELD;
	}
	if (st == 0) {
		lua_settop(co, 0);
		return LR_OK;
	}
	return keep_error(vm, co);
}

/* start_k builds the scope and the call's closures on L, moves them to the
 * coroutine (a new one unless a->reuse), and resumes it. */
static int start_k(lua_State *L) {
	struct args *a = lua_touserdata(L, 1);
	lasgi_vm *vm = a->vm;
	if (!a->reuse) {
		lua_State *co = lua_newthread(L);
		*a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
		*a->thread = co;
	}
	lua_State *co = *a->thread;
	lua_sethook(co, NULL, 0, 0);
	set_running(vm, NULL);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->appref);
	build(vm, L, vm->ops, vm->ops + a->opslen);
	for (int k = 0; k < 2; k++) {
		lua_pushlightuserdata(L, vm);
		lua_pushinteger(L, a->id);
		lua_pushinteger(L, a->gen);
		lua_pushthread(co);
		lua_xmove(co, L, 1);
		lua_pushcclosure(L, k == 0 ? l_receive : l_send, 4);
	}
	lua_xmove(L, co, 4);
	int nres = 0;
	int st = RESUME(co, L, 3, &nres);
	a->result = after(vm, co, st, nres);
	return 0;
}

int lasgi_start(lasgi_vm *vm, int id, int gen, size_t opslen, lua_State **thread, int *ref, int reuse) {
	struct args a = {.id = id, .gen = gen, .opslen = opslen, .thread = thread, .ref = ref, .reuse = reuse};
	return protect(vm, start_k, &a);
}

static int resume_k(lua_State *L) {
	struct args *a = lua_touserdata(L, 1);
	lasgi_vm *vm = a->vm;
	lua_State *co = a->co;
	int nargs = 0;
	set_running(vm, NULL);
	if (a->opslen > 0) {
		build(vm, L, vm->ops, vm->ops + a->opslen);
		lua_xmove(L, co, 1);
		nargs = 1;
	}
	int nres = 0;
	int st = RESUME(co, L, nargs, &nres);
	a->result = after(vm, co, st, nres);
	return 0;
}

int lasgi_resume(lasgi_vm *vm, lua_State *co, size_t opslen) {
	struct args a = {.co = co, .opslen = opslen};
	return protect(vm, resume_k, &a);
}

int lasgi_recycle(lasgi_vm *vm, lua_State *co, int ref) {
	if (lua_status(co) == 0 && lua_gettop(co) == 0)
		return 1;
#if LUA_VERSION_NUM >= 504
	if (lua_resetthread(co) == 0)
		return 1;
#endif
	luaL_unref(vm->L, LUA_REGISTRYINDEX, ref);
	return 0;
}

static int new_table_k(lua_State *L) {
	struct args *a = lua_touserdata(L, 1);
	lua_createtable(L, 0, 0);
	*a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	a->result = LR_OK;
	return 0;
}

int lasgi_new_table(lasgi_vm *vm) {
	int ref = LUA_NOREF;
	struct args a = {.ref = &ref};
	protect(vm, new_table_k, &a);
	return ref;
}

static int collect_k(lua_State *L) {
	struct args *a = lua_touserdata(L, 1);
	lua_gc(L, LUA_GCCOLLECT, 0);
	a->result = LR_OK;
	return 0;
}

int lasgi_collect(lasgi_vm *vm) {
	struct args a = {0};
	/* Called when the state is at its limit: the protected call itself
	 * allocates (LuaJIT's lua_cpcall makes a C function), which the limit
	 * would refuse, and LuaJIT would never collect. A collection only
	 * frees, so the limit is off for its few bytes. */
	size_t limit = vm->limit;
	vm->limit = 0;
	int r = protect(vm, collect_k, &a);
	vm->limit = limit;
	return r;
}

void lasgi_unref(lasgi_vm *vm, int ref) { luaL_unref(vm->L, LUA_REGISTRYINDEX, ref); }

void lasgi_close(lasgi_vm *vm) {
	lua_close(vm->L);
	for (int i = 0; i < vm->nbig; i++)
		free(vm->big[i]);
	while (vm->chunks != NULL) {
		void *next = *(void **)vm->chunks;
		free(vm->chunks);
		vm->chunks = next;
	}
	free(vm->ops);
	free(vm->nodes);
	free(vm->gbuf);
	free(vm->msg);
	free(vm);
}
