/*
 * c-track.h — at-least-once offset tracking for the C mirrors of StreamForge's benchmarks
 * (c-fast.c, c-mirror.c): per source partition, the offset that may be committed is the end of
 * the UNBROKEN run of delivered records, never the highest delivered offset.
 *
 * Why: delivery reports of one partition normally arrive in order, but a record whose delivery
 * failed is followed by later records that succeeded (another batch, a retry that succeeded, a
 * failed batch followed by a good one). Committing "highest delivered + 1" would then commit
 * past the failed record, and a restart would never read it again: a loss.
 *
 * How: every consumed record gets a slot in a per-partition ring, in consumption (= offset)
 * order, identified by a sequence number. Its delivery report marks the slot delivered or
 * failed. The head of the ring advances over delivered slots only, and the committable offset
 * is (offset of the last slot passed) + 1. A failed slot stops the head for good: nothing past
 * it is ever stored, so a restart re-reads from the failed record (duplicates, never a loss).
 * Gaps in the source offsets (compaction, transaction markers) need nothing: the ring holds only
 * records that were read.
 *
 * The ring grows (doubling) when more records of one partition are in flight than it holds, so
 * it needs no bound on the producer's queue. Cost per record: one slot write at push and one at
 * delivery, no allocation in the steady state.
 *
 * The delivery report finds its slot from a 64-bit token (the produced message's opaque):
 * 24 bits of partition index (chosen by the caller) and 40 bits of sequence number.
 */
#ifndef C_TRACK_H
#define C_TRACK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TRK_SEQ_BITS 40
#define TRK_SEQ_MASK ((UINT64_C(1) << TRK_SEQ_BITS) - 1)

enum { TRK_PENDING = 0, TRK_DELIVERED = 1, TRK_FAILED = 2 };

typedef struct {
        int64_t offset; /* source offset of the record */
        void *msg;      /* what the caller keeps until delivery (the consumed message), or NULL */
        uint8_t state;
} trk_slot_t;

typedef struct {
        trk_slot_t *ring;
        uint64_t cap;      /* power of two, 0 before the first push */
        uint64_t head;     /* sequence number of the oldest record not yet passed */
        uint64_t tail;     /* sequence number the next pushed record gets */
        int64_t last;      /* offset of the last pushed record, -1 before any */
        int64_t commit;    /* next offset to commit: end of the unbroken delivered run; -1 none */
        int64_t stored;    /* what was last handed to rd_kafka_offsets_store; -1 none */
        int failed;        /* a delivery failed: the run ends there for good */
} trk_part_t;

static inline void trk_init(trk_part_t *p) {
        memset(p, 0, sizeof(*p));
        p->last = p->commit = p->stored = -1;
}

/* Forget everything (partition revoked, or assigned anew): the ring is kept for reuse. */
static inline void trk_reset(trk_part_t *p) {
        trk_slot_t *ring = p->ring;
        uint64_t cap = p->cap;
        trk_init(p);
        p->ring = ring;
        p->cap = cap;
}

static inline uint64_t trk_inflight(const trk_part_t *p) { return p->tail - p->head; }

static void trk_grow(trk_part_t *p) {
        uint64_t ncap = p->cap ? p->cap * 2 : 1024;
        trk_slot_t *n = malloc(sizeof(*n) * ncap);
        if (!n)
                abort();
        for (uint64_t s = p->head; s < p->tail; s++)
                n[s & (ncap - 1)] = p->ring[s & (p->cap - 1)];
        free(p->ring);
        p->ring = n;
        p->cap = ncap;
}

/* A record was read: returns its sequence number, or -1 when its offset does not follow the
 * last one pushed (a record read twice or out of order: the caller must not produce it, as the
 * run could not be tracked). */
static inline int64_t trk_push(trk_part_t *p, int64_t offset, void *msg) {
        if (offset <= p->last)
                return -1;
        if (p->tail - p->head == p->cap)
                trk_grow(p);
        trk_slot_t *s = &p->ring[p->tail & (p->cap - 1)];
        s->offset = offset;
        s->msg = msg;
        s->state = TRK_PENDING;
        p->last = offset;
        return (int64_t)(p->tail++ & TRK_SEQ_MASK);
}

static inline uint64_t trk_token(uint32_t pidx, int64_t seq) {
        return ((uint64_t)pidx << TRK_SEQ_BITS) | (uint64_t)seq;
}
static inline uint32_t trk_token_pidx(uint64_t token) { return (uint32_t)(token >> TRK_SEQ_BITS); }

/* The slot a token names (sequence numbers wrap at 2^40: the full one is rebuilt from the
 * head, which is at most cap < 2^40 behind). */
static inline trk_slot_t *trk_slot(trk_part_t *p, uint64_t token) {
        uint64_t seq = token & TRK_SEQ_MASK;
        uint64_t full = (p->head & ~TRK_SEQ_MASK) | seq;
        if (full < p->head)
                full += UINT64_C(1) << TRK_SEQ_BITS;
        if (full >= p->tail)
                return NULL;
        return &p->ring[full & (p->cap - 1)];
}

/* A delivery report: marks the record delivered (ok) or failed, and moves the head over every
 * delivered record at the front. Returns 1 when the committable offset advanced. */
static inline int trk_done(trk_part_t *p, trk_slot_t *s, int ok) {
        s->msg = NULL;
        if (!ok) {
                s->state = TRK_FAILED;
                p->failed = 1;
                return 0;
        }
        s->state = TRK_DELIVERED;
        int moved = 0;
        while (p->head < p->tail) {
                trk_slot_t *h = &p->ring[p->head & (p->cap - 1)];
                if (h->state != TRK_DELIVERED)
                        break;
                p->commit = h->offset + 1;
                p->head++;
                moved = 1;
        }
        return moved;
}

#endif
