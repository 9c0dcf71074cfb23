// The control-socket requests that write stored objects (Secrets, ConfigMaps, templates).
// The engine process serves them on a store connection of their own (see cmd_server.cc).
#pragma once

#include <optional>

#include "base/json.h"
#include "engine/store.h"

namespace tether::cli {

// The reply to an object request, or nullopt when `req` is not one (another handler's op).
//   {"op":"put_secret","namespace":..,"name":..,"data":{k:v}}   {"op":"delete_secret",...}
//   {"op":"put_object","kind":..,"namespace":..,"name":..,"object":{..}}
//   {"op":"put_object",...,"create":true}: fails when the object exists
//   {"op":"delete_object","kind":..,"namespace":..,"name":..}
//   {"op":"set_cron_suspend","namespace":..,"name":..,"suspend":true|false}
// A reply never carries a secret value.
std::optional<Json> handle_object_op(engine::Store& store, const Json& req);

// The CronWorkflow a request wrote or deleted ({namespace, name}), if it did.
std::optional<std::pair<std::string, std::string>> cron_written(const Json& req);

}  // namespace tether::cli
