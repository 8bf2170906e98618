/*
 * c-verify — reads a whole topic (no consumer group) and prints a record count and a
 * checksum, so StreamForge's system tests and benchmarks can compare a source with its copy.
 *
 *   c-verify [options] BOOTSTRAP TOPIC
 *
 * Options:
 *   --expect N      exit 1 unless exactly N records were read
 *   --partitions    also print one JSON line per partition (to stderr)
 *   --timeout S     give up after S seconds (default 120)
 *   -X key=value    extra consumer configuration
 *
 * Every partition is read from the beginning up to its end (partition EOF, i.e. the high
 * watermark reported by Fetch when the reader got there).
 * Per record:  h = FNV-1a-64 over (key length, key, value length, value, header count,
 *              each header's name length, name, value length, value, timestamp), with
 *              lengths as 8-byte little-endian and -1 for a null key/value/header value.
 * Per partition, in offset order:  c = mix(c ^ h)   (so order within a partition counts)
 * Topic checksum = sum over partitions of mix(c + partition)   (mod 2^64)
 * Offsets are not part of the checksum, so a mirrored copy (same partition numbers, same
 * keys/values/headers/timestamps, in the same order) has the same checksum as its source.
 *
 * Prints one JSON line: {"topic":T,"records":N,"partitions":P,"checksum":"<16 hex>"}
 *
 * Build: cc -O2 -o out/c-verify bench/c-verify.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FNV_OFF 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= FNV_PRIME;
        }
        return h;
}

static uint64_t fnv_i64(uint64_t h, int64_t v) {
        unsigned char b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char)((uint64_t)v >> (8 * i));
        return fnv(h, b, 8);
}

static uint64_t mix(uint64_t x) { /* splitmix64 finaliser */
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return x;
}

static uint64_t record_hash(const rd_kafka_message_t *m) {
        uint64_t h = FNV_OFF;
        h = fnv_i64(h, m->key ? (int64_t)m->key_len : -1);
        if (m->key)
                h = fnv(h, m->key, m->key_len);
        h = fnv_i64(h, m->payload ? (int64_t)m->len : -1);
        if (m->payload)
                h = fnv(h, m->payload, m->len);
        rd_kafka_headers_t *hdrs = NULL;
        size_t cnt = 0;
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
                cnt = rd_kafka_header_cnt(hdrs);
        h = fnv_i64(h, (int64_t)cnt);
        for (size_t i = 0; i < cnt; i++) {
                const char *name;
                const void *val;
                size_t vlen;
                if (rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen))
                        break;
                h = fnv_i64(h, (int64_t)strlen(name));
                h = fnv(h, name, strlen(name));
                h = fnv_i64(h, val ? (int64_t)vlen : -1);
                if (val)
                        h = fnv(h, val, vlen);
        }
        rd_kafka_timestamp_type_t tt;
        h = fnv_i64(h, rd_kafka_message_timestamp(m, &tt));
        return h;
}

static void die(const char *what, const char *detail) {
        fprintf(stderr, "c-verify: %s: %s\n", what, detail);
        exit(2);
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
        int64_t lo, hi, next;
        long long count;
        uint64_t chain;
} part_t;

int main(int argc, char **argv) {
        char errstr[512];
        const char *pos[2];
        int npos = 0, per_part = 0;
        long long expect = -1;
        double timeout = 120;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
#define SET(k, v)                                                                              \
        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)         \
        die(k, errstr)
        SET("group.id", "c-verify-unused"); /* required by the API; never joined */
        SET("enable.auto.commit", "false");
        SET("enable.partition.eof", "true");
        SET("fetch.max.bytes", "52428800");
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
                        expect = atoll(argv[++i]);
                } else if (!strcmp(argv[i], "--partitions")) {
                        per_part = 1;
                } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
                        timeout = atof(argv[++i]);
                } else if (!strcmp(argv[i], "-X") && i + 1 < argc) {
                        char *kv = strdup(argv[++i]);
                        char *eq = strchr(kv, '=');
                        if (!eq)
                                die("bad key=value", kv);
                        *eq = '\0';
                        SET(kv, eq + 1);
                        free(kv);
                } else if (argv[i][0] == '-' || npos == 2) {
                        fprintf(stderr, "usage: c-verify [--expect N] [--partitions] "
                                        "[--timeout S] [-X k=v]... BOOTSTRAP TOPIC\n");
                        return 2;
                } else {
                        pos[npos++] = argv[i];
                }
        }
        if (npos != 2)
                die("usage", "c-verify [options] BOOTSTRAP TOPIC");
        const char *topic = pos[1];
        SET("bootstrap.servers", pos[0]);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("rd_kafka_new", errstr);

        /* Partition count from metadata. */
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (err)
                die("metadata", rd_kafka_err2str(err));
        if (md->topic_cnt != 1 || md->topics[0].err)
                die("metadata", md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topic");
        int np = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);

        /* Read from the beginning to the end each partition had when we got there, as reported
         * by Fetch (partition EOF).  ListOffsets is not used: Tansu 0.6.0 answers "latest"
         * with the last batch's base offset + 1, not the high watermark. */
        part_t *parts = calloc((size_t)np, sizeof(*parts));
        rd_kafka_topic_partition_list_t *asg = rd_kafka_topic_partition_list_new(np);
        for (int p = 0; p < np; p++) {
                parts[p].lo = parts[p].hi = -1;
                rd_kafka_topic_partition_list_add(asg, topic, p)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        }
        int open = np;
        if (np > 0) {
                err = rd_kafka_assign(rk, asg);
                if (err)
                        die("assign", rd_kafka_err2str(err));
        }
        rd_kafka_topic_partition_list_destroy(asg);

        double deadline = now_s() + timeout;
        int failed = 0;
        while (open > 0) {
                if (now_s() > deadline) {
                        fprintf(stderr, "c-verify: timed out with %d partitions unfinished\n", open);
                        failed = 1;
                        break;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
                if (!m)
                        continue;
                if (m->partition < 0 || m->partition >= np) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                part_t *pp = &parts[m->partition];
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (pp->hi < 0) {
                                pp->hi = m->offset;
                                if (pp->lo < 0)
                                        pp->lo = m->offset;
                                open--;
                        }
                } else if (m->err) {
                        fprintf(stderr, "c-verify: %s\n", rd_kafka_message_errstr(m));
                } else if (pp->hi < 0 && m->offset >= pp->next) {
                        if (pp->lo < 0)
                                pp->lo = m->offset;
                        pp->chain = mix(pp->chain ^ record_hash(m));
                        pp->count++;
                        pp->next = m->offset + 1;
                }
                rd_kafka_message_destroy(m);
        }

        long long total = 0;
        uint64_t sum = 0;
        for (int p = 0; p < np; p++) {
                total += parts[p].count;
                sum += mix(parts[p].chain + (uint64_t)p);
                if (per_part)
                        fprintf(stderr,
                                "{\"partition\":%d,\"low\":%" PRId64 ",\"high\":%" PRId64
                                ",\"records\":%lld,\"checksum\":\"%016" PRIx64 "\"}\n",
                                p, parts[p].lo, parts[p].hi, parts[p].count, parts[p].chain);
        }
        printf("{\"topic\":\"%s\",\"records\":%lld,\"partitions\":%d,\"checksum\":\"%016" PRIx64
               "\"}\n",
               topic, total, np, sum);
        fflush(stdout);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        if (failed || (expect >= 0 && total != expect))
                return 1;
        return 0;
}
