#include "core/sim/host_costs.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/sim/compute_injection.hpp"
#include "core/util/error.hpp"

#ifdef GG_SMPI
#include <simgrid/host.h>
#endif

namespace gg {

#ifdef GG_SMPI

namespace {

// A property as a non-negative number scaled by `unit`; 0 when the host does not declare it.
double property(sg_host_t host, const char* key, double unit) {
  const char* v = sg_host_get_property_value(host, key);
  if (!v) return 0.0;
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v, &end);
  if (end == v || *end != '\0' || errno != 0 || !std::isfinite(x) || x < 0)
    throw InputError(std::string("platform: host ") + sg_host_get_name(host) + ": property " + key + " = '" + v +
                     "': expected a non-negative number");
  return x * unit;
}

}  // namespace

HostCosts host_costs() {
  sg_host_t h = sg_host_self();
  HostCosts c;
  c.mem_Bps = property(h, "gg_mem_GBps", 1e9);
  c.staging_Bps = property(h, "gg_staging_GBps", 1e9);
  c.progress_s = property(h, "gg_progress_us", 1e-6);
  c.source = c.charges_anything() ? std::string("platform properties of host ") + sg_host_get_name(h)
                                  : std::string("none: the platform declares no gg_* cost properties");
  return c;
}

void charge_time(double seconds) {
  if (seconds > 0) simulate_compute(seconds);
}

#else

HostCosts host_costs() {
  HostCosts c;
  c.source = "none: real hardware charges its own memory work, staging and progress";
  return c;
}

void charge_time(double) {}

#endif

}  // namespace gg
