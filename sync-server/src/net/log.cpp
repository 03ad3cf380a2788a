#include "log.h"

#include <cstdio>
#include <mutex>

#include "safer/time.h"

namespace sync_server::log {

void line(std::string_view event, std::string_view details) {
  std::string text = safer::format_rfc3339(safer::now_unix_millis());
  text += ' ';
  text += event;
  if (!details.empty()) {
    text += ' ';
    text += details;
  }
  text += '\n';
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sync_server::log
