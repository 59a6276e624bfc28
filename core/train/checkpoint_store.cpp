#include "core/train/checkpoint_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/util/error.hpp"
#include "core/util/memory.hpp"
#include "core/util/message.hpp"
#include "core/util/regular_file.hpp"
#include "core/util/utc_time.hpp"

namespace gg {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'G', 'G', 'C', 'K', 'P', 'T', '1', '\n'};
constexpr int kFormat = 1;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw InputError("checkpoint: " + shown(file) + ": " + what);
}

std::string errno_text() { return std::strerror(errno); }

std::string padded(std::int64_t v, int width) {
  std::string s = std::to_string(v);
  return std::string(std::size_t(std::max<int>(0, width - int(s.size()))), '0') + s;
}

std::uint32_t crc_of(const std::byte* p, std::size_t n) {
  return std::uint32_t(crc32_z(0L, reinterpret_cast<const Bytef*>(p), n));
}

// Writes `data` to `path` so that it is whole or absent: a temporary name in the same folder, fsync,
// rename, fsync of the folder.
void write_atomically(const std::string& path, std::span<const std::byte> data) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp, "cannot create (" + errno_text() + ")");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? errno_text() : "no progress";
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(tmp, "writing " + std::to_string(data.size()) + " bytes failed after " + std::to_string(done) + " (" + why + ")");
    }
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    fail(tmp, "fsync/close failed (" + why + ")");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    fail(path, "rename from " + tmp + " failed (" + why + ")");
  }
  const std::string folder = fs::path(path).parent_path().string();
  const int dfd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // the rename itself reaches the disk (best effort: some file systems refuse)
    ::fsync(dfd);
    ::close(dfd);
  }
}

// The largest LATEST a run writes: its effective config (at most kMaxConfigBytes as a file, a little
// more once resolved) and a few fields.
constexpr std::uint64_t kMaxManifestBytes = 64ull << 20;
// The largest rank-file header (JSON: rank, ranks, step, role, algorithm).
constexpr std::uint64_t kMaxHeaderBytes = 1ull << 20;
constexpr std::size_t kPrefix = sizeof kMagic + 4;  // magic, header length

// Reads n bytes at offset `at` of f (a regular file of known size), or fails naming the file.
void read_at(const ReadFile& f, const std::string& path, std::uint64_t at, std::byte* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(f.fd(), out + done, n - done, off_t(at + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, "read error (" + errno_text() + ")");
    if (got == 0) fail(path, "shrank while being read (" + std::to_string(at + done) + " of " +
                                 std::to_string(f.size()) + " bytes)");
    done += std::size_t(got);
  }
}

// Opens a checkpoint file: a regular file only (a FIFO, device, directory or a link to one is refused
// before open(), ReadFile), "missing" if absent.
ReadFile open_checkpoint_file(const std::string& path, const std::string& missing) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) fail(path, missing);
  return ReadFile(path, "checkpoint");
}

}  // namespace

nlohmann::json CheckpointManifest::to_json() const {
  return {{"format", kFormat}, {"step", step}, {"final", final}, {"ranks", ranks}, {"workers", workers},
          {"algorithm", algorithm}, {"written", written.empty() ? iso8601_utc_now() : written},
          {"git_revision", git_revision}, {"config", config}};
}

CheckpointManifest CheckpointManifest::from_json(const nlohmann::json& j, const std::string& source) {
  CheckpointManifest m;
  try {
    if (j.at("format").get<int>() != kFormat)
      fail(source, "format " + j.at("format").dump() + ", this build reads format " + std::to_string(kFormat));
    m.step = j.at("step").get<std::int64_t>();
    m.final = j.at("final").get<bool>();
    m.ranks = j.at("ranks").get<int>();
    m.workers = j.at("workers").get<int>();
    m.algorithm = j.at("algorithm").get<std::string>();
    m.written = j.at("written").get<std::string>();
    m.git_revision = j.at("git_revision").get<std::string>();
    m.config = j.at("config");
  } catch (const nlohmann::json::exception& e) {
    fail(source, std::string("not a checkpoint manifest (") + e.what() + ")");
  }
  if (m.step < 0 || m.ranks < 1 || m.workers < 1 || m.workers > m.ranks)
    fail(source, "impossible step, rank or worker count");
  return m;
}

