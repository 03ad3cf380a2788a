#include "json_internal.h"
#include "safer/stats.h"

namespace safer {

namespace {

using cereal::make_nvp;

// A JSON object whose keys are data ({"Bushey North": 3}); cereal's map support would write
// an array of key/value pairs instead.
void write_counts(json::OutputArchive& archive, const char* name, const std::map<std::string, std::int64_t>& counts) {
  archive.setNextName(name);
  archive.startNode();  // an empty node is written as {}
  for (const auto& [key, count] : counts) archive(make_nvp(key.c_str(), count));
  archive.finishNode();
}

void write_date(json::OutputArchive& archive, const char* name, const std::optional<CivilDate>& date) {
  if (date) {
    archive(make_nvp(name, format_iso_date(*date)));
  } else {
    archive(make_nvp(name, nullptr));
  }
}

// {"vehicle_security":{"sessions":2,"cards":80},…}: every message, in protocol.md §5's order.
void write_messages(json::OutputArchive& archive, const char* name, const Stats::MessageCounts& counts) {
  archive.setNextName(name);
  archive.startNode();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const std::string message(to_string(static_cast<CommuteMessage>(i)));  // setNextName keeps the pointer
    archive.setNextName(message.c_str());
    archive.startNode();
    archive(make_nvp("sessions", counts[i].sessions), make_nvp("cards", counts[i].cards));
    archive.finishNode();
  }
  archive.finishNode();
}

// {"answered":3,"counts":{"1":0,…,"5":2},"mean":4.33}: counts and mean for a scale only, and
// the mean null when nobody answered.
void write_answer_count(json::OutputArchive& archive, QuestionKind kind, const Stats::AnswerCount& count) {
  archive(make_nvp("answered", count.answered));
  if (kind != QuestionKind::scale) return;
  archive.setNextName("counts");
  archive.startNode();
  for (std::size_t i = 0; i < count.scale.size(); ++i) archive(make_nvp(std::to_string(i + 1).c_str(), count.scale[i]));
  archive.finishNode();
  if (count.answered > 0) {
    archive(make_nvp("mean", count.mean()));
  } else {
    archive(make_nvp("mean", nullptr));
  }
}

void write_answers(json::OutputArchive& archive, const std::map<std::string, Stats::QuestionCounts>& answers) {
  archive.setNextName("answers");
  archive.startNode();
  for (const auto& [id, counts] : answers) {
    archive.setNextName(id.c_str());
    archive.startNode();
    archive(make_nvp("kind", std::string(to_string(counts.kind))), make_nvp("label", counts.label));
    write_answer_count(archive, counts.kind, counts.all);
    archive.setNextName("by_ward");
    archive.startNode();
    for (const auto& [ward, count] : counts.by_ward) {
      archive.setNextName(ward.c_str());
      archive.startNode();
      write_answer_count(archive, counts.kind, count);
      archive.finishNode();
    }
    archive.finishNode();
    archive.finishNode();
  }
  archive.finishNode();
}

}  // namespace

double Stats::AnswerCount::mean() const {
  std::int64_t sum = 0, given = 0;
  for (std::size_t i = 0; i < scale.size(); ++i) {
    sum += scale[i] * static_cast<std::int64_t>(i + 1);
    given += scale[i];
  }
  return given == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(given);
}

void add_known_questions(Stats& stats, const std::vector<Question>& questions) {
  for (const auto& question : questions) {
    if (question.kind == QuestionKind::referral) {
      stats.referrals_by_partner.try_emplace(question.id, 0);
      stats.referrals_sent_by_partner.try_emplace(question.id, 0);
      stats.partner_labels[question.id] = question.label;
    } else {
      auto& counts = stats.answers[question.id];
      counts.kind = question.kind;
      counts.label = question.label;
    }
  }
}

void count_answer(Stats& stats, const std::string& question, const std::string& ward, std::int64_t scale_value,
                  std::int64_t visits) {
  const auto found = stats.answers.find(question);
  if (found == stats.answers.end()) return;  // a referral partner, counted as a referral
  for (auto* count : {&found->second.all, &found->second.by_ward[ward]}) {
    count->answered += visits;
    if (scale_value >= Question::kScaleMin && scale_value <= Question::kScaleMax) {
      count->scale[static_cast<std::size_t>(scale_value - Question::kScaleMin)] += visits;
    }
  }
}

