// SPDX-License-Identifier: Apache-2.0
// pare_server — an HTTP inference server for any model pare runs (ONNX, .pare, a compressed
// .pare), on cpp-httplib and pare/serve.hpp. Copy it and change what your application needs.
//
//   pare_server model.pare --port 8080 --workers 1 --threads 1 --max-batch 32 --max-wait-us 0
//
//   POST /predict        JSON {"inputs": ...} / {"instances": ...}, or a .npy body
//                        (Content-Type: application/x-npy); Accept: application/x-npy returns the
//                        first output (or ?output=NAME) as .npy, otherwise JSON
//   GET  /healthz        200 while serving, 503 once shutting down
//   GET  /metrics        Prometheus text: requests by status, latency quantiles and histogram,
//                        batch sizes, queue depth, model version, reloads
//   GET  /model          the model's inputs (names, shapes, types) and outputs
//   POST /admin/reload   empty body: reload the model file (also on SIGHUP); a model file as the
//                        body: stage it, check that it loads and runs, move it over the model
//                        file, then swap it in (a kill at any moment leaves one whole file)
//
// Threads: httplib's connection threads decode and check requests and wait for their replies;
// `--workers` threads run the model (pare::serve::Batcher), each kernel on up to `--threads` of
// pare's threads. SIGTERM/SIGINT: stop accepting, answer every request already received, exit 0.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "pare/core/json.hpp"
#include "pare/core/parallel.hpp"
#include "pare/io/atomic_write.hpp"
#include "pare/serve.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace serve = pare::serve;

struct Options {
  std::filesystem::path model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string port_file;  // written once listening (port 0 picks a free one)
  std::size_t threads = 1;
  serve::BatchingOptions batching;
  std::size_t http_threads = 64;
  std::size_t max_body_bytes = std::size_t{16} << 20;
  std::size_t max_upload_bytes = std::size_t{2} << 30;
  serve::RequestLimits limits;
  int read_timeout_ms = 5000;   // one read of a request's bytes
  int body_timeout_ms = 10000;  // a whole request body
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "pare_server: %s\n"
               "usage: pare_server MODEL [--host H] [--port P] [--port-file F] [--workers N]\n"
               "       [--threads T] [--max-batch ROWS] [--max-wait-us US] [--no-batching]\n"
               "       [--queue N] [--http-threads N] [--max-body-bytes B] [--max-elements N]\n"
               "       [--read-timeout-ms MS] [--body-timeout-ms MS]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  auto number = [&](int& i) -> std::size_t {
    if (i + 1 >= argc) usage("an option lacks its value");
    char* end = nullptr;
    const unsigned long long v = std::strtoull(argv[++i], &end, 10);
    if (end == argv[i] || *end != '\0') usage("an option's value is not a number");
    return static_cast<std::size_t>(v);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--host" && i + 1 < argc)
      o.host = argv[++i];
    else if (a == "--port")
      o.port = static_cast<int>(number(i));
    else if (a == "--port-file" && i + 1 < argc)
      o.port_file = argv[++i];
    else if (a == "--workers")
      o.batching.workers = number(i);
    else if (a == "--threads")
      o.threads = number(i);
    else if (a == "--max-batch")
      o.batching.max_batch_rows = number(i);
    else if (a == "--max-wait-us")
      o.batching.max_wait = std::chrono::microseconds(number(i));
    else if (a == "--no-batching")
      o.batching.enabled = false;
    else if (a == "--queue")
      o.batching.queue_capacity = number(i);
    else if (a == "--http-threads")
      o.http_threads = number(i);
    else if (a == "--max-body-bytes")
      o.max_body_bytes = number(i);
    else if (a == "--max-elements")
      o.limits.max_elements = number(i);
    else if (a == "--read-timeout-ms")
      o.read_timeout_ms = static_cast<int>(number(i));
    else if (a == "--body-timeout-ms")
      o.body_timeout_ms = static_cast<int>(number(i));
    else if (!a.empty() && a[0] != '-' && o.model.empty())
      o.model = a;
    else
      usage(("unknown argument " + a).c_str());
  }
  if (o.model.empty()) usage("no model file");
  if (o.batching.workers == 0 || o.threads == 0 || o.http_threads == 0)
    usage("--workers, --threads and --http-threads must be at least 1");
  return o;
}

