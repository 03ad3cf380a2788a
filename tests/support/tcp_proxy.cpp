#include "tcp_proxy.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

namespace test_support {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr auto kConnectDeadline = std::chrono::seconds(5);
constexpr auto kShutdownDeadline = std::chrono::seconds(5);

// Sockets are opened without SOCK_CLOEXEC by Asio: keep them out of forked test children.
void close_on_exec(tcp::socket& socket) { ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC); }

void shut_and_close(tcp::socket& socket) {
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

struct RandomCut {
  double probability = 0;
  std::size_t min_bytes = 0, max_bytes = 0;
};

}  // namespace

struct TcpProxy::Impl {
  asio::io_context io;  // first member: destroyed last, after everything that uses it
  tcp::acceptor acceptor{io};
  unsigned short port = 0;

  std::mutex mutex;  // guards the settings below
  unsigned short target_port = 0;
  std::chrono::milliseconds latency{0};
  RandomCut random_cut[2];
  int reply_trigger = 0;  // 0: not armed
  std::function<void()> on_reply_cut;
  bool refusing = false;
  std::mt19937_64 random;

  std::atomic<std::size_t> accepted{0}, cut{0}, refused{0}, reply_cuts{0};

  class Link;
  std::set<std::shared_ptr<Link>> links;  // only on the io thread
  bool closing = false;                   // only on the io thread

  std::promise<void> finished;
  std::thread thread;

  void accept();
  void on_accept(tcp::socket socket);
  void cut_all_now(bool fault);
};

// One proxied connection: two pumps (client->server, server->client) on the io thread.
class TcpProxy::Impl::Link : public std::enable_shared_from_this<Link> {
 public:
  Link(Impl& proxy, tcp::socket client, std::optional<std::size_t> cut_c2s, std::optional<std::size_t> cut_s2c)
      : proxy_(proxy), client_(std::move(client)), server_(proxy.io), connect_timer_(proxy.io),
        pumps_{Pump{&client_, &server_, cut_c2s, asio::steady_timer(proxy.io)},
               Pump{&server_, &client_, cut_s2c, asio::steady_timer(proxy.io)}} {}

  void start(unsigned short target_port) {
    error_code open_error;
    server_.open(tcp::v4(), open_error);
    if (open_error) return cut(false);
    close_on_exec(server_);
    connect_timer_.expires_after(kConnectDeadline);
    connect_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && !self->connected_) self->cut(false);  // the target did not answer in time
    });
    const tcp::endpoint target(asio::ip::make_address_v4("127.0.0.1"), target_port);
    server_.async_connect(target, [self = shared_from_this()](error_code ec) {
      self->connect_timer_.cancel();
      if (ec || self->cut_) return self->cut(false);  // nothing listens there: the client sees a close
      self->connected_ = true;
      self->read(Direction::client_to_server);
      self->read(Direction::server_to_client);
    });
  }

  // Shuts both sides down; `fault` when the proxy chose to (not a peer closing or failing).
  void cut(bool fault) {
    if (cut_) return;
    cut_ = true;
    if (fault) ++proxy_.cut;
    connect_timer_.cancel();
    for (auto& pump : pumps_) pump.delay.cancel();
    shut_and_close(client_);
    shut_and_close(server_);
    proxy_.links.erase(shared_from_this());
  }

 private:
  struct Pump {
    tcp::socket* from;
    tcp::socket* to;
    std::optional<std::size_t> cut_at;  // forward this many bytes, then cut
    asio::steady_timer delay;
    std::array<char, 16384> buffer{};
    std::size_t carried = 0;
    bool finished = false;  // `from` sent its FIN
  };

  Pump& pump(Direction direction) { return pumps_[static_cast<int>(direction)]; }

  void read(Direction direction) {
    auto& p = pump(direction);
    p.from->async_read_some(asio::buffer(p.buffer), [self = shared_from_this(), direction](error_code ec, std::size_t n) {
      self->on_read(direction, ec, n);
    });
  }

  void on_read(Direction direction, error_code ec, std::size_t n) {
    if (cut_) return;
    auto& p = pump(direction);
    if (ec == asio::error::eof) {  // pass the half-close on; the link ends when both sides are done
      p.finished = true;
      error_code ignored;
      p.to->shutdown(tcp::socket::shutdown_send, ignored);
      if (pumps_[0].finished && pumps_[1].finished) cut(false);
      return;
    }
    if (ec) return cut(false);
    if (direction == Direction::client_to_server) {
      awaiting_reply_ = true;
    } else if (awaiting_reply_) {
      awaiting_reply_ = false;
      if (reply_starts_cut(++replies_)) return cut(true);
    }
    bool cut_after = false;
    if (p.cut_at) {
      const std::size_t allowed = *p.cut_at - p.carried;
      if (n >= allowed) {
        n = allowed;
        cut_after = true;
      }
    }
    p.carried += n;
    std::chrono::milliseconds latency;
    {
      std::lock_guard lock(proxy_.mutex);
      latency = proxy_.latency;
    }
    if (latency.count() <= 0) return write(direction, n, cut_after);
    p.delay.expires_after(latency);
    p.delay.async_wait([self = shared_from_this(), direction, n, cut_after](error_code wait_error) {
      if (wait_error || self->cut_) return;
      self->write(direction, n, cut_after);
    });
  }

  void write(Direction direction, std::size_t n, bool cut_after) {
    auto& p = pump(direction);
    if (n == 0) return cut(true);
    asio::async_write(*p.to, asio::buffer(p.buffer.data(), n),
                      [self = shared_from_this(), direction, cut_after](error_code ec, std::size_t) {
                        if (self->cut_) return;
                        if (ec) return self->cut(false);
                        if (cut_after) return self->cut(true);
                        self->read(direction);
                      });
  }

  // True when the armed reply trigger fires for this reply (it then disarms and runs its callback).
  bool reply_starts_cut(int reply_number) {
    std::function<void()> on_cut;
    {
      std::lock_guard lock(proxy_.mutex);
      if (proxy_.reply_trigger == 0 || proxy_.reply_trigger != reply_number) return false;
      proxy_.reply_trigger = 0;
      on_cut = std::move(proxy_.on_reply_cut);
    }
    ++proxy_.reply_cuts;
    if (on_cut) on_cut();
    return true;
  }

  Impl& proxy_;
  tcp::socket client_;
  tcp::socket server_;
  asio::steady_timer connect_timer_;
  Pump pumps_[2];
  bool cut_ = false;
  bool connected_ = false;
  bool awaiting_reply_ = false;  // client->server bytes came since the last server->client ones
  int replies_ = 0;
};

