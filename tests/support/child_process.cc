// ChildProcess: fork/exec/waitpid for integration tests.
#include "support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace stafett::testing {

namespace {

pid_t Spawn(const std::string& program, const std::vector<std::string>& args, int output_fd) {
  std::vector<std::string> all = {program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (output_fd >= 0) {
      ::dup2(output_fd, 1);
      ::dup2(output_fd, 2);
    }
    ::setpgid(0, 0);
    ::execv(program.c_str(), argv.data());
    std::_Exit(127);
  }
  return pid;
}

// Waits for PID up to TIMEOUT_MS; returns the exit status, 128+signal, or -2 if still running.
int WaitFor(pid_t pid, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return -2;
    // Polling the child's state: there is no portable wait-with-timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Kill();
}

bool ChildProcess::Start(const std::string& program, const std::vector<std::string>& args,
                         const std::string& log_file) {
  int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = Spawn(program, args, fd);
  if (fd >= 0) ::close(fd);
  return pid_ > 0;
}

int ChildProcess::Stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = WaitFor(pid_, timeout_ms);
  if (status == -2) {
    Kill();
    return -1;
  }
  pid_ = -1;
  return status;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitFor(pid_, 10000);
  pid_ = -1;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = WaitFor(pid_, 0);
  if (status == -2) return true;
  pid_ = -1;
  return false;
}

int RunProgram(const std::string& program, const std::vector<std::string>& args,
               std::string* output, int timeout_ms) {
  char path[] = "/tmp/stafett-run-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return -1;
  pid_t pid = Spawn(program, args, fd);
  int status = pid > 0 ? WaitFor(pid, timeout_ms) : -1;
  if (status == -2) {
    ::kill(pid, SIGKILL);
    WaitFor(pid, 10000);
    status = -1;
  }
  if (output != nullptr) {
    output->clear();
    ::lseek(fd, 0, SEEK_SET);
    char buffer[4096];
    ssize_t got = 0;
    while ((got = ::read(fd, buffer, sizeof buffer)) > 0) {
      output->append(buffer, static_cast<size_t>(got));
    }
  }
  ::close(fd);
  ::unlink(path);
  return status;
}

}  // namespace stafett::testing
