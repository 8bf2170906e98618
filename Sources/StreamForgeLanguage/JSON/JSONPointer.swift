// RFC 6901 JSON pointers, compiled once at load.

/// A compiled JSON pointer: `/user/id`, `/items/0/name`, `~1` for `/`, `~0` for `~`;
/// `""` is the whole value.
public struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    public struct Segment: Sendable, Equatable {
        /// The unescaped key as UTF-8 bytes.
        public let key: [UInt8]
        /// The array index this segment denotes, when it is a canonical decimal number.
        public let index: Int?
        public var keyString: String { String(decoding: key, as: UTF8.self) }
    }

    /// The pointer as written.
    public let text: String
    public let segments: [Segment]
    /// Its node in the pipeline's path index (`PathIndex`), or -1 for a pointer that is not
    /// read from the root (an element-relative path) or was compiled outside a pipeline.
    var node: Int32 = -1

    init(text: String, segments: [Segment]) {
        self.text = text
        self.segments = segments
    }

    public static func == (a: JSONPointer, b: JSONPointer) -> Bool {
        a.text == b.text && a.segments == b.segments
    }

    public var description: String { text }

    /// The pointer in quotes, as messages name it: `'/user/id'`, and `''` for the whole value.
    public var quoted: String { "'" + text + "'" }

    /// `""`: the whole value.
    public static let root = JSONPointer(text: "", segments: [])
    public var isRoot: Bool { segments.isEmpty }

    /// Parses a pointer. The text must be empty or start with `/`; a bad `~` escape is an error
    /// whose offset (in UTF-8 bytes from the start of `text`) is returned.
    public static func parse(_ text: String) -> Result<JSONPointer, PointerError> {
        if text.isEmpty { return .success(JSONPointer(text: text, segments: [])) }
        let bytes = Array(text.utf8)
        guard bytes[0] == UInt8(ascii: "/") else {
            return .failure(PointerError(offset: 0, message: "a path must start with '/'"))
        }
        var segments: [Segment] = []
        var current: [UInt8] = []
        var i = 1
        func finish() {
            segments.append(Segment(key: current, index: Self.canonicalIndex(current)))
            current = []
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "/") {
                finish()
            } else if b == UInt8(ascii: "~") {
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "0") || bytes[i + 1] == UInt8(ascii: "1") else {
                    return .failure(PointerError(offset: i, message: "'~' must be followed by '0' or '1' in a path"))
                }
                current.append(bytes[i + 1] == UInt8(ascii: "0") ? UInt8(ascii: "~") : UInt8(ascii: "/"))
                i += 1
            } else {
                current.append(b)
            }
            i += 1
        }
        finish()
        return .success(JSONPointer(text: text, segments: segments))
    }

    public struct PointerError: Error, Sendable {
        public let offset: Int
        public let message: String
    }

    static func canonicalIndex(_ key: [UInt8]) -> Int? {
        guard !key.isEmpty, key.count <= 18 else { return nil }
        if key.count > 1 && key[0] == UInt8(ascii: "0") { return nil }
        var n = 0
        for b in key {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int(b - UInt8(ascii: "0"))
        }
        return n
    }
}
