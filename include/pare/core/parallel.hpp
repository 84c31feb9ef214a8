// SPDX-License-Identifier: Apache-2.0
// pare — parallel execution: the thread pool pare's kernels share, how many threads they use, and
// how a program hands pare an executor of its own (its thread pool, OpenMP, TBB) instead.
//
//   pare::set_num_threads(4);                      // every kernel: at most 4 threads (0: default)
//   { pare::ParallelismScope one({.threads = 1});   // this thread, until the scope ends: 1
//     pare::gemm(a, b, c); }
//   MyPool pool;                                    // anything that models pare::Executor
//   pare::set_executor(pare::ExecutorRef(pool));    // pare's tasks run on it from now on
//
// The work of a threaded kernel is cut into tasks that each own disjoint outputs and compute them
// exactly as one thread would, so results are bit-identical whatever the thread count. The default
// pool is started on first use, with one worker fewer than the CPUs this process may run on (the
// calling thread is the last one: it runs tasks too, rather than waiting idle). A parallel_for
// inside a task runs on its own thread (nested parallelism never waits on the pool, so it can
// neither deadlock nor oversubscribe), and so does one issued while another thread of the program
// holds the pool: a program that is already multi-threaded gets no extra threads on top.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "pare/core/config.hpp"

namespace pare {

/// A borrowed callable `void(std::size_t task)`: two pointers, cheap to copy. It must not
/// outlive what it refers to; it may be called from several threads at once.
class TaskRef {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, TaskRef> &&
             std::is_invocable_v<const F&, std::size_t>)
  TaskRef(const F& f) noexcept  // NOLINT(google-explicit-constructor): a view, like string_view
      : obj_(static_cast<const void*>(&f)),
        call_([](const void* o, std::size_t i) { (*static_cast<const F*>(o))(i); }) {}

  /// Runs task `i`.
  void operator()(std::size_t i) const { call_(obj_, i); }

 private:
  const void* obj_;
  void (*call_)(const void*, std::size_t);
};

/// What pare asks of an executor: `e.run(n, task)` runs task(0) … task(n − 1), each exactly
/// once, possibly concurrently and in any order (some or all may run on the calling thread), and
/// returns when all have finished; `e.concurrency()` says how many tasks it can run at once
/// (at least 1), which is how many pieces pare cuts its work into. pare's tasks never throw out
/// of `task(i)` (parallel_for catches and rethrows on the caller) and never block on each other.
/// Every program thread that starts a kernel calls `run`, so it must accept concurrent calls.
template <class E>
concept Executor = requires(E& e, const E& ce, std::size_t n, TaskRef task) {
  e.run(n, task);
  { ce.concurrency() } -> std::convertible_to<std::size_t>;
};

/// A non-owning, type-erased view of an Executor; empty (the default) means pare's own pool.
/// The executor must outlive every use of the view.
class ExecutorRef {
 public:
  ExecutorRef() = default;
  template <Executor E>
    requires(!std::is_same_v<std::remove_cvref_t<E>, ExecutorRef>)
  explicit ExecutorRef(E& e) noexcept
      : obj_(static_cast<void*>(&e)),
        run_([](void* o, std::size_t n, TaskRef t) { static_cast<E*>(o)->run(n, t); }),
        concurrency_([](const void* o) -> std::size_t {
          return static_cast<std::size_t>(static_cast<const E*>(o)->concurrency());
        }) {}

  /// True when it refers to an executor.
  explicit operator bool() const noexcept { return obj_ != nullptr; }
  /// Runs task(0) … task(n − 1) on the executor and returns when all are done. @pre non-empty.
  void run(std::size_t n, TaskRef task) const { run_(obj_, n, task); }
  /// How many tasks the executor runs at once (at least 1). @pre non-empty.
  [[nodiscard]] std::size_t concurrency() const {
    const std::size_t c = concurrency_(obj_);
    return c > 0 ? c : 1;
  }

 private:
  void* obj_ = nullptr;
  void (*run_)(void*, std::size_t, TaskRef) = nullptr;
  std::size_t (*concurrency_)(const void*) = nullptr;
};

/// How much parallelism pare's kernels use. `threads` 0: the global setting (num_threads());
/// an empty `executor`: the global one (set_executor), else pare's pool.
struct Parallelism {
  std::size_t threads = 0;
  ExecutorRef executor{};
  /// When nonzero, grains above it are cut to it: even small problems are then shared out
  /// (for tests of threaded kernels on small shapes, and for tuning the kernels' grains).
  std::size_t max_grain = 0;
};

/// Sets how many threads pare's kernels use at most (the calling thread included); 0 restores
/// the default: the executor's concurrency when one is set, else the CPUs in this process's
/// affinity mask. Takes effect for kernels started afterwards; safe to call while kernels run on
/// other threads (their count may then change between two kernels of one request).
void set_num_threads(std::size_t n) noexcept;

/// How many threads pare's kernels started on the calling thread now use at most (at least 1):
/// the innermost ParallelismScope's count, else set_num_threads's, else the default.
[[nodiscard]] std::size_t num_threads() noexcept;

/// The CPUs this process may run on (sched_getaffinity; at least 1): the default thread count.
[[nodiscard]] std::size_t available_cpus() noexcept;

/// Makes pare run its tasks on `executor` (empty: pare's own pool again). The executor must
/// outlive its use; do not change it while kernels run.
void set_executor(ExecutorRef executor) noexcept;

/// Overrides the thread count and executor for kernels the calling thread starts while the
/// scope lives (scopes nest; the innermost wins). The per-call option of every threaded kernel.
class ParallelismScope {
 public:
  explicit ParallelismScope(Parallelism p) noexcept;
  ~ParallelismScope();
  ParallelismScope(const ParallelismScope&) = delete;
  ParallelismScope& operator=(const ParallelismScope&) = delete;

 private:
  Parallelism saved_;
  bool had_saved_;
};

/// True on a thread while it runs a task of parallel_for (on the pool or an executor).
[[nodiscard]] bool in_parallel_task() noexcept;

namespace detail {

/// How many pieces a parallel_for over `items` items with at least `grain` per piece is cut
/// into now: 1 inside a task, for a small range, or with one thread.
[[nodiscard]] std::size_t parallel_pieces(std::size_t items, std::size_t grain) noexcept;

/// Runs task(0) … task(n − 1) on the executor in force (or the pool), marking each as a pare
/// task; the first exception a task throws is rethrown here after all have stopped.
void run_parallel(std::size_t n, TaskRef task);

}  // namespace detail

/// Calls fn(lo, hi) on disjoint subranges covering [begin, end), at most one piece per thread
/// and each (but perhaps the last) at least `grain` long, concurrently, and returns when all
/// are done. Runs fn(begin, end) on the calling thread when the range is shorter than two
/// grains, with one thread, or inside another parallel task. An exception thrown by fn is
/// rethrown here (the first one, once every piece has stopped). fn must give the same results
/// however the range is cut.
template <class F>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, F&& fn) {
  if (end <= begin) return;
  const std::size_t items = end - begin;
  const std::size_t pieces = detail::parallel_pieces(items, grain);
  if (pieces <= 1) {
    fn(begin, end);
    return;
  }
  auto piece = [&](std::size_t i) {
    fn(begin + items * i / pieces, begin + items * (i + 1) / pieces);
  };
  detail::run_parallel(pieces, TaskRef(piece));
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/core/parallel-inl.hpp"
#endif
