// One function per command. Each returns the process exit code and prints to out/err.
#pragma once

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace crmh {

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --name value
  std::set<std::string> flags;                 // --name
  std::string config_path;
  bool json = false;
  bool Flag(const std::string& f) const { return flags.count(f) > 0; }
};

int CmdCheck(const Args& a, std::ostream& out, std::ostream& err);
int CmdRun(const Args& a, std::ostream& out, std::ostream& err);
int CmdRuns(const Args& a, std::ostream& out, std::ostream& err);
int CmdSchedule(const Args& a, std::ostream& out, std::ostream& err);
int CmdRestore(const Args& a, std::ostream& out, std::ostream& err);
int CmdForget(const Args& a, std::ostream& out, std::ostream& err);
int CmdReview(const Args& a, std::ostream& out, std::ostream& err);
int CmdDemo(const Args& a, std::ostream& out, std::ostream& err);
int CmdNotices(const Args& a, std::ostream& out, std::ostream& err);
int CmdRescue(const Args& a, std::ostream& out, std::ostream& err);
int CmdDigest(const Args& a, std::ostream& out, std::ostream& err);

}  // namespace crmh
