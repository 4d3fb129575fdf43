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
// A second file, <cache>-pairs, holds that sweep's candidate pairs by the records' positions in
// the cache file, each with its comparison vector and the blocking keys that proposed it; a
// pair of two reused records takes its vector from there instead of comparing
// (match::CompareHooks), and when few records changed blocking pairs only the blocks they touch
// and keeps the other pairs (match::BlockingHistory, docs/adr/0002-incremental-blocking.md).
// Both files carry the sweep's generation (a random number): pairs are reused only from the
// sweep whose records were reused.
//
// File layout (little-endian, this machine's; another architecture fails the checksum):
//   "CRMHSWC\n" · u32 format · u64 generation · varint+bytes fingerprint · u64 entries ·
//   entries: varint+bytes id · 16 bytes raw-value hash · the Record's fields (varint-prefixed) ·
//   u64 checksum of everything before it · "END\n"
// Written to a temporary file (<file>.tmp.<pid>, mode 0600 whatever the umask) in the same
// directory and renamed over the old one; a missing directory is made 0700.
//
// Thread safety: a SweepCache is read-only after Load; Find may be called from any thread.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "match/matcher.h"

namespace crmh::jobs {

// A 128-bit hash (XXH3-128, libxxhash) of a contact's raw values: their count, each one's
// length, then their bytes, in slot order.
struct RawHash {
  uint64_t hi = 0, lo = 0;
  friend bool operator==(const RawHash&, const RawHash&) = default;
};
RawHash HashRawValues(const std::vector<std::string>& values, size_t n);
// The same over n views (the sweep's read keeps each page's values in one buffer).
RawHash HashRawValues(const std::string_view* values, size_t n);

// What the cached records and comparison vectors depend on besides each contact's raw values:
// the format, the matcher's kPrepareVersion and kCompareVersion, the ICU version,
// match::Prepare's output on a fixed set of probe records and match::Compare's on their pairs (a
// transliteration, phone-metadata or comparator change shows there), the normalizer options and
// `inputs` (the caller's: the logical field names and SQL expressions that fill RawRecord).
std::string SweepCacheFingerprint(const match::NormalizeOptions& opt, std::string_view inputs);

// <state.directory>/dedup-<job>.sweep-cache (the job name with anything but [A-Za-z0-9_.-]
// replaced by '_').
std::string SweepCachePath(const std::string& state_directory, const std::string& job);

// Deletes every job's sweep cache files in `state_directory` (records, pairs, temporary files a
// killed run left): `forget` erases a person from everything crm-hygiene keeps, and these files
// hold normalized names, emails and phones. Returns how many files were deleted.
long long RemoveSweepCaches(const std::string& state_directory);

// Deletes the temporary files (<cache>.tmp.<pid>, <cache>-pairs.tmp.<pid>) that a writer killed
// mid-write left beside `cache_path`: those whose pid is not a live process, and this process's
// own from before `run_start` (a run that died mid-write in the daemon, or a killed process whose
// pid was reused). A file of another live process is kept: it may be being written. Returns how
// many files were deleted.
long long RemoveStaleSweepTemps(const std::string& cache_path,
                                std::filesystem::file_time_type run_start);

// `sweep_cache: false`: deletes the job's cache files (records and pairs) and its stale temporary
// files as RemoveStaleSweepTemps does, so no personal data stays behind that nothing uses.
// Returns how many files were deleted.
long long RemoveSweepCache(const std::string& cache_path, std::filesystem::file_time_type run_start);

// A record's position in no cache file (a contact the last sweep did not have, or changed).
inline constexpr uint32_t kNotCached = ~uint32_t{0};

class SweepCache {
 public:
  // Reads and checks the whole file. No cache (and why) on any problem.
  static Result<SweepCache> Load(const std::string& path, const std::string& fingerprint);
  // The same, with the fingerprint asked for only once the file is read and indexed (it can be
  // made on another thread meanwhile); an exception from `fingerprint` leaves Load.
  static Result<SweepCache> Load(const std::string& path,
                                 const std::function<std::string()>& fingerprint);

  size_t size() const { return offset_at_.size(); }
  uint64_t generation() const { return generation_; }
  // The cached record of contact `id` if its raw values hashed to `hash`; nullopt otherwise.
  // `position`: where the record is in the file (0-based; what the pairs file refers to).
  // `hint`: where it is likely to be (the position after the last one found: contacts are read
  // in the file's order); looked at first, which spares the search of the index — a cache miss
  // or several per contact at 1M.
  std::optional<match::Record> Find(std::string_view id, const RawHash& hash,
                                    uint32_t* position = nullptr, uint32_t hint = kNotCached) const;
  // The records at the positions not marked in `used` (indexed by position): the last sweep's
  // versions of the contacts that changed or were deleted since (match::BlockingHistory::gone).
  std::vector<match::Record> RecordsNotAt(const std::vector<uint8_t>& used) const;

