#include "field_client/sync.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "safer/protocol_json.h"
#include "safer/time.h"
#include "ws_connection.h"

namespace field_client {

namespace {

// Pulled changes stored in one transaction (pull_pages).
constexpr std::size_t kPullBatchChanges = 5000;
constexpr std::size_t kMaxPushBytes = safer::kMaxMessageBytes - 64 * 1024;  // room for the envelope

// Reads the server's next message; an error message becomes an Error with its code.
Result<safer::ServerMessage> receive(WsConnection& connection) {
  auto text = connection.receive();
  if (!text) return text.error();
  auto message = safer::decode_server_message(*text);
  if (!message) return Error{"bad_message", "the server sent something this client cannot read: " + message.error().message, ""};
  if (const auto* error = std::get_if<safer::ErrorMessage>(&*message)) {
    Error result{error->code, "the server said: " + error->message, ""};
    if (error->expected) result.field = std::to_string(*error->expected);  // seq_gap's expected seq
    return result;
  }
  return message;
}

template <class Expected>
Result<Expected> expect(Result<safer::ServerMessage> message, const char* what) {
  if (!message) return message.error();
  if (auto* value = std::get_if<Expected>(&*message)) return std::move(*value);
  return Error{"bad_message", std::string("the server did not answer with ") + what, ""};
}

// The next push: pending changes in seq order, as many as fit the batch and message limits.
safer::Push next_push(const std::vector<OutboxEntry>& pending) {
  safer::Push push;
  std::size_t bytes = 0;
  for (const auto& entry : pending) {
    safer::Push one{{{entry.seq, entry.change, entry.stored_data}}};
    const std::size_t size = safer::to_json(one).size();
    if (!push.changes.empty() && bytes + size > kMaxPushBytes) break;
    bytes += size;
    push.changes.push_back(std::move(one.changes.front()));
  }
  return push;
}

Status push_all(Store& store, WsConnection& connection, const SyncOptions& options, SyncReport& report,
                SyncProgress& progress) {
  progress.phase = SyncProgress::Phase::pushing;
  const auto summary = store.summary();
  if (!summary) return summary.error();
  progress.to_push = summary->pending;
  for (;;) {
    // The data as stored: put into the push as it is, not decoded and written again (B5).
    const auto pending = store.pending(options.max_batch_changes, OutboxData::stored);
    if (!pending) return pending.error();
    if (pending->empty()) return {};
    const auto push = next_push(*pending);
    if (auto sent = connection.send(safer::to_json(push)); !sent) return sent;
    auto ack = expect<safer::Ack>(receive(connection), "an ack");
    if (!ack) {
      if (ack.error().code == safer::codes::kSeqGap && !ack.error().field.empty()) {
        // The server expects an earlier seq than we sent: resend from there.
        if (auto requeued = store.requeue_from(std::stoll(ack.error().field)); !requeued) return requeued;
        continue;
      }
      return ack.error();
    }
    if (auto applied = store.apply_ack(*ack); !applied) return applied;
    if (ack->acked_seq < push.changes.back().seq) {
      // Never loop on a batch the server did not take whole: report it instead.
      return Error{"bad_message", "the server acknowledged up to seq " + std::to_string(ack->acked_seq) +
                                      " of a batch ending at " + std::to_string(push.changes.back().seq), ""};
    }
    report.pushed += static_cast<std::int64_t>(push.changes.size());
    report.rejected += static_cast<std::int64_t>(ack->rejected.size());
    progress.pushed = report.pushed;
    if (options.on_progress) options.on_progress(progress);
  }
}

// Pages of a pull, asked for, received and decoded on a thread of its own, at most
// kPagesAhead ahead of the store: the server reads and this client parses the next pages while
// the store writes the last ones (B2, docs/BENCHMARKS.md). From construction to destruction
// the connection belongs to that thread; the destructor stops it after the receive in
// progress, which has the connection's deadline.
class PageFetcher {
 public:
  static constexpr std::size_t kPagesAhead = 12;

  PageFetcher(WsConnection& connection, std::string cursor, int limit)
      : connection_(connection), thread_([this, cursor = std::move(cursor), limit] { run(cursor, limit); }) {}

  ~PageFetcher() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  PageFetcher(const PageFetcher&) = delete;
  PageFetcher& operator=(const PageFetcher&) = delete;

  // The next page, or the error that ended the pull (then no more pages follow).
  Result<safer::ChangesPage> next() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !ready_.empty(); });
    auto page = std::move(ready_.front());
    ready_.pop_front();
    changed_.notify_all();
    return page;
  }

 private:
  void run(std::string cursor, int limit) {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || ready_.size() < kPagesAhead; });
        if (stopping_) return;
      }
      Result<safer::ChangesPage> page = Error{};
      try {
        if (auto sent = connection_.send(safer::to_json(safer::Pull{cursor, limit})); sent) {
          page = expect<safer::ChangesPage>(receive(connection_), "a page of changes");
        } else {
          page = sent.error();
        }
      } catch (const std::exception& failure) {
        // Out of memory, say: it ends the pull with the error the C API gives an unexpected
        // failure on the caller's thread (c_api.cpp, guarded), instead of ending the program.
        page = Error{"storage", std::string("unexpected failure: ") + failure.what(), ""};
      }
      const bool done = !page || !page->has_more;
      if (page) cursor = page->cursor;
      {
        std::lock_guard lock(mutex_);
        ready_.push_back(std::move(page));
      }
      changed_.notify_all();
      if (done) return;
    }
  }

  WsConnection& connection_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Result<safer::ChangesPage>> ready_;  // guarded by mutex_
  bool stopping_ = false;                         // guarded by mutex_
  std::thread thread_;                            // last: it starts once the rest is built
};

