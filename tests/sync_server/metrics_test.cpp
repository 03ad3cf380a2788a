// GET /metrics' parts without a socket (sync-server/src/net/metrics*.h, store_metrics.h): the
// registry and its text format, who may scrape, and what the store gives a scrape. The
// end-to-end test (tests/e2e/metrics_test.cpp) scrapes the real server.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cmath>
#include <fstream>

#include "net/metrics.h"
#include "net/metrics_access.h"
#include "net/metrics_scrape.h"
#include "net/server_metrics.h"
#include "prometheus_text.h"
#include "sync_server/store_metrics.h"
#include "temp_dir.h"
#include "test_database.h"

using namespace sync_server;
using net::MetricsAccess;
namespace metrics = net::metrics;

TEST_CASE("label values and HELP text are escaped as the text format asks, and read back", "[metrics]") {
  CHECK(metrics::escape_label_value(R"(a\b"c)" "\n") == R"(a\\b\"c\n)");
  CHECK(metrics::escape_label_value("tablet-07") == "tablet-07");
  CHECK(metrics::escape_help("one\\two\nthree \"quoted\"") == "one\\\\two\\nthree \"quoted\"");
  metrics::Exposition out;
  out.family("odd_total", "counter", "A help\nwith a newline");
  out.sample("odd_total", {{"device", "x\"y\\z\nw"}}, 3);
  const auto parsed = test_support::parse_prometheus_text(out.text());
  INFO(out.text() << parsed.error);
  REQUIRE(parsed.ok());
  CHECK(parsed.value("odd_total", {{"device", "x\"y\\z\nw"}}) == 3);
}

TEST_CASE("sample values: integers as such, fractions exactly, infinities and NaN by name", "[metrics]") {
  CHECK(metrics::format_value(0) == "0");
  CHECK(metrics::format_value(1'000'000) == "1000000");
  CHECK(metrics::format_value(-3) == "-3");
  CHECK(metrics::format_value(0.25) == "0.25");
  CHECK(metrics::format_value(0.001) == "0.001");
  CHECK(std::stod(metrics::format_value(1.0 / 3)) == 1.0 / 3);
  CHECK(metrics::format_value(1e300) == "1e+300");
  CHECK(metrics::format_value(INFINITY) == "+Inf");
  CHECK(metrics::format_value(-INFINITY) == "-Inf");
  CHECK(metrics::format_value(NAN) == "NaN");
}

TEST_CASE("a histogram's buckets are cumulative, a value on a bound counts in it, and +Inf equals _count", "[metrics]") {
  metrics::Histogram histogram({1, 2, 4});
  for (const double value : {0.5, 1.0, 1.5, 4.0, 4.5, 100.0}) histogram.observe(value);
  const auto snapshot = histogram.snapshot();
  CHECK(snapshot.cumulative == std::vector<std::uint64_t>{2, 3, 4, 6});
  CHECK(snapshot.count == 6);
  CHECK(snapshot.sum == Approx(111.5));

  metrics::Exposition out;
  out.histogram("h_seconds", "A histogram", histogram);
  const auto parsed = test_support::parse_prometheus_text(out.text());
  INFO(out.text() << parsed.error);
  REQUIRE(parsed.ok());
  CHECK(parsed.value("h_seconds_bucket", {{"le", "1"}}) == 2);
  CHECK(parsed.value("h_seconds_bucket", {{"le", "4"}}) == 4);
  CHECK(parsed.value("h_seconds_bucket", {{"le", "+Inf"}}) == 6);
  CHECK(parsed.value("h_seconds_count") == 6);
  CHECK(parsed.value("h_seconds_sum") == Approx(111.5));

  metrics::Histogram empty({0.5});
  metrics::Exposition none;
  none.histogram("e", "Empty", empty);
  CHECK(none.text() == "# HELP e Empty\n# TYPE e histogram\ne_bucket{le=\"0.5\"} 0\ne_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n");
}

TEST_CASE("a labelled counter keeps its closed list of values: any other counts under other", "[metrics]") {
  metrics::LabelledCounter counter("code", {"seq_gap", "unavailable"});
  counter.at("seq_gap").add();
  counter.at("unavailable").add(2);
  counter.at("made_up").add();
  counter.at("also made up").add();
  const auto values = counter.values();
  REQUIRE(values.size() == 3);
  CHECK(values[0] == std::pair<std::string, std::uint64_t>{"seq_gap", 1});
  CHECK(values[1] == std::pair<std::string, std::uint64_t>{"unavailable", 2});
  CHECK(values[2] == std::pair<std::string, std::uint64_t>{"other", 2});
}

TEST_CASE("the whole exposition of the server's counters parses strictly", "[metrics]") {
  net::ServerMetrics server;
  server.commit_seconds.observe(0.003);
  server.record_login(net::LoginOutcome::wrong_password);
  server.record_pull_page(5, 1234);
  metrics::Exposition out;
  server.render(out);
  StoreGauges gauges;
  gauges.devices_enrolled = 3;
  gauges.devices = {{"tablet-07", 12, std::nullopt}, {"tablet-08", 40, 1764149400123}};
  net::render_store_gauges(out, gauges);
  const auto parsed = test_support::parse_prometheus_text(out.text());
  INFO(out.text() << parsed.error);
  REQUIRE(parsed.ok());
  CHECK(parsed.value("safer_sync_logins_total", {{"outcome", "wrong_password"}}) == 1);
  CHECK(parsed.value("safer_sync_pull_bytes_total") == 1234);
  CHECK(parsed.value("safer_sync_commit_seconds_bucket", {{"le", "0.0025"}}) == 0);
  CHECK(parsed.value("safer_sync_commit_seconds_bucket", {{"le", "0.005"}}) == 1);
  CHECK(parsed.value("safer_sync_device_acked_seq", {{"device", "tablet-07"}}) == 12);
  CHECK(parsed.value("safer_sync_device_last_sync_timestamp_seconds", {{"device", "tablet-08"}}) == Approx(1764149400.123));
  CHECK_FALSE(parsed.value("safer_sync_device_last_sync_timestamp_seconds", {{"device", "tablet-07"}}));
  CHECK(parsed.value("safer_sync_devices_unlisted") == 1);
  CHECK(parsed.value("safer_sync_store_up") == 1);

  metrics::Exposition failed;
  net::render_store_gauges(failed, std::nullopt);
  CHECK(failed.text() ==
        "# HELP safer_sync_store_up 1 when the store's gauges below could be read at this scrape, else 0\n"
        "# TYPE safer_sync_store_up gauge\nsafer_sync_store_up 0\n");
}

TEST_CASE("the strict parser refuses what a scraper might misread", "[metrics]") {
  const auto refused = [](const std::string& text) { return !test_support::parse_prometheus_text(text).ok(); };
  CHECK_FALSE(refused("# HELP a x\n# TYPE a gauge\na 1\n"));
  CHECK(refused("a 1\n"));                                     // no TYPE
  CHECK(refused("# TYPE a gauge\n# TYPE a gauge\na 1\n"));     // TYPE twice
  CHECK(refused("# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na 2\n"));  // a's samples apart
  CHECK(refused("# TYPE a gauge\na{x=1} 1\n"));                // unquoted label value
  CHECK(refused("# TYPE a gauge\na{x=\"\\t\"} 1\n"));          // unknown escape
  CHECK(refused("# TYPE a gauge\na one\n"));                   // not a number
  CHECK(refused("# TYPE a gauge\na 1"));                       // no final newline
  CHECK(refused("# a comment\n# TYPE a gauge\na 1\n"));        // neither HELP nor TYPE
  CHECK(refused("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"));
  CHECK(refused("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"));  // no +Inf
  CHECK(refused("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"));  // +Inf != _count
}

TEST_CASE("/metrics is off without a token or networks - with them, 403 outside, 401 without the right token",
          "[metrics][access]") {
  const auto off = MetricsAccess::make("", "");
  REQUIRE(off);
  CHECK(off->decide("127.0.0.1", "Bearer anything") == MetricsAccess::Decision::off);

  const std::string token = "s3cret-token-0123456789";
  const auto by_token = MetricsAccess::make(token, "");
  REQUIRE(by_token);
  CHECK(by_token->decide("203.0.113.9", "Bearer " + token) == MetricsAccess::Decision::allowed);
  CHECK(by_token->decide("203.0.113.9", "bearer  " + token + " ") == MetricsAccess::Decision::allowed);
  CHECK(by_token->decide("203.0.113.9", "Bearer " + token + "x") == MetricsAccess::Decision::unauthorized);
  CHECK(by_token->decide("203.0.113.9", "Bearer " + token.substr(1)) == MetricsAccess::Decision::unauthorized);
  CHECK(by_token->decide("203.0.113.9", "Basic " + token) == MetricsAccess::Decision::unauthorized);
  CHECK(by_token->decide("203.0.113.9", "") == MetricsAccess::Decision::unauthorized);
  CHECK(by_token->decide("203.0.113.9", "Bearer ") == MetricsAccess::Decision::unauthorized);

  const auto by_network = MetricsAccess::make("", "127.0.0.1/32, 10.1.0.0/16,::1");
  REQUIRE(by_network);
  CHECK(by_network->decide("127.0.0.1", "") == MetricsAccess::Decision::allowed);
  CHECK(by_network->decide("127.0.0.2", "") == MetricsAccess::Decision::forbidden);
  CHECK(by_network->decide("10.1.255.255", "") == MetricsAccess::Decision::allowed);
  CHECK(by_network->decide("10.2.0.0", "") == MetricsAccess::Decision::forbidden);
  CHECK(by_network->decide("::1", "") == MetricsAccess::Decision::allowed);
  CHECK(by_network->decide("::2", "") == MetricsAccess::Decision::forbidden);
  CHECK(by_network->decide("::ffff:10.1.2.3", "") == MetricsAccess::Decision::allowed);  // IPv4 on an IPv6 socket
  CHECK(by_network->decide("not an address", "") == MetricsAccess::Decision::forbidden);

  const auto both = MetricsAccess::make(token, "127.0.0.0/8");
  REQUIRE(both);
  CHECK(both->decide("127.0.0.5", "Bearer " + token) == MetricsAccess::Decision::allowed);
  CHECK(both->decide("127.0.0.5", "") == MetricsAccess::Decision::unauthorized);
  CHECK(both->decide("192.0.2.1", "Bearer " + token) == MetricsAccess::Decision::forbidden);

  CHECK(MetricsAccess::make("", "0.0.0.0/0"));
  for (const char* bad : {"10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "localhost", "10.0.0.0/8,",
                          ",10.0.0.0/8", "10.0.0.0/8/8"}) {
    INFO(bad);
    const auto refused = MetricsAccess::make("", bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().field == "metrics-allow");
    CHECK(refused.error().message.find("is not a network") != std::string::npos);
  }
}

TEST_CASE("the metrics token file: one line of 16 or more characters, readable by no other user", "[metrics][access]") {
  test_support::TempDir dir;
  const auto write = [&dir](const std::string& name, const std::string& text, mode_t mode) {
    const auto path = dir.file(name);
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  };
  const auto good = net::read_metrics_token(write("good", "  0123456789abcdef \n", 0600));
  REQUIRE(good);
  CHECK(*good == "0123456789abcdef");
  CHECK(net::read_metrics_token(write("group", "0123456789abcdef", 0640)));

  const auto world = net::read_metrics_token(write("world", "0123456789abcdef\n", 0644));
  REQUIRE_FALSE(world);
  CHECK(world.error().field == "metrics-token-file");
  CHECK(world.error().message.find("any user can read it") != std::string::npos);
  const auto shorter = net::read_metrics_token(write("short", "0123456789abcde\n", 0600));  // 15
  REQUIRE_FALSE(shorter);
  CHECK(shorter.error().message.find("at least 16 characters") != std::string::npos);
  CHECK_FALSE(net::read_metrics_token(write("space", "0123456789 abcdef\n", 0600)));
  CHECK_FALSE(net::read_metrics_token(write("empty", "", 0600)));
  const auto missing = net::read_metrics_token(dir.file("missing"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("cannot be read") != std::string::npos);
}

TEST_CASE("a scrape reads the database's size and the enrolled devices, those that pushed least recently first, up to the cap",
          "[metrics][store]") {
  test_support::TempDir dir;
  auto opened = ServerStore::open(test_support::new_test_database(dir));
  REQUIRE(opened);
  auto& store = **opened;
  for (const char* device : {"tab-a", "tab-b", "tab-c", "tab-gone"}) {
    REQUIRE(store.enroll(device, "officer.ann", safer::Role::officer));
  }
  REQUIRE(store.revoke("tab-gone"));
  store.touch_device("tab-b");  // sets last_sync_at, as a push does

  const auto all = StoreMetrics(store).read(200);
  REQUIRE(all);
  CHECK(all->database_bytes > 0);
  CHECK(all->devices_enrolled == 3);
  REQUIRE(all->devices.size() == 3);
  CHECK(all->devices[0].device_id == "tab-a");  // never pushed, then by id
  CHECK_FALSE(all->devices[0].last_sync_ms);
  CHECK(all->devices[1].device_id == "tab-c");
  CHECK(all->devices[2].device_id == "tab-b");
  CHECK(all->devices[2].last_sync_ms > 0);
  CHECK(all->devices[2].acked_seq == 0);

  const auto capped = StoreMetrics(store).read(1);
  REQUIRE(capped);
  CHECK(capped->devices_enrolled == 3);
  REQUIRE(capped->devices.size() == 1);
  CHECK(capped->devices[0].device_id == "tab-a");
  const auto none = StoreMetrics(store).read(0);
  REQUIRE(none);
  CHECK(none->devices.empty());
}
