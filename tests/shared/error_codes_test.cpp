// The one table of error codes (safer/error_codes.h): every code classified once, and the
// server's protocol codes part of it, so no layer keeps a classification of its own.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "safer/error_codes.h"
#include "safer/protocol.h"

using safer::ErrorKind;

TEST_CASE("every code in the table is classified once, with a meaning", "[error-codes]") {
  std::set<std::string> seen;
  for (const auto& info : safer::kErrorCodes) {
    INFO(info.code);
    CHECK(seen.insert(std::string(info.code)).second);
    CHECK_FALSE(info.meaning.empty());
    CHECK(safer::find_error_code(info.code) == &info);
    CHECK(safer::is_retryable_code(info.code) == info.retryable);
    CHECK(info.retryable == (info.kind == ErrorKind::storage || info.kind == ErrorKind::transient));
    if (info.closes) CHECK((info.kind == ErrorKind::fatal || info.kind == ErrorKind::transient));
  }
}

TEST_CASE("the protocol's codes are in the table as codes the server sends", "[error-codes]") {
  for (auto code : {safer::codes::kInvalid, safer::codes::kForbidden, safer::codes::kClockSkew,
                    safer::codes::kBadMessage, safer::codes::kHelloRequired, safer::codes::kSeqGap,
                    safer::codes::kCursorInvalid, safer::codes::kDeviceMismatch,
                    safer::codes::kUnsupportedProtocol, safer::codes::kUnavailable,
                    safer::codes::kIdentityChanged}) {
    INFO(code);
    const auto* info = safer::find_error_code(code);
    REQUIRE(info != nullptr);
    CHECK(info->from_server);
  }
  // The three the server closes the connection after (docs/protocol.md §6), and no other.
  std::set<std::string> closing;
  for (const auto& info : safer::kErrorCodes) {
    if (info.closes) closing.insert(std::string(info.code));
  }
  CHECK(closing == std::set<std::string>{"device_mismatch", "identity_changed", "unsupported_protocol"});
  // identity_changed closes, but a new connection authenticates afresh: retry, not a dead end.
  CHECK(safer::is_retryable_code(safer::codes::kIdentityChanged));
}

TEST_CASE("the classifications users rely on", "[error-codes]") {
  CHECK_FALSE(safer::is_retryable_code("untrusted_server"));  // was "retry later" through the C API
  CHECK(safer::error_kind("untrusted_server") == ErrorKind::fatal);
  CHECK_FALSE(safer::is_retryable_code("unauthorized"));
  CHECK_FALSE(safer::is_retryable_code("invalid"));
  CHECK_FALSE(safer::is_retryable_code("storage_version"));
  CHECK(safer::is_retryable_code("storage"));  // a store that cannot be read, for now
  CHECK(safer::is_retryable_code("unavailable"));
  CHECK(safer::is_retryable_code("network"));
  // A code a newer server may send is treated like "unavailable".
  CHECK(safer::find_error_code("some_future_code") == nullptr);
  CHECK(safer::is_retryable_code("some_future_code"));
  CHECK(safer::error_kind("some_future_code") == ErrorKind::transient);
}
