#include "collage/accounts.h"

#include <crypt.h>

#include <fstream>

#include "collage/path.h"

namespace collage {

bool parse_rights(std::string_view text, Rights& out) {
  out = Rights{};
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view word = text.substr(0, comma);
    if (word == "read") {
      out.read = true;
    } else if (word == "write") {
      out.write = true;
    } else if (word == "delete") {
      out.remove = true;
    } else if (word == "mkdir") {
      out.mkdir = true;
    } else if (!word.empty()) {
      return false;
    }
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
  }
  return true;
}

bool Accounts::load(const std::string& path, std::string_view directive,
                    const SourceLocation& where, ConfigErrors& errors) {
  std::ifstream in(path);
  if (!in) {
    errors.add(where, "cannot read " + std::string(directive) + " " + path);
    return false;
  }
  std::string line;
  int number = 0;
  bool ok = true;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const SourceLocation at{path, number};
    std::string_view rest = line;
    std::string_view fields[4];
    for (int i = 0; i < 4; ++i) {
      const std::size_t colon = i < 3 ? rest.find(':') : std::string_view::npos;
      fields[i] = rest.substr(0, colon);
      rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon + 1);
    }
    Account account;
    account.name = fields[0];
    account.hash = fields[1];
    if (account.name.empty() ||
        !(account.hash.starts_with("$6$") || account.hash.starts_with("$y$") ||
          account.hash.starts_with("$5$") || account.hash.starts_with("$2"))) {
      errors.add(at, "expected name:hash:root:rights with a crypt(3) SHA-512 or yescrypt hash");
      ok = false;
      continue;
    }
    std::string root(fields[2].empty() ? "/" : fields[2]);
    if (normalize_path(root, account.root) != PathResult::ok) {
      errors.add(at, "the root must be an absolute path");
      ok = false;
      continue;
    }
    if (!parse_rights(fields[3], account.rights)) {
      errors.add(at, "rights are a comma-separated list of read, write, delete, mkdir");
      ok = false;
      continue;
    }
    accounts_.insert_or_assign(account.name, std::move(account));
  }
  return ok;
}

const Account* Accounts::find(std::string_view name) const {
  auto it = accounts_.find(name);
  return it == accounts_.end() ? nullptr : &it->second;
}

bool Accounts::password_matches(const Account& account, std::string_view password) {
  crypt_data data{};
  const std::string given(password);
  const char* computed = ::crypt_r(given.c_str(), account.hash.c_str(), &data);
  if (computed == nullptr || computed[0] == '*') {
    return false;
  }
  const std::string_view result(computed);
  if (result.size() != account.hash.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < result.size(); ++i) {
    difference |= static_cast<unsigned char>(result[i] ^ account.hash[i]);
  }
  return difference == 0;
}

}  // namespace collage
