// `field-client ui`, the tablet app's local server: only 127.0.0.1, only its own Host, only
// with this launch's key, writes only from its own origin; its API records and validates as
// the store does; the PIN is the store's key: the app starts locked, limits wrong PINs and
// wipes the store at the limit, and a coordinator's wipe order erases it too.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <filesystem>
#include <fstream>
#include <thread>

#include "json_checks.h"
#include "safer/time.h"
#include "legacy_store.h"
#include "raw_bytes.h"
#include "wipe_order_server.h"
#include "child_process.h"
#include "process.h"
#include "server_process.h"
#include "ws_test_client.h"

namespace {

using test_support::http_request;

constexpr const char* kPin = "246813";

test_support::ProcessResult set_pin(const std::string& store, const std::string& pin, int max_attempts = 10) {
  return test_support::run_process(
      {FIELD_CLIENT_BINARY, "--store", store, "set-pin", "--pin-max-attempts", std::to_string(max_attempts)},
      test_support::ProcessOptions{.input = pin + "\n"});
}

struct App {
  test_support::TempDir dir;
  std::string store = dir.file("tablet.db");
  std::vector<std::string> extra;
  std::unique_ptr<test_support::ChildProcess> process;
  unsigned short port = 0;
  std::string key;

  // `pin`: set with `field-client set-pin` before the app starts ("" for none), which
  // encrypts the store; `max_attempts` wrong PINs then wipe it.
  explicit App(std::vector<std::string> extra_args = {}, const std::string& pin = "", int max_attempts = 10)
      : extra(std::move(extra_args)) {
    if (!pin.empty()) REQUIRE(set_pin(store, pin, max_attempts).exit_code == 0);
    start();
  }

