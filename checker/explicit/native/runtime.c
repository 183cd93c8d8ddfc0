/* The C breadth-first search: the same search as explore.py's plain loop, state for state.
 *
 * Compiled with one model's functions (cgen.py writes them after this file, with WIDTH,
 * N_ACTIONS and N_PROPS defined before it), loaded through ctypes (native/__init__.py).
 * States are stored once, in discovery order, in one array of WIDTH-byte records, with a
 * parent id, the action that reached them and their depth: exactly the arrays Python keeps,
 * so traces are rebuilt the same way. The visited set is an open-addressing table of state
 * ids (with 32 hash bits beside each id, so most probes skip the byte comparison).
 * ic_run returns every `every` expanded states, so Python checks the time and memory
 * limits and Ctrl-C between chunks, as the Python loop does at its checkpoints.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

enum { ST_CHECKPOINT = 0, ST_DONE = 1, ST_MAX_STATES = 2, ST_ERROR = 3, ST_NO_MEMORY = 4 };
enum { ERR_NONE = 0, ERR_BOUND = 1, ERR_INDEX = 2 };
enum { K_INVARIANT = 1, K_ACTION = 2, K_SOMETIMES = 3, K_DEADLOCK = 4 };

/* The first error met: a value leaving its domain (action, variable, value) or an index out
 * of range (variable, index). Per thread: ctypes lets two threads search at once. */
static __thread struct { int kind; int action; int var; long long value; } ERR;

static inline long long ix(long long i, long long length, int var) {
    if (i < 0 || i >= length) {
        if (!ERR.kind) { ERR.kind = ERR_INDEX; ERR.var = var; ERR.value = i; }
        return 0;   /* a safe byte to read on: the search stops at this state */
    }
    return i;
}

static int bound_error(int action, int var, long long value) {
    if (!ERR.kind) { ERR.kind = ERR_BOUND; ERR.action = action; ERR.var = var; ERR.value = value; }
    return -1;
}

static void sort_by_action(uint8_t *out, int32_t *ks, int c) {
    uint8_t tmp[WIDTH];
    for (int i = 1; i < c; i++)
        for (int j = i; j > 0 && ks[j - 1] > ks[j]; j--) {
            int32_t k = ks[j]; ks[j] = ks[j - 1]; ks[j - 1] = k;
            memcpy(tmp, out + (size_t)j * WIDTH, WIDTH);
            memcpy(out + (size_t)j * WIDTH, out + (size_t)(j - 1) * WIDTH, WIDTH);
            memcpy(out + (size_t)(j - 1) * WIDTH, tmp, WIDTH);
        }
}

/* The model (written by cgen.py, after this file). */
static int successors(const uint8_t *s, uint8_t *out, int32_t *ks);
static int holds(int i, const uint8_t *s);
static int checks(int k, const uint8_t *s, const uint8_t *n, int32_t *bad);
static int stuck(const uint8_t *s);

typedef struct {
    uint8_t *states; int64_t *parent; int32_t *via; int32_t *depth;
    size_t n, cap, head;
    uint64_t *table; size_t mask;              /* entry: hash high 32 bits << 32 | (id + 1); 0 = empty */
    long long transitions, max_states;
    int max_depth, depth_limited, last_depth, stop_early, pending, done;
    int8_t kind[N_PROPS], goal[N_PROPS], checked[N_ACTIONS];   /* checked: a wanted action property */
    int goal_left, has_goal, deadlock;
    int64_t found[N_PROPS], witness[N_PROPS];   /* state ids, -1 when none */
    int32_t found_action[N_PROPS];             /* action properties: the breaking step */
    uint8_t found_next[N_PROPS][WIDTH];        /* ... and the state it led to */
    uint8_t scratch[N_ACTIONS][WIDTH];
    int32_t ks[N_ACTIONS], bad[MAX_CHECKS];
} Search;

