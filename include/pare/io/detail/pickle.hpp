// SPDX-License-Identifier: Apache-2.0
// pare — a restricted pickle reader for PyTorch state_dicts (the data.pkl of a torch.save archive).
//
// A pickle is a program for a stack machine whose GLOBAL and REDUCE opcodes import and call any
// Python function: `pickle.load` on a hostile file runs `os.system`. This is not an unpickler.
// It knows only the opcodes protocols 2-4 use to write a state_dict (containers, numbers,
// strings, memo, GLOBAL/STACK_GLOBAL, REDUCE, BUILD, BINPERSID) and only the globals a
// state_dict names (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
// _rebuild_parameter, torch.<Type>Storage). It "calls" them by building plain records —
// a tensor is a storage reference plus offset, shape and strides — and runs no code at all.
// Every other opcode or global is a FormatError naming it and its byte offset.
//
// Every quantity is bounded: strings by the bytes that remain, the object count, stack depth,
// open MARKs, memo size and tensor rank by PickleLimits. Objects live in one arena indexed by
// uint32, so shared and even cyclic references (legal in pickles) cost nothing and never
// recurse; the state_dict walker (pickle_state_dict.hpp) bounds its depth and visits each
// container once. Opcode and storage-class names live in pickle_names.hpp.
//
// The legacy torch.save format (PickleFraming::legacy_stream) is a sequence of pickles in one
// file; there a pickle ends at its STOP, and a persistent id has a sixth item: None, or the
// (view key, offset, size) of a storage view that PyTorch before 0.4 could save.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detail/pickle_names.hpp"

namespace pare::io::detail {

/// Bounds on what one pickle may build; the defaults are far above any real state_dict (a
/// 70B-parameter model's data.pkl holds ~20 objects per tensor and a few thousand tensors).
struct PickleLimits {
  std::size_t max_objects = std::size_t{1} << 24;
  std::size_t max_stack = std::size_t{1} << 20;
  std::size_t max_marks = 256;
  std::size_t max_memo = std::size_t{1} << 22;
  std::size_t max_rank = 64;
  std::size_t max_global_name = 256;
  std::size_t max_depth = 16;   ///< container nesting the state_dict walker follows
  std::size_t max_name = 4096;  ///< bytes of a tensor's dotted name
};

enum class PickleKind : std::uint8_t {
  none,
  boolean,
  integer,
  big_integer,
  floating,
  string,
  tuple,
  list,
  dict,
  global,
  storage,
  tensor
};

[[nodiscard]] constexpr std::string_view kind_name(PickleKind k) noexcept {
  constexpr std::string_view names[] = {"None",  "bool",   "int",     "int (wider than 64 bits)",
                                        "float", "str",    "tuple",   "list",
                                        "dict",  "global", "storage", "tensor"};
  return names[static_cast<std::size_t>(k)];
}

/// The globals a state_dict may name.
enum class TorchGlobal : std::uint8_t {
  ordered_dict,
  rebuild_tensor_v2,
  rebuild_parameter,
  storage_type
};

/// One value of the pickle. `index` points into Pickle::strings (str), Pickle::seqs (tuple,
/// list, dict — a dict's sequence holds key, value, key, value ...), Pickle::storages or
/// Pickle::tensors; for a global it is the TorchGlobal and `dtype` the storage type's.
struct PickleObject {
  PickleKind kind = PickleKind::none;
  bool flag = false;  ///< bool value
  DType dtype = DType::u8;
  std::uint32_t index = 0;
  std::int64_t integer = 0;
  double real = 0;
  std::uint64_t at = 0;  ///< file offset of the opcode that made it
};

/// A storage named by a persistent id: ('storage', torch.<Type>Storage, key, location, numel)
/// in a zip archive; the legacy format adds a sixth item, None or a view (view key, offset,
/// size) of the keyed storage.
struct TorchStorageRef {
  std::string key;  ///< names the storage's data (a zip entry, or a record of a legacy file)
  std::string location;
  DType dtype = DType::f32;
  std::uint64_t numel = 0;        ///< elements the tensor's storage has (a view's size)
  std::uint64_t key_numel = 0;    ///< elements of the keyed storage (== numel unless a view)
  std::uint64_t view_offset = 0;  ///< first element of a view in the keyed storage, else 0
  std::uint64_t at = 0;
};

/// Where a pickle's bytes end.
enum class PickleFraming : std::uint8_t {
  whole,          ///< the pickle is all of the bytes given (a zip archive's data.pkl)
  legacy_stream,  ///< one pickle of a legacy torch.save stream: it ends at STOP, bytes follow
};

/// What torch._utils._rebuild_tensor_v2 would have built (not yet checked against the storage).
struct TorchTensorRecord {
  std::uint32_t storage = 0;
  std::uint64_t offset = 0;
  std::vector<std::uint64_t> shape;
  std::vector<std::uint64_t> strides;
  bool requires_grad = false;
  bool parameter = false;
  std::uint64_t at = 0;
};

/// The result of running a pickle: an arena of objects and the index of the one STOP returned.
struct Pickle {
  std::vector<PickleObject> objects;
  std::vector<std::string> strings;
  std::vector<std::vector<std::uint32_t>> seqs;
  std::vector<TorchStorageRef> storages;
  std::vector<TorchTensorRecord> tensors;
  std::uint32_t root = 0;
  std::string file;
  std::uint64_t base = 0;
  std::uint64_t size = 0;  ///< bytes of the pickle, through its STOP