  void start() {
    std::vector<std::string> argv = {FIELD_CLIENT_BINARY, "--store", store, "ui", "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<test_support::ChildProcess>(argv, dir.file("ui.log"));
    const std::string line = process->first_line();  // "field-client ui: open http://127.0.0.1:PORT/?key=KEY"
    const auto host = line.find("127.0.0.1:");
    port = static_cast<unsigned short>(std::stoi(line.substr(host + 10)));
    key = line.substr(line.find("key=") + 4);
  }

  // Stops the app (SIGTERM, by its pid) and starts it again on the same store.
  void restart() {
    REQUIRE(process->stop() == 0);
    process.reset();
    start();
  }

  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string cookie() const { return "ss_app_" + std::to_string(port) + "=" + key; }
  std::vector<std::pair<std::string, std::string>> with_key() const { return {{"X-Field-Client-Key", key}}; }
  test_support::HttpReply call(const std::string& method, const std::string& target, const std::string& body = "") const {
    return http_request(port, method, target, with_key(), body);
  }
};

rapidjson::Document parse(const std::string& text) { return test_support::parse_object(text); }

}  // namespace

TEST_CASE("the tablet app answers only its own host, and only with this launch's key", "[e2e][ui]") {
  App app;
  const std::string base = "/api/status";
  CHECK(http_request(app.port, "GET", base).status == 403);                                   // no key
  // The key with its first character changed (a fixed "0" was the key itself one time in 16).
  const std::string wrong_key = (app.key[0] == '0' ? "1" : "0") + app.key.substr(1);
  CHECK(http_request(app.port, "GET", base, {{"X-Field-Client-Key", wrong_key}}).status == 403);
  CHECK(http_request(app.port, "GET", base, {{"Cookie", "ss_app_" + std::to_string(app.port) + "=guess"}}).status == 403);
  CHECK(http_request(app.port, "GET", base, {{"Host", "evil.example:" + std::to_string(app.port)},
                                             {"X-Field-Client-Key", app.key}}).status == 421);  // DNS rebinding
  CHECK(http_request(app.port, "GET", "/app/").status == 403);

  const auto launch = http_request(app.port, "GET", "/?key=" + app.key);
  CHECK(launch.status == 302);
  CHECK(launch.header("location") == "/app/");
  const auto cookie = launch.header("set-cookie");
  CHECK(cookie.find(app.cookie() + ";") == 0);  // named for the port: ss_app_PORT
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(http_request(app.port, "GET", "/?key=wrong").status == 403);

  const auto page = http_request(app.port, "GET", "/app/", {{"Cookie", app.cookie()}});
  CHECK(page.status == 200);
  CHECK(page.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(http_request(app.port, "GET", base, {{"Cookie", app.cookie()}}).status == 200);

  // A launch key opens only its own launch.
  App other;
  CHECK(http_request(other.port, "GET", base, {{"X-Field-Client-Key", app.key}}).status == 403);
}

// Why: every port of 127.0.0.1 is the same site to a browser, so a page served by any other
// local program gets the app's SameSite=Strict cookie sent along with its requests; only the
// Origin tells such a write apart. Regression: any write with the cookie was accepted.
TEST_CASE("writes are accepted only from the app's own origin, or from a program with the key", "[e2e][ui][origin]") {
  App app;
  const std::string household = R"({"address":"7 Aspen Close","postcode":"WD6 2AB","ward":"Elstree"})";
  const auto with_cookie = [&](std::string origin) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Cookie", app.cookie()}};
    if (!origin.empty()) headers.emplace_back("Origin", std::move(origin));
    return headers;
  };
  const auto households = [&] { return parse(app.call("GET", "/api/households").body)["households"].Size(); };

  for (const std::string foreign : {"http://127.0.0.1:" + std::to_string(app.port + 1), "http://localhost:" +
                                        std::to_string(app.port + 1), std::string("http://evil.example"), std::string("null"),
                                    "https://127.0.0.1:" + std::to_string(app.port), app.origin() + "/"}) {
    INFO("Origin: " << foreign);
    const auto refused = http_request(app.port, "POST", "/api/households", with_cookie(foreign), household);
    CHECK(refused.status == 403);
    CHECK(refused.body.find("Origin") != std::string::npos);
    // The key header does not make a foreign page's write acceptable either.
    auto keyed = app.with_key();
    keyed.emplace_back("Origin", foreign);
    CHECK(http_request(app.port, "POST", "/api/households", keyed, household).status == 403);
  }
  // The cookie alone, with no Origin: a browser always sends Origin on a write, so this is not one.
  CHECK(http_request(app.port, "POST", "/api/households", with_cookie(""), household).status == 403);
  CHECK(households() == 0);  // nothing was saved

  // The controls: the app's own page, and a program that holds the key.
  const auto from_page = http_request(app.port, "POST", "/api/households", with_cookie(app.origin()), household);
  INFO(from_page.body);
  CHECK(from_page.status == 201);
  const auto created = app.call("POST", "/api/households", R"({"address":"9 Aspen Close","postcode":"WD6 2AB","ward":"Elstree"})");
  REQUIRE(created.status == 201);
  CHECK(households() == 2);

  // PUT, DELETE and the unlock call are writes too.
  const std::string id = parse(created.body)["id"].GetString();
  const auto foreign = with_cookie("http://127.0.0.1:" + std::to_string(app.port + 1));
  CHECK(http_request(app.port, "PUT", "/api/households/" + id, foreign, household).status == 403);
  CHECK(http_request(app.port, "DELETE", "/api/households/" + id, foreign).status == 403);
  CHECK(http_request(app.port, "POST", "/api/unlock", foreign, R"({"pin":"135799"})").status == 403);
  // Reads are not writes: a foreign Origin reads nothing it could not (the browser's CORS
  // keeps the answer from the foreign page), and the app's own reads carry no Origin.
  CHECK(http_request(app.port, "GET", "/api/status", with_cookie("http://evil.example")).status == 200);
}

// Why: cookies are not port-scoped, so two apps (or another local server) on 127.0.0.1 would
// overwrite each other's launch cookie if it had one fixed name. Regression: it was "fc_key".
TEST_CASE("the launch cookie is named for the app's port", "[e2e][ui]") {
  App app;
  App other;
  const auto launch = http_request(app.port, "GET", "/?key=" + app.key);
  CHECK(launch.header("set-cookie").rfind("ss_app_" + std::to_string(app.port) + "=", 0) == 0);
  const auto other_launch = http_request(other.port, "GET", "/?key=" + other.key);
  CHECK(other_launch.header("set-cookie").rfind("ss_app_" + std::to_string(other.port) + "=", 0) == 0);

  // The browser sends both apps' cookies to each: each app finds its own.
  const std::string both = app.cookie() + "; " + other.cookie();
  CHECK(http_request(app.port, "GET", "/api/status", {{"Cookie", both}}).status == 200);
  CHECK(http_request(other.port, "GET", "/api/status", {{"Cookie", both}}).status == 200);
  // The key under another name (the old fixed one, or another port's) opens nothing.
  CHECK(http_request(app.port, "GET", "/api/status", {{"Cookie", "fc_key=" + app.key}}).status == 403);
  CHECK(http_request(app.port, "GET", "/api/status", {{"Cookie", "ss_app_" + std::to_string(other.port) + "=" + app.key}}).status == 403);
  // A cookie of the same name that another local page set first does not hide the right one.
  CHECK(http_request(app.port, "GET", "/api/status", {{"Cookie", "ss_app_" + std::to_string(app.port) + "=planted; " + app.cookie()}})
            .status == 200);
}

TEST_CASE("the app's API records, validates, counts card holders and reports rejections", "[e2e][ui]") {
  App app;
  const auto invalid = app.call("POST", "/api/households", R"({"address":"","postcode":"nope","ward":"Atlantis"})");
  CHECK(invalid.status == 400);
  const auto problems = parse(invalid.body);
  CHECK(problems["errors"].Size() == 3);
  CHECK(parse(app.call("GET", "/api/households").body)["households"].Size() == 0);  // nothing saved

  const auto created = app.call("POST", "/api/households", R"({"address":"3 Example Row","postcode":"wd6 3ab","ward":"Elstree"})");
  REQUIRE(created.status == 201);
  const std::string household = parse(created.body)["id"].GetString();
  const auto visit_body = [&](const char* status, bool follow_up, const char* at) {
    return std::string(R"({"household_id":")") + household + R"(","visited_at":")" + at + R"(","status":")" + status +
           R"(","follow_up_required":)" + (follow_up ? R"(true,"follow_up_due":"2026-12-18")" : "false") + "}";
  };
  REQUIRE(app.call("POST", "/api/visits", visit_body("completed", true, "2026-11-20T10:00:00Z")).status == 201);
  auto listed = parse(app.call("POST", "/api/households/search", R"({"q":"WD63"})").body);  // postcode without its space
  REQUIRE(listed["households"].Size() == 1);
  CHECK(listed["households"][0]["follow_up_outstanding"].GetBool());
  CHECK(listed["households"][0]["mine"].GetBool());
  REQUIRE(app.call("POST", "/api/visits", visit_body("completed", false, "2026-11-25T10:00:00Z")).status == 201);
  listed = parse(app.call("POST", "/api/households/search", R"({"q":"EXAMPLE row"})").body);
  CHECK_FALSE(listed["households"][0]["follow_up_outstanding"].GetBool());
  CHECK(std::string(listed["households"][0]["last_visit"]["visited_at"].GetString()) == "2026-11-25T10:00:00.000Z");

  const auto check = parse(app.call("POST", "/api/validate/visit", visit_body("no_answer", true, "2026-11-26T10:00:00Z")).body);
  REQUIRE(check["errors"].Size() == 1);
  CHECK(std::string(check["errors"][0]["field"].GetString()) == "follow_up_required");

  // Started now: a session open past its local day takes no taps (store.h).
  const auto session = app.call("POST", "/api/commute", R"({"station":"Radlett","started_at":")" +
                                                            safer::format_rfc3339(safer::now_unix_millis()) +
                                                            R"(","cards_distributed":0})");
  REQUIRE(session.status == 201);
  const std::string id = parse(session.body)["id"].GetString();
  for (int i = 0; i < 5; ++i) app.call("POST", "/api/commute/" + id + "/count", R"({"delta":1})");
  const auto corrected = parse(app.call("POST", "/api/commute/" + id + "/count", R"({"delta":-1})").body);
  CHECK(corrected["cards_distributed"].GetInt() == 4);
  CHECK(app.call("POST", "/api/commute/" + id + "/count", R"({"delta":"lots"})").status == 400);
  const auto status = parse(app.call("GET", "/api/status").body);
  CHECK(status["pending"].GetInt() == 10);  // household, 2 visits, session, 5 counts and 1 correction
  CHECK(status["online"].IsNull());        // no server yet: neither online nor offline
}

