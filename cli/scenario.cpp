// SPDX-License-Identifier: Apache-2.0
// Scenario loading: --set overrides, sweep expansion, and a complete parse of every point
// (section readers in cli/scenario_sections.cpp).
#include "cli/scenario.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calibrate/profile.h"
#include "cli/commands.h"
#include "cli/scenario_sections.h"
#include "config/error.h"
#include "report/claims.h"
#include "topology/spec.h"

namespace attnsim::cli {

namespace {

/// More points than this is almost certainly a mistake in the sweep (and hours of simulation).
constexpr std::int64_t kMaxPoints = 10000;

constexpr std::array<std::string_view, 11> kTopKeys = {
    "name",        "hardware",      "topology", "model",      "attention", "workload",
    "parallelism", "network_model", "sweep",    "simulation", "claims"};

std::string escape_token(std::string_view key) {
  std::string out;
  for (const char c : key) {
    out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  }
  return out;
}

std::string pointer_of(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& key : keys) {
    out += '/';
    out += escape_token(key);
  }
  return out;
}

// "a.b.c" -> {"a", "b", "c"}; empty when any segment is empty.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> keys;
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = path.find('.', begin);
    keys.push_back(path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (keys.back().empty()) {
      return {};
    }
    if (dot == std::string::npos) {
      return keys;
    }
    begin = dot + 1;
  }
}

/// One --set PATH=VALUE.
struct Override {
  std::string text;               // as given
  std::vector<std::string> keys;  // PATH split at dots; {"gpus"} sets the GPU count
  nlohmann::json value;           // VALUE as JSON, or else as a string
  std::string pointer;            // "/workload/sequence_length"

  bool is_gpus() const { return keys.size() == 1 && keys[0] == "gpus"; }
};

Override parse_set(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("--set " + text +
                     ": expected PATH=VALUE with a dotted PATH, e.g. "
                     "workload.sequence_length=262144");
  }
  Override o{text, split_path(text.substr(0, eq)), nullptr, ""};
  if (o.keys.empty()) {
    throw UsageError("--set " + text + ": expected a dotted PATH of keys, got " +
                     config::json_quoted(text.substr(0, eq)));
  }
  o.pointer = pointer_of(o.keys);
  try {
    o.value = nlohmann::json::parse(text.substr(eq + 1));
  } catch (const nlohmann::json::exception&) {
    o.value = text.substr(eq + 1);
  }
  return o;
}

// Sets doc at `keys` to `value`, creating objects on the way; a non-object on the way is bad
// input reported under `prefix` ("--set ..." or "<file>: sweep point ...").
void set_at(nlohmann::json& doc, const std::vector<std::string>& keys, const nlohmann::json& value,
            const std::string& prefix) {
  nlohmann::json* at = &doc;
  std::string pointer;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    pointer += '/';
    pointer += escape_token(keys[i]);
    nlohmann::json& next = (*at)[keys[i]];
    if (next.is_null()) {
      next = nlohmann::json::object();
    }
    if (!next.is_object()) {
      std::string line = prefix;
      line += ": " + pointer + ": expected an object to set " + config::json_quoted(keys[i + 1]);
      line += " in, got " + next.dump();
      throw config::InputError(line);
    }
    at = &next;
  }
  (*at)[keys.back()] = value;
}

// The quoted key at the start of `text` ("\"a\\\"b\" (did you mean ...)" -> "a\"b").
std::string leading_quoted(std::string_view text) {
  std::string key;
  for (std::size_t i = 1; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    key += text[i];
  }
  return key;
}

