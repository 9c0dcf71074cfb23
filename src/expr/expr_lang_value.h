// The runtime value of the expr-lang evaluator: a JSON value, or one of the Go types
// that JSON cannot carry (time.Time, time.Duration). Not part of the module's API.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::expr {

struct Value {
  enum class Ext { kNone, kTime, kDuration };
  Json j;
  Ext ext = Ext::kNone;
  int64_t ns = 0;  // kTime: nanoseconds since the epoch (UTC); kDuration: nanoseconds

  Value() = default;
  Value(Json v) : j(std::move(v)) {}  // NOLINT: values are built from JSON everywhere
  static Value time(int64_t nanos) {
    Value v;
    v.ext = Ext::kTime;
    v.ns = nanos;
    return v;
  }
  static Value duration(int64_t nanos) {
    Value v;
    v.ext = Ext::kDuration;
    v.ns = nanos;
    return v;
  }

  bool is_nil() const { return ext == Ext::kNone && j.is_null(); }
  bool is_int() const { return ext == Ext::kNone && (j.is_number_integer()); }
  bool is_float() const { return ext == Ext::kNone && j.is_number_float(); }
  bool is_number() const { return ext == Ext::kNone && j.is_number(); }
  bool is_string() const { return ext == Ext::kNone && j.is_string(); }
  bool is_bool() const { return ext == Ext::kNone && j.is_boolean(); }
  bool is_array() const { return ext == Ext::kNone && j.is_array(); }
  bool is_map() const { return ext == Ext::kNone && j.is_object(); }
  bool is_time() const { return ext == Ext::kTime; }
  bool is_duration() const { return ext == Ext::kDuration; }

  int64_t as_int() const;     // for is_number()
  double as_float() const;    // for is_number()
  const std::string& str() const { return j.get_ref<const std::string&>(); }

  // The value as JSON: times as RFC 3339 strings, durations as nanoseconds (as Go's
  // json.Marshal writes them).
  Json to_json() const;
  // Go's type name, for messages: int, float64, string, bool, <nil>, []interface {},
  // map[string]interface {}, time.Time, time.Duration.
  std::string type_name() const;
};

// Go's fmt.Sprint of the value.
std::string sprint(const Value& v);
// expr-lang's equality: numbers compare across int and float; arrays and maps deeply.
bool values_equal(const Value& a, const Value& b);

// Calls a function by name: expr-lang's builtins that take plain arguments, Argo's
// additions (asInt, asFloat, jsonpath, toJson), and with prefix "sprig." sprig's.
// Returns nullopt-like error kNotFound when there is no such function.
Result<Value> call_function(const std::string& name, std::vector<Value>& args);
bool function_exists(const std::string& name);

// Runs a JSONPath query (the evilmonkeyinc/jsonpath dialect Argo uses) on a document.
Result<Json> jsonpath_query(const Json& doc, std::string_view path);

}  // namespace tether::expr
