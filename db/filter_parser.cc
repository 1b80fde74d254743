// The filter language's text syntax: a hand-written lexer and recursive-descent parser (one token
// of lookahead), and the printer that writes what the parser reads.
#include "db/filter_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "db/filter_types.h"
#include "ember/filter.h"
#include "ember/status.h"

namespace ember {
namespace db {
namespace {

using Op = Filter::Op;

enum class Keyword {
  kAnd,
  kOr,
  kNot,
  kIn,
  kBetween,
  kContains,
  kAny,
  kAll,
  kIs,
  kNull,
  kTrue,
  kFalse
};

struct KeywordName {
  Keyword keyword;
  std::string_view name;
};

constexpr KeywordName kKeywords[] = {
    {Keyword::kAnd, "AND"},   {Keyword::kOr, "OR"},           {Keyword::kNot, "NOT"},
    {Keyword::kIn, "IN"},     {Keyword::kBetween, "BETWEEN"}, {Keyword::kContains, "CONTAINS"},
    {Keyword::kAny, "ANY"},   {Keyword::kAll, "ALL"},         {Keyword::kIs, "IS"},
    {Keyword::kNull, "NULL"}, {Keyword::kTrue, "TRUE"},       {Keyword::kFalse, "FALSE"},
};

const KeywordName* FindKeyword(std::string_view word) {
  for (const KeywordName& entry : kKeywords) {
    if (word.size() == entry.name.size() &&
        std::equal(word.begin(), word.end(), entry.name.begin(),
                   [](char a, char b) { return absl::ascii_toupper(a) == b; })) {
      return &entry;
    }
  }
  return nullptr;
}

std::string_view KeywordText(Keyword keyword) {
  for (const KeywordName& entry : kKeywords) {
    if (entry.keyword == keyword) return entry.name;
  }
  return "?";
}

bool IsIdentifierStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentifierChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view CompareText(Op op) {
  switch (op) {
    case Op::kEq:
      return "=";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    default:
      return "?";
  }
}

// -------------------------------------------------------------------------------------------------
// Lexer

enum class TokenKind {
  kEnd,
  kName,     // an identifier or a quoted name; `text` holds the name
  kString,   // `text` holds the decoded string
  kInteger,  // `integer`
  kDouble,   // `number`
  kLeftParen,
  kRightParen,
  kComma,
  kCompare,  // `compare`
  kKeyword,  // `keyword`
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t position = 0;
  std::string_view source;  // as written
  std::string text;
  int64_t integer = 0;
  double number = 0;
  Op compare = Op::kEq;
  Keyword keyword = Keyword::kAnd;
};

class FilterParser {
 public:
  explicit FilterParser(std::string_view text) : text_(text) {}

  absl::StatusOr<Filter> Parse();

 private:
  // Reads the next token into token_.
  absl::Status Advance();
  absl::Status LexNumber(size_t start);
  absl::Status LexString(size_t start);
  absl::Status LexQuotedName(size_t start, char quote);
  // Appends the UTF-8 encoding of the \uXXXX escape (and its low surrogate) at text_[pos] to out.
  absl::Status LexUnicodeEscape(size_t* pos, std::string* out);

  absl::StatusOr<Filter> ParseOr(int depth);
  absl::StatusOr<Filter> ParseAnd(int depth);
  absl::StatusOr<Filter> ParseUnary(int depth);
  absl::StatusOr<Filter> ParsePrimary(int depth);
  absl::StatusOr<Filter> ParseCondition();
  // Reads a literal (any kind, or only strings) that follows `after` ("'>='", "BETWEEN").
  absl::StatusOr<Literal> ParseLiteral(std::string_view after, bool strings_only);
  // Reads '(' literal (',' literal)* ')' following `after` ("IN").
  absl::StatusOr<std::vector<Literal>> ParseList(std::string_view after, bool strings_only);

  bool AtKeyword(Keyword keyword) const {
    return token_.kind == TokenKind::kKeyword && token_.keyword == keyword;
  }
  absl::Status CheckDepth(int depth) const;

  absl::Status ErrorAt(size_t position, std::string_view message) const;
  // "expected <what>, found <the current token>".
  absl::Status Expected(std::string_view what) const;
  std::string DescribeToken() const;

