#include "json_internal.h"
#include "safer/stats.h"

namespace safer {

namespace {

// A JSON object whose keys are data ({"Bushey North": 3}).
void write_counts(JsonOut& out, std::string_view name, const std::map<std::string, std::int64_t>& counts) {
  out.key(name).begin_object();
  for (const auto& [key, count] : counts) out.field(key, count);
  out.end_object();
}

void write_date(JsonOut& out, std::string_view name, const std::optional<CivilDate>& date) {
  out.key(name);
  if (date) {
    out.value(format_iso_date(*date));
  } else {
    out.null();
  }
}

// {"vehicle_security":{"sessions":2,"cards":80},…}: every message, in protocol.md §5's order.
void write_messages(JsonOut& out, std::string_view name, const Stats::MessageCounts& counts) {
  out.key(name).begin_object();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out.key(to_string(static_cast<CommuteMessage>(i)))
        .begin_object()
        .field("sessions", counts[i].sessions)
        .field("cards", counts[i].cards)
        .end_object();
  }
  out.end_object();
}

// {"answered":3,"counts":{"1":0,…,"5":2},"mean":4.33}: counts and mean for a scale only, and
// the mean null when nobody answered.
void write_answer_count(JsonOut& out, QuestionKind kind, const Stats::AnswerCount& count) {
  out.field("answered", count.answered);
  if (kind != QuestionKind::scale) return;
  out.key("counts").begin_object();
  for (std::size_t i = 0; i < count.scale.size(); ++i) out.field(std::to_string(i + 1), count.scale[i]);
  out.end_object();
  out.key("mean");
  if (count.answered > 0) {
    out.value(count.mean());
  } else {
    out.null();
  }
}

void write_answers(JsonOut& out, const std::map<std::string, Stats::QuestionCounts>& answers) {
  out.key("answers").begin_object();
  for (const auto& [id, counts] : answers) {
    out.key(id).begin_object().field("kind", to_string(counts.kind)).field("label", counts.label);
    write_answer_count(out, counts.kind, counts.all);
    out.key("by_ward").begin_object();
    for (const auto& [ward, count] : counts.by_ward) {
      out.key(ward).begin_object();
      write_answer_count(out, counts.kind, count);
      out.end_object();
    }
    out.end_object();
    out.end_object();
  }
  out.end_object();
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
  return json::write_object([&stats](JsonOut& out) {
    write_date(out, "from", stats.from);
    write_date(out, "to", stats.to);

    out.key("visits").begin_object().field("total", stats.visits_total);
    out.key("by_status").begin_object();
    for (std::size_t i = 0; i < stats.visits_by_status.size(); ++i) {  // in protocol.md §7's order
      out.field(to_string(static_cast<VisitStatus>(i)), stats.visits_by_status[i]);
    }
    out.end_object();
    write_counts(out, "by_ward", stats.visits_by_ward);
    out.end_object();

    out.key("outcomes").begin_object();
    for (std::size_t i = 0; i < stats.outcomes.size(); ++i) {
      const auto outcome = static_cast<Outcome>(i);
      out.field(to_string(outcome), stats.outcomes[i]);
      if (outcome == Outcome::fire_safety_check) {  // protocol.md §7 lists the sum here
        out.field("smoke_detectors_fitted", stats.smoke_detectors_fitted);
      }
    }
    out.end_object();

    out.key("referrals").begin_object().field("visits", stats.referred_visits);
    out.key("by_share_basis").begin_object();
    for (std::size_t i = 0; i < EnumNames<ShareBasis>::names.size(); ++i) {
      out.field(to_string(static_cast<ShareBasis>(i)), stats.referrals_by_basis[i]);
    }
    out.field("not_recorded", stats.referrals_by_basis[EnumNames<ShareBasis>::names.size()]);
    out.end_object();
    write_counts(out, "by_partner", stats.referrals_by_partner);
    write_counts(out, "sent_by_partner", stats.referrals_sent_by_partner);
    out.key("partner_labels").begin_object();
    for (const auto& [id, label] : stats.partner_labels) out.field(id, label);
    out.end_object();
    out.end_object();

    out.key("households")
        .begin_object()
        .field("target", stats.households_target)
        .field("visited", stats.households_visited)
        .field("coverage", stats.coverage())
        .field("reached", stats.households_reached);
    out.key("by_vulnerability").begin_object();
    for (std::size_t i = 0; i < stats.by_vulnerability.size(); ++i) {
      const std::string_view group =
          i < EnumNames<Vulnerability>::names.size() ? to_string(static_cast<Vulnerability>(i)) : "none_recorded";
      out.key(group)
          .begin_object()
          .field("households", stats.by_vulnerability[i].households)
          .field("completed_visits", stats.by_vulnerability[i].completed_visits)
          .end_object();
    }
    out.end_object();
    out.end_object();

    out.key("commute_aware")
        .begin_object()
        .field("sessions", stats.commute_sessions)
        .field("cards_distributed", stats.cards_distributed);
    write_counts(out, "by_station", stats.cards_by_station);
    write_messages(out, "messages", stats.messages);
    out.key("messages_by_station").begin_object();
    for (const auto& [station, counts] : stats.messages_by_station) write_messages(out, station, counts);
    out.end_object();
    out.end_object();

    write_answers(out, stats.answers);
  });
}

}  // namespace safer
