#include "embed/encoder.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "embed/static_encoder.h"
#include "embed/transformer_encoder.h"
#include "ember/status.h"

namespace ember::embed {

absl::StatusOr<std::unique_ptr<Encoder>> LoadEncoder(const std::string& model_dir,
                                                     const EncoderOptions& options) {
  std::error_code error;
  if (!std::filesystem::exists(model_dir, error)) {
    return absl::NotFoundError(absl::StrCat("no model at ", model_dir));
  }
  if (IsStaticModel(model_dir)) return LoadStaticEncoder(model_dir, options);
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<TransformerEncoder> encoder,
                         TransformerEncoder::Load(model_dir, options,
                                                  options.bfloat16_weights
                                                      ? LinearPrecision::kBfloat16
                                                      : LinearPrecision::kFloat32));
  return std::unique_ptr<Encoder>(std::move(encoder));
}

}  // namespace ember::embed
