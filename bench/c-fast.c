/*
 * c-fast — the fastest at-least-once mirror we know how to write on librdkafka: the reference
 * ("a") that `make bench` holds StreamForge against.
 *
 *   c-fast [options] BOOTSTRAP GROUP SOURCES TARGET COUNT
 *
 *   SOURCES  comma-separated source topics
 *   TARGET   target topic name; "+SUFFIX" means <source>SUFFIX for each source
 *   COUNT    stop once this many records have been delivered to the target (0: run until
 *            SIGINT/SIGTERM)
 *
 * Options:
 *   -X key=value    extra consumer AND producer configuration (repeatable)
 *   -C key=value    extra consumer configuration
 *   -P key=value    extra producer configuration
 *   --batch N       records per rd_kafka_consume_batch_queue call (default 4096)
 *   -q              no progress on stderr
 *
 * What it guarantees (at-least-once):
 *  - a record's offset is stored (rd_kafka_offsets_store, enable.auto.offset.store=false) only
 *    when it and every record read before it from the same partition were acknowledged by the
 *    target (c-track.h: per partition, a ring of the records in flight; the committable offset is
 *    the end of the unbroken delivered run, so a failed record is never committed past);
 *  - the producer is idempotent (enable.idempotence=true, hence acks=all): a retried request
 *    neither duplicates nor reorders on a Kafka broker;
 *  - a delivery that fails for good stops the loop: the unbroken runs are committed and the
 *    program exits 1, so a restart reads the failed record again;
 *  - on revocation the producer is flushed and offsets stored and committed before the
 *    partitions are given up; records of a partition revoked while they sat in a batch are not
 *    produced (the next owner reads them from the committed offset);
 *  - key, value, headers, timestamp and the partition number are kept (same partition of the
 *    target topic).
 *
 * Why it is fast (the choices, and what was tried):
 *  - batch consumption: rd_kafka_consume_batch_queue on the consumer queue, 4096 records per
 *    call, instead of one rd_kafka_consumer_poll (one queue operation, one lock) per record;
 *  - zero copy: key and value are produced from the consumed message's buffers (no
 *    RD_KAFKA_MSG_F_COPY) and the consumed message is destroyed in its delivery report; headers
 *    are detached from the consumed message and handed to the producer, not copied;
 *  - offsets are stored once per batch, only for the partitions whose unbroken run advanced,
 *    and committed by librdkafka's auto-commit (which commits stored offsets only, every 5 s),
 *    plus a final synchronous commit; no per-record allocation for the tracking;
 *  - prefetch: queued.min.messages=1000000 and queued.max.messages.kbytes=262144, because
 *    librdkafka's 100 000-record bound stops fetching long before its byte bound for small
 *    records (StreamForge measured 1.6x on 200-byte records for the same reason), and
 *    max.partition.fetch.bytes=4 MiB so that a fetch brings more than 1 MB per partition;
 *  - producer: queue.buffering.max.messages=1000000 and 1 GiB, so the loop never waits on a full
 *    producer queue while a request is on the wire; batch.num.messages=100000 with
 *    batch.size=1000000 (the broker's default message.max.bytes), so a request carries all that
 *    waits for a partition, up to 1 MB, and the request count rather than the record count sets
 *    the cost; linger.ms=5: when the consumer is ahead, batches fill before it expires anyway,
 *    and it keeps batches from being cut small between two consume calls; no compression (the
 *    target is on loopback here; on a real network lz4 may pay);
 *  - max.in.flight.requests.per.connection=1: one Produce request per broker connection. With
 *    more, librdkafka's idempotent producer takes a later request's success as proof that an
 *    earlier failed one was written ("implicit ack"), which only holds on a broker that checks
 *    producer sequences (Kafka does; the devbroker, librdkafka's mock cluster, does not: see
 *    docs/reliability.md), so five is not at-least-once everywhere. With every waiting record of
 *    a partition in the next request, one in flight leaves the loop consumer-bound here.
 * Tried on the devbroker (1 M records of 200 B, 64 partitions, the shared 2-core development
 * machine) and not kept, because none was faster beyond the run-to-run noise (which is large
 * there, ±40 %): five requests in flight; 1 MB partition fetches with 128 MB of prefetch;
 * 1024- and 65536-record consume batches; a 200 000-record producer queue; linger.ms 0 and 20.
 * A profile shows the time in librdkafka itself (message and buffer allocation, locks, the
 * clock read per produced message), not in this loop.
 *
 * Prints one JSON line:
 *   {"records":N,"seconds":S,"cpu_seconds":C,"records_per_sec":R,
 *    "first_record_seconds":F,"steady_records_per_sec":SR,"max_inflight":M}
 * seconds is wall time from start to after the final commit; cpu_seconds is user+system of this
 * process; steady_* excludes the time before the first record arrived (connection, group join).
 *
 * Build: cc -O2 -o out/c-fast bench/c-fast.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "c-track.h"

#define MAX_TOPICS 64
#define MAX_PARTITIONS 65536

typedef struct {
        char *name;
        char *target;
        rd_kafka_topic_t *rkt;      /* target topic handle */
        const rd_kafka_topic_t *in; /* the consumer's handle of this topic, once seen */
        trk_part_t *parts;
        uint8_t *assigned;
        int nparts;
} src_t;

