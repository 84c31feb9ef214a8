// SPDX-License-Identifier: Apache-2.0
// Dynamic batching (serve/batcher.hpp) and the model slot (serve/model_slot.hpp) on the small
// ONNX CNN of tests/data/onnx (input [batch, 1, 8, 8]): stacked runs give every request the
// rows it gets alone, the queue is bounded, shutdown finishes what is queued, a reload swaps the
// model without disturbing requests that hold the old one, and a bad file leaves the slot as it
// was.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/io/load_model.hpp"
#include "pare/serve.hpp"

using namespace std::chrono_literals;
using pare::graph::Value;

namespace {

const std::filesystem::path cnn = PARE_TEST_DATA_DIR "/onnx/cnn.onnx";

pare::serve::Request images(std::size_t rows, std::uint64_t seed) {
  Value v;
  v.shape = {rows, 1, 8, 8};
  pare::Rng rng(seed);
  for (std::size_t i = 0; i < rows * 64; ++i) v.floats.push_back(rng.uniform(0.0f, 1.0f));
  pare::serve::Request r;
  r.inputs.push_back(std::move(v));
  r.rows = rows;
  return r;
}

void require_close(const Value& a, const Value& b) {
  REQUIRE(a.shape == b.shape);
  for (std::size_t i = 0; i < a.floats.size(); ++i)
    REQUIRE(std::abs(a.floats[i] - b.floats[i]) <= 1e-5f * (1 + std::abs(b.floats[i])));
}

}  // namespace

TEST_CASE("batcher: concurrent requests are stacked and each gets its own rows") {
  pare::serve::ModelSlot slot(pare::serve::load_served_model(cnn));
  const auto m = slot.current();
  REQUIRE(m->batchable);
  REQUIRE(m->inputs.size() == 1);
  REQUIRE(m->inputs[0].shape == std::vector<std::int64_t>{-1, 1, 8, 8});
  std::vector<pare::serve::Request> requests;
  std::vector<Value> alone;
  for (std::size_t i = 0; i < 12; ++i) {
    requests.push_back(images(1 + i % 3, i));
    alone.push_back(pare::serve::run_request(*m, requests.back())[0]);
  }
  std::vector<pare::serve::BatchRecord> records;
  std::mutex records_mutex;
  pare::serve::Batcher batcher(slot, {.max_batch_rows = 8, .max_wait = 200ms, .workers = 1},
                               [&](const pare::serve::BatchRecord& r) {
                                 std::lock_guard lock(records_mutex);
                                 records.push_back(r);
                               });
  std::vector<std::future<pare::serve::Reply>> replies;
  for (const auto& r : requests) {
    auto f = batcher.submit(r);
    REQUIRE(f.has_value());
    replies.push_back(std::move(*f));
  }
  std::size_t most = 0;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const pare::serve::Reply reply = replies[i].get();
    REQUIRE(!reply.error);
    REQUIRE(reply.model == m);
    REQUIRE(reply.outputs.size() == 1);
    require_close(reply.outputs[0], alone[i]);
    REQUIRE(reply.batch_rows <= 8);
    most = std::max(most, reply.batch_requests);
  }
  REQUIRE(most > 1);  // submitted faster than 200 ms: some runs were stacked
  std::lock_guard lock(records_mutex);
  std::size_t rows = 0;
  for (const auto& r : records) rows += r.rows;
  REQUIRE(rows == 24);  // 12 requests of 1, 2, 3 rows
}

TEST_CASE("batcher: a full queue refuses, shutdown answers everything queued") {
  pare::serve::ModelSlot slot(pare::serve::load_served_model(cnn));
  pare::serve::Batcher batcher(
      slot, {.max_batch_rows = 64, .max_wait = 3s, .queue_capacity = 3, .workers = 1});
  std::vector<std::future<pare::serve::Reply>> replies;
  for (int i = 0; i < 3; ++i) {
    auto f = batcher.submit(images(1, i));
    REQUIRE(f.has_value());
    replies.push_back(std::move(*f));
  }
  // The worker holds all three while it waits (3 s) for company: a fourth does not fit.
  REQUIRE(!batcher.submit(images(1, 9)).has_value());
  REQUIRE(batcher.queued() == 3);
  const auto start = std::chrono::steady_clock::now();
  batcher.shutdown();
  REQUIRE(std::chrono::steady_clock::now() - start < 2s);  // shutdown cut the wait short
  for (auto& f : replies) {
    const auto r = f.get();
    REQUIRE(!r.error);
    REQUIRE(r.batch_requests == 3);
  }
  REQUIRE(!batcher.submit(images(1, 9)).has_value());  // refused after shutdown
}

