#pragma once
// The CGI store (RFC 3875): runs a script per request, feeds it the request body, reads its
// header block and streams its output back as the response body, which the filter mosaic (SSI,
// compression) sees like any other store's.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collage/store.h"
#include "launcher.h"
#include "meta_variables.h"

namespace collage::cgi {

struct CgiConfig {
  std::string root;         // absolute: the directory scripts are found under
  bool maps_prefix = true;  // CgiRoot: the location's prefix maps onto root (ScriptAlias)
  std::vector<std::string> extensions;  // empty: every file under root is a script
  std::chrono::milliseconds output_timeout{60'000};
  std::chrono::milliseconds max_time{600'000};
  std::uint32_t max_processes = 64;  // at once, across every child of the server
  std::string spool_directory = "/tmp";
  bool allow_writable_tree = false;
  std::optional<std::pair<uid_t, gid_t>> run_as;  // CgiUser (and CgiGroup)
  std::string run_as_name;
  gateway::EnvironmentSettings environment;
};

class CgiStore final : public Store {
 public:
  // Takes ownership of root_fd (O_PATH, the scripts' directory). `others` answers requests for
  // files that are not scripts (CgiExtensions); may be null.
  CgiStore(CgiConfig config, int root_fd, std::unique_ptr<Store> others);
  ~CgiStore() override;

  MethodSet methods() const override;
  Task<void> handle(RequestContext& ctx, Entity& out) const override;
  std::string resource_key(const RequestContext& ctx) const override;
  std::vector<std::string> writable_trees() const override;
  std::vector<std::string> program_trees() const override;
  void prepare_child() const override;

 private:
  // Finds the script for a URL path: the longest leading part that is a file. 0 on success,
  // else the status to answer.
  int resolve(const RequestContext& ctx, gateway::ScriptTarget& target, struct stat& st) const;
  bool is_script_name(std::string_view name) const;
  Task<void> run(RequestContext& ctx, const gateway::ScriptTarget& target, Entity& out) const;

  CgiConfig config_;
  int root_fd_;
  std::unique_ptr<Store> others_;
  // This child's helper for CgiUser (each child forks its own before dropping privileges).
  mutable std::shared_ptr<const Launcher> launcher_;
};

}  // namespace collage::cgi
