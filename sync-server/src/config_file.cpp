#include "config_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace sync_server {
namespace {

safer::Error refused(const std::string& path, const std::string& key, const std::string& what) {
  return {"invalid", path + ": " + (key.empty() ? "" : "key \"" + key + "\": ") + what, key.empty() ? "config" : key};
}

// What to say of a key that names no option: the option it may have meant.
std::string unknown_key_hint(const CLI::App& command, const std::string& key) {
  std::string dashed = key;
  for (char& c : dashed) {
    if (c == '_') c = '-';
  }
  if (dashed != key && command.get_option_no_throw("--" + dashed) != nullptr) return " (did you mean \"" + dashed + "\"?)";
  return " (the keys are the long options of `sync-server " + command.get_name() + " --help` without their dashes)";
}

safer::Status apply_item(CLI::App& command, const std::string& path, const CLI::ConfigItem& item) {
  const std::string key = item.name;
  CLI::Option* option = command.get_option_no_throw("--" + key);
  if (option == nullptr) return refused(path, key, "unknown key" + unknown_key_hint(command, key));
  if (!option->get_configurable()) return refused(path, key, "cannot be set in a config file");
  if (item.inputs.size() != 1) return refused(path, key, "needs exactly one value (not a list, nor the key twice)");
  const std::string& value = item.inputs.front();
  if (value.empty()) return refused(path, key, "is empty: to keep the default, leave the key out");
  if (value.front() == '"' || value.front() == '\'') {
    return refused(path, key, "its quote is not closed (a '#' inside quotes starts a comment there)");
  }
  if (option->count() > 0) return {};  // given on the command line, which wins
  try {
    option->add_result(value);
    option->run_callback();  // validates (ranges, existing files), converts, and stores the value
  } catch (const CLI::Error& error) {
    return refused(path, key, error.what());
  }
  return {};
}

// CLI11 2.1's reader ends a value at its first '#', even inside quotes, and keeps the rest
// silently. Refused instead: a '#' that is not after a space, and a quote left open by a cut.
safer::Status check_comments(const std::string& path, const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto equals = line.find('=');
    const auto first = line.find_first_not_of(" \t");
    if (equals == std::string::npos || first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    const auto key = CLI::detail::trim_copy(line.substr(0, equals));
    const auto value = line.substr(equals + 1);
    for (auto hash = value.find('#'); hash != std::string::npos; hash = value.find('#', hash + 1)) {
      if (hash > 0 && value[hash - 1] != ' ' && value[hash - 1] != '\t') {
        return refused(path, key, "a '#' in a value starts a comment there: percent-encode it in a URL (%23)");
      }
    }
  }
  return {};
}

}  // namespace

safer::Status apply_config_file(CLI::App& command, const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return refused(path, "", std::string("cannot read the config file: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return refused(path, "", "the config file is a directory");
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) return refused(path, "", std::string("cannot read the config file: ") + std::strerror(errno));
  if (auto comments = check_comments(path, text.str()); !comments) return comments;
  std::vector<CLI::ConfigItem> items;
  try {
    text.clear();
    text.seekg(0);
    items = CLI::ConfigTOML().from_config(text);
  } catch (const CLI::Error& error) {
    return refused(path, "", std::string("cannot read the config file: ") + error.what());
  }
  std::set<std::string> seen;
  for (const auto& item : items) {
    // A line without "=" comes as a key with spaces in it (and dots, split into parents). Only
    // its first word is repeated: the rest may be a value, such as a URL with a password.
    if (const auto line = item.fullname(); line.find_first_of(" \t") != std::string::npos) {
      return refused(path, "", "the line that starts \"" + line.substr(0, line.find_first_of(" \t")) +
                                   "\" is not a line `key = value`");
    }
    // A section [name] opens with an item "++" and closes with "--"; its keys carry it as a parent.
    if (!item.parents.empty()) {
      std::string section;
      for (const auto& parent : item.parents) section += (section.empty() ? "" : ".") + parent;
      const bool marker = item.name == "++" || item.name == "--";
      return refused(path, marker ? "" : section + "." + item.name,
                     (marker ? "section [" + section + "]: " : std::string()) +
                         "sections and dotted keys are not used: write each key on a line of its own at the top");
    }
    if (!seen.insert(item.name).second) return refused(path, item.name, "is set twice");
    if (auto applied = apply_item(command, path, item); !applied) return applied;
  }
  return {};
}

std::string config_exposure_warning(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || (info.st_mode & S_IROTH) == 0) return {};
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  static const std::regex secret(R"((postgres(ql)?://[^/@\s:]+:[^@\s]+@)|([?&]password=))", std::regex::icase);
  if (!std::regex_search(text.str(), secret)) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
  return "every user of this machine can read " + path + " (mode " + mode +
         "), which holds a database password: run chmod 640 " + path +
         " (group safer-streets), or move the password to the service user's .pgpass";
}

}  // namespace sync_server
