// `/metrics` in the Prometheus text exposition format (version 0.0.4), `/healthz` and `/readyz`,
// computed at scrape time from the machine's state: the counters of every worker since the
// daemon started (exited ones included, so counters never go back), the lag and committed
// offsets of the workers whose data is current, and the supervisor's own view of its slots.
//
// Rendered here rather than through swift-prometheus: these are the values of a custom
// collector (read from worker snapshots at scrape time), while a client library's registry
// models counters that the instrumented code increments itself; mirroring absolute values into
// it would mean tracking deltas per worker for no gain. The format is a few lines of text.

import StreamForgeCore
import StreamForgeIPC

extension SupervisorMachine {
    /// The body of `/metrics`.
    public func prometheusExposition(version: String, appid: String) -> String {
        var out = MetricsText()
        let totals = totalCounters
        out.family("streamforge_build_info", "gauge", "Version of streamforged; the value is always 1.")
        out.sample("streamforge_build_info", ["version": version, "appid": appid], 1)

        out.family("streamforge_workers_target", "gauge", "Worker processes wanted on this host.")
        out.sample("streamforge_workers_target", [:], Double(target))
        out.family("streamforge_workers_up", "gauge", "Worker processes running and not asked to stop.")
        out.sample("streamforge_workers_up", [:], Double(workersUp))
        let ready = slots.filter { $0.wanted && ($0.process.map { $0.ready && !isStale($0) } ?? false) }.count
        out.family("streamforge_workers_ready", "gauge", "Workers that joined the group, got their assignment and report on time.")
        out.sample("streamforge_workers_ready", [:], Double(ready))
        out.family("streamforge_worker_restarts_total", "counter", "Unplanned exits of a worker slot (each was respawned or failed).")
        for slot in slots { out.sample("streamforge_worker_restarts_total", ["slot": String(slot.index)], Double(slot.restarts)) }
        out.family("streamforge_worker_crash_looping", "gauge", "1 when the slot exits again and again before it is healthy.")
        for slot in slots where slot.wanted {
            out.sample("streamforge_worker_crash_looping", ["slot": String(slot.index)], slot.crashLooping ? 1 : 0)
        }

        out.family("streamforge_records_consumed_total", "counter", "Records read from the source.")
        out.sample("streamforge_records_consumed_total", [:], Double(totals.consumed))
        out.family("streamforge_records_produced_total", "counter", "Records acknowledged by the target, per destination.")
        out.samples("streamforge_records_produced_total", by: "destination", totals.produced)
        out.family("streamforge_records_filtered_total", "counter", "Records a destination did not take (its filter or content routing), per destination.")
        out.samples("streamforge_records_filtered_total", by: "destination", totals.filteredBy)
        out.family("streamforge_records_transformed_total", "counter", "Records whose value or key was rewritten.")
        out.sample("streamforge_records_transformed_total", [:], Double(totals.transformed))
        out.family("streamforge_records_dead_lettered_total", "counter", "Records sent to the dead-letter topic.")
        out.sample("streamforge_records_dead_lettered_total", [:], Double(totals.dlq))
        out.family("streamforge_errors_total", "counter", "Records or operations that failed, by kind.")
        out.samples("streamforge_errors_total", by: "kind", totals.errorKinds)
        out.family("streamforge_commits_total", "counter", "Offset commits sent to the group coordinator.")
        out.sample("streamforge_commits_total", [:], Double(totals.committed))

        let fresh = freshProcesses()
        out.family("streamforge_records_in_flight", "gauge", "Records read and not yet acknowledged by every destination.")
        out.sample("streamforge_records_in_flight", [:], Double(fresh.reduce(0) { $0 + ($1.snapshot?.inFlight ?? 0) }))
        out.family("streamforge_oldest_undelivered_seconds", "gauge", "Age of the oldest record read and not yet delivered (0 when none waits).")
        let oldest = fresh.compactMap { $0.snapshot?.oldestInFlightMs }.max() ?? 0
        out.sample("streamforge_oldest_undelivered_seconds", [:], Double(oldest) / 1000)
        out.family("streamforge_workers_stalled", "gauge", "Workers whose records wait with no acknowledgement for stall_timeout.")
        out.sample("streamforge_workers_stalled", [:], Double(fresh.filter { $0.snapshot?.state == .stalled }.count))

        // Per partition, from the worker that owns it now (one line per partition).
        var lag: [TopicPartition: PartitionLag] = [:]
        for p in fresh {
            let assigned = Set(p.snapshot?.assigned ?? p.assigned)
            for entry in p.snapshot?.lag ?? [] where assigned.contains(TopicPartition(topic: entry.topic, partition: entry.partition)) {
                lag[TopicPartition(topic: entry.topic, partition: entry.partition)] = entry
            }
        }
        let partitions = lag.keys.sorted()
        func perPartition(_ name: String, _ value: (PartitionLag) -> Int64?) {
            for tp in partitions {
                guard let v = lag[tp].flatMap(value) else { continue }
                out.sample(name, ["group": appid, "topic": tp.topic, "partition": String(tp.partition)], Double(v))
            }
        }
        out.family("kafka_consumer_lag", "gauge", "Records of a source partition not yet delivered: high watermark minus the first undelivered offset.")
        perPartition("kafka_consumer_lag") { $0.lag }
        out.family("streamforge_committed_offset", "gauge", "The last offset committed for a source partition (the next record to read).")
        perPartition("streamforge_committed_offset") { $0.committed }

        out.family("streamforge_delivery_latency_seconds", "histogram",
                   "From a record's timestamp to its acknowledgement by the target.")
        var cumulative: UInt64 = 0
        for (i, count) in totals.latency.counts.enumerated() {
            cumulative &+= count
            let le = i < LatencyHistogram.bounds.count ? MetricsText.number(LatencyHistogram.bounds[i]) : "+Inf"
            out.sample("streamforge_delivery_latency_seconds_bucket", ["le": le], Double(cumulative))
        }
        out.sample("streamforge_delivery_latency_seconds_sum", [:], Double(totals.latency.sumMs) / 1000)
        out.sample("streamforge_delivery_latency_seconds_count", [:], Double(cumulative))
        return out.text
    }

