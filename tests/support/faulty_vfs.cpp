#include "faulty_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace test_support::faulty_vfs {

namespace {

std::mutex budget_mutex;
std::optional<std::int64_t> free_space;  // guarded by budget_mutex
std::atomic<bool> reads_fail{false};
std::atomic<std::int64_t> sync_count{0};

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs wrapper_vfs;
sqlite3_io_methods wrapper_methods;

// Our file: the real file's state follows this header in the same allocation.
struct File {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* real_of(sqlite3_file* file) { return reinterpret_cast<File*>(file)->real; }

int do_close(sqlite3_file* f) {
  const int rc = real_of(f)->pMethods->xClose(real_of(f));
  sqlite3_free(real_of(f));
  return rc;
}
int do_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  if (reads_fail) return SQLITE_IOERR_READ;
  return real_of(f)->pMethods->xRead(real_of(f), buffer, amount, offset);
}
int do_write(sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = real_of(f);
  {
    std::lock_guard lock(budget_mutex);
    if (free_space) {
      sqlite3_int64 size = 0;
      real->pMethods->xFileSize(real, &size);
      const sqlite3_int64 growth = offset + amount > size ? offset + amount - size : 0;
      if (growth > *free_space) return SQLITE_FULL;
      *free_space -= growth;
    }
  }
  return real->pMethods->xWrite(real, buffer, amount, offset);
}
int do_truncate(sqlite3_file* f, sqlite3_int64 size) { return real_of(f)->pMethods->xTruncate(real_of(f), size); }
int do_sync(sqlite3_file* f, int flags) {
  ++sync_count;
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int do_file_size(sqlite3_file* f, sqlite3_int64* size) { return real_of(f)->pMethods->xFileSize(real_of(f), size); }
int do_lock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xLock(real_of(f), level); }
int do_unlock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xUnlock(real_of(f), level); }
int do_check_lock(sqlite3_file* f, int* out) { return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out); }
int do_file_control(sqlite3_file* f, int op, void* arg) { return real_of(f)->pMethods->xFileControl(real_of(f), op, arg); }
int do_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int do_device(sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); }
int do_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
int do_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void do_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int do_shm_unmap(sqlite3_file* f, int remove) { return real_of(f)->pMethods->xShmUnmap(real_of(f), remove); }
int do_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;  // no memory-mapped reads: every access goes through xRead/xWrite
  (void)f, (void)offset, (void)amount;
  return SQLITE_OK;
}
int do_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  (void)f, (void)offset, (void)p;
  return SQLITE_OK;
}

int do_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  (void)vfs;
  auto* ours = reinterpret_cast<File*>(file);
  ours->real = static_cast<sqlite3_file*>(sqlite3_malloc(real_vfs->szOsFile));
  if (ours->real == nullptr) return SQLITE_NOMEM;
  std::memset(ours->real, 0, static_cast<std::size_t>(real_vfs->szOsFile));
  const int rc = real_vfs->xOpen(real_vfs, name, ours->real, flags, out_flags);
  if (rc != SQLITE_OK || ours->real->pMethods == nullptr) {
    sqlite3_free(ours->real);
    ours->base.pMethods = nullptr;
    return rc;
  }
  ours->base.pMethods = &wrapper_methods;
  return SQLITE_OK;
}

}  // namespace

void install() {
  static std::once_flag once;
  std::call_once(once, [] {
    real_vfs = sqlite3_vfs_find(nullptr);
    wrapper_methods = sqlite3_io_methods{3,           do_close,        do_read,     do_write,      do_truncate,
                                         do_sync,     do_file_size,    do_lock,     do_unlock,     do_check_lock,
                                         do_file_control, do_sector_size, do_device, do_shm_map,  do_shm_lock,
                                         do_shm_barrier,  do_shm_unmap,   do_fetch,  do_unfetch};
    wrapper_vfs = *real_vfs;
    wrapper_vfs.zName = "faulty";
    wrapper_vfs.szOsFile = static_cast<int>(sizeof(File));
    wrapper_vfs.xOpen = do_open;
    wrapper_vfs.pNext = nullptr;
  });
  sqlite3_vfs_register(&wrapper_vfs, 1);
}

void uninstall() {
  if (real_vfs != nullptr) sqlite3_vfs_register(real_vfs, 1);
}

void set_free_space(std::optional<std::int64_t> bytes) {
  std::lock_guard lock(budget_mutex);
  free_space = bytes;
}

void set_reads_fail(bool fail) { reads_fail = fail; }

std::int64_t syncs() { return sync_count; }

}  // namespace test_support::faulty_vfs
