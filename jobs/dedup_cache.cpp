#include "jobs/dedup_cache.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_INLINE_ALL  // header-only: the hash inlined, no library at run time
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <random>

#include "core/time_util.h"

namespace crmh::jobs {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'C', 'R', 'M', 'H', 'S', 'W', 'C', '\n'};
constexpr char kTrailer[4] = {'E', 'N', 'D', '\n'};
constexpr char kPairsMagic[8] = {'C', 'R', 'M', 'H', 'S', 'W', 'P', '\n'};
constexpr uint32_t kFormat = 6;  // 3: the generation in each pairs block's checksum; 4: XXH3 raw
                                 // hashes; 5: the pairs' key masks and blocking fingerprint; 6:
                                 // the blocking's block counts in the pairs header, XXH3-64
                                 // checksums
constexpr size_t kPairsBlock = 65536;  // entries per checksummed pairs block

// A checksum of the file body (XXH3-64, streamed: corruption, not adversaries). A hand-written
// 8-bytes-a-step mix was a serial chain of multiplies, ≈ 3 GB/s, over 400 MB at 1M (format 6).
class Checksum {
 public:
  Checksum() { XXH3_64bits_reset(&state_); }
  void Add(std::string_view b) { XXH3_64bits_update(&state_, b.data(), b.size()); }
  uint64_t Value() const { return XXH3_64bits_digest(&state_); }

 private:
  XXH3_state_t state_;
};

constexpr std::string_view kTempInfix = ".tmp.";  // <file>.tmp.<pid of the writer>

// Creates `dir` and any missing parent, each new one 0700 whatever the umask (the files in it
// hold personal data; a directory that already exists keeps its mode: the admin's choice, or
// systemd's StateDirectoryMode).
Status MakePrivateDirectories(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && parent != fs::path(dir)) {
    if (Status st = MakePrivateDirectories(parent.string()); !st) return st;
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST && fs::is_directory(dir, ec)) return Status::Ok();  // made meanwhile
    return Error::Failed(fmt::format("cannot create the directory {}: {}", dir, std::strerror(errno)));
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return Error::Failed(fmt::format("cannot make {} private: {}", dir, std::strerror(errno)));
  }
  return Status::Ok();
}

// The pid in "<base>.tmp.<pid>" (a temp file of `base` some writer made), or 0.
pid_t TempFilePid(std::string_view name, std::string_view base) {
  if (name.size() <= base.size() + kTempInfix.size() || name.substr(0, base.size()) != base ||
      name.substr(base.size(), kTempInfix.size()) != kTempInfix) {
    return 0;
  }
  long long pid = 0;
  for (char c : name.substr(base.size() + kTempInfix.size())) {
    if (c < '0' || c > '9' || pid > 1'000'000'000) return 0;
    pid = pid * 10 + (c - '0');
  }
  return static_cast<pid_t>(pid);
}

// A new file only the service user can read: the cache holds contacts' normalized names,
// emails and phones (as the dumps do; systemd's StateDirectoryMode is 0700 as well). The mode is
// set with fchmod as well: open's mode is filtered by the umask (0600 & ~0277 would be 0400), and
// O_TRUNC keeps the mode of a file that already existed (a temp file a killed run left under a
// pid now ours).
std::FILE* OpenPrivate(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  if (::fchmod(fd, 0600) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return nullptr;
  }
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) ::close(fd);
  return f;
}

