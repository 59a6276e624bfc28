#pragma once
// Who may write a run log: one live run per output path, and a log appears at its path only once it
// holds an evaluation.
//
// A new run claims its path before anything is written:
//   0. missing folders of the path are made (and removed again if the claim ends unpublished);
//   1. the staging file DIR/.NAME.part is opened without truncating it and write-locked; if another
//      run holds that lock the claim fails (that run is setting up for the same path);
//   2. an existing file at PATH is inspected, never opened for writing: if a live run holds our lock
//      on it, or an HDF5 writer its flock() (an older gg_train), the claim fails; otherwise (a finished
//      or crashed run's log) it stays untouched;
//   3. only then is the staging file truncated. The run writes its log there; publish() renames it
//      over PATH (atomic: readers see the old log or the new one, never a mix), and the lock moves
//      with the file, so PATH stays claimed until the run ends. A claim destroyed unpublished (set-up
//      failed, or the run failed before its first evaluation) removes the staging file: nothing is left
//      behind and an older log at PATH survives.
//
// The locks are Linux open-file-description locks (fcntl F_OFD_SETLK, whole file): the kernel drops
// them when the process dies, so a crashed run never leaves a stale claim, and they never conflict
// with the flock() locks HDF5 takes for readers, so the live log can be read while the run writes it.
#include <string>
#include <vector>

namespace gg {

class OutputClaim {
 public:
  // Claims `path` for a new log. Throws InputError "output.path: PATH: ..." naming what holds it.
  explicit OutputClaim(std::string path);
  // Claims the existing, published log at `path` to continue it (gg_train --resume): refused like a new
  // claim if a live run sets up for the path (holds its staging file) or writes the file, and if there
  // is no file; then the file itself is write-locked (published() is true from the start), so a second
  // run on the path is refused exactly as while the original run lived. Nothing is created or removed.
  struct Existing {};
  OutputClaim(std::string path, Existing);
  ~OutputClaim();
  OutputClaim(const OutputClaim&) = delete;
  OutputClaim& operator=(const OutputClaim&) = delete;

  const std::string& path() const { return path_; }
  const std::string& staging_path() const { return staging_; }
  // Where the log is now: the staging file until publish(), then path().
  const std::string& current_path() const { return published_ ? path_ : staging_; }
  bool published() const { return published_; }
  // Renames the staging file over path(). Throws std::runtime_error naming both paths on failure.
  void publish();

  // The staging file of `path`: DIR/.NAME.part (hidden; *.h5 globs do not match it).
  static std::string staging_for(const std::string& path);
  // "" if no live run holds `path`, else what holds it ("a running gg_train", "an HDF5 writer").
  static std::string holder_of(const std::string& path);

 private:
  void release_unpublished() noexcept;  // removes the staging file and the folders made for it

  std::string path_, staging_;
  std::vector<std::string> made_dirs_;  // folders this claim made, outermost first
  int fd_ = -1;  // the staging file, write-locked; after publish() the file at path_
  bool published_ = false;
};

}  // namespace gg