std::string CheckpointStore::dir_for(const std::string& log_path) { return log_path + ".ckpt"; }

CheckpointStore::CheckpointStore(std::string dir, int rank, int ranks) : dir_(std::move(dir)), rank_(rank), ranks_(ranks) {}

std::string CheckpointStore::step_dir(std::int64_t step) const { return dir_ + "/step-" + padded(step, 8); }

std::string CheckpointStore::rank_file(std::int64_t step) const {
  return step_dir(step) + "/rank-" + padded(rank_, 5) + ".ckpt";
}

void CheckpointStore::write(std::int64_t step, nlohmann::json header, std::span<const std::byte> state) const {
  const std::string folder = step_dir(step), file = rank_file(step);
  std::error_code ec;
  fs::create_directories(folder, ec);  // every rank may try: existing is fine
  if (ec && !fs::is_directory(folder)) fail(folder, "cannot create the folder (" + ec.message() + ")");
  header["rank"] = rank_;
  header["ranks"] = ranks_;
  header["step"] = step;
  const std::string h = header.dump();
  std::vector<std::byte> out;
  out.reserve(sizeof kMagic + 4 + h.size() + 8 + state.size() + 4);
  const auto put = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  };
  const auto hlen = std::uint32_t(h.size());
  const auto slen = std::uint64_t(state.size());
  put(kMagic, sizeof kMagic);
  put(&hlen, 4);
  put(h.data(), h.size());
  put(&slen, 8);
  put(state.data(), state.size());
  const std::uint32_t crc = crc_of(out.data(), out.size());
  put(&crc, 4);
  write_atomically(file, out);
}

void CheckpointStore::commit(const CheckpointManifest& m) const {
  const std::string text = m.to_json().dump(1) + "\n";
  write_atomically(dir_ + "/LATEST", std::as_bytes(std::span<const char>(text.data(), text.size())));
  const std::string keep = fs::path(step_dir(m.step)).filename().string();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    const bool old_step = name.rfind("step-", 0) == 0 && name != keep;
    const bool stray = name.rfind("LATEST.tmp-", 0) == 0;
    if (old_step || stray) fs::remove_all(e.path(), ec);  // best effort: LATEST already names the new one
  }
}

std::optional<CheckpointManifest> CheckpointStore::latest() const {
  const std::string path = dir_ + "/LATEST";
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) return std::nullopt;
  const ReadFile f(path, "checkpoint");
  if (f.size() > kMaxManifestBytes)
    fail(path, "is " + human_bytes(double(f.size())) + ", larger than the " + human_bytes(double(kMaxManifestBytes)) +
                   " a checkpoint manifest may have");
  std::string text(std::size_t(f.size()), '\0');
  read_at(f, path, 0, reinterpret_cast<std::byte*>(text.data()), text.size());
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(path, "is not valid JSON");
  if (!j.is_object()) fail(path, "is not a JSON object");
  return CheckpointManifest::from_json(j, path);
}

