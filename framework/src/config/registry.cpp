#include "collage/registry.h"

#include <stdexcept>

#include "../runtime/access_logger.h"
#include "core_directives.h"
#include "process_directives.h"

namespace collage {

std::string_view module_kind_name(ModuleKind kind) {
  switch (kind) {
    case ModuleKind::core: return "core";
    case ModuleKind::protocol: return "protocol";
    case ModuleKind::store: return "store";
    case ModuleKind::filter: return "filter";
    case ModuleKind::access: return "access";
    case ModuleKind::cache: return "cache";
    case ModuleKind::logger: return "logger";
    case ModuleKind::site: return "site";
    case ModuleKind::mpm: return "mpm";
  }
  return "?";
}

std::string_view filter_stage_name(FilterStage stage) {
  switch (stage) {
    case FilterStage::content: return "content";
    case FilterStage::transform: return "transform";
    case FilterStage::encoding: return "encoding";
    case FilterStage::protocol: return "protocol";
  }
  return "?";
}

Registry::Registry() {
  add_module({"core", ModuleKind::core, "configuration, routing, logs and shared limits"},
             core_directives());
  add_module({"process", ModuleKind::core, "control process: pool sizes, user, pid file"},
             process_directives());
  add_logger("access_log", make_access_logger);
}

void Registry::mark_loaded(std::string_view name, const std::string& path) {
  for (ModuleInfo& m : modules_) {
    if (m.name == name) {
      m.loaded_from = path;
    }
  }
}

void Registry::add_module(const ModuleInfo& info, std::span<const Directive> directives) {
  for (const Directive& d : directives) {
    if (d.field.assign == nullptr) {
      // Configuration is data: every value goes to a typed field, never looked up by name.
      throw std::logic_error("directive " + std::string(d.name) + " of module " +
                             std::string(info.name) + " binds no field (.field = bind<&...>())");
    }
  }
  modules_.push_back(info);
  directives_.add(info.name, directives);
}

void Registry::add_protocol(std::string_view name, ProtocolRegistration protocol) {
  protocols_.insert_or_assign(std::string(name), std::move(protocol));
}

void Registry::add_store(std::string_view name, StoreFactory factory) {
  stores_.insert_or_assign(std::string(name), std::move(factory));
}

void Registry::add_filter(FilterRegistration filter) {
  filters_.push_back(std::move(filter));
}

void Registry::add_access(std::string_view name, AccessFactory factory) {
  access_.emplace_back(name, std::move(factory));
}

void Registry::add_cache(std::string_view name, CacheFactory factory) {
  caches_.emplace_back(name, std::move(factory));
}

void Registry::add_site_rules(std::string_view name, SiteRulesFactory factory) {
  site_rules_.emplace_back(name, std::move(factory));
}

void Registry::add_logger(std::string_view name, LoggerFactory factory) {
  loggers_.emplace_back(name, std::move(factory));
}

std::string Registry::unknown_filter_constraint() const {
  auto known = [&](std::string_view name) {
    for (const FilterRegistration& f : filters_) {
      if (f.name == name) {
        return true;
      }
    }
    return false;
  };
  for (const FilterRegistration& f : filters_) {
    for (const std::string_view name : f.capabilities.after) {
      if (!known(name)) {
        return std::string(f.name) + ": after " + std::string(name);
      }
    }
    for (const std::string_view name : f.capabilities.before) {
      if (!known(name)) {
        return std::string(f.name) + ": before " + std::string(name);
      }
    }
  }
  return {};
}

void Registry::add_mpm(std::string_view name, MpmFactory factory) {
  mpms_.insert_or_assign(std::string(name), std::move(factory));
}

const ProtocolRegistration* Registry::protocol(std::string_view name) const {
  auto it = protocols_.find(name);
  return it == protocols_.end() ? nullptr : &it->second;
}

const StoreFactory* Registry::store(std::string_view name) const {
  auto it = stores_.find(name);
  return it == stores_.end() ? nullptr : &it->second;
}

const MpmFactory* Registry::mpm(std::string_view name) const {
  auto it = mpms_.find(name);
  return it == mpms_.end() ? nullptr : &it->second;
}

}  // namespace collage
