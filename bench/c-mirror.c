/*
 * c-mirror — a C baseline for StreamForge's mirror benchmarks: a plain librdkafka
 * consume -> produce loop, one record per rd_kafka_consumer_poll, at-least-once. `make bench`
 * passes StreamForge's librdkafka settings with -C/-P; `make bench-mirror` runs it with
 * librdkafka's defaults plus the few below.
 *
 *   c-mirror [options] BOOTSTRAP GROUP SOURCES TARGET COUNT
 *
 *   SOURCES  comma-separated source topics
 *   TARGET   target topic name; "+SUFFIX" means <source>SUFFIX for each source
 *   COUNT    stop once this many records have been delivered to the target
 *
 * Options:
 *   --copy          copy key/value into the producer (RD_KAFKA_MSG_F_COPY) and free the consumed
 *                   message at once; default is zero-copy: the consumed message is kept until
 *                   its delivery report and then destroyed
 *   -X key=value    extra consumer AND producer configuration (repeatable)
 *   -C key=value    extra consumer configuration
 *   -P key=value    extra producer configuration
 *   -q              no progress on stderr
 *
 * Design:
 *  - high-level consumer: enable.auto.offset.store=false,
 *    partition.assignment.strategy=cooperative-sticky, auto.offset.reset=earliest,
 *    enable.auto.commit=true (commits only what was stored), a final synchronous commit;
 *  - one idempotent producer (enable.idempotence=true, linger.ms=5); every record is produced
 *    with rd_kafka_produceva to the SAME partition number of the target topic, with its key,
 *    value, headers and timestamp;
 *  - offsets are stored only over an unbroken run of delivered records: per source partition a
 *    ring of the records in flight (c-track.h) marks each one delivered or failed from its
 *    delivery report, and the committable offset is the end of the run of delivered records at
 *    its front, so a record whose delivery failed is never committed past (storing the highest
 *    delivered offset would, when a later record of the partition was delivered); the main loop
 *    hands the partitions that advanced to rd_kafka_offsets_store, one call per loop turn;
 *  - a delivery that fails stops the loop: the unbroken runs are committed and it exits 1;
 *  - on revocation (cooperative) the producer is flushed and offsets stored and committed
 *    before the partitions are given up.
 *
 * Prints one JSON line:
 *   {"records":N,"seconds":S,"cpu_seconds":C,"records_per_sec":R,
 *    "first_record_seconds":F,"steady_records_per_sec":SR}
 * seconds is wall time from start to after the final commit; cpu_seconds is user+system of
 * this process (getrusage); steady_* excludes the time before the first record arrived
 * (connection, group join).
 *
 * Build: cc -O2 -o out/c-mirror bench/c-mirror.c -lrdkafka
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
        rd_kafka_topic_t *rkt; /* target handle */
        trk_part_t *parts;     /* unbroken delivered run per source partition */
        int nparts;
} src_t;

static src_t srcs[MAX_TOPICS];
static int nsrcs;
static int dirty;
static long long delivered_ok, delivered_err, produced;
static rd_kafka_resp_err_t first_err;
static int zero_copy = 1;
static rd_kafka_t *consumer, *producer;
static volatile sig_atomic_t stop;

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
        fprintf(stderr, "c-mirror: %s: %s\n", what, detail);
        exit(2);
}

static int src_index(const char *topic) {
        for (int i = 0; i < nsrcs; i++)
                if (!strcmp(srcs[i].name, topic))
                        return i;
        return -1;
}

static trk_part_t *pstate(int si, int32_t partition) {
        src_t *s = &srcs[si];
        if (partition < 0 || partition >= MAX_PARTITIONS)
                die("partition", "out of range");
        if (partition >= s->nparts) {
                int n = partition + 1 > 2 * s->nparts ? partition + 1 : 2 * s->nparts;
                s->parts = realloc(s->parts, sizeof(*s->parts) * (size_t)n);
                for (int i = s->nparts; i < n; i++)
                        trk_init(&s->parts[i]);
                s->nparts = n;
        }
        return &s->parts[partition];
}

