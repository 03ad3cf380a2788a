#include "local_api.h"

#include <charconv>
#include <ctime>
#include <tuple>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it
#include <rapidjson/document.h>

#include "field_client/json_views.h"
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/time.h"

namespace field_client::ui {

namespace {

using safer::JsonOut;

LocalResponse json(int status, std::string body) { return LocalResponse{status, std::move(body), {}}; }

LocalResponse json(int status, const JsonOut& body) { return json(status, body.str()); }

LocalResponse error(int status, std::string_view message) {
  return json(status, JsonOut().begin_object().field("error", message).end_object());
}

// A new household's body may say "near_duplicate_ok": true: the officer saw the warning of a
// near duplicate and adds it anyway (the field is not part of the record).
bool near_duplicate_ok(const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());  // no recursion per level
  return !document.HasParseError() && document.IsObject() && document.HasMember("near_duplicate_ok") &&
         document["near_duplicate_ok"].IsTrue();
}

LocalResponse invalid(const safer::FieldErrors& errors) {
  JsonOut out;
  out.begin_object().field("error", safer::join_messages(errors)).key("errors");
  write_field_errors(out, errors);
  return json(400, out.end_object());
}

int status_for(const Error& e) {
  if (e.code == "invalid" || e.code == "exists") return 400;
  if (e.code == "not_found") return 404;
  if (e.code == "forbidden") return 403;
  return 503;
}

// A failed read or write: 503 with {"error": what failed, "code"} for storage failures.
LocalResponse from_error(const Error& e) {
  if (e.code == "invalid") return invalid({{e.field, e.message}});
  return json(status_for(e), JsonOut().begin_object().field("error", e.message).field("code", e.code).end_object());
}

// [name, …]
void write_names(JsonOut& out, const auto& names) {
  out.begin_array();
  for (const auto& name : names) out.value(name);
  out.end_array();
}

// A record's standing rejection: {"code","message","field"}, or null.
void write_rejection(JsonOut& out, const std::optional<OutboxEntry>& entry) {
  if (!entry) {
    out.null();
    return;
  }
  out.begin_object().field("code", entry->reject_code).field("message", entry->reject_message);
  out.field("field", entry->reject_field).end_object();
}

// The record's data as its JSON, or null when it was deleted.
void write_data(JsonOut& out, const StoredRecord& record) {
  if (record.data) {
    out.raw(safer::to_json(*record.data));
  } else {
    out.null();
  }
}

// Splits "/api/visits/ID/count" after `prefix` ("/api/visits/") into ID and the rest.
std::pair<std::string, std::string> split_id(const std::string& path, std::string_view prefix) {
  const std::string rest = path.substr(prefix.size());
  const auto slash = rest.find('/');
  return {rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash)};
}

// GET /api/status's "progress": where a running sync stands (null when none runs), for the
// tablet's progress bar. "remaining" is the server's estimate (null from a server that sends
// none); "elapsed_ms" the time since the pull began, for an estimate of the time left.
void write_progress(JsonOut& out, const std::optional<SyncProgress>& progress) {
  out.key("progress");
  if (!progress) {
    out.null();
    return;
  }
  static constexpr const char* kPhases[] = {"connecting", "pushing", "pulling"};
  const auto elapsed = progress->pull_started_at
                           ? std::optional<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                             std::chrono::steady_clock::now() - progress->pull_started)
                                                             .count())
                           : std::nullopt;
  out.begin_object()
      .field("phase", kPhases[static_cast<int>(progress->phase)])
      .field("pushed", progress->pushed)
      .field("to_push", progress->to_push)
      .field("pages", progress->pages)
      .field("received", progress->pulled)
      .field("remaining", progress->remaining)
      .field("started_at", progress->pull_started_at ? std::optional(safer::format_rfc3339(*progress->pull_started_at))
                                                     : std::nullopt)
      .field("elapsed_ms", elapsed)
      .end_object();
}

}  // namespace

LocalApi::LocalApi(std::string store_path, BackgroundSyncSettings sync_settings, std::chrono::milliseconds pin_lock,
                   PinPolicy pin_policy, std::function<void(std::function<void()>)> post)
    : store_path_(std::move(store_path)),
      sync_settings_(sync_settings),
      pin_lock_(pin_lock),
      post_(std::move(post)),
      pin_guard_(store_path_, pin_policy, safer::now_unix_millis, [this] { return wipe("pin"); }) {}

