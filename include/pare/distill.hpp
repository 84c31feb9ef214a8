// SPDX-License-Identifier: Apache-2.0
// pare — knowledge distillation: losses with exact gradients that compose at compile time.
//
// When to use which (see docs/distillation.md):
//  - SoftKL{.temperature = 2..8} + HardLabel: the classic recipe (Hinton) for classifiers;
//  - DKD: a confident teacher on many classes — weights the non-target "dark knowledge" up;
//  - ReverseKL / JensenShannon: a student too small to cover the teacher (LLMs), mode-seeking;
//  - TeacherArgmax: no ground-truth labels — learn the teacher's decisions;
//  - SoftTeacherForcing + sequence_batch: per-token distillation of sequence models with padding;
//  - FeatureMSE / FeatureCosine / Hint / AttentionTransfer: match hidden representations too.
#pragma once

#include "pare/distill/attention_transfer.hpp"
#include "pare/distill/compose.hpp"
#include "pare/distill/concepts.hpp"
#include "pare/distill/dkd.hpp"
#include "pare/distill/feature_cosine.hpp"
#include "pare/distill/feature_mse.hpp"
#include "pare/distill/hard_label.hpp"
#include "pare/distill/hint.hpp"
#include "pare/distill/jensen_shannon.hpp"
#include "pare/distill/reverse_kl.hpp"
#include "pare/distill/row_kernels.hpp"
#include "pare/distill/sequence.hpp"
#include "pare/distill/soft_kl.hpp"
#include "pare/distill/teacher_argmax.hpp"
