// A subject access export (issue 14 §3, docs/server.md "Subject access"): everything the
// server holds about one household, as JSON or as one CSV, for a data-protection officer.
//
// What it holds:
//  - the household's row: its data while it lives; for an erased household only the
//    tombstone (id, when it was erased, by whom) — the data is gone;
//  - every visit that names the household now, live or tombstone, with their dates;
//  - its history as the server keeps it: audit entries naming the household (assignments,
//    erasure, earlier subject access exports…), rejected changes to it or to its visits, and
//    its exits from users' scopes (evictions from their tablets).
// The server keeps only the winning version of a record, not earlier versions.
//
// Every export, and every refused one, leaves an audit entry (kAuditSubjectAccess): who,
// which household, the format and the row count — never the export's content.
//
// Thread safety: as the ServerStore it reads.
#pragma once

#include <cstdint>
#include <string>

#include "safer/result.h"
#include "sync_server/server_store.h"

namespace sync_server {

enum class SubjectAccessFormat { json, csv };

struct SubjectAccessFile {
  std::string body;        // the JSON document, or the CSV text (RFC 4180, CRLF, a header row)
  std::int64_t rows = 0;   // records and history entries in it: the household, visits, audit
                           // entries, rejections and exits
  bool erased = false;     // the household is a tombstone: the export holds no data of it
};

class SubjectAccess {
 public:
  explicit SubjectAccess(ServerStore& store) : store_(store) {}

  // The export of household `household_id`, read in one snapshot, then audited by `actor`
  // (the entry commits before this returns; if it cannot, nothing is returned).
  // Errors: "invalid" for an id that is not a canonical UUID, "not_found" for a household the
  // server has never held (both audited too, the malformed id left out), storage errors.
  Result<SubjectAccessFile> export_household(const std::string& household_id, SubjectAccessFormat format,
                                             const Actor& actor);

 private:
  ServerStore& store_;
};

// "json" or "csv".
const char* to_string(SubjectAccessFormat format);

}  // namespace sync_server