LocalApi::~LocalApi() {
  sync_.reset();  // its thread uses the store's files: stop it first
}

Status LocalApi::start() {
  if (Store::is_encrypted(store_path_)) return {};  // opens at the PIN
  auto opened = Store::open(store_path_);
  if (!opened && opened.error().code == "locked") {
    legacy_pin_ = true;  // the app PIN of an earlier version: opens, and is encrypted, at that PIN
    return {};
  }
  if (!opened) return opened.error();
  store_ = std::move(*opened);
  start_sync();
  return {};
}

void LocalApi::start_sync() {
  // The sync thread asks for the wipe; it is carried out here, on the server's thread, which
  // owns the store and the sync.
  sync_ = std::make_unique<BackgroundSync>(store_path_, sync_settings_, key_, [this] {
    post_([this] { (void)wipe("coordinator"); });
  });
}

Status LocalApi::wipe(const std::string& reason) {
  sync_.reset();
  store_.reset();
  key_.reset();
  wiped_ = reason;
  return Store::wipe_files(store_path_);
}

bool LocalApi::locked() const {
  if (!store_) return true;  // encrypted and not unlocked yet (or wiped)
  if (!key_) return false;   // a plain store has no PIN
  if (!last_use_) return true;
  return pin_lock_.count() > 0 && std::chrono::steady_clock::now() - *last_use_ > pin_lock_;
}

// The answer to every request after a wipe: 410 with why.
static LocalResponse gone(const std::string& reason) {
  const std::string message =
      reason == "coordinator"
          ? "A coordinator ordered this tablet wiped: every record, every change waiting to sync, the token and the "
            "key were erased from it. It must be enrolled again before it can be used."
          : "Too many wrong PINs were given: this tablet's store was erased. It must be enrolled again before it can "
            "be used.";
  return json(410, JsonOut().begin_object().field("error", message).field("code", reason == "coordinator" ? "wipe" : "wiped")
                       .field("wiped", reason).end_object());
}

LocalResponse LocalApi::handle(const LocalRequest& request) {
  const auto& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (post && path == "/api/enrol") return enrol(request.body);  // a wiped tablet may be enrolled again
  if (wiped_ && !(get && path == "/api/status")) return gone(*wiped_);
  if (get && path == "/api/status") return status();  // polling is not use: it must not hold the lock off
  if (post && path == "/api/unlock") return unlock(request.body);
  if (locked()) return error(423, "the app is locked: enter the PIN");
  if (!request.background) last_use_ = std::chrono::steady_clock::now();

  if (get && path == "/api/reference") return reference();
  if (get && path == "/api/households") return households(request);
  if (post && path == "/api/households") return write(safer::Entity::household, "", request.body);
  if (post && path == "/api/households/search") return search_households(request.body);
  if (get && path.rfind("/api/households/", 0) == 0) return household(path.substr(16));
  if (get && path == "/api/visits") return visits(request);
  if (get && path == "/api/due") return due();
  if (post && path == "/api/visits") return write(safer::Entity::visit, "", request.body);
  if (get && path == "/api/commute") return commute();
  if (post && path == "/api/commute") return write(safer::Entity::commute_session, "", request.body);
  if (get && path == "/api/rejected") return rejected();
  if (request.method == "DELETE" && path.rfind("/api/rejected/", 0) == 0) return discard(path.substr(14));
  if (post && path == "/api/sync") {
    sync_->trigger(true);
    return json(202, JsonOut().begin_object().field("started", true).end_object());
  }
  if (post && path.rfind("/api/validate/", 0) == 0) {
    const auto entity = safer::enum_from_string<safer::Entity>(path.substr(14));
    if (!entity) return error(404, "no such kind of record");
    return validate(*entity, request.body);
  }
  for (const auto& [prefix, entity] : {std::pair{std::string_view("/api/visits/"), safer::Entity::visit},
                                       std::pair{std::string_view("/api/commute/"), safer::Entity::commute_session},
                                       std::pair{std::string_view("/api/households/"), safer::Entity::household}}) {
    if (path.rfind(prefix, 0) != 0) continue;
    const auto [id, rest] = split_id(path, prefix);
    if (rest.empty() && request.method == "PUT") return write(entity, id, request.body);
    if (rest.empty() && request.method == "DELETE") return remove(entity, id);
    if (rest == "/count" && post && entity == safer::Entity::commute_session) return count(id, request.body);
  }
  return error(404, "no such endpoint");
}

