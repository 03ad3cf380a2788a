#include "local_api.h"

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "field_client/json_views.h"
#include "safer/json_text.h"
#include "safer/record_json.h"

namespace field_client::ui {

namespace {

using safer::json_quote;

LocalResponse json(int status, std::string body) { return LocalResponse{status, std::move(body), {}}; }

LocalResponse error(int status, std::string_view message) {
  return json(status, "{\"error\":" + json_quote(message) + "}");
}

std::string errors_array(const safer::FieldErrors& errors) {
  std::string out = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    out += (i ? "," : "") + std::string("{\"field\":") + json_quote(errors[i].field) +
           ",\"message\":" + json_quote(errors[i].message) + "}";
  }
  return out + "]";
}

LocalResponse invalid(const safer::FieldErrors& errors) {
  std::string message;
  for (const auto& e : errors) message += (message.empty() ? "" : "; ") + e.message;
  return json(400, "{\"error\":" + json_quote(message) + ",\"errors\":" + errors_array(errors) + "}");
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
  return json(status_for(e), "{\"error\":" + json_quote(e.message) + ",\"code\":" + json_quote(e.code) + "}");
}

std::string names_array(const auto& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? "," : "") + json_quote(names[i]);
  return out + "]";
}

std::string rejection_json(const std::optional<OutboxEntry>& entry) {
  if (!entry) return "null";
  return "{\"code\":" + json_quote(entry->reject_code) + ",\"message\":" + json_quote(entry->reject_message) +
         ",\"field\":" + json_quote(entry->reject_field) + "}";
}

// Splits "/api/visits/ID/count" after `prefix` ("/api/visits/") into ID and the rest.
std::pair<std::string, std::string> split_id(const std::string& path, std::string_view prefix) {
  const std::string rest = path.substr(prefix.size());
  const auto slash = rest.find('/');
  return {rest.substr(0, slash), slash == std::string::npos ? "" : rest.substr(slash)};
}

}  // namespace

LocalApi::LocalApi(Store& store, BackgroundSync& sync, std::chrono::milliseconds pin_lock, PinPolicy pin_policy)
    : store_(store), sync_(sync), pin_lock_(pin_lock), pin_guard_(store, pin_policy, [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      }) {}

bool LocalApi::locked() const {
  if (!store_.has_pin()) return false;
  if (!last_use_) return true;  // the PIN has not been given since the start
  return pin_lock_.count() > 0 && std::chrono::steady_clock::now() - *last_use_ > pin_lock_;
}

