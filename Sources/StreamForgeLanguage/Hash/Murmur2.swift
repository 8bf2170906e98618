/// Kafka's murmur2, exactly as the Java client computes it (seed 0x9747b28c), so that keys
/// land on the partitions other Kafka producers would pick.
public enum Murmur2 {
    public static func hash<Bytes: Collection>(_ data: Bytes) -> Int32 where Bytes.Element == UInt8 {
        let length = data.count
        let seed: UInt32 = 0x9747_b28c
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        var h: UInt32 = seed ^ UInt32(truncatingIfNeeded: length)
        var it = data.makeIterator()
        var remaining = length
        while remaining >= 4 {
            let b0 = UInt32(it.next()!), b1 = UInt32(it.next()!), b2 = UInt32(it.next()!), b3 = UInt32(it.next()!)
            var k = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
            remaining -= 4
        }
        var tail: [UInt32] = []
        while let b = it.next() { tail.append(UInt32(b)) }
        switch tail.count {
        case 3:
            h ^= tail[2] << 16
            fallthrough
        case 2:
            h ^= tail[1] << 8
            fallthrough
        case 1:
            h ^= tail[0]
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition the Java client's default partitioner picks for a non-null key.
    public static func partition<Bytes: Collection>(forKey key: Bytes, partitionCount: Int32) -> Int32
    where Bytes.Element == UInt8 {
        Int32((hash(key) & 0x7fff_ffff) % partitionCount)
    }
}
