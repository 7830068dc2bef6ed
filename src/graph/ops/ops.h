#pragma once
// Every op builder, for convenience.

#include "graph/ops/array_ops.h"
#include "graph/ops/control_flow_ops.h"
#include "graph/ops/io_ops.h"
#include "graph/ops/logging_ops.h"
#include "graph/ops/manip_ops.h"
#include "graph/ops/math_ops.h"
#include "graph/ops/nn_ops.h"
#include "graph/ops/parsing_ops.h"
#include "graph/ops/queue_ops.h"
#include "graph/ops/random_ops.h"
#include "graph/ops/state_ops.h"
