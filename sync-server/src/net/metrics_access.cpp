#include "metrics_access.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <boost/asio/ip/address.hpp>

#include <fstream>

#include "safer/bearer_token.h"

namespace sync_server::net {

namespace ip = boost::asio::ip;

namespace {

constexpr std::size_t kMinTokenChars = 16;

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

safer::Error bad_network(std::string_view network) {
  return safer::Error{"invalid",
                      "--metrics-allow: \"" + std::string(network) +
                          "\" is not a network: give addresses or CIDR networks separated by commas, such as "
                          "127.0.0.1/32,10.1.0.0/16 or ::1/128",
                      "metrics-allow"};
}

}  // namespace

safer::Result<MetricsAccess> MetricsAccess::make(const std::string& token, std::string_view allow) {
  MetricsAccess access;
  if (!token.empty()) {
    access.has_token_ = true;
    access.token_digest_ = sha256(token);
  }
  // Every item between commas, the empty ones too ("a,", ",a", "a,,b" are refused).
  for (std::size_t start = 0, comma = 0; !trim(allow).empty() && comma != std::string_view::npos; start = comma + 1) {
    comma = allow.find(',', start);
    const auto item = trim(allow.substr(start, comma == std::string_view::npos ? allow.npos : comma - start));
    if (item.empty()) return bad_network(item);
    const auto slash = item.find('/');
    boost::system::error_code ec;
    const auto address = ip::make_address(std::string(item.substr(0, slash)), ec);
    if (ec) return bad_network(item);
    const std::string prefix = slash == std::string_view::npos ? "" : std::string(item.substr(slash + 1));
    if (slash != std::string_view::npos &&
        (prefix.empty() || prefix.size() > 3 || prefix.find_first_not_of("0123456789") != std::string::npos)) {
      return bad_network(item);
    }
    const int bits = prefix.empty() ? (address.is_v4() ? 32 : 128) : std::stoi(prefix);
    if (bits > (address.is_v4() ? 32 : 128)) return bad_network(item);
    if (address.is_v4()) {
      access.networks_v4_.push_back(ip::network_v4(address.to_v4(), static_cast<unsigned short>(bits)).canonical());
    } else {
      access.networks_v6_.push_back(ip::network_v6(address.to_v6(), static_cast<unsigned short>(bits)).canonical());
    }
  }
  return access;
}

bool MetricsAccess::allowed_address(std::string_view peer) const {
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(peer), ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) address = ip::make_address_v4(ip::v4_mapped, address.to_v6());
  if (address.is_v4()) {
    const auto v4 = address.to_v4();
    for (const auto& network : networks_v4_) {
      if (ip::network_v4(v4, network.prefix_length()).canonical() == network) return true;
    }
    return false;
  }
  const auto v6 = address.to_v6();
  for (const auto& network : networks_v6_) {
    if (ip::network_v6(v6, network.prefix_length()).canonical() == network) return true;
  }
  return false;
}

MetricsAccess::Decision MetricsAccess::decide(std::string_view peer, std::string_view authorization) const {
  const bool by_network = !networks_v4_.empty() || !networks_v6_.empty();
  if (!has_token_ && !by_network) return Decision::off;
  if (by_network && !allowed_address(peer)) return Decision::forbidden;
  if (!has_token_) return Decision::allowed;
  const auto given = sha256(safer::bearer_token(authorization));
  return CRYPTO_memcmp(given.data(), token_digest_.data(), given.size()) == 0 ? Decision::allowed
                                                                               : Decision::unauthorized;
}

safer::Result<std::string> read_metrics_token(const std::string& path) {
  const auto refuse = [&path](const std::string& why) {
    return safer::Error{"invalid", "--metrics-token-file " + path + ": " + why, "metrics-token-file"};
  };
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return refuse("cannot be read");
  if ((info.st_mode & S_IROTH) != 0) {
    return refuse("any user can read it: make it readable by the server's user only (chmod 600, or 640 for a group)");
  }
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line)) return refuse("cannot be read, or is empty");
  const std::string token(trim(line));
  if (token.size() < kMinTokenChars) {
    return refuse("the token must be at least " + std::to_string(kMinTokenChars) +
                  " characters (openssl rand -hex 32 makes a good one)");
  }
  for (const char c : token) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return refuse("the token must hold no spaces or control characters");
  }
  return token;
}

}  // namespace sync_server::net
