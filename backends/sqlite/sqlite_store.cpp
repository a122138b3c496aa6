#include "sqlite_store.h"

#include <unistd.h>

#include <map>

#include <fmt/format.h>
#include "collage/conditional.h"
#include "collage/listing.h"
#include "collage/log.h"
#include "collage/menu.h"
#include "collage/middle_end.h"
#include "sqlite_db.h"

namespace collage::sqlite {
namespace {

constexpr std::uint64_t kReadyBodyLimit = 256 * 1024;  // larger bodies stream chunk by chunk

struct Row {
  bool found = false;
  bool directory = false;
  std::string content_type;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::string etag;
  std::int64_t blob_id = 0;
};

// What a blocking call reports back: an HTTP status when it failed (0 when it did not).
struct Outcome {
  int status = 0;
  std::string error;  // for the log
};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string parent_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash));
}

std::string_view name_of(std::string_view path) {
  return path.substr(path.rfind('/') + 1);
}

// A busy or damaged database is the server's trouble, not the client's: 503, and a log line.
Outcome database_failure(Database& db, std::string_view what) {
  const int code = sqlite3_errcode(db.handle());
  return Outcome{code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CORRUPT ||
                         code == SQLITE_NOTADB || code == SQLITE_IOERR || code == SQLITE_FULL
                     ? 503
                     : 500,
                 fmt::format("{}: {}", what, db.last_error())};
}

Row read_row(Database& db, const std::string& path) {
  Statement query(db.handle(),
                  "SELECT kind, content_type, size, mtime, etag, blob_id FROM collage_entries "
                  "WHERE path = ?1");
  Row row;
  if (query.bind(1, path).step() == SQLITE_ROW) {
    row.found = true;
    row.directory = query.text(0) == "d";
    row.content_type = query.text(1);
    row.size = static_cast<std::uint64_t>(query.integer(2));
    row.mtime = query.integer(3);
    row.etag = query.text(4);
    row.blob_id = query.integer(5);
  }
  return row;
}

struct Child {
  std::string path;
  bool directory;
  std::uint64_t size;
  std::int64_t mtime;
  std::string content_type;
};

// The entries directly under a directory, by name.
std::vector<Child> children_of(Database& db, const std::string& directory) {
  const std::string prefix = directory == "/" ? "/" : directory + "/";
  Statement query(db.handle(),
                  "SELECT path, kind, size, mtime, content_type FROM collage_entries "
                  "WHERE path > ?1 AND path < ?2 ORDER BY path");
  query.bind(1, prefix).bind(2, prefix + "\xff");
  std::vector<Child> children;
  while (query.step() == SQLITE_ROW) {
    std::string path = query.text(0);
    if (path.find('/', prefix.size()) != std::string::npos) {
      continue;  // deeper down
    }
    children.push_back({std::move(path), query.text(1) == "d",
                        static_cast<std::uint64_t>(query.integer(2)), query.integer(3),
                        query.text(4)});
  }
  return children;
}

std::string_view guess_type(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".txt", "text/plain"},      {".html", "text/html"},     {".htm", "text/html"},
      {".css", "text/css"},        {".js", "text/javascript"}, {".json", "application/json"},
      {".xml", "application/xml"}, {".svg", "image/svg+xml"},  {".png", "image/png"},
      {".jpg", "image/jpeg"},      {".jpeg", "image/jpeg"},    {".gif", "image/gif"},
      {".pdf", "application/pdf"}, {".md", "text/markdown"},
  };
  for (const auto& [suffix, type] : kTypes) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      return type;
    }
  }
  return "application/octet-stream";
}

char gopher_type(const Child& child) {
  if (child.directory) {
    return '1';
  }
  if (child.content_type.starts_with("text/")) {
    return '0';
  }
  if (child.content_type == "image/gif") {
    return 'g';
  }
  return child.content_type.starts_with("image/") ? 'I' : '9';
}

