#include "jobs/digest_mail.h"

#include <curl/curl.h>
#include <date/date.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

namespace crmh::jobs::digest {
namespace {

// Base64 in lines of 76 characters, CRLF-separated (RFC 2045).
std::string Base64Lines(std::string_view bytes) {
  std::string b = Base64(bytes), out;
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

bool Ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\r' || c == '\n') return false;
  }
  return true;
}

// A header value: as is when plain ASCII, else an RFC 2047 encoded word (UTF-8, base64).
std::string HeaderText(std::string_view s) {
  if (Ascii(s)) return std::string(s);
  return "=?UTF-8?B?" + Base64(s) + "?=";
}

std::string RandomToken() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

std::string Domain(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t left = u->data->size() - u->pos;
  size_t take = std::min(left, size * n);
  std::memcpy(buf, u->data->data() + u->pos, take);
  u->pos += take;
  return take;
}

std::string ReadSecretFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read the {} {}", what, path));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string TryOnce(const DigestOptions& o, const Message& msg, const std::string& password) {
  CURL* curl = curl_easy_init();
  if (!curl) return "libcurl could not start a session";
  char errbuf[CURL_ERROR_SIZE] = {};
  Upload up{&msg.bytes};
  curl_slist* rcpt = nullptr;
  for (const auto& r : o.recipients) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  const std::string from = "<" + o.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, o.smtp_url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadBody);
  curl_easy_setopt(curl, CURLOPT_READDATA, &up);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (o.smtp_url.rfind("smtp://", 0) == 0) {
    long ssl = o.starttls == "required" ? CURLUSESSL_ALL
               : o.starttls == "try"    ? CURLUSESSL_TRY
                                        : CURLUSESSL_NONE;
    curl_easy_setopt(curl, CURLOPT_USE_SSL, ssl);
  }
  if (!o.smtp_user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, o.smtp_user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  std::string err;
  if (rc != CURLE_OK) err = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  return err;
}

}  // namespace

