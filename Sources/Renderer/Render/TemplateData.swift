import BundleFormat

/// What a template sees (documented in docs/configuration.md):
/// `bundle.{key,digest}`, `commit.{id,short,author,email,time,summary}`, `source.{repo,branch,path}`,
/// `files.<name>.{path,text,data,sha256,size}` with `.`, `/` and `-` of the path as `_`,
/// `file_list` (the same, in path order), and `node.{hostname,env.NAME}`.
enum TemplateData {
    static func make(_ verified: VerifiedBundle, facts: NodeFacts) -> [String: Any] {
        let bundle = verified.bundle
        var files: [String: Any] = [:]
        var list: [Any] = []
        for file in bundle.files {
            var entry: [String: Any] = [
                "path": file.path, "name": variableName(file.path), "sha256": file.sha256, "size": file.content.count,
            ]
            if let text = file.text {
                entry["text"] = text
                do {
                    if let data = try StructuredData.parse(path: file.path, text: text) { entry["data"] = data }
                } catch {
                    entry["data_error"] = "\(error)"
                }
            }
            files[variableName(file.path)] = entry
            list.append(entry)
        }
        return [
            "bundle": ["key": verified.key, "digest": bundle.digest],
            "commit": [
                "id": bundle.commit.id, "short": String(bundle.commit.id.prefix(12)), "author": bundle.commit.author,
                "email": bundle.commit.email, "time": bundle.commit.time, "summary": bundle.commit.summary,
            ],
            "source": ["repo": bundle.source.repo, "branch": bundle.source.branch, "path": bundle.source.path],
            "files": files,
            "file_list": list,
            "node": ["hostname": facts.hostname, "env": facts.environment],
        ]
    }

    /// Mustache splits names on `.`, so `app.json` is reached as `files.app_json`.
    static func variableName(_ path: String) -> String {
        String(path.map { $0 == "." || $0 == "/" || $0 == "-" ? "_" : $0 })
    }
}
