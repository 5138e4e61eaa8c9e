// File and port helpers for integration tests.
#include "support/sandbox_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace stafett::testing {

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  char* made = ::mkdtemp(buffer.data());
  path_ = made != nullptr ? made : "";
}

TempDir::~TempDir() {
  if (path_.empty() || std::getenv("STAFETT_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool ReadWholeFile(const std::string& path, std::string* content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *content = text.str();
  return true;
}

bool WriteFileByRename(const std::string& path, const std::string& content) {
  std::filesystem::path final_path(path);
  std::filesystem::path temp =
      final_path.parent_path() / ("." + final_path.filename().string() + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << content;
    if (!out.flush()) return false;
  }
  std::error_code error;
  std::filesystem::rename(temp, final_path, error);
  return !error;
}

std::vector<std::string> ListNames(const std::string& folder, bool with_hidden) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    std::string name = entry.path().filename().string();
    if (!with_hidden && !name.empty() && name[0] == '.') continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

bool PortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

// Ports are handed out in blocks of kPortBlock below the kernel's ephemeral range (outgoing
// connections take their local port from that range, so a port picked there can be taken by any
// client between the pick and the bind). A block is reserved across the test processes that
// ctest runs side by side with an flock on a file named after it, held until this process exits.
constexpr int kPortBlock = 50;
constexpr int kLowestPort = 10000;

int EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (range >> low && low > kLowestPort + 10 * kPortBlock) return low;
  return 32768;
}

bool ReserveBlock(int block) {
  static std::vector<int> held;  // open descriptors: the locks last as long as the process
  std::string folder = "/tmp/stafett-test-ports";
  ::mkdir(folder.c_str(), 01777);
  ::chmod(folder.c_str(), 01777);
  std::string path = folder + "/" + std::to_string(block) + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  held.push_back(fd);  // under FindFreePortRange's mutex
  return true;
}

}  // namespace

int FindFreePortRange(int span) {
  if (span <= 0) return -1;
  // Ports are handed out in order from the blocks this process holds; a new block (or run of
  // blocks, for a span wider than one) is reserved when they run out.
  static std::mutex mutex;
  static int base = -1, next = 0, end = 0;  // guarded by mutex
  std::lock_guard<std::mutex> lock(mutex);
  int block_count = (EphemeralLow() - kLowestPort) / kPortBlock;
  int blocks_needed = (span + kPortBlock - 1) / kPortBlock;
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(0, block_count - blocks_needed);
  for (int attempt = 0; attempt < 400; ++attempt) {
    if (base < 0 || next + span > end) {
      int first = pick(random);
      int reserved = 0;
      while (reserved < blocks_needed && ReserveBlock(first + reserved)) ++reserved;
      if (reserved < blocks_needed) continue;  // the blocks reserved stay reserved: harmless
      base = kLowestPort + first * kPortBlock;
      next = base;
      end = base + blocks_needed * kPortBlock;
    }
    int candidate = next;
    next += span;
    bool all = true;
    for (int port = candidate; port < candidate + span && all; ++port) all = PortFree(port);
    if (all) return candidate;
  }
  return -1;
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace stafett::testing