LocalResponse LocalApi::status() {
  if (!store_) {
    // Locked before the PIN (nothing of the store can be read), or wiped.
    JsonOut out;
    out.begin_object().field("device_id", std::optional<std::string>()).field("server", std::optional<std::string>());
    out.field("role", std::optional<std::string>()).field("user_id", std::optional<std::string>());
    out.field("online", std::optional<bool>()).field("syncing", false).field("pending", 0).field("rejected", 0);
    out.field("last_sync_at", std::optional<std::string>()).field("last_attempt_at", std::optional<std::string>());
    out.field("last_error", std::optional<std::string>()).field("clock_warning", false);
    out.field("clock_offset_ms", std::optional<std::int64_t>()).field("locked", !wiped_).field("pin_set", !wiped_);
    out.field("wiped", wiped_).field("enrolled", wiped_ ? std::optional(false) : std::nullopt);
    write_progress(out, std::nullopt);
    return json(200, out.end_object());
  }
  const auto read_summary = store_->summary();
  if (!read_summary) return from_error(read_summary.error());
  const auto read_device = store_->device();
  if (!read_device) return from_error(read_device.error());
  const auto enrollment = store_->enrollment();
  if (!enrollment && enrollment.error().code != "not_enrolled") return from_error(enrollment.error());
  const auto& summary = *read_summary;
  const auto& device = *read_device;
  const auto state = sync_->state();
  const bool clock_warning = summary.clock_offset_ms && std::llabs(*summary.clock_offset_ms) > 5 * 60 * 1000;
  const auto time_or_null = [](const std::optional<safer::UnixMillis>& at) {
    return at ? std::optional(safer::format_rfc3339(*at)) : std::nullopt;
  };
  JsonOut out;
  out.begin_object();
  write_device_fields(out, summary, device, enrollment ? std::optional(enrollment->server_url) : std::nullopt);
  out.field("online", state.online)
      .field("syncing", state.syncing)
      .field("pending", summary.pending)
      .field("rejected", summary.rejected)
      .field("last_sync_at", time_or_null(summary.last_sync_at))
      .field("last_attempt_at", time_or_null(state.last_attempt_at))
      .field("last_error", state.last_error.empty() ? std::nullopt : std::optional(state.last_error))
      .field("clock_warning", clock_warning)
      .field("clock_offset_ms", summary.clock_offset_ms)
      .field("locked", locked())
      .field("pin_set", key_.has_value())
      .field("wiped", std::optional<std::string>())
      .field("enrolled", static_cast<bool>(enrollment));
  write_progress(out, state.progress);
  return json(200, out.end_object());
}

LocalResponse LocalApi::reference() {
  const auto read_lists = store_->reference_lists();
  if (!read_lists) return from_error(read_lists.error());
  const auto& lists = *read_lists;
  JsonOut out;
  out.begin_object();
  write_names(out.key("wards"), lists.wards);
  write_names(out.key("stations"), lists.stations);
  write_names(out.key("statuses"), safer::EnumNames<safer::VisitStatus>::names);
  write_names(out.key("outcomes"), safer::EnumNames<safer::Outcome>::names);
  write_names(out.key("referrals"), safer::EnumNames<safer::Referral>::names);
  write_names(out.key("share_bases"), safer::EnumNames<safer::ShareBasis>::names);
  write_names(out.key("vulnerabilities"), safer::EnumNames<safer::Vulnerability>::names);
  write_names(out.key("messages"), safer::EnumNames<safer::CommuteMessage>::names);
  // The server's questions, withdrawn ones included (a stored answer to one is still shown).
  out.key("questions").raw(safer::questions_to_json(lists.questions));
  return json(200, out.end_object());
}

