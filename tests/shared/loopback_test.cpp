// The plaintext rule rests on this: only hosts that cannot leave the machine count as loopback.
#include <catch2/catch.hpp>

#include "safer/loopback.h"

TEST_CASE("loopback hosts are 127.0.0.0/8, ::1 and localhost, nothing else", "[loopback]") {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]", "localhost", "LocalHost",
                           "localhost."}) {
    INFO(host);
    CHECK(safer::is_loopback_host(host));
  }
  for (const char* host : {"0.0.0.0", "::", "[::]", "10.0.0.1", "128.0.0.1", "192.168.1.20", "sync.example",
                           "localhost.example", "127.0.0.1.example", "", "[]", "::2", "::ffff:10.0.0.1"}) {
    INFO(host);
    CHECK_FALSE(safer::is_loopback_host(host));
  }
}