 private:
  struct Entry {
    uint64_t key = 0;     // hash of the id
    uint64_t offset = 0;  // of the entry in bytes_
    uint32_t position = 0;
    bool operator<(const Entry& o) const { return key < o.key; }
  };
  // The file, read with read(2) into a buffer that is not zero-filled first (the memset was a
  // quarter of loading 147 MB at 1M); a private copy, so a file changed in place after the
  // checksum cannot change what Find returns.
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> buffer_;  // std::aligned_alloc'ed
  std::string_view bytes_;
  // The entries by key, made on the first Find whose hint misses (or by RecordsNotAt): a sweep
  // that reads the contacts in the file's order never needs it, and sorting it was ~1 s of
  // loading 10M contacts' file, on the way of the sweep's read.
  const std::vector<Entry>& Index() const;
  struct Lazy {
    std::once_flag once;
    std::vector<Entry> index;
  };
  std::unique_ptr<Lazy> lazy_ = std::make_unique<Lazy>();
  std::vector<uint64_t> offset_at_;  // by position: the entry's offset in bytes_
  uint64_t generation_ = 0;
};

// A new generation number for a cache about to be written (random).
uint64_t NewSweepGeneration();

// Writes the cache atomically (temp file + rename). `hashes` is parallel to `records`.
Status WriteSweepCache(const std::string& path, const std::string& fingerprint,
                       uint64_t generation, const std::vector<match::Record>& records,
                       const std::vector<RawHash>& hashes);

// --- comparison vectors and key masks (<cache>-pairs) ---
std::string PairsPath(const std::string& sweep_cache_path);
// What the key masks depend on: match::kBlockingVersion and the blocking options. The vectors
// do not (a pairs file of other blocking options still gives them; its masks are not used).
uint64_t BlockingFingerprint(const match::MatchOptions& opt);
// Writes every candidate pair (record indexes = positions in the cache file of `generation`)
// with its packed vector and the keys that proposed it, atomically, and the blocking's block
// counts (`stats`: blocks_capped, largest_block, blocks_windowed, blocks_refined). `fields`:
// match::ComparedFields(opt).size(); `blocking`: BlockingFingerprint(opt).
Status WritePairsCache(const std::string& path, uint64_t generation, size_t fields,
                       uint64_t blocking, const match::CompareHooks::Pairs& pairs,
                       const std::vector<uint64_t>& packed, const std::vector<match::KeyMask>& keys,
                       const match::CandidateStats& stats = {});
// The pairs file's count (candidate_pairs) and block counts, from its checked header, if it is
// of `generation`, `fields` and `blocking` (match::BlockingHistory::last_stats).
std::optional<match::CandidateStats> PairsBlockingStats(const std::string& path, uint64_t generation,
                                                       size_t fields, uint64_t blocking);
// Sets packed[i] for each pair (a, b) whose records were both reused from the cache of
// `generation` (`position_of[a]`, `position_of[b]` != kNotCached) and whose vector the file
// holds. The file is read once, in blocks that each carry a checksum (with the block's number and
// the generation); a block that fails stops
// the reading (the pairs after it are compared). `why_not` says why the file was not (fully)
// used.
struct PairsFill {
  long long reused = 0;
  std::string why_not;
  // The file holds exactly `pairs` at these positions: every pair's vector came from it and it
  // has no other entry (all of it read and checked). With the records' file unchanged (the same
  // generation, every record at its own position), writing the pairs again would write the same
  // bytes.
  bool same_pairs = false;
};
PairsFill FillFromPairsCache(const std::string& path, uint64_t generation, size_t fields,
                             const std::vector<uint32_t>& position_of,
                             const match::CompareHooks::Pairs& pairs, std::vector<uint64_t>& packed);

// match::BlockingHistory::for_each_kept over the pairs file of `generation` and `blocking`:
// kept(pairs, n), a block at a time, with each pair whose two records were reused (`position_of[i]`: record
// i's position in the cache file, or kNotCached; increasing over the reused records, else
// nothing is given), by their indexes now, in the file's order. Each block is checked before
// any of its pairs is given; a failed one ends the reading (`why_not`).
struct KeptPairs {
  long long in_file = 0, given = 0;
  std::string why_not;
};
KeptPairs ForEachKeptPair(const std::string& path, uint64_t generation, size_t fields,
                          uint64_t blocking, const std::vector<uint32_t>& position_of,
                          const std::function<void(const match::BlockingHistory::Kept*, size_t)>& kept);

}  // namespace crmh::jobs
