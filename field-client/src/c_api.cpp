// The C API of field_client.h over the C++ Store and sync. No exception crosses it.
#include "field_client/field_client.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "field_client/json_views.h"
#include "field_client/pin_guard.h"
#include "field_client/store.h"
#include "field_client/sync.h"
#include "safer/error_codes.h"
#include "safer/json_out.h"
#include "safer/record_json.h"

struct fc_store {
  std::unique_ptr<field_client::Store> store;  // null once wiped
  std::string last_error = "{}";
};

namespace {

using field_client::Error;
using safer::JsonOut;

char* copy_out(const std::string& text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

// One fc_status per kind of code (safer/error_codes.h); a code outside the table is transient.
fc_status status_of(std::string_view code) {
  switch (safer::error_kind(code)) {
    case safer::ErrorKind::invalid: return FC_INVALID;
    case safer::ErrorKind::not_found: return FC_NOT_FOUND;
    case safer::ErrorKind::forbidden: return FC_FORBIDDEN;
    case safer::ErrorKind::storage: return FC_STORAGE;
    case safer::ErrorKind::transient: return FC_NETWORK;
    case safer::ErrorKind::unauthorized: return FC_UNAUTHORIZED;
    case safer::ErrorKind::fatal: return FC_FATAL;
    case safer::ErrorKind::not_enrolled: return FC_NOT_ENROLLED;
    case safer::ErrorKind::argument: return FC_ARGUMENT;
    case safer::ErrorKind::locked: return FC_LOCKED;
    case safer::ErrorKind::wiped: return FC_WIPED;
  }
  return FC_NETWORK;
}

fc_status fail(fc_store* store, const Error& error, const safer::FieldErrors& errors = {}) {
  JsonOut out;
  out.begin_object().field("code", error.code).field("message", error.message).field("field", error.field);
  field_client::write_field_errors(out.key("errors"), errors);
  store->last_error = out.field("retryable", safer::is_retryable_code(error.code)).end_object().str();
  return status_of(error.code);
}

fc_status argument(fc_store* store, const char* what) { return fail(store, Error{"argument", what, ""}); }

fc_status succeed(fc_store* store) {
  store->last_error = "{}";
  return FC_OK;
}

std::optional<safer::Entity> entity_of(const char* name) {
  return name == nullptr ? std::nullopt : safer::enum_from_string<safer::Entity>(name);
}

// Runs `body`, turning any exception into FC_STORAGE: nothing may unwind into C.
template <class Body>
fc_status guarded(fc_store* store, Body&& body) {
  if (store == nullptr) return FC_ARGUMENT;
  if (!store->store) return FC_WIPED;  // last_error still says why
  try {
    return body();
  } catch (const std::exception& failure) {
    return fail(store, Error{"storage", std::string("unexpected failure: ") + failure.what(), ""});
  } catch (...) {
    return fail(store, Error{"storage", "unexpected failure", ""});
  }
}

// Decodes and checks data as the store would; on problems, records them and returns false.
bool decode(fc_store* store, const char* entity_name, const char* data_json, safer::RecordData& data, fc_status& status) {
  const auto entity = entity_of(entity_name);
  if (!entity || data_json == nullptr) {
    status = argument(store, "entity must be household, visit or commute_session, and data must not be NULL");
    return false;
  }
  auto errors = safer::from_json(data_json, *entity, data);
  if (errors.empty()) {
    auto checked = store->store->validate(data);
    if (!checked) {
      status = fail(store, checked.error());
      return false;
    }
    errors = std::move(*checked);
  }
  if (errors.empty()) return true;
  status = fail(store, Error{"invalid", safer::join_messages(errors), errors.front().field}, errors);
  return false;
}

// fc_enroll and fc_enroll_plaintext.
fc_status enroll(fc_store* store, const char* server_url, const char* token, const char* device_id,
                 bool allow_plaintext) {
  return guarded(store, [&]() -> fc_status {
    if (server_url == nullptr || token == nullptr) return argument(store, "the server URL and the token must be given");
    if (device_id != nullptr) {
      if (auto adopted = store->store->set_device_id(device_id); !adopted) return fail(store, adopted.error());
    }
    if (auto enrolled = store->store->enroll(server_url, token, "", allow_plaintext); !enrolled) {
      return fail(store, enrolled.error());
    }
    return succeed(store);
  });
}

}  // namespace

extern "C" {

const char* fc_version(void) { return "0.1.0"; }

namespace {
// fc_open and fc_open_with_key: `pin` NULL for a plain store.
fc_status open_store(const char* path, const char* pin, fc_store** store_out, char** error_out) {
  if (store_out != nullptr) *store_out = nullptr;
  if (error_out != nullptr) *error_out = nullptr;
  if (path == nullptr || store_out == nullptr) return FC_ARGUMENT;
  try {
    auto store = pin == nullptr ? field_client::Store::open(path) : field_client::unlock_store(path, pin);
    if (!store) {
      if (error_out != nullptr) *error_out = copy_out(store.error().message);
      return status_of(store.error().code);
    }
    *store_out = new fc_store{std::move(*store), "{}"};
    return FC_OK;
  } catch (...) {
    if (error_out != nullptr) *error_out = copy_out("unexpected failure opening the store");
    return FC_STORAGE;
  }
}
}  // namespace

fc_status fc_open(const char* path, fc_store** store_out, char** error_out) {
  return open_store(path, nullptr, store_out, error_out);
}

fc_status fc_open_with_key(const char* path, const char* pin, fc_store** store_out, char** error_out) {
  if (pin == nullptr) return FC_ARGUMENT;
  return open_store(path, pin, store_out, error_out);
}

fc_status fc_set_pin(fc_store* store, const char* pin, int max_attempts) {
  return guarded(store, [&]() -> fc_status {
    if (pin == nullptr) return argument(store, "the PIN must not be NULL");
    field_client::PinSettings settings;
    if (max_attempts > 0) settings.max_attempts = max_attempts;
    if (auto set = store->store->set_pin(pin, settings); !set) return fail(store, set.error());
    return succeed(store);
  });
}

fc_status fc_wipe(fc_store* store) {
  if (store == nullptr) return FC_ARGUMENT;
  if (!store->store) return succeed(store);
  try {
    if (auto wiped = field_client::Store::wipe(std::move(store->store)); !wiped) return fail(store, wiped.error());
  } catch (...) {
    return fail(store, Error{"storage", "unexpected failure wiping the store", ""});
  }
  return succeed(store);
}

void fc_close(fc_store* store) { delete store; }

fc_status fc_create(fc_store* store, const char* entity, const char* data_json, char** id_out) {
  if (id_out != nullptr) *id_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    safer::RecordData data;
    fc_status status = FC_OK;
    if (!decode(store, entity, data_json, data, status)) return status;
    auto id = store->store->create(std::move(data));
    if (!id) return fail(store, id.error());
    if (id_out != nullptr) *id_out = copy_out(*id);
    return succeed(store);
  });
}

