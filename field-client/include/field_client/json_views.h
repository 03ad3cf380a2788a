// JSON views of the store's records and outbox, for the command line's --json, the tablet
// app's local API and the C API: one shape everywhere, written with safer::JsonOut.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "field_client/store.h"
#include "safer/field_error.h"
#include "safer/json_out.h"

namespace field_client {

// {"entity","id","hlc","device_id","deleted","state","data"?}; data is the record's JSON.
std::string record_json(const StoredRecord& record);

// {"seq","entity","op","id","hlc","state","created_at","data"?,"rejection"?:{"code","message","field"}}
std::string outbox_json(const OutboxEntry& entry);

// [record_json, …] and [outbox_json, …]
std::string records_json(const std::vector<StoredRecord>& records);
std::string outbox_entries_json(const std::vector<OutboxEntry>& entries);

// The same views written as one value into `out`, for a view inside a larger answer.
void write_record_json(safer::JsonOut& out, const StoredRecord& record);
void write_outbox_json(safer::JsonOut& out, const OutboxEntry& entry);

// "device_id", "server" (null until enrolled: `server_url`), "role" and "user_id" (null until
// the first sync): who this device is, as every status view says it.
void write_device_fields(safer::JsonOut& out, const StoreSummary& summary, const DeviceInfo& device,
                         const std::optional<std::string>& server_url);

// "records": {"households","visits","commute_sessions"}: the records on this device, not deleted.
void write_record_counts(safer::JsonOut& out, const StoreSummary& summary);

// [{"field","message"}, …]: a record's field errors, as every caller of the store reports them.
void write_field_errors(safer::JsonOut& out, const safer::FieldErrors& errors);

}  // namespace field_client
