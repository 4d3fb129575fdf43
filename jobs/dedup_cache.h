// The dedup sweep cache: the prepared records (match::Record) of a job's last sweep, kept in a
// file under state.directory so the next sweep normalizes only the contacts that changed
// (docs/dedup.md §9, "Repeated sweeps"). A pure optimization: a record is reused only when the
// contact's id and a 128-bit hash of every raw value the matcher was given are equal, and only
// under the same fingerprint (matcher/normalizer version, ICU version, normalizer probes, the
// mapping's columns, the normalizer options) — match::Prepare is a pure function of exactly
// these. Anything wrong with the file (missing, unreadable, truncated, corrupt, another
// fingerprint) means "no cache": the sweep prepares every record and says why; it never fails a
// run.
//
// File layout (little-endian, this machine's; another architecture fails the checksum):
//   "CRMHSWC\n" · u32 format · varint+bytes fingerprint · u64 entries ·
//   entries: varint+bytes id · 16 bytes raw-value hash · the Record's fields (varint-prefixed) ·
//   u64 checksum of everything before it · "END\n"
// Written to a temporary file in the same directory and renamed over the old one.
//
// Thread safety: a SweepCache is read-only after Load; Find may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "match/matcher.h"

namespace crmh::jobs {

// A 128-bit FNV-1a of a contact's raw values (each length-prefixed, in slot order).
struct RawHash {
  uint64_t hi = 0, lo = 0;
  friend bool operator==(const RawHash&, const RawHash&) = default;
};
RawHash HashRawValues(const std::vector<std::string>& values, size_t n);

// What the cached records depend on besides each contact's raw values: the format, the
// matcher's kPrepareVersion, the ICU version, match::Prepare's output on a fixed set of probe
// records (a transliteration or phone-metadata change shows there), the normalizer options and
// `inputs` (the caller's: the logical field names and SQL expressions that fill RawRecord).
std::string SweepCacheFingerprint(const match::NormalizeOptions& opt, std::string_view inputs);

// <state.directory>/dedup-<job>.sweep-cache (the job name with anything but [A-Za-z0-9_.-]
// replaced by '_').
std::string SweepCachePath(const std::string& state_directory, const std::string& job);

class SweepCache {
 public:
  // Reads and checks the whole file. No cache (and why) on any problem.
  static Result<SweepCache> Load(const std::string& path, const std::string& fingerprint);

  size_t size() const { return index_.size(); }
  // The cached record of contact `id` if its raw values hashed to `hash`; nullopt otherwise.
  std::optional<match::Record> Find(std::string_view id, const RawHash& hash) const;

 private:
  std::string bytes_;                                // the file
  std::vector<std::pair<uint64_t, uint64_t>> index_;  // (hash of id, offset of entry), sorted
};

// Writes the cache atomically (temp file + rename). `hashes` is parallel to `records`.
Status WriteSweepCache(const std::string& path, const std::string& fingerprint,
                       const std::vector<match::Record>& records,
                       const std::vector<RawHash>& hashes);

}  // namespace crmh::jobs