static uint64_t hash_state(const uint8_t *s) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)WIDTH, x;
    int i = 0;
    for (; i + 8 <= WIDTH; i += 8) {
        memcpy(&x, s + i, 8);
        h = (h ^ x) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    x = 0;
    memcpy(&x, s + i, WIDTH - i);
    h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static int grow_states(Search *S, size_t need) {
    if (need <= S->cap) return 1;
    size_t cap = S->cap ? S->cap : 1024;
    while (cap < need) cap *= 2;
    uint8_t *st = realloc(S->states, cap * WIDTH);
    if (!st) return 0;
    S->states = st;
    int64_t *pa = realloc(S->parent, cap * sizeof(int64_t));
    if (!pa) return 0;
    S->parent = pa;
    int32_t *vi = realloc(S->via, cap * sizeof(int32_t));
    if (!vi) return 0;
    S->via = vi;
    int32_t *de = realloc(S->depth, cap * sizeof(int32_t));
    if (!de) return 0;
    S->depth = de;
    S->cap = cap;
    return 1;
}

static int grow_table(Search *S) {
    size_t size = (S->mask + 1) * 2, mask = size - 1;
    uint64_t *t = calloc(size, sizeof(uint64_t));
    if (!t) return 0;
    for (size_t id = 0; id < S->n; id++) {
        uint64_t h = hash_state(S->states + id * WIDTH);
        size_t at = (size_t)h & mask;
        while (t[at]) at = (at + 1) & mask;
        t[at] = (h & 0xFFFFFFFF00000000ull) | (uint64_t)(id + 1);
    }
    free(S->table);
    S->table = t;
    S->mask = mask;
    return 1;
}

/* Stores `s` unless seen: 1 when stored (as id S->n - 1), 0 when seen, -1 without memory. */
static int visit(Search *S, const uint8_t *s, int64_t parent, int32_t via, int32_t depth) {
    uint64_t h = hash_state(s), tag = h & 0xFFFFFFFF00000000ull;
    size_t at = (size_t)h & S->mask;
    for (uint64_t e; (e = S->table[at]); at = (at + 1) & S->mask)
        if ((e & 0xFFFFFFFF00000000ull) == tag && !memcmp(S->states + ((e & 0xFFFFFFFFull) - 1) * WIDTH, s, WIDTH))
            return 0;
    if (!grow_states(S, S->n + 1)) return -1;
    size_t id = S->n++;
    memcpy(S->states + id * WIDTH, s, WIDTH);
    S->parent[id] = parent; S->via[id] = via; S->depth[id] = depth;
    S->table[at] = tag | (uint64_t)(id + 1);
    if (S->n * 2 > S->mask + 1 && !grow_table(S)) return -1;
    return 1;
}

static void decide(Search *S, int i) {
    if (S->goal[i] && --S->goal_left == 0 && S->stop_early && S->has_goal) S->done = 1;
}

/* Goals.met: the undecided invariants a new state breaks, the witnesses it meets. */
static int met(Search *S, int64_t id) {
    const uint8_t *s = S->states + (size_t)id * WIDTH;
    for (int i = 0; i < N_PROPS; i++) {
        if (S->kind[i] == K_INVARIANT && S->found[i] < 0 && !holds(i, s)) { S->found[i] = id; decide(S, i); }
        else if (S->kind[i] == K_SOMETIMES && S->witness[i] < 0 && holds(i, s)) { S->witness[i] = id; decide(S, i); }
    }
    return ERR.kind ? -1 : 0;
}

Search *ic_new(const int8_t *kind, const int8_t *goal, const int8_t *checked, int stop_early, long long max_states,
               int max_depth) {
    Search *S = calloc(1, sizeof(Search));
    if (!S) return NULL;
    memset(&ERR, 0, sizeof ERR);
    S->mask = 1023;
    S->table = calloc(S->mask + 1, sizeof(uint64_t));
    if (!S->table || !grow_states(S, 1024)) { free(S->table); free(S); return NULL; }
    S->stop_early = stop_early; S->max_states = max_states; S->max_depth = max_depth;
    S->deadlock = -1;
    for (int i = 0; i < N_PROPS; i++) {
        S->kind[i] = kind[i]; S->goal[i] = goal[i];
        S->found[i] = S->witness[i] = -1;
        S->found_action[i] = -1;
        if (goal[i]) { S->goal_left++; S->has_goal = 1; }
        if (kind[i] == K_DEADLOCK && S->deadlock < 0) S->deadlock = i;
    }
    for (int k = 0; k < N_ACTIONS; k++) S->checked[k] = checked[k];
    return S;
}

void ic_free(Search *S) {
    if (!S) return;
    free(S->states); free(S->parent); free(S->via); free(S->depth); free(S->table); free(S);
}

/* An initial state (roots()): 1 stored, 0 seen, -1 an error or no memory. */
int ic_root(Search *S, const uint8_t *s) {
    int r = visit(S, s, -1, -1, 0);
    if (r == 1 && met(S, (int64_t)S->n - 1) < 0) return -1;
    return r;
}

static int expand(Search *S, size_t sid) {
    int c = successors(S->states + sid * WIDTH, &S->scratch[0][0], S->ks);
    if (c < 0) return ST_ERROR;
    if (!grow_states(S, S->n + (size_t)c)) return ST_NO_MEMORY;   /* no move of `state` below */
    const uint8_t *state = S->states + sid * WIDTH;
    if (c == 0 && S->deadlock >= 0 && S->found[S->deadlock] < 0) {
        int dead = stuck(state);
        if (ERR.kind) return ST_ERROR;
        if (dead) { S->found[S->deadlock] = (int64_t)sid; decide(S, S->deadlock); }
    }
    S->transitions += c;
    int d1 = S->depth[sid] + 1;
    S->last_depth = d1;
    for (int j = 0; j < c; j++) {
        int k = S->ks[j];
        const uint8_t *nxt = S->scratch[j];
        if (S->checked[k]) {
            int nb = checks(k, state, nxt, S->bad);
            if (ERR.kind) return ST_ERROR;
            for (int b = 0; b < nb; b++) {
                int i = S->bad[b];
                if (S->kind[i] == K_ACTION && S->found[i] < 0) {
                    S->found[i] = (int64_t)sid; S->found_action[i] = k;
                    memcpy(S->found_next[i], nxt, WIDTH);
                    decide(S, i);
                }
            }
        }
        int r = visit(S, nxt, (int64_t)sid, k, d1);
        if (r < 0) return ST_NO_MEMORY;
        if (r == 1 && met(S, (int64_t)S->n - 1) < 0) return ST_ERROR;
    }
    return ST_CHECKPOINT;
}

/* Expands states until the queue is empty or every goal is decided (ST_DONE), a limit or an
 * error stops it, or `every` divides the number of states expanded (ST_CHECKPOINT). */
int ic_run(Search *S, long long every) {
    if (S->pending) {   /* the max-states test that follows a checkpoint, as in explore.py */
        S->pending = 0;
        if (S->max_states >= 0 && (long long)S->n >= S->max_states && S->head < S->n) return ST_MAX_STATES;
    }
    while (S->head < S->n && !S->done) {
        size_t sid = S->head++;
        if (S->max_depth >= 0 && S->depth[sid] >= S->max_depth) { S->depth_limited = 1; continue; }
        int r = expand(S, sid);
        if (r != ST_CHECKPOINT) return r;
        if ((long long)S->head % every == 0) { S->pending = 1; return ST_CHECKPOINT; }
        if (S->max_states >= 0 && (long long)S->n >= S->max_states && S->head < S->n) return ST_MAX_STATES;
    }
    return ST_DONE;
}

/* What Python reads back. */
long long ic_count(Search *S) { return (long long)S->n; }
long long ic_head(Search *S) { return (long long)S->head; }
long long ic_transitions(Search *S) { return S->transitions; }
int ic_last_depth(Search *S) { return S->last_depth; }
int ic_depth_limited(Search *S) { return S->depth_limited; }
int ic_done(Search *S) { return S->done; }
uint8_t *ic_states(Search *S) { return S->states; }
int64_t *ic_parent(Search *S) { return S->parent; }
int32_t *ic_via(Search *S) { return S->via; }
int32_t *ic_depth(Search *S) { return S->depth; }
long long ic_found(Search *S, int i) { return S->found[i]; }
int ic_found_action(Search *S, int i) { return S->found_action[i]; }
uint8_t *ic_found_next(Search *S, int i) { return S->found_next[i]; }
long long ic_witness(Search *S, int i) { return S->witness[i]; }
int ic_error(Search *S, int *action, int *var, long long *value) {
    (void)S;
    *action = ERR.action; *var = ERR.var; *value = ERR.value;
    return ERR.kind;
}
long long ic_bytes(Search *S) {   /* memory of the stored states, their arrays and the table */
    return (long long)(S->n * (WIDTH + sizeof(int64_t) + 2 * sizeof(int32_t)) + (S->mask + 1) * sizeof(uint64_t));
}
