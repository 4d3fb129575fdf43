"""Every doctest case must be reachable as its own CTest test. doctest_discover_tests turns the
list of names into a CMake list, so a ';' in a name splits it into fragments whose `-tc` filter
matches nothing — and a run of zero cases passes. This fails on such names (found 2026-12-05:
21 cases had been "passing" under ctest without running)."""
import subprocess
import sys

out = subprocess.run([sys.argv[1], "--list-test-cases", "--no-version"], check=True,
                     capture_output=True, text=True).stdout
names = [l for l in out.splitlines() if l and not l.startswith("[doctest]") and not l.startswith("=")]
bad = [n for n in names if ";" in n]
if not names:
    sys.exit("no test cases listed")
if bad:
    sys.exit("test case names with ';' (CTest would run nothing for them):\n  " + "\n  ".join(bad))
print(f"{len(names)} test case names, none with ';'")
