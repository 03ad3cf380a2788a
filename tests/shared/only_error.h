// A check shared by the record-rule tests: exactly one error, about `field`, whose message
// names it (protocol.md §9.5), so that an app can show it beside the field.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "safer/field_error.h"

namespace safer {

// The one error of `errors`; fails the test unless there is exactly one and it names `field`.
inline FieldError only_error(const FieldErrors& errors, const std::string& field) {
  INFO("errors: " << errors.size() << (errors.empty() ? "" : ", first: " + errors[0].message));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == field);
  CHECK_THAT(errors[0].message, Catch::Contains(field));
  return errors[0];
}

}  // namespace safer
