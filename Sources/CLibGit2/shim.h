#ifndef GIT2KV_CLIBGIT2_SHIM_H
#define GIT2KV_CLIBGIT2_SHIM_H

#include <git2.h>
#include <malloc.h>

/* git_libgit2_opts is variadic, which Swift cannot call: these wrap the options git2kv sets. */

static inline int git2kv_set_ssl_cert_locations(const char *file, const char *directory) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, directory);
}

static inline int git2kv_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

static inline int git2kv_set_user_agent(const char *agent) {
    return git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent);
}

#endif