LocalResponse LocalApi::handle(const LocalRequest& request) {
  const auto& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (get && path == "/api/status") return status();  // polling is not use: it must not hold the lock off
  if (post && path == "/api/unlock") return unlock(request.body);
  if (locked()) return error(423, "the app is locked: enter the PIN");
  if (!request.background) last_use_ = std::chrono::steady_clock::now();

  if (get && path == "/api/reference") return reference();
  if (get && path == "/api/households") return households(request);
  if (post && path == "/api/households") return write(safer::Entity::household, "", request.body);
  if (get && path == "/api/visits") return visits(request);
  if (post && path == "/api/visits") return write(safer::Entity::visit, "", request.body);
  if (get && path == "/api/commute") return commute();
  if (post && path == "/api/commute") return write(safer::Entity::commute_session, "", request.body);
  if (get && path == "/api/rejected") return rejected();
  if (post && path == "/api/sync") {
    sync_.trigger(true);
    return json(202, "{\"started\":true}");
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
  const auto read_summary = store_.summary();
  if (!read_summary) return from_error(read_summary.error());
  const auto read_device = store_.device();
  if (!read_device) return from_error(read_device.error());
  const auto enrollment = store_.enrollment();
  if (!enrollment && enrollment.error().code != "not_enrolled") return from_error(enrollment.error());
  const auto& summary = *read_summary;
  const auto& device = *read_device;
  const auto state = sync_.state();
  const auto text_or_null = [](const std::optional<std::string>& text) { return text ? json_quote(*text) : std::string("null"); };
  const bool clock_warning = summary.clock_offset_ms && std::llabs(*summary.clock_offset_ms) > 5 * 60 * 1000;
  return json(200, "{\"device_id\":" + json_quote(summary.device_id) + ",\"user_id\":" + text_or_null(device.user_id) +
                       ",\"role\":" +
                       text_or_null(device.role ? std::optional(std::string(safer::to_string(*device.role))) : std::nullopt) +
                       ",\"server\":" + text_or_null(enrollment ? std::optional(enrollment->server_url) : std::nullopt) +
                       ",\"online\":" + (state.online ? (*state.online ? "true" : "false") : "null") +
                       ",\"syncing\":" + (state.syncing ? "true" : "false") +
                       ",\"pending\":" + std::to_string(summary.pending) +
                       ",\"rejected\":" + std::to_string(summary.rejected) + ",\"last_sync_at\":" +
                       text_or_null(summary.last_sync_at ? std::optional(safer::format_rfc3339(*summary.last_sync_at)) : std::nullopt) +
                       ",\"last_attempt_at\":" +
                       text_or_null(state.last_attempt_at ? std::optional(safer::format_rfc3339(*state.last_attempt_at)) : std::nullopt) +
                       ",\"last_error\":" + text_or_null(state.last_error.empty() ? std::nullopt : std::optional(state.last_error)) +
                       ",\"clock_warning\":" + (clock_warning ? "true" : "false") + ",\"clock_offset_ms\":" +
                       (summary.clock_offset_ms ? std::to_string(*summary.clock_offset_ms) : "null") +
                       ",\"locked\":" + (locked() ? "true" : "false") + ",\"pin_set\":" + (store_.has_pin() ? "true" : "false") + "}");
}

LocalResponse LocalApi::reference() {
  const auto read_lists = store_.reference_lists();
  if (!read_lists) return from_error(read_lists.error());
  const auto& lists = *read_lists;
  std::vector<std::string> statuses, outcomes, referrals, vulnerabilities, messages;
  for (auto name : safer::EnumNames<safer::VisitStatus>::names) statuses.emplace_back(name);
  for (auto name : safer::EnumNames<safer::Outcome>::names) outcomes.emplace_back(name);
  for (auto name : safer::EnumNames<safer::Referral>::names) referrals.emplace_back(name);
  for (auto name : safer::EnumNames<safer::Vulnerability>::names) vulnerabilities.emplace_back(name);
  for (auto name : safer::EnumNames<safer::CommuteMessage>::names) messages.emplace_back(name);
  return json(200, "{\"wards\":" + names_array(lists.wards) + ",\"stations\":" + names_array(lists.stations) +
                       ",\"statuses\":" + names_array(statuses) + ",\"outcomes\":" + names_array(outcomes) +
                       ",\"referrals\":" + names_array(referrals) + ",\"vulnerabilities\":" + names_array(vulnerabilities) +
                       ",\"messages\":" + names_array(messages) + "}");
}

LocalResponse LocalApi::households(const LocalRequest& request) {
  const auto found = request.query.find("q");
  const auto read_views = store_.households(found == request.query.end() ? "" : found->second, 500);
  if (!read_views) return from_error(read_views.error());
  const auto& views = *read_views;
  std::string out = "{\"households\":[";
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto& view = views[i];
    const auto& household = std::get<safer::Household>(*view.record.data);
    out += (i ? "," : "") + std::string("{\"id\":") + json_quote(view.record.id) +
           ",\"address\":" + json_quote(household.address) + ",\"postcode\":" + json_quote(household.postcode) +
           ",\"ward\":" + json_quote(household.ward) + ",\"target\":" + (household.is_target() ? "true" : "false") +
           ",\"assigned_to\":" + (household.assignee() ? json_quote(*household.assignee()) : "null") +
           ",\"vulnerability\":" + safer::json_string_array(household.vulnerability.names()) +
           ",\"mine\":" + (view.mine ? "true" : "false") + ",\"state\":" + json_quote(to_string(view.record.state)) +
           ",\"last_visit\":" +
           (view.last_visit ? "{\"id\":" + json_quote(view.last_visit->id) + ",\"visited_at\":" +
                                  json_quote(safer::format_rfc3339(view.last_visit->visited_at)) +
                                  ",\"status\":" + json_quote(safer::to_string(view.last_visit->status)) + "}"
                            : std::string("null")) +
           ",\"follow_up_outstanding\":" + (view.follow_up_outstanding ? "true" : "false") + "}";
  }
  return json(200, out + "]}");
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

// The records as the app lists them, each with its standing rejection; or the failed read.
static Result<std::string> records_with_rejections(const Store& store, const Result<std::vector<StoredRecord>>& records) {
  if (!records) return records.error();
  const auto rejections = store.outbox({OutboxState::rejected});
  if (!rejections) return rejections.error();
  std::string out = "[";
  for (std::size_t i = 0; i < records->size(); ++i) {
    const auto& record = (*records)[i];
    out += (i ? "," : "") + std::string("{\"id\":") + json_quote(record.id) + ",\"state\":" + json_quote(to_string(record.state)) +
           ",\"mine\":" + (record.created_here ? "true" : "false") +
           ",\"data\":" + (record.data ? safer::to_json(*record.data) : std::string("null")) +
           ",\"rejection\":" + rejection_json(rejection_of(*rejections, record)) + "}";
  }
  return out + "]";
}

LocalResponse LocalApi::visits(const LocalRequest& request) {
  const auto household = request.query.find("household");
  if (household == request.query.end()) return error(400, "give ?household=ID");
  const auto visits = records_with_rejections(store_, store_.visits_to(household->second));
  if (!visits) return from_error(visits.error());
  return json(200, "{\"visits\":" + *visits + "}");
}

LocalResponse LocalApi::commute() {
  auto sessions = store_.list(safer::Entity::commute_session);
  if (sessions) std::reverse(sessions->begin(), sessions->end());  // newest first (UUIDv7 ids are time-ordered)
  const auto listed = records_with_rejections(store_, sessions);
  if (!listed) return from_error(listed.error());
  return json(200, "{\"sessions\":" + *listed + "}");
}

LocalResponse LocalApi::rejected() {
  const auto rejections = store_.outbox({OutboxState::rejected});
  if (!rejections) return from_error(rejections.error());
  std::string out = "{\"rejected\":[";
  bool first = true;
  for (const auto& entry : *rejections) {
    const auto record = store_.get(entry.change.entity, entry.change.id);
    if (!record && record.error().code != "not_found") return from_error(record.error());
    // Only rejections still standing: the record has not been changed since.
    if (!record || record->state != SyncState::rejected || rejection_of(*rejections, *record)->seq != entry.seq) continue;
    out += (first ? "" : ",") + std::string("{\"seq\":") + std::to_string(entry.seq) +
           ",\"entity\":" + json_quote(safer::to_string(entry.change.entity)) + ",\"id\":" + json_quote(entry.change.id) +
           ",\"code\":" + json_quote(entry.reject_code) + ",\"message\":" + json_quote(entry.reject_message) +
           ",\"field\":" + json_quote(entry.reject_field) +
           ",\"data\":" + (record->data ? safer::to_json(*record->data) : std::string("null")) + "}";
    first = false;
  }
  return json(200, out + "]}");
}

LocalResponse LocalApi::write(safer::Entity entity, const std::string& id, const std::string& body) {
  safer::RecordData data;
  auto errors = safer::from_json(body, entity, data);
  if (errors.empty()) {
    auto checked = store_.validate(data);
    if (!checked) return from_error(checked.error());
    errors = std::move(*checked);
  }
  if (!errors.empty()) return invalid(errors);
  if (!id.empty()) {
    const auto existing = store_.get(entity, id);
    if (!existing && existing.error().code != "not_found") return from_error(existing.error());
    if (!existing || existing->deleted) return error(404, "there is no such record on this tablet");
    if (entity != safer::Entity::household && !existing->created_here) {
      return error(403, "this record was made on another device: only its author may change it");
    }
    if (auto updated = store_.update(id, std::move(data)); !updated) return from_error(updated.error());
    sync_.trigger();
    return json(200, "{\"id\":" + json_quote(id) + "}");
  }
  auto created = store_.create(std::move(data));
  if (!created) return from_error(created.error());
  sync_.trigger();
  return json(201, "{\"id\":" + json_quote(*created) + "}");
}

LocalResponse LocalApi::remove(safer::Entity entity, const std::string& id) {
  const auto existing = store_.get(entity, id);
  if (!existing && existing.error().code != "not_found") return from_error(existing.error());
  if (!existing || existing->deleted) return error(404, "there is no such record on this tablet");
  if (entity != safer::Entity::household && !existing->created_here) {
    return error(403, "this record was made on another device: only its author may delete it");
  }
  if (auto removed = store_.remove(entity, id); !removed) return from_error(removed.error());
  sync_.trigger();
  return json(200, "{\"id\":" + json_quote(id) + "}");
}

LocalResponse LocalApi::count(const std::string& id, const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());  // no recursion per level
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("delta") || !document["delta"].IsInt() ||
      std::abs(document["delta"].GetInt()) > 100) {
    return error(400, "send {\"delta\": 1} or {\"delta\": -1}");
  }
  const auto existing = store_.get(safer::Entity::commute_session, id);
  if (!existing && existing.error().code != "not_found") return from_error(existing.error());
  if (!existing || existing->deleted) return error(404, "there is no such session on this tablet");
  if (!existing->created_here) return error(403, "this session was made on another device");
  auto session = std::get<safer::CommuteSession>(*existing->data);
  session.cards_distributed = std::max<std::int64_t>(0, session.cards_distributed + document["delta"].GetInt());
  if (auto updated = store_.update(id, session); !updated) return from_error(updated.error());
  sync_.trigger();
  return json(200, "{\"id\":" + json_quote(id) + ",\"cards_distributed\":" + std::to_string(session.cards_distributed) + "}");
}

