// POST /api/enrol: enrolling the tablet from its app with a coordinator's enrolment code
// (docs/tablet-app.md "Enrolling from the app"; the server's side is protocol.md §8.1).
#include <chrono>

#include "local_api.h"
#include "safer/json_object.h"
#include "safer/json_out.h"
#include "ws_connection.h"

namespace field_client::ui {

namespace {

using safer::JsonOut;

constexpr std::chrono::seconds kEnrolTimeout{20};

// {"error": message, "code": code[, "field": field]}.
LocalResponse refused(int status, std::string_view code, std::string_view message, std::string_view field = "") {
  JsonOut out;
  out.begin_object().field("error", message).field("code", code);
  if (!field.empty()) out.field("field", field);
  return LocalResponse{status, out.end_object().str(), {}};
}

// The server's refusal of a code, as the app shows it: its own words for what the officer can
// fix (a code mistyped, used or expired; too many tries), a plain "try again" for the rest.
LocalResponse server_refusal(const HttpAnswer& answer) {
  const auto body = safer::JsonObject::parse(answer.body);
  const auto message = body ? body->string("error") : std::nullopt;
  const auto code = body ? body->string("code") : std::nullopt;
  if (message && code && (answer.status == 400 || answer.status == 404 || answer.status == 410 || answer.status == 429)) {
    return refused(answer.status, *code, *message, "code");
  }
  if (answer.status == 404) {
    return refused(502, "not_a_sync_server",
                   "the server at that address does not enrol tablets: check the server address", "server");
  }
  return refused(502, "unavailable",
                 "the server could not enrol this tablet just now (HTTP " + std::to_string(answer.status) +
                     "); try again in a minute");
}

}  // namespace

LocalResponse LocalApi::enrol(const std::string& body_text) {
  const auto body = safer::JsonObject::parse(body_text);
  if (!body || !body->is_string("server") || !body->is_string("code") || !body->is_string("pin")) {
    return refused(400, "invalid", "send {\"server\": \"wss://…\", \"code\": \"ABCDE-FGHJK\", \"pin\": \"…\"}");
  }
  const std::string server = *body->string("server");
  const std::string code = *body->string("code");
  const std::string pin = *body->string("pin");
  if (store_) {
    const auto enrollment = store_->enrollment();
    if (enrollment) return refused(409, "enrolled", "this tablet is already enrolled");
  } else if (!wiped_) {
    return refused(423, "locked", "the app is locked: enter the PIN");
  }
  if (server.rfind("ws://", 0) != 0 && server.rfind("wss://", 0) != 0) {
    return refused(400, "invalid", "the server address must start with wss:// (or ws:// for this machine)", "server");
  }
  if (auto plain = check_plaintext(server, false); !plain) {
    return refused(400, "invalid", "the server address must start with wss://: the tablet's token would cross the "
                                   "network unencrypted", "server");
  }
  if (auto allowed = check_pin_rules(pin); !allowed) return refused(400, "invalid", allowed.error().message, "pin");

  // A tablet wiped (by PIN or by a coordinator) starts again from an empty store.
  if (!store_) {
    auto opened = Store::open(store_path_);
    if (!opened) return refused(503, opened.error().code, "cannot create the tablet's store: " + opened.error().message);
    store_ = std::move(*opened);
    wiped_.reset();
  }
  if (const auto summary = store_->summary(); summary && summary->last_seq > 0) {
    return refused(409, "not_empty", "this tablet holds records made before enrolment: enrol it with field-client "
                                     "enroll instead");
  }
  const auto answer = WsConnection::post_json(
      server, "/api/v1/enrolment", JsonOut().begin_object().field("code", code).end_object().str(), ca_file_,
      std::chrono::duration_cast<std::chrono::milliseconds>(kEnrolTimeout));
  if (!answer) {
    const auto& failure = answer.error();
    const int status = failure.code == "invalid" ? 400 : 502;
    return refused(status, failure.code, failure.message, failure.code == "invalid" ? "server" : "");
  }
  if (answer->status != 200) return server_refusal(*answer);
  const auto enrolment = safer::JsonObject::parse(answer->body);
  const auto device_id = enrolment ? enrolment->string("device_id") : std::nullopt;
  const auto token = enrolment ? enrolment->string("token") : std::nullopt;
  if (!device_id || !token) return refused(502, "unavailable", "the server's answer was not an enrolment; try again");
  // The PIN before the token is written: it never lands in an unencrypted store. A failure
  // here has spent the code (the coordinator makes another), but nothing is half-enrolled.
  sync_.reset();
  auto key = store_->set_pin(pin);
  if (!key) {
    start_sync();
    return refused(503, key.error().code, "the PIN could not be set, so the tablet was not enrolled (" +
                                              key.error().message + "): ask your coordinator for a new code");
  }
  key_ = std::move(*key);
  last_use_ = std::chrono::steady_clock::now();
  if (auto adopted = store_->set_device_id(*device_id); !adopted) {
    return refused(400, adopted.error().code, adopted.error().message, "device");
  }
  if (auto enrolled = store_->enroll(server, *token, ca_file_, false); !enrolled) {
    return refused(503, enrolled.error().code, "the tablet could not keep its enrolment: " + enrolled.error().message);
  }
  start_sync();
  return LocalResponse{200,
                       JsonOut()
                           .begin_object()
                           .field("device_id", *device_id)
                           .field("user_id", enrolment->string("user_id").value_or(""))
                           .field("role", enrolment->string("role").value_or(""))
                           .field("server", server)
                           .field("pin_set", true)
                           .end_object()
                           .str(),
                       {}};
}

}  // namespace field_client::ui
