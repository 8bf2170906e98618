#ifndef STREAMFORGE_CRDKAFKA_SHIM_H
#define STREAMFORGE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* One record produced through rd_kafka_produceva (the variadic producev cannot be called
 * from Swift). With `copy` the payload and key are copied; without, librdkafka sends from the
 * caller's buffers, which must stay alive until the record's delivery report. `headers` (may
 * be NULL) is taken over by librdkafka on success and must be destroyed by the caller on
 * failure. A NULL key or value is produced as Kafka null. */
static inline rd_kafka_resp_err_t sf_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t partition,
                                             const void *key, size_t key_len,
                                             const void *value, size_t value_len,
                                             rd_kafka_headers_t *headers, int64_t timestamp,
                                             void *opaque, int copy) {
    rd_kafka_vu_t vus[8];
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_RKT; vus[n].u.rkt = rkt; n++;
    vus[n].vtype = RD_KAFKA_VTYPE_PARTITION; vus[n].u.i32 = partition; n++;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS; vus[n].u.i = copy ? RD_KAFKA_MSG_F_COPY : 0; n++;
    vus[n].vtype = RD_KAFKA_VTYPE_KEY; vus[n].u.mem.ptr = (void *)key; vus[n].u.mem.size = key ? key_len : 0; n++;
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE; vus[n].u.mem.ptr = (void *)value; vus[n].u.mem.size = value ? value_len : 0; n++;
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE; vus[n].u.ptr = opaque; n++;
    if (timestamp > 0) { vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP; vus[n].u.i64 = timestamp; n++; }
    if (headers) { vus[n].vtype = RD_KAFKA_VTYPE_HEADERS; vus[n].u.headers = headers; n++; }
    rd_kafka_error_t *error = rd_kafka_produceva(rk, vus, n);
    if (!error) return RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return code;
}

/* The rebalance callback that hands control back to Swift: set with rd_kafka_conf_set_rebalance_cb. */
typedef void (*sf_rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *partitions, void *opaque);

static inline int sf_partition_list_count(const rd_kafka_topic_partition_list_t *list) { return list->cnt; }
static inline rd_kafka_topic_partition_t *sf_partition_list_at(const rd_kafka_topic_partition_list_t *list, int i) {
    return &list->elems[i];
}
#endif
