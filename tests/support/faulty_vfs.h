// A SQLite VFS for tests that behaves like a disk with a limited amount of free space.
//
// install() registers it as the default VFS of the process, wrapping the real one, so that a
// store under test uses it without knowing; uninstall() puts the real one back. While a budget is set, writes that grow files by
// more than the bytes left fail with SQLITE_FULL, exactly as on a full disk. While reads are
// set to fail, every read of a file fails with SQLITE_IOERR_READ, as on failing flash. It counts
// the syncs asked for, to show which commits wait for the disk.
#pragma once

#include <cstdint>
#include <optional>

namespace test_support::faulty_vfs {

void install();
// Makes the real VFS the default again (the wrapper stays registered, unused).
void uninstall();

// install() for a scope: the encrypted store's tests need the real VFS (SQLite3MC's).
struct Installed {
  Installed() { install(); }
  ~Installed() { uninstall(); }
  Installed(const Installed&) = delete;
  Installed& operator=(const Installed&) = delete;
};

// nullopt: unlimited (the default). Otherwise the number of bytes files may still grow by.
void set_free_space(std::optional<std::int64_t> bytes);

// true: every xRead fails with SQLITE_IOERR_READ until set back to false (the default).
void set_reads_fail(bool fail);

// How many times SQLite has asked for a file to be synced (xSync: an fsync) through the wrapper
// since the process started.
std::int64_t syncs();

}  // namespace test_support::faulty_vfs
