// libFuzzer target: the configuration loader on arbitrary text, read as JSON or as YAML (the
// first byte picks: odd is JSON). Loading must end in a configuration or in diagnostics, never
// a crash or a hang; a configuration it accepts must compile for the worker exactly as the
// worker compiles it (Router), and its summary and diagnostics must render.
//
// The environment is fixed and `${file:...}` reads a stub, so a run never depends on the host.
// Written here because the properties are StreamForge's own; libFuzzer only supplies inputs.
// `make fuzz` runs it (scripts/fuzz.sh).

@testable import StreamForgeCore
@testable import StreamForgeIPC
@testable import StreamForgeLanguage

let environment = ["SF_FUZZ_BROKERS": "k1:9092,k2:9092", "SF_FUZZ_SECRET": "hunter2", "SF_FUZZ_EMPTY": ""]

let stubFiles: TextFileReader = { path in
    switch path {
    case "/run/secrets/password": return .success("s3cret\n")
    case "/run/secrets/empty": return .success("")
    default: return .failure(TextFileError(reason: "no such file"))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let path = data[0] & 1 == 1 ? "/etc/streamforge/fuzz.json" : "/etc/streamforge/fuzz.yaml"
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let analysis = ConfigLoader.analyze(text: text, path: path, environment: environment, readFile: stubFiles)
    let diagnostics = analysis.diagnostics
    _ = diagnostics.rendered
    for d in diagnostics.diagnostics where d.line < 0 || d.column < 0 {
        fatalError("diagnostic at a negative position: \(d)")
    }
    guard let config = analysis.config else {
        if !diagnostics.hasErrors { fatalError("no configuration and no error: \(diagnostics.rendered)") }
        return 0
    }
    if diagnostics.hasErrors { fatalError("a configuration despite errors: \(diagnostics.rendered)") }
    _ = ConfigCheck.summary(config)
    do {
        _ = try Pipeline(routing: config.routing ?? RoutingConfig(destinations: config.destinations))
    } catch {
        fatalError("the loader accepted language strings the pipeline refuses: \(error)\n\(text)")
    }
    return 0
}
