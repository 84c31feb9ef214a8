// SPDX-License-Identifier: Apache-2.0
// pare — Tensor (owning, 64-byte aligned, row-major) and TensorView (non-owning, strided).
//
// Every algorithm takes a TensorView; a Tensor converts to one implicitly. Views are cheap value
// types (pointer + extents + strides) and never own memory.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "pare/core/error.hpp"
#include "pare/core/shape.hpp"

namespace pare {

/// Alignment of every Tensor's storage: one cache line, and one AVX-512 register.
inline constexpr std::size_t tensor_alignment = 64;

template <class T, std::size_t Rank>
class TensorView {
  static_assert(Rank >= 1, "TensorView needs Rank >= 1; use a plain T for a scalar");

 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  static constexpr std::size_t rank = Rank;

  constexpr TensorView() noexcept = default;

  /// A contiguous row-major view of `extents` elements starting at `data`.
  constexpr TensorView(T* data, const Shape<Rank>& extents) noexcept
      : data_(data), extents_(extents), strides_(row_major_strides(extents)) {}

  /// A strided view; strides are in elements.
  constexpr TensorView(T* data, const Shape<Rank>& extents, const Strides<Rank>& strides) noexcept
      : data_(data), extents_(extents), strides_(strides) {}

  /// A contiguous view over a span, checking that the span holds exactly the shape.
  TensorView(std::span<T> span, const Shape<Rank>& extents) : TensorView(span.data(), extents) {
    PARE_CHECK(checked_size(extents) == span.size(), ShapeError, "a view of shape ",
               to_string(extents), " needs ", checked_size(extents), " elements, the span has ",
               span.size());
  }

  /// Views of mutable data convert to views of const data.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  constexpr TensorView(const TensorView<U, Rank>& other) noexcept
      : data_(other.data()), extents_(other.extents()), strides_(other.strides()) {}

  [[nodiscard]] constexpr T* data() const noexcept { return data_; }
  [[nodiscard]] constexpr const Shape<Rank>& extents() const noexcept { return extents_; }
  [[nodiscard]] constexpr const Strides<Rank>& strides() const noexcept { return strides_; }
  [[nodiscard]] constexpr std::size_t extent(std::size_t d) const noexcept { return extents_[d]; }
  [[nodiscard]] constexpr std::ptrdiff_t stride(std::size_t d) const noexcept {
    return strides_[d];
  }
  [[nodiscard]] constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (auto e : extents_) n *= e;
    return n;
  }
  [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }

  /// True when the elements are densely packed in row-major order.
  [[nodiscard]] constexpr bool is_contiguous() const noexcept {
    std::ptrdiff_t expect = 1;
    for (std::size_t i = Rank; i-- > 0;) {
      if (extents_[i] != 1 && strides_[i] != expect) return false;
      expect *= static_cast<std::ptrdiff_t>(extents_[i]);
    }
    return true;
  }

  template <class... I>
    requires(sizeof...(I) == Rank && (std::is_integral_v<I> && ...))
  [[nodiscard]] constexpr T& operator()(I... idx) const noexcept {
    std::ptrdiff_t off = 0;
    std::size_t d = 0;
    ((off += static_cast<std::ptrdiff_t>(idx) * strides_[d++]), ...);
    return data_[off];
  }

  /// The sub-view at index `i` of the outermost dimension (a row, for a matrix).
  [[nodiscard]] constexpr decltype(auto) operator[](std::size_t i) const noexcept {
    if constexpr (Rank == 1) {
      return (data_[static_cast<std::ptrdiff_t>(i) * strides_[0]]);
    } else {
      Shape<Rank - 1> e;
      Strides<Rank - 1> s;
      std::copy(extents_.begin() + 1, extents_.end(), e.begin());
      std::copy(strides_.begin() + 1, strides_.end(), s.begin());
      return TensorView<T, Rank - 1>(data_ + static_cast<std::ptrdiff_t>(i) * strides_[0], e, s);
    }
  }

