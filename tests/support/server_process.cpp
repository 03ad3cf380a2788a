#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "child_process.h"
#include "test_database.h"

namespace test_support {

std::string sync_server_binary() { return SYNC_SERVER_BINARY; }

ServerProcess::ServerProcess(std::vector<std::string> extra_args, std::string db_path,
                             std::map<std::string, std::string> env)
    : db_path_(db_path.empty() ? new_test_database(dir_) : std::move(db_path)),
      log_path_(dir_.file("server.log")),
      extra_args_(std::move(extra_args)),
      env_(std::move(env)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill_hard();
}

void ServerProcess::start(std::chrono::milliseconds deadline) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  // --config '': no config file, even where the package installed /etc/safer-streets/sync-server.conf.
  std::vector<std::string> args = {sync_server_binary(), "serve", "--config", "", "--db", db_path_, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  // The child's environment, made before fork(): between fork and exec only async-signal-safe
  // calls are allowed, and the test may have other threads.
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    if (!env_.count(text.substr(0, text.find('=')))) environment.push_back(text);
  }
  for (const auto& [name, value] : env_) environment.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(out[1], 1);
    const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  pid_ = pid;

  // Read the first line, "listening on 127.0.0.1:PORT", with a deadline.
  std::string line;
  const auto until = std::chrono::steady_clock::now() + deadline;
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  while (line.find('\n') == std::string::npos) {
    if (std::chrono::steady_clock::now() > until) {
      close(out[0]);
      kill_hard();
      throw std::runtime_error("sync-server did not start in time; log:\n" + log());
    }
    char buffer[256];
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n > 0) {
      line.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      close(out[0]);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
      throw std::runtime_error("sync-server exited before listening; log:\n" + log());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  close(out[0]);  // the server writes nothing more to standard output
  const auto colon = line.rfind(':');
  port_ = static_cast<unsigned short>(std::stoi(line.substr(colon + 1)));
}

int ServerProcess::stop(std::chrono::milliseconds deadline) { return stop_child(pid_, deadline); }

void ServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::log() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

ProcessResult ServerProcess::admin(std::vector<std::string> args) const {
  // After the command, and its sub-command for `audit verify|list|purge`.
  const std::size_t words = !args.empty() && args[0] == "audit" ? 2 : 1;
  args.insert(args.begin(), sync_server_binary());
  args.insert(args.begin() + 1 + static_cast<std::ptrdiff_t>(std::min(words, args.size() - 1)), {"--db", db_path_});
  return run_process(args);
}

std::string ServerProcess::enroll(const std::string& device, const std::string& user, const std::string& role) const {
  const auto result = admin({"enroll", "--device", device, "--user", user, "--role", role});
  if (result.exit_code != 0) throw std::runtime_error("enroll failed: " + result.err);
  return result.out.substr(0, result.out.find('\n'));
}

}  // namespace test_support