namespace {

constexpr std::size_t kHouseholdPage = 100;      // a page when none is asked for
constexpr std::size_t kMaxHouseholdPage = 500;   // the most a page holds
constexpr std::size_t kMaxSearchText = 200;      // characters of search text

// One household as the app lists it.
void write_household_view(JsonOut& out, const HouseholdView& view) {
  const auto& household = std::get<safer::Household>(*view.record.data);
  out.begin_object()
      .field("id", view.record.id)
      .field("address", household.address)
      .field("postcode", household.postcode)
      .field("ward", household.ward)
      .field("target", household.is_target())
      .field("assigned_to", household.assignee())
      .key("vulnerability");
  write_names(out, household.vulnerability.names());
  out.field("mine", view.mine).field("state", to_string(view.record.state)).key("last_visit");
  if (view.last_visit) {
    out.begin_object()
        .field("id", view.last_visit->id)
        .field("visited_at", safer::format_rfc3339(view.last_visit->visited_at))
        .field("status", safer::to_string(view.last_visit->status))
        .end_object();
  } else {
    out.null();
  }
  out.field("follow_up_outstanding", view.follow_up_outstanding).end_object();
}

// A whole number 0..`high` from text; nullopt when it is anything else.
std::optional<std::size_t> whole_number(const std::string& text, std::size_t high) {
  std::size_t value = 0;
  const auto [end, problem] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (problem != std::errc() || end != text.data() + text.size() || value > high) return std::nullopt;
  return value;
}

struct HouseholdPage {
  std::string query;
  std::size_t offset = 0;
  std::size_t limit = kHouseholdPage;
};

}  // namespace

// {"households": [...], "total", "offset", "limit"}: one page, and how many there are in all,
// so that the app can say so and offer the rest (the list is never cut without a word).
static LocalResponse household_page(const Store& store, const HouseholdPage& page) {
  const auto read_views = store.households(page.query, page.limit, page.offset);
  if (!read_views) return from_error(read_views.error());
  const auto total = store.count_households(page.query);
  if (!total) return from_error(total.error());
  JsonOut out;
  out.begin_object().key("households").begin_array();
  for (const auto& view : *read_views) write_household_view(out, view);
  out.end_array().field("total", *total).field("offset", static_cast<std::int64_t>(page.offset));
  out.field("limit", static_cast<std::int64_t>(page.limit));
  return json(200, out.end_object());
}

LocalResponse LocalApi::households(const LocalRequest& request) {
  // A search in the URL would stay in the app's history: refused, without echoing it.
  if (request.query.count("q") != 0) {
    return error(400, "a search is POST /api/households/search with {\"q\": ...} in its body: search text never goes in a URL");
  }
  HouseholdPage page;
  for (const auto& [name, high, into] : {std::tuple{"offset", std::size_t{1} << 30, &page.offset},
                                         std::tuple{"limit", kMaxHouseholdPage, &page.limit}}) {
    const auto found = request.query.find(name);
    if (found == request.query.end()) continue;
    const auto value = whole_number(found->second, high);
    if (!value) return error(400, std::string(name) + " must be a whole number from 0 to " + std::to_string(high));
    *into = *value;
  }
  return household_page(*store_, page);
}

LocalResponse LocalApi::search_households(const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());
  const char* const kShape = "send {\"q\": \"part of an address or postcode\", \"offset\": 0, \"limit\": 100}";
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("q") || !document["q"].IsString()) {
    return error(400, kShape);
  }
  HouseholdPage page;
  page.query.assign(document["q"].GetString(), document["q"].GetStringLength());
  if (page.query.size() > kMaxSearchText) return error(400, "q must be at most 200 characters");
  for (const auto& [name, high, into] : {std::tuple{"offset", std::size_t{1} << 30, &page.offset},
                                         std::tuple{"limit", kMaxHouseholdPage, &page.limit}}) {
    if (!document.HasMember(name)) continue;
    const auto& value = document[name];
    if (!value.IsUint64() || value.GetUint64() > high) {
      return error(400, std::string(name) + " must be a whole number from 0 to " + std::to_string(high));
    }
    *into = static_cast<std::size_t>(value.GetUint64());
  }
  return household_page(*store_, page);
}

LocalResponse LocalApi::household(const std::string& id) {
  const auto view = store_->household_view(id);
  if (!view) return view.error().code == "not_found" ? error(404, "there is no such household on this tablet") : from_error(view.error());
  JsonOut out;
  out.begin_object();
  write_household_view(out.key("household"), *view);
  return json(200, out.end_object());
}

