import CompressNIO
import NIOCore

/// zlib streams (RFC 1950) as the value formats use them.
enum Zlib {
    static func compress(_ bytes: [UInt8]) throws(BundleError) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        do {
            let compressed = try input.compress(with: .zlib(configuration: .init(compressionLevel: .bestCompression)))
            return Array(compressed.readableBytesView)
        } catch {
            throw BundleError(.corrupt, "compression failed: \(error)")
        }
    }

    /// The whole stream inflated, at most `limit` bytes; a stream cut short, followed by other
    /// bytes, or failing its checksum is refused.
    static func inflate(_ compressed: ArraySlice<UInt8>, limit: Int) throws(BundleError) -> [UInt8] {
        var input = ByteBuffer(bytes: compressed)
        var output: ByteBuffer
        do {
            output = try input.decompress(with: .zlib(), maxSize: limit)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw BundleError(.tooLarge, "decompressed payload exceeds the limit of \(limit) bytes")
        } catch let error as CompressNIOError where error == .unfinished || error == .inputBufferOverflow {
            throw BundleError(.truncated, "compressed payload ends early")
        } catch {
            throw BundleError(.corrupt, "compressed payload cannot be inflated (\(error))")
        }
        guard input.readableBytes == 0 else {
            throw BundleError(.trailingBytes, "\(input.readableBytes) bytes follow the compressed payload")
        }
        let payload = output.readBytes(length: output.readableBytes) ?? []
        // The inflater accepts a stream cut inside its 4-byte Adler-32 trailer, so check it here.
        guard compressed.count >= 6, Array(compressed.suffix(4)) == Adler32.bigEndianBytes(of: payload) else {
            throw BundleError(.truncated, "compressed payload ends before its checksum")
        }
        return payload
    }
}
