// The field-client program, driven through the real binary as an officer or a script would:
// records are kept offline and listed as pending, and every bad input is refused with a
// message naming the field, a non-zero exit, and nothing written.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <filesystem>
#include <fstream>

#include "json_checks.h"
#include "field_client/store.h"
#include "process.h"
#include "safer/reference_lists.h"
#include "safer/sqlite.h"
#include "temp_dir.h"

namespace {

using test_support::ProcessResult;

class Cli {
 public:
  explicit Cli(std::string store) : store_(std::move(store)) {}

  ProcessResult run(std::vector<std::string> args, test_support::ProcessOptions options = {}) const {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store_});
    auto result = test_support::run_process(args, options);
    REQUIRE_FALSE(result.timed_out);
    return result;
  }

  // Runs a command that must succeed and returns its standard output.
  std::string ok(std::vector<std::string> args) const {
    const auto result = run(std::move(args));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return result.out;
  }

  const std::string& store() const { return store_; }

 private:
  std::string store_;
};

rapidjson::Document parse(const std::string& text) { return test_support::parse_json(text); }

std::string add_household(const Cli& cli) {
  const auto out = cli.ok({"--json", "household", "add", "--address", "7 Imaginary Lane", "--postcode", "wd6 1wa",
                           "--ward", "Borehamwood Hillside"});
  return parse(out)["id"].GetString();
}

}  // namespace

TEST_CASE("a visit and a commute session recorded offline are listed as pending", "[cli]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::string household = add_household(cli);
  const auto visit_out = cli.ok({"visit", "record", "--household", household, "--status", "completed",
                                 "--crime-prevention-advice", "--fire-safety-check", "--smoke-detectors", "2",
                                 "--referral", "fire_service", "--share-basis", "consent", "--notes", "Fictional visit."});
  CHECK(visit_out.find("waiting to sync") != std::string::npos);
  cli.ok({"commute", "log", "--station", "Potters Bar", "--cards", "25", "--message", "vehicle_security,garden_tools"});

  const auto pending = parse(cli.ok({"--json", "pending"}));
  REQUIRE(pending.IsArray());
  REQUIRE(pending.Size() == 3);
  CHECK(std::string(pending[0]["entity"].GetString()) == "household");
  CHECK(std::string(pending[1]["entity"].GetString()) == "visit");
  CHECK(std::string(pending[2]["entity"].GetString()) == "commute_session");
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    CHECK(pending[i]["seq"].GetInt() == static_cast<int>(i + 1));
    CHECK(std::string(pending[i]["state"].GetString()) == "pending");
  }
  const auto& visit = pending[1]["data"];
  CHECK(visit["fire_safety_check"].GetBool());
  CHECK_FALSE(visit["first_aid_training"].GetBool());
  CHECK(visit["smoke_detectors_fitted"].GetInt() == 2);
  CHECK(std::string(pending[0]["data"]["postcode"].GetString()) == "WD6 1WA");
  CHECK(pending[2]["data"]["cards_distributed"].GetInt() == 25);

  const auto human = cli.ok({"pending"});
  CHECK(human.find("seq 3") != std::string::npos);
  const auto status = parse(cli.ok({"--json", "status"}));
  CHECK(status["pending"].GetInt() == 3);
  CHECK(status["records"]["visits"].GetInt() == 1);
}