// The latest outbox entry of a record that stands rejected, from `rejections` (the store's
// rejected entries in seq order).
static std::optional<OutboxEntry> rejection_of(const std::vector<OutboxEntry>& rejections, const StoredRecord& record) {
  if (record.state != SyncState::rejected) return std::nullopt;
  for (auto it = rejections.rbegin(); it != rejections.rend(); ++it) {
    if (it->change.entity == record.entity && it->change.id == record.id) return *it;
  }
  return std::nullopt;
}

// {"<name>": [the records as the app lists them, each with its standing rejection]}; or the
// failed read.
static Result<std::string> records_with_rejections(const Store& store, std::string_view name,
                                                   const Result<std::vector<StoredRecord>>& records) {
  if (!records) return records.error();
  const auto rejections = store.outbox({OutboxState::rejected});
  if (!rejections) return rejections.error();
  JsonOut out;
  out.begin_object().key(name).begin_array();
  for (const auto& record : *records) {
    out.begin_object().field("id", record.id).field("state", to_string(record.state)).field("mine", record.created_here);
    write_data(out.key("data"), record);
    write_rejection(out.key("rejection"), rejection_of(*rejections, record));
    out.end_object();
  }
  return out.end_array().end_object().str();
}

LocalResponse LocalApi::visits(const LocalRequest& request) {
  const auto household = request.query.find("household");
  if (household == request.query.end()) return error(400, "give ?household=ID");
  const auto visits = records_with_rejections(*store_, "visits", store_->visits_to(household->second));
  if (!visits) return from_error(visits.error());
  return json(200, *visits);
}

// Today's date in the device's time zone (TZ), "YYYY-MM-DD".
static std::string local_today() {
  const std::time_t now = static_cast<std::time_t>(safer::now_unix_millis() / 1000);
  std::tm local{};
  localtime_r(&now, &local);
  return safer::format_iso_date(safer::CivilDate{local.tm_year + 1900, static_cast<unsigned>(local.tm_mon + 1),
                                                 static_cast<unsigned>(local.tm_mday)});
}

LocalResponse LocalApi::due() {
  const std::string today = local_today();
  const auto work = store_->work_due(today);
  if (!work) return from_error(work.error());
  JsonOut out;
  out.begin_object().field("today", today).field("more", work->more).key("due").begin_array();
  for (const auto& item : work->work) {
    out.begin_object().field("visit_id", item.visit_id).field("kind", item.follow_up ? "follow_up" : "rescheduled");
    out.field("due", item.due).field("overdue", item.overdue).key("household");
    write_household_view(out, item.household);
    out.end_object();
  }
  return json(200, out.end_array().end_object());
}

LocalResponse LocalApi::commute() {
  // A session left open on an earlier day is ended at its midnight before it is listed, so the
  // app never shows it as going on (store.h).
  if (const auto ended = store_->end_overdue_sessions(); !ended) {
    return from_error(ended.error());
  } else if (!ended->empty()) {
    sync_->trigger();
  }
  auto sessions = store_->list(safer::Entity::commute_session);
  if (sessions) std::reverse(sessions->begin(), sessions->end());  // newest first (UUIDv7 ids are time-ordered)
  const auto listed = records_with_rejections(*store_, "sessions", sessions);
  if (!listed) return from_error(listed.error());
  return json(200, *listed);
}

LocalResponse LocalApi::rejected() {
  const auto rejections = store_->outbox({OutboxState::rejected});
  if (!rejections) return from_error(rejections.error());
  JsonOut out;
  out.begin_object().key("rejected").begin_array();
  for (const auto& entry : *rejections) {
    const auto record = store_->get(entry.change.entity, entry.change.id);
    if (!record && record.error().code != "not_found") return from_error(record.error());
    // Rejections still standing (the record has not been changed since), and those whose
    // record is gone (it left the user's scope, or was erased): shown without data.
    const bool gone = !record;
    if (!gone && (record->state != SyncState::rejected || rejection_of(*rejections, *record)->seq != entry.seq)) continue;
    out.begin_object()
        .field("seq", entry.seq)
        .field("entity", safer::to_string(entry.change.entity))
        .field("id", entry.change.id)
        .field("code", entry.reject_code)
        .field("message", entry.reject_message)
        .field("field", entry.reject_field)
        .field("gone", gone);
    if (gone) {
      out.key("data").null();
    } else {
      write_data(out.key("data"), *record);
    }
    out.end_object();
  }
  return json(200, out.end_array().end_object());
}

