// sentence-transformers' Pooling and Normalize modules and Matryoshka truncation: from the token
// states of one sequence to its embedding.
//
// Thread-safety: pure functions.
#ifndef EMBER_EMBED_POOLING_H_
#define EMBER_EMBED_POOLING_H_

#include <cstddef>
#include <span>

#include "embed/model_config.h"

namespace ember::embed {

// Pools the `length` token states (row-major, `width` floats each) of one sequence into `out`
// (`width` floats). Tokens before `first_token` (a prompt excluded from pooling) are skipped by
// mean, max and mean-sqrt-len pooling; CLS always takes token 0 and last-token the final token.
// Requires 0 <= first_token < length.
void Pool(PoolingMode mode, const float* states, size_t length, size_t width, size_t first_token,
          float* out);

// Scales `vector` to unit L2 norm; a zero vector stays zero.
void NormalizeL2(std::span<float> vector);

}  // namespace ember::embed

#endif  // EMBER_EMBED_POOLING_H_