static src_t srcs[MAX_TOPICS];
static int nsrcs;
static long long delivered_ok, delivered_err, produced;
static rd_kafka_resp_err_t first_err;
static rd_kafka_t *consumer, *producer;
static volatile sig_atomic_t stop;
static long long skipped; /* records read again in one batch across a revoke and re-assign */
/* partitions whose unbroken run advanced since the last store: si << 16 | partition */
static uint32_t *dirty;
static size_t ndirty, capdirty;

static void on_signal(int sig) {
        (void)sig;
        stop = 1;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *detail) {
        fprintf(stderr, "c-fast: %s: %s\n", what, detail);
        exit(2);
}

static int src_by_name(const char *topic) {
        for (int i = 0; i < nsrcs; i++)
                if (!strcmp(srcs[i].name, topic))
                        return i;
        return -1;
}

static int src_of(const rd_kafka_topic_t *rkt) {
        for (int i = 0; i < nsrcs; i++)
                if (srcs[i].in == rkt)
                        return i;
        int si = src_by_name(rd_kafka_topic_name(rkt));
        if (si >= 0)
                srcs[si].in = rkt;
        return si;
}

static trk_part_t *part(int si, int32_t partition) {
        src_t *s = &srcs[si];
        if (partition < 0 || partition >= MAX_PARTITIONS)
                die("partition", "out of range");
        if (partition >= s->nparts) {
                int n = partition + 1 > 2 * s->nparts ? partition + 1 : 2 * s->nparts;
                s->parts = realloc(s->parts, sizeof(*s->parts) * (size_t)n);
                s->assigned = realloc(s->assigned, (size_t)n);
                for (int i = s->nparts; i < n; i++) {
                        trk_init(&s->parts[i]);
                        s->assigned[i] = 0;
                }
                s->nparts = n;
        }
        return &s->parts[partition];
}

static void mark_dirty(uint32_t pidx) {
        if (ndirty == capdirty) {
                capdirty = capdirty ? capdirty * 2 : 256;
                dirty = realloc(dirty, sizeof(*dirty) * capdirty);
        }
        dirty[ndirty++] = pidx;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        uint64_t token = (uint64_t)(uintptr_t)m->_private;
        uint32_t pidx = trk_token_pidx(token);
        int si = (int)(pidx >> 16);
        trk_part_t *p = part(si, (int32_t)(pidx & 0xffff));
        trk_slot_t *s = trk_slot(p, token);
        if (!s) {
                /* A report for a partition reset since (revoked after a flush that timed out):
                 * nothing of it is stored any more. */
                return;
        }
        rd_kafka_message_destroy((rd_kafka_message_t *)s->msg);
        if (m->err) {
                if (!delivered_err)
                        first_err = m->err;
                delivered_err++;
                trk_done(p, s, 0);
                return;
        }
        delivered_ok++;
        if (trk_done(p, s, 1) && p->commit > p->stored)
                mark_dirty(pidx);
}

