// The record rules of protocol.md §5 and §9, applied identically on devices and on the server.
//
// Each check returns one FieldError per broken rule, in field order, and an empty list when
// the record is valid. Type errors (a string where a number belongs) are found earlier, when
// the JSON is decoded (record_json.h); these checks see well-typed records.
#pragma once

#include "safer/field_error.h"
#include "safer/record.h"
#include "safer/reference_lists.h"

namespace safer {

// The visit fields a writer must give because it announced the capability that carries them
// (protocol.md §5.2, §10); each is optional from a protocol-1 writer. This project's field
// client announces every one (WriterRules::all()).
struct WriterRules {
  // "share_basis": a visit with a referral gives its share_basis; without one it counts as
  // "not recorded".
  bool share_basis = false;
  // "work_dates": a follow-up gives follow_up_due, a rescheduled visit rescheduled_for.
  bool work_dates = false;
  // "questions": the writer sends a visit's every answer (protocol.md §5.8), and leaving them
  // out clears them; without it a visit with no answers keeps the stored ones (§10 rule 2).
  bool questions = false;

  static constexpr WriterRules protocol1() { return {}; }
  static constexpr WriterRules all() { return {true, true, true}; }
  friend bool operator==(const WriterRules&, const WriterRules&) = default;
};

// Also rewrites household.postcode to its stored form when it is a valid postcode.
FieldErrors check_household(Household& household, const ReferenceLists& lists);
FieldErrors check_visit(const Visit& visit, const ReferenceLists& lists, WriterRules rules = WriterRules::protocol1());
FieldErrors check_commute_session(const CommuteSession& session, const ReferenceLists& lists);

// Whether the visit refers the resident to a partner: a built-in referral, or an answer to a
// question of kind referral (protocol.md §5.8), which the share_basis rules cover alike.
bool has_referral(const Visit& visit, const ReferenceLists& lists);
// The partners the visit refers the resident to, each once: the built-in referrals in their
// order, then the ids of the questions of kind referral it answers, in id order.
std::vector<std::string> referral_partners(const Visit& visit, const ReferenceLists& lists);
// Whether `name` names a partner a visit can be referred to: a built-in referral or a question
// of kind referral, withdrawn or not.
bool is_referral_partner(std::string_view name, const ReferenceLists& lists);
// Every such partner: the built-in referrals in their order, then the referral questions in
// the configuration's order.
std::vector<std::string> referral_partner_names(const ReferenceLists& lists);

// Dispatches on the record's kind.
FieldErrors check_record(RecordData& data, const ReferenceLists& lists, WriterRules rules = WriterRules::protocol1());

// User ids (assigned_to, the user of an enrolled device): 1..64 characters of
// letters, digits and . _ @ -.
bool is_valid_user_id(std::string_view text);

}  // namespace safer