/// Everything /metrics reports.
struct Metrics {
  serve::LabeledCounter requests{"code"};
  serve::Quantiles latency{4096};
  serve::Histogram latency_histogram{
      {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}};
  serve::Histogram batch_rows{{1, 2, 4, 8, 16, 32, 64, 128, 256}};
  serve::Histogram batch_requests{{1, 2, 4, 8, 16, 32, 64}};
  serve::Histogram run_seconds{{0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5}};
  serve::Counter rejected;  // 503: queue full
  serve::LabeledCounter reloads{"result"};
  std::atomic<long> in_flight{0};
};

std::string error_json(const std::string& message) {
  return "{\"error\": " + pare::Json(message).dump() + "}\n";
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_json(message), "application/json");
}

/// Reads the body through httplib's content reader, refusing it past `limit` bytes (413) or
/// past the body deadline (408). Returns false (with the response set) when refused.
bool read_body(const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader& reader, std::size_t limit, int timeout_ms,
               std::string& body) {
  const std::string declared = req.get_header_value("Content-Length");
  if (!declared.empty() && std::strtoull(declared.c_str(), nullptr, 10) > limit) {
    res.set_header("Connection", "close");
    reply_error(
        res, 413,
        "the body is larger than the server's limit of " + std::to_string(limit) + " bytes");
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int refused = 0;
  const bool ok = reader([&](const char* data, std::size_t n) {
    if (body.size() + n > limit) {
      refused = 413;
      return false;
    }
    if (Clock::now() > deadline) {
      refused = 408;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (refused == 0 && Clock::now() > deadline) refused = 408;
  if (ok && refused == 0) return true;
  res.set_header("Connection", "close");
  if (refused == 413)
    reply_error(
        res, 413,
        "the body is larger than the server's limit of " + std::to_string(limit) + " bytes");
  else if (refused == 408)
    reply_error(res, 408,
                "the body took longer than " + std::to_string(timeout_ms) + " ms to arrive");
  else
    reply_error(res, 400, "the body could not be read (connection closed or timed out)");
  return false;
}

std::string model_json(const serve::ServedModel& m) {
  pare::Json inputs = pare::Json::array();
  for (const auto& s : m.inputs) {
    pare::Json in = pare::Json::object({{"name", s.name}});
    in["shape"] = pare::Json(s.shape);
    in["dtype"] =
        pare::Json(std::string(pare::graph::name(s.type.value_or(pare::graph::ValueType::f32))));
    inputs.push_back(std::move(in));
  }
  pare::Json j = pare::Json::object({{"path", m.path.string()}});
  j["version"] = pare::Json(static_cast<std::int64_t>(m.version));
  j["inputs"] = std::move(inputs);
  j["outputs"] = pare::Json(m.model.output_names());
  j["batchable"] = pare::Json(m.batchable);
  return j.dump() + "\n";
}

/// fsync of a folder, so a rename in it survives a power cut.
void sync_folder(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  pare::set_num_threads(opt.threads);

  // Signals go to one thread (sigwait below), never to a worker in the middle of a request.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<serve::ModelSlot> slot;
  try {
    slot = std::make_unique<serve::ModelSlot>(serve::load_served_model(opt.model));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pare_server: cannot serve %s: %s\n", opt.model.c_str(), e.what());
    return 1;
  }
  Metrics metrics;
  serve::Batcher batcher(*slot, opt.batching, [&](const serve::BatchRecord& r) {
    metrics.batch_rows.observe(static_cast<double>(r.rows));
    metrics.batch_requests.observe(static_cast<double>(r.requests));
    metrics.run_seconds.observe(std::chrono::duration<double>(r.run_time).count());
  });
  std::atomic<bool> draining{false};
  std::mutex reload_mutex;  // one reload (and one staged upload) at a time

  // Loads `from` and swaps it in. A staged upload is renamed over the model file only once it
  // has loaded and run, then swapped in: a kill at any moment leaves one whole model file.
  auto reload = [&](const std::filesystem::path& from, bool staged) {
    std::lock_guard lock(reload_mutex);
    try {
      auto next = serve::load_served_model(from);
      if (staged) {
        std::filesystem::rename(from, opt.model);
        sync_folder(opt.model.parent_path());
        next->path = opt.model;
      }
      const auto m = slot->install(std::move(next));
      metrics.reloads.add("ok");
      std::fprintf(stderr, "pare_server: now serving %s, version %llu\n", opt.model.c_str(),
                   static_cast<unsigned long long>(m->version));
      return std::string();
    } catch (const std::exception& e) {
      metrics.reloads.add("failed");
      std::fprintf(stderr, "pare_server: reload refused, still serving the previous model: %s\n",
                   e.what());
      return std::string(e.what());
    }
  };

  httplib::Server server;
  server.new_task_queue = [n = opt.http_threads] { return new httplib::ThreadPool(n); };
  server.set_read_timeout(opt.read_timeout_ms / 1000, (opt.read_timeout_ms % 1000) * 1000);
  server.set_write_timeout(5, 0);
  server.set_keep_alive_max_count(100000);
  server.set_keep_alive_timeout(5);
  server.set_payload_max_length(std::max(opt.max_body_bytes, opt.max_upload_bytes));
  server.set_tcp_nodelay(true);

  server.Post("/predict", [&](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader) {
    const auto start = Clock::now();
    metrics.in_flight.fetch_add(1);
    auto done = [&] {
      metrics.in_flight.fetch_sub(1);
      // httplib fills in 200 after the handler when it set no status
      metrics.requests.add(std::to_string(res.status < 0 ? 200 : res.status));
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      metrics.latency.observe(s);
      metrics.latency_histogram.observe(s);
    };
    std::string body;
    if (!read_body(req, res, reader, opt.max_body_bytes, opt.body_timeout_ms, body)) {
      done();
      return;
    }
    try {
      const auto model = slot->current();
      const std::string type = req.get_header_value("Content-Type");
      serve::Request request;
      if (type.empty() || type.starts_with("application/json")) {
        request = serve::parse_json_request(body, model->inputs, opt.limits);
      } else if (type.starts_with("application/x-npy") ||
                 type.starts_with("application/octet-stream")) {
        request = serve::parse_npy_request(
            std::span(reinterpret_cast<const std::byte*>(body.data()), body.size()), model->inputs,
            opt.limits);
      } else {
        throw serve::RequestError(
            415, "Content-Type " + type + " is not application/json or application/x-npy");
      }
      auto future = batcher.submit(std::move(request));
      if (!future) {
        metrics.rejected.add();
        res.set_header("Retry-After", "1");
        throw serve::RequestError(503, "the server is at capacity (its queue of " +
                                           std::to_string(opt.batching.queue_capacity) +
                                           " requests is full): retry later");
      }
      const serve::Reply reply = future->get();
      if (reply.error) std::rethrow_exception(reply.error);
      res.set_header("X-Model-Version", std::to_string(reply.model->version));
      if (req.get_header_value("Accept").starts_with("application/x-npy")) {
        std::size_t k = 0;
        if (req.has_param("output")) {
          const std::string name = req.get_param_value("output");
          const auto& outs = reply.model->model.output_names();
          k = static_cast<std::size_t>(std::find(outs.begin(), outs.end(), name) - outs.begin());
          if (k == outs.size()) throw serve::RequestError(404, "the model has no output " + name);
        }
        res.set_content(serve::value_npy(reply.outputs[k]), "application/x-npy");
      } else {
        res.set_content(
            serve::outputs_json(reply.model->model.output_names(), reply.outputs) + "\n",
            "application/json");
      }
    } catch (const serve::RequestError& e) {
      reply_error(res, e.status(), e.what());
    } catch (const pare::ShapeError& e) {
      reply_error(res, 422, std::string("the model cannot run this input: ") + e.what());
    } catch (const pare::ArgumentError& e) {
      reply_error(res, 422, std::string("the model cannot run this input: ") + e.what());
    } catch (const std::exception& e) {
      reply_error(res, 500, e.what());
    }
    done();
  });

  server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    if (draining.load()) {
      reply_error(res, 503, "shutting down");
      return;
    }
    res.set_content("{\"status\": \"ok\", \"model_version\": " +
                        std::to_string(slot->current()->version) + "}\n",
                    "application/json");
  });

  server.Get("/model", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(model_json(*slot->current()), "application/json");
  });

  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    std::string out;
    metrics.requests.write(out, "pare_requests_total", "Prediction requests answered, by status");
    metrics.latency.write(out, "pare_request_latency_seconds",
                          "Prediction latency (receipt of the body to the reply), last 4096");
    metrics.latency_histogram.write(out, "pare_request_duration_seconds",
                                    "Prediction latency since start");
    metrics.batch_rows.write(out, "pare_batch_rows", "Rows per model run");
    metrics.batch_requests.write(out, "pare_batch_requests", "Requests per model run");
    metrics.run_seconds.write(out, "pare_run_seconds", "Time of one model run");
    metrics.rejected.write(out, "pare_rejected_total", "Requests refused with 503 (queue full)");
    metrics.reloads.write(out, "pare_reloads_total", "Model reloads, by result");
    serve::write_gauge(out, "pare_queue_depth", "Requests waiting for a worker",
                       static_cast<double>(batcher.queued()));
    serve::write_gauge(out, "pare_in_flight_requests", "Prediction requests being handled",
                       static_cast<double>(metrics.in_flight.load()));
    serve::write_gauge(out, "pare_model_version", "Version of the model being served",
                       static_cast<double>(slot->current()->version));
    res.set_content(out, "text/plain; version=0.0.4");
  });

  server.Post("/admin/reload", [&](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
    const std::string declared = req.get_header_value("Content-Length");
    const bool has_body =
        (!declared.empty() && declared != "0") || req.has_header("Transfer-Encoding");
    if (!has_body) {
      const std::string error = reload(opt.model, false);
      if (error.empty())
        res.set_content(model_json(*slot->current()), "application/json");
      else
        reply_error(res, 422, error);
      return;
    }
    // A new model file as the body: written whole to a staging file next to the model (an
    // atomic write: a kill leaves no partial file), then checked, then renamed over the model.
    const std::filesystem::path staging = opt.model.string() + ".incoming";
    std::string error;
    {
      std::lock_guard lock(reload_mutex);
      try {
        std::size_t bytes = 0;
        pare::io::atomic_write(staging, [&](pare::io::FileSink& sink) {
          const bool ok = reader([&](const char* data, std::size_t n) {
            bytes += n;
            if (bytes > opt.max_upload_bytes) return false;
            sink.write(data, n);
            return true;
          });
          if (!ok) throw pare::Error("the upload was cut short or exceeds the upload limit");
        });
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    if (error.empty()) error = reload(staging, true);
    if (!error.empty()) {
      std::error_code ignored;
      std::filesystem::remove(staging, ignored);
      reply_error(res, 422, error);
      return;
    }
    res.set_content(model_json(*slot->current()), "application/json");
  });

  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          reply_error(res, 500, e.what());
        } catch (...) {
          reply_error(res, 500, "unknown error");
        }
      });

  const int port = opt.port == 0 ? server.bind_to_any_port(opt.host)
                                 : (server.bind_to_port(opt.host, opt.port) ? opt.port : -1);
  if (port < 0) {
    std::fprintf(stderr, "pare_server: cannot listen on %s:%d\n", opt.host.c_str(), opt.port);
    return 1;
  }
  if (!opt.port_file.empty()) {
    pare::io::atomic_write(opt.port_file,
                           [&](pare::io::FileSink& s) { s.write(std::to_string(port) + "\n"); });
  }
  const auto m = slot->current();
  std::fprintf(stderr,
               "pare_server: serving %s (version %llu, %zu inputs%s) on http://%s:%d — %zu "
               "worker(s) x %zu thread(s), batching %s (max %zu rows, %lld us), queue %zu\n",
               opt.model.c_str(), static_cast<unsigned long long>(m->version), m->inputs.size(),
               m->batchable ? ", batchable" : "", opt.host.c_str(), port, opt.batching.workers,
               opt.threads, opt.batching.enabled ? "on" : "off", opt.batching.max_batch_rows,
               static_cast<long long>(opt.batching.max_wait.count()), opt.batching.queue_capacity);

  std::thread signal_thread([&] {
    while (true) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        (void)reload(opt.model, false);
        continue;
      }
      draining.store(true);
      std::fprintf(stderr, "pare_server: signal %d: finishing the requests in flight\n", sig);
      batcher.stop_waiting();  // no request waits out a batching wait now
      server.stop();
      return;
    }
  });
  server.listen_after_bind();  // returns after stop(), once every connection thread is done
  batcher.shutdown();
  if (!draining.load()) {  // listen failed on its own: let the signal thread go
    draining.store(true);
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  std::fprintf(stderr, "pare_server: stopped after %llu requests\n",
               static_cast<unsigned long long>(metrics.latency_histogram.count()));
  return 0;
}
