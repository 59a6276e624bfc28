#pragma once
// Thin RAII over the HDF5 C API for the run log. Every failure becomes an exception that names the
// file and the failing operation, with HDF5's innermost error message (automatic printing is off).
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gg::h5 {

// Owns one hid_t and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// Turns HDF5's error stack into exceptions carrying `path`.
class Context {
 public:
  explicit Context(std::string path);
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;
  // id() passes a new identifier through; ok() checks a status.
  hid_t id(hid_t id, const char* what) const {
    if (id < 0) fail(what);
    return id;
  }
  void ok(herr_t rc, const char* what) const {
    if (rc < 0) fail(what);
  }

 private:
  std::string path_;
};

// Attribute writers on a file or group (scalar dataspace). Rewriting an attribute replaces it.
void write_attr(const Context& cx, hid_t obj, const char* name, const std::string& value);
void write_attr(const Context& cx, hid_t obj, const char* name, std::int64_t value);
void write_attr(const Context& cx, hid_t obj, const char* name, double value);

// A dataset growing along dimension 0: rank 1 [n] or rank 2 [n, cols].
class Extendable {
 public:
  Extendable() = default;
  // type: a native type (H5T_NATIVE_FLOAT, ...). cols == 0 makes a rank-1 dataset. If parent already
  // holds `name` (a resumed log), that dataset is opened instead and appends continue after its rows;
  // its shape must fit (rank, cols), else the Context fails naming it.
  Extendable(const Context& cx, hid_t parent, const char* name, hid_t type, hsize_t cols, hsize_t chunk_rows);
  // Appends `rows` rows from data (rows * max(cols, 1) values of the dataset's type).
  void append(const Context& cx, const void* data, hsize_t rows);
  hsize_t rows() const { return rows_; }

 private:
  Handle ds_;
  hid_t type_ = H5I_INVALID_HID;  // native types are library constants: never closed
  hsize_t cols_ = 0, rows_ = 0;
};

// Creates the group, or opens it if it exists (a resumed log).
Handle create_group(const Context& cx, hid_t parent, const char* name);

// Reading back (resuming a log): a scalar attribute, and the datasets' row counts.
std::int64_t read_int_attr(const Context& cx, hid_t obj, const char* name);
std::string read_string_attr(const Context& cx, hid_t obj, const char* name);  // "" if absent
// The values of a rank-1 int64 dataset (e.g. /steps/step).
std::vector<std::int64_t> read_int64s(const Context& cx, hid_t parent, const char* name);
// Cuts every dataset under the group (recursively) to at most `rows` rows along dimension 0.
void truncate_rows(const Context& cx, hid_t group, hsize_t rows);

}  // namespace gg::h5
