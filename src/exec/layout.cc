#include "exec/layout.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdint>

#include "exec/record.h"

namespace tether::exec {

int open_node_lock(const std::string& node_dir) {
  return ::open(node_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

std::string encode_spec(const StepSpec& spec) {
  Record r;
  r.add("image", spec.image);
  for (const auto& a : spec.argv) r.add("arg", a);
  for (const auto& e : spec.env) r.add("env", e);
  r.add("workdir", spec.working_dir);
  for (const auto& m : spec.mounts) {
    r.add("mount", m.path);
    r.add("mount_host", m.host_path);
    r.add("mount_ro", m.read_only ? 1 : 0);
  }
  for (const auto& o : spec.outputs) r.add("output", o);
  for (const auto& o : spec.output_files) r.add("output_file", o);
  r.add("script", spec.script ? 1 : 0);
  r.add("private_view", spec.private_view ? 1 : 0);
  r.add("token", spec.token);
  return r.encode();
}

bool decode_spec(std::string_view text, StepSpec* out, std::string* why) {
  Record r;
  if (!Record::decode(text, &r, why)) return false;
  *out = StepSpec{};
  MountSpec* mount = nullptr;
  for (const auto& [k, v] : r.fields()) {
    if (k == "image") out->image = v;
    else if (k == "arg") out->argv.push_back(v);
    else if (k == "env") out->env.push_back(v);
    else if (k == "workdir") out->working_dir = v;
    else if (k == "mount") mount = &out->mounts.emplace_back(MountSpec{v, "", false});
    else if (k == "mount_host" && mount) mount->host_path = v;
    else if (k == "mount_ro" && mount) mount->read_only = v == "1";
    else if (k == "output") out->outputs.push_back(v);
    else if (k == "output_file") out->output_files.push_back(v);
    else if (k == "script") out->script = v == "1";
    else if (k == "private_view") out->private_view = v == "1";
    else if (k == "token") out->token = v;
  }
  if (out->argv.empty()) {
    *why = "no command";
    return false;
  }
  return true;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string parent_path(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

std::string base_name(const std::string& p) { return p.substr(p.rfind('/') + 1); }

namespace {

size_t depth(const std::string& p) { return p == "/" ? 0 : static_cast<size_t>(std::count(p.begin(), p.end(), '/')); }

bool is_under(const std::string& p, const std::string& root) {
  return p == root || (p.size() > root.size() && p.compare(0, root.size(), root) == 0 && p[root.size()] == '/');
}

// One directory name per view path: '%' and '/' percent-encoded, long names shortened with a hash.
std::string encode_name(const std::string& p) {
  std::string out;
  for (char c : p) {
    if (c == '%') out += "%25";
    else if (c == '/') out += "%2F";
    else out += c;
  }
  if (out.size() <= 200) return out;
  uint32_t h = 2166136261u;
  for (char c : p) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return out.substr(0, 180) + "~" + std::to_string(h);
}

struct Area {
  std::string view;
  std::string host;
};

// The deepest private area holding p, if any.
const Area* find_area(const std::vector<Area>& areas, const std::string& p) {
  const Area* best = nullptr;
  for (const auto& a : areas)
    if (is_under(p, a.view) && (!best || a.view.size() > best->view.size())) best = &a;
  return best;
}

}  // namespace

ViewPlan plan_view(const std::string& node_dir, const std::vector<MountSpec>& mounts,
                   const std::vector<std::string>& outputs, bool script,
                   const std::vector<std::string>& output_files) {
  ViewPlan plan;
  std::vector<Area> areas;
  plan.binds.push_back({"/tmp", node_dir + "/" + node_file::kTmp, Bind::Kind::kMount, false});
  areas.push_back({"/tmp", node_dir + "/" + node_file::kTmp});
  if (script) plan.binds.push_back({kStagingScript, node_dir + "/" + node_file::kScript, Bind::Kind::kMount, true});
  for (const auto& m : mounts) areas.push_back({normalize_path(m.path), m.host_path});

  // Shallow outputs first, so a deeper one inside a directory output lands in it.
  std::vector<std::pair<std::string, size_t>> order;
  for (size_t i = 0; i < outputs.size(); ++i) order.emplace_back(normalize_path(outputs[i]), i);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return depth(a.first) < depth(b.first); });
  plan.outputs.resize(outputs.size());
  const std::string outputs_dir = node_dir + "/" + node_file::kOutputs + "/";
  for (const auto& [p, index] : order) {
    std::string host;
    if (p == "/") {
      host = p;
    } else if (const Area* a = find_area(areas, p)) {
      host = a->host + p.substr(a->view.size());
    } else {
      std::string parent = parent_path(p);
      std::string upper = outputs_dir + encode_name(parent) + "/upper";
      if (parent == "/") {
        host = upper + "/" + base_name(p);
        bool file = false;
        for (const auto& f : output_files) file = file || normalize_path(f) == p;
        plan.binds.push_back({p, host, Bind::Kind::kOutputTop, false, file});
        areas.push_back({p, host});
        if (plan.workdir != kRootWorkdir) {
          plan.workdir = kRootWorkdir;
          plan.binds.push_back({kRootWorkdir, upper, Bind::Kind::kOutputParent, false});
        }
      } else {
        host = upper + "/" + base_name(p);
        plan.binds.push_back({parent, upper, Bind::Kind::kOutputParent, false});
        areas.push_back({parent, upper});
      }
    }
    plan.outputs[index] = {outputs[index], host};
  }
  for (const auto& m : mounts)
    plan.binds.push_back({normalize_path(m.path), m.host_path, Bind::Kind::kMount, m.read_only});
  // Parents first; at equal depth /tmp, then outputs, then mounts, so a mount wins a tie.
  std::stable_sort(plan.binds.begin(), plan.binds.end(),
                   [](const Bind& a, const Bind& b) { return depth(a.target) < depth(b.target); });
  return plan;
}

std::vector<std::pair<std::string, std::string>> shared_view_outputs(const std::vector<std::string>& outputs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& o : outputs) out.emplace_back(o, normalize_path(o));
  return out;
}

}  // namespace tether::exec
