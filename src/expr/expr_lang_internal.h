// Helpers shared by the expr module's parsers and evaluators; not part of its API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/result.h"

namespace tether::expr {

// An expr-lang syntax error: "message (line:col)" plus the source line and a caret.
Error syntax_error(std::string_view src, size_t pos, std::string message);

// Go's strconv.Quote: double quotes, with \n, \t, \" ... and \x.. / \u.... escapes.
std::string go_quote(std::string_view s);
// Go's %#U of the rune at s[pos]: U+0040 '@'.
std::string go_rune_name(std::string_view s, size_t pos);
void append_utf8(std::string& out, uint32_t cp);

// fmt.Sprint of a float64 (strconv %g, shortest): 0.5, 2, 1e+06, 1e-05. (encoding/json
// differs: 1e+21 and 1e-07 thresholds; see go_json.)
std::string go_format_float(double f);
// fmt.Sprint of a JSON value as Go would print the decoded value (maps as map[k:v]).
std::string go_sprint(const Json& v);

// The civil parts of a UTC instant given in nanoseconds since the epoch.
struct TimeParts {
  int64_t year;
  int month, day, hour, minute, second, weekday, yday;  // weekday: 0 is Sunday
  int64_t nanos;
};
TimeParts time_parts(int64_t unix_nanos);

// Go's time.Format for a UTC instant given in nanoseconds since the epoch, with Go's
// reference-time layouts ("2006-01-02T15:04:05Z07:00").
std::string go_time_format(std::string_view layout, int64_t unix_nanos);
// Parses RFC 3339 (with or without fractional seconds) to nanoseconds since the epoch.
std::optional<int64_t> parse_rfc3339(std::string_view text);
// Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s".
std::string go_duration_string(int64_t nanos);

// Regular expressions as Go's regexp (RE2 syntax, unanchored search), on top of
// std::regex. Inputs are bounded in size because std::regex recurses per character.
Status check_regex(std::string_view pattern);
Result<bool> regex_search(std::string_view pattern, std::string_view subject);

}  // namespace tether::expr
