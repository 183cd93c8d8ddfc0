/* The C breadth-first search: the same search as explore.py's plain loop, state for state.
 *
 * Compiled with one model's functions (cgen.py writes them after this file, with WIDTH,
 * PWIDTH, N_ACTIONS, N_PROPS and the bit layout's tables BIT_AT/BIT_MASK defined before it),
 * loaded through ctypes (native/__init__.py).
 * States are stored once, in discovery order, in one array of RWIDTH-byte records: the
 * WIDTH slots bit-packed (PWIDTH bytes), slot i in the bits BIT_MASK[i] at bit BIT_AT[i]
 * (as many bits as its domain needs), read and written in place by the generated code
 * (get/put). Beside them: a 32-bit parent id and the action that reached each state
 * (16 bits when the model has fewer than 65535 actions); depths are not stored per state
 * but as the first id of each breadth-first level (depths never decrease along the ids).
 * Python receives the arrays it keeps (ic_fill) and the states in its byte layout
 * (ic_state, unpack), so traces are rebuilt the same way. The visited set is an
 * open-addressing table of 32-bit entries: a state id in the low bits, the table's size
 * being a power of two larger than every id, and as many hash bits as are left above it,
 * so most probes skip the record comparison.
 * With TREE (the default; INTERPCHECK_C_STORE=bits for the bits as records), a record is
 * N_TOP node ids of a tree over the state (LTSmin's tree compression): the bits are cut into
 * N_CHUNKS chunks (CHUNK_AT: at most 8 bytes each; each thread's slots in chunks of their
 * own), and each of the N_NODES nodes is interned in its own table as the pair of its kids'
 * words (a chunk's value, a node's id), so a thread's local state or a pair of them is
 * stored once however many states contain it: 16 bytes a state, plus the tables' share.
 * A successor keeps the ids of the nodes whose kids did not change (record_of); the shape
 * is cgen.tree_shape's.
 * With SYMMETRY, each successor is stored as its orbit's representative (canon(), the
 * algorithm of symmetry.py's Canonicalizer on the Python layout, with its tables): action
 * checks see the successor itself, invariants and witnesses its representative.
 * With POR, a state's successors are cut to an ample set (ample(): por.py's Ample, from its
 * tables), as the Python loop does, its stop after 4096 states without one included.
 * With keep_edges, the state graph is kept (edge_at/edge_dst/edge_act) and graph.py's hang
 * and leads-to searches run over it here (ic_hang, ic_leads_to, at the end of this file).
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

/* A slot's stored value (its value plus its domain's offset): `m` (2^bits - 1) at bit `at`
 * of record `p`; a slot takes at most 8 bits, so at most two bytes. Called with constant
 * `at` and `m` by the generated code, where the tests fold away. */
static inline __attribute__((always_inline)) unsigned get(const uint8_t *p, unsigned at, unsigned m) {
    if (!m) return 0;
    unsigned b = at >> 3, sh = at & 7, w = p[b];
    if ((m << sh) >> 8) w |= (unsigned)p[b + 1] << 8;
    return (w >> sh) & m;
}

/* Stores `v` (at most `m`) there. */
static inline __attribute__((always_inline)) void put(uint8_t *p, unsigned at, unsigned m, unsigned v) {
    if (!m) return;
    unsigned b = at >> 3, sh = at & 7;
    p[b] = (uint8_t)((p[b] & ~(m << sh)) | (v << sh));
    if ((m << sh) >> 8) p[b + 1] = (uint8_t)((p[b + 1] & ~((m << sh) >> 8)) | ((v << sh) >> 8));
}

/* Slot i, for an index computed at run time. */
static inline unsigned getv(const uint8_t *p, long long i) { return get(p, BIT_AT[i], BIT_MASK[i]); }
static inline void putv(uint8_t *p, long long i, unsigned v) { put(p, BIT_AT[i], BIT_MASK[i], v); }

/* Python's byte layout (one byte per slot: slot i at byte PY_AT[i], its C value plus
 * PY_SHIFT[i]) to a record and back. */
static void pack(const uint8_t *bytes, uint8_t *p) {
    memset(p, 0, PWIDTH);
#if PY_SAME_LAYOUT
    for (int i = 0; i < WIDTH; i++) putv(p, i, bytes[i] & BIT_MASK[i]);
#else
    for (int i = 0; i < WIDTH; i++) putv(p, i, (unsigned)(bytes[PY_AT[i]] - PY_SHIFT[i]) & BIT_MASK[i]);
#endif
}

static void unpack(const uint8_t *p, uint8_t *bytes) {
#if PY_SAME_LAYOUT
    for (int i = 0; i < WIDTH; i++) bytes[i] = (uint8_t)getv(p, i);
#else
    for (int i = 0; i < WIDTH; i++) bytes[PY_AT[i]] = (uint8_t)(getv(p, i) + PY_SHIFT[i]);
#endif
}

#if SYMMETRY
/* The representative of a state's orbit, as symmetry.py's Canonicalizer.canon computes it
 * on the Python layout: in each group, threads sorted (stably) by their key, their block
 * and the global part with the values naming them replaced by the first thread's and those
 * naming a sibling by the second's (SYM_KEY); if any moved, blocks are permuted and every
 * value naming a thread renamed. `p` and `out` are records (they may be the same). */
