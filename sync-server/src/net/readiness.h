// GET /readyz (docs/server.md, "Readiness"): whether this server can serve — not shutting down, its
// store answers a read and its schema is the one this program works with (ServerStore::ready).
// /healthz only says that the process answers.
//
// Unauthenticated, so cheap whatever the rate: the store is asked at most once a second, on
// the reader pool (cached_read.h).
//
// Thread safety: check() from any thread; `done` runs on a reader thread or the caller's.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cached_read.h"

namespace sync_server::net {

class Readiness {
 public:
  using Done = std::function<void(bool ready, const std::string& reason)>;
  static constexpr std::chrono::milliseconds kFresh{1000};

  void check(ReaderPool& readers, Done done);

 private:
  struct Answer {
    bool ready = false;
    std::string reason;
  };
  CachedRead<Answer> answer_{kFresh, Answer{false, "not checked yet"}};
};

}  // namespace sync_server::net
