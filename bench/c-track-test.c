/*
 * c-track-test — checks c-track.h, the offset tracking of the C mirrors: the committable offset
 * never passes a record that was not delivered, whatever order delivery reports arrive in.
 *
 * Random runs: records with gapped offsets are pushed, reports come back in random order, some
 * fail; after every report the committable offset must equal the end of the longest delivered
 * prefix of the pushed records. Also: ring growth with many records in flight, and sequence
 * numbers that wrap at 2^40.
 *
 * Build and run: cc -O2 -o out/c-track-test bench/c-track-test.c && out/c-track-test
 */
#include <stdio.h>
#include <stdlib.h>

#include "c-track.h"

static int failures;
#define CHECK(c, ...)                                                                          \
        do {                                                                                   \
                if (!(c)) {                                                                    \
                        fprintf(stderr, "c-track-test: %s:%d: ", __FILE__, __LINE__);         \
                        fprintf(stderr, __VA_ARGS__);                                          \
                        fprintf(stderr, "\n");                                                 \
                        failures++;                                                            \
                }                                                                              \
        } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

/* One random scenario of n records; fail_per_mille of them fail. */
static void scenario(int n, int fail_per_mille, uint64_t start_seq) {
        trk_part_t p;
        trk_init(&p);
        p.head = p.tail = start_seq; /* to cross the 2^40 wrap */
        int64_t *offs = malloc(sizeof(*offs) * (size_t)n);
        uint64_t *tokens = malloc(sizeof(*tokens) * (size_t)n);
        int *order = malloc(sizeof(*order) * (size_t)n);
        int *state = calloc((size_t)n, sizeof(*state)); /* 0 pending, 1 ok, 2 failed */
        int64_t off = (int64_t)(next() % 1000);
        for (int i = 0; i < n; i++) {
                off += 1 + (int64_t)(next() % 3 == 0 ? next() % 5 : 0); /* gaps */
                offs[i] = off;
                int64_t seq = trk_push(&p, off, NULL);
                CHECK(seq >= 0, "push %d refused", i);
                tokens[i] = trk_token(7, seq);
                order[i] = i;
        }
        CHECK(trk_push(&p, off, NULL) < 0, "an offset pushed twice was accepted");
        CHECK(trk_inflight(&p) == (uint64_t)n, "in flight %llu, want %d",
              (unsigned long long)trk_inflight(&p), n);
        /* Reports in random order, but mostly close to push order, like real ones. */
        for (int i = 0; i < n; i++) {
                int j = i + (int)(next() % (uint64_t)(n - i < 64 ? n - i : 64));
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
        }
        int prefix = 0;
        for (int k = 0; k < n; k++) {
                int i = order[k];
                CHECK(trk_token_pidx(tokens[i]) == 7, "token lost its partition index");
                trk_slot_t *s = trk_slot(&p, tokens[i]);
                CHECK(s && s->offset == offs[i], "slot of record %d not found", i);
                if (!s)
                        continue;
                int ok = (int)(next() % 1000) >= fail_per_mille;
                state[i] = ok ? 1 : 2;
                trk_done(&p, s, ok);
                /* Plain way: the end of the delivered prefix of the pushed records. */
                while (prefix < n && state[prefix] == 1)
                        prefix++;
                int64_t want = prefix ? offs[prefix - 1] + 1 : -1;
                CHECK(p.commit == want, "after report %d: commit %lld, want %lld", k,
                      (long long)p.commit, (long long)want);
        }
        free(offs);
        free(tokens);
        free(order);
        free(state);
        free(p.ring);
}

int main(void) {
        for (int r = 0; r < 200; r++)
                scenario(1 + (int)(next() % 3000), r % 4 == 0 ? 0 : (int)(next() % 5), 0);
        /* More in flight than the first ring holds, and a sequence crossing 2^40. */
        scenario(100000, 0, 0);
        scenario(5000, 1, (UINT64_C(1) << 40) - 2000);
        /* A reset partition ignores reports of its earlier records. */
        trk_part_t p;
        trk_init(&p);
        uint64_t tok = trk_token(1, trk_push(&p, 10, NULL));
        trk_reset(&p);
        CHECK(trk_slot(&p, tok) == NULL, "a report after reset found a slot");
        free(p.ring);
        if (failures) {
                fprintf(stderr, "c-track-test: %d failures\n", failures);
                return 1;
        }
        printf("c-track-test: ok\n");
        return 0;
}
