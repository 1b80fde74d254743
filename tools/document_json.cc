#include "tools/document_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace ember::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

std::string Got(const json& value) { return absl::StrCat("got ", value.type_name()); }

absl::StatusOr<Value> ValueFromJson(const json& value, absl::string_view field) {
  switch (value.type()) {
    case json::value_t::null:
      return Value();
    case json::value_t::boolean:
      return Value(value.get<bool>());
    case json::value_t::number_integer:
      return Value(value.get<int64_t>());
    case json::value_t::number_unsigned: {
      const uint64_t number = value.get<uint64_t>();
      if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return FieldError(field, absl::StrCat("integer ", number, " does not fit in int64"));
      }
      return Value(static_cast<int64_t>(number));
    }
    case json::value_t::number_float:
      return Value(value.get<double>());
    case json::value_t::string:
      return Value(value.get<std::string>());
    case json::value_t::array: {
      std::vector<std::string> strings;
      strings.reserve(value.size());
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
          return FieldError(absl::StrCat(field, "[", i, "]"),
                            absl::StrCat("lists hold strings only, ", Got(value[i])));
        }
        strings.push_back(value[i].get<std::string>());
      }
      return Value(std::move(strings));
    }
    default:
      return FieldError(field, absl::StrCat("expected null, a boolean, a number, a string or a "
                                            "list of strings, ",
                                            Got(value)));
  }
}

absl::StatusOr<std::string> IdFromJson(const json& value, absl::string_view field) {
  if (!value.is_string()) return FieldError(field, absl::StrCat("expected a string, ", Got(value)));
  std::string id = value.get<std::string>();
  if (id.empty()) return FieldError(field, "the id is empty");
  if (id.size() > kMaxDocumentIdBytes) {
    return FieldError(field, absl::StrCat("the id has ", id.size(), " bytes; the limit is ",
                                          kMaxDocumentIdBytes));
  }
  return id;
}

absl::StatusOr<std::optional<std::string>> OptionalStringFromJson(const json& object,
                                                                  absl::string_view field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return FieldError(field, absl::StrCat("expected a string, ", Got(*it)));
  return it->get<std::string>();
}

}  // namespace

absl::StatusOr<json> ParseJson(absl::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // what() reads "[json.exception.parse_error.101] parse error at line 1, column 5: ...". The
    // caller names the file and line, so keep the column and the reason.
    absl::string_view reason = e.what();
    if (size_t end = reason.find("] "); end != absl::string_view::npos)
      reason.remove_prefix(end + 2);
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid JSON: ", absl::StrReplaceAll(reason, {{"at line 1, column", "at column"}})));
  }
}

absl::StatusOr<std::vector<float>> VectorFromJson(const json& value, absl::string_view field) {
  if (!value.is_array()) {
    return FieldError(field, absl::StrCat("expected an array of numbers, ", Got(value)));
  }
  std::vector<float> vector;
  vector.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const json& component = value[i];
    if (!component.is_number()) {
      std::string got = Got(component);
      if (component.is_string()) absl::StrAppend(&got, " \"", component.get<std::string>(), "\"");
      return FieldError(absl::StrCat(field, "[", i, "]"), absl::StrCat("expected a number, ", got));
    }
    const double number = component.get<double>();
    // Written so that NaN fails too.
    if (!(std::abs(number) <= std::numeric_limits<float>::max())) {
      return FieldError(absl::StrCat(field, "[", i, "]"),
                        absl::StrCat(component.dump(), " is not a finite float"));
    }
    vector.push_back(static_cast<float>(number));
  }
  return vector;
}

