// The server store's database: SQLite (a file; the default) or PostgreSQL (a
// postgresql:// URL, for several servers over one database), behind one small interface in
// the shape of safer/sqlite.h, so that the store's queries are written once.
//
// The SQL is SQLite's and PostgreSQL's common ground, with two translations:
//  - PostgreSQL: the parameters ?, ?NNN become $N (outside string literals);
//  - SQLite: " FOR UPDATE" and " FOR SHARE" (row locks, which SQLite's single writer does not
//    need) are dropped.
// Values are integers and text on both; PostgreSQL returns every cell as text, read back
// with column_int().
//
// Failures of either backend throw db::Failure; a store catches it at its API boundary.
//
// Thread safety: a Database and its statements belong to one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "safer/result.h"

namespace safer::sqlite {
class Database;
}
namespace safer::pg {
class Connection;
}

namespace sync_server::db {

class Failure : public std::runtime_error {
 public:
  Failure(safer::Error error, bool retryable, const char* cause = "")
      : std::runtime_error(error.message), error_(std::move(error)), retryable_(retryable), cause_(cause) {}
  // Code "storage_full", "storage_read_only", "storage_busy", "storage_unavailable" or
  // "storage"; the message says that nothing was saved.
  const safer::Error& error() const { return error_; }
  // The transaction met another server's (a deadlock, a serialization failure, a row that
  // another server inserted first): running it again may succeed.
  bool retryable() const { return retryable_; }
  // Why a retryable failure happened, for the log: "deadlock", "serialization_failure" or
  // "write_race"; "" otherwise. Never the database's message, which can quote values.
  const char* cause() const { return cause_; }

 private:
  safer::Error error_;
  bool retryable_;
  const char* cause_;
};

// A write that lost a race with another server's transaction (see apply.cpp).
[[noreturn]] void throw_write_race(const std::string& what);

// A value to bind, or to add to an ArrayLiteral: NULL, an integer or a text.
using Cell = std::variant<std::monostate, std::int64_t, std::string>;

class Statement {
 public:
  virtual ~Statement() = default;

  // Parameters are 1-based, as in SQLite.
  virtual Statement& bind(int index, std::int64_t value) = 0;
  virtual Statement& bind(int index, std::string_view value) = 0;
  virtual Statement& bind_null(int index) = 0;
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  Statement& bind(int index, const Cell& cell);

  // Runs the statement on the first call; true while a row is ready.
  virtual bool step() = 0;
  // Runs a statement that returns no rows.
  virtual void run() = 0;
  // Clears the parameters and the result, ready for the next use.
  virtual void reset() = 0;

  virtual std::int64_t column_int(int index) const = 0;
  virtual std::string column_text(int index) const = 0;
  virtual std::size_t column_bytes(int index) const = 0;
  virtual bool column_is_null(int index) const = 0;
  std::optional<std::string> column_optional_text(int index) const {
    return column_is_null(index) ? std::nullopt : std::optional(column_text(index));
  }
};

class Database {
 public:
  enum class Backend { sqlite, postgresql };
  enum class TransactionKind { write, read };

  // Whether `location` names a PostgreSQL database (postgresql:// or postgres://).
  static bool is_postgresql_url(std::string_view location);
  // Opens the SQLite file (created if missing) or connects to the PostgreSQL database.
  static std::unique_ptr<Database> open(const std::string& location);

  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Backend backend() const { return backend_; }
  bool postgresql() const { return backend_ == Backend::postgresql; }
  // The backend's own handle, for what only it has (migrations, SQL functions, NOTIFY);
  // nullptr for the other backend.
  virtual safer::sqlite::Database* sqlite() { return nullptr; }
  virtual safer::pg::Connection* pg() { return nullptr; }

  // Runs statements that return no rows, without parameters.
  virtual void exec(std::string_view sql) = 0;
  // Rows changed by the last statement run.
  virtual std::int64_t changes() const = 0;

  // A statement prepared on first use and kept; the lease resets it when it goes out of
  // scope. `sql` must be a string literal: it is the cache key.
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

  // write: SQLite's BEGIN IMMEDIATE (the one writer lock), PostgreSQL's READ COMMITTED with
  // row locks taken by the statements. read: one consistent snapshot (SQLite's deferred
  // BEGIN, PostgreSQL's REPEATABLE READ READ ONLY).
  virtual void begin(TransactionKind kind) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

 protected:
  explicit Database(Backend backend) : backend_(backend) {}
  virtual std::unique_ptr<Statement> prepare(const char* sql) = 0;
  // Finalizes the cached statements. Each backend's destructor calls it before its connection
  // closes: SQLite does not close a connection with statements left (nor checkpoint its WAL).
  void drop_statements() { cache_.clear(); }

 private:
  Backend backend_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> cache_;
};

// begin() … commit(), rolled back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db, Database::TransactionKind kind = Database::TransactionKind::write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

// `sql` with SQLite's parameters (?, ?NNN) written as PostgreSQL's ($N); string literals
// and quoted names are left alone. Exposed for its test.
std::string postgresql_parameters(std::string_view sql);

// A PostgreSQL array literal ({"a","b"}, {1,-2}), one column of many rows written by one
// statement (PostgreSQL only: `INSERT … SELECT * FROM unnest(?1::text[], ?2::bigint[])`).
// Every text element is quoted, so any text (commas, braces, quotes, backslashes) is kept.
class ArrayLiteral {
 public:
  ArrayLiteral& add(std::string_view text);
  ArrayLiteral& add(std::int64_t value);
  ArrayLiteral& add_null();
  ArrayLiteral& add_cell(const Cell& cell);
  std::size_t size() const { return size_; }
  // The literal; the array may be added to afterwards.
  std::string text() const { return elements_ + "}"; }

 private:
  void separate();
  std::string elements_ = "{";
  std::size_t size_ = 0;
};

// Writes many rows with one statement: on SQLite it runs once a row; on PostgreSQL once for
// all of them, each parameter the array of the rows' values, so the statement there reads
// them with `unnest(?1::text[], ?2::bigint[], …)` (in the order added, which is the order rows
// are written and locked in). Rows the statement returns (RETURNING) go to `returned`.
class RowsWriter {
 public:
  using Returned = std::function<void(const Statement&)>;
  RowsWriter(Database& db, Statement& statement, Returned returned = nullptr);
  RowsWriter& add(std::string_view text);
  RowsWriter& add(std::int64_t value);
  void end_row();
  // PostgreSQL: runs the statement, if any row was added. Call once, after the last row.
  void finish();

 private:
  template <class Value>
  RowsWriter& put(Value value);
  void run();
  Statement& statement_;
  Returned returned_;
  bool at_once_;
  int column_ = 0;
  std::size_t rows_ = 0;
  std::vector<ArrayLiteral> columns_;  // at once: a column's values so far
};

}  // namespace sync_server::db
