// Text: an immutable string in 16 bytes, for the prepared records the matcher keeps of every
// contact (match::Record holds a dozen per contact; at 1M contacts std::string's 32 bytes each
// were ≈ 0.35 GiB before a single character). Up to 15 bytes are stored inline (most names,
// cities, postcodes, phone keys, birthdates); longer values take one exact heap allocation.
// Reads as a std::string_view; compares by content. Not thread-safe to modify, safe to read
// concurrently (like std::string).
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace crmh::match {

class Text {
 public:
  Text() noexcept { SetEmpty(); }
  Text(std::string_view v) { Init(v); }  // NOLINT(google-explicit-constructor): a string value
  Text(const std::string& v) : Text(std::string_view(v)) {}  // NOLINT
  Text(const char* v) : Text(std::string_view(v)) {}         // NOLINT
  Text(const Text& o) { Init(o.view()); }
  Text(Text&& o) noexcept {
    std::memcpy(static_cast<void*>(this), &o, sizeof *this);
    o.SetEmpty();
  }
  Text& operator=(const Text& o) {
    if (this != &o) {
      Text copy(o);
      swap(copy);
    }
    return *this;
  }
  Text& operator=(Text&& o) noexcept {
    Text moved(std::move(o));
    swap(moved);
    return *this;
  }
  ~Text() {
    if (OnHeap()) delete[] Ptr();
  }

  void swap(Text& o) noexcept {
    unsigned char tmp[sizeof(Text)];
    std::memcpy(tmp, static_cast<void*>(this), sizeof tmp);
    std::memcpy(static_cast<void*>(this), &o, sizeof tmp);
    std::memcpy(static_cast<void*>(&o), tmp, sizeof tmp);
  }

  std::string_view view() const noexcept {
    return OnHeap() ? std::string_view(Ptr(), HeapSize()) : std::string_view(bytes_, tag_);
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }

  bool empty() const noexcept { return tag_ == 0; }
  size_t size() const noexcept { return OnHeap() ? HeapSize() : tag_; }
  const char* data() const noexcept { return OnHeap() ? Ptr() : bytes_; }
  char operator[](size_t i) const noexcept { return data()[i]; }
  const char* begin() const noexcept { return data(); }
  const char* end() const noexcept { return data() + size(); }

  friend bool operator==(const Text& a, const Text& b) noexcept { return a.view() == b.view(); }
  friend std::strong_ordering operator<=>(const Text& a, const Text& b) noexcept {
    return a.view().compare(b.view()) <=> 0;
  }

 private:
  static constexpr size_t kInline = 15;
  static constexpr uint8_t kHeapTag = 0x80;

  // Inline: bytes_[0..tag_) hold the value, tag_ = its size (0..15). Heap: bytes_ hold the
  // pointer (8 bytes) and the size (4 bytes), tag_ = kHeapTag.
  void SetEmpty() noexcept {
    std::memset(bytes_, 0, sizeof bytes_);
    tag_ = 0;
  }
  void Init(std::string_view v) {
    SetEmpty();
    if (v.size() <= kInline) {
      if (!v.empty()) std::memcpy(bytes_, v.data(), v.size());
      tag_ = static_cast<uint8_t>(v.size());
      return;
    }
    char* p = new char[v.size()];
    std::memcpy(p, v.data(), v.size());
    const auto n = static_cast<uint32_t>(v.size());
    std::memcpy(bytes_, &p, sizeof p);
    std::memcpy(bytes_ + sizeof p, &n, sizeof n);
    tag_ = kHeapTag;
  }
  bool OnHeap() const noexcept { return tag_ == kHeapTag; }
  char* Ptr() const noexcept {
    char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  size_t HeapSize() const noexcept {
    uint32_t n = 0;
    std::memcpy(&n, bytes_ + sizeof(char*), sizeof n);
    return n;
  }

  char bytes_[kInline];
  uint8_t tag_;
};
static_assert(sizeof(Text) == 16);

}  // namespace crmh::match

// fmt prints a Text as its characters.
template <>
struct fmt::formatter<crmh::match::Text> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const crmh::match::Text& t, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(t.view(), ctx);
  }
};
