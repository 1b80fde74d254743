// Documents and their attribute values: what users put into a collection and get back out.
#ifndef EMBER_DOCUMENT_H_
#define EMBER_DOCUMENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ember {

// An attribute value: null, bool, int64, double, string, or a list of strings (tags).
// The alternatives' order is part of the on-disk format: do not reorder.
using Value =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>>;

// Attribute name -> value. Ordered so that a document prints and serializes the same way every
// time.
using Attributes = std::map<std::string, Value>;

// Returns "null", "bool", "int", "double", "string" or "list" for `value`.
const char* ValueTypeName(const Value& value);

// The largest id Ember accepts, in bytes of UTF-8.
inline constexpr size_t kMaxDocumentIdBytes = 1024;

// One document of a collection.
struct Document {
  /// Unique within its collection: a non-empty UTF-8 string of at most kMaxDocumentIdBytes bytes.
  std::string id;
  /// The document's text. Optional; stored and returned as given.
  std::optional<std::string> text;
  /// Named attributes, returned with results and usable in filters.
  Attributes attributes;
  /// The embedding: exactly the collection's dimension, every component finite. On a collection
  /// with a document encoder it may be left empty when `text` is present; it is then computed from
  /// the text.
  std::vector<float> vector;

  friend bool operator==(const Document&, const Document&) = default;
};

}  // namespace ember

#endif  // EMBER_DOCUMENT_H_
