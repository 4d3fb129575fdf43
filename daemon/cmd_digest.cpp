// `crm-hygiene digest [--out DIR] [--send] [--json]`: build the digest now, through the same
// journaled run path as the scheduled `digest` job (jobs/digest.h). The job is the config's first
// job of kind digest (its time zone, week, masking and mail options), or a default one named
// `digest` (UTC, archive only) when there is none.
#include <fmt/format.h>

#include "core/config.h"
#include "crm/db.h"
#include "daemon/commands.h"
#include "jobs/job.h"

namespace crmh {

int CmdDigest(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return err << "crm-hygiene: " << cfg.error().message << "\n", static_cast<int>(cfg.error().exit);
  JobConfig job;
  bool found = false;
  for (const auto& j : cfg->jobs) {
    if (j.kind == "digest") {
      job = j;
      found = true;
      break;
    }
  }
  if (!found) {
    job.name = "digest";
    job.kind = "digest";
  }
  if (a.options.count("out")) {
    if (a.options.at("out").empty()) return err << "crm-hygiene digest: --out needs a directory\n", 2;
    job.digest.archive_dir = a.options.at("out");
  }
  job.digest.send = a.Flag("send");
  const bool owner_mail = job.digest.per_owner && !job.digest.smtp_url.empty() && !job.digest.from.empty();
  if (job.digest.send && (job.digest.recipients.empty() || job.digest.smtp_url.empty()) &&
      job.digest.webhook_url.empty() && !owner_mail) {
    err << "crm-hygiene digest: --send needs a digest job with recipients, from and smtp_url (or a "
           "webhook_url) in "
        << a.config_path << " (docs/config.md)\n";
    return 2;
  }
  SystemClock clock;
  jobs::RunRequest req{&*cfg, &job, std::nullopt, false, &clock, nullptr};
  jobs::RunReport rep = jobs::ExecuteRun(req, crm::MakeFactory(*cfg));
  if (a.json) {
    out << rep.ToJson().dump(2) << "\n";
  } else {
    out << fmt::format("run {}: {}\n", rep.run_id, rep.message);
    if (rep.details.contains("archive")) {
      out << fmt::format("digest {}: {}\n", rep.details.value("week", ""),
                         rep.details["archive"].get<std::string>());
    }
  }
  if (rep.exit != Exit::kOk && !a.json) err << "crm-hygiene: " << rep.message << "\n";
  return static_cast<int>(rep.exit);
}

}  // namespace crmh
