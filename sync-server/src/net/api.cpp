#include "api.h"

#include <openssl/crypto.h>
#include <rapidjson/document.h>

#include "../json_out.h"
#include "assets.h"
#include "login.h"
#include "../log.h"
#include "safer/stats.h"
#include "safer/validation.h"
#include "sync_server/local_time.h"

namespace sync_server::net {

namespace {

constexpr const char* kCookie = "ss_session";  // the session cookie (login.cpp sets it)
constexpr std::size_t kMaxImportBytes = 10 * 1024 * 1024;
constexpr std::size_t kMaxApiBody = 64 * 1024;

ApiResponse json(int status, std::string body) { return ApiResponse{status, "application/json", std::move(body), {}, {}}; }

ApiResponse error(int status, std::string_view message) {
  return json(status, JsonOut().begin_object().field("error", message).end_object().str());
}

std::string bearer_token(const std::string& header) {
  if (header.size() <= 7) return {};
  std::string scheme = header.substr(0, 7);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer " ? header.substr(7) : std::string();
}

// Who is asking: a coordinator (by device token or dashboard session) or an error response.
struct Caller {
  std::string name;        // user id or account name, for the log and for writes
  std::string csrf_token;  // set for a dashboard session: writes must echo it
  bool by_session = false;
};

std::variant<Caller, ApiResponse> authenticate(ServerStore& store, const ApiRequest& request) {
  if (const auto token = bearer_token(request.authorization); !token.empty()) {
    const auto device = store.authenticate(token);
    if (!device) return error(401, "a valid token or a dashboard login is required");
    if (device->identity.role != safer::Role::coordinator) return error(403, "coordinators only");
    return Caller{device->identity.user_id, "", false};
  }
  if (const auto session = store.web_session(cookie_value(request.cookie, kCookie))) {
    return Caller{session->username, session->csrf_token, true};
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

using Range = ServerStore::DateRange;

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
  return error(403, "devices are enrolled and revoked from a dashboard login or the sync-server command, "
                    "not with a device token");
}

// Everything after authentication. REQUIRES: the caller is a coordinator.
ApiResponse route(ServerStore& store, const ApiRequest& request, const Caller& caller) {
  const auto& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (post || request.method == "DELETE") {
    if (cross_site(request, caller)) return error(403, "csrf");
  }
  const auto ranged = [&](auto&& body) -> ApiResponse {
    auto range = date_range(request);
    if (auto* refused = std::get_if<ApiResponse>(&range)) return *refused;
    return body(std::get<Range>(range));
  };

  if (path == "/api/v1/session") {
    if (get) return json(200, JsonOut().begin_object().field("username", caller.name).field("csrf_token", caller.csrf_token).end_object().str());
    if (request.method == "DELETE") {
      store.log_out(cookie_value(request.cookie, kCookie));
      ApiResponse response{204, "application/json", "", {}, {}};
      response.headers.emplace_back("Set-Cookie", session_cookie("", request.secure, true));
      return response;
    }
  }
  if (get && path == "/api/v1/stats") return ranged([&](const Range& r) { return json(200, safer::to_json(store.stats(r.first, r.second))); });
  if (get && path == "/api/v1/overview") return ranged([&](const Range& r) { return json(200, store.overview_json(r)); });
  if (get && path == "/api/v1/version") return json(200, store.version_json());
  if (get && path == "/api/v1/activity") return ranged([&](const Range& r) { return json(200, store.activity_json(r)); });
  if (get && path == "/api/v1/report") {
    int year = local_date(store.options().wall_clock()).year;
    if (const auto text = query_text(request, "year")) {
      if (text->size() != 4 || text->find_first_not_of("0123456789") != std::string::npos) {
        return error(400, "year must be a year such as 2026 (the financial year April 2026 to March 2027)");
      }
      year = std::stoi(*text);
    }
    return json(200, store.report_json(year));
  }
  if (get && path == "/api/v1/worklists/unvisited") return json(200, store.unvisited_json(query_text(request, "ward")));
  if (get && path == "/api/v1/worklists/follow-ups") return json(200, store.follow_ups_json(query_text(request, "ward")));
  if (get && path == "/api/v1/households") {
    return json(200, store.households_json(query_text(request, "ward"), query_text(request, "q"),
                                           query_int(request, "limit", 100, 1, 1000), query_int(request, "offset", 0, 0, 1 << 30)));
  }
  if (get && path == "/api/v1/devices") return json(200, store.devices_json());
  if (get && path == "/api/v1/exports/visits.csv") {
    return ranged([&](const Range& r) {
      return csv("visits.csv", [&](const ServerStore::CsvSink& sink) { store.visits_csv(r, sink); });
    });
  }
  if (get && path == "/api/v1/exports/commute_sessions.csv") {
    return ranged([&](const Range& r) {
      return csv("commute_sessions.csv", [&](const ServerStore::CsvSink& sink) { store.commute_sessions_csv(r, sink); });
    });
  }
  if (get) {
    if (const auto device = middle(path, "/api/v1/devices/", "/rejections")) return json(200, store.rejections_json(*device));
  }
  if (post && path == "/api/v1/households/import") {
    const auto imported = store.import_households(request.body);
    if (imported) {
      log::line("register_imported", "rows=" + std::to_string(*imported) + " by=" + caller.name);
      return json(200, JsonOut().begin_object().field("imported", static_cast<std::int64_t>(*imported)).end_object().str());
    }
    if (imported.error().code != "invalid") return error(503, imported.error().message);
    // The message is "nothing was imported; N problem(s):\nline L: …" — one problem a line.
    JsonOut out;
    out.begin_object().field("error", "nothing was imported").key("problems").begin_array();
    const std::string& message = imported.error().message;
    for (std::size_t at = message.find("\nline "); at != std::string::npos; at = message.find("\nline ", at + 1)) {
      const auto colon = message.find(": ", at);
      const auto end = std::min(message.find('\n', at + 1), message.size());
      out.begin_object().field("line", std::stoll(message.substr(at + 6, colon - at - 6)));
      out.field("message", message.substr(colon + 2, end - colon - 2)).end_object();
    }
    if (message.find("\nline ") == std::string::npos) out.begin_object().field("line", 0).field("message", message).end_object();
    return json(400, out.end_array().end_object().str());
  }
  if (post) {
    if (const auto household = middle(path, "/api/v1/households/", "/assignment")) {
      rapidjson::Document body;
      body.Parse<rapidjson::kParseIterativeFlag>(request.body.c_str(), request.body.size());  // no recursion per level
      if (body.HasParseError() || !body.IsObject() || !body.HasMember("assigned_to") ||
          !(body["assigned_to"].IsString() || body["assigned_to"].IsNull())) {
        return error(400, "send {\"assigned_to\": \"user id\"} or {\"assigned_to\": null}");
      }
      const auto assignee = body["assigned_to"].IsNull() ? std::nullopt : std::optional<std::string>(body["assigned_to"].GetString());
      auto assigned = store.assign_json(*household, assignee, caller.name);
      if (!assigned) return error(assigned.error().code == "not_found" ? 404 : 400, assigned.error().message);
      log::line("household_assigned", "household=" + *household + " by=" + caller.name);
      return json(200, *assigned);
    }
    if (path == "/api/v1/devices") {
      if (!caller.by_session) return people_only();
      rapidjson::Document body;
      body.Parse<rapidjson::kParseIterativeFlag>(request.body.c_str(), request.body.size());  // no recursion per level
      const auto text = [&body](const char* name) {
        return body.IsObject() && body.HasMember(name) && body[name].IsString() ? std::string(body[name].GetString()) : std::string();
      };
      if (body.HasParseError()) return error(400, "send {\"device_id\", \"user_id\", \"role\"}");
      const auto role = safer::enum_from_string<safer::Role>(text("role"));
      if (!role) return error(400, "role must be officer, pcso or coordinator");
      auto token = store.enroll(text("device_id"), text("user_id"), *role);
      if (!token) return error(400, token.error().message);
      log::line("device_enrolled", "device=" + text("device_id") + " by=" + caller.name);
      return json(201, JsonOut().begin_object().field("device_id", text("device_id")).field("token", *token).end_object().str());
    }
    if (const auto device = middle(path, "/api/v1/devices/", "/revoke")) {
      if (!caller.by_session) return people_only();
      if (auto revoked = store.revoke(*device); !revoked) return error(404, revoked.error().message);
      log::line("device_revoked", "device=" + *device + " by=" + caller.name);
      return json(200, JsonOut().begin_object().field("device_id", *device).field("revoked", true).end_object().str());
    }
  }
  return error(get || post ? 404 : 405, get || post ? "no such endpoint" : "method not allowed");
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
  return method == "POST" && path == "/api/v1/households/import" ? kMaxImportBytes : kMaxApiBody;
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
  context.readers->post([request = std::move(request), done = std::move(done)](ServerStore& store) {
    done(respond(store, request));
  });
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  const auto decode = [](std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out.push_back(' ');
      } else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    }
    return out;
  };
  std::map<std::string, std::string> pairs;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    pairs[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return pairs;
}

}  // namespace sync_server::net
