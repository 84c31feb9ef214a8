// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/pickle.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <cstring>
#include <limits>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/pickle.hpp"

namespace pare::io::detail {

PARE_INLINE Pickle PickleMachine::run() {
  p_.file = r_.file();
  p_.base = r_.base();
  p_.size = r_.size();
  // Sizes and strides are copied into tensor records; real pickles spend >= 2 bytes per
  // dimension, so more dimensions than this are shared tuples multiplying memory.
  dims_budget_ = 2 * r_.size() + 1024;
  p_.seqs.emplace_back();  // the shared empty tuple's items
  none_ = make(PickleKind::none);
  false_ = make(PickleKind::boolean);
  true_ = make(PickleKind::boolean);
  p_.objects[true_].flag = true;
  empty_tuple_ = make(PickleKind::tuple, 0);
  for (;;) {
    op_at_ = r_.offset();
    op_ = "opcode";
    if (r_.at_end()) fail(r_.size() == 0 ? "empty pickle" : "pickle ends without STOP");
    const std::uint8_t op = r_.read_u8("opcode");
    op_ = pickle_opcode_name(op);
    if (step(op)) break;
  }
  return std::move(p_);
}

PARE_INLINE bool PickleMachine::step(std::uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      const unsigned v = r_.read_u8("protocol");
      if (v < 2 || v > 5)
        fail(::pare::detail::concat("protocol ", v, " (torch.save writes 2; pare reads 2 to 5)"));
      return false;
    }
    case 0x95: {  // FRAME: framing is a read-ahead hint; only its size is checked
      const std::uint64_t n = r_.read_u64("frame size");
      if (n > r_.remaining())
        fail(::pare::detail::concat("frame of ", n, " bytes but only ", r_.remaining(), " remain"));
      return false;
    }
    case '(':
      if (marks_.size() >= limits_.max_marks)
        fail(::pare::detail::concat("more than ", limits_.max_marks, " nested MARKs"));
      marks_.push_back(stack_.size());
      return false;
    case '}':
      push(make(PickleKind::dict, new_seq()));
      return false;
    case ']':
      push(make(PickleKind::list, new_seq()));
      return false;
    case ')':
      push(empty_tuple_);
      return false;
    case 'N':
      push(none_);
      return false;
    case 0x88:
      push(true_);
      return false;
    case 0x89:
      push(false_);
      return false;
    case 'K':
      push_int(r_.read_u8("BININT1 value"));
      return false;
    case 'M':
      push_int(r_.read_u16("BININT2 value"));
      return false;
    case 'J':
      push_int(static_cast<std::int32_t>(r_.read_u32("BININT value")));
      return false;
    case 0x8a:
      long1();
      return false;
    case 'G': {
      auto b = r_.read_bytes(8, "BINFLOAT value");
      std::uint64_t bits = 0;
      for (std::byte x : b) bits = (bits << 8) | std::to_integer<std::uint64_t>(x);  // big-endian
      double d;
      std::memcpy(&d, &bits, sizeof d);
      const std::uint32_t o = make(PickleKind::floating);
      p_.objects[o].real = d;
      push(o);
      return false;
    }
    case 'X':
      push_string(r_.read_u32("BINUNICODE length"));
      return false;
    case 0x8c:
      push_string(r_.read_u8("SHORT_BINUNICODE length"));
      return false;
    case 0x8d:
      push_string(r_.read_u64("BINUNICODE8 length"));
      return false;
    case 'q':
      put(r_.read_u8("BINPUT key"));
      return false;
    case 'r':
      put(r_.read_u32("LONG_BINPUT key"));
      return false;
    case 0x94:
      put(static_cast<std::uint32_t>(memo_.size()));
      return false;
    case 'h':
      get(r_.read_u8("BINGET key"));
      return false;
    case 'j':
      get(r_.read_u32("LONG_BINGET key"));
      return false;
    case 't': {
      auto items = pop_mark();
      push(tuple(std::move(items)));
      return false;
    }
    case 0x85:
    case 0x86:
    case 0x87: {
      const std::size_t n = op - 0x84u;
      need(n);
      std::vector<std::uint32_t> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
      stack_.resize(stack_.size() - n);
      push(tuple(std::move(items)));
      return false;
    }
    case 's': {
      need(3);
      const std::uint32_t v = pop();
      const std::uint32_t k = pop();
      add_items(container(PickleKind::dict), {k, v});
      return false;
    }
    case 'u': {
      auto items = pop_mark();
      if (items.size() % 2 != 0)
        fail(::pare::detail::concat("odd number of items (", items.size(), ") after MARK"));
      add_items(container(PickleKind::dict), items);
      return false;
    }
    case 'a': {
      need(2);
      const std::uint32_t v = pop();
      add_items(container(PickleKind::list), {v});
      return false;
    }
    case 'e': {
      auto items = pop_mark();
      add_items(container(PickleKind::list), items);
      return false;
    }
    case 'c': {
      std::string module = read_line("GLOBAL module");
      std::string name = read_line("GLOBAL name");
      push(global(module, name));
      return false;
    }
    case 0x93: {  // STACK_GLOBAL
      need(2);
      const std::uint32_t n = pop();
      const std::uint32_t m = pop();
      if (obj(m).kind != PickleKind::string || obj(n).kind != PickleKind::string)
        fail(::pare::detail::concat("module and name must be str, not ", kind_name(obj(m).kind),
                                    " and ", kind_name(obj(n).kind)));
      push(global(p_.strings[obj(m).index], p_.strings[obj(n).index]));
      return false;
    }
    case 'R':
      reduce();
      return false;
    case 'b':
      build();
      return false;
    case 'Q':
      persistent_id();
      return false;
    case '.': {
      need(1);
      const std::uint32_t v = pop();
      if (!marks_.empty())
        fail(::pare::detail::concat(marks_.size(), " MARK(s) still open at STOP"));
      if (!stack_.empty())
        fail(::pare::detail::concat(stack_.size(), " value(s) left on the stack at STOP"));
      if (framing_ == PickleFraming::whole && !r_.at_end())
        fail(::pare::detail::concat(r_.remaining(), " bytes after STOP"));
      p_.root = v;
      p_.size = r_.offset();
      return true;
    }
    default: {
      const std::string_view known = pickle_opcode_name(op);
      const std::string code =
          ::pare::detail::concat("0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 0xF]);
      op_ = "opcode";
      if (known.empty()) fail("byte " + code + " is not a pickle opcode");
      fail(::pare::detail::concat("pickle opcode ", known, " (", code,
                                  ") is not allowed in a state_dict"));
    }
  }
}

