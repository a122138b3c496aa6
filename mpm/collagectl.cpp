// collagectl: the admin API from a shell (docs/admin-api.md). Speaks HTTP/1.1 to the admin
// listener — a Unix socket (--socket) or loopback TCP with a bearer token (--url, --token-file)
// — and prints what comes back for people: XML, error lists, tables.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "admin.pb.h"

namespace {

constexpr const char* kUsage =
    "usage: collagectl [--socket PATH | --url http://127.0.0.1:PORT [--token-file FILE]] COMMAND\n"
    "  config get [--source] [--defaults] [--json]   the running configuration\n"
    "  config validate FILE                          check a candidate, list every error\n"
    "  config apply FILE [--persist] [--comment T]   replace the running configuration\n"
    "  config diff FILE                              what apply FILE would change (source form)\n"
    "  rollback [--to N] [--persist]                 back to the previous (or Nth) generation\n"
    "  generations                                   the generations that ran\n"
    "  status                                        the server's processes\n"
    "The socket defaults to $COLLAGE_ADMIN_SOCKET, then /run/collage/admin.sock; the token to\n"
    "$COLLAGE_ADMIN_TOKEN.\n";

struct Target {
  std::string socket;
  std::string host;
  std::string port;
  std::string token;
};

struct Response {
  int status = 0;
  std::string body;
};

std::string describe(const Target& target) {
  return target.socket.empty() ? target.host + ":" + target.port : target.socket;
}

int connect_to(const Target& target, std::string& error) {
  if (!target.socket.empty()) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, target.socket.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      error = fmt::format("cannot connect to {}: {}", target.socket, std::strerror(errno));
      if (errno == ENOENT || errno == ECONNREFUSED) {
        error += " (is collage running, with <Listen admin=\"on\" address=\"unix:…\"> there?)";
      } else if (errno == EACCES) {
        error += " (the socket's mode and owner keep this user out: try as its owner)";
      }
      ::close(fd);
      return -1;
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(target.host.c_str(), target.port.c_str(), &hints, &found) != 0) {
    error = "cannot resolve " + target.host;
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    error = fmt::format(
        "cannot connect to {}:{}: {} (is collage running with an admin listener "
        "there?)",
        target.host, target.port, std::strerror(errno));
  }
  return fd;
}

// Chunked transfer coding undone (the server may stream a long reply).
std::string dechunk(const std::string& body) {
  std::string out;
  std::size_t at = 0;
  while (at < body.size()) {
    const std::size_t line_end = body.find("\r\n", at);
    if (line_end == std::string::npos) {
      break;
    }
    const std::size_t size = std::stoul(body.substr(at, line_end - at), nullptr, 16);
    if (size == 0) {
      break;
    }
    out.append(body, line_end + 2, size);
    at = line_end + 2 + size + 2;
  }
  return out;
}

