// The app PIN of versions before the PIN became the store's key: a PBKDF2-SHA256 hash kept in
// the plain store's meta as "pbkdf2-sha256$ITERATIONS$SALT_HEX$KEY_HEX" (the salt's hex text
// is the salt), with the wrong-PIN count as "FAILURES NOT_BEFORE LOCKED_OUT" (old PINs were
// 6 to 12 digits). A store upgraded with it opens only with that PIN; the first right one
// encrypts the store under a key from it (Store::set_pin) and removes the hash
// (docs/field-client.md, "The app PIN of earlier versions").
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <sstream>

#include "field_client/pin_guard.h"
#include "safer/hex.h"
#include "store_impl.h"

namespace field_client {

namespace {

using Verdict = PinAnswer::Verdict;

constexpr int kMaxLegacyIterations = 10'000'000;

// Whether `pin` matches `stored`. A hash that does not parse matches nothing (the earlier
// version failed closed the same way).
bool legacy_pin_matches(const std::string& pin, const std::string& stored) {
  std::istringstream parts(stored);
  std::string scheme, iterations_text, salt_hex, expected;
  if (!std::getline(parts, scheme, '$') || !std::getline(parts, iterations_text, '$') ||
      !std::getline(parts, salt_hex, '$') || !std::getline(parts, expected) || scheme != "pbkdf2-sha256") {
    return false;
  }
  int iterations = 0;
  try {
    iterations = std::stoi(iterations_text);
  } catch (const std::exception&) {
    return false;
  }
  if (iterations < 1 || iterations > kMaxLegacyIterations || expected.size() != 64) return false;
  unsigned char key[32];
  if (PKCS5_PBKDF2_HMAC(pin.data(), static_cast<int>(pin.size()), reinterpret_cast<const unsigned char*>(salt_hex.data()),
                        static_cast<int>(salt_hex.size()), iterations, EVP_sha256(), sizeof key, key) != 1) {
    return false;
  }
  const std::string actual = safer::to_hex(key);
  OPENSSL_cleanse(key, sizeof key);
  return CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
}

}  // namespace

PinAnswer PinGuard::attempt_legacy(const std::string& pin, std::unique_ptr<Store>& opened, PinSettings settings) {
  const auto failed = [](Error error) { return PinAnswer{Verdict::failed, {}, 0, std::move(error), {}}; };
  auto store = Store::open_store(store_path_, {}, true);
  if (!store) return failed(store.error());
  Store::Impl& impl = *(*store)->impl_;
  std::optional<std::string> hash;
  Count before;
  before.max_attempts = settings.max_attempts;
  try {
    hash = impl.meta(kLegacyPinKey);
    if (const auto attempts = impl.meta(kLegacyPinAttemptsKey)) {
      std::istringstream fields(*attempts);
      int locked_out = 0;
      fields >> before.failures >> before.not_before >> locked_out;
      // That version locked the app out at its limit; a count that does not read fails closed.
      if (locked_out != 0 || fields.fail()) before.failures = before.max_attempts;
    }
  } catch (const sqlite::Failure& failure) {
    return failed(read_error(failure, "the PIN's wrong attempts"));
  }
  if (!hash) return failed(Error{"invalid", "this store has no PIN", "pin"});
  const auto save = [&](const Count& count) {
    return in_transaction(impl.db, [&]() -> Status {
      impl.set_meta(kLegacyPinAttemptsKey,
                    std::to_string(count.failures) + " " + std::to_string(count.not_before) + " 0");
      return {};
    });
  };
  PinAnswer answer = counted(before, save, [&]() -> Result<bool> { return legacy_pin_matches(pin, *hash); });
  if (answer.verdict == Verdict::wiped) {
    store->reset();  // closed before its files go
    return wipe_now();
  }
  if (answer.verdict != Verdict::right) return answer;
  // The right PIN: it becomes the store's key, then the hash goes. Cut short in between, the
  // store is encrypted with the hash still inside, and Store::open removes it.
  auto key = (*store)->set_pin(pin, settings);
  if (!key) {
    (void)save(before);
    return failed(key.error());
  }
  auto removed = in_transaction(impl.db, [&]() -> Status {
    impl.db.cached("DELETE FROM meta WHERE key IN ('pin', 'pin_attempts')")->run();
    return {};
  });
  if (!removed) return failed(removed.error());
  answer.key = std::move(*key);
  opened = std::move(*store);
  return answer;
}

}  // namespace field_client
