// ctnn/optim/optim.hpp: the first-order optimisers, schedules and clipping in one include.
// Layer: optim.
#pragma once
#include "ctnn/optim/adagrad.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/clip.hpp"
#include "ctnn/optim/optimizer.hpp"
#include "ctnn/optim/param_groups.hpp"
#include "ctnn/optim/rmsprop.hpp"
#include "ctnn/optim/schedule.hpp"
#include "ctnn/optim/sgd.hpp"
