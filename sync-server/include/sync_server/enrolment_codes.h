// Enrolment codes (docs/protocol.md §8.1, docs/dashboard.md "Enrol a device"): a coordinator
// asks for a short code for a device, user and role; the tablet's app sends that code to the
// server over TLS and gets the device's token back, so no token is ever shown or typed.
//
// Invariants:
//  1. A code is 10 characters of kEnrolmentCodeAlphabet (about 49 bits), shown as
//     "ABCDE-FGHJK". Only its SHA-256 is stored, with the device, user and role it enrols.
//  2. A code enrols at most once, and only before it expires (kEnrolmentCodeLifetime after it
//     was issued): the device's new token is issued, and the code marked used, in one
//     transaction, with the `enroll` audit entry.
//  3. Codes expired for more than a day are deleted when a new one is issued: the table stays
//     as small as the codes in use.
//
// Thread safety: as the ServerStore it works on.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sync_server/audit.h"
#include "sync_server/server_store.h"

namespace sync_server {

// Letters and digits no one confuses when reading them off a screen: no 0/O, 1/I/L, or U.
inline constexpr std::string_view kEnrolmentCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr std::size_t kEnrolmentCodeLength = 10;
inline constexpr std::chrono::minutes kEnrolmentCodeLifetime{10};

// A code as typed ("abcde fghjk", "ABCDE-FGHJK") in its stored form ("ABCDEFGHJK"): case,
// spaces and dashes do not matter. nullopt when anything else is left, or not 10 characters.
std::optional<std::string> normalise_enrolment_code(std::string_view typed);

// "ABCDEFGHJK" → "ABCDE-FGHJK", as the dashboard shows it.
std::string display_enrolment_code(std::string_view code);

// What a tablet reads from the QR code:
// "safer-streets:enrol?server=<server_url, percent-encoded>&code=<code>".
std::string enrolment_payload(std::string_view server_url, std::string_view code);

struct IssuedEnrolmentCode {
  std::string code;            // as displayed: "ABCDE-FGHJK"; shown once, never stored
  safer::UnixMillis expires_at = 0;
};

// What a redeemed code gives the tablet.
struct Enrolment {
  DeviceIdentity identity;
  std::string token;
};

class EnrolmentCodes {
 public:
  explicit EnrolmentCodes(ServerStore& store) : store_(store) {}

  // A new code that enrols `device_id` for `user_id` as `role`. Nothing is enrolled yet: a
  // device already enrolled keeps its token until the code is redeemed. Audited
  // (`enrolment_code`) by `by`. Error "invalid" (field "device" or "user") for a bad id.
  Result<IssuedEnrolmentCode> issue(const std::string& device_id, const std::string& user_id, safer::Role role,
                                    const Actor& by);

  // Enrols the code's device (ServerStore::enroll: a new token; an earlier one stops working)
  // and uses the code up, at once. `by` is who sent it (its address; the name is the device).
  // Errors: "invalid" (field "code") for text that cannot be a code; "not_found" for a code
  // never issued (or long gone); "used" for one already redeemed; "expired" for one past its
  // time. Nothing is written on an error.
  Result<Enrolment> redeem(std::string_view code, const Actor& by);

 private:
  ServerStore& store_;
};

}  // namespace sync_server
