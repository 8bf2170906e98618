// The JSON scanner's innermost loops: find the end of a string, skip the rest of containers.
// In C because they use 16-byte SSE2 compares and movemask, which Swift's SIMD types do not
// expose (no lane mask to bits); elsewhere the same loops run on 8-byte words (SWAR). The
// functions are static inline: Swift inlines them into the scanner like its own code.
//
// Positions are byte offsets into `base[0 ..< count]`; -1 means the text ends first.

#ifndef SF_JSON_SCAN_H
#define SF_JSON_SCAN_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// The first `"` or `\` flag in 8 bytes (bit 7 of the byte; only the lowest flag is exact).
static inline uint64_t sf_swar_zero(uint64_t v) {
    return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
}

static inline uint64_t sf_load8(const uint8_t *p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

/// `p` just after an opening quote: the offset after the closing quote, or -1 if the string
/// does not end; `*escaped` is set when the string holds a backslash escape. Callers that do not
/// need the flag pass a local, which the inlined code drops.
static inline long sf_string_scan(const uint8_t *base, long count, long p, int *escaped) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    while (p + 16 <= count) {
        __m128i v = _mm_loadu_si128((const __m128i *)(base + p));
        unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
        unsigned b = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash));
        // The first quote before any backslash ends the string.
        if (q & (b - 1) & ~b) return p + __builtin_ctz(q) + 1;
        if (b == 0) { p += 16; continue; }
        // A backslash first: skip it and the byte it escapes.
        *escaped = 1;
        p += __builtin_ctz(b) + 2;
    }
#else
    while (p + 8 <= count) {
        uint64_t v = sf_load8(base + p);
        uint64_t q = sf_swar_zero(v ^ 0x2222222222222222ULL), b = sf_swar_zero(v ^ 0x5C5C5C5C5C5C5C5CULL);
        if ((q | b) == 0) { p += 8; continue; }
        unsigned tq = q ? (unsigned)__builtin_ctzll(q) : 64u, tb = b ? (unsigned)__builtin_ctzll(b) : 64u;
        if (tq < tb) return p + (long)(tq >> 3) + 1;
        *escaped = 1;
        p += (long)(tb >> 3) + 2;
    }
#endif
    while (p < count) {
        uint8_t c = base[p];
        if (c == '"') return p + 1;
        if (c == '\\') { *escaped = 1; p += 2; } else { p += 1; }
    }
    return -1;
}

/// `p` just after an opening quote: the offset after the closing quote, or -1.
static inline long sf_string_end(const uint8_t *base, long count, long p) {
    int escaped = 0;
    return sf_string_scan(base, count, p, &escaped);
}

/// One step of `sf_skip_open` from `p` (outside strings): to and over the next string or
/// bracket. Returns the new offset, or -1 when the text ends first; `*closed` is set when the
/// bracket closed the outermost container (the offset is then just past it).
static inline long sf_skip_token(const uint8_t *base, long count, long p, long *depth, int *closed) {
#if defined(__SSE2__)
    while (p + 16 <= count) {
        __m128i v = _mm_loadu_si128((const __m128i *)(base + p));
        __m128i w = _mm_or_si128(v, _mm_set1_epi8(0x20));   // '[' -> '{', ']' -> '}'
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                   _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8('{')),
                                                _mm_cmpeq_epi8(w, _mm_set1_epi8('}'))));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m != 0) { p += __builtin_ctz(m); goto found; }
        p += 16;
    }
#else
    while (p + 8 <= count) {
        uint64_t v = sf_load8(base + p), w = v | 0x2020202020202020ULL;
        uint64_t m = sf_swar_zero(v ^ 0x2222222222222222ULL) | sf_swar_zero(w ^ 0x7B7B7B7B7B7B7B7BULL)
            | sf_swar_zero(w ^ 0x7D7D7D7D7D7D7D7DULL);
        if (m != 0) { p += __builtin_ctzll(m) >> 3; goto found; }
        p += 8;
    }
#endif
    while (p < count && base[p] != '"' && (base[p] | 0x20) != '{' && (base[p] | 0x20) != '}') p += 1;
    if (p >= count) return -1;
found:
    if (base[p] == '"') return sf_string_end(base, count, p + 1);
    if ((base[p] | 0x20) == '{') {
        *depth += 1;
    } else if (--*depth == 0) {
        *closed = 1;
    }
    return p + 1;
}

