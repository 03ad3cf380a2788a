// The coordinator JSON API (docs/api.md) and the dashboard's static files, behind plain
// request/response structs so that Beast stays in http_session.cpp.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "body_file.h"
#include "context.h"

namespace sync_server::net {

struct ApiRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query
  std::map<std::string, std::string> query;  // decoded
  std::string authorization, cookie, csrf_token, origin, host, content_type;
  std::string body;
  bool secure = false;  // arrived over TLS
  std::string peer;     // for the log
  std::string public_url;  // ServerConfig::public_url (enrolment codes carry it)
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set instead of `body` for a body too large for memory (the CSV exports): the HTTP session
  // sends the file's whole content.
  std::shared_ptr<BodyFile> file;
  // Sent after this pause (a refused login: LoginSettings::refusal_delay).
  std::chrono::milliseconds delay{0};
};

// True for the paths handle_api() serves.
bool is_api_path(const std::string& path);

// The largest request body `path` accepts.
std::size_t max_body_bytes(const std::string& method, const std::string& path);

// Answers one API request with `store`, on the calling thread: authentication, then the
// endpoint. Never throws; a storage failure is a 503. Not the login (POST /api/v1/session):
// handle_api() sends that to login.h.
ApiResponse respond(ServerStore& store, const ApiRequest& request);

// Who may send a large body: authenticates `request`'s caller (its authorization and cookie;
// the body is not read yet) as respond() would. The refusal (401, 403 or 503), or nullopt
// for a coordinator.
std::optional<ApiResponse> refuse_caller(ServerStore& store, const ApiRequest& request);

// Answers one API request on the reader pool (respond() with that thread's store), or a login
// with handle_login() (login.h); `done` is called exactly once, on a pool thread or, for a
// login refused at once, on the calling thread.
void handle_api(Context& context, ApiRequest request, std::function<void(ApiResponse)> done);

// The dashboard's files: "/", "/dashboard/…". nullopt when `path` is none of them.
std::optional<ApiResponse> static_file(const std::string& path);

}  // namespace sync_server::net
