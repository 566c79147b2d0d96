import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The renderer's optional HTTP port (`--listen`): `/metrics` and `/health` (the render state as JSON).
enum RendererRouter {
    static func make(metrics: RendererMetrics, current: CurrentWatcher) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        router.get("/health") { _, _ -> Response in
            let state = await current.watcher.currentState()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let data = (try? encoder.encode(state)) ?? Data("{}".utf8)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }
}
