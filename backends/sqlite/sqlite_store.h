#pragma once
// The SQLite store: a tree of files and directories kept in one SQLite database, served to every
// protocol like the file store serves a directory (GET with ranges and conditionals through the
// pipeline, directories as menus, FTP listings) and, where writable, changed by HTTP PUT and
// DELETE and FTP STOR, APPE, DELE, MKD, RMD, RNFR/RNTO, each change atomic. Every database call
// runs on the blocking pool, on a connection of that thread's own.

#include <chrono>
#include <string>

#include "collage/store.h"

namespace collage::sqlite {

class Database;

struct SqliteSettings {
  std::string database;  // SqliteDatabase: the file (created on first use)
  bool writable = false;
  std::uint64_t chunk_size = 1024 * 1024;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(SqliteSettings settings) : settings_(std::move(settings)) {}
  MethodSet methods() const override;
  Task<void> handle(RequestContext& ctx, Entity& out) const override;
  std::string resource_key(const RequestContext& ctx) const override;

  // The calling thread's connection (opened, and the schema made, on first use); null with
  // `error` set when the database cannot be opened.
  Database* connection(std::string& error) const;
  const SqliteSettings& settings() const { return settings_; }

 private:
  Task<void> get(RequestContext& ctx, const std::string& path, Entity& out) const;
  Task<void> put(RequestContext& ctx, const std::string& path, Entity& out) const;

  SqliteSettings settings_;
};

// The path inside the database: the request's path without the location's prefix, "/" for the
// root, never ending in "/" otherwise.
std::string database_path(std::string_view request_path, std::string_view location_prefix);

}  // namespace collage::sqlite
