import BundleFormat
import KV
import Renderer
import StoreFixtures
import Testing

/// A renderer's etcd user may only read: rendering works, any write is refused.
@Suite("render on etcd with auth")
struct EtcdAuthRenderTests {
    @Test("a read-only renderer user renders the bundle and cannot write it")
    func readerOnlyReads() async throws {
        let harness = try await RenderHarness.start(.etcd)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "port=80\n"])
        let cluster = try #require(harness.server.etcd)
        try await cluster.addUser("node", password: "node-pass-9", prefixes: ["config/apps/"], write: false)
        try await cluster.enableAuth(rootPassword: "root-pass-9")

        let reader = harness.server.client(token: "node:node-pass-9")
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf"))}"])
        let report = await RenderOnce.run(OutputSet(config: config), store: reader, dryRun: false)
        #expect(report.succeeded)
        #expect(harness.read("app.conf") == "port=80\n")

        // A key of its own: over the synced bundle publish would refuse before trying to write.
        let publisher = BundlePublisher(store: reader, key: "config/apps/generated")
        let files = [BundleFile(path: "app.conf", content: Array("port=81\n".utf8))]
        let refused = await #expect(throws: RenderError.self) {
            try await publisher.publish(files, source: BundleSource(repo: "x", branch: "", path: "web"), summary: "try")
        }
        #expect(refused?.description.contains("ermission denied") == true, "\(String(describing: refused))")
        #expect(refused.map { !$0.description.contains("node-pass-9") } == true)
    }
}
