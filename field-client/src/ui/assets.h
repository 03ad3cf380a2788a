// The tablet app's files, built into field-client (cmake/EmbedFiles.cmake, from field-client/web).
#pragma once

#include <cstddef>
#include <string_view>

namespace field_client::ui {

struct Asset {
  std::string_view path;  // "/app/index.html"
  std::string_view content_type;
  std::string_view body;
};

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

}  // namespace field_client::ui
