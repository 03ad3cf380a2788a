// A TCP proxy for fault-injection tests: it listens on 127.0.0.1 and forwards each connection
// to 127.0.0.1:target_port, and can delay, cut or refuse connections on demand, so that a
// test can put a bad network (or a crash at an exact moment) between a client and a server.
//
// Thread safety: every public member function may be called from any thread at any time.
// Settings are guarded by a mutex and read by the proxy's own thread when a connection is
// accepted or a chunk of bytes arrives; connections live only on that thread. A callback
// given to arm_cut_at_server_reply() runs on the proxy's thread: it must be quick and must
// not call back into this proxy.
//
// Invariants:
//   1. Bytes are forwarded in order, each direction separately; a chunk is written whole
//      (or up to a cut offset) before the next one of that direction is read.
//   2. A cut connection is shut down on both sides (shutdown() before close(), so that a
//      duplicate of the descriptor inherited by a forked child cannot keep it open).
//   3. The destructor returns within a few seconds: it stops accepting, cuts every
//      connection, and joins the thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace test_support {

class TcpProxy {
 public:
  enum class Direction { client_to_server = 0, server_to_client = 1 };

  // Listens on 127.0.0.1:listen_port (0: any free port) and forwards to 127.0.0.1:target_port.
  // `seed` drives the random cut offsets. Throws std::runtime_error when it cannot listen.
  explicit TcpProxy(unsigned short target_port, unsigned short listen_port = 0, std::uint64_t seed = 1);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Constant after construction.
  unsigned short port() const;
  std::string url() const;  // "ws://127.0.0.1:PORT"

  // New connections go to this port from now on (a restarted server has a new one).
  void set_target_port(unsigned short port);
  // Each chunk is held this long before it is forwarded (0: none).
  void set_latency(std::chrono::milliseconds per_chunk);
  // Each connection accepted from now on is cut, with `probability`, once it has carried a
  // random number of bytes in [min_bytes, max_bytes] in `direction`: the bytes up to that
  // offset are forwarded, the rest is dropped. Probability 0 turns cutting off for that
  // direction; probability 1 and min_bytes == max_bytes cut every connection at that byte.
  void cut_at_random_offsets(Direction direction, double probability, std::size_t min_bytes, std::size_t max_bytes);
  void stop_cutting();
  // Once, on the first connection whose server starts its `reply_number`-th reply (a reply is
  // server->client bytes that follow client->server bytes): `on_cut` runs, then the
  // connection is cut before any byte of that reply is forwarded. Over WebSocket, reply 1
  // is the upgrade response, 2 the welcome, 3 the answer to the first push.
  void arm_cut_at_server_reply(int reply_number, std::function<void()> on_cut = {});
  // While refusing, new connections are accepted and reset at once (an RST, no bytes).
  void refuse_new_connections(bool refuse);
  // Cuts every open connection now; returns once done (or after a 5 s deadline).
  void cut_all();

  // Counters, for tests to assert that the faults really happened.
  std::size_t connections_accepted() const;
  std::size_t connections_cut() const;      // by a fault (offset, reply, cut_all), not by a peer
  std::size_t connections_refused() const;
  std::size_t reply_cuts() const;           // times arm_cut_at_server_reply fired

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace test_support