static void canon(const uint8_t *p, uint8_t *out) {
    uint8_t s[WIDTH], key[SYM_MAX_N][SYM_MAX_KEY];
    int perm[SYM_GROUPS][SYM_MAX_N], moved = 0;
    unpack(p, s);
    for (int g = 0; g < SYM_GROUPS; g++) {
        int n = (int)SYM_N[g], size = (int)SYM_SIZE[g], len = size + SYM_GLOBAL;
        for (int j = 0; j < n; j++) {
            const uint8_t *K = SYM_KEY[SYM_FIRST[g] + j], *block = s + SYM_START[g] + j * size;
            for (int b = 0; b < size; b++) key[j][b] = K[block[b]];
            for (int b = 0; b < SYM_GLOBAL; b++) key[j][size + b] = K[s[b]];
        }
        for (int j = 0; j < n; j++) {   /* insertion sort: stable, as Python's sorted() */
            int t = j, i = j;
            for (; i > 0 && memcmp(key[perm[g][i - 1]], key[t], len) > 0; i--) perm[g][i] = perm[g][i - 1];
            perm[g][i] = t;
            moved |= i != j;
        }
    }
    if (!moved) {
        if (out != p) memcpy(out, p, PWIDTH);
        return;
    }
    uint8_t T[256], t[WIDTH];
    for (int v = 0; v < 256; v++) T[v] = (uint8_t)v;
    for (int g = 0; g < SYM_GROUPS; g++)
        for (int j = 0; j < (int)SYM_N[g]; j++) {
            const uint8_t *to = SYM_NAME[SYM_FIRST[g] + j], *from = SYM_NAME[SYM_FIRST[g] + perm[g][j]];
            for (int m = 0; m < (int)SYM_WIDTH[g]; m++) T[from[m]] = to[m];
        }
    for (int b = 0; b < SYM_GLOBAL; b++) t[b] = T[s[b]];
    for (int g = 0; g < SYM_GROUPS; g++) {
        int size = (int)SYM_SIZE[g];
        for (int j = 0; j < (int)SYM_N[g]; j++) {
            const uint8_t *from = s + SYM_START[g] + perm[g][j] * size;
            uint8_t *to = t + SYM_START[g] + j * size;
            for (int b = 0; b < size; b++) to[b] = T[from[b]];
        }
    }
    pack(t, out);
}
#endif

static void sort_by_action(uint8_t *out, int32_t *ks, int c) {
    uint8_t tmp[PWIDTH];
    for (int i = 1; i < c; i++)
        for (int j = i; j > 0 && ks[j - 1] > ks[j]; j--) {
            int32_t k = ks[j]; ks[j] = ks[j - 1]; ks[j - 1] = k;
            memcpy(tmp, out + (size_t)j * PWIDTH, PWIDTH);
            memcpy(out + (size_t)j * PWIDTH, out + (size_t)(j - 1) * PWIDTH, PWIDTH);
            memcpy(out + (size_t)(j - 1) * PWIDTH, tmp, PWIDTH);
        }
}

/* The model (written by cgen.py, after this file). */
static int successors(const uint8_t *s, uint8_t *out, int32_t *ks);
static int holds(int i, const uint8_t *s);
static int checks(int k, const uint8_t *s, const uint8_t *n, int32_t *bad);
static int stuck(const uint8_t *s);
static int finished(int t, const uint8_t *s);
static int halted(const uint8_t *s);
static int leads(int i, int goal, const uint8_t *s);   /* LeadsTo i's trigger (goal 0) or goal (1) */

#if N_ACTIONS < 65535
typedef uint16_t via_t;   /* the action that reached a state, plus one (0: an initial state) */
#else
typedef uint32_t via_t;
#endif
#define NO_PARENT 0xFFFFFFFFu
#define MAX_IDS 0xFFFFFFF0u   /* state ids are 32-bit: past this many states, "out of memory" */

#if TREE
/* The tree store: the keys one node takes, each once: `keys[id]`, a pair of words (each a
 * chunk's value, a node's id or 0), found through an open-addressing index of (key, id + 1)
 * entries. */
typedef struct { uint64_t a, b; } Key;
typedef struct { Key key; uint64_t id; } Slot;
typedef struct { Key *keys; Slot *index; size_t n, cap, mask; int shift; } Nodes;   /* shift: 64 - log2 size */
#define RWIDTH (N_TOP * 4)   /* a stored state: the ids of the top of its tree */
#define N_WORDS (N_CHUNKS + N_NODES + 1)   /* a state's words: its chunks', its nodes', a 0 (NONE) */
#else
#define RWIDTH PWIDTH        /* a stored state: its bits */
#endif