fc_status fc_update(fc_store* store, const char* entity, const char* id, const char* data_json) {
  return guarded(store, [&]() -> fc_status {
    if (id == nullptr) return argument(store, "id must not be NULL");
    safer::RecordData data;
    fc_status status = FC_OK;
    if (!decode(store, entity, data_json, data, status)) return status;
    if (auto updated = store->store->update(id, std::move(data)); !updated) return fail(store, updated.error());
    return succeed(store);
  });
}

fc_status fc_delete(fc_store* store, const char* entity, const char* id) {
  return guarded(store, [&]() -> fc_status {
    const auto kind = entity_of(entity);
    if (!kind || id == nullptr) return argument(store, "entity must be household, visit or commute_session, and id not NULL");
    if (auto removed = store->store->remove(*kind, id); !removed) return fail(store, removed.error());
    return succeed(store);
  });
}

fc_status fc_validate(fc_store* store, const char* entity, const char* data_json, char** errors_json_out) {
  if (errors_json_out != nullptr) *errors_json_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    const auto kind = entity_of(entity);
    if (!kind || data_json == nullptr || errors_json_out == nullptr) {
      return argument(store, "entity must be household, visit or commute_session; data and the output not NULL");
    }
    safer::RecordData data;
    auto errors = safer::from_json(data_json, *kind, data);
    if (errors.empty()) {
      auto checked = store->store->validate(data);
      if (!checked) return fail(store, checked.error());
      errors = std::move(*checked);
    }
    JsonOut out;
    field_client::write_field_errors(out, errors);
    *errors_json_out = copy_out(out.str());
    return succeed(store);
  });
}

fc_status fc_list(fc_store* store, const char* entity, char** json_out) {
  if (json_out != nullptr) *json_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    const auto kind = entity_of(entity);
    if (!kind || json_out == nullptr) return argument(store, "entity must be household, visit or commute_session");
    const auto records = store->store->list(*kind);
    if (!records) return fail(store, records.error());
    *json_out = copy_out(field_client::records_json(*records));
    return succeed(store);
  });
}