// Why: an officer adding a household found in the field may not see that the register already
// has it under a slightly different spelling (issue 15): two records of one home split its
// visits. The app warns of the same postcode and house number, and adds it only when told to.
TEST_CASE("adding a household with the postcode and house number of another asks before adding it", "[e2e][ui][near_duplicate]") {
  App app;
  const auto add = [&](const std::string& address, const std::string& postcode, const std::string& extra = "") {
    return app.call("POST", "/api/households", R"({"address":")" + address + R"(","postcode":")" + postcode +
                                                   R"(","ward":"Shenley")" + extra + "}");
  };
  const auto count = [&] { return parse(app.call("GET", "/api/households").body)["total"].GetInt(); };
  const auto first = add("Flat 2, 11 Fir Drive", "WD7 9FF");
  REQUIRE(first.status == 201);
  const std::string first_id = parse(first.body)["id"].GetString();

  // Another spelling, the postcode in another form: the same home, refused until confirmed.
  const auto warned = add("flat 2 11 fir drive", "wd79ff");
  CHECK(warned.status == 409);
  const auto body = parse(warned.body);
  CHECK(std::string(body["code"].GetString()) == "near_duplicate");
  CHECK(std::string(body["household_id"].GetString()) == first_id);
  CHECK(warned.body.find("Fir") == std::string::npos);  // the other address is not in the answer
  CHECK(warned.body.find("fir") == std::string::npos);
  CHECK(count() == 1);  // nothing saved
  CHECK(add("Flat 2 11 Fir Drive", "WD7 9FF", R"(,"near_duplicate_ok":false)").status == 409);
  CHECK(add("Flat 2 11 Fir Drive", "WD7 9FF", R"(,"near_duplicate_ok":"yes")").status == 409);

  // Not near duplicates: another flat, another postcode, an address with no number.
  CHECK(add("Flat 3, 11 Fir Drive", "WD7 9FF").status == 201);
  CHECK(add("Flat 2, 11 Fir Drive", "WD7 9FG").status == 201);
  CHECK(add("Fir Cottage", "WD7 9FF").status == 201);
  CHECK(add("Fir Cottage", "WD7 9FF").status == 201);
  CHECK(count() == 5);

  // Told to: added, and the store then holds both.
  const auto confirmed = add("Flat 2 11 Fir Drive", "WD7 9FF", R"(,"near_duplicate_ok":true)");
  CHECK(confirmed.status == 201);
  CHECK(count() == 6);
  // An invalid household is refused for what is wrong with it, before any near duplicate.
  const auto invalid = add("Flat 3, 11 Fir Drive", "WD7 9F");
  CHECK(invalid.status == 400);
  CHECK(invalid.body.find("postcode") != std::string::npos);
  // Correcting a household (PUT) is not adding one: no warning.
  CHECK(app.call("PUT", "/api/households/" + std::string(parse(confirmed.body)["id"].GetString()),
                 R"({"address":"Flat 2, 11 Fir Drive","postcode":"WD7 9FF","ward":"Shenley"})").status == 200);
}