// Temp file + rename; `fill(write)` writes the body through write(bytes) → false on error.
template <class Fill>
Status WriteAtomically(const std::string& path, Fill fill) {
  const fs::path final_path(path);
  if (Status st = MakePrivateDirectories(final_path.parent_path().string()); !st) return st;
  std::error_code ec;
  const std::string tmp = fmt::format("{}{}{}", path, kTempInfix, ::getpid());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(OpenPrivate(tmp), &std::fclose);
  if (!f) return Error::Failed(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  bool failed = false;
  fill([&](std::string_view b) {
    if (!failed && !b.empty() && std::fwrite(b.data(), 1, b.size(), f.get()) != b.size()) failed = true;
    return !failed;
  });
  const int closed = std::fclose(f.release());
  if (failed || closed != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(tmp, ec);
    return Error::Failed(fmt::format("cannot write {}: {}", tmp, why));
  }
  fs::rename(tmp, final_path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    return Error::Failed(fmt::format("cannot rename {} to {}: {}", tmp, path, why));
  }
  return Status::Ok();
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void PutStr(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}
void PutU64(std::string& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}

// Bounds-checked reading of the file's bytes; `ok` turns false at the first overrun.
struct Reader {
  std::string_view b;
  size_t at = 0;
  bool ok = true;

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at >= b.size()) break;
      const auto c = static_cast<unsigned char>(b[at++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  std::string_view Bytes(uint64_t n) {
    if (!ok || n > b.size() - at) {
      ok = false;
      return {};
    }
    std::string_view s = b.substr(at, n);
    at += n;
    return s;
  }
  std::string_view Str() { return Bytes(Varint()); }
  uint64_t U64() {
    std::string_view s = Bytes(8);
    uint64_t v = 0;
    if (ok) std::memcpy(&v, s.data(), 8);
    return v;
  }
};

// The entry that starts at `offset` of a loaded file's bytes, its length prefix read.
Reader EntryAt(std::string_view bytes, uint64_t offset) {
  Reader in{bytes, offset};
  return Reader{in.Str()};
}

// A new Record field must be written and read here (and kPrepareVersion bumped).
static_assert(sizeof(match::Record) == 272, "match::Record changed: update PutRecord/GetRecord");

void PutRecord(std::string& out, const match::Record& r) {
  for (const match::Text* t : {&r.first, &r.last, &r.first_raw_ascii}) PutStr(out, *t);
  for (const auto* list : {&r.emails, &r.phones}) {
    PutVarint(out, list->size());
    for (const auto& t : *list) PutStr(out, t);
  }
  for (const match::Text* t : {&r.company, &r.street, &r.city, &r.postcode, &r.region, &r.country,
                               &r.birthdate}) {
    PutStr(out, *t);
  }
  PutVarint(out, r.extra.size());
  for (const auto& [k, v] : r.extra) {
    PutStr(out, k);
    PutStr(out, v);
  }
}

bool GetRecord(Reader& in, match::Record& r) {
  for (match::Text* t : {&r.first, &r.last, &r.first_raw_ascii}) *t = in.Str();
  for (auto* list : {&r.emails, &r.phones}) {
    const uint64_t n = in.Varint();
    if (!in.ok || n > 64) return false;
    list->reserve(n);
    for (uint64_t i = 0; i < n; ++i) list->emplace_back(in.Str());
  }
  for (match::Text* t : {&r.company, &r.street, &r.city, &r.postcode, &r.region, &r.country,
                         &r.birthdate}) {
    *t = in.Str();
  }
  const uint64_t n = in.Varint();
  if (!in.ok || n > 1024) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k = in.Str();
    std::string_view v = in.Str();
    r.extra.emplace(std::string(k), std::string(v));
  }
  return in.ok;
}

// Records whose prepared form shows a change in ICU's transliteration, the phone rules, the
// name/company/country tables or the placeholder lists that kPrepareVersion forgot to count.
std::vector<match::RawRecord> Probes() {
  auto rec = [](std::map<std::string, std::string> f) {
    match::RawRecord r;
    r.id = "probe";
    r.fields = std::move(f);
    return r;
  };
  return {
      rec({{"first_name", "Bob"}, {"last_name", "O'Neil-Smith Jr."}, {"email", "Bob.O+x@GoogleMail.com"},
           {"phone", "(415) 555-0133"}, {"mobile", "+44 20 7946 0958"}, {"company", "ACME, Inc."},
           {"address1", "12 Main St."}, {"address2", "Apt 4"}, {"city", "San Francisco"},
           {"postcode", "SW1A 1AA"}, {"region", "CA"}, {"country", "U.S.A."}, {"birthdate", "3/27/1980"}}),
      rec({{"first_name", "Nguyễn Thị"}, {"last_name", "Hương"}, {"company", "Công ty TNHH Minh Phát"},
           {"phone", "0912 345 678"}, {"country", "Việt Nam"}, {"city", "Hà Nội"},
           {"birthdate", "07.03.1980"}}),
      rec({{"first_name", "伟"}, {"last_name", "王"}, {"company", "华为技术有限公司"}, {"country", "中国"},
           {"phone", "+86 10 1234 5678"}}),
      rec({{"first_name", "Иван"}, {"last_name", "Иванов"}, {"country", "Россия"}, {"city", "Москва"},
           {"phone", "8 (495) 123-45-67"}}),
      rec({{"first_name", "محمد"}, {"last_name", "رضایی"}, {"country", "ایران"}}),
      rec({{"first_name", "አበበ"}, {"last_name", "ከበደ"}, {"country", "ኢትዮጵያ"}}),
      rec({{"first_name", "Jürgen"}, {"last_name", "Müller"}, {"company", "Müller & Söhne GmbH"},
           {"country", "Deutschland"}, {"phone", "030 1234567"}, {"email", "test@test.com"}}),
      rec({{"first_name", "Mickey"}, {"last_name", "Mouse"}, {"phone", "555-0100"}}),
  };
}

}  // namespace

namespace {
template <class Value>
RawHash HashValueRange(const Value* values, size_t n) {
  // XXH3-128 of (n, each value's length, then the values' bytes): a one-to-one encoding of the
  // values, hashed in one call. Built in a buffer of this thread's (a few hundred bytes a
  // contact); FNV-1a 128 byte by byte was ~0.6 µs a contact, ~0.4 s of a 1M sweep's CPU in the
  // read and more in planning's re-read (session 14).
  thread_local std::string buf;
  buf.clear();
  auto put32 = [](std::string& b, uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  put32(buf, static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; ++i) put32(buf, static_cast<uint32_t>(values[i].size()));
  for (size_t i = 0; i < n; ++i) buf.append(values[i].data(), values[i].size());
  const XXH128_hash_t h = XXH3_128bits(buf.data(), buf.size());
  return {h.high64, h.low64};
}
}  // namespace

RawHash HashRawValues(const std::vector<std::string>& values, size_t n) {
  return HashValueRange(values.data(), std::min(n, values.size()));
}

RawHash HashRawValues(const std::string_view* values, size_t n) {
  return HashValueRange(values, n);
}

std::string SweepCacheFingerprint(const match::NormalizeOptions& opt, std::string_view inputs) {
  std::string fp = fmt::format("format={} prepare={} libraries={} region={} provider_rules={}\n",
                               kFormat, match::kPrepareVersion, match::LibraryVersions(), opt.default_region,
                               opt.email_provider_rules ? 1 : 0);
  fp.append(inputs);
  fp += fmt::format("\ncompare={}\nprobes:", match::kCompareVersion);
  match::Normalizer n(opt);
  std::vector<match::Record> prepared;
  for (const auto& raw : Probes()) {
    prepared.push_back(match::Prepare(n, raw));
    std::string enc;
    PutRecord(enc, prepared.back());
    fp += ' ';
    fp += ShortHash(enc);
  }
  fp += "\ncompared:";
  const match::MatchOptions mo;
  for (size_t a = 0; a < prepared.size(); ++a) {
    for (size_t b = a; b < prepared.size(); ++b) {
      fp += ' ';
      for (uint8_t l : match::Compare(prepared[a], prepared[b], mo).levels) fp += static_cast<char>('0' + l);
    }
  }
  return fp;
}

std::string SweepCachePath(const std::string& state_directory, const std::string& job) {
  std::string name = job;
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
    if (!keep) c = '_';
  }
  return (fs::path(state_directory) / ("dedup-" + name + ".sweep-cache")).string();
}

long long RemoveSweepCaches(const std::string& state_directory) {
  long long removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("dedup-", 0) != 0 || name.find(".sweep-cache") == std::string::npos) continue;
    std::error_code rm;
    if (fs::remove(entry.path(), rm)) ++removed;
  }
  return removed;
}

