// A response body too large to hold in memory (the CSV exports): written on a reader-pool
// thread into a file that has no name, then sent from disk by the HTTP session.
#pragma once

#include <cstdint>
#include <string_view>

namespace sync_server::net {

// Owns an unnamed temporary file, mode 0600, in $TMPDIR (or /tmp): no other process can open
// it, and it is gone when the last descriptor closes, whatever happens to the server.
//
// Thread safety: one thread at a time (written on a reader thread, then handed over).
class BodyFile {
 public:
  BodyFile();  // REQUIRES nothing; ok() says whether the file could be made
  ~BodyFile();
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Appends `piece`. Throws std::runtime_error when it cannot (a full disk).
  void append(std::string_view piece);
  std::uint64_t size() const { return size_; }
  // The descriptor, positioned at the start, for the caller to own and close; -1 after.
  int release();

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace sync_server::net