absl::StatusOr<Document> DocumentFromJson(const json& value, const LineRules& rules) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("expected a JSON object, ", Got(value)));
  }
  const bool has_id = value.contains("id");
  const bool has_beir_id = value.contains("_id");
  for (const auto& [key, unused] : value.items()) {
    if (key != "id" && key != "_id" && key != "text" && key != "title" && key != "attributes" &&
        key != "vector" && !(key == "metadata" && has_beir_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown field \"", key,
                       "\" (fields are id, text, attributes, vector; or BEIR's _id, title, text, "
                       "metadata)"));
    }
  }
  if (has_id && has_beir_id) {
    return absl::InvalidArgumentError("both \"id\" and \"_id\" given; use one");
  }
  if (!has_id && !has_beir_id) return absl::InvalidArgumentError("missing field \"id\"");

  Document document;
  const char* id_field = has_id ? "id" : "_id";
  auto id = IdFromJson(value[id_field], id_field);
  if (!id.ok()) return id.status();
  document.id = *std::move(id);

  auto text = OptionalStringFromJson(value, "text");
  if (!text.ok()) return text.status();
  auto title = OptionalStringFromJson(value, "title");
  if (!title.ok()) return title.status();
  if (*title && !(*title)->empty() && *text) {
    document.text = absl::StrCat(**title, " ", **text);
  } else {
    document.text = *text ? *std::move(text) : *title;
  }

  if (auto it = value.find("attributes"); it != value.end()) {
    if (!it->is_object()) {
      return FieldError("attributes", absl::StrCat("expected an object, ", Got(*it)));
    }
    for (const auto& [name, attribute] : it->items()) {
      if (name.empty()) return FieldError("attributes", "an attribute name is empty");
      auto converted = ValueFromJson(attribute, absl::StrCat("attributes.", name));
      if (!converted.ok()) return converted.status();
      document.attributes.emplace(name, *std::move(converted));
    }
  }
  if (*title && !(*title)->empty()) {
    // Kept as an attribute so that it can be shown with results, filtered on, and put in front of
    // each chunk (`import --situated`).
    if (!document.attributes.emplace("title", **title).second) {
      return FieldError("title", "given both as a field and as the attribute \"title\"; use one");
    }
  }

  auto it = value.find("vector");
  if (rules.dimension == 0) {
    // Text-only: the document is found by the words of its text (and full-text attributes).
    if (it != value.end() && !it->is_null()) {
      return FieldError("vector",
                        "the collection is text-only (it stores no vectors): leave the vector out");
    }
    return document;
  }
  if (it == value.end() || (it->is_null() && rules.embeds_text)) {
    if (!rules.embeds_text) return absl::InvalidArgumentError("missing field \"vector\"");
    if (!document.text || document.text->empty()) {
      return absl::InvalidArgumentError(
          "no \"vector\" and no text for the collection's model to embed (give a non-empty "
          "\"text\")");
    }
    return document;
  }
  auto vector = VectorFromJson(*it, "vector");
  if (!vector.ok()) return vector.status();
  if (vector->size() != static_cast<size_t>(rules.dimension)) {
    return FieldError("vector",
                      absl::StrCat("has ", vector->size(),
                                   " components; the collection's dimension is ", rules.dimension));
  }
  document.vector = *std::move(vector);
  return document;
}

ordered_json FloatToJson(float value) {
  // Printing the float's shortest form and reading it back as a double gives the double whose
  // shortest form is the same digits, so the JSON shows "0.1" and reads back as the same float.
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  *end = '\0';
  return ordered_json(std::strtod(buffer, nullptr));
}

ordered_json VectorToJson(const std::vector<float>& vector) {
  ordered_json array = ordered_json::array();
  for (float component : vector) array.push_back(FloatToJson(component));
  return array;
}

ordered_json ValueToJson(const Value& value) {
  return std::visit(
      [](const auto& alternative) -> ordered_json {
        using T = std::decay_t<decltype(alternative)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else {
          return alternative;
        }
      },
      value);
}

ordered_json AttributesToJson(const Attributes& attributes) {
  ordered_json object = ordered_json::object();
  for (const auto& [name, value] : attributes) object[name] = ValueToJson(value);
  return object;
}

ordered_json DocumentToJson(const Document& document) {
  ordered_json object = {{"id", document.id}};
  if (document.text) object["text"] = *document.text;
  object["attributes"] = AttributesToJson(document.attributes);
  if (!document.vector.empty()) object["vector"] = VectorToJson(document.vector);
  return object;
}

}  // namespace ember::cli