/* Hand every partition whose unbroken run advanced to offsets_store, in one call. */
static void store_delivered(void) {
        if (!ndirty)
                return;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)ndirty);
        for (size_t i = 0; i < ndirty; i++) {
                int si = (int)(dirty[i] >> 16);
                int32_t pn = (int32_t)(dirty[i] & 0xffff);
                trk_part_t *p = &srcs[si].parts[pn];
                if (p->commit > p->stored && srcs[si].assigned[pn]) {
                        rd_kafka_topic_partition_list_add(l, srcs[si].name, pn)->offset = p->commit;
                        p->stored = p->commit;
                }
        }
        ndirty = 0;
        if (l->cnt > 0) {
                /* Per-partition errors (ERR__STATE: not assigned any more) are ignored: that
                 * partition's offsets are another member's business now. */
                rd_kafka_offsets_store(consumer, l);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

static void set_assigned(const rd_kafka_topic_partition_list_t *parts, int on) {
        for (int i = 0; i < parts->cnt; i++) {
                int si = src_by_name(parts->elems[i].topic);
                if (si < 0)
                        continue;
                trk_part_t *p = part(si, parts->elems[i].partition);
                srcs[si].assigned[parts->elems[i].partition] = (uint8_t)on;
                trk_reset(p);
        }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
        (void)opaque;
        rd_kafka_error_t *e = NULL;
        int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                set_assigned(parts, 1);
                if (coop)
                        e = rd_kafka_incremental_assign(rk, parts);
                else
                        rd_kafka_assign(rk, parts);
        } else {
                /* Finish what is in flight for the partitions we are about to lose, store and
                 * commit their unbroken runs, then forget them. */
                if (rd_kafka_flush(producer, 30000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
                        fprintf(stderr, "c-fast: revoke: flush timed out, records in flight "
                                        "are read again by the next owner\n");
                store_delivered();
                if (!rd_kafka_assignment_lost(rk))
                        rd_kafka_commit(rk, NULL, 0);
                set_assigned(parts, 0);
                if (coop)
                        e = rd_kafka_incremental_unassign(rk, parts);
                else
                        rd_kafka_assign(rk, NULL);
        }
        if (e) {
                fprintf(stderr, "c-fast: rebalance: %s\n", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        }
        /* No rd_kafka_yield() here. With a yield (to return the batch at the rebalance), the
         * first record at the committed offset of a partition was missing from the target in
         * about one restart in three (`make bench-faults`; never again without it, and the
         * consumer had handed it to no one): librdkafka 2.0.2's batch call appears to drop the
         * fetched message it dequeues after a callback yielded, with the position past it.
         * Messages of a batch that straddles a rebalance are sorted out by the caller: those
         * of a partition no longer assigned are dropped, and a partition revoked and assigned
         * again within the batch is read again from its committed offset, which is where its
         * records in the batch start (the revocation delivered and committed everything before
         * them), so the copies read again are skipped by trk_push's order check. */
}

static void conf_kv(rd_kafka_conf_t *c, const char *arg) {
        char errstr[512];
        char *kv = strdup(arg);
        char *eq = strchr(kv, '=');
        if (!eq)
                die("bad key=value", arg);
        *eq = '\0';
        if (rd_kafka_conf_set(c, kv, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die(kv, errstr);
        free(kv);
}

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v) {
        char errstr[512];
        if (rd_kafka_conf_set(c, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die(k, errstr);
}

static void usage(void) {
        fprintf(stderr, "usage: c-fast [-X|-C|-P key=value]... [--batch N] [-q] "
                        "BOOTSTRAP GROUP SOURCES TARGET COUNT\n");
        exit(2);
}

/* Produce one consumed record; returns 0, or -1 on a produce error other than a full queue. */
static int produce(rd_kafka_message_t *m, int si) {
        trk_part_t *p = part(si, m->partition);
        int64_t seq = trk_push(p, m->offset, m);
        if (seq < 0) {
                /* Read again after a revoke and re-assign within one batch: the copy read
                 * first is already produced (see rebalance_cb). */
                skipped++;
                rd_kafka_message_destroy(m);
                return 0;
        }
        uint64_t token = trk_token(((uint32_t)si << 16) | (uint32_t)m->partition, seq);
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_message_detach_headers(m, &hdrs);
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        rd_kafka_vu_t vus[8];
        int n = 0;
        vus[n].vtype = RD_KAFKA_VTYPE_RKT;
        vus[n++].u.rkt = srcs[si].rkt;
        vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
        vus[n++].u.i32 = m->partition;
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = m->key;
        vus[n++].u.mem.size = m->key_len;
        vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
        vus[n].u.mem.ptr = m->payload;
        vus[n++].u.mem.size = m->len;
        if (tstype != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
                vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
                vus[n++].u.i64 = ts;
        }
        if (hdrs) {
                vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
                vus[n++].u.headers = hdrs;
        }
        vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
        vus[n++].u.ptr = (void *)(uintptr_t)token;
        for (;;) {
                rd_kafka_error_t *e = rd_kafka_produceva(producer, vus, (size_t)n);
                if (!e) {
                        produced++;
                        return 0;
                }
                if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        rd_kafka_error_destroy(e);
                        rd_kafka_poll(producer, 1);
                        continue;
                }
                fprintf(stderr, "c-fast: produce: %s\n", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                /* Marked failed: nothing past it is ever stored. */
                trk_slot_t *s = trk_slot(p, token);
                if (s)
                        trk_done(p, s, 0);
                rd_kafka_message_destroy(m);
                return -1;
        }
}

int main(int argc, char **argv) {
        double t0 = now_s();
        char errstr[512];
        const char *pos[5];
        int npos = 0, quiet = 0;
        size_t batch = 4096;
        rd_kafka_conf_t *cconf = rd_kafka_conf_new();
        rd_kafka_conf_t *pconf = rd_kafka_conf_new();

        conf_set(cconf, "enable.auto.offset.store", "false");
        conf_set(cconf, "enable.auto.commit", "true");
        conf_set(cconf, "partition.assignment.strategy", "cooperative-sticky");
        conf_set(cconf, "auto.offset.reset", "earliest");
        conf_set(cconf, "session.timeout.ms", "6000");
        conf_set(cconf, "enable.partition.eof", "false");
        conf_set(cconf, "queued.min.messages", "1000000");
        conf_set(cconf, "queued.max.messages.kbytes", "262144");
        conf_set(cconf, "max.partition.fetch.bytes", "4194304");
        conf_set(pconf, "enable.idempotence", "true");
        conf_set(pconf, "acks", "all");
        conf_set(pconf, "max.in.flight.requests.per.connection", "1");
        conf_set(pconf, "linger.ms", "5");
        conf_set(pconf, "batch.num.messages", "100000");
        conf_set(pconf, "batch.size", "1000000");
        conf_set(pconf, "queue.buffering.max.messages", "1000000");
        conf_set(pconf, "queue.buffering.max.kbytes", "1048576");

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "-X") && i + 1 < argc) {
                        conf_kv(cconf, argv[i + 1]);
                        conf_kv(pconf, argv[++i]);
                } else if (!strcmp(argv[i], "-C") && i + 1 < argc) {
                        conf_kv(cconf, argv[++i]);
                } else if (!strcmp(argv[i], "-P") && i + 1 < argc) {
                        conf_kv(pconf, argv[++i]);
                } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
                        batch = (size_t)atol(argv[++i]);
                        if (batch < 1)
                                usage();
                } else if (!strcmp(argv[i], "-q")) {
                        quiet = 1;
                } else if (argv[i][0] == '-' && argv[i][1]) {
                        usage();
                } else if (npos < 5) {
                        pos[npos++] = argv[i];
                } else {
                        usage();
                }
        }
        if (npos != 5)
                usage();
        const char *bootstrap = pos[0], *group = pos[1], *target = pos[3];
        long long count = atoll(pos[4]);

        conf_set(cconf, "bootstrap.servers", bootstrap);
        conf_set(cconf, "group.id", group);
        conf_set(pconf, "bootstrap.servers", bootstrap);
        rd_kafka_conf_set_rebalance_cb(cconf, rebalance_cb);
        rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);

        producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof(errstr));
        if (!producer)
                die("producer", errstr);
        consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof(errstr));
        if (!consumer)
                die("consumer", errstr);
        rd_kafka_poll_set_consumer(consumer);
        rd_kafka_queue_t *cq = rd_kafka_queue_get_consumer(consumer);

        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(4);
        char *list = strdup(pos[2]);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (nsrcs == MAX_TOPICS)
                        die("sources", "too many topics");
                src_t *s = &srcs[nsrcs++];
                s->name = strdup(t);
                if (target[0] == '+') {
                        s->target = malloc(strlen(t) + strlen(target));
                        sprintf(s->target, "%s%s", t, target + 1);
                } else {
                        s->target = strdup(target);
                }
                s->rkt = rd_kafka_topic_new(producer, s->target, NULL);
                rd_kafka_topic_partition_list_add(sub, s->name, RD_KAFKA_PARTITION_UA);
        }
        free(list);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, sub);
        if (err)
                die("subscribe", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(sub);

        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        rd_kafka_message_t **msgs = malloc(sizeof(*msgs) * batch);
        double t_first = 0, last_report = t0;
        long long max_inflight = 0;
        int fatal = 0;
        while (!stop && (count <= 0 || delivered_ok < count)) {
                ssize_t got = rd_kafka_consume_batch_queue(cq, 10, msgs, batch);
                if (got < 0)
                        die("consume", rd_kafka_err2str(rd_kafka_last_error()));
                for (ssize_t i = 0; i < got; i++) {
                        rd_kafka_message_t *m = msgs[i];
                        if (m->err) {
                                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                        fprintf(stderr, "c-fast: consumer: %s\n",
                                                rd_kafka_message_errstr(m));
                                rd_kafka_message_destroy(m);
                                continue;
                        }
                        int si = src_of(m->rkt);
                        if (si < 0 || fatal || m->partition >= srcs[si].nparts ||
                            !srcs[si].assigned[m->partition]) {
                                /* Not ours any more: the next owner reads it from the
                                 * committed offset. */
                                rd_kafka_message_destroy(m);
                                continue;
                        }
                        if (!t_first)
                                t_first = now_s();
                        if (produce(m, si) < 0)
                                fatal = 1;
                }
                long long inflight = produced - delivered_ok - delivered_err;
                if (inflight > max_inflight)
                        max_inflight = inflight;
                rd_kafka_poll(producer, 0);
                store_delivered();
                if (delivered_err || fatal) {
                        fatal = 1;
                        break;
                }
                if (!quiet) {
                        double t = now_s();
                        if (t - last_report >= 2.0) {
                                fprintf(stderr, "c-fast: %lld produced, %lld delivered\n",
                                        produced, delivered_ok);
                                last_report = t;
                        }
                }
        }

        if (rd_kafka_flush(producer, 60000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
                fprintf(stderr, "c-fast: final flush timed out\n");
        store_delivered();
        err = rd_kafka_commit(consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                fprintf(stderr, "c-fast: commit: %s\n", rd_kafka_err2str(err));
        double t_end = now_s();
        double secs = t_end - t0, cpu = cpu_s();
        if (delivered_err)
                fprintf(stderr, "c-fast: %lld delivery errors, first: %s\n", delivered_err,
                        rd_kafka_err2str(first_err));
        if (skipped)
                fprintf(stderr, "c-fast: %lld records read twice across a rebalance, skipped\n",
                        skipped);
        double steady = t_first ? t_end - t_first : 0;
        printf("{\"records\":%lld,\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"records_per_sec\":%.0f,"
               "\"first_record_seconds\":%.3f,\"steady_records_per_sec\":%.0f,"
               "\"max_inflight\":%lld}\n",
               delivered_ok, secs, cpu, secs > 0 ? (double)delivered_ok / secs : 0.0,
               t_first ? t_first - t0 : 0.0, steady > 0 ? (double)delivered_ok / steady : 0.0,
               max_inflight);
        fflush(stdout);

        free(msgs);
        rd_kafka_queue_destroy(cq);
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
        for (int i = 0; i < nsrcs; i++)
                rd_kafka_topic_destroy(srcs[i].rkt);
        rd_kafka_destroy(producer);
        return (fatal || (count > 0 && delivered_ok < count)) ? 1 : 0;
}
