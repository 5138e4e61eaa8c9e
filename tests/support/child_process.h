// ChildProcess: a program started with fork/exec for integration tests, its stderr captured to
// a file, stopped with SIGTERM (or killed with SIGKILL) and reaped. Standard library and POSIX
// only. Thread-safety: one owner thread per object.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace stafett::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts PROGRAM with ARGS; stdout and stderr go to LOG_FILE (appended). False if fork fails.
  bool Start(const std::string& program, const std::vector<std::string>& args,
             const std::string& log_file);
  // SIGTERM, then waits up to TIMEOUT_MS; returns the exit status (-1 if it had to be killed).
  int Stop(int timeout_ms = 10000);
  // SIGKILL and reap, no clean shutdown.
  void Kill();
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Runs PROGRAM with ARGS to completion; returns the exit status and fills OUTPUT (stdout and
// stderr together). -1 if it could not be started or did not finish within TIMEOUT_MS.
int RunProgram(const std::string& program, const std::vector<std::string>& args,
               std::string* output, int timeout_ms = 60000);

}  // namespace stafett::testing
