#include "safer/pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <chrono>

namespace safer::pg {

namespace {

std::string sqlstate_of(const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state != nullptr ? std::string(state) : std::string();
}

// libpq's messages end with a newline; ours do not.
std::string trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Rows::~Rows() { PQclear(result_); }

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int Rows::size() const { return result_ != nullptr ? PQntuples(result_) : 0; }

bool Rows::is_null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::optional<std::string> Rows::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::int64_t Rows::integer(int row, int column) const {
  const char* begin = PQgetvalue(result_, row, column);
  const char* end = begin + PQgetlength(result_, row, column);
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) throw Failure("", "column " + std::to_string(column) + " is not an integer");
  return value;
}

std::int64_t Rows::affected() const {
  const char* count = PQcmdTuples(result_);
  return count != nullptr && *count != '\0' ? std::stoll(count) : 0;
}

Connection::Connection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (conn_ == nullptr) throw Failure("", "cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    // The message names the host and the reason, never the password.
    throw Failure("", "cannot connect to PostgreSQL: " + message);
  }
  // NOTICEs ("relation … already exists, skipping") would go to standard error as they come,
  // outside the server's log format; they never report a failure.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::reconnect_if_broken() {
  if (PQstatus(conn_) == CONNECTION_OK) return true;
  PQreset(conn_);
  prepared_.clear();
  return PQstatus(conn_) == CONNECTION_OK;
}

void Connection::fail(PGresult* result, std::string_view what) {
  const std::string state = sqlstate_of(result);
  // The primary message only: the detail may quote the values of a row (a unique key's),
  // and what a store reports can reach a log.
  const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string message = primary != nullptr ? trimmed(primary) : trimmed(PQerrorMessage(conn_));
  PQclear(result);
  throw Failure(state, std::string(what) + ": " + message);
}

namespace {

std::vector<const char*> values_of(const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  return values;
}

}  // namespace

Rows Connection::checked(PGresult* result) {
  const auto status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result, "statement failed");
  return Rows(result);
}

Rows Connection::run(std::string_view sql, const std::vector<Param>& params) {
  const auto values = values_of(params);
  const std::string text(sql);
  return checked(PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                              nullptr, 0));
}

Rows Connection::run_prepared(const std::string& name, std::string_view sql, const std::vector<Param>& params) {
  if (!prepared_.contains(name)) {
    const std::string text(sql);
    checked(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
    prepared_.insert(name);
  }
  const auto values = values_of(params);
  return checked(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                nullptr, 0));
}

void Connection::exec(std::string_view sql) {
  const std::string text(sql);
  PGresult* result = PQexec(conn_, text.c_str());
  const auto status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result, "statement failed");
  PQclear(result);
}

std::vector<Notification> Connection::wait_for_notifications(int timeout_ms) {
  std::vector<Notification> received;
  const auto collect = [&] {
    while (PGnotify* notify = PQnotifies(conn_)) {
      received.push_back({notify->relname, notify->extra != nullptr ? notify->extra : ""});
      PQfreemem(notify);
    }
  };
  collect();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (received.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd watch{PQsocket(conn_), POLLIN, 0};
    if (poll(&watch, 1, static_cast<int>(left.count())) < 0) break;
    if (PQconsumeInput(conn_) == 0) fail(nullptr, "waiting for notifications");
    collect();
  }
  return received;
}

Transaction::Transaction(Connection& connection, std::string_view isolation) : connection_(connection) {
  connection_.exec(isolation.empty() ? std::string("BEGIN") : "BEGIN ISOLATION LEVEL " + std::string(isolation));
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    connection_.exec("ROLLBACK");
  } catch (const Failure&) {
    // The connection is gone; PostgreSQL rolls back what it had.
  }
}

void Transaction::commit() {
  open_ = false;
  connection_.exec("COMMIT");
}

void migrate(Connection& connection, const Migration* migrations, std::size_t count) {
  // One server at a time: the others wait here, then find the migrations applied.
  connection.exec("SELECT pg_advisory_lock(7226134)");
  try {
    connection.exec("CREATE TABLE IF NOT EXISTS schema_version (number integer NOT NULL)");
    auto current_rows = connection.run("SELECT coalesce(max(number), 0) FROM schema_version");
    const std::int64_t current = current_rows.integer(0, 0);
    const std::int64_t newest = count > 0 ? migrations[count - 1].number : 0;
    if (current > newest) {
      throw Failure("", "the database was written by a newer server (schema " + std::to_string(current) +
                            ", this server knows " + std::to_string(newest) + ")");
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (migrations[i].number <= current) continue;
      Transaction transaction(connection);
      connection.exec(migrations[i].sql);
      connection.run("INSERT INTO schema_version (number) VALUES ($1)", {std::to_string(migrations[i].number)});
      transaction.commit();
    }
  } catch (...) {
    connection.exec("SELECT pg_advisory_unlock(7226134)");
    throw;
  }
  connection.exec("SELECT pg_advisory_unlock(7226134)");
}

}  // namespace safer::pg
