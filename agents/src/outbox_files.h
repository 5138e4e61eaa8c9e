// OutboxFiles: the outbox's folder moves — a handed-over file to outbox/sent/, a refused one to
// outbox/rejected/ beside <name>.error.json — never overwriting an earlier file of that name.
// Thread-safety: stateless apart from the paths; callers serialise moves of one file.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "file_system.h"
#include "stafett/core/status.h"

namespace stafett::agent {

class OutboxFiles {
 public:
  // The moves and error files go through FILES (the real filesystem unless a test gives another).
  explicit OutboxFiles(std::filesystem::path outbox, FileSystem& files = PosixFileSystem())
      : outbox_(std::move(outbox)), files_(&files) {}

  // Creates outbox/, outbox/sent/ and outbox/rejected/ if needed; checks they are writable.
  core::Status Prepare() const;
  // Moves outbox/NAME to sent/ for each (NAME, message id) of FILES — a burst: one sync of each
  // folder for all. A file already gone counts as moved.
  void MoveAllToSent(const std::vector<std::pair<std::string, std::string>>& files) const;
  // Moves outbox/NAME to rejected/ and writes <final name>.error.json with the code, message
  // and (for schema errors) the JSON pointers of the failing fields.
  void MoveToRejected(const std::string& name, const core::Status& refusal,
                      const std::vector<std::string>& pointers,
                      const std::string& message_id) const;

  const std::filesystem::path& folder() const { return outbox_; }
  FileSystem& files() const { return *files_; }

 private:
  std::filesystem::path outbox_;
  FileSystem* files_;
};

}  // namespace stafett::agent
