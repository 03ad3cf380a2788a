// The dashboard's files, built into the server (cmake/EmbedFiles.cmake writes the table from
// sync-server/web/ and the Chart.js bundle from npm), so that it serves them with no CDN and
// nothing to install beside it.
#pragma once

#include <cstddef>
#include <string_view>

namespace sync_server::net {

struct Asset {
  std::string_view path;  // "/dashboard/index.html"
  std::string_view content_type;
  std::string_view body;
};

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

}  // namespace sync_server::net