long long RemoveStaleSweepTemps(const std::string& cache_path,
                                std::filesystem::file_time_type run_start) {
  const fs::path dir = fs::path(cache_path).parent_path();
  const std::string records = fs::path(cache_path).filename().string();
  const std::string pairs = fs::path(PairsPath(cache_path)).filename().string();
  long long removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = TempFilePid(name, records);
    if (pid == 0) pid = TempFilePid(name, pairs);
    if (pid == 0) continue;
    bool stale = false;
    if (pid == ::getpid()) {
      // Ours by number: a file from before this run is a leftover (this process's earlier run
      // that died mid-write, or a killed process whose pid we now have); one written since is
      // this run's own.
      std::error_code tec;
      const auto mtime = fs::last_write_time(entry.path(), tec);
      stale = !tec && mtime < run_start;
    } else {
      // Another writer's: only when no such process exists. A live pid may be another
      // instance writing right now (or a stranger that inherited the number: left for later).
      stale = ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    std::error_code rm;
    if (stale && fs::remove(entry.path(), rm)) ++removed;
  }
  return removed;
}

long long RemoveSweepCache(const std::string& cache_path, std::filesystem::file_time_type run_start) {
  long long removed = 0;
  std::error_code ec;
  if (fs::remove(cache_path, ec)) ++removed;
  if (fs::remove(PairsPath(cache_path), ec)) ++removed;
  return removed + RemoveStaleSweepTemps(cache_path, run_start);
}

