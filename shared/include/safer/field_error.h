// A problem with one field of a record or message, as shown to the user who can fix it.
#pragma once

#include <string>
#include <vector>

namespace safer {

// `field` is the field's name on the wire ("smoke_detectors_fitted"), empty when the problem
// is not one field's (a record out of the user's scope). `message` names the field and says
// what is allowed; it never repeats an address, a note or another personal value.
struct FieldError {
  std::string field;
  std::string message;

  friend bool operator==(const FieldError&, const FieldError&) = default;
};

using FieldErrors = std::vector<FieldError>;

// The errors' messages in order, joined by "; " (one message for a whole record); "" for none.
std::string join_messages(const FieldErrors& errors);

}  // namespace safer
