// PosixFileSystem: FileSystem over file_util.h's POSIX calls.
#include "file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "file_util.h"

namespace stafett::agent {
namespace {

using core::Code;
using core::Status;

class Posix : public FileSystem {
 public:
  core::Result<std::string> ReadFile(const std::filesystem::path& file, size_t max_bytes) override {
    return ReadRegularFile(file, max_bytes);
  }
  Status WriteFileDurably(const std::filesystem::path& folder, const std::string& name,
                          std::string_view content) override {
    return WriteFileAtomically(folder, name, content);
  }
  Status WriteFilesDurably(const std::filesystem::path& folder,
                           const std::vector<std::pair<std::string, std::string>>& files) override {
    return WriteFilesAtomically(folder, files);
  }
  core::Result<std::filesystem::path> MoveWithoutOverwrite(
      const std::filesystem::path& from, const std::filesystem::path& to_folder) override {
    return agent::MoveWithoutOverwrite(from, to_folder);
  }
  std::vector<core::Result<std::filesystem::path>> MoveAllWithoutOverwrite(
      const std::vector<std::filesystem::path>& froms,
      const std::filesystem::path& to_folder) override {
    return agent::MoveAllWithoutOverwrite(froms, to_folder);
  }
  core::Result<std::vector<std::string>> List(const std::filesystem::path& folder) override {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
      names.push_back(entry.path().filename().string());
    }
    if (error) return Status(Code::kIoError, folder.string() + ": " + error.message());
    std::sort(names.begin(), names.end());
    return names;
  }
  core::Result<bool> Exists(const std::filesystem::path& file) override {
    std::error_code error;
    bool exists = std::filesystem::exists(file, error);
    if (error && error != std::errc::no_such_file_or_directory) {
      return Status(Code::kIoError, file.string() + ": " + error.message());
    }
    return exists;
  }
  Status Remove(const std::filesystem::path& file) override {
    std::error_code error;
    if (std::filesystem::remove(file, error)) return Status::Ok();
    if (error) return Status(Code::kIoError, file.string() + ": " + error.message());
    return Status(Code::kNotFound, "the file is gone");
  }
  Status SyncFolder(const std::filesystem::path& folder) override {
    return agent::SyncFolder(folder);
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static Posix* posix = new Posix();  // never destroyed: used until the process ends
  return *posix;
}

}  // namespace stafett::agent
