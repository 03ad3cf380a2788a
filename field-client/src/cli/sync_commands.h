// The field-client commands that talk to the server: enroll, sync (once or --watch).
#pragma once

#include <string>

namespace field_client::cli {

struct SyncCommandOptions {
  bool watch = false;
  double interval_seconds = 30;     // --watch: pull at least this often
  double retry_base_seconds = 1;    // --watch: first retry delay after a failure
  double max_backoff_seconds = 60;  // --watch: longest retry delay
  double timeout_seconds = 15;
};

int run_enroll(const std::string& store_path, bool json, const std::string& server, const std::string& token,
               const std::string& device_id, const std::string& ca_file);
int run_sync(const std::string& store_path, bool json, const SyncCommandOptions& options);

}  // namespace field_client::cli
