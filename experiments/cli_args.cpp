#include "experiments/cli_args.hpp"

// SimGrid's smpicxx force-includes smpi_helpers.h, whose `#define exit(x) smpi_exit(x)` would rename
// CLI11's App::exit. Nothing in this file calls exit(), so the macro is dropped for this file only.
#undef exit
#include <CLI/CLI.hpp>

#include "core/blas/blas_kernels.hpp"
#include "core/util/build_info.hpp"
#include "core/util/error.hpp"
#include "experiments/describe.hpp"

namespace gg {

namespace {

std::string version_text() {
  const BuildInfo b = build_info();
  return "gg_train " + b.git_revision + " (" + b.build_type + " build; backends: " + b.backends + ")\n" +
         "BLAS: " + blas_kernels().str() + "\n";
}

}  // namespace

Args parse_args(int argc, char** argv) {
  Args a;
  CLI::App app("Trains the configured model with the configured algorithm; run under mpirun for p > 1.\n"
               "Without --config: lenet on Fashion-MNIST with allreduce SGD (see core/config/run_config.hpp).",
               "gg_train");
  app.add_option("--config", a.config, "run configuration (JSON)");
  app.add_option("--set", a.overrides, "override any key, e.g. --set train.epochs=2 --set algorithm.name=gossipgrad")
      ->type_name("KEY.PATH=VALUE")
      ->allow_extra_args(false);
  app.add_flag("--quiet", a.quiet, "no header or progress lines");
  app.add_flag("--resume", a.resume,
               "continue the run from its last checkpoint (next to output.path) and append to its log; give the "
               "run's own config");
  bool version = false, describe = false;
  app.add_flag("--version", version, "print the git revision, build type and backends, then exit");
  app.add_flag("--describe", describe, "print every registry (algorithms, options, defaults, models, ...) as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    a.print = app.help();
    return a;
  } catch (const CLI::ParseError& e) {
    throw InputError(std::string(e.what()) + " (see --help)");
  }
  if (version) a.print = version_text();
  if (describe) a.print = describe_registries().dump(2) + "\n";
  return a;
}

}  // namespace gg
