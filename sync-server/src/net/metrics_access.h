// Who may read GET /metrics (docs/server.md, "Metrics"): off unless serve is given a token
// (--metrics-token-file) or allowed networks (--metrics-allow), or both. With a token, a
// scrape must send it ("Authorization: Bearer …"); with networks, it must come from one of
// them; with both, both hold. Deciding costs no store access, so refused scrapes stay cheap.
//
// Thread safety: immutable after make(); decide() from any thread.
#pragma once

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "safer/result.h"

namespace sync_server::net {

class MetricsAccess {
 public:
  enum class Decision {
    off,           // neither a token nor networks: 404, as if there were no such endpoint
    forbidden,     // from an address outside the allowed networks: 403
    unauthorized,  // no token, or the wrong one: 401 with WWW-Authenticate: Bearer
    allowed,
  };

  MetricsAccess() = default;  // off

  // `token` "" for none; `allow` "CIDR[,CIDR…]" ("127.0.0.1/32,10.1.0.0/16", "::1/128"; a bare
  // address is a network of one), "" for none. Error "invalid" naming metrics-allow for a
  // network that does not parse.
  static safer::Result<MetricsAccess> make(const std::string& token, std::string_view allow);

  // `peer`: the client's address as text; `authorization`: its Authorization header.
  // The token is compared in constant time (digests of equal length).
  Decision decide(std::string_view peer, std::string_view authorization) const;

 private:
  bool allowed_address(std::string_view peer) const;

  bool has_token_ = false;
  std::array<unsigned char, 32> token_digest_{};  // SHA-256 of the token
  std::vector<boost::asio::ip::network_v4> networks_v4_;
  std::vector<boost::asio::ip::network_v6> networks_v6_;
};

// The token in `path`, for --metrics-token-file: the file's first line, without the spaces
// around it. Error "invalid" naming metrics-token-file when the file cannot be read, can be
// read by any user (chmod o-r it), or holds fewer than 16 characters or any space or control
// character within the token.
safer::Result<std::string> read_metrics_token(const std::string& path);

}  // namespace sync_server::net