typedef struct {
    uint8_t *states; uint32_t *parent; via_t *via;   /* states: RWIDTH-byte records */
    uint8_t current[PWIDTH + 8];                    /* the state expanded, its bits (and room) */
#if TREE
    Nodes nodes[N_NODES];
    uint64_t current_word[N_WORDS];                 /* the state expanded: its words */
    uint32_t top[N_ACTIONS][N_TOP];                 /* each successor's record */
#endif
    size_t n, cap, head;
    uint32_t *levels; size_t n_levels, levels_cap;   /* the first id of each depth */
    int head_depth;                                 /* the depth of state `head` */
    uint32_t *table; size_t mask;   /* entry: hash bits above the mask's | (id + 1); 0 = empty */
    long long transitions, max_states;
    int max_depth, depth_limited, last_depth, stop_early, pending, done;
    int8_t kind[N_PROPS], goal[N_PROPS], checked[N_ACTIONS];   /* checked: a wanted action property */
    int goal_left, has_goal, deadlock;
    int64_t found[N_PROPS], witness[N_PROPS];   /* state ids, -1 when none */
    int32_t found_action[N_PROPS];             /* action properties: the breaking step */
    uint8_t found_next[N_PROPS][PWIDTH];       /* ... and the state it led to */
    uint8_t scratch[N_ACTIONS][PWIDTH];
    uint8_t room[8];                           /* chunk_value's 8-byte loads past the last successor */
#if SYMMETRY
    uint8_t canonical[N_ACTIONS][PWIDTH];      /* each successor's representative: what is stored */
    uint8_t room_too[8];
#endif
    uint64_t hashes[N_ACTIONS];
    int32_t ks[N_ACTIONS], bad[MAX_CHECKS];
    int por_on; long long expanded, reduced;   /* POR: still trying; states expanded, with an ample set */
    /* The state graph, when kept: state i's edges, in the order its successors were met
     * (repeats kept, as explore.py keeps them), are edge_at[i] to edge_at[i + 1]. */
    int keep_edges;
    uint64_t *edge_at;            /* per state, its first edge; one more than the states */
    uint32_t *edge_dst; via_t *edge_act;
    size_t n_edges, edges_cap;
} Search;

#if SYMMETRY
#define BITS(S, j) ((S)->canonical[j])   /* successor j as stored: its representative's bits */
#else
#define BITS(S, j) ((S)->scratch[j])
#endif
#if TREE
#define RECORD(S, j) ((const uint8_t *)(S)->top[j])
#else
#define RECORD(S, j) ((const uint8_t *)BITS(S, j))
#endif

