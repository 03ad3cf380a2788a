// A stand-in for the dashboard's asset table (sync-server's generated web_assets.cpp, written by
// safer_embed_web() in cmake/WebAssets.cmake), for http_request_fuzzer: static_file() only looks
// paths up in it, so a few entries exercise every branch without building the dashboard, the
// shared web toolkit (served under /dashboard/common/) and Chart.js into the fuzzer.
#include "net/assets.h"

namespace sync_server::net {

const Asset kAssets[] = {
    {"/dashboard/index.html", "text/html; charset=utf-8", "<!doctype html><title>Safer Streets</title>\n"},
    {"/dashboard/app.js", "text/javascript; charset=utf-8", "\"use strict\";\n"},
    {"/dashboard/common/dom.js", "text/javascript; charset=utf-8", "export {};\n"},
};
const std::size_t kAssetCount = sizeof kAssets / sizeof kAssets[0];

}  // namespace sync_server::net
