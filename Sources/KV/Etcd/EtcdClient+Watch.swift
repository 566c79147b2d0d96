import NIOCore

extension EtcdClient {
    /// How a wait on a range ended.
    enum RangeChange: Sendable {
        /// Something in the range changed at this revision (the newest one seen); `latest` is the
        /// last event of that message, which for a single key is its newest value.
        case changed(revision: Int64, latest: EtcdWire.Event?)
        /// Nothing changed within the wait.
        case timedOut
        /// The revision to start from was compacted away: read the range afresh.
        case compacted
    }

    /// Opens a watch stream on the range from the revision after `revision` and waits for the
    /// first change, at most `wait`. Changes made since `revision` are replayed by etcd, so
    /// nothing between two reads is missed. Progress notifications (answers without events)
    /// only show that the stream is alive.
    func waitForChange(in range: EtcdRange, after revision: UInt64, wait: Duration, operation: String) async throws(KVError) -> RangeChange {
        let request = EtcdWire.WatchRequest(
            create: .init(key: EtcdWire.Bytes(range.key), rangeEnd: range.end.map(EtcdWire.Bytes.init), startRevision: EtcdWire.Integer(Int64(clamping: revision) + 1)))
        let body = try encode(request, operation: operation)
        let outcome = await withTaskGroup(of: Result<RangeChange, KVError>?.self) { group in
            group.addTask {
                do throws(KVError) {
                    return .success(try await self.streamUntilChange(body, operation: operation))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: wait)
                    return .success(.timedOut)
                } catch {
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let change): return change
        case .failure(let error): throw error
        case nil: throw KVError(kind: .timeout, operation: operation, message: "the watch was cancelled")
        }
    }

    private func streamUntilChange(_ body: [UInt8], operation: String) async throws(KVError) -> RangeChange {
        let (endpoint, response) = try await openStream("/v3/watch", body, operation: operation)
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(pending[..<newline])
                    pending.removeSubrange(...newline)
                    if let change = try interpretWatchLine(line, operation: operation) { return change }
                }
            }
        } catch let error as KVError {
            throw error
        } catch {
            throw Self.transportError(error, operation: operation, url: endpoint)
        }
        if let change = try interpretWatchLine(pending, operation: operation) { return change }
        throw KVError(kind: .connectionFailed, operation: operation, message: "etcd closed the watch stream")
    }

    /// One message of a watch stream: a change, a compaction, an error, or nil for the
    /// confirmation and progress notifications.
    private func interpretWatchLine(_ line: [UInt8], operation: String) throws(KVError) -> RangeChange? {
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { return nil }
        let message = try decode(EtcdWire.WatchMessage.self, line, operation: operation)
        if let error = message.error {
            throw KVError(kind: Self.kind(code: error.code, status: nil, message: error.text), operation: operation, message: error.text)
        }
        guard let result = message.result else { return nil }
        if result.canceled == true {
            if (result.compactRevision?.value ?? 0) > 0 { return .compacted }
            throw KVError(kind: .serverError, operation: operation, message: "etcd cancelled the watch: \(result.cancelReason ?? "no reason given")")
        }
        let events = result.events ?? []
        guard !events.isEmpty else { return nil }
        let newest = events.compactMap { $0.kv?.modRevision?.value }.max() ?? result.header?.revision?.value ?? 0
        return .changed(revision: newest, latest: events.last)
    }
}