  /// Elements [begin, end) of dimension `d`, other dimensions whole.
  [[nodiscard]] TensorView slice(std::size_t d, std::size_t begin, std::size_t end) const {
    PARE_CHECK(d < Rank && begin <= end && end <= extents_[d], ShapeError, "slice [", begin, ", ",
               end, ") of dimension ", d, " is outside shape ", to_string(extents_));
    TensorView v = *this;
    v.data_ += static_cast<std::ptrdiff_t>(begin) * strides_[d];
    v.extents_[d] = end - begin;
    return v;
  }

  /// Dimensions `a` and `b` swapped, without moving data (a matrix transpose for Rank 2).
  [[nodiscard]] constexpr TensorView transposed(std::size_t a = 0, std::size_t b = 1) const noexcept
    requires(Rank >= 2)
  {
    TensorView v = *this;
    std::swap(v.extents_[a], v.extents_[b]);
    std::swap(v.strides_[a], v.strides_[b]);
    return v;
  }

  /// The elements as one span; the view must be contiguous.
  [[nodiscard]] std::span<T> span() const {
    PARE_CHECK(is_contiguous(), ShapeError, "span() of a non-contiguous view of shape ",
               to_string(extents_));
    return {data_, size()};
  }

 private:
  T* data_ = nullptr;
  Shape<Rank> extents_{};
  Strides<Rank> strides_{};
};

namespace detail {
/// Owns one block from the aligned operator new. What std::unique_ptr with a deleter would do,
/// without <memory>: in libstdc++ 12 that header brings <ostream> along, which cost every file
/// that includes a pare header ~0.15 s of parsing.
class AlignedStorage {
 public:
  AlignedStorage() = default;
  AlignedStorage(const AlignedStorage&) = delete;
  AlignedStorage& operator=(const AlignedStorage&) = delete;
  AlignedStorage(AlignedStorage&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  AlignedStorage& operator=(AlignedStorage&& o) noexcept {
    if (this != &o) reset(std::exchange(o.p_, nullptr));
    return *this;
  }
  ~AlignedStorage() { reset(); }

  [[nodiscard]] void* get() const noexcept { return p_; }
  void reset(void* p = nullptr) noexcept {
    if (p_ != nullptr) ::operator delete(p_, std::align_val_t{tensor_alignment});
    p_ = p;
  }

 private:
  void* p_ = nullptr;
};
}  // namespace detail

/// An owning, 64-byte-aligned, row-major tensor with runtime extents. Elements are
/// value-initialized (zero for arithmetic types). Copying copies the data.
template <class T, std::size_t Rank>
class Tensor {
  static_assert(std::is_trivially_copyable_v<T>,
                "Tensor<T> stores raw bytes that kernels and files read directly, so T must be "
                "trivially copyable");

 public:
  using value_type = T;
  static constexpr std::size_t rank = Rank;

  Tensor() = default;

  explicit Tensor(const Shape<Rank>& extents) : extents_(extents), size_(checked_size(extents)) {
    allocate();
    std::fill_n(data(), size_, T{});
  }

  Tensor(const Shape<Rank>& extents, T fill) : extents_(extents), size_(checked_size(extents)) {
    allocate();
    std::fill_n(data(), size_, fill);
  }

  /// A contiguous copy of any view (strided views are gathered).
  template <class U>
    requires std::is_same_v<std::remove_cv_t<U>, T>
  explicit Tensor(const TensorView<U, Rank>& src) : extents_(src.extents()), size_(src.size()) {
    allocate();
    copy_from(src);
  }

  Tensor(const Tensor& o) : extents_(o.extents_), size_(o.size_) {
    allocate();
    if (size_) std::memcpy(data(), o.data(), size_ * sizeof(T));
  }
  Tensor& operator=(const Tensor& o) {
    if (this != &o) *this = Tensor(o);
    return *this;
  }
  Tensor(Tensor&& o) noexcept
      : storage_(std::move(o.storage_)),
        extents_(std::exchange(o.extents_, {})),
        size_(std::exchange(o.size_, 0)) {}
  Tensor& operator=(Tensor&& o) noexcept {
    storage_ = std::move(o.storage_);
    extents_ = std::exchange(o.extents_, {});
    size_ = std::exchange(o.size_, 0);
    return *this;
  }
  ~Tensor() = default;

