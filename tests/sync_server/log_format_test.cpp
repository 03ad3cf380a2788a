// The server's log lines as text and as JSON (sync-server/src/net/log.h, serve --log-format):
// the same event and keys, digits as numbers, quoted values whole, nothing lost.
#include <catch2/catch.hpp>

#include "net/log.h"
#include "json_checks.h"

using sync_server::log::Format;
using sync_server::log::format_line;

namespace {

const char* const kTime = "2026-12-04T10:00:00.000Z";

}  // namespace

TEST_CASE("a log line as text is the time, the event and its pairs", "[log]") {
  CHECK(format_line(Format::text, kTime, "push", "device=tab-1 changes=3") == "2026-12-04T10:00:00.000Z push device=tab-1 changes=3");
  CHECK(format_line(Format::text, kTime, "stopped", "") == "2026-12-04T10:00:00.000Z stopped");
}

TEST_CASE("a log line as JSON is one object with the same keys, counts as numbers", "[log]") {
  CHECK(format_line(Format::json, kTime, "stopped", "") == R"({"time":"2026-12-04T10:00:00.000Z","event":"stopped"})");
  CHECK(format_line(Format::json, kTime, "push", "device=tab-1 changes=3 acked_seq=120 error=storage_full") ==
        R"({"time":"2026-12-04T10:00:00.000Z","event":"push","device":"tab-1","changes":3,"acked_seq":120,)"
        R"("error":"storage_full"})");

  SECTION("a quoted value is one string, a quote inside it kept") {
    CHECK(format_line(Format::json, kTime, "accept_failed", R"(error="Too many open files" retry_ms=100)") ==
          R"({"time":"2026-12-04T10:00:00.000Z","event":"accept_failed","error":"Too many open files","retry_ms":100})");
    CHECK(format_line(Format::json, kTime, "tls_refused", R"(peer=127.0.0.1 error="bad "record" mac")") ==
          R"({"time":"2026-12-04T10:00:00.000Z","event":"tls_refused","peer":"127.0.0.1","error":"bad \"record\" mac"})");
    CHECK(format_line(Format::json, kTime, "x", R"(reason="")") == R"({"time":"2026-12-04T10:00:00.000Z","event":"x","reason":""})");
  }
  SECTION("what is not a count stays a string: signs, fractions, long digit runs, addresses") {
    const auto line = format_line(Format::json, kTime, "x", "a=-1 b=1.5 c=1234567890123456789 d=::1 e=");
    CHECK(line == R"({"time":"2026-12-04T10:00:00.000Z","event":"x","a":"-1","b":"1.5","c":"1234567890123456789",)"
                  R"("d":"::1","e":""})");
  }
  SECTION("a word that is not a pair is kept, not dropped") {
    CHECK(format_line(Format::json, kTime, "x", "odd a=1 =2 end") ==
          R"({"time":"2026-12-04T10:00:00.000Z","event":"x","a":1,"unparsed":"odd =2 end"})");
  }
  SECTION("an unterminated quote takes the rest of the line") {
    CHECK(format_line(Format::json, kTime, "x", R"(error="cut short)") ==
          R"({"time":"2026-12-04T10:00:00.000Z","event":"x","error":"cut short"})");
  }
  SECTION("control characters and invalid UTF-8 are escaped: the line stays one JSON line") {
    const auto line = format_line(Format::json, kTime, "x", "error=\"a\nb\xff\"");
    CHECK(line.find('\n') == std::string::npos);
    CHECK(test_support::parse_object(line)["error"].IsString());
  }
}
