#include "safer/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace safer {

namespace {

// Writes all of `text` to `fd` and flushes it to disk; errno is set when it returns false.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(written));
  }
  return ::fsync(fd) == 0;
}

}  // namespace

Status write_private_file(const std::string& path, std::string_view text) {
  const auto failed = [&path](const char* what, int error) {
    return Error{"invalid", path + " " + what + ": " + std::strerror(error), "out"};
  };
  std::string pattern = path + ".tmp-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());  // mode 0600, a name no one else has
  if (fd < 0) return failed("cannot be written", errno);
  const std::string temporary(name.data());
  const bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, text);
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    return failed("cannot be written", write_errno);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temporary.c_str());
    return failed("cannot be put in place", rename_errno);
  }
  return {};
}

}  // namespace safer
