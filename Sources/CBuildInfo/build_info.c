#include "build_info.h"

#ifndef GIT2KV_COMMIT
#define GIT2KV_COMMIT "unknown"
#endif

const char *git2kv_build_commit(void) { return GIT2KV_COMMIT; }