LocalResponse LocalApi::discard(const std::string& seq_text) {
  std::int64_t seq = 0;
  const auto [end, problem] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
  if (problem != std::errc() || end != seq_text.data() + seq_text.size() || seq <= 0) {
    return error(400, "give the seq of a refused change: DELETE /api/rejected/SEQ");
  }
  const auto discarded = store_->discard_rejected(seq);
  if (!discarded) return from_error(discarded.error());
  // A record the server holds comes back with the next sync: start it now.
  if (*discarded == Discarded::record_refetched) sync_->trigger(true);
  return json(200, JsonOut().begin_object().field("seq", seq).field("record", to_string(*discarded)).end_object());
}

LocalResponse LocalApi::write(safer::Entity entity, const std::string& id, const std::string& body) {
  safer::RecordData data;
  auto errors = safer::from_json(body, entity, data);
  if (errors.empty()) {
    auto checked = store_->validate(data);
    if (!checked) return from_error(checked.error());
    errors = std::move(*checked);
  }
  if (!errors.empty()) return invalid(errors);
  if (entity == safer::Entity::household && id.empty() && !near_duplicate_ok(body)) {
    // The officer may be about to add, in the rain, a household the register already has.
    const auto other = store_->near_duplicate(std::get<safer::Household>(data));
    if (!other) return from_error(other.error());
    if (*other) {
      return json(409, JsonOut().begin_object()
                           .field("error", "a household with the same postcode and house number is already on this "
                                           "tablet: check that it is not this one, or add this one anyway")
                           .field("code", "near_duplicate").field("household_id", **other).end_object());
    }
  }
  if (!id.empty()) {
    auto existing = own_record(entity, id, "change");
    if (auto* refused = std::get_if<LocalResponse>(&existing)) return std::move(*refused);
    if (auto updated = store_->update(id, std::move(data)); !updated) return from_error(updated.error());
    sync_->trigger();
    return json(200, JsonOut().begin_object().field("id", id).end_object());
  }
  auto created = store_->create(std::move(data));
  if (!created) return from_error(created.error());
  sync_->trigger();
  return json(201, JsonOut().begin_object().field("id", *created).end_object());
}

std::variant<StoredRecord, LocalResponse> LocalApi::own_record(safer::Entity entity, const std::string& id,
                                                              const char* verb) {
  auto existing = store_->get(entity, id);
  if (!existing && existing.error().code != "not_found") return from_error(existing.error());
  if (!existing || existing->deleted) return error(404, "there is no such record on this tablet");
  if (entity != safer::Entity::household && !existing->created_here) {
    return error(403, std::string("this record was made on another device: only its author may ") + verb + " it");
  }
  return std::move(*existing);
}

LocalResponse LocalApi::remove(safer::Entity entity, const std::string& id) {
  auto existing = own_record(entity, id, "delete");
  if (auto* refused = std::get_if<LocalResponse>(&existing)) return std::move(*refused);
  if (auto removed = store_->remove(entity, id); !removed) return from_error(removed.error());
  sync_->trigger();
  return json(200, JsonOut().begin_object().field("id", id).end_object());
}

