#include "core/config/json_reader.hpp"

#include <algorithm>
#include <cmath>

#include "core/util/error.hpp"
#include "core/util/message.hpp"

namespace gg {

const nlohmann::json JsonReader::empty_ = nlohmann::json::object();

namespace {
std::string type_name(const nlohmann::json& v) { return v.type_name(); }
std::string dumped(const nlohmann::json& v) { return shown(v.dump(), 80); }
}  // namespace

JsonReader::JsonReader(const nlohmann::json& j, std::string path) : j_(&j), path_(std::move(path)) {
  if (!j.is_object())
    throw InputError("config: '" + (path_.empty() ? std::string("<root>") : shown(path_)) +
                     "' must be an object, got " + type_name(j));
}

JsonReader::JsonReader(const nlohmann::json& j, std::string path, std::shared_ptr<nlohmann::json> record)
    : JsonReader(j, std::move(path)) {
  record_ = std::move(record);
  if (!record_) return;
  if (!record_->is_object()) *record_ = nlohmann::json::object();
  // "a.b" -> /a/b: values read here land at this reader's place in the record
  for (std::size_t start = 0; start < path_.size();) {
    const std::size_t dot = std::min(path_.find('.', start), path_.size());
    record_at_ /= path_.substr(start, dot - start);
    start = dot + 1;
  }
  nlohmann::json& slot = (*record_)[record_at_];
  if (!slot.is_object()) slot = nlohmann::json::object();
}

template <class T>
T JsonReader::note(const std::string& key, T value) {
  if (record_) (*record_)[record_at_ / key] = value;
  return value;
}

void JsonReader::fail(const std::string& key, const std::string& what) const {
  throw InputError("config: '" + shown(path_of(key)) + "' " + what);
}

bool JsonReader::has(const std::string& key) const { return j_->contains(key); }

const nlohmann::json* JsonReader::find(const std::string& key) {
  auto it = j_->find(key);
  if (it == j_->end()) return nullptr;
  used_.insert(key);
  return &*it;
}

std::int64_t JsonReader::get_int(const std::string& key, std::optional<std::int64_t> fallback,
                                 std::int64_t min, std::int64_t max) {
  const auto* v = find(key);
  if (!v) {
    if (!fallback) fail(key, "is required");
    return note(key, *fallback);
  }
  std::int64_t x = 0;
  if (v->is_number_integer()) {
    x = v->get<std::int64_t>();
  } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
             std::abs(v->get<double>()) < 9e15) {
    x = std::int64_t(v->get<double>());
  } else {
    fail(key, "must be an integer, got " + type_name(*v) + " " + dumped(*v));
  }
  if (x < min || x > max)
    fail(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                  std::to_string(x));
  return note(key, x);
}

double JsonReader::get_double(const std::string& key, std::optional<double> fallback, double min,
                              double max) {
  const auto* v = find(key);
  if (!v) {
    if (!fallback) fail(key, "is required");
    return note(key, *fallback);
  }
  if (!v->is_number()) fail(key, "must be a number, got " + type_name(*v) + " " + dumped(*v));
  const double x = v->get<double>();
  if (!(x >= min && x <= max))
    fail(key, "must be in [" + nlohmann::json(min).dump() + ", " + nlohmann::json(max).dump() +
                  "], got " + dumped(*v));
  return note(key, x);
}

bool JsonReader::get_bool(const std::string& key, std::optional<bool> fallback) {
  const auto* v = find(key);
  if (!v) {
    if (!fallback) fail(key, "is required");
    return note(key, *fallback);
  }
  if (!v->is_boolean()) fail(key, "must be true or false, got " + type_name(*v) + " " + dumped(*v));
  return note(key, v->get<bool>());
}

std::string JsonReader::get_string(const std::string& key, std::optional<std::string> fallback,
                                   std::initializer_list<const char*> choices) {
  const auto* v = find(key);
  std::string s;
  if (!v) {
    if (!fallback) fail(key, "is required");
    s = *fallback;
  } else {
    if (!v->is_string()) fail(key, "must be a string, got " + type_name(*v) + " " + dumped(*v));
    s = v->get<std::string>();
  }
  if (choices.size() && std::none_of(choices.begin(), choices.end(), [&](const char* c) { return s == c; })) {
    std::string list;
    for (const char* c : choices) list += std::string(list.empty() ? "" : ", ") + c;
    fail(key, "must be one of {" + list + "}, got \"" + shown(s, 80) + "\"");
  }
  return note(key, s);
}

std::vector<std::int64_t> JsonReader::get_int_list(const std::string& key,
                                                   std::vector<std::int64_t> fallback, std::int64_t min) {
  const auto* v = find(key);
  if (!v) return note(key, fallback);
  if (!v->is_array()) fail(key, "must be an array of integers, got " + type_name(*v));
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& e = (*v)[i];
    if (!e.is_number_integer())
      fail(key + "[" + std::to_string(i) + "]", "must be an integer, got " + dumped(e));
    if (e.get<std::int64_t>() < min)
      fail(key + "[" + std::to_string(i) + "]", "must be >= " + std::to_string(min));
    out.push_back(e.get<std::int64_t>());
  }
  return note(key, out);
}

std::vector<std::string> JsonReader::get_string_list(const std::string& key,
                                                     std::vector<std::string> fallback) {
  const auto* v = find(key);
  if (!v) return note(key, fallback);
  if (!v->is_array()) fail(key, "must be an array of strings, got " + type_name(*v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) fail(key + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back((*v)[i].get<std::string>());
  }
  return note(key, out);
}

JsonReader JsonReader::object(const std::string& key, bool required) {
  const auto* v = find(key);
  if (!v) {
    if (required) fail(key, "is required");
    return child(empty_, key);
  }
  if (!v->is_object()) fail(key, "must be an object, got " + type_name(*v));
  return child(*v, key);
}

std::vector<JsonReader> JsonReader::objects(const std::string& key) {
  const auto* v = find(key);
  if (!v) fail(key, "is required");
  if (!v->is_array()) fail(key, "must be an array, got " + type_name(*v));
  note(key, *v);  // recorded as given; the elements' readers do not record
  std::vector<JsonReader> out;
  for (std::size_t i = 0; i < v->size(); ++i) out.emplace_back((*v)[i], path_of(key) + "[" + std::to_string(i) + "]");
  return out;
}

const nlohmann::json& JsonReader::raw(const std::string& key) {
  const auto* v = find(key);
  if (!v) fail(key, "is required");
  note(key, *v);
  return *v;
}

JsonReader JsonReader::child(const nlohmann::json& j, const std::string& key) const {
  JsonReader r(j, path_of(key));
  if (record_) {
    r.record_ = record_;
    r.record_at_ = record_at_ / key;
    nlohmann::json& slot = (*record_)[r.record_at_];
    if (!slot.is_object()) slot = nlohmann::json::object();
  }
  return r;
}

void JsonReader::finish() const {
  for (auto it = j_->begin(); it != j_->end(); ++it)
    if (!used_.count(it.key())) throw InputError("config: unknown key '" + shown(path_of(it.key())) + "'");
}

}  // namespace gg
