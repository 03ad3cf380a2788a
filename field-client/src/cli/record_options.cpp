#include "record_options.h"

#include <charconv>
#include <map>

#include "safer/question.h"
#include "safer/text.h"

namespace field_client::cli {

namespace {

using safer::FieldErrors;

bool given(const CLI::Option* option) { return option != nullptr && option->count() > 0; }

void require(const CLI::Option* option, const char* field, FieldErrors& errors) {
  if (!given(option)) errors.push_back({field, std::string(field) + " is required"});
}

// Text from the command line must be UTF-8 before it goes anywhere.
bool read_text(const std::string& text, const char* field, std::string& out, FieldErrors& errors) {
  if (!safer::is_valid_utf8(text)) {
    errors.push_back({field, std::string(field) + " is not valid UTF-8 text"});
    return false;
  }
  out = text;
  return true;
}

bool read_integer(const std::string& text, const char* field, std::int64_t& out, FieldErrors& errors) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc() || ptr != end || text.empty()) {
    errors.push_back({field, std::string(field) + " must be an integer"});
    return false;
  }
  return true;
}

void read_time(const std::string& text, const char* field, safer::UnixMillis now,
               safer::UnixMillis& out, FieldErrors& errors) {
  if (auto instant = parse_time_option(text, now)) {
    out = *instant;
  } else {
    errors.push_back({field, std::string(field) +
                                 " must be an RFC 3339 time such as 2026-11-26T09:30:00Z, or now"});
  }
}

// Values may be repeated (--referral a --referral b) or comma-separated (--referral a,b).
template <class E>
void read_set(const std::vector<std::string>& values, const char* field, safer::EnumSet<E>& out,
              FieldErrors& errors) {
  safer::EnumSet<E> set;
  for (const auto& value : values) {
    const auto parsed = safer::enum_from_string<E>(value);
    if (!parsed) {
      errors.push_back({field, std::string(field) + " must be an array of distinct values from " +
                                   safer::allowed_values<E>()});
      return;
    }
    set.insert(*parsed);
  }
  out = set;
}

// --answer ID=VALUE (protocol.md §5.8): a whole number is a scale's answer, `true` a yes/no
// outcome's or a partner's, anything else a text; ID= removes the answer.
void read_answers(const std::vector<std::string>& values, std::map<std::string, safer::Answer>& answers,
                  FieldErrors& errors) {
  for (const auto& value : values) {
    const auto equals = value.find('=');
    const std::string id = value.substr(0, equals);
    if (equals == std::string::npos || !safer::is_question_id(id)) {
      errors.push_back({"answers", "answers: give --answer ID=VALUE, with ID a question id (see `field-client questions`)"});
      continue;
    }
    const std::string text = value.substr(equals + 1);
    std::int64_t number = 0;
    const char* end = text.data() + text.size();
    if (text.empty()) {
      answers.erase(id);
    } else if (text == "true") {
      answers[id] = true;
    } else if (const auto [ptr, ec] = std::from_chars(text.data(), end, number); ec == std::errc() && ptr == end) {
      answers[id] = number;
    } else if (std::string checked; read_text(text, ("answers." + id).c_str(), checked, errors)) {
      answers[id] = std::move(checked);
    }
  }
}

template <class E>
std::string allowed_help() {
  return "one of: " + safer::allowed_values<E>();
}

}  // namespace

std::string option_for(const std::string& field) {
  static const std::map<std::string, std::string> kOptions = {
      {"address", "--address"},
      {"postcode", "--postcode"},
      {"ward", "--ward"},
      {"target", "--target"},
      {"vulnerability", "--vulnerability"},
      {"assigned_to", "--assigned-to"},
      {"household_id", "--household"},
      {"visited_at", "--at"},
      {"status", "--status"},
      {"crime_prevention_advice", "--crime-prevention-advice"},
      {"fire_safety_check", "--fire-safety-check"},
      {"healthy_lifestyle_advice", "--healthy-lifestyle-advice"},
      {"community_involvement_info", "--community-involvement-info"},
      {"first_aid_training", "--first-aid-training"},
      {"follow_up_required", "--follow-up-required"},
      {"smoke_detectors_fitted", "--smoke-detectors"},
      {"referrals", "--referral"},
      {"share_basis", "--share-basis"},
      {"follow_up_due", "--follow-up-due"},
      {"rescheduled_for", "--rescheduled-for"},
      {"notes", "--notes"},
      {"station", "--station"},
      {"started_at", "--started-at"},
      {"ended_at", "--ended-at"},
      {"cards_distributed", "--cards"},
      {"messages", "--message"},
      {"id", "--id"},
  };
  if (field.starts_with("answers")) return "--answer";
  const auto found = kOptions.find(field);
  return found == kOptions.end() ? std::string() : found->second;
}

