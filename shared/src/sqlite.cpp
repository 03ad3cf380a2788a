#include "safer/sqlite.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <vector>

#include "safer/hex.h"

namespace safer::sqlite {

namespace {

bool is_file_path(const std::string& path) { return !path.empty() && path != ":memory:" && !path.starts_with("file:"); }

// Creates `path` empty, mode 0600 whatever the umask, when it does not exist: SQLite takes an
// empty file as a new database. Anything else (it exists, no permission) is left to
// sqlite3_open_v2, which says what went wrong.
void create_private_file(const std::string& path) {
  if (!is_file_path(path)) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ::fchmod(fd, 0600);  // the umask may have taken bits from 0600 (0400 would not open)
  ::close(fd);
}

[[noreturn]] void fail(sqlite3* db, int code, std::string_view context) {
  std::string what(context);
  what += ": ";
  what += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw Failure(code & 0xff, db != nullptr ? sqlite3_system_errno(db) : 0, what);
}

void check(sqlite3* db, int code, std::string_view context) {
  if (code != SQLITE_OK) fail(db, code, context);
}

}  // namespace

bool Failure::disk_full() const {
  return code_ == SQLITE_FULL ||
         (code_ == SQLITE_IOERR && (system_errno_ == ENOSPC || system_errno_ == EFBIG || system_errno_ == EDQUOT));
}
bool Failure::read_only() const { return code_ == SQLITE_READONLY; }
bool Failure::busy() const { return code_ == SQLITE_BUSY || code_ == SQLITE_LOCKED; }

Error to_error(const Failure& failure) {
  if (failure.disk_full()) {
    return Error{"storage_full", "the storage is full: nothing was saved; free some space and try again", ""};
  }
  if (failure.read_only()) {
    return Error{"storage_read_only", "the store cannot be written (read-only): nothing was saved", ""};
  }
  if (failure.busy()) {
    return Error{"storage_busy", "the store is busy in another program: nothing was saved; try again", ""};
  }
  return Error{"storage", std::string("storage error: nothing was saved (") + failure.what() + ")", ""};
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  check(db_, sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &statement_, nullptr),
        "prepare");
}

Statement::~Statement() { sqlite3_finalize(statement_); }