Result<SweepCache> SweepCache::Load(const std::string& path, const std::string& fingerprint) {
  return Load(path, [&] { return fingerprint; });
}

Result<SweepCache> SweepCache::Load(const std::string& path,
                                    const std::function<std::string()>& fingerprint) {
  SweepCache c;
  {
    // Not a regular file (a directory's "size" is not its bytes): not a cache.
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return Error::Failed(fmt::format("no cache file {}", path));
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::Failed(fmt::format("no cache file {}", path));
    struct Close {
      int fd;
      ~Close() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < 0) return Error::Failed(fmt::format("cannot read {}", path));
    const size_t size = static_cast<size_t>(st.st_size);
    // Uninitialized (read fills it), in 2 MiB pages where the kernel gives them: with 4 KiB
    // pages the first pass over a freshly read 147 MB buffer (the checksum) took ~0.5 s and
    // the read ~0.9 s on the bench VM (load 6); in huge pages ~0.05 s and ~0.5 s (session 13).
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t alloc = (std::max<size_t>(size, 1) + kHuge - 1) / kHuge * kHuge;
    c.buffer_.reset(static_cast<char*>(std::aligned_alloc(kHuge, alloc)));
    if (!c.buffer_) throw std::bad_alloc();
    ::madvise(c.buffer_.get(), alloc, MADV_HUGEPAGE);  // a hint: without it, 4 KiB pages
    size_t got = 0;
    while (got < size) {
      const ssize_t n = ::read(fd, c.buffer_.get() + got, std::min<size_t>(size - got, size_t{4} << 20));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error::Failed(fmt::format("cannot read {}", path));  // shrank, or failed
      got += static_cast<size_t>(n);
    }
    c.bytes_ = std::string_view(c.buffer_.get(), size);
  }
  const std::string_view all = c.bytes_;
  const size_t tail = sizeof kTrailer + 8;
  if (all.size() < sizeof kMagic + tail || all.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0) {
    return Error::Failed("not a sweep cache file (or truncated)");
  }
  if (all.compare(all.size() - sizeof kTrailer, sizeof kTrailer, kTrailer, sizeof kTrailer) != 0) {
    return Error::Failed("truncated");
  }
  const std::string_view body = all.substr(0, all.size() - tail);
  Checksum sum;
  sum.Add(body);
  uint64_t stored = 0;
  std::memcpy(&stored, all.data() + body.size(), 8);
  if (sum.Value() != stored) return Error::Failed("checksum mismatch (corrupt)");

  Reader in{body, sizeof kMagic};
  uint32_t format = 0;
  const std::string_view fb = in.Bytes(4);
  if (in.ok) std::memcpy(&format, fb.data(), 4);
  if (!in.ok || format != kFormat) return Error::Failed(fmt::format("format {} is not {}", format, kFormat));
  c.generation_ = in.U64();
  // Compared after the index is built: `fingerprint` may still be being made on another thread
  // (DedupJob's sweep makes it beside this load).
  const std::string_view stored_fingerprint = in.Str();
  const uint64_t entries = in.U64();
  if (!in.ok || entries > body.size() || entries >= kNotCached) return Error::Failed("malformed header");
  c.offset_at_.reserve(entries);
  for (uint64_t i = 0; i < entries; ++i) {
    const size_t start = in.at;
    const uint64_t len = in.Varint();
    Reader e{in.Bytes(len)};
    e.Str();  // the id
    if (!in.ok || !e.ok) return Error::Failed(fmt::format("malformed entry {}", i));
    c.offset_at_.push_back(start);
  }
  if (in.at != body.size()) return Error::Failed("trailing bytes after the entries");
  if (stored_fingerprint != fingerprint()) {
    return Error::Failed("fingerprint mismatch (the matcher, ICU, the mapping or the normalizer "
                         "options changed)");
  }
  return c;
}

