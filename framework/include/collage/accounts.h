#pragma once
// Accounts: named users from a file of "name:crypt-hash:root:rights" lines (hashes from crypt(3),
// SHA-512 "$6$" or yescrypt "$y$"; never plain text). FTP logins and HTTP Basic authentication
// read the same format; HTTP uses the name and hash only.

#include <map>
#include <optional>
#include <string>

#include "collage/directive.h"

namespace collage {

struct Rights {
  bool read = false;
  bool write = false;
  bool remove = false;
  bool mkdir = false;
};

struct Account {
  std::string name;
  std::string hash;
  std::string root;  // normalized URL path prefix the user is confined to
  Rights rights;
};

class Accounts {
 public:
  // Reads the user file named by `directive` (for messages); errors name the file and line.
  bool load(const std::string& path, std::string_view directive, const SourceLocation& where,
            ConfigErrors& errors);
  const Account* find(std::string_view name) const;
  // Checks a password against the account's crypt hash, in constant time.
  static bool password_matches(const Account& account, std::string_view password);

 private:
  std::map<std::string, Account, std::less<>> accounts_;
};

// "read,write" → Rights; false on an unknown word.
bool parse_rights(std::string_view text, Rights& out);

}  // namespace collage