static uint64_t hash_state(const uint8_t *s) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)RWIDTH, x;
    int i = 0;
    for (; i + 8 <= RWIDTH; i += 8) {
        memcpy(&x, s + i, 8);
        h = (h ^ x) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    x = 0;
    if (RWIDTH % 8) memcpy(&x, s + i, RWIDTH - i);
    h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

/* Whether two records are equal: word by word (memcmp is a call at -O1). */
static inline int same_record(const uint8_t *a, const uint8_t *b) {
    uint64_t x, y;
    int i = 0;
    for (; i + 8 <= RWIDTH; i += 8) {
        memcpy(&x, a + i, 8); memcpy(&y, b + i, 8);
        if (x != y) return 0;
    }
    return RWIDTH % 8 == 0 || !memcmp(a + i, b + i, RWIDTH - i);
}

/* Chunk c of a state's bits; `p` has 8 bytes of room past PWIDTH (one load, no copy loop). */
static inline uint64_t chunk_value(const uint8_t *p, int c) {
    uint64_t v, len = CHUNK_AT[c + 1] - CHUNK_AT[c];
    memcpy(&v, p + CHUNK_AT[c], 8);
    return len >= 8 ? v : v & ((1ull << (len * 8)) - 1);
}

/* Writes chunks in order: each 8-byte store's tail is overwritten by the next chunk, the
 * last one's goes to the room past PWIDTH. */
static inline void set_chunk(uint8_t *p, int c, uint64_t v) { memcpy(p + CHUNK_AT[c], &v, 8); }

#if TREE
/* A key's first slot in a table of 2^(64 - shift): Fibonacci hashing, the product's top
 * bits, which every bit of the key moves (the low bits would ignore a key's high bits). */
static inline size_t key_slot(Key k, int shift) {
    return (size_t)((((k.a * 0x9E3779B97F4A7C15ull) ^ k.b) * 0xC2B2AE3D27D4EB4Full) >> shift);
}

static int grow_node_index(Nodes *T) {
    size_t size = T->mask ? (T->mask + 1) * 2 : 64, mask = size - 1;
    int shift = 64 - __builtin_ctzll(size);
    Slot *ix = calloc(size, sizeof(Slot));
    if (!ix) return 0;
    for (size_t id = 0; id < T->n; id++) {
        size_t at = key_slot(T->keys[id], shift);
        while (ix[at].id) at = (at + 1) & mask;
        ix[at].key = T->keys[id]; ix[at].id = id + 1;
    }
    free(T->index);
    T->index = ix; T->mask = mask; T->shift = shift;
    return 1;
}

/* The id of key (a, b) of a node, added when new; -1 without memory. Not inlined: record_of's
 * loops unroll (constant offsets and kids) into straight code that calls it when a node changed. */
static NOINLINE int64_t intern(Nodes *T, uint64_t a, uint64_t b) {
    Key k = {a, b};
    size_t at = key_slot(k, T->shift);
    for (Slot *e; (e = &T->index[at])->id; at = (at + 1) & T->mask)
        if (e->key.a == a && e->key.b == b) return (int64_t)e->id - 1;
    if (T->n == T->cap) {
        if (T->cap >= MAX_IDS / 2) return -1;
        size_t cap = T->cap ? T->cap * 2 : 64;
        Key *ks = realloc(T->keys, cap * sizeof(Key));
        if (!ks) return -1;
        T->keys = ks; T->cap = cap;
    }
    size_t id = T->n++;
    T->keys[id] = k;
    T->index[at].key = k; T->index[at].id = id + 1;
    if (T->n * 4 > (T->mask + 1) * 3 && !grow_node_index(T)) return -1;
    return (int64_t)id;
}

/* A state's bits `p` from its record, top down, with its words `w`. */
static void load_record(const Search *S, const uint8_t *record, uint8_t *p, uint64_t *w) {
    uint32_t top[N_TOP];
    memcpy(top, record, RWIDTH);
    for (int i = 0; i < N_TOP; i++) w[TOP[i]] = top[i];
    for (int n = N_NODES - 1; n >= 0; n--) {   /* a node's kids come before it */
        Key k = S->nodes[n].keys[w[N_CHUNKS + n]];
        w[NODE_KID[n][0]] = k.a; w[NODE_KID[n][1]] = k.b;
    }
    w[N_WORDS - 1] = 0;
    for (int c = 0; c < N_CHUNKS; c++) set_chunk(p, c, w[c]);
}

/* The record `top` of bits `p`, its nodes interned bottom up; a node whose kids' words are
 * those of a `base` state's (its words; NULL: none) keeps its id. 0, or -1 without memory. */
static int record_of(Search *S, const uint8_t *p, const uint64_t *base, uint32_t *top) {
    uint64_t w[N_WORDS];
#pragma GCC unroll 128
    for (int c = 0; c < N_CHUNKS; c++) w[c] = chunk_value(p, c);
    w[N_WORDS - 1] = 0;
#pragma GCC unroll 128
    for (int n = 0; n < N_NODES; n++) {
        int a = NODE_KID[n][0], b = NODE_KID[n][1];
        if (base && w[a] == base[a] && w[b] == base[b]) { w[N_CHUNKS + n] = base[N_CHUNKS + n]; continue; }
        int64_t k = intern(&S->nodes[n], w[a], w[b]);
        if (k < 0) return -1;
        w[N_CHUNKS + n] = (uint64_t)k;
    }
    for (int i = 0; i < N_TOP; i++) top[i] = (uint32_t)w[TOP[i]];
    return 0;
}
#endif

static int grow_states(Search *S, size_t need) {
    if (need <= S->cap) return 1;
    if (need > MAX_IDS) return 0;
    size_t cap = S->cap ? S->cap : 1024;
    while (cap < need) cap *= 2;
    uint8_t *st = realloc(S->states, cap * RWIDTH);
    if (!st) return 0;
    S->states = st;
    uint32_t *pa = realloc(S->parent, cap * sizeof(uint32_t));
    if (!pa) return 0;
    S->parent = pa;
    via_t *vi = realloc(S->via, cap * sizeof(via_t));
    if (!vi) return 0;
    S->via = vi;
    if (S->keep_edges) {
        uint64_t *at = realloc(S->edge_at, (cap + 1) * sizeof(uint64_t));
        if (!at) return 0;
        S->edge_at = at;
    }
    S->cap = cap;
    return 1;
}

static inline uint32_t tag_of(uint64_t h, size_t mask) { return (uint32_t)(h >> 32) & ~(uint32_t)mask; }

static int grow_table(Search *S) {
    size_t size = (S->mask + 1) * 2, mask = size - 1;
    if (size > ((size_t)1 << 32)) return 0;   /* ids must fit below the mask */
    uint32_t *t = calloc(size, sizeof(uint32_t));
    if (!t) return 0;
    for (size_t id = 0; id < S->n; id++) {
        uint64_t h = hash_state(S->states + id * RWIDTH);
        size_t at = (size_t)h & mask;
        while (t[at]) at = (at + 1) & mask;
        t[at] = tag_of(h, mask) | (uint32_t)(id + 1);
    }
    free(S->table);
    S->table = t;
    S->mask = mask;
    return 1;
}

/* The table slot of record `s` (hash `h`): its entry when stored, else the empty slot where
 * it goes. */
static inline size_t slot_of(const Search *S, const uint8_t *s, uint64_t h) {
    size_t at = (size_t)h & S->mask;
    uint32_t tag = tag_of(h, S->mask), low = (uint32_t)S->mask;
    for (uint32_t e; (e = S->table[at]); at = (at + 1) & S->mask)
        if ((e & ~low) == tag && same_record(S->states + (size_t)((e & low) - 1) * RWIDTH, s)) break;
    return at;
}

/* Stores `s` unless seen: 1 when stored (as id S->n - 1), 0 when seen, -1 without memory.
 * Depths never decrease along the ids (breadth-first): a new depth starts a level. */
static int visit(Search *S, const uint8_t *s, uint64_t h, uint32_t parent, int32_t via, int depth, uint32_t *id_out) {
    size_t at = slot_of(S, s, h);
    if (S->table[at]) {
        *id_out = (S->table[at] & (uint32_t)S->mask) - 1;
        return 0;
    }
    if (!grow_states(S, S->n + 1)) return -1;
    if ((size_t)depth >= S->n_levels) {
        if (S->n_levels == S->levels_cap) {
            size_t cap = S->levels_cap ? S->levels_cap * 2 : 64;
            uint32_t *lv = realloc(S->levels, cap * sizeof(uint32_t));
            if (!lv) return -1;
            S->levels = lv; S->levels_cap = cap;
        }
        S->levels[S->n_levels++] = (uint32_t)S->n;
    }
    size_t id = S->n++;
    *id_out = (uint32_t)id;
    memcpy(S->states + id * RWIDTH, s, RWIDTH);
    S->parent[id] = parent; S->via[id] = (via_t)(via + 1);
    S->table[at] = tag_of(h, S->mask) | (uint32_t)(id + 1);
    if (S->n * 4 > (S->mask + 1) * 3 && !grow_table(S)) return -1;
    return 1;
}

static void decide(Search *S, int i) {
    if (S->goal[i] && --S->goal_left == 0 && S->stop_early && S->has_goal) S->done = 1;
}

/* Goals.met: the undecided invariants a new state breaks, the witnesses it meets. */
static int met(Search *S, int64_t id, const uint8_t *s) {
    for (int i = 0; i < N_PROPS; i++) {
        if (S->kind[i] == K_INVARIANT && S->found[i] < 0 && !holds(i, s)) { S->found[i] = id; decide(S, i); }
        else if (S->kind[i] == K_SOMETIMES && S->witness[i] < 0 && holds(i, s)) { S->witness[i] = id; decide(S, i); }
    }
    return ERR.kind ? -1 : 0;
}

void ic_free(Search *S) {
    if (!S) return;
#if TREE
    for (int n = 0; n < N_NODES; n++) { free(S->nodes[n].keys); free(S->nodes[n].index); }
#endif
    free(S->table); free(S->parent); free(S->via); free(S->states); free(S->levels);
    free(S->edge_at); free(S->edge_dst); free(S->edge_act); free(S);
}

Search *ic_new(const int8_t *kind, const int8_t *goal, const int8_t *checked, int stop_early, long long max_states,
               int max_depth, int keep_edges) {
    Search *S = calloc(1, sizeof(Search));
    if (!S) return NULL;
    S->keep_edges = keep_edges;
    S->por_on = 1;
    memset(&ERR, 0, sizeof ERR);
    S->mask = 1023;
    S->table = calloc(S->mask + 1, sizeof(uint32_t));
    int ok = S->table && grow_states(S, 1024);
#if TREE
    for (int n = 0; n < N_NODES && ok; n++) ok = grow_node_index(&S->nodes[n]);
#endif
    if (!ok) {
        ic_free(S);
        return NULL;
    }
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


/* An initial state (roots()), in Python's byte layout: 1 stored, 0 seen, -1 an error or no memory. */
int ic_root(Search *S, const uint8_t *bytes) {
    uint8_t s[PWIDTH + 8];
    pack(bytes, s);
#if SYMMETRY
    canon(s, s);
#endif
#if TREE
    uint32_t top[N_TOP];
    if (record_of(S, s, NULL, top) < 0) return -1;
    const uint8_t *record = (const uint8_t *)top;
#else
    const uint8_t *record = s;
#endif
    uint32_t id;
    int r = visit(S, record, hash_state(record), NO_PARENT, -1, 0, &id);
    if (r == 1 && met(S, (int64_t)S->n - 1, s) < 0) return -1;
    return r;
}

static int add_edge(Search *S, int k, uint32_t dst) {
    if (S->n_edges == S->edges_cap) {
        size_t cap = S->edges_cap ? S->edges_cap * 2 : 4096;
        uint32_t *d = realloc(S->edge_dst, cap * sizeof(uint32_t));
        if (!d) return -1;
        S->edge_dst = d;
        via_t *a = realloc(S->edge_act, cap * sizeof(via_t));
        if (!a) return -1;
        S->edge_act = a; S->edges_cap = cap;
    }
    S->edge_dst[S->n_edges] = dst; S->edge_act[S->n_edges++] = (via_t)k;
    return 0;
}

#if POR
static inline int overlaps(const uint64_t *a, const uint64_t *b) {
    for (int w = 0; w < POR_WORDS; w++)
        if (a[w] & b[w]) return 1;
    return 0;
}

/* por.Ample.independent: whether thread i's steps at its counter may be taken alone here:
 * invisible, and independent of what the threads without a counter touch and of what every
 * other thread can still read and write from its counter (`values`, as stored). */
static int independent(const uint32_t *values, int i) {
    uint32_t row = POR_FIRST[i] + values[i];
    if (!POR_LOCAL[row]) return 0;
    const uint64_t *reads = POR_READS[row], *writes = POR_WRITES[row];
    if (overlaps(writes, POR_OTHERS_RW) || overlaps(reads, POR_OTHERS_W)) return 0;
    for (int j = 0; j < POR_THREADS; j++) {
        uint32_t u = POR_FIRST[j] + values[j];
        if (j != i && (overlaps(writes, POR_FUTURE_RW[u]) || overlaps(reads, POR_FUTURE_W[u]))) return 0;
    }
    return 1;
}

static void move_successor(Search *S, int from, int to) {
    memcpy(S->scratch[to], S->scratch[from], PWIDTH);
#if SYMMETRY
    memcpy(S->canonical[to], S->canonical[from], PWIDTH);
#endif
#if TREE
    memcpy(S->top[to], S->top[from], sizeof S->top[0]);
#endif
    S->hashes[to] = S->hashes[from]; S->ks[to] = S->ks[from];
}

/* por.Ample.__call__: the steps of the first independent thread, when they are some but not
 * all of the `c` successors and each leads to a state not stored yet (the cycle proviso),
 * moved to the front; their number, or `c`. */
static int ample(Search *S, const uint8_t *state, int c) {
    uint32_t values[POR_THREADS];
    for (int i = 0; i < POR_THREADS; i++) values[i] = get(state, POR_AT[i], POR_MASK[i]);
    for (int i = 0; i < POR_THREADS; i++) {
        if (!independent(values, i)) continue;
        int t = POR_THREAD[i], n = 0, fresh = 1;
        for (int j = 0; j < c; j++) n += POR_OWNER[S->ks[j]] == t;
        for (int j = 0; j < c && fresh && n && n < c; j++)
            if (POR_OWNER[S->ks[j]] == t) fresh = !S->table[slot_of(S, RECORD(S, j), S->hashes[j])];
        if (!n || n >= c || !fresh) continue;
        for (int j = 0, m = 0; j < c; j++)
            if (POR_OWNER[S->ks[j]] == t) move_successor(S, j, m++);
        S->reduced++;
        return n;
    }
    return c;
}
#endif

static int expand(Search *S, size_t sid) {
    const uint8_t *state = S->current;   /* a copy: storing successors may move the records */
#if TREE
    load_record(S, S->states + sid * RWIDTH, S->current, S->current_word);
    if (sid + 1 < S->n) {   /* the next state's top, for its turn */
        uint32_t next[N_TOP];
        memcpy(next, S->states + (sid + 1) * RWIDTH, RWIDTH);
        for (int i = 0; i < N_TOP; i++) __builtin_prefetch(&S->nodes[TOP[i] - N_CHUNKS].keys[next[i]]);
    }
#else
    memcpy(S->current, S->states + sid * RWIDTH, PWIDTH);
#endif
    int c = successors(state, &S->scratch[0][0], S->ks);
    if (c < 0) return ST_ERROR;
    if (!grow_states(S, S->n + (size_t)c)) return ST_NO_MEMORY;
    if (c == 0 && S->deadlock >= 0 && S->found[S->deadlock] < 0) {
        int dead = stuck(state);
        if (ERR.kind) return ST_ERROR;
        if (dead) { S->found[S->deadlock] = (int64_t)sid; decide(S, S->deadlock); }
    }
    for (int j = 0; j < c; j++) {   /* the records; the table's cache misses, started together */
#if SYMMETRY
        canon(S->scratch[j], S->canonical[j]);
#endif
#if TREE   /* unchanged chunks and nodes keep their ids */
        if (record_of(S, BITS(S, j), S->current_word, S->top[j]) < 0) return ST_NO_MEMORY;
#endif
        S->hashes[j] = hash_state(RECORD(S, j));
        __builtin_prefetch(&S->table[S->hashes[j] & S->mask]);
    }
#if POR
    if (c && S->por_on) c = ample(S, state, c);
    if (++S->expanded == 4096 && !S->reduced) S->por_on = 0;   /* explore.py: nothing reduced so far, stop trying */
#endif
    S->transitions += c;
    int d1 = S->head_depth + 1;
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
                    memcpy(S->found_next[i], nxt, PWIDTH);
                    decide(S, i);
                }
            }
        }
        uint32_t id;
        int r = visit(S, RECORD(S, j), S->hashes[j], (uint32_t)sid, k, d1, &id);
        if (r < 0 || (S->keep_edges && add_edge(S, k, id) < 0)) return ST_NO_MEMORY;
        if (r == 1 && met(S, (int64_t)S->n - 1, BITS(S, j)) < 0) return ST_ERROR;
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
        while ((size_t)S->head_depth + 1 < S->n_levels && S->levels[S->head_depth + 1] <= sid) S->head_depth++;
        if (S->keep_edges) S->edge_at[sid] = S->n_edges;   /* states are expanded in id order */
        if (S->max_depth >= 0 && S->head_depth >= S->max_depth) { S->depth_limited = 1; continue; }
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
int ic_width(void) { return PWIDTH; }

