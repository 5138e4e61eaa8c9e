// Files that hold secrets (key sets, the pseudonym key): created exclusively with an exact mode
// and fsynced; read only when neither group nor others may access them.
// Thread-safety: free functions; no shared state.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "stafett/core/crypto.h"
#include "stafett/core/status.h"

namespace stafett::keys {

// Writes TEXT to FILE, which must not exist yet (O_CREAT|O_EXCL: never over an existing key),
// with exactly MODE whatever the umask, and fsyncs it. kIoError naming FILE on failure.
core::Status WriteNewFile(const std::filesystem::path& file, std::string_view text, mode_t mode);

// kKeyInvalid naming FILE and its mode when group or others may read, write or execute it,
// e.g. "keys/ab12.secret.json: mode 0644 lets group or others access a secret key; chmod 600 it".
core::Status CheckSecretFileMode(const std::filesystem::path& file);

// Reads a secret file: refuses symbolic links, non-regular files, files larger than 1 MiB and
// the modes CheckSecretFileMode refuses (checked on the open descriptor). kKeyInvalid.
core::Result<core::SecretBytes> ReadSecretFile(const std::filesystem::path& file);

}  // namespace stafett::keys
