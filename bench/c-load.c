/*
 * c-load — fills a topic quickly for StreamForge benchmarks and system tests.
 *
 *   c-load [options] BOOTSTRAP TOPIC COUNT [SIZE]
 *
 * Produces COUNT records of SIZE bytes (default 200) each: key "key-<i>", a JSON-ish value
 * {"seq":<i>,"pad":"...."} padded to exactly SIZE bytes (minimum 24 + digits), two headers
 * ("sf-src" = "c-load", "sf-seq" = "<i>") and an explicit CreateTime timestamp
 * (BASE_TS + i ms).  Records are spread over the topic's partitions by the default
 * partitioner (keyed).  Idempotent producer with batch-friendly settings.
 *
 * Options:
 *   --create N        create TOPIC with N partitions first (CreateTopics; "already exists" is ok)
 *   --ts-base MS      first timestamp (default 1700000000000)
 *   --first I         number the records from I (default 0): a second load continues a first
 *   --rate R          at most R records per second (default: as fast as the broker takes them)
 *   --json            realistic JSON values instead (see below), SIZE bytes each (default 1024)
 *   -X key=value      extra producer configuration (repeatable)
 *   -q                no progress on stderr
 *
 * --json: each value is an order event of exactly SIZE bytes (at least ~900), the shape of the
 * record `make bench-dsl` measures: eventType, status, eventId, timestamp, tenant, user (id,
 * email, name, tier, age, address), order (id, total, currency, items, ...), payment, device,
 * tags, metrics, and a notes string padded to SIZE. Fields vary with the record number i, so
 * that benchmarks know exactly which records a filter passes:
 *   status     "cancelled" when i % 10 == 9, else "confirmed"
 *   eventType  "order.updated" when i % 5 == 4, else "order.created"
 *   user.tier  "gold", "silver", "bronze" for i % 3 == 0, 1, 2
 *   order.total  (i % 2000) + 0.95, so > 1000 exactly when i % 2000 >= 1000
 *   user.email "user-<i % 100000>@example.com"; order.id "ord-<i>"; user.id "user-<i % 100000>"
 *
 * Prints one JSON line: {"records":N,"bytes":B,"seconds":S,"records_per_sec":R}
 * Exit code 0 when every record was acknowledged, 1 otherwise.
 *
 * Build: cc -O2 -o out/c-load bench/c-load.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long delivered_ok;
static long long delivered_err;
static rd_kafka_resp_err_t first_err;

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
        fprintf(stderr, "c-load: %s: %s\n", what, detail);
        exit(2);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err) {
                if (!delivered_err)
                        first_err = m->err;
                delivered_err++;
        } else {
                delivered_ok++;
        }
}

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v) {
        char errstr[512];
        if (rd_kafka_conf_set(c, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die(k, errstr);
}

static void create_topic(rd_kafka_t *rk, const char *topic, int partitions) {
        char errstr[512];
        rd_kafka_NewTopic_t *nt =
            rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof(errstr));
        if (!nt)
                die("NewTopic", errstr);
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *opt =
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_operation_timeout(opt, 10000, errstr, sizeof(errstr));
        rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        if (!ev)
                die("CreateTopics", "timed out");
        if (rd_kafka_event_error(ev))
                die("CreateTopics", rd_kafka_event_error_string(ev));
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
        for (size_t i = 0; i < n; i++) {
                rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
                if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                        die("CreateTopics", rd_kafka_topic_result_error_string(tr[i])
                                                ? rd_kafka_topic_result_error_string(tr[i])
                                                : rd_kafka_err2str(e));
        }
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opt);
        rd_kafka_NewTopic_destroy(nt);
        rd_kafka_queue_destroy(q);
}

static const char *const tiers[3] = {"gold", "silver", "bronze"};
static const char *const cities[4] = {"Paris", "Lyon", "Berlin", "Madrid"};

/* The --json value of record i, exactly size bytes when size is large enough; returns its
 * length. */
