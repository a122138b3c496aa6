#pragma once
// Running scripts as another user (CgiUser), as Apache's suexec and mod_cgid do: each child,
// while it still has root's rights, forks a small helper that keeps them. The child, once
// unprivileged, asks the helper to start a script; the helper forks, takes on CgiUser (never
// root) and runs it. The helper also delivers signals to the scripts it started (the child may
// not signal another user's processes) and reaps them.

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "child_process.h"

namespace collage::cgi {

class Launcher {
 public:
  // Forks the helper. Must run with the rights to become `uid`/`gid` (root, before the child
  // drops privileges). Null with `error` set on failure.
  static std::unique_ptr<Launcher> start(uid_t uid, gid_t gid, std::string& error);
  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  // As spawn_process, but the script runs as the helper's user; its pidfd becomes readable when
  // it exits (it is the helper's child, so the helper reaps it, not the caller).
  bool spawn(const SpawnRequest& request, SpawnedProcess& out, std::string& error) const;
  // Signals the process group of a script this helper started (others are refused).
  void signal_group(pid_t pid, int signal) const;

 private:
  Launcher(int socket, pid_t helper) : socket_(socket), helper_(helper) {}
  int socket_;
  pid_t helper_;
  mutable std::mutex mutex_;  // one exchange at a time (worker MPM threads share it)
};

}  // namespace collage::cgi
