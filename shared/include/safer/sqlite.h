// A thin RAII layer over SQLite for the field client's and the server's stores.
//
// Failures throw sqlite::Failure; a store catches it at its API boundary and returns an
// Error (see to_error). <sqlite3.h> stays out of this header.
//
// Thread safety: a Database and its statements belong to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "safer/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace safer::sqlite {

class Failure : public std::runtime_error {
 public:
  Failure(int code, int system_errno, const std::string& what)
      : std::runtime_error(what), code_(code), system_errno_(system_errno) {}
  int code() const { return code_; }  // SQLite's primary result code
  // SQLITE_FULL, or an I/O error whose cause was no space (ENOSPC, EFBIG, EDQUOT): SQLite
  // reports a full disk met while creating its WAL index or journal as an I/O error.
  bool disk_full() const;
  bool read_only() const;
  bool busy() const;

 private:
  int code_;
  int system_errno_;  // errno of the failing system call, 0 if none
};

// The error a store reports for `failure`: code "storage_full", "storage_read_only",
// "storage_busy" or "storage", with a message saying that nothing was saved.
Error to_error(const Failure& failure);

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Runs one step: true when a row is ready, false when done.
  bool step();
  // Steps to completion, for statements that return no rows.
  void run();
  // Clears bindings and rewinds, ready for the next use.
  void reset();

  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  int column_bytes(int index) const;
  bool column_is_null(int index) const;
  std::optional<std::string> column_optional_text(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

class Database {
 public:
  // Opens (creating if missing) the database at `path`; ":memory:" for a private one.
  // Sets a busy timeout so that other processes' short transactions are waited for.
  // A file it creates is mode 0600 whatever the umask, and so are its -wal and -shm (SQLite
  // gives them the database file's mode). An existing file keeps its mode.
  explicit Database(const std::string& path, int busy_timeout_ms = 5000);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows.
  void exec(std::string_view sql);

  // Encryption (SQLite3MultipleCiphers, ChaCha20-Poly1305). key(): the 32-byte raw key of an
  // encrypted database (no KDF inside SQLite: the caller derived it); call it right after
  // opening, before anything is read. A wrong key is only noticed at the first read, which
  // then fails with SQLITE_NOTADB (see readable()). rekey(): encrypts a plain database, or
  // re-encrypts one under a new key, in one transaction (every page is rewritten); the
  // database must not be in WAL mode. Both throw Failure.
  void key(std::span<const unsigned char, 32> raw_key);
  void rekey(std::span<const unsigned char, 32> raw_key);
  // Reads the schema: true when that works, false when the file is not a database under the
  // key given (a wrong key, or a key for a plain file). Other failures throw.
  bool readable();

  // A statement prepared on first use and kept for reuse. The lease resets it when it goes
  // out of scope, so that no half-read statement keeps a read transaction (and its snapshot)
  // open after the caller is done. `sql` must be a string literal: it is the cache key.
  class Lease {
   public:
    explicit Lease(Statement& statement) : statement_(&statement) {}
    ~Lease() { statement_->reset(); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Statement* operator->() const { return statement_; }
    Statement& operator*() const { return *statement_; }

   private:
    Statement* statement_;
  };
  Lease cached(const char* sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;
  std::int64_t pragma_int(const char* pragma);

  // Makes `fn` callable from SQL as `name(text)`, returning text (NULL stays NULL).
  void create_text_function(const char* name, std::string (*fn)(std::string_view));

  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<Statement>> cache_;
};

// BEGIN IMMEDIATE (a write transaction: it takes the write lock at once, so it never fails
// half-way for lack of it) or, for Kind::read, a deferred BEGIN whose first read fixes one
// consistent snapshot. ROLLBACK in the destructor unless commit() ran.
class Transaction {
 public:
  enum class Kind { write, read };
  explicit Transaction(Database& db, Kind kind = Kind::write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

// A numbered schema change. Migrations run in order, each in its own transaction together
// with PRAGMA user_version = number, so a store is always at one whole version.
struct Migration {
  int number;
  const char* sql;
};

// Creates the missing directories above the database file `path`, each mode 0700 whatever
// the umask; existing ones are left as they are. Failures are left for the open to report.
void make_private_parent_directories(const std::string& path);

// "" when neither the database file `path` nor its -wal and -shm can be read or written by
// other users; otherwise a warning naming them, their mode and the chmod that fixes it.
// The stores hold personal data: programs print it, and carry on (docs/deployment.md).
std::string exposure_warning(const std::string& path);

// Brings `db` up to the last migration. Returns an Error (code "storage_version") when the
// database is at a version newer than any listed, that is, written by a newer program.
Status migrate(Database& db, const Migration* migrations, std::size_t count);

}  // namespace safer::sqlite
