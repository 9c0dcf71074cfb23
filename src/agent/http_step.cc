#include "agent/http_step.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "agent/step_io.h"
#include "base/strings.h"
#include "expr/expr_lang.h"
#include "spec/load.h"

namespace tether::agent {

namespace {

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// The Op of Go's url.Error: "Get", "Post", or the method itself when it is not ASCII.
std::string error_op(const std::string& method) {
  if (method.empty()) return "Get";
  std::string out = method.substr(0, 1);
  for (size_t i = 1; i < method.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(method[i]);
    if (c >= 0x80) return method;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

Error request_error(const HttpRequest& req, const std::string& what) {
  return Error(ErrorCode::kUnavailable, fmt::format("{} \"{}\": {}", error_op(req.method), req.url, what));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Go's http.Header as expr-lang sees it: canonical name -> list of values.
Json header_map(const Headers& headers, bool skip_host) {
  Json m = Json::object();
  for (const auto& [k, v] : headers) {
    if (skip_host && k == "Host") continue;
    if (!m.contains(k)) m[k] = Json::array();
    m[k].push_back(v);
  }
  return m;
}

size_t on_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Keeps the headers of the last response only: a redirect or a 100 Continue starts over
// at its status line.
size_t on_header(char* data, size_t size, size_t n, void* out) {
  auto* headers = static_cast<Headers*>(out);
  std::string_view line(data, size * n);
  if (starts_with(line, "HTTP/")) {
    headers->clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    if (!name.empty()) headers->emplace_back(canonical_header_name(name), value);
  }
  return size * n;
}

// Go formats a value that is not a bool with %s: a string as itself, anything else as
// %!s(type=value).
std::string go_percent_s(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "%!s(<nil>)";
  if (v.is_number_integer()) return fmt::format("%!s(int={})", v.dump());
  if (v.is_number_float()) return fmt::format("%!s(float64={})", expr::go_json(v));
  return expr::go_json(v);
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

// "dial tcp host:port" for connection errors, as Go names the address it dialled.
std::string dial_address(const std::string& url) {
  CURLU* u = curl_url();
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
      out = std::string(host) + ":" + port;
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

}  // namespace

std::string canonical_header_name(const std::string& name) {
  for (char c : name)
    if (!is_token_char(c)) return name;
  std::string out = name;
  bool upper = true;
  for (auto& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

Result<HttpRequest> request_from_spec(const Json& http,
                                      const std::function<std::optional<std::string>(const std::string&)>& env) {
  if (!http.is_object()) return invalid("the step's spec has no http object");
  HttpRequest req;
  req.method = json_str(http, "method");
  req.url = json_str(http, "url");
  for (char c : req.method)
    if (!is_token_char(c)) return invalid(fmt::format("net/http: invalid method \"{}\"", req.method));
  const Json& headers = json_at(http, "headers");
  if (headers.is_array()) {
    for (const auto& h : headers) {
      std::string name = json_str(h, "name");
      std::string value = json_str(h, "value");
      if (std::string var = json_str(h, "valueFromEnv"); !var.empty()) {
        auto v = env(var);
        if (!v) return not_found("header " + name + ": its secret value was not passed to the step");
        value = *v;
      }
      req.headers.emplace_back(canonical_header_name(name), value);
    }
  }
  req.body_text = json_str(http, "body");
  req.body = req.body_text;
  const Json& from = json_at(http, "bodyFrom");
  if (from.is_object()) {
    auto bytes = spec::base64_decode(json_str(from, "bytes"));
    if (!bytes.ok()) return invalid("bodyFrom.bytes: " + bytes.error().message);
    req.body = *bytes;
  }
  const Json& timeout = json_at(http, "timeoutSeconds");
  if (timeout.is_number_integer()) req.timeout_seconds = timeout.get<int>();
  req.insecure_skip_verify = json_at(http, "insecureSkipVerify").is_boolean() && http["insecureSkipVerify"].get<bool>();
  req.success_condition = json_str(http, "successCondition");
  return req;
}

Result<HttpResponse> perform(const HttpRequest& req) {
  static CurlGlobal global;
  auto colon = req.url.find("://");
  std::string scheme = colon == std::string::npos ? "" : lower(req.url.substr(0, colon));
  if (scheme != "http" && scheme != "https")
    return request_error(req, fmt::format("unsupported protocol scheme \"{}\"", colon == std::string::npos ? "" : req.url.substr(0, colon)));
  // Go's context.WithTimeout(0) has already expired; curl would read 0 as no limit.
  if (req.timeout_seconds && *req.timeout_seconds <= 0) return request_error(req, "context deadline exceeded");

  CURL* curl = curl_easy_init();
  if (!curl) return internal("curl_easy_init failed");
  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string method = req.method.empty() ? "GET" : req.method;
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // Go's client follows up to 10 redirects.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "Go-http-client/1.1");
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  // Go sends a body whenever there is one, and a Content-Length: 0 for an empty one on
  // the methods that usually carry one.
  bool carries_body = method == "POST" || method == "PUT" || method == "PATCH";
  if (!req.body.empty() || carries_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
  }
  // A body would turn curl's GET into a POST.
  if (method == "GET" && !req.body.empty()) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "GET");
  struct curl_slist* list = nullptr;
  bool has_content_type = false, has_accept = false;
  for (const auto& [k, v] : req.headers) {
    has_content_type = has_content_type || k == "Content-Type";
    has_accept = has_accept || k == "Accept";
    // "Name;" sends a header with an empty value; "Name:" would remove it.
    std::string line = v.empty() ? k + ";" : k + ": " + v;
    list = curl_slist_append(list, line.c_str());
  }
  // Only what the template asks for, as Go sends: no curl defaults.
  if (!has_content_type) list = curl_slist_append(list, "Content-Type:");
  if (!has_accept) list = curl_slist_append(list, "Accept:");
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  if (req.timeout_seconds) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(*req.timeout_seconds) * 1000L);
  if (req.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp.headers);

  CURLcode rc = curl_easy_perform(curl);
  long status = 0, os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OPERATION_TIMEDOUT) return request_error(req, "context deadline exceeded");
  if (rc == CURLE_COULDNT_CONNECT && os_errno != 0) {
    std::string why = std::strerror(static_cast<int>(os_errno));
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return request_error(req, fmt::format("dial tcp {}: connect: {}", dial_address(req.url), why));
  }
  if (rc != CURLE_OK) return request_error(req, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  resp.status_code = static_cast<int>(status);
  return resp;
}

Result<Verdict> judge(const HttpRequest& req, const HttpResponse& resp) {
  Verdict v;
  if (req.success_condition.empty()) {
    v.success = resp.status_code >= 200 && resp.status_code < 300;
    if (!v.success) v.message = fmt::format("received non-2xx response code: {}", resp.status_code);
    return v;
  }
  Json body_bytes = Json::array();
  for (unsigned char c : req.body) body_bytes.push_back(static_cast<int>(c));
  Json env = {
      {"request",
       {{"method", req.method},
        {"url", req.url},
        {"body", req.body_text},
        {"bodyBytes", body_bytes},
        {"headers", header_map(req.headers, true)}}},
      {"response",
       {{"statusCode", resp.status_code}, {"body", resp.body}, {"headers", header_map(resp.headers, false)}}},
  };
  auto ast = expr::parse_expr(req.success_condition);
  if (!ast.ok()) return ast.take_error();
  auto result = expr::eval_expr(*ast, env);
  if (!result.ok())
    return invalid(fmt::format("unable to evaluate expression '{}': {}", req.success_condition, result.error().message));
  if (!result->is_boolean())
    return invalid(fmt::format("unable to cast expression result '{}' to bool", go_percent_s(*result)));
  v.success = result->get<bool>();
  if (!v.success) v.message = fmt::format("successCondition '{}' evaluated false", req.success_condition);
  return v;
}

int run_http_step(const std::string& spec_path) {
  auto spec = read_spec(spec_path);
  if (!spec.ok()) return fail_step(Json(), spec.error().message);
  auto req = request_from_spec(json_at(*spec, "http"), [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (!req.ok()) return fail_step(*spec, req.error().message);
  auto resp = perform(*req);
  if (!resp.ok()) return fail_step(*spec, resp.error().message);
  // The body is the result whatever the verdict, as Argo records it on failure too.
  if (!write_stdout(resp->body)) return fail_step(*spec, "writing the response body: " + std::string(std::strerror(errno)));
  auto verdict = judge(*req, *resp);
  if (!verdict.ok()) return fail_step(*spec, verdict.error().message);
  if (!verdict->success) return fail_step(*spec, verdict->message);
  fmt::print(stderr, "{} {}: {}\n", req->method.empty() ? "GET" : req->method, req->url, resp->status_code);
  return 0;
}

}  // namespace tether::agent