/* Once the search is over: the arrays explore.py keeps, parent (-1 for an initial state),
 * action (-1 too) and depth per state. The table goes first and C's parents and actions
 * after, so the peak memory holds one copy; the records and levels stay for ic_state. */
void ic_fill(Search *S, int64_t *parent, int32_t *via, int32_t *depth) {
    free(S->table); S->table = NULL;
    for (size_t id = S->head; S->keep_edges && id <= S->n; id++) S->edge_at[id] = S->n_edges;   /* not expanded */
    for (size_t id = 0; id < S->n; id++) {
        parent[id] = S->parent[id] == NO_PARENT ? -1 : (int64_t)S->parent[id];
        via[id] = (int32_t)S->via[id] - 1;
    }
    for (size_t d = 0; d < S->n_levels; d++) {
        size_t end = d + 1 < S->n_levels ? S->levels[d + 1] : S->n;
        for (size_t id = S->levels[d]; id < end; id++) depth[id] = (int32_t)d;
    }
    free(S->parent); free(S->via);
    S->parent = NULL; S->via = NULL;
}

/* State i's bits (its record's, or loaded from its tree into `room`). */
static const uint8_t *bits_of(Search *S, size_t i, uint8_t *room) {
#if TREE
    uint64_t w[N_WORDS];
    load_record(S, S->states + i * RWIDTH, room, w);
    return room;
#else
    (void)room;
    return S->states + i * RWIDTH;
#endif
}

