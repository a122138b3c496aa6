// HTTP Basic authentication (RFC 7617) against an accounts file in the format FTP logins use
// (name:crypt-hash:…). A location with AuthUserFile lets through only the users of that file (or
// of AuthUsers, when set); others get 401 with a challenge. FTP and Gopher requests carry no
// Authorization: they pass only as a user the file knows who has logged in by their own means.

#include <algorithm>

#include "collage/access.h"
#include "collage/accounts.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/registry.h"
#include "credentials.h"

namespace collage::basic_auth {
namespace {

struct Written {
  std::optional<std::string> user_file;
  std::string realm;
  std::vector<std::string> users;
};

const Directive kDirectives[] = {
    {.name = "AuthUserFile",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "Accounts file (name:crypt-hash lines, the FtpUserFile format; mkpasswd -m "
             "sha-512) whose users may use this place, with HTTP Basic authentication.",
     .field = bind<&Written::user_file>()},
    {.name = "AuthName",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "Collage",
     .help = "The realm named in the Basic challenge (browsers show it in the login prompt).",
     .field = bind<&Written::realm>()},
    {.name = "AuthUsers",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Only these users of AuthUserFile may use this place. Unset: any of them.",
     .field = bind<&Written::users>()},
};

class BasicAuthCheck final : public AccessCheck {
 public:
  BasicAuthCheck(Accounts accounts, std::string realm, std::vector<std::string> users)
      : accounts_(std::move(accounts)), users_(std::move(users)) {
    challenge_ = "Basic realm=\"";
    for (char c : realm) {
      if (c == '"' || c == '\\') {
        challenge_ += '\\';
      }
      challenge_ += c;
    }
    challenge_ += "\", charset=\"UTF-8\"";
  }

  Task<bool> check(RequestContext& ctx, Entity& out) const override {
    Request& request = ctx.request;
    const std::string_view client =
        request.peer != nullptr ? std::string_view(request.peer->address) : "";
    if (request.protocol != "http1" && request.protocol != "h2") {
      if (!request.user.empty() && accounts_.find(request.user) != nullptr &&
          permitted(request.user)) {
        co_return true;
      }
      COLLAGE_LOG(LogLevel::info, "COL-ACCESS-0002", "{}: {} needs a user of {}", client,
                  printable(request.path), ctx.location.prefix);
      out.set_error(403);
      co_return false;
    }
    std::string user;
    std::string password;
    if (!parse_basic(request.headers.get("Authorization"), user, password)) {
      challenge(out);  // no credentials yet: the usual first round, not worth a log line
      co_return false;
    }
    const Account* account = accounts_.find(user);
    auto verify = [&] {
      return account != nullptr && Accounts::password_matches(*account, password);
    };
    // crypt(3) takes milliseconds by design: worked out on the blocking pool.
    const bool valid = co_await ctx.services.offload(verify);
    if (!valid || !permitted(user)) {
      COLLAGE_LOG(LogLevel::notice, "COL-ACCESS-0003", "{}: user '{}' {} for {}", client,
                  printable(user),
                  account == nullptr ? "unknown"
                  : valid            ? "not among AuthUsers"
                                     : "gave a wrong password",
                  printable(request.path));
      challenge(out);
      co_return false;
    }
    request.user = std::move(user);
    co_return true;
  }

 private:
  bool permitted(std::string_view user) const {
    return users_.empty() || std::find(users_.begin(), users_.end(), user) != users_.end();
  }
  void challenge(Entity& out) const {
    out.set_error(401);
    out.headers.set("WWW-Authenticate", challenge_);
  }

  Accounts accounts_;
  std::vector<std::string> users_;
  std::string challenge_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"basic_auth", ModuleKind::access, "HTTP Basic authentication"}, kDirectives);
  registry.add_access(
      "basic_auth", [](const Scope& scope, ConfigErrors& errors) -> std::unique_ptr<AccessCheck> {
        Written written = scope.read<Written>(kDirectives);
        if (!written.user_file) {
          return nullptr;
        }
        Accounts accounts;
        if (!accounts.load(*written.user_file, "AuthUserFile", scope.where("AuthUserFile"),
                           errors)) {
          return nullptr;
        }
        return std::make_unique<BasicAuthCheck>(std::move(accounts), std::move(written.realm),
                                                std::move(written.users));
      });
}

}  // namespace collage::basic_auth