std::optional<match::Record> SweepCache::Find(std::string_view id, const RawHash& hash,
                                              uint32_t* position, uint32_t hint) const {
  // The entry at `offset` if it is contact `id`'s: its record if the hash is the same, else
  // nullopt (the contact changed). No entry: false.
  std::optional<match::Record> found;
  auto at = [&](uint64_t offset, uint32_t pos) {
    Reader e = EntryAt(bytes_, offset);
    if (e.Str() != id) return false;
    const std::string_view h = e.Bytes(16);
    if (!e.ok) return true;
    RawHash stored;
    std::memcpy(&stored.hi, h.data(), 8);
    std::memcpy(&stored.lo, h.data() + 8, 8);
    if (!(stored == hash)) return true;
    match::Record r;
    r.id = id;
    if (!GetRecord(e, r) || e.at != e.b.size()) return true;
    if (position) *position = pos;
    found = std::move(r);
    return true;
  };
  if (hint < offset_at_.size() && at(offset_at_[hint], hint)) return found;
  const std::vector<Entry>& index = Index();
  Entry probe;
  probe.key = Fnv1a64(id);
  auto it = std::lower_bound(index.begin(), index.end(), probe);
  for (; it != index.end() && it->key == probe.key; ++it) {
    if (at(it->offset, it->position)) return found;
  }
  return std::nullopt;
}

const std::vector<SweepCache::Entry>& SweepCache::Index() const {
  std::call_once(lazy_->once, [this] {
    std::vector<Entry>& index = lazy_->index;
    index.reserve(offset_at_.size());
    for (size_t i = 0; i < offset_at_.size(); ++i) {
      Reader e = EntryAt(bytes_, offset_at_[i]);
      index.push_back({Fnv1a64(e.Str()), offset_at_[i], static_cast<uint32_t>(i)});
    }
    std::sort(index.begin(), index.end());
  });
  return lazy_->index;
}

uint64_t NewSweepGeneration() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32 | rd()) ^
         static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

Status WriteSweepCache(const std::string& path, const std::string& fingerprint,
                       uint64_t generation, const std::vector<match::Record>& records,
                       const std::vector<RawHash>& hashes) {
  if (hashes.size() != records.size()) return Error::Failed("sweep cache: hashes do not match records");
  return WriteAtomically(path, [&](auto write) {
    Checksum sum;
    std::string buf;
    // Writes whole 8-byte words only (the checksum's unit) until the end.
    auto flush = [&](bool last) {
      const size_t n = last ? buf.size() : buf.size() / 8 * 8;
      sum.Add(std::string_view(buf).substr(0, n));
      const bool ok = write(std::string_view(buf).substr(0, n));
      buf.erase(0, n);
      return ok;
    };
    buf.append(kMagic, sizeof kMagic);
    buf.append(reinterpret_cast<const char*>(&kFormat), 4);
    PutU64(buf, generation);
    PutStr(buf, fingerprint);
    PutU64(buf, records.size());
    std::string entry;
    for (size_t i = 0; i < records.size(); ++i) {
      entry.clear();
      PutStr(entry, records[i].id);
      PutU64(entry, hashes[i].hi);
      PutU64(entry, hashes[i].lo);
      PutRecord(entry, records[i]);
      PutVarint(buf, entry.size());
      buf += entry;
      if (buf.size() >= (1u << 20) && !flush(false)) return;
    }
    if (!flush(true)) return;
    std::string tail;
    PutU64(tail, sum.Value());
    tail.append(kTrailer, sizeof kTrailer);
    write(tail);
  });
}

std::vector<match::Record> SweepCache::RecordsNotAt(const std::vector<uint8_t>& used) const {
  std::vector<match::Record> out;
  for (const Entry& x : Index()) {
    if (x.position < used.size() && used[x.position] != 0) continue;
    Reader e = EntryAt(bytes_, x.offset);
    match::Record r;
    r.id = e.Str();
    e.Bytes(16);
    // Load checked the file's checksum: a record that does not decode is a bug, not corruption.
    if (!e.ok || !GetRecord(e, r)) throw std::runtime_error("sweep cache: an entry does not decode");
    out.push_back(std::move(r));
  }
  return out;
}

uint64_t BlockingFingerprint(const match::MatchOptions& o) {
  std::string s = fmt::format("blocking {} max_block {} dense_block {} dense_window {} "
                              "refine_block {} sn_window {} extra",
                              match::kBlockingVersion, o.max_block, o.dense_block, o.dense_window,
                              o.refine_block, o.sn_window);
  for (const auto& f : o.extra_fields) PutStr(s, f);
  return XXH3_64bits(s.data(), s.size());
}

