// Per-owner digests (`per_owner: true`, docs/digest.md): each owner of contacts gets the part of
// the week that is theirs to act on —
//   * the open validation flags on their live contacts (what is wrong, and what to do about it),
//   * their contacts announced for pruning (the reasons, the date, the `rescue` command),
//   * their score of the newest scored week with its components and how to raise it.
// An owner with none of the three gets no digest.
//
// Owners are the values of the mapped `owner` field (a CRM user id); their names come from
// mapping.users.name, their addresses from the digest's `owners:` map (by id or user name) or else
// mapping.users.email. A pure reader like the team digest: it reads the state tables and, for the
// listed contacts only, their owner, name, email and phone (masked as configured).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobs/digest.h"

namespace crmh::jobs::digest {

struct OwnerFlag {
  std::string contact_id, contact;  // contact: "Jane D. · j***@example.com" (masked)
  std::string field, code, detail;
};

struct OwnerNotice {
  std::string job, contact_id, contact, reasons;
  SysSeconds prune_after{};
};

// One line of "how to raise it": a score component and the points it leaves on the table.
struct ScoreAdvice {
  std::string component;
  double points = 0, max = 0;  // lost = max - points
  std::string how;
};

struct OwnerDigest {
  std::string owner;  // the CRM user id
  std::string name;   // user name ("" if the users table does not know it)
  std::string email;  // "" = archive only
  std::vector<OwnerFlag> flags;  // up to owner_limit, by contact then field
  long long flags_total = 0;
  std::vector<OwnerNotice> notices;  // up to owner_limit, the earliest date first
  long long notices_total = 0;
  std::optional<crm::ScoreRow> score;  // of m.scores.week
  int owners_ranked = 0;
  std::vector<ScoreAdvice> advice;  // the components that lose points, the biggest loss first
};

// The digests of every owner with open flags, open notices or a score, ordered by owner id.
Result<std::vector<OwnerDigest>> BuildOwnerDigests(crm::Db& db, const Config& cfg,
                                                   const JobConfig& job, const Model& m);

// What to do about a flag code (match/validate.h), in a sentence.
std::string FlagAdvice(const std::string& code);

std::string OwnerSubject(const Model& m, const OwnerDigest& d);
std::string RenderOwnerText(const Model& m, const OwnerDigest& d);
std::string RenderOwnerHtml(const Model& m, const OwnerDigest& d);
// A file name for the owner's archive: [A-Za-z0-9_-] kept, everything else '_' (ids may be UUIDs).
std::string OwnerFileName(const std::string& owner);

}  // namespace crmh::jobs::digest
