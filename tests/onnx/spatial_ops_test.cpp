// SPDX-License-Identifier: Apache-2.0
// The spatial graph ops (ConvTranspose, N-D Conv, Resize, LSTM/GRU, N-D pooling) against torch,
// and their refusals of hostile attributes and shapes. ONNX's own node tests
// (tests/onnx_node) cover the cases ONNX ships; these cover what they do not: 1-D and 3-D Conv,
// grouped and dilated ConvTranspose with output_padding, bidirectional recurrences with layout 1
// and sequence_lens, dilated 3-D MaxPool with ceil_mode and Indices.
//
// Inputs are ramp(n, a, b)[i] = float(sin(a·i + b)); the expected values were printed by this
// script with /usr/bin/python3 (torch 1.13):
//
//   # Expected values for tests/onnx/spatial_ops_test.cpp (torch 1.13, /usr/bin/python3).
//   import numpy as np, torch
//   torch.set_default_dtype(torch.float32)
//   def seq(n, a, b):  # the inputs: sin(a*i + b) as float32, as ramp() in the test
//       return np.sin(np.arange(n) * a + b).astype(np.float32)
//   def t(shape, a, b):
//       return torch.from_numpy(seq(int(np.prod(shape)), a, b).reshape(shape))
//   def dump(name, v):
//       v = v.detach().numpy().ravel()
//       print(f'const std::vector<float> {name} = {{')
//       lit = lambda x: (s := f'{x:.7g}') + ('' if any(c in s for c in '.e') else '.0') + 'f'
//       print(',\n'.join(', '.join(lit(x) for x in v[i:i+6]) for i in range(0, len(v), 6)) + '};')
//   F = torch.nn.functional
//   # ConvTranspose2d: groups 2, stride (2, 1), padding (1, 0), output_padding (1, 0), dilation (1,
//   2) x = t((1, 4, 3, 3), 0.37, 0.1); w = t((4, 2, 3, 2), 0.53, 0.2); b = t((4,), 0.71, 0.3)
//   dump('convt2d', F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1,
//   0),
//                                      groups=2, dilation=(1, 2)))
//   # bilinear, align_corners=False, to sizes (5, 7) and by an integer scale 2; nearest by scale 2
//   x = t((1, 2, 3, 4), 0.37, 0.1)
//   dump('bilinear_5x7', F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False))
//   dump('bilinear_x2', F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False))
//   dump('nearest_x2', F.interpolate(x, scale_factor=2, mode='nearest'))
//   # Conv1d: groups 2, stride 2, padding 2, dilation 2
//   x = t((2, 4, 9), 0.37, 0.1); w = t((6, 2, 3), 0.53, 0.2); b = t((6,), 0.71, 0.3)
//   dump('conv1d', F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2))
//   # Conv3d: stride (1, 2, 1), padding (1, 1, 0), dilation (2, 1, 1)
//   x = t((1, 2, 4, 5, 3), 0.37, 0.1); w = t((3, 2, 2, 3, 2), 0.53, 0.2); b = t((3,), 0.71, 0.3)
//   dump('conv3d', F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 1, 0), dilation=(2, 1, 1)))
//   # ConvTranspose1d and 3d: stride 2, padding 1
//   x = t((1, 2, 4), 0.37, 0.1); w = t((2, 3, 3), 0.53, 0.2)
//   dump('convt1d', F.conv_transpose1d(x, w, stride=2, padding=1))
//   x = t((1, 2, 2, 3, 2), 0.37, 0.1); w = t((2, 1, 2, 2, 3), 0.53, 0.2)
//   dump('convt3d', F.conv_transpose3d(x, w, stride=(2, 1, 2), padding=(0, 1, 1)))
//   # LSTM, bidirectional, with initial states; ONNX weights [dirs, 4H, I] in gate order i, o, f, c
//   S, B, I, H = 3, 2, 3, 2
//   W = seq(2 * 4 * H * I, 0.53, 0.2).reshape(2, 4 * H, I)
//   R = seq(2 * 4 * H * H, 0.29, 0.4).reshape(2, 4 * H, H)
//   Bi = seq(2 * 8 * H, 0.71, 0.3).reshape(2, 8 * H)
//   x = t((S, B, I), 0.37, 0.1); h0 = t((2, B, H), 0.23, 0.5); c0 = t((2, B, H), 0.19, 0.6)
//   def rows(m, order):  # ONNX gate blocks reordered to torch's
//       return np.concatenate([m[k * H:(k + 1) * H] for k in order])
//   lstm = torch.nn.LSTM(I, H, bidirectional=True)
//   with torch.no_grad():
//       for d, sfx in enumerate(['', '_reverse']):
//           o = [0, 2, 3, 1]  # torch i, f, g, o from ONNX i, o, f, c
//           getattr(lstm, 'weight_ih_l0' + sfx).copy_(torch.from_numpy(rows(W[d], o)))
//           getattr(lstm, 'weight_hh_l0' + sfx).copy_(torch.from_numpy(rows(R[d], o)))
//           getattr(lstm, 'bias_ih_l0' + sfx).copy_(torch.from_numpy(rows(Bi[d][:4 * H], o)))
//           getattr(lstm, 'bias_hh_l0' + sfx).copy_(torch.from_numpy(rows(Bi[d][4 * H:], o)))
//       y, (hn, cn) = lstm(x, (h0, c0))
//   dump('lstm_y', y.reshape(S, B, 2, H).permute(0, 2, 1, 3))  # ONNX Y is [S, dirs, B, H]
//   dump('lstm_yh', hn); dump('lstm_yc', cn)
//   # GRU, bidirectional, layout 1 (batch first), linear_before_reset 1, sequence_lens [3, 2]
//   W = seq(2 * 3 * H * I, 0.53, 0.2).reshape(2, 3 * H, I)
//   R = seq(2 * 3 * H * H, 0.29, 0.4).reshape(2, 3 * H, H)
//   Bi = seq(2 * 6 * H, 0.71, 0.3).reshape(2, 6 * H)
//   x = t((B, S, I), 0.37, 0.1)
//   gru = torch.nn.GRU(I, H, bidirectional=True, batch_first=True)
//   with torch.no_grad():
//       for d, sfx in enumerate(['', '_reverse']):
//           o = [1, 0, 2]  # torch r, z, n from ONNX z, r, h
//           getattr(gru, 'weight_ih_l0' + sfx).copy_(torch.from_numpy(rows(W[d], o)))
//           getattr(gru, 'weight_hh_l0' + sfx).copy_(torch.from_numpy(rows(R[d], o)))
//           getattr(gru, 'bias_ih_l0' + sfx).copy_(torch.from_numpy(rows(Bi[d][:3 * H], o)))
//           getattr(gru, 'bias_hh_l0' + sfx).copy_(torch.from_numpy(rows(Bi[d][3 * H:], o)))
//       packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor([3, 2]), batch_first=True)
//       y, hn = gru(packed)
//       y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=S)
//   dump('gru_y', y)  # [B, S, dirs·H] is ONNX's layout-1 Y [B, S, dirs, H]
//   dump('gru_yh', hn.permute(1, 0, 2))  # ONNX layout-1 Y_h is [B, dirs, H]
//   # MaxPool3d with dilation 2 and ceil_mode, and its indices
//   x = t((1, 2, 5, 4, 6), 0.37, 0.1)
//   y, idx = F.max_pool3d(x, (2, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(2, 1, 1),
//                         ceil_mode=True, return_indices=True)
//   dump('maxpool3d', y)
//   print('const std::vector<std::int64_t> maxpool3d_idx = {' + ', '.join(str(int(v)) for v in
//   idx.numpy().ravel()) + '};') print('// maxpool3d shape', list(y.shape)) # AveragePool 1-D (pads
//   1, ceil_mode, count_include_pad) and 3-D (pads, count_include_pad 0) x = t((1, 2, 8), 0.37,
//   0.1) dump('avgpool1d', F.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True,
//   count_include_pad=True)) x = t((1, 1, 4, 5, 3), 0.37, 0.1) dump('avgpool3d', F.avg_pool3d(x,
//   (2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0),
//                                  count_include_pad=False))
//   # LpPool 2-D, p 3, pads (0, 1), strides (1, 2), in numpy: (sum |x|^p)^(1/p) over each window
//   x = seq(1 * 2 * 4 * 5, 0.37, 0.1).reshape(1, 2, 4, 5).astype(np.float64)
//   xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 1)))
//   lp = np.array([[[[(np.abs(xp[0, c, i:i + 2, 2 * j:2 * j + 3]) ** 3).sum() ** (1 / 3)
//                     for j in range(3)] for i in range(3)] for c in range(2)]])
//   dump('lppool2d', torch.from_numpy(lp))
//   dump('globallppool', torch.from_numpy((np.abs(x) ** 2).sum(axis=(2, 3)) ** 0.5))
//   # bicubic (a = -0.75, half_pixel) to sizes (5, 6); trilinear align_corners=True on a 5-D input
//   x = t((1, 2, 3, 4), 0.37, 0.1)
//   dump('bicubic_5x6', F.interpolate(x, size=(5, 6), mode='bicubic', align_corners=False))
//   x = t((1, 1, 2, 3, 4), 0.37, 0.1)
//   dump('trilinear_ac', F.interpolate(x, size=(3, 5, 3), mode='trilinear', align_corners=True))

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "pare/core/error.hpp"
#include "pare/nn/graph/ops.hpp"

