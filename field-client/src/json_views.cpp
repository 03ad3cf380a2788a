#include "field_client/json_views.h"

#include "safer/json_text.h"
#include "safer/record_json.h"

namespace field_client {

using safer::json_quote;

std::string record_json(const StoredRecord& record) {
  std::string out = "{\"entity\":" + json_quote(safer::to_string(record.entity)) +
                    ",\"id\":" + json_quote(record.id) + ",\"hlc\":" + json_quote(record.hlc.to_string()) +
                    ",\"device_id\":" + json_quote(record.device_id) +
                    ",\"deleted\":" + (record.deleted ? "true" : "false") +
                    ",\"state\":" + json_quote(to_string(record.state));
  if (record.data) out += ",\"data\":" + safer::to_json(*record.data);
  return out + "}";
}

std::string outbox_json(const OutboxEntry& entry) {
  std::string out = "{\"seq\":" + std::to_string(entry.seq) +
                    ",\"entity\":" + json_quote(safer::to_string(entry.change.entity)) +
                    ",\"op\":" + json_quote(safer::to_string(entry.change.op)) +
                    ",\"id\":" + json_quote(entry.change.id) +
                    ",\"hlc\":" + json_quote(entry.change.hlc.to_string()) +
                    ",\"state\":" + json_quote(to_string(entry.state)) +
                    ",\"created_at\":" + json_quote(safer::format_rfc3339(entry.created_at));
  if (entry.change.data) out += ",\"data\":" + safer::to_json(*entry.change.data);
  if (entry.state == OutboxState::rejected) {
    out += ",\"rejection\":{\"code\":" + json_quote(entry.reject_code) +
           ",\"message\":" + json_quote(entry.reject_message) +
           ",\"field\":" + json_quote(entry.reject_field) + "}";
  }
  return out + "}";
}

std::string records_json(const std::vector<StoredRecord>& records) {
  std::string out = "[";
  for (std::size_t i = 0; i < records.size(); ++i) out += (i ? "," : "") + record_json(records[i]);
  return out + "]";
}

std::string outbox_entries_json(const std::vector<OutboxEntry>& entries) {
  std::string out = "[";
  for (std::size_t i = 0; i < entries.size(); ++i) out += (i ? "," : "") + outbox_json(entries[i]);
  return out + "]";
}

}  // namespace field_client
