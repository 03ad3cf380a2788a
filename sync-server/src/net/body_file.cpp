#include "body_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace sync_server::net {

namespace {

// An unnamed file: O_TMPFILE, or on a file system without it a named one unlinked at once.
int open_unnamed(const std::filesystem::path& directory) {
  int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string pattern = (directory / "safer-streets-export-XXXXXX").string();
  fd = ::mkostemp(pattern.data(), O_CLOEXEC);  // mode 0600
  if (fd >= 0) ::unlink(pattern.c_str());
  return fd;
}

}  // namespace

BodyFile::BodyFile() {
  std::error_code ec;
  auto directory = std::filesystem::temp_directory_path(ec);
  if (ec) directory = "/tmp";
  fd_ = open_unnamed(directory);
}

BodyFile::~BodyFile() {
  if (fd_ >= 0) ::close(fd_);
}

void BodyFile::append(std::string_view piece) {
  while (!piece.empty()) {
    const ssize_t written = ::write(fd_, piece.data(), piece.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) throw std::runtime_error(std::string("cannot write the export: ") + std::strerror(errno));
    piece.remove_prefix(static_cast<std::size_t>(written));
    size_ += static_cast<std::uint64_t>(written);
  }
}

int BodyFile::release() {
  if (fd_ >= 0 && ::lseek(fd_, 0, SEEK_SET) != 0) return -1;
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

}  // namespace sync_server::net
