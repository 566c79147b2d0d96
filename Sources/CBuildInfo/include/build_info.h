#ifndef GIT2KV_BUILD_INFO_H
#define GIT2KV_BUILD_INFO_H

/// The commit this binary was built from: scripts/package passes -Xcc -DGIT2KV_COMMIT="<id>";
/// a plain `swift build` says "unknown".
const char *git2kv_build_commit(void);

#endif
