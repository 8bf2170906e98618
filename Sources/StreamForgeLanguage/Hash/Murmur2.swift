/// Kafka's murmur2, exactly as the Java client computes it (seed 0x9747b28c), so that keys
/// land on the partitions other Kafka producers would pick. The language's hashes reach it
/// through `Hashes.kafkaMurmur2`: this is the only copy.
public enum Murmur2 {
    /// The hash of contiguous bytes, read where they are.
    public static func hash(_ data: UnsafeBufferPointer<UInt8>) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let n = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: n)
        let n4 = n / 4
        for i in 0..<n4 {
            var k = UInt32(littleEndian: UnsafeRawPointer(data.baseAddress! + 4 &* i).loadUnaligned(as: UInt32.self))
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let t = 4 &* n4
        switch n & 3 {
        case 3:
            h ^= UInt32(data[t + 2]) << 16
            h ^= UInt32(data[t + 1]) << 8
            h ^= UInt32(data[t])
            h = h &* m
        case 2:
            h ^= UInt32(data[t + 1]) << 8
            h ^= UInt32(data[t])
            h = h &* m
        case 1:
            h ^= UInt32(data[t])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The hash of any bytes: in place when they are contiguous, else through one copy.
    public static func hash<Bytes: Collection>(_ data: Bytes) -> Int32 where Bytes.Element == UInt8 {
        if let h = data.withContiguousStorageIfAvailable({ hash($0) }) { return h }
        return Array(data).withUnsafeBufferPointer { hash($0) }
    }

    /// The partition the Java client's default partitioner picks for a non-null key.
    public static func partition<Bytes: Collection>(forKey key: Bytes, partitionCount: Int32) -> Int32
    where Bytes.Element == UInt8 {
        Int32((hash(key) & 0x7fff_ffff) % partitionCount)
    }
}
