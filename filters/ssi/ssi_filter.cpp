// The SSI filter: mod_include's directives on HTML output, whichever store made it (files, CGI,
// a proxied upstream). Text outside directives passes on as it arrives; an include streams in
// through the router, in bounded parts.

#include <ctime>
#include <map>

#include "collage/http_date.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/path.h"
#include "collage/registry.h"
#include "ssi_filter.h"
#include "ssi_syntax.h"

namespace collage::ssi {
namespace {

const Directive kDirectives[] = {
    {.name = "SsiLegacyExpressions",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Read if/elif expressions in mod_include's old syntax ($var = /re/, bare strings) "
             "instead of Apache 2.4's (%{VAR} == 'x', -n, =~), as Apache's SSILegacyExprParser.",
     .field = bind<&SsiSettings::legacy_expressions>()},
    {.name = "SsiExec",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Allow <!--#exec cgi=\"/url\" --> (run as an include of that URL). Off: exec is an "
             "error.",
     .field = bind<&SsiSettings::exec>()},
    {.name = "SsiErrorMessage",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "[an error occurred while processing this directive]",
     .help = "What a directive that fails puts in the page (config errmsg changes it per page).",
     .field = bind<&SsiSettings::error_message>()},
    {.name = "SsiTimeFormat",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "%A, %d-%b-%Y %H:%M:%S %Z",
     .help = "strftime format of dates (DATE_LOCAL, flastmod); config timefmt changes it per page.",
     .field = bind<&SsiSettings::time_format>()},
};

constexpr std::string_view kOpen = "<!--#";
constexpr std::string_view kClose = "-->";
constexpr std::size_t kMaxDirective = 16 * 1024;

std::string_view attribute(const SsiDirective& d, std::string_view name) {
  for (const auto& [key, value] : d.attributes) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

std::string format_size(std::uint64_t size, bool abbreviate) {
  if (!abbreviate) {
    std::string digits = std::to_string(size);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
      digits.insert(static_cast<std::size_t>(i), ",");
    }
    return digits;
  }
  if (size < 1024) {
    return std::to_string(size);
  }
  const char* units = "KMGT";
  double value = static_cast<double>(size) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, value < 10 ? "%.1f%c" : "%.0f%c", value, units[unit]);
  return text;
}

// Where "<!--#" may begin at the end of `text`: the length of the longest suffix that is a
// prefix of it, which is held back until more text arrives.
std::size_t partial_open(std::string_view text) {
  for (std::size_t n = std::min(text.size(), kOpen.size() - 1); n > 0; --n) {
    if (kOpen.starts_with(text.substr(text.size() - n))) {
      return n;
    }
  }
  return 0;
}

class SsiInstance final : public FilterInstance {
 public:
  SsiInstance(RequestContext& ctx, const SsiSettings& settings,
              std::optional<std::time_t> last_modified)
      : ctx_(ctx),
        settings_(settings),
        error_message_(settings.error_message),
        time_format_(settings.time_format),
        last_modified_(last_modified) {}

  Task<FilterStatus> process(Brigade& in, bool last, Brigade& out) override {
    if (include_ != nullptr) {
      co_return co_await continue_include(out);
    }
    if (!in.append_to(pending_)) {
      co_return FilterStatus::failed;
    }
    std::string text;  // what goes out from this call
    std::size_t pos = 0;
    while (pos < pending_.size()) {
      const std::size_t open = pending_.find(kOpen, pos);
      if (open == std::string::npos) {
        const std::size_t keep = last ? 0 : partial_open(std::string_view(pending_).substr(pos));
        emit(std::string_view(pending_).substr(pos, pending_.size() - pos - keep), text);
        pos = pending_.size() - keep;
        break;
      }
      emit(std::string_view(pending_).substr(pos, open - pos), text);
      const std::size_t close = pending_.find(kClose, open + kOpen.size());
      if (close == std::string::npos) {
        if (!last && pending_.size() - open <= kMaxDirective) {
          pos = open;  // the rest of the directive is still coming
          break;
        }
        fail("a directive is not closed with -->", pending_.substr(open, 60), text);
        pos = open + kOpen.size();
        continue;
      }
      const std::string body = pending_.substr(open + kOpen.size(), close - open - kOpen.size());
      pos = close + kClose.size();
      std::string include_target;
      run_directive(body, text, include_target);
      if (!include_target.empty()) {
        flush(text, out);
        pending_.erase(0, pos);
        co_await start_include(include_target, out);
        co_return FilterStatus::again;  // the include's body, then the rest of pending_
      }
    }
    pending_.erase(0, pos);
    flush(text, out);
    if (last && !conditions_.empty()) {
      log_problem("an if has no endif", "");
    }
    co_return FilterStatus::pass;
  }

