// Errors as values at module boundaries (leveldb's Status, DuckDB's error policy).
//
// A Result<T> holds either a T or an Error. An Error carries the process exit code the CLI
// contract assigns to it (DESIGN.md: 1 job failed, 2 usage/config, 3 database unreachable,
// 4 refused by a safety rule) and a message written for the operator.
// SOCI throws; code that calls SOCI catches at its module boundary and returns an Error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace crmh {

enum class Exit : int {
  kOk = 0,
  kJobFailed = 1,
  kUsage = 2,  // usage or configuration error (incl. a mapped column missing from the schema)
  kDbUnreachable = 3,
  kRefused = 4,  // a safety rule said no (limits, backup, lock held, restore conflict)
};

struct Error {
  Exit exit = Exit::kJobFailed;
  std::string message;

  static Error Usage(std::string m) { return {Exit::kUsage, std::move(m)}; }
  static Error Config(std::string m) { return {Exit::kUsage, std::move(m)}; }
  static Error Db(std::string m) { return {Exit::kDbUnreachable, std::move(m)}; }
  static Error Refused(std::string m) { return {Exit::kRefused, std::move(m)}; }
  static Error Failed(std::string m) { return {Exit::kJobFailed, std::move(m)}; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace crmh
