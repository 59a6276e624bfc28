#pragma once
// Wall-clock timestamps for logs and checkpoint manifests.
#include <string>

namespace gg {

// The current UTC time as ISO 8601, to the second: "2026-11-30T09:30:00Z".
std::string iso8601_utc_now();

}  // namespace gg
