// `streamforged check-config FILE`: validate a file the way the daemon would, print every
// problem, and exit 78 (EX_CONFIG) when it would not start.

import StreamForgeLanguage

public enum ConfigCheck {
    /// Validates the file at `path`. Returns a one-line summary (after any warnings) and exit
    /// code 0, or the rendered diagnostics and 78. ConfigSecrets never appear in the output.
    public static func run(path: String, environment: [String: String]) -> (output: String, exitCode: Int32) {
        let analysis = ConfigLoader.analyze(path: path, environment: environment)
        guard let config = analysis.config else {
            let errors = analysis.diagnostics.errors.count
            let summary = "unable to load config \(path): \(errors) error\(errors == 1 ? "" : "s")\n"
            return (analysis.diagnostics.rendered + summary, ExitCode.config.rawValue)
        }
        return (analysis.diagnostics.rendered + summary(config) + "\n", 0)
    }

    /// `config OK: appid=..., 2 destinations, ...`: what an operator checks at a glance.
    public static func summary(_ config: StreamForgeConfig) -> String {
        let destinations = config.destinations.count
        var parts = ["appid=\(config.appid)"]
        switch config.input {
        case .topics(let topics): parts.append("input=\(topics.joined(separator: ","))")
        case .pattern(let pattern): parts.append("input=\(pattern)")
        }
        parts.append("\(destinations) destination\(destinations == 1 ? "" : "s")")
        if let routing = config.routing { parts.append("routing=\(routing.routingType.rawValue)") }
        parts.append("workers=\(config.workers.map(String.init) ?? "auto")")
        parts.append("delivery=\(config.delivery.rawValue)")
        parts.append(config.targetBroker == nil || config.targetBroker == config.bootstrap
                     ? "target=source cluster" : "target=\(config.targetBootstrap)")
        return "config OK: " + parts.joined(separator: ", ")
    }
}
