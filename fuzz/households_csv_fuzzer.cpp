// Fuzz target: the households CSV of protocol.md §8 (`sync-server import-households`, and
// POST /api/v1/households/import).
//
// Each input is parsed with parse_households_csv() and imported with
// ServerStore::import_households() into an empty store on ":memory:", so that every finding
// reproduces from its one input. Invariants, each a finding when broken (the target aborts):
//  - every row's line is within the file, and every problem names a line;
//  - no problems: the import succeeds with exactly rows.size(); the register then holds
//    rows.size() households, and each row that named an id is stored as parsed. A second
//    import of the same text succeeds too (rows with an id are updated, rows without one are
//    new households);
//  - problems: the import fails with code "invalid" and leaves the store as it was (no
//    household, nothing in the change feed).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "safer/record_json.h"
#include "sync_server/dashboard.h"
#include "sync_server/households_csv.h"
#include "sync_server/server_store.h"

namespace {

using namespace sync_server;

[[noreturn]] void finding(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "households_csv_fuzzer: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

constexpr safer::UnixMillis kNow = 1'764'149'400'000;  // 2025-11-26T09:30:00Z
const DeviceIdentity kReader{"fuzz-reader", "fuzz.reader", safer::Role::coordinator};

std::unique_ptr<ServerStore> new_store() {
  StoreOptions options;
  options.wall_clock = [] { return kNow; };
  auto store = ServerStore::open(":memory:", options);
  if (!store) finding("cannot open a store on :memory:", store.error().message);
  return std::move(*store);
}

// The "total" of households_json(): live households on the register.
long long household_count(ServerStore& store) {
  const std::string json = sync_server::Dashboard(store).households_json({}, std::nullopt, 1, 0);
  constexpr std::string_view kKey = "\"total\":";
  const auto at = json.find(kKey);
  if (at == std::string::npos) finding("households_json has no total:", json);
  return std::strtoll(json.c_str() + at + kKey.size(), nullptr, 10);
}

// Every change in the feed after `cursor` (all of it for ""), by record id; moves `cursor`.
std::map<std::string, safer::Change> pull_all(ServerStore& store, std::string& cursor, std::size_t& versions) {
  std::map<std::string, safer::Change> latest;
  versions = 0;
  for (;;) {
    auto page = store.pull(kReader, safer::Pull{cursor, safer::kMaxPullLimit});
    if (!page) finding("a coordinator's pull failed:", page.error().message);
    for (auto& pulled : page->changes) {
      ++versions;
      latest[pulled.change.id] = std::move(pulled.change);
    }
    cursor = page->cursor;
    if (!page->has_more) return latest;
  }
}

void check_import(ServerStore& store, std::string_view text, const ParsedHouseholds& parsed, std::string& cursor,
                  long long households_before) {
  const auto imported = store.import_households(text);
  std::size_t versions = 0;
  if (!parsed.problems.empty()) {
    if (imported.ok()) finding("a CSV with problems was imported");
    if (imported.error().code != "invalid") finding("a CSV with problems failed with another code:", imported.error().code);
    if (household_count(store) != households_before) finding("a failed import changed the register");
    pull_all(store, cursor, versions);
    if (versions != 0) finding("a failed import wrote to the change feed");
    return;
  }
  if (!imported.ok()) finding("a CSV without problems was not imported:", imported.error().message);
  if (*imported != parsed.rows.size()) finding("an import reported another number of rows than it parsed");
  const auto changes = pull_all(store, cursor, versions);
  if (versions != parsed.rows.size()) finding("an import wrote another number of versions than it has rows");
  for (const auto& row : parsed.rows) {
    if (!row.id) continue;
    const auto found = changes.find(*row.id);
    if (found == changes.end() || !found->second.data) finding("an imported row is not in the change feed");
    const auto* household = std::get_if<safer::Household>(&*found->second.data);
    if (household == nullptr) finding("an imported row came back as another entity");
    // The CSV has no vulnerability column: an import keeps what the register knew.
    safer::Household expected = row.household;
    expected.vulnerability = household->vulnerability;
    if (*household != expected) finding("an imported row is stored differently:", safer::to_json(*household));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& lists = safer::ReferenceLists::defaults();

  const auto parsed = parse_households_csv(text, lists);
  std::size_t lines = 1;  // LF, CRLF and a lone CR each end a line
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++lines;
  }
  for (const auto& row : parsed.rows) {
    if (row.line < 2 || row.line > lines) finding("a row's line is outside the file");
    if (!row.household.target.has_value() || !row.household.assigned_to.has_value()) {
      finding("a parsed row leaves target or assigned_to unset");
    }
  }
  for (const auto& problem : parsed.problems) {
    if (problem.line < 1 || problem.line > lines) finding("a problem's line is outside the file");
    if (problem.message.empty()) finding("a problem has no message");
  }

  // A store that only failed imports have seen is as new (checked below): open another only
  // after a successful import, which saves ~4 ms an input.
  static std::unique_ptr<ServerStore> store;
  if (!store) store = new_store();
  std::string cursor;
  check_import(*store, text, parsed, cursor, 0);
  if (!parsed.problems.empty()) return 0;
  const auto used = std::move(store);  // holds rows now: the next input gets a new one
  const long long after_first = household_count(*used);
  if (after_first != static_cast<long long>(parsed.rows.size())) finding("the register does not hold the imported rows");
  // Again: rows with an id update their household, rows without one add another.
  check_import(*used, text, parsed, cursor, after_first);
  long long without_id = 0;
  for (const auto& row : parsed.rows) without_id += row.id ? 0 : 1;
  if (household_count(*used) != after_first + without_id) finding("a second import left the wrong number of households");
  return 0;
}
