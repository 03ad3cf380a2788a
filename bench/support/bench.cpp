#include "bench.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "safer/json_text.h"
#include "safer/reference_lists.h"

namespace bench {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

ServerProcess::ServerProcess(const std::string& binary, const std::string& db, const std::string& log,
                             const std::vector<std::string>& extra) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> args{binary, "serve", "--config", "", "--db", db, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(out[0]);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  // Its first line, "listening on HOST:PORT", within 30 s.
  std::string line;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (char c = 0; c != '\n';) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd ready{out[0], POLLIN, 0};
    if (left <= 0 || poll(&ready, 1, static_cast<int>(left)) <= 0 || read(out[0], &c, 1) != 1) break;
    if (c != '\n') line.push_back(c);
  }
  close(out[0]);  // the server writes nothing else to standard output
  if (line.find("listening on") == std::string::npos) {
    stop();
    throw std::runtime_error("the server did not start; see " + log);
  }
  port_ = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
}

ServerProcess::~ServerProcess() { stop(); }

std::int64_t ServerProcess::rss_kib() const { return proc_status_kib(pid_, "VmRSS:"); }

void ServerProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

std::int64_t proc_status_kib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::string(field).size()));
  }
  return 0;
}

ChildRun run_child(const std::vector<std::string>& argv_in, const std::string& stderr_path) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> args;
  // For profiling: BENCH_WRAP="strace -f -o /tmp/trace" runs every child under the wrapper.
  if (const char* wrap = std::getenv("BENCH_WRAP"); wrap != nullptr && *wrap != '\0') {
    std::istringstream words(wrap);
    for (std::string word; words >> word;) args.push_back(word);
  }
  args.insert(args.end(), argv_in.begin(), argv_in.end());
  const auto started = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(err, 2);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  ChildRun run;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) run.out.append(buffer, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  run.wall_ms = ms_since(started);
  run.max_rss_kib = usage.ru_maxrss;  // KiB on Linux
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::uint64_t raise_file_limit(std::uint64_t wanted) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min<rlim_t>(wanted, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

std::uint64_t hard_file_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_max;
}

LogSum sum_log(const std::string& log_path, const std::string& event, const std::string& key) {
  LogSum sum;
  std::ifstream log(log_path);
  const std::string marker = " " + event + " ";
  const std::string needle = " " + key + "=";
  for (std::string line; std::getline(log, line);) {
    if (line.find(marker) == std::string::npos) continue;
    ++sum.lines;
    const auto at = line.find(needle);
    if (at == std::string::npos) continue;
    const std::int64_t value = std::stoll(line.substr(at + needle.size()));
    sum.total += value;
    sum.max = std::max(sum.max, value);
  }
  return sum;
}

const std::vector<std::string>& wards() {
  static const auto lists = safer::ReferenceLists::defaults();
  return lists.wards;
}

safer::Household sample_household(std::int64_t n, bool target, std::optional<std::string> assigned_to) {
  static constexpr const char* kStreets[] = {"Benchmark Road", "Sample Lane", "Fiction Close", "Example Avenue",
                                             "Test Crescent", "Imaginary Way", "Placeholder Street", "Mock Gardens"};
  static constexpr const char* kOutward[] = {"WD6", "EN6", "WD7", "WD23", "AL2"};
  safer::Household household;
  household.address = std::to_string(n % 500 + 1) + " " + kStreets[n % 8] + ", Flat " + std::to_string(n / 500 + 1);
  const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";  // the inward code's letters
  household.postcode = std::string(kOutward[n % 5]) + " " + std::to_string(n % 10) + letters[(n / 10) % 20] +
                       letters[(n / 200) % 20];
  household.ward = wards()[static_cast<std::size_t>(n) % wards().size()];
  if (n % 3 == 0) household.vulnerability.insert(safer::Vulnerability::elderly);
  if (n % 7 == 0) household.vulnerability.insert(safer::Vulnerability::lives_alone);
  household.target = target;
  household.assigned_to = std::move(assigned_to);
  return household;
}

safer::Visit sample_visit(const std::string& household_id, safer::UnixMillis at, std::int64_t n) {
  safer::Visit visit;
  visit.household_id = household_id;
  visit.visited_at = at;
  switch (n % 10) {
    case 7: visit.status = safer::VisitStatus::no_answer; break;
    case 8: visit.status = safer::VisitStatus::declined; break;
    case 9:
      visit.status = safer::VisitStatus::rescheduled;
      visit.rescheduled_for = "2026-12-01T18:30";  // and the agreed time of a reschedule
      break;
    default: visit.status = safer::VisitStatus::completed; break;
  }
  if (visit.status == safer::VisitStatus::completed) {
    visit.outcomes.insert(safer::Outcome::crime_prevention_advice);
    if (n % 2 == 0) visit.outcomes.insert(safer::Outcome::fire_safety_check);
    if (n % 5 == 0) visit.outcomes.insert(safer::Outcome::healthy_lifestyle_advice);
    if (n % 11 == 0) {
      visit.outcomes.insert(safer::Outcome::follow_up_required);
      visit.follow_up_due = "2026-12-18";  // the field client requires one with a follow-up
    }
    visit.smoke_detectors_fitted = n % 3;
  }
  if (n % 13 == 0) {
    visit.referrals.insert(safer::Referral::fire_service);
    visit.share_basis = safer::ShareBasis::consent;  // the field client requires one with a referral
  }
  visit.notes = n % 4 == 0 ? "" : "Benchmark visit: advice given, leaflet left at the door.";
  return visit;
}

safer::UnixMillis noon_utc(int year, unsigned month, unsigned day) {
  return safer::days_from_civil(safer::CivilDate{year, month, day}) * 86'400'000 + 12 * 3'600'000;
}

std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  if (std::fabs(value) >= 1000) std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

Figure::Figure(std::string id, std::string what) {
  text_ = "{\"id\":" + safer::json_quote(id) + ",\"what\":" + safer::json_quote(what);
}

Figure& Figure::field(const std::string& name, double value) {
  text_ += "," + safer::json_quote(name) + ":" + number(value);
  return *this;
}

Figure& Figure::field(const std::string& name, std::int64_t value) {
  text_ += "," + safer::json_quote(name) + ":" + std::to_string(value);
  return *this;
}

Figure& Figure::field(const std::string& name, const std::string& value) {
  text_ += "," + safer::json_quote(name) + ":" + safer::json_quote(value);
  return *this;
}

Figure& Figure::field(const std::string& name, bool value) {
  text_ += "," + safer::json_quote(name) + ":" + (value ? "true" : "false");
  return *this;
}

Figure& Figure::value(double value, const std::string& unit) {
  value_ = value;
  field("value", value);
  return field("unit", unit);
}

Figure& Figure::target(double target, bool at_least, bool also) {
  field("target", target);
  const bool meets = value_ && (at_least ? *value_ >= target : *value_ <= target) && also;
  return field("meets", meets);
}

void Figure::print() { std::cout << text_ << "}" << std::endl; }

}  // namespace bench
