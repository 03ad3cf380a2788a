// Decoding of protocol messages (protocol.md §1, §6 and §9). Encoding is in protocol_json.cpp.
#include "json_internal.h"
#include "safer/protocol_json.h"
#include "safer/uuid.h"

namespace safer {

namespace {

Error bad_message(std::string message) {
  return Error{std::string(codes::kBadMessage), std::move(message), ""};
}

// The envelope's field errors become one bad_message naming the first field at fault.
Error bad_message(const FieldErrors& errors) {
  return Error{std::string(codes::kBadMessage), errors.front().message, errors.front().field};
}

// Decodes entity, op, id, hlc and data of one change. Returns the first field at fault
// (with every fault's message joined) or the change.
std::variant<Change, FieldError> decode_change(const json::Value& object) {
  if (const auto name = json::duplicate_key(object)) {
    return FieldError{*name, *name + " appears more than once"};
  }
  FieldErrors errors;
  json::ObjectReader reader(object, errors);
  Change change;
  reader.read_enum("entity", change.entity, true);
  reader.read_enum("op", change.op, true);
  if (reader.read_string("id", change.id, true) && !is_canonical_uuid(change.id)) {
    reader.add_error("id", "id must be a lowercase canonical UUID");
  }
  std::string hlc_text;
  if (reader.read_string("hlc", hlc_text, true)) {
    if (auto hlc = Hlc::parse(hlc_text)) {
      change.hlc = *hlc;
    } else {
      reader.add_error("hlc", "hlc must be 15 digits of Unix milliseconds, '-', and 5 digits of counter");
    }
  }
  if (errors.empty() && change.op == Op::upsert) {
    const json::Value* data = reader.find("data");
    if (data == nullptr || !data->IsObject()) {
      reader.add_error("data", "data must be the whole record, a JSON object, for an upsert");
    } else {
      RecordData record;
      auto data_errors = json::decode_record(*data, change.entity, record);
      if (data_errors.empty()) {
        change.data = std::move(record);
      } else {
        errors.insert(errors.end(), data_errors.begin(), data_errors.end());
      }
    }
  }
  if (!errors.empty()) return FieldError{errors.front().field, join_messages(errors)};
  return change;
}

// A positive integer envelope field such as seq.
bool read_positive(json::ObjectReader& reader, const char* name, std::int64_t& out) {
  std::int64_t value = 0;
  if (!reader.read_integer(name, value, true)) return false;
  if (value < 1) return reader.add_error(name, std::string(name) + " must be a positive integer");
  out = value;
  return true;
}

Result<ClientMessage> decode_hello(json::ObjectReader& reader, FieldErrors& errors) {
  Hello hello;
  std::int64_t protocol = 0;
  if (reader.read_integer("protocol", protocol, true)) {
    hello.protocol = static_cast<int>(std::clamp<std::int64_t>(protocol, -1, 1'000'000));
  }
  reader.read_string("device_id", hello.device_id, true);
  reader.read_string("app_version", hello.app_version, false);
  reader.read_string_list("capabilities", hello.capabilities, false);
  if (!errors.empty()) return bad_message(errors);
  return ClientMessage{std::move(hello)};
}

Result<ClientMessage> decode_push(json::ObjectReader& reader, FieldErrors& errors) {
  const json::Value* changes = reader.find("changes");
  if (changes == nullptr || !changes->IsArray() || changes->Empty() ||
      changes->Size() > kMaxChangesPerPush) {
    return bad_message("changes must be an array of 1 to 1000 change objects");
  }
  ReceivedPush push;
  push.changes.reserve(changes->Size());
  for (const auto& item : changes->GetArray()) {
    if (!item.IsObject()) return bad_message("changes must be an array of 1 to 1000 change objects");
    if (json::duplicate_key(item) == "seq") return bad_message("seq appears more than once in a change");
    json::ObjectReader change_reader(item, errors);
    ReceivedChange received;
    if (!read_positive(change_reader, "seq", received.seq)) return bad_message(errors);
    auto decoded = decode_change(item);
    if (auto* change = std::get_if<Change>(&decoded)) {
      received.change = std::move(*change);
    } else {
      received.error = std::get<FieldError>(std::move(decoded));
    }
    push.changes.push_back(std::move(received));
  }
  return ClientMessage{std::move(push)};
}

Result<ClientMessage> decode_pull(json::ObjectReader& reader, FieldErrors& errors) {
  Pull pull;
  reader.read_string("cursor", pull.cursor, false);
  std::int64_t limit = kDefaultPullLimit;
  if (reader.read_integer("limit", limit, false) && (limit < 1 || limit > kMaxPullLimit)) {
    reader.add_error("limit", "limit must be an integer from 1 to 1000");
  }
  if (!errors.empty()) return bad_message(errors);
  pull.limit = static_cast<int>(limit);
  return ClientMessage{std::move(pull)};
}

// Reads the root object and its "type"; nullopt with `error` set when either is wrong.
std::optional<std::string> read_type(std::string_view text, json::Document& document,
                                     Error& error) {
  if (!json::parse(text, document)) {
    error = bad_message("the message is not valid JSON (UTF-8)");
    return std::nullopt;
  }
  if (!document.IsObject()) {
    error = bad_message("the message must be a JSON object");
    return std::nullopt;
  }
  if (const auto name = json::duplicate_key(document)) {
    error = bad_message(*name + " appears more than once in the message");
    return std::nullopt;
  }
  const json::Value& root = document;  // const iterators on both sides of == (clang's -Wambiguous-reversed-operator)
  const auto type = root.FindMember("type");
  if (type == root.MemberEnd() || !type->value.IsString()) {
    error = bad_message("type is required and must be a string");
    return std::nullopt;
  }
  return std::string(type->value.GetString(), type->value.GetStringLength());
}

Result<ServerMessage> decode_welcome(json::ObjectReader& reader, FieldErrors& errors) {
  Welcome welcome;
  std::int64_t number = 0;
  if (reader.read_integer("protocol", number, true)) {
    welcome.protocol = static_cast<int>(std::clamp<std::int64_t>(number, -1, 1'000'000));
  }
  reader.read_string("device_id", welcome.device_id, true);
  reader.read_string("user_id", welcome.user_id, true);
  reader.read_enum("role", welcome.role, true);
  if (reader.read_integer("acked_seq", number, true)) {
    if (number < 0) reader.add_error("acked_seq", "acked_seq must not be negative");
    welcome.acked_seq = number;
  }
  reader.read_time("server_time", welcome.server_time, true);
  reader.read_string_list("wards", welcome.wards, true);
  reader.read_string_list("stations", welcome.stations, true);
  reader.read_string_list("capabilities", welcome.capabilities, false);
  // A question of a kind this client does not know is not offered on its forms (§5.8).
  if (const json::Value* questions = reader.find("questions")) json::decode_questions(*questions, true, welcome.questions, errors);
  if (!errors.empty()) return bad_message(errors);
  return ServerMessage{std::move(welcome)};
}

Result<ServerMessage> decode_ack(json::ObjectReader& reader, FieldErrors& errors) {
  Ack ack;
  std::int64_t number = 0;
  if (reader.read_integer("acked_seq", number, true)) {
    if (number < 0) reader.add_error("acked_seq", "acked_seq must not be negative");
    ack.acked_seq = number;
  }
  const json::Value* rejected = reader.find("rejected");
  if (rejected != nullptr) {
    if (!rejected->IsArray()) return bad_message("rejected must be an array");
    for (const auto& item : rejected->GetArray()) {
      if (!item.IsObject()) return bad_message("rejected must be an array of objects");
      json::ObjectReader item_reader(item, errors);
      Rejection rejection;
      if (item_reader.read_integer("seq", number, true)) rejection.seq = number;
      item_reader.read_string("code", rejection.code, true);
      item_reader.read_string("message", rejection.message, true);
      item_reader.read_string("field", rejection.field, false);
      ack.rejected.push_back(std::move(rejection));
    }
  }
  if (!errors.empty()) return bad_message(errors);
  return ServerMessage{std::move(ack)};
}

// {"entity":"household","op":"evict","id":…} (protocol.md §4.6), or nullopt for any other op.
std::optional<std::variant<PulledChange, FieldError>> decode_eviction(const json::Value& object) {
  FieldErrors errors;
  json::ObjectReader reader(object, errors);
  const json::Value* op = reader.find("op");
  if (op == nullptr || !op->IsString() || std::string_view(op->GetString(), op->GetStringLength()) != "evict") {
    return std::nullopt;
  }
  PulledChange pulled;
  pulled.evict = true;
  reader.read_enum("entity", pulled.change.entity, true);
  if (errors.empty() && pulled.change.entity != Entity::household) {
    reader.add_error("entity", "only a household can be evicted");
  }
  if (reader.read_string("id", pulled.change.id, true) && !is_canonical_uuid(pulled.change.id)) {
    reader.add_error("id", "id must be a lowercase canonical UUID");
  }
  if (!errors.empty()) return FieldError{errors.front().field, errors.front().message};
  return pulled;
}

Result<ServerMessage> decode_changes(json::ObjectReader& reader, FieldErrors& errors) {
  ChangesPage page;
  const json::Value* changes = reader.find("changes");
  if (changes == nullptr || !changes->IsArray()) return bad_message("changes must be an array");
  page.changes.reserve(changes->Size());
  for (const auto& item : changes->GetArray()) {
    if (!item.IsObject()) return bad_message("changes must be an array of objects");
    if (auto eviction = decode_eviction(item)) {
      if (auto* error = std::get_if<FieldError>(&*eviction)) {
        return Error{std::string(codes::kBadMessage), "a pulled eviction is invalid: " + error->message, error->field};
      }
      page.changes.push_back(std::get<PulledChange>(std::move(*eviction)));
      continue;
    }
    auto decoded = decode_change(item);
    if (auto* error = std::get_if<FieldError>(&decoded)) {
      return Error{std::string(codes::kBadMessage), "a pulled change is invalid: " + error->message,
                   error->field};
    }
    PulledChange pulled;
    pulled.change = std::get<Change>(std::move(decoded));
    json::ObjectReader item_reader(item, errors);
    item_reader.read_string("device_id", pulled.device_id, true);
    page.changes.push_back(std::move(pulled));
  }
  reader.read_string("cursor", page.cursor, true);
  if (!reader.read_bool("has_more", page.has_more) && reader.find("has_more") == nullptr) {
    reader.add_error("has_more", "has_more is required");
  }
  // Only an estimate for a progress bar (§4.2): one that is not a count is ignored, not refused.
  if (const json::Value* remaining = reader.find("remaining"); remaining != nullptr && remaining->IsInt64() &&
                                                                 remaining->GetInt64() >= 0) {
    page.remaining = remaining->GetInt64();
  }
  if (!errors.empty()) return bad_message(errors);
  return ServerMessage{std::move(page)};
}

Result<ServerMessage> decode_error(json::ObjectReader& reader, FieldErrors& errors) {
  ErrorMessage message;
  reader.read_string("code", message.code, true);
  reader.read_string("message", message.message, false);
  reader.read_bool("fatal", message.fatal);
  std::int64_t expected = 0;
  if (reader.read_integer("expected", expected, false)) message.expected = expected;
  if (!errors.empty()) return bad_message(errors);
  return ServerMessage{std::move(message)};
}

}  // namespace

Result<ClientMessage> decode_client_message(std::string_view text) {
  json::Document document;
  Error error;
  const auto type = read_type(text, document, error);
  if (!type) return error;
  FieldErrors errors;
  json::ObjectReader reader(document, errors);
  if (*type == "hello") return decode_hello(reader, errors);
  if (*type == "push") return decode_push(reader, errors);
  if (*type == "pull") return decode_pull(reader, errors);
  return bad_message("unknown message type; expected hello, push or pull");
}

Result<ServerMessage> decode_server_message(std::string_view text) {
  json::Document document;
  Error error;
  const auto type = read_type(text, document, error);
  if (!type) return error;
  FieldErrors errors;
  json::ObjectReader reader(document, errors);
  if (*type == "welcome") return decode_welcome(reader, errors);
  if (*type == "ack") return decode_ack(reader, errors);
  if (*type == "changes") return decode_changes(reader, errors);
  if (*type == "error") return decode_error(reader, errors);
  return bad_message("unknown message type; expected welcome, ack, changes or error");
}

}  // namespace safer
