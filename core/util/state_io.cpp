#include "core/util/state_io.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <limits>

#include "core/util/error.hpp"

namespace gg {

namespace {

enum Kind : std::uint8_t { kInt = 1, kDouble = 2, kFloats = 3, kInts = 4, kBytes = 5 };

const char* kind_name(std::uint8_t k) {
  switch (k) {
    case kInt: return "int64";
    case kDouble: return "float64";
    case kFloats: return "float32 array";
    case kInts: return "int64 array";
    case kBytes: return "bytes";
    default: return "unknown kind";
  }
}

std::size_t value_size(std::uint8_t k) { return k == kFloats ? 4 : k == kBytes ? 1 : 8; }

}  // namespace

void StateWriter::raw(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  buf_.insert(buf_.end(), b, b + n);
}

void StateWriter::header(std::string_view name, std::uint8_t kind, std::uint64_t count) {
  if (name.empty() || name.size() > std::numeric_limits<std::uint16_t>::max())
    throw std::invalid_argument("StateWriter: record name must have 1..65535 bytes");
  const auto len = std::uint16_t(name.size());
  raw(&len, sizeof len);
  raw(name.data(), name.size());
  raw(&kind, 1);
  raw(&count, sizeof count);
}

void StateWriter::put_int(std::string_view name, std::int64_t v) {
  header(name, kInt, 1);
  raw(&v, sizeof v);
}

void StateWriter::put_double(std::string_view name, double v) {
  header(name, kDouble, 1);
  raw(&v, sizeof v);
}

void StateWriter::put_floats(std::string_view name, std::span<const float> v) {
  header(name, kFloats, v.size());
  raw(v.data(), v.size_bytes());
}

void StateWriter::put_ints(std::string_view name, std::span<const std::int64_t> v) {
  header(name, kInts, v.size());
  raw(v.data(), v.size_bytes());
}

void StateWriter::put_bytes(std::string_view name, std::span<const std::byte> v) {
  header(name, kBytes, v.size());
  raw(v.data(), v.size());
}

void StateWriter::append(const StateWriter& other) { buf_.insert(buf_.end(), other.buf_.begin(), other.buf_.end()); }

StateReader::StateReader(std::span<const std::byte> data, std::string source)
    : data_(data), source_(std::move(source)) {}

void StateReader::fail(std::string_view name, const std::string& what) const {
  throw InputError(source_ + ": record '" + std::string(name) + "': " + what);
}

std::uint64_t StateReader::take(std::string_view name, std::uint8_t kind) {
  const std::size_t left = data_.size() - pos_;
  std::uint16_t len = 0;
  if (left < sizeof len) fail(name, at_end() ? "missing (the checkpoint ends before it)" : "truncated");
  std::memcpy(&len, data_.data() + pos_, sizeof len);
  if (left < sizeof len + len + 1 + 8) fail(name, "truncated");
  const std::string_view got(reinterpret_cast<const char*>(data_.data() + pos_ + sizeof len), len);
  if (got != name) fail(name, "found '" + std::string(got) + "' in its place (written by another algorithm, model or option set?)");
  std::uint8_t k = 0;
  std::uint64_t count = 0;
  std::memcpy(&k, data_.data() + pos_ + sizeof len + len, 1);
  std::memcpy(&count, data_.data() + pos_ + sizeof len + len + 1, 8);
  if (k != kind) fail(name, std::string("is a ") + kind_name(k) + ", expected a " + kind_name(kind));
  const std::size_t at = pos_ + sizeof len + len + 1 + 8;
  if (count > (data_.size() - at) / value_size(kind)) fail(name, "truncated (" + std::to_string(count) + " values)");
  pos_ = at;
  return count;
}

std::int64_t StateReader::get_int(std::string_view name) {
  take(name, kInt);
  std::int64_t v = 0;
  std::memcpy(&v, data_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

double StateReader::get_double(std::string_view name) {
  take(name, kDouble);
  double v = 0;
  std::memcpy(&v, data_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

void StateReader::get_floats(std::string_view name, std::span<float> out) {
  const std::uint64_t n = take(name, kFloats);
  if (n != out.size()) fail(name, "holds " + std::to_string(n) + " floats, expected " + std::to_string(out.size()));
  std::memcpy(out.data(), data_.data() + pos_, out.size_bytes());
  pos_ += out.size_bytes();
}

void StateReader::get_ints(std::string_view name, std::span<std::int64_t> out) {
  const std::uint64_t n = take(name, kInts);
  if (n != out.size()) fail(name, "holds " + std::to_string(n) + " integers, expected " + std::to_string(out.size()));
  std::memcpy(out.data(), data_.data() + pos_, out.size_bytes());
  pos_ += out.size_bytes();
}

std::vector<std::int64_t> StateReader::get_ints(std::string_view name) {
  const std::uint64_t n = take(name, kInts);
  std::vector<std::int64_t> v(n);
  std::memcpy(v.data(), data_.data() + pos_, n * 8);
  pos_ += n * 8;
  return v;
}

std::span<const std::byte> StateReader::get_bytes(std::string_view name) {
  const std::uint64_t n = take(name, kBytes);
  const std::span<const std::byte> v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

void StateReader::finish() const {
  if (at_end()) return;
  std::uint16_t len = 0;
  std::memcpy(&len, data_.data() + pos_, std::min<std::size_t>(sizeof len, data_.size() - pos_));
  const std::size_t shown = std::min<std::size_t>(len, data_.size() - pos_ - std::min<std::size_t>(2, data_.size() - pos_));
  const std::string next(reinterpret_cast<const char*>(data_.data() + pos_ + 2), shown);
  throw InputError(source_ + ": unexpected record '" + next + "' after the last one this build reads");
}

}  // namespace gg
