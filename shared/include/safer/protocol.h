// The messages of sync protocol v1 (protocol.md §2-§4, §6). See protocol_json.h for their JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "safer/error_codes.h"
#include "safer/field_error.h"
#include "safer/question.h"
#include "safer/record.h"
#include "safer/time.h"

namespace safer {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxMessageBytes = 1'048'576;  // 1 MiB; one more closes with 1009
inline constexpr std::size_t kMaxChangesPerPush = 1000;
inline constexpr int kMaxPullLimit = 1000;
inline constexpr int kDefaultPullLimit = 500;

// Capabilities (protocol.md §10 rule 4): additions used on a connection only when both the
// hello and the welcome name them.
namespace capabilities {
// Pages may carry {"entity":"household","op":"evict","id":…}: the household left the user's
// scope; drop it and its visits (protocol.md §4.6).
inline constexpr std::string_view kEvict = "evict";
// The client records the lawful basis of a visit's referrals: its visits with a referral must
// carry share_basis, and it may clear a stored basis by leaving it out (protocol.md §5.2).
inline constexpr std::string_view kShareBasis = "share_basis";
// The client records the dates that drive work: its follow-ups carry follow_up_due and its
// rescheduled visits rescheduled_for, and it may clear a stored one by leaving it out
// (protocol.md §5.2).
inline constexpr std::string_view kWorkDates = "work_dates";
// The client knows visit.answers (protocol.md §5.8): a visit it sends without answers has none,
// where a protocol-1 writer's keeps the stored ones.
inline constexpr std::string_view kQuestions = "questions";
// A page that is not the last carries `remaining`: an estimate of the changes still to come in
// this pull, so that a first pull can show its progress (protocol.md §4.2).
inline constexpr std::string_view kPullProgress = "pull_progress";
}  // namespace capabilities

// Error codes of protocol.md §3, §4 and §6: safer::codes, in error_codes.h with every other code.

// client → server
struct Hello {
  int protocol = kProtocolVersion;
  std::string device_id;
  std::string app_version;
  std::vector<std::string> capabilities{};  // optional, default []

  bool announces(std::string_view capability) const {
    for (const auto& name : capabilities) {
      if (name == capability) return true;
    }
    return false;
  }
};

// server → client
struct Welcome {
  int protocol = kProtocolVersion;
  std::string device_id;
  std::string user_id;
  Role role = Role::officer;
  std::int64_t acked_seq = 0;
  UnixMillis server_time = 0;
  std::vector<std::string> wards;
  std::vector<std::string> stations;
  std::vector<std::string> capabilities{};  // optional, default []
  // Optional (protocol.md §5.8); absent from an older server: none, so nothing is asked.
  std::vector<Question> questions{};
};

// One change of a push, as sent.
struct PushChange {
  std::int64_t seq = 0;
  Change change;
  // A tablet may leave change.data empty and give the data object's JSON as its outbox holds
  // it (written by its own to_json, checked to be a JSON object): sent as it is.
  std::string stored_data = {};
};

// client → server
struct Push {
  std::vector<PushChange> changes;
};

// One change of a push, as received: either decoded, or refused with the field at fault.
// A refused change is rejected alone, with code "invalid" (protocol.md §9.2).
struct ReceivedChange {
  std::int64_t seq = 0;
  std::optional<Change> change;  // nullopt when `error` says why it could not be decoded
  FieldError error;
};

struct ReceivedPush {
  std::vector<ReceivedChange> changes;
};

struct Rejection {
  std::int64_t seq = 0;
  std::string code;     // invalid, forbidden or clock_skew
  std::string message;  // names the field
  std::string field;    // empty when no single field is at fault

  friend bool operator==(const Rejection&, const Rejection&) = default;
};

// server → client
struct Ack {
  std::int64_t acked_seq = 0;
  std::vector<Rejection> rejected;
};

// client → server
struct Pull {
  std::string cursor;  // "" = from the beginning
  int limit = kDefaultPullLimit;
};

// A winning version as the server sends it, with the device that wrote it; or, when
// `evict` is set (only to a client that announced capabilities::kEvict), the household
// change.id left the user's scope (change.entity is household; no hlc, data or device_id).
struct PulledChange {
  Change change;
  std::string device_id;
  bool evict = false;
  // The server's pull may leave change.data empty and give the data object's JSON instead, as
  // its store holds it (written by the store's own to_json): sent as it is, never decoded.
  std::string stored_data = {};
};

// server → client
struct ChangesPage {
  std::vector<PulledChange> changes;
  std::string cursor;
  bool has_more = false;
  // Optional (protocol.md §4.2), only to a client that announced capabilities::kPullProgress:
  // an estimate, never negative, of the changes still to come in this pull after this page.
  std::optional<std::int64_t> remaining;
};

// server → client
struct ErrorMessage {
  std::string code;
  std::string message;
  bool fatal = false;
  std::optional<std::int64_t> expected;  // seq_gap: the seq the server expected
};

using ClientMessage = std::variant<Hello, ReceivedPush, Pull>;
using ServerMessage = std::variant<Welcome, Ack, ChangesPage, ErrorMessage>;

}  // namespace safer