// An error located at or under a --set path names that --set instead of the file: the --set
// is what the user has to change. `label` is the sweep point's, "" for none.
std::string attribute(const std::string& message, const std::string& file, const std::string& label,
                      const std::vector<Override>& sets) {
  const std::string context = label.empty() ? "" : label + ": ";
  const std::string prefix = file + ": " + context;
  if (!message.starts_with(prefix) || message.size() == prefix.size() ||
      message[prefix.size()] != '/') {
    return message;
  }
  const std::string rest = message.substr(prefix.size());
  const std::size_t colon = rest.find(": ");
  if (colon == std::string::npos) {
    return message;
  }
  std::string where = rest.substr(0, colon);
  const std::string_view after = std::string_view(rest).substr(colon + 2);
  constexpr std::string_view kUnknown = "unknown key ";
  if (after.starts_with(kUnknown)) {
    where = (where == "/" ? "" : where) + "/" +
            escape_token(leading_quoted(after.substr(kUnknown.size())));
  }
  for (auto it = sets.rbegin(); it != sets.rend(); ++it) {
    const bool hit = it->is_gpus()
                         ? where == "/topology" && after.find("GPU count") != std::string::npos
                         : where == it->pointer || where.starts_with(it->pointer + "/");
    if (hit) {
      std::string line = "--set " + it->text;
      line += ": " + context;
      line += rest;
      return line;
    }
  }
  return message;
}

std::int64_t read_set_gpus(const Override& o) {
  const nlohmann::json& v = o.value;
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
      v.get<std::int64_t>() > topology::kMaxGpus) {
    throw config::InputError("--set " + o.text + ": expected an integer in [1, " +
                             std::to_string(topology::kMaxGpus) + "], got " + v.dump());
  }
  return v.get<std::int64_t>();
}

/// One sweep key with its values.
struct Axis {
  std::string key;
  std::vector<std::string> keys;  // key split at dots
  std::vector<nlohmann::json> values;
};

std::vector<Axis> read_sweep(const config::Node& root, const std::vector<Override>& sets) {
  std::vector<Axis> axes;
  const std::optional<config::Node> sweep = root.find("sweep");
  if (!sweep) {
    return axes;
  }
  std::int64_t points = 1;
  for (const auto& [key, node] : sweep->members("an object of dotted paths to arrays")) {
    if (key.starts_with("_")) {
      continue;  // a comment, as everywhere
    }
    Axis axis{key, split_path(key), {}};
    if (axis.keys.empty() || axis.keys[0] == "sweep") {
      node.fail("a key that is \"gpus\" or a dotted path such as \"workload.sequence_length\"",
                config::json_quoted(key));
    }
    const std::vector<config::Node> values = node.elements("a non-empty array of values");
    if (values.empty()) {
      node.fail("a non-empty array of values");
    }
    const bool fixed = std::any_of(sets.begin(), sets.end(),
                                   [&axis](const Override& o) { return o.keys == axis.keys; });
    if (fixed) {
      continue;  // a --set fixes what the sweep would vary
    }
    for (const config::Node& v : values) {
      axis.values.push_back(v.json());
    }
    points *= static_cast<std::int64_t>(values.size());
    if (points > kMaxPoints) {
      sweep->fail("at most " + std::to_string(kMaxPoints) + " points", "more");
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

/// Built-in or file profiles, each parsed once per scenario.
class ProfileCache {
 public:
  explicit ProfileCache(std::string dir) : dir_(std::move(dir)) {}

  const calibrate::Profile& get(const config::Node& hardware) {
    const std::string key = hardware.dump();
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      it = cache_.emplace(key, calibrate::load_profile(hardware, dir_)).first;
    }
    return it->second;
  }

 private:
  std::string dir_;
  std::map<std::string, calibrate::Profile> cache_;
};

sim::NetworkModel network_model(const config::Node& root) {
  if (!root.has("network_model")) {
    return sim::NetworkModel::kFlow;
  }
  return root.one_of("network_model", network_model_names()) == "analytical"
             ? sim::NetworkModel::kAnalytical
             : sim::NetworkModel::kFlow;
}

// Parses one point's document completely (STYLE C7: parse, then build).
void parse_point(const config::Node& root, const std::string& stem,
                 std::optional<std::int64_t> gpus, ProfileCache& profiles, ScenarioPoint& point) {
  allow_keys(root, kTopKeys);
  point.name = root.string_or("name", stem);
  point.profile = profiles.get(root.child("hardware", "a built-in profile name or a file path"));
  point.topology = topology::parse_topology(root.child("topology", "an object"), gpus);
  models::Workload& work = point.workload;
  work.model = read_model(root.child("model", "an object"));
  work.attention = read_attention(root.child("attention", "an object"), work.model);
  read_workload(root.child("workload", "an object"), work);
  check_against_profile(root, point.profile, work);
  point.parallelism =
      read_parallelism(root.child("parallelism", "an object"), work, point.topology.gpus());
  point.network_model = network_model(root);
  // Without contention every layer after the first takes the same time, so two simulated
  // layers give the period exactly; the flow model needs more for contention to settle.
  point.simulated_layers = point.network_model == sim::NetworkModel::kAnalytical ? 2 : 4;
  if (const std::optional<config::Node> simulation = root.find("simulation")) {
    point.simulated_layers = read_simulation(*simulation);
  }
}

std::string sweep_label(std::size_t index, std::size_t count, const std::vector<Axis>& axes,
                        const std::vector<std::size_t>& at) {
  std::string values;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    values += (a == 0 ? "" : ", ") + axes[a].key + "=" + axes[a].values[at[a]].dump();
  }
  return "sweep point " + std::to_string(index + 1) + " of " + std::to_string(count) + " (" +
         values + ")";
}

}  // namespace

