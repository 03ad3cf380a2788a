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

// Whether a visit with referrals must give its share_basis (protocol.md §5.2): required from a
// writer that announced the capability `share_basis` (this project's field client always
// does); optional from a protocol-1 writer, whose visits count as "not recorded".
enum class BasisRule { optional, required };

// Whether a writer knows visit.answers (protocol.md §5.8): one that announced the capability
// `questions` sends a visit's every answer, and leaving them out clears them; a protocol-1
// writer's visit without answers keeps the stored ones (§10 rule 2).
enum class AnswersRule { keep_stored, as_sent };

// How the server reads one writer's records, from the capabilities its hello announced.
// Implicit from a BasisRule alone (tools and tests that predate the answers).
struct WriterRules {
  WriterRules(BasisRule basis_rule = BasisRule::optional,  // NOLINT: implicit by design
              AnswersRule answers_rule = AnswersRule::keep_stored)
      : basis(basis_rule), answers(answers_rule) {}

  BasisRule basis;
  AnswersRule answers;
};

// Also rewrites household.postcode to its stored form when it is a valid postcode.
FieldErrors check_household(Household& household, const ReferenceLists& lists);
FieldErrors check_visit(const Visit& visit, const ReferenceLists& lists, BasisRule rule = BasisRule::optional);
FieldErrors check_commute_session(const CommuteSession& session, const ReferenceLists& lists);

// Whether the visit refers the resident to a partner: a built-in referral, or an answer to a
// question of kind referral (protocol.md §5.8), which the share_basis rules cover alike.
bool has_referral(const Visit& visit, const ReferenceLists& lists);

// Dispatches on the record's kind.
FieldErrors check_record(RecordData& data, const ReferenceLists& lists, BasisRule rule = BasisRule::optional);

// User ids (assigned_to, the user of an enrolled device): 1..64 characters of
// letters, digits and . _ @ -.
bool is_valid_user_id(std::string_view text);

}  // namespace safer
