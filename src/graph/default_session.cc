#include "graph/default_session.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace sluice {
namespace {

thread_local std::vector<Session*> tls_stack;

struct Interactive {
  absl::Mutex mu;
  std::vector<Session*> alive ABSL_GUARDED_BY(mu);  // construction order
};

Interactive& Interactives() {
  static Interactive* i = new Interactive();
  return *i;
}

absl::StatusOr<Session*> Resolve(Session* session, Graph* graph,
                                 const char* what) {
  if (session == nullptr) session = GetDefaultSession();
  if (session == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Cannot ", what,
        ": No default session is registered. Use an InteractiveSession or a "
        "DefaultSessionScope, or pass a session explicitly"));
  }
  if (session->graph() != graph) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Cannot use the given session to ", what,
        ": the graph of the session (", session->graph()->name(),
        ") is not the graph of the ", "tensor or op (", graph->name(), ")"));
  }
  return session;
}

}  // namespace

Session* GetDefaultSession() {
  if (!tls_stack.empty()) return tls_stack.back();
  Interactive& in = Interactives();
  absl::MutexLock l(&in.mu);
  return in.alive.empty() ? nullptr : in.alive.back();
}

DefaultSessionScope::DefaultSessionScope(Session* session) {
  tls_stack.push_back(session);
}
DefaultSessionScope::~DefaultSessionScope() { tls_stack.pop_back(); }

InteractiveSession::InteractiveSession(Graph* graph, SessionOptions options)
    : Session(graph, std::move(options)) {
  Interactive& in = Interactives();
  absl::MutexLock l(&in.mu);
  in.alive.push_back(this);
}

InteractiveSession::~InteractiveSession() {
  Interactive& in = Interactives();
  absl::MutexLock l(&in.mu);
  in.alive.erase(std::remove(in.alive.begin(), in.alive.end(), this),
                 in.alive.end());
}

absl::StatusOr<Tensor> Output::Eval(const FeedList& feeds,
                                    Session* session) const {
  if (!valid()) return absl::InvalidArgumentError("Eval: invalid Output");
  SLUICE_ASSIGN_OR_RETURN(Session * s,
                          Resolve(session, graph(), "evaluate tensor"));
  std::vector<Tensor> out;
  SLUICE_RETURN_IF_ERROR(s->Run(feeds, {*this}, &out));
  return out[0];
}

absl::Status Operation::Run(const FeedList& feeds, Session* session) const {
  if (!valid()) return absl::InvalidArgumentError("Run: invalid Operation");
  SLUICE_ASSIGN_OR_RETURN(Session * s,
                          Resolve(session, graph(), "execute operation"));
  return s->Run(feeds, {}, {*this}, nullptr);
}

}  // namespace sluice
