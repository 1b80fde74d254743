// The JSON form of documents, attribute values and vectors, in both directions: what `ember import`
// reads and what `ember get` / `ember search --json` print.
//
// A document is {"id": "...", "text": "...", "attributes": {...}, "vector": [...]}. Reading also
// accepts BEIR corpus lines {"_id": "...", "title": "...", "text": "...", "metadata": {...}}: the
// id comes from "_id", the text is title + " " + text (just the text when the title is empty, as
// eval::DocumentText), the title is also kept as the attribute "title", and "metadata" is ignored.
// Attribute values map to ember::Value: null, true/false, integers (int64), other numbers (double),
// strings, and arrays of strings. Nested objects and arrays holding anything but strings are
// errors.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef EMBER_TOOLS_DOCUMENT_JSON_H_
#define EMBER_TOOLS_DOCUMENT_JSON_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ember/document.h"
#include "nlohmann/json.hpp"

namespace ember::cli {

// Parses one JSON text. InvalidArgument with the parser's reason and column for malformed JSON
// (never throws).
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view text);

// Converts a JSON array of numbers to a vector of floats. InvalidArgument naming `field` (and the
// component's index) when `json` is not an array, a component is not a number, or a component is
// not finite as a float (NaN, infinite, or beyond float's range).
absl::StatusOr<std::vector<float>> VectorFromJson(const nlohmann::json& json,
                                                  absl::string_view field);

// What a collection requires of an import line.
struct LineRules {
  /// The collection's dimension: a given vector must have exactly this many components. 0: the
  /// collection is text-only (it stores no vectors), and a line must not have one.
  int dimension = 0;
  /// The collection embeds texts (it has an encoder): a line may leave out "vector" when it has a
  /// non-empty text, which the database embeds.
  bool embeds_text = false;
};

// Converts a JSON object (one line of an import file) to a Document. InvalidArgument naming the
// JSON field for: a value that is not an object, a missing, empty, over-long or non-string id,
// both "id" and "_id", a text or title that is not a string or null, attributes that are not an
// object, have an empty name or hold a value that is not an attribute value, a title given both as
// a field and as the attribute "title", an invalid vector (see VectorFromJson) or one of the wrong
// dimension, a missing vector (unless rules.embeds_text and the line has a non-empty text, or the
// collection is text-only), a vector for a text-only collection, an unknown field.
absl::StatusOr<Document> DocumentFromJson(const nlohmann::json& json, const LineRules& rules);

// Output uses ordered_json so that objects print their keys in a fixed, meaningful order ("id"
// first).

// A float as a JSON number that prints in its shortest round-tripping form ("0.1", not
// "0.10000000149011612").
nlohmann::ordered_json FloatToJson(float value);

// An array of FloatToJson numbers.
nlohmann::ordered_json VectorToJson(const std::vector<float>& vector);

nlohmann::ordered_json ValueToJson(const Value& value);
nlohmann::ordered_json AttributesToJson(const Attributes& attributes);

// {"id", "text" (when present), "attributes", "vector" (when not empty)}.
nlohmann::ordered_json DocumentToJson(const Document& document);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_DOCUMENT_JSON_H_