void set_validators(const Row& row, Entity& out) {
  out.etag = row.etag;
  out.last_modified = static_cast<std::time_t>(row.mtime);
}

// The rest of a large body, one chunk per pull, each read on the blocking pool.
class ChunkStream final : public BodyStream {
 public:
  ChunkStream(const SqliteStore& store, Services& services, std::int64_t blob_id,
              std::int64_t first_seq, std::uint64_t left)
      : store_(store), services_(services), blob_id_(blob_id), seq_(first_seq), left_(left) {}

  Task<StreamStatus> next(Brigade& out, std::size_t /*limit*/) override {
    if (left_ == 0) {
      co_return StreamStatus::end;
    }
    auto read_chunk = [this]() -> std::optional<std::string> {
      std::string error;
      Database* db = store_.connection(error);
      if (db == nullptr) {
        return std::nullopt;
      }
      Statement query(db->handle(),
                      "SELECT data FROM collage_chunks WHERE blob_id = ?1 AND seq = ?2");
      if (query.bind(1, blob_id_).bind(2, seq_).step() != SQLITE_ROW) {
        return std::nullopt;
      }
      return std::string(query.blob(0));
    };
    std::optional<std::string> chunk = co_await services_.offload(read_chunk);
    if (!chunk || chunk->empty() || chunk->size() > left_) {
      COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0003",
                  "{}: a body chunk is missing or does not fit (replaced meanwhile, or damaged)",
                  store_.settings().database);
      co_return StreamStatus::failed;
    }
    left_ -= chunk->size();
    ++seq_;
    out.append_owned(std::move(*chunk));
    co_return left_ == 0 ? StreamStatus::end : StreamStatus::more;
  }

 private:
  const SqliteStore& store_;
  Services& services_;
  std::int64_t blob_id_;
  std::int64_t seq_;
  std::uint64_t left_;
};

}  // namespace

std::string database_path(std::string_view request_path, std::string_view location_prefix) {
  std::string_view rest = request_path;
  if (location_prefix != "/" && rest.starts_with(location_prefix)) {
    rest.remove_prefix(location_prefix.size());
  }
  std::string path(rest);
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  if (path.empty() || path[0] != '/') {
    path.insert(path.begin(), '/');
  }
  return path;
}

MethodSet SqliteStore::methods() const {
  MethodSet methods{Method::get, Method::head, Method::list};
  if (settings_.writable) {
    methods.add(Method::put);
    methods.add(Method::del);
    methods.add(Method::mkdir);
    methods.add(Method::rename);
  }
  return methods;
}

std::string SqliteStore::resource_key(const RequestContext& ctx) const {
  return "sqlite:" + settings_.database + ":" +
         database_path(ctx.request.path, ctx.location.prefix);
}

Database* SqliteStore::connection(std::string& error) const {
  // Keyed by the file, not by this object: a new generation's store for the same database
  // reuses the thread's connection, and none outlives its process (a forked child opens anew).
  thread_local std::map<std::string, std::pair<pid_t, std::unique_ptr<Database>>> connections;
  auto& [pid, db] = connections[settings_.database];
  if (db == nullptr || pid != ::getpid()) {
    db = Database::open(settings_.database, settings_.writable, error);
    pid = ::getpid();
    if (db == nullptr) {
      COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0001", "cannot open the SQLite database {}: {}",
                  settings_.database, error);
    }
  }
  return db.get();
}