namespace {
// Header: magic · u32 format · u64 generation · u64 fields · u64 blocking fingerprint · u64
// count · the blocking's u64 blocks_capped, largest_block, blocks_windowed, blocks_refined · u64
// checksum of the header. Then blocks of up to kPairsBlock entries: each entry's u64 key
// (a << 32 | b) and u64 packed vector, then each entry's u16 key mask (padded with zeros to 8
// bytes), then u64 checksum of the block (with its number and the generation). "END\n".
using BlockCounts = std::array<uint64_t, 4>;
BlockCounts CountsOf(const match::CandidateStats& s) {
  return {static_cast<uint64_t>(s.blocks_capped), static_cast<uint64_t>(s.largest_block),
          static_cast<uint64_t>(s.blocks_windowed), static_cast<uint64_t>(s.blocks_refined)};
}
std::string PairsHeader(uint64_t generation, size_t fields, uint64_t blocking, uint64_t count,
                        const BlockCounts& counts) {
  std::string h(kPairsMagic, sizeof kPairsMagic);
  h.append(reinterpret_cast<const char*>(&kFormat), 4);
  PutU64(h, generation);
  PutU64(h, fields);
  PutU64(h, blocking);
  PutU64(h, count);
  for (const uint64_t c : counts) PutU64(h, c);
  Checksum sum;
  sum.Add(h);
  PutU64(h, sum.Value());
  return h;
}
constexpr size_t kPairsHeaderSize = sizeof kPairsMagic + 4 + 9 * 8;

size_t MasksBytes(size_t entries) { return (entries * 2 + 7) / 8 * 8; }

uint64_t BlockChecksum(uint64_t no, uint64_t generation, std::string_view body) {
  // The block's number and the sweep's generation are in its checksum: a block of another
  // sweep's file (same layout) fails it.
  Checksum sum;
  sum.Add(std::string_view(reinterpret_cast<const char*>(&no), sizeof no));
  sum.Add(std::string_view(reinterpret_cast<const char*>(&generation), sizeof generation));
  sum.Add(body);
  return sum.Value();
}

// Reads a pairs file entry by entry, each block checked before any of its entries is given.
class PairsReader {
 public:
  PairsReader(const std::string& path, uint64_t generation, size_t fields)
      : f_(std::fopen(path.c_str(), "rb"), &std::fclose), generation_(generation) {
    if (!f_) {
      why_ = fmt::format("no pairs file {}", path);
      return;
    }
    std::string got(kPairsHeaderSize, '\0');
    if (std::fread(got.data(), 1, got.size(), f_.get()) != got.size()) {
      why_ = "pairs file truncated in its header";
      return;
    }
    std::memcpy(&blocking_, got.data() + sizeof kPairsMagic + 4 + 16, 8);
    std::memcpy(&count_, got.data() + sizeof kPairsMagic + 4 + 24, 8);
    std::memcpy(counts_.data(), got.data() + sizeof kPairsMagic + 4 + 32, 4 * 8);
    if (PairsHeader(generation, fields, blocking_, count_, counts_) != got) {
      why_ = "pairs file of another sweep, or corrupt header";
      return;
    }
    top_bits_ = fields >= 16 ? 0 : ~uint64_t{0} << (4 * fields);
  }
  const std::string& why_not() const { return why_; }
  uint64_t count() const { return count_; }
  uint64_t blocking() const { return blocking_; }
  const BlockCounts& block_counts() const { return counts_; }
  // The next entry; false at the end or on a problem (why_not()).
  bool Next(uint64_t& key, uint64_t& vec, match::KeyMask& keys) {
    if (!why_.empty()) return false;
    if (at_ == in_block_ && !NextBlock()) return false;
    std::memcpy(&key, block_.data() + at_ * 16, 8);
    std::memcpy(&vec, block_.data() + at_ * 16 + 8, 8);
    std::memcpy(&keys, block_.data() + in_block_ * 16 + at_ * 2, 2);
    ++at_;
    if ((vec & top_bits_) != 0) {
      why_ = "pairs file holds an invalid vector";
      return false;
    }
    return true;
  }
  // The next whole block, checked (its vectors too): `count` entries, entry i's key and vector
  // at entries + 16 i, its key mask at masks + 2 i. False at the end or on a problem.
  bool Block(const char*& entries, const char*& masks, size_t& count) {
    if (!why_.empty() || !NextBlock()) return false;
    for (size_t i = 0; i < in_block_; ++i) {
      uint64_t vec = 0;
      std::memcpy(&vec, block_.data() + i * 16 + 8, 8);
      if ((vec & top_bits_) != 0) {
        why_ = "pairs file holds an invalid vector";
        return false;
      }
    }
    entries = block_.data();
    masks = block_.data() + in_block_ * 16;
    count = in_block_;
    at_ = in_block_;
    return true;
  }