  std::string_view text_;
  size_t next_ = 0;  // where the token after token_ starts
  Token token_;
};

absl::Status FilterParser::ErrorAt(size_t position, std::string_view message) const {
  std::string where = absl::StrCat("filter: at position ", position);
  const std::string_view before = text_.substr(0, position);
  if (text_.find('\n') != std::string_view::npos) {
    const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const size_t line_start = before.rfind('\n');
    const size_t column =
        line_start == std::string_view::npos ? position + 1 : position - line_start;
    absl::StrAppend(&where, " (line ", line, ", column ", column, ")");
  }
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", std::string(message)));
}

// Shows untrusted text in a message: at most 40 bytes, control bytes as \xNN.
std::string Excerpt(std::string_view source) {
  constexpr size_t kMaxShown = 40;
  std::string shown;
  for (size_t i = 0; i < source.size() && i < kMaxShown; ++i) {
    const unsigned char c = source[i];
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      shown += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (source.size() > kMaxShown) shown += "...";
  return shown;
}

std::string FilterParser::DescribeToken() const {
  switch (token_.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kString:
      return absl::StrCat("string ", Excerpt(token_.source));
    case TokenKind::kKeyword:
      return absl::StrCat("keyword ", std::string(KeywordText(token_.keyword)));
    default:
      return absl::StrCat("'", Excerpt(token_.source), "'");
  }
}

absl::Status FilterParser::Expected(std::string_view what) const {
  return ErrorAt(token_.position,
                 absl::StrCat("expected ", std::string(what), ", found ", DescribeToken()));
}

absl::Status FilterParser::CheckDepth(int depth) const {
  if (depth <= kMaxFilterDepth) return absl::OkStatus();
  return ErrorAt(token_.position, absl::StrCat("nesting deeper than ", kMaxFilterDepth,
                                               " levels of parentheses and NOT"));
}

absl::Status FilterParser::Advance() {
  while (next_ < text_.size() && absl::ascii_isspace(text_[next_])) ++next_;
  const size_t start = next_;
  token_ = Token();
  token_.position = start;
  if (start == text_.size()) return absl::OkStatus();
  const char c = text_[start];
  const char following = start + 1 < text_.size() ? text_[start + 1] : '\0';
  const auto punctuation = [&](TokenKind kind, size_t length, Op compare = Op::kEq) {
    token_.kind = kind;
    token_.compare = compare;
    token_.source = text_.substr(start, length);
    next_ = start + length;
    return absl::OkStatus();
  };
  switch (c) {
    case '(':
      return punctuation(TokenKind::kLeftParen, 1);
    case ')':
      return punctuation(TokenKind::kRightParen, 1);
    case ',':
      return punctuation(TokenKind::kComma, 1);
    case '=':
      return punctuation(TokenKind::kCompare, 1, Op::kEq);
    case '!':
      if (following == '=') return punctuation(TokenKind::kCompare, 2, Op::kNe);
      return ErrorAt(start, "unexpected character '!' (not equal is != or <>)");
    case '<':
      if (following == '=') return punctuation(TokenKind::kCompare, 2, Op::kLe);
      if (following == '>') return punctuation(TokenKind::kCompare, 2, Op::kNe);
      return punctuation(TokenKind::kCompare, 1, Op::kLt);
    case '>':
      if (following == '=') return punctuation(TokenKind::kCompare, 2, Op::kGe);
      return punctuation(TokenKind::kCompare, 1, Op::kGt);
    case '\'':
      return LexString(start);
    case '`':
    case '"':
      return LexQuotedName(start, c);
    default:
      break;
  }
  if (IsDigit(c) || ((c == '-' || c == '.') && IsDigit(following)) ||
      (c == '-' && following == '.' && start + 2 < text_.size() && IsDigit(text_[start + 2]))) {
    return LexNumber(start);
  }
  if (IsIdentifierStart(c)) {
    size_t end = start + 1;
    while (end < text_.size() && IsIdentifierChar(text_[end])) ++end;
    token_.source = text_.substr(start, end - start);
    next_ = end;
    if (const KeywordName* keyword = FindKeyword(token_.source); keyword != nullptr) {
      token_.kind = TokenKind::kKeyword;
      token_.keyword = keyword->keyword;
    } else {
      token_.kind = TokenKind::kName;
      token_.text = std::string(token_.source);
    }
    return absl::OkStatus();
  }
  return ErrorAt(start,
                 absl::StrCat("unexpected character '", Excerpt(text_.substr(start, 1)), "'"));
}

absl::Status FilterParser::LexNumber(size_t start) {
  size_t end = start;
  if (text_[end] == '-') ++end;
  bool integral = true;
  while (end < text_.size() && IsDigit(text_[end])) ++end;
  if (end < text_.size() && text_[end] == '.') {
    integral = false;
    ++end;
    while (end < text_.size() && IsDigit(text_[end])) ++end;
  }
  if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
    integral = false;
    ++end;
    if (end < text_.size() && (text_[end] == '+' || text_[end] == '-')) ++end;
    if (end == text_.size() || !IsDigit(text_[end])) {
      return ErrorAt(start, absl::StrCat("expected digits in the exponent of the number '",
                                         Excerpt(text_.substr(start, end - start)), "'"));
    }
    while (end < text_.size() && IsDigit(text_[end])) ++end;
  }
  if (end < text_.size() && IsIdentifierChar(text_[end])) {
    size_t word_end = end;
    while (word_end < text_.size() && IsIdentifierChar(text_[word_end])) ++word_end;
    return ErrorAt(start, absl::StrCat("malformed number '",
                                       Excerpt(text_.substr(start, word_end - start)), "'"));
  }
  token_.source = text_.substr(start, end - start);
  next_ = end;
  const char* first = text_.data() + start;
  const char* last = text_.data() + end;
  if (integral) {
    token_.kind = TokenKind::kInteger;
    if (std::from_chars(first, last, token_.integer).ec != std::errc()) {
      return ErrorAt(
          start, absl::StrCat("the integer ", Excerpt(token_.source), " does not fit in 64 bits"));
    }
  } else {
    token_.kind = TokenKind::kDouble;
    if (std::from_chars(first, last, token_.number).ec != std::errc()) {
      return ErrorAt(start, absl::StrCat("the number ", Excerpt(token_.source),
                                         " is outside the range of a double"));
    }
  }
  return absl::OkStatus();
}

absl::Status FilterParser::LexString(size_t start) {
  std::string value;
  size_t pos = start + 1;
  while (true) {
    if (pos >= text_.size()) return ErrorAt(start, "unterminated string");
    const char c = text_[pos];
    if (c == '\'') {
      if (pos + 1 < text_.size() && text_[pos + 1] == '\'') {
        value += '\'';
        pos += 2;
        continue;
      }
      ++pos;
      break;
    }
    if (c != '\\') {
      value += c;
      ++pos;
      continue;
    }
    if (pos + 1 >= text_.size()) return ErrorAt(start, "unterminated string");
    const char escaped = text_[pos + 1];
    switch (escaped) {
      case '\'':
      case '"':
      case '\\':
        value += escaped;
        break;
      case 'n':
        value += '\n';
        break;
      case 'r':
        value += '\r';
        break;
      case 't':
        value += '\t';
        break;
      case 'u':
        EMBER_RETURN_IF_ERROR(LexUnicodeEscape(&pos, &value));
        continue;
      default:
        return ErrorAt(pos,
                       absl::StrCat("unknown escape '\\", Excerpt(text_.substr(pos + 1, 1)),
                                    "' in a string (escapes: \\' \\\" \\\\ \\n \\r \\t \\uXXXX)"));
    }
    pos += 2;
  }
  token_.kind = TokenKind::kString;
  token_.source = text_.substr(start, pos - start);
  token_.text = std::move(value);
  next_ = pos;
  return absl::OkStatus();
}

absl::Status FilterParser::LexUnicodeEscape(size_t* pos, std::string* out) {
  // Reads the four hex digits of the \u escape at text_[at].
  const auto read_unit = [this](size_t at, uint32_t* unit) {
    *unit = 0;
    if (at + 6 > text_.size()) return false;
    for (size_t i = at + 2; i < at + 6; ++i) {
      const char c = text_[i];
      if (!absl::ascii_isxdigit(c)) return false;
      *unit = *unit * 16 + (IsDigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10);
    }
    return true;
  };
  const size_t start = *pos;
  uint32_t code_point;
  if (!read_unit(start, &code_point)) {
    return ErrorAt(start, "expected four hex digits after \\u");
  }
  *pos += 6;
  if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
    return ErrorAt(start, "\\u escape of a low surrogate without a high surrogate before it");
  }
  if (code_point >= 0xD800 && code_point <= 0xDBFF) {
    uint32_t low;
    if (*pos + 1 >= text_.size() || text_[*pos] != '\\' || text_[*pos + 1] != 'u' ||
        !read_unit(*pos, &low) || low < 0xDC00 || low > 0xDFFF) {
      return ErrorAt(start, "\\u escape of a high surrogate not followed by a \\u low surrogate");
    }
    *pos += 6;
    code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
  }
  if (code_point < 0x80) {
    *out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    *out += static_cast<char>(0xC0 | (code_point >> 6));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    *out += static_cast<char>(0xE0 | (code_point >> 12));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (code_point >> 18));
    *out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return absl::OkStatus();
}

absl::Status FilterParser::LexQuotedName(size_t start, char quote) {
  std::string name;
  size_t pos = start + 1;
  while (true) {
    if (pos >= text_.size()) return ErrorAt(start, "unterminated quoted attribute name");
    if (text_[pos] == quote) {
      if (pos + 1 < text_.size() && text_[pos + 1] == quote) {
        name += quote;
        pos += 2;
        continue;
      }
      ++pos;
      break;
    }
    name += text_[pos++];
  }
  if (name.empty()) return ErrorAt(start, "empty attribute name");
  token_.kind = TokenKind::kName;
  token_.source = text_.substr(start, pos - start);
  token_.text = std::move(name);
  next_ = pos;
  return absl::OkStatus();
}

// -------------------------------------------------------------------------------------------------
// Parser

absl::StatusOr<Filter> FilterParser::Parse() {
  if (text_.size() > kMaxFilterTextBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter: the text is ", text_.size(), " bytes long; the limit is ", kMaxFilterTextBytes));
  }
  EMBER_RETURN_IF_ERROR(Advance());
  if (token_.kind == TokenKind::kEnd) return Filter::All();
  EMBER_ASSIGN_OR_RETURN(Filter filter, ParseOr(0));
  if (token_.kind != TokenKind::kEnd) return Expected("AND, OR or end of input");
  return filter;
}

absl::StatusOr<Filter> FilterParser::ParseOr(int depth) {
  std::vector<Filter> operands;
  while (true) {
    EMBER_ASSIGN_OR_RETURN(Filter operand, ParseAnd(depth));
    operands.push_back(std::move(operand));
    if (!AtKeyword(Keyword::kOr)) break;
    EMBER_RETURN_IF_ERROR(Advance());
  }
  return Filter::Or(std::move(operands));
}

absl::StatusOr<Filter> FilterParser::ParseAnd(int depth) {
  std::vector<Filter> operands;
  while (true) {
    EMBER_ASSIGN_OR_RETURN(Filter operand, ParseUnary(depth));
    operands.push_back(std::move(operand));
    if (!AtKeyword(Keyword::kAnd)) break;
    EMBER_RETURN_IF_ERROR(Advance());
  }
  return Filter::And(std::move(operands));
}

absl::StatusOr<Filter> FilterParser::ParseUnary(int depth) {
  if (!AtKeyword(Keyword::kNot)) return ParsePrimary(depth);
  EMBER_RETURN_IF_ERROR(CheckDepth(depth + 1));
  EMBER_RETURN_IF_ERROR(Advance());
  EMBER_ASSIGN_OR_RETURN(Filter operand, ParseUnary(depth + 1));
  return Filter::Not(std::move(operand));
}

absl::StatusOr<Filter> FilterParser::ParsePrimary(int depth) {
  switch (token_.kind) {
    case TokenKind::kName:
      return ParseCondition();
    case TokenKind::kLeftParen: {
      EMBER_RETURN_IF_ERROR(CheckDepth(depth + 1));
      const size_t open = token_.position;
      EMBER_RETURN_IF_ERROR(Advance());
      EMBER_ASSIGN_OR_RETURN(Filter inner, ParseOr(depth + 1));
      if (token_.kind != TokenKind::kRightParen) {
        return Expected(absl::StrCat("AND, OR or ')' to close the '(' at position ", open));
      }
      EMBER_RETURN_IF_ERROR(Advance());
      return inner;
    }
    case TokenKind::kKeyword:
      if (AtKeyword(Keyword::kTrue) || AtKeyword(Keyword::kFalse)) {
        const bool value = AtKeyword(Keyword::kTrue);
        EMBER_RETURN_IF_ERROR(Advance());
        return value ? Filter::All() : Filter::None();
      }
      return Expected(
          absl::StrCat("an attribute name, '(' or NOT (quote a name that is a keyword: `",
                       std::string(token_.source), "`)"));
    default:
      return Expected("an attribute name, '(' or NOT");
  }
}

absl::StatusOr<Filter> FilterParser::ParseCondition() {
  const size_t start = token_.position;
  std::string attribute = std::exchange(token_.text, {});
  const std::string shown_name = Excerpt(token_.source);
  EMBER_RETURN_IF_ERROR(Advance());
  Filter condition;
  if (token_.kind == TokenKind::kCompare) {
    const Op op = token_.compare;
    const std::string after = absl::StrCat("'", std::string(token_.source), "'");
    EMBER_RETURN_IF_ERROR(Advance());
    EMBER_ASSIGN_OR_RETURN(Literal value, ParseLiteral(after, /*strings_only=*/false));
    switch (op) {
      case Op::kEq:
        condition = Filter::Eq(std::move(attribute), std::move(value));
        break;
      case Op::kNe:
        condition = Filter::Ne(std::move(attribute), std::move(value));
        break;
      case Op::kLt:
        condition = Filter::Lt(std::move(attribute), std::move(value));
        break;
      case Op::kLe:
        condition = Filter::Le(std::move(attribute), std::move(value));
        break;
      case Op::kGt:
        condition = Filter::Gt(std::move(attribute), std::move(value));
        break;
      default:
        condition = Filter::Ge(std::move(attribute), std::move(value));
        break;
    }
  } else if (AtKeyword(Keyword::kIn)) {
    EMBER_RETURN_IF_ERROR(Advance());
    EMBER_ASSIGN_OR_RETURN(std::vector<Literal> values, ParseList("IN", /*strings_only=*/false));
    condition = Filter::In(std::move(attribute), std::move(values));
  } else if (AtKeyword(Keyword::kNot)) {
    EMBER_RETURN_IF_ERROR(Advance());
    if (!AtKeyword(Keyword::kIn)) return Expected(absl::StrCat("IN after ", shown_name, " NOT"));
    EMBER_RETURN_IF_ERROR(Advance());
    EMBER_ASSIGN_OR_RETURN(std::vector<Literal> values,
                           ParseList("NOT IN", /*strings_only=*/false));
    condition = Filter::NotIn(std::move(attribute), std::move(values));
  } else if (AtKeyword(Keyword::kBetween)) {
    EMBER_RETURN_IF_ERROR(Advance());
    EMBER_ASSIGN_OR_RETURN(Literal low, ParseLiteral("BETWEEN", /*strings_only=*/false));
    if (!AtKeyword(Keyword::kAnd)) return Expected("AND after the lower bound of BETWEEN");
    EMBER_RETURN_IF_ERROR(Advance());
    EMBER_ASSIGN_OR_RETURN(Literal high, ParseLiteral("BETWEEN ... AND", /*strings_only=*/false));
    condition = Filter::Between(std::move(attribute), std::move(low), std::move(high));
  } else if (AtKeyword(Keyword::kContains)) {
    EMBER_RETURN_IF_ERROR(Advance());
    if (AtKeyword(Keyword::kAny) || AtKeyword(Keyword::kAll)) {
      const bool any = AtKeyword(Keyword::kAny);
      EMBER_RETURN_IF_ERROR(Advance());
      EMBER_ASSIGN_OR_RETURN(
          std::vector<Literal> values,
          ParseList(any ? "CONTAINS ANY" : "CONTAINS ALL", /*strings_only=*/true));
      std::vector<std::string> strings;
      strings.reserve(values.size());
      for (Literal& value : values) strings.push_back(std::get<std::string>(std::move(value)));
      condition = any ? Filter::ContainsAny(std::move(attribute), std::move(strings))
                      : Filter::ContainsAll(std::move(attribute), std::move(strings));
    } else if (token_.kind == TokenKind::kString) {
      condition = Filter::Contains(std::move(attribute), std::exchange(token_.text, {}));
      EMBER_RETURN_IF_ERROR(Advance());
    } else {
      return Expected("a string, ANY or ALL after CONTAINS");
    }
  } else if (AtKeyword(Keyword::kIs)) {
    EMBER_RETURN_IF_ERROR(Advance());
    const bool negated = AtKeyword(Keyword::kNot);
    if (negated) EMBER_RETURN_IF_ERROR(Advance());
    if (!AtKeyword(Keyword::kNull)) {
      return Expected(negated ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
    }
    EMBER_RETURN_IF_ERROR(Advance());
    condition =
        negated ? Filter::IsNotNull(std::move(attribute)) : Filter::IsNull(std::move(attribute));
  } else {
    return Expected(absl::StrCat(
        "an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, BETWEEN, CONTAINS, IS) after ",
        shown_name));
  }
  if (absl::Status status = CheckConditionLiterals(condition); !status.ok()) {
    return ErrorAt(start, std::string(status.message()));
  }
  return condition;
}

absl::StatusOr<Literal> FilterParser::ParseLiteral(std::string_view after, bool strings_only) {
  Literal literal;
  if (token_.kind == TokenKind::kString) {
    literal = std::exchange(token_.text, {});
  } else if (strings_only) {
    return Expected(absl::StrCat("a string after ", std::string(after)));
  } else if (token_.kind == TokenKind::kInteger) {
    literal = token_.integer;
  } else if (token_.kind == TokenKind::kDouble) {
    literal = token_.number;
  } else if (AtKeyword(Keyword::kTrue) || AtKeyword(Keyword::kFalse)) {
    literal = AtKeyword(Keyword::kTrue);
  } else if (AtKeyword(Keyword::kNull)) {
    return ErrorAt(token_.position,
                   "NULL is not a value to compare with; test for it with "
                   "IS NULL or IS NOT NULL");
  } else {
    return Expected(absl::StrCat("a literal after ", std::string(after)));
  }
  EMBER_RETURN_IF_ERROR(Advance());
  return literal;
}

absl::StatusOr<std::vector<Literal>> FilterParser::ParseList(std::string_view after,
                                                             bool strings_only) {
  if (token_.kind != TokenKind::kLeftParen) {
    return Expected(absl::StrCat("'(' after ", std::string(after)));
  }
  EMBER_RETURN_IF_ERROR(Advance());
  std::vector<Literal> values;
  while (true) {
    EMBER_ASSIGN_OR_RETURN(Literal value,
                           ParseLiteral(values.empty() ? "'('" : "','", strings_only));
    values.push_back(std::move(value));
    if (token_.kind == TokenKind::kRightParen) break;
    if (token_.kind != TokenKind::kComma) {
      return Expected(absl::StrCat("',' or ')' in the list of ", std::string(after)));
    }
    EMBER_RETURN_IF_ERROR(Advance());
  }
  EMBER_RETURN_IF_ERROR(Advance());
  return values;
}

// -------------------------------------------------------------------------------------------------
// Printer

// Whether `child`, an operand of `parent`, must be parenthesized to parse back as the same tree.
// Operands of kAnd are never kAnd and operands of kOr never kOr (the builders flatten them).
bool NeedsParentheses(Op parent, Op child) {
  const bool junction = child == Op::kAnd || child == Op::kOr;
  return (parent == Op::kAnd && child == Op::kOr) || (parent == Op::kNot && junction);
}

void AppendString(std::string_view value, std::string* out) {
  *out += '\'';
  for (const char c : value) {
    switch (c) {
      case '\'':
        *out += "\\'";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          static constexpr char kHex[] = "0123456789ABCDEF";
          *out += {'\\', 'u', '0', '0', kHex[(c >> 4) & 15], kHex[c & 15]};
        } else {
          *out += c;
        }
    }
  }
  *out += '\'';
}

void AppendLiteral(const Literal& literal, std::string* out) {
  if (const auto* b = std::get_if<bool>(&literal)) {
    *out += *b ? "TRUE" : "FALSE";
  } else if (const auto* i = std::get_if<int64_t>(&literal)) {
    absl::StrAppend(out, *i);
  } else if (const auto* d = std::get_if<double>(&literal)) {
    char buffer[32];
    const char* end = std::to_chars(buffer, buffer + sizeof(buffer), *d).ptr;
    const std::string_view shortest(buffer, end - buffer);
    *out += shortest;
    // The lexer reads digits without '.' or exponent as an int.
    if (std::isfinite(*d) && shortest.find_first_of(".e") == std::string_view::npos) *out += ".0";
  } else {
    AppendString(std::get<std::string>(literal), out);
  }
}

void AppendAttributeName(std::string_view name, std::string* out) {
  const bool bare = !name.empty() && IsIdentifierStart(name[0]) &&
                    std::all_of(name.begin(), name.end(), IsIdentifierChar) &&
                    FindKeyword(name) == nullptr;
  if (bare) {
    *out += name;
    return;
  }
  *out += '`';
  for (const char c : name) {
    *out += c;
    if (c == '`') *out += '`';
  }
  *out += '`';
}

void AppendLiteralList(const std::vector<Literal>& literals, std::string* out) {
  *out += '(';
  for (size_t i = 0; i < literals.size(); ++i) {
    if (i > 0) *out += ", ";
    AppendLiteral(literals[i], out);
  }
  *out += ')';
}

void AppendFilter(const Filter& filter, std::string* out) {
  const Op op = filter.op();
  const auto append_operand = [op, out](const Filter& operand) {
    if (NeedsParentheses(op, operand.op())) {
      *out += '(';
      AppendFilter(operand, out);
      *out += ')';
    } else {
      AppendFilter(operand, out);
    }
  };
  switch (op) {
    case Op::kAll:
      *out += "TRUE";
      return;
    case Op::kNone:
      *out += "FALSE";
      return;
    case Op::kAnd:
    case Op::kOr:
      for (size_t i = 0; i < filter.operands().size(); ++i) {
        if (i > 0) *out += op == Op::kAnd ? " AND " : " OR ";
        append_operand(filter.operands()[i]);
      }
      return;
    case Op::kNot:
      *out += "NOT ";
      append_operand(filter.operands()[0]);
      return;
    default:
      break;
  }
  AppendAttributeName(filter.attribute(), out);
  const std::vector<Literal>& literals = filter.literals();
  switch (op) {
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
      absl::StrAppend(out, " ", std::string(CompareText(op)), " ");
      AppendLiteral(literals[0], out);
      return;
    case Op::kIn:
      *out += " IN ";
      AppendLiteralList(literals, out);
      return;
    case Op::kNotIn:
      *out += " NOT IN ";
      AppendLiteralList(literals, out);
      return;
    case Op::kBetween:
      *out += " BETWEEN ";
      AppendLiteral(literals[0], out);
      *out += " AND ";
      AppendLiteral(literals[1], out);
      return;
    case Op::kContains:
      *out += " CONTAINS ";
      AppendLiteral(literals[0], out);
      return;
    case Op::kContainsAny:
      *out += " CONTAINS ANY ";
      AppendLiteralList(literals, out);
      return;
    case Op::kContainsAll:
      *out += " CONTAINS ALL ";
      AppendLiteralList(literals, out);
      return;
    case Op::kIsNull:
      *out += " IS NULL";
      return;
    case Op::kIsNotNull:
      *out += " IS NOT NULL";
      return;
    default:
      return;
  }
}

}  // namespace

std::string FormatFilter(const Filter& filter) {
  std::string text;
  AppendFilter(filter, &text);
  return text;
}

std::string FormatLiteral(const Literal& literal) {
  std::string text;
  AppendLiteral(literal, &text);
  return text;
}

std::string FormatAttributeName(std::string_view name) {
  std::string text;
  AppendAttributeName(name, &text);
  return text;
}

int FilterTextDepth(const Filter& filter, int limit) {
  // The caller has already gone past its limit: its own levels decide.
  if (limit < 0) return 0;
  int deepest = 0;
  for (const Filter& operand : filter.operands()) {
    const int own =
        (filter.op() == Op::kNot ? 1 : 0) + (NeedsParentheses(filter.op(), operand.op()) ? 1 : 0);
    deepest = std::max(deepest, own + FilterTextDepth(operand, limit - own));
    if (deepest > limit) break;
  }
  return deepest;
}

}  // namespace db

absl::StatusOr<Filter> ParseFilter(std::string_view text) { return db::FilterParser(text).Parse(); }

}  // namespace ember
