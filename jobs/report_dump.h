// How RunReport::DumpJson (jobs/job.h) writes a large report, with the seam its test uses.
#pragma once

#include <functional>
#include <future>
#include <string>

#include "jobs/job.h"

namespace crmh::jobs {

using DumpTask = std::function<std::string()>;
using StartDumpTask = std::function<std::future<std::string>(DumpTask)>;

// `std::move(report).DumpJson()`: a large report's clusters are written in two halves, the
// second by a task `start` launches (empty: std::async on a new thread). If it throws
// (std::system_error: no thread available), the calling thread writes both halves — the report
// is already taken apart by then, so the output must not be lost with it.
std::string DumpReportJson(RunReport&& report, const StartDumpTask& start);

}  // namespace crmh::jobs
