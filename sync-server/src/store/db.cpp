#include "sync_server/db.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "safer/pg.h"
#include "safer/sqlite.h"
#include "safer/text.h"

namespace sync_server::db {

namespace {

Failure from_sqlite(const safer::sqlite::Failure& failure) { return Failure(safer::sqlite::to_error(failure), false); }

Failure from_pg(const safer::pg::Failure& failure) {
  const std::string& state = failure.sqlstate();
  const std::string what = failure.what();
  if (state == "53100") {
    return Failure({"storage_full", "the database server's disk is full: nothing was saved; try again later", ""},
                   false);
  }
  if (state == "25006") {
    return Failure({"storage_read_only", "the database is read-only (a standby?): nothing was saved", ""}, false);
  }
  if (state.empty() || state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {
    // Lost or refused connection, or the server shutting down.
    return Failure({"storage_unavailable", "the database cannot be reached: nothing was saved (" + what + ")", ""},
                   false);
  }
  const char* cause = state == "40P01" ? "deadlock" : state == "40001" ? "serialization_failure" : "";
  return Failure({"storage", "storage error: nothing was saved (" + what + ")", ""}, failure.retryable(), cause);
}

// --- SQLite ------------------------------------------------------------------------------

std::string without_row_locks(std::string_view sql) {
  std::string text(sql);
  for (const std::string_view lock : {" FOR UPDATE", " FOR SHARE"}) {
    for (auto at = text.find(lock); at != std::string::npos; at = text.find(lock, at)) text.erase(at, lock.size());
  }
  return text;
}

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(safer::sqlite::Database& db, const char* sql) : statement_(db.handle(), without_row_locks(sql)) {}

  Statement& bind(int index, std::int64_t value) override { return guarded([&] { statement_.bind(index, value); }); }
  Statement& bind(int index, std::string_view value) override {
    return guarded([&] { statement_.bind(index, value); });
  }
  Statement& bind_null(int index) override { return guarded([&] { statement_.bind_null(index); }); }
  bool step() override {
    try {
      return statement_.step();
    } catch (const safer::sqlite::Failure& failure) {
      throw from_sqlite(failure);
    }
  }
  void run() override { guarded([&] { statement_.run(); }); }
  void reset() override { statement_.reset(); }
  std::int64_t column_int(int index) const override { return statement_.column_int(index); }
  std::string column_text(int index) const override { return statement_.column_text(index); }
  std::size_t column_bytes(int index) const override {
    return static_cast<std::size_t>(statement_.column_bytes(index));
  }
  bool column_is_null(int index) const override { return statement_.column_is_null(index); }

 private:
  template <class Fn>
  Statement& guarded(Fn fn) {
    try {
      fn();
    } catch (const safer::sqlite::Failure& failure) {
      throw from_sqlite(failure);
    }
    return *this;
  }
  safer::sqlite::Statement statement_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const std::string& path) : Database(Backend::sqlite), db_(path) {}
  ~SqliteDatabase() override { drop_statements(); }
  safer::sqlite::Database* sqlite() override { return &db_; }
  void exec(std::string_view sql) override {
    try {
      db_.exec(sql);
    } catch (const safer::sqlite::Failure& failure) {
      throw from_sqlite(failure);
    }
  }
  std::int64_t changes() const override { return db_.changes(); }
  void begin(TransactionKind kind) override { exec(kind == TransactionKind::write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override {
    // Fails only when SQLite already rolled back (after SQLITE_FULL, say): nothing remains.
    try {
      db_.exec("ROLLBACK");
    } catch (const safer::sqlite::Failure&) {
    }
  }

 protected:
  std::unique_ptr<Statement> prepare(const char* sql) override {
    try {
      return std::make_unique<SqliteStatement>(db_, sql);
    } catch (const safer::sqlite::Failure& failure) {
      throw from_sqlite(failure);
    }
  }

 private:
  safer::sqlite::Database db_;
};

// --- PostgreSQL --------------------------------------------------------------------------

class PgDatabase;

class PgStatement final : public Statement {
 public:
  PgStatement(PgDatabase& db, std::string name, std::string sql)
      : db_(db), name_(std::move(name)), sql_(std::move(sql)) {}

  Statement& bind(int index, std::int64_t value) override { return bind(index, std::string_view(std::to_string(value))); }
  Statement& bind(int index, std::string_view value) override {
    // PostgreSQL's text holds neither NUL (libpq would cut the value there: "a\0b" would look
    // up "a") nor ill-formed UTF-8 (an error). Everything the store writes is checked UTF-8
    // without NUL, so a value that has them can only be a lookup: U+FFFD in their place
    // matches nothing stored, as on SQLite.
    if (value.find('\0') == std::string_view::npos && safer::is_valid_utf8(value)) {
      slot(index) = std::string(value);
    } else {
      std::string text = safer::to_valid_utf8(value);
      for (auto at = text.find('\0'); at != std::string::npos; at = text.find('\0', at)) text.replace(at, 1, "\uFFFD");
      slot(index) = std::move(text);
    }
    return *this;
  }
  Statement& bind_null(int index) override {
    slot(index) = std::nullopt;
    return *this;
  }
  bool step() override {
    if (!rows_) {
      execute();
      row_ = 0;
    } else {
      ++row_;
    }
    return row_ < rows_->size();
  }
  void run() override;
  void reset() override {
    params_.clear();
    rows_.reset();
    row_ = -1;
  }
  std::int64_t column_int(int index) const override {
    if (rows_->is_null(row_, index)) return 0;  // as SQLite reads NULL
    try {
      return rows_->integer(row_, index);  // sum() of bigints is numeric, "12": an integer still
    } catch (const safer::pg::Failure& failure) {
      throw from_pg(failure);  // a query that returns no integer here is a bug: say so
    }
  }
  std::string column_text(int index) const override { return rows_->text(row_, index); }
  std::size_t column_bytes(int index) const override { return rows_->text(row_, index).size(); }
  bool column_is_null(int index) const override { return rows_->is_null(row_, index); }

 private:
  safer::pg::Param& slot(int index) {
    if (static_cast<int>(params_.size()) < index) params_.resize(static_cast<std::size_t>(index));
    return params_[static_cast<std::size_t>(index - 1)];
  }
  void execute();

  PgDatabase& db_;
  std::string name_;
  std::string sql_;
  std::vector<safer::pg::Param> params_;
  std::optional<safer::pg::Rows> rows_;
  int row_ = -1;
};

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(const std::string& url) : Database(Backend::postgresql), connection_(url) {}
  ~PgDatabase() override { drop_statements(); }
  safer::pg::Connection* pg() override { return &connection_; }
  void exec(std::string_view sql) override {
    try {
      reconnect_outside_transaction();
      connection_.exec(sql);
    } catch (const safer::pg::Failure& failure) {
      throw from_pg(failure);
    }
  }
  std::int64_t changes() const override { return changes_; }
  void begin(TransactionKind kind) override {
    exec(kind == TransactionKind::write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    in_transaction_ = true;
  }
  void commit() override {
    in_transaction_ = false;
    exec("COMMIT");
  }
  void rollback() noexcept override {
    in_transaction_ = false;
    try {
      connection_.exec("ROLLBACK");
    } catch (const safer::pg::Failure&) {
      // The connection is gone: PostgreSQL rolled the transaction back.
    }
  }

  safer::pg::Rows run(const std::string& name, const std::string& sql, const std::vector<safer::pg::Param>& params) {
    try {
      reconnect_outside_transaction();
      auto rows = connection_.run_prepared(name, sql, params);
      changes_ = rows.affected();
      return rows;
    } catch (const safer::pg::Failure& failure) {
      throw from_pg(failure);
    }
  }

 protected:
  std::unique_ptr<Statement> prepare(const char* sql) override {
    return std::make_unique<PgStatement>(*this, "s" + std::to_string(++statements_), postgresql_parameters(sql));
  }

 private:
  // A lost connection is made again before the next transaction (never inside one: what it
  // had done is gone, and the statements after it must fail with it).
  void reconnect_outside_transaction() {
    if (!in_transaction_) connection_.reconnect_if_broken();
  }

  safer::pg::Connection connection_;
  bool in_transaction_ = false;
  std::int64_t changes_ = 0;
  int statements_ = 0;
};

void PgStatement::execute() { rows_.emplace(db_.run(name_, sql_, params_)); }

void PgStatement::run() {
  execute();
  row_ = rows_->size();
}

}  // namespace

void throw_write_race(const std::string& what) {
  throw Failure({"storage", "storage error: nothing was saved (" + what + ")", ""}, true, "write_race");
}

bool Database::is_postgresql_url(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::unique_ptr<Database> Database::open(const std::string& location) {
  if (is_postgresql_url(location)) {
    try {
      return std::make_unique<PgDatabase>(location);
    } catch (const safer::pg::Failure& failure) {
      throw from_pg(failure);
    }
  }
  try {
    return std::make_unique<SqliteDatabase>(location);
  } catch (const safer::sqlite::Failure& failure) {
    throw from_sqlite(failure);
  }
}

Database::Lease Database::cached(const char* sql) {
  auto& statement = cache_[sql];
  if (!statement) statement = prepare(sql);
  return Lease(*statement);
}

Transaction::Transaction(Database& db, Database::TransactionKind kind) : db_(db) { db_.begin(kind); }

Transaction::~Transaction() {
  if (open_) db_.rollback();
}

void Transaction::commit() {
  open_ = false;
  db_.commit();
}

void ArrayLiteral::separate() {
  if (size_++ > 0) elements_ += ',';
}

ArrayLiteral& ArrayLiteral::add(std::string_view text) {
  separate();
  elements_ += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') elements_ += '\\';
    elements_ += c;
  }
  elements_ += '"';
  return *this;
}

ArrayLiteral& ArrayLiteral::add(std::int64_t value) {
  separate();
  elements_ += std::to_string(value);
  return *this;
}

ArrayLiteral& ArrayLiteral::add_cell(const Cell& cell) {
  if (const auto* number = std::get_if<std::int64_t>(&cell)) return add(*number);
  if (const auto* text = std::get_if<std::string>(&cell)) return add(std::string_view(*text));
  return add_null();
}

Statement& Statement::bind(int index, const Cell& cell) {
  if (const auto* number = std::get_if<std::int64_t>(&cell)) return bind(index, *number);
  if (const auto* text = std::get_if<std::string>(&cell)) return bind(index, std::string_view(*text));
  return bind_null(index);
}

ArrayLiteral& ArrayLiteral::add_null() {
  separate();
  elements_ += "NULL";  // unquoted; a text "NULL" is quoted by add()
  return *this;
}

RowsWriter::RowsWriter(Database& db, Statement& statement, Returned returned)
    : statement_(statement), returned_(std::move(returned)), at_once_(db.postgresql()) {}

template <class Value>
RowsWriter& RowsWriter::put(Value value) {
  if (!at_once_) {
    statement_.bind(++column_, value);
    return *this;
  }
  if (columns_.size() <= static_cast<std::size_t>(column_)) columns_.emplace_back();
  columns_[static_cast<std::size_t>(column_++)].add(value);
  return *this;
}

RowsWriter& RowsWriter::add(std::string_view text) { return put(text); }
RowsWriter& RowsWriter::add(std::int64_t value) { return put(value); }

void RowsWriter::end_row() {
  column_ = 0;
  ++rows_;
  if (!at_once_) run();
}

void RowsWriter::finish() {
  if (!at_once_ || rows_ == 0) return;
  for (std::size_t i = 0; i < columns_.size(); ++i) statement_.bind(static_cast<int>(i + 1), columns_[i].text());
  run();
}

void RowsWriter::run() {
  if (returned_) {
    while (statement_.step()) returned_(statement_);
  } else {
    statement_.run();
  }
  statement_.reset();
}

std::string postgresql_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;  // the number a bare ? takes: one more than the last parameter
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out.push_back(c);
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
      continue;
    }
    if (c != '?') {
      out.push_back(c);
      continue;
    }
    std::size_t end = i + 1;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
    int number = next + 1;
    if (end > i + 1) std::from_chars(sql.data() + i + 1, sql.data() + end, number);
    next = std::max(next, number);
    out += '$';
    out += std::to_string(number);
    i = end - 1;
  }
  return out;
}

}  // namespace sync_server::db
