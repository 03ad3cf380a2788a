#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace test_support {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], 1);
    const int err = open(log_path.empty() ? "/dev/null" : log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, 2);
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  out_ = out[0];
  fcntl(out_, F_SETFL, O_NONBLOCK);
}

ChildProcess::~ChildProcess() {
  stop(std::chrono::seconds(5));
  if (out_ >= 0) close(out_);
}

std::string ChildProcess::first_line(std::chrono::milliseconds deadline) {
  std::string line;
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (const auto end = line.find('\n'); end != std::string::npos) return line.substr(0, end);
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("no first line from the child in time");
    char buffer[512];
    const ssize_t n = read(out_, buffer, sizeof buffer);
    if (n > 0) {
      line.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      throw std::runtime_error("the child exited before its first line");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

int stop_child(pid_t& pid, std::chrono::milliseconds deadline) {
  if (pid <= 0) return -1;
  kill(pid, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      pid = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ChildProcess::stop(std::chrono::milliseconds deadline) { return stop_child(pid_, deadline); }

}  // namespace test_support