void TcpProxy::Impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (closing || !acceptor.is_open()) return;
    if (!ec) on_accept(std::move(socket));
    accept();
  });
}

void TcpProxy::Impl::on_accept(tcp::socket socket) {
  close_on_exec(socket);
  ++accepted;
  std::optional<std::size_t> cuts[2];
  unsigned short target = 0;
  {
    std::lock_guard lock(mutex);
    if (refusing) {
      ++refused;
      error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);  // close sends an RST
      socket.close(ignored);
      return;
    }
    target = target_port;
    for (int d = 0; d < 2; ++d) {
      const auto& rule = random_cut[d];
      if (rule.probability <= 0 || std::uniform_real_distribution<double>(0, 1)(random) >= rule.probability) continue;
      cuts[d] = std::uniform_int_distribution<std::size_t>(rule.min_bytes, rule.max_bytes)(random);
    }
  }
  auto link = std::make_shared<Link>(*this, std::move(socket), cuts[0], cuts[1]);
  links.insert(link);
  link->start(target);
}

void TcpProxy::Impl::cut_all_now(bool fault) {
  const auto open = links;  // cut() erases from `links`
  for (const auto& link : open) link->cut(fault);
}

TcpProxy::TcpProxy(unsigned short target_port, unsigned short listen_port, std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  impl_->target_port = target_port;
  impl_->random.seed(seed);
  error_code ec;
  auto& acceptor = impl_->acceptor;
  acceptor.open(tcp::v4(), ec);
  if (!ec) ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), listen_port), ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("tcp proxy cannot listen on 127.0.0.1:" + std::to_string(listen_port) + ": " + ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->io.run();
    impl->finished.set_value();
  });
}

TcpProxy::~TcpProxy() {
  auto finished = impl_->finished.get_future();
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->closing = true;
    error_code ignored;
    impl->acceptor.close(ignored);
    impl->cut_all_now(false);
  });
  // With the acceptor closed and every link cut, run() runs out of work and returns.
  if (finished.wait_for(kShutdownDeadline) != std::future_status::ready) impl_->io.stop();
  impl_->thread.join();
}

unsigned short TcpProxy::port() const { return impl_->port; }
std::string TcpProxy::url() const { return "ws://127.0.0.1:" + std::to_string(impl_->port); }

void TcpProxy::set_target_port(unsigned short port) {
  std::lock_guard lock(impl_->mutex);
  impl_->target_port = port;
}

void TcpProxy::set_latency(std::chrono::milliseconds per_chunk) {
  std::lock_guard lock(impl_->mutex);
  impl_->latency = per_chunk;
}

void TcpProxy::cut_at_random_offsets(Direction direction, double probability, std::size_t min_bytes,
                                     std::size_t max_bytes) {
  std::lock_guard lock(impl_->mutex);
  impl_->random_cut[static_cast<int>(direction)] = RandomCut{probability, min_bytes, std::max(min_bytes, max_bytes)};
}

void TcpProxy::stop_cutting() {
  std::lock_guard lock(impl_->mutex);
  impl_->random_cut[0] = impl_->random_cut[1] = RandomCut{};
  impl_->reply_trigger = 0;
  impl_->on_reply_cut = nullptr;
}

void TcpProxy::arm_cut_at_server_reply(int reply_number, std::function<void()> on_cut) {
  std::lock_guard lock(impl_->mutex);
  impl_->reply_trigger = reply_number;
  impl_->on_reply_cut = std::move(on_cut);
}

void TcpProxy::refuse_new_connections(bool refuse) {
  std::lock_guard lock(impl_->mutex);
  impl_->refusing = refuse;
}

void TcpProxy::cut_all() {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(impl_->io, [impl = impl_.get(), done] {
    impl->cut_all_now(true);
    done->set_value();
  });
  future.wait_for(kShutdownDeadline);
}

std::size_t TcpProxy::connections_accepted() const { return impl_->accepted; }
std::size_t TcpProxy::connections_cut() const { return impl_->cut; }
std::size_t TcpProxy::connections_refused() const { return impl_->refused; }
std::size_t TcpProxy::reply_cuts() const { return impl_->reply_cuts; }

}  // namespace test_support
