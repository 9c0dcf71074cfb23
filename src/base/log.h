// Minimal leveled logging to stderr (or a file the engine chooses). Never log secret values.
#pragma once

#include <fmt/core.h>

#include <string>

namespace tether::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void set_level(Level level);
void set_file(int fd);  // where lines go; default stderr
void write(Level level, const std::string& line);

template <typename... A>
void debug(fmt::format_string<A...> f, A&&... a) { write(Level::kDebug, fmt::format(f, std::forward<A>(a)...)); }
template <typename... A>
void info(fmt::format_string<A...> f, A&&... a) { write(Level::kInfo, fmt::format(f, std::forward<A>(a)...)); }
template <typename... A>
void warn(fmt::format_string<A...> f, A&&... a) { write(Level::kWarn, fmt::format(f, std::forward<A>(a)...)); }
template <typename... A>
void error(fmt::format_string<A...> f, A&&... a) { write(Level::kError, fmt::format(f, std::forward<A>(a)...)); }

}  // namespace tether::log
