// Every error code of the project in one table: the codes the sync server sends in
// {"type":"error"} and in an ack's rejections (protocol.md §2-§4, §6), and the codes the field
// client's store and sync return (Error::code), with one classification each: whether trying
// again later can succeed without a person acting. The field client's sync.h (is_retryable),
// its C API (fc_status, fc_should_retry) and command line (exit status and message), the
// tablet app, and the server's fatal flag all read it from here.
//
// Invariants (checked at compile time below and by tests/shared/error_codes_test.cpp):
//  1. Each code appears once.
//  2. `retryable` is true exactly for the kinds `storage` and `transient`.
//  3. A code the server closes the connection after (`closes`) is of kind `fatal`, or of kind
//     `transient` when a new connection can succeed on its own: `identity_changed`, where the
//     next hello authenticates afresh (and a revoked or replaced token then gets 401).
// A code not in the table (one a newer server may send) is treated like "unavailable":
// retryable.
#pragma once

#include <array>
#include <string_view>

namespace safer {

// What kind of failure a code is; the C API's fc_status follows it one to one.
enum class ErrorKind {
  invalid,       // the input or record breaks a rule: fix it (FC_INVALID)
  not_found,     // no such record (FC_NOT_FOUND)
  forbidden,     // not allowed for this device's role (FC_FORBIDDEN)
  storage,       // the device's store cannot be read or written now (FC_STORAGE)
  transient,     // the server or the network failed for now (FC_NETWORK)
  unauthorized,  // the server refused the token: re-enrol (FC_UNAUTHORIZED)
  fatal,         // refused for good, or unsafe to go on: a person must act (FC_FATAL)
  not_enrolled,  // no server and token yet (FC_NOT_ENROLLED)
  argument,      // a programming error in the caller: a NULL, an unknown name (FC_ARGUMENT)
  locked,        // the store is encrypted and the PIN was not given, or not right (FC_LOCKED)
  wiped,         // the store was erased: too many wrong PINs, or a coordinator's order (FC_WIPED)
};

struct ErrorCodeInfo {
  std::string_view code;
  ErrorKind kind;
  bool retryable;          // trying again later can succeed without a person acting
  bool from_server;        // sent by the sync server (in an error message or a rejection)
  bool closes;             // the server sends it with "fatal": true and closes (1008)
  std::string_view meaning;
};

inline constexpr std::array kErrorCodes = {
    // code                   kind                     retry  server closes meaning
    ErrorCodeInfo{"invalid", ErrorKind::invalid, false, true, false, "a field breaks a rule of the contract; the field is named"},
    ErrorCodeInfo{"forbidden", ErrorKind::forbidden, false, true, false, "the user's role or scope does not allow this change"},
    ErrorCodeInfo{"erased", ErrorKind::forbidden, false, true, false, "the household was erased by a coordinator: no change may bring it or its visits back"},
    ErrorCodeInfo{"clock_skew", ErrorKind::invalid, false, true, false, "the change's HLC is over an hour ahead of the server: set the device's clock"},
    ErrorCodeInfo{"bad_message", ErrorKind::transient, true, true, false, "a message could not be read (either side); the next sync starts afresh"},
    ErrorCodeInfo{"hello_required", ErrorKind::transient, true, true, false, "a message came before hello; the next sync sends hello first"},
    ErrorCodeInfo{"seq_gap", ErrorKind::transient, true, true, false, "the server expects an earlier seq; the client resends from it"},
    ErrorCodeInfo{"cursor_invalid", ErrorKind::transient, true, true, false, "the server does not know the cursor; the client pulls everything again"},
    ErrorCodeInfo{"device_mismatch", ErrorKind::fatal, false, true, true, "the token was issued to another device"},
    ErrorCodeInfo{"unsupported_protocol", ErrorKind::fatal, false, true, true, "the server does not speak this protocol version: update the app"},
    ErrorCodeInfo{"identity_changed", ErrorKind::transient, true, true, true, "the device's token, user or role changed after the connection began; nothing of the push was applied"},
    ErrorCodeInfo{"unavailable", ErrorKind::transient, true, true, false, "the server cannot read or write its database now, or answered HTTP 5xx"},
    ErrorCodeInfo{"network", ErrorKind::transient, true, false, false, "the server could not be reached, or the connection failed"},
    ErrorCodeInfo{"unauthorized", ErrorKind::unauthorized, false, false, false, "the server refused the token (HTTP 401): enrol the device again"},
    ErrorCodeInfo{"untrusted_server", ErrorKind::fatal, false, false, false, "wss: the server's certificate could not be verified"},
    ErrorCodeInfo{"lost", ErrorKind::fatal, false, false, false, "the server expects a change this device no longer holds"},
    ErrorCodeInfo{"not_enrolled", ErrorKind::not_enrolled, false, false, false, "no server URL and token yet: run enroll"},
    ErrorCodeInfo{"not_found", ErrorKind::not_found, false, false, false, "no such record on this device"},
    ErrorCodeInfo{"exists", ErrorKind::invalid, false, false, false, "a record with this id exists, or the store already holds records"},
    ErrorCodeInfo{"argument", ErrorKind::argument, false, false, false, "C API: a NULL where a value is needed, or an unknown entity name"},
    ErrorCodeInfo{"storage", ErrorKind::storage, true, false, false, "the device's store could not be read or written (an I/O error)"},
    ErrorCodeInfo{"storage_full", ErrorKind::storage, true, false, false, "the device's storage is full: nothing was saved"},
    ErrorCodeInfo{"storage_read_only", ErrorKind::storage, true, false, false, "the device's store cannot be written (read-only)"},
    ErrorCodeInfo{"storage_busy", ErrorKind::storage, true, false, false, "another program holds the device's store"},
    ErrorCodeInfo{"storage_version", ErrorKind::fatal, false, false, false, "the store was written by a newer version of the program"},
    ErrorCodeInfo{"locked", ErrorKind::locked, false, false, false, "the store is encrypted: give its PIN to open it"},
    ErrorCodeInfo{"wrong_pin", ErrorKind::locked, false, false, false, "the PIN is not right; the wrong-PIN count went up"},
    ErrorCodeInfo{"pin_wait", ErrorKind::locked, false, false, false, "too many wrong PINs in a row: no PIN is tried until the wait is over"},
    ErrorCodeInfo{"wiped", ErrorKind::wiped, false, false, false, "too many wrong PINs: the store was erased; enrol the tablet again"},
    ErrorCodeInfo{"wipe", ErrorKind::wiped, false, false, false, "a coordinator ordered this device wiped (HTTP 410): the store was erased; enrol again"},
};

// The entry for `code`, or nullptr when the table has none.
constexpr const ErrorCodeInfo* find_error_code(std::string_view code) {
  for (const auto& info : kErrorCodes) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

// Whether trying again later can succeed; true for a code not in the table (see above).
constexpr bool is_retryable_code(std::string_view code) {
  const auto* info = find_error_code(code);
  return info == nullptr || info->retryable;
}

// The kind of `code`; `transient` for a code not in the table.
constexpr ErrorKind error_kind(std::string_view code) {
  const auto* info = find_error_code(code);
  return info == nullptr ? ErrorKind::transient : info->kind;
}

namespace detail {
constexpr bool error_codes_consistent() {
  for (std::size_t i = 0; i < kErrorCodes.size(); ++i) {
    const auto& info = kErrorCodes[i];
    const bool retry_kind = info.kind == ErrorKind::storage || info.kind == ErrorKind::transient;
    if (info.retryable != retry_kind) return false;
    if (info.closes && info.kind != ErrorKind::fatal && info.kind != ErrorKind::transient) return false;
    for (std::size_t j = i + 1; j < kErrorCodes.size(); ++j) {
      if (kErrorCodes[j].code == info.code) return false;
    }
  }
  return true;
}
}  // namespace detail
static_assert(detail::error_codes_consistent(), "kErrorCodes breaks an invariant at the top of error_codes.h");

// The codes the server sends, by name (docs/protocol.md).
namespace codes {
inline constexpr std::string_view kInvalid = "invalid";
inline constexpr std::string_view kForbidden = "forbidden";
inline constexpr std::string_view kClockSkew = "clock_skew";
inline constexpr std::string_view kErased = "erased";
inline constexpr std::string_view kBadMessage = "bad_message";
inline constexpr std::string_view kHelloRequired = "hello_required";
inline constexpr std::string_view kSeqGap = "seq_gap";
inline constexpr std::string_view kCursorInvalid = "cursor_invalid";
inline constexpr std::string_view kDeviceMismatch = "device_mismatch";
inline constexpr std::string_view kUnsupportedProtocol = "unsupported_protocol";
inline constexpr std::string_view kUnavailable = "unavailable";
inline constexpr std::string_view kIdentityChanged = "identity_changed";
}  // namespace codes

// Every named code is in the table, as a code the server sends.
static_assert([] {
  for (auto code : {codes::kInvalid, codes::kForbidden, codes::kClockSkew, codes::kErased, codes::kBadMessage, codes::kHelloRequired,
                    codes::kSeqGap, codes::kCursorInvalid, codes::kDeviceMismatch, codes::kUnsupportedProtocol,
                    codes::kUnavailable, codes::kIdentityChanged}) {
    const auto* info = find_error_code(code);
    if (info == nullptr || !info->from_server) return false;
  }
  return true;
}());

}  // namespace safer
