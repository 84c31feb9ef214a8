// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the restricted pickle machine (pare/io/detail/pickle.hpp) and the
// state_dict walker, whole and as the first pickle of a legacy stream; inputs that look like a
// zip ("PK") or a legacy torch.save stream (the pickled magic number) also go through
// TorchCheckpoint, which adds the zip reader or the legacy records and the tensor/storage
// checks. Any exception but pare::Error, and any sanitizer report, is a bug.
//
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//       tests/fuzz/fuzz_pickle.cpp -o fuzz_pickle
//   mkdir -p seeds && unzip -p tests/data/torch/mlp.pt mlp/data.pkl > seeds/mlp.pkl
//   cp tests/data/torch/*.pt seeds/ && ./fuzz_pickle -max_total_time=60 seeds
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/io/detail/pickle.hpp"
#include "pare/io/detail/pickle_state_dict.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/io/torch_checkpoint.hpp"

namespace {

void read_checkpoint(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  if (size != 0) std::memcpy(bytes.data(), data, size);
  const pare::io::TorchCheckpoint ck(
      pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.pt"));
  for (const auto& n : ck.names()) {
    const auto& i = ck.info(n);
    if (i.rank() == 1)
      (void)ck.load_float<1>(n);
    else if (i.rank() == 2)
      (void)ck.load_float<2>(n);
    else if (i.rank() == 3)
      (void)ck.load_float<3>(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto p = pare::io::detail::run_pickle(bytes, "fuzz.pkl");
    const auto tensors = pare::io::detail::state_dict_tensors(p);
    for (const auto& t : tensors)
      if (t.tensor >= p.tensors.size() || p.tensors[t.tensor].storage >= p.storages.size())
        __builtin_trap();
  } catch (const pare::Error&) {
  }
  try {
    const auto p = pare::io::detail::run_pickle(bytes, "fuzz.pkl", 0, {},
                                                pare::io::detail::PickleFraming::legacy_stream);
    if (p.size > size) __builtin_trap();
  } catch (const pare::Error&) {
  }
  if ((size >= 2 && data[0] == 'P' && data[1] == 'K') || pare::io::looks_like_legacy_torch(bytes)) {
    try {
      read_checkpoint(data, size);
    } catch (const pare::Error&) {
    }
  }
  return 0;
}
