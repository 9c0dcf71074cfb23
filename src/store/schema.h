// The versioned schema: migration i (0-based) takes PRAGMA user_version from i to i+1.
// Migrations are only ever appended; an applied one is never edited.
#pragma once

#include "store/sqlite_db.h"

namespace tether::store {

int latest_schema_version();
// Brings the database to the latest version in one write transaction; a no-op (and no
// write lock) when it is already there.
Status migrate(Db& db, const std::string& path);

}  // namespace tether::store