// Why: the list used to stop at 500 households without a word, a household past that showed
// "not found", and the search text went in the URL (so in the app's history).
TEST_CASE("the app's API pages through every household, finds any by id, and searches by POST only", "[e2e][ui]") {
  App app;
  constexpr int kHouseholds = 530;
  for (int n = 0; n < kHouseholds; ++n) {
    const auto created = app.call("POST", "/api/households", R"({"address":")" + std::to_string(n) +
                                                                 R"( Paging Street","postcode":")" +
                                                                 (n % 2 == 0 ? "WD6 1AB" : "EN6 2DD") + R"(","ward":"Elstree"})");
    REQUIRE(created.status == 201);
  }
  std::set<std::string> seen;
  std::string last_id;
  for (int offset = 0; offset < kHouseholds; offset += 200) {
    const auto page = parse(app.call("GET", "/api/households?offset=" + std::to_string(offset) + "&limit=200").body);
    CHECK(page["total"].GetInt() == kHouseholds);
    CHECK(page["households"].Size() == static_cast<unsigned>(std::min(200, kHouseholds - offset)));
    for (const auto& household : page["households"].GetArray()) {
      seen.insert(household["id"].GetString());
      last_id = household["id"].GetString();
    }
  }
  CHECK(seen.size() == kHouseholds);
  // Without paging arguments: one page, and the total says there are more.
  const auto first = parse(app.call("GET", "/api/households").body);
  CHECK(first["households"].Size() == 100);
  CHECK(first["total"].GetInt() == kHouseholds);

  // The last household of the list opens like any other.
  const auto one = app.call("GET", "/api/households/" + last_id);
  REQUIRE(one.status == 200);
  CHECK(std::string(parse(one.body)["household"]["id"].GetString()) == last_id);
  CHECK(app.call("GET", "/api/households/0192f5e4-0000-7000-8000-999999999999").status == 404);

  // The search: in the body, paged and counted; in the URL it is refused without echoing it.
  const auto found = parse(app.call("POST", "/api/households/search", R"({"q":"en6 2dd","offset":200,"limit":500})").body);
  CHECK(found["total"].GetInt() == kHouseholds / 2);
  CHECK(found["households"].Size() == static_cast<unsigned>(kHouseholds / 2 - 200));
  const auto in_url = app.call("GET", "/api/households?q=Paging");
  CHECK(in_url.status == 400);
  CHECK(in_url.body.find("Paging") == std::string::npos);
  CHECK(app.call("GET", "/api/households?limit=501").status == 400);
  CHECK(app.call("POST", "/api/households/search", R"({"q":7})").status == 400);
}

