// The SQLite store's directives (docs/sqlite.md).

#include "collage/registry.h"
#include "sqlite_store.h"

namespace collage::sqlite {
namespace {

const Directive kDirectives[] = {
    {.name = "SqliteDatabase",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "The SQLite file a location whose Store is sqlite serves (WAL mode; the file and "
             "its tables are made on first use).",
     .field = bind<&SqliteSettings::database>()},
    {.name = "SqliteWritable",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Accept PUT, DELETE and FTP uploads, deletes, renames and new directories, each "
             "one transaction.",
     .field = bind<&SqliteSettings::writable>()},
    {.name = "SqliteChunkSize",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "1m",
     .help = "Bodies are kept in rows of at most this many bytes (SQLite caps one value at 1 GB).",
     .min = 4096,
     .max = 64 * 1024 * 1024,
     .field = bind<&SqliteSettings::chunk_size>()},
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"sqlite", ModuleKind::store, "files and directories kept in SQLite"},
                      kDirectives);
  registry.add_store("sqlite",
                     [](const Scope& scope, ConfigErrors& errors) -> std::unique_ptr<Store> {
                       SqliteSettings settings = scope.read<SqliteSettings>(kDirectives);
                       if (settings.database.empty()) {
                         errors.add(scope.where("Store"), "the sqlite store needs SqliteDatabase");
                         return nullptr;
                       }
                       return std::make_unique<SqliteStore>(std::move(settings));
                     });
}

}  // namespace collage::sqlite
