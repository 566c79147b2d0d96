import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import Pipeline

/// The daemon's HTTP port: `POST /webhooks/<repo>`, `/health` (and `/health/ready`), `/metrics`, `/status`.
public enum DaemonRouter {
    public static func make(_ daemon: SyncDaemon, maxWebhookBytes: Int) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/webhooks/:repo") { request, context -> Response in
            let repo = try context.parameters.require("repo")
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maxWebhookBytes)
            } catch {
                daemon.metrics.recordWebhook(provider: "unknown", outcome: "oversized")
                return text(.contentTooLarge, "the webhook body is larger than http.max_webhook_bytes (\(maxWebhookBytes) bytes)")
            }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let answer = await daemon.receiveWebhook(repo: repo, WebhookRequest(headers: headers, body: Array(buffer: body)))
            return text(HTTPResponse.Status(code: answer.status), answer.message)
        }
        router.get("/health") { _, _ -> Response in
            let report = await daemon.health()
            return json(report, status: .ok)
        }
        router.get("/health/ready") { _, _ -> Response in
            let report = await daemon.health()
            return json(report, status: report.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ -> Response in
            _ = await daemon.health()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: daemon.metrics.exposition())))
        }
        router.get("/status") { request, _ -> Response in
            if let rollout = request.uri.queryParameters.get("rollout") {
                do {
                    return json(try await RolloutStatus.read(config: daemon.config, argument: rollout), status: .ok)
                } catch let error as SyncError {
                    return text(error.kind == .outsidePrefix ? .notFound : .serviceUnavailable, error.description)
                }
            }
            return json(await daemon.statuses(), status: .ok)
        }
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return text(.internalServerError, "cannot encode the answer") }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