TEST_CASE("bad input is refused naming the field, and nothing is written", "[cli][validation]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::string household = add_household(cli);
  const std::string before = cli.ok({"--json", "list"}) + cli.ok({"--json", "pending"});

  struct Case {
    const char* what;
    std::vector<std::string> args;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"smoke detectors 11", {"visit", "record", "--household", household, "--status", "completed", "--smoke-detectors", "11"}, "smoke_detectors_fitted"},
      {"an outcome on a no_answer visit", {"visit", "record", "--household", household, "--status", "no_answer", "--fire-safety-check"}, "fire_safety_check"},
      {"an unknown station", {"commute", "log", "--station", "Kings Cross", "--cards", "3"}, "station"},
      {"an unknown ward", {"household", "add", "--address", "1 Nowhere Street", "--postcode", "WD6 1WA", "--ward", "Atlantis"}, "ward"},
      {"a malformed postcode", {"household", "add", "--address", "1 Nowhere Street", "--postcode", "WD6 1W", "--ward", "Elstree"}, "postcode"},
      {"a note over 2000 characters", {"visit", "record", "--household", household, "--status", "completed", "--notes", std::string(2001, 'n')}, "notes"},
      {"an unknown status", {"visit", "record", "--household", household, "--status", "done"}, "status"},
      {"a missing status", {"visit", "record", "--household", household}, "status"},
      {"a visit to an unknown household", {"visit", "record", "--household", "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b", "--status", "completed"}, "household_id"},
      {"a time that is not RFC 3339", {"visit", "record", "--household", household, "--status", "completed", "--at", "26/11/2026"}, "visited_at"},
      {"cards over 5000", {"commute", "log", "--station", "Radlett", "--cards", "5001"}, "cards_distributed"},
      {"an end before the start", {"commute", "log", "--station", "Radlett", "--cards", "1", "--started-at", "2026-11-26T09:00:00Z", "--ended-at", "2026-11-26T08:00:00Z"}, "ended_at"},
      {"an unknown referral", {"visit", "record", "--household", household, "--status", "completed", "--referral", "police"}, "referrals"},
      {"a referral without its lawful basis", {"visit", "record", "--household", household, "--status", "completed", "--referral", "health"}, "share_basis"},
      {"a lawful basis without a referral", {"visit", "record", "--household", household, "--status", "completed", "--share-basis", "consent"}, "share_basis"},
      {"an unknown lawful basis", {"visit", "record", "--household", household, "--status", "completed", "--referral", "health", "--share-basis", "implied"}, "share_basis"},
      {"a follow-up without its due date", {"visit", "record", "--household", household, "--status", "completed", "--follow-up-required"}, "follow_up_due"},
      {"a due date that is not a date", {"visit", "record", "--household", household, "--status", "completed", "--follow-up-required", "--follow-up-due", "2026-02-30"}, "follow_up_due"},
      {"a due date without a follow-up", {"visit", "record", "--household", household, "--status", "completed", "--follow-up-due", "2026-12-18"}, "follow_up_due"},
      {"a reschedule without its agreed time", {"visit", "record", "--household", household, "--status", "rescheduled"}, "rescheduled_for"},
      {"an agreed time with a zone", {"visit", "record", "--household", household, "--status", "rescheduled", "--rescheduled-for", "2026-12-01T18:30Z"}, "rescheduled_for"},
      {"an officer setting target", {"household", "add", "--address", "2 Nowhere Street", "--postcode", "WD6 1WA", "--ward", "Elstree", "--target"}, "target"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto result = cli.run(c.args);
    INFO(result.err);
    CHECK(result.exit_code != 0);
    CHECK(result.err.find(c.field) != std::string::npos);
    CHECK(result.out.empty());

    auto json_args = c.args;
    json_args.insert(json_args.begin(), "--json");
    const auto json_result = cli.run(json_args);
    const auto error = parse(json_result.err);
    CHECK(json_result.exit_code != 0);
    const auto& body = error["error"];
    const std::string field = body.HasMember("errors") ? body["errors"][0]["field"].GetString() : body["field"].GetString();
    CHECK(field == c.field);
  }
  CHECK(cli.ok({"--json", "list"}) + cli.ok({"--json", "pending"}) == before);
}

TEST_CASE("every command answers --help", "[cli]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::vector<std::vector<std::string>> commands = {
      {}, {"household"}, {"household", "add"}, {"household", "update"}, {"household", "delete"},
      {"household", "list"}, {"household", "show"}, {"visit"}, {"visit", "record"}, {"visit", "update"},
      {"visit", "delete"}, {"visit", "list"}, {"commute"}, {"commute", "log"}, {"commute", "update"},
      {"list"}, {"pending"}, {"status"}, {"wards"}, {"stations"}};
  for (auto command : commands) {
    command.push_back("--help");
    const auto result = cli.run(command);
    INFO(command.front());
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("Usage:") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(cli.store()));  // help writes nothing

  const auto unknown = cli.run({"teleport"});
  CHECK(unknown.exit_code == 2);
}

