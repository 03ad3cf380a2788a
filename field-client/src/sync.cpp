#include "field_client/sync.h"

#include "safer/protocol_json.h"
#include "safer/time.h"
#include "ws_connection.h"

namespace field_client {

namespace {

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
    safer::Push one{{{entry.seq, entry.change}}};
    const std::size_t size = safer::to_json(one).size();
    if (!push.changes.empty() && bytes + size > kMaxPushBytes) break;
    bytes += size;
    push.changes.push_back({entry.seq, entry.change});
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
    const auto pending = store.pending(options.max_batch_changes);
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

Status pull_all(Store& store, WsConnection& connection, const SyncOptions& options, SyncReport& report,
                SyncProgress& progress) {
  progress.phase = SyncProgress::Phase::pulling;
  progress.pull_started_at = safer::now_unix_millis();
  progress.pull_started = std::chrono::steady_clock::now();
  const auto ask = [&](const Result<std::string>& cursor) -> Status {
    if (!cursor) return cursor.error();
    return connection.send(safer::to_json(safer::Pull{*cursor, options.pull_limit}));
  };
  const Store::BulkPull bulk(store);
  // A full pull asked for meanwhile (a discarded refusal whose record the server holds).
  if (auto started = store.begin_requested_full_pull(); !started) return started;
  if (auto sent = ask(store.cursor()); !sent) return sent;
  for (;;) {
    auto page = expect<safer::ChangesPage>(receive(connection), "a page of changes");
    if (!page) {
      if (page.error().code == safer::codes::kCursorInvalid && !report.full_pull) {
        report.full_pull = true;
        if (auto reset = store.begin_full_pull(); !reset) return reset;
        if (auto sent = ask(store.cursor()); !sent) return sent;
        continue;
      }
      return page.error();
    }
    // The next page is asked for before this one is stored: the server reads it while this
    // store writes (B2, docs/BENCHMARKS.md). Each page is stored with its own cursor, so if
    // storing fails the page in flight is dropped with the connection and asked for again
    // next time.
    if (page->has_more) {
      if (auto sent = ask(page->cursor); !sent) return sent;
    }
    if (auto applied = store.apply_page(*page); !applied) return applied;
    report.pulled += static_cast<std::int64_t>(page->changes.size());
    progress.pulled = report.pulled;
    progress.pages += 1;
    progress.remaining = page->remaining;
    if (options.on_progress) options.on_progress(progress);
    if (!page->has_more) return store.finish_full_pull();
  }
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
