// tablet_views: how fast a tablet holding a borough's register answers the app. Builds a
// store with H households and V visits the way a first sync does (pulled pages of 500, each
// applied with its cursor in one transaction), then times the Today list, a search and one
// household's visits. Prints one JSON object a line.
//
//   tablet_views [--households H] [--visits V]
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "field_client/store.h"
#include "safer/uuid.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

template <class Body>
double median_ms(int runs, Body&& body) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    body();
    times.push_back(ms_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tablet_views: the tablet app's lists over a borough's register"};
  int households = 10'000, visits = 50'000;
  app.add_option("--households", households)->capture_default_str();
  app.add_option("--visits", visits)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  char dir_template[] = "/tmp/tablet-views-XXXXXX";
  const std::filesystem::path dir = mkdtemp(dir_template);
  auto opened = field_client::Store::open((dir / "tablet.db").string());
  if (!opened) return std::cerr << opened.error().message << '\n', 1;
  auto& store = **opened;
  if (auto enrolled = store.enroll("ws://127.0.0.1:1", "sst_bench"); !enrolled) return 1;

  const auto& wards = safer::ReferenceLists::defaults().wards;
  std::vector<std::string> household_ids;
  safer::Hlc hlc{1'764'000'000'000, 0};
  std::vector<safer::PulledChange> changes;
  const auto flush = [&](bool last) {
    if (changes.size() < 500 && !(last && !changes.empty())) return;
    safer::ChangesPage page{std::move(changes), "bench", false};
    if (!store.apply_page(page)) std::exit(1);
    changes.clear();
  };
  const auto started = Clock::now();
  for (int i = 0; i < households; ++i) {
    safer::Household household;
    household.address = std::to_string(i % 200 + 1) + " Benchmark Road " + std::to_string(i);
    household.postcode = "WD6 " + std::to_string(i % 9 + 1) + "AB";
    household.ward = wards[static_cast<std::size_t>(i) % wards.size()];
    household.target = i % 3 == 0;
    household.assigned_to = std::optional<std::string>(i % 2 == 0 ? "officer.ann" : "officer.bob");
    household_ids.push_back(safer::new_uuid_v7());
    ++hlc.counter;
    changes.push_back({safer::Change{safer::Entity::household, safer::Op::upsert, household_ids.back(), hlc, household}, "server"});
    flush(false);
  }
  for (int i = 0; i < visits; ++i) {
    safer::Visit visit;
    visit.household_id = household_ids[static_cast<std::size_t>(i) % household_ids.size()];
    visit.visited_at = 1'760'000'000'000 + static_cast<std::int64_t>(i) * 60'000;
    visit.status = i % 4 == 0 ? safer::VisitStatus::no_answer : safer::VisitStatus::completed;
    if (visit.status == safer::VisitStatus::completed && i % 7 == 0) {
      visit.outcomes.insert(safer::Outcome::follow_up_required);
      visit.follow_up_due = "2026-12-18";
    }
    ++hlc.counter;
    changes.push_back({safer::Change{safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(), hlc, visit}, "server"});
    flush(false);
  }
  flush(true);
  const double build_s = ms_since(started) / 1000;

  const double today_ms = median_ms(5, [&] { (void)store.households("", 500); });
  const double search_ms = median_ms(5, [&] { (void)store.households("road 4242", 500); });
  const double postcode_ms = median_ms(5, [&] { (void)store.households("wd63ab", 500); });
  const double visits_ms = median_ms(5, [&] { (void)store.visits_to(household_ids[4242]); });
  std::cout << "{\"bench\":\"tablet_views\",\"households\":" << households << ",\"visits\":" << visits
            << ",\"apply_pages_s\":" << build_s << ",\"today_list_ms\":" << today_ms
            << ",\"search_address_ms\":" << search_ms << ",\"search_postcode_ms\":" << postcode_ms
            << ",\"household_visits_ms\":" << visits_ms << "}" << std::endl;
  std::filesystem::remove_all(dir);
  return 0;
}