TEST_CASE("the app's API asks a referral's lawful basis, lists its choices and keeps it", "[e2e][ui][share_basis]") {
  App app;
  const auto created = app.call("POST", "/api/households", R"({"address":"5 Example Row","postcode":"WD6 3AB","ward":"Elstree"})");
  REQUIRE(created.status == 201);
  const std::string household = parse(created.body)["id"].GetString();
  const std::string visit = std::string(R"({"household_id":")") + household +
                            R"(","visited_at":"2026-11-26T10:00:00Z","status":"completed","referrals":["victim_support"])";

  const auto reference = parse(app.call("GET", "/api/reference").body);
  REQUIRE(reference["share_bases"].Size() == 3);
  CHECK(std::string(reference["share_bases"][0].GetString()) == "consent");

  const auto refused = app.call("POST", "/api/visits", visit + "}");
  CHECK(refused.status == 400);
  CHECK(parse(refused.body)["errors"][0]["field"].GetString() == std::string("share_basis"));
  CHECK(parse(app.call("GET", "/api/visits?household=" + household).body)["visits"].Size() == 0);

  REQUIRE(app.call("POST", "/api/visits", visit + R"(,"share_basis":"safeguarding"})").status == 201);
  const auto listed = parse(app.call("GET", "/api/visits?household=" + household).body);
  REQUIRE(listed["visits"].Size() == 1);
  CHECK(std::string(listed["visits"][0]["data"]["share_basis"].GetString()) == "safeguarding");
}

TEST_CASE("with a PIN the app locks after the idle time and opens only for the right PIN", "[e2e][ui][pin]") {
  App app({"--pin-lock-minutes", "0.005"}, kPin);
  REQUIRE(app.call("POST", "/api/unlock", std::string(R"({"pin":")") + kPin + "\"}").status == 200);
  CHECK(app.call("GET", "/api/households").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // past 0.3 s of idleness
  CHECK(app.call("GET", "/api/households").status == 423);
  CHECK(parse(app.call("GET", "/api/status").body)["locked"].GetBool());
  CHECK(app.call("POST", "/api/unlock", R"({"pin":"135799"})").status == 403);
  CHECK(app.call("GET", "/api/households").status == 423);
  CHECK(app.call("POST", "/api/unlock", std::string(R"({"pin":")") + kPin + "\"}").status == 200);
  CHECK(app.call("GET", "/api/households").status == 200);
}

// Why: four digits are 10 000 guesses; the issue asks for at least six, refused clearly.
TEST_CASE("set-pin refuses a PIN shorter than 6 characters, naming the rule", "[e2e][ui][pin]") {
  test_support::TempDir dir;
  const std::string store = dir.file("tablet.db");
  for (const std::string too_short : {"2468", "12345"}) {
    const auto refused = set_pin(store, too_short);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("6 to 128 characters") != std::string::npos);
    CHECK(refused.err.find(too_short) == std::string::npos);  // the PIN is never echoed
  }
  CHECK(set_pin(store, "123456").exit_code == 0);
}

