#pragma once
// Strict reading of JSON objects into plain structs. Every value is read through a JsonReader that
// knows its JSON path ("algorithm.rotation"), checks type and range, and, on finish(), rejects keys
// nobody read. Errors are InputError with the path in the message.
//
// A reader made with a record document writes every value it returns (defaults included) into that
// document at its own path, and so do the readers it hands out for sub-objects: after every block has
// been read, the record is the run's effective configuration (what the run log stores).
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gg {

class JsonReader {
 public:
  // j must outlive the reader. path is how errors name this object ("" for the root).
  JsonReader(const nlohmann::json& j, std::string path);
  // Also records every value read into *record (an object), at `path`'s position in it.
  JsonReader(const nlohmann::json& j, std::string path, std::shared_ptr<nlohmann::json> record);

  bool has(const std::string& key) const;
  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> fallback = std::nullopt,
                       std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX);
  double get_double(const std::string& key, std::optional<double> fallback = std::nullopt,
                    double min = -1e300, double max = 1e300);
  bool get_bool(const std::string& key, std::optional<bool> fallback = std::nullopt);
  std::string get_string(const std::string& key, std::optional<std::string> fallback = std::nullopt,
                         std::initializer_list<const char*> choices = {});
  std::vector<std::int64_t> get_int_list(const std::string& key, std::vector<std::int64_t> fallback,
                                         std::int64_t min = INT64_MIN);
  std::vector<std::string> get_string_list(const std::string& key, std::vector<std::string> fallback);
  // Sub-object (an empty object if absent and optional).
  JsonReader object(const std::string& key, bool required = false);
  // Elements of an array of objects.
  std::vector<JsonReader> objects(const std::string& key);
  const nlohmann::json& raw(const std::string& key);

  // Throws InputError for the first key that no get_* call consumed.
  void finish() const;
  std::string path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json* find(const std::string& key);
  JsonReader child(const nlohmann::json& j, const std::string& key) const;
  template <class T>
  T note(const std::string& key, T value);  // records key = value (when recording); returns value
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

  const nlohmann::json* j_;
  std::string path_;
  std::set<std::string> used_;
  std::shared_ptr<nlohmann::json> record_;   // null: not recording
  nlohmann::json::json_pointer record_at_;   // this object's place in *record_
  static const nlohmann::json empty_;
};

}  // namespace gg
