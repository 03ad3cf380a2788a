// One device's WebSocket session (protocol.md §2-§4, §6): hello/welcome, then push and pull,
// each answered in order. The session owns itself (shared_from_this in every handler), runs
// on its own strand, and has at most one write in flight.
//
// Bounded memory: the answers waiting to be sent never grow much past --max-queued-bytes
// (plus one answer): over it, no further message is read until the device has taken enough
// of them; if it stays over for --slow-reader-timeout, the queue is dropped and the
// connection closes with 1008 (cut at the TCP level if even that cannot be sent).
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>

#include "log.h"
#include "context.h"
#include "server_metrics.h"
#include "safer/protocol_json.h"

namespace sync_server::net {

namespace {

namespace websocket = beast::websocket;

// How long a page that brings nothing yet waits before it is sent (on_pull): the first such
// page in a row 50 ms, each next one twice as long, at most 1 s.
constexpr std::chrono::milliseconds kHeldPagePause{50};
constexpr std::chrono::milliseconds kHeldPagePauseMax{1000};

std::string fmt_ms(double ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", ms);
  return buffer;
}

template <class Stream>
class WsSession : public Connection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Context& context, Stream stream, DeviceRecord device, Slot slot)
      : context_(context), ws_(std::move(stream)), device_(std::move(device)), slot_(std::move(slot)) {
    beast::error_code ignored;
    const auto endpoint = beast::get_lowest_layer(ws_).socket().remote_endpoint(ignored);
    peer_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }
  ~WsSession() override { context_.registry.remove(this); }

