// SPDX-License-Identifier: Apache-2.0
// pare — definitions for core/parallel.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#include "pare/core/config.hpp"
#include "pare/core/parallel.hpp"

namespace pare {

namespace detail {

/// pare's default executor: workers that sleep until a job is posted, then claim its tasks one
/// index at a time together with the posting thread. One job at a time: a thread that finds the
/// pool busy runs its tasks itself (see try_run), which is what keeps a multi-threaded program
/// from stacking pare's workers on top of its own threads.
class ThreadPool {
 public:
  ThreadPool() = default;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    work_cv_.notify_all();
    workers_.clear();  // jthread joins
  }

  /// Runs task(0) … task(n − 1) with up to n − 1 workers and the calling thread, and returns
  /// when all are done; false (nothing run) when another thread's job holds the pool.
  /// @pre task does not throw.
  bool try_run(std::size_t n, TaskRef task) {
    std::unique_lock<std::mutex> submit(submit_, std::try_to_lock);
    if (!submit.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(m_);
      // Workers are added when a job first asks for them (set_num_threads may ask for more
      // than the CPUs, e.g. in tests); they are never removed.
      // A thread the system refuses only means fewer helpers: the caller runs what is left.
      try {
        while (workers_.size() + 1 < n)
          workers_.emplace_back([this, seen = generation_] { worker_loop(seen); });
      } catch (const std::system_error&) {
      }
      task_ = &task;
      n_ = n;
      next_.store(0, std::memory_order_relaxed);
      helpers_wanted_ = n - 1;
      helpers_ = 0;
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    work_cv_.notify_all();
    drain(task, n);
    // A helper that took a task finishes soon after the caller: wait for it spinning first, as
    // a sleep and wake-up costs tens of microseconds — as much as a whole small kernel.
    for (int i = 0; i < spin_rounds && active_now_.load(std::memory_order_acquire) != 0; ++i)
      spin_pause();
    std::unique_lock<std::mutex> lock(m_);
    helpers_wanted_ = 0;  // a worker waking only now must not join a finished job
    done_cv_.wait(lock, [this] { return active_ == 0; });
    task_ = nullptr;
    return true;
  }

 private:
  void drain(TaskRef task, std::size_t n) {
    for (std::size_t i = next_.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next_.fetch_add(1, std::memory_order_relaxed))
      task(i);
  }

  void worker_loop(std::uint64_t seen) {
    for (;;) {
      // Jobs come back to back (a decoder runs hundreds per token): a worker that just finished
      // one looks for the next by spinning a little before it sleeps, so it is there at once.
      for (int i = 0; i < spin_rounds && published_.load(std::memory_order_acquire) == seen; ++i)
        spin_pause();
      const TaskRef* task = nullptr;
      std::size_t n = 0;
      {
        std::unique_lock<std::mutex> lock(m_);
        work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (helpers_ >= helpers_wanted_) continue;
        ++helpers_;
        ++active_;
        active_now_.store(active_, std::memory_order_release);
        task = task_;
        n = n_;
      }
      drain(*task, n);
      std::lock_guard<std::mutex> lock(m_);
      active_now_.store(--active_, std::memory_order_release);
      if (active_ == 0) done_cv_.notify_one();
    }
  }

  static void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  /// Pause instructions a worker spins before sleeping (0.1-0.5 ms; OpenMP spins far longer).
  static constexpr int spin_rounds = 20000;

  std::mutex submit_;  // held by the thread whose job the pool runs
  std::mutex m_;       // guards everything below but next_
  std::condition_variable work_cv_, done_cv_;
  std::vector<std::jthread> workers_;
  std::uint64_t generation_ = 0;  // bumped per job
  bool stop_ = false;
  const TaskRef* task_ = nullptr;
  std::size_t n_ = 0, helpers_wanted_ = 0, helpers_ = 0, active_ = 0;
  std::atomic<std::size_t> next_{0};  // the next unclaimed task of the current job
  // Copies of generation_ and active_ readable without the lock, for the spins.
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::size_t> active_now_{0};
};

inline ThreadPool& thread_pool() {
  static ThreadPool pool;
  return pool;
}

struct ParallelSettings {
  std::atomic<std::size_t> threads{0};
  // Every kernel call asks for the executor; without one set (the usual case) the flag answers
  // without taking the lock, so threads of the program calling kernels do not contend on it.
  std::atomic<bool> has_executor{false};
  std::mutex m;  // guards executor
  ExecutorRef executor;
};

inline ParallelSettings& parallel_settings() {
  static ParallelSettings s;
  return s;
}

struct ScopeState {
  Parallelism p;
  bool active = false;
};

inline ScopeState& parallel_scope() {
  thread_local ScopeState state;
  return state;
}

inline bool& in_task_flag() {
  thread_local bool flag = false;
  return flag;
}

inline ExecutorRef current_executor() {
  const ScopeState& s = parallel_scope();
  if (s.active && s.p.executor) return s.p.executor;
  ParallelSettings& g = parallel_settings();
  if (!g.has_executor.load(std::memory_order_acquire)) return {};
  std::lock_guard<std::mutex> lock(g.m);
  return g.executor;
}

inline std::size_t effective_threads() {
  const ScopeState& s = parallel_scope();
  if (s.active && s.p.threads > 0) return s.p.threads;
  if (const std::size_t t = parallel_settings().threads.load(std::memory_order_relaxed); t > 0)
    return t;
  if (const ExecutorRef e = current_executor()) return e.concurrency();
  return available_cpus();
}

PARE_INLINE std::size_t parallel_pieces(std::size_t items, std::size_t grain) noexcept {
  if (in_task_flag()) return 1;
  const std::size_t threads = effective_threads();
  if (threads <= 1) return 1;
  if (const ScopeState& s = parallel_scope();
      s.active && s.p.max_grain > 0 && grain > s.p.max_grain)
    grain = s.p.max_grain;
  const std::size_t by_grain = items / (grain > 0 ? grain : 1);
  return by_grain < threads ? (by_grain > 0 ? by_grain : 1) : threads;
}

PARE_INLINE void run_parallel(std::size_t n, TaskRef task) {
  std::exception_ptr error;
  std::mutex error_m;
  std::atomic<bool> failed{false};
  auto guarded = [&](std::size_t i) {
    if (failed.load(std::memory_order_relaxed)) return;  // the result is lost anyway
    bool& flag = in_task_flag();
    const bool was = flag;
    flag = true;
    try {
      task(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_m);
      if (!error) error = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
    flag = was;
  };
  if (const ExecutorRef e = current_executor()) {
    e.run(n, TaskRef(guarded));
  } else if (!thread_pool().try_run(n, TaskRef(guarded))) {
    for (std::size_t i = 0; i < n; ++i) guarded(i);
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace detail

PARE_INLINE std::size_t available_cpus() noexcept {
  static const std::size_t cpus = [] {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      const int count = CPU_COUNT(&set);
      if (count > 0) return static_cast<std::size_t>(count);
    }
#endif
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<std::size_t>(hw) : std::size_t{1};
  }();
  return cpus;
}

PARE_INLINE void set_num_threads(std::size_t n) noexcept {
  detail::parallel_settings().threads.store(n, std::memory_order_relaxed);
}

PARE_INLINE std::size_t num_threads() noexcept { return detail::effective_threads(); }

PARE_INLINE void set_executor(ExecutorRef executor) noexcept {
  detail::ParallelSettings& g = detail::parallel_settings();
  std::lock_guard<std::mutex> lock(g.m);
  g.executor = executor;
  g.has_executor.store(static_cast<bool>(executor), std::memory_order_release);
}

PARE_INLINE ParallelismScope::ParallelismScope(Parallelism p) noexcept
    : saved_(detail::parallel_scope().p), had_saved_(detail::parallel_scope().active) {
  detail::ScopeState& s = detail::parallel_scope();
  // An inner scope that leaves a field unset keeps the outer scope's.
  if (s.active) {
    if (p.threads == 0) p.threads = s.p.threads;
    if (!p.executor) p.executor = s.p.executor;
    if (p.max_grain == 0) p.max_grain = s.p.max_grain;
  }
  s.p = p;
  s.active = true;
}

PARE_INLINE ParallelismScope::~ParallelismScope() {
  detail::ScopeState& s = detail::parallel_scope();
  s.p = saved_;
  s.active = had_saved_;
}

PARE_INLINE bool in_parallel_task() noexcept { return detail::in_task_flag(); }

}  // namespace pare
