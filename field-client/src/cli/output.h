// What the field-client command prints: tables for people, JSON (--json) for scripts.
#pragma once

#include <ostream>
#include <vector>

#include "field_client/store.h"

namespace field_client::cli {

// One JSON object per record: {"entity","id","hlc","device_id","deleted","state","data"}.
std::string record_json(const StoredRecord& record);
// {"seq","entity","op","id","hlc","state","created_at","data"?,"rejection"?}
std::string outbox_json(const OutboxEntry& entry);

void print_records(std::ostream& out, Entity entity, const std::vector<StoredRecord>& records);
void print_record(std::ostream& out, const StoredRecord& record);
void print_outbox(std::ostream& out, const std::vector<OutboxEntry>& entries);

}  // namespace field_client::cli
