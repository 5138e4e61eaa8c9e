// The broker's signature checks as pure functions of the received frames and the trust
// directory, and a small pool of threads that runs them for a batch of received commands
// (docs/DESIGN.md, "Performance"). The loop hands a batch to the pool, waits, then handles the
// batch in the order it was received: the pool never touches broker state, and the loop stays
// the only store writer.
// Thread-safety: the check functions are pure (the directory is immutable while the broker
// runs); WorkerPool::ParallelFor is called from one thread at a time (the broker loop).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "stafett/core/envelope.h"
#include "stafett/core/status.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::broker {

// What checking a PUBLISH envelope found: a refusal before any state is read (size, header
// syntax, sender not the authenticated peer, unknown key, bad signature), or the header, parsed
// and verified under the sender's key.
struct PublishCheck {
  core::Status status;
  std::string message_id;              // when the header parsed
  std::optional<core::Header> header;  // when status is Ok
  bool spoofed = false;                // the header names another sender than the peer
};

PublishCheck CheckPublish(const keys::TrustDirectory& directory, std::string_view peer_id,
                          const core::Envelope& envelope, size_t max_message_bytes);

// Whether a DELIVERED receipt from PEER_ID verifies: Ed25519 under the peer's key RECEIPT_KEY
// over ReceiptSigningInput(message_id, digest, peer_id). DIGEST is the raw payload digest
// recorded at acceptance.
bool CheckReceipt(const keys::TrustDirectory& directory, std::string_view peer_id,
                  const std::string& message_id, const std::string& receipt_key,
                  const std::string& receipt_signature_base64, std::string_view digest);

// A receipt checked ahead of its handling, against the digest the store held then. The loop
// uses it only if the digest it reads when handling the receipt is the same.
struct ReceiptCheck {
  std::string digest;
  bool ok = false;
};

// THREADS worker threads; ParallelFor also runs tasks on the calling thread.
class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t threads() const { return threads_.size(); }
  // Runs TASK(0) … TASK(COUNT - 1), each once, on the pool and the caller; returns when every
  // one has finished. TASK must not throw.
  void ParallelFor(size_t count, const std::function<void(size_t)>& task);

 private:
  void Work();

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t count_ = 0, next_ = 0, finished_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stafett::broker