PARE_INLINE void PickleMachine::fail(const std::string& what) const {
  throw FormatError(r_.file(), std::string(op_), r_.base() + op_at_, what);
}

PARE_INLINE std::uint32_t PickleMachine::make(PickleKind k, std::uint32_t index) {
  if (p_.objects.size() >= limits_.max_objects)
    fail(::pare::detail::concat("more than ", limits_.max_objects, " objects"));
  PickleObject o;
  o.kind = k;
  o.index = index;
  o.at = r_.base() + op_at_;
  p_.objects.push_back(o);
  return static_cast<std::uint32_t>(p_.objects.size() - 1);
}

PARE_INLINE std::uint32_t PickleMachine::new_seq() {
  p_.seqs.emplace_back();
  return static_cast<std::uint32_t>(p_.seqs.size() - 1);
}

PARE_INLINE std::uint32_t PickleMachine::tuple(std::vector<std::uint32_t> items) {
  if (items.empty()) return empty_tuple_;
  p_.seqs.push_back(std::move(items));
  return make(PickleKind::tuple, static_cast<std::uint32_t>(p_.seqs.size() - 1));
}

PARE_INLINE void PickleMachine::push(std::uint32_t o) {
  if (stack_.size() >= limits_.max_stack)
    fail(::pare::detail::concat("stack deeper than ", limits_.max_stack));
  stack_.push_back(o);
}

PARE_INLINE void PickleMachine::need(std::size_t n) const {
  if (stack_.size() - frame() < n)
    fail(::pare::detail::concat("stack underflow: needs ", n, " value(s), ",
                                stack_.size() - frame(),
                                marks_.empty() ? " on the stack" : " above the last MARK"));
}

PARE_INLINE std::uint32_t PickleMachine::pop() {
  need(1);
  const std::uint32_t v = stack_.back();
  stack_.pop_back();
  return v;
}

PARE_INLINE std::vector<std::uint32_t> PickleMachine::pop_mark() {
  if (marks_.empty()) fail("no MARK to pop to");
  const std::size_t m = marks_.back();
  marks_.pop_back();
  std::vector<std::uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return items;
}

