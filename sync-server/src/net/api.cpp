#include "api.h"

#include <openssl/crypto.h>

#include <map>
#include <stdexcept>
#include <tuple>

#include "assets.h"
#include "enrolment.h"
#include "household_search.h"
#include "http_routing.h"
#include "login.h"
#include "log.h"
#include "safer/bearer_token.h"
#include "safer/json_object.h"
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/stats.h"
#include "safer/url_query.h"
#include "safer/time.h"
#include "safer/validation.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"
#include "sync_server/households_csv.h"
#include "sync_server/local_time.h"
#include "sync_server/subject_access.h"

namespace sync_server::net {

using safer::JsonOut;

namespace {

constexpr const char* kCookie = "ss_session";  // the session cookie (login.cpp sets it)
constexpr std::size_t kMaxImportBytes = 10 * 1024 * 1024;
constexpr std::size_t kMaxApiBody = 64 * 1024;

ApiResponse json(int status, std::string body) { return ApiResponse{status, "application/json", std::move(body), {}, {}}; }

ApiResponse error(int status, std::string_view message) {
  return json(status, JsonOut().begin_object().field("error", message).end_object().str());
}


// Who is asking: a coordinator (by device token or dashboard session) or an error response.
struct Caller {
  std::string name;        // user id or account name, for the log and for writes
  std::string csrf_token;  // set for a dashboard session: writes must echo it
  bool by_session = false;
  std::string device_id;   // the device whose token came, when not by session
};

// The caller as the audit trail names them.
Actor actor_of(const Caller& caller, const ApiRequest& request) {
  return Actor{caller.name, caller.by_session ? "dashboard" : "device:" + caller.device_id, request.peer};
}

// Appends a read's audit entry before its answer goes: throws when it cannot (respond()
// answers 503, and nothing was shown unrecorded).
void record(ServerStore& store, const AuditEntry& entry) {
  if (auto appended = AuditLog(store).append(entry); !appended) throw std::runtime_error(appended.error().message);
}

// "from=2026-04-01 to=" for the audit trail: the range asked for ("" for an open end).
std::string range_text(const Dashboard::DateRange& range) {
  const auto text = [](const std::optional<safer::CivilDate>& date) { return date ? safer::format_iso_date(*date) : ""; };
  return "from=" + text(range.first) + " to=" + text(range.second);
}

std::variant<Caller, ApiResponse> authenticate(ServerStore& store, const ApiRequest& request) {
  if (const auto token = safer::bearer_token(request.authorization); !token.empty()) {
    const auto device = store.authenticate(token);
    if (!device) return error(401, "a valid token or a dashboard login is required");
    if (device->identity.role != safer::Role::coordinator) return error(403, "coordinators only");
    return Caller{device->identity.user_id, "", false, device->identity.device_id};
  }
  if (const auto session = store.web_session(cookie_value(request.cookie, kCookie))) {
    return Caller{session->username, session->csrf_token, true, ""};
  }
  return error(401, "a valid token or a dashboard login is required");
}

// A write made with the session cookie must carry the session's CSRF token and, if the
// browser says where it comes from, come from this site.
bool cross_site(const ApiRequest& request, const Caller& caller) {
  if (!caller.by_session) return false;
  if (!request.origin.empty() && request.origin != "http://" + request.host && request.origin != "https://" + request.host) {
    return true;
  }
  // In constant time: how long a prefix matched must not show in the time to refuse.
  return request.csrf_token.empty() || request.csrf_token.size() != caller.csrf_token.size() ||
         CRYPTO_memcmp(request.csrf_token.data(), caller.csrf_token.data(), caller.csrf_token.size()) != 0;
}

using Range = Dashboard::DateRange;

std::variant<Range, ApiResponse> date_range(const ApiRequest& request) {
  Range range;
  for (const auto& [name, date] : {std::pair{"from", &range.first}, std::pair{"to", &range.second}}) {
    const auto found = request.query.find(name);
    if (found == request.query.end()) continue;  // absent: open-ended ("from=" is malformed)
    *date = safer::parse_iso_date(found->second);
    if (!*date) return error(400, std::string(name) + " must be a date written YYYY-MM-DD");
  }
  if (range.first && range.second && *range.second < *range.first) return error(400, "from must not be after to");
  return range;
}

std::optional<std::string> query_text(const ApiRequest& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

int query_int(const ApiRequest& request, const char* name, int fallback, int low, int high) {
  const auto text = query_text(request, name);
  if (!text) return fallback;
  try {
    return std::clamp(std::stoi(*text), low, high);
  } catch (const std::exception&) {
    return fallback;
  }
}

// "/api/v1/devices/tablet-7/revoke" with prefix "/api/v1/devices/" and suffix "/revoke" → "tablet-7".
std::optional<std::string> middle(const std::string& path, std::string_view prefix, std::string_view suffix) {
  if (path.size() <= prefix.size() + suffix.size() || path.compare(0, prefix.size(), prefix) != 0 ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  auto id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (id.find('/') != std::string::npos) return std::nullopt;
  return id;
}

// A CSV export that `write(sink)` makes: staged in a BodyFile (memory stays bounded whatever
// its size), then sent from there. Throws what `write` throws, or when the disk is full.
template <class Write>
ApiResponse csv(const std::string& filename, Write&& write) {
  auto file = std::make_shared<BodyFile>();
  if (!file->ok()) return error(503, "the server cannot stage the export in its temporary directory; try again");
  write([&file](std::string_view piece) { file->append(piece); });
  ApiResponse response{200, "text/csv; charset=utf-8", "", {}, std::move(file)};
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  return response;
}

// Enrolment, re-enrolment and revocation are done by a person (a dashboard login, or the
// sync-server CLI on the host), never with a device token: whoever holds a stolen coordinator
// tablet can mint no tokens, and loses everything when that tablet is revoked.
ApiResponse people_only() {
  return error(403, "devices are enrolled and revoked, the audit trail read and subject access exports made from a "
                    "dashboard login or the sync-server command, not with a device token");
}

// The endpoints, one function each, with the request's caller and the {id} of a path such as
// /api/v1/devices/{id}/revoke ("" for a fixed path). REQUIRES: the caller is a coordinator.
using Handler = ApiResponse (*)(ServerStore&, const ApiRequest&, const Caller&, const std::string& id);

// The request's from/to range, or the refusal of a malformed one.
template <class Body>
ApiResponse with_range(const ApiRequest& request, Body&& body) {
  auto range = date_range(request);
  if (auto* refused = std::get_if<ApiResponse>(&range)) return std::move(*refused);
  return body(std::get<Range>(range));
}

ApiResponse get_session(ServerStore&, const ApiRequest&, const Caller& caller, const std::string&) {
  return json(200, JsonOut().begin_object().field("username", caller.name).field("csrf_token", caller.csrf_token).end_object().str());
}

ApiResponse delete_session(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  store.log_out(cookie_value(request.cookie, kCookie));
  record(store, AuditEntry(actor_of(caller, request), kAuditLogout));
  ApiResponse response{204, "application/json", "", {}, {}};
  response.headers.emplace_back("Set-Cookie", session_cookie("", request.secure, true));
  return response;
}

ApiResponse get_stats(ServerStore& store, const ApiRequest& request, const Caller&, const std::string&) {
  return with_range(request, [&](const Range& r) { return json(200, safer::to_json(store.stats(r.first, r.second))); });
}

ApiResponse get_overview(ServerStore& store, const ApiRequest& request, const Caller&, const std::string&) {
  return with_range(request, [&](const Range& r) { return json(200, Dashboard(store).overview_json(r)); });
}

ApiResponse get_version(ServerStore& store, const ApiRequest&, const Caller&, const std::string&) {
  return json(200, Dashboard(store).version_json());
}

ApiResponse get_activity(ServerStore& store, const ApiRequest& request, const Caller&, const std::string&) {
  return with_range(request, [&](const Range& r) { return json(200, Dashboard(store).activity_json(r)); });
}

ApiResponse get_report(ServerStore& store, const ApiRequest& request, const Caller&, const std::string&) {
  int year = financial_year_of(local_date(store.options().wall_clock()));
  if (const auto text = query_text(request, "year")) {
    if (text->size() != 4 || text->find_first_not_of("0123456789") != std::string::npos) {
      return error(400, "year must be a year such as 2026 (the financial year April 2026 to March 2027)");
    }
    year = std::stoi(*text);
  }
  return json(200, Dashboard(store).report_json(year));
}

// A list of households (with their addresses) was shown: which list, with what ward (and for
// the register its other filters), how many rows. Never the search text, which may be part of
// an address.
void record_listing(ServerStore& store, const ApiRequest& request, const Caller& caller, const char* action,
                    const char* kind, const std::string& filters, const Dashboard::Listed& listed) {
  AuditEntry entry(actor_of(caller, request), action);
  entry.kind = kind;
  entry.detail = filters + " rows=" + std::to_string(listed.rows) + " total=" + std::to_string(listed.total);
  record(store, entry);
}

std::string ward_text(const std::optional<std::string>& ward) { return "ward=" + ward.value_or(""); }

// A ward to list: absent, or one of the reference lists' wards. Anything else is refused before
// it reaches a query or the audit trail (free text there could be part of an address).
std::optional<ApiResponse> refuse_unknown_ward(ServerStore& store, const std::optional<std::string>& ward) {
  const auto& wards = store.options().lists.wards;
  if (!ward || std::find(wards.begin(), wards.end(), *ward) != wards.end()) return std::nullopt;
  return error(400, "ward must be one of the wards in the reference lists");
}

// A work list of one ward or all, audited as a view of `list` with how many it showed.
using WardList = std::string (Dashboard::*)(const std::optional<std::string>&, Dashboard::Listed*);
ApiResponse get_ward_list(ServerStore& store, const ApiRequest& request, const Caller& caller, WardList make,
                          const char* list) {
  const auto ward = query_text(request, "ward");
  if (auto refused = refuse_unknown_ward(store, ward)) return std::move(*refused);
  Dashboard::Listed listed;
  Dashboard dashboard(store);
  auto body = (dashboard.*make)(ward, &listed);
  record_listing(store, request, caller, kAuditWorklistView, list, ward_text(ward), listed);
  return json(200, std::move(body));
}

// Target households not visited since a date: by default since this financial year began (1 April).
ApiResponse get_unvisited(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  const auto ward = query_text(request, "ward");
  if (auto refused = refuse_unknown_ward(store, ward)) return std::move(*refused);
  safer::CivilDate since{financial_year_of(local_date(store.options().wall_clock())), 4, 1};
  if (const auto text = query_text(request, "since")) {
    const auto date = safer::parse_iso_date(*text);
    if (!date) return error(400, "since must be a date written YYYY-MM-DD");
    since = *date;
  }
  Dashboard::Listed listed;
  auto body = Dashboard(store).unvisited_json(ward, since, &listed);
  record_listing(store, request, caller, kAuditWorklistView, "unvisited",
                 ward_text(ward) + " since=" + safer::format_iso_date(since), listed);
  return json(200, std::move(body));
}

ApiResponse get_follow_ups(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return get_ward_list(store, request, caller, &Dashboard::follow_ups_json, "follow_ups");
}

ApiResponse get_follow_ups_due(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return get_ward_list(store, request, caller, &Dashboard::follow_ups_due_json, "follow_ups_due");
}

// One page of the register, by its filters and (for a search) by a piece of address or
// postcode, audited as a view or a search: never with the search text.
ApiResponse list_households(ServerStore& store, const ApiRequest& request, const Caller& caller, const HouseholdSearch& wanted,
                            bool searching) {
  if (auto refused = refuse_unknown_ward(store, wanted.ward)) return std::move(*refused);
  Dashboard::Listed listed;
  const auto search = searching ? std::optional(wanted.text) : std::nullopt;
  const Dashboard::HouseholdFilter filter{wanted.ward, wanted.target, wanted.unassigned, wanted.officer};
  auto body = Dashboard(store).households_json(filter, search, wanted.limit, wanted.offset, &listed);
  std::string filters = ward_text(wanted.ward);
  if (wanted.target) filters += *wanted.target ? " target=1" : " target=0";
  if (wanted.unassigned) filters += " unassigned=1";
  if (wanted.officer) filters += " officer=" + *wanted.officer;
  record_listing(store, request, caller, searching ? kAuditHouseholdsSearch : kAuditHouseholdsView, "households", filters,
                 listed);
  return json(200, std::move(body));
}

// The register without a search. A search (?q=) would put the text in the URL, where
// histories, proxies and access logs keep it: it is refused, without echoing it.
ApiResponse get_households(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  if (request.query.count("q") != 0) {
    return error(400, "a search is POST /api/v1/households/search with {\"q\": ...} in its body: search text never goes in a URL");
  }
  HouseholdSearch listing;
  listing.ward = query_text(request, "ward");
  if (const auto target = query_text(request, "target")) {
    if (*target != "1" && *target != "0") return error(400, "target must be 1 (targets only) or 0 (others only)");
    listing.target = *target == "1";
  }
  if (const auto unassigned = query_text(request, "unassigned")) {
    if (*unassigned != "1" && *unassigned != "0") return error(400, "unassigned must be 1 or 0");
    listing.unassigned = *unassigned == "1";
  }
  listing.officer = query_text(request, "officer");
  if (listing.officer && !safer::is_valid_user_id(*listing.officer)) return error(400, "officer must be a user id");
  listing.limit = query_int(request, "limit", listing.limit, 1, 1000);
  listing.offset = query_int(request, "offset", listing.offset, 0, 1 << 30);
  return list_households(store, request, caller, listing, false);
}

ApiResponse post_households_search(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  auto parsed = parse_household_search(request.body);
  if (auto* refused = std::get_if<std::string>(&parsed)) return error(400, *refused);
  return list_households(store, request, caller, std::get<HouseholdSearch>(parsed), true);
}

// A refusal from the household page's store calls: 404 for "not_found", 400 naming the field
// for "invalid", and anything else (storage) as 503.
ApiResponse refusal(const Error& refused) {
  if (refused.code == "not_found") return error(404, refused.message);
  if (refused.code != "invalid" && refused.code != safer::codes::kInvalid) throw std::runtime_error(refused.message);
  return json(400, JsonOut().begin_object().field("error", refused.message).field("field", refused.field).end_object().str());
}

// One household with its visits and assignments: audited as a view of it.
ApiResponse get_household(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& id) {
  auto body = Dashboard(store).household_json(id);
  if (!body) return refusal(body.error());
  AuditEntry entry(actor_of(caller, request), kAuditHouseholdView);
  entry.household = id;
  record(store, entry);
  return json(200, std::move(*body));
}

// Edits a household: its JSON as a push carries it (address, postcode, ward, vulnerability,
// optionally target), decoded and validated as a push's is.
ApiResponse put_household(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& id) {
  safer::Household edited;
  if (const auto errors = safer::from_json(request.body, edited); !errors.empty()) {
    return refusal(Error{"invalid", safer::join_messages(errors), errors.front().field});
  }
  auto saved = Dashboard(store).edit_household_json(id, edited, actor_of(caller, request));
  if (!saved) return refusal(saved.error());
  log::line("household_edited", "household=" + id + " by=" + caller.name);
  return json(200, std::move(*saved));
}

// Erases a household (protocol.md §5.7): the same erasure as a coordinator tablet's delete.
ApiResponse delete_household(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& id) {
  auto erased = Dashboard(store).erase_household(id, actor_of(caller, request));
  if (!erased) return refusal(erased.error());
  log::line("household_erased", "household=" + id + " visits=" + std::to_string(*erased) + " by=" + caller.name);
  return json(200, JsonOut().begin_object().field("id", id).field("erased", true).field("visits", static_cast<std::int64_t>(*erased))
                       .end_object().str());
}

ApiResponse get_devices(ServerStore& store, const ApiRequest&, const Caller&, const std::string&) {
  return json(200, Dashboard(store).devices_json());
}

ApiResponse get_rejections(ServerStore& store, const ApiRequest&, const Caller&, const std::string& device) {
  return json(200, Dashboard(store).rejections_json(device));
}

// An export's audit entry: written once the file is staged, before it is sent.
void record_export(ServerStore& store, const ApiRequest& request, const Caller& caller, const char* kind,
                   const std::string& filters, std::int64_t rows) {
  AuditEntry entry(actor_of(caller, request), kAuditExport);
  entry.kind = kind;
  entry.detail = filters + " rows=" + std::to_string(rows);
  record(store, entry);
}

ApiResponse export_visits(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return with_range(request, [&](const Range& r) {
    return csv("visits.csv", [&](const Dashboard::CsvSink& sink) {
      record_export(store, request, caller, "visits", range_text(r), Dashboard(store).visits_csv(r, sink));
    });
  });
}

ApiResponse export_households(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return csv("households.csv", [&](const Dashboard::CsvSink& sink) {
    record_export(store, request, caller, "households", "", Dashboard(store).households_csv(sink));
  });
}

ApiResponse export_commute_sessions(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return with_range(request, [&](const Range& r) {
    return csv("commute_sessions.csv", [&](const Dashboard::CsvSink& sink) {
      record_export(store, request, caller, "commute_sessions", range_text(r), Dashboard(store).commute_sessions_csv(r, sink));
    });
  });
}

// Everything held about one household (sync_server/subject_access.h), audited there.
ApiResponse subject_access(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& household,
                           SubjectAccessFormat format) {
  auto exported = SubjectAccess(store).export_household(household, format, actor_of(caller, request));
  if (!exported) {
    const auto& code = exported.error().code;
    if (code != "invalid" && code != "not_found") throw std::runtime_error(exported.error().message);  // 503
    return error(code == "invalid" ? 400 : 404, exported.error().message);
  }
  const bool csv_wanted = format == SubjectAccessFormat::csv;
  ApiResponse response{200, csv_wanted ? "text/csv; charset=utf-8" : "application/json", std::move(exported->body), {}, {}};
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"subject-access-" + household +
                                                           (csv_wanted ? ".csv" : ".json") + "\"");
  response.headers.emplace_back("Cache-Control", "no-store");
  log::line("subject_access_exported", "household=" + household + " format=" + to_string(format) + " by=" + caller.name);
  return response;
}

ApiResponse subject_access_json(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& id) {
  return subject_access(store, request, caller, id, SubjectAccessFormat::json);
}

ApiResponse subject_access_csv(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& id) {
  return subject_access(store, request, caller, id, SubjectAccessFormat::csv);
}

// The import's refusal: "nothing was imported; N problem(s):\nline L: …" (one problem a line)
// as {"error", "problems": [{"line", "message"}]}.
ApiResponse import_problems(const std::string& message, const char* summary = "nothing was imported") {
  JsonOut out;
  out.begin_object().field("error", summary).key("problems").begin_array();
  for (std::size_t at = message.find("\nline "); at != std::string::npos; at = message.find("\nline ", at + 1)) {
    const auto colon = message.find(": ", at);
    const auto end = std::min(message.find('\n', at + 1), message.size());
    out.begin_object().field("line", std::stoll(message.substr(at + 6, colon - at - 6)));
    out.field("message", message.substr(colon + 2, end - colon - 2)).end_object();
  }
  if (message.find("\nline ") == std::string::npos) out.begin_object().field("line", 0).field("message", message).end_object();
  return json(400, out.end_array().end_object().str());
}

ApiResponse post_import(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  std::vector<CsvProblem> near_duplicates;
  const auto imported = store.import_households(request.body, actor_of(caller, request), &near_duplicates);
  if (!imported) return imported.error().code == "invalid" ? import_problems(imported.error().message) : error(503, imported.error().message);
  log::line("register_imported", "rows=" + std::to_string(*imported) + " by=" + caller.name);
  JsonOut out;
  out.begin_object().field("imported", static_cast<std::int64_t>(*imported)).key("near_duplicates").begin_array();
  for (const auto& warning : near_duplicates) {
    out.begin_object().field("line", static_cast<std::int64_t>(warning.line)).field("message", warning.message).end_object();
  }
  return json(200, out.end_array().end_object().str());
}

// The historic baseline: GET as JSON, POST a CSV that replaces it (the register import's 400).
ApiResponse get_baseline(ServerStore& store, const ApiRequest&, const Caller&, const std::string&) {
  JsonOut out;
  out.begin_object().key("years").begin_array();
  for (const auto& row : Dashboard(store).baseline()) {
    out.begin_object().field("year", static_cast<std::int64_t>(row.year)).field("households_visited", row.households_visited);
    out.field("visits", row.visits).field("smoke_detectors_fitted", row.smoke_detectors_fitted);
    out.field("cards_distributed", row.cards_distributed).end_object();
  }
  return json(200, out.end_array().end_object().str());
}

ApiResponse post_baseline(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  const auto loaded = Dashboard(store).load_baseline(request.body, actor_of(caller, request));
  if (!loaded) {
    return loaded.error().code == "invalid" ? import_problems(loaded.error().message, "nothing was loaded")
                                            : error(503, loaded.error().message);
  }
  log::line("baseline_loaded", "years=" + std::to_string(*loaded) + " by=" + caller.name);
  return json(200, JsonOut().begin_object().field("years", static_cast<std::int64_t>(*loaded)).end_object().str());
}

ApiResponse post_assignment(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& household) {
  const auto body = safer::JsonObject::parse(request.body);
  if (!body || !(body->is_string("assigned_to") || body->is_null("assigned_to"))) {
    return error(400, "send {\"assigned_to\": \"user id\"} or {\"assigned_to\": null}");
  }
  auto assigned = Dashboard(store).assign_json(household, body->string("assigned_to"), actor_of(caller, request));
  if (!assigned) return error(assigned.error().code == "not_found" ? 404 : 400, assigned.error().message);
  log::line("household_assigned", "household=" + household + " by=" + caller.name);
  return json(200, *assigned);
}

// {"ids": [...], "assigned_to": "user id" or null}: every one assigned, or none.
ApiResponse post_bulk_assignment(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  const auto body = safer::JsonObject::parse(request.body);
  if (!body || !body->strings("ids") || !(body->is_string("assigned_to") || body->is_null("assigned_to"))) {
    return error(400, "send {\"ids\": [\"household id\", ...], \"assigned_to\": \"user id\"} or \"assigned_to\": null");
  }
  const auto ids = *body->strings("ids");
  auto assigned = Dashboard(store).assign_many_json(ids, body->string("assigned_to"), actor_of(caller, request));
  if (!assigned) return refusal(assigned.error());
  log::line("households_assigned", "households=" + std::to_string(ids.size()) + " by=" + caller.name);
  return json(200, std::move(*assigned));
}

ApiResponse get_officers(ServerStore& store, const ApiRequest&, const Caller&, const std::string&) {
  return json(200, Dashboard(store).officers_json());
}

ApiResponse post_officer(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  const auto body = safer::JsonObject::parse(request.body);
  if (!body || !body->is_string("user_id")) return error(400, "send {\"user_id\": \"user id\"}");
  const auto user = *body->string("user_id");
  if (auto added = Dashboard(store).add_officer(user, actor_of(caller, request)); !added) return refusal(added.error());
  return json(200, Dashboard(store).officers_json());
}

// The {user id} as a browser sends it ('@' as %40), decoded.
ApiResponse delete_officer(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& escaped) {
  const auto user = safer::parse_query("user=" + escaped)["user"];
  if (auto removed = Dashboard(store).remove_officer(user, actor_of(caller, request)); !removed) return refusal(removed.error());
  return json(200, Dashboard(store).officers_json());
}

ApiResponse post_device(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  const auto body = safer::JsonObject::parse(request.body);
  if (!body) return error(400, "send {\"device_id\", \"user_id\", \"role\"}");
  const auto text = [&body](const char* name) { return body->string(name).value_or(""); };
  const auto role = safer::enum_from_string<safer::Role>(text("role"));
  if (!role) return error(400, "role must be officer, pcso or coordinator");
  auto token = store.enroll(text("device_id"), text("user_id"), *role, actor_of(caller, request));
  if (!token) return error(400, token.error().message);
  log::line("device_enrolled", "device=" + text("device_id") + " by=" + caller.name);
  return json(201, JsonOut().begin_object().field("device_id", text("device_id")).field("token", *token).end_object().str());
}

ApiResponse post_enrolment_code(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return issue_enrolment_code(store, request, actor_of(caller, request));
}

ApiResponse revoke_device(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& device,
                          ServerStore::Wipe wipe) {
  if (auto revoked = store.revoke(device, wipe, actor_of(caller, request)); !revoked) return error(404, revoked.error().message);
  const bool wiped = wipe == ServerStore::Wipe::yes;
  log::line(wiped ? "device_wipe_ordered" : "device_revoked", "device=" + device + " by=" + caller.name);
  JsonOut body;
  body.begin_object().field("device_id", device).field("revoked", true);
  if (wiped) body.field("wipe", true);
  return json(200, body.end_object().str());
}

ApiResponse post_revoke(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& device) {
  return revoke_device(store, request, caller, device, ServerStore::Wipe::no);
}

// Revokes the device and orders it wiped: its next connection gets 410 (protocol.md §1.2).
ApiResponse post_wipe(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& device) {
  return revoke_device(store, request, caller, device, ServerStore::Wipe::yes);
}

// "Referrals to pass on" (docs/api.md): the filter from the query — partner (required), from,
// to, state (unsent, sent or all; unsent by default), include_not_recorded (true or false,
// `include_by_default` when absent), limit and offset — or the refusal of a malformed one.
// Nothing typed is echoed: a partner is checked against the partners' names first.
std::variant<Dashboard::ReferralFilter, ApiResponse> referral_filter(ServerStore& store, const ApiRequest& request,
                                                                    bool include_by_default) {
  Dashboard::ReferralFilter filter;
  const auto partner = query_text(request, "partner");
  if (!partner || !Dashboard(store).is_partner(*partner)) {
    return error(400, "partner must be one of " + Dashboard(store).partner_names());
  }
  filter.partner = *partner;
  auto range = date_range(request);
  if (auto* refused = std::get_if<ApiResponse>(&range)) return std::move(*refused);
  filter.range = std::get<Range>(range);
  const auto state = query_text(request, "state").value_or("unsent");
  if (state == "unsent") {
    filter.state = Dashboard::ReferralState::unsent;
  } else if (state == "sent") {
    filter.state = Dashboard::ReferralState::sent;
  } else if (state == "all") {
    filter.state = Dashboard::ReferralState::all;
  } else {
    return error(400, "state must be unsent, sent or all");
  }
  const auto include = query_text(request, "include_not_recorded");
  if (include && *include != "true" && *include != "false") return error(400, "include_not_recorded must be true or false");
  filter.include_not_recorded = include ? *include == "true" : include_by_default;
  filter.limit = query_int(request, "limit", filter.limit, 1, Dashboard::kMaxReferralPage);
  filter.offset = query_int(request, "offset", filter.offset, 0, 1 << 30);
  return filter;
}

// "partner=… from=… to=… state=… not_recorded=included": what a referral list or CSV selected.
std::string referral_filter_text(const Dashboard::ReferralFilter& filter) {
  const char* states[] = {"unsent", "sent", "all"};
  return "partner=" + filter.partner + " " + range_text(filter.range) + " state=" +
         states[static_cast<int>(filter.state)] + " not_recorded=" + (filter.include_not_recorded ? "included" : "left_out");
}

template <class Body>
ApiResponse with_referral_filter(ServerStore& store, const ApiRequest& request, bool include_by_default, Body&& body) {
  auto filter = referral_filter(store, request, include_by_default);
  if (auto* refused = std::get_if<ApiResponse>(&filter)) return std::move(*refused);
  return body(std::get<Dashboard::ReferralFilter>(filter));
}

// The work list lists not-recorded referrals by default, flagged; the partner's CSV leaves them
// out unless asked (docs/data-protection.md §5).
ApiResponse get_referrals(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return with_referral_filter(store, request, true, [&](const Dashboard::ReferralFilter& filter) {
    Dashboard::Listed listed;
    auto body = Dashboard(store).referrals_json(filter, &listed);
    AuditEntry entry(actor_of(caller, request), kAuditWorklistView);
    entry.kind = "referrals";
    entry.detail = referral_filter_text(filter) + " rows=" + std::to_string(listed.rows) + " total=" + std::to_string(listed.total);
    record(store, entry);
    return json(200, std::move(body));
  });
}

ApiResponse export_referrals(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  return with_referral_filter(store, request, false, [&](const Dashboard::ReferralFilter& filter) {
    return csv("referrals-" + filter.partner + ".csv", [&](const Dashboard::CsvSink& sink) {
      record_export(store, request, caller, "referrals", referral_filter_text(filter), Dashboard(store).referrals_csv(filter, sink));
    });
  });
}

// {"partner", "visit_ids": [...]} marks those visits' referrals to the partner as sent; {"partner",
// "all": true, "from", "to", "include_not_recorded"} every unsent one in the range.
ApiResponse post_referrals_sent(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  const auto body = safer::JsonObject::parse(request.body);
  static constexpr std::string_view kShape =
      R"(send {"partner", "visit_ids": ["…"]} or {"partner", "all": true, "from", "to", "include_not_recorded"})";
  if (!body) return error(400, kShape);
  Dashboard::ReferralFilter filter;
  filter.partner = body->string("partner").value_or("");
  if (!Dashboard(store).is_partner(filter.partner)) {
    return error(400, "partner must be one of " + Dashboard(store).partner_names());
  }
  std::optional<std::vector<std::string>> visit_ids;
  if (body->has("visit_ids")) {
    visit_ids = body->strings("visit_ids");
    if (!visit_ids || visit_ids->empty()) return error(400, "visit_ids must be a non-empty array of visit ids");
  } else if (body->boolean("all") != true) {
    return error(400, kShape);
  }
  for (const auto& [name, date] : {std::pair{"from", &filter.range.first}, std::pair{"to", &filter.range.second}}) {
    if (!body->has(name) || body->is_null(name)) continue;
    const auto text = body->string(name);
    *date = text ? safer::parse_iso_date(*text) : std::nullopt;
    if (!*date) return error(400, std::string(name) + " must be a date written YYYY-MM-DD, or null");
  }
  filter.include_not_recorded = body->boolean("include_not_recorded").value_or(false);
  const auto marked = Dashboard(store).mark_referrals_sent(filter, visit_ids, actor_of(caller, request));
  if (!marked) {
    if (marked.error().code != "invalid") throw std::runtime_error(marked.error().message);  // 503
    return error(400, marked.error().message);
  }
  log::line("referrals_sent", "partner=" + filter.partner + " marked=" + std::to_string(*marked) + " by=" + caller.name);
  return json(200, JsonOut().begin_object().field("partner", filter.partner).field("marked", *marked).end_object().str());
}

// The audit trail's filters from the query (docs/api.md): person, action, from, to, before, limit.
std::variant<AuditFilter, ApiResponse> audit_filter(const ApiRequest& request) {
  AuditFilter filter;
  auto range = date_range(request);
  if (auto* refused = std::get_if<ApiResponse>(&range)) return std::move(*refused);
  std::tie(filter.from, filter.to) = std::get<Range>(range);
  filter.person = query_text(request, "person");
  filter.action = query_text(request, "action");
  for (const auto* text : {&filter.person, &filter.action}) {
    if (*text && text->value().size() > 100) return error(400, "person and action must be at most 100 characters");
  }
  if (const auto before = query_text(request, "before")) {
    if (before->size() > 18 || before->find_first_not_of("0123456789") != std::string::npos) {
      return error(400, "before must be an entry's seq, a whole number");
    }
    filter.before_seq = std::stoll(*before);
  }
  filter.limit = query_int(request, "limit", 100, 1, kMaxAuditPage);
  return filter;
}

// "person=… action=… from=… to=…": what an audit listing or export selected, for its own entry.
// Text typed into a filter is kept only when it is a well-formed id (it could be anything else,
// a resident's name included): otherwise "(other)".
std::string filter_text(const AuditFilter& filter) {
  const auto id = [](const std::optional<std::string>& text) {
    return !text ? std::string() : safer::is_valid_user_id(*text) ? *text : std::string("(other)");
  };
  return "person=" + id(filter.person) + " action=" + id(filter.action) + " " + range_text({filter.from, filter.to});
}

ApiResponse get_audit(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  auto parsed = audit_filter(request);
  if (auto* refused = std::get_if<ApiResponse>(&parsed)) return std::move(*refused);
  const auto& filter = std::get<AuditFilter>(parsed);
  const auto records = AuditLog(store).list(filter);
  if (!records) return error(503, records.error().message);
  AuditEntry entry(actor_of(caller, request), kAuditAuditView);
  entry.kind = "audit";
  entry.detail = filter_text(filter) + " rows=" + std::to_string(records->size());
  record(store, entry);
  return json(200, audit_json(*records, filter.limit));
}

ApiResponse export_audit(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  auto parsed = audit_filter(request);
  if (auto* refused = std::get_if<ApiResponse>(&parsed)) return std::move(*refused);
  const auto& filter = std::get<AuditFilter>(parsed);
  return csv("audit.csv", [&](const Dashboard::CsvSink& sink) {
    record_export(store, request, caller, "audit", filter_text(filter), AuditLog(store).csv(filter, sink));
  });
}

// --- Accounts (ServerStore's account management; docs/api.md) --------------------------------

ApiResponse account_refusal(const Error& refused) {
  static const std::map<std::string, int, std::less<>> kStatus = {
      {"invalid", 400}, {"forbidden", 403}, {"wrong_password", 403}, {"not_found", 404}, {"exists", 409}, {"locked", 429}};
  const auto found = kStatus.find(refused.code);
  if (found == kStatus.end()) throw std::runtime_error(refused.message);  // 503
  return json(found->second, JsonOut().begin_object().field("error", refused.message).field("field", refused.field).end_object().str());
}

ApiResponse account_done(const Status& done, int status, const std::string& username, const char* event, const Caller& caller) {
  if (!done) return account_refusal(done.error());
  log::line(event, "account=" + username + " by=" + caller.name);
  return json(status, JsonOut().begin_object().field("username", username).end_object().str());
}

ApiResponse get_accounts(ServerStore& store, const ApiRequest&, const Caller& caller, const std::string&) {
  JsonOut out;
  out.begin_object().key("accounts").begin_array();
  for (const auto& account : store.accounts()) {
    out.begin_object().field("username", account.username).field("created_at", safer::format_rfc3339(account.created_at));
    out.field("enabled", !account.disabled_at.has_value());
    out.field("disabled_at", account.disabled_at ? std::optional(safer::format_rfc3339(*account.disabled_at)) : std::nullopt);
    out.field("sessions", account.sessions).field("you", account.username == caller.name).end_object();
  }
  return json(200, out.end_array().end_object().str());
}

// The string fields `names` of a JSON object body, or the 400 that names what is missing.
std::variant<std::vector<std::string>, ApiResponse> string_fields(const std::string& body_text,
                                                                  std::initializer_list<const char*> names) {
  const auto body = safer::JsonObject::parse(body_text);
  std::vector<std::string> values;
  for (const char* name : names) {
    if (!body || !body->is_string(name)) return error(400, std::string("send a JSON object with the string \"") + name + "\"");
    values.push_back(*body->string(name));
  }
  return values;
}

ApiResponse post_account(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  auto fields = string_fields(request.body, {"username", "password"});
  if (auto* refused = std::get_if<ApiResponse>(&fields)) return std::move(*refused);
  const auto& values = std::get<std::vector<std::string>>(fields);
  return account_done(store.create_account(values[0], values[1], actor_of(caller, request)), 201, values[0],
                      "account_added", caller);
}

ApiResponse post_account_disable(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& name) {
  return account_done(store.set_account_enabled(name, false, actor_of(caller, request)), 200, name, "account_disabled", caller);
}

ApiResponse post_account_enable(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& name) {
  return account_done(store.set_account_enabled(name, true, actor_of(caller, request)), 200, name, "account_enabled", caller);
}

ApiResponse post_account_password(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string& name) {
  auto fields = string_fields(request.body, {"password"});
  if (auto* refused = std::get_if<ApiResponse>(&fields)) return std::move(*refused);
  const auto& password = std::get<std::vector<std::string>>(fields)[0];
  return account_done(store.reset_password(name, password, actor_of(caller, request)), 200, name, "password_reset", caller);
}

ApiResponse post_own_password(ServerStore& store, const ApiRequest& request, const Caller& caller, const std::string&) {
  auto fields = string_fields(request.body, {"current_password", "new_password"});
  if (auto* refused = std::get_if<ApiResponse>(&fields)) return std::move(*refused);
  const auto& values = std::get<std::vector<std::string>>(fields);
  return account_done(store.change_own_password(values[0], values[1], cookie_value(request.cookie, kCookie), actor_of(caller, request)),
                      200, caller.name, "password_changed", caller);
}

// Who may call an endpoint, beyond being a coordinator.
enum class Access {
  read,         // a device token or a dashboard session
  write,        // the same; with a session, the CSRF token and a same-site Origin too (every POST,
                //   the household search included)
  people,       // a dashboard session only (with CSRF), never a device token (people_only())
  people_read,  // a dashboard session only, for reading (no CSRF token: plain links work)
};

struct Route {
  std::string_view method;  // "GET" also answers HEAD
  std::string_view path;    // the whole path; or, ending in '/' or with `suffix`, what comes before the {id}
  std::string_view suffix;  // after the {id}; "" for a fixed path or one ending in the {id}
  Access access;
  Handler handle;
};

// Every endpoint of the coordinator API but the login (POST /api/v1/session: login.cpp).
// docs/server.md lists them for coordinators.
constexpr Route kRoutes[] = {
    {"GET", "/api/v1/session", "", Access::read, get_session},
    {"DELETE", "/api/v1/session", "", Access::write, delete_session},
    {"GET", "/api/v1/stats", "", Access::read, get_stats},
    {"GET", "/api/v1/overview", "", Access::read, get_overview},
    {"GET", "/api/v1/version", "", Access::read, get_version},
    {"GET", "/api/v1/activity", "", Access::read, get_activity},
    {"GET", "/api/v1/report", "", Access::read, get_report},
    {"GET", "/api/v1/worklists/unvisited", "", Access::read, get_unvisited},
    {"GET", "/api/v1/worklists/follow-ups", "", Access::read, get_follow_ups},
    {"GET", "/api/v1/worklists/follow-ups-due", "", Access::read, get_follow_ups_due},
    {"GET", "/api/v1/households", "", Access::read, get_households},
    {"GET", "/api/v1/households/", "", Access::read, get_household},
    {"PUT", "/api/v1/households/", "", Access::write, put_household},
    {"DELETE", "/api/v1/households/", "", Access::write, delete_household},
    {"POST", "/api/v1/households/assignment", "", Access::write, post_bulk_assignment},
    {"GET", "/api/v1/officers", "", Access::read, get_officers},
    {"POST", "/api/v1/officers", "", Access::write, post_officer},
    {"DELETE", "/api/v1/officers/", "", Access::write, delete_officer},
    {"GET", "/api/v1/exports/households.csv", "", Access::read, export_households},
    {"GET", "/api/v1/devices", "", Access::read, get_devices},
    {"GET", "/api/v1/exports/visits.csv", "", Access::read, export_visits},
    {"GET", "/api/v1/exports/commute_sessions.csv", "", Access::read, export_commute_sessions},
    {"GET", "/api/v1/exports/referrals.csv", "", Access::read, export_referrals},
    {"GET", "/api/v1/referrals", "", Access::read, get_referrals},
    {"POST", "/api/v1/referrals/sent", "", Access::write, post_referrals_sent},
    {"GET", "/api/v1/devices/", "/rejections", Access::read, get_rejections},
    {"POST", "/api/v1/households/import", "", Access::write, post_import},
    {"GET", "/api/v1/baseline", "", Access::read, get_baseline},
    {"POST", "/api/v1/baseline", "", Access::write, post_baseline},
    {"POST", "/api/v1/households/search", "", Access::write, post_households_search},
    {"POST", "/api/v1/households/", "/assignment", Access::write, post_assignment},
    {"POST", "/api/v1/devices", "", Access::people, post_device},
    {"POST", "/api/v1/enrolment-codes", "", Access::people, post_enrolment_code},
    {"POST", "/api/v1/devices/", "/revoke", Access::people, post_revoke},
    {"GET", "/api/v1/audit", "", Access::people_read, get_audit},
    {"GET", "/api/v1/audit.csv", "", Access::people_read, export_audit},
    {"POST", "/api/v1/devices/", "/wipe", Access::people, post_wipe},
    {"GET", "/api/v1/households/", "/subject-access.json", Access::people_read, subject_access_json},
    {"GET", "/api/v1/households/", "/subject-access.csv", Access::people_read, subject_access_csv},
    {"GET", "/api/v1/accounts", "", Access::people_read, get_accounts},
    {"POST", "/api/v1/accounts", "", Access::people, post_account},
    {"POST", "/api/v1/accounts/", "/disable", Access::people, post_account_disable},
    {"POST", "/api/v1/accounts/", "/enable", Access::people, post_account_enable},
    {"POST", "/api/v1/accounts/", "/password", Access::people, post_account_password},
    {"POST", "/api/v1/session/password", "", Access::people, post_own_password},
};

// Whether a request sets or checks a password (scrypt, half a second and 128 MiB each): those
// run on the login pool, never on the reader pool that serves devices.
bool hashes_passwords(const ApiRequest& request) {
  return request.method == "POST" && (request.path.rfind("/api/v1/accounts", 0) == 0 || request.path == "/api/v1/session/password");
}

bool ends_in_id(const Route& route) { return route.suffix.empty() && route.path.back() == '/'; }

// Whether some route has exactly `path` as its fixed path ("/api/v1/households/search").
bool fixed_path(const std::string& path) {
  return std::any_of(std::begin(kRoutes), std::end(kRoutes),
                     [&path](const Route& route) { return !ends_in_id(route) && route.suffix.empty() && route.path == path; });
}

// Whether `route` serves `path`; its {id} into `id`. A fixed path is never taken for an {id}.
bool matches(const Route& route, const std::string& path, std::string& id) {
  if (route.suffix.empty() && !ends_in_id(route)) return path == route.path;
  if (ends_in_id(route) && fixed_path(path)) return false;
  auto middle_part = middle(path, route.path, route.suffix);
  if (!middle_part) return false;
  id = std::move(*middle_part);
  return true;
}

// Everything after authentication. REQUIRES: the caller is a coordinator.
ApiResponse route(ServerStore& store, const ApiRequest& request, const Caller& caller) {
  const std::string_view method = request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  std::string allowed;  // the methods of the routes whose path matched, for 405's Allow
  for (const auto& candidate : kRoutes) {
    std::string id;
    if (!matches(candidate, request.path, id)) continue;
    if (candidate.method != method) {
      allowed += (allowed.empty() ? "" : ", ") + std::string(candidate.method);
      continue;
    }
    const bool people = candidate.access == Access::people || candidate.access == Access::people_read;
    if (people && !caller.by_session) return people_only();
    const bool reads = candidate.access == Access::read || candidate.access == Access::people_read;
    if (!reads && cross_site(request, caller)) return error(403, "csrf");
    return candidate.handle(store, request, caller, id);
  }
  if (allowed.empty()) return error(404, "no such endpoint");
  auto refused = error(405, "method not allowed");
  refused.headers.emplace_back("Allow", allowed);
  return refused;
}

}  // namespace

bool is_api_path(const std::string& path) { return path.rfind("/api/", 0) == 0; }

std::optional<ApiResponse> static_file(const std::string& path) {
  if (path == "/" || path == "/dashboard") {
    ApiResponse response{302, "text/plain", "", {}, {}};
    response.headers.emplace_back("Location", "/dashboard/");
    return response;
  }
  const std::string wanted = path == "/dashboard/" ? "/dashboard/index.html" : path;
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (kAssets[i].path != wanted) continue;
    ApiResponse response{200, std::string(kAssets[i].content_type), std::string(kAssets[i].body), {}, {}};
    response.headers.emplace_back("Cache-Control", "no-cache");
    return response;
  }
  return std::nullopt;
}

std::size_t max_body_bytes(const std::string& method, const std::string& path) {
  if (method != "POST") return kMaxApiBody;
  if (path == "/api/v1/households/import") return kMaxImportBytes;
  if (path == "/api/v1/households/search") return kMaxHouseholdSearchBytes;
  return kMaxApiBody;
}

ApiResponse respond(ServerStore& store, const ApiRequest& request) {
  try {
    auto caller = authenticate(store, request);
    if (auto* refused = std::get_if<ApiResponse>(&caller)) return std::move(*refused);
    return route(store, request, std::get<Caller>(caller));
  } catch (const std::exception&) {
    return error(503, "the server cannot read or write its database just now; try again");
  }
}

std::optional<ApiResponse> refuse_caller(ServerStore& store, const ApiRequest& request) {
  try {
    auto caller = authenticate(store, request);
    if (auto* refused = std::get_if<ApiResponse>(&caller)) return std::move(*refused);
    return std::nullopt;
  } catch (const std::exception&) {
    return error(503, "the server cannot read its database just now; try again");
  }
}

void handle_api(Context& context, ApiRequest request, std::function<void(ApiResponse)> done) {
  if (request.path == "/api/v1/session" && request.method == "POST") return handle_login(context, request, std::move(done));
  if (request.path == "/api/v1/enrolment") return handle_enrolment(context, request, std::move(done));
  request.public_url = context.config.public_url;
  if (hashes_passwords(request)) {
    auto shared_done = std::make_shared<std::function<void(ApiResponse)>>(std::move(done));
    const bool queued = context.logins->try_post(
        [request, shared_done](ServerStore& store) { (*shared_done)(respond(store, request)); }, true);
    if (!queued) (*shared_done)(error(503, "the server is busy checking passwords: try again in a moment"));
    return;
  }
  context.readers->post([request = std::move(request), done = std::move(done)](ServerStore& store) {
    done(respond(store, request));
  });
}

}  // namespace sync_server::net
