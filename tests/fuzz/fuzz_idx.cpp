// libFuzzer target: an IDX images file and its labels file (plain or gzipped, detected by content)
// through load_idx. Input: a 2-byte big-endian length L, then L bytes of images file, then the labels
// file. InputError (a bad file, said in one line) is the expected outcome; a crash, a sanitizer report,
// an allocation beyond what the input could justify or any other exception is a finding.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/data/idx_reader.hpp"
#include "core/util/error.hpp"
#include "tests/fuzz/memfile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static gg::fuzz::MemFile images("images"), labels("labels");
  if (size < 2) return 0;
  const std::size_t n = std::min<std::size_t>(size - 2, std::size_t(data[0]) << 8 | data[1]);
  const std::string& ip = images.write(data + 2, n);
  const std::string& lp = labels.write(data + 2 + n, size - 2 - n);
  try {
    gg::ChannelMoments moments(1);
    gg::IdxOptions opt;
    opt.moments = &moments;
    if (n % 3 == 0) opt.keep = [](std::int64_t k, std::span<const std::int32_t>) {  // some runs store every other sample only
      std::vector<std::int64_t> ids;
      for (std::int64_t i = 0; i < k; i += 2) ids.push_back(i);
      return ids;
    };
    const gg::Dataset ds = gg::load_idx(ip, lp, "fuzz", 10, opt);
    if (ds.labels.size() * ds.sample.per_sample() != ds.images.size()) __builtin_trap();
  } catch (const gg::InputError& e) {
    if (std::strchr(e.what(), '\n')) __builtin_trap();  // every message is one line
  }
  return 0;
}
