// JSON views of the store's records and outbox, for the command line's --json, the tablet
// app's local API and the C API: one shape everywhere.
#pragma once

#include <string>
#include <vector>

#include "field_client/store.h"

namespace field_client {

// {"entity","id","hlc","device_id","deleted","state","data"?}; data is the record's JSON.
std::string record_json(const StoredRecord& record);

// {"seq","entity","op","id","hlc","state","created_at","data"?,"rejection"?:{"code","message","field"}}
std::string outbox_json(const OutboxEntry& entry);

// [record_json, …] and [outbox_json, …]
std::string records_json(const std::vector<StoredRecord>& records);
std::string outbox_entries_json(const std::vector<OutboxEntry>& entries);

}  // namespace field_client
