// Command-line options for the fields of each kind of record, and how they become records.
//
// The same options serve `add` (fields not given take protocol.md §5's defaults) and `update`
// (fields not given keep their current values). Problems come back as FieldErrors named by
// the record's field, exactly as the server would name them; option_for() maps a field to
// the option the user typed.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "safer/commute_session.h"
#include "safer/field_error.h"
#include "safer/household.h"
#include "safer/visit.h"

namespace field_client::cli {

// The option that sets `field` ("--smoke-detectors" for smoke_detectors_fitted), or "".
std::string option_for(const std::string& field);

// A time given on the command line: RFC 3339, or "now".
std::optional<safer::UnixMillis> parse_time_option(const std::string& text, safer::UnixMillis now);

class HouseholdOptions {
 public:
  void add_to(CLI::App& command);
  // Applies the given options to `household`; `creating` makes address, postcode and ward
  // required.
  void apply(safer::Household& household, bool creating, safer::FieldErrors& errors) const;

 private:
  std::string address_, postcode_, ward_, assigned_to_;
  std::vector<std::string> vulnerability_;
  bool target_ = false, clear_vulnerability_ = false, unassign_ = false;
  CLI::Option *address_opt_ = nullptr, *postcode_opt_ = nullptr, *ward_opt_ = nullptr,
              *vulnerability_opt_ = nullptr, *target_opt_ = nullptr, *assigned_opt_ = nullptr;
};

class VisitOptions {
 public:
  void add_to(CLI::App& command);
  void apply(safer::Visit& visit, bool creating, safer::UnixMillis now, safer::FieldErrors& errors) const;

 private:
  std::string household_, status_, visited_at_, smoke_detectors_, notes_, share_basis_, follow_up_due_,
      rescheduled_for_;
  std::vector<std::string> referrals_, answers_;
  bool clear_referrals_ = false;
  std::array<bool, 6> outcomes_{};
  std::array<CLI::Option*, 6> outcome_opts_{};
  CLI::Option *household_opt_ = nullptr, *status_opt_ = nullptr, *visited_at_opt_ = nullptr,
              *smoke_opt_ = nullptr, *referrals_opt_ = nullptr, *notes_opt_ = nullptr,
              *share_basis_opt_ = nullptr, *follow_up_due_opt_ = nullptr, *rescheduled_for_opt_ = nullptr,
              *answers_opt_ = nullptr;
};

class CommuteOptions {
 public:
  void add_to(CLI::App& command);
  void apply(safer::CommuteSession& session, bool creating, safer::UnixMillis now,
             safer::FieldErrors& errors) const;

 private:
  std::string station_, started_at_, ended_at_, cards_;
  std::vector<std::string> messages_;
  bool clear_messages_ = false, still_running_ = false;
  CLI::Option *station_opt_ = nullptr, *started_opt_ = nullptr, *ended_opt_ = nullptr,
              *cards_opt_ = nullptr, *messages_opt_ = nullptr;
};

}  // namespace field_client::cli
