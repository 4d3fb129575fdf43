// The archived digests over HTTP: `/digest/latest` and `/digest/2026-W48` serve the HTML the
// digest job wrote to its archive directory (jobs/digest.h ArchiveDir). Read-only: nothing here
// builds a digest, it only reads files named `<ISO week>.html` in that one directory.
//
// The part of the path after `/digest/` is never used as a path: it must be `latest` or match
// YYYY-Www (W01..W53) exactly, else 400 — so no `..`, slash or encoded byte reaches the file system.
// A well-formed week without an archive is 404, as is `latest` with an empty archive.
#pragma once

#include <string>

#include "core/config.h"
#include "daemon/http.h"

namespace crmh {

// The archive the pages come from: the first digest job's, else <state.directory>/digests (where
// `crm-hygiene digest` writes without a digest job).
std::string DigestArchiveDir(const Config& cfg);

// True for "2026-W48"-shaped weeks (W01..W53).
bool IsIsoWeekLabel(const std::string& s);

// The answer for GET /digest/<rest>. Reads one file; call it off the event loop.
http::Response DigestPage(const std::string& archive_dir, const std::string& rest);

}  // namespace crmh