  [[nodiscard]] const PickleObject& at(std::uint32_t i) const { return objects[i]; }
};

/// Runs a pickle under the restrictions above. One use: construct, then run().
class PickleMachine {
 public:
  PickleMachine(std::span<const std::byte> bytes, std::string file, std::uint64_t base = 0,
                PickleLimits limits = {}, PickleFraming framing = PickleFraming::whole)
      : r_(bytes, std::move(file), base), limits_(limits), framing_(framing) {}

  [[nodiscard]] Pickle run();

 private:
  // Executes one opcode; true at STOP.
  bool step(std::uint8_t op);

  [[noreturn]] void fail(const std::string& what) const;

  [[nodiscard]] const PickleObject& obj(std::uint32_t i) const { return p_.objects[i]; }

  std::uint32_t make(PickleKind k, std::uint32_t index = 0);
  std::uint32_t new_seq();
  std::uint32_t tuple(std::vector<std::uint32_t> items);

  void push(std::uint32_t o);
  [[nodiscard]] std::size_t frame() const noexcept { return marks_.empty() ? 0 : marks_.back(); }
  // Stack underflow: fewer than n values above the innermost MARK.
  void need(std::size_t n) const;
  std::uint32_t pop();
  std::vector<std::uint32_t> pop_mark();
  // The list or dict on top of the stack, which SETITEM(S)/APPEND(S) mutate in place.
  std::uint32_t container(PickleKind k);
  void add_items(std::uint32_t seq, const std::vector<std::uint32_t>& items);

  void push_int(std::int64_t v);
  void long1();
  void push_string(std::uint64_t n);
  std::string read_line(std::string_view field);

  void put(std::uint32_t key);
  void get(std::uint32_t key);

  std::uint32_t global(const std::string& module, const std::string& name);

  [[nodiscard]] const std::vector<std::uint32_t>& items(std::uint32_t o) const;
  [[nodiscard]] std::int64_t as_int(std::uint32_t o, std::string_view what) const;
  [[nodiscard]] std::uint64_t as_count(std::uint32_t o, std::string_view what) const;
  [[nodiscard]] bool as_bool(std::uint32_t o, std::string_view what) const;
  [[nodiscard]] std::vector<std::uint64_t> as_dims(std::uint32_t o, std::string_view what) const;
  void expect(std::uint32_t o, PickleKind k, std::string_view what) const;

  void charge_dims(std::size_t n);

  void reduce();

  // BUILD sets an object's state; the only one a state_dict needs is an OrderedDict's
  // `_metadata` attribute (module versions), which pare does not use.
  void build();

  void persistent_id();

  ByteReader r_;
  PickleLimits limits_;
  PickleFraming framing_ = PickleFraming::whole;
  Pickle p_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, std::uint32_t> memo_;
  std::uint64_t op_at_ = 0;
  std::string_view op_ = "opcode";
  std::uint32_t none_ = 0, false_ = 0, true_ = 0, empty_tuple_ = 0;
  std::uint64_t dims_budget_ = 0;
};

/// Runs the pickle in `bytes` (at file offset `base` of `file`, for messages). With
/// PickleFraming::legacy_stream it stops at the first STOP; Pickle::size tells where that was.
[[nodiscard]] Pickle run_pickle(std::span<const std::byte> bytes, std::string file,
                                std::uint64_t base = 0, const PickleLimits& limits = {},
                                PickleFraming framing = PickleFraming::whole);

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/pickle-inl.hpp"
#endif
