import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The renderer's optional HTTP port (`--listen`): `/metrics` and `/health` (503 with the
/// problems while KV is silent, a command is owed or an output failed; the render state as JSON).
enum RendererRouter {
    static func make(metrics: RendererMetrics, current: CurrentWatcher) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.get("/health") { _, _ -> Response in
            let health = await current.watcher.health()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let data = (try? encoder.encode(health)) ?? Data("{}".utf8)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: health.healthy ? .ok : .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }
}