using pare::ArgumentError;
using pare::ShapeError;
using pare::UnsupportedError;
using pare::graph::Attribute;
using pare::graph::GraphNode;
using pare::graph::Value;
using pare::graph::ValueType;

namespace {

// clang-format off
const std::vector<float> convt2d = {
0.1138953f, 0.1315235f, -0.003262311f, 0.1523239f, 0.2031187f, 0.09247121f,
0.1431019f, 0.09499139f, 0.2541166f, 0.337687f, 0.2279786f, 0.2937506f,
0.3306618f, 0.3336594f, 0.3957371f, 0.2966059f, 0.3787032f, 0.5695723f,
0.4771683f, 0.5142009f, 0.4170788f, 0.4579431f, 0.6255548f, 0.4726346f,
0.4770468f, 0.4306132f, 0.4387283f, 0.5118488f, 0.3655278f, 0.3416725f,
1.029683f, 1.010837f, 1.141922f, 0.9868505f, 0.9357892f, 1.045491f,
0.9922939f, 1.031091f, 0.8793413f, 0.7957683f, 0.9121077f, 0.8455874f,
0.8050913f, 0.806087f, 0.7450008f, 0.8367012f, 0.7553645f, 0.558682f,
0.6597316f, 0.62568f, 0.7220323f, 0.6817203f, 0.5146205f, 0.6705779f,
0.6673139f, 0.7142821f, 0.7077971f, 0.6405347f, 0.7831653f, 0.8077106f,
0.8269421f, 0.8716293f, 0.8037272f, 0.9121009f, 0.9741648f, 0.8668399f,
0.9441606f, 1.023497f, 1.0676f, 1.139696f, 1.000419f, 1.067091f,
1.172511f, 1.095602f, 1.138539f, 1.10568f, 1.168017f, 1.408601f,
1.215659f, 1.209246f, 1.161091f, 1.175696f, 1.33735f, 1.16058f,
1.136701f, 1.114067f, 1.098354f, 1.111502f, 1.006093f, 0.9772924f,
0.8140129f, 0.7683626f, 0.831587f, 0.7258989f, 0.664413f, 0.7673088f,
0.6888271f, 0.6005312f, 0.5658324f, 0.4953979f, 0.6385282f, 0.5719166f,
0.4646321f, 0.5453539f, 0.5038947f, 0.5286106f, 0.4685606f, 0.2267379f,
0.4251827f, 0.4349054f, 0.4791623f, 0.4655734f, 0.3069384f, 0.4844143f,
0.5090296f, 0.5328419f, 0.5495239f, 0.5432186f, 0.6430371f, 0.6713853f};
const std::vector<float> bilinear_5x7 = {
0.09983341f, 0.2259237f, 0.4276682f, 0.5987647f, 0.758284f, 0.8674114f,
0.935616f, 0.4598831f, 0.5253947f, 0.6302134f, 0.6914971f, 0.7394106f,
0.7372682f, 0.7359292f, 0.9999576f, 0.9746011f, 0.934031f, 0.8305955f,
0.7111005f, 0.5420534f, 0.436399f, 0.4488843f, 0.3603286f, 0.2186395f,
0.06335302f, -0.09315841f, -0.244647f, -0.3393273f, 0.08150215f, -0.04918638f,
-0.258288f, -0.4481418f, -0.6293308f, -0.7691137f, -0.856478f, -0.9851778f,
-0.9835208f, -0.9808697f, -0.911863f, -0.8252255f, -0.681527f, -0.5917156f,
-0.6951696f, -0.6417798f, -0.5563563f, -0.4340051f, -0.3032625f, -0.1507068f,
-0.05535955f, -0.2601574f, -0.1291684f, 0.08041395f, 0.2827817f, 0.4796818f,
0.6455234f, 0.7491744f, 0.4587371f, 0.5243909f, 0.629437f, 0.6909989f,
0.7392002f, 0.7373624f, 0.7362137f, 0.938f, 0.960097f, 0.9954523f,
0.9631436f, 0.9122125f, 0.7985883f, 0.7275733f};
const std::vector<float> bilinear_x2 = {
0.09983341f, 0.1880966f, 0.364623f, 0.5258255f, 0.6717039f, 0.7923863f,
0.8878728f, 0.935616f, 0.3248645f, 0.3866245f, 0.5101446f, 0.6143135f,
0.6991313f, 0.7588581f, 0.7934939f, 0.8108118f, 0.7749266f, 0.7836802f,
0.8011876f, 0.7912896f, 0.7539861f, 0.6918015f, 0.6047361f, 0.5612033f,
0.7703438f, 0.7341611f, 0.6617959f, 0.5682623f, 0.4535602f, 0.3254518f,
0.1839371f, 0.1131798f, 0.311116f, 0.2380672f, 0.09196949f, -0.05476838f,
-0.2021465f, -0.3401913f, -0.4689029f, -0.5332587f, 0.08150215f, -0.009979811f,
-0.1929437f, -0.3662837f, -0.5299999f, -0.6730129f, -0.795323f, -0.856478f,
-0.9851778f, -0.9840179f, -0.9816982f, -0.9462007f, -0.8775254f, -0.7803197f,
-0.6545836f, -0.5917156f, -0.8039227f, -0.7801297f, -0.7325438f, -0.6609764f,
-0.5654274f, -0.452363f, -0.3217831f, -0.2564931f, -0.4414126f, -0.3723534f,
-0.234235f, -0.09052771f, 0.05876856f, 0.2035505f, 0.3438181f, 0.4139519f,
0.03938187f, 0.1120181f, 0.2572905f, 0.3913994f, 0.5143448f, 0.6178066f,
0.7017849f, 0.7437741f, 0.6384606f, 0.6729847f, 0.7420326f, 0.7848049f,
0.8013013f, 0.7904055f, 0.7521175f, 0.7329735f, 0.938f, 0.9534679f,
0.9844038f, 0.9815077f, 0.9447796f, 0.8767049f, 0.7772838f, 0.7275733f};
const std::vector<float> nearest_x2 = {
0.09983341f, 0.09983341f, 0.4528863f, 0.4528863f, 0.7446431f, 0.7446431f,
0.935616f, 0.935616f, 0.09983341f, 0.09983341f, 0.4528863f, 0.4528863f,
0.7446431f, 0.7446431f, 0.935616f, 0.935616f, 0.9999576f, 0.9999576f,
0.9289597f, 0.9289597f, 0.7322314f, 0.7322314f, 0.4363991f, 0.4363991f,
0.9999576f, 0.9999576f, 0.9289597f, 0.9289597f, 0.7322314f, 0.7322314f,
0.4363991f, 0.4363991f, 0.08150215f, 0.08150215f, -0.2844257f, -0.2844257f,
-0.6118579f, -0.6118579f, -0.856478f, -0.856478f, 0.08150215f, 0.08150215f,
-0.2844257f, -0.2844257f, -0.6118579f, -0.6118579f, -0.856478f, -0.856478f,
-0.9851778f, -0.9851778f, -0.9805384f, -0.9805384f, -0.8431877f, -0.8431877f,
-0.5917156f, -0.5917156f, -0.9851778f, -0.9851778f, -0.9805384f, -0.9805384f,
-0.8431877f, -0.8431877f, -0.5917156f, -0.5917156f, -0.2601575f, -0.2601575f,
0.1066117f, 0.1066117f, 0.4589515f, 0.4589515f, 0.7491744f, 0.7491744f,
-0.2601575f, -0.2601575f, 0.1066117f, 0.1066117f, 0.4589515f, 0.4589515f,
0.7491744f, 0.7491744f, 0.938f, 0.938f, 0.9998717f, 0.9998717f,
0.9264155f, 0.9264155f, 0.7275733f, 0.7275733f, 0.938f, 0.938f,
0.9998717f, 0.9998717f, 0.9264155f, 0.9264155f, 0.7275733f, 0.7275733f};
const std::vector<float> conv1d = {
0.6165795f, 0.5773408f, 0.08338022f, -0.2996178f, -0.004148483f, 0.4754718f,
0.4675791f, 0.9390271f, 1.362251f, 1.114239f, 1.410003f, 1.465015f,
1.016775f, 0.5539494f, 0.7541382f, -0.03673702f, 0.2707998f, 0.7681859f,
1.205344f, 0.6750214f, 0.7648695f, 0.4994438f, -0.00587136f, -0.5072824f,
-0.02246485f, -1.486275f, -1.263352f, -0.7508531f, -0.1859287f, -0.6245261f,
0.8366417f, 0.07453741f, -0.3041578f, -0.3691836f, 0.5662377f, 0.2142657f,
0.9480602f, 1.368033f, 1.515385f, 0.6124016f, 1.711968f, 1.007565f,
0.5469341f, 0.3174737f, 1.186687f, -0.1682168f, 0.7776199f, 1.211209f,
1.352841f, 0.3318882f, 0.9134623f, -0.0160449f, -0.5146799f, -0.7432719f,
0.2557125f, -1.651762f, -0.7399552f, -0.1770099f, 0.138205f, -0.8373376f};
const std::vector<float> conv3d = {
0.7140368f, 0.6578981f, 0.1995174f, 0.07998757f, -0.106427f, -0.01340657f,
0.3932763f, 0.5923083f, 0.7704564f, 0.6867686f, 0.04713124f, -0.1275994f,
-0.01243311f, 0.1848701f, 0.743817f, 0.7901156f, 0.4654372f, 0.2515039f,
-0.07594791f, -0.1329756f, 0.1484715f, 0.2778134f, 0.7072261f, 0.7263321f,
1.221069f, 1.172435f, 0.8147683f, 0.6858847f, 0.4144998f, 0.5129223f,
0.9264219f, 1.10594f, 1.34209f, 1.288433f, 0.5871404f, 0.3975826f,
0.5637678f, 0.739578f, 1.252105f, 1.32957f, 1.037208f, 0.8075685f,
0.5145578f, 0.461784f, 0.6418875f, 0.7640737f, 1.289856f, 1.312007f,
1.310032f, 1.270049f, 1.02152f, 0.8863189f, 0.5363566f, 0.6378629f,
1.048438f, 1.204216f, 1.492803f, 1.470442f, 0.7240134f, 0.5240929f,
0.7373828f, 0.8875586f, 1.341593f, 1.448399f, 1.19524f, 0.9553048f,
0.7036369f, 0.6563595f, 0.7308771f, 0.8430294f, 1.452797f, 1.47747f};
const std::vector<float> convt1d = {
-0.6389346f, -0.9637587f, -0.3534024f, -0.3616366f, -0.0200389f, 0.2894313f,
0.3160368f, 0.7951578f, 1.697337f, 1.002408f, 1.960779f, 1.073986f,
1.95884f, 1.000206f, 0.6083965f, 0.8985724f, 0.314905f, 0.2863329f,
-0.02120749f, -0.3646606f, -0.3544497f};
const std::vector<float> convt3d = {
-0.706936f, -0.7641904f, -0.1363361f, 0.4527162f, 1.294281f, 0.9804955f,
0.6823039f, 0.7085457f, 0.1093441f, -0.4784148f, -1.344713f, -1.001423f,
1.578913f, 2.657652f, 1.359662f, 0.9563863f, 1.249422f, 0.4236684f,
-1.572892f, -2.635045f, -1.344518f, -0.9341702f, -1.197194f, -0.3973866f};
const std::vector<float> lstm_y = {
-0.2892472f, -0.516539f, -0.124226f, -0.2968501f, 0.2049116f, 0.1561559f,
0.08358294f, 0.1124473f, -0.396315f, -0.4223727f, -0.03925104f, -0.2929606f,
0.3059386f, 0.3771162f, 0.5877902f, 0.5784888f, -0.06367577f, 0.002219353f,
-0.2917804f, -0.3664622f, 0.6301413f, 0.693512f, 0.521224f, 0.6669905f};
const std::vector<float> lstm_yh = {
-0.06367577f, 0.002219353f, -0.2917804f, -0.3664622f, 0.2049116f, 0.1561559f,
0.08358294f, 0.1124473f};
const std::vector<float> lstm_yc = {
-0.0676064f, 0.002345636f, -0.3549521f, -0.435882f, 0.7108404f, 0.1932863f,
0.5487434f, 0.1714867f};
const std::vector<float> gru_y = {
0.3727616f, 0.1594993f, -0.7814515f, -0.7746454f, 0.5034428f, 0.2224768f,
-0.7153472f, -0.7462451f, 0.6783763f, 0.297345f, -0.3665618f, -0.4975387f,
-0.4451783f, -0.4250416f, 0.08555889f, 0.1114393f, -0.8248353f, -0.8416459f,
0.04203612f, 0.06214589f, 0.0f, 0.0f, 0.0f, 0.0f};
const std::vector<float> gru_yh = {
0.6783763f, 0.297345f, -0.7814515f, -0.7746454f, -0.8248353f, -0.8416459f,
0.08555889f, 0.1114393f};
const std::vector<float> maxpool3d = {
0.4302575f, 0.07470829f, 0.4649954f, 0.4649954f, 0.9403404f, 0.9997393f,
0.9238282f, 0.4649954f, 0.9403404f, 0.9997393f, 0.9238282f, 0.4240958f,
0.9993353f, 0.9185252f, 0.4649954f, 0.4649954f, 0.9403404f, 0.9997393f,
0.9990637f, 0.9990637f, 0.9403404f, 0.9997393f, 0.9990637f, 0.9990637f,
0.9993353f, 0.9185252f, 0.4117138f, -0.3104497f, 0.1336721f, 0.7669493f,
0.9990637f, 0.9990637f, 0.9158096f, 0.7669493f, 0.9990637f, 0.9990637f,
0.0270718f, 0.1606333f, 0.7841544f, 0.7841544f, 0.9975134f, 0.9975134f,
0.7841544f, 0.7841544f, 0.9975134f, 0.9975134f, 0.6891102f, 0.02025903f,
0.8986275f, 0.6791698f, 0.7841544f, 0.7841544f, 0.9975134f, 0.9975134f,
0.9958642f, 0.895617f, 0.9975134f, 0.9975134f, 0.9958642f, 0.895617f,
0.8986275f, 0.6791698f, 0.006630984f, -0.1871143f, 0.5242007f, 0.9613258f,
0.9958642f, 0.895617f, 0.6741523f, 0.9613258f, 0.9958642f, 0.895617f};
const std::vector<std::int64_t> maxpool3d_idx = {24, 25, 35, 35, 37, 38, 39, 35, 37, 38, 39, 41, 72, 73, 35, 35, 37, 38, 89, 89, 37, 38, 89, 89, 72, 73, 75, 77, 85, 87, 89, 89, 90, 87, 89, 89, 24, 33, 35, 35, 37, 37, 35, 35, 37, 37, 39, 41, 72, 73, 35, 35, 37, 37, 88, 89, 37, 37, 88, 89, 72, 73, 75, 83, 85, 87, 88, 89, 90, 87, 88, 89};
const std::vector<float> avgpool1d = {
0.1842399f, 0.7110484f, 0.9548445f, 0.6991968f, 0.2181995f, -0.06764118f,
-0.5842538f, -0.9407313f, -0.8051472f, -0.2958578f};
const std::vector<float> avgpool3d = {
0.6220734f, 0.7816117f, 0.3679867f, 0.1630805f, -0.7154999f, -0.8230155f,
0.3555683f, 0.5825094f, 0.4872749f, 0.3419502f, -0.4792805f, -0.6693257f,
-0.200327f, 0.08578702f, 0.5699927f, 0.565863f, 0.05561393f, -0.2294516f,
-0.6532728f, -0.4550219f, 0.3597872f, 0.4989749f, 0.5619279f, 0.3283393f,
-0.8168284f, -0.6982108f, 0.1861521f, 0.3870436f, 0.7695671f, 0.599946f};
const std::vector<float> lppool2d = {
1.088064f, 1.216677f, 1.225927f, 1.270663f, 1.442803f, 1.161207f,
1.026656f, 1.382555f, 1.272268f, 1.227591f, 1.454271f, 1.272465f,
1.158669f, 1.194696f, 1.172838f, 1.272216f, 1.453098f, 1.217662f};
const std::vector<float> globallppool = {
3.045319f, 3.352863f};
const std::vector<float> bicubic_5x6 = {
-0.02075917f, 0.1785539f, 0.4858399f, 0.6834339f, 0.8964364f, 1.004175f,
0.4970025f, 0.6096226f, 0.7592238f, 0.8243599f, 0.8462698f, 0.8348682f,
1.006121f, 0.9829019f, 0.8996987f, 0.784913f, 0.5658719f, 0.4107192f,
0.5271533f, 0.3908981f, 0.1566021f, -0.02537724f, -0.2702547f, -0.4167869f,
0.02755282f, -0.171917f, -0.4797648f, -0.6781339f, -0.8926156f, -1.001402f,
-1.052165f, -1.080784f, -1.075071f, -1.006973f, -0.8333753f, -0.6989349f,
-0.8046419f, -0.7301584f, -0.5776876f, -0.4309888f, -0.1971836f, -0.04370377f,
-0.2919951f, -0.1098047f, 0.1839779f, 0.3895588f, 0.6370949f, 0.7743673f,
0.507413f, 0.6183858f, 0.7649638f, 0.8275308f, 0.8456988f, 0.831952f,
1.050193f, 1.080043f, 1.076313f, 1.009604f, 0.8376772f, 0.7041636f};
const std::vector<float> trilinear_ac = {
0.09983341f, 0.5987647f, 0.935616f, 0.5498955f, 0.7146801f, 0.6860076f,
0.9999576f, 0.8305956f, 0.4363991f, 0.5407299f, 0.1912269f, -0.2100395f,
0.08150215f, -0.4481418f, -0.856478f, -0.4426722f, -0.1565492f, 0.1719502f,
-0.03638605f, 0.2000697f, 0.3823685f, 0.3699f, 0.5566886f, 0.5927867f,
0.4398256f, 0.4070947f, 0.2641672f, 0.5097511f, 0.2575009f, -0.06445235f,
-0.9851778f, -0.9118631f, -0.5917156f, -0.6226676f, -0.3145407f, 0.07872939f,
-0.2601575f, 0.2827816f, 0.7491744f, 0.3389212f, 0.6229626f, 0.7383738f,
0.938f, 0.9631436f, 0.7275733f};
// clang-format on

std::vector<float> ramp(std::size_t n, double a, double b) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(std::sin(a * static_cast<double>(i) + b));
  return v;
}

