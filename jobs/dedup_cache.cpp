#include "jobs/dedup_cache.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/time_util.h"

namespace crmh::jobs {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'C', 'R', 'M', 'H', 'S', 'W', 'C', '\n'};
constexpr char kTrailer[4] = {'E', 'N', 'D', '\n'};
constexpr uint32_t kFormat = 1;

__extension__ typedef unsigned __int128 U128;

// A checksum of the file body, 8 bytes at a time (corruption, not adversaries). Fed in pieces
// whose sizes are multiples of 8 except the last.
class Checksum {
 public:
  void Add(std::string_view b) {
    size_t i = 0;
    for (; i + 8 <= b.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, b.data() + i, 8);
      Mix(w);
    }
    if (i < b.size()) {
      uint64_t w = 0;
      std::memcpy(&w, b.data() + i, b.size() - i);
      Mix(w ^ (uint64_t{0xff} << 56));
    }
    bytes_ += b.size();
  }
  uint64_t Value() const { return h_ ^ bytes_; }

 private:
  void Mix(uint64_t w) {
    h_ ^= w * 0x9e3779b97f4a7c15ULL;
    h_ = (h_ << 31 | h_ >> 33) * 0xbf58476d1ce4e5b9ULL;
  }
  uint64_t h_ = 0x243f6a8885a308d3ULL;
  uint64_t bytes_ = 0;
};

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

RawHash HashRawValues(const std::vector<std::string>& values, size_t n) {
  // FNV-1a 128 (offset basis and prime from the FNV specification).
  U128 h = (static_cast<U128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
  const U128 prime = (static_cast<U128>(1) << 88) | 0x13b;
  auto byte = [&](unsigned char c) {
    h ^= c;
    h *= prime;
  };
  for (size_t i = 0; i < n && i < values.size(); ++i) {
    uint64_t len = values[i].size();
    for (int k = 0; k < 8; ++k) byte(static_cast<unsigned char>(len >> (8 * k)));
    for (unsigned char c : values[i]) byte(c);
  }
  return {static_cast<uint64_t>(h >> 64), static_cast<uint64_t>(h)};
}

std::string SweepCacheFingerprint(const match::NormalizeOptions& opt, std::string_view inputs) {
  std::string fp = fmt::format("format={} prepare={} libraries={} region={} provider_rules={}\n",
                               kFormat, match::kPrepareVersion, match::LibraryVersions(), opt.default_region,
                               opt.email_provider_rules ? 1 : 0);
  fp.append(inputs);
  fp += "\nprobes:";
  match::Normalizer n(opt);
  for (const auto& raw : Probes()) {
    std::string enc;
    PutRecord(enc, match::Prepare(n, raw));
    fp += ' ';
    fp += ShortHash(enc);
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

Result<SweepCache> SweepCache::Load(const std::string& path, const std::string& fingerprint) {
  SweepCache c;
  {
    std::ifstream f(path, std::ios::binary);
    if (!f) return Error::Failed(fmt::format("no cache file {}", path));
    f.seekg(0, std::ios::end);
    const auto size = f.tellg();
    if (size < 0) return Error::Failed(fmt::format("cannot read {}", path));
    f.seekg(0);
    c.bytes_.resize(static_cast<size_t>(size));
    if (!f.read(c.bytes_.data(), size)) return Error::Failed(fmt::format("cannot read {}", path));
  }
  const std::string_view all(c.bytes_);
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
  if (in.Str() != fingerprint) {
    return Error::Failed("fingerprint mismatch (the matcher, ICU, the mapping or the normalizer "
                         "options changed)");
  }
  const uint64_t entries = in.U64();
  if (!in.ok || entries > body.size()) return Error::Failed("malformed header");
  c.index_.reserve(entries);
  for (uint64_t i = 0; i < entries; ++i) {
    const size_t start = in.at;
    const uint64_t len = in.Varint();
    Reader e{in.Bytes(len)};
    const std::string_view id = e.Str();
    if (!in.ok || !e.ok) return Error::Failed(fmt::format("malformed entry {}", i));
    c.index_.emplace_back(Fnv1a64(id), start);
  }
  if (in.at != body.size()) return Error::Failed("trailing bytes after the entries");
  std::sort(c.index_.begin(), c.index_.end());
  return c;
}

std::optional<match::Record> SweepCache::Find(std::string_view id, const RawHash& hash) const {
  const uint64_t key = Fnv1a64(id);
  auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(key, uint64_t{0}));
  for (; it != index_.end() && it->first == key; ++it) {
    Reader in{bytes_, it->second};
    Reader e{in.Bytes(in.Varint())};
    if (e.Str() != id) continue;
    const std::string_view h = e.Bytes(16);
    if (!e.ok) return std::nullopt;
    RawHash stored;
    std::memcpy(&stored.hi, h.data(), 8);
    std::memcpy(&stored.lo, h.data() + 8, 8);
    if (!(stored == hash)) return std::nullopt;
    match::Record r;
    r.id = id;
    if (!GetRecord(e, r) || e.at != e.b.size()) return std::nullopt;
    return r;
  }
  return std::nullopt;
}

Status WriteSweepCache(const std::string& path, const std::string& fingerprint,
                       const std::vector<match::Record>& records,
                       const std::vector<RawHash>& hashes) {
  if (hashes.size() != records.size()) return Error::Failed("sweep cache: hashes do not match records");
  const fs::path final_path(path);
  std::error_code ec;
  fs::create_directories(final_path.parent_path(), ec);
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(tmp.c_str(), "wb"), &std::fclose);
  if (!f) return Error::Failed(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  Checksum sum;
  std::string buf;
  bool failed = false;
  // Writes whole 8-byte words only (the checksum's unit) until the end.
  auto flush = [&](bool last) {
    const size_t n = last ? buf.size() : buf.size() / 8 * 8;
    sum.Add(std::string_view(buf).substr(0, n));
    if (n > 0 && std::fwrite(buf.data(), 1, n, f.get()) != n) failed = true;
    buf.erase(0, n);
  };
  buf.append(kMagic, sizeof kMagic);
  buf.append(reinterpret_cast<const char*>(&kFormat), 4);
  PutStr(buf, fingerprint);
  PutU64(buf, records.size());
  std::string entry;
  for (size_t i = 0; i < records.size() && !failed; ++i) {
    entry.clear();
    PutStr(entry, records[i].id);
    PutU64(entry, hashes[i].hi);
    PutU64(entry, hashes[i].lo);
    PutRecord(entry, records[i]);
    PutVarint(buf, entry.size());
    buf += entry;
    if (buf.size() >= (1u << 20)) flush(false);
  }
  flush(true);
  std::string tail;
  PutU64(tail, sum.Value());
  tail.append(kTrailer, sizeof kTrailer);
  if (!failed && std::fwrite(tail.data(), 1, tail.size(), f.get()) != tail.size()) failed = true;
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

}  // namespace crmh::jobs
