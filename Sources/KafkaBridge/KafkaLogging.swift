import CRdKafka
import Logging

/// librdkafka's log lines go through swift-log, with syslog levels mapped.
let rdkafkaLogger = Logger(label: "rdkafka")

let rdkafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    _, level, facility, buf in
    let message = buf.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let mapped: Logger.Level
    switch level {
    case ...3: mapped = .error
    case 4: mapped = .warning
    case 5, 6: mapped = .info
    default: mapped = .debug
    }
    rdkafkaLogger.log(level: mapped, "\(message)", metadata: ["rdkafka.facility": "\(fac)"])
}

func installLogCallback(_ conf: OpaquePointer) {
    rd_kafka_conf_set_log_cb(conf, rdkafkaLogCallback)
}
