#include "core/config/run_config.hpp"

#include <fstream>
#include <sstream>

#include "core/config/json_reader.hpp"
#include "core/util/error.hpp"

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

}  // namespace

void apply_override(json& doc, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set '" + assignment + "': expected key.path=value");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) value = text;  // bare strings need no quotes
  json* node = &doc;
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError("--set '" + assignment + "': empty key in path");
    if (!node->is_object()) {
      if (node->is_string() && dot != std::string::npos) {
        throw InputError("--set '" + assignment + "': '" + key.substr(0, start - 1) + "' is a name, not an object");
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

json load_config_json(const std::string& path, const std::vector<std::string>& overrides) {
  json doc = default_config();
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) throw InputError(path + ": cannot open config file");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    json user;
    try {
      user = json::parse(text);
    } catch (const json::parse_error& e) {
      std::string what = e.what();
      const auto colon = what.find("syntax error");
      throw InputError(path + ": malformed JSON at " + line_col(text, e.byte ? e.byte - 1 : 0) + ": " +
                       (colon == std::string::npos ? what : what.substr(colon)));
    }
    if (!user.is_object()) throw InputError(path + ": the config must be a JSON object");
    for (auto it = user.begin(); it != user.end(); ++it) doc[it.key()] = it.value();
  }
  for (const auto& o : overrides) apply_override(doc, o);
  return doc;
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
  t.max_steps = tr.get_int("max_steps", 0, 0);
  t.log_every = int(tr.get_int("log_every", 100, 1));
  t.bucket_kb = std::size_t(tr.get_int("bucket_kb", 1024, 1, 1 << 22));
  t.eval_replicas = tr.get_bool("eval_replicas", true);
  t.checkpoint_every = tr.get_int("checkpoint_every", 0, 0);
  t.checkpoint_minutes = tr.get_double("checkpoint_minutes", 0, 0);
  t.stop_check_every = int(tr.get_int("stop_check_every", 10, 0, 1 << 30));
  tr.finish();
  auto out = root.object("output");
  rc.output = out.get_string("path", "");
  out.finish();
  if ((t.checkpoint_every > 0 || t.checkpoint_minutes > 0) && rc.output.empty())
    throw InputError(std::string("config: 'train.") + (t.checkpoint_every > 0 ? "checkpoint_every" : "checkpoint_minutes") +
                     "' needs 'output.path' (checkpoints are written next to the run log)");
  auto comm = root.object("comm");
  rc.ring_iallreduce = comm.get_string("iallreduce", "mpi", {"mpi", "ring"}) == "ring";
  comm.finish();
  root.finish();
  return rc;
}

}  // namespace gg