 private:
  bool NextBlock() {
    if (read_ >= count_) return false;
    in_block_ = static_cast<size_t>(std::min<uint64_t>(kPairsBlock, count_ - read_));
    const size_t body = in_block_ * 16 + MasksBytes(in_block_);
    block_.resize(body + 8);
    if (std::fread(block_.data(), 1, block_.size(), f_.get()) != block_.size()) {
      why_ = fmt::format("pairs file truncated at block {}", block_no_);
      return false;
    }
    uint64_t stored = 0;
    std::memcpy(&stored, block_.data() + body, 8);
    if (BlockChecksum(block_no_, generation_, std::string_view(block_).substr(0, body)) != stored) {
      why_ = fmt::format("pairs file block {} fails its checksum (corrupt)", block_no_);
      return false;
    }
    read_ += in_block_;
    ++block_no_;
    at_ = 0;
    return true;
  }

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f_;
  uint64_t generation_ = 0, blocking_ = 0, count_ = 0, top_bits_ = 0;
  BlockCounts counts_{};
  std::string why_, block_;
  size_t at_ = 0, in_block_ = 0;
  uint64_t read_ = 0, block_no_ = 0;
};
}  // namespace

std::string PairsPath(const std::string& sweep_cache_path) { return sweep_cache_path + "-pairs"; }

Status WritePairsCache(const std::string& path, uint64_t generation, size_t fields,
                       uint64_t blocking, const match::CompareHooks::Pairs& pairs,
                       const std::vector<uint64_t>& packed, const std::vector<match::KeyMask>& keys,
                       const match::CandidateStats& stats) {
  if (packed.size() != pairs.size() || keys.size() != pairs.size()) {
    return Error::Failed("pairs cache: vectors or key masks do not match pairs");
  }
  return WriteAtomically(path, [&](auto write) {
    if (!write(PairsHeader(generation, fields, blocking, pairs.size(), CountsOf(stats)))) return;
    std::string block;
    block.reserve(kPairsBlock * 18 + 16);
    uint64_t no = 0;
    for (size_t from = 0; from < pairs.size(); from += kPairsBlock, ++no) {
      const size_t to = std::min(pairs.size(), from + kPairsBlock);
      block.clear();
      for (size_t i = from; i < to; ++i) {
        PutU64(block, static_cast<uint64_t>(pairs[i].first) << 32 | pairs[i].second);
        PutU64(block, packed[i]);
      }
      block.append(reinterpret_cast<const char*>(keys.data() + from), (to - from) * 2);
      block.resize(block.size() + MasksBytes(to - from) - (to - from) * 2, '\0');
      PutU64(block, BlockChecksum(no, generation, block));
      if (!write(block)) return;
    }
    write(std::string_view(kTrailer, sizeof kTrailer));
  });
}

PairsFill FillFromPairsCache(const std::string& path, uint64_t generation, size_t fields,
                             const std::vector<uint32_t>& position_of,
                             const match::CompareHooks::Pairs& pairs, std::vector<uint64_t>& packed) {
  PairsFill out;
  PairsReader in(path, generation, fields);
  // The entries are sorted by (a, b) positions.
  uint64_t key = 0, vec = 0;
  match::KeyMask keys = 0;
  bool have = in.Next(key, vec, keys);
  for (size_t i = 0; i < pairs.size() && have; ++i) {
    const auto [a, b] = pairs[i];
    const uint32_t pa = a < position_of.size() ? position_of[a] : kNotCached;
    const uint32_t pb = b < position_of.size() ? position_of[b] : kNotCached;
    if (pa == kNotCached || pb == kNotCached || pa >= pb) continue;
    const uint64_t want = static_cast<uint64_t>(pa) << 32 | pb;
    while (have && key < want) have = in.Next(key, vec, keys);
    if (have && key == want) {
      packed[i] = vec;
      ++out.reused;
    }
  }
  out.why_not = in.why_not();
  out.same_pairs = out.why_not.empty() && static_cast<uint64_t>(out.reused) == in.count() &&
                   pairs.size() == in.count();
  return out;
}

