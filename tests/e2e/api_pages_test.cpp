// docs/api.md "Pages" over real HTTP against the real sync-server: the dashboard's static
// files are built into the binary, Chart.js comes bundled, and pages carry a strict CSP.
#include "api_support.h"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace api_test;
using test_support::http_get;

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("the root redirects to the dashboard, which is served with a strict CSP", "[e2e][api]") {
  // docs/api.md: coordinators open the server's address in a browser; the page must load no
  // script from elsewhere, so an injected <script src> from another site does not run.
  ServerProcess server;
  server.start();

  const auto root = http_get(server.port(), "/");
  CHECK(root.status == 302);
  CHECK(root.header("location") == "/dashboard/");

  const auto page = http_get(server.port(), "/dashboard/");
  CHECK(page.status == 200);
  CHECK(starts_with(page.header("content-type"), "text/html"));
  CHECK(page.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(page.body.find("<html") != std::string::npos);
  CHECK(page.body.find("http://") == std::string::npos);   // nothing fetched from elsewhere
  CHECK(page.body.find("https://") == std::string::npos);
}

TEST_CASE("Chart.js is served from the server itself, not a CDN", "[e2e][api]") {
  // docs/api.md: the dashboard works on a network without internet access.
  ServerProcess server;
  server.start();
  const auto chart = http_get(server.port(), "/dashboard/vendor/chart.umd.js");
  CHECK(chart.status == 200);
  CHECK(starts_with(chart.header("content-type"), "text/javascript"));
  CHECK(chart.body.size() > 50'000);  // the real library, not a stub
  CHECK(chart.body.find("Chart") != std::string::npos);
}

TEST_CASE("an unknown path is 404, also under /dashboard/ and /api/", "[e2e][api]") {
  // A mistyped address must say so rather than serve the dashboard or an empty 200.
  ServerProcess server;
  server.start();
  CHECK(http_get(server.port(), "/no-such-page").status == 404);
  CHECK(http_get(server.port(), "/dashboard/no-such-file.js").status == 404);
  CHECK(http_get(server.port(), "/dashboard/../sync-server.db").status == 404);
  const auto coordinator = server.enroll("tab-cat-1", "coord.cat", "coordinator");
  const auto api = http_get(server.port(), "/api/v1/no-such-endpoint", coordinator);
  CHECK(api.status == 404);
  CHECK(str(parse(api.body), "error") != "<absent>");
}

TEST_CASE("the web toolkit the dashboard shares with the tablet app is served under /dashboard/common/",
          "[e2e][api]") {
  // shared/web/ is built into both programs (cmake/WebAssets.cmake); the dashboard's modules
  // import it from ./common/, so a file missing here breaks every page. Module scripts run only
  // when served as JavaScript, and they too carry the strict CSP.
  ServerProcess server;
  server.start();
  for (const char* path : {"/dashboard/common/dom.js", "/dashboard/common/labels.js", "/dashboard/common/router.js"}) {
    INFO(path);
    const auto file = http_get(server.port(), path);
    CHECK(file.status == 200);
    CHECK(starts_with(file.header("content-type"), "text/javascript"));
    CHECK(file.header("content-security-policy").find("script-src 'self'") != std::string::npos);
    CHECK(file.body.find("export ") != std::string::npos);
  }
  const auto css = http_get(server.port(), "/dashboard/common/base.css");
  CHECK(css.status == 200);
  CHECK(starts_with(css.header("content-type"), "text/css"));
  const auto labels = http_get(server.port(), "/dashboard/common/labels.js");
  CHECK(labels.body.find("OUTCOME_LABELS") != std::string::npos);
}
