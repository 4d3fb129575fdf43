#include "daemon/check_smtp.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "jobs/digest_mail.h"

namespace crmh {
namespace {

// The path of the configured password source, for stat() and the messages.
std::string SecretPath(const DigestOptions& o) {
  if (!o.smtp_password_credential.empty()) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    return dir ? std::string(dir) + "/" + o.smtp_password_credential : std::string{};
  }
  return o.smtp_password_file;
}

bool Unreachable(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
         rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_OPERATION_TIMEDOUT;
}

}  // namespace

Result<SmtpCheck> CheckDigestSmtp(const JobConfig& job, bool live, std::chrono::seconds timeout) {
  const DigestOptions& o = job.digest;
  SmtpCheck c;
  c.job = job.name;
  c.server = o.smtp_url;
  const bool has_source = !o.smtp_password_file.empty() || !o.smtp_password_credential.empty();
  c.credential = !o.smtp_password_credential.empty() ? "credential " + o.smtp_password_credential
                 : !o.smtp_password_file.empty()     ? "file " + o.smtp_password_file
                                                     : "none";
  if (!o.smtp_user.empty() && !has_source) {
    return Error::Config(fmt::format(
        "job '{}': smtp_user '{}' is set but no password source: set smtp_password_file or "
        "smtp_password_credential",
        job.name, o.smtp_user));
  }
  std::string password;
  if (has_source) {
    auto read = jobs::digest::ReadSmtpPassword(o);
    if (!read) return Error::Config(fmt::format("job '{}': {}", job.name, read.error().message));
    password = std::move(*read);
    if (password.empty()) {
      return Error::Config(fmt::format("job '{}': the SMTP password ({}) is empty", job.name,
                                       c.credential));
    }
    if (o.smtp_user.empty()) {
      c.warnings.push_back("a password source is set but no smtp_user: the digest logs in to nobody "
                           "(no AUTH)");
    }
    struct stat st {};
    const std::string path = SecretPath(o);
    if (o.smtp_password_credential.empty() && !path.empty() && ::stat(path.c_str(), &st) == 0 &&
        (st.st_mode & 077) != 0) {
      c.warnings.push_back(fmt::format(
          "{} is readable by group or others (mode {:03o}): chmod 600 it", path, st.st_mode & 0777));
    }
  }
  if (o.smtp_url.empty()) {
    c.login = "skipped: no smtp_url (archive only)";
    return c;
  }
  if (!live) {
    c.login = "skipped";
    return c;
  }

  static const bool init = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  CURL* curl = init ? curl_easy_init() : nullptr;
  if (!curl) return Error::Failed("libcurl could not start a session");
  char errbuf[CURL_ERROR_SIZE] = {};
  // CONNECT_ONLY: greeting, EHLO, STARTTLS and AUTH happen while connecting; no MAIL FROM.
  curl_easy_setopt(curl, CURLOPT_URL, o.smtp_url.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()) * 2);
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
  curl_easy_cleanup(curl);
  std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
  if (rc == CURLE_OK) {
    c.login = o.smtp_user.empty() ? "ok (connected; no AUTH: no smtp_user)"
                                  : fmt::format("ok (logged in as {})", o.smtp_user);
    return c;
  }
  if (Unreachable(rc)) {
    c.login = "unreachable: " + why;
    c.warnings.push_back(fmt::format(
        "{} did not answer ({}): the credential was not tried; delivery retries and journals "
        "failures",
        o.smtp_url, why));
    return c;
  }
  if (rc == CURLE_LOGIN_DENIED) {
    return Error::Config(fmt::format("job '{}': {} rejected the login of '{}' with the password "
                                     "from {}: {}",
                                     job.name, o.smtp_url, o.smtp_user, c.credential, why));
  }
  if (rc == CURLE_USE_SSL_FAILED) {
    return Error::Config(fmt::format("job '{}': {} offers no STARTTLS and starttls is 'required': {}",
                                     job.name, o.smtp_url, why));
  }
  return Error::Config(fmt::format("job '{}': SMTP check against {} failed: {}", job.name,
                                   o.smtp_url, why));
}

}  // namespace crmh