// Why: issue 14: a tablet upgraded from a version whose app had a PIN (a hash in the plain
// store) opened the app with no PIN at all. It starts locked now; that PIN opens and encrypts it.
TEST_CASE("a store with the old app PIN starts the app locked and that PIN encrypts it", "[e2e][ui][pin]") {
  test_support::TempDir old;
  const std::string store = old.file("tablet.db");
  test_support::make_old_store(store);
  test_support::ChildProcess process({FIELD_CLIENT_BINARY, "--store", store, "ui", "--port", "0"}, old.file("ui.log"));
  const std::string line = process.first_line();
  const auto port = static_cast<unsigned short>(std::stoi(line.substr(line.find("127.0.0.1:") + 10)));
  const std::vector<std::pair<std::string, std::string>> key = {{"X-Field-Client-Key", line.substr(line.find("key=") + 4)}};
  const auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    return http_request(port, method, target, key, body);
  };
  CHECK(call("GET", "/api/households").status == 423);
  const auto status = parse(call("GET", "/api/status").body);
  CHECK(status["locked"].GetBool());
  CHECK(status["pin_set"].GetBool());
  const auto wrong = call("POST", "/api/unlock", R"({"pin":"135799"})");
  CHECK(wrong.status == 403);
  CHECK(parse(wrong.body)["attempts_left"].GetInt() == 9);
  REQUIRE(call("POST", "/api/unlock", std::string(R"({"pin":")") + test_support::kOldPin + "\"}").status == 200);
  const auto households = call("GET", "/api/households");
  CHECK(households.status == 200);
  CHECK(households.body.find(test_support::kOldStoreAddress) != std::string::npos);
  CHECK(std::filesystem::exists(store + ".key"));  // encrypted with that PIN
  REQUIRE(process.stop() == 0);
  CHECK(test_support::files_containing(old.path(), test_support::kOldStoreAddress).empty());
}

// Why: a tablet with a PIN that is switched on (or whose app restarts) must not show anything
// before the PIN, even without --pin-lock-minutes. Regression: it started unlocked.
TEST_CASE("with a PIN set the app starts locked", "[e2e][ui][pin]") {
  App app({}, kPin);
  CHECK(app.call("GET", "/api/households").status == 423);
  CHECK(app.call("POST", "/api/households", R"({"address":"5 Lime Court","postcode":"WD6 1LB","ward":"Elstree"})").status == 423);
  const auto status = parse(app.call("GET", "/api/status").body);
  CHECK(status["locked"].GetBool());
  CHECK(status["pin_set"].GetBool());
  REQUIRE(app.call("POST", "/api/unlock", std::string(R"({"pin":")") + kPin + "\"}").status == 200);
  CHECK(app.call("GET", "/api/households").status == 200);
  CHECK_FALSE(parse(app.call("GET", "/api/status").body)["locked"].GetBool());

  App without_pin;  // the control: no PIN, no lock
  CHECK(without_pin.call("GET", "/api/households").status == 200);
}

// Why: a six-digit PIN falls to a script that may guess without limit. Three wrong PINs are
// free, then each makes the next wait twice as long; the count survives a restart (it lives in
// the key file, else restarting would reset it); the 5th wrong PIN here (set-pin
// --pin-max-attempts 5) wipes the store: nothing is left to guess at.
TEST_CASE("wrong PINs back off, survive a restart, and the last one wipes the store", "[e2e][ui][pin]") {
  App app({"--pin-wait-seconds", "1"}, kPin, 5);
  const std::string right = std::string(R"({"pin":")") + kPin + "\"}";
  const std::string wrong = R"({"pin":"135799"})";
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const auto refused = app.call("POST", "/api/unlock", wrong);
    CHECK(refused.status == 403);
    CHECK(parse(refused.body)["attempts_left"].GetInt() == 5 - attempt);
    CHECK(parse(refused.body)["retry_after_seconds"].GetInt() == 0);
  }
  const auto third = app.call("POST", "/api/unlock", wrong);
  CHECK(third.status == 403);
  CHECK(parse(third.body)["retry_after_seconds"].GetInt() == 1);
  // Even the right PIN is not checked during the wait.
  const auto waiting = app.call("POST", "/api/unlock", right);
  CHECK(waiting.status == 429);
  CHECK(waiting.header("retry-after") == "1");
  CHECK(app.call("GET", "/api/households").status == 423);

  app.restart();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  // The 4th wrong PIN, counted on from before the restart: the wait doubles.
  const auto fourth = app.call("POST", "/api/unlock", wrong);
  CHECK(fourth.status == 403);
  CHECK(parse(fourth.body)["attempts_left"].GetInt() == 1);
  CHECK(parse(fourth.body)["retry_after_seconds"].GetInt() == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const auto fifth = app.call("POST", "/api/unlock", wrong);
  CHECK(fifth.status == 410);
  CHECK(parse(fifth.body)["code"].GetString() == std::string("wiped"));
  CHECK(app.call("POST", "/api/unlock", right).status == 410);  // the right PIN opens nothing now
  CHECK(app.call("GET", "/api/households").status == 410);
  CHECK(parse(app.call("GET", "/api/status").body)["wiped"].GetString() == std::string("pin"));
  for (const std::string suffix : {"", "-wal", "-shm", "-journal", ".key"}) CHECK_FALSE(std::filesystem::exists(app.store + suffix));
}

