#include "core/config/run_config.hpp"

#include <algorithm>
#include <cstdio>

#include "core/config/json_reader.hpp"
#include "core/util/error.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"

namespace gg {

using json = nlohmann::json;

namespace {

json default_config() {
  return json::parse(R"({
    "name": "run",
    "model": "lenet",
    "data": {"name": "fashion-mnist"},
    "optimizer": {"lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4},
    "algorithm": {"name": "allreduce"},
    "train": {},
    "output": {},
    "comm": {}
  })");
}

std::string line_col(const std::string& text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The first position where text nests deeper than kMaxConfigDepth (objects and arrays, outside
// strings), or npos. Checked before parsing, so that no parser, copy or destructor recurses that deep.
std::size_t too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxConfigDepth) return i;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::string::npos;
}

}  // namespace

void apply_override(json& doc, const std::string& assignment) {
  const std::string where = "--set '" + shown(assignment, 120) + "'";
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError(where + ": expected key.path=value");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  if (std::count(key.begin(), key.end(), '.') >= kMaxKeyParts)
    throw InputError(where + ": a key path has at most " + std::to_string(kMaxKeyParts) + " parts");
  if (too_deep_at(text) != std::string::npos)
    throw InputError(where + ": the value nests deeper than " + std::to_string(kMaxConfigDepth) + " levels");
  json value(json::value_t::discarded);
  try {
    if (text.find('\0') == std::string::npos) value = json::parse(text, nullptr, false);
  } catch (const json::exception&) {  // a number beyond a double ("1e400") throws even so
  }
  if (value.is_discarded()) value = text;  // bare strings need no quotes
  json* node = &doc;
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError(where + ": empty key in path");
    if (!node->is_object()) {
      if (node->is_string() && dot != std::string::npos) {
        throw InputError(where + ": '" + shown(key.substr(0, start - 1)) + "' is a name, not an object");
      }
      *node = json::object();
    }
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    start = dot + 1;
  }
}

json parse_config_text(const std::string& text, const std::string& where) {
  const std::string name = shown(where);
  if (const auto nul = text.find('\0'); nul != std::string::npos)
    throw InputError(name + ": NUL byte at " + line_col(text, nul) + " (a config is JSON text)");
  if (const auto deep = too_deep_at(text); deep != std::string::npos)
    throw InputError(name + ": nested deeper than " + std::to_string(kMaxConfigDepth) + " levels at " +
                     line_col(text, deep));
  json user;
  try {
    user = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const auto colon = what.find("syntax error");
    throw InputError(name + ": malformed JSON at " + line_col(text, e.byte ? e.byte - 1 : 0) + ": " +
                     shown(colon == std::string::npos ? what : what.substr(colon)));
  } catch (const json::exception& e) {  // out_of_range: a number too large for a double ("1e400")
    std::string what = e.what();
    const auto bracket = what.find("] ");
    throw InputError(name + ": " + shown(bracket == std::string::npos ? what : what.substr(bracket + 2), 120));
  }
  if (!user.is_object()) throw InputError(name + ": the config must be a JSON object, got " + user.type_name());
  return user;
}

json load_config_json(const std::string& path, const std::vector<std::string>& overrides) {
  json doc = default_config();
  if (!path.empty()) {
    const json user = parse_config_text(read_text_file(path, "--config", kMaxConfigBytes), path);
    for (auto it = user.begin(); it != user.end(); ++it) doc[it.key()] = it.value();
  }
  for (const auto& o : overrides) apply_override(doc, o);
  return doc;
}

const char* final_average_name(FinalAverage how) {
  switch (how) {
    case FinalAverage::Allreduce: return "allreduce";
    case FinalAverage::Hypercube: return "hypercube";
    case FinalAverage::None: break;
  }
  return "none";
}

RunConfig parse_run_config(const json& doc) {
  RunConfig rc;
  rc.resolved = doc;
  JsonReader root = rc.reader();
  rc.name = root.get_string("name", "run");
  root.raw("model");
  root.object("data", true);
  root.object("optimizer", true);
  root.object("algorithm", true);
  auto tr = root.object("train");
  TrainOptions& t = rc.train;
  t.epochs = int(tr.get_int("epochs", 10, 1, 100000));
  t.batch = int(tr.get_int("batch", 64, 1, 1 << 20));
  t.seed = std::uint64_t(tr.get_int("seed", 1, 0));
  t.threads = int(tr.get_int("threads", 1, 1, 256));
  t.evals_per_epoch = int(tr.get_int("evals_per_epoch", 1, 0, 1000));
  t.max_steps = tr.get_int("max_steps", 0, 0, std::int64_t(1e15));
  t.log_every = int(tr.get_int("log_every", 100, 1));
  t.bucket_kb = std::size_t(tr.get_int("bucket_kb", 1024, 1, 1 << 22));
  t.eval_replicas = tr.get_bool("eval_replicas", true);
  t.max_loss = tr.get_double("max_loss", 1e4, 0, 1e30);
  t.health_every = int(tr.get_int("health_every", 100, 0, 1 << 30));
  t.checkpoint_every = tr.get_int("checkpoint_every", 0, 0);
  t.checkpoint_minutes = tr.get_double("checkpoint_minutes", 0, 0);
  t.stop_check_every = int(tr.get_int("stop_check_every", 10, 0, 1 << 30));
  const std::string avg = tr.get_string("final_average", "none", {"none", "allreduce", "hypercube"});
  t.final_average = avg == "allreduce" ? FinalAverage::Allreduce
                    : avg == "hypercube" ? FinalAverage::Hypercube
                                         : FinalAverage::None;
  t.cuda = tr.get_string("device", "cpu", {"cpu", "cuda"}) == "cuda";
  t.tf32 = tr.get_bool("tf32", false);
  if (t.tf32 && !t.cuda) throw InputError("config: 'train.tf32' needs 'train.device': \"cuda\"");
  tr.finish();
  auto out = root.object("output");
  rc.output = out.get_string("path", "");
  out.finish();
  if ((t.checkpoint_every > 0 || t.checkpoint_minutes > 0) && rc.output.empty())
    throw InputError(std::string("config: 'train.") + (t.checkpoint_every > 0 ? "checkpoint_every" : "checkpoint_minutes") +
                     "' needs 'output.path' (checkpoints are written next to the run log)");
  auto comm = root.object("comm");
  rc.ring_iallreduce = comm.get_string("iallreduce", "mpi", {"mpi", "ring"}) == "ring";
  rc.stall.warn_s = comm.get_double("stall_warn_s", 60, 0, 1e6);
  rc.stall.abort_s = comm.get_double("stall_abort_s", 600, 0, 1e7);
  if (rc.stall.warn_s > 0 && rc.stall.abort_s > 0 && rc.stall.abort_s <= rc.stall.warn_s)
    throw InputError("config: 'comm.stall_abort_s' (" + number(rc.stall.abort_s) +
                     ") must be larger than 'comm.stall_warn_s' (" + number(rc.stall.warn_s) +
                     "), or 0 to never end a stalled job");
  comm.finish();
  auto sim = root.object("sim");
  t.noise = read_compute_noise(sim);
  rc.compute_profile = sim.get_string("compute_profile", "");  // core/sim/compute_profile.hpp
  // What the simulated cluster is, recorded for readers (ggbench/run_smpi.py sets them); no effect here.
  sim.get_string("platform", "");
  sim.get_double("payload_scale", 1.0, 1e-9);
  sim.finish();
  root.finish();
  return rc;
}

}  // namespace gg