PARE_INLINE std::uint32_t PickleMachine::container(PickleKind k) {
  need(1);
  const PickleObject& o = obj(stack_.back());
  if (o.kind != k)
    fail(::pare::detail::concat("needs a ", kind_name(k), " on the stack, found a ",
                                kind_name(o.kind)));
  return o.index;
}

PARE_INLINE void PickleMachine::add_items(std::uint32_t seq,
                                          const std::vector<std::uint32_t>& items) {
  if (obj(stack_.back()).kind == PickleKind::dict)
    for (std::size_t i = 0; i < items.size(); i += 2) {
      const PickleKind k = obj(items[i]).kind;
      if (k != PickleKind::string && k != PickleKind::integer)
        fail(::pare::detail::concat("dict key is a ", kind_name(k),
                                    "; pare reads only str and int keys"));
    }
  auto& s = p_.seqs[seq];
  s.insert(s.end(), items.begin(), items.end());
}

PARE_INLINE void PickleMachine::push_int(std::int64_t v) {
  const std::uint32_t o = make(PickleKind::integer);
  p_.objects[o].integer = v;
  push(o);
}

PARE_INLINE void PickleMachine::long1() {
  const std::size_t n = r_.read_u8("LONG1 length");
  auto b = r_.read_bytes(n, "LONG1 value");
  if (n > 8) {  // a Python int beyond 64 bits: legal, kept, unusable as a size
    push(make(PickleKind::big_integer));
    return;
  }
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < n; ++i) u |= std::to_integer<std::uint64_t>(b[i]) << (8 * i);
  if (n > 0 && n < 8 && (std::to_integer<unsigned>(b[n - 1]) & 0x80u))
    u |= ~std::uint64_t{0} << (8 * n);
  push_int(static_cast<std::int64_t>(u));
}

PARE_INLINE void PickleMachine::push_string(std::uint64_t n) {
  if (n > r_.remaining())
    fail(::pare::detail::concat("string of ", n, " bytes but only ", r_.remaining(),
                                " bytes remain"));
  std::string s = r_.read_string(n, "string");
  if (!is_utf8(s)) fail("string is not valid UTF-8: " + printable(s));
  p_.strings.push_back(std::move(s));
  push(make(PickleKind::string, static_cast<std::uint32_t>(p_.strings.size() - 1)));
}

PARE_INLINE std::string PickleMachine::read_line(std::string_view field) {
  const std::uint64_t start = r_.offset();
  const std::uint64_t limit = std::min<std::uint64_t>(r_.remaining(), limits_.max_global_name + 1);
  const auto window = r_.bytes_at(start, limit, field);
  for (std::size_t i = 0; i < window.size(); ++i)
    if (window[i] == std::byte{'\n'}) {
      std::string s = r_.read_string(i, field);
      r_.skip(1, field);
      return s;
    }
  fail(::pare::detail::concat(field, " has no newline within ", limit, " bytes"));
}

PARE_INLINE void PickleMachine::put(std::uint32_t key) {
  need(1);
  auto it = memo_.find(key);
  if (it != memo_.end()) {
    it->second = stack_.back();
    return;
  }
  if (memo_.size() >= limits_.max_memo)
    fail(::pare::detail::concat("memo holds more than ", limits_.max_memo, " values"));
  memo_.emplace(key, stack_.back());
}

PARE_INLINE void PickleMachine::get(std::uint32_t key) {
  auto it = memo_.find(key);
  if (it == memo_.end()) fail(::pare::detail::concat("memo has no key ", key));
  push(it->second);
}

PARE_INLINE std::uint32_t PickleMachine::global(const std::string& module,
                                                const std::string& name) {
  const std::string full = module + "." + name;
  std::optional<TorchGlobal> g;
  DType dtype = DType::u8;
  if (module == "collections" && name == "OrderedDict")
    g = TorchGlobal::ordered_dict;
  else if (module == "torch._utils" && name == "_rebuild_tensor_v2")
    g = TorchGlobal::rebuild_tensor_v2;
  else if (module == "torch._utils" && name == "_rebuild_parameter")
    g = TorchGlobal::rebuild_parameter;
  else if (module == "torch") {
    if (auto d = torch_storage_dtype(name)) {
      g = TorchGlobal::storage_type;
      dtype = *d;
    } else if (name.ends_with("Storage")) {
      throw UnsupportedError(::pare::detail::concat(
          r_.file(), ": byte ", r_.base() + op_at_, ": tensors of storage type torch.",
          printable(name), " (complex or quantized) are not supported"));
    }
  }
  if (!g)
    fail("pickle global " + printable(full) +
         " is not allowed: a pickle is code; pare reads only state_dicts (tensors in dicts)");
  const std::uint32_t o = make(PickleKind::global, static_cast<std::uint32_t>(*g));
  p_.objects[o].dtype = dtype;
  return o;
}

