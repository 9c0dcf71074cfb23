// Argo's HTTP template, run as a step: the engine writes the processed template to a spec
// file and starts `tether __http-step SPEC` like any other step, so the request is
// recorded, supervised and re-adopted as a container would be. The response body is the
// step's stdout (outputs.result); a failure's message goes to the spec's messageFile.
//
// The spec (JSON, written by engine/agent_leaf.cc):
//   {"http": {url, method, headers: [{name, value} | {name, valueFromEnv}], body,
//             bodyFrom: {bytes (base64)}, timeoutSeconds, insecureSkipVerify,
//             successCondition},
//    "messageFile": PATH}
// A header whose value comes from a Secret names the environment variable holding it, so
// the value is never written to the spec, the store or a log.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::agent {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as written; empty means GET
  std::string url;
  Headers headers;     // in order, names canonical (Go's http.Header keys)
  std::string body;
  std::optional<int> timeout_seconds;
  bool insecure_skip_verify = false;
  std::string success_condition;
  std::string body_text;  // body as written in the template (request.body of the condition)
};

struct HttpResponse {
  int status_code = 0;
  std::string body;
  Headers headers;  // canonical names, in arrival order
};

// Go's textproto.CanonicalMIMEHeaderKey: "x-header-name" -> "X-Header-Name"; a name with
// characters a header name cannot hold is returned unchanged.
std::string canonical_header_name(const std::string& name);

// Builds the request from a spec's "http" object; env looks up valueFromEnv headers.
Result<HttpRequest> request_from_spec(const Json& http,
                                      const std::function<std::optional<std::string>(const std::string&)>& env);

// Sends the request with libcurl. Errors read as Go's client reports them:
// `Get "http://host/": context deadline exceeded`.
Result<HttpResponse> perform(const HttpRequest& req);

// Argo's verdict on a response: without successCondition a 2xx status succeeds
// ("received non-2xx response code: 404" otherwise); with one, the expr-lang condition
// over request.* and response.* decides ("successCondition '...' evaluated false").
// An error is a condition that does not compile, fails, or is not a bool.
struct Verdict {
  bool success = true;
  std::string message;
};
Result<Verdict> judge(const HttpRequest& req, const HttpResponse& resp);

// The whole step: reads the spec, sends the request, writes the body to stdout and, on
// failure, the message to messageFile and stderr. Returns the exit code.
int run_http_step(const std::string& spec_path);

}  // namespace tether::agent
