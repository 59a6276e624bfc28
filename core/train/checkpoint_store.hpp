#pragma once
// Where checkpoints live and how they are written so that a crash at any moment leaves the last
// committed one intact. Every rank writes its own file; rank 0 commits after all have:
//
//   results/x/run.h5.ckpt/                 the checkpoint folder of the run log results/x/run.h5
//     step-00000120/rank-00000.ckpt        one file per rank (workers and parameter servers)
//     step-00000120/rank-00001.ckpt
//     LATEST                               JSON: the committed boundary (CheckpointManifest)
//
// Protocol (core/train/trainer.cpp): at an agreed boundary every rank writes its file (a temporary
// name in the same folder, fsync, rename: a file is whole or absent); the ranks agree that all
// writes succeeded; rank 0 then replaces LATEST the same way (temporary name, fsync, rename, fsync of
// the folder) and only after that removes the other step folders. A crash before the rename of
// LATEST leaves the previous checkpoint committed (a half-written step folder is ignored and removed
// at the next commit); one after it, the new one. --resume reads only what LATEST names.
//
// Rank file: "GGCKPT1\n" | u32 header bytes | header (JSON: rank, ranks, step, role, algorithm) |
// u64 state bytes | state (a StateWriter record stream, core/util/state_io.hpp) | u32 CRC-32 (zlib) of
// everything before it. Native byte order. The Python reader is ggbench/checkpoint.py.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gg {

struct CheckpointManifest {
  std::int64_t step = 0;     // steps completed at the boundary
  bool final = false;        // written after the run's last step: it is complete, nothing to resume
  int ranks = 0, workers = 0;
  std::string algorithm;
  nlohmann::json config;     // the run's effective config (--resume refuses another)
  std::string written;       // ISO 8601 UTC
  std::string git_revision;  // of the binary that wrote it

  nlohmann::json to_json() const;
  // Throws InputError naming `source` if a field is missing or has the wrong type.
  static CheckpointManifest from_json(const nlohmann::json& j, const std::string& source);
};

class CheckpointStore {
 public:
  // The checkpoint folder of a run log: the log's whole path with ".ckpt" appended (run.h5 ->
  // run.h5.ckpt), so that no two logs share one, whatever their extensions (run.h5, run.hdf5).
  static std::string dir_for(const std::string& log_path);

  CheckpointStore(std::string dir, int rank, int ranks);
  const std::string& dir() const { return dir_; }
  std::string step_dir(std::int64_t step) const;   // DIR/step-00000120
  std::string rank_file(std::int64_t step) const;  // DIR/step-00000120/rank-00003.ckpt (this rank)

  // Writes this rank's file for the boundary `step` atomically. header gets rank, ranks and step added.
  // Throws InputError naming the file and the failing call (disk full, permissions, ...).
  void write(std::int64_t step, nlohmann::json header, std::span<const std::byte> state) const;
  // Rank 0, once every rank's write succeeded: replaces LATEST atomically, then removes every other
  // step folder. Throws InputError naming the file.
  void commit(const CheckpointManifest& m) const;
  // The committed checkpoint, or nullopt if there is none (no LATEST). Throws InputError if LATEST is
  // unreadable.
  std::optional<CheckpointManifest> latest() const;
  // This rank's file of m: checked (magic, CRC, rank, ranks and step of the header), its state returned
  // and its header put in *header. Throws InputError naming the file and what does not fit.
  std::vector<std::byte> read(const CheckpointManifest& m, nlohmann::json* header = nullptr) const;
  // A fresh run's stale checkpoints (of an earlier run with the same output.path): removes LATEST and
  // the step folders, then the folder itself if that left it empty. Nothing else in it is touched.
  static void clear(const std::string& dir);

 private:
  std::string dir_;
  int rank_, ranks_;
};

// The first key path at which two configs differ, ignoring the keys in `ignored` ("train.log_every"),
// with both values: "'train.batch' (64 in the checkpoint, 32 now)"; empty if none.
std::string first_config_difference(const nlohmann::json& was, const nlohmann::json& now,
                                    const std::vector<std::string>& ignored);

}  // namespace gg