Value fval(std::vector<std::size_t> shape, double a, double b) {
  Value v;
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  v.floats = ramp(n, a, b);
  v.shape = std::move(shape);
  return v;
}

Value floats(std::vector<float> f) {
  Value v;
  v.shape = {f.size()};
  v.floats = std::move(f);
  return v;
}

Value ints(ValueType t, std::vector<std::int64_t> i) {
  Value v;
  v.type = t;
  v.shape = {i.size()};
  v.ints = std::move(i);
  return v;
}

Attribute a_ints(std::vector<std::int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::ints;
  a.ints = std::move(v);
  return a;
}
Attribute a_int(std::int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::int64;
  a.i = v;
  return a;
}
Attribute a_str(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::string;
  a.s = std::move(v);
  return a;
}
Attribute a_strs(std::vector<std::string> v) {
  Attribute a;
  a.kind = Attribute::Kind::strings;
  a.strings = std::move(v);
  return a;
}

GraphNode node(std::string op, std::vector<std::pair<std::string, Attribute>> attrs) {
  GraphNode n;
  n.op_type = std::move(op);
  n.name = "n";
  n.attrs = pare::graph::Attributes("n");
  for (auto& [k, v] : attrs) n.attrs.set(k, v);
  return n;
}

/// Builds `n` at `opset` and runs it on `in` (nullptr: an omitted input) into `outputs` values.
std::vector<Value> run(const GraphNode& n, std::vector<const Value*> in, std::size_t outputs,
                       std::int64_t opset = 17) {
  const pare::graph::OpFn f = pare::graph::make_op(n, opset);
  std::vector<Value> out(outputs);
  std::vector<Value*> ptrs;
  for (auto& v : out) ptrs.push_back(&v);
  f(in, ptrs);
  return out;
}

