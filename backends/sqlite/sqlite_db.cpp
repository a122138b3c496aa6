#include "sqlite_db.h"

namespace collage::sqlite {

// The store's tables (docs/sqlite.md). Bodies live in chunks of at most SqliteChunkSize bytes,
// tied to an entry through a blob; an upload writes its chunks under a fresh blob first and swaps
// it in with one short transaction at the end, so a slow upload never holds the write lock.
constexpr std::string_view kSchema = R"(
CREATE TABLE IF NOT EXISTS collage_entries (
  path         TEXT PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('f', 'd')),
  content_type TEXT,
  size         INTEGER NOT NULL DEFAULT 0,
  mtime        INTEGER NOT NULL,
  etag         TEXT,
  blob_id      INTEGER
);
CREATE TABLE IF NOT EXISTS collage_blobs (
  blob_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  staged_at INTEGER
);
CREATE TABLE IF NOT EXISTS collage_chunks (
  blob_id INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  data    BLOB NOT NULL,
  PRIMARY KEY (blob_id, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO collage_entries (path, kind, mtime) VALUES ('/', 'd', strftime('%s', 'now'));
)";

// Bodies of uploads whose process died before swapping them in (an hour is longer than any
// upload between two chunks may pause: the read timeouts end it first).
constexpr std::string_view kDropAbandoned = R"(
DELETE FROM collage_chunks WHERE blob_id IN (SELECT blob_id FROM collage_blobs
  WHERE staged_at IS NOT NULL AND staged_at < strftime('%s', 'now') - 3600);
DELETE FROM collage_blobs WHERE staged_at IS NOT NULL AND staged_at < strftime('%s', 'now') - 3600;
)";

Statement::Statement(sqlite3* db, std::string_view sql) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement_, nullptr) !=
      SQLITE_OK) {
    statement_ = nullptr;
  }
}

Statement::~Statement() {
  sqlite3_finalize(statement_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(statement_, index);
  return *this;
}

int Statement::step() {
  return statement_ == nullptr ? SQLITE_ERROR : sqlite3_step(statement_);
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string Statement::text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  return text == nullptr ? std::string() : std::string(text);
}

std::string_view Statement::blob(int column) const {
  const void* data = sqlite3_column_blob(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  return data == nullptr
             ? std::string_view()
             : std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::unique_ptr<Database> Database::open(const std::string& path, bool create, std::string& error) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    error = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<Database> database(new Database(db));
  // A writer waits for another at most this long before the request gets 503.
  sqlite3_busy_timeout(db, 2000);
  if (!database->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error) ||
      !database->exec(kSchema, error) || !database->exec(kDropAbandoned, error)) {
    return nullptr;
  }
  return database;
}

Database::~Database() {
  sqlite3_close(db_);
}

bool Database::exec(std::string_view sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    error = message != nullptr ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return false;
  }
  return true;
}

}  // namespace collage::sqlite
