// The digest as mail: one RFC 5322 message (multipart/related holding a multipart/alternative
// text + HTML, then each chart as an inline image/png part with a Content-ID the HTML refers to
// as cid:), and its delivery over SMTP with libcurl (STARTTLS as configured, AUTH with a password
// read from a file or a systemd credential), retried with exponential backoff.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/config.h"
#include "jobs/digest.h"

namespace crmh::jobs::digest {

std::string Base64(std::string_view bytes);

struct Message {
  std::string message_id;  // <...@...>, with the angle brackets
  std::string bytes;       // CRLF line endings, ready for DATA
};

// `html` must refer to the charts as cid:<Chart::cid>.
Message BuildMessage(const DigestOptions& o, const Model& m, const std::string& text,
                     const std::string& html, const std::vector<Chart>& charts, SysSeconds now,
                     const std::string& run_id, const std::string& subject = {});  // {}: Subject(m)

// The SMTP password from smtp_password_file or smtp_password_credential ($CREDENTIALS_DIRECTORY);
// empty if neither is set. A configured but unreadable one is Error::Config.
Result<std::string> ReadSmtpPassword(const DigestOptions& o);

struct Delivery {
  int attempts = 0;
  bool delivered = false;
  std::string error;  // the last attempt's
};
// 1 + o.retries attempts, waiting retry_backoff, then twice that, ... between them; a stop
// request ends the waiting (and the retries).
Delivery Send(const DigestOptions& o, const Message& msg, const std::string& password,
              const std::atomic<bool>* stop);

// The Slack-compatible webhook body: {"text": "..."} with the headline and the archive's name.
std::string WebhookJson(const Model& m, const std::string& archive);
// scheme://host[:port] of a URL, without the path (which may be a secret token).
std::string UrlHost(const std::string& url);
// POSTs `json` to o.webhook_url (a 2xx answer is delivered), with the same retries and backoff.
Delivery PostWebhook(const DigestOptions& o, const std::string& json, const std::atomic<bool>* stop);

}  // namespace crmh::jobs::digest