PARE_INLINE const std::vector<std::uint32_t>& PickleMachine::items(std::uint32_t o) const {
  return p_.seqs[obj(o).index];
}

PARE_INLINE std::int64_t PickleMachine::as_int(std::uint32_t o, std::string_view what) const {
  if (obj(o).kind != PickleKind::integer)
    fail(::pare::detail::concat(what, " must be an int, not a ", kind_name(obj(o).kind)));
  return obj(o).integer;
}

PARE_INLINE std::uint64_t PickleMachine::as_count(std::uint32_t o, std::string_view what) const {
  const std::int64_t v = as_int(o, what);
  if (v < 0) fail(::pare::detail::concat(what, " is negative (", v, ")"));
  return static_cast<std::uint64_t>(v);
}

PARE_INLINE bool PickleMachine::as_bool(std::uint32_t o, std::string_view what) const {
  if (obj(o).kind != PickleKind::boolean)
    fail(::pare::detail::concat(what, " must be a bool, not a ", kind_name(obj(o).kind)));
  return obj(o).flag;
}

PARE_INLINE std::vector<std::uint64_t> PickleMachine::as_dims(std::uint32_t o,
                                                              std::string_view what) const {
  if (obj(o).kind != PickleKind::tuple)
    fail(::pare::detail::concat(what, " must be a tuple, not a ", kind_name(obj(o).kind)));
  const auto& it = items(o);
  if (it.size() > limits_.max_rank)
    fail(::pare::detail::concat(what, " has ", it.size(), " dimensions, more than ",
                                limits_.max_rank));
  std::vector<std::uint64_t> out;
  out.reserve(it.size());
  for (std::uint32_t v : it) out.push_back(as_count(v, what));
  return out;
}

PARE_INLINE void PickleMachine::expect(std::uint32_t o, PickleKind k, std::string_view what) const {
  if (obj(o).kind != k)
    fail(::pare::detail::concat(what, " must be a ", kind_name(k), ", not a ",
                                kind_name(obj(o).kind)));
}

PARE_INLINE void PickleMachine::charge_dims(std::size_t n) {
  if (n > dims_budget_) fail("tensor sizes and strides exceed what the pickle's size justifies");
  dims_budget_ -= n;
}

PARE_INLINE void PickleMachine::reduce() {
  need(2);
  const std::uint32_t args = pop();
  const std::uint32_t fn = pop();
  if (obj(fn).kind != PickleKind::global)
    fail(::pare::detail::concat("REDUCE calls a ", kind_name(obj(fn).kind),
                                ", not an allowed global"));
  expect(args, PickleKind::tuple, "REDUCE arguments");
  const auto& a = items(args);
  switch (static_cast<TorchGlobal>(obj(fn).index)) {
    case TorchGlobal::ordered_dict:
      if (!a.empty()) fail("collections.OrderedDict must be called with no arguments");
      push(make(PickleKind::dict, new_seq()));
      return;
    case TorchGlobal::rebuild_tensor_v2: {
      if (a.size() != 6 && a.size() != 7)
        fail(::pare::detail::concat("torch._utils._rebuild_tensor_v2 takes 6 or 7 arguments, got ",
                                    a.size()));
      expect(a[0], PickleKind::storage, "storage");
      TorchTensorRecord t;
      t.storage = obj(a[0]).index;
      t.offset = as_count(a[1], "storage_offset");
      t.shape = as_dims(a[2], "size");
      t.strides = as_dims(a[3], "stride");
      charge_dims(t.shape.size() + t.strides.size() + 1);
      if (t.strides.size() != t.shape.size())
        fail(::pare::detail::concat("size has ", t.shape.size(), " dimensions but stride has ",
                                    t.strides.size()));
      t.requires_grad = as_bool(a[4], "requires_grad");
      expect(a[5], PickleKind::dict, "backward_hooks");
      if (a.size() == 7 && obj(a[6]).kind != PickleKind::none)
        expect(a[6], PickleKind::dict, "metadata");
      t.at = r_.base() + op_at_;
      p_.tensors.push_back(std::move(t));
      push(make(PickleKind::tensor, static_cast<std::uint32_t>(p_.tensors.size() - 1)));
      return;
    }
    case TorchGlobal::rebuild_parameter: {
      if (a.size() != 3)
        fail(::pare::detail::concat("torch._utils._rebuild_parameter takes 3 arguments, got ",
                                    a.size()));
      expect(a[0], PickleKind::tensor, "data");
      charge_dims(2 * p_.tensors[obj(a[0]).index].shape.size() + 1);
      TorchTensorRecord t = p_.tensors[obj(a[0]).index];
      t.requires_grad = as_bool(a[1], "requires_grad");
      expect(a[2], PickleKind::dict, "backward_hooks");
      t.parameter = true;
      p_.tensors.push_back(std::move(t));
      push(make(PickleKind::tensor, static_cast<std::uint32_t>(p_.tensors.size() - 1)));
      return;
    }
    case TorchGlobal::storage_type:
      fail("a torch storage class is only a tag inside a persistent id; it cannot be called");
  }
  fail("unknown global");
}

