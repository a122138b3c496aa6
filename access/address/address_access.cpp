// Access by client address, like nginx's allow/deny: a client in DenyFrom gets 403; when AllowFrom
// is set, only clients in it get through. Works for every protocol, since every request has a peer.

#include "collage/access.h"
#include "collage/address_rules.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/registry.h"

namespace collage::address_access {
namespace {

struct Written {
  std::vector<std::string> allow_from;
  std::vector<std::string> deny_from;
};

const Directive kDirectives[] = {
    {.name = "AllowFrom",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Client addresses let in here, as addresses or CIDR blocks (127.0.0.0/8 ::1) or "
             "all; others get 403. Unset: everyone not denied.",
     .field = bind<&Written::allow_from>()},
    {.name = "DenyFrom",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Client addresses refused here with 403, as addresses or CIDR blocks, or all; "
             "wins over AllowFrom.",
     .field = bind<&Written::deny_from>()},
};

class AddressCheck final : public AccessCheck {
 public:
  AddressCheck(AddressRules allow, AddressRules deny)
      : allow_(std::move(allow)), deny_(std::move(deny)) {}

  Task<bool> check(RequestContext& ctx, Entity& out) const override {
    const std::string_view client =
        ctx.request.peer != nullptr ? std::string_view(ctx.request.peer->address) : "";
    const bool denied = deny_.matches(client);
    if (!denied && (allow_.empty() || allow_.matches(client))) {
      co_return true;
    }
    COLLAGE_LOG(LogLevel::info, "COL-ACCESS-0001", "{}: {} refused by {} for {}", client,
                printable(ctx.request.path), denied ? "DenyFrom" : "AllowFrom",
                ctx.location.prefix);
    out.set_error(403);
    co_return false;
  }

 private:
  AddressRules allow_;
  AddressRules deny_;
};

bool read_rules(const Scope& scope, std::string_view name, const std::vector<std::string>& words,
                AddressRules& rules, ConfigErrors& errors) {
  bool ok = true;
  for (const std::string& word : words) {
    if (const std::optional<AddressBlock> block = parse_address_block(word)) {
      rules.add(*block);
    } else {
      errors.add(scope.where(name),
                 std::string(name) + ": '" + word + "' is not an address, a CIDR block or all");
      ok = false;
    }
  }
  return ok;
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"address_access", ModuleKind::access, "allow or deny by client address"},
                      kDirectives);
  registry.add_access("address_access",
                      [](const Scope& scope, ConfigErrors& errors) -> std::unique_ptr<AccessCheck> {
                        const Written written = scope.read<Written>(kDirectives);
                        AddressRules allow;
                        AddressRules deny;
                        const bool ok =
                            read_rules(scope, "AllowFrom", written.allow_from, allow, errors) &&
                            read_rules(scope, "DenyFrom", written.deny_from, deny, errors);
                        if (!ok || (allow.empty() && deny.empty())) {
                          return nullptr;
                        }
                        return std::make_unique<AddressCheck>(std::move(allow), std::move(deny));
                      });
}

}  // namespace collage::address_access