void check(const Value& got, const std::vector<std::size_t>& shape,
           const std::vector<float>& want) {
  REQUIRE(got.is_float());
  REQUIRE(got.shape == shape);
  REQUIRE(got.floats.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    CHECK(got.floats[i] == Approx(want[i]).margin(2e-5).epsilon(1e-4));
  }
}

}  // namespace

TEST_CASE("ConvTranspose matches torch: 2-D grouped, dilated, output_padding; 1-D; 3-D",
          "[onnx][spatial]") {
  const Value x = fval({1, 4, 3, 3}, 0.37, 0.1), w = fval({4, 2, 3, 2}, 0.53, 0.2),
              b = fval({4}, 0.71, 0.3);
  const auto n = node("ConvTranspose", {{"group", a_int(2)},
                                        {"strides", a_ints({2, 1})},
                                        {"pads", a_ints({1, 0, 1, 0})},
                                        {"output_padding", a_ints({1, 0})},
                                        {"dilations", a_ints({1, 2})}});
  check(run(n, {&x, &w, &b}, 1)[0], {1, 4, 6, 5}, convt2d);

  const Value x1 = fval({1, 2, 4}, 0.37, 0.1), w1 = fval({2, 3, 3}, 0.53, 0.2);
  const auto n1 = node("ConvTranspose", {{"strides", a_ints({2})}, {"pads", a_ints({1, 1})}});
  check(run(n1, {&x1, &w1}, 1)[0], {1, 3, 7}, convt1d);

  const Value x3 = fval({1, 2, 2, 3, 2}, 0.37, 0.1), w3 = fval({2, 1, 2, 2, 3}, 0.53, 0.2);
  const auto n3 =
      node("ConvTranspose", {{"strides", a_ints({2, 1, 2})}, {"pads", a_ints({0, 1, 1, 0, 1, 1})}});
  check(run(n3, {&x3, &w3}, 1)[0], {1, 1, 4, 2, 3}, convt3d);
}

