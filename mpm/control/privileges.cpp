#include "privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace collage::control {

bool drop_privileges(const std::string& user, const std::string& group, std::string& error) {
  if (::geteuid() != 0 || user.empty()) {
    return true;
  }
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) {
    error = "no such user '" + user + "'";
    return false;
  }
  gid_t gid = pw->pw_gid;
  if (!group.empty()) {
    const struct group* gr = ::getgrnam(group.c_str());
    if (gr == nullptr) {
      error = "no such group '" + group + "'";
      return false;
    }
    gid = gr->gr_gid;
  }
  // Group first: once the user id changes there is no right left to change it.
  if (::setgid(gid) != 0 || ::initgroups(pw->pw_name, gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    error = "cannot switch to user '" + user + "': " + std::strerror(errno);
    return false;
  }
  if (::setuid(0) == 0) {
    error = "still able to regain root after switching to '" + user + "'";
    return false;
  }
  return true;
}

}  // namespace collage::control
