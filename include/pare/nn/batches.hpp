// SPDX-License-Identifier: Apache-2.0
// pare — mini-batches over a Dataset, reshuffled with a seeded Rng every epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/dataset.hpp"

namespace pare {

/// One mini-batch: rows of features and their labels (copies, contiguous).
struct Batch {
  Tensor<float, 2> x;
  Tensor<std::int32_t, 1> y;
};

/// Cuts a dataset into mini-batches in a fresh seeded order each epoch. The last batch of an
/// epoch is smaller when the batch size does not divide the sample count.
///
///   pare::BatchLoader loader(train, 32, /*seed=*/7);
///   for (int epoch = 0; epoch < 10; ++epoch)
///     for (const pare::Batch& b : loader.epoch()) { ... }   // reshuffles, then yields batches
///
/// The dataset must outlive the loader.
class BatchLoader {
 public:
  BatchLoader(const Dataset& data, std::size_t batch_size, std::uint64_t seed);

  [[nodiscard]] std::size_t batch_size() const noexcept { return batch_size_; }
  /// Batches per epoch.
  [[nodiscard]] std::size_t size() const noexcept {
    return (order_.size() + batch_size_ - 1) / batch_size_;
  }

  /// Draws a new sample order from the loader's Rng.
  void shuffle() noexcept { pare::shuffle(order_.begin(), order_.end(), rng_); }

  /// Batch `i` of the current order, gathered into a buffer the loader owns (valid until the next
  /// call).
  const Batch& batch(std::size_t i);

  /// A range over one epoch's batches; `epoch()` reshuffles first.
  class Epoch {
   public:
    class iterator {
     public:
      using difference_type = std::ptrdiff_t;
      using value_type = Batch;
      iterator() = default;
      iterator(BatchLoader* l, std::size_t i) : loader_(l), i_(i) {}
      const Batch& operator*() const { return loader_->batch(i_); }
      iterator& operator++() noexcept {
        ++i_;
        return *this;
      }
      iterator operator++(int) noexcept {
        auto old = *this;
        ++i_;
        return old;
      }
      bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

     private:
      BatchLoader* loader_ = nullptr;
      std::size_t i_ = 0;
    };
    explicit Epoch(BatchLoader& l) : loader_(&l) {}
    [[nodiscard]] iterator begin() const { return {loader_, 0}; }
    [[nodiscard]] iterator end() const { return {loader_, loader_->size()}; }

   private:
    BatchLoader* loader_;
  };

  /// Reshuffles and returns the epoch's batches. Dereference each iterator once: it gathers.
  [[nodiscard]] Epoch epoch() {
    shuffle();
    return Epoch(*this);
  }

 private:
  const Dataset* data_;
  std::size_t batch_size_;
  Rng rng_;
  std::vector<std::size_t> order_;
  Batch buffer_;
};

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/nn/batches-inl.hpp"
#endif