TEST_CASE("Conv of 1-D and 3-D inputs matches torch (group, stride, pads, dilation)",
          "[onnx][spatial]") {
  const Value x = fval({2, 4, 9}, 0.37, 0.1), w = fval({6, 2, 3}, 0.53, 0.2),
              b = fval({6}, 0.71, 0.3);
  const auto n = node("Conv", {{"group", a_int(2)},
                               {"strides", a_ints({2})},
                               {"pads", a_ints({2, 2})},
                               {"dilations", a_ints({2})}});
  check(run(n, {&x, &w, &b}, 1)[0], {2, 6, 5}, conv1d);

  const Value x3 = fval({1, 2, 4, 5, 3}, 0.37, 0.1), w3 = fval({3, 2, 2, 3, 2}, 0.53, 0.2),
              b3 = fval({3}, 0.71, 0.3);
  const auto n3 = node("Conv", {{"strides", a_ints({1, 2, 1})},
                                {"pads", a_ints({1, 1, 0, 1, 1, 0})},
                                {"dilations", a_ints({2, 1, 1})}});
  check(run(n3, {&x3, &w3, &b3}, 1)[0], {1, 3, 4, 3, 2}, conv3d);
}

TEST_CASE("Resize matches torch's interpolate (bilinear, nearest, bicubic, trilinear)",
          "[onnx][spatial]") {
  const Value x = fval({1, 2, 3, 4}, 0.37, 0.1);
  const Value sizes = ints(ValueType::i64, {1, 2, 5, 7});
  const auto lin = node("Resize", {{"mode", a_str("linear")}});
  check(run(lin, {&x, nullptr, nullptr, &sizes}, 1, 13)[0], {1, 2, 5, 7}, bilinear_5x7);
  const Value scales = floats({1, 1, 2, 2});
  check(run(lin, {&x, nullptr, &scales}, 1, 13)[0], {1, 2, 6, 8}, bilinear_x2);
  const auto near = node("Resize", {{"mode", a_str("nearest")},
                                    {"coordinate_transformation_mode", a_str("asymmetric")},
                                    {"nearest_mode", a_str("floor")}});
  check(run(near, {&x, nullptr, &scales}, 1, 13)[0], {1, 2, 6, 8}, nearest_x2);
  const Value sizes56 = ints(ValueType::i64, {1, 2, 5, 6});
  const auto cub = node("Resize", {{"mode", a_str("cubic")}});
  check(run(cub, {&x, nullptr, nullptr, &sizes56}, 1, 13)[0], {1, 2, 5, 6}, bicubic_5x6);
  const Value x5 = fval({1, 1, 2, 3, 4}, 0.37, 0.1);
  const Value sizes5 = ints(ValueType::i64, {1, 1, 3, 5, 3});
  const auto tri = node("Resize", {{"mode", a_str("linear")},
                                   {"coordinate_transformation_mode", a_str("align_corners")}});
  check(run(tri, {&x5, nullptr, nullptr, &sizes5}, 1, 13)[0], {1, 1, 3, 5, 3}, trilinear_ac);
  // integers resize in nearest mode; ONNX's Upsample example, on uint8
  Value xu = ints(ValueType::u8, {1, 2, 3, 4});
  xu.shape = {1, 1, 2, 2};
  const Value up = floats({1, 1, 2, 3});
  const Value yu = run(near, {&xu, nullptr, &up}, 1, 13)[0];
  CHECK(yu.type == ValueType::u8);
  CHECK(yu.shape == std::vector<std::size_t>{1, 1, 4, 6});
  CHECK(yu.ints == std::vector<std::int64_t>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                             3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
  // opset 18's axes: the same resize named by its two spatial axes
  const Value scales2 = floats({2, 2});
  const auto lin18 = node("Resize", {{"mode", a_str("linear")}, {"axes", a_ints({2, 3})}});
  check(run(lin18, {&x, nullptr, &scales2}, 1, 18)[0], {1, 2, 6, 8}, bilinear_x2);
}

TEST_CASE("LSTM and GRU match torch: bidirectional, initial states, layout 1, sequence_lens",
          "[onnx][spatial]") {
  constexpr std::size_t S = 3, B = 2, I = 3, H = 2;
  {
    const Value x = fval({S, B, I}, 0.37, 0.1), w = fval({2, 4 * H, I}, 0.53, 0.2),
                r = fval({2, 4 * H, H}, 0.29, 0.4), b = fval({2, 8 * H}, 0.71, 0.3),
                h0 = fval({2, B, H}, 0.23, 0.5), c0 = fval({2, B, H}, 0.19, 0.6);
    const auto n = node("LSTM", {{"direction", a_str("bidirectional")}, {"hidden_size", a_int(H)}});
    const auto out = run(n, {&x, &w, &r, &b, nullptr, &h0, &c0}, 3);
    check(out[0], {S, 2, B, H}, lstm_y);
    check(out[1], {2, B, H}, lstm_yh);
    check(out[2], {2, B, H}, lstm_yc);
  }
  {
    const Value x = fval({B, S, I}, 0.37, 0.1), w = fval({2, 3 * H, I}, 0.53, 0.2),
                r = fval({2, 3 * H, H}, 0.29, 0.4), b = fval({2, 6 * H}, 0.71, 0.3);
    const Value lens = ints(ValueType::i32, {3, 2});
    const auto n = node("GRU", {{"direction", a_str("bidirectional")},
                                {"hidden_size", a_int(H)},
                                {"layout", a_int(1)},
                                {"linear_before_reset", a_int(1)}});
    const auto out = run(n, {&x, &w, &r, &b, &lens}, 2);
    check(out[0], {B, S, 2, H}, gru_y);
    check(out[1], {B, 2, H}, gru_yh);
  }
}

TEST_CASE("MaxPool 3-D with dilation, ceil_mode and Indices matches torch", "[onnx][spatial]") {
  const Value x = fval({1, 2, 5, 4, 6}, 0.37, 0.1);
  const auto n = node("MaxPool", {{"kernel_shape", a_ints({2, 2, 3})},
                                  {"strides", a_ints({2, 1, 2})},
                                  {"pads", a_ints({1, 0, 1, 1, 0, 1})},
                                  {"dilations", a_ints({2, 1, 1})},
                                  {"ceil_mode", a_int(1)}});
  const auto out = run(n, {&x}, 2);
  check(out[0], {1, 2, 3, 3, 4}, maxpool3d);
  REQUIRE(out[1].type == ValueType::i64);
  REQUIRE(out[1].ints.size() == maxpool3d_idx.size());
  // torch counts indices within each channel; ONNX's include N and C
  const std::size_t per_channel = maxpool3d_idx.size() / 2, plane = 5 * 4 * 6;
  for (std::size_t i = 0; i < maxpool3d_idx.size(); ++i)
    CHECK(out[1].ints[i] ==
          maxpool3d_idx[i] + static_cast<std::int64_t>((i / per_channel) * plane));
}

TEST_CASE("AveragePool 1-D and 3-D match torch; LpPool and GlobalLpPool match numpy",
          "[onnx][spatial]") {
  const Value x1 = fval({1, 2, 8}, 0.37, 0.1);
  const auto a1 = node("AveragePool", {{"kernel_shape", a_ints({3})},
                                       {"strides", a_ints({2})},
                                       {"pads", a_ints({1, 1})},
                                       {"ceil_mode", a_int(1)},
                                       {"count_include_pad", a_int(1)}});
  check(run(a1, {&x1}, 1)[0], {1, 2, 5}, avgpool1d);
  const Value x3 = fval({1, 1, 4, 5, 3}, 0.37, 0.1);
  const auto a3 = node("AveragePool", {{"kernel_shape", a_ints({2, 3, 2})},
                                       {"strides", a_ints({1, 2, 1})},
                                       {"pads", a_ints({1, 1, 0, 1, 1, 0})}});
  check(run(a3, {&x3}, 1)[0], {1, 1, 5, 3, 2}, avgpool3d);
  const Value x2 = fval({1, 2, 4, 5}, 0.37, 0.1);
  const auto lp = node("LpPool", {{"kernel_shape", a_ints({2, 3})},
                                  {"strides", a_ints({1, 2})},
                                  {"pads", a_ints({0, 1, 0, 1})},
                                  {"p", a_int(3)}});
  check(run(lp, {&x2}, 1)[0], {1, 2, 3, 3}, lppool2d);
  check(run(node("GlobalLpPool", {}), {&x2}, 1)[0], {1, 2, 1, 1}, globallppool);
}

TEST_CASE("spatial ops refuse hostile attributes and mismatched shapes", "[onnx][spatial]") {
  const Value x2 = fval({1, 2, 3, 3}, 0.37, 0.1), w2 = fval({2, 1, 2, 2}, 0.53, 0.2);
  // ConvTranspose: zero or negative strides, huge output_shape, wrong pads, channel mismatch
  CHECK_THROWS_AS(run(node("ConvTranspose", {{"strides", a_ints({0, 1})}}), {&x2, &w2}, 1),
                  ArgumentError);
  CHECK_THROWS_AS(run(node("ConvTranspose", {{"strides", a_ints({-2, 1})}}), {&x2, &w2}, 1),
                  ArgumentError);
  CHECK_THROWS_AS(run(node("ConvTranspose", {{"output_shape", a_ints({std::int64_t{1} << 50, 4})}}),
                      {&x2, &w2}, 1),
                  ShapeError);
  CHECK_THROWS_AS(
      run(node("ConvTranspose",
               {{"output_shape", a_ints({std::int64_t{1} << 30, std::int64_t{1} << 30})}}),
          {&x2, &w2}, 1),
      ShapeError);
  CHECK_THROWS_AS(run(node("ConvTranspose", {{"pads", a_ints({1, 1})}}), {&x2, &w2}, 1),
                  ArgumentError);
  CHECK_THROWS_AS(run(node("ConvTranspose", {{"pads", a_ints({-1, 0, 0, 0})}}), {&x2, &w2}, 1),
                  ArgumentError);
  CHECK_THROWS_AS(run(node("ConvTranspose", {{"pads", a_ints({5, 5, 5, 5})}}), {&x2, &w2}, 1),
                  ShapeError);
  const Value w_bad = fval({3, 1, 2, 2}, 0.53, 0.2);
  CHECK_THROWS_AS(run(node("ConvTranspose", {}), {&x2, &w_bad}, 1), ShapeError);
  // N-D Conv: rank mismatch, group that does not divide, zero dilation
  const Value x1 = fval({1, 2, 5}, 0.37, 0.1), w1 = fval({2, 2, 2}, 0.53, 0.2);
  CHECK_THROWS_AS(run(node("Conv", {}), {&x1, &w2}, 1), ShapeError);
  CHECK_THROWS_AS(run(node("Conv", {{"group", a_int(3)}}), {&x1, &w1}, 1), ShapeError);
  CHECK_THROWS_AS(run(node("Conv", {{"dilations", a_ints({0})}}), {&x1, &w1}, 1), ArgumentError);
  const Value w_long = fval({2, 2, 9}, 0.53, 0.2);
  CHECK_THROWS_AS(run(node("Conv", {}), {&x1, &w_long}, 1), ShapeError);
  // Resize: huge, negative, NaN scales; negative sizes; both or neither; antialias; integers
  const Value huge = floats({1, 1, 1e30f, 1e30f}), big = floats({1, 1, 1e5f, 1e5f}),
              neg = floats({1, 1, -2, 2}), nan = floats({1, 1, std::nanf(""), 2}),
              three = floats({1, 2, 2});
  const auto lin = node("Resize", {{"mode", a_str("linear")}});
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, &huge}, 1, 13), ShapeError);
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, &big}, 1, 13), ShapeError);
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, &neg}, 1, 13), ArgumentError);
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, &nan}, 1, 13), ArgumentError);
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, &three}, 1, 13), ShapeError);
  const Value neg_sizes = ints(ValueType::i64, {1, 2, -3, 3});
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, nullptr, &neg_sizes}, 1, 13), ShapeError);
  const Value sizes = ints(ValueType::i64, {1, 2, 3, 3}), scales = floats({1, 1, 2, 2});
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, &scales, &sizes}, 1, 13), ArgumentError);
  CHECK_THROWS_AS(run(lin, {&x2, nullptr, nullptr, nullptr}, 1, 13), ArgumentError);
  CHECK_THROWS_AS(run(node("Resize", {{"antialias", a_int(1)}}), {&x2, nullptr, &scales}, 1, 18),
                  UnsupportedError);
  CHECK_THROWS_AS(run(node("Resize", {{"mode", a_str("area")}}), {&x2, nullptr, &scales}, 1, 13),
                  ArgumentError);
  const Value xi = ints(ValueType::u8, {1, 2, 3, 4});
  CHECK_THROWS_AS(run(lin, {&xi, nullptr, &scales}, 1, 13), UnsupportedError);
  // pooling: no kernel, zero stride, wrong rank, wrong pads, padding as large as the window
  CHECK_THROWS_AS(run(node("MaxPool", {}), {&x2}, 1), ArgumentError);
  CHECK_THROWS_AS(
      run(node("MaxPool", {{"kernel_shape", a_ints({2, 2})}, {"strides", a_ints({0, 1})}}), {&x2},
          1),
      ArgumentError);
  CHECK_THROWS_AS(run(node("MaxPool", {{"kernel_shape", a_ints({2})}}), {&x2}, 1), ShapeError);
  CHECK_THROWS_AS(
      run(node("AveragePool", {{"kernel_shape", a_ints({2, 2})}, {"pads", a_ints({1, 1})}}), {&x2},
          1),
      ArgumentError);
  CHECK_THROWS_AS(
      run(node("MaxPool", {{"kernel_shape", a_ints({2, 2})}, {"pads", a_ints({2, 0, 0, 0})}}),
          {&x2}, 1),
      ShapeError);
  // recurrences: mismatched weights, sequence lengths out of range, unsupported activations
  const Value x = fval({3, 1, 2}, 0.37, 0.1), w = fval({1, 4, 2}, 0.53, 0.2),
              r = fval({1, 4, 1}, 0.29, 0.4), r_bad = fval({1, 4, 2}, 0.29, 0.4);
  CHECK_THROWS_AS(run(node("LSTM", {{"hidden_size", a_int(1)}}), {&x, &w, &r_bad}, 1), ShapeError);
  CHECK_THROWS_AS(run(node("LSTM", {{"hidden_size", a_int(2)}}), {&x, &w, &r}, 1), ShapeError);
  const Value long_len = ints(ValueType::i32, {4});
  CHECK_THROWS_AS(run(node("LSTM", {}), {&x, &w, &r, nullptr, &long_len}, 1), ShapeError);
  CHECK_THROWS_AS(run(node("RNN", {{"activations", a_strs({"Softsign"})}}), {&x, &w, &r}, 1),
                  UnsupportedError);
  CHECK_THROWS_AS(run(node("GRU", {{"direction", a_str("sideways")}}), {&x, &w, &r}, 1),
                  ArgumentError);
  CHECK_NOTHROW(run(node("LSTM", {}), {&x, &w, &r}, 3));
}