 private:
  struct Condition {
    bool active;        // this branch's text is sent
    bool taken;         // some branch of this if was taken
    bool outer_active;  // the text around the whole if is sent
  };
  struct Included {
    Entity entity;
    std::optional<BodyWalk> walk;
  };

  bool active() const { return conditions_.empty() || conditions_.back().active; }

  void emit(std::string_view piece, std::string& text) const {
    if (active()) {
      text.append(piece);
    }
  }
  static void flush(std::string& text, Brigade& out) {
    if (!text.empty()) {
      out.append_owned(std::move(text));
      text.clear();
    }
  }

  void log_problem(std::string_view problem, std::string_view directive) const {
    COLLAGE_LOG(LogLevel::error, "COL-SSI-0001", "{}: {}{}{}", printable(ctx_.request.path),
                problem, directive.empty() ? "" : " in <!--#", printable(directive));
  }
  void fail(std::string_view problem, std::string_view directive, std::string& text) {
    log_problem(problem, directive);
    emit(error_message_, text);
  }

  std::optional<std::string> lookup(std::string_view name) const {
    if (auto it = variables_.find(name); it != variables_.end()) {
      return it->second;
    }
    const Request& request = ctx_.request;
    if (name == "DOCUMENT_URI")
      return request.path;
    if (name == "DOCUMENT_NAME")
      return request.path.substr(request.path.rfind('/') + 1);
    if (name == "DATE_LOCAL" || name == "DATE_GMT") {
      return format_time(std::time(nullptr), name == "DATE_GMT");
    }
    if (name == "LAST_MODIFIED") {
      return last_modified_ ? std::optional(format_time(*last_modified_, false)) : std::nullopt;
    }
    if (name == "QUERY_STRING" || name == "DOCUMENT_ARGS")
      return std::string(request.query);
    if (name == "QUERY_STRING_UNESCAPED") {
      std::string decoded;
      std::string with_slash = "/" + std::string(request.query);
      if (normalize_path(with_slash, decoded) == PathResult::ok) {
        return decoded.substr(1);
      }
      return std::string(request.query);
    }
    if (name == "REQUEST_URI")
      return std::string(request.target);
    if (name == "REQUEST_METHOD")
      return std::string(request.method_token);
    if (name == "SERVER_NAME")
      return std::string(request.host);
    if (name == "HTTPS")
      return request.secure ? std::optional<std::string>("on") : std::nullopt;
    if (name == "REMOTE_USER" && !request.user.empty())
      return request.user;
    if (request.peer != nullptr) {
      if (name == "REMOTE_ADDR")
        return request.peer->address;
      if (name == "REMOTE_PORT")
        return std::to_string(request.peer->port);
      if (name == "SERVER_PORT")
        return std::to_string(request.peer->local_port);
    }
    if (name.starts_with("HTTP_")) {
      for (const auto& [field, value] : request.headers.fields()) {
        if (header_matches_variable(field, name.substr(5))) {
          return std::string(value);
        }
      }
    }
    return std::nullopt;
  }
  static bool header_matches_variable(std::string_view field, std::string_view variable) {
    if (field.size() != variable.size()) {
      return false;
    }
    for (std::size_t i = 0; i < field.size(); ++i) {
      const char f = field[i] == '-' ? '_' : static_cast<char>(std::toupper(field[i]));
      if (f != variable[i]) {
        return false;
      }
    }
    return true;
  }
  std::string format_time(std::time_t when, bool gmt) const {
    std::tm parts{};
    if (gmt) {
      gmtime_r(&when, &parts);
    } else {
      localtime_r(&when, &parts);
    }
    char text[256];
    const std::size_t n = std::strftime(text, sizeof text, time_format_.c_str(), &parts);
    return std::string(text, n);
  }
  Lookup lookup_function() const {
    return [this](std::string_view name) { return lookup(name); };
  }