static int json_value(char *out, size_t cap, size_t size, long long i) {
        long long u = i % 100000;
        int n = snprintf(
            out, cap,
            "{\"eventType\":\"%s\",\"status\":\"%s\","
            "\"eventId\":\"6f1c2a9e-3b7d-4c21-9a55-%012llx\",\"timestamp\":%lld,"
            "\"tenant\":\"acme-eu\",\"user\":{\"id\":\"user-%lld\","
            "\"email\":\"user-%lld@example.com\",\"name\":\"Jane Doe %lld\","
            "\"tier\":\"%s\",\"age\":%lld,\"address\":{\"street\":\"%lld Rue de Rivoli\","
            "\"city\":\"%s\",\"zip\":\"%05lld\",\"country\":\"FR\"}},"
            "\"order\":{\"id\":\"ord-%lld\",\"total\":%lld.95,\"currency\":\"EUR\","
            "\"subtotal\":%lld.95,\"shipping\":60.0,\"items\":["
            "{\"sku\":\"SKU-%04lld\",\"name\":\"Espresso machine\",\"qty\":%lld,\"price\":899.0},"
            "{\"sku\":\"SKU-2044\",\"name\":\"Milk jug\",\"qty\":2,\"price\":24.95},"
            "{\"sku\":\"SKU-3310\",\"name\":\"Coffee beans 1kg\",\"qty\":3,\"price\":80.35}],"
            "\"coupon\":null,\"gift\":%s},"
            "\"payment\":{\"method\":\"card\",\"brand\":\"visa\",\"last4\":\"%04lld\","
            "\"authorized\":true},"
            "\"device\":{\"type\":\"mobile\",\"os\":\"iOS\",\"version\":\"17.2.1\","
            "\"ip\":\"203.0.113.%lld\"},"
            "\"tags\":[\"promo\",\"newsletter\",\"returning\",\"vip\"],"
            "\"metrics\":{\"latencyMs\":%lld,\"retries\":0,\"score\":0.9731},"
            "\"notes\":\"",
            i % 5 == 4 ? "order.updated" : "order.created", i % 10 == 9 ? "cancelled" : "confirmed",
            i, 1700000000000LL + i, u, u, u, tiers[i % 3], 18 + i % 60, 1 + i % 200, cities[i % 4],
            i % 100000, i, i % 2000, i % 2000 > 60 ? i % 2000 - 60 : 0, i % 10000, 1 + i % 3,
            i % 7 == 0 ? "true" : "false", i % 10000, i % 256, i % 1000);
        static const char filler[] = "Leave the parcel with the concierge, ring twice. Fragile: "
                                     "glass carafe inside. ";
        size_t k = 0;
        while ((size_t)n + 2 < size && (size_t)n + 2 < cap) {
                out[n++] = filler[k];
                k = (k + 1) % (sizeof(filler) - 1);
        }
        out[n++] = '"';
        out[n++] = '}';
        return n;
}

static void usage(void) {
        fprintf(stderr, "usage: c-load [--create N] [--ts-base MS] [--first I] [--rate R] [--json] [-X k=v]... [-q] "
                        "BOOTSTRAP TOPIC COUNT [SIZE]\n");
        exit(2);
}

