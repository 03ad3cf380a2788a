// A thin RAII layer over libpq, for the sync server's PostgreSQL store (issue 7: several
// servers over one database). The counterpart of safer/sqlite.h.
//
// Failures throw pg::Failure carrying PostgreSQL's SQLSTATE; a store catches it at its API
// boundary. Values travel as text (libpq's text format): parameters are optional strings
// (nullopt is NULL), and so are the cells of a result. <libpq-fe.h> stays out of this header.
//
// Thread safety: a Connection belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

struct pg_conn;
struct pg_result;

namespace safer::pg {

class Failure : public std::runtime_error {
 public:
  Failure(std::string sqlstate, const std::string& what) : std::runtime_error(what), sqlstate_(std::move(sqlstate)) {}
  // Five characters ("23505": unique violation, "40001": serialization failure), or "" when
  // the failure was not PostgreSQL's answer (a lost connection).
  const std::string& sqlstate() const { return sqlstate_; }
  bool unique_violation() const { return sqlstate_ == "23505"; }
  // A transaction that may succeed if run again: serialization failure or deadlock.
  bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

 private:
  std::string sqlstate_;
};

using Param = std::optional<std::string>;

// The rows of one statement, cells as text.
class Rows {
 public:
  explicit Rows(pg_result* result) : result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const;
  bool empty() const { return size() == 0; }
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;  // "" for NULL
  std::optional<std::string> optional_text(int row, int column) const;
  std::int64_t integer(int row, int column) const;  // throws Failure if not an integer
  // Rows changed by an INSERT, UPDATE or DELETE.
  std::int64_t affected() const;

 private:
  pg_result* result_;
};

// A notification received on a LISTENed channel.
struct Notification {
  std::string channel;
  std::string payload;
};

class Connection {
 public:
  // `conninfo`: "postgresql://…" or "host=… port=… dbname=…". Throws Failure.
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with $1, $2, … bound to `params`. Throws Failure on an error.
  Rows run(std::string_view sql, const std::vector<Param>& params = {});
  // Runs `sql` as the prepared statement `name`, preparing it on the connection the first
  // time that name is used. `sql` must be the same text every time for one name.
  Rows run_prepared(const std::string& name, std::string_view sql, const std::vector<Param>& params);
  // Runs one or more statements without parameters (migrations, BEGIN, LISTEN).
  void exec(std::string_view sql);

  // Waits up to `timeout_ms` for notifications on the channels this connection LISTENs to;
  // returns those that arrived (possibly none).
  std::vector<Notification> wait_for_notifications(int timeout_ms);

  // After the connection was lost (the database restarted, a network cut), connects again.
  // Prepared statements are prepared again on next use. Returns whether it is connected.
  bool reconnect_if_broken();

  pg_conn* handle() const { return conn_; }

 private:
  [[noreturn]] void fail(pg_result* result, std::string_view what);
  Rows checked(pg_result* result);
  pg_conn* conn_ = nullptr;
  std::unordered_set<std::string> prepared_;
};

// BEGIN … COMMIT; rolled back on destruction unless committed. `isolation` is put after
// BEGIN ISOLATION LEVEL when given ("SERIALIZABLE", "REPEATABLE READ").
class Transaction {
 public:
  explicit Transaction(Connection& connection, std::string_view isolation = {});
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

// A numbered schema change for PostgreSQL, as sqlite::Migration for SQLite. The applied
// number is kept in the table schema_version; each migration runs in its own transaction,
// under an advisory lock so that servers starting together apply it once.
struct Migration {
  int number;
  const char* sql;
};
void migrate(Connection& connection, const Migration* migrations, std::size_t count);

}  // namespace safer::pg
