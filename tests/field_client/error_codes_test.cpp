// The field client's layers classify errors from the one table (safer/error_codes.h): sync.h's
// is_retryable, the C API's status and retry flag, and the command line's exit status. They
// used to disagree: untrusted_server was "do not retry" in sync.h but FC_NETWORK ("retry
// later") through the C API.
#include <catch2/catch.hpp>

#include <string>

#include "field_client/field_client.h"
#include "field_client/sync.h"
#include "safer/error_codes.h"

TEST_CASE("the C API and sync.h classify every code of the table alike", "[error-codes][c-api]") {
  for (const auto& info : safer::kErrorCodes) {
    const std::string code(info.code);
    INFO(code);
    const bool sync_retries = field_client::is_retryable(safer::Error{code, "", ""});
    const fc_status status = fc_status_of(code.c_str());
    CHECK(sync_retries == info.retryable);
    CHECK((fc_should_retry(status) == 1) == info.retryable);
    CHECK(status != FC_OK);
  }
}

TEST_CASE("untrusted_server is not retried through any layer", "[error-codes][c-api]") {
  CHECK_FALSE(field_client::is_retryable(safer::Error{"untrusted_server", "", ""}));
  CHECK(fc_status_of("untrusted_server") == FC_FATAL);
  CHECK(fc_should_retry(fc_status_of("untrusted_server")) == 0);
}

TEST_CASE("fc_status_of maps each kind to its status", "[error-codes][c-api]") {
  CHECK(fc_status_of("invalid") == FC_INVALID);
  CHECK(fc_status_of("exists") == FC_INVALID);
  CHECK(fc_status_of("not_found") == FC_NOT_FOUND);
  CHECK(fc_status_of("forbidden") == FC_FORBIDDEN);
  CHECK(fc_status_of("storage") == FC_STORAGE);
  CHECK(fc_status_of("storage_busy") == FC_STORAGE);
  CHECK(fc_status_of("storage_version") == FC_FATAL);
  CHECK(fc_status_of("network") == FC_NETWORK);
  CHECK(fc_status_of("unavailable") == FC_NETWORK);
  CHECK(fc_status_of("unauthorized") == FC_UNAUTHORIZED);
  CHECK(fc_status_of("device_mismatch") == FC_FATAL);
  CHECK(fc_status_of("not_enrolled") == FC_NOT_ENROLLED);
  CHECK(fc_status_of("argument") == FC_ARGUMENT);
  CHECK(fc_status_of("some_future_code") == FC_NETWORK);
  CHECK(fc_status_of(nullptr) == FC_ARGUMENT);
  CHECK(fc_should_retry(FC_OK) == 0);
}