std::optional<Response> request(const Target& target, const std::string& method,
                                const std::string& path, const std::string& body,
                                const std::string& type, std::string& error) {
  const int fd = connect_to(target, error);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string head = fmt::format(
      "{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
      "Accept: application/json\r\nContent-Length: {}\r\n",
      method, path, body.size());
  if (!type.empty()) {
    head += "Content-Type: " + type + "\r\n";
  }
  if (!target.token.empty()) {
    head += "Authorization: Bearer " + target.token + "\r\n";
  }
  const std::string message = head + "\r\n" + body;
  for (std::size_t done = 0; done < message.size();) {
    const ssize_t n = ::send(fd, message.data() + done, message.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      error = "the server closed the connection while the request was sent";
      ::close(fd);
      return std::nullopt;
    }
    done += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const std::size_t end = reply.find("\r\n\r\n");
  if (!reply.starts_with("HTTP/1.1 ") || end == std::string::npos) {
    error = "no HTTP response from " + describe(target) + " (is it the admin listener?)";
    return std::nullopt;
  }
  Response response;
  response.status = std::atoi(reply.c_str() + 9);
  response.body = reply.substr(end + 4);
  std::string headers = reply.substr(0, end);
  for (char& c : headers) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    response.body = dechunk(response.body);
  }
  return response;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename Message>
bool parse(const std::string& json, Message& message) {
  return google::protobuf::util::JsonStringToMessage(json, &message).ok();
}

// What an error reply says, or the body as it came.
std::string error_text(const Response& response) {
  collage::admin::ErrorReply reply;
  google::protobuf::util::JsonParseOptions lenient;
  lenient.ignore_unknown_fields = true;
  if (google::protobuf::util::JsonStringToMessage(response.body, &reply, lenient).ok() &&
      !reply.message().empty()) {
    return fmt::format("{} {}", response.status, reply.message());
  }
  return fmt::format("{} {}", response.status, response.body);
}

int print_errors(const google::protobuf::RepeatedPtrField<collage::admin::ConfigError>& errors) {
  for (const auto& e : errors) {
    fmt::print(stderr, "{}\n", e.message());
  }
  return errors.empty() ? 0 : 1;
}

std::string when(std::int64_t ms) {
  const std::time_t seconds = ms / 1000;
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

int print_applied(const Response& response) {
  collage::admin::ApplyResult result;
  if (!parse(response.body, result)) {
    fmt::print(stderr, "collagectl: {}\n", error_text(response));
    return 1;
  }
  if (!result.ok()) {
    fmt::print(stderr, "refused; generation {} keeps serving:\n", result.generation());
    print_errors(result.errors());
    return 1;
  }
  fmt::print("generation {} serving ({} ms)\n", result.generation(), result.took_us() / 1000);
  if (!result.written_to().empty()) {
    fmt::print("written to {} (the old file kept as {})\n", result.written_to(),
               result.previous_kept());
  }
  return print_errors(result.errors());  // applied but not written
}

// diff -u of the running source and the candidate file, through diff(1).
int run_diff(const std::string& running, const std::string& file) {
  char name[] = "/tmp/collagectl-running-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0 ||
      ::write(fd, running.data(), running.size()) != static_cast<ssize_t>(running.size())) {
    fmt::print(stderr, "collagectl: cannot write a temporary file: {}\n", std::strerror(errno));
    return 2;
  }
  ::close(fd);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execlp("diff", "diff", "-u", "--label", "running", "--label", file.c_str(), name,
             file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::unlink(name);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Target target;
  const char* env_socket = std::getenv("COLLAGE_ADMIN_SOCKET");
  target.socket = env_socket != nullptr ? env_socket : "/run/collage/admin.sock";
  if (const char* token = std::getenv("COLLAGE_ADMIN_TOKEN")) {
    target.token = token;
  }
  std::vector<std::string> words;
  bool source = false, defaults = false, json = false, persist = false;
  std::string comment, to;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kUsage);
      return 0;
    } else if (a == "--socket" && has_value) {
      target.socket = args[++i];
    } else if (a == "--url" && has_value) {
      const std::string url = args[++i];
      const std::size_t host_start = url.starts_with("http://") ? 7 : 0;
      const std::size_t colon = url.rfind(':');
      if (colon == std::string::npos || colon < host_start) {
        fmt::print(stderr, "collagectl: --url takes http://HOST:PORT, got {}\n", url);
        return 2;
      }
      target.socket.clear();
      target.host = url.substr(host_start, colon - host_start);
      target.port = url.substr(colon + 1, url.find('/', colon) - colon - 1);
    } else if (a == "--token-file" && has_value) {
      std::optional<std::string> text = read_file(args[++i]);
      if (!text) {
        fmt::print(stderr, "collagectl: cannot read {}: {}\n", args[i], std::strerror(errno));
        return 2;
      }
      target.token = text->substr(0, text->find_first_of("\r\n"));
    } else if (a == "--source") {
      source = true;
    } else if (a == "--defaults") {
      defaults = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--persist") {
      persist = true;
    } else if (a == "--comment" && has_value) {
      comment = args[++i];
    } else if (a == "--to" && has_value) {
      to = args[++i];
    } else if (a.starts_with("-")) {
      fmt::print(stderr, "collagectl: unknown option {}\n{}", a, kUsage);
      return 2;
    } else {
      words.push_back(a);
    }
  }
  auto command = [&](std::initializer_list<std::string_view> expected) {
    if (words.size() < expected.size()) {
      return false;
    }
    std::size_t i = 0;
    for (std::string_view word : expected) {
      if (words[i++] != word) {
        return false;
      }
    }
    return true;
  };
  auto encode = [](const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
      out += std::isalnum(c) || c == '-' || c == '_' || c == '.'
                 ? std::string(1, static_cast<char>(c))
                 : fmt::format("%{:02X}", c);
    }
    return out;
  };
  std::string error;
  auto call = [&](const std::string& method, const std::string& path, const std::string& body = {},
                  const std::string& type = {}) -> std::optional<Response> {
    std::optional<Response> response = request(target, method, path, body, type, error);
    if (!response) {
      fmt::print(stderr, "collagectl: {}\n", error);
    } else if (response->status == 401 || response->status == 403) {
      fmt::print(stderr, "collagectl: {} refused this caller ({}): {}\n", describe(target),
                 response->status,
                 response->status == 401 ? "give the admin token (--token-file)"
                                         : "the admin API takes only loopback callers");
      return std::nullopt;
    }
    return response;
  };
  auto candidate = [&](std::size_t index) -> std::optional<std::string> {
    if (words.size() <= index) {
      fmt::print(stderr, "collagectl: name the candidate file\n{}", kUsage);
      return std::nullopt;
    }
    std::optional<std::string> text = read_file(words[index]);
    if (!text) {
      fmt::print(stderr, "collagectl: cannot read {}: {}\n", words[index], std::strerror(errno));
    }
    return text;
  };

  if (command({"config", "get"})) {
    const std::string query =
        std::string("?form=") + (source ? "source" : "effective") + (defaults ? "&defaults=1" : "");
    std::optional<Response> response = call("GET", (json ? "/config.json" : "/config.xml") + query);
    if (!response) {
      return 1;
    }
    if (response->status != 200) {
      fmt::print(stderr, "collagectl: {}\n", error_text(*response));
      return 1;
    }
    fmt::print("{}", response->body);
    return 0;
  }
  if (command({"config", "validate"})) {
    std::optional<std::string> text = candidate(2);
    std::optional<Response> response =
        text ? call("POST", "/config/validate", *text, "application/xml") : std::nullopt;
    if (!response) {
      return text ? 1 : 2;
    }
    collage::admin::ValidateResult result;
    if (!parse(response->body, result)) {
      fmt::print(stderr, "collagectl: {}\n", error_text(*response));
      return 1;
    }
    if (result.ok()) {
      fmt::print("{}: valid\n", words[2]);
    }
    return print_errors(result.errors());
  }
  if (command({"config", "apply"})) {
    std::optional<std::string> text = candidate(2);
    const std::string query =
        std::string(persist ? "?persist=1" : "?persist=0") + "&comment=" + encode(comment);
    std::optional<Response> response =
        text ? call("POST", "/config" + query, *text, "application/xml") : std::nullopt;
    return response ? print_applied(*response) : (text ? 1 : 2);
  }
  if (command({"config", "diff"})) {
    std::optional<std::string> text = candidate(2);
    std::optional<Response> response = text ? call("GET", "/config.xml?form=source") : std::nullopt;
    if (!response || response->status != 200) {
      if (response) {
        fmt::print(stderr, "collagectl: {}\n", error_text(*response));
      }
      return 2;
    }
    return run_diff(response->body, words[2]);
  }
  if (command({"rollback"})) {
    std::optional<Response> response =
        call("POST", "/rollback?persist=" + std::string(persist ? "1" : "0") +
                         (to.empty() ? "" : "&to=" + encode(to)));
    return response ? print_applied(*response) : 1;
  }
  if (command({"generations"})) {
    std::optional<Response> response = call("GET", "/generations");
    collage::admin::GenerationList list;
    if (!response || !parse(response->body, list)) {
      if (response) {
        fmt::print(stderr, "collagectl: {}\n", error_text(*response));
      }
      return 1;
    }
    for (const auto& g : list.generations()) {
      fmt::print("{:>4} {} {:<19} {:<18} {}{}\n", g.number(), g.serving() ? "*" : " ",
                 when(g.started_ms()), g.how(), g.by(),
                 g.comment().empty() ? "" : ": " + g.comment());
    }
    return 0;
  }
  if (command({"status"})) {
    std::optional<Response> response = call("GET", "/status");
    collage::admin::StatusView view;
    if (!response || !parse(response->body, view)) {
      if (response) {
        fmt::print(stderr, "collagectl: {}\n", error_text(*response));
      }
      return 1;
    }
    fmt::print(
        "{} MPM, control process {}, generation {} since {}, {} requests, {} open "
        "connections\n",
        view.mpm(), view.control_pid(), view.generation(), when(view.restarted_ms()),
        view.requests(), view.connections());
    fmt::print("{:>5} {:>8} {:>4} {:<9} {:>6} {:>5} {:>10}\n", "slot", "pid", "gen", "status",
               "conns", "busy", "requests");
    for (const auto& c : view.children()) {
      fmt::print("{:>5} {:>8} {:>4} {:<9} {:>6} {:>5} {:>10}\n", c.slot(), c.pid(), c.generation(),
                 c.status(), c.connections(), c.busy(), c.requests());
    }
    return 0;
  }
  fmt::print(stderr, "{}", kUsage);
  return 2;
}