// Why: a revoked tablet kept everything and nothing could wipe it (issue 14 §2). The app's
// background sync meets the order (410, {"code":"wipe"}) and the store goes, with the token.
TEST_CASE("a coordinator's wipe order reaches the app's background sync and erases the store", "[e2e][ui][wipe]") {
  const test_support::WipeOrderServer server;
  App app({"--sync-interval", "0.2", "--retry-base", "0.05", "--max-backoff", "0.2"}, kPin);
  REQUIRE(app.call("POST", "/api/unlock", std::string(R"({"pin":")") + kPin + "\"}").status == 200);
  REQUIRE(app.call("POST", "/api/households", R"({"address":"8 Thistlewick Yard","postcode":"WD6 1LB","ward":"Elstree"})").status == 201);
  const std::string pin_file = app.dir.file("pin.txt");
  std::ofstream(pin_file) << kPin << "\n";
  REQUIRE(test_support::run_process({FIELD_CLIENT_BINARY, "--store", app.store, "--pin-file", pin_file, "enroll",
                                     "--server", server.url(), "--token-file", "-"},
                                    {.input = "sst_fictional_app_token_PLMK\n"})
              .exit_code == 0);
  std::filesystem::remove(pin_file);
  std::string wiped;
  for (int i = 0; i < 100 && wiped.empty(); ++i) {  // within 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto status = parse(app.call("GET", "/api/status").body);
    if (status["wiped"].IsString()) wiped = status["wiped"].GetString();
  }
  CHECK(wiped == "coordinator");
  const auto refused = app.call("GET", "/api/households");
  CHECK(refused.status == 410);
  CHECK(parse(refused.body)["error"].GetString() == std::string(
      "A coordinator ordered this tablet wiped: every record, every change waiting to sync, the token and the key "
      "were erased from it. It must be enrolled again before it can be used."));
  for (const std::string suffix : {"", "-wal", "-shm", "-journal", ".key"}) CHECK_FALSE(std::filesystem::exists(app.store + suffix));
  CHECK(test_support::files_containing(app.dir.path(), "Thistlewick").empty());
  CHECK(test_support::files_containing(app.dir.path(), "sst_fictional_app_token").empty());
}

TEST_CASE("the app syncs by itself once a server is there", "[e2e][ui]") {
  test_support::ServerProcess server;
  server.start();
  const auto token = server.enroll("tablet-ui", "officer.ann", "officer");
  const auto coordinator = server.enroll("coordinator-desk", "coord.cat", "coordinator");
  App app({"--sync-interval", "0.2", "--retry-base", "0.05", "--max-backoff", "0.2"});
  REQUIRE(test_support::run_process({FIELD_CLIENT_BINARY, "--store", app.store, "enroll", "--server", server.url(),
                                     "--token", token, "--device", "tablet-ui"}).exit_code == 0);
  REQUIRE(app.call("POST", "/api/commute", R"({"station":"Potters Bar","started_at":"2026-11-26T07:00:00Z","ended_at":"2026-11-26T09:00:00Z","cards_distributed":25})").status == 201);
  int sessions = 0;
  for (int i = 0; i < 100 && sessions == 0; ++i) {  // within 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rapidjson::Document stats;
    stats.Parse(test_support::http_get(server.port(), "/api/v1/stats", coordinator).body.c_str());
    if (stats.IsObject()) sessions = stats["commute_aware"]["sessions"].GetInt();
  }
  CHECK(sessions == 1);
  // The server holds the push before the app's sync has finished (it pulls after pushing): the status says online
  // once that attempt ends.
  rapidjson::Document status;
  for (int i = 0; i < 100; ++i) {  // within 10 s
    status = parse(app.call("GET", "/api/status").body);
    if (status["online"].IsBool()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(status["online"].IsBool());
  CHECK(status["online"].GetBool());
  CHECK(status["user_id"].GetString() == std::string("officer.ann"));
}