TEST_CASE("spatial ops on random hostile attributes and shapes either run or throw pare::Error",
          "[onnx][spatial]") {
  // Each op is built and run on small random shapes with attributes drawn from ranges that
  // include zero, negative and huge values; ASan and UBSan watch the runs. Values are capped low
  // so that a request for a huge output is refused, not allocated.
  const std::size_t saved = pare::graph::max_value_elements;
  pare::graph::max_value_elements = std::size_t{1} << 20;
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  const auto hostile = [&] {
    switch (next() % 16) {
      case 0:
        return std::int64_t{0};
      case 1:
        return std::int64_t{-1} - pick(0, 3);
      case 2:
        return std::int64_t{1} << pick(20, 62);
      default:
        return pick(1, 3);
    }
  };
  const auto hostile_ints = [&](std::size_t n) {
    std::vector<std::int64_t> v(n);
    for (auto& e : v) e = hostile();
    return v;
  };
  int ran = 0, refused = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    const std::size_t sp = static_cast<std::size_t>(pick(1, 3));
    std::vector<std::size_t> xs{static_cast<std::size_t>(pick(1, 2)),
                                static_cast<std::size_t>(pick(1, 4))};
    for (std::size_t d = 0; d < sp; ++d) xs.push_back(static_cast<std::size_t>(pick(0, 6)));
    const Value x = fval(xs, 0.37, 0.1);
    std::vector<std::size_t> ws{static_cast<std::size_t>(pick(0, 4)),
                                static_cast<std::size_t>(pick(0, 4))};
    for (std::size_t d = 0; d < sp; ++d) ws.push_back(static_cast<std::size_t>(pick(0, 4)));
    if (next() % 4 != 0) ws[iter % 5 == 1 ? 0 : 1] = xs[1];  // channels that agree, mostly
    const Value w = fval(ws, 0.53, 0.2);
    const std::size_t attr_n = next() % 8 == 0 ? static_cast<std::size_t>(pick(0, 4)) : sp;
    std::vector<std::pair<std::string, Attribute>> attrs;
    for (const char* a : {"strides", "dilations", "output_padding", "output_shape"})
      if (next() % 3 == 0) attrs.emplace_back(a, a_ints(hostile_ints(attr_n)));
    if (iter % 5 == 2 || iter % 5 == 3 || next() % 4 == 0)
      attrs.emplace_back("kernel_shape", a_ints(hostile_ints(attr_n)));
    if (next() % 3 == 0) attrs.emplace_back("pads", a_ints(hostile_ints(2 * attr_n)));
    if (next() % 3 == 0) attrs.emplace_back("group", a_int(hostile()));
    if (next() % 3 == 0)
      attrs.emplace_back("auto_pad", a_str(next() % 2 ? "SAME_UPPER" : "SAME_LOWER"));
    if (next() % 3 == 0) attrs.emplace_back("ceil_mode", a_int(1));
    if (next() % 3 == 0) attrs.emplace_back("count_include_pad", a_int(1));
    std::vector<float> sc(xs.size());
    for (auto& s : sc) s = static_cast<float>(hostile()) / static_cast<float>(pick(1, 3));
    const Value scales = floats(sc);
    std::vector<std::int64_t> sz(xs.size());
    for (auto& s : sz) s = hostile();
    const Value sizes = ints(ValueType::i64, sz);
    const Value roi = floats(std::vector<float>(2 * xs.size(), static_cast<float>(hostile())));
    const char* modes[] = {"nearest", "linear", "cubic"};
    const char* coords[] = {"half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize",
                            "pytorch_half_pixel"};
    try {
      switch (iter % 5) {
        case 0:
          (void)run(node("Conv", attrs), {&x, &w}, 1);
          break;
        case 1:
          (void)run(node("ConvTranspose", attrs), {&x, &w}, 1);
          break;
        case 2:
          (void)run(node(iter % 2 ? "MaxPool" : "AveragePool", attrs), {&x}, iter % 2 ? 2 : 1);
          break;
        case 3:
          (void)run(node("LpPool", attrs), {&x}, 1);
          break;
        default: {
          const auto n =
              node("Resize", {{"mode", a_str(modes[next() % 3])},
                              {"coordinate_transformation_mode", a_str(coords[next() % 5])},
                              {"exclude_outside", a_int(pick(0, 1))}});
          if (next() % 2)
            (void)run(n, {&x, &roi, &scales}, 1, 13);
          else
            (void)run(n, {&x, &roi, nullptr, &sizes}, 1, 13);
        }
      }
      ++ran;
    } catch (const pare::Error&) {
      ++refused;
    }
  }
  pare::graph::max_value_elements = saved;
  CHECK(ran + refused == 2000);
  CHECK(ran > 0);
  CHECK(refused > 0);
}