LocalResponse LocalApi::validate(safer::Entity entity, const std::string& body) {
  safer::RecordData data;
  auto errors = safer::from_json(body, entity, data);
  if (errors.empty()) {
    auto checked = store_.validate(data);
    if (!checked) return from_error(checked.error());
    errors = std::move(*checked);
  }
  return json(200, "{\"errors\":" + errors_array(errors) + "}");
}

// The answer to POST /api/unlock (docs/tablet-app.md): 200, 403 (wrong PIN or locked out),
// 429 (wait first, with Retry-After) or 503 (the count could not be saved: not unlocked).
static LocalResponse unlock_answer(const PinAnswer& answer) {
  using Verdict = PinAnswer::Verdict;
  if (answer.verdict == Verdict::failed) return from_error(answer.error);
  const long long seconds = (answer.retry_after.count() + 999) / 1000;  // rounded up
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> out(text);
  out.StartObject();
  int status = 200;
  switch (answer.verdict) {
    case Verdict::right:
      out.Key("locked");
      out.Bool(false);
      break;
    case Verdict::wrong:
      status = 403;
      out.Key("error");
      out.String("that PIN is not right");
      out.Key("attempts_left");
      out.Int(answer.attempts_left);
      out.Key("retry_after_seconds");
      out.Int64(seconds);
      break;
    case Verdict::wait:
      status = 429;
      out.Key("error");
      out.String(("too many wrong PINs: try again in " + std::to_string(seconds) + " seconds").c_str());
      out.Key("attempts_left");
      out.Int(answer.attempts_left);
      out.Key("retry_after_seconds");
      out.Int64(seconds);
      break;
    case Verdict::locked_out:
    case Verdict::failed:
      status = 403;
      out.Key("error");
      out.String("too many wrong PINs: this tablet stays locked until it is enrolled again");
      out.Key("locked_out");
      out.Bool(true);
  }
  out.EndObject();
  LocalResponse response{status, text.GetString(), {}};
  if (answer.verdict == Verdict::wait) response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

LocalResponse LocalApi::unlock(const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(body.c_str(), body.size());  // no recursion per level
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("pin") || !document["pin"].IsString()) {
    return error(400, "send {\"pin\": \"…\"}");
  }
  if (!store_.has_pin()) return error(403, "that PIN is not right");
  const auto answer = pin_guard_.attempt(document["pin"].GetString());
  if (answer.verdict == PinAnswer::Verdict::right) last_use_ = std::chrono::steady_clock::now();
  return unlock_answer(answer);
}

}  // namespace field_client::ui
