// Small string helpers that std lacks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tether {

std::vector<std::string> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string replace_all(std::string s, std::string_view from, std::string_view to);

// Reads a whole file; the error names the path.
struct Error;
template <typename T> class Result;
Result<std::string> read_file(const std::string& path);
// Writes atomically: a temporary file in the same folder, fsync, rename, fsync of the folder.
Result<void> write_file_atomic(const std::string& path, std::string_view content, int mode = 0644);

}  // namespace tether
