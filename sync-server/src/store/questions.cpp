// The visit form's questions (protocol.md §5.8): kept in meta as the JSON array welcome sends,
// replaced whole by `sync-server questions`.
#include "safer/question.h"
#include "store_impl.h"
#include "sync_server/audit.h"

namespace sync_server {

void ServerStore::Impl::load_questions() {
  const auto stored = meta("questions");
  if (!stored) return;  // never configured: StoreOptions::lists (the defaults)
  auto questions = safer::questions_from_json(*stored);
  // Written by set_questions() after the same checks: a failure here is a damaged database.
  if (!questions) throw db::Failure(Error{"storage", "the stored questions are unreadable: " + questions.error().message, ""}, false);
  options.lists.questions = std::move(*questions);
}

Status ServerStore::set_questions(const std::vector<safer::Question>& questions, const Actor& by) {
  if (auto errors = safer::check_questions(questions, impl_->options.lists.questions); !errors.empty()) {
    return Error{"invalid", safer::join_messages(errors), errors.front().field};
  }
  try {
    db::Transaction transaction(impl_->db);
    impl_->set_meta("questions", safer::questions_to_json(questions));
    AuditEntry entry{by, kAuditQuestionsChange};
    std::size_t withdrawn = 0;
    for (const auto& question : questions) withdrawn += question.withdrawn ? 1 : 0;
    entry.detail = "questions=" + std::to_string(questions.size()) + " withdrawn=" + std::to_string(withdrawn);
    impl_->append_audit(entry);
    transaction.commit();
    impl_->options.lists.questions = questions;
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

}  // namespace sync_server
