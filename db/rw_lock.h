// RwLock: the reader-writer lock of db/, an absl::Mutex that ThreadSanitizer can see.
//
// absl::Mutex is kept for its writer preference (a stream of searches cannot starve a writer, as it
// can with glibc's reader-preferring rwlock). Debian's Abseil is not built with ThreadSanitizer, so
// in TSan builds this class reports its acquisitions and releases through TSan's mutex annotations;
// without them TSan sees no ordering between critical sections and reports false races.
//
// Thread-safety: it is the synchronization.
#ifndef EMBER_DB_RW_LOCK_H_
#define EMBER_DB_RW_LOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define EMBER_TSAN_MUTEX(call) call
#else
#define EMBER_TSAN_MUTEX(call)
#endif

namespace ember::db {

class ABSL_LOCKABLE RwLock {
 public:
  RwLock() { EMBER_TSAN_MUTEX(__tsan_mutex_create(this, 0)); }
  ~RwLock() { EMBER_TSAN_MUTEX(__tsan_mutex_destroy(this, 0)); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    EMBER_TSAN_MUTEX(__tsan_mutex_pre_lock(this, 0));
    mu_.Lock();
    EMBER_TSAN_MUTEX(__tsan_mutex_post_lock(this, 0, 0));
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    EMBER_TSAN_MUTEX(__tsan_mutex_pre_unlock(this, 0));
    mu_.Unlock();
    EMBER_TSAN_MUTEX(__tsan_mutex_post_unlock(this, 0));
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    EMBER_TSAN_MUTEX(__tsan_mutex_pre_lock(this, __tsan_mutex_read_lock));
    mu_.ReaderLock();
    EMBER_TSAN_MUTEX(__tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0));
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() {
    EMBER_TSAN_MUTEX(__tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock));
    mu_.ReaderUnlock();
    EMBER_TSAN_MUTEX(__tsan_mutex_post_unlock(this, __tsan_mutex_read_lock));
  }

 private:
  absl::Mutex mu_;
};

// Holds `lock` exclusively for its scope.
class ABSL_SCOPED_LOCKABLE WriterLock {
 public:
  explicit WriterLock(RwLock* lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock) : lock_(lock) {
    lock_->Lock();
  }
  ~WriterLock() ABSL_UNLOCK_FUNCTION() { lock_->Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  RwLock* const lock_;
};

// Holds `lock` shared for its scope.
class ABSL_SCOPED_LOCKABLE ReaderLock {
 public:
  explicit ReaderLock(RwLock* lock) ABSL_SHARED_LOCK_FUNCTION(lock) : lock_(lock) {
    lock_->ReaderLock();
  }
  ~ReaderLock() ABSL_UNLOCK_FUNCTION() { lock_->ReaderUnlock(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  RwLock* const lock_;
};

}  // namespace ember::db

#undef EMBER_TSAN_MUTEX

#endif  // EMBER_DB_RW_LOCK_H_
