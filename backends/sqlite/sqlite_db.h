#pragma once
// A thin, owning wrapper over libsqlite3 for the SQLite store: one connection per thread of the
// blocking pool (SQLite connections are not shared), prepared statements with bound values.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace collage::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return statement_ != nullptr; }
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  std::int64_t integer(int column) const;
  std::string text(int column) const;
  std::string_view blob(int column) const;  // valid until the next step
  bool is_null(int column) const;

 private:
  sqlite3_stmt* statement_ = nullptr;
};

class Database {
 public:
  // Opens (creating it and the schema when `create`) the database file; null with `error` set.
  static std::unique_ptr<Database> open(const std::string& path, bool create, std::string& error);
  ~Database();
  sqlite3* handle() const { return db_; }
  // Runs statements without results; false with `error` set.
  bool exec(std::string_view sql, std::string& error);
  std::string last_error() const { return sqlite3_errmsg(db_); }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace collage::sqlite
