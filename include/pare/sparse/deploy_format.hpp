// SPDX-License-Identifier: Apache-2.0
// pare — which storage a pruning pattern deploys to: the trait that pairs prune/ patterns with
// sparse/ formats, so that a Pruner's type alone decides the inference layer and its kernel.
//
// The built-in pairs (measured crossovers in docs/sparse.md):
// - `NM<N, M>` → `PackedNM<N, M>`: values + 2- or 4-bit positions, no gathers; 2:4 is ~2x dense.
// - `Unstructured`, `PerRow` → `Csr<std::uint16_t>`: 5.4x dense at 90 %. Around 50 % `Bitmap`
//   is faster (1.5x against CSR's 1.1x); the crossover is ~70 %, so below that pass `Bitmap`
//   explicitly (`prune_and_deploy<pare::Bitmap>(...)`), and `Csr<std::uint32_t>` for layers with
//   more than 65536 inputs.
// - `Block<R, C>` → `Bsr<R, C>`: one column index per tile; 4x16 tiles ran 12x dense at 90 %.
// - `Channel` → `RemoveChannels`: no sparse format; the layer is rebuilt smaller and dense.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pare/prune/concepts.hpp"
#include "pare/prune/pattern.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/bsr.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/nm.hpp"

namespace pare {

/// Deploy target of a pattern whose pruned groups are whole channels: the pruned units are
/// removed and the layers stay dense, only smaller (prune/structured.hpp).
struct RemoveChannels {};

/// The customization point: `deploy_format<P>::type` is the storage a mask of pattern P is
/// deployed to (a pare::SparseMatrix format, or RemoveChannels). A user's pattern specializes it:
///
///   template <> struct pare::deploy_format<MyDiagonalBands> { using type = pare::Csr<>; };
///
/// A pattern without a specialization cannot be deployed (deploy_format_t says how to fix that).
template <class Pattern>
struct deploy_format {};

template <std::size_t N, std::size_t M>
struct deploy_format<NM<N, M>> {
  static_assert(M <= 16,
                "NM<N, M> with M > 16 has no packed format (positions are stored in at most 4 "
                "bits): name a format explicitly, e.g. prune_and_deploy<pare::Csr<>>(...)");
  using type = PackedNM<N, M>;
};
template <>
struct deploy_format<Unstructured> {
  using type = Csr<std::uint16_t>;
};
template <>
struct deploy_format<PerRow> {
  using type = Csr<std::uint16_t>;
};
template <std::size_t R, std::size_t C>
struct deploy_format<Block<R, C>> {
  using type = Bsr<R, C>;
};
template <>
struct deploy_format<Channel> {
  using type = RemoveChannels;
};

/// A sparsity pattern that names the storage it deploys to.
template <class P>
concept DeployablePattern = SparsityPattern<P> && requires { typename deploy_format<P>::type; };

namespace detail {
struct NoDeployFormat {};

template <class P>
struct checked_deploy_format {
  static_assert(DeployablePattern<P>,
                "this sparsity pattern names no deploy format: specialize "
                "pare::deploy_format<YourPattern> with `using type = <a sparse format>;` (e.g. "
                "pare::Csr<>), or name the format in the call: prune_and_deploy<Format>(...)");
  using type = typename std::conditional_t<DeployablePattern<P>, deploy_format<P>,
                                           std::type_identity<NoDeployFormat>>::type;
};
}  // namespace detail

/// The storage pattern P deploys to: `deploy_format_t<NM<2, 4>>` is `PackedNM<2, 4>`.
template <class P>
using deploy_format_t = typename detail::checked_deploy_format<P>::type;

/// Whether `Format` can store every mask pattern P makes. Only the packed N:M formats are picky
/// (at most N kept in each group of M); CSR, bitmap and BSR store any mask.
template <class Format, class P>
inline constexpr bool format_holds = true;
template <std::size_t N, std::size_t M, class V, class P>
inline constexpr bool format_holds<PackedNM<N, M, V>, P> = false;
template <std::size_t N, std::size_t M, class V, std::size_t n, std::size_t m>
inline constexpr bool format_holds<PackedNM<N, M, V>, NM<n, m>> = (m == M && n <= N);

static_assert(std::is_same_v<deploy_format_t<NM<2, 4>>, PackedNM<2, 4>>);
static_assert(std::is_same_v<deploy_format_t<Block<4, 16>>, Bsr<4, 16>>);
static_assert(format_holds<PackedNM<2, 4>, NM<1, 4>> && !format_holds<PackedNM<2, 4>, NM<2, 8>>);

}  // namespace pare
