// Argo CLI output: the `list` table, the `get` header and node tree, humanized times.
// Layouts follow argo's printer so scripts that parse argo's output parse ours.
#pragma once

#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json.h"

namespace tether::cli {

// Go's text/tabwriter with minwidth 0, tabwidth 0, the given padding and ' ' padchar:
// cells end with '\t'; a column's width is set per block of consecutive lines that have it.
std::string tabwrite(const std::string& text, int padding);

// "0s", "5s", "1m", "3h", "2d" (argo's RelativeDurationShort). A missing finish means now.
std::string duration_short(std::optional<WallTime> start, std::optional<WallTime> finish, WallTime now);
// "12 seconds", "1 minute 5 seconds" (argo's RelativeDuration).
std::string duration_long(std::optional<WallTime> start, std::optional<WallTime> finish, WallTime now);
// "Mon Jan 02 15:04:05 +0000 (5 minutes ago)"
std::string timestamp_long(WallTime t, WallTime now);

struct GetOptions {
  std::string output;              // "", "wide", "short"
  std::string node_field_selector; // e.g. "phase=Failed"
  bool utf8 = true;
  bool color = false;
};
// The text `argo get NAME` prints for a Workflow object (engine::workflow_object).
std::string render_get(const Json& wf, const GetOptions& opts, WallTime now);

struct ListOptions {
  std::string output;  // "", "wide"
  bool no_headers = false;
  bool all_namespaces = false;
  bool color = false;
};
std::string render_list(const std::vector<Json>& workflows, const ListOptions& opts, WallTime now);

// The phase as argo shows it in STATUS: "Running", "Succeeded", "Running (Suspended)", ...
std::string workflow_status(const Json& wf);

}  // namespace tether::cli
