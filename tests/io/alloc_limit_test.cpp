// SPDX-License-Identifier: Apache-2.0
// Readers must not allocate more than the file can justify. This file replaces the global
// operator new of the io test binary to record the largest single request while a probe is
// active, and feeds every reader small files that declare huge arrays.
// GCC sees `free` inside `operator delete` and warns of a new/free mismatch; here the pair is the
// replacement allocator itself (operator new calls malloc), which is exactly what is wanted.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "io/io_test_util.hpp"
#include "pare/io/npy.hpp"
#include "pare/io/npz.hpp"
#include "pare/io/safetensors.hpp"

namespace {
thread_local bool probing = false;
thread_local std::size_t largest = 0;

void* allocate(std::size_t n, std::size_t align) {
  if (probing && n > largest) largest = n;
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(n)
                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

/// The largest single allocation `f` makes (exceptions from f are swallowed).
template <class F>
std::size_t largest_allocation(F&& f) {
  largest = 0;
  probing = true;
  try {
    f();
  } catch (...) {
  }
  probing = false;
  return largest;
}
}  // namespace

// Every replaceable form, so no pointer from the sanitizer's allocator meets our free().
void* operator new(std::size_t n) { return allocate(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return allocate(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return allocate(n, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("Readers allocate no more than a small file justifies", "[io][alloc]") {
  constexpr std::size_t limit = 64 * 1024;
  pare_test::TempDir dir;

  // .npy: 100-odd bytes declaring 2^40 float elements (4 TiB).
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }";
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::vector<std::byte> npy;
  pare_test::append(npy, std::string("\x93NUMPY\x01\x00", 8));
  pare_test::append_le<std::uint16_t>(npy, static_cast<std::uint16_t>(h.size()));
  pare_test::append(npy, h);
  npy.resize(npy.size() + 16);
  pare_test::write_all(dir / "big.npy", npy);
  REQUIRE_THROWS_AS((pare::io::read_npy<float, 1>(dir / "big.npy")), pare::FormatError);
  REQUIRE(largest_allocation([&] { (void)pare::io::read_npy<float, 1>(dir / "big.npy"); }) < limit);

  // safetensors: the same claim.
  const std::string json =
      R"({"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}})";
  std::vector<std::byte> st;
  pare_test::append_le<std::uint64_t>(st, json.size());
  pare_test::append(st, json);
  st.resize(100);
  pare_test::write_all(dir / "big.safetensors", st);
  REQUIRE_THROWS_AS(pare::io::SafetensorsFile::open(dir / "big.safetensors"), pare::FormatError);
  REQUIRE(largest_allocation(
              [&] { (void)pare::io::SafetensorsFile::open(dir / "big.safetensors"); }) < limit);

  // safetensors: a header length of 2^62 in a 16-byte file; and a very deep JSON nest.
  std::vector<std::byte> lie;
  pare_test::append_le<std::uint64_t>(lie, std::uint64_t{1} << 62);
  pare_test::append(lie, "{}      ");
  pare_test::write_all(dir / "lie.safetensors", lie);
  REQUIRE(largest_allocation(
              [&] { (void)pare::io::SafetensorsFile::open(dir / "lie.safetensors"); }) < limit);
  std::vector<std::byte> deep;
  pare_test::append_le<std::uint64_t>(deep, 1u << 20);
  pare_test::append(deep, "{\"a\":" + std::string((1u << 20) - 5, '['));
  pare_test::write_all(dir / "deep.safetensors", deep);
  REQUIRE_THROWS_AS(pare::io::SafetensorsFile::open(dir / "deep.safetensors"), pare::FormatError);
  REQUIRE(largest_allocation(
              [&] { (void)pare::io::SafetensorsFile::open(dir / "deep.safetensors"); }) < limit);

  // .npz: an end record claiming 65535 entries in a tiny directory.
  auto npz = pare_test::read_all(pare_test::io_data("npy/arrays.npz"));
  const std::size_t eocd = npz.size() - 22;
  npz[eocd + 8] = npz[eocd + 9] = npz[eocd + 10] = npz[eocd + 11] = std::byte{0xFE};
  pare_test::write_all(dir / "many.npz", npz);
  REQUIRE_THROWS_AS(pare::io::NpzFile::open(dir / "many.npz"), pare::FormatError);
  REQUIRE(largest_allocation([&] { (void)pare::io::NpzFile::open(dir / "many.npz"); }) < limit);
}

TEST_CASE("The allocation probe sees large allocations", "[io][alloc]") {
  REQUIRE(largest_allocation([] { std::vector<char> v(1 << 20); }) >= (1u << 20));
}
