// What a thief who copies a folder's files would read: a raw-byte search of every file in it
// (the store, its -wal, -shm and -journal, the key file, anything else left behind).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace test_support {

// The files under `dir` (recursively) whose bytes contain `needle` anywhere.
inline std::vector<std::string> files_containing(const std::filesystem::path& dir, std::string_view needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

// The names of the regular files under `dir`.
inline std::vector<std::string> file_names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  return names;
}

}  // namespace test_support
