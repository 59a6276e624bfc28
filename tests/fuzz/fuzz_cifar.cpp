// libFuzzer target: one CIFAR-10 binary file (plain or gzipped) through load_cifar10. InputError (a bad
// file, said in one line) is the expected outcome; a crash, a sanitizer report, an allocation beyond what
// the input could justify or any other exception is a finding.
#include <cstdint>
#include <cstring>

#include "core/data/cifar_reader.hpp"
#include "core/util/error.hpp"
#include "tests/fuzz/memfile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static gg::fuzz::MemFile batch("batch");
  const std::string& path = batch.write(data, size);
  try {
    const gg::Dataset ds = gg::load_cifar10({path, path}, "fuzz");
    if (ds.images.size() != ds.labels.size() * 3 * 32 * 32) __builtin_trap();
  } catch (const gg::InputError& e) {
    if (std::strchr(e.what(), '\n')) __builtin_trap();  // every message is one line
  }
  return 0;
}
