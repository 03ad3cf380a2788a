/* An LD_PRELOAD shim that makes a process's SQLite files unwritable or unreadable on demand,
 * as a full disk, a read-only file system or failing flash would, for end-to-end tests of the
 * sync server (tests/e2e/faults_storage_test.cpp) and the field client
 * (tests/e2e/faults_client_reads_test.cpp).
 *
 * Contract:
 *   - While the file named by the environment variable SAFER_STORAGE_FAULT exists, every
 *     write, pwrite, pwrite64, writev, pwritev, pwritev64, fsync and fdatasync on a file
 *     descriptor whose path (readlink /proc/self/fd/N) ends in ".db", ".db-wal" or
 *     ".db-journal" fails with -1 and errno ENOSPC; with EROFS when the flag file's content
 *     starts with "readonly". Nothing is written.
 *   - While the file named by SAFER_STORAGE_READ_FAULT exists, every read, pread, pread64,
 *     readv, preadv and preadv64 on such a descriptor (".db" or ".db-wal") fails with -1 and
 *     errno EIO. When the flag file holds a decimal number N, only reads at a file offset of N
 *     or more fail: a test lets a program open its store (whose first pages hold the schema)
 *     and fails what it reads next. Nothing is read.
 *   - Everything else — other files, pipes, sockets, the WAL index (".db-shm"), and every
 *     call while the flag file is absent or the variable unset — goes to the next definition
 *     (dlsym(RTLD_NEXT, …): the C library, or a sanitizer's interceptor), with errno as it
 *     leaves it.
 *   - The flag is looked at on every call, so a test turns the fault on and off by creating
 *     and removing the file while the process runs.
 *
 * Thread and signal safety: the wrappers use only async-signal-safe calls (open, read, close,
 * readlink) besides getenv and the one-time dlsym, since write() is also called from signal
 * handlers (Boost.Asio's signal_set writes to a pipe there). The real functions are looked up
 * in a constructor, before the program's threads start; a lookup that still happens later is
 * idempotent, so a race between two threads stores the same pointer.
 *
 * Built without sanitizers (tests/CMakeLists.txt): it runs ahead of an ASan or TSan runtime
 * in a sanitized server, whose own interceptors it then calls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void*, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec*, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec*, int, off_t);
typedef ssize_t (*pwritev64_fn)(int, const struct iovec*, int, off64_t);
typedef int (*sync_fn)(int);
typedef ssize_t (*read_fn)(int, void*, size_t);
typedef ssize_t (*pread_fn)(int, void*, size_t, off_t);
typedef ssize_t (*pread64_fn)(int, void*, size_t, off64_t);
typedef ssize_t (*readv_fn)(int, const struct iovec*, int);
typedef ssize_t (*preadv_fn)(int, const struct iovec*, int, off_t);
typedef ssize_t (*preadv64_fn)(int, const struct iovec*, int, off64_t);

static write_fn real_write;
static pwrite_fn real_pwrite;
static pwrite64_fn real_pwrite64;
static writev_fn real_writev;
static pwritev_fn real_pwritev;
static pwritev64_fn real_pwritev64;
static sync_fn real_fsync;
static sync_fn real_fdatasync;
static read_fn real_read;
static pread_fn real_pread;
static pread64_fn real_pread64;
static readv_fn real_readv;
static preadv_fn real_preadv;
static preadv64_fn real_preadv64;

#define NEXT(pointer, name)                                   \
  do {                                                        \
    if ((pointer) == NULL) *(void**)&(pointer) = dlsym(RTLD_NEXT, name); \
  } while (0)

__attribute__((constructor)) static void look_up_real_functions(void) {
  NEXT(real_write, "write");
  NEXT(real_pwrite, "pwrite");
  NEXT(real_pwrite64, "pwrite64");
  NEXT(real_writev, "writev");
  NEXT(real_pwritev, "pwritev");
  NEXT(real_pwritev64, "pwritev64");
  NEXT(real_fsync, "fsync");
  NEXT(real_fdatasync, "fdatasync");
  NEXT(real_read, "read");
  NEXT(real_pread, "pread");
  NEXT(real_pread64, "pread64");
  NEXT(real_readv, "readv");
  NEXT(real_preadv, "preadv");
  NEXT(real_preadv64, "preadv64");
}

static int ends_with(const char* text, size_t length, const char* suffix) {
  const size_t suffix_length = strlen(suffix);
  return length >= suffix_length && memcmp(text + length - suffix_length, suffix, suffix_length) == 0;
}

/* Reads the flag file named by the environment variable `variable` into `content` (NUL-
 * terminated). Returns its length, or -1 when the variable is unset or the file absent. Reads
 * through real_read: the shim's own read() would come back here. */
static ssize_t read_flag(const char* variable, char* content, size_t size) {
  const char* flag_path = getenv(variable);
  if (flag_path == NULL || flag_path[0] == '\0') return -1;
  const int flag = open(flag_path, O_RDONLY | O_CLOEXEC);
  if (flag < 0) return -1;
  NEXT(real_read, "read");
  const ssize_t length = real_read(flag, content, size - 1);
  close(flag);
  content[length > 0 ? length : 0] = '\0';
  return length > 0 ? length : 0;
}