TEST_CASE("records are updated and deleted through the command line", "[cli]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::string household = add_household(cli);
  const auto visit = parse(cli.ok({"--json", "visit", "record", "--household", household, "--status", "completed",
                                   "--fire-safety-check", "--smoke-detectors", "1"}));
  const std::string id = visit["id"].GetString();

  cli.ok({"visit", "update", id, "--no-fire-safety-check", "--follow-up-required", "--follow-up-due", "2027-03-01",
          "--notes", "Revisit in spring."});
  auto shown = parse(cli.ok({"--json", "visit", "show", id}));
  CHECK_FALSE(shown["data"]["fire_safety_check"].GetBool());
  CHECK(shown["data"]["follow_up_required"].GetBool());
  CHECK(std::string(shown["data"]["follow_up_due"].GetString()) == "2027-03-01");
  CHECK(shown["data"]["smoke_detectors_fitted"].GetInt() == 1);  // untouched fields keep their values

  const auto refused = cli.run({"visit", "update", id, "--status", "no_answer"});
  CHECK(refused.exit_code == 2);  // the kept outcome would break the no_answer rule
  CHECK(refused.err.find("follow_up_required must be false when status is no_answer") != std::string::npos);

  cli.ok({"visit", "delete", id});
  shown = parse(cli.ok({"--json", "visit", "show", id}));
  CHECK(shown["deleted"].GetBool());
  CHECK(parse(cli.ok({"--json", "visit", "list"})).Size() == 0);
  CHECK(parse(cli.ok({"--json", "pending"})).Size() == 4);
  CHECK(cli.run({"visit", "delete", id}).exit_code == 1);
}

