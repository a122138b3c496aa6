#include "cgi_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "child_process.h"
#include "collage/http_date.h"
#include "collage/log.h"
#include "collage/safe_open.h"
#include "collage/scoreboard.h"
#include "request_spool.h"
#include "script_head.h"
#include "script_output.h"

namespace collage::cgi {
namespace {

constexpr std::size_t kMaxHead = 64 * 1024;  // a longer header block is a broken script
constexpr int kNotAScript = -1;              // resolve(): a file for the other store
constexpr std::string_view kProcessesKey = "cgi.processes";

// The script's stderr, line by line, into the error log under its name. Ends when every process
// holding the pipe is gone.
Task<void> log_stderr(asio::posix::stream_descriptor err, std::string name) {
  constexpr std::size_t kMaxLine = 4096;
  std::string pending;
  char chunk[4096];
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    COLLAGE_LOG(LogLevel::error, "COL-CGI-0005", "{}: {}", printable(name), printable(line));
  };
  for (;;) {
    auto [ec, n] = co_await err.async_read_some(asio::buffer(chunk), kAsTuple);
    if (ec) {
      break;
    }
    pending.append(chunk, n);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      emit(std::string_view(pending).substr(start, nl - start));
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLine) {
      emit(pending);
      pending.clear();
    }
  }
  if (!pending.empty()) {
    emit(pending);
  }
}

}  // namespace

CgiStore::CgiStore(CgiConfig config, int root_fd, std::unique_ptr<Store> others)
    : config_(std::move(config)), root_fd_(root_fd), others_(std::move(others)) {}

CgiStore::~CgiStore() {
  ::close(root_fd_);
}

MethodSet CgiStore::methods() const {
  MethodSet methods{Method::get, Method::head, Method::post,
                    Method::put, Method::del,  Method::patch};
  if (others_ != nullptr) {
    methods = methods | others_->methods();
  }
  return methods;
}

std::vector<std::string> CgiStore::program_trees() const {
  if (config_.allow_writable_tree) {
    return {};
  }
  return {config_.root};
}

std::vector<std::string> CgiStore::writable_trees() const {
  return others_ != nullptr ? others_->writable_trees() : std::vector<std::string>{};
}

void CgiStore::prepare_child() const {
  if (!config_.run_as || launcher_ != nullptr) {
    return;
  }
  std::string error;
  launcher_ = Launcher::start(config_.run_as->first, config_.run_as->second, error);
  if (launcher_ == nullptr) {
    COLLAGE_LOG(LogLevel::error, "COL-CGI-0010",
                "cannot start the helper that runs scripts as {} (CgiUser): {}; they answer 500",
                config_.run_as_name, error);
  }
}

bool CgiStore::is_script_name(std::string_view name) const {
  if (config_.extensions.empty()) {
    return true;
  }
  for (const std::string& extension : config_.extensions) {
    if (name.size() > extension.size() && name.ends_with(extension)) {
      return true;
    }
  }
  return false;
}

int CgiStore::resolve(const RequestContext& ctx, gateway::ScriptTarget& target,
                      struct stat& st) const {
  std::string_view path = ctx.request.path;
  std::string_view url_base;
  if (config_.maps_prefix && ctx.location.prefix != "/") {
    url_base = ctx.location.prefix;
    path.remove_prefix(std::min(path.size(), url_base.size()));
  }
  // Walk the segments until one is a file: that is the script, the rest is PATH_INFO.
  std::string relative;
  std::size_t pos = 0;
  while (pos < path.size()) {
    const std::size_t start = path[pos] == '/' ? pos + 1 : pos;
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end == start) {
      break;  // a trailing slash: the path named a directory
    }
    if (!relative.empty()) {
      relative += '/';
    }
    relative.append(path.substr(start, end - start));
    pos = end;
    const int fd = open_beneath(root_fd_, relative.c_str(), O_PATH | O_CLOEXEC, false);
    if (fd < 0) {
      return others_ != nullptr ? kNotAScript : status_for_file_error(errno);
    }
    const int stat_result = ::fstat(fd, &st);
    ::close(fd);
    if (stat_result != 0) {
      return 500;
    }
    if (S_ISDIR(st.st_mode)) {
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      return 403;
    }
    if (!is_script_name(relative)) {
      return kNotAScript;
    }
    target.script_name = std::string(url_base) + "/" + relative;
    target.path_info = path.substr(pos);
    target.filename = config_.root + "/" + relative;
    target.document_root = config_.root;
    return 0;
  }
  return others_ != nullptr ? kNotAScript : 403;  // a directory is no script
}