/* Whether `fd` is one of SQLite's files: its path ends in one of `suffixes` (NULL-ended). */
static int is_sqlite_file(int fd, const char* const* suffixes) {
  /* "/proc/self/fd/" and the decimal fd, without snprintf (not async-signal-safe). */
  char link[32] = "/proc/self/fd/";
  char digits[12];
  int count = 0;
  for (unsigned value = (unsigned)fd; count == 0 || value > 0; value /= 10) digits[count++] = (char)('0' + value % 10);
  size_t at = strlen(link);
  while (count > 0) link[at++] = digits[--count];
  link[at] = '\0';

  char path[4096];
  const ssize_t length = readlink(link, path, sizeof path);
  if (length <= 0 || (size_t)length >= sizeof path) return 0;
  for (; *suffixes != NULL; ++suffixes) {
    if (ends_with(path, (size_t)length, *suffixes)) return 1;
  }
  return 0;
}

/* The errno a write to `fd` must fail with now, or 0 when it must go through. Leaves errno
 * unchanged. */
static int injected_errno(int fd) {
  static const char* const kWritten[] = {".db", ".db-wal", ".db-journal", NULL};
  if (fd < 0) return 0;
  const int saved_errno = errno;
  int result = 0;
  char content[32];
  const ssize_t content_length = read_flag("SAFER_STORAGE_FAULT", content, sizeof content);
  if (content_length >= 0 && is_sqlite_file(fd, kWritten)) {
    result = content_length >= 8 && memcmp(content, "readonly", 8) == 0 ? EROFS : ENOSPC;
  }
  errno = saved_errno;
  return result;
}

/* The errno a read of `fd` at `offset` (-1: the descriptor's current offset) must fail with
 * now, or 0 when it must go through. Leaves errno unchanged. */
static int injected_read_errno(int fd, off64_t offset) {
  static const char* const kRead[] = {".db", ".db-wal", NULL};
  if (fd < 0) return 0;
  const int saved_errno = errno;
  int result = 0;
  char content[32];
  if (read_flag("SAFER_STORAGE_READ_FAULT", content, sizeof content) >= 0 && is_sqlite_file(fd, kRead)) {
    long long from = 0;
    for (const char* c = content; *c >= '0' && *c <= '9'; ++c) from = from * 10 + (*c - '0');
    if (offset < 0) offset = lseek64(fd, 0, SEEK_CUR);
    if (offset >= from) result = EIO;
  }
  errno = saved_errno;
  return result;
}

#define FAIL_READ_IF_INJECTED(fd, offset)                \
  do {                                                   \
    const int injected = injected_read_errno(fd, offset); \
    if (injected != 0) {                                 \
      errno = injected;                                  \
      return -1;                                         \
    }                                                    \
  } while (0)

#define FAIL_IF_INJECTED(fd)                 \
  do {                                       \
    const int injected = injected_errno(fd); \
    if (injected != 0) {                     \
      errno = injected;                      \
      return -1;                             \
    }                                        \
  } while (0)

ssize_t write(int fd, const void* buffer, size_t size) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_write, "write");
  return real_write(fd, buffer, size);
}

ssize_t pwrite(int fd, const void* buffer, size_t size, off_t offset) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_pwrite, "pwrite");
  return real_pwrite(fd, buffer, size, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t size, off64_t offset) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_pwrite64, "pwrite64");
  return real_pwrite64(fd, buffer, size, offset);
}

ssize_t writev(int fd, const struct iovec* vectors, int count) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_writev, "writev");
  return real_writev(fd, vectors, count);
}

ssize_t pwritev(int fd, const struct iovec* vectors, int count, off_t offset) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_pwritev, "pwritev");
  return real_pwritev(fd, vectors, count, offset);
}

ssize_t pwritev64(int fd, const struct iovec* vectors, int count, off64_t offset) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_pwritev64, "pwritev64");
  return real_pwritev64(fd, vectors, count, offset);
}

int fsync(int fd) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_fsync, "fsync");
  return real_fsync(fd);
}

int fdatasync(int fd) {
  FAIL_IF_INJECTED(fd);
  NEXT(real_fdatasync, "fdatasync");
  return real_fdatasync(fd);
}

ssize_t read(int fd, void* buffer, size_t size) {
  FAIL_READ_IF_INJECTED(fd, -1);
  NEXT(real_read, "read");
  return real_read(fd, buffer, size);
}

ssize_t pread(int fd, void* buffer, size_t size, off_t offset) {
  FAIL_READ_IF_INJECTED(fd, offset);
  NEXT(real_pread, "pread");
  return real_pread(fd, buffer, size, offset);
}

ssize_t pread64(int fd, void* buffer, size_t size, off64_t offset) {
  FAIL_READ_IF_INJECTED(fd, offset);
  NEXT(real_pread64, "pread64");
  return real_pread64(fd, buffer, size, offset);
}

ssize_t readv(int fd, const struct iovec* vectors, int count) {
  FAIL_READ_IF_INJECTED(fd, -1);
  NEXT(real_readv, "readv");
  return real_readv(fd, vectors, count);
}

ssize_t preadv(int fd, const struct iovec* vectors, int count, off_t offset) {
  FAIL_READ_IF_INJECTED(fd, offset);
  NEXT(real_preadv, "preadv");
  return real_preadv(fd, vectors, count, offset);
}

ssize_t preadv64(int fd, const struct iovec* vectors, int count, off64_t offset) {
  FAIL_READ_IF_INJECTED(fd, offset);
  NEXT(real_preadv64, "preadv64");
  return real_preadv64(fd, vectors, count, offset);
}
