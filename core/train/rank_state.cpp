#include "core/train/rank_state.hpp"

#include <string>

#include "core/util/error.hpp"

namespace gg {

void save_worker_state(StateWriter& out, const RunClock& clock, WorkerParts parts) {
  out.put_int("trainer.steps_done", clock.steps_done);
  out.put_double("trainer.elapsed_s", clock.elapsed_s);
  out.put_double("trainer.eval_s", clock.eval_s);
  out.put_int("sampler.epoch", parts.sampler.epoch());
  out.put_int("sampler.step_in_epoch", parts.sampler.step_in_epoch());
  out.put_floats("model.params", parts.model.params());
  const auto state = parts.model.persistent_state();
  out.put_int("model.state_buffers", std::int64_t(state.size()));
  for (std::size_t k = 0; k < state.size(); ++k) out.put_floats("model.state." + std::to_string(k), state[k]);
  out.put_floats("optimizer.momentum", parts.optimizer.momentum());
}

RunClock load_worker_state(StateReader& in, WorkerParts parts) {
  RunClock c;
  c.steps_done = in.get_int("trainer.steps_done");
  c.elapsed_s = in.get_double("trainer.elapsed_s");
  c.eval_s = in.get_double("trainer.eval_s");
  const std::int64_t epoch = in.get_int("sampler.epoch");
  parts.sampler.seek(epoch, in.get_int("sampler.step_in_epoch"));
  in.get_floats("model.params", parts.model.params());
  const auto state = parts.model.persistent_state();
  if (in.get_int("model.state_buffers") != std::int64_t(state.size()))
    throw InputError(in.source() + ": record 'model.state_buffers': written for another model");
  for (std::size_t k = 0; k < state.size(); ++k) in.get_floats("model.state." + std::to_string(k), state[k]);
  in.get_floats("optimizer.momentum", parts.optimizer.momentum());
  return c;
}

void save_server_state(StateWriter& out, std::int64_t steps_done) { out.put_int("trainer.steps_done", steps_done); }

std::int64_t load_server_state(StateReader& in) { return in.get_int("trainer.steps_done"); }

}  // namespace gg
