// Fuzz target: what a device sends the server, and the records inside it.
//
// The same bytes go to
//  1. decode_client_message(); a decoded push has check_record() run on each change's data
//     with protocol.md §5.5's default lists, as the server does before applying it;
//  2. from_json(text, entity, data) for each of the three entities, then check_record();
//  3. decode_server_message() (what a tablet reads), for crashes only.
// Invariants, each a finding when broken (the target aborts):
//  - a record that decodes and validates encodes with to_json() and decodes again, without
//    errors, to an equal record that still validates unchanged;
//  - a decoded hello or pull, and a push of changes that all validate, encode and decode
//    again to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/text.h"
#include "safer/validation.h"

namespace {

using namespace safer;

[[noreturn]] void finding(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "client_message_fuzzer: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// A record that decoded and validated must survive encoding and decoding unchanged.
void check_round_trip(const RecordData& record) {
  const std::string encoded = to_json(record);
  RecordData again;
  if (!from_json(encoded, entity_of(record), again).empty()) finding("a valid record's JSON does not decode:", encoded);
  if (again != record) finding("a valid record decodes to a different record:", encoded);
  if (!check_record(again, ReferenceLists::defaults()).empty()) finding("a valid record no longer validates:", encoded);
  if (again != record) finding("validating a valid record again changed it:", encoded);
}

void fuzz_records(std::string_view text) {
  for (const Entity entity : {Entity::household, Entity::visit, Entity::commute_session}) {
    RecordData record;
    if (!from_json(text, entity, record).empty()) continue;
    if (entity_of(record) != entity) finding("from_json gave a record of another entity");
    if (!check_record(record, ReferenceLists::defaults()).empty()) continue;
    check_round_trip(record);
  }
}

void fuzz_push(const ReceivedPush& push) {
  Push valid;
  for (const auto& received : push.changes) {
    if (received.seq < 1) finding("a decoded change has a seq below 1");
    if (!received.change) {
      if (received.error.message.empty()) finding("a refused change carries no message");
      continue;
    }
    Change change = *received.change;
    if (change.data.has_value() != (change.op == Op::upsert)) finding("a change's data does not match its op");
    if (change.data) {
      if (entity_of(*change.data) != change.entity) finding("a change's data is of another entity");
      if (!check_record(*change.data, ReferenceLists::defaults()).empty()) continue;
      check_round_trip(*change.data);
    }
    valid.changes.push_back({received.seq, std::move(change)});
  }
  if (valid.changes.empty()) return;
  const std::string encoded = to_json(valid);
  auto again = decode_client_message(encoded);
  if (!again.ok() || !std::holds_alternative<ReceivedPush>(*again)) finding("an encoded push does not decode:", encoded);
  const auto& changes = std::get<ReceivedPush>(*again).changes;
  if (changes.size() != valid.changes.size()) finding("an encoded push decodes to another number of changes:", encoded);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (changes[i].seq != valid.changes[i].seq || changes[i].change != valid.changes[i].change) {
      finding("an encoded push decodes to other changes:", encoded);
    }
  }
}

void fuzz_hello(const Hello& hello) {
  // The server compares device_id with its enrolled ids and never echoes the text back, so
  // only text that is UTF-8 has to survive the round trip.
  // The same goes for capabilities: the server only compares them with the names it knows.
  if (!is_valid_utf8(hello.device_id) || !is_valid_utf8(hello.app_version)) return;
  for (const auto& capability : hello.capabilities) {
    if (!is_valid_utf8(capability)) return;
  }
  const std::string encoded = to_json(hello);
  auto again = decode_client_message(encoded);
  if (!again.ok() || !std::holds_alternative<Hello>(*again)) finding("an encoded hello does not decode:", encoded);
  const auto& decoded = std::get<Hello>(*again);
  if (decoded.protocol != hello.protocol || decoded.device_id != hello.device_id || decoded.app_version != hello.app_version ||
      decoded.capabilities != hello.capabilities) {
    finding("an encoded hello decodes to another hello:", encoded);
  }
}

void fuzz_pull(const Pull& pull) {
  if (pull.limit < 1 || pull.limit > kMaxPullLimit) finding("a decoded pull has a limit outside 1..1000");
  if (!is_valid_utf8(pull.cursor)) return;  // the server refuses it as cursor_invalid
  const std::string encoded = to_json(pull);
  auto again = decode_client_message(encoded);
  if (!again.ok() || !std::holds_alternative<Pull>(*again)) finding("an encoded pull does not decode:", encoded);
  const auto& decoded = std::get<Pull>(*again);
  if (decoded.cursor != pull.cursor || decoded.limit != pull.limit) finding("an encoded pull decodes to another pull:", encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto message = decode_client_message(text);
  if (message.ok()) {
    if (const auto* push = std::get_if<ReceivedPush>(&*message)) fuzz_push(*push);
    if (const auto* hello = std::get_if<Hello>(&*message)) fuzz_hello(*hello);
    if (const auto* pull = std::get_if<Pull>(&*message)) fuzz_pull(*pull);
  } else if (message.error().code != codes::kBadMessage) {
    finding("a message was refused with a code other than bad_message:", message.error().code);
  }

  fuzz_records(text);

  (void)decode_server_message(text);
  return 0;
}