PARE_INLINE void PickleMachine::build() {
  need(2);
  const std::uint32_t state = pop();
  const PickleKind target = obj(stack_.back()).kind;
  const PickleKind s = obj(state).kind;
  if (target != PickleKind::dict || (s != PickleKind::dict && s != PickleKind::none))
    fail(::pare::detail::concat("BUILD of a ", kind_name(target), " with a ", kind_name(s),
                                " state; pare accepts only a dict's attribute dict"));
}

PARE_INLINE void PickleMachine::persistent_id() {
  const std::uint32_t pid = pop();
  expect(pid, PickleKind::tuple, "persistent id");
  const auto& a = items(pid);
  const bool legacy = framing_ == PickleFraming::legacy_stream;
  if (a.size() != (legacy ? 6u : 5u))
    fail(::pare::detail::concat(
        legacy ? "persistent id must be ('storage', type, key, location, numel, view), got "
               : "persistent id must be ('storage', type, key, location, numel), got ",
        a.size(), " items"));
  expect(a[0], PickleKind::string, "persistent id tag");
  if (p_.strings[obj(a[0]).index] != "storage")
    fail("persistent id tag is " + printable(p_.strings[obj(a[0]).index]) + ", not 'storage'");
  if (obj(a[1]).kind != PickleKind::global ||
      obj(a[1]).index != static_cast<std::uint32_t>(TorchGlobal::storage_type))
    fail("persistent id type must be a torch.<Type>Storage class");
  expect(a[2], PickleKind::string, "storage key");
  expect(a[3], PickleKind::string, "storage location");
  TorchStorageRef s;
  s.dtype = obj(a[1]).dtype;
  s.key = p_.strings[obj(a[2]).index];
  s.location = p_.strings[obj(a[3]).index];
  s.numel = as_count(a[4], "storage numel");
  s.key_numel = s.numel;
  s.at = r_.base() + op_at_;
  if (s.key.empty()) fail("empty storage key");
  if (legacy && obj(a[5]).kind != PickleKind::none) {
    // A view: the tensor sees `size` elements of the keyed storage from `offset` on.
    expect(a[5], PickleKind::tuple, "storage view");
    const auto& v = items(a[5]);
    if (v.size() != 3) fail("storage view must be (view key, offset, size)");
    expect(v[0], PickleKind::string, "storage view key");
    s.view_offset = as_count(v[1], "storage view offset");
    s.numel = as_count(v[2], "storage view size");
    if (s.view_offset > s.key_numel || s.numel > s.key_numel - s.view_offset)
      fail(::pare::detail::concat("storage view of ", s.numel, " elements from ", s.view_offset,
                                  " is outside its storage of ", s.key_numel));
  }
  p_.storages.push_back(std::move(s));
  push(make(PickleKind::storage, static_cast<std::uint32_t>(p_.storages.size() - 1)));
}

PARE_INLINE Pickle run_pickle(std::span<const std::byte> bytes, std::string file,
                              std::uint64_t base, const PickleLimits& limits,
                              PickleFraming framing) {
  return PickleMachine(bytes, std::move(file), base, limits, framing).run();
}

}  // namespace pare::io::detail