TEST_CASE("batcher: without batching every request runs alone, on two workers") {
  pare::serve::ModelSlot slot(pare::serve::load_served_model(cnn));
  pare::serve::Batcher batcher(slot, {.enabled = false, .workers = 2});
  std::vector<std::future<pare::serve::Reply>> replies;
  for (int i = 0; i < 8; ++i) replies.push_back(*batcher.submit(images(2, i)));
  for (auto& f : replies) REQUIRE(f.get().batch_requests == 1);
}

TEST_CASE("model slot: reload swaps, a bad file leaves the model, holders keep theirs") {
  const auto dir = std::filesystem::temp_directory_path() / "pare-serve-slot-test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "model.onnx";
  std::filesystem::copy_file(cnn, path, std::filesystem::copy_options::overwrite_existing);
  pare::serve::ModelSlot slot(pare::serve::load_served_model(path));
  const auto v1 = slot.current();
  REQUIRE(v1->version == 1);
  const auto v2 = slot.reload(path);
  REQUIRE(v2->version == 2);
  REQUIRE(slot.current() == v2);
  // v1 is still usable by whoever holds it
  REQUIRE(pare::serve::run_request(*v1, images(1, 1))[0].shape == std::vector<std::size_t>{1, 10});
  {
    std::ofstream bad(dir / "bad.onnx", std::ios::binary);
    bad << "not a model";
  }
  REQUIRE_THROWS_AS(slot.reload(dir / "bad.onnx"), pare::Error);
  REQUIRE_THROWS_AS(slot.reload(dir / "missing.onnx"), pare::Error);
  REQUIRE(slot.current() == v2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("metrics: Prometheus text for counters, histograms and quantiles") {
  pare::serve::Histogram h({1, 2, 4});
  for (double x : {0.5, 1.0, 3.0, 9.0}) h.observe(x);
  std::string out;
  h.write(out, "b", "rows");
  REQUIRE(out ==
          "# HELP b rows\n# TYPE b histogram\nb_bucket{le=\"1\"} 2\nb_bucket{le=\"2\"} 2\n"
          "b_bucket{le=\"4\"} 3\nb_bucket{le=\"+Inf\"} 4\nb_sum 13.5\nb_count 4\n");
  pare::serve::Quantiles q(100);
  for (int i = 1; i <= 200; ++i) q.observe(i);  // the window holds 101..200
  REQUIRE(q.quantile(0.5) == 150);
  REQUIRE(q.quantile(0.99) == 199);
  REQUIRE(q.quantile(1.0) == 200);
  pare::serve::LabeledCounter c("code");
  c.add("200", 3);
  c.add("503");
  out.clear();
  c.write(out, "r", "requests");
  REQUIRE(out == "# HELP r requests\n# TYPE r counter\nr{code=\"200\"} 3\nr{code=\"503\"} 1\n");
}

TEST_CASE("model slot: declared input shapes and types survive a .pare round trip") {
  const pare::Model m = pare::load_model(cnn);
  const auto specs = pare::serve::input_specs(m);
  REQUIRE(specs.size() == 1);
  REQUIRE(specs[0].type == pare::graph::ValueType::f32);
  const auto path = std::filesystem::temp_directory_path() / "pare-serve-types.pare";
  pare::save_model(m, path);
  const auto back = pare::serve::input_specs(pare::load_model(path));
  std::filesystem::remove(path);
  REQUIRE(back.size() == 1);
  REQUIRE(back[0].name == specs[0].name);
  REQUIRE(back[0].shape == specs[0].shape);
  REQUIRE(back[0].type == specs[0].type);
}
