// The tablet app's views of the store (households with their latest visit, a household's
// visits) and its PIN.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sstream>

#include "safer/hex.h"
#include "safer/text.h"
#include "store_impl.h"

namespace field_client {

namespace {

constexpr int kPinIterations = 200'000;

std::string contains_pattern(const std::string& text, bool drop_spaces) {
  std::string pattern = "%";
  for (char c : safer::fold_case(text)) {
    if (drop_spaces && c == ' ') continue;
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  return pattern + "%";
}

std::string pin_key(const std::string& pin, const std::string& salt_hex) {
  unsigned char key[32];
  PKCS5_PBKDF2_HMAC(pin.data(), static_cast<int>(pin.size()), reinterpret_cast<const unsigned char*>(salt_hex.data()),
                    static_cast<int>(salt_hex.size()), kPinIterations, EVP_sha256(), sizeof key, key);
  return safer::to_hex(key);
}

}  // namespace

Result<std::vector<HouseholdView>> Store::households(const std::string& query, std::size_t limit) const {
  return reading("the households", [&] { return impl_->households(query, limit); });
}

std::vector<HouseholdView> Store::Impl::households(const std::string& query, std::size_t limit) const {
  // The record's columns as kFindRecord has them, then the view's.
  auto rows = db.cached(
      "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data,"
      " (SELECT o.state FROM outbox o WHERE o.entity = r.entity AND o.record_id = r.id ORDER BY o.seq DESC LIMIT 1),"
      " r.created_here,"
      " (r.created_here OR json_extract(r.data, '$.assigned_to') = ?1) AS mine,"
      " (SELECT v.id FROM records v INDEXED BY visits_by_household WHERE v.entity = 'visit' AND v.deleted = 0"
      "   AND v.household_id = r.id ORDER BY v.visited_at DESC LIMIT 1),"
      " EXISTS (SELECT 1 FROM records f INDEXED BY visits_by_household WHERE f.entity = 'visit' AND f.deleted = 0"
      "   AND f.household_id = r.id AND f.follow_up = 1"
      "   AND NOT EXISTS (SELECT 1 FROM records c INDEXED BY visits_by_household WHERE c.entity = 'visit'"
      "     AND c.deleted = 0 AND c.household_id = r.id AND c.visited_at > f.visited_at AND c.status = 'completed'))"
      " FROM records r WHERE r.entity = 'household' AND r.deleted = 0"
      " AND (?2 IS NULL OR fold_case(json_extract(r.data, '$.address')) LIKE ?2 ESCAPE '\\'"
      "  OR fold_case(replace(json_extract(r.data, '$.postcode'), ' ', '')) LIKE ?3 ESCAPE '\\')"
      " ORDER BY mine DESC, json_extract(r.data, '$.address'), r.id LIMIT ?4");
  rows->bind(1, meta("user_id").value_or(""));
  if (query.empty()) {
    rows->bind_null(2).bind_null(3);
  } else {
    rows->bind(2, contains_pattern(query, false)).bind(3, contains_pattern(query, true));
  }
  rows->bind(4, static_cast<std::int64_t>(limit));
  std::vector<std::pair<HouseholdView, std::optional<std::string>>> found;
  while (rows->step()) {
    HouseholdView view;
    view.record = read_record(*rows);
    view.mine = rows->column_int(8) != 0;
    view.follow_up_outstanding = rows->column_int(10) != 0;
    found.emplace_back(std::move(view), rows->column_optional_text(9));
  }
  std::vector<HouseholdView> views;
  for (auto& [view, last_id] : found) {
    if (last_id) {
      if (const auto visit = find(Entity::visit, *last_id); visit && visit->data) {
        const auto& data = std::get<safer::Visit>(*visit->data);
        view.last_visit = HouseholdView::LastVisit{*last_id, data.visited_at, data.status};
      }
    }
    views.push_back(std::move(view));
  }
  return views;
}

Result<std::vector<StoredRecord>> Store::visits_to(const std::string& household_id) const {
  return reading("a household's visits", [&] { return impl_->visits_to(household_id); });
}

std::vector<StoredRecord> Store::Impl::visits_to(const std::string& household_id) const {
  auto rows = db.cached(
      "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data,"
      " (SELECT o.state FROM outbox o WHERE o.entity = r.entity AND o.record_id = r.id ORDER BY o.seq DESC LIMIT 1),"
      " r.created_here FROM records r INDEXED BY visits_by_household WHERE r.entity = 'visit' AND r.deleted = 0"
      " AND r.household_id = ? ORDER BY r.visited_at DESC, r.id DESC");
  rows->bind(1, household_id);
  std::vector<StoredRecord> visits;
  while (rows->step()) visits.push_back(read_record(*rows));
  return visits;
}

Status Store::set_pin(const std::string& pin) {
  if (pin.size() < 6 || pin.size() > 12 || pin.find_first_not_of("0123456789") != std::string::npos) {
    return Error{"invalid", "the PIN must be 6 to 12 digits (0-9 only)", "pin"};
  }
  if (const auto attempts = pin_attempts(); attempts && attempts->locked_out) {
    return Error{"forbidden", "too many wrong PINs were given: enrol this tablet again (field-client enroll) first", "pin"};
  }
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) return Error{"storage", "no random bytes for the PIN's salt", ""};
  const std::string salt_hex = safer::to_hex(salt);
  return in_transaction(impl_->db, [&]() -> Status {
    impl_->set_meta("pin", "pbkdf2-sha256$" + std::to_string(kPinIterations) + "$" + salt_hex + "$" + pin_key(pin, salt_hex));
    impl_->set_meta("pin_attempts", "0 0 0");
    return {};
  });
}

bool Store::has_pin() const {
  const auto stored = reading("the PIN", [&] { return impl_->meta("pin"); });
  return !stored || stored->has_value();  // fails closed
}

bool Store::check_pin(const std::string& pin) const {
  const auto read = reading("the PIN", [&] { return impl_->meta("pin"); });
  if (!read) return false;  // fails closed
  const auto& stored = *read;
  if (!stored) return false;
  const auto last = stored->rfind('$');
  const auto before = stored->rfind('$', last - 1);
  if (last == std::string::npos || before == std::string::npos) return false;
  const std::string salt_hex = stored->substr(before + 1, last - before - 1);
  const std::string expected = stored->substr(last + 1);
  const std::string actual = pin_key(pin, salt_hex);
  return actual.size() == expected.size() && CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
}

// meta "pin_attempts" is "FAILURES NOT_BEFORE LOCKED_OUT", e.g. "4 1795000000000 0".
Result<PinAttempts> Store::pin_attempts() const {
  PinAttempts attempts;
  try {
    const auto text = impl_->meta("pin_attempts");
    if (!text) return attempts;
    std::istringstream fields(*text);
    int locked_out = 0;
    fields >> attempts.failures >> attempts.not_before >> locked_out;
    attempts.locked_out = locked_out != 0 || fields.fail();
    return attempts;
  } catch (const sqlite::Failure& failure) {
    return sqlite::to_error(failure);
  }
}

Status Store::set_pin_attempts(const PinAttempts& attempts) {
  return in_transaction(impl_->db, [&]() -> Status {
    impl_->set_meta("pin_attempts", std::to_string(attempts.failures) + " " + std::to_string(attempts.not_before) + " " +
                                        (attempts.locked_out ? "1" : "0"));
    return {};
  });
}

}  // namespace field_client