TEST_CASE("a visit's lawful basis for sharing is set with its referrals and cleared with them", "[cli][share_basis]") {
  // --no-referrals must take the basis too: a basis without a referral would make the visit invalid.
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::string household = add_household(cli);
  const std::string id = parse(cli.ok({"--json", "visit", "record", "--household", household, "--status", "completed",
                                       "--referral", "adult_social_care", "--share-basis", "safeguarding"}))["id"]
                             .GetString();
  auto shown = parse(cli.ok({"--json", "visit", "show", id}));
  CHECK(std::string(shown["data"]["share_basis"].GetString()) == "safeguarding");
  CHECK(cli.ok({"visit", "list"}).find("referrals=adult_social_care share_basis=safeguarding") != std::string::npos);
  const auto pending = parse(cli.ok({"--json", "pending"}));
  CHECK(std::string(pending[1]["data"]["share_basis"].GetString()) == "safeguarding");

  cli.ok({"visit", "update", id, "--share-basis", "consent"});
  CHECK(std::string(parse(cli.ok({"--json", "visit", "show", id}))["data"]["share_basis"].GetString()) == "consent");

  cli.ok({"visit", "update", id, "--no-referrals"});
  shown = parse(cli.ok({"--json", "visit", "show", id}));
  CHECK(shown["data"]["referrals"].Size() == 0);
  CHECK_FALSE(shown["data"].HasMember("share_basis"));

  // A new referral needs its basis again, and the refusal names the option to give.
  const auto refused = cli.run({"visit", "update", id, "--referral", "health"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("share_basis is required with a referral") != std::string::npos);
  CHECK(refused.err.find("[--share-basis]") != std::string::npos);
  CHECK_FALSE(parse(cli.ok({"--json", "visit", "show", id}))["data"].HasMember("share_basis"));
  cli.ok({"visit", "update", id, "--referral", "health", "--share-basis", "vital_interests"});
  CHECK(std::string(parse(cli.ok({"--json", "visit", "show", id}))["data"]["share_basis"].GetString()) == "vital_interests");
}

TEST_CASE("a follow-up's due date and a reschedule's agreed time go with their condition", "[cli][work_dates]") {
  // Removing the follow-up (or the reschedule) must take its date: a date without one is invalid.
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::string household = add_household(cli);
  const std::string id = parse(cli.ok({"--json", "visit", "record", "--household", household, "--status", "completed",
                                       "--follow-up-required", "--follow-up-due", "2026-12-18"}))["id"]
                             .GetString();
  CHECK(std::string(parse(cli.ok({"--json", "visit", "show", id}))["data"]["follow_up_due"].GetString()) == "2026-12-18");
  CHECK(cli.ok({"visit", "list"}).find("follow_up_due=2026-12-18") != std::string::npos);
  cli.ok({"visit", "update", id, "--no-follow-up-required"});
  CHECK_FALSE(parse(cli.ok({"--json", "visit", "show", id}))["data"].HasMember("follow_up_due"));

  const auto refused = cli.run({"visit", "update", id, "--status", "rescheduled"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("rescheduled_for is required when status is rescheduled") != std::string::npos);
  CHECK(refused.err.find("[--rescheduled-for]") != std::string::npos);
  cli.ok({"visit", "update", id, "--status", "rescheduled", "--rescheduled-for", "2026-12-01T18:30"});
  const auto shown = parse(cli.ok({"--json", "visit", "show", id}));
  CHECK(std::string(shown["data"]["rescheduled_for"].GetString()) == "2026-12-01T18:30");
  cli.ok({"visit", "update", id, "--status", "no_answer"});
  CHECK_FALSE(parse(cli.ok({"--json", "visit", "show", id}))["data"].HasMember("rescheduled_for"));
}

TEST_CASE("on a full disk recording fails clearly and keeps what was there", "[cli][disk]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const std::string household = add_household(cli);
  // The longest note, of 4-byte characters: the write needs more room than the slack a new
  // store's file has (the outbox rebuilds of its migrations leave some).
  std::string notes;
  for (int i = 0; i < 2000; ++i) notes += "\xF0\x9D\x84\x9E";  // U+1D11E
  const std::vector<std::string> record = {"visit", "record", "--household", household, "--status", "completed",
                                           "--notes", notes};
  const std::string before = cli.ok({"--json", "pending"});

  // No file may grow, so the store cannot even set up its write-ahead log. (The store tests
  // cover a disk that fills while the store is open.)
  const auto no_room_to_grow = [&dir] {
    test_support::ProcessOptions full_disk;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      full_disk.file_size_limit = std::max<unsigned long>(full_disk.file_size_limit, std::filesystem::file_size(entry.path()));
    }
    return full_disk;
  };

  const auto result = cli.run(record, no_room_to_grow());
  INFO(result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("storage is full: nothing was saved") != std::string::npos);

  CHECK(cli.ok({"--json", "pending"}) == before);
  cli.ok({"visit", "record", "--household", household, "--status", "completed"});  // space is back
  CHECK(parse(cli.ok({"--json", "pending"})).Size() == 2);
}

TEST_CASE("status warns when the tablet's clock is more than five minutes off the server's", "[cli][sync]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const auto welcome_at = [&](std::int64_t offset_ms) {
    auto store = field_client::Store::open(cli.store());
    REQUIRE(store.ok());
    safer::Welcome welcome;
    welcome.device_id = (*store)->device()->device_id;
    welcome.user_id = "officer.ann";
    welcome.server_time = 1'764'149'400'000 + offset_ms;
    welcome.wards = safer::ReferenceLists::defaults().wards;
    welcome.stations = {"Potters Bar", "Radlett"};
    REQUIRE((*store)->apply_welcome(welcome, 1'764'149'400'000).ok());
  };

  welcome_at(5 * 60 * 1000);  // exactly five minutes: no warning
  CHECK(cli.ok({"status"}).find("Warning") == std::string::npos);
  CHECK_FALSE(parse(cli.ok({"--json", "status"}))["clock_warning"].GetBool());

  welcome_at(-(6 * 60 * 1000));
  const auto status = cli.ok({"status"});
  CHECK(status.find("Warning: this tablet's clock is 6 minutes ahead of the server's") != std::string::npos);
  CHECK(parse(cli.ok({"--json", "status"}))["clock_warning"].GetBool());
  CHECK(status.find("officer.ann (officer)") != std::string::npos);

  // The server's reference lists replace the defaults: Elstree & Borehamwood is not one now.
  const auto refused = cli.run({"commute", "log", "--station", "Elstree & Borehamwood", "--cards", "1"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("Potters Bar or Radlett") != std::string::npos);
}

TEST_CASE("sync without enrolment says what to do", "[cli][sync]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const auto result = cli.run({"sync"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("field-client enroll --server URL --token TOKEN") != std::string::npos);
  const auto bad_url = cli.run({"enroll", "--server", "http://example", "--token", "t"});
  CHECK(bad_url.exit_code == 2);
  CHECK(bad_url.err.find("ws://") != std::string::npos);
}

TEST_CASE("enroll refuses ws:// to another machine unless --allow-plaintext, and keeps that choice", "[cli][sync][tls]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const auto server_in_status = [&] { return std::string(parse(cli.ok({"--json", "status"}))["server"].IsNull() ? "" : "set"); };
  for (const char* url : {"ws://192.0.2.10:8080", "ws://sync.example:8080/v1/sync", "ws://[2001:db8::1]:8080", "ws://0.0.0.0:8080"}) {
    INFO(url);
    const auto refused = cli.run({"enroll", "--server", url, "--token", "sst_fictional"});
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("unencrypted") != std::string::npos);
    CHECK(refused.err.find("--allow-plaintext") != std::string::npos);
    CHECK(refused.err.find("sst_fictional") == std::string::npos);  // the token is never echoed
    CHECK(server_in_status().empty());                               // nothing kept
  }
  for (const char* url : {"ws://127.0.0.1:8080", "ws://127.8.9.10:1", "ws://localhost:8080", "ws://[::1]:8080",
                          "wss://sync.example:8443"}) {
    INFO(url);
    CHECK(cli.run({"enroll", "--server", url, "--token", "sst_fictional"}).exit_code == 0);
  }
  REQUIRE(cli.run({"enroll", "--server", "ws://192.0.2.10:8080", "--token", "sst_fictional", "--allow-plaintext"}).exit_code == 0);
  auto store = field_client::Store::open(cli.store());
  REQUIRE(store.ok());
  const auto enrollment = (*store)->enrollment();
  REQUIRE(enrollment);
  CHECK(enrollment->server_url == "ws://192.0.2.10:8080");
  CHECK(enrollment->allow_plaintext);
}