Scenario load_scenario(const std::string& path, const std::vector<std::string>& sets) {
  std::vector<Override> overrides;
  overrides.reserve(sets.size());
  for (const std::string& text : sets) {
    overrides.push_back(parse_set(text));
  }
  const config::Node file_root = config::Node::parse_file(path);
  if (!file_root.is_object()) {
    file_root.fail("an object");
  }
  Scenario scenario;
  scenario.file = path;
  scenario.document = file_root.json();
  std::optional<std::int64_t> set_gpus;
  for (const Override& o : overrides) {
    if (o.is_gpus()) {
      set_gpus = read_set_gpus(o);
    } else {
      set_at(scenario.document, o.keys, o.value, "--set " + o.text);
    }
  }
  const config::Node root = config::Node::from_json(path, scenario.document);
  std::vector<Axis> axes;
  try {
    axes = read_sweep(root, overrides);
    if (const std::optional<config::Node> claims = root.find("claims")) {
      (void)report::parse_claims(*claims);  // judged by `attnsim report`; checked here
    }
  } catch (const config::InputError& e) {
    throw config::InputError(attribute(e.what(), path, "", overrides));
  }

  std::size_t count = 1;
  for (const Axis& axis : axes) {
    count *= axis.values.size();
  }
  const std::filesystem::path fs_path(path);
  const std::string stem = fs_path.stem().string();
  ProfileCache profiles(fs_path.parent_path().string());
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<std::size_t> at(axes.size());
    std::size_t rest = i;
    for (std::size_t a = axes.size(); a-- > 0;) {  // the last key varies fastest
      at[a] = rest % axes[a].values.size();
      rest /= axes[a].values.size();
    }
    ScenarioPoint point;
    point.label = axes.empty() ? "" : sweep_label(i, count, axes, at);
    nlohmann::json doc = scenario.document;
    doc.erase("sweep");
    std::optional<std::int64_t> gpus = set_gpus;
    try {
      for (std::size_t a = 0; a < axes.size(); ++a) {
        const nlohmann::json& value = axes[a].values[at[a]];
        point.parameters[axes[a].key] = value;
        if (axes[a].key == "gpus") {
          const config::Node v =
              root.child("sweep").with_context(point.label).child("gpus").elements()[at[a]];
          gpus = v.as_integer(1, topology::kMaxGpus);
        } else {
          set_at(doc, axes[a].keys, value, path + ": " + point.label);
        }
      }
      const config::Node point_root = config::Node::from_json(path, doc).with_context(point.label);
      parse_point(point_root, stem, gpus, profiles, point);
    } catch (const NotApplicable& e) {
      if (axes.empty()) {
        throw config::InputError(attribute(e.what(), path, point.label, overrides));
      }
      scenario.skipped.push_back(
          {point.parameters, attribute(e.what(), path, point.label, overrides)});
      continue;
    } catch (const config::InputError& e) {
      throw config::InputError(attribute(e.what(), path, point.label, overrides));
    }
    if (gpus) {
      doc["topology"]["nodes"] = point.topology.nodes;
    }
    point.document = std::move(doc);
    scenario.points.push_back(std::move(point));
  }
  if (scenario.points.empty() && !scenario.skipped.empty()) {
    throw config::InputError(scenario.skipped.front().reason);
  }
  return scenario;
}

}  // namespace attnsim::cli