  void run_directive(std::string_view body, std::string& text, std::string& include_target) {
    SsiDirective d;
    std::string error;
    if (!parse_directive(body, d, error)) {
      if (active()) {
        fail(error, body, text);
      }
      return;
    }
    const std::string& element = d.element;
    if (element == "if" || element == "elif") {
      handle_condition(d, body, text);
      return;
    }
    if (element == "else") {
      if (conditions_.empty()) {
        fail("else without if", body, text);
        return;
      }
      Condition& c = conditions_.back();
      c.active = c.outer_active && !c.taken;
      c.taken = true;
      return;
    }
    if (element == "endif") {
      if (conditions_.empty()) {
        fail("endif without if", body, text);
        return;
      }
      conditions_.pop_back();
      return;
    }
    if (!active()) {
      return;
    }
    const Lookup find = lookup_function();
    if (element == "echo") {
      const std::string_view var = attribute(d, "var");
      if (var.empty()) {
        fail("echo needs var=", body, text);
        return;
      }
      const std::optional<std::string> value = lookup(substitute(var, find));
      const std::string_view encoding = attribute(d, "encoding");
      const std::string shown = value.value_or(echo_message_);
      if (encoding == "none") {
        text += shown;
      } else if (encoding == "url") {
        append_url_encoded_path(shown, text);
      } else if (encoding.empty() || encoding == "entity") {
        append_html_escaped(shown, text);
      } else {
        fail("echo encoding must be none, url or entity", body, text);
      }
    } else if (element == "set") {
      const std::string_view var = attribute(d, "var");
      if (var.empty()) {
        fail("set needs var=", body, text);
        return;
      }
      variables_[std::string(var)] = substitute(attribute(d, "value"), find);
    } else if (element == "config") {
      for (const auto& [key, value] : d.attributes) {
        if (key == "errmsg") {
          error_message_ = value;
        } else if (key == "timefmt") {
          time_format_ = value;
        } else if (key == "sizefmt" && (value == "bytes" || value == "abbrev")) {
          abbreviate_sizes_ = value == "abbrev";
        } else if (key == "echomsg") {
          echo_message_ = value;
        } else {
          fail("config takes errmsg, timefmt, sizefmt (bytes|abbrev) or echomsg", body, text);
        }
      }
    } else if (element == "printenv") {
      std::string listing;
      for (const auto& [name, value] : variables_) {
        listing += name + "=" + value + "\n";
      }
      for (const std::string_view name : {"DOCUMENT_URI", "DOCUMENT_NAME", "QUERY_STRING",
                                          "REQUEST_METHOD", "REMOTE_ADDR", "SERVER_NAME"}) {
        if (variables_.find(name) == variables_.end()) {
          listing += std::string(name) + "=" + lookup(name).value_or("") + "\n";
        }
      }
      append_html_escaped(listing, text);
    } else if (element == "include" || element == "fsize" || element == "flastmod") {
      std::string target;
      if (!target_of(d, target, error)) {
        fail(error, body, text);
        return;
      }
      if (element == "include") {
        include_target = std::move(target);
      } else {
        pending_file_info_ = element;
        include_target = std::move(target);
      }
    } else if (element == "exec") {
      const std::string_view cgi = attribute(d, "cgi");
      if (!settings_.exec) {
        fail("exec is off here (SsiExec)", body, text);
      } else if (cgi.empty() || !cgi.starts_with('/')) {
        fail("exec takes cgi=\"/url\" (exec cmd is not offered)", body, text);
      } else {
        include_target = substitute(cgi, find);
      }
    } else {
      fail("unknown element '" + element + "'", body, text);
    }
  }

  void handle_condition(const SsiDirective& d, std::string_view body, std::string& text) {
    const bool is_if = d.element == "if";
    if (!is_if && conditions_.empty()) {
      fail("elif without if", body, text);
      return;
    }
    const bool outer = is_if ? active() : conditions_.back().outer_active;
    const bool already_taken = !is_if && conditions_.back().taken;
    bool value = false;
    if (outer && !already_taken) {
      std::string error;
      const std::optional<bool> result =
          evaluate(attribute(d, "expr"),
                   settings_.legacy_expressions ? ExprSyntax::legacy : ExprSyntax::ap_expr,
                   lookup_function(), error);
      if (!result) {
        fail(error, body, text);
      }
      value = result.value_or(false);
    }
    if (is_if) {
      conditions_.push_back({outer && value, value, outer});
    } else {
      Condition& c = conditions_.back();
      c.active = outer && !already_taken && value;
      c.taken = already_taken || value;
    }
  }

