public import Logging

/// How a render pass is logged: one line per change or failure, nothing for unchanged outputs.
public enum RenderLog {
    public static func log(_ report: RenderReport, to logger: Logger) {
        for output in report.outputs {
            let metadata: Logger.Metadata = [
                "destination": "\(output.destination)", "bundle": "\(output.bundle)", "commit": "\(output.commit?.prefix(12) ?? "-")",
            ]
            switch output.status {
            case .unchanged, .wouldChange: break
            case .written(let inPlace):
                if inPlace {
                    logger.warning("delivered in place: the destination cannot be renamed over (a bind mount?), so a reader may see it mid-write", metadata: metadata)
                } else {
                    logger.info("delivered", metadata: metadata)
                }
            case .failed(let error):
                logger.error("not delivered; the old file stays", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
            }
        }
        for command in report.commands {
            let metadata: Logger.Metadata = ["command": "\(command.argv.joined(separator: " "))", "for": "\(command.destinations.joined(separator: ", "))"]
            if let error = command.error {
                logger.error("command failed; it runs again on the next change", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
            } else {
                logger.info("command ran", metadata: metadata)
            }
        }
    }
}
