#include "daemon/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "daemon/cmd_calendar.h"
#include "daemon/commands.h"
#include "daemon/daemon.h"

namespace crmh {
namespace {

constexpr const char* kUsage = R"(usage: crm-hygiene [--config PATH] [--log-level LEVEL] COMMAND [ARGS]

commands:
  daemon                          run forever: schedule jobs, reload on SIGHUP, stop on SIGTERM
  check                           validate config, connect, verify the mapping against the schema
  run JOB [--dry-run] [--json]    run one configured job now
  runs [--json]                   the run journal
  schedule [--json]               each job's next fire time and last outcome
  calendar EXPR... [--tz Z] [--after TIME] [--count N] [--dst-gap skip|run_at_transition] [--json]
  restore RUN_ID [--dry-run] [--force] [--json]
                                  undo a run exactly (refuses, exit 4, if its rows changed since)
  forget CONTACT_ID [--json]      erase a person from every backup crm-hygiene keeps
  review list [--status S] [--json] | approve ID [--now] | reject ID
                                  the dedup review queue: clusters waiting for a human
  demo [--dir DIR]                make a dirty demo CRM in SQLite, run every job, show the results
  notices [--job JOB] [--all] [--json]
                                  contacts announced for pruning, and when each will go
  rescue CONTACT_ID [--json]      take a contact off the prune list
  digest [--out DIR] [--send] [--json]
                                  build the weekly digest now (archive; mail with --send)

--config defaults to $CRM_HYGIENE_CONFIG, then /etc/crm-hygiene/crm-hygiene.yaml.
exit codes: 0 ok, 1 job failed, 2 usage/config error, 3 database unreachable, 4 refused.
)";

struct CommandSpec {
  std::set<std::string> flags;    // boolean options
  std::set<std::string> options;  // options taking a value
  size_t min_positional = 0;
  size_t max_positional = 0;
};

const std::map<std::string, CommandSpec>& Commands() {
  static const std::map<std::string, CommandSpec> k = {
      {"daemon", {{}, {}, 0, 0}},
      {"check", {{"json"}, {}, 0, 0}},
      {"run", {{"dry-run", "json"}, {}, 1, 1}},
      {"runs", {{"json"}, {"job", "limit"}, 0, 0}},
      {"schedule", {{"json"}, {}, 0, 0}},
      {"restore", {{"dry-run", "force", "json"}, {}, 1, 1}},
      {"forget", {{"json"}, {}, 1, 1}},
      {"demo", {{}, {"dir", "contacts"}, 0, 0}},
      {"review", {{"json", "now"}, {"status", "limit"}, 1, 2}},
      {"notices", {{"json", "all"}, {"job"}, 0, 0}},
      {"rescue", {{"json"}, {}, 1, 1}},
      {"digest", {{"json", "send"}, {"out"}, 0, 0}},
  };
  return k;
}

void SetupLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("crm-hygiene");
  // Under journald ($JOURNAL_STREAM) the journal stamps each line; elsewhere we do.
  logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%l: %v" : "%Y-%m-%dT%H:%M:%S%z %l: %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace

int CliMain(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> argv_s(argv + 1, argv + argc);
  Args a;
  const char* env = std::getenv("CRM_HYGIENE_CONFIG");
  a.config_path = env && *env ? env : "/etc/crm-hygiene/crm-hygiene.yaml";
  std::string log_level = "info";
  size_t i = 0;
  // Global options come before the command.
  for (; i < argv_s.size(); ++i) {
    const std::string& s = argv_s[i];
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (s.rfind(name + "=", 0) == 0) return s.substr(name.size() + 1);
      if (s == name && i + 1 < argv_s.size()) return argv_s[++i];
      return std::nullopt;
    };
    if (s == "-h" || s == "--help") {
      out << kUsage;
      return 0;
    }
    if (s.rfind("--config", 0) == 0) {
      auto v = value("--config");
      if (!v) return err << "crm-hygiene: --config needs a path\n", 2;
      a.config_path = *v;
    } else if (s.rfind("--log-level", 0) == 0) {
      auto v = value("--log-level");
      if (!v || (spdlog::level::from_str(*v) == spdlog::level::off && *v != "off")) {
        return err << "crm-hygiene: --log-level must be trace, debug, info, warn, error or off\n", 2;
      }
      log_level = *v;
    } else if (s == "--json") {
      a.json = true;
    } else {
      break;
    }
  }
  if (i == argv_s.size()) {
    err << kUsage;
    return 2;
  }
  SetupLogging(log_level);
  a.command = argv_s[i++];
  std::vector<std::string> rest(argv_s.begin() + static_cast<long>(i), argv_s.end());
  if (a.command == "calendar") {
    if (a.json) rest.push_back("--json");
    return RunCalendarCommand(rest, out, err);
  }
  auto spec_it = Commands().find(a.command);
  if (spec_it == Commands().end()) {
    std::vector<std::string> names;
    for (const auto& [n, s] : Commands()) names.push_back(n);
    names.push_back("calendar");
    std::string hint = Suggest(a.command, names);
    err << "crm-hygiene: unknown command '" << a.command << "'"
        << (hint.empty() ? "" : " (did you mean '" + hint + "'?)") << "\n"
        << kUsage;
    return 2;
  }
  const CommandSpec& spec = spec_it->second;
  for (size_t k = 0; k < rest.size(); ++k) {
    const std::string& s = rest[k];
    if (s.rfind("--", 0) != 0 || s == "--") {
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), val;
    bool has_val = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      val = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_val = true;
    }
    if (name == "json") {
      a.json = true;
    } else if (name == "config" || name == "log-level") {
      err << "crm-hygiene: --" << name << " goes before the command\n";
      return 2;
    } else if (spec.flags.count(name) && !has_val) {
      a.flags.insert(name);
    } else if (spec.options.count(name)) {
      if (!has_val) {
        if (k + 1 >= rest.size()) return err << "crm-hygiene: --" << name << " needs a value\n", 2;
        val = rest[++k];
      }
      a.options[name] = val;
    } else {
      err << "crm-hygiene " << a.command << ": unknown option --" << name << "\n";
      return 2;
    }
  }
  if (a.json && !spec.flags.count("json")) {
    err << "crm-hygiene " << a.command << ": --json is not available here\n";
    return 2;
  }
  if (a.positional.size() < spec.min_positional || a.positional.size() > spec.max_positional) {
    err << "crm-hygiene " << a.command << ": wrong number of arguments\n" << kUsage;
    return 2;
  }
  if (a.command == "daemon") {
    static SystemClock clock;
    return RunDaemon(a.config_path, clock);
  }
  if (a.command == "check") return CmdCheck(a, out, err);
  if (a.command == "run") return CmdRun(a, out, err);
  if (a.command == "runs") return CmdRuns(a, out, err);
  if (a.command == "schedule") return CmdSchedule(a, out, err);
  if (a.command == "demo") return CmdDemo(a, out, err);
  if (a.command == "restore") return CmdRestore(a, out, err);
  if (a.command == "forget") return CmdForget(a, out, err);
  if (a.command == "review") return CmdReview(a, out, err);
  if (a.command == "notices") return CmdNotices(a, out, err);
  if (a.command == "rescue") return CmdRescue(a, out, err);
  if (a.command == "digest") return CmdDigest(a, out, err);
  return 2;
}

}  // namespace crmh
