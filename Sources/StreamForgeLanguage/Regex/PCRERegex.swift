// Regular expressions of the language: PCRE2 (Perl-compatible syntax, UTF-8, Unicode classes),
// compiled once at load and JIT-compiled when the platform allows it.

import CPCRE2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One match data per thread, freed when the thread ends.
private let matchDataKey: pthread_key_t = {
    var key = pthread_key_t()
    #if canImport(Glibc)
    pthread_key_create(&key) { p in if let p { pcre2_match_data_free_8(OpaquePointer(p)) } }
    #else
    pthread_key_create(&key) { p in pcre2_match_data_free_8(OpaquePointer(p)) }
    #endif
    return key
}()

/// A compiled pattern. Immutable after creation and safe to share between threads: each thread
/// matches with its own match data.
public final class PCRERegex: @unchecked Sendable {
    public let pattern: String
    private let code: OpaquePointer
    private let jit: Bool

    public struct CompileError: Error, Sendable {
        /// Offset in the pattern (UTF-8 bytes) where PCRE2 stopped.
        public let offset: Int
        public let message: String
    }

    public init(_ pattern: String) throws(CompileError) {
        self.pattern = pattern
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let options = UInt32(PCRE2_UTF) | UInt32(PCRE2_UCP) | UInt32(PCRE2_MATCH_INVALID_UTF)
        let compiled: OpaquePointer? = pattern.withCString { cs in
            cs.withMemoryRebound(to: UInt8.self, capacity: 1) { p in
                pcre2_compile_8(p, pattern.utf8.count, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw CompileError(offset: errorOffset, message: PCRERegex.message(errorCode))
        }
        self.code = compiled
        self.jit = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
    }

    deinit { pcre2_code_free_8(code) }

    static func message(_ code: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buf, buf.count)
        return n > 0 ? String(decoding: buf[0..<Int(n)], as: UTF8.self) : "error \(code)"
    }

    /// Unanchored search. The match data (one pair of offsets is all a yes/no needs) is the
    /// calling thread's, created once and reused: no allocation per match.
    ///
    /// Only "no match" is false. A search PCRE2 cannot finish (the JIT's stack, the match or
    /// depth limit, on a long subject with a backtracking pattern) is retried with the
    /// interpreter, whose memory is on the heap; if that fails too it is an error, so the
    /// destination's error policy applies: a record is never filtered out for it silently.
    public func matches(_ subject: UnsafeBufferPointer<UInt8>) throws(RecordError) -> Bool {
        guard let md = PCRERegex.threadMatchData() else {
            throw RecordError(kind: .transform, message: "REGEX: unable to allocate match data")
        }
        let p = subject.baseAddress ?? PCRERegex.empty
        var rc = jit
            ? pcre2_jit_match_8(code, p, subject.count, 0, 0, md, nil)
            : pcre2_match_8(code, p, subject.count, 0, 0, md, nil)
        if rc < 0 && rc != PCRE2_ERROR_NOMATCH && jit {
            rc = pcre2_match_8(code, p, subject.count, 0, PCRE2_NO_JIT, md, nil)
        }
        // 0: matched, with more groups than the match data holds.
        if rc >= 0 { return true }
        if rc == PCRE2_ERROR_NOMATCH { return false }
        throw RecordError(kind: .transform, message: "REGEX: unable to finish the search: \(PCRERegex.message(rc))")
    }

    @inline(__always)
    static func threadMatchData() -> OpaquePointer? {
        if let p = pthread_getspecific(matchDataKey) { return OpaquePointer(p) }
        guard let md = pcre2_match_data_create_8(1, nil) else { return nil }
        pthread_setspecific(matchDataKey, UnsafeRawPointer(md))
        return md
    }

    nonisolated(unsafe) private static let empty: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.pointee = 0
        return UnsafePointer(p)
    }()

    /// Replaces every match with `replacement` (`$1`, `${1}`, `${name}`, `$$`).
    public func replaceAll(_ subject: String, with replacement: String) -> Result<String, CompileError> {
        var subjectBytes = Array(subject.utf8)
        if subjectBytes.isEmpty { subjectBytes = [] }
        let repl = Array(replacement.utf8)
        var capacity = max(64, subjectBytes.count * 2 + repl.count)
        for _ in 0..<2 {
            var out = [UInt8](repeating: 0, count: capacity)
            var outLen = capacity
            let rc: Int32 = subjectBytes.withUnsafeBufferPointer { sb in
                repl.withUnsafeBufferPointer { rb in
                    pcre2_substitute_8(code, sb.baseAddress ?? PCRERegex.empty, sb.count, 0,
                                       UInt32(PCRE2_SUBSTITUTE_GLOBAL) | UInt32(PCRE2_SUBSTITUTE_OVERFLOW_LENGTH),
                                       nil, nil, rb.baseAddress ?? PCRERegex.empty, rb.count, &out, &outLen)
                }
            }
            if rc >= 0 { return .success(String(decoding: out[0..<outLen], as: UTF8.self)) }
            if rc == PCRE2_ERROR_NOMEMORY { capacity = outLen + 1; continue }
            return .failure(CompileError(offset: 0, message: PCRERegex.message(rc)))
        }
        return .failure(CompileError(offset: 0, message: "replacement too large"))
    }
}
