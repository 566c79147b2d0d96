import Foundation

/// What a fetch stopped mid-way leaves in a bare mirror: lock files (`packed-refs.lock`,
/// `refs/heads/main.lock`) that would make every later fetch fail with "failed to lock file",
/// and the temporary pack libgit2 was writing. Removed only while the mirror lock is held, so no
/// fetch of this machine can be using them.
enum MirrorLeftovers {
    /// Removes them; returns the paths removed (relative to the mirror).
    @discardableResult
    static func remove(in mirror: String) -> [String] {
        var removed: [String] = []
        let fileManager = FileManager.default
        for name in ["packed-refs.lock", "config.lock", "HEAD.lock", "FETCH_HEAD.lock", "shallow.lock"]
        where fileManager.fileExists(atPath: mirror + "/" + name) {
            if (try? fileManager.removeItem(atPath: mirror + "/" + name)) != nil { removed.append(name) }
        }
        if let refs = fileManager.enumerator(atPath: mirror + "/refs") {
            for case let path as String in refs where path.hasSuffix(".lock") {
                if (try? fileManager.removeItem(atPath: mirror + "/refs/" + path)) != nil { removed.append("refs/" + path) }
            }
        }
        let packs = mirror + "/objects/pack"
        for name in (try? fileManager.contentsOfDirectory(atPath: packs)) ?? [] where name.hasPrefix("pack_git2_") || name.hasPrefix("tmp_") {
            if (try? fileManager.removeItem(atPath: packs + "/" + name)) != nil { removed.append("objects/pack/" + name) }
        }
        return removed
    }
}
