#include "safer/protocol_json.h"

#include "json_internal.h"

namespace safer {

namespace {

// The parts of one change that every change message has (protocol.md §3 and §4); the data
// from `stored_data` (a JSON object) when that is given.
void write_change(JsonOut& out, const Change& change, std::string_view stored_data = {}) {
  out.field("entity", to_string(change.entity))
      .field("op", to_string(change.op))
      .field("id", change.id)
      .field("hlc", change.hlc.to_string());
  if (!stored_data.empty()) {
    out.key("data").raw(stored_data);
  } else if (change.data) {
    out.key("data").begin_object();
    json::write_fields(out, *change.data);
    out.end_object();
  }
}

void write(JsonOut& out, const PushChange& change) {
  out.begin_object().field("seq", change.seq);
  write_change(out, change.change, change.stored_data);
  out.end_object();
}

void write(JsonOut& out, const PulledChange& change) {
  out.begin_object();
  if (change.evict) {
    out.field("entity", to_string(change.change.entity)).field("op", "evict").field("id", change.change.id);
  } else {
    write_change(out, change.change, change.stored_data);
    out.field("device_id", change.device_id);
  }
  out.end_object();
}

void write(JsonOut& out, const Rejection& rejection) {
  out.begin_object().field("seq", rejection.seq).field("code", rejection.code).field("message", rejection.message);
  if (!rejection.field.empty()) out.field("field", rejection.field);
  out.end_object();
}

// `name` and an array of the items, each written by write() above.
template <class Item>
void write_array(JsonOut& out, std::string_view name, const std::vector<Item>& items) {
  out.key(name).begin_array();
  for (const Item& item : items) write(out, item);
  out.end_array();
}

}  // namespace

std::string to_json(const Hello& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "hello")
        .field("protocol", message.protocol)
        .field("device_id", message.device_id)
        .field("app_version", message.app_version);
    if (!message.capabilities.empty()) json::write_strings(out, "capabilities", message.capabilities);
  });
}

std::string to_json(const Push& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "push");
    write_array(out, "changes", message.changes);
  });
}

std::string to_json(const Pull& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "pull").field("cursor", message.cursor).field("limit", message.limit);
  });
}

std::string to_json(const Welcome& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "welcome")
        .field("protocol", message.protocol)
        .field("device_id", message.device_id)
        .field("user_id", message.user_id)
        .field("role", to_string(message.role))
        .field("acked_seq", message.acked_seq)
        .field("server_time", format_rfc3339(message.server_time));
    json::write_strings(out, "wards", message.wards);
    json::write_strings(out, "stations", message.stations);
    if (!message.capabilities.empty()) json::write_strings(out, "capabilities", message.capabilities);
    out.key("questions");
    json::write_questions(out, message.questions);
  });
}

std::string to_json(const Ack& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "ack").field("acked_seq", message.acked_seq);
    write_array(out, "rejected", message.rejected);
  });
}

std::string to_json(const ChangesPage& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "changes");
    write_array(out, "changes", message.changes);
    out.field("cursor", message.cursor).field("has_more", message.has_more);
    if (message.remaining) out.field("remaining", *message.remaining);
  });
}

std::string to_json(const ErrorMessage& message) {
  return json::write_object([&](JsonOut& out) {
    out.field("type", "error").field("code", message.code).field("message", message.message).field("fatal", message.fatal);
    if (message.expected) out.field("expected", *message.expected);
  });
}

}  // namespace safer
