package import ArgumentParser
import CommandSupport
import BundleFormat
import Foundation
import KV
import Renderer
import ServiceLifecycle
import ConfigParsing

/// `git2kv hosts`: the DNS backup hosts file, built from the catalog by one elected generator.
package struct HostsCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "Build a hosts file from the service catalog and publish it as a bundle (one generator holds the lock).",
        discussion: "Run it on a few nodes; renderers deliver the bundle as a file output (e.g. /etc/hosts.consul) and signal dnsmasq."
    )

    @Option(name: .long, help: "The hosts generator's YAML configuration.")
    var config: String

    @OptionGroup var logging: LogOptions

    package init() {}

    package func run() async throws {
        let loaded: PublisherConfig
        do {
            loaded = try PublisherConfig.load(file: config)
        } catch {
            Output.exit(error.description)
        }
        let logger = logging.bootstrap(label: "git2kv.hosts")
        let generator: HostsGenerator
        do {
            let kv = try KVConnection.open(loaded.kv, token: nil)
            guard let catalog = try KVConnection.open(loaded.catalogKV, token: nil) as? any ServiceCatalog else {
                Output.exit("error: hosts reads the service catalog from Consul (or git2kv kv-server); with kv on etcd, set catalog: { address: ... } to the Consul agent")
            }
            generator = try HostsGenerator(config: loaded, kv: kv, catalog: catalog, logger: logger)
        } catch {
            Output.exit("error: \(error)")
        }
        Output.line("git2kv hosts publishing \(loaded.key ?? "") from the catalog at \(loaded.catalogKV.address)")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [generator], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
