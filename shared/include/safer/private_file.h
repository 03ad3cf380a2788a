// Files that hold personal data written whole or not at all (a subject access export).
#pragma once

#include <string>
#include <string_view>

#include "safer/result.h"

namespace safer {

// Writes `text` to `path`, mode 0600 whatever the umask: into a new temporary file beside it,
// flushed to disk, then renamed over `path`. On failure `path` is as it was (missing, or its
// old content) and no temporary file is left. Error "invalid", naming the path and the cause.
Status write_private_file(const std::string& path, std::string_view text);

}  // namespace safer
