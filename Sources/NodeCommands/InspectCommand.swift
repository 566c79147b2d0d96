package import ArgumentParser
import CommandSupport
import BundleFormat
import Foundation

/// Decodes and verifies a bundle value saved to a file, and prints what it carries.
package struct InspectCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Verify a bundle value, a chunk manifest or sharded hosts data (a file, or - for standard input) and describe it."
    )

    @Argument(help: "File holding the raw KV value of a bundle or chunk manifest, or - for standard input.")
    var file: String

    package init() {}

    package func run() throws {
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            bytes = Array(data)
        }
        if HostsShardWire.isManifest(bytes) {
            print(BundleDescription.describe(try HostsManifest.decode(bytes)))
            return
        }
        if bytes.starts(with: HostsShardWire.shardMagic) {
            print(BundleDescription.describe(try HostsShard.decode(bytes)))
            return
        }
        switch BundleWire.kind(of: bytes) {
        case .manifest:
            let manifest = try ChunkManifest.decode(bytes)
            print(BundleDescription.describe(manifest))
        case .bundle, .unknown:
            let bundle = try BundleDecoder.decode(bytes)
            print(BundleDescription.describe(bundle, encodedSize: bytes.count))
        }
    }
}
