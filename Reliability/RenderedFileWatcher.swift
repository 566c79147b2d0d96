import Foundation

/// Reads the renderer's destinations every few milliseconds: each must always be exactly what
/// it should hold at some commit (a torn or half-written file never is).
struct RenderedFileWatcher: Sendable {
    let destinations: [String]
    let history: ConfigHistory
    let findings: Findings

    func run() async {
        var last: [String: [UInt8]] = [:]
        while !Task.isCancelled {
            for destination in destinations {
                guard let content = fileBytes(destination) else { continue }
                findings.count("rendered file reads checked")
                guard content != last[destination] else { continue }
                last[destination] = content
                findings.count("rendered contents checked")
                if !history.isKnownRender(content, at: destination) {
                    findings.violation("\(destination) held \(content.count) bytes that no commit renders to (torn or wrong)")
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
