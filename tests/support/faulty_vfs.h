// A SQLite VFS for tests that behaves like a disk with a limited amount of free space.
//
// install() registers it as the default VFS of the process, wrapping the real one, so that a
// store under test uses it without knowing. While a budget is set, writes that grow files by
// more than the bytes left fail with SQLITE_FULL, exactly as on a full disk. While reads are
// set to fail, every read of a file fails with SQLITE_IOERR_READ, as on failing flash.
#pragma once

#include <cstdint>
#include <optional>

namespace test_support::faulty_vfs {

void install();

// nullopt: unlimited (the default). Otherwise the number of bytes files may still grow by.
void set_free_space(std::optional<std::int64_t> bytes);

// true: every xRead fails with SQLITE_IOERR_READ until set back to false (the default).
void set_reads_fail(bool fail);

}  // namespace test_support::faulty_vfs
