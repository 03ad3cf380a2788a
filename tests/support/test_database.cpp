#include "test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "pg_cluster.h"

namespace test_support {

bool testing_postgresql() {
  const char* backend = std::getenv("SAFER_TEST_DB");
  return backend != nullptr && std::string(backend) == "postgresql";
}

std::string new_test_database(const TempDir& dir, const std::string& file_name) {
  return testing_postgresql() ? new_postgresql_database() : dir.file(file_name);
}

std::string new_postgresql_database() {
  // One cluster for the program: started on first use, stopped by its destructor at exit.
  static std::mutex mutex;
  static std::unique_ptr<PgCluster> cluster;
  static int databases = 0;
  std::lock_guard lock(mutex);
  if (!cluster) cluster = std::make_unique<PgCluster>();
  const std::string name = "test_" + std::to_string(getpid()) + "_" + std::to_string(++databases);
  cluster->create_database(name);
  return cluster->url(name);
}

}  // namespace test_support
