// libFuzzer target: a config file's text through parse_config_text and, when it parses, the validation
// of the run's blocks (train, output, comm; data as far as it is checked before any file is read).
// InputError (one line, naming the key or line and column) is the expected outcome; a crash, a stack
// overflow, a sanitizer report or any other exception is a finding.
#include <cstdint>
#include <cstring>
#include <string>

#include "core/config/run_config.hpp"
#include "core/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json doc = gg::load_config_json("", {});
    const nlohmann::json user = gg::parse_config_text(text, "fuzz.json");
    for (auto it = user.begin(); it != user.end(); ++it) doc[it.key()] = it.value();
    gg::RunConfig rc = gg::parse_run_config(doc);
    if (rc.train.batch < 1 || rc.train.max_steps < 0) __builtin_trap();
  } catch (const gg::InputError& e) {
    if (std::strchr(e.what(), '\n')) __builtin_trap();  // every message is one line
  }
  return 0;
}