  void start(Request request) {
    context_.registry.add(this->shared_from_this());
    context_.registry.set_device(this, device_.identity.device_id, device_.credential);
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = context_.config.handshake_timeout;
    timeout.idle_timeout = context_.config.idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(safer::kMaxMessageBytes);
    // A failed connection (1009) drains what the peer still sends, so that it gets the close
    // frame rather than a reset (lingering_close.h).
    beast::get_lowest_layer(ws_).rate_policy().drain_time = context_.config.handshake_timeout;
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, "safer-streets-sync");
      if constexpr (std::is_same_v<Stream, TlsStream>) {  // as on every HTTPS response (http_session.cpp)
        response.set(http::field::strict_transport_security, "max-age=31536000");
      }
    }));
    auto shared_request = std::make_shared<Request>(std::move(request));
    ws_.async_accept(*shared_request, [self = this->shared_from_this(), shared_request](beast::error_code ec) {
      self->on_accept(ec);
    });
  }

  void shut_down() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->finish(websocket::close_code::going_away); });
  }

  void revoked() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      log::line("revoked", "device=" + self->device_.identity.device_id + " reason=\"revoked, or enrolled again\"");
      self->finish(websocket::close_code::policy_error);
    });
  }

 private:
  // Closes with `code` now if no message is being handled, or else after its answer.
  void finish(websocket::close_code code) {
    if (closing_ || close_after_) return;
    close_after_ = code;
    if (!busy_) close_now();
  }

  void on_accept(beast::error_code ec) {
    if (ec) {
      log::line("ws_accept_failed", "device=" + device_.identity.device_id + " error=\"" + ec.message() + "\"");
      return;
    }
    log::line("connected", "device=" + device_.identity.device_id + " user=" + device_.identity.user_id +
                               " role=" + std::string(safer::to_string(device_.identity.role)) + " peer=" + peer_);
    if (context_.stopping) return finish(websocket::close_code::going_away);
    read();
  }

  void read() {
    busy_ = false;
    if (close_after_) return close_now();
    if (queued_bytes_ > context_.config.max_queued_bytes) return pause_reading();
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t bytes) {
      self->on_read(ec, bytes);
    });
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    if (ec) {
      const char* why = ec == websocket::error::closed          ? "closed by the device"
                        : ec == websocket::error::message_too_big ? "message over 1 MiB (closed with 1009)"
                                                                  : nullptr;
      log::line("disconnected", "device=" + device_.identity.device_id + " reason=\"" +
                                    (why != nullptr ? why : ec.message()) + "\"");
      return;
    }
    busy_ = true;
    if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      return reply_error(safer::codes::kBadMessage, "messages must be JSON in text frames");
    }
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    (void)bytes;
    handle(text);
  }

  void handle(const std::string& text) {
    auto decoded = safer::decode_client_message(text);
    if (!decoded) return reply_error(safer::codes::kBadMessage, decoded.error().message);
    if (auto* hello = std::get_if<safer::Hello>(&*decoded)) return on_hello(*hello);
    if (!hello_done_) return reply_error(safer::codes::kHelloRequired, "send hello first");
    if (auto* push = std::get_if<safer::ReceivedPush>(&*decoded)) return on_push(std::move(*push));
    on_pull(std::get<safer::Pull>(*decoded));
  }

  void on_hello(const safer::Hello& hello) {
    if (hello.protocol != safer::kProtocolVersion) {
      return reply_error(safer::codes::kUnsupportedProtocol,
                         "this server speaks protocol 1, not " + std::to_string(hello.protocol));
    }
    if (hello.device_id != device_.identity.device_id) {
      log::line("device_mismatch", "device=" + device_.identity.device_id);
      return reply_error(safer::codes::kDeviceMismatch, "device_id is not the device this token was issued to");
    }
    // §10 rule 4: an addition is used only if both lists name it; this server offers both of its own.
    evictions_ = hello.announces(safer::capabilities::kEvict) ? ServerStore::Evictions::send : ServerStore::Evictions::omit;
    rules_ = safer::WriterRules{.share_basis = hello.announces(safer::capabilities::kShareBasis),
                                .work_dates = hello.announces(safer::capabilities::kWorkDates),
                                .questions = hello.announces(safer::capabilities::kQuestions)};
    estimate_pulls_ = hello.announces(safer::capabilities::kPullProgress);
    context_.readers->post([self = this->shared_from_this()](ServerStore& store) {
      std::optional<DeviceRecord> device;
      try {
        device = store.device(self->device_.identity.device_id);
      } catch (const std::exception&) {
        return asio::post(self->ws_.get_executor(), [self] {
          self->reply_error(safer::codes::kUnavailable, "the server cannot read its database; try again later");
        });
      }
      safer::Welcome welcome;
      welcome.device_id = self->device_.identity.device_id;
      welcome.user_id = self->device_.identity.user_id;
      welcome.role = self->device_.identity.role;
      welcome.acked_seq = device ? device->acked_seq : 0;
      welcome.server_time = store.options().wall_clock();
      welcome.wards = store.options().lists.wards;
      welcome.stations = store.options().lists.stations;
      welcome.capabilities = {std::string(safer::capabilities::kEvict), std::string(safer::capabilities::kShareBasis),
                              std::string(safer::capabilities::kWorkDates), std::string(safer::capabilities::kQuestions),
                              std::string(safer::capabilities::kPullProgress)};
      welcome.questions = store.options().lists.questions;
      asio::post(self->ws_.get_executor(), [self, welcome = std::move(welcome)] {
        self->hello_done_ = true;
        log::line("hello", "device=" + welcome.device_id + " acked_seq=" + std::to_string(welcome.acked_seq));
        self->reply(safer::to_json(welcome));
      });
    });
  }

  void on_push(safer::ReceivedPush push) {
    const auto changes = push.changes.size();
    const auto first = push.changes.front().seq;
    const auto last = push.changes.back().seq;
    auto prepared = ServerStore::prepare_push(push);  // here, not on the one writer thread
    PushJob job{device_.identity, std::move(push), {}, std::move(prepared), device_.credential, rules_};
    job.done = [self = this->shared_from_this(), changes, first, last](PushResult result) {
      asio::post(self->ws_.get_executor(), [self, changes, first, last, result = std::move(result)] {
        self->on_pushed(result, changes, first, last);
      });
    };
    context_.commits->submit(std::move(job));
  }

  void on_pushed(const PushResult& result, std::size_t changes, std::int64_t first, std::int64_t last) {
    std::string line = "device=" + device_.identity.device_id + " changes=" + std::to_string(changes) +
                       " seq=" + std::to_string(first) + ".." + std::to_string(last);
    server_metrics().record_push(result);
    if (result.failure) {
      log::line("push_failed", line + " error=" + result.failure->code);
      return reply_error(result.failure->code, result.failure->message);
    }
    const auto& outcome = *result.outcome;
    line += " applied=" + std::to_string(outcome.applied) + " ignored=" + std::to_string(outcome.ignored) +
            " rejected=" + std::to_string(outcome.rejected) + " group=" + std::to_string(result.group_batches) +
            " queued_ms=" + fmt_ms(result.queued_ms) + " commit_ms=" + fmt_ms(result.commit_ms);
    if (outcome.error) {
      log::line("push_refused", line + " error=" + outcome.error->code);
      if (outcome.error->fatal) close_after_ = websocket::close_code::policy_error;
      return reply(safer::to_json(*outcome.error));
    }
    log::line("push", line + " acked_seq=" + std::to_string(outcome.ack->acked_seq));
    reply(safer::to_json(*outcome.ack));
  }

  void on_pull(const safer::Pull& pull) {
    // A pull that continues the page this connection sent last counts its estimate down.
    ServerStore::Progress progress{estimate_pulls_, std::nullopt};
    if (estimate_pulls_ && !pull.cursor.empty() && pull.cursor == estimated_cursor_) progress.previous = estimate_;
    context_.readers->post([self = this->shared_from_this(), pull, evictions = evictions_, progress](ServerStore& store) {
      const auto started = std::chrono::steady_clock::now();
      Result<safer::ChangesPage> page =
          Error{std::string(safer::codes::kUnavailable), "the server cannot read its database; try again later", ""};
      try {
        page = store.pull(self->device_.identity, pull, evictions, progress, ServerStore::Data::stored);
      } catch (const std::exception&) {
      }
      std::string text = page ? safer::to_json(*page) : std::string();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      asio::post(self->ws_.get_executor(), [self, page = std::move(page), text = std::move(text), ms]() mutable {
        if (!page) {
          server_metrics().record_pull_refused(page.error().code);
          log::line("pull_refused", "device=" + self->device_.identity.device_id + " error=" + page.error().code);
          return self->reply_error(page.error().code, page.error().message);
        }
        server_metrics().record_pull_page(page->changes.size(), text.size());
        self->estimated_cursor_ = page->cursor;
        self->estimate_ = page->remaining;
        log::line("pull", "device=" + self->device_.identity.device_id + " changes=" +
                              std::to_string(page->changes.size()) + " has_more=" + (page->has_more ? "true" : "false") +
                              " bytes=" + std::to_string(text.size()) + " ms=" + fmt_ms(ms));
        // Nothing to send yet, but the pull is not over: a full pull waiting for a transaction
        // on another server to end (pull.cpp, held_back). Answer after a pause, so that the
        // client, which pulls again at once, does not spin; the longer the wait, the longer
        // the pause. The timer is never cancelled: the answer always goes (a close waits for
        // it, as busy_ is still set).
        if (page->has_more && page->changes.empty()) {
          const auto pause = std::min(kHeldPagePause * (1 << std::min(self->held_pages_, 5)), kHeldPagePauseMax);
          ++self->held_pages_;
          self->held_page_timer_.expires_after(pause);
          self->held_page_timer_.async_wait(
              [self, text = std::move(text)](beast::error_code) mutable { self->reply(std::move(text)); });
          return;
        }
        self->held_pages_ = 0;
        self->reply(std::move(text));
      });
    });
  }

  // "fatal" (and closing with 1008 after the answer) comes from the one table of codes.
  void reply_error(std::string_view code, std::string message) {
    const auto* info = safer::find_error_code(code);
    const bool fatal = info != nullptr && info->closes;
    safer::ErrorMessage error{std::string(code), std::move(message), fatal, std::nullopt};
    if (fatal) close_after_ = websocket::close_code::policy_error;
    reply(safer::to_json(error));
  }

  // Queues the answer to the current message, then reads the next one (or closes).
  void reply(std::string text) {
    queued_bytes_ += text.size();
    outbox_.push_back(std::make_shared<const std::string>(std::move(text)));
    if (!writing_) write_next();
    read();
  }

  // The device sends but does not read its answers: read nothing more until it does.
  void pause_reading() {
    if (paused_) return;
    paused_ = true;
    slow_reader_timer_.expires_after(context_.config.slow_reader_timeout);
    slow_reader_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_slow_reader();
    });
  }

  // Called by on_write() once the queue is under the limit again.
  void resume_reading() {
    paused_ = false;
    slow_reader_timer_.cancel();
    read();
  }

  // Still over the limit after --slow-reader-timeout: drop what waits (all but the answer
  // being written), close with 1008 after it, and cut the connection if even that stalls.
  void on_slow_reader() {
    if (!paused_ || closing_) return;
    log::line("slow_reader", "device=" + device_.identity.device_id + " queued_bytes=" + std::to_string(queued_bytes_));
    while (outbox_.size() > 1) {
      queued_bytes_ -= outbox_.back()->size();
      outbox_.pop_back();
    }
    close_after_ = websocket::close_code::policy_error;
    slow_reader_timer_.expires_after(context_.config.handshake_timeout);
    slow_reader_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || !self->writing_) return;
      log::line("slow_reader_cut", "device=" + self->device_.identity.device_id);
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*outbox_.front()), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    queued_bytes_ -= outbox_.front()->size();
    outbox_.pop_front();
    writing_ = false;
    if (ec) {
      slow_reader_timer_.cancel();
      return;
    }
    if (!outbox_.empty()) write_next();
    if (paused_ && queued_bytes_ <= context_.config.max_queued_bytes && !close_after_) return resume_reading();
    if (!writing_ && close_after_ && !busy_) close_now();
  }

  void close_now() {
    if (closing_ || writing_) return;  // on_write closes once the last answer is out
    closing_ = true;
    ws_.async_close(websocket::close_reason(*close_after_), [self = this->shared_from_this()](beast::error_code) {
      self->slow_reader_timer_.cancel();
      log::line("closed", "device=" + self->device_.identity.device_id +
                              " code=" + std::to_string(static_cast<int>(*self->close_after_)));
    });
  }

  Context& context_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  const DeviceRecord device_;
  std::string peer_;
  bool hello_done_ = false;
  ServerStore::Evictions evictions_ = ServerStore::Evictions::omit;  // what the hello announced
  safer::WriterRules rules_;  // what the hello announced
  bool estimate_pulls_ = false;  // the hello announced pull_progress
  std::string estimated_cursor_;          // the cursor of the last page sent …
  std::optional<std::int64_t> estimate_;  // … and its `remaining`
  bool busy_ = false;      // a message is being handled; its answer is not queued yet
  bool writing_ = false;   // one async_write in flight
  bool closing_ = false;   // async_close started
  std::optional<websocket::close_code> close_after_;
  std::deque<std::shared_ptr<const std::string>> outbox_;
  std::size_t queued_bytes_ = 0;  // of outbox_, the answer being written included
  bool paused_ = false;           // not reading: queued_bytes_ went over --max-queued-bytes
  asio::steady_timer slow_reader_timer_{ws_.get_executor()};
  asio::steady_timer held_page_timer_{ws_.get_executor()};  // delays a page that brings nothing yet
  int held_pages_ = 0;  // such pages sent in a row
  Slot slot_;  // this connection's place among the open ones
};

}  // namespace

void serve_websocket(Context& context, PlainStream stream, Request request, DeviceRecord device, Slot slot) {
  std::make_shared<WsSession<PlainStream>>(context, std::move(stream), std::move(device), std::move(slot))
      ->start(std::move(request));
}

void serve_websocket(Context& context, TlsStream stream, Request request, DeviceRecord device, Slot slot) {
  std::make_shared<WsSession<TlsStream>>(context, std::move(stream), std::move(device), std::move(slot))
      ->start(std::move(request));
}

}  // namespace sync_server::net