#if defined(__SSE2__)
/// Bit i set where byte i of the 64 at `p` equals `c` (after `or` with `mask`).
static inline uint64_t sf_eq64(const uint8_t *p, char c, char mask) {
    const __m128i want = _mm_set1_epi8(c), m = _mm_set1_epi8(mask);
    uint64_t r = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + 16 * k)), m);
        r |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, want)) << (16 * k);
    }
    return r;
}

/// Bit i set when an odd number of the bits 0...i of `x` are set: with `x` the quotes of a block
/// that starts outside strings, the bytes inside strings (opening quote included).
static inline uint64_t sf_prefix_xor(uint64_t x) {
    x ^= x << 1; x ^= x << 2; x ^= x << 4; x ^= x << 8; x ^= x << 16; x ^= x << 32;
    return x;
}
#endif

/// Skips the rest of containers from `p` (outside strings), `depth` levels deep: the offset
/// after the bracket that closes the outermost one, or -1. Brackets are counted, strings jumped
/// over; nothing else is checked. With SSE2, 64 bytes at a time as simdjson's first stage does:
/// the quotes' prefix XOR masks the brackets inside strings, and a block is crossed with two
/// population counts unless the depth can reach zero in it. A block holding a backslash goes
/// token by token.
static inline long sf_skip_open(const uint8_t *base, long count, long p, long depth) {
    int closed = 0;
    for (;;) {
#if defined(__SSE2__)
        if (p + 64 <= count) {
            const uint8_t *b = base + p;
            if (sf_eq64(b, '\\', 0) == 0) {
                uint64_t in = sf_prefix_xor(sf_eq64(b, '"', 0));
                uint64_t open = sf_eq64(b, '{', 0x20) & ~in, close = sf_eq64(b, '}', 0x20) & ~in;
                long nclose = __builtin_popcountll(close);
                if (nclose < depth) {
                    depth += __builtin_popcountll(open) - nclose;
                } else {
                    uint64_t all = open | close;
                    while (all) {
                        unsigned k = (unsigned)__builtin_ctzll(all);
                        if ((open >> k) & 1) { depth += 1; } else if (--depth == 0) { return p + k + 1; }
                        all &= all - 1;
                    }
                }
                p += 64;
                if (in >> 63) {
                    // The block ends inside a string (and no backslash precedes): to its end.
                    p = sf_string_end(base, count, p);
                    if (p < 0) return -1;
                }
                continue;
            }
            long stop = p + 64;
            while (p < stop) {
                p = sf_skip_token(base, count, p, &depth, &closed);
                if (p < 0 || closed) return p;
            }
            continue;
        }
#endif
        if (p >= count) return -1;
        p = sf_skip_token(base, count, p, &depth, &closed);
        if (p < 0 || closed) return p;
    }
}

/// The first offset in `[p, end)` holding a `"` or a byte up to 0x20 (whitespace or a control
/// byte), or `end`.
static inline long sf_next_quote_or_space(const uint8_t *base, long end, long p) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), space = _mm_set1_epi8(0x20);
    while (p + 16 <= end) {
        __m128i v = _mm_loadu_si128((const __m128i *)(base + p));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(_mm_max_epu8(v, space), space));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m != 0) return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && base[p] != '"' && base[p] > 0x20) p += 1;
    return p;
}

/// Copies `base[start ..< end]` (one JSON value) to `dst` with the whitespace outside strings
/// dropped; returns the bytes written. Compact input is one run, copied with one memcpy.
static inline long sf_copy_compact(const uint8_t *base, long start, long end, uint8_t *dst) {
    long p = start, run = start, w = 0;
    while (p < end) {
        long q = sf_next_quote_or_space(base, end, p);
        if (q >= end) break;
        if (base[q] == '"') {
            long e = sf_string_end(base, end, q + 1);
            p = e < 0 ? end : e;
            continue;
        }
        uint8_t c = base[q];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            __builtin_memcpy(dst + w, base + run, (size_t)(q - run));
            w += q - run;
            run = q + 1;
        }
        p = q + 1;
    }
    __builtin_memcpy(dst + w, base + run, (size_t)(end - run));
    return w + (end - run);
}

#endif