std::string CgiStore::resource_key(const RequestContext& ctx) const {
  // The script tree and the path under it, with the search words: what the script is run on.
  std::string_view path = ctx.request.path;
  if (config_.maps_prefix && ctx.location.prefix != "/") {
    path.remove_prefix(std::min(path.size(), ctx.location.prefix.size()));
  }
  std::string key = "cgi:" + config_.root;
  key += path;
  key += '?';
  key += ctx.request.query;
  return key;
}

Task<void> CgiStore::handle(RequestContext& ctx, Entity& out) const {
  gateway::ScriptTarget target;
  struct stat st {};
  const int status = resolve(ctx, target, st);
  if (status == kNotAScript) {
    if (others_ != nullptr && others_->methods().contains(ctx.request.method)) {
      co_await others_->handle(ctx, out);
    } else {
      out.set_error(others_ != nullptr ? 405 : 404);
    }
    co_return;
  }
  if (status != 0) {
    out.set_error(status);
    co_return;
  }
  if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
    COLLAGE_LOG(LogLevel::error, "COL-CGI-0001", "{}: the script {} is not executable",
                printable(target.script_name), target.filename);
    out.set_error(403);
    co_return;
  }
  co_await run(ctx, target, out);
}

Task<void> CgiStore::run(RequestContext& ctx, const gateway::ScriptTarget& target,
                         Entity& out) const {
  const Request& request = ctx.request;
  const std::string& name = target.script_name;
  ChildScore* row = ctx.services.child_score();
  const ConnectionCap cap{kProcessesKey, config_.max_processes};
  if (acquire_connection(row, std::span(&cap, 1)) != CapResult::admitted) {
    COLLAGE_LOG(LogLevel::warn, "COL-CGI-0002",
                "{}: {} scripts are running already (CgiMaxProcesses); answered 503",
                printable(name), config_.max_processes);
    out.set_error(503);
    out.headers.set("Retry-After", "1");
    co_return;
  }
  // From here the reaper gives the place back; until the spawn, each failure does.
  gateway::OwnedFd input;
  std::optional<std::uint64_t> length;
  if (request.body != nullptr) {
    length = 0;
    if (const int status = co_await gateway::spool_request_body(
            *request.body, config_.spool_directory, input, *length);
        status != 0) {
      release_connection(row, std::span(&cap, 1));
      out.set_error(status);
      co_return;
    }
  } else {
    input.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (request.headers.contains("Content-Length")) {
      length = 0;  // "Content-Length: 0": an empty body, which scripts are told of
    }
  }

  SpawnRequest spawn;
  spawn.program = target.filename;
  spawn.argv.push_back(target.filename);
  for (std::string& word : gateway::search_words(gateway::query_string(request))) {
    spawn.argv.push_back(std::move(word));
  }
  spawn.env = gateway::build_environment(ctx, target, config_.environment, length);
  spawn.working_directory = target.filename.substr(0, target.filename.rfind('/'));
  spawn.stdin_fd = input.fd;
  SpawnedProcess process;
  std::string error;
  if (config_.run_as && launcher_ == nullptr) {
    error = "CgiUser " + config_.run_as_name +
            " needs the server started as root (its helper is not running)";
  }
  const bool started = error.empty() && input.fd >= 0 &&
                       (launcher_ != nullptr ? launcher_->spawn(spawn, process, error)
                                             : spawn_process(spawn, process, error));
  if (!started) {
    release_connection(row, std::span(&cap, 1));
    COLLAGE_LOG(LogLevel::error, "COL-CGI-0003", "{}: {}", printable(name),
                input.fd < 0 && error.empty() ? std::string("cannot open its input") : error);
    out.set_error(500);
    co_return;
  }

  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto handle = std::make_shared<ProcessHandle>(process.pid, launcher_);
  reap_when_exited(
      executor, process.pidfd, /*own_child=*/launcher_ == nullptr,
      std::chrono::steady_clock::now() + config_.max_time,
      [handle](int signal) { handle->signal_group(signal); },
      [handle, row, name](int code, int status) {
        handle->mark_reaped();
        const ConnectionCap released{kProcessesKey, 0};
        release_connection(row, std::span(&released, 1));
        if (code == -1) {
          return;  // the CgiUser helper reaped it; how it ended is not known here
        }
        if (code != CLD_EXITED && handle->signalled.load()) {
          COLLAGE_LOG(LogLevel::info, "COL-CGI-0004", "{}: stopped by the server ({})",
                      printable(name), describe_exit(code, status));
        } else if (code != CLD_EXITED) {
          COLLAGE_LOG(LogLevel::warn, "COL-CGI-0004", "{}: {}", printable(name),
                      describe_exit(code, status));
        } else if (status != 0) {
          COLLAGE_LOG(LogLevel::notice, "COL-CGI-0004", "{}: {}", printable(name),
                      describe_exit(code, status));
        }
      });
  asio::co_spawn(executor,
                 log_stderr(asio::posix::stream_descriptor(executor, process.stderr_fd), name),
                 asio::detached);
  auto output =
      std::make_unique<ScriptOutput>(executor, process.stdout_fd, handle, config_.output_timeout);

  // The header block, up to its empty line.
  const bool nph =
      std::string_view(target.filename).substr(target.filename.rfind('/') + 1).starts_with("nph-");
  std::string head_bytes;
  gateway::ScriptHead head;
  std::size_t consumed = 0;
  for (;;) {
    const ReadResult result = co_await output->read_some(head_bytes, 16 * 1024);
    if (result == ReadResult::data) {
      const gateway::HeadResult parsed =
          gateway::parse_script_head(head_bytes, nph, head, consumed, error);
      if (parsed == gateway::HeadResult::complete) {
        break;
      }
      if (parsed == gateway::HeadResult::incomplete && head_bytes.size() < kMaxHead) {
        continue;
      }
      if (parsed == gateway::HeadResult::incomplete) {
        error = "its header is larger than 64 KiB";
      }
      COLLAGE_LOG(LogLevel::error, "COL-CGI-0008", "{}: bad output: {}; answered 502",
                  printable(name), error);
      out.set_error(502);
      co_return;
    }
    if (result == ReadResult::timed_out) {
      COLLAGE_LOG(LogLevel::error, "COL-CGI-0006",
                  "{}: printed no header within CgiTimeout; killed, answered 504", printable(name));
      out.set_error(504);
      co_return;
    }
    COLLAGE_LOG(LogLevel::error, "COL-CGI-0008", "{}: bad output: {}; answered 502",
                printable(name),
                head_bytes.empty() ? "it printed nothing" : "its output ended inside the header");
    out.set_error(502);
    co_return;
  }

  if (!nph && head.status == 0 && head.location.starts_with('/')) {
    // A local redirect (RFC 3875 §6.2.2): the server answers as if that URL had been asked for.
    output->abandon();
    co_await respond_internal(ctx, head.location, out);
    co_return;
  }
  gateway::apply_script_head(head, out);
  out.body.clear();
  out.length.reset();
  out.stream = std::make_unique<ScriptBody>(head_bytes.substr(consumed), std::move(output), name);
}

}  // namespace collage::cgi
