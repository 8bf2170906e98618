// The bytes a destination produces for a key or a value: its own, or the source record's
// when unchanged.

import StreamForgeLanguage

/// Calls `body` with the new bytes, or with the source's when unchanged.
@inline(__always)
func withBytes<R>(_ out: BytesOut, or original: UnsafeRawBufferPointer?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    switch out {
    case .unchanged: return body(original)
    case .bytes(nil): return body(nil)
    case .bytes(let bytes?): return bytes.withUnsafeBytes { body($0) }
    }
}