std::vector<std::byte> CheckpointStore::read(const CheckpointManifest& m, nlohmann::json* header_out) const {
  const std::string file = rank_file(m.step);
  const ReadFile f = open_checkpoint_file(file, "missing (LATEST names step " + std::to_string(m.step) + ")");
  // Sizes first: the prefix, the header length and the state length must fit the file's size before
  // anything large is read.
  const std::size_t min = kPrefix + 8 + 4;
  if (f.size() < min)
    fail(file, "truncated: " + std::to_string(f.size()) + " bytes, shorter than the " + std::to_string(min) +
                   "-byte checkpoint frame");
  std::byte prefix[kPrefix];
  read_at(f, file, 0, prefix, kPrefix);
  if (std::memcmp(prefix, kMagic, sizeof kMagic) != 0) fail(file, "not a gg_train checkpoint file");
  std::uint32_t hlen = 0;
  std::memcpy(&hlen, prefix + sizeof kMagic, 4);
  if (hlen > kMaxHeaderBytes || hlen > f.size() - min)
    fail(file, "header length " + std::to_string(hlen) + " out of range for a file of " + std::to_string(f.size()) +
                   " bytes (the file is damaged)");
  std::uint64_t slen = 0;
  read_at(f, file, kPrefix + hlen, reinterpret_cast<std::byte*>(&slen), 8);
  if (slen != f.size() - min - hlen)
    fail(file, "holds " + std::to_string(f.size()) + " bytes, but its header and state lengths say " +
                   (slen > f.size() ? std::string("more") : std::to_string(min + hlen + slen)) +
                   " (the file is truncated or damaged)");
  check_allocation(std::size_t(f.size()), 1, "checkpoint: " + shown(file));
  std::vector<std::byte> b(std::size_t(f.size()));
  read_at(f, file, 0, b.data(), b.size());
  std::uint32_t crc = 0;
  std::memcpy(&crc, b.data() + b.size() - 4, 4);
  if (crc != crc_of(b.data(), b.size() - 4)) fail(file, "checksum mismatch (the file is damaged)");
  const char* h = reinterpret_cast<const char*>(b.data() + kPrefix);
  const auto header = nlohmann::json::parse(h, h + hlen, nullptr, false);
  if (header.is_discarded() || !header.is_object()) fail(file, "header is not a JSON object");
  const std::size_t at = kPrefix + hlen;
  const auto expect = [&](const char* key, std::int64_t want) {
    if (!header.contains(key) || !header[key].is_number_integer() || header[key].get<std::int64_t>() != want)
      fail(file, std::string("header '") + key + "' is " + (header.contains(key) ? header[key].dump() : "missing") +
                     ", expected " + std::to_string(want));
  };
  expect("rank", rank_);
  expect("ranks", ranks_);
  expect("step", m.step);
  if (header_out) *header_out = header;
  return {b.begin() + std::ptrdiff_t(at + 8), b.begin() + std::ptrdiff_t(at + 8 + slen)};
}

void CheckpointStore::clear(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == "LATEST" || name.rfind("LATEST.tmp-", 0) == 0 || name.rfind("step-", 0) == 0) fs::remove_all(e.path(), ec);
  }
  fs::remove(dir, ec);  // only if empty
}

namespace {

void diff(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
          const std::vector<std::string>& ignored, std::string& out) {
  if (!out.empty() || std::find(ignored.begin(), ignored.end(), path) != ignored.end()) return;
  if (a.is_object() && b.is_object()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.push_back(k);
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) keys.push_back(k);
    for (const std::string& k : keys) {
      const std::string sub = path.empty() ? k : path + "." + k;
      if (!a.contains(k) || !b.contains(k)) {
        if (std::find(ignored.begin(), ignored.end(), sub) != ignored.end()) continue;
        out = "'" + sub + "' (" + (a.contains(k) ? a[k].dump() : "absent") + " in the checkpoint, " +
              (b.contains(k) ? b[k].dump() : "absent") + " now)";
        return;
      }
      diff(a[k], b[k], sub, ignored, out);
    }
    return;
  }
  if (a != b) out = "'" + (path.empty() ? std::string("(root)") : path) + "' (" + a.dump() + " in the checkpoint, " + b.dump() + " now)";
}

}  // namespace

std::string first_config_difference(const nlohmann::json& was, const nlohmann::json& now,
                                    const std::vector<std::string>& ignored) {
  std::string out;
  diff(was, now, "", ignored, out);
  return out;
}

}  // namespace gg