TEST_CASE("sync refuses a kept ws:// URL to another machine before sending anything", "[cli][sync][tls]") {
  // A store enrolled before enroll refused such URLs: sync says what to do and does not retry.
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  REQUIRE(cli.run({"enroll", "--server", "ws://127.0.0.1:1", "--token", "sst_fictional"}).exit_code == 0);
  {
    safer::sqlite::Database db(cli.store());
    db.exec("UPDATE meta SET value = 'ws://192.0.2.10:9' WHERE key = 'server_url'");
  }
  const auto once = cli.run({"sync", "--timeout", "1"});
  CHECK(once.exit_code == 1);
  CHECK(once.err.find("--allow-plaintext") != std::string::npos);
  const auto watch = cli.run({"sync", "--watch", "--timeout", "1", "--retry-base", "0.05"});
  CHECK(watch.exit_code == 1);
  CHECK(watch.err.find("stopped retrying") != std::string::npos);
}

TEST_CASE("enroll takes the token from a file or standard input, and still from argv", "[cli][sync]") {
  test_support::TempDir dir;
  const Cli cli(dir.file("tablet.db"));
  const auto kept_token = [&] {
    auto store = field_client::Store::open(cli.store());
    REQUIRE(store.ok());
    const auto enrollment = (*store)->enrollment();
    return enrollment ? enrollment->token : std::string();
  };
  const std::string server = "ws://127.0.0.1:8080";
  SECTION("--token-file: the first line, without its line ending") {
    const auto file = dir.file("token.txt");
    std::ofstream(file) << "sst_from_file\r\nsecond line ignored\n";
    REQUIRE(cli.run({"enroll", "--server", server, "--token-file", file}).exit_code == 0);
    CHECK(kept_token() == "sst_from_file");
  }
  SECTION("--token - and --token-file - read standard input") {
    REQUIRE(cli.run({"enroll", "--server", server, "--token", "-"}, {.input = "sst_from_stdin\n"}).exit_code == 0);
    CHECK(kept_token() == "sst_from_stdin");
    REQUIRE(cli.run({"enroll", "--server", server, "--token-file", "-"}, {.input = "sst_again\n"}).exit_code == 0);
    CHECK(kept_token() == "sst_again");
  }
  SECTION("--token TOKEN still works") {
    REQUIRE(cli.run({"enroll", "--server", server, "--token", "sst_on_argv"}).exit_code == 0);
    CHECK(kept_token() == "sst_on_argv");
  }
  SECTION("none, both, a missing file or an empty one: refused, nothing kept") {
    const auto empty = dir.file("empty.txt");
    std::ofstream(empty) << "\n";
    const std::vector<std::vector<std::string>> bad = {
        {"enroll", "--server", server},
        {"enroll", "--server", server, "--token", "sst_a", "--token-file", empty},
        {"enroll", "--server", server, "--token-file", dir.file("missing.txt")},
        {"enroll", "--server", server, "--token-file", empty},
        {"enroll", "--server", server, "--token", "-"},
    };
    for (const auto& args : bad) {
      const auto refused = cli.run(args);
      INFO(refused.err);
      CHECK(refused.exit_code == 2);
      CHECK(refused.err.find("token") != std::string::npos);
    }
    CHECK(kept_token().empty());
  }
}
