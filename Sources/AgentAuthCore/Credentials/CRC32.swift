/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit-identical to zlib's `crc32`.
///
/// Written here rather than linking zlib: the key checksum is the only use, it is 20 lines,
/// and it keeps `AgentAuthCore` free of a system-library dependency.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
        }
        return value
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
