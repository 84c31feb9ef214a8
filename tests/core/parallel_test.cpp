// SPDX-License-Identifier: Apache-2.0
#include "pare/core/parallel.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace {

// Records every piece parallel_for hands out, from whichever thread runs it.
struct Pieces {
  std::mutex m;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  std::set<std::thread::id> threads;
  void add(std::size_t lo, std::size_t hi) {
    std::lock_guard<std::mutex> lock(m);
    ranges.emplace_back(lo, hi);
    threads.insert(std::this_thread::get_id());
  }
};

// An executor of the user's: runs the tasks on threads of its own, one per task, and counts.
struct SpawningExecutor {
  std::atomic<std::size_t> runs{0}, tasks{0};
  std::size_t width = 3;
  void run(std::size_t n, pare::TaskRef task) {
    ++runs;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        ++tasks;
        task(i);
      });
    for (auto& t : threads) t.join();
  }
  [[nodiscard]] std::size_t concurrency() const { return width; }
};
static_assert(pare::Executor<SpawningExecutor>);
static_assert(!pare::Executor<int>);

}  // namespace

TEST_CASE("parallel_for runs every index exactly once, on several threads", "[core][parallel]") {
  for (std::size_t threads : {1, 2, 3, 5}) {
    for (std::size_t n : {1, 2, 3, 7, 100, 1001}) {
      INFO("threads " << threads << " n " << n);
      pare::ParallelismScope scope({.threads = threads});
      std::vector<std::atomic<int>> hits(n);
      Pieces pieces;
      pare::parallel_for(10, 10 + n, 1, [&](std::size_t lo, std::size_t hi) {
        pieces.add(lo, hi);
        for (std::size_t i = lo; i < hi; ++i) ++hits[i - 10];
      });
      for (std::size_t i = 0; i < n; ++i) REQUIRE(hits[i] == 1);
      // one piece per thread at most, none empty
      CHECK(pieces.ranges.size() == std::min(threads, n));
      for (const auto& [lo, hi] : pieces.ranges) CHECK(lo < hi);
    }
  }
}

TEST_CASE("parallel_for uses more than one thread when asked to", "[core][parallel]") {
  pare::ParallelismScope scope({.threads = 2});
  Pieces pieces;
  // Each piece waits for the other to start, so they must run on two threads at once.
  std::atomic<int> started{0};
  pare::parallel_for(0, 2, 1, [&](std::size_t lo, std::size_t hi) {
    ++started;
    while (started.load() < 2) std::this_thread::yield();
    pieces.add(lo, hi);
  });
  CHECK(pieces.threads.size() == 2);
}

TEST_CASE("a range shorter than two grains runs inline, in one call", "[core][parallel]") {
  pare::ParallelismScope scope({.threads = 4});
  Pieces pieces;
  pare::parallel_for(0, 99, 50, [&](std::size_t lo, std::size_t hi) { pieces.add(lo, hi); });
  REQUIRE(pieces.ranges.size() == 1);
  CHECK(pieces.ranges[0] == std::pair<std::size_t, std::size_t>(0, 99));
  CHECK(*pieces.threads.begin() == std::this_thread::get_id());
  // 100 items of grain 50: two pieces of at least a grain each
  Pieces two;
  pare::parallel_for(0, 100, 50, [&](std::size_t lo, std::size_t hi) { two.add(lo, hi); });
  CHECK(two.ranges.size() == 2);
  pare::parallel_for(5, 5, 1,
                     [&](std::size_t, std::size_t) { FAIL("an empty range runs nothing"); });
}

TEST_CASE("a nested parallel_for runs inline on the task's thread", "[core][parallel]") {
  pare::ParallelismScope scope({.threads = 3});
  CHECK_FALSE(pare::in_parallel_task());
  std::atomic<int> inner_calls{0}, wrong{0};
  std::vector<std::atomic<int>> hits(3 * 50);
  pare::parallel_for(0, 3, 1, [&](std::size_t lo, std::size_t hi) {
    if (!pare::in_parallel_task()) ++wrong;
    const auto outer = std::this_thread::get_id();
    for (std::size_t i = lo; i < hi; ++i)
      pare::parallel_for(0, 50, 1, [&](std::size_t a, std::size_t b) {
        ++inner_calls;
        if (std::this_thread::get_id() != outer || a != 0 || b != 50) ++wrong;
        for (std::size_t j = a; j < b; ++j) ++hits[i * 50 + j];
      });
  });
  CHECK(wrong == 0);
  CHECK(inner_calls == 3);  // one whole-range call per outer index
  for (auto& h : hits) REQUIRE(h == 1);
  CHECK_FALSE(pare::in_parallel_task());
}

