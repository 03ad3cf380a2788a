#include "readiness.h"

#include <utility>

namespace sync_server::net {

void Readiness::check(ReaderPool& readers, Done done) {
  answer_.get(
      readers,
      [](ServerStore& store) {
        const auto status = store.ready();
        return Answer{status.ok(), status.ok() ? std::string() : status.error().message};
      },
      [done = std::move(done)](const Answer& answer) { done(answer.ready, answer.reason); });
}

}  // namespace sync_server::net