void add_known_partners(Stats& stats) {
  for (const auto partner : EnumNames<Referral>::names) {
    stats.referrals_by_partner.try_emplace(std::string(partner), 0);
    stats.referrals_sent_by_partner.try_emplace(std::string(partner), 0);
  }
}

std::string to_json(const Stats& stats) {
  return json::write_object([&stats](json::OutputArchive& archive) {
    write_date(archive, "from", stats.from);
    write_date(archive, "to", stats.to);

    archive.setNextName("visits");
    archive.startNode();
    archive(make_nvp("total", stats.visits_total));
    archive.setNextName("by_status");
    archive.startNode();
    for (std::size_t i = 0; i < stats.visits_by_status.size(); ++i) {  // in protocol.md §7's order
      archive(make_nvp(std::string(to_string(static_cast<VisitStatus>(i))).c_str(), stats.visits_by_status[i]));
    }
    archive.finishNode();
    write_counts(archive, "by_ward", stats.visits_by_ward);
    archive.finishNode();

    archive.setNextName("outcomes");
    archive.startNode();
    for (std::size_t i = 0; i < stats.outcomes.size(); ++i) {
      const auto outcome = static_cast<Outcome>(i);
      archive(make_nvp(std::string(to_string(outcome)).c_str(), stats.outcomes[i]));
      if (outcome == Outcome::fire_safety_check) {  // protocol.md §7 lists the sum here
        archive(make_nvp("smoke_detectors_fitted", stats.smoke_detectors_fitted));
      }
    }
    archive.finishNode();

    archive.setNextName("referrals");
    archive.startNode();
    archive(make_nvp("visits", stats.referred_visits));
    archive.setNextName("by_share_basis");
    archive.startNode();
    for (std::size_t i = 0; i < EnumNames<ShareBasis>::names.size(); ++i) {
      archive(make_nvp(std::string(to_string(static_cast<ShareBasis>(i))).c_str(), stats.referrals_by_basis[i]));
    }
    archive(make_nvp("not_recorded", stats.referrals_by_basis[EnumNames<ShareBasis>::names.size()]));
    archive.finishNode();
    write_counts(archive, "by_partner", stats.referrals_by_partner);
    write_counts(archive, "sent_by_partner", stats.referrals_sent_by_partner);
    archive.setNextName("partner_labels");
    archive.startNode();
    for (const auto& [id, label] : stats.partner_labels) archive(make_nvp(id.c_str(), label));
    archive.finishNode();
    archive.finishNode();

    archive.setNextName("households");
    archive.startNode();
    archive(make_nvp("target", stats.households_target), make_nvp("visited", stats.households_visited),
            make_nvp("coverage", stats.coverage()), make_nvp("reached", stats.households_reached));
    archive.setNextName("by_vulnerability");
    archive.startNode();
    for (std::size_t i = 0; i < stats.by_vulnerability.size(); ++i) {
      const std::string group(i < EnumNames<Vulnerability>::names.size() ? to_string(static_cast<Vulnerability>(i))
                                                                         : std::string_view("none_recorded"));
      archive.setNextName(group.c_str());
      archive.startNode();
      archive(make_nvp("households", stats.by_vulnerability[i].households),
              make_nvp("completed_visits", stats.by_vulnerability[i].completed_visits));
      archive.finishNode();
    }
    archive.finishNode();
    archive.finishNode();

    archive.setNextName("commute_aware");
    archive.startNode();
    archive(make_nvp("sessions", stats.commute_sessions), make_nvp("cards_distributed", stats.cards_distributed));
    write_counts(archive, "by_station", stats.cards_by_station);
    write_messages(archive, "messages", stats.messages);
    archive.setNextName("messages_by_station");
    archive.startNode();
    for (const auto& [station, counts] : stats.messages_by_station) write_messages(archive, station.c_str(), counts);
    archive.finishNode();
    archive.finishNode();

    write_answers(archive, stats.answers);
  });
}

}  // namespace safer