int main(int argc, char **argv) {
        char errstr[512];
        const char *pos[4];
        int npos = 0, create = 0, quiet = 0, json = 0;
        int64_t ts_base = 1700000000000LL;
        long long first = 0;
        double rate = 0;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        /* Batch-friendly defaults; -X may override any of them. */
        conf_set(conf, "enable.idempotence", "true");
        conf_set(conf, "linger.ms", "20");
        conf_set(conf, "batch.size", "1000000");
        conf_set(conf, "batch.num.messages", "10000");
        conf_set(conf, "queue.buffering.max.messages", "1000000");
        conf_set(conf, "queue.buffering.max.kbytes", "1048576");
        conf_set(conf, "compression.codec", "none");

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--create") && i + 1 < argc) {
                        create = atoi(argv[++i]);
                } else if (!strcmp(argv[i], "--ts-base") && i + 1 < argc) {
                        ts_base = strtoll(argv[++i], NULL, 10);
                } else if (!strcmp(argv[i], "--first") && i + 1 < argc) {
                        first = atoll(argv[++i]);
                } else if (!strcmp(argv[i], "--json")) {
                        json = 1;
                } else if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
                        rate = atof(argv[++i]);
                } else if (!strcmp(argv[i], "-X") && i + 1 < argc) {
                        char *kv = strdup(argv[++i]);
                        char *eq = strchr(kv, '=');
                        if (!eq)
                                usage();
                        *eq = '\0';
                        conf_set(conf, kv, eq + 1);
                        free(kv);
                } else if (!strcmp(argv[i], "-q")) {
                        quiet = 1;
                } else if (argv[i][0] == '-' && argv[i][1]) {
                        usage();
                } else if (npos < 4) {
                        pos[npos++] = argv[i];
                } else {
                        usage();
                }
        }
        if (npos < 3)
                usage();
        const char *bootstrap = pos[0], *topic = pos[1];
        long long count = atoll(pos[2]);
        size_t size = npos > 3 ? (size_t)atol(pos[3]) : json ? 1024 : 200;

        conf_set(conf, "bootstrap.servers", bootstrap);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("rd_kafka_new", errstr);

        if (create > 0)
                create_topic(rk, topic, create);

        size_t cap = size + (json ? 2048 : 64);
        char *value = malloc(cap);
        char key[32], seq[24];
        long long bytes = 0;
        double t0 = now_s(), last_report = t0;

        for (long long n = 0; n < count; n++) {
                long long i = first + n;
                if (rate > 0) {
                        /* Paced: record n is due at t0 + n / rate. */
                        double due = t0 + (double)n / rate, t;
                        while ((t = now_s()) < due) {
                                int ms = (int)((due - t) * 1000);
                                rd_kafka_poll(rk, ms > 0 ? ms : 0);
                        }
                }
                int kl = snprintf(key, sizeof(key), "key-%lld", i);
                int sl = snprintf(seq, sizeof(seq), "%lld", i);
                int vl;
                if (json) {
                        vl = json_value(value, cap, size, i);
                } else {
                        vl = snprintf(value, cap, "{\"seq\":%lld,\"pad\":\"", i);
                        while ((size_t)vl + 2 < size) {
                                value[vl] = (char)('a' + (i + vl) % 26);
                                vl++;
                        }
                        value[vl++] = '"';
                        value[vl++] = '}';
                }
                bytes += vl + kl;
                for (;;) {
                        rd_kafka_resp_err_t err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(key, (size_t)kl), RD_KAFKA_V_VALUE(value, (size_t)vl),
                            RD_KAFKA_V_HEADER("sf-src", "c-load", 6),
                            RD_KAFKA_V_HEADER("sf-seq", seq, (ssize_t)sl),
                            RD_KAFKA_V_TIMESTAMP(ts_base + i), RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                                break;
                        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                die("produce", rd_kafka_err2str(err));
                        rd_kafka_poll(rk, 10);
                }
                if ((n & 1023) == 0) {
                        rd_kafka_poll(rk, 0);
                        double t = now_s();
                        if (!quiet && t - last_report >= 2.0) {
                                fprintf(stderr, "c-load: %lld queued, %lld acked\n", n + 1,
                                        delivered_ok);
                                last_report = t;
                        }
                }
        }
        while (delivered_ok + delivered_err < count) {
                rd_kafka_resp_err_t err = rd_kafka_flush(rk, 60000);
                if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
                        fprintf(stderr, "c-load: flush timed out (%lld/%lld acked)\n",
                                delivered_ok, count);
                        break;
                }
        }
        double secs = now_s() - t0;
        if (delivered_err)
                fprintf(stderr, "c-load: %lld delivery errors, first: %s\n", delivered_err,
                        rd_kafka_err2str(first_err));
        printf("{\"records\":%lld,\"bytes\":%lld,\"seconds\":%.3f,\"records_per_sec\":%.0f}\n",
               delivered_ok, bytes, secs, secs > 0 ? (double)delivered_ok / secs : 0.0);
        fflush(stdout);
        free(value);
        rd_kafka_destroy(rk);
        return delivered_ok == count ? 0 : 1;
}
