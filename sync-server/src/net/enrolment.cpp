#include "enrolment.h"

#include <qrencode.h>

#include <memory>
#include <stdexcept>

#include "log.h"
#include "safer/json_object.h"
#include "safer/json_out.h"

namespace sync_server::net {

using safer::JsonOut;

namespace {

ApiResponse answer(int status, std::string body) {
  ApiResponse response{status, "application/json", std::move(body), {}, {}};
  response.headers.emplace_back("Cache-Control", "no-store");  // it may hold a token
  return response;
}

// {"error": message, "code": code, "field": field}: what the tablet shows, and why.
ApiResponse refused(int status, std::string_view code, std::string_view message, std::string_view field = "code") {
  JsonOut out;
  out.begin_object().field("error", message).field("code", code);
  if (!field.empty()) out.field("field", field);
  return answer(status, out.end_object().str());
}

ApiResponse redeem(ServerStore& store, const ApiRequest& request) {
  const auto body = safer::JsonObject::parse(request.body);
  if (!body || !body->is_string("code")) return refused(400, "invalid", "send {\"code\": \"ABCDE-FGHJK\"}");
  try {
    auto enrolment = EnrolmentCodes(store).redeem(*body->string("code"), Actor{"", "enrolment_code", request.peer});
    if (!enrolment) {
      const auto& error = enrolment.error();
      log::line("enrolment_refused", "peer=" + request.peer + " reason=" + error.code);
      if (error.code == "invalid") return refused(400, "invalid", error.message);
      if (error.code == "not_found") return refused(404, "unknown", error.message);
      if (error.code == "used" || error.code == "expired") return refused(410, error.code, error.message);
      return refused(503, "unavailable", "the server cannot read or write its database just now; try again", "");
    }
    const auto& identity = enrolment->identity;
    log::line("device_enrolled", "device=" + identity.device_id + " by=enrolment_code peer=" + request.peer);
    return answer(200, JsonOut()
                           .begin_object()
                           .field("device_id", identity.device_id)
                           .field("user_id", identity.user_id)
                           .field("role", safer::to_string(identity.role))
                           .field("token", enrolment->token)
                           .end_object()
                           .str());
  } catch (const std::exception&) {
    return refused(503, "unavailable", "the server cannot read or write its database just now; try again", "");
  }
}

}  // namespace

std::string qr_json(const std::string& payload) {
  const std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(payload.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr) throw std::runtime_error("the QR code could not be made");
  JsonOut out;
  out.begin_object().field("size", static_cast<std::int64_t>(qr->width)).key("rows").begin_array();
  for (int y = 0; y < qr->width; ++y) {
    std::string row(static_cast<std::size_t>(qr->width), '0');
    for (int x = 0; x < qr->width; ++x) {
      if (qr->data[y * qr->width + x] & 1) row[static_cast<std::size_t>(x)] = '1';
    }
    out.value(row);
  }
  return out.end_array().end_object().str();
}

std::string enrolment_server_url(const std::string& public_url, const ApiRequest& request) {
  if (!public_url.empty()) return public_url;
  return (request.secure ? "wss://" : "ws://") + request.host;
}

ApiResponse issue_enrolment_code(ServerStore& store, const ApiRequest& request, const Actor& by) {
  const auto body = safer::JsonObject::parse(request.body);
  if (!body) return refused(400, "invalid", "send {\"device_id\", \"user_id\", \"role\"}", "");
  const auto text = [&body](const char* name) { return body->string(name).value_or(""); };
  const auto role = safer::enum_from_string<safer::Role>(text("role"));
  if (!role) return refused(400, "invalid", "role must be officer, pcso or coordinator", "role");
  auto issued = EnrolmentCodes(store).issue(text("device_id"), text("user_id"), *role, by);
  if (!issued) {
    if (issued.error().code == "invalid") return refused(400, "invalid", issued.error().message, issued.error().field);
    return refused(503, "unavailable", "the server cannot read or write its database just now; try again", "");
  }
  const auto server = enrolment_server_url(request.public_url, request);
  const auto payload = enrolment_payload(server, issued->code);
  log::line("enrolment_code_issued", "device=" + text("device_id") + " by=" + by.name);
  return answer(201, JsonOut()
                         .begin_object()
                         .field("device_id", text("device_id"))
                         .field("user_id", text("user_id"))
                         .field("role", safer::to_string(*role))
                         .field("code", issued->code)
                         .field("expires_at", issued->expires_at)
                         .field("server", server)
                         .field("payload", payload)
                         .key("qr")
                         .raw(qr_json(payload))
                         .end_object()
                         .str());
}

void handle_enrolment(Context& context, const ApiRequest& request, std::function<void(ApiResponse)> done) {
  if (request.method != "POST") {
    auto response = refused(405, "invalid", "use POST", "");
    response.headers.emplace_back("Allow", "POST");
    return done(std::move(response));
  }
  // Guessing codes is guessing passwords: the same budget, per address and in all.
  if (const auto wait = context.login_limits->admit(request.peer, false); wait > 0) {
    log::line("enrolment_limited", "peer=" + request.peer);
    auto response = refused(429, "rate_limited", "too many attempts: wait " + std::to_string(wait) + " s and try again", "");
    response.headers.emplace_back("Retry-After", std::to_string(wait));
    return done(std::move(response));
  }
  context.readers->post([request, done = std::move(done)](ServerStore& store) { done(redeem(store, request)); });
}

}  // namespace sync_server::net
