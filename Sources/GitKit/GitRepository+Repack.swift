import CLibGit2
import Foundation

extension GitRepository {
    /// Pack files in the repository. libgit2 writes one per fetch that brings objects and never
    /// consolidates them; each stays mapped and indexed while the repository is open, so a
    /// mirror fetched for months slows every sync and grows the process (~5 KB per pack).
    public func packCount() -> Int {
        let directory = path + "/objects/pack"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("pack-") && $0.hasSuffix(".pack") }.count
    }

    /// `git repack -a -d` with libgit2: writes every object reachable from a branch or tag into
    /// one new pack, then removes the other packs. Objects no reference reaches are dropped,
    /// which is what a mirror wants. Run it under the mirror lock (no other writer).
    public func repack() throws(GitError) {
        let operation = "repack \(path)"
        var builder: OpaquePointer?
        try LibGit2.check(git_packbuilder_new(&builder, handle), operation)
        defer { git_packbuilder_free(builder) }
        var walk: OpaquePointer?
        try LibGit2.check(git_revwalk_new(&walk, handle), operation)
        defer { git_revwalk_free(walk) }
        for glob in ["refs/heads/*", "refs/tags/*"] {
            let code = git_revwalk_push_glob(walk, glob)
            if code < 0, code != GIT_ENOTFOUND.rawValue { try LibGit2.check(code, operation) }
        }
        try LibGit2.check(git_packbuilder_insert_walk(builder, walk), operation)
        for tag in try annotatedTagObjects() { try LibGit2.check(withUnsafePointer(to: tag) { git_packbuilder_insert(builder, $0, nil) }, operation) }
        let directory = path + "/objects/pack"
        try LibGit2.check(git_packbuilder_write(builder, directory, 0, nil, nil), operation)
        guard let name = git_packbuilder_name(builder).map({ String(cString: $0) }) else {
            throw GitError(kind: .libgit2, operation: operation, message: "libgit2 wrote a pack without a name")
        }
        let keep = "pack-\(name)."
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where file.hasPrefix("pack-") && !file.hasPrefix(keep) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
        // The pack builder's large, short-lived allocations would otherwise stay in malloc's
        // arenas and count as the daemon's memory until it exits.
        malloc_trim(0)
    }

    /// The ids of annotated tag objects (a revwalk packs what they point at, not the tags).
    private func annotatedTagObjects() throws(GitError) -> [git_oid] {
        var tags: [git_oid] = []
        for name in try referenceNames(under: "refs/tags/") {
            var id = git_oid()
            guard git_reference_name_to_id(&id, handle, "refs/tags/" + name) == 0 else { continue }
            var object: OpaquePointer?
            guard git_object_lookup(&object, handle, &id, GIT_OBJECT_ANY) == 0 else { continue }
            if git_object_type(object) == GIT_OBJECT_TAG { tags.append(id) }
            git_object_free(object)
        }
        return tags
    }
}
