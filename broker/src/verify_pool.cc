// The broker's signature checks and the worker pool that runs them off the loop.
#include "verify_pool.h"

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::broker {

using core::Code;
using core::Status;

PublishCheck CheckPublish(const keys::TrustDirectory& directory, std::string_view peer_id,
                          const core::Envelope& envelope, size_t max_message_bytes) {
  PublishCheck check;
  size_t total = envelope.header_bytes.size() + envelope.signature.size() + envelope.payload.size();
  if (total > max_message_bytes) {
    check.status = Status(Code::kTooLarge, "the envelope exceeds the broker's limit");
    return check;
  }
  core::Result<core::Header> parsed = core::ParseHeader(envelope.header_bytes);
  if (!parsed.ok()) {
    check.status = parsed.status();
    return check;
  }
  check.message_id = parsed->message_id;
  if (parsed->from != peer_id) {
    check.spoofed = true;
    check.status =
        Status(Code::kSpoofedSender, "the header's sender is not the authenticated peer");
    return check;
  }
  const keys::PublicKeys* sender_key = directory.KeyById(parsed->from, parsed->sender_key_id);
  if (sender_key == nullptr) {
    check.status = Status(Code::kUnknownKey, "the sender key id is not in the directory");
    return check;
  }
  check.status = core::VerifyEnvelope(envelope, *parsed, sender_key->signing);
  if (check.status.ok()) check.header = std::move(parsed).value();
  return check;
}

bool CheckReceipt(const keys::TrustDirectory& directory, std::string_view peer_id,
                  const std::string& message_id, const std::string& receipt_key,
                  const std::string& receipt_signature_base64, std::string_view digest) {
  const keys::PublicKeys* key_entry = directory.KeyById(peer_id, receipt_key);
  if (key_entry == nullptr) return false;
  std::optional<std::string> signature = core::FromBase64(receipt_signature_base64);
  if (!signature) return false;
  return core::Verify(key_entry->signing, core::ReceiptSigningInput(message_id, digest, peer_id),
                      *signature);
}

WorkerPool::WorkerPool(size_t threads) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::ParallelFor(size_t count, const std::function<void(size_t)>& task) {
  if (count == 0) return;
  if (threads_.empty() || count == 1) {
    for (size_t i = 0; i < count; ++i) task(i);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  count_ = count;
  next_ = 0;
  finished_ = 0;
  wake_.notify_all();
  while (next_ < count_) {
    size_t index = next_++;
    lock.unlock();
    task(index);
    lock.lock();
    ++finished_;
  }
  done_.wait(lock, [this] { return finished_ == count_; });
  task_ = nullptr;
}

void WorkerPool::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (task_ != nullptr && next_ < count_) {
      size_t index = next_++;
      const std::function<void(size_t)>* task = task_;
      lock.unlock();
      (*task)(index);
      lock.lock();
      if (++finished_ == count_) done_.notify_all();
    } else {
      wake_.wait(lock);
    }
  }
}

}  // namespace stafett::broker