std::optional<safer::UnixMillis> parse_time_option(const std::string& text, safer::UnixMillis now) {
  if (text == "now") return now;
  return safer::parse_rfc3339(text);
}

void HouseholdOptions::add_to(CLI::App& command) {
  address_opt_ = command.add_option("--address", address_, "Street address (1 to 200 characters)");
  postcode_opt_ = command.add_option("--postcode", postcode_, "UK postcode, such as WD6 1WA");
  ward_opt_ = command.add_option("--ward", ward_, "Ward, one of the server's wards (see `field-client wards`)");
  vulnerability_opt_ = command.add_option("--vulnerability", vulnerability_,
                                          "Vulnerability, repeatable or comma-separated; " +
                                              allowed_help<safer::Vulnerability>())
                           ->delimiter(',');
  command.add_flag("--no-vulnerability", clear_vulnerability_, "Clear the vulnerability list");
  target_opt_ = command.add_flag("--target,!--not-target", target_,
                                 "On the Safer Streets target list (coordinators only)");
  assigned_opt_ = command.add_option("--assigned-to", assigned_to_,
                                     "User id of the officer it is assigned to (coordinators only)");
  command.add_flag("--unassign", unassign_, "Assign it to nobody (coordinators only)");
}

void HouseholdOptions::apply(safer::Household& household, bool creating, FieldErrors& errors) const {
  if (creating) {
    require(address_opt_, "address", errors);
    require(postcode_opt_, "postcode", errors);
    require(ward_opt_, "ward", errors);
  }
  if (given(address_opt_)) read_text(address_, "address", household.address, errors);
  if (given(postcode_opt_)) read_text(postcode_, "postcode", household.postcode, errors);
  if (given(ward_opt_)) read_text(ward_, "ward", household.ward, errors);
  if (clear_vulnerability_) household.vulnerability = {};
  if (given(vulnerability_opt_)) read_set(vulnerability_, "vulnerability", household.vulnerability, errors);
  if (given(target_opt_)) household.target = target_;
  if (unassign_) household.assigned_to = std::optional<std::string>();
  if (given(assigned_opt_)) household.assigned_to = std::optional<std::string>(assigned_to_);
}

void VisitOptions::add_to(CLI::App& command) {
  household_opt_ = command.add_option("--household", household_, "Id of the household visited");
  status_opt_ = command.add_option("--status", status_, allowed_help<safer::VisitStatus>());
  visited_at_opt_ = command.add_option("--at", visited_at_,
                                       "When the visit took place: RFC 3339 or `now` (default: now)");
  static const char* const kHelp[] = {
      "Crime prevention advice given",        "Home fire safety check done",
      "Advice on a healthier lifestyle given", "Information on community involvement given",
      "First aid training given",              "A follow-up visit is needed",
  };
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    std::string name(safer::to_string(static_cast<safer::Outcome>(i)));
    for (char& c : name) c = c == '_' ? '-' : c;
    outcome_opts_[i] = command.add_flag("--" + name + ",!--no-" + name, outcomes_[i], kHelp[i]);
  }
  smoke_opt_ = command.add_option("--smoke-detectors", smoke_detectors_, "Smoke detectors fitted, 0 to 10");
  referrals_opt_ = command.add_option("--referral", referrals_,
                                      "Referral made, repeatable or comma-separated; " +
                                          allowed_help<safer::Referral>())
                       ->delimiter(',');
  command.add_flag("--no-referrals", clear_referrals_, "Clear the referrals and their lawful basis");
  share_basis_opt_ = command.add_option("--share-basis", share_basis_,
                                        "Lawful basis for sharing the referrals (required with a referral); " +
                                            allowed_help<safer::ShareBasis>());
  follow_up_due_opt_ = command.add_option("--follow-up-due", follow_up_due_,
                                          "Date the follow-up is due, YYYY-MM-DD (required with a follow-up)");
  rescheduled_for_opt_ = command.add_option(
      "--rescheduled-for", rescheduled_for_,
      "Agreed local date and time, YYYY-MM-DDTHH:MM (required when status is rescheduled)");
  notes_opt_ = command.add_option("--notes", notes_, "Notes, at most 2000 characters");
  answers_opt_ = command.add_option("--answer", answers_,
                                    "Answer to one of the server's questions, repeatable: ID=VALUE, with 1 to 5 for a "
                                    "scale, true for an extra outcome or partner, text for feedback; ID= removes it");
}