LocalResponse LocalApi::count(const std::string& id, const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());  // no recursion per level
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("delta") || !document["delta"].IsInt() ||
      std::abs(document["delta"].GetInt()) > 100) {
    return error(400, "send {\"delta\": 1} or {\"delta\": -1}");
  }
  const auto existing = store_->get(safer::Entity::commute_session, id);
  if (!existing && existing.error().code != "not_found") return from_error(existing.error());
  if (!existing || existing->deleted) return error(404, "there is no such session on this tablet");
  if (!existing->created_here) return error(403, "this session was made on another device");
  auto session = std::get<safer::CommuteSession>(*existing->data);
  if (session.ended_at) {
    return json(409, JsonOut().begin_object().field("error", "this session has ended: start a new one to count more")
                         .field("code", "session_ended").field("station", session.station).end_object());
  }
  session.cards_distributed = std::max<std::int64_t>(0, session.cards_distributed + document["delta"].GetInt());
  if (auto updated = store_->update(id, session); !updated) {
    if (updated.error().field != "ended_at") return from_error(updated.error());
    // Its day is over (the store refuses the tap): it is ended at its midnight, and the app
    // asks whether to start today's session at the same station and count the tap there.
    if (const auto ended = store_->end_overdue_sessions(); !ended) return from_error(ended.error());
    sync_->trigger();
    return json(409, JsonOut().begin_object()
                         .field("error", "this session started on an earlier day and was ended at midnight; the tap "
                                         "was not counted in it")
                         .field("code", "session_over").field("station", session.station).end_object());
  }
  sync_->trigger();
  return json(200, JsonOut().begin_object().field("id", id).field("cards_distributed", session.cards_distributed).end_object());
}

LocalResponse LocalApi::validate(safer::Entity entity, const std::string& body) {
  safer::RecordData data;
  auto errors = safer::from_json(body, entity, data);
  if (errors.empty()) {
    auto checked = store_->validate(data);
    if (!checked) return from_error(checked.error());
    errors = std::move(*checked);
  }
  JsonOut out;
  write_field_errors(out.begin_object().key("errors"), errors);
  return json(200, out.end_object());
}

// The answer to POST /api/unlock (docs/tablet-app.md): 200, 403 (wrong PIN), 429 (wait
// first, with Retry-After), 410 (the limit was reached: the store was wiped) or 503 (the count
// could not be saved, or the store could not be opened: not unlocked).
static LocalResponse unlock_answer(const PinAnswer& answer) {
  using Verdict = PinAnswer::Verdict;
  if (answer.verdict == Verdict::failed) return from_error(answer.error);
  if (answer.verdict == Verdict::wiped) return gone("pin");
  const long long seconds = (answer.retry_after.count() + 999) / 1000;  // rounded up
  JsonOut out;
  out.begin_object();
  int status = 200;
  switch (answer.verdict) {
    case Verdict::right:
      out.field("locked", false);
      break;
    case Verdict::wrong:
      status = 403;
      out.field("error", "that PIN is not right");
      out.field("attempts_left", answer.attempts_left).field("retry_after_seconds", seconds);
      break;
    case Verdict::wait:
      status = 429;
      out.field("error", "too many wrong PINs: try again in " + std::to_string(seconds) + " seconds");
      out.field("attempts_left", answer.attempts_left).field("retry_after_seconds", seconds);
      break;
    case Verdict::wiped:
    case Verdict::failed:
      break;
  }
  LocalResponse response{status, out.end_object().str(), {}};
  if (answer.verdict == Verdict::wait) response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

LocalResponse LocalApi::unlock(const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());  // no recursion per level
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("pin") || !document["pin"].IsString()) {
    return error(400, "send {\"pin\": \"…\"}");
  }
  if (store_ && !key_) return error(403, "that PIN is not right");  // a plain store has no PIN
  const std::string pin(document["pin"].GetString(), document["pin"].GetStringLength());
  if (legacy_pin_) {
    auto answer = pin_guard_.attempt_legacy(pin, store_);
    if (answer.verdict == PinAnswer::Verdict::right) legacy_pin_ = false;
    return unlocked(std::move(answer));
  }
  auto answer = pin_guard_.attempt(pin, [&](const StoreKey& key) -> Result<bool> {
    if (store_) return key == *key_;  // locked again after a while: the store stays open
    auto opened = Store::open(store_path_, StoreOptions{{}, key, {}});
    if (!opened) {
      if (opened.error().code == "wrong_pin") return false;
      return opened.error();
    }
    store_ = std::move(*opened);
    return true;
  });
  return unlocked(std::move(answer));
}

LocalResponse LocalApi::unlocked(PinAnswer answer) {
  if (answer.verdict == PinAnswer::Verdict::right) {
    last_use_ = std::chrono::steady_clock::now();
    if (!key_) {
      key_ = std::move(answer.key);
      start_sync();
    }
  }
  return unlock_answer(answer);
}

}  // namespace field_client::ui
