// The credential of an HTTP "Authorization: Bearer <token>" header (RFC 6750 §2.1).
#pragma once

#include <string>
#include <string_view>

namespace safer {

// The token in `authorization`, the value of an Authorization header: the scheme "Bearer" in
// any case, then one or more spaces or tabs, then the token. Spaces and tabs around the value
// and around the token are not part of it. "" when the value is not a bearer credential
// ("Basic …", "Bearer" alone, "Bearerabc") or its token is empty. The token is not checked
// further: the store decides whether it is one.
std::string bearer_token(std::string_view authorization);

}  // namespace safer
