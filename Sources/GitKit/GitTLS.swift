import CLibGit2

/// Process-wide TLS settings of libgit2's HTTPS transport.
public enum GitTLS {
    /// Trusts the certificate authorities in `file` (PEM bundle) and/or `directory` (hashed
    /// certificate directory) for every HTTPS remote, in place of the system store.
    public static func trustCertificates(file: String?, directory: String? = nil) throws(GitError) {
        LibGit2.ensureInitialized()
        try LibGit2.check(
            git2kv_set_ssl_cert_locations(file, directory),
            "use CA certificates from \(file ?? directory ?? "nowhere")")
    }
}