Task<void> SqliteStore::handle(RequestContext& ctx, Entity& out) const {
  const Request& request = ctx.request;
  const std::string path = database_path(request.path, ctx.location.prefix);
  if (request.method == Method::get || request.method == Method::head ||
      request.method == Method::list) {
    co_await get(ctx, path, out);
    co_return;
  }
  if (request.method == Method::put) {
    co_await put(ctx, path, out);
    co_return;
  }
  const std::string destination = request.method == Method::rename
                                      ? database_path(request.destination, ctx.location.prefix)
                                      : std::string();
  const Method method = request.method;
  auto change = [this, &path, &destination, method, &request]() -> Outcome {
    std::string error;
    Database* db = connection(error);
    if (db == nullptr) {
      return {503, error};
    }
    if (!db->exec("BEGIN IMMEDIATE", error)) {
      return database_failure(*db, "begin");
    }
    Outcome outcome;
    const Row row = read_row(*db, path);
    if (method == Method::del) {
      if (!row.found || path == "/") {
        outcome.status = path == "/" ? 403 : 404;
      } else if (row.directory && !children_of(*db, path).empty()) {
        outcome.status = 409;  // a directory must be empty first (RMD, DELETE)
      } else {
        Row current = row;
        if (const int status =
                [&] {
                  Entity head;
                  set_validators(current, head);
                  return evaluate_preconditions(request, head, true);
                }();
            status != 0) {
          outcome.status = status;
        } else {
          Statement remove(db->handle(), "DELETE FROM collage_entries WHERE path = ?1");
          Statement chunks(db->handle(), "DELETE FROM collage_chunks WHERE blob_id = ?1");
          Statement blob(db->handle(), "DELETE FROM collage_blobs WHERE blob_id = ?1");
          if (remove.bind(1, path).step() != SQLITE_DONE ||
              chunks.bind(1, row.blob_id).step() != SQLITE_DONE ||
              blob.bind(1, row.blob_id).step() != SQLITE_DONE) {
            outcome = database_failure(*db, "delete");
          }
        }
      }
    } else if (method == Method::mkdir) {
      const Row parent = read_row(*db, parent_of(path));
      if (row.found) {
        outcome.status = 409;
      } else if (!parent.found || !parent.directory) {
        outcome.status = 409;
      } else {
        Statement insert(db->handle(),
                         "INSERT INTO collage_entries (path, kind, mtime) VALUES (?1, 'd', ?2)");
        if (insert.bind(1, path).bind(2, now_seconds()).step() != SQLITE_DONE) {
          outcome = database_failure(*db, "mkdir");
        }
      }
    } else if (method == Method::rename) {
      const Row target = read_row(*db, destination);
      const Row parent = read_row(*db, parent_of(destination));
      if (!row.found || path == "/") {
        outcome.status = path == "/" ? 403 : 404;
      } else if (target.found || !parent.found || !parent.directory ||
                 destination.starts_with(path + "/")) {
        outcome.status = 409;
      } else {
        // The entry and, for a directory, everything under it.
        Statement move(db->handle(),
                       "UPDATE collage_entries SET path = ?2 || substr(path, length(?1) + 1) "
                       "WHERE path = ?1 OR (path > ?1 || '/' AND path < ?1 || '/' || char(255))");
        if (move.bind(1, path).bind(2, destination).step() != SQLITE_DONE) {
          outcome = database_failure(*db, "rename");
        }
      }
    } else {
      outcome.status = 405;
    }
    std::string ignored;
    db->exec(outcome.status == 0 ? "COMMIT" : "ROLLBACK", ignored);
    return outcome;
  };
  const Outcome outcome = co_await ctx.services.offload(change);
  if (outcome.status != 0) {
    if (!outcome.error.empty()) {
      COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0002", "{} {}: {}", request.method_token,
                  printable(request.path), outcome.error);
    }
    out.set_error(outcome.status);
    co_return;
  }
  out.reset();
  out.status = method == Method::mkdir ? 201 : 204;
}