    /// `/readyz`: nil when every wanted worker is up, ready and reporting; else why not.
    public func notReadyReasons() -> [String] {
        var reasons: [String] = []
        switch phase {
        case .stopping, .exited: reasons.append("stopping")
        case .idle: reasons.append("not started")
        default: break
        }
        if reloading { reasons.append("reloading") }
        for slot in slots where slot.wanted {
            guard let p = slot.process else {
                if let failed = slot.failedReason { reasons.append("worker \(slot.index): failed: \(failed)") }
                else if slot.crashLooping { reasons.append("worker \(slot.index): crash-looping" + (slot.lastExit.map { ", last \($0)" } ?? "")) }
                else { reasons.append("worker \(slot.index): restarting") }
                continue
            }
            if p.stopRequestedAt != nil { reasons.append("worker \(slot.index): draining") }
            else if isStale(p) { reasons.append("worker \(slot.index): unresponsive") }
            else if !p.ready { reasons.append("worker \(slot.index): starting") }
        }
        return reasons
    }
}

/// Builds exposition text: HELP and TYPE once per family, escaped label values.
struct MetricsText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.number(value) + "\n"
    }

    /// One sample per key of `counts`, labelled `label`, in key order.
    mutating func samples(_ name: String, by label: String, _ counts: [String: UInt64]) {
        for (key, count) in counts.sorted(by: { $0.key < $1.key }) { sample(name, [label: key], Double(count)) }
    }

    static func escape(_ value: String) -> String {
        var out = ""
        // By scalar: "\r\n" is one Character, and its "\n" must be escaped too.
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Integers without a fraction; others in Swift's shortest round-trip form.
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
