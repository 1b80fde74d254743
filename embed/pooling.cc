#include "embed/pooling.h"

#include <algorithm>
#include <cmath>

namespace ember::embed {

void Pool(PoolingMode mode, const float* states, size_t length, size_t width, size_t first_token,
          float* out) {
  const float* first = states + first_token * width;
  const size_t count = length - first_token;
  switch (mode) {
    case PoolingMode::kCls:
      std::copy(states, states + width, out);
      return;
    case PoolingMode::kLastToken:
      std::copy(states + (length - 1) * width, states + length * width, out);
      return;
    case PoolingMode::kMax:
      std::copy(first, first + width, out);
      for (size_t t = 1; t < count; ++t) {
        const float* row = first + t * width;
        for (size_t c = 0; c < width; ++c) out[c] = std::max(out[c], row[c]);
      }
      return;
    case PoolingMode::kMean:
    case PoolingMode::kMeanSqrtLen: {
      // Accumulated in double: a 512-token sum in float loses digits the reference keeps.
      std::fill(out, out + width, 0.0f);
      for (size_t c = 0; c < width; ++c) {
        double sum = 0;
        for (size_t t = 0; t < count; ++t) sum += first[t * width + c];
        const double divisor = mode == PoolingMode::kMean ? static_cast<double>(count)
                                                          : std::sqrt(static_cast<double>(count));
        out[c] = static_cast<float>(sum / divisor);
      }
      return;
    }
  }
}

void NormalizeL2(std::span<float> vector) {
  double squares = 0;
  for (const float v : vector) squares += static_cast<double>(v) * v;
  if (squares == 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(squares));
  for (float& v : vector) v *= scale;
}

}  // namespace ember::embed
