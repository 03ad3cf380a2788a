// One-time launch links (ui/launch_tokens.h): what a browser's command line carries instead
// of the app's key, so each must open the app once, and only within its lifetime.
#include <catch2/catch.hpp>

#include <set>

#include "ui/launch_tokens.h"

namespace {

using field_client::ui::LaunchTokens;
using namespace std::chrono_literals;

// A clock the test moves by hand.
struct ManualClock {
  std::chrono::steady_clock::time_point now{};
  LaunchTokens::Clock function() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("a launch token opens the app once", "[ui][launch]") {
  ManualClock clock;
  LaunchTokens tokens(60s, clock.function());
  const auto token = tokens.mint();
  CHECK(token.size() == 48);
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(tokens.redeem(token));
  CHECK_FALSE(tokens.redeem(token));  // used
  CHECK_FALSE(tokens.redeem(""));
  CHECK_FALSE(tokens.redeem(std::string(48, '0')));  // unknown
  const auto other = tokens.mint();
  CHECK_FALSE(tokens.redeem(other.substr(0, 47)));  // a prefix is not the token
  CHECK(tokens.redeem(other));
}

TEST_CASE("a launch token is valid until its lifetime is over, not after", "[ui][launch]") {
  ManualClock clock;
  LaunchTokens tokens(60s, clock.function());
  const auto just_in_time = tokens.mint();
  const auto too_late = tokens.mint();
  clock.now += 60s - 1ms;
  CHECK(tokens.redeem(just_in_time));
  clock.now += 1ms;  // exactly its lifetime: over
  CHECK_FALSE(tokens.redeem(too_late));
  clock.now -= 1h;  // and it was forgotten: going back does not bring it back
  CHECK_FALSE(tokens.redeem(too_late));
}

TEST_CASE("at most 16 launch tokens are held: a 17th forgets the oldest", "[ui][launch]") {
  ManualClock clock;
  LaunchTokens tokens(60s, clock.function());
  std::vector<std::string> minted;
  for (std::size_t i = 0; i <= LaunchTokens::kMaxOutstanding; ++i) minted.push_back(tokens.mint());
  CHECK(std::set<std::string>(minted.begin(), minted.end()).size() == minted.size());  // all different
  CHECK_FALSE(tokens.redeem(minted.front()));
  for (std::size_t i = 1; i < minted.size(); ++i) CHECK(tokens.redeem(minted[i]));
}
