// The files a step's supervisor and the host runner exchange through node_dir (spec,
// started, exit) are lists of named fields. Values are arbitrary bytes (argv and env may
// hold newlines, quotes, NULs), so each field is length-prefixed: "name len:bytes\n".
// Shared by the supervisor, which links nothing but libc and libstdc++.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::exec {

class Record {
 public:
  void add(std::string_view name, std::string_view value);
  void add(std::string_view name, long long value);

  // The first value of `name`, or `fallback`.
  std::string get(std::string_view name, std::string_view fallback = {}) const;
  long long get_int(std::string_view name, long long fallback = 0) const;
  std::vector<std::string> all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

  std::string encode() const;
  // False (with a reason) on a truncated or malformed file.
  static bool decode(std::string_view text, Record* out, std::string* why);
  // The whole fields at the start of `text`, up to the first truncated or malformed one:
  // how many bytes they take.
  static size_t decode_prefix(std::string_view text, Record* out, std::string* why);

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// node_dir/state (layout.h), written by the supervisor of one attempt: its start fields
// (pids and kernel start times) once the step is forked, then, rewritten whole with the end
// fields after them, once the step has ended. The end fields begin with "kind".
struct AttemptState {
  Record start;        // possibly partial: a reader may catch the file half written
  bool ended = false;  // the end fields are all there
  Record end;
};
// False, with errno set, when the file cannot be read (ENOENT: no supervisor got as far as
// starting the step).
bool read_attempt_state(const std::string& path, AttemptState* out);

// Plain file helpers that set errno instead of allocating an Error: the supervisor uses them.
bool read_whole_file(const std::string& path, std::string* out);
// Writes path.tmp then renames it over path, so readers see the old file or the whole new one.
// No fsync: these files guard against process crashes; a power loss ends every step anyway.
bool write_file_replace(const std::string& path, std::string_view content, int mode = 0644);
// Writes PATH in place (created or truncated): for a file nothing reads before it is
// complete.
bool write_file_in_place(const std::string& path, std::string_view content, int mode = 0644);

// Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot, 0 if the process is
// gone. With the pid it names a process uniquely, so a pid read from a file can be checked
// against reuse.
long long proc_start_time(int pid);

}  // namespace tether::exec
