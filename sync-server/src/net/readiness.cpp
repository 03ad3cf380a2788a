#include "readiness.h"

#include <utility>

namespace sync_server::net {

void Readiness::check(ReaderPool& readers, Done done) {
  std::unique_lock lock(mutex_);
  if (checking_) {
    if (waiting_.size() < kMaxWaiting) {
      waiting_.push_back(std::move(done));
      return;
    }
  } else if (!checked_at_ || Clock::now() - *checked_at_ >= kFresh) {
    checking_ = true;
    waiting_.push_back(std::move(done));
    lock.unlock();
    readers.post([this](ServerStore& store) {
      const auto status = store.ready();
      finish(status.ok(), status.ok() ? std::string() : status.error().message);
    });
    return;
  }
  const bool ready = ready_;
  const std::string reason = reason_;
  lock.unlock();
  done(ready, reason);
}

void Readiness::finish(bool ready, std::string reason) {
  std::vector<Done> waiting;
  {
    std::lock_guard lock(mutex_);
    checking_ = false;
    checked_at_ = Clock::now();
    ready_ = ready;
    reason_ = reason;
    waiting.swap(waiting_);
  }
  for (auto& done : waiting) done(ready, reason);
}

}  // namespace sync_server::net
