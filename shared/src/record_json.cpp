#include "safer/record_json.h"

#include "json_internal.h"

namespace safer {

namespace json {

namespace {

template <class E>
void write_set(JsonOut& out, std::string_view name, const EnumSet<E>& set) {
  out.key(name).begin_array();
  for (std::size_t i = 0; i < EnumNames<E>::names.size(); ++i) {  // declaration order
    if (set.contains(static_cast<E>(i))) out.value(EnumNames<E>::names[i]);
  }
  out.end_array();
}

// visit.answers (protocol.md §5.8): an object of question id -> an integer, a string or true.
// Which of these each id takes depends on the server's questions: check_visit sees to that.
void read_answers(ObjectReader& reader, std::map<std::string, Answer>& out) {
  const Value* value = reader.find("answers");
  if (value == nullptr) return;
  if (!value->IsObject()) {
    reader.add_error("answers", std::string("answers must be an object, not ") + describe_type(*value));
    return;
  }
  if (duplicate_key(*value)) {
    reader.add_error("answers", "answers holds a question id more than once");
    return;
  }
  for (const auto& member : value->GetObject()) {
    const std::string id(member.name.GetString(), member.name.GetStringLength());
    // Only an id of a question id's form is echoed into a field name (check_visit refuses the rest).
    const std::string field = is_question_id(id) ? "answers." + id : "answers";
    const Value& answer = member.value;
    if (answer.IsString()) {
      out.emplace(id, std::string(answer.GetString(), answer.GetStringLength()));
    } else if (answer.IsBool()) {
      out.emplace(id, answer.GetBool());
    } else if (const auto integer = as_integer(answer)) {
      out.emplace(id, *integer);
    } else if (answer.IsNumber()) {
      reader.add_error(field.c_str(), field + " must be an integer, not a fraction");
    } else {
      reader.add_error(field.c_str(), field + " must be an integer, a string or true, not " + describe_type(answer));
    }
  }
}

void write_answers(JsonOut& out, const std::map<std::string, Answer>& answers) {
  out.key("answers").begin_object();
  for (const auto& [id, answer] : answers) {
    out.key(id);
    std::visit([&out](const auto& value) { out.value(value); }, answer);
  }
  out.end_object();
}

FieldErrors not_an_object() { return {{"", "the record must be a JSON object"}}; }

// A record object that repeats a field is refused naming that field.
bool refuse_duplicates(const Value& object, FieldErrors& errors) {
  if (const auto name = duplicate_key(object)) {
    errors.push_back({*name, *name + " appears more than once"});
    return true;
  }
  return false;
}

}  // namespace

FieldErrors decode_record(const Value& object, Household& out) {
  FieldErrors errors;
  if (!object.IsObject()) return not_an_object();
  if (refuse_duplicates(object, errors)) return errors;
  ObjectReader reader(object, errors);
  Household household;
  reader.read_string("address", household.address, true);
  reader.read_string("postcode", household.postcode, true);
  reader.read_string("ward", household.ward, true);
  bool target = false;
  if (reader.read_bool("target", target)) household.target = target;
  reader.read_enum_set("vulnerability", household.vulnerability);
  std::optional<std::string> assignee;
  if (reader.read_nullable_string("assigned_to", assignee)) household.assigned_to = assignee;
  if (errors.empty()) out = std::move(household);
  return errors;
}

FieldErrors decode_record(const Value& object, Visit& out) {
  FieldErrors errors;
  if (!object.IsObject()) return not_an_object();
  if (refuse_duplicates(object, errors)) return errors;
  ObjectReader reader(object, errors);
  Visit visit;
  reader.read_string("household_id", visit.household_id, true);
  reader.read_time("visited_at", visit.visited_at, true);
  reader.read_enum("status", visit.status, true);
  for (const auto name : EnumNames<Outcome>::names) {
    bool flag = false;
    const std::string field(name);
    if (reader.read_bool(field.c_str(), flag) && flag) {
      visit.outcomes.insert(*enum_from_string<Outcome>(name));
    }
  }
  reader.read_integer("smoke_detectors_fitted", visit.smoke_detectors_fitted, false);
  reader.read_enum_set("referrals", visit.referrals);
  if (ShareBasis basis{}; reader.read_enum("share_basis", basis, false)) visit.share_basis = basis;
  reader.read_string("notes", visit.notes, false);
  if (std::string due; reader.read_string("follow_up_due", due, false)) visit.follow_up_due = std::move(due);
  if (std::string when; reader.read_string("rescheduled_for", when, false)) visit.rescheduled_for = std::move(when);
  read_answers(reader, visit.answers);
  if (errors.empty()) out = std::move(visit);
  return errors;
}

FieldErrors decode_record(const Value& object, CommuteSession& out) {
  FieldErrors errors;
  if (!object.IsObject()) return not_an_object();
  if (refuse_duplicates(object, errors)) return errors;
  ObjectReader reader(object, errors);
  CommuteSession session;
  reader.read_string("station", session.station, true);
  reader.read_time("started_at", session.started_at, true);
  reader.read_nullable_time("ended_at", session.ended_at);
  reader.read_integer("cards_distributed", session.cards_distributed, true);
  reader.read_enum_set("messages", session.messages);
  if (errors.empty()) out = std::move(session);
  return errors;
}

template <class Record>
FieldErrors decode_as(const Value& object, RecordData& out) {
  Record record;
  auto errors = decode_record(object, record);
  if (errors.empty()) out = std::move(record);
  return errors;
}

FieldErrors decode_record(const Value& object, Entity entity, RecordData& out) {
  switch (entity) {
    case Entity::household: return decode_as<Household>(object, out);
    case Entity::visit: return decode_as<Visit>(object, out);
    case Entity::commute_session: return decode_as<CommuteSession>(object, out);
  }
  return {{"entity", "unknown entity"}};
}

void write_fields(JsonOut& out, const Household& household) {
  out.field("address", household.address).field("postcode", household.postcode).field("ward", household.ward);
  if (household.target) out.field("target", *household.target);
  write_set(out, "vulnerability", household.vulnerability);
  if (household.assigned_to) out.field("assigned_to", *household.assigned_to);  // null: unassigned
}

void write_fields(JsonOut& out, const Visit& visit) {
  out.field("household_id", visit.household_id)
      .field("visited_at", format_rfc3339(visit.visited_at))
      .field("status", to_string(visit.status));
  for (std::size_t i = 0; i < EnumNames<Outcome>::names.size(); ++i) {
    const auto outcome = static_cast<Outcome>(i);
    out.field(to_string(outcome), visit.has(outcome));
  }
  out.field("smoke_detectors_fitted", visit.smoke_detectors_fitted);
  write_set(out, "referrals", visit.referrals);
  if (visit.share_basis) out.field("share_basis", to_string(*visit.share_basis));
  out.field("notes", visit.notes);
  if (visit.follow_up_due) out.field("follow_up_due", *visit.follow_up_due);
  if (visit.rescheduled_for) out.field("rescheduled_for", *visit.rescheduled_for);
  // Left out when empty, as share_basis is: a visit without answers reads as before (§5.8).
  if (!visit.answers.empty()) write_answers(out, visit.answers);
}

void write_fields(JsonOut& out, const CommuteSession& session) {
  out.field("station", session.station).field("started_at", format_rfc3339(session.started_at));
  if (session.ended_at) out.field("ended_at", format_rfc3339(*session.ended_at));
  out.field("cards_distributed", session.cards_distributed);
  write_set(out, "messages", session.messages);
}

void write_fields(JsonOut& out, const RecordData& data) {
  std::visit([&out](const auto& record) { write_fields(out, record); }, data);
}

}  // namespace json

namespace {

template <class Record>
std::string record_to_json(const Record& record) {
  return json::write_object([&record](JsonOut& out) { json::write_fields(out, record); });
}

template <class Record>
FieldErrors record_from_json(std::string_view text, Record& out) {
  json::Document document;
  if (!json::parse(text, document)) return {{"", "the record is not valid JSON"}};
  return json::decode_record(document, out);
}

}  // namespace

std::string to_json(const Household& household) { return record_to_json(household); }
std::string to_json(const Visit& visit) { return record_to_json(visit); }
std::string to_json(const CommuteSession& session) { return record_to_json(session); }
std::string to_json(const RecordData& data) { return record_to_json(data); }

FieldErrors from_json(std::string_view text, Household& out) { return record_from_json(text, out); }
FieldErrors from_json(std::string_view text, Visit& out) { return record_from_json(text, out); }
FieldErrors from_json(std::string_view text, CommuteSession& out) { return record_from_json(text, out); }

FieldErrors from_json(std::string_view text, Entity entity, RecordData& out) {
  json::Document document;
  if (!json::parse(text, document)) return {{"", "the record is not valid JSON"}};
  return json::decode_record(document, entity, out);
}

}  // namespace safer
