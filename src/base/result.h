// Error values and Result<T>: the only way errors cross module boundaries.
// libstdc++ 12 has no std::expected, so this is a small one with the same shape.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tether {

// A file's name, shared by every copy: each value parsed from a file carries its position,
// and a string copy per value was a large part of reading a big workflow.
class FileName {
 public:
  FileName() = default;
  FileName(std::string name) : name_(name.empty() ? nullptr : std::make_shared<const std::string>(std::move(name))) {}
  FileName(const char* name) : FileName(std::string(name)) {}

  const std::string& str() const { return name_ ? *name_ : no_name(); }
  operator const std::string&() const { return str(); }
  bool empty() const { return !name_; }
  friend bool operator==(const FileName& a, const FileName& b) { return a.str() == b.str(); }
  friend bool operator==(const FileName& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const FileName& a, const char* b) { return a.str() == b; }

 private:
  static const std::string& no_name() {
    static const std::string kEmpty;
    return kEmpty;
  }
  std::shared_ptr<const std::string> name_;
};

// Where a value came from in a user's file. line and col are 1-based; 0 means unknown.
struct SourcePos {
  FileName file;
  int line = 0;
  int col = 0;

  bool known() const { return line > 0; }
  // "file:line:col" (or less, when parts are unknown).
  std::string str() const;
};

enum class ErrorCode {
  kInvalid,     // bad user input: a file, a flag, a value
  kNotFound,    // a named thing does not exist
  kConflict,    // already exists, or the state does not allow it
  kIo,          // the OS said no
  kInternal,    // a bug in tether
  kUnavailable, // something we depend on is not there (engine, database)
};

struct Error {
  ErrorCode code = ErrorCode::kInvalid;
  std::string message;
  SourcePos pos;

  Error() = default;
  Error(ErrorCode c, std::string m, SourcePos p = {}) : code(c), message(std::move(m)), pos(std::move(p)) {}

  // "file:line:col: message" when the position is known, else the message.
  std::string str() const;
};

Error invalid(std::string message, SourcePos pos = {});
Error not_found(std::string message);
Error io_error(std::string what);  // appends strerror(errno)
Error internal(std::string message);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  void value() const { assert(ok()); }
  const Error& error() const { assert(e_); return *e_; }
  Error&& take_error() { assert(e_); return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;
inline Status ok_status() { return {}; }

}  // namespace tether

// TRY(expr): evaluates a Result; on error returns it from the enclosing function,
// otherwise yields the value. GNU statement expressions (gcc and clang).
#define TRY(expr)                                           \
  ({                                                        \
    auto _tether_try = (expr);                              \
    if (!_tether_try.ok()) return _tether_try.take_error(); \
    std::move(_tether_try).value();                         \
  })

// TRY_STATUS(expr) for Result<void>.
#define TRY_STATUS(expr)                                    \
  do {                                                      \
    auto _tether_try = (expr);                              \
    if (!_tether_try.ok()) return _tether_try.take_error(); \
  } while (0)
