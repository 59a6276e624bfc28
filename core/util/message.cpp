#include "core/util/message.hpp"

#include <cstdio>

namespace gg {

namespace {

std::string escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

}  // namespace

std::string shown(std::string_view s, std::size_t max) {
  std::string e = escaped(s);
  if (max < 8) max = 8;
  if (e.size() <= max) return e;
  std::size_t head = (max - 3) / 2, tail = e.size() - (max - 3 - head);
  while (head > 0 && continuation(e[head])) --head;
  while (tail < e.size() && continuation(e[tail])) ++tail;
  return e.substr(0, head) + "..." + e.substr(tail);
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace gg