std::string Base64(std::string_view bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Message BuildMessage(const DigestOptions& o, const Model& m, const std::string& text,
                     const std::string& html, const std::vector<Chart>& charts, SysSeconds now,
                     const std::string& run_id, const std::string& subject) {
  Message msg;
  msg.message_id = fmt::format("<digest.{}.{}.{}@{}>", m.week.label, run_id, RandomToken(), Domain(o.from));
  const std::string related = "related-" + RandomToken(), alt = "alt-" + RandomToken();
  std::string to;
  for (const auto& r : o.recipients) to += (to.empty() ? "" : ", ") + r;
  std::string unsubscribe = o.list_unsubscribe.empty()
                                ? "mailto:" + o.from + "?subject=unsubscribe"
                                : o.list_unsubscribe;
  std::string s;
  s += "From: " + HeaderText(m.title) + " <" + o.from + ">\r\n";
  s += "To: " + to + "\r\n";
  s += "Subject: " + HeaderText(subject.empty() ? Subject(m) : subject) + "\r\n";
  // RFC 5322 date, always in UTC: "Mon, 30 Nov 2026 07:00:00 +0000".
  s += "Date: " + date::format("%a, %d %b %Y %H:%M:%S +0000", now) + "\r\n";
  s += "Message-ID: " + msg.message_id + "\r\n";
  s += "List-Unsubscribe: <" + unsubscribe + ">\r\n";
  s += "Auto-Submitted: auto-generated\r\n";
  s += "MIME-Version: 1.0\r\n";
  s += "Content-Type: multipart/related; type=\"multipart/alternative\"; boundary=\"" + related + "\"\r\n";
  s += "\r\nThis is a MIME message: the weekly CRM hygiene digest.\r\n";
  s += "\r\n--" + related + "\r\n";
  s += "Content-Type: multipart/alternative; boundary=\"" + alt + "\"\r\n\r\n";
  s += "--" + alt + "\r\n";
  s += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  s += Base64Lines(text);
  s += "--" + alt + "\r\n";
  s += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  s += Base64Lines(html);
  s += "--" + alt + "--\r\n";
  for (const auto& c : charts) {
    s += "\r\n--" + related + "\r\n";
    s += "Content-Type: image/png; name=\"" + c.name + "\"\r\n";
    s += "Content-Transfer-Encoding: base64\r\n";
    s += "Content-ID: <" + c.cid + ">\r\n";
    s += "Content-Disposition: inline; filename=\"" + c.name + "\"\r\n\r\n";
    s += Base64Lines(c.png);
  }
  s += "\r\n--" + related + "--\r\n";
  msg.bytes = std::move(s);
  return msg;
}

Result<std::string> ReadSmtpPassword(const DigestOptions& o) {
  try {
    if (!o.smtp_password_credential.empty()) {
      const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
      if (!dir) {
        return Error::Config(fmt::format(
            "digest smtp_password_credential '{}' is set but $CREDENTIALS_DIRECTORY is not (run "
            "under systemd with LoadCredential=, or use smtp_password_file)",
            o.smtp_password_credential));
      }
      return ReadSecretFile(std::string(dir) + "/" + o.smtp_password_credential, "SMTP credential");
    }
    if (!o.smtp_password_file.empty()) return ReadSecretFile(o.smtp_password_file, "SMTP password file");
  } catch (const std::exception& e) {
    return Error::Config(e.what());
  }
  return std::string{};
}

namespace {

bool CurlReady() {
  static const bool init = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  return init;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

std::string PostOnce(const std::string& url, const std::string& json) {
  CURL* curl = curl_easy_init();
  if (!curl) return "libcurl could not start a session";
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  std::string err;
  long status = 0;
  if (rc != CURLE_OK) {
    err = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) err = fmt::format("HTTP {}", status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return err;
}

// 1 + retries attempts of `once`, backoff doubling between them.
Delivery Retry(const DigestOptions& o, const std::string& what, const std::atomic<bool>* stop,
               const std::function<std::string()>& once) {
  Delivery d;
  if (!CurlReady()) {
    d.error = "libcurl failed to initialise";
    return d;
  }
  auto wait = o.retry_backoff;
  for (int attempt = 0; attempt <= o.retries; ++attempt) {
    if (attempt > 0) {
      // Sleep in slices so a SIGTERM does not wait out a long backoff.
      auto until = std::chrono::steady_clock::now() + wait;
      while (std::chrono::steady_clock::now() < until) {
        if (stop && stop->load()) return d;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      wait *= 2;
    }
    ++d.attempts;
    d.error = once();
    if (d.error.empty()) {
      d.delivered = true;
      return d;
    }
    spdlog::warn("digest {} attempt {} of {} failed: {}", what, d.attempts, o.retries + 1, d.error);
  }
  return d;
}

}  // namespace

std::string WebhookJson(const Model& m, const std::string& archive) {
  std::string text = fmt::format(
      "*{}*\n• {} contact(s) merged, {} duplicate cluster(s) found\n• {} waiting for review\n"
      "• {} field(s) standardized, {} validation flag(s) open\n• {} run(s), {} failed, {} skipped",
      Subject(m), m.now.contacts_merged, m.now.duplicates_found, m.now.review_open,
      m.now.fields_standardized, m.now.flags_open, m.now.runs, m.now.runs_failed, m.now.skips);
  if (!archive.empty()) text += "\n" + archive;
  return nlohmann::json{{"text", text}}.dump();
}

std::string UrlHost(const std::string& url) {
  auto scheme = url.find("//");
  return url.substr(0, url.find('/', scheme == std::string::npos ? 0 : scheme + 2));
}

Delivery PostWebhook(const DigestOptions& o, const std::string& json, const std::atomic<bool>* stop) {
  // The URL's path may be a secret token (Slack's is): logs name only the host.
  return Retry(o, "webhook to " + UrlHost(o.webhook_url), stop, [&] { return PostOnce(o.webhook_url, json); });
}

Delivery Send(const DigestOptions& o, const Message& msg, const std::string& password,
              const std::atomic<bool>* stop) {
  return Retry(o, "delivery to " + o.smtp_url, stop, [&] { return TryOnce(o, msg, password); });
}

}  // namespace crmh::jobs::digest
