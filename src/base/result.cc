#include "base/result.h"

#include <cerrno>
#include <cstring>

namespace tether {

std::string SourcePos::str() const {
  std::string s = file.str();
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (col > 0) s += ":" + std::to_string(col);
  }
  return s;
}

std::string Error::str() const {
  std::string where = pos.str();
  if (where.empty()) return message;
  return where + ": " + message;
}

Error invalid(std::string message, SourcePos pos) { return Error(ErrorCode::kInvalid, std::move(message), std::move(pos)); }
Error not_found(std::string message) { return Error(ErrorCode::kNotFound, std::move(message)); }
Error internal(std::string message) { return Error(ErrorCode::kInternal, std::move(message)); }
Error io_error(std::string what) {
  int e = errno;
  return Error(ErrorCode::kIo, what + ": " + std::strerror(e));
}

}  // namespace tether
