#include "safer/protocol_json.h"

#include "json_internal.h"

namespace safer {

namespace {

using cereal::make_nvp;
using json::OutputArchive;

// The parts of one change that every change message has (protocol.md §3 and §4).
void write_change(OutputArchive& archive, const Change& change) {
  archive(make_nvp("entity", std::string(to_string(change.entity))),
          make_nvp("op", std::string(to_string(change.op))), make_nvp("id", change.id),
          make_nvp("hlc", change.hlc.to_string()));
  if (change.data) archive(make_nvp("data", *change.data));
}

}  // namespace

// Changes in arrays are written through cereal's ADL hooks.
void save(OutputArchive& archive, const RecordData& data) { json::write_fields(archive, data); }
void save(OutputArchive& archive, const PushChange& change) {
  archive(make_nvp("seq", change.seq));
  write_change(archive, change.change);
}
void save(OutputArchive& archive, const PulledChange& change) {
  if (change.evict) {
    archive(make_nvp("entity", std::string(to_string(change.change.entity))), make_nvp("op", std::string("evict")),
            make_nvp("id", change.change.id));
    return;
  }
  write_change(archive, change.change);
  archive(make_nvp("device_id", change.device_id));
}
void save(OutputArchive& archive, const Rejection& rejection) {
  archive(make_nvp("seq", rejection.seq), make_nvp("code", rejection.code),
          make_nvp("message", rejection.message));
  if (!rejection.field.empty()) archive(make_nvp("field", rejection.field));
}

std::string to_json(const Hello& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("hello")), make_nvp("protocol", message.protocol),
            make_nvp("device_id", message.device_id), make_nvp("app_version", message.app_version));
    if (!message.capabilities.empty()) archive(make_nvp("capabilities", message.capabilities));
  });
}

std::string to_json(const Push& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("push")), make_nvp("changes", message.changes));
  });
}

std::string to_json(const Pull& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("pull")), make_nvp("cursor", message.cursor),
            make_nvp("limit", message.limit));
  });
}

std::string to_json(const Welcome& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("welcome")), make_nvp("protocol", message.protocol),
            make_nvp("device_id", message.device_id), make_nvp("user_id", message.user_id),
            make_nvp("role", std::string(to_string(message.role))),
            make_nvp("acked_seq", message.acked_seq),
            make_nvp("server_time", format_rfc3339(message.server_time)),
            make_nvp("wards", message.wards), make_nvp("stations", message.stations));
    if (!message.capabilities.empty()) archive(make_nvp("capabilities", message.capabilities));
    json::write_questions(archive, "questions", message.questions);
  });
}

std::string to_json(const Ack& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("ack")), make_nvp("acked_seq", message.acked_seq),
            make_nvp("rejected", message.rejected));
  });
}

std::string to_json(const ChangesPage& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("changes")), make_nvp("changes", message.changes),
            make_nvp("cursor", message.cursor), make_nvp("has_more", message.has_more));
    if (message.remaining) archive(make_nvp("remaining", *message.remaining));
  });
}

std::string to_json(const ErrorMessage& message) {
  return json::write_object([&](OutputArchive& archive) {
    archive(make_nvp("type", std::string("error")), make_nvp("code", message.code),
            make_nvp("message", message.message), make_nvp("fatal", message.fatal));
    if (message.expected) archive(make_nvp("expected", *message.expected));
  });
}

}  // namespace safer
