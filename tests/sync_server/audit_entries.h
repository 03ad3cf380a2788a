// The audit trail's entries of one action, newest first, for the store tests.
#pragma once

#include <catch2/catch.hpp>

#include <vector>

#include "sync_server/audit.h"
#include "sync_server/server_store.h"

namespace store_test {

inline std::vector<sync_server::AuditRecord> entries_of(sync_server::ServerStore& store, const char* action) {
  sync_server::AuditFilter filter;
  filter.action = action;
  filter.limit = sync_server::kMaxAuditPage;
  auto records = sync_server::AuditLog(store).list(filter);
  REQUIRE(records.ok());
  return *records;
}

}  // namespace store_test
