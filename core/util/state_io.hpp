#pragma once
// A flat, typed, named record stream: what a checkpoint holds for one rank (core/train/checkpoint.hpp),
// and what each algorithm writes of its own state (Algorithm::save_state). The writer appends records;
// the reader takes them back strictly in the order written, each by its expected name and size, so a
// checkpoint of another algorithm, model or option set fails at the first record that differs, with a
// message naming the file and the record.
//
// Record: u16 name length | name | u8 kind | u64 count | payload (count values, native byte order:
// a checkpoint is read back on the same kind of machine). Kinds: 1 int64, 2 float64, 3 float32 array,
// 4 int64 array, 5 bytes. Scalars have count 1. Names are free-form; by convention "owner.field"
// ("trainer.step", "sgp.xw"). The Python reader is ggbench/checkpoint.py.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gg {

class StateWriter {
 public:
  void put_int(std::string_view name, std::int64_t v);
  void put_double(std::string_view name, double v);
  void put_floats(std::string_view name, std::span<const float> v);
  void put_ints(std::string_view name, std::span<const std::int64_t> v);
  void put_bytes(std::string_view name, std::span<const std::byte> v);
  void append(const StateWriter& other);  // other's records after this one's
  std::span<const std::byte> bytes() const { return buf_; }

 private:
  void header(std::string_view name, std::uint8_t kind, std::uint64_t count);
  void raw(const void* p, std::size_t n);
  std::vector<std::byte> buf_;
};

class StateReader {
 public:
  // source names the data in messages (the checkpoint file). data must outlive the reader.
  StateReader(std::span<const std::byte> data, std::string source);

  // Each get_* takes the next record; it must have this name and kind (and, for the fixed-size
  // getters, exactly out.size() values), else InputError "SOURCE: record 'NAME': ...".
  std::int64_t get_int(std::string_view name);
  double get_double(std::string_view name);
  void get_floats(std::string_view name, std::span<float> out);
  void get_ints(std::string_view name, std::span<std::int64_t> out);
  std::vector<std::int64_t> get_ints(std::string_view name);  // any count
  std::span<const std::byte> get_bytes(std::string_view name);  // any count; a view into data
  bool at_end() const { return pos_ == data_.size(); }
  // Throws InputError if records are left (a checkpoint written by something else).
  void finish() const;
  const std::string& source() const { return source_; }

 private:
  std::uint64_t take(std::string_view name, std::uint8_t kind);
  [[noreturn]] void fail(std::string_view name, const std::string& what) const;
  std::span<const std::byte> data_;
  std::string source_;
  std::size_t pos_ = 0;
};

}  // namespace gg
