#include "browser.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

extern char** environ;

namespace field_client::cli {

namespace {

// `name`'s full path on $PATH, or "" when it is not there (or not executable).
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const auto candidate = (std::filesystem::path(dir) / name).string();
    if (::access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate)) return candidate;
  }
  return "";
}

std::vector<std::string> command_with_url(const std::string& command, const std::string& url) {
  std::vector<std::string> argv;
  std::stringstream words(command);
  bool placed = false;
  for (std::string word; words >> word;) {
    for (auto at = word.find("%u"); at != std::string::npos; at = word.find("%u", at + url.size())) {
      word.replace(at, 2, url);
      placed = true;
    }
    argv.push_back(std::move(word));
  }
  if (!argv.empty() && !placed) argv.push_back(url);
  return argv;
}

}  // namespace

std::vector<std::string> browser_command(const std::string& chosen, const std::string& url) {
  if (!chosen.empty()) return command_with_url(chosen, url);
  if (const char* env = std::getenv("FIELD_CLIENT_BROWSER"); env != nullptr && *env != '\0') {
    return command_with_url(env, url);
  }
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (auto found = find_on_path(name); !found.empty()) return {found, "--app=" + url};
  }
  if (auto found = find_on_path("xdg-open"); !found.empty()) return {found, url};
  return {};
}

Status start_detached(const std::vector<std::string>& argv) {
  if (argv.empty()) return Error{"argument", "no browser command was given", "browser"};
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t files;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&files);
  posix_spawnattr_init(&attributes);
  for (int fd : {0, 1, 2}) posix_spawn_file_actions_addopen(&files, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  // field-client blocks SIGINT and SIGTERM to wait for them: the browser must not inherit that.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int signal_number : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) sigaddset(&defaults, signal_number);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  const int failed = posix_spawnp(&pid, args[0], &files, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) {
    return Error{"argument", "cannot start the browser " + argv[0] + ": " + std::strerror(failed), "browser"};
  }
  std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();  // reaped whenever it ends
  return {};
}

}  // namespace field_client::cli
