#include "core/memory.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace crmh {

void RestartWithHugePageHeap(char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  // Already asked for (by this function before the exec, or by the admin: a value of 0 keeps
  // 4 KiB pages), or the kernel's THP mode makes it moot ("always": every region already gets
  // 2 MiB pages; "never" or no THP: none does).
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr) return;
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(mode, line) || line.find("[madvise]") == std::string::npos) return;
  std::string value = tunables != nullptr && *tunables != '\0' ? std::string(tunables) + ":" : "";
  value += "glibc.malloc.hugetlb=1";
  // The program's own path rather than /proc/self/exe: the process name (comm, what ps, pgrep
  // and the journal show) is the executed file's name.
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof self - 1) return;
  self[n] = '\0';
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv(self, argv);
  // No /proc, or the exec failed: carry on in 4 KiB pages (slower, never wrong). The variable
  // stays set, so a failed exec is not tried twice.
}

}  // namespace crmh
