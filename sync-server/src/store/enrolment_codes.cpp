// Enrolment codes (enrolment_codes.h): issued from the dashboard, redeemed once by a tablet.
#include "sync_server/enrolment_codes.h"

#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

#include "safer/enum_names.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/tokens.h"

namespace sync_server {

namespace {

constexpr const char* kUsedMessage = "this enrolment code has already been used: ask your coordinator for a new one";
constexpr std::int64_t kKeepExpiredMillis = 24 * 60 * 60 * 1000;

// kEnrolmentCodeLength characters of the alphabet, each drawn without bias (rejection
// sampling: bytes at or above the largest multiple of the alphabet's size are drawn again).
std::string new_code() {
  constexpr unsigned kSize = kEnrolmentCodeAlphabet.size();
  constexpr unsigned kLimit = 256 - 256 % kSize;
  std::string code;
  while (code.size() < kEnrolmentCodeLength) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("the system's random number generator failed");
    for (unsigned char byte : bytes) {
      if (byte < kLimit && code.size() < kEnrolmentCodeLength) code.push_back(kEnrolmentCodeAlphabet[byte % kSize]);
    }
  }
  return code;
}

}  // namespace

std::optional<std::string> normalise_enrolment_code(std::string_view typed) {
  if (typed.size() > 64) return std::nullopt;
  std::string code;
  for (char c : typed) {
    if (c == ' ' || c == '-') continue;
    const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (kEnrolmentCodeAlphabet.find(upper) == std::string_view::npos) return std::nullopt;
    code.push_back(upper);
  }
  if (code.size() != kEnrolmentCodeLength) return std::nullopt;
  return code;
}

std::string enrolment_payload(std::string_view server_url, std::string_view code) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "safer-streets:enrol?server=";
  for (const char letter : server_url) {
    const auto c = static_cast<unsigned char>(letter);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(letter);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 0x0f]};
    }
  }
  return out + "&code=" + std::string(code);
}

std::string display_enrolment_code(std::string_view code) {
  const auto half = code.size() / 2;
  return std::string(code.substr(0, half)) + "-" + std::string(code.substr(half));
}

Result<IssuedEnrolmentCode> EnrolmentCodes::issue(const std::string& device_id, const std::string& user_id,
                                                  safer::Role role, const Actor& by) {
  if (!safer::is_valid_user_id(device_id)) {
    return Error{"invalid", "device id must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "device"};
  }
  if (!safer::is_valid_user_id(user_id)) {
    return Error{"invalid", "user id must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "user"};
  }
  auto& impl = *store_.impl_;
  try {
    const std::string code = new_code();
    const auto now = impl.options.wall_clock();
    const auto expires_at = now + std::chrono::duration_cast<std::chrono::milliseconds>(kEnrolmentCodeLifetime).count();
    db::Transaction transaction(impl.db);
    impl.db.cached("DELETE FROM enrolment_codes WHERE expires_at < ?")->bind(1, now - kKeepExpiredMillis).run();
    impl.db.cached("INSERT INTO enrolment_codes (code_hash, device_id, user_id, role, issued_by, issued_at, expires_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)")
        ->bind(1, token_hash(code))
        .bind(2, device_id)
        .bind(3, user_id)
        .bind(4, safer::to_string(role))
        .bind(5, by.name)
        .bind(6, now)
        .bind(7, expires_at)
        .run();
    AuditEntry entry{by, kAuditEnrolmentCode};
    entry.device = device_id;
    entry.username = user_id;
    entry.detail = "role=" + std::string(safer::to_string(role)) + " expires_in_minutes=" +
                   std::to_string(kEnrolmentCodeLifetime.count());
    impl.append_audit(entry);
    transaction.commit();
    return IssuedEnrolmentCode{display_enrolment_code(code), expires_at};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

Result<Enrolment> EnrolmentCodes::redeem(std::string_view typed, const Actor& by) {
  const auto code = normalise_enrolment_code(typed);
  if (!code) {
    return Error{"invalid",
                 "an enrolment code is 10 letters and digits, such as ABCDE-FGHJK (no 0, 1, I, L, O or U)", "code"};
  }
  auto& impl = *store_.impl_;
  try {
    db::Transaction transaction(impl.db);
    auto row = impl.db.cached("SELECT device_id, user_id, role, expires_at, used_at FROM enrolment_codes"
                              " WHERE code_hash = ?");
    row->bind(1, token_hash(*code));
    if (!row->step()) {
      return Error{"not_found", "there is no such enrolment code: check it, or ask your coordinator for a new one", "code"};
    }
    Enrolment enrolment;
    enrolment.identity.device_id = row->column_text(0);
    enrolment.identity.user_id = row->column_text(1);
    const auto role = safer::enum_from_string<safer::Role>(row->column_text(2));
    const auto expires_at = row->column_int(3);
    const bool used = !row->column_is_null(4);
    row->reset();
    if (used) {
      return Error{"used", kUsedMessage, "code"};
    }
    if (impl.options.wall_clock() >= expires_at) {
      return Error{"expired", "this enrolment code has expired (codes last " +
                                  std::to_string(kEnrolmentCodeLifetime.count()) +
                                  " minutes): ask your coordinator for a new one",
                   "code"};
    }
    if (!role) throw std::runtime_error("an enrolment code holds an unknown role");
    enrolment.identity.role = *role;
    Actor device = by;
    device.name = enrolment.identity.user_id;
    device.via = "enrolment_code";
    // Claimed before the device is enrolled: of two redemptions at once (two servers on one
    // PostgreSQL database), the second waits for the first's row lock and then finds it used.
    impl.db.cached("UPDATE enrolment_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL")
        ->bind(1, impl.options.wall_clock())
        .bind(2, token_hash(*code))
        .run();
    if (impl.db.changes() != 1) {
      return Error{"used", kUsedMessage, "code"};
    }
    enrolment.token = impl.enroll_device(enrolment.identity, device, " by_code");
    transaction.commit();
    return enrolment;
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

}  // namespace sync_server
