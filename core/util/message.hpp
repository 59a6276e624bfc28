#pragma once
// Messages are one line and of readable length. Every user-supplied piece of text placed in a message
// (a path, a config key, a value) goes through shown(); gg_train passes the whole message through
// one_line() before printing it.
#include <cstddef>
#include <string>
#include <string_view>

namespace gg {

// s with control characters escaped (\n, \r, \t, \xNN) and, if longer than max bytes, its middle
// replaced by "..." (cut at UTF-8 character boundaries).
std::string shown(std::string_view s, std::size_t max = 160);

// A whole message: shown() with a larger limit.
inline std::string one_line(std::string_view s) { return shown(s, 2000); }

// "512 B", "1.5 KiB", "12.0 GiB".
std::string human_bytes(double bytes);

}  // namespace gg