Task<void> SqliteStore::get(RequestContext& ctx, const std::string& path, Entity& out) const {
  struct Found {
    Outcome outcome;
    Row row;
    std::vector<Child> children;
    std::string body;  // a small file's whole body
  };
  auto look_up = [this, &path]() -> Found {
    Found found;
    std::string error;
    Database* db = connection(error);
    if (db == nullptr) {
      found.outcome = {503, error};
      return found;
    }
    found.row = read_row(*db, path);
    if (sqlite3_errcode(db->handle()) != SQLITE_OK && sqlite3_errcode(db->handle()) != SQLITE_ROW &&
        sqlite3_errcode(db->handle()) != SQLITE_DONE) {
      found.outcome = database_failure(*db, "read");
      return found;
    }
    if (found.row.directory) {
      found.children = children_of(*db, path);
    } else if (found.row.found && found.row.size <= kReadyBodyLimit) {
      Statement chunks(db->handle(),
                       "SELECT data FROM collage_chunks WHERE blob_id = ?1 ORDER BY seq");
      chunks.bind(1, found.row.blob_id);
      while (chunks.step() == SQLITE_ROW) {
        found.body.append(chunks.blob(0));
      }
      if (found.body.size() != found.row.size) {
        found.outcome = {
            503, fmt::format("{}: the body of {} is damaged ({} of {} bytes)", settings_.database,
                             path, found.body.size(), found.row.size)};
      }
    }
    return found;
  };
  Found found = co_await ctx.services.offload(look_up);
  const Request& request = ctx.request;
  if (found.outcome.status != 0) {
    COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0002", "{} {}: {}", request.method_token,
                printable(request.path), found.outcome.error);
    out.set_error(found.outcome.status);
    co_return;
  }
  if (!found.row.found) {
    out.set_error(404);
    co_return;
  }
  if (request.method == Method::list) {
    std::string text;
    if (found.row.directory) {
      for (const Child& child : found.children) {
        append_listing_entry(
            {std::string(name_of(child.path)), child.directory, child.size,
             static_cast<std::time_t>(child.mtime), child.directory ? 0755u : 0644u},
            text);
      }
    } else {
      append_listing_entry({std::string(name_of(path)), false, found.row.size,
                            static_cast<std::time_t>(found.row.mtime), 0644u},
                           text);
    }
    out.status = 200;
    out.set_body(std::move(text),
                 found.row.directory ? kListingContentType : kFileEntryContentType);
    co_return;
  }
  if (found.row.directory) {
    // A directory is a menu: Gopher sends it as it is, the gopher-html filter renders it.
    const MenuOrigin origin = menu_origin(ctx);
    const std::string base = ctx.location.prefix == "/" ? "" : ctx.location.prefix;
    std::string menu;
    for (const Child& child : found.children) {
      append_menu_line(
          {gopher_type(child), std::string(name_of(child.path)) + (child.directory ? "/" : ""),
           base + child.path, origin.host, origin.port},
          menu);
    }
    if (found.children.empty()) {
      append_menu_info("(empty)", menu);
    }
    out.status = 200;
    out.set_body(std::move(menu), kMenuContentType);
    co_return;
  }
  out.status = 200;
  out.set_content_type(found.row.content_type.empty() ? "application/octet-stream"
                                                      : found.row.content_type);
  set_validators(found.row, out);
  out.length = found.row.size;
  out.headers.add("Accept-Ranges", "bytes");
  if (found.row.size <= kReadyBodyLimit) {
    out.body.append_owned(std::move(found.body));
  } else {
    out.stream =
        std::make_unique<ChunkStream>(*this, ctx.services, found.row.blob_id, 0, found.row.size);
  }
}

