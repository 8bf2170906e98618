/*
 * c-watch — times records arriving on target topics, from outside the program that writes
 * them, so that every mirror in `make bench` is timed the same way: from the first record that
 * arrives to the last, without start-up or the consumer-group join.
 *
 *   c-watch [options] BOOTSTRAP EXPECTED TOPIC[,TOPIC...]
 *
 * Polls the high watermarks of every partition of the topics (one ListOffsets request per
 * broker per poll, through rd_kafka_offsets_for_times with "latest") and sums them. The sum at
 * start is the baseline. It notes the first poll that sees more than the baseline (time and
 * count) and the first poll that sees EXPECTED records more than the baseline, then exits.
 *
 * Options:
 *   --interval MS   poll interval (default 20)
 *   --timeout S     give up after S seconds without reaching EXPECTED (default 300); exit 1
 *   --ready FILE    write "ready" to FILE once the baseline is known (start the program under
 *                   test after that)
 *
 * Prints one JSON line:
 *   {"records":R,"first_at":T1,"first_count":C1,"last_at":T2,"last_count":C2,
 *    "seconds":S,"records_per_sec":X}
 * first_at/last_at are CLOCK_REALTIME seconds; seconds = last_at - first_at;
 * records_per_sec = (C2 - C1) / seconds: the records that arrived between the two polls over the
 * time between them (so neither the records before the first poll nor its timing error count).
 * The timing error is at most one interval at each end.
 *
 * Build: cc -O2 -o out/c-watch bench/c-watch.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *detail) {
        fprintf(stderr, "c-watch: %s: %s\n", what, detail);
        exit(2);
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
        char errstr[512];
        const char *pos[3];
        int npos = 0, interval = 20;
        double timeout = 300;
        const char *ready = NULL;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--interval") && i + 1 < argc)
                        interval = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
                        timeout = atof(argv[++i]);
                else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
                        ready = argv[++i];
                else if (argv[i][0] == '-' || npos == 3)
                        die("usage", "c-watch [--interval MS] [--timeout S] [--ready FILE] "
                                     "BOOTSTRAP EXPECTED TOPIC[,TOPIC...]");
                else
                        pos[npos++] = argv[i];
        }
        if (npos != 3)
                die("usage", "c-watch [options] BOOTSTRAP EXPECTED TOPIC[,TOPIC...]");
        long long expected = atoll(pos[1]);

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", pos[0], errstr, sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "group.id", "c-watch-unused", errstr, sizeof(errstr)))
                die("conf", errstr);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("rd_kafka_new", errstr);

        /* Every partition of every topic. */
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(256);
        char *list = strdup(pos[2]);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, t, NULL);
                const struct rd_kafka_metadata *md = NULL;
                rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
                if (err)
                        die("metadata", rd_kafka_err2str(err));
                if (md->topic_cnt != 1 || md->topics[0].err)
                        die(t, md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topic");
                for (int p = 0; p < md->topics[0].partition_cnt; p++)
                        rd_kafka_topic_partition_list_add(parts, t, p);
                rd_kafka_metadata_destroy(md);
                rd_kafka_topic_destroy(rkt);
        }
        free(list);

        /* Sum of high watermarks; -1 when a poll failed. */
        rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(parts);
#define POLL(out)                                                                              \
        do {                                                                                   \
                for (int i = 0; i < q->cnt; i++)                                               \
                        q->elems[i].offset = RD_KAFKA_OFFSET_END;                              \
                rd_kafka_resp_err_t e_ = rd_kafka_offsets_for_times(rk, q, 5000);              \
                long long s_ = 0;                                                              \
                for (int i = 0; !e_ && i < q->cnt; i++) {                                      \
                        if (q->elems[i].err || q->elems[i].offset < 0)                         \
                                e_ = RD_KAFKA_RESP_ERR__FAIL;                                  \
                        else                                                                   \
                                s_ += q->elems[i].offset;                                      \
                }                                                                              \
                (out) = e_ ? -1 : s_;                                                          \
        } while (0)

        long long base = -1;
        double start = now_s();
        while (base < 0) {
                POLL(base);
                if (base < 0) {
                        if (now_s() - start > 30)
                                die("ListOffsets", "no answer in 30 s");
                        sleep_ms(100);
                }
        }
        if (ready) {
                FILE *f = fopen(ready, "w");
                if (!f)
                        die("ready file", ready);
                fputs("ready\n", f);
                fclose(f);
        }

        double first_at = 0, last_at = 0;
        long long first_count = 0, last_count = 0;
        double deadline = now_s() + timeout;
        int reached = 0;
        while (!reached) {
                long long sum;
                POLL(sum);
                double t = now_s();
                if (sum >= 0) {
                        long long n = sum - base;
                        if (!first_at && n > 0) {
                                first_at = t;
                                first_count = n;
                        }
                        if (n >= expected) {
                                last_at = t;
                                last_count = n;
                                reached = 1;
                                break;
                        }
                        last_count = n;
                }
                if (t > deadline)
                        break;
                sleep_ms(interval);
        }
        double secs = reached && first_at ? last_at - first_at : 0;
        printf("{\"records\":%lld,\"first_at\":%.3f,\"first_count\":%lld,\"last_at\":%.3f,"
               "\"last_count\":%lld,\"seconds\":%.3f,\"records_per_sec\":%.0f}\n",
               last_count, first_at, first_count, last_at, last_count, secs,
               secs > 0 ? (double)(last_count - first_count) / secs : 0.0);
        fflush(stdout);
        rd_kafka_topic_partition_list_destroy(q);
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(rk);
        if (!reached) {
                fprintf(stderr, "c-watch: timed out at %lld of %lld records\n", last_count, expected);
                return 1;
        }
        return 0;
}
