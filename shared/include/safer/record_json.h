// Records as the plain JSON objects of protocol.md §1 and §5.
//
// Encoding goes through cereal's JSON archive. Decoding reads the RapidJSON document that
// cereal's archive is built on, because the archive itself cannot tell an absent field from a
// null one and reports a wrong type without naming the field (protocol.md §12.3).
// Fields may come in any order, unknown fields are ignored, optional fields may be omitted
// and take their defaults (protocol.md §9.1).
#pragma once

#include <string>
#include <string_view>

#include "safer/field_error.h"
#include "safer/record.h"

namespace safer {

// The record as a JSON object. Optional household fields that are unset (target,
// assigned_to) are left out; every other field is written.
std::string to_json(const Household& household);
std::string to_json(const Visit& visit);
std::string to_json(const CommuteSession& session);
std::string to_json(const RecordData& data);

// Decodes a JSON object into `out`. Returns a FieldError for each field that is missing
// but required, of the wrong type, or not an allowed value; `out` is meaningful only when
// the list is empty. Text that is not a JSON object gives one error with an empty field.
// Does not apply the rules of validation.h: follow with check_*.
FieldErrors from_json(std::string_view json, Household& out);
FieldErrors from_json(std::string_view json, Visit& out);
FieldErrors from_json(std::string_view json, CommuteSession& out);
FieldErrors from_json(std::string_view json, Entity entity, RecordData& out);

}  // namespace safer
