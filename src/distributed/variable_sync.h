#pragma once
// Variables across ranks: rank 0's values copied to every rank (the start
// of data-parallel training, and after rank 0 restored a checkpoint), and
// a digest of values to prove the ranks agree.
//
// Both read and write variables through Session::ReadVariable /
// AssignVariable, so they run between steps, never during one. Every rank
// must pass the same variables in the same order (same graph).
//
// Errors: those of the session (FailedPrecondition for an uninitialised
// variable), InvalidArgument when a rank's variables differ in size from
// rank 0's (checked with an allreduce of the byte count), the World's.
// Not thread-safe.

#include <string>
#include <vector>

#include "core/status.h"
#include "distributed/world.h"
#include "graph/session.h"
#include "graph/variables.h"

namespace sluice::distributed {

absl::Status BroadcastVariables(World* world, Session* session, const std::vector<Variable>& vars);

// Lower-case hex SHA-256 over the variables' bytes, in order (the bytes of
// a float32 tensor as stored: little-endian on the machines here).
absl::StatusOr<std::string> VariablesSha256(Session* session, const std::vector<Variable>& vars);

}  // namespace sluice::distributed
