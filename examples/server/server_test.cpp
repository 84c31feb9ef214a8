// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of pare_server: each case starts the real server (fork + exec, port 0) on the
// small ONNX CNN of tests/data/onnx and talks HTTP to it with cpp-httplib's client.
//
//   pare_server_test SERVER DATA_DIR WORK_DIR CASE
//   CASE: predict | bad_input | concurrent | overload | reload | kill_reload | sigterm | load
//
// Exit 0 on success, 1 with a message on failure, 77 when a tool the case needs is missing.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pare/io/load_model.hpp"
#include "pare/io/npy.hpp"
#include "pare/serve/model_slot.hpp"
#include "pare/serve/request.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::atomic<pid_t> running_server{-1};  // killed by fail(): exit() runs no destructors

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "FAIL: %s\n", why.c_str());
  if (const pid_t p = running_server.load(); p > 0) kill(p, SIGKILL);
  std::exit(1);
}
void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A running pare_server.
struct Server {
  pid_t pid = -1;
  int port = 0;

  Server(const std::string& exe, const fs::path& model, const fs::path& work,
         std::vector<std::string> extra = {}) {
    const fs::path port_file = work / "port";
    fs::remove(port_file);
    std::vector<std::string> args{exe, model.string(), "--port",
                                  "0", "--port-file",  port_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
    running_server = pid;
    for (int i = 0; i < 600 && port == 0; ++i) {  // up to 30 s (sanitizer builds load slowly)
      std::this_thread::sleep_for(50ms);
      if (fs::exists(port_file)) port = std::atoi(read_file(port_file).c_str());
      int status = 0;
      if (port == 0 && waitpid(pid, &status, WNOHANG) == pid) fail("the server exited at start");
    }
    check(port > 0, "the server did not start listening");
  }
  Server(const Server&) = delete;
  ~Server() {
    if (pid > 0) {
      running_server = -1;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  [[nodiscard]] httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  /// SIGTERM, then the exit status.
  int stop() {
    running_server = -1;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

std::string images_json(std::size_t rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::string s = "{\"inputs\": [";
  for (std::size_t r = 0; r < rows; ++r) {
    s += r ? ", [[" : "[[";
    for (int y = 0; y < 8; ++y) {
      s += y ? ", [" : "[";
      for (int x = 0; x < 8; ++x) s += (x ? ", " : "") + std::to_string(u(rng));
      s += "]";
    }
    s += "]]";
  }
  return s + "]}";
}

/// The logits pare computes in this process for the same body (the reference).
std::vector<float> expected_logits(const fs::path& model, const std::string& body) {
  static const auto m = pare::serve::load_served_model(model);
  const auto r = pare::serve::parse_json_request(body, m->inputs);
  return pare::serve::run_request(*m, r)[0].floats;
}

std::vector<float> logits_of(const std::string& reply_json) {
  const auto pos = reply_json.find("\"data\": [");
  check(pos != std::string::npos, "no data in the reply: " + reply_json);
  std::vector<float> out;
  const char* p = reply_json.c_str() + pos + 9;
  while (*p && *p != ']') {
    char* end = nullptr;
    out.push_back(std::strtof(p, &end));
    p = end;
    while (*p == ',' || *p == ' ') ++p;
  }
  return out;
}

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

void case_predict(const std::string& exe, const fs::path& data, const fs::path& work) {
  const fs::path model = data / "onnx/cnn.onnx";
  Server s(exe, model, work);
  auto c = s.client();
  check(status_of(c.Get("/healthz")) == 200, "healthz");
  const auto info = c.Get("/model");
  check(info && info->body.find("\"batchable\":true") != std::string::npos, "model info");
  const std::string body = images_json(3, 1);
  const auto r = c.Post("/predict", body, "application/json");
  check(status_of(r) == 200, "predict: " + (r ? r->body : std::string("no reply")));
  check(logits_of(r->body) == expected_logits(model, body), "JSON logits differ from pare's");
  // the same images as .npy in and .npy out
  const auto req =
      pare::serve::parse_json_request(body, pare::serve::input_specs(pare::load_model(model)));
  httplib::Headers accept{{"Accept", "application/x-npy"}};
  const auto n =
      c.Post("/predict", accept, pare::serve::value_npy(req.inputs[0]), "application/x-npy");
  check(status_of(n) == 200, "npy predict");
  const auto back = pare::io::parse_npy(
      std::span(reinterpret_cast<const std::byte*>(n->body.data()), n->body.size()), nullptr,
      "reply");
  std::vector<float> got(back.size());
  std::memcpy(got.data(), back.data.data(), back.data.size());
  check(got == expected_logits(model, body), ".npy logits differ");
  const auto m = c.Get("/metrics");
  check(m && m->body.find("pare_requests_total{code=\"200\"} 2") != std::string::npos,
        "metrics count: " + (m ? m->body : ""));
  check(s.stop() == 0, "exit status after SIGTERM");
}

void case_bad_input(const std::string& exe, const fs::path& data, const fs::path& work) {
  Server s(exe, data / "onnx/cnn.onnx", work,
           {"--max-body-bytes", "100000", "--max-elements", "2000", "--read-timeout-ms", "500",
            "--body-timeout-ms", "1500"});
  auto c = s.client();
  auto expect = [&](int want, const httplib::Result& r, const char* what) {
    check(status_of(r) == want, std::string(what) + ": got " + std::to_string(status_of(r)) + " " +
                                    (r ? r->body : std::string()));
    check(r->body.find("\"error\"") != std::string::npos, std::string(what) + ": no message");
  };
  expect(400, c.Post("/predict", "{\"inputs\": [[1, 2", "application/json"), "malformed JSON");
  expect(400, c.Post("/predict", "{\"x\": 1}", "application/json"), "no inputs");
  expect(422, c.Post("/predict", "{\"inputs\": [[1, 2, 3]]}", "application/json"), "shape");
  expect(422, c.Post("/predict", "{\"inputs\": [[[[\"a\"]]]]}", "application/json"), "string");
  expect(415, c.Post("/predict", "<xml/>", "application/xml"), "content type");
  pare::graph::Value wide;
  wide.type = pare::graph::ValueType::i64;
  wide.shape = {1, 1, 8, 8};
  wide.ints.assign(64, 1);
  expect(422, c.Post("/predict", pare::serve::value_npy(wide), "application/x-npy"), "dtype");
  expect(400, c.Post("/predict", std::string("\x93NUMPY garbage"), "application/x-npy"), "bad npy");
  expect(413, c.Post("/predict", std::string(200000, ' '), "application/json"), "oversized");
  expect(413, c.Post("/predict", images_json(40, 2), "application/json"), "too many numbers");
  // A slow client: headers promise 1000 bytes, 10 arrive, then nothing.
  {
    httplib::Client slow("127.0.0.1", s.port);
    slow.set_read_timeout(10, 0);
    std::atomic<bool> sent{false};
    const auto r = slow.Post(
        "/predict", 1000,
        [&](std::size_t, std::size_t, httplib::DataSink& sink) {
          if (!sent.exchange(true)) {
            sink.write("{\"inputs\":", 10);
            return true;
          }
          std::this_thread::sleep_for(3s);
          return false;
        },
        "application/json");
    // Either a 4xx arrived or the server closed the connection on the stalled body.
    check(!r || (r->status >= 400 && r->status < 500),
          "slow client got " + std::to_string(status_of(r)));
  }
  check(status_of(c.Get("/healthz")) == 200, "healthz after the bad requests");
  const std::string body = images_json(1, 3);
  check(status_of(c.Post("/predict", body, "application/json")) == 200, "good after bad");
  check(s.stop() == 0, "exit status");
}

void case_concurrent(const std::string& exe, const fs::path& data, const fs::path& work) {
  const fs::path model = data / "onnx/cnn.onnx";
  Server s(exe, model, work, {"--workers", "2", "--max-batch", "16", "--max-wait-us", "5000"});
  constexpr int threads = 12, each = 15;
  std::vector<std::string> bodies;
  std::vector<std::vector<float>> want;
  for (int i = 0; i < 6; ++i) {
    bodies.push_back(images_json(1 + i % 3, 100 + i));
    want.push_back(expected_logits(model, bodies.back()));
  }
  std::atomic<int> ok{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      auto c = s.client();
      for (int i = 0; i < each; ++i) {
        const int k = (t + i) % 6;
        const auto r = c.Post("/predict", bodies[k], "application/json");
        if (status_of(r) != 200) {
          ++wrong;
          continue;
        }
        // Stacked runs may round differently from a lone run (another GEMM shape): 1e-5.
        const auto got = logits_of(r->body);
        bool close = got.size() == want[k].size();
        for (std::size_t j = 0; close && j < got.size(); ++j)
          close = std::abs(got[j] - want[k][j]) <= 1e-5f * (1 + std::abs(want[k][j]));
        (close ? ok : wrong)++;
      }
    });
  for (auto& t : pool) t.join();
  check(wrong == 0 && ok == threads * each, "concurrent replies: " + std::to_string(wrong) +
                                                " wrong of " + std::to_string(threads * each));
  const auto m = s.client().Get("/metrics");
  check(m && m->body.find("pare_batch_requests_bucket{le=\"1\"}") != std::string::npos, "metrics");
  // some run held more than one request
  const auto at = m->body.find("pare_batch_requests_bucket{le=\"1\"} ");
  const long single = std::atol(m->body.c_str() + at + 35);
  const auto total_at = m->body.find("pare_batch_requests_count ");
  const long runs = std::atol(m->body.c_str() + total_at + 26);
  std::printf("runs %ld, of them single-request %ld\n", runs, single);
  check(runs < threads * each, "no request was batched");
  check(s.stop() == 0, "exit status");
}

void case_overload(const std::string& exe, const fs::path& data, const fs::path& work) {
  // Two requests fit; the worker holds them for 3 s waiting for company.
  Server s(exe, data / "onnx/cnn.onnx", work,
           {"--queue", "2", "--max-batch", "64", "--max-wait-us", "3000000"});
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> pool;
  const std::string body = images_json(1, 5);
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&] {
      const auto r = s.client().Post("/predict", body, "application/json");
      const int st = status_of(r);
      (st == 200 ? ok : st == 503 ? busy : other)++;
      if (st == 503 && r->get_header_value("Retry-After").empty()) ++other;
    });
  for (auto& t : pool) t.join();
  std::printf("200: %d, 503: %d, other: %d\n", ok.load(), busy.load(), other.load());
  check(other == 0 && ok >= 2 && busy >= 1, "overload answers");
  const auto m = s.client().Get("/metrics");
  check(
      m && m->body.find("pare_rejected_total " + std::to_string(busy.load())) != std::string::npos,
      "rejected count in metrics");
  check(s.stop() == 0, "exit status");
}

void case_reload(const std::string& exe, const fs::path& data, const fs::path& work) {
  const fs::path model = work / "model.onnx";
  fs::copy_file(data / "onnx/cnn.onnx", model, fs::copy_options::overwrite_existing);
  Server s(exe, model, work);
  auto c = s.client();
  const std::string body = images_json(2, 7);
  const auto before = logits_of(c.Post("/predict", body, "application/json")->body);
  // keep requests going during the reloads: none may fail
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, done{0};
  std::thread traffic([&] {
    auto t = s.client();
    while (!stop) {
      const auto r = t.Post("/predict", body, "application/json");
      if (status_of(r) != 200 || logits_of(r->body) != before) ++failures;
      ++done;
    }
  });
  auto r = c.Post("/admin/reload", "", "application/octet-stream");
  check(status_of(r) == 200 && r->body.find("\"version\":2") != std::string::npos,
        "reload from the file: " + (r ? r->body : ""));
  // upload a .pare of the same model: it replaces the file
  const fs::path pare_copy = work / "upload.pare";
  pare::save_model(pare::load_model(data / "onnx/cnn.onnx"), pare_copy);
  const std::string upload = read_file(pare_copy);
  r = c.Post("/admin/reload", upload, "application/octet-stream");
  check(status_of(r) == 200 && r->body.find("\"version\":3") != std::string::npos,
        "reload by upload: " + (r ? r->body : ""));
  check(read_file(model) == upload, "the uploaded file replaced the model file");
  check(r->body.find("\"path\":\"" + model.string() + "\"") != std::string::npos,
        "the new model is known by the model file's name: " + r->body);
  // a broken upload is refused; the model and its file stay
  r = c.Post("/admin/reload", std::string("not a model at all"), "application/octet-stream");
  check(status_of(r) == 422, "broken upload refused");
  check(read_file(model) == upload, "the model file survived the broken upload");
  check(!fs::exists(model.string() + ".incoming"), "no staging file left");
  check(c.Get("/healthz")->body.find("\"model_version\": 3") != std::string::npos, "version 3");
  std::this_thread::sleep_for(200ms);
  stop = true;
  traffic.join();
  std::printf("%d requests during the reloads\n", done.load());
  check(failures == 0, std::to_string(failures) + " requests failed during the reloads");
  check(s.stop() == 0, "exit status");
}

void case_kill_reload(const std::string& exe, const fs::path& data, const fs::path& work) {
  const fs::path model = work / "model.pare";
  const fs::path next = work / "next.pare";
  pare::save_model(pare::load_model(data / "onnx/cnn.onnx"), model);
  pare::save_model(pare::load_model(data / "onnx/cnn_bn.onnx"), next);
  const std::string old_bytes = read_file(model);
  const std::string new_bytes = read_file(next);
  check(old_bytes != new_bytes, "two different models");
  std::mt19937 rng(42);
  int old_kept = 0, new_taken = 0;
  for (int round = 0; round < 8; ++round) {
    Server s(exe, model, work);
    const int port = s.port;
    // a slow upload: 2 KiB every 2 ms, so the kill lands in the body, the load or the swap
    std::thread upload([&] {
      httplib::Client c("127.0.0.1", port);
      (void)c.Post(
          "/admin/reload", new_bytes.size(),
          [&](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            const std::size_t n = std::min<std::size_t>(2048, new_bytes.size() - offset);
            sink.write(new_bytes.data() + offset, n);
            std::this_thread::sleep_for(2ms);
            return true;
          },
          "application/octet-stream");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
    kill(s.pid, SIGKILL);
    waitpid(s.pid, nullptr, 0);
    s.pid = -1;
    upload.join();
    const std::string now = read_file(model);
    check(now == old_bytes || now == new_bytes,
          "round " + std::to_string(round) + ": the model file is neither model whole");
    (now == old_bytes ? old_kept : new_taken)++;
    const fs::path staging = model.string() + ".incoming";
    check(!fs::exists(staging) || read_file(staging) == new_bytes, "a partial staging file");
    fs::remove(staging);
    pare::save_model(pare::load_model(data / "onnx/cnn.onnx"), model);  // start again from A
  }
  std::printf("killed during 8 uploads: old model kept %d times, new model in place %d times\n",
              old_kept, new_taken);
  // the file left behind serves
  Server s(exe, model, work);
  check(status_of(s.client().Post("/predict", images_json(1, 9), "application/json")) == 200,
        "the surviving file serves");
}

void case_sigterm(const std::string& exe, const fs::path& data, const fs::path& work) {
  // Requests wait 3 s for company, so SIGTERM arrives while they are in flight.
  Server s(exe, data / "onnx/cnn.onnx", work, {"--max-batch", "64", "--max-wait-us", "3000000"});
  std::atomic<int> ok{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      const auto r =
          s.client().Post("/predict", images_json(1, static_cast<unsigned>(t)), "application/json");
      if (status_of(r) == 200) ++ok;
    });
  // SIGTERM once all four are inside the server (a loaded machine may take a while to send them)
  for (int i = 0; i < 400; ++i) {
    const auto m = s.client().Get("/metrics");
    if (m && m->body.find("pare_in_flight_requests 4") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  const auto start = std::chrono::steady_clock::now();
  const int status = s.stop();
  for (auto& t : pool) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("in flight at SIGTERM: 4, answered 200: %d, exit %d after %.2f s\n", ok.load(),
              status, seconds);
  check(ok == 4, "every request in flight was answered");
  check(seconds < 2.5, "the shutdown waited out the 3 s batching wait");
  check(status == 0, "clean exit");
}

void case_load(const std::string& exe, const fs::path& data, const fs::path& work) {
  if (std::system("command -v hey >/dev/null 2>&1") != 0) {
    std::printf("hey is not installed (apt-get install hey): skipped\n");
    std::exit(77);
  }
  Server s(exe, data / "onnx/cnn.onnx", work, {"--workers", "1", "--max-batch", "32"});
  const fs::path body = work / "body.json";
  std::ofstream(body) << images_json(1, 11);
  const fs::path out = work / "hey.txt";
  // 600 requests from 8 connections, at most 60 s.
  const std::string cmd = "timeout 60 hey -n 600 -c 8 -t 20 -m POST -T application/json -D " +
                          body.string() + " http://127.0.0.1:" + std::to_string(s.port) +
                          "/predict > " + out.string();
  check(std::system(cmd.c_str()) == 0, "hey failed or ran over 60 s");
  const std::string report = read_file(out);
  std::cout << report;
  check(report.find("[200]\t600 responses") != std::string::npos, "not all 600 answered 200");
  check(s.stop() == 0, "exit status");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: pare_server_test SERVER DATA_DIR WORK_DIR CASE\n");
    return 2;
  }
  const std::string exe = argv[1];
  const fs::path data = argv[2];
  const fs::path work = fs::path(argv[3]) / argv[4];
  const std::string which = argv[4];
  fs::remove_all(work);
  fs::create_directories(work);
  signal(SIGPIPE, SIG_IGN);
  if (which == "predict")
    case_predict(exe, data, work);
  else if (which == "bad_input")
    case_bad_input(exe, data, work);
  else if (which == "concurrent")
    case_concurrent(exe, data, work);
  else if (which == "overload")
    case_overload(exe, data, work);
  else if (which == "reload")
    case_reload(exe, data, work);
  else if (which == "kill_reload")
    case_kill_reload(exe, data, work);
  else if (which == "sigterm")
    case_sigterm(exe, data, work);
  else if (which == "load")
    case_load(exe, data, work);
  else
    fail("unknown case " + which);
  std::printf("ok: %s\n", which.c_str());
  return 0;
}
