// Strings of the configuration file with where each character was written, so that the
// language compiler can point at a character inside one.

/// A point in a configuration file. Lines and columns count from 1 (columns in Unicode
/// scalars, as libyaml counts them); 0 means "not known" (for example an unreadable file).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or just `file` when the position is not known.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column)" : file
    }
}

/// A string value from the file together with where each of its characters was written, so
/// that a later stage (the DSL compiler) can point at a character inside it.
///
/// `value` is the text after quote decoding and `${...}` substitution. Characters that came
/// from a substitution point at the `$` that introduced it. When the scalar spans several lines
/// (block or folded scalars), every offset maps to the start of the scalar.
public struct LocatedString: Sendable, Hashable, CustomStringConvertible {
    public var value: String
    /// Where the scalar starts (its opening quote, if quoted).
    public var location: SourceLocation
    /// The key path as written, e.g. `routing.destinations[2].filter`.
    public var keyPath: String
    /// Line and column of each Unicode scalar of `value`; empty when not known.
    package var positions: [Position]

    package struct Position: Sendable, Hashable {
        package var line: Int
        package var column: Int
        package init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
    }

    public init(value: String, location: SourceLocation, keyPath: String) {
        self.init(value: value, location: location, keyPath: keyPath, positions: [])
    }

    package init(value: String, location: SourceLocation, keyPath: String, positions: [Position]) {
        self.value = value
        self.location = location
        self.keyPath = keyPath
        self.positions = positions.count == value.unicodeScalars.count ? positions : []
    }

    /// Where the Unicode scalar at `offset` (0-based, counted in `value.unicodeScalars`) was
    /// written. An offset at or past the end maps just after the last character.
    public func location(ofScalarOffset offset: Int) -> SourceLocation {
        guard !positions.isEmpty, offset >= 0 else { return location }
        if offset < positions.count {
            let p = positions[offset]
            return SourceLocation(file: location.file, line: p.line, column: p.column)
        }
        let last = positions[positions.count - 1]
        return SourceLocation(file: location.file, line: last.line, column: last.column + 1 + (offset - positions.count))
    }

    /// Where the character at `index` of `value` was written.
    public func location(of index: String.Index) -> SourceLocation {
        let offset = value.unicodeScalars.distance(from: value.unicodeScalars.startIndex, to: index)
        return location(ofScalarOffset: offset)
    }

    public var description: String { value }
}
