// A minimal test harness for the interop programs: CHECK records failures and goes on;
// REPORT prints the plain "N passed, N failed" line and returns the exit code.
#pragma once
#include <cstdio>

static int g_passed = 0, g_failed = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (cond) {                                                            \
      ++g_passed;                                                          \
    } else {                                                               \
      ++g_failed;                                                          \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)

#define REPORT(name)                                                       \
  (std::printf("%s: %d passed, %d failed\n", name, g_passed, g_failed), g_failed == 0 ? 0 : 1)
