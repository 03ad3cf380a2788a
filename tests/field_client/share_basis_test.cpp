// The lawful basis for sharing a visit's referrals (protocol.md §5.2, issue 14 §3): this client
// always records one with a referral, never one without, and says so in its hello. A refused
// visit leaves nothing behind; a visit pulled from before the basis was asked stays as it is
// until the officer edits it, and then needs one.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

#include "field_client/field_client.h"
#include "field_client/store.h"
#include "safer/record_json.h"
#include "process.h"
#include "temp_dir.h"

namespace {

using field_client::Store;
using safer::Entity;

constexpr const char* kHousehold = "0192f5e4-0000-7000-8000-0000000000c1";
constexpr const char* kPulledVisit = "0192f5e4-0000-7000-8000-0000000000c2";

safer::Household household() {
  safer::Household record;
  record.address = "11 Fictional Terrace";
  record.postcode = "WD6 2AB";
  record.ward = "Elstree";
  return record;
}

safer::Visit referred_visit(std::optional<safer::ShareBasis> basis) {
  safer::Visit visit;
  visit.household_id = kHousehold;
  visit.visited_at = 1'764'149'400'000;
  visit.status = safer::VisitStatus::completed;
  visit.referrals = {safer::Referral::adult_social_care};
  visit.share_basis = basis;
  return visit;
}

// A store holding kHousehold, pulled from the server (so its only outbox entries are the test's).
std::unique_ptr<Store> store_with_household(const test_support::TempDir& dir) {
  auto store = Store::open(dir.file("tablet.db")).value();
  safer::ChangesPage page;
  safer::PulledChange pulled;
  pulled.change = {Entity::household, safer::Op::upsert, kHousehold, safer::Hlc{1'764'149'000'000, 0}, household()};
  pulled.device_id = "server-side";
  page.changes = {pulled};
  page.cursor = "c.1";
  REQUIRE(store->apply_page(page).ok());
  return store;
}

std::string take(char* text) {
  std::string out = text != nullptr ? text : "";
  fc_free(text);
  return out;
}

// A stand-in sync server that keeps the first WebSocket message it is sent (the hello) and
// hangs up. It serves one connection on 127.0.0.1, port 0; every read has a 5 s deadline.
class HelloRecorder {
 public:
  HelloRecorder() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~HelloRecorder() {
    boost::system::error_code ignored;
    boost::asio::ip::tcp::socket poke(io_);  // wakes an accept no client came to
    poke.connect(acceptor_.local_endpoint(), ignored);
    if (thread_.joinable()) thread_.join();
  }
  HelloRecorder(const HelloRecorder&) = delete;
  HelloRecorder& operator=(const HelloRecorder&) = delete;

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  // The hello received (empty if none); call once the client has given up.
  std::string hello() {
    if (thread_.joinable()) thread_.join();
    return hello_;
  }

 private:
  void serve() {
    boost::asio::ip::tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) return;
    timeval deadline{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws(std::move(socket));
    ws.accept(ec);
    if (ec) return;
    boost::beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (!ec) hello_ = boost::beast::buffers_to_string(buffer.data());
    ws.close(boost::beast::websocket::close_code::going_away, ec);
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::string hello_;
};

}  // namespace

TEST_CASE("a visit with a referral is refused without its lawful basis, and nothing is written", "[store][share_basis]") {
  test_support::TempDir dir;
  auto store = store_with_household(dir);

  const auto refused = store->create(referred_visit(std::nullopt));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid");
  CHECK(refused.error().field == "share_basis");
  CHECK(refused.error().message.find("share_basis is required with a referral") != std::string::npos);
  CHECK(store->list(Entity::visit)->empty());
  CHECK(store->outbox()->empty());

  SECTION("a basis without a referral is refused too") {
    auto visit = referred_visit(safer::ShareBasis::consent);
    visit.referrals = {};
    const auto alone = store->create(visit);
    REQUIRE_FALSE(alone.ok());
    CHECK(alone.error().field == "share_basis");
    CHECK(alone.error().message == "share_basis must be left out when there is no referral");
    CHECK(store->outbox()->empty());
  }
  SECTION("with its basis it is saved and queued to be pushed with it") {
    const auto saved = store->create(referred_visit(safer::ShareBasis::vital_interests));
    REQUIRE(saved.ok());
    const auto stored = store->get(Entity::visit, *saved);
    REQUIRE(stored.ok());
    CHECK(std::get<safer::Visit>(*stored->data).share_basis == safer::ShareBasis::vital_interests);
    const auto entries = store->outbox().value();
    REQUIRE(entries.size() == 1);
    REQUIRE(entries[0].change.data.has_value());
    CHECK(std::get<safer::Visit>(*entries[0].change.data).share_basis == safer::ShareBasis::vital_interests);
    CHECK(safer::to_json(*entries[0].change.data).find(R"("share_basis":"vital_interests")") != std::string::npos);
  }
}

TEST_CASE("a visit pulled with a referral and no basis is kept, and editing it asks for one", "[store][share_basis]") {
  // Protocol-1 devices and visits recorded before the basis was asked have none: the pull must
  // keep them, but this device must not send such a visit back unchanged.
  test_support::TempDir dir;
  auto store = store_with_household(dir);
  safer::ChangesPage page;
  safer::PulledChange pulled;
  pulled.change = {Entity::visit, safer::Op::upsert, kPulledVisit, safer::Hlc{1'764'149'500'000, 0},
                   referred_visit(std::nullopt)};
  pulled.device_id = "older-tablet";
  page.changes = {pulled};
  page.cursor = "c.2";
  REQUIRE(store->apply_page(page).ok());
  const auto kept = store->get(Entity::visit, kPulledVisit);
  REQUIRE(kept.ok());
  CHECK_FALSE(std::get<safer::Visit>(*kept->data).share_basis.has_value());

  auto edited = referred_visit(std::nullopt);
  edited.notes = "Fictional follow-up.";
  const auto refused = store->update(kPulledVisit, edited);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().field == "share_basis");
  CHECK(store->outbox()->empty());

