import Foundation

/// Where git2kv keeps its state (mirrors, render state) when a configuration names no
/// `state_dir`: `$XDG_CACHE_HOME/git2kv`, else `~/.cache/git2kv`.
package enum StateDirectory {
    package static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/git2kv" }
        return (environment["HOME"] ?? NSTemporaryDirectory()) + "/.cache/git2kv"
    }
}
