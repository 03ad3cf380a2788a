// What the field-client command prints: tables for people, JSON (--json) for scripts.
#pragma once

#include <ostream>
#include <vector>

#include "field_client/json_views.h"
#include "field_client/store.h"

namespace field_client::cli {

void print_records(std::ostream& out, Entity entity, const std::vector<StoredRecord>& records);
void print_record(std::ostream& out, const StoredRecord& record);
void print_outbox(std::ostream& out, const std::vector<OutboxEntry>& entries);

}  // namespace field_client::cli
