// A SQLite VFS for tests that behaves like a disk with a limited amount of free space.
//
// install() registers it as the default VFS of the process, wrapping the real one, so that a
// store under test uses it without knowing. While a budget is set, writes that grow files by
// more than the bytes left fail with SQLITE_FULL, exactly as on a full disk.
#pragma once

#include <cstdint>
#include <optional>

namespace test_support::faulty_vfs {

void install();

// nullopt: unlimited (the default). Otherwise the number of bytes files may still grow by.
void set_free_space(std::optional<std::int64_t> bytes);

}  // namespace test_support::faulty_vfs