/* State i in Python's byte layout. */
void ic_state(Search *S, long long i, uint8_t *out) {
    uint8_t room[PWIDTH + 8];
    unpack(bits_of(S, (size_t)i, room), out);
}
long long ic_found(Search *S, int i) { return S->found[i]; }
int ic_found_action(Search *S, int i) { return S->found_action[i]; }
void ic_found_next(Search *S, int i, uint8_t *out) { unpack(S->found_next[i], out); }
long long ic_witness(Search *S, int i) { return S->witness[i]; }
int ic_error(Search *S, int *action, int *var, long long *value) {
    (void)S;
    *action = ERR.action; *var = ERR.var; *value = ERR.value;
    return ERR.kind;
}
long long ic_bytes(Search *S) {   /* memory of the stored states, their arrays and the table */
    long long nodes = 0;
#if TREE
    for (int n = 0; n < N_NODES; n++)
        nodes += S->nodes[n].n * sizeof(Key) + (S->nodes[n].mask + 1) * sizeof(Slot);
#endif
    return (long long)(S->n * (RWIDTH + sizeof(uint32_t) + sizeof(via_t)) + S->n_levels * sizeof(uint32_t) +
                       (S->mask + 1) * sizeof(uint32_t)) + nodes;
}

/* ----- The state graph: hangs and leads-to (graph.py's algorithms, over the kept edges) ----- */

