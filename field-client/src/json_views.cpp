#include "field_client/json_views.h"

#include "safer/record_json.h"

namespace field_client {

void write_record_json(safer::JsonOut& out, const StoredRecord& record) {
  out.begin_object()
      .field("entity", safer::to_string(record.entity))
      .field("id", record.id)
      .field("hlc", record.hlc.to_string())
      .field("device_id", record.device_id)
      .field("deleted", record.deleted)
      .field("state", to_string(record.state));
  if (record.data) out.key("data").raw(safer::to_json(*record.data));
  out.end_object();
}

void write_outbox_json(safer::JsonOut& out, const OutboxEntry& entry) {
  out.begin_object()
      .field("seq", entry.seq)
      .field("entity", safer::to_string(entry.change.entity))
      .field("op", safer::to_string(entry.change.op))
      .field("id", entry.change.id)
      .field("hlc", entry.change.hlc.to_string())
      .field("state", to_string(entry.state))
      .field("created_at", safer::format_rfc3339(entry.created_at));
  if (entry.change.data) out.key("data").raw(safer::to_json(*entry.change.data));
  if (entry.state == OutboxState::rejected) {
    out.key("rejection").begin_object();
    out.field("code", entry.reject_code).field("message", entry.reject_message).field("field", entry.reject_field);
    out.end_object();
  }
  out.end_object();
}

void write_device_fields(safer::JsonOut& out, const StoreSummary& summary, const DeviceInfo& device,
                         const std::optional<std::string>& server_url) {
  out.field("device_id", summary.device_id).field("server", server_url);
  out.field("role", device.role ? std::optional(safer::to_string(*device.role)) : std::nullopt);
  out.field("user_id", device.user_id);
}

void write_record_counts(safer::JsonOut& out, const StoreSummary& summary) {
  out.key("records").begin_object().field("households", summary.households).field("visits", summary.visits);
  out.field("commute_sessions", summary.commute_sessions).end_object();
}

void write_field_errors(safer::JsonOut& out, const safer::FieldErrors& errors) {
  out.begin_array();
  for (const auto& error : errors) out.begin_object().field("field", error.field).field("message", error.message).end_object();
  out.end_array();
}

std::string record_json(const StoredRecord& record) {
  safer::JsonOut out;
  write_record_json(out, record);
  return out.str();
}

std::string outbox_json(const OutboxEntry& entry) {
  safer::JsonOut out;
  write_outbox_json(out, entry);
  return out.str();
}

std::string records_json(const std::vector<StoredRecord>& records) {
  safer::JsonOut out;
  out.begin_array();
  for (const auto& record : records) write_record_json(out, record);
  return out.end_array().str();
}

std::string outbox_entries_json(const std::vector<OutboxEntry>& entries) {
  safer::JsonOut out;
  out.begin_array();
  for (const auto& entry : entries) write_outbox_json(out, entry);
  return out.end_array().str();
}

}  // namespace field_client