  edited.share_basis = safer::ShareBasis::safeguarding;
  REQUIRE(store->update(kPulledVisit, edited).ok());
  CHECK(std::get<safer::Visit>(*store->get(Entity::visit, kPulledVisit)->data).share_basis ==
        safer::ShareBasis::safeguarding);
}

TEST_CASE("the C API refuses a referral without its basis, naming share_basis, and keeps one given", "[c-api][share_basis]") {
  test_support::TempDir dir;
  store_with_household(dir).reset();
  fc_store* store = nullptr;
  REQUIRE(fc_open(dir.file("tablet.db").c_str(), &store, nullptr) == FC_OK);
  const std::string visit = std::string(R"({"household_id":")") + kHousehold +
                            R"(","visited_at":"2026-11-26T10:00:00Z","status":"completed","referrals":["health"])";

  char* id = nullptr;
  CHECK(fc_create(store, "visit", (visit + "}").c_str(), &id) == FC_INVALID);
  CHECK(id == nullptr);
  const std::string error = fc_last_error(store);
  CHECK(error.find(R"("field":"share_basis")") != std::string::npos);
  char* json = nullptr;
  REQUIRE(fc_outbox(store, &json) == FC_OK);
  CHECK(take(json) == "[]");

  REQUIRE(fc_create(store, "visit", (visit + R"(,"share_basis":"consent"})").c_str(), &id) == FC_OK);
  const std::string saved = take(id);
  REQUIRE(fc_get(store, "visit", saved.c_str(), &json) == FC_OK);
  CHECK(take(json).find(R"("share_basis":"consent")") != std::string::npos);
  REQUIRE(fc_outbox(store, &json) == FC_OK);
  CHECK(take(json).find(R"(consent)") != std::string::npos);
  fc_close(store);
}

TEST_CASE("the client announces share_basis and work_dates in its hello", "[sync][share_basis][work_dates]") {
  // The server holds a client that announces them to sending a basis with every referral and
  // the dates with every follow-up and reschedule, and lets it clear a stored one (protocol.md
  // §5.2): this client does both, so it must say so.
  test_support::TempDir dir;
  HelloRecorder server;
  const std::string store = dir.file("tablet.db");
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store});
    auto result = test_support::run_process(args);
    REQUIRE_FALSE(result.timed_out);
    return result;
  };
  REQUIRE(cli({"enroll", "--server", server.url(), "--token", "fictional-token-0123456789", "--device", "tablet-t"})
              .exit_code == 0);
  CHECK(cli({"sync", "--timeout", "5"}).exit_code != 0);  // the stand-in hangs up after the hello
  const std::string hello = server.hello();
  INFO(hello);
  CHECK(hello.find(R"("hello")") != std::string::npos);
  CHECK(hello.find(R"("share_basis")") != std::string::npos);
  CHECK(hello.find(R"("evict")") != std::string::npos);
  // And it sends every answer of a visit (protocol.md §5.8): leaving answers out clears them.
  CHECK(hello.find(R"("questions")") != std::string::npos);
  CHECK(hello.find(R"("work_dates")") != std::string::npos);
}

TEST_CASE("the store refuses a follow-up without its due date and keeps a pulled undated one", "[store][work_dates]") {
  // Every write of this client is checked with WriterRules::all(): a follow-up needs its date.
  test_support::TempDir dir;
  auto store = store_with_household(dir);
  safer::Visit visit = referred_visit(safer::ShareBasis::consent);
  visit.outcomes.insert(safer::Outcome::follow_up_required);
  const auto refused = store->create(visit);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().field == "follow_up_due");
  CHECK(store->outbox()->empty());

  // Pulled from a protocol-1 device without a date: kept as it is.
  safer::ChangesPage page;
  safer::PulledChange pulled;
  pulled.change = {Entity::visit, safer::Op::upsert, kPulledVisit, safer::Hlc{1'764'149'500'000, 0}, visit};
  pulled.device_id = "older-tablet";
  page.changes = {pulled};
  page.cursor = "c.2";
  REQUIRE(store->apply_page(page).ok());
  CHECK_FALSE(std::get<safer::Visit>(*store->get(Entity::visit, kPulledVisit)->data).follow_up_due.has_value());

  visit.follow_up_due = "2026-12-18";
  const auto saved = store->create(visit);
  REQUIRE(saved.ok());
  CHECK(std::get<safer::Visit>(*store->get(Entity::visit, *saved)->data).follow_up_due == "2026-12-18");
}