long long ic_edge_count(Search *S) { return (long long)S->n_edges; }
long long ic_reduced(Search *S) { return S->reduced; }   /* states expanded with an ample set */

/* The edges, for Python's lasso paths: per state its first edge, each edge's action (as
 * stored: ic_action_bytes() bytes) and target. */
void ic_edges(Search *S, uint64_t *at, via_t *act, uint32_t *dst) {
    memcpy(at, S->edge_at, (S->n + 1) * sizeof(uint64_t));
    memcpy(act, S->edge_act, S->n_edges * sizeof(via_t));
    memcpy(dst, S->edge_dst, S->n_edges * sizeof(uint32_t));
}
int ic_action_bytes(void) { return (int)sizeof(via_t); }

typedef struct { uint64_t *at; uint32_t *src; } Preds;   /* the reversed edges, by target */

static int preds_of(Search *S, Preds *P) {
    P->at = calloc(S->n + 1, sizeof(uint64_t));
    P->src = malloc((S->n_edges ? S->n_edges : 1) * sizeof(uint32_t));
    if (!P->at || !P->src) return -1;
    for (size_t e = 0; e < S->n_edges; e++) P->at[S->edge_dst[e] + 1]++;
    for (size_t i = 0; i < S->n; i++) P->at[i + 1] += P->at[i];
    uint64_t *fill = malloc((S->n + 1) * sizeof(uint64_t));
    if (!fill) return -1;
    memcpy(fill, P->at, (S->n + 1) * sizeof(uint64_t));
    for (size_t i = 0; i < S->n; i++)
        for (uint64_t e = S->edge_at[i]; e < S->edge_at[i + 1]; e++) P->src[fill[S->edge_dst[e]]++] = (uint32_t)i;
    free(fill);
    return 0;
}

/* Marks (mark[i] = 1) every state that reaches a marked one, through states `allowed` (all
 * when NULL); `queue` holds the marked states' ids, `q` of them. */
static void close_backward(Search *S, const Preds *P, uint8_t *mark, uint32_t *queue, size_t q, const uint8_t *allowed) {
    for (size_t h = 0; h < q; h++)
        for (uint64_t e = P->at[queue[h]]; e < P->at[queue[h] + 1]; e++) {
            uint32_t p = P->src[e];
            if (!mark[p] && (!allowed || allowed[p])) { mark[p] = 1; queue[q++] = p; }
        }
    (void)S;
}

/* graph.find_hang: for each thread, the first state (by id, so shallowest) from which it can
 * never move again, unfinished and not halted; the shallowest of those over the threads (the
 * first thread on a tie). Returns the thread (state in *sid), -1 for none, -2 on an error or
 * without memory (Python then decides it). */
int ic_hang(Search *S, const int32_t *thread_of, int threads, const int32_t *depth, long long *sid) {
    Preds P = {0};
    uint8_t *mark = malloc(S->n + 1), room[PWIDTH + 8];
    uint32_t *queue = malloc((S->n + 1) * sizeof(uint32_t));
    int best = -1;
    if (!mark || !queue || preds_of(S, &P) < 0) best = -2;
    for (int t = 0; t < threads && best != -2; t++) {
        size_t q = 0;
        memset(mark, 0, S->n);
        for (size_t i = 0; i < S->n; i++)
            for (uint64_t e = S->edge_at[i]; e < S->edge_at[i + 1]; e++)
                if (thread_of[S->edge_act[e]] == t) { mark[i] = 1; queue[q++] = (uint32_t)i; break; }
        close_backward(S, &P, mark, queue, q, NULL);
        for (size_t i = 0; i < S->n; i++) {
            if (mark[i]) continue;
            const uint8_t *s = bits_of(S, i, room);
            int stuck_here = !finished(t, s) && !halted(s);
            if (ERR.kind) { best = -2; break; }
            if (!stuck_here) continue;
            if (best < 0 || depth[i] < depth[*sid]) { best = t; *sid = (long long)i; }
            break;
        }
    }
    free(mark); free(queue); free(P.at); free(P.src);
    return best;
}

/* Whether a weakly fair run can stay forever in component `c` (ids in comp[], its states
 * members[0..m)): every thread moves inside it or is disabled somewhere in it. A single
 * state needs a self-loop, or no successor at all (it stutters). */