  [[nodiscard]] T* data() noexcept { return static_cast<T*>(storage_.get()); }
  [[nodiscard]] const T* data() const noexcept { return static_cast<const T*>(storage_.get()); }
  [[nodiscard]] const Shape<Rank>& extents() const noexcept { return extents_; }
  [[nodiscard]] std::size_t extent(std::size_t d) const noexcept { return extents_[d]; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return size_ * sizeof(T); }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  [[nodiscard]] TensorView<T, Rank> view() noexcept { return {data(), extents_}; }
  [[nodiscard]] TensorView<const T, Rank> view() const noexcept { return {data(), extents_}; }
  operator TensorView<T, Rank>() noexcept { return view(); }
  operator TensorView<const T, Rank>() const noexcept { return view(); }

  [[nodiscard]] std::span<T> span() noexcept { return {data(), size_}; }
  [[nodiscard]] std::span<const T> span() const noexcept { return {data(), size_}; }

  template <class... I>
    requires(sizeof...(I) == Rank && (std::is_integral_v<I> && ...))
  [[nodiscard]] T& operator()(I... idx) noexcept {
    return view()(idx...);
  }
  template <class... I>
    requires(sizeof...(I) == Rank && (std::is_integral_v<I> && ...))
  [[nodiscard]] const T& operator()(I... idx) const noexcept {
    return view()(idx...);
  }
  [[nodiscard]] decltype(auto) operator[](std::size_t i) noexcept { return view()[i]; }
  [[nodiscard]] decltype(auto) operator[](std::size_t i) const noexcept { return view()[i]; }

  /// The same elements under a new shape with the same element count.
  template <std::size_t R2>
  [[nodiscard]] Tensor<T, R2> reshaped(const Shape<R2>& extents) const& {
    PARE_CHECK(checked_size(extents) == size_, ShapeError, "cannot reshape ", to_string(extents_),
               " to ", to_string(extents));
    Tensor<T, R2> out(extents);
    if (size_) std::memcpy(out.data(), data(), size_bytes());
    return out;
  }

 private:
  void allocate() {
    if (size_ == 0) return;
    PARE_CHECK(size_ <= std::numeric_limits<std::size_t>::max() / sizeof(T), ShapeError,
               "tensor of shape ", to_string(extents_), " is too large to allocate");
    storage_.reset(::operator new(size_ * sizeof(T), std::align_val_t{tensor_alignment}));
  }
  template <class U>
  void copy_from(const TensorView<U, Rank>& src) {
    if (src.is_contiguous()) {
      if (size_) std::memcpy(data(), src.data(), size_ * sizeof(T));
      return;
    }
    std::size_t out = 0;
    Shape<Rank> idx{};
    for (std::size_t n = 0; n < size_; ++n) {
      std::ptrdiff_t off = 0;
      for (std::size_t d = 0; d < Rank; ++d)
        off += static_cast<std::ptrdiff_t>(idx[d]) * src.stride(d);
      data()[out++] = src.data()[off];
      for (std::size_t d = Rank; d-- > 0;) {
        if (++idx[d] < extents_[d]) break;
        idx[d] = 0;
      }
    }
  }

  detail::AlignedStorage storage_;
  Shape<Rank> extents_{};
  std::size_t size_ = 0;
};

/// Throws ShapeError unless the two shapes are equal; `what` names the operation.
template <std::size_t Rank>
void check_same_shape(const Shape<Rank>& a, const Shape<Rank>& b, const char* what) {
  PARE_CHECK(a == b, ShapeError, what, ": shapes ", to_string(a), " and ", to_string(b), " differ");
}

}  // namespace pare
