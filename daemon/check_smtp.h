// `check` for a digest job's mail delivery: the SMTP credential exists and is readable (and not
// readable by others), and — when the server answers — a real login: connect, EHLO, STARTTLS as
// `starttls` says, AUTH with the credential, QUIT. No message is sent.
//
// What fails the check (Error::Config, exit 2): a credential that is configured but missing,
// unreadable or empty; smtp_user without any password source; a server that rejects the login;
// `starttls: required` against a server that offers no STARTTLS; a TLS handshake or certificate
// failure. A server that cannot be reached (refused, unresolvable, timed out) is only a warning:
// `check` often runs where the mail relay is not routable, and a failed delivery is retried and
// journaled anyway (docs/digest.md).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace crmh {

struct SmtpCheck {
  std::string job;
  std::string server;      // the smtp_url
  std::string credential;  // "none" | "file PATH" | "credential NAME"
  std::string login;       // "ok" | "ok (no AUTH: no smtp_user)" | "skipped: …" | "unreachable: …"
  std::vector<std::string> warnings;
};

// Checks one digest job's SMTP settings (a job without smtp_url has nothing to check).
// `live`: also connect and log in.
Result<SmtpCheck> CheckDigestSmtp(const JobConfig& job, bool live, std::chrono::seconds timeout);

}  // namespace crmh
