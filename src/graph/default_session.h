#pragma once
// Default sessions, so that Output::Eval() and Operation::Run() (graph.h)
// work without naming a session, as tensor.eval() / op.run() do in
// TensorFlow 1.x:
//
//   InteractiveSession sess(&g);        // tf.InteractiveSession()
//   Tensor v = *y.Eval();               // y.eval()
//
//   Session s(&g);
//   { DefaultSessionScope d(&s);        // with s.as_default():
//     init.Run(); }                     //   init.run()
//
// Lookup order: the innermost DefaultSessionScope of the calling thread
// (TensorFlow's default-session stack is per thread too), else the most
// recently constructed InteractiveSession still alive (any thread), else
// none.
//
// Thread-safe. A DefaultSessionScope must be destroyed on the thread that
// made it, innermost first; the session must outlive the scope.

#include "graph/graph.h"
#include "graph/session.h"

namespace sluice {

// The default session of the calling thread, or null.
Session* GetDefaultSession();

// Makes `session` this thread's default for the scope's lifetime.
class DefaultSessionScope {
 public:
  explicit DefaultSessionScope(Session* session);
  ~DefaultSessionScope();
  DefaultSessionScope(const DefaultSessionScope&) = delete;
  DefaultSessionScope& operator=(const DefaultSessionScope&) = delete;
};

// A Session that installs itself as the default of every thread that has
// no DefaultSessionScope, from construction until destruction (then the
// previous InteractiveSession, if alive, is the default again).
class InteractiveSession : public Session {
 public:
  explicit InteractiveSession(Graph* graph, SessionOptions options = {});
  ~InteractiveSession();
};

}  // namespace sluice