fc_status fc_get(fc_store* store, const char* entity, const char* id, char** json_out) {
  if (json_out != nullptr) *json_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    const auto kind = entity_of(entity);
    if (!kind || id == nullptr || json_out == nullptr) return argument(store, "entity, id and the output must be given");
    const auto record = store->store->get(*kind, id);
    if (!record) return fail(store, record.error());
    *json_out = copy_out(field_client::record_json(*record));
    return succeed(store);
  });
}

fc_status fc_outbox(fc_store* store, char** json_out) {
  if (json_out != nullptr) *json_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    if (json_out == nullptr) return argument(store, "the output must not be NULL");
    const auto entries = store->store->outbox();
    if (!entries) return fail(store, entries.error());
    *json_out = copy_out(field_client::outbox_entries_json(*entries));
    return succeed(store);
  });
}

fc_status fc_discard_rejected(fc_store* store, long long seq, char** result_out) {
  if (result_out != nullptr) *result_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    const auto discarded = store->store->discard_rejected(seq);
    if (!discarded) return fail(store, discarded.error());
    if (result_out != nullptr) *result_out = copy_out(std::string(field_client::to_string(*discarded)));
    return succeed(store);
  });
}

fc_status fc_enroll(fc_store* store, const char* server_url, const char* token, const char* device_id) {
  return enroll(store, server_url, token, device_id, false);
}

fc_status fc_enroll_plaintext(fc_store* store, const char* server_url, const char* token, const char* device_id) {
  return enroll(store, server_url, token, device_id, true);
}

fc_status fc_sync(fc_store* store, int timeout_ms, char** report_json_out) {
  if (report_json_out != nullptr) *report_json_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    field_client::SyncOptions options;
    if (timeout_ms > 0) options.timeout = std::chrono::milliseconds(timeout_ms);
    options.app_version = std::string("field-client-c/") + fc_version();
    const auto report = field_client::sync_once(*store->store, options);
    if (!report && report.error().code == "wipe") {
      // The coordinator's order is carried out here, not left to the app: nothing stays.
      Error order = report.error();
      if (auto wiped = field_client::Store::wipe(std::move(store->store)); !wiped) {
        order.message += "; but " + wiped.error().message;
      }
      return fail(store, order);
    }
    if (!report) return fail(store, report.error());
    if (report_json_out != nullptr) {
      JsonOut out;
      out.begin_object()
          .field("pushed", report->pushed)
          .field("rejected", report->rejected)
          .field("pulled", report->pulled)
          .field("full_pull", report->full_pull)
          .field("clock_offset_ms", report->clock_offset_ms)
          .end_object();
      *report_json_out = copy_out(out.str());
    }
    return succeed(store);
  });
}

fc_status fc_status_json(fc_store* store, char** json_out) {
  if (json_out != nullptr) *json_out = nullptr;
  return guarded(store, [&]() -> fc_status {
    if (json_out == nullptr) return argument(store, "the output must not be NULL");
    const auto read_summary = store->store->summary();
    if (!read_summary) return fail(store, read_summary.error());
    const auto read_device = store->store->device();
    if (!read_device) return fail(store, read_device.error());
    const auto enrollment = store->store->enrollment();
    if (!enrollment && enrollment.error().code != "not_enrolled") return fail(store, enrollment.error());
    const auto& summary = *read_summary;
    const auto& device = *read_device;
    JsonOut out;
    out.begin_object();
    field_client::write_device_fields(out, summary, device,
                                      enrollment ? std::optional(enrollment->server_url) : std::nullopt);
    out.field("pending", summary.pending).field("rejected", summary.rejected).field("last_seq", summary.last_seq);
    out.field("last_sync_at", summary.last_sync_at ? std::optional(safer::format_rfc3339(*summary.last_sync_at)) : std::nullopt);
    out.field("clock_offset_ms", summary.clock_offset_ms);
    field_client::write_record_counts(out, summary);
    *json_out = copy_out(out.end_object().str());
    return succeed(store);
  });
}

fc_status fc_status_of(const char* code) { return code == nullptr ? FC_ARGUMENT : status_of(code); }

int fc_should_retry(fc_status status) { return status == FC_STORAGE || status == FC_NETWORK ? 1 : 0; }

const char* fc_last_error(const fc_store* store) { return store == nullptr ? "{}" : store->last_error.c_str(); }

void fc_free(char* text) { std::free(text); }

}  // extern "C"