std::optional<match::CandidateStats> PairsBlockingStats(const std::string& path, uint64_t generation,
                                                       size_t fields, uint64_t blocking) {
  PairsReader in(path, generation, fields);
  if (!in.why_not().empty() || in.blocking() != blocking) return std::nullopt;
  match::CandidateStats s;
  s.candidate_pairs = static_cast<long long>(in.count());
  const BlockCounts& c = in.block_counts();
  s.blocks_capped = static_cast<long long>(c[0]);
  s.largest_block = static_cast<long long>(c[1]);
  s.blocks_windowed = static_cast<long long>(c[2]);
  s.blocks_refined = static_cast<long long>(c[3]);
  return s;
}

KeptPairs ForEachKeptPair(const std::string& path, uint64_t generation, size_t fields,
                          uint64_t blocking, const std::vector<uint32_t>& position_of,
                          const std::function<void(const match::BlockingHistory::Kept*, size_t)>& kept) {
  KeptPairs out;
  // Where a position is now, as runs of consecutive positions kept at consecutive indexes
  // (index = position + shift): one run per change or so, a small table that stays in cache —
  // a table of every position was a cache miss per pair (≈ 1 s for 14M pairs at 1M, session 15).
  struct Run {
    uint32_t first, last;  // positions
    int64_t shift;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < position_of.size(); ++i) {
    const uint32_t p = position_of[i];
    if (p == kNotCached) continue;
    const int64_t shift = static_cast<int64_t>(i) - p;
    if (!runs.empty() && p <= runs.back().last) {
      out.why_not = "the contacts are not in the last sweep's order";
      return out;
    }
    if (!runs.empty() && p == runs.back().last + 1 && shift == runs.back().shift) {
      runs.back().last = p;
    } else {
      runs.push_back({p, p, shift});
    }
  }
  // And which run to start from, per 256 positions: a binary search over the runs for each
  // pair was ≈ 1 s of 14M pairs after 16k changes at 1M (session 17); from here a few steps.
  constexpr int kBucketBits = 8;
  std::vector<uint32_t> start_run;
  if (!runs.empty()) {
    start_run.resize((size_t{runs.back().last} >> kBucketBits) + 1);
    size_t r = 0;
    for (size_t k = 0; k < start_run.size(); ++k) {
      const auto p = static_cast<uint32_t>(k << kBucketBits);
      while (r + 1 < runs.size() && runs[r + 1].first <= p) ++r;
      start_run[k] = static_cast<uint32_t>(r);
    }
  }
  auto index_of = [&](uint32_t p) -> uint32_t {
    if (runs.empty() || p > runs.back().last) return kNotCached;
    size_t r = start_run[p >> kBucketBits];
    while (r + 1 < runs.size() && runs[r + 1].first <= p) ++r;
    const Run& run = runs[r];
    return p >= run.first && p <= run.last ? static_cast<uint32_t>(p + run.shift) : kNotCached;
  };
  PairsReader in(path, generation, fields);
  if (in.why_not().empty() && in.blocking() != blocking) {
    out.why_not = "the pairs file is of other blocking options";
    return out;
  }
  out.in_file = static_cast<long long>(in.count());
  uint32_t last_a = kNotCached, a = kNotCached;
  std::vector<match::BlockingHistory::Kept> batch(kPairsBlock);
  const char* entries = nullptr;
  const char* masks = nullptr;
  size_t count = 0;
  while (in.Block(entries, masks, count)) {  // a block at a time: no call per pair
    size_t given = 0;
    for (size_t i = 0; i < count; ++i) {
      uint64_t key = 0, vec = 0;
      match::KeyMask keys = 0;
      std::memcpy(&key, entries + i * 16, 8);
      std::memcpy(&vec, entries + i * 16 + 8, 8);
      std::memcpy(&keys, masks + i * 2, 2);
      const auto pa = static_cast<uint32_t>(key >> 32);
      if (pa != last_a) {  // the entries are sorted by a: one lookup per record, not per pair
        a = index_of(pa);
        last_a = pa;
      }
      if (a == kNotCached) continue;
      const uint32_t b = index_of(static_cast<uint32_t>(key));
      if (b == kNotCached) continue;
      batch[given++] = {a, b, keys, vec};
    }
    kept(batch.data(), given);
    out.given += static_cast<long long>(given);
  }
  out.why_not = in.why_not();
  return out;
}

}  // namespace crmh::jobs