TEST_CASE("a user's executor runs the tasks when given, per scope or globally",
          "[core][parallel]") {
  SpawningExecutor exec;
  {
    pare::ParallelismScope scope({.executor = pare::ExecutorRef(exec)});
    CHECK(pare::detail::parallel_pieces(100, 1) == 3);  // its concurrency sets the pieces
    std::vector<std::atomic<int>> hits(100);
    std::atomic<int> outside_task{0};  // Catch2's assertions are not for other threads
    pare::parallel_for(0, 100, 1, [&](std::size_t lo, std::size_t hi) {
      if (!pare::in_parallel_task()) ++outside_task;
      for (std::size_t i = lo; i < hi; ++i) ++hits[i];
    });
    CHECK(outside_task == 0);
    for (auto& h : hits) REQUIRE(h == 1);
    CHECK(exec.runs == 1);
    CHECK(exec.tasks == 3);
  }
  pare::set_executor(pare::ExecutorRef(exec));
  CHECK(pare::num_threads() == 3);
  std::atomic<std::size_t> sum{0};
  pare::parallel_for(0, 10, 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) sum += i;
  });
  pare::set_executor({});
  CHECK(sum == 45);
  CHECK(exec.runs == 2);
  CHECK(pare::num_threads() == pare::available_cpus());
}

TEST_CASE("an exception in a task reaches the caller, and the pool still works",
          "[core][parallel]") {
  pare::ParallelismScope scope({.threads = 3});
  for (std::size_t bad : {0, 1, 2}) {
    INFO("failing piece " << bad);
    CHECK_THROWS_WITH(pare::parallel_for(0, 3, 1,
                                         [&](std::size_t lo, std::size_t) {
                                           if (lo == bad) throw std::runtime_error("task failed");
                                         }),
                      "task failed");
  }
  std::atomic<int> count{0};
  pare::parallel_for(0, 3, 1,
                     [&](std::size_t lo, std::size_t hi) { count += static_cast<int>(hi - lo); });
  CHECK(count == 3);
  CHECK_FALSE(pare::in_parallel_task());
}

TEST_CASE("set_num_threads bounds the pieces; scopes nest and restore", "[core][parallel]") {
  CHECK(pare::available_cpus() >= 1);
  CHECK(pare::num_threads() == pare::available_cpus());
  pare::set_num_threads(1);
  CHECK(pare::num_threads() == 1);
  CHECK(pare::detail::parallel_pieces(1000, 1) == 1);
  {
    pare::ParallelismScope outer({.threads = 4});
    CHECK(pare::num_threads() == 4);
    CHECK(pare::detail::parallel_pieces(1000, 1) == 4);
    CHECK(pare::detail::parallel_pieces(1000, 300) == 3);
    {
      pare::ParallelismScope inner({.max_grain = 10});  // keeps the outer thread count
      CHECK(pare::detail::parallel_pieces(1000, 300) == 4);
    }
    CHECK(pare::detail::parallel_pieces(1000, 300) == 3);
  }
  CHECK(pare::detail::parallel_pieces(1000, 1) == 1);
  pare::set_num_threads(0);
  CHECK(pare::num_threads() == pare::available_cpus());
}

TEST_CASE("threads of the program calling parallel_for at once all get their results",
          "[core][parallel]") {
  pare::set_num_threads(2);
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<int> out(257, 0);
        pare::parallel_for(0, out.size(), 1, [&](std::size_t lo, std::size_t hi) {
          for (std::size_t i = lo; i < hi; ++i) out[i] = static_cast<int>(i) * 3;
        });
        for (std::size_t i = 0; i < out.size(); ++i)
          if (out[i] != static_cast<int>(i) * 3) ++wrong;
      }
    });
  for (auto& c : callers) c.join();
  pare::set_num_threads(0);
  CHECK(wrong == 0);
}