static int fair(Search *S, const uint32_t *members, size_t m, const int32_t *comp, int c,
                const int32_t *thread_of, int threads) {
    if (m == 1) {
        uint32_t only = members[0];
        if (S->edge_at[only] == S->edge_at[only + 1]) return 1;
        int loop = 0;
        for (uint64_t e = S->edge_at[only]; e < S->edge_at[only + 1]; e++) loop |= S->edge_dst[e] == only;
        if (!loop) return 0;
    }
    for (int t = 0; t < threads; t++) {
        int moves_inside = 0, disabled_somewhere = 0;
        for (size_t j = 0; j < m && !moves_inside && !disabled_somewhere; j++) {
            int enabled = 0;
            for (uint64_t e = S->edge_at[members[j]]; e < S->edge_at[members[j] + 1]; e++)
                if (thread_of[S->edge_act[e]] == t) {
                    enabled = 1;
                    if (comp[S->edge_dst[e]] == c) moves_inside = 1;
                }
            disabled_somewhere = !enabled;
        }
        if (!moves_inside && !disabled_somewhere) return 0;
    }
    return 1;
}

/* The strongly connected components of the graph on the `bad` states (Tarjan's, with an
 * explicit stack): comp[i] = its component's number when a fair run can stay in it, else -1. */
static int fair_components(Search *S, const uint8_t *bad, int32_t *comp, const int32_t *thread_of, int threads) {
    size_t n = S->n;
    uint32_t *index = malloc(n * sizeof(uint32_t)), *low = malloc(n * sizeof(uint32_t));
    uint32_t *stack = malloc(n * sizeof(uint32_t)), *call = malloc(n * sizeof(uint32_t));
    uint64_t *next = malloc(n * sizeof(uint64_t));
    uint8_t *on = calloc(n, 1);
    if (!index || !low || !stack || !call || !next || !on) return -1;
    for (size_t i = 0; i < n; i++) { index[i] = 0; comp[i] = -2; }   /* -2: not yet in a component */
    uint32_t counter = 0; size_t sp = 0; int ncomp = 0;
    for (size_t root = 0; root < n; root++) {
        if (!bad[root] || index[root]) continue;
        size_t cp = 0;
        call[cp++] = (uint32_t)root; index[root] = low[root] = ++counter; next[root] = S->edge_at[root];
        stack[sp++] = (uint32_t)root; on[root] = 1;
        while (cp) {
            uint32_t v = call[cp - 1];
            if (next[v] < S->edge_at[v + 1]) {
                uint32_t w = S->edge_dst[next[v]++];
                if (!bad[w]) continue;
                if (!index[w]) {
                    index[w] = low[w] = ++counter; next[w] = S->edge_at[w];
                    stack[sp++] = w; on[w] = 1; call[cp++] = w;
                } else if (on[w] && index[w] < low[v]) low[v] = index[w];
                continue;
            }
            cp--;
            if (cp && low[v] < low[call[cp - 1]]) low[call[cp - 1]] = low[v];
            if (low[v] != index[v]) continue;
            size_t start = sp;
            do { start--; on[stack[start]] = 0; comp[stack[start]] = ncomp; } while (stack[start] != v);
            int ok = fair(S, stack + start, sp - start, comp, ncomp, thread_of, threads);
            for (size_t j = start; j < sp; j++) comp[stack[j]] = ok ? ncomp : -1;
            sp = start; ncomp++;
        }
    }
    for (size_t i = 0; i < n; i++) if (comp[i] == -2) comp[i] = -1;
    free(index); free(low); free(stack); free(call); free(next); free(on);
    return 0;
}

/* graph.find_leads_to_violation's search for LeadsTo `prop`: bad[i] = its goal is false in
 * state i; comp[i] = the fair component of bad states i is in (-1: none); *start = the first
 * state (by id, so shallowest) where its trigger holds and from which a run can reach such
 * a component through bad states. Returns 1 (found), 0 (none) or -2 (an error or without
 * memory: Python decides it). */
int ic_leads_to(Search *S, int prop, const int32_t *thread_of, int threads, uint8_t *bad, int32_t *comp,
                long long *start) {
    uint8_t room[PWIDTH + 8];
    for (size_t i = 0; i < S->n; i++) {
        bad[i] = !leads(prop, 1, bits_of(S, i, room));
        if (ERR.kind) return -2;
    }
    Preds P = {0};
    uint8_t *doomed = calloc(S->n + 1, 1);
    uint32_t *queue = malloc((S->n + 1) * sizeof(uint32_t));
    int found = -2;
    if (doomed && queue && preds_of(S, &P) == 0 && fair_components(S, bad, comp, thread_of, threads) == 0) {
        size_t q = 0;
        for (size_t i = 0; i < S->n; i++) if (comp[i] >= 0) { doomed[i] = 1; queue[q++] = (uint32_t)i; }
        close_backward(S, &P, doomed, queue, q, bad);
        found = 0;
        for (size_t i = 0; i < S->n && !found; i++) {
            if (!doomed[i]) continue;
            int hit = leads(prop, 0, bits_of(S, i, room));
            if (ERR.kind) { found = -2; break; }
            if (hit) { found = 1; *start = (long long)i; }
        }
    }
    free(doomed); free(queue); free(P.at); free(P.src);
    return found;
}
