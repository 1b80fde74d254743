#include "db/records.h"

#include <cstring>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "storage/key_encoding.h"

namespace ember::db {
namespace {

// The first byte of every value record: lets a later format tell its records from these.
constexpr uint8_t kRecordVersion = 1;

template <typename T>
void AppendFixed(std::string* out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out->append(bytes, sizeof(T));
}

void AppendBytes(std::string* out, std::string_view bytes) {
  AppendFixed<uint32_t>(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

// Reads fixed-width values and length-prefixed byte strings from a record, failing instead of
// reading past its end.
class RecordReader {
 public:
  explicit RecordReader(std::string_view record) : rest_(record) {}

  template <typename T>
  bool Fixed(T* value) {
    if (rest_.size() < sizeof(T)) return false;
    std::memcpy(value, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return true;
  }

  bool Bytes(std::string* value) {
    uint32_t size;
    if (!Fixed(&size) || rest_.size() < size) return false;
    value->assign(rest_.data(), size);
    rest_.remove_prefix(size);
    return true;
  }

  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt ", std::string(what), " record in the store"));
}

std::string KeyWithSuffix(CollectionId collection, uint64_t suffix) {
  std::string key = CollectionPrefix(collection);
  storage::AppendUint64(&key, suffix);
  return key;
}

}  // namespace

std::string CollectionCatalogKey(std::string_view name) {
  return absl::StrCat(kCollectionCatalogPrefix, std::string(name));
}

std::string CountersKey(CollectionId collection) {
  std::string key = "counters/";
  storage::AppendUint32(&key, collection);
  return key;
}

std::string CollectionPrefix(CollectionId collection) {
  std::string key;
  storage::AppendUint32(&key, collection);
  return key;
}

std::string DocumentKey(CollectionId collection, Label label) {
  return KeyWithSuffix(collection, static_cast<uint64_t>(label));
}

std::string VectorKey(CollectionId collection, Label label) {
  return KeyWithSuffix(collection, static_cast<uint64_t>(label));
}

std::string TermsKey(CollectionId collection, Label label) {
  return KeyWithSuffix(collection, static_cast<uint64_t>(label));
}

std::string ChangeKey(CollectionId collection, uint64_t sequence) {
  return KeyWithSuffix(collection, sequence);
}

std::string IdKey(CollectionId collection, std::string_view id) {
  std::string key = CollectionPrefix(collection);
  key.append(id);
  return key;
}

bool DecodeKeySuffix(std::string_view key, uint64_t* value) {
  if (key.size() < sizeof(uint64_t)) return false;
  key.remove_prefix(key.size() - sizeof(uint64_t));
  return storage::ConsumeUint64(&key, value);
}

std::string EncodeDocument(const Document& document) {
  std::string out;
  AppendFixed<uint8_t>(&out, kRecordVersion);
  AppendBytes(&out, document.id);
  AppendFixed<uint8_t>(&out, document.text.has_value());
  if (document.text) AppendBytes(&out, *document.text);
  AppendFixed<uint32_t>(&out, static_cast<uint32_t>(document.attributes.size()));
  for (const auto& [name, value] : document.attributes) {
    AppendBytes(&out, name);
    AppendFixed<uint8_t>(&out, static_cast<uint8_t>(value.index()));
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            AppendFixed<uint8_t>(&out, v);
          } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
            AppendFixed<T>(&out, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            AppendBytes(&out, v);
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            AppendFixed<uint32_t>(&out, static_cast<uint32_t>(v.size()));
            for (const std::string& item : v) AppendBytes(&out, item);
          }
        },
        value);
  }
  return out;
}

absl::StatusOr<Document> DecodeDocument(std::string_view record) {
  RecordReader reader(record);
  Document document;
  uint8_t version, has_text;
  uint32_t attribute_count;
  if (!reader.Fixed(&version) || version != kRecordVersion || !reader.Bytes(&document.id) ||
      !reader.Fixed(&has_text)) {
    return Corrupt("document");
  }
  if (has_text) {
    document.text.emplace();
    if (!reader.Bytes(&*document.text)) return Corrupt("document");
  }
  if (!reader.Fixed(&attribute_count)) return Corrupt("document");
  for (uint32_t i = 0; i < attribute_count; ++i) {
    std::string name;
    uint8_t type;
    if (!reader.Bytes(&name) || !reader.Fixed(&type)) return Corrupt("document");
    Value value;
    bool ok = true;
    switch (type) {
      case 0:
        break;
      case 1: {
        uint8_t b = 0;
        ok = reader.Fixed(&b);
        value = b != 0;
        break;
      }
      case 2: {
        int64_t n = 0;
        ok = reader.Fixed(&n);
        value = n;
        break;
      }
      case 3: {
        double d = 0;
        ok = reader.Fixed(&d);
        value = d;
        break;
      }
      case 4: {
        std::string s;
        ok = reader.Bytes(&s);
        value = std::move(s);
        break;
      }
      case 5: {
        uint32_t count;
        std::vector<std::string> items;
        ok = reader.Fixed(&count);
        for (uint32_t j = 0; ok && j < count; ++j) ok = reader.Bytes(&items.emplace_back());
        value = std::move(items);
        break;
      }
      default:
        ok = false;
    }
    if (!ok) return Corrupt("document");
    document.attributes.emplace(std::move(name), std::move(value));
  }
  if (!reader.done()) return Corrupt("document");
  return document;
}

std::string EncodeVector(std::span<const float> vector) {
  return std::string(reinterpret_cast<const char*>(vector.data()), vector.size_bytes());
}

absl::Status DecodeVector(std::string_view record, int dimension, std::vector<float>* out) {
  if (record.size() != static_cast<size_t>(dimension) * sizeof(float)) return Corrupt("vector");
  out->resize(dimension);
  std::memcpy(out->data(), record.data(), record.size());
  return absl::OkStatus();
}

std::string EncodeLabel(Label label) {
  std::string out;
  AppendFixed<int64_t>(&out, label);
  return out;
}

absl::StatusOr<Label> DecodeLabel(std::string_view record) {
  RecordReader reader(record);
  Label label;
  if (!reader.Fixed(&label) || !reader.done()) return Corrupt("id");
  return label;
}

std::string EncodeChange(const ChangeRecord& change) {
  std::string out;
  AppendFixed<uint8_t>(&out, static_cast<uint8_t>(change.op));
  AppendFixed<int64_t>(&out, change.label);
  return out;
}

absl::StatusOr<ChangeRecord> DecodeChange(std::string_view record) {
  RecordReader reader(record);
  uint8_t op;
  ChangeRecord change;
  if (!reader.Fixed(&op) || !reader.Fixed(&change.label) || !reader.done() ||
      (op != static_cast<uint8_t>(ChangeOp::kUpsert) &&
       op != static_cast<uint8_t>(ChangeOp::kDelete))) {
    return Corrupt("change-log");
  }
  change.op = static_cast<ChangeOp>(op);
  return change;
}

std::string EncodeCounters(const CollectionCounters& counters) {
  std::string out;
  AppendFixed<uint8_t>(&out, kRecordVersion);
  AppendFixed(&out, counters.next_label);
  AppendFixed(&out, counters.last_sequence);
  AppendFixed(&out, counters.document_count);
  AppendFixed(&out, counters.truncated_through);
  return out;
}

absl::StatusOr<CollectionCounters> DecodeCounters(std::string_view record) {
  RecordReader reader(record);
  uint8_t version;
  CollectionCounters counters;
  if (!reader.Fixed(&version) || version != kRecordVersion || !reader.Fixed(&counters.next_label) ||
      !reader.Fixed(&counters.last_sequence) || !reader.Fixed(&counters.document_count) ||
      !reader.Fixed(&counters.truncated_through) || !reader.done()) {
    return Corrupt("counters");
  }
  return counters;
}

}  // namespace ember::db