// Pulls from the stored cursor to the last page. Pages are stored kPullBatchChanges changes
// at a time, each batch in one transaction with its last cursor; the pages received before an
// error are stored before the error is returned, so a dropped connection costs no page
// already received.
Status pull_pages(Store& store, WsConnection& connection, const SyncOptions& options, SyncReport& report,
                  SyncProgress& progress) {
  auto cursor = store.cursor();
  if (!cursor) return cursor.error();
  PageFetcher fetcher(connection, *cursor, options.pull_limit);
  std::vector<safer::ChangesPage> batch;
  std::size_t batched = 0;
  const auto store_batch = [&]() -> Status {
    if (auto applied = store.apply_pages(batch); !applied) return applied;
    for (const auto& stored : batch) report.pulled += static_cast<std::int64_t>(stored.changes.size());
    batch.clear();
    batched = 0;
    return {};
  };
  for (;;) {
    auto page = fetcher.next();
    if (!page) {
      if (auto stored = store_batch(); !stored) return stored;
      return page.error();
    }
    const bool last = !page->has_more;
    progress.pulled += static_cast<std::int64_t>(page->changes.size());
    progress.pages += 1;
    progress.remaining = page->remaining;
    if (options.on_progress) options.on_progress(progress);
    batched += page->changes.size();
    batch.push_back(std::move(*page));
    // A page that brings nothing is the server waiting for a transaction elsewhere to end
    // (protocol.md §4.3), which may take long: what came before it, and its cursor, are kept.
    if (batched >= kPullBatchChanges || last || batch.back().changes.empty()) {
      if (auto stored = store_batch(); !stored) return stored;
    }
    if (last) return {};
  }
}

Status pull_all(Store& store, WsConnection& connection, const SyncOptions& options, SyncReport& report,
                SyncProgress& progress) {
  progress.phase = SyncProgress::Phase::pulling;
  progress.pull_started_at = safer::now_unix_millis();
  progress.pull_started = std::chrono::steady_clock::now();
  const Store::BulkPull bulk(store);
  // A full pull asked for meanwhile (a discarded refusal whose record the server holds).
  if (auto started = store.begin_requested_full_pull(); !started) return started;
  auto pulled = pull_pages(store, connection, options, report, progress);
  if (!pulled && pulled.error().code == safer::codes::kCursorInvalid && !report.full_pull) {
    report.full_pull = true;
    if (auto reset = store.begin_full_pull(); !reset) return reset;
    pulled = pull_pages(store, connection, options, report, progress);
  }
  if (!pulled) return pulled;
  return store.finish_full_pull();
}

}  // namespace

bool is_retryable(const Error& error) { return safer::is_retryable_code(error.code); }

Result<SyncReport> sync_once(Store& store, const SyncOptions& options) {
  const auto enrollment = store.enrollment();
  if (!enrollment) return enrollment.error();  // "not_enrolled", or the store cannot be read
  // Checked again here: a store enrolled before the check existed may hold such a URL.
  if (auto plaintext = check_plaintext(enrollment->server_url, enrollment->allow_plaintext || options.allow_plaintext);
      !plaintext) {
    return plaintext.error();
  }
  const auto device = store.device();
  if (!device) return device.error();
  SyncProgress progress;
  if (options.on_progress) options.on_progress(progress);
  auto connection = WsConnection::connect(enrollment->server_url, enrollment->token, enrollment->ca_file, options.timeout);
  if (!connection) return connection.error();

  // This client applies evictions (protocol.md §4.6): households that leave its user's scope go;
  // its visits with a referral always carry their share_basis, its follow-ups and rescheduled
  // visits their dates (§5.2), and every answer (§5.8); it shows a pull's progress (§4.2).
  const safer::Hello hello{safer::kProtocolVersion, device->device_id, options.app_version,
                           {std::string(safer::capabilities::kEvict), std::string(safer::capabilities::kShareBasis),
                            std::string(safer::capabilities::kWorkDates), std::string(safer::capabilities::kQuestions),
                            std::string(safer::capabilities::kPullProgress)}};
  if (auto sent = (*connection)->send(safer::to_json(hello));
      !sent) {
    return sent.error();
  }
  auto welcome = expect<safer::Welcome>(receive(**connection), "welcome");
  if (!welcome) return welcome.error();
  const auto now = safer::now_unix_millis();
  if (auto applied = store.apply_welcome(*welcome, now); !applied) return applied.error();

  // A server restored from a backup may have lost changes it once acknowledged: its acked_seq
  // is then below what this device saw acknowledged, and those changes are sent again.
  const auto summary = store.summary();
  if (!summary) return summary.error();
  if (welcome->acked_seq < summary->last_acked_seq) {
    if (auto requeued = store.requeue_from(welcome->acked_seq + 1); !requeued) return requeued.error();
  }

  SyncReport report;
  report.clock_offset_ms = welcome->server_time - now;
  if (auto pushed = push_all(store, **connection, options, report, progress); !pushed) return pushed.error();
  if (auto pulled = pull_all(store, **connection, options, report, progress); !pulled) return pulled.error();
  if (auto recorded = store.record_sync_success(safer::now_unix_millis()); !recorded) return recorded.error();
  (*connection)->close();
  return report;
}

}  // namespace field_client
