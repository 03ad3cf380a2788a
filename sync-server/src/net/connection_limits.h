// Counters that bound what clients can make the server hold: open connections (overall and
// by peer address) and request bodies over 64 KiB being read at once. A slot is taken when
// the thing starts and given back when its Slot is destroyed.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace sync_server::net {

class Limits;

// One counted connection or upload; gives its place back when destroyed. Move-only.
class Slot {
 public:
  Slot() = default;
  Slot(Slot&& other) noexcept { *this = std::move(other); }
  Slot& operator=(Slot&& other) noexcept;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() { release(); }

 private:
  friend class Limits;
  Slot(Limits* owner, bool upload, std::string address)
      : owner_(owner), upload_(upload), address_(std::move(address)) {}
  void release() noexcept;

  Limits* owner_ = nullptr;  // null: holds nothing
  bool upload_ = false;      // an upload's place, else a connection's
  std::string address_;      // a connection's peer address
};

class Limits {
 public:
  // REQUIRES: before any take_*() call (SyncServer::start()).
  void configure(std::size_t max_connections, std::size_t max_per_address, std::size_t max_uploads);

  // A place for a new connection from `address`, or nullopt when all `max_connections` are
  // taken or `max_per_address` are taken by that address.
  std::optional<Slot> take_connection(const std::string& address);
  // A place to read a large request body, or nullopt when `max_uploads` are being read.
  std::optional<Slot> take_upload();

  std::size_t connections() const;

 private:
  friend class Slot;
  void give_back(bool upload, const std::string& address) noexcept;

  std::size_t max_connections_ = 0, max_per_address_ = 0, max_uploads_ = 0;  // constant after configure()
  mutable std::mutex mutex_;
  std::size_t connections_ = 0;                                  // guarded by mutex_
  std::unordered_map<std::string, std::size_t> by_address_;      // guarded by mutex_; no zero counts
  std::size_t uploads_ = 0;                                      // guarded by mutex_
};

}  // namespace sync_server::net
