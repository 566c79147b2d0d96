/// The Adler-32 checksum that ends a zlib stream (RFC 1950).
enum Adler32 {
    static func bigEndianBytes(of data: [UInt8]) -> [UInt8] {
        let modulus: UInt32 = 65_521
        var a: UInt32 = 1
        var b: UInt32 = 0
        var index = 0
        while index < data.count {
            // 5552 is the largest run whose sums cannot overflow 32 bits before the modulo.
            let end = min(index + 5552, data.count)
            while index < end {
                a &+= UInt32(data[index])
                b &+= a
                index += 1
            }
            a %= modulus
            b %= modulus
        }
        let value = b << 16 | a
        return [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
}
