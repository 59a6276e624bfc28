#include "core/util/memory.hpp"

#include <unistd.h>

#include <limits>

#include "core/util/message.hpp"

namespace gg {

std::size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return std::size_t(pages) * std::size_t(page);
}

void out_of_memory(std::size_t count, std::size_t elem_bytes, const std::string& what) {
  const double bytes = double(count) * double(elem_bytes);
  throw ResourceError(what + ": cannot allocate " + human_bytes(bytes) + " (" + std::to_string(count) + " x " +
                      std::to_string(elem_bytes) + " bytes): out of memory");
}

void check_allocation(std::size_t count, std::size_t elem_bytes, const std::string& what) {
  const std::size_t limit = physical_memory_bytes();
  if (elem_bytes != 0 && count > std::numeric_limits<std::size_t>::max() / elem_bytes)
    out_of_memory(count, elem_bytes, what);
  const std::size_t bytes = count * elem_bytes;
  if (limit != 0 && bytes > limit)
    throw ResourceError(what + ": needs " + human_bytes(double(bytes)) + ", more than this machine's " +
                        human_bytes(double(limit)) + " of memory");
}

}  // namespace gg
