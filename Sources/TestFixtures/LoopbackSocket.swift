import Foundation

/// A TCP connection to 127.0.0.1, for test clients that must write raw bytes (half a request,
/// a probe of whether a port listens).
public enum LoopbackSocket {
    /// A connected socket to `port`, or nil with `errno` set when nothing accepted it.
    public static func connect(port: Int) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            let saved = errno
            close(descriptor)
            errno = saved
            return nil
        }
        return descriptor
    }
}
