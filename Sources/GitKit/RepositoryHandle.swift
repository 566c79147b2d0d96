import CLibGit2

/// Owns a `git_repository` pointer and frees it. Only its repository actor touches the pointer,
/// on that actor's queue, which is why sharing the box is safe.
final class RepositoryHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_repository_free(pointer)
    }
}