Task<void> SqliteStore::put(RequestContext& ctx, const std::string& path, Entity& out) const {
  const Request& request = ctx.request;
  if (path == "/" || request.path.ends_with('/')) {
    out.set_error(409);
    co_return;
  }
  // Stage: a fresh blob, its chunks written one short transaction each as the body arrives.
  struct Staged {
    Outcome outcome;
    std::int64_t blob_id = 0;
  };
  auto stage = [this]() -> Staged {
    Staged staged;
    std::string error;
    Database* db = connection(error);
    if (db == nullptr) {
      staged.outcome = {503, error};
      return staged;
    }
    Statement insert(db->handle(), "INSERT INTO collage_blobs (staged_at) VALUES (?1)");
    if (insert.bind(1, now_seconds()).step() != SQLITE_DONE) {
      staged.outcome = database_failure(*db, "stage");
      return staged;
    }
    staged.blob_id = sqlite3_last_insert_rowid(db->handle());
    return staged;
  };
  const Staged staged = co_await ctx.services.offload(stage);
  if (staged.outcome.status != 0) {
    COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0002", "PUT {}: {}", printable(request.path),
                staged.outcome.error);
    out.set_error(staged.outcome.status);
    co_return;
  }
  const std::int64_t blob_id = staged.blob_id;
  std::int64_t seq = 0;
  std::uint64_t size = 0;
  std::string chunk;    // the row being written
  std::string pending;  // what arrived and is not in a row yet
  auto write_chunk = [this, blob_id, &seq, &chunk]() -> Outcome {
    std::string error;
    Database* db = connection(error);
    if (db == nullptr) {
      return {503, error};
    }
    Statement insert(db->handle(),
                     "INSERT INTO collage_chunks (blob_id, seq, data) VALUES (?1, ?2, ?3)");
    if (insert.bind(1, blob_id).bind(2, seq).bind_blob(3, chunk).step() != SQLITE_DONE) {
      return database_failure(*db, "write a chunk");
    }
    ++seq;
    return {};
  };
  auto discard = [this, blob_id] {
    std::string error;
    if (Database* db = connection(error)) {
      Statement chunks(db->handle(), "DELETE FROM collage_chunks WHERE blob_id = ?1");
      Statement blob(db->handle(), "DELETE FROM collage_blobs WHERE blob_id = ?1");
      chunks.bind(1, blob_id).step();
      blob.bind(1, blob_id).step();
    }
  };
  Outcome failure;
  if (request.write_offset) {
    // Resume or append: the new content starts with the old one's first bytes.
    auto copy_prefix = [this, &path, blob_id, offset = *request.write_offset, &seq]() -> Outcome {
      std::string error;
      Database* db = connection(error);
      if (db == nullptr) {
        return {503, error};
      }
      const Row old = read_row(*db, path);
      if (!old.found || old.directory || old.size < offset) {
        return {old.found && !old.directory ? 416 : 409, {}};
      }
      Statement chunks(db->handle(),
                       "SELECT data FROM collage_chunks WHERE blob_id = ?1 ORDER BY seq");
      chunks.bind(1, old.blob_id);
      std::uint64_t copied = 0;
      while (copied < offset && chunks.step() == SQLITE_ROW) {
        std::string_view data = chunks.blob(0);
        data = data.substr(0, static_cast<std::size_t>(offset - copied));
        Statement one(db->handle(),
                      "INSERT INTO collage_chunks (blob_id, seq, data) VALUES (?1, ?2, ?3)");
        if (one.bind(1, blob_id).bind(2, seq).bind_blob(3, data).step() != SQLITE_DONE) {
          return database_failure(*db, "copy a chunk");
        }
        ++seq;
        copied += data.size();
      }
      return {};
    };
    failure = co_await ctx.services.offload(copy_prefix);
    size = failure.status == 0 ? *request.write_offset : 0;
  }
  if (failure.status == 0 && request.body != nullptr) {
    std::array<char, 64 * 1024> buffer;
    for (;;) {
      const BodyRead read = co_await request.body->read(buffer);
      if (read.error != BodyError::none) {
        COLLAGE_LOG(LogLevel::info, "COL-SQLITE-0004", "upload of {} abandoned: the body failed",
                    printable(request.path));
        failure.status = read.error == BodyError::closed ? 400 : body_error_status(read.error);
        break;
      }
      pending.append(buffer.data(), read.bytes);
      size += read.bytes;
      // Rows of exactly SqliteChunkSize bytes, the last one shorter.
      while (failure.status == 0 &&
             (pending.size() >= settings_.chunk_size || (read.bytes == 0 && !pending.empty()))) {
        const std::size_t n = std::min<std::size_t>(pending.size(), settings_.chunk_size);
        chunk.assign(pending, 0, n);
        pending.erase(0, n);
        failure = co_await ctx.services.offload(write_chunk);
      }
      if (failure.status != 0 || read.bytes == 0) {
        break;
      }
    }
  }
  if (failure.status != 0) {
    co_await ctx.services.offload(discard);  // an abandoned upload leaves no row behind
    if (!failure.error.empty()) {
      COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0002", "PUT {}: {}", printable(request.path),
                  failure.error);
    }
    out.set_error(failure.status);
    co_return;
  }
  // Swap in: one short transaction replaces the entry and drops the old body.
  const std::string type(request.headers.contains("Content-Type")
                             ? request.headers.get("Content-Type")
                             : guess_type(name_of(path)));
  struct Swapped {
    Outcome outcome;
    bool created = false;
  };
  auto swap = [this, &path, blob_id, size, &type, &request]() -> Swapped {
    Swapped result;
    std::string error;
    Database* db = connection(error);
    if (db == nullptr) {
      result.outcome = {503, error};
      return result;
    }
    if (!db->exec("BEGIN IMMEDIATE", error)) {
      result.outcome = database_failure(*db, "begin");
      return result;
    }
    const Row old = read_row(*db, path);
    const Row parent = read_row(*db, parent_of(path));
    Entity head;
    if (old.found) {
      set_validators(old, head);
    }
    if (!parent.found || !parent.directory || old.directory) {
      result.outcome.status = 409;
    } else if (const int status = evaluate_preconditions(request, head, old.found); status != 0) {
      result.outcome.status = status;
    } else {
      const std::int64_t mtime = now_seconds();
      Statement upsert(db->handle(),
                       "INSERT OR REPLACE INTO collage_entries "
                       "(path, kind, content_type, size, mtime, etag, blob_id) "
                       "VALUES (?1, 'f', ?2, ?3, ?4, ?5, ?6)");
      Statement settle(db->handle(),
                       "UPDATE collage_blobs SET staged_at = NULL WHERE blob_id = ?1");
      Statement old_chunks(db->handle(), "DELETE FROM collage_chunks WHERE blob_id = ?1");
      Statement old_blob(db->handle(), "DELETE FROM collage_blobs WHERE blob_id = ?1");
      if (upsert.bind(1, path)
                  .bind(2, type)
                  .bind(3, static_cast<std::int64_t>(size))
                  .bind(4, mtime)
                  .bind(5, fmt::format("\"{:x}-{:x}\"", blob_id, size))
                  .bind(6, blob_id)
                  .step() != SQLITE_DONE ||
          settle.bind(1, blob_id).step() != SQLITE_DONE ||
          (old.found && (old_chunks.bind(1, old.blob_id).step() != SQLITE_DONE ||
                         old_blob.bind(1, old.blob_id).step() != SQLITE_DONE))) {
        result.outcome = database_failure(*db, "swap in");
      }
      result.created = !old.found;
    }
    db->exec(result.outcome.status == 0 ? "COMMIT" : "ROLLBACK", error);
    return result;
  };
  const Swapped swapped = co_await ctx.services.offload(swap);
  if (swapped.outcome.status != 0) {
    co_await ctx.services.offload(discard);
    if (!swapped.outcome.error.empty()) {
      COLLAGE_LOG(LogLevel::error, "COL-SQLITE-0002", "PUT {}: {}", printable(request.path),
                  swapped.outcome.error);
    }
    out.set_error(swapped.outcome.status);
    co_return;
  }
  out.reset();
  out.status = swapped.created ? 201 : 204;
}

}  // namespace collage::sqlite
