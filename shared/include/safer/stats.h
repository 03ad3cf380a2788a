// The coordinator statistics of protocol.md §7 (GET /api/v1/stats), and their JSON.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "safer/commute_session.h"
#include "safer/household.h"
#include "safer/question.h"
#include "safer/time.h"
#include "safer/visit.h"

namespace safer {

struct Stats {
  std::optional<CivilDate> from;  // nullopt: all time
  std::optional<CivilDate> to;

  std::int64_t visits_total = 0;
  std::array<std::int64_t, 4> visits_by_status{};  // indexed by VisitStatus
  std::map<std::string, std::int64_t> visits_by_ward;

  std::array<std::int64_t, 6> outcomes{};  // visits with each Outcome true, indexed by Outcome
  std::int64_t smoke_detectors_fitted = 0;  // a sum

  // Visits with at least one referral, and those by their share_basis (protocol.md §7):
  // indexed by ShareBasis, then one more for "not recorded".
  std::int64_t referred_visits = 0;
  std::array<std::int64_t, 4> referrals_by_basis{};
  // Referrals by partner, one per visit and partner it was referred to, and how many of those
  // a coordinator marked as passed on (protocol.md §7). Every Referral name is present, with 0
  // when there are none; the partner is free text, so partners configured later fit.
  std::map<std::string, std::int64_t> referrals_by_partner;
  std::map<std::string, std::int64_t> referrals_sent_by_partner;
  // The label of each partner that is one of the server's questions (protocol.md §5.8), by id.
  std::map<std::string, std::string> partner_labels;

  std::int64_t households_target = 0;   // current target households, whatever the range
  std::int64_t households_visited = 0;  // target households with a completed visit in range
  std::int64_t households_reached = 0;  // households of any kind with a completed visit in range

  // The households reached and their completed visits in range, by the vulnerabilities their
  // register entry records now (a household counts under each of its groups), then one more
  // for those with none recorded.
  struct GroupCount {
    std::int64_t households = 0;
    std::int64_t completed_visits = 0;
    friend bool operator==(const GroupCount&, const GroupCount&) = default;
  };
  std::array<GroupCount, EnumNames<Vulnerability>::names.size() + 1> by_vulnerability{};

  std::int64_t commute_sessions = 0;
  std::int64_t cards_distributed = 0;
  std::map<std::string, std::int64_t> cards_by_station;

  // Commute Aware sessions that gave a message, and the card holders they handed out.
  struct MessageCount {
    std::int64_t sessions = 0;
    std::int64_t cards = 0;
    friend bool operator==(const MessageCount&, const MessageCount&) = default;
  };
  using MessageCounts = std::array<MessageCount, EnumNames<CommuteMessage>::names.size()>;  // by CommuteMessage
  MessageCounts messages{};
  std::map<std::string, MessageCounts> messages_by_station;

  // The answers to the server's questions (protocol.md §5.8, §7) of the visits in range: how
  // many visits answered, and for a scale how many gave each of 1..5.
  struct AnswerCount {
    std::int64_t answered = 0;
    std::array<std::int64_t, 5> scale{};  // answers 1..5: index 0 counts the 1s; scales only
    // The mean of a scale's answers; REQUIRES: answered > 0.
    double mean() const;
    friend bool operator==(const AnswerCount&, const AnswerCount&) = default;
  };
  struct QuestionCounts {
    QuestionKind kind = QuestionKind::scale;
    std::string label;
    AnswerCount all;
    std::map<std::string, AnswerCount> by_ward;  // the wards with an answer, by the visit's ward
    friend bool operator==(const QuestionCounts&, const QuestionCounts&) = default;
  };
  // By question id: every question of the server but its referral partners, which count in
  // referrals_by_partner (add_known_questions).
  std::map<std::string, QuestionCounts> answers;

  // visited / target, 0 when there is no target (protocol.md §7: the plain ratio).
  double coverage() const {
    return households_target == 0 ? 0.0
                                   : static_cast<double>(households_visited) / static_cast<double>(households_target);
  }

  friend bool operator==(const Stats&, const Stats&) = default;
};

// The partners every Stats names, with 0 when none: the Referral names.
void add_known_partners(Stats& stats);

// Lists every question of `questions` in the statistics, with 0 when none: scales, texts and
// yes/no outcomes in `answers`, referral partners in referrals_by_partner and _sent_by_partner.
void add_known_questions(Stats& stats, const std::vector<Question>& questions);

// Adds one visit's answer to `question` under `ward` (a question of kind referral is not
// counted here: it is a referral). REQUIRES: add_known_questions() has listed the question.
void count_answer(Stats& stats, const std::string& question, const std::string& ward, std::int64_t scale_value,
                  std::int64_t visits);

// The response body of protocol.md §7.
std::string to_json(const Stats& stats);

}  // namespace safer
