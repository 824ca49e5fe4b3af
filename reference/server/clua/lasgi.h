/* The C half of the clua engine: everything that touches a lua_State, so
 * that a Lua error never unwinds over Go frames and a request crosses cgo
 * once per start or wake-up. Go writes the tables to build (scopes, received
 * events) as ops into vm->ops; C reads what the app sends into vm->nodes,
 * which Go reads in place during the callback. */
#ifndef LASGI_CLUA_H
#define LASGI_CLUA_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

/* Kinds of a decoded value, the same numbers as luatype.Kind. */
enum { LK_NIL, LK_BOOL, LK_NUMBER, LK_STRING, LK_TABLE, LK_OTHER };

/* How many keys of an event the server reads: the first of the common
 * strings (clua/strings.go), in the order of the root node's children. */
#define LASGI_NFIELDS 16
/* data, the one field send() does not read into nodes: the data of
 * lasgi.group.send, encoded by groups.c (spec/groups.md). */
#define LASGI_FIELD_DATA 15
/* body, text and bytes: a string this long or longer, one per event, is
 * lent to Go instead of copied out (bridge's lend.go): send() anchors it in
 * the registry under vm->lendref, which Go takes over when it queues the
 * event, and lets go of up to LASGI_DROPS earlier ones Go names in
 * vm->drops. */
#define LASGI_FIELD_BODY 3
#define LASGI_FIELD_TEXT 8
#define LASGI_FIELD_BYTES 9
#define LASGI_LEND_MIN 4096
#define LASGI_DROPS 16

/* The bounds of group data: event.GroupsMaxMessageBytes (values.go holds
 * the two equal) and event.MaxGroupDepth. */
#define LASGI_GROUP_MAX 65536
#define LASGI_GROUP_DEPTH 32

/* How encoding group data ended: done, a key or a value of a type data
 * may not hold, past the size or the depth bound, out of Lua stack. */
enum { GE_OK, GE_KEY, GE_VALUE, GE_SIZE, GE_DEPTH, GE_STACK };

typedef struct {
	int kind;
	int n;     /* table: border; boolean: its value */
	int ok;    /* table: every key is an integer in 1..n */
	int bad;   /* table: node of the first key that is not, or -1 */
	int first; /* table: node of the first child, or -1 when not read */
	int count; /* table: children */
	double num;
	const char *s; /* string (in Lua's memory, valid during the callback) or type name */
	size_t len;
	int lent; /* the string is anchored under vm->lendref: Go may keep s */
} lasgi_node;
/* The node of send's data field, when a table, is groups.c's: kind
 * LK_TABLE, first -1, n the GE_* code, bad the node of the key or value
 * found (GE_KEY, GE_VALUE), s and len the encoding so far (vm->gbuf). */

/* The allocator's small blocks: 16-byte size classes up to SLAB_MAX. */
#define SLAB_MAX 256
#define SLAB_CLASSES (SLAB_MAX / 16)
#define SLAB_CLASS(n) ((int)(((n) + 15) >> 4) - 1)
#define SLAB_SIZE(c) ((size_t)((c) + 1) << 4)
#define SLAB_CHUNK 65536
/* Large blocks, BIG_MIN to BIG_MAX bytes, are made in steps of BIG_STEP and
 * up to BIG_KEEP freed ones kept for reuse: glibc maps a block this large
 * afresh each time, and a streamed body's strings (up to 256 KiB each, one
 * made and freed per chunk) were faulted in page by page every time. */
#define BIG_MIN (64 << 10)
#define BIG_MAX (1 << 20)
#define BIG_STEP (16 << 10)
#define BIG_KEEP 16

typedef struct lasgi_vm {
	lua_State *L;
	uintptr_t handle; /* the Go worker's cgo.Handle */
	size_t used, limit;
	int memfail; /* an allocation was refused since it was last cleared */
	void *freelist[SLAB_CLASSES];
	char *slab_cur, *chunks;
	size_t slab_left;
	void *big[BIG_KEEP]; /* freed large blocks, of bigcap[i] bytes at least */
	size_t bigcap[BIG_KEEP];
	int nbig;
	volatile int interrupt;
	/* A coroutine the app resumed, running now (5.4), and the spin lock the
	 * worker holds to change it and the watchdog to hook it: one read
	 * before the worker moved on could otherwise hook a coroutine the
	 * collector has freed since. */
	lua_State *running;
	char running_lock;

	char *ops; /* tables to build, written by Go */
	size_t opscap;

	lasgi_node *nodes; /* an event the app sent, read by Go */
	int nnodes, nodecap;
	int lendref;              /* the body send() anchored; LUA_NOREF once Go took it */
	int drops[LASGI_DROPS];   /* loans Go has done with, for send() to let go */
	int ndrop;
	char *gbuf; /* the data of a lasgi.group.send, LASGI_GROUP_MAX bytes once made */

	char *msg; /* the last error's text */
	size_t msglen, msgcap;
	int appref;
	int strref;                         /* the table of common strings (clua/strings.go) */
	const char *fields[LASGI_NFIELDS]; /* the event's keys among them */
} lasgi_vm;

lasgi_vm *lasgi_new(uintptr_t handle, size_t limit);
/* load: runs setup, then the app file src, and keeps the app and the ncommon
 * NUL-terminated common strings at common, the first LASGI_NFIELDS of them
 * the event's fields. */
int lasgi_load(lasgi_vm *vm, const char *src, size_t n, const char *name, const char *setup, size_t setupn,
               const char *common, int ncommon);
/* start: builds ops (the scope) and resumes a new coroutine running the app
 * with scope, receive and send. *thread and *ref name the coroutine. */
int lasgi_start(lasgi_vm *vm, int id, int gen, size_t opslen, lua_State **thread, int *ref, int reuse);
/* resume: resumes co, with the table of ops as receive()'s value when
 * opslen > 0. */
int lasgi_resume(lasgi_vm *vm, lua_State *co, size_t opslen);
/* recycle: keep co (finished normally) for another call; or drop it. */
int lasgi_recycle(lasgi_vm *vm, lua_State *co, int ref);
void lasgi_unref(lasgi_vm *vm, int ref);
/* collect: a full garbage collection, protected (LuaJIT, unlike 5.4, does
 * not collect before it reports running out of memory). */
int lasgi_collect(lasgi_vm *vm);
/* new_table: a new empty table, kept under the ref returned (LUA_NOREF when
 * out of memory). */
int lasgi_new_table(lasgi_vm *vm);
int lasgi_setmsg(lasgi_vm *vm, const char *s, size_t n);
void lasgi_interrupt(lasgi_vm *vm, lua_State *co);
void lasgi_clear_interrupt(lasgi_vm *vm, lua_State *co);
void lasgi_close(lasgi_vm *vm);
int lasgi_ensure_ops(lasgi_vm *vm, size_t n);
size_t lasgi_gc_count(lasgi_vm *vm);

/* For groups.c: new_nodes makes n nodes, returning the first (-1: out of
 * memory; earlier node pointers may move); group_data encodes the table at
 * the absolute index idx into node i; group_push pushes the table n bytes
 * encode, raising on corrupt bytes. */
int lasgi_new_nodes(lasgi_vm *vm, int n);
int lasgi_group_data(lasgi_vm *vm, lua_State *L, int idx, int i);
void lasgi_group_push(lua_State *L, const char *p, size_t n);

/* Results of lasgi_start and lasgi_resume. */
enum { LR_OK = 0, LR_YIELD = 1, LR_ERROR = 2 };

#endif