Statement& Statement::bind(int index, std::int64_t value) {
  check(db_, sqlite3_bind_int64(statement_, index, value), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // A default string_view has no data pointer, which SQLite would bind as NULL, not "".
  const char* text = value.data() != nullptr ? value.data() : "";
  check(db_, sqlite3_bind_text64(statement_, index, text, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check(db_, sqlite3_bind_double(statement_, index, value), "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  check(db_, sqlite3_bind_null(statement_, index), "bind");
  return *this;
}

bool Statement::step() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  fail(db_, code, "step");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(statement_, index); }

double Statement::column_double(int index) const { return sqlite3_column_double(statement_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(statement_, index);
  const int size = sqlite3_column_bytes(statement_, index);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

int Statement::column_bytes(int index) const { return sqlite3_column_bytes(statement_, index); }

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(statement_, index) == SQLITE_NULL;
}

std::optional<std::string> Statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

Database::Database(const std::string& path, int busy_timeout_ms) {
  // SQLite's memory statistics (sqlite3_memory_used) take a global mutex on every allocation
  // of every connection; nothing here reads them. Must be set before SQLite initialises: the
  // first Database does it, and a call after that is refused harmlessly (SQLITE_MISUSE).
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  create_private_file(path);
  const int code = sqlite3_open_v2(path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
  if (code != SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    const int system_errno = db_ != nullptr ? sqlite3_system_errno(db_) : 0;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Failure(code & 0xff, system_errno, "open: " + message);
  }
  sqlite3_extended_result_codes(db_, 0);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Database::~Database() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

void Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (code != SQLITE_OK) {
    const std::string what = message != nullptr ? message : sqlite3_errstr(code);
    sqlite3_free(message);
    throw Failure(code & 0xff, sqlite3_system_errno(db_), "exec: " + what);
  }
}

namespace {

// SQLite3MC's raw-key form: "raw:" and 64 hex digits bypasses its own KDF.
std::string raw_key_text(std::span<const unsigned char, 32> raw_key) {
  return "raw:" + to_hex(raw_key);
}

}  // namespace

void Database::key(std::span<const unsigned char, 32> raw_key) {
  // SQLite3MC encrypts through its own VFS; a store opened through another (one registered
  // as the default by a test or a plug-in) would take the key and still write plaintext.
  sqlite3_vfs* vfs = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK || vfs == nullptr ||
      std::string_view(vfs->zName).rfind("multipleciphers", 0) != 0) {
    throw Failure(SQLITE_MISUSE, 0, "key: the database is not opened through SQLite3MC's VFS, so it cannot be encrypted");
  }
  std::string text = raw_key_text(raw_key);
  const int code = sqlite3_key_v2(db_, "main", text.data(), static_cast<int>(text.size()));
  std::fill(text.begin(), text.end(), '\0');
  check(db_, code, "key");
}

void Database::rekey(std::span<const unsigned char, 32> raw_key) {
  std::string text = raw_key_text(raw_key);
  const int code = sqlite3_rekey_v2(db_, "main", text.data(), static_cast<int>(text.size()));
  std::fill(text.begin(), text.end(), '\0');
  check(db_, code, "rekey");
}

bool Database::readable() {
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v2(db_, "SELECT count(*) FROM sqlite_schema", -1, &statement, nullptr);
  if (code == SQLITE_OK) {
    code = sqlite3_step(statement);
    if (code == SQLITE_ROW) code = SQLITE_OK;
  }
  sqlite3_finalize(statement);
  if ((code & 0xff) == SQLITE_NOTADB) return false;
  check(db_, code, "read");
  return true;
}

Database::Lease Database::cached(const char* sql) {
  auto& slot = cache_[sql];
  if (!slot) slot = std::make_unique<Statement>(db_, sql);
  return Lease(*slot);
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

std::int64_t Database::pragma_int(const char* pragma) {
  Statement statement(db_, std::string("PRAGMA ") + pragma);
  return statement.step() ? statement.column_int(0) : 0;
}

void Database::create_text_function(const char* name, std::string (*fn)(std::string_view)) {
  const auto call = [](sqlite3_context* context, int, sqlite3_value** values) {
    auto* function = reinterpret_cast<std::string (*)(std::string_view)>(sqlite3_user_data(context));
    if (sqlite3_value_type(values[0]) == SQLITE_NULL) return sqlite3_result_null(context);
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(values[0]));
    const std::string result = function(std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(values[0]))));
    sqlite3_result_text64(context, result.data(), result.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  };
  check(db_, sqlite3_create_function_v2(db_, name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                        reinterpret_cast<void*>(fn), call, nullptr, nullptr, nullptr),
        "create_function");
}

Transaction::Transaction(Database& db, Kind kind) : db_(db) {
  db_.exec(kind == Kind::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
  if (done_) return;
  // ROLLBACK fails only when SQLite already rolled back (after SQLITE_FULL, for one);
  // either way nothing of the transaction remains.
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

Status migrate(Database& db, const Migration* migrations, std::size_t count) {
  const auto current = db.pragma_int("user_version");
  const int latest = count == 0 ? 0 : migrations[count - 1].number;
  if (current > latest) {
    return Error{"storage_version",
                 "the store is at schema version " + std::to_string(current) +
                     ", newer than this program knows (" + std::to_string(latest) +
                     "); use a newer version of the program",
                 ""};
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (migrations[i].number <= current) continue;
    Transaction transaction(db);
    db.exec(migrations[i].sql);
    db.exec("PRAGMA user_version = " + std::to_string(migrations[i].number));
    transaction.commit();
  }
  return {};
}

void make_private_parent_directories(const std::string& path) {
  if (!is_file_path(path)) return;
  std::filesystem::path missing = std::filesystem::path(path).parent_path();
  std::vector<std::filesystem::path> to_make;
  std::error_code ec;
  for (; !missing.empty() && !std::filesystem::exists(missing, ec); missing = missing.parent_path()) {
    to_make.push_back(missing);
    if (missing == missing.parent_path()) break;
  }
  for (auto it = to_make.rbegin(); it != to_make.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) == 0) ::chmod(it->c_str(), 0700);
  }
}

std::string exposure_warning(const std::string& path) {
  if (!is_file_path(path)) return {};
  std::string exposed, modes;
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0 || (info.st_mode & 077) == 0) continue;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    exposed += (exposed.empty() ? "" : " ") + file;
    modes += (modes.empty() ? "" : ", ") + std::string(mode);
  }
  if (exposed.empty()) return {};
  return "other users of this machine can read " + exposed + " (mode " + modes +
         "), which hold personal data: run chmod 600 " + exposed;
}

}  // namespace safer::sqlite
