import Hummingbird

/// Reads a request body up to a limit, so that a huge body is refused rather than buffered.
enum RequestBody {
    struct TooLarge: Error {
        let size: Int
    }

    static func collect(_ request: Request, limit: Int) async -> Result<[UInt8], TooLarge> {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            return .failure(TooLarge(size: declared))
        }
        var bytes: [UInt8] = []
        do {
            for try await var buffer in request.body {
                guard bytes.count + buffer.readableBytes <= limit else {
                    return .failure(TooLarge(size: bytes.count + buffer.readableBytes))
                }
                bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        } catch {
            return .failure(TooLarge(size: bytes.count))
        }
        return .success(bytes)
    }
}