/* The opaque of every produced message is a c-track token (source topic, partition, sequence
 * number); its slot holds the consumed message in zero-copy mode. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        uint64_t token = (uint64_t)(uintptr_t)m->_private;
        uint32_t pidx = trk_token_pidx(token);
        trk_part_t *p = pstate((int)(pidx >> 16), (int32_t)(pidx & 0xffff));
        trk_slot_t *s = trk_slot(p, token);
        if (!s)
                return; /* the partition was reset since (revoked after a flush timed out) */
        if (s->msg)
                rd_kafka_message_destroy((rd_kafka_message_t *)s->msg);
        if (m->err) {
                if (!delivered_err)
                        first_err = m->err;
                delivered_err++;
                trk_done(p, s, 0); /* never stored past: read again after a restart */
                return;
        }
        delivered_ok++;
        if (trk_done(p, s, 1))
                dirty = 1;
}

/* Hand every advanced partition to offsets_store in one call. */
static void store_delivered(void) {
        if (!dirty)
                return;
        dirty = 0;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
        for (int i = 0; i < nsrcs; i++)
                for (int p = 0; p < srcs[i].nparts; p++) {
                        trk_part_t *ps = &srcs[i].parts[p];
                        if (ps->commit > ps->stored) {
                                rd_kafka_topic_partition_list_add(l, srcs[i].name, p)->offset =
                                    ps->commit;
                                ps->stored = ps->commit;
                        }
                }
        if (l->cnt > 0) {
                /* Per-partition errors (e.g. ERR__STATE: not assigned any more) are ignored:
                 * that partition's offsets are another member's business now. */
                rd_kafka_offsets_store(consumer, l);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* A partition assigned or revoked starts its run anew (from the committed offset). */
static void reset_parts(const rd_kafka_topic_partition_list_t *parts) {
        for (int i = 0; i < parts->cnt; i++) {
                int si = src_index(parts->elems[i].topic);
                if (si >= 0)
                        trk_reset(pstate(si, parts->elems[i].partition));
        }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
        (void)opaque;
        rd_kafka_error_t *e = NULL;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                reset_parts(parts);
                if (!strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE"))
                        e = rd_kafka_incremental_assign(rk, parts);
                else
                        rd_kafka_assign(rk, parts);
        } else {
                /* Finish what is in flight for the partitions we are about to lose. */
                rd_kafka_flush(producer, 30000);
                store_delivered();
                if (!rd_kafka_assignment_lost(rk))
                        rd_kafka_commit(rk, NULL, 0);
                reset_parts(parts);
                if (!strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE"))
                        e = rd_kafka_incremental_unassign(rk, parts);
                else
                        rd_kafka_assign(rk, NULL);
        }
        if (e) {
                fprintf(stderr, "c-mirror: rebalance: %s\n", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        }
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
        fprintf(stderr, "usage: c-mirror [--copy] [-X|-C|-P key=value]... [-q] "
                        "BOOTSTRAP GROUP SOURCES TARGET COUNT\n");
        exit(2);
}

int main(int argc, char **argv) {
        double t0 = now_s();
        char errstr[512];
        const char *pos[5];
        int npos = 0, quiet = 0;
        rd_kafka_conf_t *cconf = rd_kafka_conf_new();
        rd_kafka_conf_t *pconf = rd_kafka_conf_new();

        conf_set(cconf, "enable.auto.offset.store", "false");
        conf_set(cconf, "enable.auto.commit", "true");
        conf_set(cconf, "partition.assignment.strategy", "cooperative-sticky");
        conf_set(cconf, "auto.offset.reset", "earliest");
        conf_set(cconf, "session.timeout.ms", "6000");
        conf_set(pconf, "enable.idempotence", "true");
        conf_set(pconf, "linger.ms", "5");

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--copy")) {
                        zero_copy = 0;
                } else if (!strcmp(argv[i], "-X") && i + 1 < argc) {
                        conf_kv(cconf, argv[i + 1]);
                        conf_kv(pconf, argv[++i]);
                } else if (!strcmp(argv[i], "-C") && i + 1 < argc) {
                        conf_kv(cconf, argv[++i]);
                } else if (!strcmp(argv[i], "-P") && i + 1 < argc) {
                        conf_kv(pconf, argv[++i]);
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

        double t_first = 0, last_report = t0;
        int fatal = 0;
        while (!stop && delivered_ok < count) {
                /* Producer queue full: serve delivery reports instead of consuming. */
                rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
                if (m) {
                        if (m->err) {
                                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                        fprintf(stderr, "c-mirror: consumer: %s\n",
                                                rd_kafka_message_errstr(m));
                                rd_kafka_message_destroy(m);
                        } else {
                                if (!t_first)
                                        t_first = now_s();
                                int si = src_index(rd_kafka_topic_name(m->rkt));
                                rd_kafka_headers_t *hdrs = NULL, *hcopy = NULL;
                                if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
                                        hcopy = rd_kafka_headers_copy(hdrs);
                                rd_kafka_timestamp_type_t tstype;
                                int64_t ts = rd_kafka_message_timestamp(m, &tstype);
                                trk_part_t *tp = pstate(si, m->partition);
                                int64_t seq = trk_push(tp, m->offset, zero_copy ? m : NULL);
                                if (seq < 0) {
                                        /* Read twice or out of order: producing it could not
                                         * be tracked. */
                                        fprintf(stderr, "c-mirror: %s [%d] offset %" PRId64
                                                        " after %" PRId64 ": skipped\n",
                                                srcs[si].name, m->partition, m->offset, tp->last);
                                        if (hcopy)
                                                rd_kafka_headers_destroy(hcopy);
                                        rd_kafka_message_destroy(m);
                                        continue;
                                }
                                void *opaque = (void *)(uintptr_t)trk_token(
                                    ((uint32_t)si << 16) | (uint32_t)m->partition, seq);
                                rd_kafka_vu_t vus[8];
                                int n = 0;
                                vus[n].vtype = RD_KAFKA_VTYPE_RKT;
                                vus[n++].u.rkt = srcs[si].rkt;
                                vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
                                vus[n++].u.i32 = m->partition;
                                vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
                                vus[n++].u.i = zero_copy ? 0 : RD_KAFKA_MSG_F_COPY;
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
                                if (hcopy) {
                                        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
                                        vus[n++].u.headers = hcopy;
                                }
                                vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
                                vus[n++].u.ptr = opaque;
                                for (;;) {
                                        rd_kafka_error_t *e = rd_kafka_produceva(producer, vus, (size_t)n);
                                        if (!e) {
                                                produced++;
                                                break;
                                        }
                                        if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                                rd_kafka_error_destroy(e);
                                                rd_kafka_poll(producer, 10);
                                                store_delivered();
                                                continue;
                                        }
                                        fprintf(stderr, "c-mirror: produce: %s\n",
                                                rd_kafka_error_string(e));
                                        rd_kafka_error_destroy(e);
                                        if (hcopy)
                                                rd_kafka_headers_destroy(hcopy);
                                        /* Marked failed: nothing past it is ever stored. */
                                        trk_slot_t *ts = trk_slot(tp, (uint64_t)(uintptr_t)opaque);
                                        if (ts)
                                                trk_done(tp, ts, 0);
                                        rd_kafka_message_destroy(m);
                                        fatal = 1;
                                        break;
                                }
                                if (!zero_copy && !fatal)
                                        rd_kafka_message_destroy(m);
                                if (fatal)
                                        break;
                        }
                }
                rd_kafka_poll(producer, 0);
                store_delivered();
                if (delivered_err) {
                        fatal = 1;
                        break;
                }
                if (!quiet) {
                        double t = now_s();
                        if (t - last_report >= 2.0) {
                                fprintf(stderr, "c-mirror: %lld produced, %lld delivered\n",
                                        produced, delivered_ok);
                                last_report = t;
                        }
                }
        }

        rd_kafka_flush(producer, 60000);
        store_delivered();
        err = rd_kafka_commit(consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                fprintf(stderr, "c-mirror: commit: %s\n", rd_kafka_err2str(err));
        double t_end = now_s();
        double secs = t_end - t0, cpu = cpu_s();
        if (delivered_err)
                fprintf(stderr, "c-mirror: %lld delivery errors, first: %s\n", delivered_err,
                        rd_kafka_err2str(first_err));
        double steady = t_first ? t_end - t_first : 0;
        printf("{\"records\":%lld,\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"records_per_sec\":%.0f,"
               "\"first_record_seconds\":%.3f,\"steady_records_per_sec\":%.0f}\n",
               delivered_ok, secs, cpu, secs > 0 ? (double)delivered_ok / secs : 0.0,
               t_first ? t_first - t0 : 0.0, steady > 0 ? (double)delivered_ok / steady : 0.0);
        fflush(stdout);

        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
        for (int i = 0; i < nsrcs; i++)
                rd_kafka_topic_destroy(srcs[i].rkt);
        rd_kafka_destroy(producer);
        return (fatal || delivered_ok < count) ? 1 : 0;
}