void VisitOptions::apply(safer::Visit& visit, bool creating, safer::UnixMillis now,
                         FieldErrors& errors) const {
  if (creating) {
    require(household_opt_, "household_id", errors);
    require(status_opt_, "status", errors);
    visit.visited_at = now;
  }
  if (given(household_opt_)) visit.household_id = household_;
  if (given(visited_at_opt_)) read_time(visited_at_, "visited_at", now, visit.visited_at, errors);
  if (given(status_opt_)) {
    if (const auto status = safer::enum_from_string<safer::VisitStatus>(status_)) {
      visit.status = *status;
    } else {
      errors.push_back({"status", "status must be one of " + safer::allowed_values<safer::VisitStatus>()});
    }
  }
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    if (!given(outcome_opts_[i])) continue;
    const auto outcome = static_cast<safer::Outcome>(i);
    if (outcomes_[i]) visit.outcomes.insert(outcome); else visit.outcomes.erase(outcome);
  }
  if (given(smoke_opt_)) read_integer(smoke_detectors_, "smoke_detectors_fitted", visit.smoke_detectors_fitted, errors);
  // A basis only goes with referrals (protocol.md §5.2): clearing these clears it too.
  if (clear_referrals_) {
    visit.referrals = {};
    visit.share_basis.reset();
  }
  if (given(referrals_opt_)) read_set(referrals_, "referrals", visit.referrals, errors);
  if (given(share_basis_opt_)) {
    if (const auto basis = safer::enum_from_string<safer::ShareBasis>(share_basis_)) {
      visit.share_basis = *basis;
    } else {
      errors.push_back({"share_basis", "share_basis must be one of " + safer::allowed_values<safer::ShareBasis>()});
    }
  }
  // A work date only goes with its condition (protocol.md §5.2): an update that removes the
  // follow-up or changes the status clears it.
  if (!visit.has(safer::Outcome::follow_up_required)) visit.follow_up_due.reset();
  if (visit.status != safer::VisitStatus::rescheduled) visit.rescheduled_for.reset();
  if (given(follow_up_due_opt_)) visit.follow_up_due = follow_up_due_;
  if (given(rescheduled_for_opt_)) visit.rescheduled_for = rescheduled_for_;
  if (given(notes_opt_)) read_text(notes_, "notes", visit.notes, errors);
  if (given(answers_opt_)) read_answers(answers_, visit.answers, errors);
}

void CommuteOptions::add_to(CLI::App& command) {
  station_opt_ = command.add_option("--station", station_, "Station, one of the server's stations");
  started_opt_ = command.add_option("--started-at", started_at_, "Start: RFC 3339 or `now` (default: now)");
  ended_opt_ = command.add_option("--ended-at", ended_at_, "End: RFC 3339 or `now`; not before the start");
  command.add_flag("--running", still_running_, "The session has not ended (clears --ended-at)");
  cards_opt_ = command.add_option("--cards", cards_, "Card holders handed out, 0 to 5000");
  messages_opt_ = command.add_option("--message", messages_,
                                     "Message given, repeatable or comma-separated; " +
                                         allowed_help<safer::CommuteMessage>())
                      ->delimiter(',');
  command.add_flag("--no-messages", clear_messages_, "Clear the messages");
}

void CommuteOptions::apply(safer::CommuteSession& session, bool creating, safer::UnixMillis now,
                           FieldErrors& errors) const {
  if (creating) {
    require(station_opt_, "station", errors);
    require(cards_opt_, "cards_distributed", errors);
    session.started_at = now;
  }
  if (given(station_opt_)) read_text(station_, "station", session.station, errors);
  if (given(started_opt_)) read_time(started_at_, "started_at", now, session.started_at, errors);
  if (still_running_) session.ended_at.reset();
  if (given(ended_opt_)) {
    safer::UnixMillis ended = 0;
    read_time(ended_at_, "ended_at", now, ended, errors);
    session.ended_at = ended;
  }
  if (given(cards_opt_)) read_integer(cards_, "cards_distributed", session.cards_distributed, errors);
  if (clear_messages_) session.messages = {};
  if (given(messages_opt_)) read_set(messages_, "messages", session.messages, errors);
}

}  // namespace field_client::cli
