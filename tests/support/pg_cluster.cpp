#include "pg_cluster.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

namespace test_support {

namespace {

// A port number for the socket's name (the cluster listens on no TCP port): any free-looking
// one; two clusters in one directory never meet, each has its own directory.
int pick_port() {
  std::random_device device;
  return 40000 + static_cast<int>(device() % 20000);
}

// `text` in single quotes for /bin/sh.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::optional<std::string> PgCluster::binaries() {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb")) found.push_back((entry.path() / "bin").string());
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end());
  return found.back();  // the newest version
}

int PgCluster::run_as_owner(const std::string& command) const {
  const std::string line = as_nobody_ ? "runuser -u nobody -- /bin/sh -c " + shell_quoted(command) : command;
  const int status = std::system(line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

PgCluster::PgCluster(bool durable) {
  const auto bin = binaries();
  if (!bin) throw std::runtime_error("PostgreSQL is not installed (scripts/install-deps.sh installs it)");
  bin_ = *bin;
  data_ = dir_.file("data");
  port_ = pick_port();
  as_nobody_ = geteuid() == 0;
  if (as_nobody_) {
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr) throw std::runtime_error("running as root, and there is no user nobody to run PostgreSQL");
    if (chown(dir_.path().c_str(), nobody->pw_uid, nobody->pw_gid) != 0) throw std::runtime_error("chown failed");
  }
  chmod(dir_.path().c_str(), 0700);
  const std::string log = dir_.file("postgres.log");
  if (run_as_owner(bin_ + "/initdb -D " + shell_quoted(data_) + " -A trust -U safer -E UTF8 --locale=C.UTF-8 --no-sync >" +
                   shell_quoted(dir_.file("initdb.log")) + " 2>&1") != 0) {
    throw std::runtime_error("initdb failed; see " + dir_.file("initdb.log"));
  }
  // Tests run without autovacuum: its ANALYZE writes pg_statistic and so takes a transaction
  // id, which holds every database's pull watermark while it runs (docs/scale-out.md). The
  // tests read a pull right after a push and expect all of it; with autovacuum on, they failed
  // under load. A durable cluster (the benchmarks') keeps PostgreSQL's defaults, as a real one.
  const std::string options = "-k " + dir_.path().string() + " -p " + std::to_string(port_) + " -c listen_addresses=" +
                              (durable ? "" : " -c fsync=off -c full_page_writes=off -c autovacuum=off") +
                              " -c max_connections=200";
  if (run_as_owner(bin_ + "/pg_ctl -D " + shell_quoted(data_) + " -o " + shell_quoted(options) + " -l " + shell_quoted(log) +
                   " -w -t 30 start >/dev/null 2>&1") != 0) {
    throw std::runtime_error("PostgreSQL did not start within 30 s; see " + log);
  }
  std::ifstream pid_file(data_ + "/postmaster.pid");
  pid_file >> pid_;
  start_watcher();
}

// A test program that crashes or is killed runs no destructor: a watcher process, reading a
// pipe that only this process writes to, sees it close however the program ends, and then
// stops the postmaster by its pid and removes the directory.
void PgCluster::start_watcher() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  // Everything allocated before fork(): the child of a threaded program only execs.
  const std::string pid = std::to_string(pid_);
  // "stopped" on the pipe: the destructor stopped the cluster, and its pid may be another
  // process's by now; end of file without it: the program died with the cluster running.
  const std::string script = "read said; if [ \"$said\" != stopped ]; then kill -QUIT " + pid +
                             " 2>/dev/null && sleep 2; kill -KILL " + pid + " 2>/dev/null; fi; rm -rf " +
                             shell_quoted(dir_.path().string());
  const pid_t watcher = fork();
  if (watcher == 0) {
    dup2(fds[0], STDIN_FILENO);  // dup2 clears FD_CLOEXEC on the copy
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);
  if (watcher < 0) {
    close(fds[1]);
    return;
  }
  watcher_ = watcher;
  watcher_pipe_ = fds[1];
}

PgCluster::~PgCluster() {
  if (run_as_owner(bin_ + "/pg_ctl -D " + shell_quoted(data_) + " -m immediate -w -t 15 stop >/dev/null 2>&1") != 0 &&
      pid_ > 0) {
    kill(pid_, SIGKILL);  // by its pid, as every test cleans up
  }
  if (watcher_ > 0) {  // nothing left for it to stop; it removes the directory, then ends
    const bool told = write(watcher_pipe_, "stopped\n", 8) == 8;
    close(watcher_pipe_);
    if (!told) kill(watcher_, SIGKILL);  // never let it kill a pid that may be reused
    waitpid(watcher_, nullptr, 0);
  }
}

std::string PgCluster::conninfo(const std::string& name) const {
  return "host=" + dir_.path().string() + " port=" + std::to_string(port_) + " user=safer dbname=" + name +
         " connect_timeout=10";
}

std::string PgCluster::url(const std::string& name) const {
  return "postgresql://safer@/" + name + "?host=" + dir_.path().string() + "&port=" + std::to_string(port_) +
         "&connect_timeout=10";
}

std::string PgCluster::create_database(const std::string& name) {
  const std::string command = bin_ + "/createdb -h " + shell_quoted(dir_.path().string()) + " -p " + std::to_string(port_) +
                              " -U safer " + shell_quoted(name);
  if (run_as_owner(command + " >/dev/null 2>&1") != 0) throw std::runtime_error("createdb " + name + " failed");
  return conninfo(name);
}

}  // namespace test_support
