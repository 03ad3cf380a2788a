#include "field_client/store_key.h"

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it
#include <rapidjson/document.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "safer/hex.h"
#include "safer/json_out.h"
#include "safer/scrypt.h"

namespace field_client {

namespace {

constexpr int kKeyFileVersion = 1;

Error key_file_error(const std::string& path, const std::string& what) {
  return Error{"storage", "the store's key file " + path + " " + what, ""};
}

std::string to_json(const KeyFile& key_file) {
  safer::JsonOut out;
  out.begin_object()
      .field("version", kKeyFileVersion)
      .field("kdf", "scrypt")
      .field("log_n", key_file.log_n)
      .field("r", 8)
      .field("p", 1)
      .field("salt", safer::to_hex(key_file.salt))
      .field("cipher", "chacha20")
      .field("max_attempts", key_file.max_attempts)
      .field("failures", key_file.failures)
      .field("not_before", key_file.not_before)
      .end_object();
  return out.str();
}

std::optional<KeyFile> from_json(const std::string& text) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
  if (document.HasParseError() || !document.IsObject()) return std::nullopt;
  const auto integer = [&](const char* name) -> std::optional<std::int64_t> {
    if (!document.HasMember(name) || !document[name].IsInt64()) return std::nullopt;
    return document[name].GetInt64();
  };
  const auto text_of = [&](const char* name) -> std::optional<std::string> {
    if (!document.HasMember(name) || !document[name].IsString()) return std::nullopt;
    return std::string(document[name].GetString(), document[name].GetStringLength());
  };
  const auto version = integer("version"), log_n = integer("log_n"), r = integer("r"), p = integer("p");
  const auto max_attempts = integer("max_attempts"), failures = integer("failures"), not_before = integer("not_before");
  const auto salt = safer::from_hex(text_of("salt").value_or(""));
  if (version != kKeyFileVersion || text_of("kdf") != "scrypt" || text_of("cipher") != "chacha20" || r != 8 ||
      p != 1 || !log_n || *log_n < 10 || *log_n > 20 || !salt || salt->size() != 16 || !max_attempts ||
      *max_attempts < 1 || !failures || *failures < 0 || !not_before) {
    return std::nullopt;
  }
  KeyFile key_file;
  key_file.log_n = static_cast<int>(*log_n);
  std::memcpy(key_file.salt.data(), salt->data(), key_file.salt.size());
  key_file.max_attempts = static_cast<int>(*max_attempts);
  key_file.failures = static_cast<int>(*failures);
  key_file.not_before = *not_before;
  return key_file;
}

}  // namespace

StoreKey::~StoreKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

bool StoreKey::operator==(const StoreKey& other) const {
  return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

Status check_pin_rules(const std::string& pin) {
  if (pin.size() < 6 || pin.size() > 128 || pin.find_first_of("\r\n") != std::string::npos) {
    return Error{"invalid", "the PIN must be 6 to 128 characters on one line (6 digits at least; a longer PIN or a "
                            "passphrase is much harder to guess)", "pin"};
  }
  return {};
}

std::string key_file_path(const std::string& store_path, KeySlot slot) {
  return store_path + (slot == KeySlot::current ? ".key" : ".key.next");
}

Result<std::optional<KeyFile>> read_key_file(const std::string& store_path, KeySlot slot) {
  const std::string path = key_file_path(store_path, slot);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<KeyFile>();
    return key_file_error(path, std::string("cannot be read: ") + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto key_file = from_json(text.str());
  if (!key_file) return key_file_error(path, "is damaged: the store cannot be opened without it");
  return std::optional<KeyFile>(std::move(*key_file));
}

Status write_key_file(const std::string& store_path, const KeyFile& key_file, KeySlot slot) {
  const std::string path = key_file_path(store_path, slot);
  const std::string temporary = path + ".tmp";
  const std::string text = to_json(key_file) + "\n";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return key_file_error(path, std::string("cannot be written: ") + std::strerror(errno));
  ::fchmod(fd, 0600);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int failure = written ? errno : saved_errno;
    ::unlink(temporary.c_str());
    return key_file_error(path, std::string("cannot be written: ") + std::strerror(failure));
  }
  return {};
}

Status promote_next_key_file(const std::string& store_path) {
  const std::string next = key_file_path(store_path, KeySlot::next);
  if (::rename(next.c_str(), key_file_path(store_path).c_str()) != 0) {
    return key_file_error(next, std::string("cannot be renamed into place: ") + std::strerror(errno));
  }
  return {};
}

Result<KeyFile> new_key_file(int max_attempts, int log_n) {
  if (max_attempts < 1 || max_attempts > 1000) {
    return Error{"invalid", "the wrong-PIN limit must be 1 to 1000", "pin_max_attempts"};
  }
  KeyFile key_file;
  key_file.log_n = log_n;
  key_file.max_attempts = max_attempts;
  if (RAND_bytes(key_file.salt.data(), static_cast<int>(key_file.salt.size())) != 1) {
    return Error{"storage", "no random bytes for the store key's salt", ""};
  }
  return key_file;
}

Result<StoreKey> derive_store_key(const std::string& pin, const KeyFile& key_file) {
  auto derived = safer::scrypt(pin, key_file.salt, safer::ScryptCost{key_file.log_n, 8, 1}, 32);
  if (!derived) return Error{"storage", "the store key could not be derived (scrypt: out of memory?)", ""};
  std::array<unsigned char, 32> bytes{};
  std::memcpy(bytes.data(), derived->data(), bytes.size());
  OPENSSL_cleanse(derived->data(), derived->size());
  StoreKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

}  // namespace field_client