  // include/fsize/flastmod: virtual="/url" (or relative to this page), file="name" (beside this
  // page, no "..").
  bool target_of(const SsiDirective& d, std::string& target, std::string& error) const {
    const Lookup find = lookup_function();
    const std::string_view virtual_url = attribute(d, "virtual");
    const std::string_view file = attribute(d, "file");
    const std::string& path = ctx_.request.path;
    const std::string directory = path.substr(0, path.rfind('/') + 1);
    if (!virtual_url.empty()) {
      target = substitute(virtual_url, find);
      if (!target.starts_with('/')) {
        target = directory + target;
      }
      return true;
    }
    if (!file.empty()) {
      target = substitute(file, find);
      if (target.starts_with('/') || target.find("..") != std::string::npos) {
        error = "file= names a file beside this page (no leading / and no ..)";
        return false;
      }
      target = directory + target;
      return true;
    }
    error = "needs virtual= or file=";
    return false;
  }

  Task<void> start_include(const std::string& target, Brigade& out) {
    include_ = std::make_unique<Included>();
    co_await respond_internal(ctx_, target, include_->entity, !pending_file_info_.empty());
    Entity& entity = include_->entity;
    std::string text;
    if (entity.status != 200) {
      fail("the include of " + target + " was answered " + std::to_string(entity.status), "", text);
      include_.reset();
    } else if (!pending_file_info_.empty()) {
      if (pending_file_info_ == "fsize" && entity.length) {
        text = format_size(*entity.length, abbreviate_sizes_);
      } else if (pending_file_info_ == "flastmod" && entity.last_modified) {
        text = format_time(*entity.last_modified, false);
      } else {
        fail(pending_file_info_ + " of " + target + ": not known for that content", "", text);
      }
      include_.reset();  // a streamed body that is not wanted is cancelled here
    } else {
      include_->walk.emplace(entity);
    }
    pending_file_info_.clear();
    flush(text, out);
  }

  Task<FilterStatus> continue_include(Brigade& out) {
    Brigade part;
    const StreamStatus status = co_await include_->walk->next(part);
    for (const Bucket& bucket : part.buckets()) {
      out.append(bucket);
    }
    if (status == StreamStatus::more) {
      co_return FilterStatus::again;
    }
    include_.reset();
    if (status == StreamStatus::failed) {
      log_problem("an included body broke off", "");
      co_return FilterStatus::failed;
    }
    co_return FilterStatus::again;  // what followed the directive is still to come
  }

  RequestContext& ctx_;
  const SsiSettings& settings_;
  std::string error_message_;
  std::string time_format_;
  std::string echo_message_ = "(none)";
  bool abbreviate_sizes_ = true;
  std::optional<std::time_t> last_modified_;
  std::map<std::string, std::string, std::less<>> variables_;
  std::vector<Condition> conditions_;
  std::string pending_;            // input not yet passed on (a partial directive)
  std::string pending_file_info_;  // "fsize"/"flastmod" while its internal request runs
  std::unique_ptr<Included> include_;
};

class SsiFilter final : public Filter {
 public:
  explicit SsiFilter(SsiSettings settings) : settings_(std::move(settings)) {}

  FilterStatus start(RequestContext& ctx, Entity& entity,
                     std::unique_ptr<FilterInstance>& instance) const override {
    // The page is made per request now: its length, validators and age are no longer the file's.
    instance = std::make_unique<SsiInstance>(ctx, settings_, entity.last_modified);
    entity.length.reset();
    entity.etag.clear();
    entity.last_modified.reset();
    entity.headers.remove("Accept-Ranges");
    return FilterStatus::pass;
  }

 private:
  SsiSettings settings_;
};

}  // namespace

std::unique_ptr<FilterInstance> make_ssi_instance(RequestContext& ctx,
                                                  const SsiSettings& settings) {
  return std::make_unique<SsiInstance>(ctx, settings, std::nullopt);
}

void register_module(Registry& registry) {
  registry.add_module({"ssi", ModuleKind::filter, "server-side includes (mod_include)"},
                      kDirectives);
  FilterRegistration filter;
  filter.name = "ssi";
  filter.capabilities.stage = FilterStage::content;
  filter.capabilities.methods = MethodSet{Method::get, Method::head, Method::post};
  filter.capabilities.statuses = {200};
  filter.capabilities.content_types = {"text/html"};
  // FTP downloads a page as it is stored, directives and all, as vsftpd would.
  filter.capabilities.protocols = {"http1", "h2", "gopher"};
  filter.capabilities.after = {"gopher-html"};
  filter.factory = [](const Scope& scope, ConfigErrors&) {
    return std::make_unique<SsiFilter>(scope.read<SsiSettings>(kDirectives));
  };
  registry.add_filter(std::move(filter));
}

}  // namespace collage::ssi
