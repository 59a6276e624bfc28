#include "core/log/h5_util.hpp"

#include <algorithm>
#include <stdexcept>

namespace gg::h5 {

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = H5I_INVALID_HID;
}

namespace {
// Keeps the innermost (first) message of the error stack: the one that says what went wrong.
herr_t first_message(unsigned n, const H5E_error2_t* err, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (n == 0 && err && err->desc) *s = err->desc;
  return 0;
}
}  // namespace

Context::Context(std::string path) : path_(std::move(path)) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors come back as exceptions, not stderr spam
}

void Context::fail(const std::string& what) const {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_message, &detail);
  H5Eclear2(H5E_DEFAULT);
  throw std::runtime_error(path_ + ": HDF5: " + what + " failed" + (detail.empty() ? "" : " (" + detail + ")"));
}

namespace {
Handle scalar_space(const Context& cx) { return {cx.id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose}; }

void write_attr_raw(const Context& cx, hid_t obj, const char* name, hid_t type, const void* value) {
  if (H5Aexists(obj, name) > 0) cx.ok(H5Adelete(obj, name), "H5Adelete");
  Handle space = scalar_space(cx);
  Handle attr(cx.id(H5Acreate2(obj, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT), name), H5Aclose);
  cx.ok(H5Awrite(attr.get(), type, value), name);
}
}  // namespace

void write_attr(const Context& cx, hid_t obj, const char* name, const std::string& value) {
  // Variable-length UTF-8: h5py reads it as str, h5dump prints it whole.
  Handle type(cx.id(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  cx.ok(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size");
  cx.ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  const char* p = value.c_str();
  write_attr_raw(cx, obj, name, type.get(), &p);
}

void write_attr(const Context& cx, hid_t obj, const char* name, std::int64_t value) {
  write_attr_raw(cx, obj, name, H5T_NATIVE_INT64, &value);
}

void write_attr(const Context& cx, hid_t obj, const char* name, double value) {
  write_attr_raw(cx, obj, name, H5T_NATIVE_DOUBLE, &value);
}

Extendable::Extendable(const Context& cx, hid_t parent, const char* name, hid_t type, hsize_t cols,
                       hsize_t chunk_rows)
    : type_(type), cols_(cols) {
  const int rank = cols ? 2 : 1;
  if (H5Lexists(parent, name, H5P_DEFAULT) > 0) {  // a resumed log: append after what it holds
    ds_ = Handle(cx.id(H5Dopen2(parent, name, H5P_DEFAULT), name), H5Dclose);
    Handle space(cx.id(H5Dget_space(ds_.get()), "H5Dget_space"), H5Sclose);
    hsize_t dims[2] = {0, 0};
    if (H5Sget_simple_extent_ndims(space.get()) != rank) cx.fail(std::string("opening ") + name + " (another rank)");
    cx.ok(H5Sget_simple_extent_dims(space.get(), dims, nullptr), "H5Sget_simple_extent_dims");
    if (cols && dims[1] != cols) cx.fail(std::string("opening ") + name + " (another column count)");
    rows_ = dims[0];
    return;
  }
  const hsize_t dims[2] = {0, cols}, maxdims[2] = {H5S_UNLIMITED, cols};
  const hsize_t chunk[2] = {std::max<hsize_t>(1, chunk_rows), std::max<hsize_t>(1, cols)};
  Handle space(cx.id(H5Screate_simple(rank, dims, maxdims), "H5Screate_simple"), H5Sclose);
  Handle dcpl(cx.id(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
  cx.ok(H5Pset_chunk(dcpl.get(), rank, chunk), "H5Pset_chunk");
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {  // small files: the reference results are committed
    cx.ok(H5Pset_shuffle(dcpl.get()), "H5Pset_shuffle");
    cx.ok(H5Pset_deflate(dcpl.get(), 4), "H5Pset_deflate");
  }
  // A checksum per chunk (built into HDF5): a flipped byte is a read error, never a wrong number.
  cx.ok(H5Pset_fletcher32(dcpl.get()), "H5Pset_fletcher32");
  ds_ = Handle(cx.id(H5Dcreate2(parent, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), name),
               H5Dclose);
}

void Extendable::append(const Context& cx, const void* data, hsize_t rows) {
  if (rows == 0) return;
  const int rank = cols_ ? 2 : 1;
  const hsize_t total[2] = {rows_ + rows, cols_};
  cx.ok(H5Dset_extent(ds_.get(), total), "H5Dset_extent");
  Handle file_space(cx.id(H5Dget_space(ds_.get()), "H5Dget_space"), H5Sclose);
  const hsize_t start[2] = {rows_, 0}, count[2] = {rows, cols_};
  cx.ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
        "H5Sselect_hyperslab");
  Handle mem_space(cx.id(H5Screate_simple(rank, count, nullptr), "H5Screate_simple"), H5Sclose);
  cx.ok(H5Dwrite(ds_.get(), type_, mem_space.get(), file_space.get(), H5P_DEFAULT, data), "H5Dwrite");
  rows_ += rows;
}

Handle create_group(const Context& cx, hid_t parent, const char* name) {
  if (H5Lexists(parent, name, H5P_DEFAULT) > 0) return {cx.id(H5Gopen2(parent, name, H5P_DEFAULT), name), H5Gclose};
  return {cx.id(H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), name), H5Gclose};
}

std::int64_t read_int_attr(const Context& cx, hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) cx.fail(std::string("reading attribute ") + name + " (absent)");
  Handle attr(cx.id(H5Aopen(obj, name, H5P_DEFAULT), name), H5Aclose);
  std::int64_t v = 0;
  cx.ok(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), name);
  return v;
}

std::string read_string_attr(const Context& cx, hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return {};
  Handle attr(cx.id(H5Aopen(obj, name, H5P_DEFAULT), name), H5Aclose);
  Handle type(cx.id(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  cx.ok(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size");
  cx.ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  char* p = nullptr;
  cx.ok(H5Aread(attr.get(), type.get(), &p), name);
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

std::vector<std::int64_t> read_int64s(const Context& cx, hid_t parent, const char* name) {
  Handle ds(cx.id(H5Dopen2(parent, name, H5P_DEFAULT), name), H5Dclose);
  Handle space(cx.id(H5Dget_space(ds.get()), "H5Dget_space"), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) cx.fail(std::string("sizing ") + name);
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  if (n > 0) cx.ok(H5Dread(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), name);
  return v;
}

void truncate_rows(const Context& cx, hid_t group, hsize_t rows) {
  H5G_info_t info{};
  cx.ok(H5Gget_info(group, &info), "H5Gget_info");
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) cx.fail("H5Lget_name_by_idx");
    std::string name(std::size_t(len) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(std::size_t(len));
    Handle obj(cx.id(H5Oopen(group, name.c_str(), H5P_DEFAULT), name.c_str()), H5Oclose);
    const H5I_type_t type = H5Iget_type(obj.get());
    if (type == H5I_GROUP) {
      truncate_rows(cx, obj.get(), rows);
    } else if (type == H5I_DATASET) {
      Handle space(cx.id(H5Dget_space(obj.get()), "H5Dget_space"), H5Sclose);
      hsize_t dims[H5S_MAX_RANK] = {};
      if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 1) cx.fail("sizing " + name);
      if (dims[0] > rows) {
        dims[0] = rows;
        cx.ok(H5Dset_extent(obj.get(), dims), "H5Dset_extent (truncating)");
      }
    }
  }
}

}  // namespace gg::h5
